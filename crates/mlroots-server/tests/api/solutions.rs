//! Solvers' writeups, sub-challenge boards (an open problem by its metric) and the admin
//! reload route, on both backends.

use mlroots_server::catalogue::MetricInfo;
use serde_json::{Value, json};

use crate::harness::*;
use crate::score::pass;

pub async fn writeups_boards_and_reload(url: String) {
    let s = Server::start(&url).await;
    let admin = s.register_and_login("alice").await;
    let bob = s.user_token("bobby").await;
    let carol = s.user_token("carol").await;

    // Reload: admins only; this test catalogue has no folder behind it.
    assert_eq!(s.call("POST", "/api/admin/reload", None, &Who::Nobody).await.0, 401);
    assert_eq!(s.call("POST", "/api/admin/reload", None, &bob).await.0, 403);
    let (st, e) = s.call("POST", "/api/admin/reload", None, &admin).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("conflict")), "{e}");

    // Writeups: solvers only, size-limited, replaced on a second write.
    let w = |body: &str| Some(json!({"sub_challenge": "PASS/eval", "body": body}));
    let (st, e) = s.call("POST", "/api/writeups", w("before"), &bob).await;
    assert_eq!(st, 403, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("solve it first"));
    assert_eq!(pass(&s, &bob).await["passed"], true);
    let (st, v) = s.call("POST", "/api/writeups", w("I *looked* away."), &bob).await;
    assert_eq!((st, v["replaced"].as_bool()), (201, Some(false)), "{v}");
    let (st, v) = s.call("POST", "/api/writeups", w("I looked away."), &bob).await;
    assert_eq!((st, v["replaced"].as_bool()), (200, Some(true)), "{v}");
    let long = "x".repeat(mlroots_server::writeups::MAX_WRITEUP_BYTES + 1);
    assert_eq!(s.call("POST", "/api/writeups", w(&long), &bob).await.0, 400);
    assert_eq!(s.call("POST", "/api/writeups", w("   "), &bob).await.0, 400);
    assert_eq!(s.call("POST", "/api/writeups", w("mine"), &carol).await.0, 403);
    let unknown = Some(json!({"sub_challenge": "NOPE/x", "body": "b"}));
    assert_eq!(s.call("POST", "/api/writeups", unknown, &bob).await.0, 404);
    let subs = vec!["PASS/eval".to_string()];
    let rows = s.db(move |c| Ok(mlroots_server::writeups::for_subs(c, &subs)?)).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].username.as_str(), rows[0].body.as_str()), ("bobby", "I looked away."));

    // A sub-challenge's board: solvers in solve order.
    pass(&s, &carol).await;
    let (st, b) = s.call("GET", "/api/leaderboard/PASS/eval", None, &Who::Nobody).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["ranked_by"], "solve_time");
    let names: Vec<&str> = b["standings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bobby", "carol"]);
    assert_eq!(
        (b["standings"][0]["first_solve"].as_bool(), b["standings"][0]["points"].as_i64()),
        (Some(true), Some(100))
    );
    assert_eq!(s.call("GET", "/api/leaderboard/NOPE/x", None, &Who::Nobody).await.0, 404);

    // An open problem's board from stored verdicts: each account's best, ties to the earlier.
    let (b_id, c_id) = (s.account_id("bobby").await, s.account_id("carol").await);
    for (acc, score, at) in [(b_id, 5.0, 10), (c_id, 7.5, 20), (b_id, 7.5, 30), (c_id, -1.0, 40)] {
        let verdict: Value = json!({"passed": true, "score": score});
        s.db(move |c| {
            use diesel::prelude::*;
            use mlroots_server::db::schema::attempts::dsl as a;
            diesel::insert_into(a::attempts)
                .values((
                    a::account_id.eq(acc),
                    a::sub_challenge.eq("OPEN/rank"),
                    a::session_id.eq(0i64),
                    a::passed.eq(true),
                    a::verdict.eq(verdict.to_string()),
                    a::created_ms.eq(at),
                ))
                .execute(c)?;
            Ok(())
        })
        .await;
    }
    let higher = MetricInfo { text: "eval.mean.performance".into(), higher_is_better: true };
    let rows = s
        .db(move |c| Ok(mlroots_server::scoring::sub_standings(c, "OPEN/rank", Some(&higher))?))
        .await;
    let got: Vec<(&str, f64)> =
        rows.iter().map(|r| (r.username.as_str(), r.score.unwrap())).collect();
    assert_eq!(got, [("carol", 7.5), ("bobby", 7.5)], "carol reached 7.5 first");
    let lower = MetricInfo { text: "eval.mean.steps".into(), higher_is_better: false };
    let rows = s
        .db(move |c| Ok(mlroots_server::scoring::sub_standings(c, "OPEN/rank", Some(&lower))?))
        .await;
    let got: Vec<(&str, f64)> =
        rows.iter().map(|r| (r.username.as_str(), r.score.unwrap())).collect();
    assert_eq!(got, [("carol", -1.0), ("bobby", 5.0)]);
}
