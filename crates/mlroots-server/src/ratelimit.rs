//! Rate limits: a keyed token bucket ([`Limiter`]) used per client IP on login and register
//! (against password guessing) and per account on steps (so one learner cannot starve the
//! others of the server's cores).
//!
//! Hand-written rather than `governor`/`tower_governor`: the two limits need a few lines of
//! state each, the step quota charges a whole batch at once, and the errors must be this
//! server's JSON body with the time to wait. The server (not the simulation) may read the
//! clock, hence the one allowed `Instant::now`.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

/// Buckets past this many keys are pruned of the full ones.
const PRUNE_AT: usize = 10_000;

/// A token bucket per key: `burst` tokens at most, refilled at `per_second`.
#[derive(Debug)]
pub struct Limiter<K: Ord> {
    burst: f64,
    per_second: f64,
    buckets: Mutex<BTreeMap<K, (f64, Instant)>>,
}

impl<K: Ord + Clone> Limiter<K> {
    /// A limiter allowing `burst` at once and `per_second` sustained (both at least 1).
    pub fn new(burst: u32, per_second: f64) -> Self {
        Limiter {
            burst: f64::from(burst.max(1)),
            per_second: per_second.max(1e-6),
            buckets: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes `n` tokens from `key`'s bucket, or says how long until they are there.
    pub fn take(&self, key: &K, n: u32) -> Result<(), Duration> {
        #[allow(clippy::disallowed_methods)] // the server's rate limits need the clock
        let now = Instant::now();
        let n = f64::from(n);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_AT {
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(key.clone()).or_insert((self.burst, now));
        let available =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if available >= n {
            *tokens = available - n;
            Ok(())
        } else {
            *tokens = available;
            let need = n.min(self.burst) - available;
            Err(Duration::from_secs_f64(need / self.per_second))
        }
    }
}

/// The limits the server keeps.
#[derive(Debug)]
pub struct Limits {
    /// Login and register attempts per client IP.
    pub auth: Limiter<Option<IpAddr>>,
    /// Steps per account.
    pub steps: Limiter<i64>,
    /// The sustained step quota, for messages.
    steps_per_second: u32,
}

impl Limits {
    /// From the server settings.
    pub fn new(config: &crate::Config) -> Limits {
        Limits {
            auth: Limiter::new(config.auth_burst, config.auth_per_minute / 60.0),
            steps: Limiter::new(config.steps_per_second, f64::from(config.steps_per_second)),
            steps_per_second: config.steps_per_second,
        }
    }

    /// Charges `n` steps to `account`.
    pub fn charge_steps(&self, account: i64, n: usize) -> Result<(), ApiError> {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.steps.take(&account, n).map_err(|wait| {
            rate_limited(
                wait,
                &format!(
                    "the step quota is {} steps per second per account",
                    self.steps_per_second
                ),
            )
        })
    }
}

/// 429 `rate_limited`, saying how long to wait.
pub fn rate_limited(wait: Duration, why: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests: {why}; retry in {:.3} s", wait.as_secs_f64()),
    )
}

/// Middleware on login and register: limits attempts per client IP (requests without a
/// peer address, as in tests through the router, share one bucket).
pub async fn per_ip(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    match state.inner.limits.auth.take(&ip, 1) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let mut resp =
                rate_limited(wait, "too many login or register attempts from this address")
                    .into_response();
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}
