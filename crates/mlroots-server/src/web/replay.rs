//! Replay of an evaluation episode: the server re-simulates it from the ledger (the reset's
//! hidden seed and every action, on the environment the evaluation ran) and shows one frame
//! at a time with the return so far, a return curve, and the steps where hidden events
//! happened. Only the attempt's owner can open it, and the seed itself is never shown.
//! Stepping is by links (first, previous, next, last), so it works without JavaScript.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use diesel::prelude::*;
use serde::Deserialize;

use super::pages::{Nav, ctx_parts, error_response, html_page};
use crate::AppState;
use crate::auth::Auth;
use crate::db::schema;
use crate::error::ApiError;
use crate::ledger::{self, LedgerRow};

/// One re-simulated episode.
#[derive(Debug)]
pub struct Replayed {
    /// The frame after the reset, then after each step.
    pub frames: Vec<String>,
    /// The reward of each step.
    pub rewards: Vec<f64>,
    /// `(step, event, count)` for each hidden event that fired.
    pub events: Vec<(usize, String, u64)>,
}

/// Re-simulates the episode whose ledger rows (its reset, then its steps) are `rows` on
/// environment `env_id` with `options`; refuses when the simulation disagrees with the ledger.
pub fn resimulate(
    env_id: &str,
    options: &[(String, String)],
    rows: &[LedgerRow],
) -> Result<Replayed, String> {
    let opts: Vec<(&str, &str)> = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut env = mlroots_worlds::registry::make(env_id, &opts).map_err(|e| e.to_string())?;
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    let reset = rows.first().filter(|r| r.kind == "reset").ok_or("the episode has no reset")?;
    env.reset(reset.seed.map(|s| s as u64), &mut obs);
    let mut out =
        Replayed { frames: vec![env.render_ascii()], rewards: Vec::new(), events: Vec::new() };
    for (i, r) in rows.iter().skip(1).enumerate() {
        let action = r.action.and_then(|a| u32::try_from(a).ok()).ok_or("a step without action")?;
        let st = env.step(action, &mut obs).map_err(|e| e.to_string())?;
        if st.reward.to_bits() != r.reward.to_bits() {
            return Err(format!(
                "step {}: the replay gives reward {} but the ledger {}",
                i + 1,
                st.reward,
                r.reward
            ));
        }
        out.frames.push(env.render_ascii());
        out.rewards.push(st.reward);
        let ev: std::collections::BTreeMap<String, u64> =
            serde_json::from_str(&r.events).unwrap_or_default();
        for (k, v) in ev {
            out.events.push((i + 1, k, v));
        }
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "replay.html")]
struct ReplayPage {
    nav: Nav,
    title: String,
    attempt: i64,
    sub: String,
    passed: bool,
    episodes: usize,
    episode_list: Vec<usize>,
    episode: usize,
    step: usize,
    last: usize,
    frame: String,
    ret: f64,
    total: f64,
    events: Vec<(usize, String, u64)>,
    curve: String,
}

/// `?episode=&step=` of the replay.
#[derive(Deserialize)]
pub struct ReplayQuery {
    #[serde(default)]
    episode: usize,
    #[serde(default)]
    step: usize,
}

fn curve(rewards: &[f64]) -> String {
    let mut acc = 0.0;
    let pts: Vec<f64> = std::iter::once(0.0)
        .chain(rewards.iter().map(|r| {
            acc += r;
            acc
        }))
        .collect();
    let (lo, hi) = pts.iter().fold((0.0f64, 0.0f64), |(l, h), &v| (l.min(v), h.max(v)));
    let span = (hi - lo).max(1.0);
    let n = (pts.len() - 1).max(1) as f64;
    pts.iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 / n * 400.0, 100.0 - (v - lo) / span * 100.0))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `GET /attempts/{id}/replay?episode=K&step=N`.
pub async fn replay(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(id): Path<i64>,
    Query(q): Query<ReplayQuery>,
) -> Response {
    let (nav, set_cookie, auth) = ctx_parts(&state, &headers, auth).await;
    let Some(auth) = auth else {
        return error_response(
            nav,
            set_cookie,
            StatusCode::UNAUTHORIZED,
            "log in to watch your attempts",
        );
    };
    let account = auth.account_id;
    let loaded = state
        .db(move |conn| {
            use schema::attempts::dsl as a;
            let row: Option<(String, i64, bool)> = a::attempts
                .filter(a::id.eq(id).and(a::account_id.eq(account)))
                .select((a::sub_challenge, a::session_id, a::passed))
                .first(conn)
                .optional()?;
            let Some((sub, session, passed)) = row else {
                return Err(ApiError::not_found(format!("no attempt {id} on this account")));
            };
            Ok((sub, passed, ledger::session_entries(conn, account, session)?))
        })
        .await;
    let (sub, passed, rows) = match loaded {
        Ok(x) => x,
        Err(e) => return error_response(nav, set_cookie, e.status, e.message),
    };
    let Some(info) = state.inner.catalogue.sub_challenge(&sub) else {
        return error_response(
            nav,
            set_cookie,
            StatusCode::NOT_FOUND,
            format!("{sub} is no longer in the catalogue"),
        );
    };
    let (env_id, options) = state
        .inner
        .catalogue
        .eval_env(&info)
        .unwrap_or((info.env_id.clone(), info.options.clone()));
    let mut episodes: Vec<Vec<LedgerRow>> = Vec::new();
    for r in rows {
        if r.kind == "reset" {
            episodes.push(Vec::new());
        }
        if let Some(e) = episodes.last_mut() {
            e.push(r);
        }
    }
    let Some(ep_rows) = episodes.get(q.episode) else {
        let msg = format!("attempt {id} has episodes 0 to {}", episodes.len().saturating_sub(1));
        return error_response(nav, set_cookie, StatusCode::NOT_FOUND, msg);
    };
    let rep = match resimulate(&env_id, &options, ep_rows) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                nav,
                set_cookie,
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot replay: {e}"),
            );
        }
    };
    let last = rep.frames.len() - 1;
    let step = q.step.min(last);
    let t = ReplayPage {
        nav,
        title: format!("Replay of attempt {id}"),
        attempt: id,
        sub,
        passed,
        episodes: episodes.len(),
        episode_list: (0..episodes.len()).collect(),
        episode: q.episode,
        step,
        last,
        frame: rep.frames[step].clone(),
        ret: rep.rewards[..step].iter().sum(),
        total: rep.rewards.iter().sum(),
        events: rep.events,
        curve: curve(&rep.rewards),
    };
    html_page(StatusCode::OK, set_cookie, t.render())
}
