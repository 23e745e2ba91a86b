//! Artefact submissions: `POST /api/submissions`. Sub-challenges that take an artefact
//! (levels, mazes, an action string, weights) are not played through sessions: the learner
//! sends the artefact, the judge of `mlroots-challenge` checks it (every problem with its line
//! and column) and plays the shipped agent on it (or the submitted network greedily on hidden
//! evaluation seeds), and the verdict is stored as an attempt, exactly like an evaluation's,
//! so solves, points and leaderboards count it the same way. No code of the learner's runs:
//! text is parsed, weights are read by our own plain-Rust inference.
//!
//! Each submission is kept in the `submissions` table (text as sent; weights re-serialised
//! without their metadata, as base64) with its SHA-256 and, once judged, its attempt. A
//! refused artefact stays recorded without an attempt. Evaluation seeds are keyed by the
//! negated submission id, so they never coincide with an eval session's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use diesel::prelude::*;
use mlroots_challenge::SubChallenge;
use mlroots_challenge::artefact::{DEFAULT_MAX_LEVEL_BYTES, DEFAULT_MAX_WEIGHT_BYTES};
use mlroots_challenge::run::{self, Actor, Solution};
use mlroots_challenge::spec::Submission;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Auth;
use crate::catalogue::{ArtefactInfo, JudgedArtefact, Verdict};
use crate::db::{now_ms, schema};
use crate::error::{ApiError, ApiJson};

/// The most bytes a submission request may have (4 MiB of weights, base64-encoded, fit).
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// The most bytes of an action string.
const MAX_ACTION_BYTES: u64 = 64 * 1024;

/// The `submissions` table (migration `2026-12-06-000010_submissions`, both backends).
#[allow(missing_docs)]
pub mod table {
    diesel::table! {
        submissions (id) {
            id -> BigInt,
            account_id -> BigInt,
            sub_challenge -> Text,
            kind -> Text,
            sha256 -> Text,
            artefact -> Text,
            attempt_id -> Nullable<BigInt>,
            created_ms -> BigInt,
        }
    }
}

use table::submissions;

/// What an artefact sub-challenge accepts, for the server.
pub fn artefact_info(sub: &SubChallenge) -> Option<ArtefactInfo> {
    let spec = sub.artefact.clone().unwrap_or_default();
    let (binary, max) = match sub.submission {
        Submission::Sessions => return None,
        Submission::Actions => (false, MAX_ACTION_BYTES),
        Submission::Levels | Submission::Mazes => {
            (false, spec.max_bytes.unwrap_or(DEFAULT_MAX_LEVEL_BYTES))
        }
        Submission::Weights => (true, spec.max_bytes.unwrap_or(DEFAULT_MAX_WEIGHT_BYTES)),
    };
    Some(ArtefactInfo { kind: sub.submission.as_str(), binary, max_bytes: max })
}

/// Checks and judges `bytes` for `sub` on `seeds`: the verdict and what to store.
pub fn judge(sub: &SubChallenge, seeds: &[u64], bytes: &[u8]) -> Result<JudgedArtefact, String> {
    let text = || {
        std::str::from_utf8(bytes).map_err(|e| {
            format!("the artefact is not UTF-8 text (bad byte at offset {})", e.valid_up_to())
        })
    };
    let solution = match sub.submission {
        Submission::Sessions => return Err(format!("{} takes sessions, not artefacts", sub.id)),
        Submission::Actions => {
            Solution::Actions { actions: text()?.trim().to_string(), note: String::new() }
        }
        Submission::Levels | Submission::Mazes => {
            Solution::Levels { levels: text()?.to_string(), note: String::new() }
        }
        Submission::Weights => Solution::Weights { bytes: bytes.to_vec() },
    };
    let mut trained = run::train(sub, &solution).map_err(|e| e.to_string())?;
    let stored = match &trained.actor {
        Actor::Net(actor) => actor.net().to_safetensors(&[]),
        _ => bytes.to_vec(),
    };
    let eval = run::evaluate(sub, &mut trained, seeds).map_err(|e| e.to_string())?;
    let v = mlroots_challenge::judge(sub, &eval, &trained.counters);
    let details = serde_json::to_value(&v).unwrap_or_default();
    Ok(JudgedArtefact { verdict: Verdict { passed: v.passed, details }, stored })
}

/// `POST /api/submissions` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitReq {
    /// The sub-challenge (`C03-safety-gridworlds/DS-R`).
    pub sub_challenge: String,
    /// The artefact: text (levels, mazes, an action string) or base64 (weights).
    pub artefact: String,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_artefact", message)
}

/// `POST /api/submissions`: checks, judges and stores an artefact; answers the attempt.
pub async fn submit(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<SubmitReq>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    auth.require("sessions")?;
    let cat = state.inner.catalogue.clone();
    let sub = cat.sub_challenge(&req.sub_challenge).ok_or_else(|| {
        ApiError::not_found(format!(
            "no sub-challenge {:?}; `GET /api/leaderboard` and the catalogue page list them",
            req.sub_challenge
        ))
    })?;
    let info = cat.artefact(&sub).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "not_an_artefact",
            format!(
                "{} takes sessions, not artefacts: open an eval session (POST /api/sessions)",
                sub.id
            ),
        )
    })?;
    let too_large = |got: u64| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the artefact has {got} bytes; {} accepts {} of at most {} bytes",
                sub.id, info.kind, info.max_bytes
            ),
        )
    };
    let bytes = if info.binary {
        if req.artefact.len() as u64 > info.max_bytes.div_ceil(3) * 4 + 4 {
            return Err(too_large(req.artefact.len() as u64 / 4 * 3));
        }
        base64::engine::general_purpose::STANDARD.decode(req.artefact.trim()).map_err(|e| {
            invalid(format!("{} are sent as base64 (standard alphabet, padded): {e}", info.kind))
        })?
    } else {
        req.artefact.into_bytes()
    };
    if bytes.len() as u64 > info.max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    let account = auth.account_id;
    let sha: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let sent = if info.binary {
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let (sub_id, kind, sha2) = (sub.id.clone(), info.kind, sha.clone());
    let id = state
        .db(move |conn| {
            use submissions::dsl as s;
            Ok(diesel::insert_into(s::submissions)
                .values((
                    s::account_id.eq(account),
                    s::sub_challenge.eq(&sub_id),
                    s::kind.eq(kind),
                    s::sha256.eq(&sha2),
                    s::artefact.eq(&sent),
                    s::created_ms.eq(now_ms()),
                ))
                .returning(s::id)
                .get_result::<i64>(conn)?)
        })
        .await?;
    let (judge_cat, judge_sub) = (cat.clone(), sub.clone());
    let judged = tokio::task::spawn_blocking(move || {
        judge_cat.judge_artefact(&judge_sub, account, -id, &bytes)
    })
    .await
    .map_err(ApiError::internal)?;
    let judged = match judged {
        Ok(j) => j,
        Err(message) => {
            tracing::info!(account, submission = id, sub = %sub.id, "artefact refused");
            return Err(invalid(message));
        }
    };
    let worth = crate::scoring::worth(cat.as_ref(), &sub);
    let text = serde_json::to_string(&judged.verdict.details).unwrap_or_else(|_| "{}".into());
    let stored = if info.binary {
        base64::engine::general_purpose::STANDARD.encode(&judged.stored)
    } else {
        String::from_utf8_lossy(&judged.stored).into_owned()
    };
    let passed = judged.verdict.passed;
    let sub_id = sub.id.clone();
    let attempt = state
        .db(move |conn| {
            use schema::attempts::dsl as a;
            use submissions::dsl as s;
            crate::db::write_tx::<_, ApiError, _>(conn, |conn| {
                let attempt = diesel::insert_into(a::attempts)
                    .values((
                        a::account_id.eq(account),
                        a::sub_challenge.eq(&sub_id),
                        a::session_id.eq(0i64),
                        a::passed.eq(passed),
                        a::verdict.eq(&text),
                        a::created_ms.eq(now_ms()),
                    ))
                    .returning(a::id)
                    .get_result::<i64>(conn)?;
                if passed {
                    crate::scoring::record_solve(conn, account, &sub_id, attempt, &worth)?;
                }
                diesel::update(s::submissions.filter(s::id.eq(id)))
                    .set((s::attempt_id.eq(attempt), s::artefact.eq(&stored)))
                    .execute(conn)?;
                Ok(attempt)
            })
        })
        .await?;
    tracing::info!(account, submission = id, attempt, passed, sub = %sub.id, "artefact judged");
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "submission": id,
            "attempt": attempt,
            "sub_challenge": sub.id,
            "kind": info.kind,
            "sha256": sha,
            "passed": passed,
            "verdict": judged.verdict.details,
        })),
    ))
}
