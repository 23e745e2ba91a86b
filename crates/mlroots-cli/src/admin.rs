//! `mlroots admin`: server administration without the HTTP API, straight on the database
//! (migrating it first), for setting up a platform before anyone registers.
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
}

pub fn run(cmd: &Admin) -> anyhow::Result<()> {
    match cmd {
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
