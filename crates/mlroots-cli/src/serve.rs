//! `mlroots serve`: starts the platform (HTTP API, sessions, ledger) on SQLite or
//! PostgreSQL. Glue over `mlroots_server`: settings from flags or environment variables,
//! structured logs with tracing, and the bound address printed on stdout so that scripts
//! starting it on port 0 can find it.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use mlroots_server::{Config, EnvCatalogue};

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
    /// Steps per second per account (also its burst); past it steps answer 429.
    #[arg(long, env = "MLROOTS_STEPS_PER_SECOND", default_value_t = 50_000)]
    steps_per_second: u32,
    /// Login and register attempts per minute per client IP, sustained.
    #[arg(long, env = "MLROOTS_AUTH_PER_MINUTE", default_value_t = 30.0)]
    auth_per_minute: f64,
    /// Login and register attempts one client IP may make at once.
    #[arg(long, env = "MLROOTS_AUTH_BURST", default_value_t = 20)]
    auth_burst: u32,
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
    config.steps_per_second = args.steps_per_second;
    config.auth_per_minute = args.auth_per_minute;
    config.auth_burst = args.auth_burst;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let state = mlroots_server::start(config, Arc::new(EnvCatalogue))
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
