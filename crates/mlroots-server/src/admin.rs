//! The admin API beside the ledger routes of [`crate::sessions`]: reloading the challenge
//! catalogue of a running server (`POST /api/admin/reload`).
//!
//! Admin routes here accept an admin's login cookie (same-origin, as every cookie request)
//! or an admin account's API token carrying the `admin` scope, so that `mlroots admin reload`
//! can call them from a terminal.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::AppState;
use crate::auth::Auth;
use crate::catalogue::ReloadReport;
use crate::error::ApiError;

/// Refuses a caller that is not an admin, or an admin's token without the `admin` scope.
pub fn require_admin(auth: &Auth) -> Result<(), ApiError> {
    if !auth.is_admin {
        return Err(ApiError::forbidden("this route is for admins"));
    }
    auth.require("admin")
}

/// Reloads the catalogue: `Ok` with what is served now, or the lint problems (the old
/// catalogue keeps serving).
pub async fn reload_catalogue(state: &AppState) -> Result<ReloadReport, ApiError> {
    let cat = state.inner.catalogue.clone();
    let result =
        tokio::task::spawn_blocking(move || cat.reload()).await.map_err(ApiError::internal)?;
    match result {
        None => Err(ApiError::conflict(
            "this server's catalogue was not loaded from a folder; nothing to reload",
        )),
        Some(Ok(report)) => Ok(report),
        Some(Err(problems)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "catalogue_invalid",
            format!(
                "the catalogue was NOT reloaded (the old one keeps serving); fix these {} problem(s), \
                 which `mlroots lint` shows too:\n{}",
                problems.len(),
                problems.join("\n")
            ),
        )),
    }
}

/// `POST /api/admin/reload`: re-reads the challenges folder and swaps the catalogue in if it
/// lints clean; 422 `catalogue_invalid` with every problem otherwise.
pub async fn reload(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<ReloadReport>, ApiError> {
    require_admin(&auth)?;
    let report = reload_catalogue(&state).await;
    match &report {
        Ok(r) => {
            tracing::info!(by = auth.account_id, challenges = ?r.challenges, "catalogue reloaded")
        }
        Err(e) => {
            tracing::warn!(by = auth.account_id, why = %e.message, "catalogue reload refused")
        }
    }
    report.map(Json)
}
