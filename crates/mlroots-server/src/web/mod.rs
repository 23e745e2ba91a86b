//! The website: server-rendered pages over the same accounts, sessions and catalogue as the
//! JSON API, usable without JavaScript except for the play page's canvas.
//!
//! Pages are askama templates (`templates/`, compiled into the binary and type-checked);
//! the scripts (`static/play.js` and `static/replay.js`, which share the canvas renderer
//! `static/board.js`) and the style sheet are embedded too and served from `/static/`.
//! Forms post to the routes here, which call the API's own account and token
//! functions ([`crate::auth`]), so there is one account code path. Forms are protected from
//! cross-site posts three ways: the login cookie is `SameSite=Lax`, a post whose `Origin` is
//! another site is refused, and every form carries a token that must equal the
//! `mlroots_csrf` cookie (double submit). [`security_headers`] adds the CSP (scripts only
//! from this origin, no inline script), `frame-ancestors 'none'` and friends to every
//! response. [`practice_outcome`] is the one route that reveals a hidden performance, and
//! only for a finished episode of a *practice* session.

pub mod admin;
pub mod curves;
pub mod hints;
pub mod legend;
mod pages;
pub mod public_url;
pub mod replay;
pub mod share;
pub mod solutions;
mod svg;
mod words;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod admin_tests;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::AppState;
use crate::auth::random_bytes;
use crate::ledger::hex;

pub use pages::practice_outcome;

/// The CSRF cookie's name.
pub const CSRF_COOKIE: &str = "mlroots_csrf";

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The web pages' routes (merged into [`crate::app`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/register", get(pages::register_form).post(pages::register_submit))
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/logout", post(pages::logout_submit))
        .route("/challenges", get(pages::catalogue))
        .route("/challenges/{id}", get(pages::challenge))
        .route("/challenges/{id}/hints", post(hints::unlock))
        .route("/account", get(pages::account))
        .route("/account/tokens", post(pages::token_create))
        .route("/account/tokens/{id}/revoke", post(pages::token_revoke))
        .route("/play", get(pages::play))
        .route("/leaderboard", get(pages::leaderboard))
        .route("/attempts/{id}/replay", get(replay::replay))
        .route("/api/practice/{id}/outcome", get(practice_outcome))
        .route("/challenges/{id}/writeups", post(solutions::submit))
        .route("/admin", get(admin::page))
        .route("/admin/reload", post(admin::reload))
        .route("/static/{file}", get(static_file))
        .route("/attempts/{id}/share", post(share::create))
        .route("/attempts/{id}/unshare", post(share::delete))
        .route("/replays/{share}", get(share::view))
}

/// Adds the security headers to a response (every route, pages and API alike).
pub async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    res
}

const PLAY_JS: &str = include_str!("../../static/play.js");
const BOARD_JS: &str = include_str!("../../static/board.js");
const REPLAY_JS: &str = include_str!("../../static/replay.js");
const STYLE_CSS: &str = include_str!("../../static/style.css");

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "play.js" => (PLAY_JS, "text/javascript; charset=utf-8"),
        "board.js" => (BOARD_JS, "text/javascript; charset=utf-8"),
        "replay.js" => (REPLAY_JS, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE_CSS, "text/css; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such static file").into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=300")], body)
        .into_response()
}

/// The CSRF token of this browser: the cookie's value if it has a well-formed one, else a
/// new one with the `Set-Cookie` header that stores it.
pub fn csrf_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(v) = cookie(headers, CSRF_COOKIE)
        && v.len() == 64
        && v.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return (v, None);
    }
    let token = random_bytes::<32>().map(|b| hex(&b)).unwrap_or_default();
    let set = HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=31536000"
    ))
    .ok();
    (token, set)
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';').map(str::trim).find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        })
        .map(str::to_string)
}

/// Checks a form post: same-site `Origin` (when the browser sends one) and the form token
/// equal to the CSRF cookie.
pub fn check_form(headers: &HeaderMap, form_token: &str) -> Result<(), &'static str> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://").map(|(_, rest)| rest.trim_end_matches('/')))
            .unwrap_or("");
        if host.is_empty() || origin_host != host {
            return Err("this form was posted from another site; reload the page and try again");
        }
    }
    match cookie(headers, CSRF_COOKIE) {
        Some(c) if !form_token.is_empty() && c.len() == form_token.len() && c == form_token => {
            Ok(())
        }
        _ => Err("the form's security token is missing or stale; reload the page and try again"),
    }
}
