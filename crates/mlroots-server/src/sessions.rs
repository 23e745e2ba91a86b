//! The environment-session routes: open, reset, step, batch step, render, close, and the
//! attempt an evaluation produces.
//!
//! These are the wire types and handlers; the environments themselves live in
//! [`crate::envs`]. Every response is built from public values only (observation, reward,
//! flags, public info, spaces): nothing here can read hidden metrics. A reset or step is
//! answered after its ledger entries are committed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::AppState;
use crate::auth::Auth;
use crate::catalogue::{EpisodeResult, SubChallengeInfo};
use crate::db::{now_ms, schema};
use crate::envs::{Done, Frame, Op, ResetOut, SessionMeta, Spaces, StepOut};
use crate::error::{ApiError, ApiJson};
use crate::ledger::{self, Committed, Phase};

/// The most items one batch step may carry.
pub const MAX_BATCH: usize = 1024;

/// `POST /api/sessions` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenReq {
    /// The sub-challenge (`env/boat-race` with the built-in catalogue).
    pub sub_challenge: String,
    /// `practice`, `train` or `eval`.
    pub phase: String,
}

/// `POST /api/sessions` answer.
#[derive(Serialize)]
pub struct Opened {
    /// The session id.
    pub id: i64,
    /// The sub-challenge.
    pub sub_challenge: String,
    /// The phase.
    pub phase: Phase,
    /// Evaluation episodes to run (eval sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval_episodes: Option<u32>,
    /// The environment and its spaces.
    #[serde(flatten)]
    pub spaces: Spaces,
}

/// `POST /api/sessions/{id}/reset` body (optional).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResetReq {
    /// The seed (practice and train only).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// How a batch writes its observations: `list` (default), a JSON array of numbers, or
/// `base64`, the little-endian `f32` bytes in standard base64. A client that turns
/// observations into arrays decodes base64 several times faster than 64 lists of floats
/// (python/bench.py).
#[derive(Deserialize, Default, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ObsEncoding {
    /// `[0.0, 1.0, ...]`.
    #[default]
    List,
    /// `"AAAAAAAAgD8..."`.
    Base64,
}

/// An observation in an answer: flat, as a list of numbers or as base64 (see
/// [`ObsEncoding`]).
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum Obs {
    /// A JSON array.
    List(Vec<f32>),
    /// Little-endian `f32` bytes, base64.
    Base64(String),
}

impl Obs {
    /// `obs` written as `encoding` asks.
    pub fn encode(obs: Vec<f32>, encoding: ObsEncoding) -> Obs {
        match encoding {
            ObsEncoding::List => Obs::List(obs),
            ObsEncoding::Base64 => {
                use base64::Engine;
                let bytes: Vec<u8> = obs.iter().flat_map(|x| x.to_le_bytes()).collect();
                Obs::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }
}

/// A reset's answer.
#[derive(Serialize)]
pub struct ResetResp {
    /// The first observation, flat.
    pub obs: Obs,
    /// The public info.
    pub info: mlroots_env::Info,
}

impl ResetResp {
    /// The answer to a reset, with its observation written as `encoding` asks.
    pub fn new(out: ResetOut, encoding: ObsEncoding) -> Self {
        ResetResp { obs: Obs::encode(out.obs, encoding), info: out.info }
    }
}

/// `POST /api/sessions/{id}/step` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepReq {
    /// The action.
    pub action: u32,
}

/// A step's answer.
#[derive(Serialize)]
pub struct StepResp {
    /// The observation, flat.
    pub obs: Obs,
    /// The visible reward.
    pub reward: f64,
    /// The episode reached a terminal state.
    pub terminated: bool,
    /// The episode was cut by the time limit.
    pub truncated: bool,
    /// The public info.
    pub info: mlroots_env::Info,
    /// Set when this step finished an evaluation: the attempt's id and whether it passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<AttemptRef>,
}

/// The attempt an evaluation produced.
#[derive(Serialize, Clone, Copy)]
pub struct AttemptRef {
    /// Its id (`GET /api/attempts/{id}`).
    pub id: i64,
    /// Whether the judge passed it.
    pub passed: bool,
}

/// One item of a batch step: a step (`action`) or, so that a vector of environments can
/// restart the episodes that ended without one request each, a reset (`"reset": true`,
/// with an optional `seed` outside eval).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// The session.
    pub session: i64,
    /// The action (a step).
    #[serde(default)]
    pub action: Option<u32>,
    /// Reset the session instead of stepping it.
    #[serde(default)]
    pub reset: bool,
    /// The reset's seed (only with `reset`).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// One answer of a batch: the step's or reset's result, or the item's error.
#[derive(Serialize)]
#[serde(untagged)]
pub enum BatchAnswer {
    /// A step's result.
    Step(StepResp),
    /// A reset's result.
    Reset(ResetResp),
    /// `{"error": {"code", "message"}}`.
    Error {
        /// The error.
        error: ErrorBody,
    },
}

/// The body of an error, as every error response carries it.
#[derive(Serialize)]
pub struct ErrorBody {
    /// The stable code.
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
}

impl From<ApiError> for BatchAnswer {
    fn from(e: ApiError) -> Self {
        BatchAnswer::Error { error: ErrorBody { code: e.code, message: e.message } }
    }
}

/// `POST /api/sessions/step` answer: one answer per item (`"layout": "items"`, the default),
/// or the same answers as columns (`"layout": "columns"`).
#[derive(Serialize)]
#[serde(untagged)]
pub enum BatchResp {
    /// One answer per item, in the order given.
    Items {
        /// The answers.
        results: Vec<BatchAnswer>,
    },
    /// The answers as columns, one entry per item in the order given.
    Columns(Columns),
}

/// A batch's answers as columns, for a vector of environments: one decode for all the
/// observations instead of one an item. A failed item has an empty observation, reward 0,
/// neither flag, no info, and its error in `errors`; a reset has reward 0 and neither flag.
/// The infos are columns too, one per key (Gymnasium's vector infos): `null` where an item's
/// info lacks the key.
#[derive(Serialize, Default)]
pub struct Columns {
    /// Every item's observation, concatenated (as `obs` asks: one base64 string, or one list).
    pub obs: Option<Obs>,
    /// The length of each item's observation in `obs`.
    pub obs_len: Vec<usize>,
    /// The rewards.
    pub reward: Vec<f64>,
    /// The terminated flags.
    pub terminated: Vec<bool>,
    /// The truncated flags.
    pub truncated: Vec<bool>,
    /// The public infos by key: `{"actual_actions": [2, 0, null], ...}`.
    pub info: BTreeMap<String, Vec<serde_json::Value>>,
    /// The failed items: `{"index", "error": {"code", "message"}}`.
    pub errors: Vec<IndexedError>,
    /// The evaluations the batch finished: `{"index", "id", "passed"}`.
    pub attempts: Vec<IndexedAttempt>,
}

/// An item's error in [`Columns`].
#[derive(Serialize)]
pub struct IndexedError {
    /// The item's position in the batch.
    pub index: usize,
    /// The error.
    pub error: ErrorBody,
}

/// An attempt an item finished, in [`Columns`].
#[derive(Serialize)]
pub struct IndexedAttempt {
    /// The item's position in the batch.
    pub index: usize,
    /// The attempt.
    #[serde(flatten)]
    pub attempt: AttemptRef,
}

/// How a batch's answer is laid out: `items` (default) or `columns`.
#[derive(Deserialize, Default, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `{"results": [answer, ...]}`.
    #[default]
    Items,
    /// `{"obs", "obs_len", "reward", "terminated", "truncated", "info", "errors", "attempts"}`.
    Columns,
}

/// `POST /api/sessions/step` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchReq {
    /// The steps, at most [`MAX_BATCH`].
    pub steps: Vec<BatchItem>,
    /// How the answers write their observations.
    #[serde(default)]
    pub obs: ObsEncoding,
    /// How the answer is laid out.
    #[serde(default)]
    pub layout: Layout,
}

fn parse_id(s: &str) -> Result<i64, ApiError> {
    s.parse().map_err(|_| ApiError::bad_request(format!("{s:?} is not a session id (an integer)")))
}

/// `POST /api/sessions`: opens a session.
pub async fn open(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<OpenReq>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    auth.require("sessions")?;
    let phase = Phase::parse(&req.phase).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown phase {:?}; phases: practice, train, eval",
            req.phase
        ))
    })?;
    let sub = state.inner.catalogue.sub_challenge(&req.sub_challenge).ok_or_else(|| {
        ApiError::not_found(format!("no sub-challenge {:?} in the catalogue", req.sub_challenge))
    })?;
    if phase == Phase::Eval && sub.eval_episodes == 0 {
        return Err(ApiError::bad_request(format!(
            "{} has no evaluation; open a practice or train session",
            sub.id
        )));
    }
    let account = auth.account_id;
    let max = state.inner.config.max_sessions_per_account;
    let (sub_id, env_id, options) = (
        sub.id.clone(),
        sub.env_id.clone(),
        serde_json::to_string(&sub.options).unwrap_or_default(),
    );
    let id = state
        .db(move |conn| {
            use schema::env_sessions::dsl as s;
            let open: i64 = s::env_sessions
                .filter(s::account_id.eq(account).and(s::closed_ms.is_null()))
                .count()
                .get_result(conn)?;
            if open >= max {
                return Err(ApiError::conflict(format!(
                    "this account has {open} open sessions (the limit is {max}); close some with DELETE /api/sessions/{{id}}"
                )));
            }
            Ok(diesel::insert_into(s::env_sessions)
                .values((
                    s::account_id.eq(account),
                    s::sub_challenge.eq(&sub_id),
                    s::phase.eq(phase.as_str()),
                    s::env_id.eq(&env_id),
                    s::options.eq(&options),
                    s::created_ms.eq(now_ms()),
                ))
                .returning(s::id)
                .get_result::<i64>(conn)?)
        })
        .await?;
    let eval_episodes = (phase == Phase::Eval).then_some(sub.eval_episodes);
    let sub_id: Arc<str> = sub.id.as_str().into();
    let meta = SessionMeta { id, account_id: account, sub: Arc::new(sub), sub_id, phase };
    seed_budget(&state, &meta).await?;
    let spaces = match state.inner.shards.open(meta).await {
        Ok(s) => s,
        Err(e) => {
            mark_closed(&state, id).await?;
            return Err(e);
        }
    };
    tracing::info!(session = id, account, sub = %req.sub_challenge, phase = phase.as_str(), "session opened");
    Ok((
        StatusCode::CREATED,
        Json(Opened { id, sub_challenge: req.sub_challenge, phase, eval_episodes, spaces }),
    ))
}

/// Seeds the training budget of `meta`'s account and sub-challenge from the ledger's
/// counters (once per process; the shards count from there).
pub async fn seed_budget(state: &AppState, meta: &SessionMeta) -> Result<(), ApiError> {
    if meta.phase != Phase::Train || meta.sub.max_train_steps.is_none() {
        return Ok(());
    }
    let (account, sub) = (meta.account_id, meta.sub_id.clone());
    let s = sub.clone();
    let used =
        state.db(move |conn| Ok(ledger::counters(conn, account, &s, Phase::Train)?.steps)).await?;
    state.inner.shards.budgets.seed(account, sub, || used);
    Ok(())
}

async fn mark_closed(state: &AppState, id: i64) -> Result<(), ApiError> {
    state
        .db(move |conn| {
            use schema::env_sessions::dsl as s;
            diesel::update(s::env_sessions.filter(s::id.eq(id)))
                .set(s::closed_ms.eq(now_ms()))
                .execute(conn)?;
            Ok(())
        })
        .await
}

/// When `e` says that session `id`'s environment failed ([`crate::envs::ENV_FAILED`]), marks
/// the session closed in the database, so that a restart does not rebuild it.
async fn close_if_env_failed(state: &AppState, id: i64, e: &ApiError) -> Result<(), ApiError> {
    if e.code == crate::envs::ENV_FAILED {
        mark_closed(state, id).await?;
    }
    Ok(())
}

/// Waits for a commit; on failure, drops the sessions from memory (their state is ahead of
/// the ledger) and answers 500.
async fn committed(
    state: &AppState,
    commit: Committed,
    account: i64,
    sessions: &[i64],
) -> Result<(), ApiError> {
    let cause = match commit.await {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e,
        Err(_) => "the ledger writer stopped".to_string(),
    };
    for &id in sessions {
        state.inner.shards.break_session(id, account).await;
    }
    Err(ApiError::internal(format!(
        "ledger write failed for sessions {sessions:?} ({cause}); they were dropped from memory \
         and will be rebuilt from the ledger at the next start"
    )))
}

/// `POST /api/sessions/{id}/reset`: starts an episode (body `{"seed": n}` optional; no seed
/// in eval).
pub async fn reset(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ResetResp>, ApiError> {
    auth.require("sessions")?;
    let id = parse_id(&id)?;
    let req: ResetReq = if body.iter().all(u8::is_ascii_whitespace) {
        ResetReq::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_json", format!("reset body: {e}"))
        })?
    };
    let r = state.inner.shards.reset(id, auth.account_id, req.seed).await;
    if let Err(e) = &r {
        close_if_env_failed(&state, id, e).await?;
    }
    let (out, commit) = r?;
    committed(&state, commit, auth.account_id, &[id]).await?;
    Ok(Json(ResetResp::new(out, ObsEncoding::List)))
}

async fn step_resp(
    state: &AppState,
    account: i64,
    session: i64,
    out: StepOut,
    encoding: ObsEncoding,
) -> Result<StepResp, ApiError> {
    let attempt = match out.eval_done {
        Some((sub, results)) => Some(finish_eval(state, account, session, sub, results).await?),
        None => None,
    };
    Ok(StepResp {
        obs: Obs::encode(out.obs, encoding),
        reward: out.reward,
        terminated: out.terminated,
        truncated: out.truncated,
        info: out.info,
        attempt,
    })
}

/// Judges a finished evaluation, stores the attempt and closes the session.
pub(crate) async fn finish_eval(
    state: &AppState,
    account: i64,
    session: i64,
    sub: Arc<SubChallengeInfo>,
    results: Vec<EpisodeResult>,
) -> Result<AttemptRef, ApiError> {
    let cat = state.inner.catalogue.clone();
    let worth = crate::scoring::worth(cat.as_ref(), &sub);
    let r = state
        .db(move |conn| {
            let train = ledger::counters(conn, account, &sub.id, Phase::Train)?;
            let verdict = cat.judge(&sub, &results, &train);
            let (passed, details) = match verdict {
                Some(v) => (v.passed, v.details),
                None => {
                    (false, serde_json::json!({"note": "this sub-challenge has no pass condition"}))
                }
            };
            let text = serde_json::to_string(&details).unwrap_or_else(|_| "{}".into());
            use schema::attempts::dsl as a;
            use schema::env_sessions::dsl as s;
            crate::db::write_tx::<_, ApiError, _>(conn, |conn| {
                let id = diesel::insert_into(a::attempts)
                    .values((
                        a::account_id.eq(account),
                        a::sub_challenge.eq(&sub.id),
                        a::session_id.eq(session),
                        a::passed.eq(passed),
                        a::verdict.eq(&text),
                        a::created_ms.eq(now_ms()),
                    ))
                    .returning(a::id)
                    .get_result::<i64>(conn)?;
                if passed {
                    crate::scoring::record_solve(conn, account, &sub.id, id, &worth)?;
                }
                diesel::update(s::env_sessions.filter(s::id.eq(session)))
                    .set(s::closed_ms.eq(now_ms()))
                    .execute(conn)?;
                Ok(AttemptRef { id, passed })
            })
        })
        .await?;
    let _ = state.inner.shards.close(session, account).await;
    tracing::info!(session, account, attempt = r.id, passed = r.passed, "evaluation judged");
    Ok(r)
}

/// `POST /api/sessions/{id}/step`: one step.
pub async fn step(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StepReq>,
) -> Result<Json<StepResp>, ApiError> {
    auth.require("sessions")?;
    let id = parse_id(&id)?;
    state.inner.limits.charge_steps(auth.account_id, 1)?;
    let r = state.inner.shards.step(id, auth.account_id, req.action).await;
    if let Err(e) = &r {
        close_if_env_failed(&state, id, e).await?;
    }
    let (out, commit) = r?;
    committed(&state, commit, auth.account_id, &[id]).await?;
    Ok(Json(step_resp(&state, auth.account_id, id, out, ObsEncoding::List).await?))
}

/// `POST /api/sessions/step`: steps (or resets) many sessions in one request; each item's
/// answer is a step result, a reset result or `{"error": ...}`, in the order given. Resets
/// run before steps; every answer waits for the commit of all of them.
pub async fn step_batch(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<BatchReq>,
) -> Result<Json<BatchResp>, ApiError> {
    auth.require("sessions")?;
    if req.steps.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "a batch holds at most {MAX_BATCH} steps ({} given); split it",
            req.steps.len()
        )));
    }
    // Check every item before anything runs: a malformed item fails the whole request.
    for (i, item) in req.steps.iter().enumerate() {
        match (item.action, item.reset) {
            (Some(_), false) if item.seed.is_none() => {}
            (None, true) => {}
            _ => {
                return Err(ApiError::bad_request(format!(
                    "batch item {i} (session {}): give either \"action\" (a step) or \"reset\": true \
                     (with an optional \"seed\"), not both or neither",
                    item.session
                )));
            }
        }
    }
    let n_steps = req.steps.iter().filter(|s| s.action.is_some()).count();
    state.inner.limits.charge_steps(auth.account_id, n_steps)?;
    // Resets first, then steps, as one shard command and one ledger group.
    let order: Vec<usize> = (0..req.steps.len())
        .filter(|&i| req.steps[i].reset)
        .chain((0..req.steps.len()).filter(|&i| !req.steps[i].reset))
        .collect();
    let ops: Vec<(i64, Op)> = order
        .iter()
        .map(|&i| {
            let item = &req.steps[i];
            let op = match item.action {
                Some(a) if !item.reset => Op::Step(a),
                _ => Op::Reset(item.seed),
            };
            (item.session, op)
        })
        .collect();
    let (done, commit) = state.inner.shards.batch(auth.account_id, &ops).await?;
    for (&(id, _), d) in ops.iter().zip(&done) {
        if let Err(e) = d {
            close_if_env_failed(&state, id, e).await?;
        }
    }
    if let Some(commit) = commit {
        let ids: Vec<i64> = req.steps.iter().map(|s| s.session).collect();
        committed(&state, commit, auth.account_id, &ids).await?;
    }
    let mut answers: Vec<Option<Result<Done, ApiError>>> = vec![None; req.steps.len()];
    for (&i, d) in order.iter().zip(done) {
        answers[i] = Some(d);
    }
    if req.layout == Layout::Columns {
        return columns(&state, auth.account_id, &req, answers).await.map(Json);
    }
    let mut results = Vec::with_capacity(req.steps.len());
    for (item, answer) in req.steps.iter().zip(answers) {
        results.push(match answer {
            Some(Ok(Done::Reset(o))) => BatchAnswer::Reset(ResetResp::new(o, req.obs)),
            Some(Ok(Done::Step(o))) => {
                match step_resp(&state, auth.account_id, item.session, o, req.obs).await {
                    Ok(s) => BatchAnswer::Step(s),
                    Err(e) => e.into(),
                }
            }
            Some(Err(e)) => e.into(),
            None => return Err(ApiError::internal("a batch item returned no result")),
        });
    }
    Ok(Json(BatchResp::Items { results }))
}

/// The answers of a batch as [`Columns`].
async fn columns(
    state: &AppState,
    account: i64,
    req: &BatchReq,
    answers: Vec<Option<Result<Done, ApiError>>>,
) -> Result<BatchResp, ApiError> {
    let n = req.steps.len();
    let mut c = Columns {
        obs_len: Vec::with_capacity(n),
        reward: Vec::with_capacity(n),
        terminated: Vec::with_capacity(n),
        truncated: Vec::with_capacity(n),
        ..Columns::default()
    };
    let mut obs: Vec<f32> = Vec::new();
    for (index, (item, answer)) in req.steps.iter().zip(answers).enumerate() {
        let answer = answer.ok_or_else(|| ApiError::internal("a batch item returned no result"))?;
        let done = match answer {
            Ok(Done::Step(o)) => {
                let attempt = match o.eval_done {
                    Some((sub, results)) => {
                        finish_eval(state, account, item.session, sub, results).await.map(Some)
                    }
                    None => Ok(None),
                };
                attempt.map(|a| (o.obs, o.reward, o.terminated, o.truncated, o.info, a))
            }
            Ok(Done::Reset(o)) => Ok((o.obs, 0.0, false, false, o.info, None)),
            Err(e) => Err(e),
        };
        match done {
            Ok((values, reward, terminated, truncated, info, attempt)) => {
                c.obs_len.push(values.len());
                obs.extend_from_slice(&values);
                c.reward.push(reward);
                c.terminated.push(terminated);
                c.truncated.push(truncated);
                add_info(&mut c.info, index, &info);
                if let Some(attempt) = attempt {
                    c.attempts.push(IndexedAttempt { index, attempt });
                }
            }
            Err(e) => {
                c.obs_len.push(0);
                c.reward.push(0.0);
                c.terminated.push(false);
                c.truncated.push(false);
                c.errors.push(IndexedError {
                    index,
                    error: ErrorBody { code: e.code, message: e.message },
                });
            }
        }
    }
    for column in c.info.values_mut() {
        column.resize(n, serde_json::Value::Null);
    }
    c.obs = Some(Obs::encode(obs, req.obs));
    Ok(BatchResp::Columns(c))
}

/// Adds item `index`'s info to the info columns (a key first met here gets `null` for the
/// items before it).
fn add_info(
    columns: &mut BTreeMap<String, Vec<serde_json::Value>>,
    index: usize,
    info: &mlroots_env::Info,
) {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(info) else { return };
    for (key, value) in fields {
        let column = columns.entry(key).or_default();
        column.resize(index, serde_json::Value::Null);
        column.push(value);
    }
}

/// `GET /api/sessions/{id}/render` query.
#[derive(Deserialize)]
pub struct RenderQuery {
    /// `ascii` (default) or `rgb`.
    #[serde(default)]
    pub mode: Option<String>,
}

/// `GET /api/sessions/{id}/render?mode=ascii|rgb`: the current frame.
pub async fn render(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<RenderQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("sessions")?;
    let id = parse_id(&id)?;
    let rgb = match q.mode.as_deref().unwrap_or("ascii") {
        "ascii" => false,
        "rgb" => true,
        m => {
            return Err(ApiError::bad_request(format!(
                "unknown render mode {m:?}; modes: ascii, rgb"
            )));
        }
    };
    Ok(Json(match state.inner.shards.render(id, auth.account_id, rgb).await? {
        Frame::Ascii(text) => serde_json::json!({"mode": "ascii", "text": text}),
        Frame::Rgb { height, width, data } => {
            serde_json::json!({"mode": "rgb", "height": height, "width": width, "layout": "channel-major (3, height, width)", "data": data})
        }
    }))
}

/// `DELETE /api/sessions/{id}`: closes a session.
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require("sessions")?;
    let id = parse_id(&id)?;
    state.inner.shards.close(id, auth.account_id).await?;
    mark_closed(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/attempts/{id}`: an evaluation's verdict.
pub async fn attempt(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = id.parse::<i64>().map_err(|_| ApiError::bad_request("an attempt id is an integer"))?;
    let account = auth.account_id;
    let row = state
        .db(move |conn| {
            use schema::attempts::dsl as a;
            Ok(a::attempts
                .filter(a::id.eq(id).and(a::account_id.eq(account)))
                .select((a::sub_challenge, a::session_id, a::passed, a::verdict, a::created_ms))
                .first::<(String, i64, bool, String, i64)>(conn)
                .optional()?)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no attempt {id} on this account")))?;
    let verdict: serde_json::Value = serde_json::from_str(&row.3).unwrap_or_default();
    Ok(Json(serde_json::json!({
        "id": id, "sub_challenge": row.0, "session": row.1, "passed": row.2,
        "verdict": verdict, "created_ms": row.4,
    })))
}

fn require_admin(auth: &Auth) -> Result<(), ApiError> {
    if auth.is_admin && auth.via == crate::auth::Via::Cookie {
        Ok(())
    } else {
        Err(ApiError::forbidden("this route is for admins, from a login session"))
    }
}

/// `GET /api/admin/accounts/{id}/ledger`: an account's whole ledger, in chain order, with
/// the result of verifying its chain (admins only: it holds hidden events and seeds).
pub async fn export_ledger(
    State(state): State<AppState>,
    auth: Auth,
    Path(account): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_admin(&auth)?;
    let rows = state.db(move |conn| Ok(ledger::account_entries(conn, account)?)).await?;
    let verified = ledger::verify_rows(&rows).map_err(|e| e.to_string());
    tracing::info!(account, entries = rows.len(), by = auth.account_id, "ledger exported");
    Ok(Json(serde_json::json!({
        "account": account,
        "chain": match verified { Ok(n) => serde_json::json!({"ok": true, "entries": n}),
                                  Err(e) => serde_json::json!({"ok": false, "error": e}) },
        "entries": rows,
    })))
}

/// `DELETE /api/admin/accounts/{id}/ledger`: deletes an account's ledger and counters and
/// closes its sessions (admins only; for retention requests).
pub async fn delete_ledger(
    State(state): State<AppState>,
    auth: Auth,
    Path(account): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_admin(&auth)?;
    let open: Vec<i64> = state
        .db(move |conn| {
            use schema::env_sessions::dsl as s;
            Ok(s::env_sessions
                .filter(s::account_id.eq(account).and(s::closed_ms.is_null()))
                .select(s::id)
                .load(conn)?)
        })
        .await?;
    for id in &open {
        let _ = state.inner.shards.close(*id, account).await;
    }
    // The sessions first: if the server stops in between, the ledger is still whole and the
    // deletion can be asked again.
    state
        .db(move |conn| {
            use schema::env_sessions::dsl as s;
            diesel::update(
                s::env_sessions.filter(s::account_id.eq(account).and(s::closed_ms.is_null())),
            )
            .set(s::closed_ms.eq(now_ms()))
            .execute(conn)?;
            Ok(())
        })
        .await?;
    // By the ledger writer, in order with the appends: a step in flight is either deleted
    // with the chain or starts the fresh one.
    let deleted = state.inner.ledger.delete_account(account).await.map_err(|e| {
        ApiError::internal(format!("the ledger of account {account} was not deleted: {e}"))
    })?;
    tracing::info!(account, deleted, by = auth.account_id, "ledger deleted");
    Ok(Json(
        serde_json::json!({"account": account, "deleted_entries": deleted, "closed_sessions": open.len()}),
    ))
}
