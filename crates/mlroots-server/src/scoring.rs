//! Scoring: hint unlocks, solves and leaderboards.
//!
//! A solve is the first passed attempt of an account on a sub-challenge, recorded in the
//! transaction that stores the attempt ([`record_solve`]); it is worth the sub-challenge's
//! points (from the [`crate::Catalogue`]) less the costs of the hints the account unlocked
//! for it before solving, never below zero. The first solve of a sub-challenge by anyone is
//! flagged. Leaderboards rank accounts by points, then by who reached their total earlier
//! (the time of their last solve), then by name.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Auth;
use crate::catalogue::SubChallengeInfo;
use crate::db::{DbConnection, now_ms, schema};
use crate::error::{ApiError, ApiJson};

/// `POST /api/hints` body.
#[derive(Deserialize)]
pub struct HintReq {
    /// The sub-challenge id.
    pub sub_challenge: String,
    /// Which hint, from 0.
    pub hint: u32,
}

/// An unlocked hint.
#[derive(Serialize)]
pub struct HintOut {
    /// The sub-challenge id.
    pub sub_challenge: String,
    /// Which hint.
    pub hint: u32,
    /// The points it takes from a later solve.
    pub cost: u32,
    /// Whether this request unlocked it (false: it was unlocked before, nothing charged).
    pub newly_unlocked: bool,
    /// The hint.
    pub text: String,
}

/// `POST /api/hints`: unlocks hint `hint` of a sub-challenge and records its cost (once).
pub async fn unlock_hint(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<HintReq>,
) -> Result<Json<HintOut>, ApiError> {
    auth.require("sessions")?;
    let cat = &state.inner.catalogue;
    let sub = cat.sub_challenge(&req.sub_challenge).ok_or_else(|| {
        ApiError::not_found(format!("no sub-challenge {:?} in the catalogue", req.sub_challenge))
    })?;
    let hints = cat.hints(&sub);
    let hint = hints.get(req.hint as usize).cloned().ok_or_else(|| {
        ApiError::not_found(format!(
            "{} has {} hints (numbered from 0); there is no hint {}",
            sub.id,
            hints.len(),
            req.hint
        ))
    })?;
    let (account, sub_id, index, cost) =
        (auth.account_id, sub.id.clone(), i64::from(req.hint), i64::from(hint.cost));
    let newly_unlocked = state
        .db(move |conn| {
            use schema::hint_unlocks::dsl as h;
            crate::db::write_tx::<_, ApiError, _>(conn, |conn| {
                let before: i64 = h::hint_unlocks
                    .filter(
                        h::account_id
                            .eq(account)
                            .and(h::sub_challenge.eq(&sub_id))
                            .and(h::hint.eq(index)),
                    )
                    .count()
                    .get_result(conn)?;
                if before > 0 {
                    return Ok(false);
                }
                diesel::insert_into(h::hint_unlocks)
                    .values((
                        h::account_id.eq(account),
                        h::sub_challenge.eq(&sub_id),
                        h::hint.eq(index),
                        h::cost.eq(cost),
                        h::created_ms.eq(now_ms()),
                    ))
                    .execute(conn)?;
                Ok(true)
            })
        })
        .await?;
    Ok(Json(HintOut {
        sub_challenge: sub.id,
        hint: req.hint,
        cost: hint.cost,
        newly_unlocked,
        text: hint.text,
    }))
}

/// What a passed attempt is worth, as the catalogue says: `(challenge, points)`.
pub fn worth(cat: &dyn crate::Catalogue, sub: &SubChallengeInfo) -> (String, u32) {
    (cat.challenge_of(sub), cat.points(sub))
}

/// Records the solve of `sub` by `account` through `attempt`, unless the account solved it
/// before. Runs inside the attempt's transaction.
pub fn record_solve(
    conn: &mut DbConnection,
    account: i64,
    sub: &str,
    attempt: i64,
    (challenge, points): &(String, u32),
) -> Result<(), diesel::result::Error> {
    use schema::hint_unlocks::dsl as h;
    use schema::solves::dsl as s;
    let solved: i64 = s::solves
        .filter(s::account_id.eq(account).and(s::sub_challenge.eq(sub)))
        .count()
        .get_result(conn)?;
    if solved > 0 {
        return Ok(());
    }
    let costs: Vec<i64> = h::hint_unlocks
        .filter(h::account_id.eq(account).and(h::sub_challenge.eq(sub)))
        .select(h::cost)
        .load(conn)?;
    let others: i64 = s::solves.filter(s::sub_challenge.eq(sub)).count().get_result(conn)?;
    let points = (i64::from(*points) - costs.iter().sum::<i64>()).max(0);
    diesel::insert_into(s::solves)
        .values((
            s::account_id.eq(account),
            s::sub_challenge.eq(sub),
            s::challenge.eq(challenge),
            s::attempt_id.eq(attempt),
            s::points.eq(points),
            s::first_solve.eq(others == 0),
            s::created_ms.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(())
}

/// One leaderboard row.
#[derive(Serialize, Debug)]
pub struct Standing {
    /// 1 for the leader.
    pub rank: usize,
    /// The account's name.
    pub username: String,
    /// Points over its solves.
    pub points: i64,
    /// Sub-challenges solved.
    pub solves: usize,
    /// First solves among them.
    pub first_solves: usize,
    /// When it reached its total (ms since the epoch).
    pub last_solve_ms: i64,
}

async fn standings(state: &AppState, challenge: Option<&str>) -> Result<Vec<Standing>, ApiError> {
    let rows = state
        .db(move |conn| {
            use schema::accounts::dsl as a;
            use schema::solves::dsl as s;
            Ok(s::solves
                .inner_join(a::accounts.on(a::id.eq(s::account_id)))
                .select((a::username, s::challenge, s::points, s::first_solve, s::created_ms))
                .load::<(String, String, i64, bool, i64)>(conn)?)
        })
        .await?;
    let mut by: BTreeMap<String, Standing> = BTreeMap::new();
    for (username, c, points, first, at) in rows {
        if challenge.is_some_and(|want| want != c) {
            continue;
        }
        let e = by.entry(username.clone()).or_insert(Standing {
            rank: 0,
            username,
            points: 0,
            solves: 0,
            first_solves: 0,
            last_solve_ms: 0,
        });
        e.points += points;
        e.solves += 1;
        e.first_solves += usize::from(first);
        e.last_solve_ms = e.last_solve_ms.max(at);
    }
    let mut out: Vec<Standing> = by.into_values().collect();
    out.sort_by(|x, y| {
        y.points
            .cmp(&x.points)
            .then(x.last_solve_ms.cmp(&y.last_solve_ms))
            .then(x.username.cmp(&y.username))
    });
    for (i, s) in out.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    Ok(out)
}

/// `GET /api/leaderboard`: every account with a solve, ranked.
pub async fn leaderboard(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = standings(&state, None).await?;
    Ok(Json(serde_json::json!({ "standings": rows })))
}

/// `GET /api/leaderboard/{challenge}`: the ranking over one challenge's sub-challenges.
pub async fn challenge_leaderboard(
    State(state): State<AppState>,
    Path(challenge): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = standings(&state, Some(&challenge)).await?;
    Ok(Json(serde_json::json!({ "challenge": challenge, "standings": rows })))
}
