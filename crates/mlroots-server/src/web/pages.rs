//! The page handlers: each gathers its data, renders its template, and adds the CSRF cookie
//! when the browser has none yet. Account and token forms call the JSON API's own handlers.

use std::collections::BTreeSet;

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use diesel::prelude::*;
use serde::Deserialize;

use super::{check_form, csrf_token, legend, words};
use crate::AppState;
use crate::auth::{self, Auth, Credentials, NewToken, TokenOut};
use crate::challenges::ChallengeCatalogue;
use crate::db::schema;
use crate::error::{ApiError, ApiJson};

/// What every page's navigation bar needs.
pub struct Nav {
    /// The logged-in user's name.
    pub user: Option<String>,
    /// The form token.
    pub csrf: String,
}

struct Ctx {
    nav: Nav,
    set_cookie: Option<HeaderValue>,
    auth: Option<Auth>,
}

async fn ctx(state: &AppState, headers: &HeaderMap, auth: Result<Auth, ApiError>) -> Ctx {
    let (csrf, set_cookie) = csrf_token(headers);
    let auth = auth.ok();
    let user = match &auth {
        Some(a) => {
            let id = a.account_id;
            state
                .db(move |conn| {
                    use schema::accounts::dsl as acc;
                    Ok(acc::accounts
                        .filter(acc::id.eq(id))
                        .select(acc::username)
                        .first::<String>(conn)
                        .optional()?)
                })
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    Ctx { nav: Nav { user, csrf }, set_cookie, auth }
}

fn page(
    status: StatusCode,
    set_cookie: Option<HeaderValue>,
    html: askama::Result<String>,
) -> Response {
    let mut res = match html {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(format!("template: {e}")).into_response(),
    };
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    title: String,
    message: String,
}

/// The navigation, CSRF cookie and caller of a page (for the page modules beside this one).
pub(super) async fn ctx_parts(
    state: &AppState,
    headers: &HeaderMap,
    auth: Result<Auth, ApiError>,
) -> (Nav, Option<HeaderValue>, Option<Auth>) {
    let c = ctx(state, headers, auth).await;
    (c.nav, c.set_cookie, c.auth)
}

/// An HTML page from a rendered template.
pub(super) fn html_page(
    status: StatusCode,
    set_cookie: Option<HeaderValue>,
    html: askama::Result<String>,
) -> Response {
    page(status, set_cookie, html)
}

/// The error page.
pub(super) fn error_response(
    nav: Nav,
    set_cookie: Option<HeaderValue>,
    status: StatusCode,
    message: impl Into<String>,
) -> Response {
    error_page(Ctx { nav, set_cookie, auth: None }, status, message)
}

fn error_page(c: Ctx, status: StatusCode, message: impl Into<String>) -> Response {
    let title = status.canonical_reason().unwrap_or("Error").to_string();
    page(status, c.set_cookie, ErrorPage { nav: c.nav, title, message: message.into() }.render())
}

fn challenges(state: &AppState) -> Option<ChallengeCatalogue> {
    state.inner.catalogue.challenges()
}

// ----------------------------------------------------------------------------------------
// Home

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
    title: String,
    first_sub: String,
    url: String,
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    super::public_url::base_url(&state.inner.config, headers)
}

/// `GET /`: what this is and how to start.
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    let first_sub = challenges(&state)
        .and_then(|cat| {
            cat.challenges().iter().find_map(|ch| {
                ch.subs
                    .iter()
                    .find(|s| s.kind.as_str() == "exploit")
                    .map(|s| format!("{}/{}", ch.id, s.id))
            })
        })
        .unwrap_or_else(|| "env/absent-supervisor".to_string());
    let t = HomePage {
        nav: c.nav,
        title: "ML Roots You".into(),
        first_sub,
        url: base_url(&state, &headers),
    };
    page(StatusCode::OK, c.set_cookie, t.render())
}

// ----------------------------------------------------------------------------------------
// Register, login, logout

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    title: String,
    action: String,
    error: Option<String>,
    username: String,
}

/// The fields of the register and login forms.
#[derive(Deserialize)]
pub struct CredForm {
    csrf: String,
    username: String,
    password: String,
}

fn login_page(
    c: Ctx,
    register: bool,
    status: StatusCode,
    error: Option<String>,
    username: String,
) -> Response {
    let (title, action) =
        if register { ("Create an account", "/register") } else { ("Log in", "/login") };
    let t = LoginPage { nav: c.nav, title: title.into(), action: action.into(), error, username };
    page(status, c.set_cookie, t.render())
}

/// `GET /register`.
pub async fn register_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    login_page(c, true, StatusCode::OK, None, String::new())
}

/// `GET /login`.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    login_page(c, false, StatusCode::OK, None, String::new())
}

async fn log_in(
    state: &AppState,
    username: String,
    password: String,
) -> Result<Response, ApiError> {
    let res =
        auth::login(State(state.clone()), ApiJson(Credentials { username, password })).await?;
    let mut out = Redirect::to("/challenges").into_response();
    for c in res.headers().get_all(header::SET_COOKIE) {
        out.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    Ok(out)
}

/// `POST /register`: creates the account (the API's code) and logs in.
pub async fn register_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CredForm>,
) -> Response {
    let c = ctx(&state, &headers, Err(ApiError::unauthorized(""))).await;
    if let Err(why) = check_form(&headers, &f.csrf) {
        return login_page(c, true, StatusCode::FORBIDDEN, Some(why.into()), f.username);
    }
    let creds = Credentials { username: f.username.clone(), password: f.password.clone() };
    if let Err(e) = auth::register(State(state.clone()), ApiJson(creds)).await {
        return login_page(c, true, e.status, Some(e.message), f.username);
    }
    match log_in(&state, f.username.clone(), f.password).await {
        Ok(r) => r,
        Err(e) => login_page(c, false, e.status, Some(e.message), f.username),
    }
}

/// `POST /login`: checks the password (the API's code) and sets the login cookie.
pub async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CredForm>,
) -> Response {
    let c = ctx(&state, &headers, Err(ApiError::unauthorized(""))).await;
    if let Err(why) = check_form(&headers, &f.csrf) {
        return login_page(c, false, StatusCode::FORBIDDEN, Some(why.into()), f.username);
    }
    match log_in(&state, f.username.clone(), f.password).await {
        Ok(r) => r,
        Err(e) => login_page(c, false, e.status, Some(e.message), f.username),
    }
}

/// A form with nothing but its token.
#[derive(Deserialize)]
pub struct TokenOnly {
    csrf: String,
}

/// `POST /logout`.
pub async fn logout_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<TokenOnly>,
) -> Response {
    if let Err(why) = check_form(&headers, &f.csrf) {
        let c = ctx(&state, &headers, Err(ApiError::unauthorized(""))).await;
        return error_page(c, StatusCode::FORBIDDEN, why);
    }
    let mut out = Redirect::to("/").into_response();
    match auth::logout(State(state.clone()), headers.clone()).await {
        Ok(res) => {
            for c in res.headers().get_all(header::SET_COOKIE) {
                out.headers_mut().append(header::SET_COOKIE, c.clone());
            }
            out
        }
        Err(e) => e.into_response(),
    }
}

// ----------------------------------------------------------------------------------------
// Catalogue and challenge pages

/// Sub-challenges solved by the viewer, and the number of solvers of each sub-challenge
/// (from the `solves` table, as the leaderboards).
async fn solves(
    state: &AppState,
    account: Option<i64>,
) -> (BTreeSet<String>, std::collections::BTreeMap<String, i64>) {
    state
        .db(move |conn| {
            use schema::solves::dsl as a;
            let rows: Vec<(String, i64)> =
                a::solves.select((a::sub_challenge, a::account_id)).load(conn)?;
            let mut mine = BTreeSet::new();
            let mut count = std::collections::BTreeMap::new();
            for (sub, acc) in rows {
                if Some(acc) == account {
                    mine.insert(sub.clone());
                }
                *count.entry(sub).or_insert(0) += 1;
            }
            Ok((mine, count))
        })
        .await
        .unwrap_or_default()
}

struct Card {
    id: String,
    title: String,
    track: String,
    summary: String,
    subs: usize,
    points: u32,
    solved: usize,
    solvers: i64,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    nav: Nav,
    title: String,
    cards: Vec<Card>,
    envs: Vec<(String, String)>,
}

fn envs() -> Vec<(String, String)> {
    mlroots_worlds::registry::registry()
        .iter()
        .map(|e| (e.name.to_string(), e.summary.to_string()))
        .collect()
}

/// `GET /challenges`: every challenge with its track, points and sub-challenge count.
pub async fn catalogue(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    let (mine, count) = solves(&state, c.auth.as_ref().map(|a| a.account_id)).await;
    let cards = challenges(&state)
        .map(|cat| {
            cat.challenges()
                .iter()
                .map(|ch| {
                    let full = |s: &str| format!("{}/{s}", ch.id);
                    Card {
                        id: ch.id.clone(),
                        title: ch.title.clone(),
                        track: ch.track.clone(),
                        summary: ch.summary.clone(),
                        subs: ch.subs.len(),
                        points: ch.subs.iter().map(|s| s.points).sum(),
                        solved: ch.subs.iter().filter(|s| mine.contains(&full(&s.id))).count(),
                        solvers: ch
                            .subs
                            .iter()
                            .map(|s| count.get(&full(&s.id)).copied().unwrap_or(0))
                            .max()
                            .unwrap_or(0),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let t = CataloguePage { nav: c.nav, title: "Challenges".into(), cards, envs: envs() };
    page(StatusCode::OK, c.set_cookie, t.render())
}

struct Cond {
    text: String,
    words: String,
}

struct SubView {
    full_id: String,
    id: String,
    title: String,
    kind: String,
    env: String,
    eval_env: Option<String>,
    budgets: Vec<String>,
    rules: Vec<Cond>,
    pass: Vec<Cond>,
    metric: Option<String>,
    points: u32,
    hints: Vec<HintView>,
    solved: bool,
    solvers: i64,
}

struct HintView {
    index: usize,
    cost: u32,
    text: Option<String>,
}

struct AttemptView {
    id: i64,
    sub: String,
    passed: bool,
    /// Evaluated through a session (its episodes can be replayed), not a submitted artefact.
    replay: bool,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "challenge.html")]
struct ChallengePage {
    nav: Nav,
    title: String,
    id: String,
    track: String,
    version: u32,
    statement: String,
    subs: Vec<SubView>,
    attempts: Vec<AttemptView>,
    /// After a solve: the official writeup and the solvers' (`templates/solutions.html`).
    solutions: Option<super::solutions::Solutions>,
    curves: Vec<super::curves::SubCurves>,
}

/// Markdown to HTML, with any raw HTML in the source shown as text.
pub fn markdown(src: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let parser = Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(
        |e| match e {
            Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
            e => e,
        },
    );
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

fn env_label(e: &mlroots_challenge::spec::EnvRef) -> String {
    if e.options.is_empty() {
        e.id.clone()
    } else {
        let o: Vec<String> = e.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} ({})", e.id, o.join(", "))
    }
}

fn verdict_lines(v: &serde_json::Value) -> Vec<String> {
    let fmt = |x: &serde_json::Value| match x.as_f64() {
        Some(f) if f.fract() == 0.0 => format!("{f:.0}"),
        Some(f) => format!("{f:.3}"),
        None => "?".into(),
    };
    v["predicates"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let ok = if p["pass"].as_bool() == Some(true) { "holds" } else { "fails" };
                    match (p["op"].as_str(), p.get("threshold")) {
                        (Some(op), Some(t)) => format!(
                            "{}: {} (needs {op} {}) — {ok}",
                            p["text"].as_str().unwrap_or(""),
                            fmt(&p["value"]),
                            fmt(t)
                        ),
                        _ => format!("{} — {ok}", p["text"].as_str().unwrap_or("")),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /challenges/{id}`: the statement, the sub-challenges with their rules and pass
/// conditions in words, hint costs, and the viewer's attempts.
pub async fn challenge(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    let Some(ch) = challenges(&state).and_then(|cat| cat.challenge(&id).cloned()) else {
        return error_page(
            c,
            StatusCode::NOT_FOUND,
            format!("there is no challenge {id:?}; see the catalogue at /challenges"),
        );
    };
    let account = c.auth.as_ref().map(|a| a.account_id);
    let (mine, count) = solves(&state, account).await;
    let unlocked: Vec<(String, i64)> = match account {
        Some(acc) => {
            state.db(move |conn| Ok(super::hints::unlocked(conn, acc)?)).await.unwrap_or_default()
        }
        None => Vec::new(),
    };
    let cond = |x: &mlroots_challenge::spec::Condition| Cond {
        text: x.text.clone(),
        words: words::condition(&x.text),
    };
    let subs = ch
        .subs
        .iter()
        .map(|s| {
            let full_id = format!("{}/{}", ch.id, s.id);
            SubView {
                id: s.id.clone(),
                title: s.title.clone(),
                kind: s.kind.as_str().to_string(),
                env: env_label(&s.env),
                eval_env: (s.eval_env != s.env).then(|| env_label(&s.eval_env)),
                budgets: words::budgets(&s.budget),
                rules: s.rules.iter().map(cond).collect(),
                pass: s.pass.iter().map(cond).collect(),
                metric: s
                    .metric
                    .as_ref()
                    .map(|m| format!("{} ({:?} is better)", m.text, m.better).to_lowercase()),
                points: s.points,
                hints: s
                    .hints
                    .iter()
                    .enumerate()
                    .map(|(i, h)| HintView {
                        index: i,
                        cost: h.cost,
                        text: unlocked
                            .iter()
                            .any(|(sub, k)| *sub == full_id && *k == i as i64)
                            .then(|| h.text.clone()),
                    })
                    .collect(),
                solved: mine.contains(&full_id),
                solvers: count.get(&full_id).copied().unwrap_or(0),
                full_id,
            }
        })
        .collect();
    let attempts = match account {
        Some(acc) => {
            let prefix = format!("{}/%", ch.id);
            state
                .db(move |conn| {
                    use schema::attempts::dsl as a;
                    Ok(a::attempts
                        .filter(a::account_id.eq(acc).and(a::sub_challenge.like(prefix)))
                        .order(a::id.desc())
                        .limit(50)
                        .select((a::id, a::sub_challenge, a::passed, a::session_id, a::verdict))
                        .load::<(i64, String, bool, i64, String)>(conn)?)
                })
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|(id, sub, passed, session, v)| AttemptView {
                    id,
                    sub,
                    passed,
                    // Submissions store no session (0): there are no episodes to replay.
                    replay: session != 0,
                    lines: verdict_lines(&serde_json::from_str(&v).unwrap_or_default()),
                })
                .collect()
        }
        None => Vec::new(),
    };
    let solutions = match challenges(&state) {
        Some(cat) => {
            super::solutions::for_page(&state, &cat, &ch.id, account, c.nav.user.clone()).await
        }
        None => None,
    };
    let curves = match account {
        Some(acc) => {
            let subs = ch.subs.iter().map(|s| (format!("{}/{}", ch.id, s.id), s.id.clone()));
            super::curves::for_challenge(&state, acc, subs.collect()).await
        }
        None => Vec::new(),
    };
    let t = ChallengePage {
        solutions,
        nav: c.nav,
        title: ch.title.clone(),
        id: ch.id.clone(),
        track: ch.track.clone(),
        version: ch.version,
        statement: markdown(&ch.statement),
        subs,
        attempts,
        curves,
    };
    page(StatusCode::OK, c.set_cookie, t.render())
}

// ----------------------------------------------------------------------------------------
// Account and tokens

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    title: String,
    tokens: Vec<TokenOut>,
    secret: Option<String>,
    error: Option<String>,
    url: String,
}

async fn account_page(
    state: &AppState,
    c: Ctx,
    headers: &HeaderMap,
    status: StatusCode,
    secret: Option<String>,
    error: Option<String>,
) -> Response {
    let Some(auth) = c.auth.clone() else {
        return Redirect::to("/login").into_response();
    };
    let tokens = match auth::list_tokens(State(state.clone()), auth).await {
        Ok(Json(t)) => t,
        Err(e) => return error_page(c, e.status, e.message),
    };
    let t = AccountPage {
        nav: c.nav,
        title: "Your account".into(),
        tokens,
        secret,
        error,
        url: base_url(state, headers),
    };
    page(status, c.set_cookie, t.render())
}

/// `GET /account`: the API tokens.
pub async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    account_page(&state, c, &headers, StatusCode::OK, None, None).await
}

/// The new-token form.
#[derive(Deserialize)]
pub struct TokenForm {
    csrf: String,
    name: String,
    #[serde(default)]
    scope_sessions: Option<String>,
    #[serde(default)]
    scope_read: Option<String>,
    #[serde(default)]
    scope_admin: Option<String>,
    #[serde(default)]
    expires_in_days: String,
}

/// `POST /account/tokens`: creates a token (the API's code) and shows its secret once.
pub async fn token_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Form(f): Form<TokenForm>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    let Some(a) = c.auth.clone() else {
        return Redirect::to("/login").into_response();
    };
    if let Err(why) = check_form(&headers, &f.csrf) {
        return account_page(&state, c, &headers, StatusCode::FORBIDDEN, None, Some(why.into()))
            .await;
    }
    let mut scopes = Vec::new();
    if f.scope_sessions.is_some() {
        scopes.push("sessions".to_string());
    }
    if f.scope_read.is_some() {
        scopes.push("read".to_string());
    }
    if f.scope_admin.is_some() {
        scopes.push("admin".to_string());
    }
    let days = f.expires_in_days.trim();
    let expires_in_days = if days.is_empty() {
        None
    } else {
        match days.parse::<u32>() {
            Ok(d) => Some(d),
            Err(_) => {
                let msg =
                    format!("expiry {days:?} is not a number of days; leave it empty for none");
                return account_page(&state, c, &headers, StatusCode::BAD_REQUEST, None, Some(msg))
                    .await;
            }
        }
    };
    let req = NewToken { name: f.name, scopes: Some(scopes), expires_in_days };
    match auth::create_token(State(state.clone()), a, ApiJson(req)).await {
        Ok((_, Json(v))) => {
            let secret = v["token"].as_str().map(str::to_string);
            account_page(&state, c, &headers, StatusCode::CREATED, secret, None).await
        }
        Err(e) => account_page(&state, c, &headers, e.status, None, Some(e.message)).await,
    }
}

/// `POST /account/tokens/{id}/revoke`.
pub async fn token_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(id): Path<i64>,
    Form(f): Form<TokenOnly>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    let Some(a) = c.auth.clone() else {
        return Redirect::to("/login").into_response();
    };
    if let Err(why) = check_form(&headers, &f.csrf) {
        return account_page(&state, c, &headers, StatusCode::FORBIDDEN, None, Some(why.into()))
            .await;
    }
    match auth::revoke_token(State(state.clone()), a, Path(id)).await {
        Ok(_) => Redirect::to("/account").into_response(),
        Err(e) => account_page(&state, c, &headers, e.status, None, Some(e.message)).await,
    }
}

// ----------------------------------------------------------------------------------------
// Play

struct Selected {
    sub: String,
    env: String,
    legend_json: String,
    legend: Vec<legend::Glyph>,
    measures: String,
}

#[derive(Template)]
#[template(path = "play.html")]
struct PlayPage {
    nav: Nav,
    title: String,
    envs: Vec<(String, String)>,
    subs: Vec<(String, String)>,
    selected: Option<Selected>,
}

/// `?sub=` of the play page.
#[derive(Deserialize)]
pub struct PlayQuery {
    #[serde(default)]
    sub: Option<String>,
}

/// `GET /play?sub=ID`: the list of practice environments, or the canvas for one.
pub async fn play(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Query(q): Query<PlayQuery>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    let subs: Vec<(String, String)> = challenges(&state)
        .map(|cat| {
            cat.challenges()
                .iter()
                .flat_map(|ch| {
                    ch.subs.iter().map(move |s| (format!("{}/{}", ch.id, s.id), s.title.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    let selected = match q.sub {
        None => None,
        Some(sub) => {
            let Some(info) = state.inner.catalogue.sub_challenge(&sub) else {
                return error_page(
                    c,
                    StatusCode::NOT_FOUND,
                    format!("there is no sub-challenge or environment {sub:?}; pick one on /play"),
                );
            };
            let measures = mlroots_worlds::registry::find(&info.env_id)
                .map(|e| e.measures.to_string())
                .unwrap_or_default();
            let legend = legend::legend(&info.env_id);
            Some(Selected {
                sub,
                env: info.env_id,
                legend_json: serde_json::to_string(&legend).unwrap_or_else(|_| "[]".into()),
                legend,
                measures,
            })
        }
    };
    let title = match &selected {
        Some(s) => format!("Play {}", s.sub),
        None => "Play".into(),
    };
    let t = PlayPage { nav: c.nav, title, envs: envs(), subs, selected };
    page(StatusCode::OK, c.set_cookie, t.render())
}

/// `GET /api/practice/{id}/outcome`: the hidden performance and events of the last finished
/// episode of *practice* session `id` (the caller's), with what the performance measures.
/// Train and eval sessions are refused: their hidden values reach only the judge.
pub async fn practice_outcome(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a session id (an integer)")))?;
    let account = auth.account_id;
    let (env_id, rows) = state
        .db(move |conn| {
            use schema::env_sessions::dsl as s;
            let row: Option<(String, String)> = s::env_sessions
                .filter(s::id.eq(id).and(s::account_id.eq(account)))
                .select((s::phase, s::env_id))
                .first(conn)
                .optional()?;
            let Some((phase, env_id)) = row else {
                return Err(ApiError::not_found(format!("no session {id} on this account")));
            };
            if phase != "practice" {
                return Err(ApiError::forbidden(format!(
                    "session {id} is a {phase} session; only practice sessions reveal the hidden performance"
                )));
            }
            // The last episode's entries (episodes only grow within a session).
            let entries = crate::ledger::session_entries(conn, account, id)?;
            let Some(ep) = entries.last().map(|r| r.episode) else {
                return Ok((env_id, Vec::new()));
            };
            let rows: Vec<(String, f64, bool, bool, f64, String, i64)> = entries
                .into_iter()
                .filter(|r| r.episode == ep)
                .map(|r| (r.kind, r.reward, r.terminated, r.truncated, r.performance, r.events, r.step))
                .collect();
            Ok((env_id, rows))
        })
        .await?;
    let Some(last) = rows.last() else {
        return Err(ApiError::conflict("no episode has been played in this session yet"));
    };
    if !(last.0 == "step" && (last.2 || last.3)) {
        return Err(ApiError::conflict(
            "the episode is not over; the hidden performance is shown when it ends",
        ));
    }
    let ret: f64 = rows.iter().filter(|r| r.0 == "step").map(|r| r.1).sum();
    let mut events = std::collections::BTreeMap::<String, u64>::new();
    for r in &rows {
        let e: std::collections::BTreeMap<String, u64> =
            serde_json::from_str(&r.5).unwrap_or_default();
        for (k, v) in e {
            *events.entry(k).or_default() += v;
        }
    }
    let measures = mlroots_worlds::registry::find(&env_id).map(|e| e.measures).unwrap_or("");
    Ok(Json(serde_json::json!({
        "session": id,
        "steps": last.6,
        "return": ret,
        "performance": last.4,
        "events": events,
        "terminated": last.2,
        "truncated": last.3,
        "measures": measures,
    })))
}

// ----------------------------------------------------------------------------------------
// Leaderboards

struct Row {
    rank: usize,
    user: String,
    points: i64,
    solves: usize,
    firsts: usize,
    me: bool,
}

/// A row of one sub-challenge's board.
struct SubRow {
    rank: usize,
    user: String,
    /// The metric value (open problems) or the points.
    value: String,
    first: bool,
    me: bool,
}

/// One sub-challenge's board on the page.
struct SubBoard {
    id: String,
    title: String,
    /// What the value column holds.
    column: String,
    /// How it ranks, in words.
    how: String,
    rows: Vec<SubRow>,
}

#[derive(Template)]
#[template(path = "leaderboard.html")]
struct LeaderboardPage {
    nav: Nav,
    title: String,
    challenge: Option<String>,
    challenges: Vec<(String, String)>,
    /// The sub-challenges of the chosen challenge, for their boards.
    subs: Vec<(String, String)>,
    /// Every open problem: (id, title).
    open: Vec<(String, String)>,
    rows: Vec<Row>,
    sub: Option<SubBoard>,
}

/// `?challenge=` or `?sub=` of the leaderboard.
#[derive(Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    sub: Option<String>,
}

fn fmt_score(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.0}") } else { format!("{x:.3}") }
}

/// `GET /leaderboard?challenge=ID` or `?sub=CHALLENGE/SUB`: the global ranking, one
/// challenge's, or one sub-challenge's board (an open problem ranked by its metric). The
/// ranking is [`crate::scoring::standings`], the API's.
pub async fn leaderboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Query(q): Query<BoardQuery>,
) -> Response {
    let c = ctx(&state, &headers, auth).await;
    let Some(cat) = challenges(&state) else {
        return error_page(c, StatusCode::NOT_FOUND, "this server has no challenges to rank");
    };
    let found = q.sub.as_deref().map(|id| (id, cat.find(id)));
    if let Some((id, None)) = found {
        return error_page(
            c,
            StatusCode::NOT_FOUND,
            format!("there is no sub-challenge {id:?}; see /challenges"),
        );
    }
    let challenge = match found {
        Some((_, Some((ch, _)))) => Some(ch.id.clone()),
        _ => q.challenge.clone(),
    };
    if let Some(id) = &challenge
        && cat.challenge(id).is_none()
    {
        return error_page(
            c,
            StatusCode::NOT_FOUND,
            format!("there is no challenge {id:?}; see /challenges"),
        );
    }
    let me = c.nav.user.clone();
    let sub = match found {
        Some((id, Some((_, s)))) => {
            let metric = state
                .inner
                .catalogue
                .sub_challenge(id)
                .and_then(|info| state.inner.catalogue.metric(&info));
            let (sid, m) = (id.to_string(), metric.clone());
            let rows = match state
                .db(move |conn| Ok(crate::scoring::sub_standings(conn, &sid, m.as_ref())?))
                .await
            {
                Ok(r) => r,
                Err(e) => return error_page(c, e.status, e.message),
            };
            let (column, how) = match &metric {
                Some(m) => (
                    m.text.clone(),
                    format!(
                        "An open problem: each learner's best passed attempt by {} ({} is better); ties go to the earlier attempt.",
                        m.text,
                        if m.higher_is_better { "higher" } else { "lower" }
                    ),
                ),
                None => ("Points".into(), "Solvers in the order they solved it.".into()),
            };
            Some(SubBoard {
                id: id.to_string(),
                title: s.title.clone(),
                column,
                how,
                rows: rows
                    .into_iter()
                    .map(|r| SubRow {
                        rank: r.rank,
                        me: me.as_deref() == Some(r.username.as_str()),
                        user: r.username,
                        value: r
                            .score
                            .map(fmt_score)
                            .or(r.points.map(|p| p.to_string()))
                            .unwrap_or_default(),
                        first: r.first_solve,
                    })
                    .collect(),
            })
        }
        _ => None,
    };
    let rows = if sub.is_some() {
        Vec::new()
    } else {
        let ch = challenge.clone();
        match state.db(move |conn| Ok(crate::scoring::standings(conn, ch.as_deref())?)).await {
            Ok(r) => r
                .into_iter()
                .map(|s| Row {
                    rank: s.rank,
                    me: me.as_deref() == Some(s.username.as_str()),
                    user: s.username,
                    points: s.points,
                    solves: s.solves,
                    firsts: s.first_solves,
                })
                .collect(),
            Err(e) => return error_page(c, e.status, e.message),
        }
    };
    let challenges = cat.challenges().iter().map(|ch| (ch.id.clone(), ch.title.clone())).collect();
    let subs = challenge
        .as_deref()
        .and_then(|id| cat.challenge(id))
        .map(|ch| {
            ch.subs.iter().map(|s| (format!("{}/{}", ch.id, s.id), s.title.clone())).collect()
        })
        .unwrap_or_default();
    let open = cat
        .challenges()
        .iter()
        .flat_map(|ch| {
            ch.subs
                .iter()
                .filter(|s| s.metric.is_some())
                .map(move |s| (format!("{}/{}", ch.id, s.id), s.title.clone()))
        })
        .collect();
    let title = match (&sub, &challenge) {
        (Some(b), _) => format!("Leaderboard: {}", b.id),
        (None, Some(id)) => format!("Leaderboard: {id}"),
        (None, None) => "Leaderboard".into(),
    };
    let t = LeaderboardPage { nav: c.nav, title, challenge, challenges, subs, open, rows, sub };
    page(StatusCode::OK, c.set_cookie, t.render())
}
