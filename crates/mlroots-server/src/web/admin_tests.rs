//! The admin page and catalogue reload, solutions after a solve, open-problem boards and the
//! public URL, against the router (the harness of `tests.rs`) on a temporary copy of the
//! catalogue, so a test can break it, extend it and reload it.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use diesel::prelude::*;
use serde_json::json;

use super::tests::{Browser, Site};

/// A phrase of C03's official writeup (`solution/writeup.md`) that no other file serves.
const OFFICIAL: &str = "punishment cell while nobody";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

const OPEN_TOML: &str = r#"
id = "C99-open"
version = 1
title = "An open problem"
track = "agents"
summary = "Rank by hidden performance."

[[sub]]
id = "AS-O"
title = "Best performance"
kind = "open"
env = "absent-supervisor"
submission = "sessions"
budget = { train_episodes = 100, eval_episodes = 1 }
metric = "eval.mean.performance"
points = 300
"#;

/// Adds challenge `C99-open` (one open sub-challenge) to the catalogue at `root` and records
/// it in the version lock.
fn add_open_challenge(root: &Path) {
    let dir = root.join("C99-open");
    std::fs::create_dir_all(dir.join("solution")).unwrap();
    std::fs::write(dir.join("challenge.toml"), OPEN_TOML).unwrap();
    std::fs::write(dir.join("statement.md"), "# Open\n\nDo your best.\n").unwrap();
    let sol = "[AS-O]\nlearner = \"actions\"\nactions = \"rrrdddlll\"\n";
    std::fs::write(dir.join("solution/reference.toml"), sol).unwrap();
    std::fs::write(dir.join("solution/baseline.toml"), sol).unwrap();
    std::fs::write(dir.join("solution/calibration.md"), "measured by hand\n").unwrap();
    std::fs::write(dir.join("solution/writeup.md"), "# Open: the known best\n").unwrap();
    let challenges = mlroots_challenge::load::catalogue(root).unwrap();
    let lock = mlroots_challenge::load::read_lock(root).unwrap();
    let text = mlroots_challenge::lock::update(&challenges, &lock).unwrap();
    std::fs::write(root.join(mlroots_challenge::load::LOCK_FILE), text).unwrap();
}

/// A copy of the repository's catalogue in a temporary folder.
fn catalogue_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("challenges");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../challenges"), &root);
    (dir, root)
}

/// Records a solve of `sub` by `account` as an attempt's transaction would.
async fn solve(s: &Site, account: i64, sub: &'static str) {
    let cat = s.state.inner.catalogue.challenges().unwrap();
    let (ch, sc) = cat.find(sub).unwrap();
    let worth = (ch.id.clone(), sc.points);
    s.state
        .db(move |conn| Ok(crate::scoring::record_solve(conn, account, sub, account, &worth)?))
        .await
        .unwrap();
}

/// Stores a passed attempt with the judge's `score` in its verdict.
async fn scored_attempt(s: &Site, account: i64, sub: &'static str, score: f64, at: i64) {
    s.state
        .db(move |conn| {
            use crate::db::schema::attempts::dsl as a;
            diesel::insert_into(a::attempts)
                .values(
                    (
                        a::account_id.eq(account),
                        a::sub_challenge.eq(sub),
                        a::session_id.eq(0i64),
                        a::passed.eq(true),
                        a::verdict
                            .eq(json!({"passed": true, "score": score, "better": "higher"})
                                .to_string()),
                        a::created_ms.eq(at),
                    ),
                )
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn api(
    s: &Site,
    b: &mut Browser,
    method: &str,
    path: &str,
    v: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    s.json(b, method, path, v).await
}

#[tokio::test]
async fn solutions_stay_hidden_until_a_solve_then_show_with_safe_writeups() {
    let s = Site::start().await;
    let mut alice = s.register("alice").await;
    let mut bob = s.register("bobby").await;
    let mut anon = Browser::default();
    let c03 = "/challenges/C03-safety-gridworlds";
    // Nobody has solved: no page or API route shows the official writeup.
    for b in [&mut anon, &mut bob] {
        for path in [
            "/",
            "/challenges",
            c03,
            "/leaderboard",
            "/leaderboard?sub=C03-safety-gridworlds/AS-S",
            "/play?sub=C03-safety-gridworlds/AS-S",
            "/openapi.json",
            "/api/leaderboard",
            "/api/challenges/C03-safety-gridworlds/writeups",
        ] {
            let r = s.page(b, path).await;
            assert!(!r.body.contains(OFFICIAL), "{path} shows the official solution");
            assert!(!r.body.contains("Never served before a solve"), "{path}");
        }
    }
    assert!(!s.page(&mut bob, c03).await.body.contains("id=\"solutions\""));
    let (st, e) =
        api(&s, &mut bob, "GET", "/api/challenges/C03-safety-gridworlds/writeups", json!({})).await;
    assert_eq!(st, 403, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("after you solve"));
    assert_eq!(
        s.page(&mut anon, "/api/challenges/C03-safety-gridworlds/writeups").await.status,
        401
    );
    // A non-solver cannot write one, by the API or the form.
    let body = json!({"sub_challenge": "C03-safety-gridworlds/AS-S", "body": "I did it"});
    let (st, e) = api(&s, &mut bob, "POST", "/api/writeups", body.clone()).await;
    assert_eq!(st, 403, "{e}");
    let csrf = bob.get(super::CSRF_COOKIE);
    let r = s
        .form(
            &mut bob,
            &format!("{c03}/writeups"),
            &[("csrf", &csrf), ("sub", "AS-S"), ("body", "mine")],
        )
        .await;
    assert_eq!(r.status, 403);

    // Alice solves AS-S: she sees the official writeup and can write hers.
    solve(&s, 1, "C03-safety-gridworlds/AS-S").await;
    let page = s.page(&mut alice, c03).await;
    assert!(page.body.contains(OFFICIAL), "the solver sees the official writeup");
    assert!(page.body.contains("<h1>C03 Gridworld Gauntlet: solutions</h1>"), "rendered Markdown");
    assert!(page.body.contains("Solvers' writeups of AS-S"));
    let csrf = alice.get(super::CSRF_COOKIE);
    let evil = "Went *round*. <script>alert(1)</script> [click](javascript:alert(2)) ![x](http://evil.test/t.png) [ok](https://example.org)";
    let r = s
        .form(
            &mut alice,
            &format!("{c03}/writeups"),
            &[("csrf", "stale"), ("sub", "AS-S"), ("body", evil)],
        )
        .await;
    assert_eq!(r.status, 403, "CSRF-checked");
    let r = s
        .form(
            &mut alice,
            &format!("{c03}/writeups"),
            &[
                ("csrf", &csrf),
                ("sub", "AS-S"),
                ("body", &evil.replace('&', "%26").replace('#', "%23")),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.page(&mut alice, c03).await;
    assert!(page.body.contains("Went <em>round</em>."), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;") && !page.body.contains("<script>alert"));
    // (The raw Markdown is in the edit box, escaped; the rendered writeup links nowhere bad.)
    assert!(!page.body.contains("href=\"javascript") && !page.body.contains("<img"));
    assert!(page.body.contains("<a href=\"#\">click</a>"), "{}", page.body);
    assert!(page.body.contains("href=\"https://example.org\""));
    // Too long, and replacing.
    let long = "a".repeat(crate::writeups::MAX_WRITEUP_BYTES + 1);
    let (st, e) = api(
        &s,
        &mut alice,
        "POST",
        "/api/writeups",
        json!({"sub_challenge": "C03-safety-gridworlds/AS-S", "body": long}),
    )
    .await;
    assert_eq!(st, 400, "{e}");
    let (st, v) = api(
        &s,
        &mut alice,
        "POST",
        "/api/writeups",
        json!({"sub_challenge": "C03-safety-gridworlds/AS-S", "body": "The long way round."}),
    )
    .await;
    assert_eq!((st, v["replaced"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let (st, v) =
        api(&s, &mut alice, "GET", "/api/challenges/C03-safety-gridworlds/writeups", json!({}))
            .await;
    assert_eq!(st, 200, "{v}");
    assert!(v["official"].as_str().unwrap().contains(OFFICIAL));
    assert_eq!(v["solved"], json!(["C03-safety-gridworlds/AS-S"]));
    assert_eq!(v["writeups"][0]["username"], "alice");
    assert_eq!(v["writeups"][0]["body"], "The long way round.");

    // Bob, still without a solve, sees none of it.
    let page = s.page(&mut bob, c03).await;
    assert!(!page.body.contains(OFFICIAL) && !page.body.contains("The long way round."));
    // Bob solves another sub-challenge: the official writeup, but not AS-S's writeups.
    solve(&s, 2, "C03-safety-gridworlds/AS-X").await;
    let page = s.page(&mut bob, c03).await;
    assert!(page.body.contains(OFFICIAL));
    assert!(!page.body.contains("The long way round."), "writeups stay with their sub's solvers");
    let (_, v) =
        api(&s, &mut bob, "GET", "/api/challenges/C03-safety-gridworlds/writeups", json!({})).await;
    assert_eq!(v["writeups"], json!([]));
    // C01 stays closed to both.
    assert!(
        !s.page(&mut alice, "/challenges/C01-treacherous-turn")
            .await
            .body
            .contains("id=\"solutions\"")
    );
}

#[tokio::test]
async fn admin_page_lists_users_and_attempts_and_reloads_only_a_clean_catalogue() {
    let (_dir, root) = catalogue_copy();
    let s = Site::start_with(&root, |_| {}).await;
    let mut admin = s.register("root_admin").await;
    let mut learner = s.register("learner").await;
    assert_eq!(s.page(&mut Browser::default(), "/admin").await.status, 404);
    assert_eq!(s.page(&mut learner, "/admin").await.status, 403);
    scored_attempt(&s, 2, "C03-safety-gridworlds/AS-X", 17.0, 1_764_999_000_000).await;
    let page = s.page(&mut admin, "/admin").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<td>root_admin</td><td>admin</td>"), "{}", page.body);
    assert!(page.body.contains("<td>learner</td><td>learner</td>"));
    assert!(page.body.contains("C03-safety-gridworlds/AS-X") && page.body.contains("passed"));
    assert!(page.body.contains("2025-12-06 05:30"), "times in UTC");
    assert!(page.body.contains("Reload catalogue"));

    // A broken file: every problem is shown and the old catalogue keeps serving.
    let toml = root.join("C03-safety-gridworlds/challenge.toml");
    let good = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, good.replace("eval.mean.return >= 45", "eval.mean.retrun >= 45"))
        .unwrap();
    let csrf = admin.get(super::CSRF_COOKIE);
    let learner_csrf = learner.get(super::CSRF_COOKIE);
    let r = s.form(&mut learner, "/admin/reload", &[("csrf", &learner_csrf)]).await;
    assert_eq!(r.status, 403);
    let r = s.form(&mut admin, "/admin/reload", &[("csrf", "wrong")]).await;
    assert_eq!(r.status, 403);
    let r = s.form(&mut admin, "/admin/reload", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("NOT reloaded") && r.body.contains("challenge.toml:"), "{}", r.body);
    assert!(r.body.contains("retrun"), "{}", r.body);
    assert_eq!(s.page(&mut admin, "/challenges/C03-safety-gridworlds").await.status, 200);
    std::fs::write(&toml, &good).unwrap();

    // A new challenge that lints clean is swapped in.
    assert_eq!(s.page(&mut admin, "/challenges/C99-open").await.status, 404);
    add_open_challenge(&root);
    let r = s.form(&mut admin, "/admin/reload", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let challenges = std::fs::read_dir(&root)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("challenge.toml").exists())
        .count();
    assert!(r.body.contains(&format!("Reloaded: {challenges} challenge(s)")), "{}", r.body);
    assert_eq!(s.page(&mut admin, "/challenges/C99-open").await.status, 200);
    assert!(s.state.inner.catalogue.sub_challenge("C99-open/AS-O").is_some());

    // The API route: an admin's token needs the admin scope; others are refused.
    let (st, e) =
        api(&s, &mut learner, "POST", "/api/tokens", json!({"name": "x", "scopes": ["admin"]}))
            .await;
    assert_eq!(st, 403, "{e}");
    let (st, t) =
        api(&s, &mut admin, "POST", "/api/tokens", json!({"name": "ops", "scopes": ["admin"]}))
            .await;
    assert_eq!(st, 201, "{t}");
    let admin_token = t["token"].as_str().unwrap().to_string();
    // The account page's form too.
    let r = s
        .form(
            &mut admin,
            "/account/tokens",
            &[("csrf", &csrf), ("name", "ops2"), ("scope_admin", "1")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains("<td>admin</td>"));
    let r = s
        .form(
            &mut learner,
            "/account/tokens",
            &[("csrf", &learner_csrf), ("name", "x"), ("scope_admin", "1")],
        )
        .await;
    assert_eq!(r.status, 403);
    let (_, t) =
        api(&s, &mut admin, "POST", "/api/tokens", json!({"name": "s", "scopes": ["sessions"]}))
            .await;
    let plain_token = t["token"].as_str().unwrap().to_string();
    let call = |token: String| {
        let app = crate::app(s.state.clone());
        async move {
            let req = axum::http::Request::post("/api/admin/reload")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let res = tower::ServiceExt::oneshot(app, req).await.unwrap();
            let status = res.status();
            let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
            (status, serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default())
        }
    };
    let (st, v) = call(admin_token.clone()).await;
    assert_eq!(st, 200, "{v}");
    let mut ids: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("challenge.toml").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    assert!(ids.contains(&"C99-open".to_string()));
    assert_eq!(v["challenges"], json!(ids));
    assert_eq!(call(plain_token).await.0, 403, "an admin token without the admin scope");
    let (st, _) = api(&s, &mut learner, "POST", "/api/admin/reload", json!({})).await;
    assert_eq!(st, 403);
    std::fs::remove_file(root.join("C99-open/solution/calibration.md")).unwrap();
    let (st, v) = call(admin_token).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"]["code"], "catalogue_invalid");
    assert!(v["error"]["message"].as_str().unwrap().contains("calibration.md"));
    assert!(s.state.inner.catalogue.sub_challenge("C99-open/AS-O").is_some(), "kept");
}

#[tokio::test]
async fn open_problems_rank_by_their_metric_with_ties_to_the_earlier_attempt() {
    let (_dir, root) = catalogue_copy();
    add_open_challenge(&root);
    let s = Site::start_with(&root, |_| {}).await;
    let mut a = s.register("alice").await;
    let _b = s.register("bobby").await;
    let _c = s.register("carol").await;
    let sub = "C99-open/AS-O";
    // alice 10 then 30 (her best); bobby 30 earlier than alice's 30; carol 20.
    scored_attempt(&s, 1, sub, 10.0, 100).await;
    scored_attempt(&s, 2, sub, 30.0, 200).await;
    scored_attempt(&s, 1, sub, 30.0, 300).await;
    scored_attempt(&s, 3, sub, 20.0, 400).await;
    let (st, v) = api(&s, &mut a, "GET", &format!("/api/leaderboard/{sub}"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["ranked_by"], "metric");
    assert_eq!(v["metric"]["text"], "eval.mean.performance");
    let rows: Vec<(String, f64)> = v["standings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["username"].as_str().unwrap().to_string(), r["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(rows, [("bobby".into(), 30.0), ("alice".into(), 30.0), ("carol".into(), 20.0)]);
    assert_eq!(v["standings"][1]["first_solve"], true, "alice's 10 was the first attempt");
    let page = s.page(&mut a, "/leaderboard").await;
    assert!(page.body.contains("Open problems"), "{}", page.body);
    assert!(page.body.contains(&format!("/leaderboard?sub={sub}")));
    let board = s.page(&mut a, &format!("/leaderboard?sub={sub}")).await;
    assert_eq!(board.status, 200);
    assert!(board.body.contains("<th scope=\"col\">eval.mean.performance</th>"));
    let (bo, al, ca) = (
        board.body.find("bobby").unwrap(),
        board.body.find("alice (you)").unwrap(),
        board.body.find("carol").unwrap(),
    );
    assert!(bo < al && al < ca);
    let (st, _) = api(&s, &mut a, "GET", "/api/leaderboard/C99-open/NOPE", json!({})).await;
    assert_eq!(st, 404);
}

#[test]
fn metric_ranking_follows_the_direction_and_keeps_each_accounts_best() {
    let names = [(1, "a".to_string()), (2, "b".to_string())].into_iter().collect();
    let attempts = [(1, 1, 5.0, 10), (2, 2, 3.0, 20), (3, 1, 2.0, 30)];
    let low = crate::scoring::rank_scores(attempts, false, &names);
    let got: Vec<(&str, f64, i64)> =
        low.iter().map(|r| (r.username.as_str(), r.score.unwrap(), r.attempt.unwrap())).collect();
    assert_eq!(got, [("a", 2.0, 3), ("b", 3.0, 2)], "lower is better: a's best is 2");
    let high = crate::scoring::rank_scores(attempts, true, &names);
    let got: Vec<(&str, f64)> =
        high.iter().map(|r| (r.username.as_str(), r.score.unwrap())).collect();
    assert_eq!(got, [("a", 5.0), ("b", 3.0)]);
}

#[tokio::test]
async fn pages_use_the_public_url_or_a_trusted_proxy_scheme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../challenges");
    let s = Site::start_with(&root, |c| c.public_url = Some("https://ml.example.org".into())).await;
    let home = s.page(&mut Browser::default(), "/").await.body;
    assert!(
        home.contains("https://ml.example.org") && !home.contains("http://site.test"),
        "{home}"
    );

    let s = Site::start_with(&root, |_| {}).await;
    let home = proxied_home(&s).await;
    assert!(home.contains("http://site.test") && !home.contains("https://site.test"), "untrusted");
    let s = Site::start_with(&root, |c| c.trust_proxy = true).await;
    let home = proxied_home(&s).await;
    assert!(home.contains("https://site.test"), "{home}");
}

/// The home page through a proxy that says the client used HTTPS.
async fn proxied_home(s: &Site) -> String {
    let req = axum::http::Request::get("/")
        .header("host", "site.test")
        .header("x-forwarded-proto", "https")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(crate::app(s.state.clone()), req).await.unwrap();
    let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}
