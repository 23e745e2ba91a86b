//! The admin page (`GET /admin`, admins only; anyone else gets 404 or 403): the accounts
//! with their role, creation date and solves, the latest evaluation attempts with their
//! verdicts, and a "reload catalogue" form (`POST /admin/reload`, CSRF-checked) that calls
//! the same reload as `POST /api/admin/reload` ([`crate::admin::reload_catalogue`]).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use diesel::prelude::*;
use serde::Deserialize;

use super::pages::{Nav, ctx_parts, error_response, html_page};
use crate::AppState;
use crate::auth::Auth;
use crate::db::schema;
use crate::error::ApiError;

/// The latest attempts the page lists.
pub const RECENT_ATTEMPTS: i64 = 50;

struct UserRow {
    id: i64,
    name: String,
    admin: bool,
    created: String,
    solves: i64,
}

struct AttemptRow {
    id: i64,
    user: String,
    sub: String,
    passed: bool,
    voided: bool,
    score: Option<String>,
    at: String,
}

/// What a reload did, for the page.
struct ReloadView {
    ok: bool,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Nav,
    title: String,
    users: Vec<UserRow>,
    attempts: Vec<AttemptRow>,
    challenges: Vec<(String, usize)>,
    reload: Option<ReloadView>,
}

/// A UTC date and time (`2026-12-06 07:05`) from unix milliseconds.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

/// The caller if it is an admin, else the refusal page (404 for anonymous visitors, 403
/// for other accounts).
async fn admin_only(
    state: &AppState,
    headers: &HeaderMap,
    auth: Result<Auth, ApiError>,
) -> Result<(Nav, Option<axum::http::HeaderValue>, Auth), Response> {
    let (nav, set_cookie, auth) = ctx_parts(state, headers, auth).await;
    match auth {
        Some(a) if a.is_admin => Ok((nav, set_cookie, a)),
        Some(_) => Err(error_response(
            nav,
            set_cookie,
            StatusCode::FORBIDDEN,
            "the admin page is for admin accounts",
        )),
        None => Err(error_response(nav, set_cookie, StatusCode::NOT_FOUND, "no such page")),
    }
}

async fn render(
    state: &AppState,
    nav: Nav,
    set_cookie: Option<axum::http::HeaderValue>,
    status: StatusCode,
    reload: Option<ReloadView>,
) -> Response {
    let loaded = state
        .db(|conn| {
            use schema::accounts::dsl as a;
            use schema::attempts::dsl as t;
            use schema::solves::dsl as s;
            let accounts: Vec<(i64, String, bool, i64)> = a::accounts
                .order(a::id.asc())
                .select((a::id, a::username, a::is_admin, a::created_ms))
                .load(conn)?;
            let solvers: Vec<i64> = s::solves.select(s::account_id).load(conn)?;
            let attempts: Vec<(i64, i64, String, bool, String, i64)> = t::attempts
                .order(t::id.desc())
                .limit(RECENT_ATTEMPTS)
                .select((
                    t::id,
                    t::account_id,
                    t::sub_challenge,
                    t::passed,
                    t::verdict,
                    t::created_ms,
                ))
                .load(conn)?;
            Ok((accounts, solvers, attempts))
        })
        .await;
    let (accounts, solvers, attempts) = match loaded {
        Ok(x) => x,
        Err(e) => return error_response(nav, set_cookie, e.status, e.message),
    };
    let names: std::collections::BTreeMap<i64, String> =
        accounts.iter().map(|(id, n, ..)| (*id, n.clone())).collect();
    let users = accounts
        .into_iter()
        .map(|(id, name, admin, created)| UserRow {
            id,
            name,
            admin,
            created: utc(created),
            solves: solvers.iter().filter(|&&s| s == id).count() as i64,
        })
        .collect();
    let attempts = attempts
        .into_iter()
        .map(|(id, acc, sub, passed, verdict, at)| {
            let v: serde_json::Value = serde_json::from_str(&verdict).unwrap_or_default();
            AttemptRow {
                id,
                user: names.get(&acc).cloned().unwrap_or_default(),
                sub,
                passed,
                voided: v["voided"].as_bool() == Some(true),
                score: v["score"].as_f64().map(|x| format!("{x:.3}")),
                at: utc(at),
            }
        })
        .collect();
    let challenges = state
        .inner
        .catalogue
        .challenges()
        .map(|c| c.challenges().iter().map(|ch| (ch.id.clone(), ch.subs.len())).collect())
        .unwrap_or_default();
    let t = AdminPage { nav, title: "Admin".into(), users, attempts, challenges, reload };
    html_page(status, set_cookie, t.render())
}

/// `GET /admin`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
) -> Response {
    match admin_only(&state, &headers, auth).await {
        Ok((nav, set_cookie, _)) => render(&state, nav, set_cookie, StatusCode::OK, None).await,
        Err(refused) => refused,
    }
}

/// The reload form.
#[derive(Deserialize)]
pub struct ReloadForm {
    csrf: String,
}

/// `POST /admin/reload`: reloads the catalogue, then the admin page with what happened
/// (every lint problem when it was refused; the old catalogue keeps serving).
pub async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Form(f): Form<ReloadForm>,
) -> Response {
    if auth.is_err() {
        return Redirect::to("/login").into_response();
    }
    let (nav, set_cookie, admin) = match admin_only(&state, &headers, auth).await {
        Ok(x) => x,
        Err(refused) => return refused,
    };
    if let Err(why) = super::check_form(&headers, &f.csrf) {
        return error_response(nav, set_cookie, StatusCode::FORBIDDEN, why);
    }
    let (status, view) = match crate::admin::reload_catalogue(&state).await {
        Ok(r) => {
            tracing::info!(by = admin.account_id, challenges = ?r.challenges, "catalogue reloaded from the admin page");
            let mut lines = vec![format!(
                "Reloaded: {} challenge(s), {} sub-challenge(s).",
                r.challenges.len(),
                r.sub_challenges
            )];
            lines.extend(r.challenges);
            (StatusCode::OK, ReloadView { ok: true, lines })
        }
        Err(e) => {
            tracing::warn!(by = admin.account_id, why = %e.message, "catalogue reload refused");
            (
                e.status,
                ReloadView { ok: false, lines: e.message.lines().map(String::from).collect() },
            )
        }
    };
    render(&state, nav, set_cookie, status, Some(view)).await
}
