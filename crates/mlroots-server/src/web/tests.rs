//! The pages against the router with the real catalogue on a temporary SQLite file: forms
//! with their CSRF defences, the pages' content, the headers, and the practice outcome.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::{AppState, Config, app, start};

pub(super) struct Site {
    pub(super) state: AppState,
    _dir: tempfile::TempDir,
}

pub(super) struct Resp {
    pub(super) status: StatusCode,
    pub(super) headers: axum::http::HeaderMap,
    pub(super) body: String,
}

/// A browser: its cookies.
#[derive(Default, Clone)]
pub(super) struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    fn absorb(&mut self, r: &Resp) {
        for c in r.headers.get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !v.is_empty() {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
    }
    pub(super) fn get(&self, name: &str) -> String {
        self.cookies.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

impl Site {
    pub(super) async fn start() -> Site {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../challenges");
        Site::start_with(&root, |_| {}).await
    }

    /// A site over the (reloadable) catalogue folder `root`, with settings changed by `edit`.
    pub(super) async fn start_with(root: &std::path::Path, edit: impl FnOnce(&mut Config)) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("web.db").to_string_lossy().into_owned();
        let cat = crate::LiveCatalogue::load(root, b"web-test-secret-0123456789".to_vec()).unwrap();
        let mut config = Config::new(&url);
        config.shards = 1;
        config.pool_size = 2;
        edit(&mut config);
        let state = start(config, Arc::new(cat)).await.unwrap();
        Site { state, _dir: dir }
    }

    pub(super) async fn send(
        &self,
        b: &mut Browser,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
        origin: Option<&str>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path).header(header::HOST, "site.test");
        if !b.cookies.is_empty() {
            req = req.header(header::COOKIE, b.header());
        }
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        let req = match body {
            Some((kind, text)) => req.header(header::CONTENT_TYPE, kind).body(Body::from(text)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let r = Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() };
        b.absorb(&r);
        r
    }

    pub(super) async fn page(&self, b: &mut Browser, path: &str) -> Resp {
        self.send(b, "GET", path, None, None).await
    }

    pub(super) async fn form(&self, b: &mut Browser, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
            .collect::<Vec<_>>()
            .join("&");
        let form = ("application/x-www-form-urlencoded", body);
        self.send(b, "POST", path, Some(form), Some("http://site.test")).await
    }

    pub(super) async fn json(
        &self,
        b: &mut Browser,
        method: &str,
        path: &str,
        v: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let r = self
            .send(
                b,
                method,
                path,
                Some(("application/json", v.to_string())),
                Some("http://site.test"),
            )
            .await;
        (r.status, serde_json::from_str(&r.body).unwrap_or_default())
    }

    /// Registers `name` through the form, which logs it in.
    pub(super) async fn register(&self, name: &str) -> Browser {
        let mut b = Browser::default();
        let r = self.page(&mut b, "/register").await;
        assert_eq!(r.status, 200);
        let csrf = b.get(super::CSRF_COOKIE);
        assert_eq!(csrf.len(), 64);
        assert!(r.body.contains(&csrf), "the form carries the token");
        let r = self
            .form(
                &mut b,
                "/register",
                &[("csrf", &csrf), ("username", name), ("password", "correct horse")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(!b.get(crate::auth::COOKIE).is_empty(), "registering logs in");
        b
    }
}

fn assert_headers(r: &Resp) {
    let csp = r.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert!(r.headers.get("referrer-policy").is_some());
}

fn assert_no_inline_script(html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        assert!(tag.contains(" src=\"/static/"), "inline script: {tag}");
    }
    assert!(!html.contains(" on") || !html.contains("onclick="), "no inline handlers");
}

#[tokio::test]
async fn pages_render_with_security_headers_and_no_inline_script() {
    let s = Site::start().await;
    let mut b = Browser::default();
    for path in [
        "/",
        "/register",
        "/login",
        "/challenges",
        "/challenges/C03-safety-gridworlds",
        "/play",
        "/play?sub=env/boat-race",
    ] {
        let r = s.page(&mut b, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_headers(&r);
        assert_no_inline_script(&r.body);
        assert!(
            r.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/html")
        );
    }
    let api = s.page(&mut b, "/api/health").await;
    assert_headers(&api);
    let home = s.page(&mut b, "/").await.body;
    assert!(home.contains("pip install ./python"));
    assert!(home.contains("mlroots.make(\"C0"), "{home}");
    assert!(home.contains("http://site.test"));
    let js = s.page(&mut b, "/static/play.js").await;
    assert_eq!(js.status, 200);
    assert!(
        js.headers
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.body.len() < 100 * 1024, "scripts stay under 100 KB");
    assert_eq!(s.page(&mut b, "/static/../Cargo.toml").await.status, 404);
    assert_eq!(s.page(&mut b, "/static/nope.js").await.status, 404);
    let missing = s.page(&mut b, "/challenges/C99-nothing").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("there is no challenge"));
    assert_eq!(s.page(&mut b, "/play?sub=env/nothing").await.status, 404);
}

#[tokio::test]
async fn challenge_page_shows_statement_conditions_in_words_and_hint_costs() {
    let s = Site::start().await;
    let mut b = Browser::default();
    let r = s.page(&mut b, "/challenges/C03-safety-gridworlds").await;
    assert!(r.body.contains("<h1>") || r.body.contains("<h2>"), "Markdown became HTML");
    assert!(r.body.contains("C03-safety-gridworlds/AS-X"));
    assert!(r.body.contains("the lowest over evaluation episodes of the return"));
    assert!(r.body.contains("eval.min.return &#62;= 41"));
    assert!(r.body.contains("Hint 1 (costs 10 points)"));
    assert!(!r.body.contains("Maximise the visible reward"), "hint texts are not given away");
    let cat = s.page(&mut b, "/challenges").await;
    assert!(cat.body.contains("/challenges/C03-safety-gridworlds"));
    assert!(cat.body.contains("sub-challenges"));
}

#[test]
fn markdown_shows_raw_html_as_text() {
    let html =
        super::pages::markdown("# Title\n\n<script>alert(1)</script>\n\nsome *text* <b>x</b>");
    assert!(html.contains("<h1>Title</h1>"));
    assert!(html.contains("<em>text</em>"));
    assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn forms_register_log_in_and_out_and_refuse_cross_site_posts() {
    let s = Site::start().await;
    let mut b = s.register("alice").await;
    let page = s.page(&mut b, "/challenges").await;
    assert!(page.body.contains("Account (alice)"));
    let csrf = b.get(super::CSRF_COOKIE);

    // Logout needs the token.
    let r = s.form(&mut b.clone(), "/logout", &[("csrf", "0")]).await;
    assert_eq!(r.status, 403);
    let r = s.form(&mut b, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(b.get(crate::auth::COOKIE).is_empty());
    assert!(!s.page(&mut b, "/").await.body.contains("Account (alice)"));

    // Login: a missing token, another site's Origin, a wrong password, then the right one.
    let login = |csrf: &str, pw: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("username".into(), "alice".into()),
            ("password".into(), pw.to_string()),
        ]
    };
    let f = login("", "correct horse");
    let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(s.form(&mut b, "/login", &fr).await.status, 403);
    let f = login(&csrf, "correct horse");
    let body =
        f.iter().map(|(k, v)| format!("{k}={}", v.replace(' ', "+"))).collect::<Vec<_>>().join("&");
    let evil = s
        .send(
            &mut b,
            "POST",
            "/login",
            Some(("application/x-www-form-urlencoded", body)),
            Some("http://evil.test"),
        )
        .await;
    assert_eq!(evil.status, 403);
    assert!(b.get(crate::auth::COOKIE).is_empty());
    let f = login(&csrf, "wrong password");
    let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = s.form(&mut b, "/login", &fr).await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("wrong username or password"));
    let f = login(&csrf, "correct horse");
    let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(s.form(&mut b, "/login", &fr).await.status, StatusCode::SEE_OTHER);
    assert!(s.page(&mut b, "/").await.body.contains("Account (alice)"));

    // A taken name is said on the form.
    let mut other = Browser::default();
    s.page(&mut other, "/register").await;
    let t = other.get(super::CSRF_COOKIE);
    let r = s
        .form(
            &mut other,
            "/register",
            &[("csrf", &t), ("username", "alice"), ("password", "another one")],
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("is taken"));
}

#[tokio::test]
async fn account_page_creates_shows_once_and_revokes_tokens() {
    let s = Site::start().await;
    assert_eq!(s.page(&mut Browser::default(), "/account").await.status, StatusCode::SEE_OTHER);
    let mut b = s.register("carol").await;
    let csrf = b.get(super::CSRF_COOKIE);
    let r = s
        .form(
            &mut b,
            "/account/tokens",
            &[("csrf", &csrf), ("name", "laptop"), ("scope_sessions", "1")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let start = r.body.find("mlr_").unwrap();
    let secret: String =
        r.body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    assert_eq!(secret.len(), 4 + 64);
    // The token works for the API, and the account page never shows it again.
    let mut prog = Browser::default();
    let req = Request::builder()
        .uri("/api/me")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app(s.state.clone()).oneshot(req).await.unwrap().status(), 200);
    let page = s.page(&mut b, "/account").await;
    assert!(page.body.contains("<td>laptop</td>") && !page.body.contains(&secret));
    let bad = s
        .form(
            &mut b,
            "/account/tokens",
            &[("csrf", &csrf), ("name", "x"), ("expires_in_days", "soon")],
        )
        .await;
    assert_eq!(bad.status, 400);
    let id =
        page.body.split("/account/tokens/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let r = s.form(&mut b, &format!("/account/tokens/{id}/revoke"), &[("csrf", "")]).await;
    assert_eq!(r.status, 403);
    let r = s.form(&mut b, &format!("/account/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!s.page(&mut b, "/account").await.body.contains("<td>laptop</td>"));
    let _ = &mut prog;
}

#[tokio::test]
async fn practice_outcome_reveals_hidden_performance_of_finished_practice_episodes_only() {
    let s = Site::start().await;
    let mut b = s.register("dave").await;
    let play = s.page(&mut b, "/play?sub=C03-safety-gridworlds/AS-X").await;
    assert!(play.body.contains("data-sub=\"C03-safety-gridworlds/AS-X\""));
    assert!(play.body.contains("/static/play.js"));

    let (st, o) = s
        .json(
            &mut b,
            "POST",
            "/api/sessions",
            serde_json::json!({"sub_challenge": "C03-safety-gridworlds/AS-X", "phase": "practice"}),
        )
        .await;
    assert_eq!(st, 201, "{o}");
    let id = o["id"].as_i64().unwrap();
    let outcome = format!("/api/practice/{id}/outcome");
    let r = s.page(&mut b, &outcome).await;
    assert_eq!(r.status, 409, "nothing played yet");
    let (st, _) = s
        .json(&mut b, "POST", &format!("/api/sessions/{id}/reset"), serde_json::json!({"seed": 1}))
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .json(&mut b, "POST", &format!("/api/sessions/{id}/step"), serde_json::json!({"action": 0}))
        .await;
    assert_eq!(st, 200);
    assert_eq!(s.page(&mut b, &outcome).await.status, 409, "the episode is not over");
    let mut steps = 1;
    loop {
        let (st, r) = s
            .json(
                &mut b,
                "POST",
                &format!("/api/sessions/{id}/step"),
                serde_json::json!({"action": 1}),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        steps += 1;
        if r["terminated"] == true || r["truncated"] == true {
            break;
        }
        assert!(steps < 500);
    }
    let r = s.page(&mut b, &outcome).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["steps"], steps);
    assert!(v["performance"].is_number() && v["return"].is_number());
    assert!(!v["measures"].as_str().unwrap().is_empty());

    // Train sessions never reveal it, nor does another account.
    let (_, t) = s
        .json(
            &mut b,
            "POST",
            "/api/sessions",
            serde_json::json!({"sub_challenge": "C03-safety-gridworlds/AS-X", "phase": "train"}),
        )
        .await;
    let r = s.page(&mut b, &format!("/api/practice/{}/outcome", t["id"])).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("only practice sessions"));
    let mut eve = s.register("eve").await;
    assert_eq!(s.page(&mut eve, &outcome).await.status, 404);
}

#[tokio::test]
async fn leaderboard_ranks_by_points_of_distinct_solves_with_first_solves() {
    let s = Site::start().await;
    let mut alice = s.register("alice").await;
    let _bob = s.register("bobby").await;
    let empty = s.page(&mut alice, "/leaderboard").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("No solve yet"));
    // Solves as the attempt transaction records them: bobby solves AS-X first (t=10),
    // alice at t=20; both have the same points, so bobby (there first) ranks first; alice
    // also solves SE-X of the same challenge at t=30 for fewer points than AS-X + SE-X...
    let sub = "C03-safety-gridworlds/AS-X";
    let points =
        i64::from(s.state.inner.catalogue.challenges().unwrap().find(sub).unwrap().1.points);
    s.state
        .db(move |conn| {
            use crate::db::schema::solves::dsl as v;
            for (acc, at, first) in [(2i64, 10i64, true), (1, 20, false)] {
                diesel::insert_into(v::solves)
                    .values((
                        v::account_id.eq(acc),
                        v::sub_challenge.eq(sub),
                        v::challenge.eq("C03-safety-gridworlds"),
                        v::attempt_id.eq(at),
                        v::points.eq(points),
                        v::first_solve.eq(first),
                        v::created_ms.eq(at),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    use diesel::prelude::*;
    let page = s.page(&mut alice, "/leaderboard").await;
    let (b, a) = (page.body.find("bobby").unwrap(), page.body.find("alice (you)").unwrap());
    assert!(b < a, "bobby ranks first");
    // The page and the API are one ranking.
    let (st, api) = s.json(&mut alice, "GET", "/api/leaderboard", serde_json::json!({})).await;
    assert_eq!(st, 200);
    let names: Vec<&str> = api["standings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bobby", "alice"]);
    assert_eq!(api["standings"][0]["points"], points);
    assert_eq!(api["standings"][0]["first_solves"], 1);
    let per = s.page(&mut alice, "/leaderboard?challenge=C03-safety-gridworlds").await;
    assert!(per.body.contains("bobby"));
    assert!(per.body.contains(&format!("/leaderboard?sub={sub}")), "links to each sub's board");
    assert_eq!(s.page(&mut alice, "/leaderboard?challenge=C99").await.status, 404);
    assert_eq!(s.page(&mut alice, "/leaderboard?sub=C03-safety-gridworlds/NOPE").await.status, 404);
    // One sub-challenge's board lists its solvers in solve order.
    let board = s.page(&mut alice, &format!("/leaderboard?sub={sub}")).await;
    assert_eq!(board.status, 200);
    assert!(board.body.contains("Solvers in the order they solved it"));
    assert!(board.body.find("bobby").unwrap() < board.body.find("alice (you)").unwrap());
    let (st, api) =
        s.json(&mut alice, "GET", &format!("/api/leaderboard/{sub}"), serde_json::json!({})).await;
    assert_eq!(st, 200, "{api}");
    assert_eq!(api["ranked_by"], "solve_time");
    assert_eq!(api["standings"][0]["username"], "bobby");
    assert_eq!(api["standings"][0]["first_solve"], true);
    assert_eq!(api["standings"][1]["points"], points);
    // The challenge page marks the solve.
    let ch = s.page(&mut alice, "/challenges/C03-safety-gridworlds").await;
    assert!(ch.body.contains("<span class=\"solved\">solved</span>"));
}

#[tokio::test]
async fn hints_unlock_show_their_text_and_cost_points() {
    let s = Site::start().await;
    let mut b = s.register("frank").await;
    let csrf = b.get(super::CSRF_COOKIE);
    let page = s.page(&mut b, "/challenges/C03-safety-gridworlds").await;
    assert!(!page.body.contains("Maximise the visible reward"));
    assert!(page.body.contains("Unlock"));
    let form = |h: &'static str| {
        vec![("csrf", csrf.clone()), ("sub", "AS-X".to_string()), ("hint", h.to_string())]
    };
    let f = form("0");
    let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s.form(&mut b, "/challenges/C03-safety-gridworlds/hints", &fr).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        s.form(&mut b, "/challenges/C03-safety-gridworlds/hints", &fr).await.status,
        StatusCode::SEE_OTHER,
        "idempotent"
    );
    let page = s.page(&mut b, "/challenges/C03-safety-gridworlds").await;
    assert!(page.body.contains("Maximise the visible reward"));
    let f = form("9");
    let fr: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(s.form(&mut b, "/challenges/C03-safety-gridworlds/hints", &fr).await.status, 404);
    let bad = [("csrf", "x"), ("sub", "AS-X"), ("hint", "1")];
    assert_eq!(s.form(&mut b, "/challenges/C03-safety-gridworlds/hints", &bad).await.status, 403);

    // A solve after the unlock costs the hint (10 points), on the page and the API alike.
    let sub = "C03-safety-gridworlds/AS-X";
    let points =
        i64::from(s.state.inner.catalogue.challenges().unwrap().find(sub).unwrap().1.points);
    let worth = ("C03-safety-gridworlds".to_string(), points as u32);
    s.state
        .db(move |conn| Ok(crate::scoring::record_solve(conn, 1, sub, 1, &worth)?))
        .await
        .unwrap();
    let (_, api) = s.json(&mut b, "GET", "/api/leaderboard", serde_json::json!({})).await;
    assert_eq!(api["standings"][0]["points"], points - 10, "{api}");
    let page = s.page(&mut b, "/leaderboard").await;
    assert!(page.body.contains(&format!("<td>{}</td>", points - 10)), "{}", page.body);
}

#[tokio::test]
async fn replay_resimulates_an_episode_from_the_ledger() {
    let s = Site::start().await;
    let mut b = s.register("grace").await;
    let (_, o) = s
        .json(
            &mut b,
            "POST",
            "/api/sessions",
            serde_json::json!({"sub_challenge": "C03-safety-gridworlds/AS-X", "phase": "train"}),
        )
        .await;
    let id = o["id"].as_i64().unwrap();
    s.json(&mut b, "POST", &format!("/api/sessions/{id}/reset"), serde_json::json!({"seed": 7}))
        .await;
    let mut rewards = Vec::new();
    for a in [1, 1, 1, 3, 3] {
        let (st, r) = s
            .json(
                &mut b,
                "POST",
                &format!("/api/sessions/{id}/step"),
                serde_json::json!({"action": a}),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        rewards.push(r["reward"].as_f64().unwrap());
        if r["terminated"] == true {
            break;
        }
    }
    // An attempt over this session (as an evaluation would store), to open its replay.
    let attempt: i64 = s
        .state
        .db(move |conn| {
            use crate::db::schema::attempts::dsl as a;
            use diesel::prelude::*;
            Ok(diesel::insert_into(a::attempts)
                .values((
                    a::account_id.eq(1i64),
                    a::sub_challenge.eq("C03-safety-gridworlds/AS-X"),
                    a::session_id.eq(id),
                    a::passed.eq(false),
                    a::verdict.eq("{}"),
                    a::created_ms.eq(1i64),
                ))
                .returning(a::id)
                .get_result(conn)?)
        })
        .await
        .unwrap();
    let r = s.page(&mut b, &format!("/attempts/{attempt}/replay?step=1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(&format!("Step <span id=\"counter\">1</span> of {}", rewards.len())),
        "{}",
        r.body
    );
    assert!(r.body.contains("<pre class=\"frame\""));
    assert!(r.body.contains(&format!(
        "return so far <span id=\"return\">{}</span>",
        super::svg::num(rewards[0])
    )));
    assert!(!r.body.contains("seed"), "the seed is not shown");
    assert!(r.body.contains("<strong>1</strong>"), "the episode list marks the current one");
    assert_eq!(s.page(&mut b, &format!("/attempts/{attempt}/replay?episode=3")).await.status, 404);
    let mut other = s.register("henry").await;
    assert_eq!(s.page(&mut other, &format!("/attempts/{attempt}/replay")).await.status, 404);

    // A ledger that disagrees with the world is refused.
    let rows =
        s.state.db(move |conn| Ok(crate::ledger::session_entries(conn, 1, id)?)).await.unwrap();
    let mut bad = rows.clone();
    bad[1].reward += 1.0;
    assert!(
        super::replay::resimulate("absent-supervisor", &[], &bad)
            .unwrap_err()
            .contains("the ledger")
    );
    let good = super::replay::resimulate("absent-supervisor", &[], &rows).unwrap();
    assert_eq!(good.rewards, rewards);
    assert_eq!(good.frames.len(), rewards.len() + 1);
}

/// Registers `name`, plays `episodes` (each a list of actions) in a new session of
/// `C03-safety-gridworlds/AS-X` of phase `phase` (seeds 7, 8, ...), and returns the
/// browser, the session id and each episode's rewards.
async fn played(
    s: &Site,
    b: &mut Browser,
    phase: &str,
    episodes: &[&[i64]],
) -> (i64, Vec<Vec<f64>>) {
    let (st, o) = s
        .json(
            b,
            "POST",
            "/api/sessions",
            serde_json::json!({"sub_challenge": "C03-safety-gridworlds/AS-X", "phase": phase}),
        )
        .await;
    assert!(st.is_success(), "{o}");
    let id = o["id"].as_i64().unwrap();
    let mut all = Vec::new();
    for (k, actions) in episodes.iter().enumerate() {
        let seed = 7 + k as u64;
        s.json(b, "POST", &format!("/api/sessions/{id}/reset"), serde_json::json!({"seed": seed}))
            .await;
        let mut rewards = Vec::new();
        for a in actions.iter() {
            let (st, r) = s
                .json(
                    b,
                    "POST",
                    &format!("/api/sessions/{id}/step"),
                    serde_json::json!({"action": a}),
                )
                .await;
            assert_eq!(st, 200, "{r}");
            rewards.push(r["reward"].as_f64().unwrap());
        }
        all.push(rewards);
    }
    (id, all)
}

/// Stores an attempt of account `account` over session `session` (as an evaluation would).
async fn attempt(s: &Site, account: i64, session: i64, passed: bool) -> i64 {
    s.state
        .db(move |conn| {
            use crate::db::schema::attempts::dsl as a;
            use diesel::prelude::*;
            Ok(diesel::insert_into(a::attempts)
                .values((
                    a::account_id.eq(account),
                    a::sub_challenge.eq("C03-safety-gridworlds/AS-X"),
                    a::session_id.eq(session),
                    a::passed.eq(passed),
                    a::verdict.eq("{}"),
                    a::created_ms.eq(1i64),
                ))
                .returning(a::id)
                .get_result(conn)?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn replay_animates_with_events_on_the_curve_and_shares_only_passed_attempts() {
    let s = Site::start().await;
    let mut grace = s.register("grace").await;
    // Down, down, down: the second step ends on the punishment tile (a hidden event), the
    // third on the goal.
    let (session, rewards) = played(&s, &mut grace, "train", &[&[1, 1, 1]]).await;
    assert_eq!(rewards[0].len(), 3);
    let failed = attempt(&s, 1, session, false).await;
    let solved = attempt(&s, 1, session, true).await;

    // The owner's page: frames for the script, controls, the curve with the event marked.
    let r = s.page(&mut grace, &format!("/attempts/{failed}/replay")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_headers(&r);
    assert_no_inline_script(&r.body);
    assert!(r.body.contains("<script type=\"module\" src=\"/static/replay.js\">"));
    assert!(r.body.contains("data-frames=\"[&#34;"), "every frame comes with the page");
    assert!(r.body.contains("<canvas id=\"board\""));
    assert!(r.body.contains("id=\"toggle\"") && r.body.contains("<option value=\"8\">8×</option>"));
    assert!(r.body.contains("<title id=\"return-curve-title\">Return over the episode</title>"));
    assert!(r.body.contains("1 hidden event marked"), "{}", r.body);
    assert!(r.body.contains("<title>step 2: punishment steps</title>"), "{}", r.body);
    assert!(r.body.contains("data-step=\"2\">step 2</a>: punishment steps"));
    assert!(r.body.contains(&format!("href=\"/attempts/{failed}/replay?episode=0&amp;step=2\"")));
    assert!(r.body.contains("id=\"return-curve-cursor\""));
    assert!(r.body.contains("Only passed attempts can be shared"));
    assert!(!r.body.to_lowercase().contains("seed"), "the seed is not shown");
    // The scripts a replay loads stay small.
    let js: usize = {
        let mut n = 0;
        for f in ["/static/replay.js", "/static/board.js"] {
            let r = s.page(&mut grace, f).await;
            assert_eq!(r.status, 200);
            n += r.body.len();
        }
        n
    };
    assert!(js < 100 * 1024, "{js} bytes of script");

    // Nobody else sees an attempt by its number, passed or not.
    let mut henry = s.register("henry").await;
    let mut anon = Browser::default();
    for id in [failed, solved] {
        assert_eq!(s.page(&mut henry, &format!("/attempts/{id}/replay")).await.status, 404);
        assert_eq!(s.page(&mut anon, &format!("/attempts/{id}/replay")).await.status, 404);
    }

    // Sharing: only the owner, only with the form token, only a passed attempt.
    let csrf = grace.get(super::CSRF_COOKIE);
    let share = |id: i64| format!("/attempts/{id}/share");
    assert_eq!(s.form(&mut grace, &share(failed), &[("csrf", &csrf)]).await.status, 409);
    assert_eq!(s.form(&mut grace, &share(solved), &[("csrf", "bad")]).await.status, 403);
    let hcsrf = henry.get(super::CSRF_COOKIE);
    assert_eq!(s.form(&mut henry, &share(solved), &[("csrf", &hcsrf)]).await.status, 404);
    let r = s.form(&mut grace, &share(solved), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.page(&mut grace, &format!("/attempts/{solved}/replay")).await;
    let at = page.body.find("href=\"/replays/").expect("the owner sees the link") + 15;
    let link_id = page.body[at..at + 32].to_string();
    assert!(link_id.bytes().all(|b| b.is_ascii_hexdigit()), "{link_id}");
    assert!(page.body.contains("Copy link") && page.body.contains("Stop sharing"));
    s.form(&mut grace, &share(solved), &[("csrf", &csrf)]).await;
    let again = s.page(&mut grace, &format!("/attempts/{solved}/replay")).await;
    assert!(again.body.contains(&format!("/replays/{link_id}")), "sharing twice keeps one link");

    // The link opens for anyone, with the same frames and events, without share controls.
    let link = format!("/replays/{link_id}");
    for b in [&mut anon, &mut henry] {
        let r = s.page(b, &link).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_headers(&r);
        assert!(r.body.contains("shared by grace"));
        assert!(r.body.contains("<title>step 2: punishment steps</title>"));
        assert!(r.body.contains(&format!("href=\"{link}?episode=0&amp;step=1\"")));
        assert!(!r.body.contains("Stop sharing") && !r.body.contains("Create a share link"));
        assert!(!r.body.to_lowercase().contains("seed"));
    }
    assert_eq!(s.page(&mut anon, &format!("{link}?step=2")).await.status, 200);
    assert_eq!(s.page(&mut anon, &format!("{link}?episode=1")).await.status, 404);
    assert_eq!(s.page(&mut anon, &format!("/replays/{}", "0".repeat(32))).await.status, 404);
    assert_eq!(s.page(&mut anon, "/replays/not-a-share").await.status, 404);

    // A share row of an attempt that did not pass opens nothing.
    s.state
        .db(move |conn| {
            use crate::db::schema::replay_shares::dsl as rs;
            use diesel::prelude::*;
            diesel::insert_into(rs::replay_shares)
                .values((
                    rs::share_id.eq("ab".repeat(16)),
                    rs::attempt_id.eq(failed),
                    rs::account_id.eq(1i64),
                    rs::created_ms.eq(1i64),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(s.page(&mut anon, &format!("/replays/{}", "ab".repeat(16))).await.status, 404);

    // Stop sharing: the link answers 404.
    let r = s.form(&mut grace, &format!("/attempts/{solved}/unshare"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(s.page(&mut anon, &link).await.status, 404);
    let page = s.page(&mut grace, &format!("/attempts/{solved}/replay")).await;
    assert!(page.body.contains("Create a share link"));
}

#[tokio::test]
async fn challenge_page_plots_the_viewers_own_training_only() {
    let s = Site::start().await;
    let mut ivy = s.register("ivy").await;
    let mut anon = Browser::default();
    let before = s.page(&mut ivy, "/challenges/C03-safety-gridworlds").await;
    assert!(before.body.contains("No finished training episode yet"));
    // Three finished training episodes and one left unfinished; practice does not count.
    let (_, eps) =
        played(&s, &mut ivy, "train", &[&[1, 1, 1], &[3, 2, 1, 1, 1], &[1, 1, 1], &[3]]).await;
    played(&s, &mut ivy, "practice", &[&[1, 1, 1]]).await;
    let returns: Vec<f64> = eps[..3].iter().map(|r| r.iter().sum()).collect();
    let mean = returns.iter().sum::<f64>() / 3.0;
    let best = returns.iter().copied().fold(f64::NEG_INFINITY, f64::max);

    let r = s.page(&mut ivy, "/challenges/C03-safety-gridworlds").await;
    assert_eq!(r.status, 200);
    assert_no_inline_script(&r.body);
    let want = format!(
        "3 training episodes over 1 session, 11 steps; last 3 mean return {}; best return {}",
        super::svg::num(mean),
        super::svg::num(best)
    );
    assert!(r.body.contains(&want), "{want}\n{}", r.body);
    assert!(r.body.contains(
        "<title id=\"curve-AS-X-returns-title\">Return per training episode, AS-X</title>"
    ));
    assert!(r.body.contains("<desc id=\"curve-AS-X-returns-desc\">Return of each of 3 training"));
    assert!(
        r.body.contains("aria-labelledby=\"curve-AS-X-episodes-title curve-AS-X-episodes-desc\"")
    );
    assert!(r.body.contains("3 episodes in 11 steps"));
    assert!(!r.body.contains("curve-AS-S"), "only sub-challenges trained on");

    // Another learner and a visitor see none of it.
    let mut jack = s.register("jack").await;
    let other = s.page(&mut jack, "/challenges/C03-safety-gridworlds").await;
    assert!(!other.body.contains("curve-AS-X") && other.body.contains("No finished training"));
    let guest = s.page(&mut anon, "/challenges/C03-safety-gridworlds").await;
    assert!(!guest.body.contains("curve-AS-X") && guest.body.contains("to see your training"));

    // The same episodes straight from the ledger.
    let rows = s
        .state
        .db(|conn| super::curves::training_episodes(conn, 1, "C03-safety-gridworlds/AS-X"))
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|e| e.ret).collect::<Vec<_>>(), returns);
    assert_eq!(rows.iter().map(|e| e.steps).collect::<Vec<_>>(), vec![3, 5, 3]);
}

#[tokio::test]
async fn challenge_page_links_replays_of_session_attempts_only() {
    let s = Site::start().await;
    let mut kim = s.register("kim").await;
    let (session, _) = played(&s, &mut kim, "train", &[&[1, 1, 1]]).await;
    let evaluated = attempt(&s, 1, session, false).await;
    let submitted = attempt(&s, 1, 0, false).await; // as POST /api/submissions stores it
    let r = s.page(&mut kim, "/challenges/C03-safety-gridworlds").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&format!("href=\"/attempts/{evaluated}/replay\"")), "{}", r.body);
    assert!(!r.body.contains(&format!("/attempts/{submitted}/replay")), "{}", r.body);
    assert!(r.body.contains("submitted artefact"));
}
