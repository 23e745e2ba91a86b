//! Solutions after a solve: the official writeup of a challenge and the solvers' own
//! writeups, never shown to anyone who has not solved.
//!
//! Who sees what: the official writeup (`<challenge>/solution/writeup.md`, held by
//! [`crate::ChallengeCatalogue::official_writeup`]) goes to an account with a solve of any
//! sub-challenge of that challenge; a solver's writeup of a sub-challenge goes to accounts
//! that solved that same sub-challenge. Only solvers may write one (one per account and
//! sub-challenge, at most [`MAX_WRITEUP_BYTES`]; writing again replaces it). The table is
//! `writeups` (migration `2026-12-06-060000_writeups`); "solved" means a row of `solves`.
//!
//! Writeups are Markdown from learners, so [`markdown_untrusted`] renders them with raw HTML
//! shown as text (as statements are), images reduced to their alt text and links kept only
//! for `http`, `https`, `mailto` and same-site targets.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Auth;
use crate::db::{DbConnection, now_ms, schema};
use crate::error::{ApiError, ApiJson};

/// The largest writeup, in bytes of Markdown.
pub const MAX_WRITEUP_BYTES: usize = 20_000;

/// Learner Markdown to HTML: raw HTML as text, no images, links only to safe places.
pub fn markdown_untrusted(src: &str) -> String {
    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};
    let safe = |url: &str| {
        let u = url.trim().to_ascii_lowercase();
        ["http://", "https://", "mailto:"].iter().any(|p| u.starts_with(p))
            || (u.starts_with('/') && !u.starts_with("//"))
            || u.starts_with('#')
    };
    let parser = Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
        .filter_map(|e| match e {
            Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                let dest_url = if safe(&dest_url) { dest_url } else { CowStr::from("#") };
                Some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
            }
            e => Some(e),
        });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// The sub-challenges `account` solved (full ids).
pub fn solved(conn: &mut DbConnection, account: i64) -> QueryResult<BTreeSet<String>> {
    use schema::solves::dsl as s;
    Ok(s::solves
        .filter(s::account_id.eq(account))
        .select(s::sub_challenge)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// The sub-challenges of `challenge` that `account` solved (sorted) and their writeups: what
/// the solutions page and `GET /api/challenges/{challenge}/writeups` show.
pub fn of_challenge(
    conn: &mut DbConnection,
    account: i64,
    challenge: &str,
) -> QueryResult<(Vec<String>, Vec<Writeup>)> {
    let prefix = format!("{challenge}/");
    let mine: Vec<String> =
        solved(conn, account)?.into_iter().filter(|s| s.starts_with(&prefix)).collect();
    let writeups = for_subs(conn, &mine)?;
    Ok((mine, writeups))
}

/// One solver's writeup.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Writeup {
    /// The sub-challenge it solves.
    pub sub_challenge: String,
    /// Who wrote it.
    pub username: String,
    /// The Markdown.
    pub body: String,
    /// First written (ms since the epoch).
    pub created_ms: i64,
    /// Last replaced (ms since the epoch).
    pub updated_ms: i64,
}

/// The writeups of the sub-challenges in `subs`, oldest first.
pub fn for_subs(conn: &mut DbConnection, subs: &[String]) -> QueryResult<Vec<Writeup>> {
    use schema::accounts::dsl as a;
    use schema::writeups::dsl as w;
    if subs.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String, i64, i64)> = w::writeups
        .inner_join(a::accounts.on(a::id.eq(w::account_id)))
        .filter(w::sub_challenge.eq_any(subs))
        .order((w::sub_challenge.asc(), w::created_ms.asc(), a::username.asc()))
        .select((w::sub_challenge, a::username, w::body, w::created_ms, w::updated_ms))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(sub_challenge, username, body, created_ms, updated_ms)| Writeup {
            sub_challenge,
            username,
            body,
            created_ms,
            updated_ms,
        })
        .collect())
}

/// Checks a writeup's text: not blank, at most [`MAX_WRITEUP_BYTES`].
pub fn check_body(body: &str) -> Result<(), ApiError> {
    if body.trim().is_empty() {
        return Err(ApiError::bad_request("the writeup is empty; write how you solved it"));
    }
    if body.len() > MAX_WRITEUP_BYTES {
        return Err(ApiError::bad_request(format!(
            "the writeup is {} bytes; the limit is {MAX_WRITEUP_BYTES}: shorten it",
            body.len()
        )));
    }
    Ok(())
}

/// Stores `account`'s writeup of `sub` (replacing an earlier one) if the account solved it.
/// Returns whether it replaced one.
pub fn save(
    conn: &mut DbConnection,
    account: i64,
    sub: &str,
    body: &str,
) -> Result<bool, ApiError> {
    check_body(body)?;
    crate::db::write_tx::<_, ApiError, _>(conn, |conn| {
        if !solved(conn, account)?.contains(sub) {
            return Err(ApiError::forbidden(format!(
                "only solvers of {sub} can write it up: solve it first"
            )));
        }
        use schema::writeups::dsl as w;
        let mine = w::writeups.filter(w::account_id.eq(account).and(w::sub_challenge.eq(sub)));
        let now = now_ms();
        let updated =
            diesel::update(mine).set((w::body.eq(body), w::updated_ms.eq(now))).execute(conn)?;
        if updated == 0 {
            diesel::insert_into(w::writeups)
                .values((
                    w::account_id.eq(account),
                    w::sub_challenge.eq(sub),
                    w::body.eq(body),
                    w::created_ms.eq(now),
                    w::updated_ms.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(updated > 0)
    })
}

/// `POST /api/writeups` body.
#[derive(Deserialize)]
pub struct WriteupReq {
    /// The sub-challenge (`C03-safety-gridworlds/AS-X`).
    pub sub_challenge: String,
    /// The Markdown.
    pub body: String,
}

/// `POST /api/writeups`: writes (or replaces) the caller's writeup of a solved
/// sub-challenge. 201 when new, 200 when replaced; 403 before a solve.
pub async fn submit(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<WriteupReq>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    auth.require("sessions")?;
    if state.inner.catalogue.sub_challenge(&req.sub_challenge).is_none() {
        return Err(ApiError::not_found(format!(
            "no sub-challenge {:?} in the catalogue",
            req.sub_challenge
        )));
    }
    let account = auth.account_id;
    let (sub, body) = (req.sub_challenge.clone(), req.body);
    let bytes = body.len();
    let replaced = state.db(move |conn| save(conn, account, &sub, &body)).await?;
    let status = if replaced { StatusCode::OK } else { StatusCode::CREATED };
    Ok((
        status,
        Json(serde_json::json!({
            "sub_challenge": req.sub_challenge, "bytes": bytes, "replaced": replaced,
        })),
    ))
}

/// `GET /api/challenges/{challenge}/writeups`: the official writeup and the solvers'
/// writeups of the sub-challenges the caller solved; 403 before any solve of the challenge.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(challenge): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("read").or_else(|_| auth.require("sessions"))?;
    let cat = state.inner.catalogue.challenges();
    let Some(ch) = cat.as_ref().and_then(|c| c.challenge(&challenge)) else {
        return Err(ApiError::not_found(format!(
            "no challenge {challenge:?} in the catalogue; see /challenges"
        )));
    };
    let official = cat.as_ref().and_then(|c| c.official_writeup(&ch.id)).map(str::to_string);
    let (account, id) = (auth.account_id, ch.id.clone());
    let (mine, writeups) = state.db(move |conn| Ok(of_challenge(conn, account, &id)?)).await?;
    if mine.is_empty() {
        return Err(ApiError::forbidden(format!(
            "solutions of {challenge} are shown after you solve one of its sub-challenges"
        )));
    }
    Ok(Json(serde_json::json!({
        "challenge": ch.id,
        "solved": mine,
        "official": official,
        "writeups": writeups,
    })))
}
