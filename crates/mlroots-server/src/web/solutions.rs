//! The challenge page's solutions section and its writeup form: after a solve, the official
//! writeup and the solvers' writeups ([`crate::writeups`] decides who sees what), and
//! `POST /challenges/{id}/writeups` for a solver's own (CSRF-checked like every form).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::challenges::ChallengeCatalogue;
use crate::error::ApiError;
use crate::writeups::{self, MAX_WRITEUP_BYTES, markdown_untrusted};

/// A solver's writeup as the page shows it.
pub struct WriteupView {
    /// Who wrote it.
    pub user: String,
    /// Rendered HTML (raw HTML escaped, safe links only).
    pub html: String,
}

/// One solved sub-challenge's writeups and the viewer's own.
pub struct SubSolutions {
    /// The sub-challenge's short id (`AS-X`).
    pub sub: String,
    /// Everyone's writeups, oldest first.
    pub writeups: Vec<WriteupView>,
    /// The viewer's own Markdown, to edit.
    pub mine: String,
}

/// The section shown to a viewer with a solve in the challenge.
pub struct Solutions {
    /// The official writeup, rendered; `None` when the challenge has none.
    pub official: Option<String>,
    /// One entry per sub-challenge the viewer solved.
    pub subs: Vec<SubSolutions>,
    /// The size limit, for the form.
    pub max_bytes: usize,
}

/// The solutions section of challenge `id` for `account`, or `None` when the viewer has no
/// solve in it (then nothing of the solutions reaches the page).
pub async fn for_page(
    state: &AppState,
    cat: &ChallengeCatalogue,
    id: &str,
    account: Option<i64>,
    user: Option<String>,
) -> Option<Solutions> {
    let account = account?;
    let challenge = id.to_string();
    let rows = state.db(move |conn| Ok(writeups::of_challenge(conn, account, &challenge)?)).await;
    let (mine, all) = match rows {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(why = %e.message, "cannot read the writeups");
            return None;
        }
    };
    if mine.is_empty() {
        return None;
    }
    let official = cat.official_writeup(id).map(super::pages::markdown);
    let subs = mine
        .iter()
        .map(|full| {
            let of_sub: Vec<&writeups::Writeup> =
                all.iter().filter(|w| &w.sub_challenge == full).collect();
            SubSolutions {
                sub: full.split_once('/').map(|(_, s)| s.to_string()).unwrap_or_default(),
                mine: of_sub
                    .iter()
                    .find(|w| Some(&w.username) == user.as_ref())
                    .map(|w| w.body.clone())
                    .unwrap_or_default(),
                writeups: of_sub
                    .iter()
                    .map(|w| WriteupView {
                        user: w.username.clone(),
                        html: markdown_untrusted(&w.body),
                    })
                    .collect(),
            }
        })
        .collect();
    Some(Solutions { official, subs, max_bytes: MAX_WRITEUP_BYTES })
}

/// The writeup form.
#[derive(Deserialize)]
pub struct WriteupForm {
    csrf: String,
    sub: String,
    body: String,
}

/// `POST /challenges/{id}/writeups`: stores the viewer's writeup of sub-challenge `sub` of
/// challenge `id` (solvers only), then back to the challenge page.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    Path(id): Path<String>,
    Form(f): Form<WriteupForm>,
) -> Response {
    let Ok(auth) = auth else { return Redirect::to("/login").into_response() };
    let (st, hd, viewer) = (&state, &headers, auth.clone());
    let fail = |status: StatusCode, message: String| async move {
        let (nav, set_cookie, _) = super::pages::ctx_parts(st, hd, Ok(viewer)).await;
        super::pages::error_response(nav, set_cookie, status, message)
    };
    if let Err(why) = super::check_form(&headers, &f.csrf) {
        return fail(StatusCode::FORBIDDEN, why.to_string()).await;
    }
    let full = format!("{id}/{}", f.sub);
    if state.inner.catalogue.challenges().and_then(|c| c.find(&full).map(|_| ())).is_none() {
        return fail(StatusCode::NOT_FOUND, format!("there is no sub-challenge {full:?}")).await;
    }
    let account = auth.account_id;
    let (sub, body) = (full.clone(), f.body.replace("\r\n", "\n"));
    match state.db(move |conn| writeups::save(conn, account, &sub, &body)).await {
        Ok(_) => Redirect::to(&format!("/challenges/{id}#solutions-{}", f.sub)).into_response(),
        Err(e) => fail(e.status, e.message).await,
    }
}
