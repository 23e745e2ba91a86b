//! Scoring: hint unlocks, solves and leaderboards.
//!
//! A solve is the first passed attempt of an account on a sub-challenge, recorded in the
//! transaction that stores the attempt ([`record_solve`]); it is worth the sub-challenge's
//! points (from the [`crate::Catalogue`]) less the costs of the hints the account unlocked
//! for it before solving, never below zero. The first solve of a sub-challenge by anyone is
//! flagged. [`standings`] is the one ranking (the API's `GET /api/leaderboard[/{challenge}]`
//! and the `/leaderboard` page both call it): accounts by points, then by who reached their
//! total earlier (the time of their last solve), then by name. [`sub_standings`] is one
//! sub-challenge's board: an open problem ranks each account's best metric value over its
//! passed attempts (the judge's `score`, stored in the attempt's verdict), ties to the earlier
//! attempt; any other sub-challenge lists its solvers in solve order.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use diesel::QueryResult;
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
#[derive(Serialize, Debug, Clone, PartialEq)]
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

/// The one ranking, used by the API and the pages: every account with a solve (over the
/// whole catalogue, or over challenge `challenge`), by points (each solve's points less the
/// hints unlocked before it, as [`record_solve`] stored them), then by who reached that total
/// first (the earlier last solve), then by name.
pub fn standings(conn: &mut DbConnection, challenge: Option<&str>) -> QueryResult<Vec<Standing>> {
    use schema::accounts::dsl as a;
    use schema::solves::dsl as s;
    let cols = (a::username, s::points, s::first_solve, s::created_ms);
    let q = s::solves.inner_join(a::accounts.on(a::id.eq(s::account_id)));
    let rows: Vec<(String, i64, bool, i64)> = match challenge {
        Some(c) => q.filter(s::challenge.eq(c)).select(cols).load(conn)?,
        None => q.select(cols).load(conn)?,
    };
    Ok(rank_solves(rows))
}

/// Ranks `(username, points, first solve, solved at)` rows as [`standings`] does.
pub fn rank_solves(rows: Vec<(String, i64, bool, i64)>) -> Vec<Standing> {
    let mut by: BTreeMap<String, Standing> = BTreeMap::new();
    for (username, points, first, at) in rows {
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
    out
}

/// One row of a sub-challenge's board.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct SubStanding {
    /// 1 for the leader.
    pub rank: usize,
    /// The account's name.
    pub username: String,
    /// An open problem: the account's best metric value (a passed attempt's score).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// An open problem: the attempt that reached it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<i64>,
    /// Otherwise: the solve's points (hint costs deducted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
    /// Whether this was the sub-challenge's first solve.
    pub first_solve: bool,
    /// When the account reached its place: the best attempt, or the solve (ms since the
    /// epoch).
    pub at_ms: i64,
}

/// The board of one sub-challenge: an open problem ranks each account's best metric value
/// over its passed attempts (ties to the earlier attempt); any other lists its solvers in the
/// order they solved it.
pub fn sub_standings(
    conn: &mut DbConnection,
    sub: &str,
    metric: Option<&crate::catalogue::MetricInfo>,
) -> QueryResult<Vec<SubStanding>> {
    use schema::accounts::dsl as a;
    use schema::solves::dsl as s;
    let mut out = match metric {
        Some(m) => {
            use schema::attempts::dsl as t;
            let rows: Vec<(i64, i64, String, i64)> = t::attempts
                .filter(t::sub_challenge.eq(sub).and(t::passed.eq(true)))
                .order(t::id.asc())
                .select((t::id, t::account_id, t::verdict, t::created_ms))
                .load(conn)?;
            let names: BTreeMap<i64, String> =
                a::accounts.select((a::id, a::username)).load(conn)?.into_iter().collect();
            let scored = rows.into_iter().filter_map(|(id, acc, verdict, at)| {
                let v: serde_json::Value = serde_json::from_str(&verdict).ok()?;
                let score = v.get("score")?.as_f64().filter(|x| x.is_finite())?;
                Some((id, acc, score, at))
            });
            rank_scores(scored, m.higher_is_better, &names)
        }
        None => {
            let rows: Vec<(String, i64, bool, i64)> = s::solves
                .inner_join(a::accounts.on(a::id.eq(s::account_id)))
                .filter(s::sub_challenge.eq(sub))
                .order((s::created_ms.asc(), a::username.asc()))
                .select((a::username, s::points, s::first_solve, s::created_ms))
                .load(conn)?;
            rows.into_iter()
                .map(|(username, points, first_solve, at_ms)| SubStanding {
                    rank: 0,
                    username,
                    score: None,
                    attempt: None,
                    points: Some(points),
                    first_solve,
                    at_ms,
                })
                .collect()
        }
    };
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    Ok(out)
}

/// Ranks `(attempt, account, score, at)` by each account's best score (the earliest attempt
/// that reached it), best first; equal scores go to the earlier attempt. The account with the
/// earliest attempt of all is the first solver.
pub fn rank_scores(
    scored: impl IntoIterator<Item = (i64, i64, f64, i64)>,
    higher_is_better: bool,
    names: &BTreeMap<i64, String>,
) -> Vec<SubStanding> {
    let better = |a: f64, b: f64| if higher_is_better { a > b } else { a < b };
    let mut best: BTreeMap<i64, (i64, f64, i64)> = BTreeMap::new();
    let mut first: Option<(i64, i64)> = None;
    for (id, acc, score, at) in scored {
        if first.is_none_or(|(f, _)| id < f) {
            first = Some((id, acc));
        }
        match best.get(&acc) {
            Some(&(_, b, _)) if !better(score, b) => {}
            _ => {
                best.insert(acc, (id, score, at));
            }
        }
    }
    let mut rows: Vec<(i64, (i64, f64, i64))> = best.into_iter().collect();
    rows.sort_by(|(_, (ia, sa, _)), (_, (ib, sb, _))| {
        let by_score = if higher_is_better { sb.total_cmp(sa) } else { sa.total_cmp(sb) };
        by_score.then(ia.cmp(ib))
    });
    rows.into_iter()
        .map(|(acc, (id, score, at))| SubStanding {
            rank: 0,
            username: names.get(&acc).cloned().unwrap_or_default(),
            score: Some(score),
            attempt: Some(id),
            points: None,
            first_solve: first.is_some_and(|(_, f)| f == acc),
            at_ms: at,
        })
        .collect()
}

/// `GET /api/leaderboard`: every account with a solve, ranked.
pub async fn leaderboard(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = state.db(|conn| Ok(standings(conn, None)?)).await?;
    Ok(Json(serde_json::json!({ "standings": rows })))
}

/// `GET /api/leaderboard/{challenge}`: the ranking over one challenge's sub-challenges.
pub async fn challenge_leaderboard(
    State(state): State<AppState>,
    Path(challenge): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let c = challenge.clone();
    let rows = state.db(move |conn| Ok(standings(conn, Some(&c))?)).await?;
    Ok(Json(serde_json::json!({ "challenge": challenge, "standings": rows })))
}

/// `GET /api/leaderboard/{challenge}/{sub}`: one sub-challenge's board; an open problem is
/// ranked by its metric.
pub async fn sub_leaderboard(
    State(state): State<AppState>,
    Path((challenge, sub)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = format!("{challenge}/{sub}");
    let cat = &state.inner.catalogue;
    let info = cat.sub_challenge(&id).ok_or_else(|| {
        ApiError::not_found(format!("no sub-challenge {id:?} in the catalogue; see /challenges"))
    })?;
    let metric = cat.metric(&info);
    let (sub_id, m) = (id.clone(), metric.clone());
    let rows = state.db(move |conn| Ok(sub_standings(conn, &sub_id, m.as_ref())?)).await?;
    Ok(Json(serde_json::json!({
        "sub_challenge": id,
        "ranked_by": if metric.is_some() { "metric" } else { "solve_time" },
        "metric": metric,
        "standings": rows,
    })))
}
