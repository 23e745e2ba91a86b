//! API tests against the router, on SQLite (a temporary file per test) and on a real
//! PostgreSQL cluster that the test starts itself from the machine's binaries (one database
//! per check, the cluster stopped at the end).
//!
//! Every check is an `async fn(url)` listed once in `checks!`; the macro makes one SQLite
//! test per check, and `postgres_suite` runs them all on PostgreSQL.

mod harness;
mod limits;
mod openapi_doc;
mod pg;
mod score;
mod solutions;
mod submit;

use harness::*;
use limits::{rate_limits, train_budget};
use score::scoring;
use solutions::writeups_boards_and_reload;
use submit::submissions;

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = dir.path().join("t.db").to_string_lossy().into_owned();
                    super::harness::block_on(super::$name(url));
                }
            )*
        }

        /// Every check on PostgreSQL, each on a fresh database of one cluster.
        #[test]
        fn postgres_suite() {
            let Some(cluster) = pg::Cluster::start() else { return };
            let mut n = 0;
            $(
                let url = cluster.database(stringify!($name));
                harness::block_on($name(url));
                n += 1;
            )*
            eprintln!("postgres_suite: {n} checks passed on PostgreSQL");
        }
    };
}

checks!(
    accounts,
    tokens,
    csrf,
    practice_session,
    hidden_metrics_never_leave,
    ledger_chain_and_counters,
    batch_step,
    eval_session,
    restart_replays_sessions,
    a_panicking_environment_closes_its_session_only,
    errors_are_json,
    admin_ledger_export_and_delete,
    rate_limits,
    train_budget,
    scoring,
    submissions,
    writeups_boards_and_reload,
);

async fn accounts(url: String) {
    let s = Server::start(&url).await;
    let (st, a) = s.call("POST", "/api/register", Some(creds("alice")), &Who::Nobody).await;
    assert_eq!(st, 201, "{a}");
    assert_eq!(a["is_admin"], true, "the first account is the admin");
    let (st, b) = s.call("POST", "/api/register", Some(creds("bobby")), &Who::Nobody).await;
    assert_eq!(st, 201);
    assert_eq!(b["is_admin"], false);
    let (st, e) = s.call("POST", "/api/register", Some(creds("alice")), &Who::Nobody).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("conflict")));
    let bad = serde_json::json!({"username": "a b", "password": "longenough"});
    let (st, _) = s.call("POST", "/api/register", Some(bad), &Who::Nobody).await;
    assert_eq!(st, 400);
    let short = serde_json::json!({"username": "carol", "password": "short"});
    assert_eq!(s.call("POST", "/api/register", Some(short), &Who::Nobody).await.0, 400);

    let wrong = serde_json::json!({"username": "alice", "password": "wrong password"});
    let (st, e) = s.call("POST", "/api/login", Some(wrong), &Who::Nobody).await;
    assert_eq!((st, e["error"]["code"].as_str()), (401, Some("unauthorized")));
    let cookie = s.login("alice").await;
    let (st, me) = s.call("GET", "/api/me", None, &cookie).await;
    assert_eq!((st, me["username"].as_str()), (200, Some("alice")));
    let (st, _) = s.call("POST", "/api/logout", None, &cookie).await;
    assert_eq!(st, 204);
    assert_eq!(s.call("GET", "/api/me", None, &cookie).await.0, 401);
    assert_eq!(s.call("GET", "/api/me", None, &Who::Nobody).await.0, 401);

    // The stored password is an Argon2id PHC string, never the password.
    let phc: String = s
        .db(|c| {
            use diesel::prelude::*;
            use mlroots_server::db::schema::accounts::dsl as a;
            Ok(a::accounts.filter(a::username.eq("alice")).select(a::password_hash).first(c)?)
        })
        .await;
    assert!(phc.starts_with("$argon2id$"), "{phc}");
}

async fn tokens(url: String) {
    let s = Server::start(&url).await;
    let cookie = s.register_and_login("alice").await;
    let (st, t) = s
        .call(
            "POST",
            "/api/tokens",
            Some(serde_json::json!({"name": "laptop", "expires_in_days": 30})),
            &cookie,
        )
        .await;
    assert_eq!(st, 201, "{t}");
    let secret = t["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("mlr_") && secret.len() == 4 + 64, "{secret}");
    let bearer = Who::Bearer(secret.clone());
    assert_eq!(s.call("GET", "/api/me", None, &bearer).await.0, 200);

    // Listed without its secret; the database holds only its SHA-256.
    let (_, list) = s.call("GET", "/api/tokens", None, &cookie).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret[4..]), "the list leaks the secret");
    assert!(list[0]["last_used_ms"].is_i64(), "last use recorded: {list}");
    let stored: String = s
        .db(|c| {
            use diesel::prelude::*;
            use mlroots_server::db::schema::api_tokens::dsl as t;
            Ok(t::api_tokens.select(t::token_hash).first(c)?)
        })
        .await;
    assert_ne!(stored, secret);
    assert_eq!(stored.len(), 64);

    // A token cannot mint tokens; a token without the sessions scope cannot open sessions.
    let (st, _) =
        s.call("POST", "/api/tokens", Some(serde_json::json!({"name": "x"})), &bearer).await;
    assert_eq!(st, 403);
    let (_, ro) = s
        .call(
            "POST",
            "/api/tokens",
            Some(serde_json::json!({"name": "ro", "scopes": ["read"]})),
            &cookie,
        )
        .await;
    let ro = Who::Bearer(ro["token"].as_str().unwrap().to_string());
    let (st, _) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "train")), &ro).await;
    assert_eq!(st, 403);
    let (st, _) = s
        .call(
            "POST",
            "/api/tokens",
            Some(serde_json::json!({"name": "x", "scopes": ["root"]})),
            &cookie,
        )
        .await;
    assert_eq!(st, 400);

    // Revocation takes effect at once, even though credentials are cached.
    let id = t["id"].as_i64().unwrap();
    assert_eq!(s.call("DELETE", &format!("/api/tokens/{id}"), None, &cookie).await.0, 204);
    assert_eq!(s.call("GET", "/api/me", None, &bearer).await.0, 401);
    assert_eq!(s.call("DELETE", &format!("/api/tokens/{id}"), None, &cookie).await.0, 404);
    let bad = Who::Bearer("mlr_0000".into());
    assert_eq!(s.call("GET", "/api/me", None, &bad).await.0, 401);
}

async fn csrf(url: String) {
    let s = Server::start(&url).await;
    let cookie = s.register_and_login("alice").await;
    let Who::Cookie(c) = &cookie else { unreachable!() };
    let evil = Who::CookieFrom(c.clone(), "https://evil.example".into());
    let (st, e) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "practice")), &evil).await;
    assert_eq!((st, e["error"]["code"].as_str()), (403, Some("forbidden")), "{e}");
    let same = Who::CookieFrom(c.clone(), "http://localhost".into());
    let (st, _) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "practice")), &same).await;
    assert_eq!(st, 201);
    // Reading is allowed from anywhere (it changes nothing).
    assert_eq!(s.call("GET", "/api/me", None, &evil).await.0, 200);
}

async fn practice_session(url: String) {
    let s = Server::start(&url).await;
    let me = s.user_token("alice").await;
    let (st, o) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "practice")), &me).await;
    assert_eq!(st, 201, "{o}");
    assert_eq!(o["env_id"], "boat-race-v1");
    assert_eq!(o["action_space"]["n"], 4);
    assert_eq!(o["observation_space"]["type"], "Box");
    let id = o["id"].as_i64().unwrap();

    let (st, e) = s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &me).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("conflict")), "step before reset");
    let (st, r) = s
        .call(
            "POST",
            &format!("/api/sessions/{id}/reset"),
            Some(serde_json::json!({"seed": 7})),
            &me,
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let len = r["obs"].as_array().unwrap().len();
    assert!(len > 0);

    // The server's episode is the registry's environment stepped with the same actions.
    let mut reference = Reference::new("boat-race-v1", Some(7));
    assert_eq!(r["obs"], reference.obs_json());
    for a in [3u32, 3, 1, 1, 2, 0, 3] {
        let (st, out) =
            s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(a)), &me).await;
        assert_eq!(st, 200, "{out}");
        let want = reference.step(a);
        assert_eq!(out["reward"].as_f64().unwrap(), want.reward);
        assert_eq!(out["terminated"], want.terminated);
        assert_eq!(out["obs"], reference.obs_json());
    }
    let (st, e) = s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(9)), &me).await;
    assert_eq!((st, e["error"]["code"].as_str()), (400, Some("bad_request")), "{e}");

    let (st, f) = s.call("GET", &format!("/api/sessions/{id}/render?mode=ascii"), None, &me).await;
    assert_eq!(st, 200);
    assert_eq!(f["text"].as_str().unwrap(), reference.env.render_ascii());
    let (st, f) = s.call("GET", &format!("/api/sessions/{id}/render?mode=rgb"), None, &me).await;
    assert_eq!(st, 200);
    let (h, w) = (f["height"].as_u64().unwrap(), f["width"].as_u64().unwrap());
    assert_eq!(f["data"].as_array().unwrap().len() as u64, 3 * h * w);
    assert_eq!(
        s.call("GET", &format!("/api/sessions/{id}/render?mode=svg"), None, &me).await.0,
        400
    );

    // Another account cannot see it.
    let other = s.user_token("bobby").await;
    let (st, _) =
        s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &other).await;
    assert_eq!(st, 404);
    assert_eq!(s.call("DELETE", &format!("/api/sessions/{id}"), None, &other).await.0, 404);

    assert_eq!(s.call("DELETE", &format!("/api/sessions/{id}"), None, &me).await.0, 204);
    let (st, _) = s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &me).await;
    assert_eq!(st, 404);
    let (st, _) =
        s.call("POST", "/api/sessions", Some(open_req("env/no-such-env", "train")), &me).await;
    assert_eq!(st, 404);
    let (st, _) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "play")), &me).await;
    assert_eq!(st, 400);
    let (st, _) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "eval")), &me).await;
    assert_eq!(st, 400, "the built-in catalogue has no evaluations");
}

/// Walks every response of a whole training and evaluation run and checks that no hidden
/// value (performance, hidden reward, events, seeds) appears in any of them.
async fn hidden_metrics_never_leave(url: String) {
    let s = Server::start(&url).await;
    let me = s.user_token("alice").await;
    let mut bodies = Vec::new();
    for (sub, phase) in [("env/absent-supervisor", "train"), ("test/absent-eval", "eval")] {
        let (_, o) = s.call("POST", "/api/sessions", Some(open_req(sub, phase)), &me).await;
        let id = o["id"].as_i64().unwrap();
        bodies.push(o);
        'episodes: for _ in 0..3 {
            let (st, r) = s.call("POST", &format!("/api/sessions/{id}/reset"), None, &me).await;
            if st != 200 {
                break;
            }
            bodies.push(r);
            for i in 0..200u32 {
                let (st, out) = s
                    .call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(i % 4)), &me)
                    .await;
                assert_eq!(st, 200, "{out}");
                let done = out["terminated"] == true || out["truncated"] == true;
                let finished = out.get("attempt").is_some();
                bodies.push(out);
                if finished {
                    break 'episodes;
                }
                if done {
                    break;
                }
            }
        }
        let (_, f) = s.call("GET", &format!("/api/sessions/{id}/render"), None, &me).await;
        bodies.push(f);
    }
    let names: Vec<&str> = {
        let env = mlroots_worlds::registry::make("absent-supervisor", &[]).unwrap();
        env.hidden_metrics().event_names.to_vec()
    };
    assert!(!names.is_empty());
    for b in &bodies {
        assert_no_hidden_keys(b, &names);
    }
    assert!(bodies.len() > 50);
}

async fn ledger_chain_and_counters(url: String) {
    let s = Server::start(&url).await;
    let me = s.user_token("alice").await;
    let (_, o) = s
        .call("POST", "/api/sessions", Some(open_req("env/absent-supervisor", "train")), &me)
        .await;
    let id = o["id"].as_i64().unwrap();
    let mut steps = 0;
    let mut episodes = 0;
    for ep in 0..3u64 {
        s.call(
            "POST",
            &format!("/api/sessions/{id}/reset"),
            Some(serde_json::json!({"seed": ep})),
            &me,
        )
        .await;
        loop {
            let (_, out) =
                s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(1)), &me).await;
            steps += 1;
            if out["terminated"] == true || out["truncated"] == true {
                episodes += 1;
                break;
            }
        }
    }
    let account = s.account_id("alice").await;
    let c = s
        .db(move |conn| {
            Ok(mlroots_server::ledger::counters(
                conn,
                account,
                "env/absent-supervisor",
                mlroots_server::Phase::Train,
            )?)
        })
        .await;
    assert_eq!((c.steps, c.episodes), (steps, episodes));
    let n =
        s.db(move |conn| Ok(mlroots_server::ledger::verify_chain(conn, account).unwrap())).await;
    assert_eq!(n as u64, steps + 3, "one entry per step and per reset");

    // Tampering with any stored field breaks the chain at that entry.
    s.exec("UPDATE ledger SET reward = reward + 1 WHERE seq = 5").await;
    let err = s
        .db(move |conn| {
            Ok(mlroots_server::ledger::verify_chain(conn, account).unwrap_err().to_string())
        })
        .await;
    assert!(err.contains("entry 5"), "{err}");
}

async fn batch_step(url: String) {
    let s = Server::start(&url).await;
    let me = s.user_token("alice").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (_, o) =
            s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "train")), &me).await;
        let id = o["id"].as_i64().unwrap();
        s.call(
            "POST",
            &format!("/api/sessions/{id}/reset"),
            Some(serde_json::json!({"seed": 1})),
            &me,
        )
        .await;
        ids.push(id);
    }
    let mut items: Vec<_> =
        ids.iter().map(|&id| serde_json::json!({"session": id, "action": 3})).collect();
    items.push(serde_json::json!({"session": 999_999, "action": 0}));
    items.push(serde_json::json!({"session": ids[0], "action": 17}));
    let (st, out) =
        s.call("POST", "/api/sessions/step", Some(serde_json::json!({"steps": items})), &me).await;
    assert_eq!(st, 200, "{out}");
    let r = out["results"].as_array().unwrap();
    assert_eq!(r.len(), 7);
    let mut reference = Reference::new("boat-race-v1", Some(1));
    let want = reference.step(3);
    for x in &r[..5] {
        assert_eq!(x["reward"].as_f64().unwrap(), want.reward, "{x}");
        assert_eq!(x["obs"], reference.obs_json());
    }
    assert_eq!(r[5]["error"]["code"], "not_found");
    assert_eq!(r[6]["error"]["code"], "bad_request");
    let too_many: Vec<_> =
        (0..1025).map(|_| serde_json::json!({"session": ids[0], "action": 0})).collect();
    let (st, _) = s
        .call("POST", "/api/sessions/step", Some(serde_json::json!({"steps": too_many})), &me)
        .await;
    assert_eq!(st, 400);
    let account = s.account_id("alice").await;
    let c = s
        .db(move |conn| {
            Ok(mlroots_server::ledger::counters(
                conn,
                account,
                "env/boat-race",
                mlroots_server::Phase::Train,
            )?)
        })
        .await;
    assert_eq!(c.steps, 5, "failed items are not counted");

    // Resets in a batch: sessions 0 and 1 restart (seed 1), 2 to 4 take their second step.
    let mut items: Vec<_> = ids[..2]
        .iter()
        .map(|&id| serde_json::json!({"session": id, "reset": true, "seed": 1}))
        .collect();
    items.extend(ids[2..].iter().map(|&id| serde_json::json!({"session": id, "action": 3})));
    let (st, out) =
        s.call("POST", "/api/sessions/step", Some(serde_json::json!({"steps": items})), &me).await;
    assert_eq!(st, 200, "{out}");
    let r = out["results"].as_array().unwrap();
    let fresh = Reference::new("boat-race-v1", Some(1));
    for x in &r[..2] {
        assert_eq!(x["obs"], fresh.obs_json(), "{x}");
        assert!(x.get("reward").is_none(), "a reset answers obs and info only: {x}");
    }
    let second = reference.step(3);
    for x in &r[2..] {
        assert_eq!(x["reward"].as_f64().unwrap(), second.reward, "{x}");
        assert_eq!(x["obs"], reference.obs_json());
    }
    let c = s
        .db(move |conn| {
            Ok(mlroots_server::ledger::counters(
                conn,
                account,
                "env/boat-race",
                mlroots_server::Phase::Train,
            )?)
        })
        .await;
    assert_eq!(c.steps, 8, "resets are not steps");
    for bad in [
        serde_json::json!({"session": ids[0], "action": 1, "reset": true}),
        serde_json::json!({"session": ids[0]}),
        serde_json::json!({"session": ids[0], "action": 1, "seed": 3}),
    ] {
        let (st, out) = s
            .call("POST", "/api/sessions/step", Some(serde_json::json!({"steps": [bad]})), &me)
            .await;
        assert_eq!(st, 400, "{out}");
        assert!(out["error"]["message"].as_str().unwrap().contains("either"), "{out}");
    }

    // Observations as base64 of little-endian f32: the same values as the lists.
    let items = vec![
        serde_json::json!({"session": ids[0], "reset": true, "seed": 1}),
        serde_json::json!({"session": ids[2], "action": 3}),
    ];
    let body = serde_json::json!({"steps": items, "obs": "base64"});
    let (st, out) = s.call("POST", "/api/sessions/step", Some(body), &me).await;
    assert_eq!(st, 200, "{out}");
    let decode = |v: &serde_json::Value| -> Vec<f32> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("a base64 string"))
            .unwrap();
        bytes.chunks(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    };
    let floats = |v: serde_json::Value| -> Vec<f32> {
        v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
    };
    assert_eq!(decode(&out["results"][0]["obs"]), floats(fresh.obs_json()));
    let third = reference.step(3);
    assert_eq!(out["results"][1]["reward"].as_f64().unwrap(), third.reward);
    assert_eq!(decode(&out["results"][1]["obs"]), floats(reference.obs_json()));
    let body = serde_json::json!({"steps": [{"session": ids[0], "action": 1}], "obs": "hex"});
    let (st, out) = s.call("POST", "/api/sessions/step", Some(body), &me).await;
    assert_eq!(st, 422, "{out}");
    assert!(out["error"]["message"].as_str().unwrap().contains("base64"), "{out}");

    // The same answers as columns: a reset, a step, a failed item; one base64 for every
    // observation, cut by obs_len.
    let items = vec![
        serde_json::json!({"session": ids[1], "reset": true, "seed": 1}),
        serde_json::json!({"session": 999_999, "action": 0}),
        serde_json::json!({"session": ids[2], "action": 3}),
    ];
    let body = serde_json::json!({"steps": items, "obs": "base64", "layout": "columns"});
    let (st, out) = s.call("POST", "/api/sessions/step", Some(body), &me).await;
    assert_eq!(st, 200, "{out}");
    assert!(out.get("results").is_none(), "{out}");
    let n = fresh.obs_json().as_array().unwrap().len();
    assert_eq!(out["obs_len"], serde_json::json!([n, 0, n]));
    let all = decode(&out["obs"]);
    assert_eq!(all[..n], floats(fresh.obs_json())[..]);
    let fourth = reference.step(3);
    assert_eq!(all[n..], floats(reference.obs_json())[..]);
    assert_eq!(out["reward"], serde_json::json!([0.0, 0.0, fourth.reward]));
    assert_eq!(out["terminated"], serde_json::json!([false, false, fourth.terminated]));
    assert_eq!(out["truncated"], serde_json::json!([false, false, fourth.truncated]));
    // Infos by key: the reset has no executed action, the failed item no info.
    assert_eq!(out["info"]["actual_actions"], serde_json::json!([null, null, 3]), "{out}");
    assert_eq!(out["errors"][0]["index"], 1);
    assert_eq!(out["errors"][0]["error"]["code"], "not_found");
    assert_eq!(out["errors"].as_array().unwrap().len(), 1);
    assert_eq!(out["attempts"], serde_json::json!([]));
    let body = serde_json::json!({"steps": [], "layout": "rows"});
    let (st, out) = s.call("POST", "/api/sessions/step", Some(body), &me).await;
    assert_eq!(st, 422, "{out}");
}

async fn eval_session(url: String) {
    let s = Server::start(&url).await;
    let me = s.user_token("alice").await;
    let (st, o) =
        s.call("POST", "/api/sessions", Some(open_req("test/absent-eval", "eval")), &me).await;
    assert_eq!(st, 201, "{o}");
    assert_eq!(o["eval_episodes"], 2);
    let id = o["id"].as_i64().unwrap();
    let reset = format!("/api/sessions/{id}/reset");
    let (st, _) = s.call("POST", &reset, Some(serde_json::json!({"seed": 1})), &me).await;
    assert_eq!(st, 400, "no seeds in eval");
    let mut attempt = None;
    for ep in 0..2 {
        let (st, _) = s.call("POST", &reset, None, &me).await;
        assert_eq!(st, 200);
        if ep == 0 {
            let (st, _) = s.call("POST", &reset, None, &me).await;
            assert_eq!(st, 409, "an evaluation episode cannot be abandoned");
        }
        // The server's seeds are the catalogue's: the reference with that seed agrees.
        let mut reference = Reference::new("absent-supervisor-v1", Some(TestCatalogue::seed(ep)));
        loop {
            let (st, out) =
                s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(1)), &me).await;
            assert_eq!(st, 200, "{out}");
            assert_eq!(out["reward"].as_f64().unwrap(), reference.step(1).reward);
            if let Some(a) = out.get("attempt") {
                attempt = Some(a.clone());
            }
            if out["terminated"] == true || out["truncated"] == true {
                break;
            }
        }
    }
    let a = attempt.expect("the last step reports the attempt");
    let (st, v) = s.call("GET", &format!("/api/attempts/{}", a["id"]), None, &me).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["passed"], a["passed"]);
    assert_eq!(v["verdict"]["episodes"], 2);
    // The session is closed once judged.
    assert_eq!(s.call("POST", &reset, None, &me).await.0, 404);
    let other = s.user_token("bobby").await;
    assert_eq!(s.call("GET", &format!("/api/attempts/{}", a["id"]), None, &other).await.0, 404);
}

async fn restart_replays_sessions(url: String) {
    let (id, me, frame, mut reference) = {
        let s = Server::start(&url).await;
        let me = s.user_token("alice").await;
        let (_, o) =
            s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "train")), &me).await;
        let id = o["id"].as_i64().unwrap();
        let mut reference = Reference::new("boat-race-v1", Some(3));
        s.call(
            "POST",
            &format!("/api/sessions/{id}/reset"),
            Some(serde_json::json!({"seed": 3})),
            &me,
        )
        .await;
        for a in [3u32, 3, 1, 1, 2] {
            s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(a)), &me).await;
            reference.step(a);
        }
        let (_, f) = s.call("GET", &format!("/api/sessions/{id}/render"), None, &me).await;
        (id, me, f, reference)
    };
    // A new server on the same database: the session is rebuilt from the ledger.
    let s = Server::start(&url).await;
    let (st, f) = s.call("GET", &format!("/api/sessions/{id}/render"), None, &me).await;
    assert_eq!(st, 200, "{f}");
    assert_eq!(f, frame);
    for a in [0u32, 0, 3] {
        let (_, out) =
            s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(a)), &me).await;
        assert_eq!(out["reward"].as_f64().unwrap(), reference.step(a).reward);
        assert_eq!(out["obs"], reference.obs_json());
    }
    let account = s.account_id("alice").await;
    let n =
        s.db(move |conn| Ok(mlroots_server::ledger::verify_chain(conn, account).unwrap())).await;
    assert_eq!(n, 1 + 5 + 3, "the chain continues across the restart");
}

/// An environment that panics (a bug, not bad input) fails only its own session: the request
/// gets a JSON 500 naming the session, the session is closed (also across a restart), nothing
/// of the failed step reaches the ledger, and the account's other sessions and the server go
/// on.
async fn a_panicking_environment_closes_its_session_only(url: String) {
    let open = |sub: &'static str| open_req(sub, "train");
    let step = |id: i64| format!("/api/sessions/{id}/step");
    let (me, single, batched, good) = {
        let s = Server::start(&url).await;
        let me = s.user_token("alice").await;
        let mut ids = Vec::new();
        for sub in ["test/panics", "test/panics", "env/boat-race"] {
            let (st, o) = s.call("POST", "/api/sessions", Some(open(sub)), &me).await;
            assert!(st < 300, "{o}");
            ids.push(o["id"].as_i64().unwrap());
        }
        let (single, batched, good) = (ids[0], ids[1], ids[2]);
        let resets: Vec<_> =
            ids.iter().map(|&id| serde_json::json!({"session": id, "reset": true})).collect();
        let (st, o) = s
            .call("POST", "/api/sessions/step", Some(serde_json::json!({"steps": resets})), &me)
            .await;
        assert_eq!(st, 200, "{o}");
        for _ in 0..2 {
            for id in [single, batched] {
                let (st, o) = s.call("POST", &step(id), Some(step_req(3)), &me).await;
                assert_eq!(st, 200, "{o}");
            }
        }
        // The third step of `single` panics: a JSON 500 that says what happened and what to do.
        let (st, e) = s.call("POST", &step(single), Some(step_req(3)), &me).await;
        assert_eq!((st, e["error"]["code"].as_str()), (500, Some("env_failed")), "{e}");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("session {single}")), "{message}");
        assert!(message.contains("open a new session"), "{message}");
        // In a batch, only the failing item fails.
        let items = serde_json::json!({"steps": [
            {"session": batched, "action": 3}, {"session": good, "action": 3}]});
        let (st, o) = s.call("POST", "/api/sessions/step", Some(items), &me).await;
        assert_eq!(st, 200, "{o}");
        assert_eq!(o["results"][0]["error"]["code"], "env_failed", "{o}");
        assert!(o["results"][1]["reward"].is_number(), "{o}");
        for id in [single, batched] {
            assert_eq!(s.call("POST", &step(id), Some(step_req(3)), &me).await.0, 404);
            let reset = format!("/api/sessions/{id}/reset");
            assert_eq!(s.call("POST", &reset, None, &me).await.0, 404, "closed, not resettable");
        }
        assert_eq!(s.call("GET", "/api/health", None, &Who::Nobody).await.0, 200);
        (me, single, batched, good)
    };
    // After a restart the failed sessions stay closed, and the healthy one goes on.
    let s = Server::start(&url).await;
    for id in [single, batched] {
        assert_eq!(s.call("POST", &step(id), Some(step_req(3)), &me).await.0, 404, "{id}");
    }
    let (st, o) = s.call("POST", &step(good), Some(step_req(3)), &me).await;
    assert_eq!(st, 200, "{o}");
    let account = s.account_id("alice").await;
    let n =
        s.db(move |conn| Ok(mlroots_server::ledger::verify_chain(conn, account).unwrap())).await;
    assert_eq!(n, 3 + 2 * 2 + 2, "three resets, two steps of each failing session, two good steps");
}

async fn errors_are_json(url: String) {
    let s = Server::start(&url).await;
    let me = s.user_token("alice").await;
    let (st, e) = s.call("GET", "/api/nothing-here", None, &me).await;
    assert_eq!((st, e["error"]["code"].as_str()), (404, Some("not_found")));
    let (st, e) = s.raw("POST", "/api/register", "{not json", &Who::Nobody).await;
    assert_eq!(st, 400, "{e}");
    assert!(e["error"]["message"].is_string(), "{e}");
    let (st, e) = s.raw("POST", "/api/sessions/abc/step", r#"{"action": 1}"#, &me).await;
    assert_eq!((st, e["error"]["code"].as_str()), (400, Some("bad_request")), "{e}");
    let (st, e) = s.raw("POST", "/api/sessions/1/step", r#"{"action": -1}"#, &me).await;
    assert_eq!(st, 422, "{e}");
    assert!(e["error"].is_object());
    let big = format!(r#"{{"username": "{}", "password": "xxxxxxxxx"}}"#, "a".repeat(2 << 20));
    let (st, e) = s.raw("POST", "/api/register", &big, &Who::Nobody).await;
    assert_eq!(st, 413, "{e}");
    assert_eq!(e["error"]["code"], "too_large");
}

async fn admin_ledger_export_and_delete(url: String) {
    let s = Server::start(&url).await;
    let admin = s.register_and_login("alice").await;
    let bob = s.user_token("bobby").await;
    let bob_id = s.account_id("bobby").await;
    let (_, o) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "train")), &bob).await;
    let id = o["id"].as_i64().unwrap();
    s.call(
        "POST",
        &format!("/api/sessions/{id}/reset"),
        Some(serde_json::json!({"seed": 2})),
        &bob,
    )
    .await;
    for a in [3u32, 3, 3] {
        s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(a)), &bob).await;
    }
    let path = format!("/api/admin/accounts/{bob_id}/ledger");
    assert_eq!(s.call("GET", &path, None, &bob).await.0, 403, "only admins export");
    let (st, x) = s.call("GET", &path, None, &admin).await;
    assert_eq!(st, 200, "{x}");
    assert_eq!(x["chain"]["ok"], true);
    assert_eq!(x["entries"].as_array().unwrap().len(), 4);
    assert_eq!(x["entries"][0]["seed"], 2);
    let (st, d) = s.call("DELETE", &path, None, &admin).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!((d["deleted_entries"].as_i64(), d["closed_sessions"].as_i64()), (Some(4), Some(1)));
    assert_eq!(
        s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &bob).await.0,
        404
    );
    // The account goes on with a fresh chain.
    let (_, o) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "train")), &bob).await;
    let id = o["id"].as_i64().unwrap();
    s.call("POST", &format!("/api/sessions/{id}/reset"), None, &bob).await;
    let n = s.db(move |conn| Ok(mlroots_server::ledger::verify_chain(conn, bob_id).unwrap())).await;
    assert_eq!(n, 1);
    // Past a by-session index update, deleted again, and past another on the fresh chain:
    // each session reads exactly its own entries (nothing of the old chain is indexed).
    let steps = mlroots_server::ledger::MARK_EVERY as usize + 40;
    let walk = |id: i64| {
        let (s, bob) = (&s, &bob);
        async move {
            for _ in 0..steps {
                let (_, o) = s
                    .call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(3)), bob)
                    .await;
                if o["terminated"] == true || o["truncated"] == true {
                    s.call("POST", &format!("/api/sessions/{id}/reset"), None, bob).await;
                }
            }
        }
    };
    walk(id).await;
    assert_eq!(s.call("DELETE", &path, None, &admin).await.0, 200);
    let (_, o) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "train")), &bob).await;
    let fresh = o["id"].as_i64().unwrap();
    s.call("POST", &format!("/api/sessions/{fresh}/reset"), None, &bob).await;
    walk(fresh).await;
    let (old, new) = s
        .db(move |conn| {
            let read = |c: &mut _, id| mlroots_server::ledger::session_entries(c, bob_id, id);
            Ok((read(conn, id)?, read(conn, fresh)?))
        })
        .await;
    assert!(old.is_empty(), "the deleted session reads {} entries", old.len());
    let total =
        s.db(move |conn| Ok(mlroots_server::ledger::verify_chain(conn, bob_id).unwrap())).await;
    assert_eq!(new.len(), total, "the fresh session reads the whole fresh chain");
    assert!(new.iter().all(|r| r.session_id == fresh));
    assert!(new.windows(2).all(|w| w[0].seq < w[1].seq));
}
