//! `mlroots serve`: starts the platform (HTTP API, web pages, sessions, ledger) on SQLite or
//! PostgreSQL with the challenge catalogue loaded. Glue over `mlroots_server`: settings from
//! flags or environment variables, the evaluation secret kept in a file (created on first
//! start), structured logs with tracing, and the bound address printed on stdout so that
//! scripts starting it on port 0 can find it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use mlroots_server::{Config, LiveCatalogue};

/// Settings of `mlroots serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "MLROOTS_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A SQLite file path, or postgres://user@host:port/db. Migrations run at start.
    #[arg(long, env = "MLROOTS_DATABASE_URL", default_value = "mlroots.db")]
    database_url: String,
    /// Log as JSON lines instead of text (filter with RUST_LOG, default `info`).
    #[arg(long, env = "MLROOTS_LOG_JSON")]
    log_json: bool,
    /// Mark the login cookie Secure (when served behind HTTPS).
    #[arg(long, env = "MLROOTS_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Database connections for requests (the ledger writer has its own).
    #[arg(long, env = "MLROOTS_POOL_SIZE", default_value_t = 8)]
    pool_size: u32,
    /// Open environment sessions allowed per account.
    #[arg(long, env = "MLROOTS_MAX_SESSIONS", default_value_t = 256)]
    max_sessions: i64,
    /// The challenge catalogue folder (checked as `mlroots lint` does; refused if invalid).
    #[arg(long, env = "MLROOTS_CHALLENGES", default_value = "challenges")]
    challenges: PathBuf,
    /// The file holding the secret that evaluation seeds are derived from (64 hex digits).
    /// Created with fresh random bytes on first start; keep it, or past attempts' seeds
    /// cannot be recomputed, and never serve it.
    #[arg(long, env = "MLROOTS_SECRET_FILE", default_value = "mlroots.secret")]
    secret_file: PathBuf,
    /// Steps per second per account (also its burst); past it steps answer 429.
    #[arg(long, env = "MLROOTS_STEPS_PER_SECOND", default_value_t = 50_000)]
    steps_per_second: u32,
    /// Login and register attempts per minute per client IP, sustained.
    #[arg(long, env = "MLROOTS_AUTH_PER_MINUTE", default_value_t = 30.0)]
    auth_per_minute: f64,
    /// Login and register attempts one client IP may make at once.
    #[arg(long, env = "MLROOTS_AUTH_BURST", default_value_t = 20)]
    auth_burst: u32,
    /// The URL users reach the server at (https://mlroots.example.org), shown on the pages.
    /// Unset: the request's Host, with http:// (or the X-Forwarded-Proto scheme under
    /// --trust-proxy).
    #[arg(long, env = "MLROOTS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Trust X-Forwarded-Proto from a reverse proxy in front (only when one is, since clients
    /// can send it too).
    #[arg(long, env = "MLROOTS_TRUST_PROXY")]
    trust_proxy: bool,
}

/// The evaluation secret from `path`, created (atomically, readable by the owner only) with
/// 32 random bytes if the file does not exist.
fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let parse = |text: &str| -> anyhow::Result<Vec<u8>> {
        let hex = text.trim();
        if hex.len() < 32
            || !hex.len().is_multiple_of(2)
            || !hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            anyhow::bail!(
                "{} must hold at least 32 hex digits (an even number); delete it to make a new one",
                path.display()
            );
        }
        Ok((0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect())
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no OS randomness for the secret: {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Write a private temporary file, then link it into place: two servers starting at once
    // agree on one secret (the loser reads the winner's).
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        writeln!(f, "{hex}")?;
        f.sync_all()?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(bytes.to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if args.log_json {
        builder.json().init()
    } else {
        builder.init()
    }

    let mut config = Config::new(&args.database_url);
    config.secure_cookies = args.secure_cookies;
    config.pool_size = args.pool_size;
    config.max_sessions_per_account = args.max_sessions;
    let secret = load_or_create_secret(&args.secret_file)?;
    config.public_url = match &args.public_url {
        Some(u) => {
            Some(mlroots_server::web::public_url::parse_public_url(u).map_err(crate::usage)?)
        }
        None => None,
    };
    config.trust_proxy = args.trust_proxy;
    // Reloadable: `POST /api/admin/reload` (or `mlroots admin reload`) re-reads the folder.
    let catalogue = LiveCatalogue::load(&args.challenges, secret).with_context(|| {
        format!(
            "cannot load the challenge catalogue from {} (run `mlroots lint {}`, or pass --challenges DIR)",
            args.challenges.display(),
            args.challenges.display()
        )
    })?;
    config.steps_per_second = args.steps_per_second;
    config.auth_per_minute = args.auth_per_minute;
    config.auth_burst = args.auth_burst;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let state = mlroots_server::start(config, Arc::new(catalogue))
            .await
            .with_context(|| format!("cannot start on database {:?}", args.database_url))?;
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let mut out = std::io::stdout();
        writeln!(out, "mlroots: serving on http://{}", listener.local_addr()?)?;
        out.flush()?;
        mlroots_server::serve_on(listener, state).await?;
        Ok(())
    })
}
