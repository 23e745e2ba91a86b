//! `mlroots admin`: server administration. `create-user` works straight on the database
//! (migrating it first), for setting up a platform before anyone registers; `reload` asks a
//! running server to re-read its challenges (the catalogue lives in that process), through
//! `POST /api/admin/reload` with an admin token.
//!
//! `create-user NAME [--admin]` reads the password from `MLROOTS_PASSWORD` or, failing
//! that, from the first line of stdin, so that it never shows in the process list.

use std::io::BufRead;

use anyhow::Context;
use mlroots_server::auth::{Credentials, create_account};
use mlroots_server::db;

/// `mlroots admin` subcommands.
#[derive(clap::Subcommand)]
pub enum Admin {
    /// Create an account (password from $MLROOTS_PASSWORD or the first line of stdin).
    CreateUser {
        /// The account name (3 to 32 letters, digits, '_', '-', '.').
        name: String,
        /// Make it an admin.
        #[arg(long)]
        admin: bool,
        /// A SQLite file path, or postgres://user@host:port/db (migrated first).
        #[arg(long, env = "MLROOTS_DATABASE_URL", default_value = "mlroots.db")]
        database_url: String,
    },
    /// Make a running server re-read its challenges folder; it swaps the catalogue in only if
    /// it lints clean, else prints every problem (and the old catalogue keeps serving).
    Reload {
        /// The server (plain http://HOST:PORT; on the server's host, or through a tunnel).
        #[arg(long, env = "MLROOTS_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An API token of an admin account with the `admin` scope (mlr_...).
        #[arg(long, env = "MLROOTS_TOKEN", hide_env_values = true)]
        token: String,
    },
}

/// `POST {url}/api/admin/reload`; prints what is served now, or the server's error.
fn reload(url: &str, token: &str) -> anyhow::Result<()> {
    let base = url.trim_end_matches('/');
    if base.starts_with("https://") {
        return Err(crate::usage(
            "mlroots admin reload speaks plain http only: run it on the server's host against \
             its --addr (http://127.0.0.1:8080), or through an SSH tunnel",
        ));
    }
    let Some(host) = base.strip_prefix("http://").filter(|h| !h.is_empty() && !h.contains('/'))
    else {
        return Err(crate::usage(format!(
            "--url {url:?} must be http://HOST:PORT (the server's address, no path)"
        )));
    };
    let token = token.trim();
    if token.is_empty() || token.contains(['\r', '\n']) {
        return Err(crate::usage("--token (or MLROOTS_TOKEN) must be an API token, mlr_..."));
    }
    let (status, text) = post_empty(host, "/api/admin/reload", token)
        .with_context(|| format!("cannot reach {base}; is `mlroots serve` running there?"))?;
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if status == 200 {
        let ids: Vec<&str> = body["challenges"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        println!(
            "reloaded: {} challenge(s), {} sub-challenge(s): {}",
            ids.len(),
            body["sub_challenges"],
            ids.join(", ")
        );
        return Ok(());
    }
    let message = body["error"]["message"].as_str().map(str::to_string).unwrap_or(text);
    anyhow::bail!("the server answered {status}: {message}")
}

/// One HTTP/1.1 `POST` without a body over a fresh connection (`Connection: close`): the
/// status and the body (de-chunked). Enough for one admin call; no TLS, no redirects.
fn post_empty(host: &str, path: &str, token: &str) -> anyhow::Result<(u16, String)> {
    use std::io::{Read, Write};
    use std::net::ToSocketAddrs;
    let addr = host
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("{host} resolves to no address"))?;
    let timeout = std::time::Duration::from_secs(60);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 0\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").context("the answer is not HTTP")?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("the answer has no HTTP status")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Ok((status, if chunked { dechunk(body) } else { body.to_string() }))
}

/// The payload of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

pub fn run(cmd: &Admin) -> anyhow::Result<()> {
    match cmd {
        Admin::Reload { url, token } => reload(url, token),
        Admin::CreateUser { name, admin, database_url } => {
            let password = match std::env::var("MLROOTS_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line).context("cannot read stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            if password.is_empty() {
                return Err(crate::usage(
                    "no password: set MLROOTS_PASSWORD or pipe it on stdin (8 to 256 characters)",
                ));
            }
            let mut conn = db::establish(database_url)
                .with_context(|| format!("cannot open database {database_url:?}"))?;
            db::migrate(&mut conn).context("cannot migrate the database")?;
            let creds = Credentials { username: name.clone(), password };
            let out = create_account(&mut conn, &creds, *admin)
                .map_err(|e| crate::usage(format!("cannot create {name:?}: {}", e.message)))?;
            println!(
                "created account {} (id {}){}",
                out.username,
                out.id,
                if out.is_admin { " as an admin" } else { "" }
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(super::dechunk("4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n"), "{\"a\":1}");
        assert_eq!(super::dechunk(""), "");
    }
}
