//! `GET /openapi.json`: an OpenAPI 3.1 description of every route, built by hand from one
//! table, [`ROUTES`].
//!
//! Why by hand: the routes use custom extractors ([`crate::error::ApiJson`], the `Auth`
//! credentials) that utoipa's derive cannot see through without annotating every handler;
//! one table keeps the document next to the router and cheap to build. The API test checks
//! both directions: every `.route(...)` in `lib.rs` is in the table, and every table entry
//! is answered by the router (not the fallback).

use axum::Json;
use serde_json::{Map, Value, json};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A login cookie or an API token.
    Account,
    /// An admin account.
    Admin,
}

/// One documented operation.
#[derive(Clone, Copy, Debug)]
pub struct RouteDoc {
    /// The HTTP method, lower case (`get`, `post`, `delete`).
    pub method: &'static str,
    /// The path as the router spells it (`/api/sessions/{id}`).
    pub path: &'static str,
    /// The group in the document.
    pub tag: &'static str,
    /// One line: what it does.
    pub summary: &'static str,
    /// The JSON request body, described in words; `None` when it takes none.
    pub body: Option<&'static str>,
    /// The success status.
    pub ok: u16,
    /// Who may call it.
    pub access: Access,
}

const fn r(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    ok: u16,
    access: Access,
) -> RouteDoc {
    RouteDoc { method, path, tag, summary, body, ok, access }
}

use Access::{Account, Admin, Public};

/// Every route of [`crate::app`].
pub const ROUTES: &[RouteDoc] = &[
    r("get", "/openapi.json", "meta", "This document.", None, 200, Public),
    r("get", "/api/health", "meta", "Liveness: {\"status\":\"ok\"}.", None, 200, Public),
    r(
        "post",
        "/api/register",
        "accounts",
        "Create an account (the first one is the admin). Rate limited per IP.",
        Some("{\"username\", \"password\"}"),
        201,
        Public,
    ),
    r(
        "post",
        "/api/login",
        "accounts",
        "Log in; sets the login cookie. Rate limited per IP.",
        Some("{\"username\", \"password\"}"),
        200,
        Public,
    ),
    r("post", "/api/logout", "accounts", "Log out; ends the cookie session.", None, 204, Account),
    r("get", "/api/me", "accounts", "The calling account.", None, 200, Account),
    r(
        "post",
        "/api/tokens",
        "tokens",
        "Create an API token (its secret is shown once).",
        Some("{\"name\"}"),
        201,
        Account,
    ),
    r("get", "/api/tokens", "tokens", "The account's API tokens (no secrets).", None, 200, Account),
    r("delete", "/api/tokens/{id}", "tokens", "Revoke an API token.", None, 204, Account),
    r(
        "post",
        "/api/sessions",
        "sessions",
        "Open an environment session on a sub-challenge in a phase (practice, train, eval).",
        Some("{\"sub_challenge\", \"phase\", \"seed\"?}"),
        201,
        Account,
    ),
    r(
        "post",
        "/api/sessions/step",
        "sessions",
        "Step (or reset) many sessions in one request; answers in the order given, each a step \
         result, a reset result or {\"error\"}. Resets run before steps. Steps count against \
         the step quota. With \"obs\": \"base64\" each observation is the base64 of its \
         little-endian f32 values instead of a list. With \"layout\": \"columns\" the answer \
         is {\"obs\" (every observation concatenated), \"obs_len\", \"reward\", \"terminated\", \
         \"truncated\", \"info\" (by key: {key: [value or null per item]}), \"errors\": [{\"index\", \"error\"}], \"attempts\": \
         [{\"index\", \"id\", \"passed\"}]} instead of {\"results\"}. An item whose \
         environment failed is an `env_failed` error and its session is closed.",
        Some(
            "{\"steps\": [{\"session\", \"action\"} | {\"session\", \"reset\": true, \"seed\"?}], \
             \"obs\"?: \"list\" | \"base64\", \"layout\"?: \"items\" | \"columns\"}",
        ),
        200,
        Account,
    ),
    r("delete", "/api/sessions/{id}", "sessions", "Close a session.", None, 204, Account),
    r(
        "post",
        "/api/sessions/{id}/reset",
        "sessions",
        "Start the next episode; returns the observation.",
        Some("{\"seed\"?}"),
        200,
        Account,
    ),
    r(
        "post",
        "/api/sessions/{id}/step",
        "sessions",
        "Take one action. Counts against the step quota and the train budget. A 500 \
         `env_failed` means the session's environment failed: the session is closed and the \
         step not recorded; open a new session.",
        Some("{\"action\"}"),
        200,
        Account,
    ),
    r(
        "get",
        "/api/sessions/{id}/render",
        "sessions",
        "The current state as text or RGB (?mode=ansi|rgb).",
        None,
        200,
        Account,
    ),
    r(
        "get",
        "/api/attempts/{id}",
        "sessions",
        "An evaluation attempt: its status and verdict.",
        None,
        200,
        Account,
    ),
    r(
        "post",
        "/api/hints",
        "scoring",
        "Unlock a hint of a sub-challenge; its cost comes off a later solve (charged once).",
        Some("{\"sub_challenge\", \"hint\"}"),
        200,
        Account,
    ),
    r(
        "get",
        "/api/leaderboard",
        "scoring",
        "Every account with a solve, by points then earlier last solve: {\"standings\": [{\"rank\", \"username\", \"points\", \"solves\", \"first_solves\", \"last_solve_ms\"}]} (the /leaderboard page's ranking).",
        None,
        200,
        Public,
    ),
    r(
        "get",
        "/api/leaderboard/{challenge}",
        "scoring",
        "The ranking over one challenge's sub-challenges: {\"challenge\", \"standings\": [as /api/leaderboard]}.",
        None,
        200,
        Public,
    ),
    r(
        "post",
        "/api/submissions",
        "submissions",
        "Submit an artefact (levels, mazes, an action string as text; weights as base64 \
         safetensors); it is checked, judged and stored as an attempt with its verdict. A \
         refused artefact is a 400 `invalid_artefact` whose message gives each problem's line \
         and column.",
        Some("{\"sub_challenge\", \"artefact\"}"),
        201,
        Account,
    ),
    r(
        "get",
        "/api/leaderboard/{challenge}/{sub}",
        "scoring",
        "One sub-challenge's board: {\"sub_challenge\", \"ranked_by\": \"metric\"|\"solve_time\", \"metric\": {\"text\", \"higher_is_better\"}|null, \"standings\": [{\"rank\", \"username\", \"score\"?, \"attempt\"?, \"points\"?, \"first_solve\", \"at_ms\"}]}. An open problem ranks each account's best passed attempt by its metric (ties to the earlier attempt); others list solvers in solve order.",
        None,
        200,
        Public,
    ),
    r(
        "post",
        "/api/writeups",
        "solutions",
        "Write (or replace) your writeup of a sub-challenge you solved (Markdown, at most 20000 bytes): 201 new, 200 replaced, 403 before a solve. Answers {\"sub_challenge\", \"bytes\", \"replaced\"}.",
        Some("{\"sub_challenge\", \"body\"}"),
        201,
        Account,
    ),
    r(
        "get",
        "/api/challenges/{challenge}/writeups",
        "solutions",
        "After a solve in the challenge (403 before): {\"challenge\", \"solved\": [sub ids], \"official\": Markdown|null, \"writeups\": [{\"sub_challenge\", \"username\", \"body\", \"created_ms\", \"updated_ms\"}]} (writeups of the sub-challenges you solved).",
        None,
        200,
        Account,
    ),
    r(
        "post",
        "/api/admin/reload",
        "admin",
        "Re-read the challenges folder and swap the catalogue in if it lints clean: {\"challenges\": [ids], \"sub_challenges\"}; 422 catalogue_invalid with every problem otherwise (the old one keeps serving). An admin's cookie or token with the admin scope.",
        None,
        200,
        Admin,
    ),
    r(
        "get",
        "/api/admin/accounts/{id}/ledger",
        "admin",
        "Export an account's ledger entries (JSON lines).",
        None,
        200,
        Admin,
    ),
    r(
        "delete",
        "/api/admin/accounts/{id}/ledger",
        "admin",
        "Delete an account's ledger entries and sessions.",
        None,
        204,
        Admin,
    ),
];

fn error_response(what: &str) -> Value {
    json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

/// The document for `routes`.
pub fn document(routes: &[RouteDoc]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let item = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                let ty = if name == "id" { "integer" } else { "string" };
                json!({"name": name, "in": "path", "required": true, "schema": {"type": ty}})
            })
            .collect();
        let mut responses = Map::new();
        responses.insert(route.ok.to_string(), json!({"description": "success"}));
        responses.insert("400".into(), error_response("bad request"));
        responses.insert("429".into(), error_response("rate limited; retry later"));
        let mut op = json!({
            "tags": [route.tag],
            "summary": route.summary,
            "operationId": format!("{}_{}", route.method, route.path.trim_start_matches('/')
                .replace(['/', '{', '}', '.'], "_")),
            "parameters": params,
        });
        if let Some(body) = route.body {
            op["requestBody"] = json!({
                "required": true,
                "description": body,
                "content": {"application/json": {"schema": {"type": "object"}}},
            });
        }
        match route.access {
            Public => op["security"] = json!([]),
            Account | Admin => {
                responses.insert("401".into(), error_response("no valid credentials"));
            }
        }
        if route.access == Admin {
            responses.insert("403".into(), error_response("not an admin"));
        }
        op["responses"] = Value::Object(responses);
        item[route.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ML Roots You platform API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Environment sessions, the ledger, accounts and tokens. Errors are {\"error\": {\"code\", \"message\"}}.",
        },
        "paths": paths,
        "security": [{"cookie": []}, {"bearer": []}],
        "components": {
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": "mlroots_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    }},
                },
            },
        },
    })
}

/// `GET /openapi.json`.
pub async fn serve() -> Json<Value> {
    Json(document(ROUTES))
}
