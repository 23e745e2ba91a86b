//! The ML Roots You platform server: environment sessions over HTTP, the ledger, accounts
//! and API tokens, on SQLite or PostgreSQL.
//!
//! [`start`] opens the database (running its migrations), starts the ledger writer and the
//! environment shards, and rebuilds every open session by replaying its ledger; [`app`]
//! builds the axum router over the resulting [`AppState`]. Tests drive the router directly
//! with `tower::ServiceExt::oneshot`; `mlroots serve` binds it to a socket with [`serve`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use mlroots_server::{Config, EnvCatalogue, start, serve};
//! let state = start(Config::new("mlroots.db"), Arc::new(EnvCatalogue)).await?;
//! serve("127.0.0.1:8080".parse()?, state).await?;
//! # Ok(()) }
//! ```
//!
//! Modules: [`db`] (connections, schema, migrations), [`ledger`] (the hash-chained log and
//! its group-commit writer), [`envs`] (the live environments, sharded by account), [`auth`]
//! (accounts, cookies, tokens), [`sessions`] (the session routes), [`openapi`] (the API document), [`ratelimit`] (rate limits), [`scoring`] (hints, solves,
//! leaderboards), [`catalogue`] (how
//! challenges come in), [`error`] (the JSON error body).

pub mod admin;
pub mod auth;
pub mod catalogue;
pub mod challenges;
pub mod db;
pub mod envs;
pub mod error;
pub mod ledger;
pub mod live;
pub mod openapi;
pub mod ratelimit;
pub mod scoring;
pub mod sessions;
pub mod submissions;
pub mod web;
pub mod writeups;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use diesel::prelude::*;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use catalogue::{
    Catalogue, Counters, EnvCatalogue, EpisodeResult, Hint, SubChallengeInfo, Verdict,
};
pub use challenges::ChallengeCatalogue;
pub use db::DbConnection;
pub use error::ApiError;
pub use ledger::Phase;
pub use live::LiveCatalogue;

/// Server settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// `postgres://...` or a SQLite file path.
    pub database_url: String,
    /// Connections in the request pool (the ledger writer has its own).
    pub pool_size: u32,
    /// The most ledger entries one transaction commits.
    pub ledger_batch: usize,
    /// Shards of the open sessions (each account's sessions are in one; requests of accounts
    /// in different shards never wait for each other).
    pub shards: usize,
    /// The largest request body, in bytes.
    pub body_limit: usize,
    /// Open sessions allowed per account.
    pub max_sessions_per_account: i64,
    /// Mark the login cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// The longest a request may take.
    pub request_timeout: Duration,
    /// Login and register attempts one IP may make at once.
    pub auth_burst: u32,
    /// Login and register attempts per IP per minute, sustained.
    pub auth_per_minute: f64,
    /// Steps per second per account (also the burst); 429 past it.
    pub steps_per_second: u32,
    /// The URL users reach the server at (`https://mlroots.example.org`), shown on the
    /// pages; `None`: built from the request (see [`web::public_url`]).
    pub public_url: Option<String>,
    /// Trust a reverse proxy's `X-Forwarded-Proto` for the pages' URLs.
    pub trust_proxy: bool,
}

impl Config {
    /// Defaults for `database_url`.
    pub fn new(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_string(),
            pool_size: 8,
            ledger_batch: 8192,
            shards: 64,
            body_limit: 1 << 20,
            max_sessions_per_account: 256,
            secure_cookies: false,
            request_timeout: Duration::from_secs(30),
            auth_burst: 20,
            auth_per_minute: 30.0,
            steps_per_second: 50_000,
            public_url: None,
            trust_proxy: false,
        }
    }
}

/// What the handlers share.
pub struct Inner {
    /// Request connections.
    pub pool: db::Pool,
    /// The ledger writer.
    pub ledger: ledger::Ledger,
    /// The live environments.
    pub shards: envs::Shards,
    /// The challenges.
    pub catalogue: Arc<dyn Catalogue>,
    /// Resolved credentials.
    pub auth_cache: auth::AuthCache,
    /// The rate limits.
    pub limits: ratelimit::Limits,
    /// The settings.
    pub config: Config,
}

/// The router's state: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The shared parts.
    pub inner: Arc<Inner>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// A thread could not be started.
    #[error("cannot start a server thread: {0}")]
    Thread(#[from] std::io::Error),
}

impl AppState {
    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn =
                pool.get().map_err(|e| ApiError::internal(format!("database pool: {e}")))?;
            f(&mut conn)
        })
        .await
        .map_err(ApiError::internal)?
    }
}

/// Opens the database (migrating it), starts the ledger writer and the shards, and rebuilds
/// the open sessions from the ledger. Sessions that cannot be rebuilt (their sub-challenge
/// is gone, or their replay disagrees with the ledger) are closed and logged.
pub async fn start(config: Config, catalogue: Arc<dyn Catalogue>) -> Result<AppState, StartError> {
    let url = config.database_url.clone();
    let size = config.pool_size;
    let batch = config.ledger_batch;
    let (pool, ledger) = tokio::task::spawn_blocking(move || {
        let pool = db::open_pool(&url, size)?;
        let checkpointer = if db::is_postgres(&url) { None } else { Some(db::establish(&url)?) };
        let ledger = ledger::Ledger::start(db::establish(&url)?, batch, checkpointer)?;
        Ok::<_, StartError>((pool, ledger))
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))??;
    let shards = envs::Shards::start(config.shards, catalogue.clone(), ledger.clone());
    let state = AppState {
        inner: Arc::new(Inner {
            pool,
            ledger,
            shards,
            catalogue,
            auth_cache: Default::default(),
            limits: ratelimit::Limits::new(&config),
            config,
        }),
    };
    rebuild(&state).await?;
    Ok(state)
}

async fn rebuild(state: &AppState) -> Result<(), StartError> {
    let open = state
        .db(|conn| {
            use db::schema::env_sessions::dsl as s;
            Ok(s::env_sessions
                .filter(s::closed_ms.is_null())
                .order(s::id.asc())
                .select((s::id, s::account_id, s::sub_challenge, s::phase))
                .load::<(i64, i64, String, String)>(conn)?)
        })
        .await
        .map_err(|e| std::io::Error::other(e.message))?;
    let (mut rebuilt, mut dropped) = (0usize, 0usize);
    for (id, account, sub_id, phase) in open {
        let sub = state.inner.catalogue.sub_challenge(&sub_id);
        let rows = state.db(move |conn| Ok(ledger::session_entries(conn, account, id)?)).await;
        let result = match (sub, Phase::parse(&phase), rows) {
            (Some(sub), Some(phase), Ok(rows)) => {
                let meta = envs::SessionMeta {
                    id,
                    account_id: account,
                    sub_id: sub.id.as_str().into(),
                    sub: Arc::new(sub),
                    phase,
                };
                if let Err(e) = sessions::seed_budget(state, &meta).await {
                    tracing::warn!(session = id, why = %e.message, "cannot read the training budget");
                }
                match state.inner.shards.replay(meta, rows).await {
                    // The evaluation ended before the server could judge it: judge it now.
                    Ok(Some((sub, results))) => {
                        sessions::finish_eval(state, account, id, sub, results)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.message)
                    }
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            (None, ..) => Err(format!("sub-challenge {sub_id:?} is no longer in the catalogue")),
            (_, None, _) => Err(format!("unknown phase {phase:?}")),
            (.., Err(e)) => Err(e.message),
        };
        match result {
            Ok(()) => rebuilt += 1,
            Err(why) => {
                dropped += 1;
                tracing::warn!(session = id, %why, "cannot rebuild session; closing it");
                let _ = state
                    .db(move |conn| {
                        use db::schema::env_sessions::dsl as s;
                        diesel::update(s::env_sessions.filter(s::id.eq(id)))
                            .set(s::closed_ms.eq(db::now_ms()))
                            .execute(conn)?;
                        Ok(())
                    })
                    .await;
            }
        }
    }
    tracing::info!(rebuilt, dropped, "open sessions rebuilt from the ledger");
    Ok(())
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see the README for the API")
}

async fn health() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(serde_json::json!({"status": "ok"})))
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::internal("a handler panicked").into_response()
}

/// The HTTP API.
pub fn app(state: AppState) -> Router {
    let limit = state.inner.config.body_limit;
    let timeout = state.inner.config.request_timeout;
    let per_ip = axum::middleware::from_fn_with_state(state.clone(), ratelimit::per_ip);
    Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route("/api/health", get(health))
        .route("/api/register", post(auth::register).route_layer(per_ip.clone()))
        .route("/api/login", post(auth::login).route_layer(per_ip))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/tokens", post(auth::create_token).get(auth::list_tokens))
        .route("/api/tokens/{id}", delete(auth::revoke_token))
        .route("/api/sessions", post(sessions::open))
        .route("/api/sessions/step", post(sessions::step_batch))
        .route("/api/sessions/{id}", delete(sessions::close))
        .route("/api/sessions/{id}/reset", post(sessions::reset))
        .route("/api/sessions/{id}/step", post(sessions::step))
        .route("/api/sessions/{id}/render", get(sessions::render))
        .route("/api/attempts/{id}", get(sessions::attempt))
        .route("/api/hints", post(scoring::unlock_hint))
        .route("/api/leaderboard", get(scoring::leaderboard))
        .route("/api/leaderboard/{challenge}", get(scoring::challenge_leaderboard))
        .route("/api/leaderboard/{challenge}/{sub}", get(scoring::sub_leaderboard))
        .route("/api/writeups", post(writeups::submit))
        .route("/api/challenges/{challenge}/writeups", get(writeups::list))
        .route("/api/admin/reload", post(admin::reload))
        .route(
            "/api/submissions",
            post(submissions::submit)
                .route_layer(DefaultBodyLimit::max(submissions::MAX_BODY_BYTES)),
        )
        .route(
            "/api/admin/accounts/{id}/ledger",
            get(sessions::export_ledger).delete(sessions::delete_ledger),
        )
        .merge(web::router())
        .fallback(not_found)
        .layer(axum::middleware::map_response(web::security_headers))
        .layer(DefaultBodyLimit::max(limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves [`app`] on `addr` until Ctrl-C or SIGTERM.
pub async fn serve(addr: SocketAddr, state: AppState) -> std::io::Result<()> {
    serve_on(tokio::net::TcpListener::bind(addr).await?, state).await
}

/// Serves [`app`] on a bound listener (bind port 0 and read `local_addr` for a free port)
/// until Ctrl-C or SIGTERM.
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    tracing::info!(addr = %listener.local_addr()?, "serving");
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    // No Nagle: a step's answer is one small write that the learner waits for; with Nagle
    // (and the client's delayed ACK) an answer split over two segments waits up to 40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY on a connection");
        }
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
