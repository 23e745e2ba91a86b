//! Share links of solved attempts' replays.
//!
//! An attempt's replay is private to its owner. Once an attempt has *passed*, its owner may
//! create a share link, `/replays/{share}`, where `share` is 128 random bits in hex (the
//! `replay_shares` table): anyone holding the link, logged in or not, can watch every
//! evaluation episode of that attempt, with its return curve and hidden events (the episodes
//! are over), but never its seeds. Ids are not derived from the attempt number, so links
//! cannot be guessed or enumerated (a solve's replay shows how it was solved; sharing it is
//! the owner's choice). The owner can delete the link ("stop sharing"); it then answers 404.
//! Unpassed attempts cannot be shared, and a link to one (should its verdict ever change)
//! answers 404 as well.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use diesel::prelude::*;
use serde::Deserialize;

use super::pages::{ctx_parts, error_response};
use super::replay::{ReplayQuery, load, page};
use crate::AppState;
use crate::auth::{Auth, random_bytes};
use crate::db::{DbConnection, now_ms, schema::replay_shares::dsl as rs};
use crate::error::ApiError;
use crate::ledger::hex;

/// The share id of attempt `attempt`, if it is shared.
pub fn share_of(conn: &mut DbConnection, attempt: i64) -> Result<Option<String>, ApiError> {
    Ok(rs::replay_shares
        .filter(rs::attempt_id.eq(attempt))
        .select(rs::share_id)
        .first(conn)
        .optional()?)
}

/// The attempt that share id `share` opens, if it exists and the attempt passed.
pub fn attempt_of(conn: &mut DbConnection, share: &str) -> Result<Option<i64>, ApiError> {
    use crate::db::schema::attempts::dsl as a;
    let Some(id) = rs::replay_shares
        .filter(rs::share_id.eq(share))
        .select(rs::attempt_id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let passed: Option<bool> =
        a::attempts.filter(a::id.eq(id)).select(a::passed).first(conn).optional()?;
    Ok((passed == Some(true)).then_some(id))
}

/// A form with nothing but its token.
#[derive(Deserialize)]
pub struct ShareForm {
    csrf: String,
}

/// `POST /attempts/{id}/share`: the owner creates the share link of a passed attempt
/// (idempotent), then back to the replay, where the link shows.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(id): Path<i64>,
    Form(f): Form<ShareForm>,
) -> Response {
    let Ok(auth) = auth else { return Redirect::to("/login").into_response() };
    if let Err(why) = super::check_form(&headers, &f.csrf) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let account = auth.account_id;
    let Ok(bytes) = random_bytes::<16>() else {
        return ApiError::internal("no OS randomness for a share id").into_response();
    };
    let fresh = hex(&bytes);
    let r = state
        .db(move |conn| {
            use crate::db::schema::attempts::dsl as a;
            let passed: Option<bool> = a::attempts
                .filter(a::id.eq(id).and(a::account_id.eq(account)))
                .select(a::passed)
                .first(conn)
                .optional()?;
            match passed {
                None => {
                    return Err(ApiError::not_found(format!("no attempt {id} on this account")));
                }
                Some(false) => {
                    return Err(ApiError::conflict(format!(
                        "attempt {id} did not pass: only passed attempts can be shared"
                    )));
                }
                Some(true) => {}
            }
            if share_of(conn, id)?.is_none() {
                diesel::insert_into(rs::replay_shares)
                    .values((
                        rs::share_id.eq(&fresh),
                        rs::attempt_id.eq(id),
                        rs::account_id.eq(account),
                        rs::created_ms.eq(now_ms()),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await;
    match r {
        Ok(()) => Redirect::to(&format!("/attempts/{id}/replay#share")).into_response(),
        Err(e) => (e.status, e.message).into_response(),
    }
}

/// `POST /attempts/{id}/unshare`: the owner deletes the share link; it answers 404 from now.
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(id): Path<i64>,
    Form(f): Form<ShareForm>,
) -> Response {
    let Ok(auth) = auth else { return Redirect::to("/login").into_response() };
    if let Err(why) = super::check_form(&headers, &f.csrf) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let account = auth.account_id;
    let r = state
        .db(move |conn| {
            Ok(diesel::delete(
                rs::replay_shares.filter(rs::attempt_id.eq(id).and(rs::account_id.eq(account))),
            )
            .execute(conn)?)
        })
        .await;
    match r {
        Ok(_) => Redirect::to(&format!("/attempts/{id}/replay#share")).into_response(),
        Err(e) => (e.status, e.message).into_response(),
    }
}

/// `GET /replays/{share}?episode=K&step=N`: a shared replay, for anyone holding the link.
pub async fn view(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(share): Path<String>,
    Query(q): Query<ReplayQuery>,
) -> Response {
    let (nav, set_cookie, _) = ctx_parts(&state, &headers, auth).await;
    let key = share.clone();
    let loaded = state
        .db(move |conn| {
            if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(None);
            }
            match attempt_of(conn, &key)? {
                Some(id) => load(conn, id, None),
                None => Ok(None),
            }
        })
        .await;
    match loaded {
        // The owner following their own link sees what a guest sees.
        Ok(Some(l)) => page(&state, nav, set_cookie, l, format!("/replays/{share}"), false, q),
        Ok(None) => error_response(
            nav,
            set_cookie,
            StatusCode::NOT_FOUND,
            "this share link does not exist, or its owner stopped sharing it",
        ),
        Err(e) => error_response(nav, set_cookie, e.status, e.message),
    }
}
