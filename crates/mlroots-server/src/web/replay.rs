//! Replay of an evaluation episode: the server re-simulates it from the ledger (the reset's
//! hidden seed and every action, on the environment the evaluation ran) and shows it with the
//! return so far, the return curve (inline SVG, [`super::svg`]) with a marker at each step
//! where a hidden event happened, and the list of those events. The seed itself is never
//! shown, and hidden events only once the episode is over.
//!
//! Without JavaScript the page is one frame with links to step (first, previous, next, last,
//! and each event). With it, `static/replay.js` animates every frame on the canvas renderer
//! the play page uses (`static/board.js`): play, pause, step, speed, and the keyboard.
//!
//! Who can watch: the attempt's owner at `/attempts/{id}/replay`; anyone with the share link
//! `/replays/{share}` of a *passed* attempt, which its owner creates ([`super::share`]).
//! Anyone else, logged in or not, gets 404, so an attempt's existence is not revealed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use diesel::prelude::*;
use serde::Deserialize;

use super::pages::{Nav, ctx_parts, error_response, html_page};
use super::svg::{Chart, num};
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
    /// The episode ended (terminated or truncated) in the ledger.
    pub over: bool,
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
    let over = rows.last().is_some_and(|r| r.terminated || r.truncated);
    let mut out = Replayed {
        frames: vec![env.render_ascii()],
        rewards: Vec::new(),
        events: Vec::new(),
        over,
    };
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

/// A hidden event as the page lists it.
pub struct EventView {
    /// The step after which it happened.
    pub step: usize,
    /// "shopkeeper killed" or "shopkeeper killed × 2".
    pub label: String,
}

#[derive(Template)]
#[template(path = "replay.html")]
struct ReplayPage {
    nav: Nav,
    title: String,
    attempt: i64,
    sub: String,
    challenge: String,
    passed: bool,
    episodes: usize,
    episode_list: Vec<usize>,
    episode: usize,
    step: usize,
    last: usize,
    frame: String,
    ret: String,
    total: String,
    over: bool,
    events: Vec<EventView>,
    curve: String,
    /// The path the step links extend (`/attempts/5/replay` or `/replays/{share}`).
    base: String,
    legend_json: String,
    frames_json: String,
    rewards_json: String,
    /// The owner's view: the share controls.
    owner: bool,
    /// The share path, when the attempt is shared.
    share: Option<String>,
    /// Whose attempt, on a shared view.
    shared_by: Option<String>,
}

/// `?episode=&step=` of the replay.
#[derive(Deserialize)]
pub struct ReplayQuery {
    #[serde(default)]
    episode: usize,
    #[serde(default)]
    step: usize,
}

/// A hidden event's name in words (`shopkeeper_killed` → "shopkeeper killed").
pub fn event_words(name: &str, count: u64) -> String {
    let words = name.replace('_', " ");
    if count > 1 { format!("{words} × {count}") } else { words }
}

/// The return curve of an episode as inline SVG: cumulative return after each step, a
/// marker (a link to that step) at each step where a hidden event happened, and a cursor at
/// `step` that the script moves. `link` is the page path with its `?episode=K`.
pub fn return_curve(rewards: &[f64], events: &[EventView], step: usize, link: &str) -> String {
    let mut acc = 0.0;
    let pts: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(rewards.iter().enumerate().map(|(i, r)| {
            acc += r;
            ((i + 1) as f64, acc)
        }))
        .collect();
    let (lo, hi) = pts.iter().fold((0.0f64, 0.0f64), |(l, h), p| (l.min(p.1), h.max(p.1)));
    let last = rewards.len();
    let desc = format!(
        "Cumulative return after each of {last} steps, from 0 to {} (lowest {}, highest {}); \
         {} hidden event{} marked.",
        num(acc),
        num(lo),
        num(hi),
        events.len(),
        if events.len() == 1 { "" } else { "s" }
    );
    let mut c = Chart::new(
        "return-curve",
        480.0,
        180.0,
        (0.0, last.max(1) as f64),
        (lo, hi),
        "Return over the episode",
        &desc,
        ("step", "return so far"),
    );
    c.line(&pts, "return", "#0a58ca", 2.0);
    for e in events {
        let y = pts.get(e.step).map_or(0.0, |p| p.1);
        let label = format!("step {}: {}", e.step, e.label);
        c.marker(e.step as f64, y, &label, &format!("{link}&step={}", e.step), e.step);
    }
    c.cursor(step as f64);
    c.finish()
}

/// The attempt a replay shows, as loaded for one viewer.
pub(super) struct Loaded {
    /// The attempt.
    pub id: i64,
    /// Its sub-challenge.
    pub sub: String,
    /// It passed.
    pub passed: bool,
    /// The owner's ledger rows of its evaluation session.
    pub rows: Vec<LedgerRow>,
    /// The share path, if any.
    pub share: Option<String>,
    /// The owner's name.
    pub owner_name: String,
}

/// Loads attempt `id` and its evaluation's ledger rows, if it belongs to `account` (or any
/// account when `account` is `None`, for a share link already checked).
pub(super) fn load(
    conn: &mut crate::DbConnection,
    id: i64,
    account: Option<i64>,
) -> Result<Option<Loaded>, ApiError> {
    use schema::attempts::dsl as a;
    let row: Option<(i64, String, i64, bool)> = a::attempts
        .filter(a::id.eq(id))
        .select((a::account_id, a::sub_challenge, a::session_id, a::passed))
        .first(conn)
        .optional()?;
    let Some((owner, sub, session, passed)) = row else { return Ok(None) };
    if account.is_some_and(|acc| acc != owner) {
        return Ok(None);
    }
    let share = super::share::share_of(conn, id)?.map(|s| format!("/replays/{s}"));
    let owner_name = {
        use schema::accounts::dsl as acc;
        acc::accounts.filter(acc::id.eq(owner)).select(acc::username).first(conn)?
    };
    let rows = ledger::session_entries(conn, owner, session)?;
    Ok(Some(Loaded { id, sub, passed, rows, share, owner_name }))
}

/// The replay page of `loaded` for a viewer: `base` is the path step links extend, `owner`
/// whether the viewer owns it (share controls) or watches a share link.
pub(super) fn page(
    state: &AppState,
    nav: Nav,
    set_cookie: Option<axum::http::HeaderValue>,
    loaded: Loaded,
    base: String,
    owner: bool,
    q: ReplayQuery,
) -> Response {
    let Loaded { id, sub, passed, rows, share, owner_name } = loaded;
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
        let msg = format!("attempt {id} has episodes 1 to {}", episodes.len());
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
    // Hidden events only for a finished episode (an attempt's episodes all are; this guards
    // the rule rather than relying on it).
    let events: Vec<EventView> = if rep.over {
        rep.events
            .iter()
            .map(|(s, name, n)| EventView { step: *s, label: event_words(name, *n) })
            .collect()
    } else {
        Vec::new()
    };
    let link = format!("{base}?episode={}", q.episode);
    let legend = super::legend::legend(&env_id);
    let t = ReplayPage {
        nav,
        title: format!("Replay of attempt {id}"),
        attempt: id,
        challenge: sub.split('/').next().unwrap_or("").to_string(),
        sub,
        passed,
        episodes: episodes.len(),
        episode_list: (0..episodes.len()).collect(),
        episode: q.episode,
        step,
        last,
        frame: rep.frames[step].clone(),
        ret: num(rep.rewards[..step].iter().sum()),
        total: num(rep.rewards.iter().sum()),
        over: rep.over,
        curve: return_curve(&rep.rewards, &events, step, &link),
        events,
        base,
        legend_json: serde_json::to_string(&legend).unwrap_or_else(|_| "[]".into()),
        frames_json: serde_json::to_string(&rep.frames).unwrap_or_else(|_| "[]".into()),
        rewards_json: serde_json::to_string(&rep.rewards).unwrap_or_else(|_| "[]".into()),
        owner,
        share,
        shared_by: (!owner).then_some(owner_name),
    };
    html_page(StatusCode::OK, set_cookie, t.render())
}

/// `GET /attempts/{id}/replay?episode=K&step=N`: the owner's replay. Anyone else gets 404.
pub async fn replay(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(id): Path<i64>,
    Query(q): Query<ReplayQuery>,
) -> Response {
    let (nav, set_cookie, auth) = ctx_parts(&state, &headers, auth).await;
    let not_found = format!(
        "no attempt {id} is visible to you: log in with the account that made it, or ask its \
         owner for a share link (passed attempts only)"
    );
    let Some(auth) = auth else {
        return error_response(nav, set_cookie, StatusCode::NOT_FOUND, not_found);
    };
    let account = auth.account_id;
    let loaded = state.db(move |conn| load(conn, id, Some(account))).await;
    match loaded {
        Ok(Some(l)) => page(&state, nav, set_cookie, l, format!("/attempts/{id}/replay"), true, q),
        Ok(None) => error_response(nav, set_cookie, StatusCode::NOT_FOUND, not_found),
        Err(e) => error_response(nav, set_cookie, e.status, e.message),
    }
}
