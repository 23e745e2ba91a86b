//! Accounts, login sessions and API tokens, and the [`Auth`] extractor every protected route
//! takes.
//!
//! Passwords are Argon2id PHC strings (hashed on a blocking thread: it is slow on purpose).
//! Login sets an `HttpOnly; SameSite=Lax` cookie holding 32 random bytes; API tokens are
//! `mlr_` + 32 random bytes in hex, shown once. Only SHA-256 digests of cookies and tokens
//! are stored. The first account to register is the admin. Cookie-authenticated requests
//! that change state are refused when their `Origin` is another site (CSRF); bearer tokens
//! are not sent by browsers on their own, so they are exempt. Resolved credentials are cached
//! for a few seconds so that a step request does not query the database to authenticate;
//! logout and revocation evict the cache at once.

use std::collections::BTreeMap;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::db::{DbConnection, now_ms, schema};
use crate::error::{ApiError, ApiJson};
use crate::ledger::hex;

/// The login cookie's name.
pub const COOKIE: &str = "mlroots_session";
/// The prefix of every API token.
pub const TOKEN_PREFIX: &str = "mlr_";
/// The scopes a token can carry (`admin`: only an admin account's tokens, for the admin
/// routes such as `POST /api/admin/reload`).
pub const SCOPES: &[&str] = &["sessions", "read", "admin"];
const LOGIN_DAYS: i64 = 30;
const CACHE_MS: i64 = 5_000;
const LAST_USE_EVERY_MS: i64 = 60_000;

/// How a request authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The login cookie (a browser).
    Cookie,
    /// An API token (a program), by its id.
    Token(i64),
}

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq)]
pub struct Auth {
    /// The account.
    pub account_id: i64,
    /// Whether the account is an admin.
    pub is_admin: bool,
    /// How it authenticated.
    pub via: Via,
    /// The token's scopes; every scope for a cookie.
    pub scopes: Vec<String>,
}

impl Auth {
    /// Refuses a token without `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.via == Via::Cookie || self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token lacks the {scope:?} scope; create a token with it"
            )))
        }
    }
}

/// A cached credential.
#[derive(Clone, Debug)]
pub struct Cached {
    auth: Auth,
    expires_ms: Option<i64>,
    cached_until: i64,
    last_use_written: i64,
}

/// The credential cache, keyed by the SHA-256 of the secret.
pub type AuthCache = std::sync::Mutex<BTreeMap<String, Cached>>;

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| ApiError::internal(format!("no OS randomness: {e}")))?;
    Ok(b)
}

/// The stored form of a secret.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt: [u8; 16] = random_bytes()?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';').map(str::trim).find_map(|kv| kv.strip_prefix(COOKIE)?.strip_prefix('='))
        })
        .map(str::to_string)
}

fn bearer(headers: &HeaderMap) -> Option<Result<String, ApiError>> {
    let v = headers.get(header::AUTHORIZATION)?;
    let bad = || ApiError::unauthorized("the Authorization header must be `Bearer mlr_...`");
    Some(
        v.to_str()
            .ok()
            .and_then(|s| s.strip_prefix("Bearer "))
            .map(|s| s.trim().to_string())
            .ok_or_else(bad),
    )
}

/// Refuses a cookie-authenticated, state-changing request from another site.
fn check_origin(parts: &Parts) -> Result<(), ApiError> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let Some(origin) = parts.headers.get(header::ORIGIN) else { return Ok(()) };
    let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://").map(|(_, rest)| rest.trim_end_matches('/')))
        .unwrap_or("");
    if !host.is_empty() && origin_host == host {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "cross-site request refused: the Origin does not match this server (use a token for programs)",
        ))
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let (secret, is_token) = match bearer(&parts.headers) {
            Some(t) => (t?, true),
            None => match cookie_value(&parts.headers) {
                Some(c) => (c, false),
                None => {
                    return Err(ApiError::unauthorized(
                        "log in (POST /api/login) or send `Authorization: Bearer mlr_...`",
                    ));
                }
            },
        };
        if !is_token {
            check_origin(parts)?;
        }
        let key = digest(&secret);
        let now = now_ms();
        let cached = state.inner.auth_cache.lock().ok().and_then(|c| c.get(&key).cloned());
        if let Some(c) = cached
            && c.cached_until > now
            && c.expires_ms.is_none_or(|e| e > now)
        {
            if let Via::Token(id) = c.auth.via
                && now - c.last_use_written > LAST_USE_EVERY_MS
            {
                touch_token(state, &key, id, now).await?;
            }
            return Ok(c.auth);
        }
        let k = key.clone();
        let found = state
            .db(move |conn| {
                if is_token {
                    use schema::api_tokens::dsl as t;
                    let row: Option<(i64, i64, String, Option<i64>, bool)> = t::api_tokens
                        .filter(t::token_hash.eq(&k))
                        .select((t::id, t::account_id, t::scopes, t::expires_ms, t::revoked))
                        .first(conn)
                        .optional()?;
                    let Some((id, account, scopes, expires, revoked)) = row else {
                        return Ok(None);
                    };
                    if revoked {
                        return Ok(None);
                    }
                    let admin = is_admin(conn, account)?;
                    let scopes =
                        scopes.split(',').filter(|s| !s.is_empty()).map(String::from).collect();
                    Ok(Some((
                        Auth { account_id: account, is_admin: admin, via: Via::Token(id), scopes },
                        expires,
                    )))
                } else {
                    use schema::login_sessions::dsl as s;
                    let row: Option<(i64, i64)> = s::login_sessions
                        .filter(s::token_hash.eq(&k))
                        .select((s::account_id, s::expires_ms))
                        .first(conn)
                        .optional()?;
                    let Some((account, expires)) = row else { return Ok(None) };
                    let admin = is_admin(conn, account)?;
                    let scopes = SCOPES.iter().map(|s| s.to_string()).collect();
                    Ok(Some((
                        Auth { account_id: account, is_admin: admin, via: Via::Cookie, scopes },
                        Some(expires),
                    )))
                }
            })
            .await?;
        let Some((auth, expires_ms)) = found else {
            return Err(ApiError::unauthorized(if is_token {
                "unknown or revoked token; create a new one"
            } else {
                "your login session has ended; log in again"
            }));
        };
        if expires_ms.is_some_and(|e| e <= now) {
            return Err(ApiError::unauthorized(
                "this credential has expired; log in or create a new token",
            ));
        }
        if let Ok(mut c) = state.inner.auth_cache.lock() {
            c.insert(
                key.clone(),
                Cached {
                    auth: auth.clone(),
                    expires_ms,
                    cached_until: now + CACHE_MS,
                    last_use_written: now,
                },
            );
        }
        if let Via::Token(id) = auth.via {
            touch_token(state, &key, id, now).await?;
        }
        Ok(auth)
    }
}

async fn touch_token(state: &AppState, key: &str, id: i64, now: i64) -> Result<(), ApiError> {
    if let Ok(mut c) = state.inner.auth_cache.lock()
        && let Some(e) = c.get_mut(key)
    {
        e.last_use_written = now;
    }
    state
        .db(move |conn| {
            use schema::api_tokens::dsl as t;
            diesel::update(t::api_tokens.filter(t::id.eq(id)))
                .set(t::last_used_ms.eq(now))
                .execute(conn)?;
            Ok(())
        })
        .await
}

fn is_admin(conn: &mut DbConnection, account: i64) -> QueryResult<bool> {
    use schema::accounts::dsl as a;
    a::accounts.filter(a::id.eq(account)).select(a::is_admin).first(conn)
}

/// Username and password.
#[derive(Deserialize)]
pub struct Credentials {
    /// 3 to 32 letters, digits, `_`, `-` or `.`.
    pub username: String,
    /// 8 to 256 characters.
    pub password: String,
}

/// An account as the API shows it.
#[derive(Serialize)]
pub struct AccountOut {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub username: String,
    /// Whether it is an admin.
    pub is_admin: bool,
}

fn check_credentials(c: &Credentials) -> Result<(), ApiError> {
    let u = &c.username;
    if !(3..=32).contains(&u.chars().count())
        || !u.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch))
    {
        return Err(ApiError::bad_request(
            "username must be 3 to 32 characters: letters, digits, '_', '-' or '.'",
        ));
    }
    if !(8..=256).contains(&c.password.chars().count()) {
        return Err(ApiError::bad_request("password must be 8 to 256 characters"));
    }
    Ok(())
}

/// `POST /api/register`: creates an account (the first one is the admin).
pub async fn register(
    State(state): State<AppState>,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<AccountOut>), ApiError> {
    check_credentials(&c)?;
    let password = c.password;
    let phc = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)??;
    let username = c.username;
    let out = state.db(move |conn| insert_account(conn, &username, &phc, None)).await?;
    tracing::info!(account = out.id, admin = out.is_admin, "account registered");
    Ok((StatusCode::CREATED, Json(out)))
}

/// Inserts an account with the password hash `phc`; `admin: None` makes the first account
/// the admin. 409 when the name is taken.
fn insert_account(
    conn: &mut DbConnection,
    username: &str,
    phc: &str,
    admin: Option<bool>,
) -> Result<AccountOut, ApiError> {
    use schema::accounts::dsl as a;
    crate::db::write_tx::<_, ApiError, _>(conn, |conn| {
        let taken: i64 = a::accounts.filter(a::username.eq(username)).count().get_result(conn)?;
        if taken > 0 {
            return Err(ApiError::conflict(format!(
                "the username {username:?} is taken; choose another"
            )));
        }
        let n: i64 = a::accounts.count().get_result(conn)?;
        let is_admin = admin.unwrap_or(n == 0);
        let id: i64 = diesel::insert_into(a::accounts)
            .values((
                a::username.eq(username),
                a::password_hash.eq(phc),
                a::is_admin.eq(is_admin),
                a::created_ms.eq(now_ms()),
            ))
            .returning(a::id)
            .get_result(conn)?;
        Ok(AccountOut { id, username: username.to_string(), is_admin })
    })
}

/// Creates an account outside the HTTP API (`mlroots admin create-user`): checks the
/// credentials as registration does, hashes the password, and makes it an admin if asked.
pub fn create_account(
    conn: &mut DbConnection,
    c: &Credentials,
    admin: bool,
) -> Result<AccountOut, ApiError> {
    check_credentials(c)?;
    let phc = hash_password(&c.password)?;
    insert_account(conn, &c.username, &phc, Some(admin))
}

fn set_cookie(state: &AppState, value: &str, max_age_s: i64) -> Result<HeaderValue, ApiError> {
    let secure = if state.inner.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_s}{secure}"
    ))
    .map_err(ApiError::internal)
}

/// `POST /api/login`: checks the password and sets the login cookie.
pub async fn login(
    State(state): State<AppState>,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let username = c.username.clone();
    let row = state
        .db(move |conn| {
            use schema::accounts::dsl as a;
            Ok(a::accounts
                .filter(a::username.eq(&username))
                .select((a::id, a::password_hash, a::is_admin))
                .first::<(i64, String, bool)>(conn)
                .optional()?)
        })
        .await?;
    let wrong = || ApiError::unauthorized("wrong username or password");
    let Some((id, phc, is_admin)) = row else {
        // Spend the same time as a real check, so that timing does not reveal usernames.
        let _ = tokio::task::spawn_blocking(|| hash_password("timing-equaliser")).await;
        return Err(wrong());
    };
    let password = c.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(ApiError::internal)?;
    if !ok {
        return Err(wrong());
    }
    let secret = hex(&random_bytes::<32>()?);
    let key = digest(&secret);
    let now = now_ms();
    state
        .db(move |conn| {
            use schema::login_sessions::dsl as s;
            diesel::insert_into(s::login_sessions)
                .values((
                    s::token_hash.eq(&key),
                    s::account_id.eq(id),
                    s::created_ms.eq(now),
                    s::expires_ms.eq(now + LOGIN_DAYS * 86_400_000),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
    let cookie = set_cookie(&state, &secret, LOGIN_DAYS * 86_400)?;
    let body = Json(AccountOut { id, username: c.username, is_admin });
    Ok(([(header::SET_COOKIE, cookie)], body).into_response())
}

/// `POST /api/logout`: ends the login session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(secret) = cookie_value(&headers) {
        let key = digest(&secret);
        if let Ok(mut c) = state.inner.auth_cache.lock() {
            c.remove(&key);
        }
        state
            .db(move |conn| {
                use schema::login_sessions::dsl as s;
                diesel::delete(s::login_sessions.filter(s::token_hash.eq(&key))).execute(conn)?;
                Ok(())
            })
            .await?;
    }
    let cookie = set_cookie(&state, "", 0)?;
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

/// `GET /api/me`: who is calling.
pub async fn me(State(state): State<AppState>, auth: Auth) -> Result<Json<AccountOut>, ApiError> {
    let id = auth.account_id;
    let (username, is_admin) = state
        .db(move |conn| {
            use schema::accounts::dsl as a;
            Ok(a::accounts.filter(a::id.eq(id)).select((a::username, a::is_admin)).first(conn)?)
        })
        .await?;
    Ok(Json(AccountOut { id, username, is_admin }))
}

/// A new token's name, scopes and lifetime.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name to recognise it by.
    pub name: String,
    /// Its scopes (default: `["sessions"]`).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Days until it expires (default: never).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A token as listed (never its secret).
#[derive(Serialize, Queryable)]
pub struct TokenOut {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    /// Its scopes, comma-separated.
    pub scopes: String,
    /// When it was created (unix ms).
    pub created_ms: i64,
    /// When it expires (unix ms), if ever.
    pub expires_ms: Option<i64>,
    /// When it was last used (unix ms, to the minute).
    pub last_used_ms: Option<i64>,
}

/// `POST /api/tokens`: creates a token and shows its secret, once. Needs a login cookie.
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if auth.via != Via::Cookie {
        return Err(ApiError::forbidden(
            "tokens are created from a login session, not with another token",
        ));
    }
    let name = req.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::bad_request("a token's name must be 1 to 64 characters"));
    }
    let scopes = req.scopes.unwrap_or_else(|| vec!["sessions".to_string()]);
    if scopes.is_empty() {
        return Err(ApiError::bad_request(format!("give at least one scope among {SCOPES:?}")));
    }
    for s in &scopes {
        if !SCOPES.contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!("unknown scope {s:?}; scopes: {SCOPES:?}")));
        }
        if s == "admin" && !auth.is_admin {
            return Err(ApiError::forbidden("only an admin account can create admin tokens"));
        }
    }
    if req.expires_in_days == Some(0) {
        return Err(ApiError::bad_request(
            "expires_in_days must be at least 1 (or absent for no expiry)",
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", hex(&random_bytes::<32>()?));
    let key = digest(&secret);
    let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let now = now_ms();
    let expires_ms = req.expires_in_days.map(|d| now + i64::from(d) * 86_400_000);
    let scopes_s = scopes.join(",");
    let account = auth.account_id;
    let (n, p) = (name.clone(), prefix.clone());
    let id = state
        .db(move |conn| {
            use schema::api_tokens::dsl as t;
            Ok(diesel::insert_into(t::api_tokens)
                .values((
                    t::account_id.eq(account),
                    t::name.eq(&n),
                    t::token_hash.eq(&key),
                    t::prefix.eq(&p),
                    t::scopes.eq(&scopes_s),
                    t::created_ms.eq(now),
                    t::expires_ms.eq(expires_ms),
                    t::revoked.eq(false),
                ))
                .returning(t::id)
                .get_result::<i64>(conn)?)
        })
        .await?;
    let body = serde_json::json!({
        "id": id, "name": name, "token": secret, "prefix": prefix, "scopes": scopes,
        "expires_ms": expires_ms,
        "note": "this is the only time the token is shown; store it now",
    });
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/tokens`: the account's live tokens.
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<TokenOut>>, ApiError> {
    let account = auth.account_id;
    let rows = state
        .db(move |conn| {
            use schema::api_tokens::dsl as t;
            Ok(t::api_tokens
                .filter(t::account_id.eq(account).and(t::revoked.eq(false)))
                .order(t::id.asc())
                .select((
                    t::id,
                    t::name,
                    t::prefix,
                    t::scopes,
                    t::created_ms,
                    t::expires_ms,
                    t::last_used_ms,
                ))
                .load::<TokenOut>(conn)?)
        })
        .await?;
    Ok(Json(rows))
}

/// `DELETE /api/tokens/{id}`: revokes a token (effective at once).
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if auth.via != Via::Cookie && auth.via != Via::Token(id) {
        return Err(ApiError::forbidden("revoke other tokens from a login session"));
    }
    let account = auth.account_id;
    let hash = state
        .db(move |conn| {
            use schema::api_tokens::dsl as t;
            let h: Option<String> = t::api_tokens
                .filter(t::id.eq(id).and(t::account_id.eq(account)).and(t::revoked.eq(false)))
                .select(t::token_hash)
                .first(conn)
                .optional()?;
            if h.is_some() {
                diesel::update(t::api_tokens.filter(t::id.eq(id)))
                    .set(t::revoked.eq(true))
                    .execute(conn)?;
            }
            Ok(h)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no live token {id} on this account")))?;
    if let Ok(mut c) = state.inner.auth_cache.lock() {
        c.remove(&hash);
    }
    Ok(StatusCode::NO_CONTENT)
}
