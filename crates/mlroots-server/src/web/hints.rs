//! Hint unlocking: a learner asks for a hint of a sub-challenge and from then on sees it;
//! each unlocked hint's cost comes off that sub-challenge's points on the leaderboard. The
//! table is `hint_unlocks` (migration `2026-12-06-000001_scoring`, shared with the API's
//! `POST /api/hints`).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use diesel::prelude::*;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::db::{DbConnection, now_ms};
use crate::error::ApiError;

use crate::db::schema::hint_unlocks;

/// The hints `account` unlocked, as `(sub_challenge, hint index)`.
pub fn unlocked(conn: &mut DbConnection, account: i64) -> QueryResult<Vec<(String, i64)>> {
    use hint_unlocks::dsl as h;
    h::hint_unlocks.filter(h::account_id.eq(account)).select((h::sub_challenge, h::hint)).load(conn)
}

/// Every unlock, as `(account, sub_challenge, hint index)`.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String, i64)>> {
    use hint_unlocks::dsl as h;
    h::hint_unlocks.select((h::account_id, h::sub_challenge, h::hint)).load(conn)
}

/// The unlock form.
#[derive(Deserialize)]
pub struct UnlockForm {
    csrf: String,
    sub: String,
    hint: i64,
}

/// `POST /challenges/{id}/hints`: unlocks hint `hint` of sub-challenge `sub` of challenge
/// `id` (idempotent), then back to the challenge page.
pub async fn unlock(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(id): Path<String>,
    Form(f): Form<UnlockForm>,
) -> Response {
    let Ok(auth) = auth else { return Redirect::to("/login").into_response() };
    if let Err(why) = super::check_form(&headers, &f.csrf) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let full = format!("{id}/{}", f.sub);
    let cost = state.inner.catalogue.challenges().and_then(|c| {
        c.find(&full)
            .and_then(|(_, s)| usize::try_from(f.hint).ok().and_then(|i| s.hints.get(i)))
            .map(|h| i64::from(h.cost))
    });
    let Some(cost) = cost else {
        let msg = format!("sub-challenge {full:?} has no hint {}", f.hint + 1);
        return (StatusCode::NOT_FOUND, msg).into_response();
    };
    let account = auth.account_id;
    let (sub, hint) = (full.clone(), f.hint);
    let r = state
        .db(move |conn| {
            use hint_unlocks::dsl as h;
            let had: i64 = h::hint_unlocks
                .filter(
                    h::account_id.eq(account).and(h::sub_challenge.eq(&sub)).and(h::hint.eq(hint)),
                )
                .count()
                .get_result(conn)?;
            if had == 0 {
                diesel::insert_into(h::hint_unlocks)
                    .values((
                        h::account_id.eq(account),
                        h::sub_challenge.eq(&sub),
                        h::hint.eq(hint),
                        h::cost.eq(cost),
                        h::created_ms.eq(now_ms()),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await;
    match r {
        Ok(()) => Redirect::to(&format!("/challenges/{id}#sub-{}", f.sub)).into_response(),
        Err(e) => e.into_response(),
    }
}
