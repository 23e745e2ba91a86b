//! Hints, solves and leaderboards.

use serde_json::{Value, json};

use crate::harness::*;

/// Runs one evaluation of `PASS/eval` (one episode, always passed); returns the attempt.
pub async fn pass(s: &Server, who: &Who) -> Value {
    let (st, o) = s.call("POST", "/api/sessions", Some(open_req("PASS/eval", "eval")), who).await;
    assert_eq!(st, 201, "{o}");
    let id = o["id"].as_i64().unwrap();
    assert_eq!(s.call("POST", &format!("/api/sessions/{id}/reset"), None, who).await.0, 200);
    for _ in 0..10_000 {
        let (st, out) =
            s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(1)), who).await;
        assert_eq!(st, 200, "{out}");
        if let Some(a) = out.get("attempt") {
            return a.clone();
        }
    }
    panic!("the evaluation episode did not end");
}

pub async fn scoring(url: String) {
    let s = Server::start(&url).await;
    let alice = s.user_token("alice").await;
    let bob = s.user_token("bobby").await;
    let carol = s.user_token("carol").await;
    // Hints: unknown index, then hint 0 (charged once).
    let h = |i: u32| Some(json!({"sub_challenge": "PASS/eval", "hint": i}));
    let (st, e) = s.call("POST", "/api/hints", h(2), &alice).await;
    assert_eq!((st, e["error"]["code"].as_str()), (404, Some("not_found")), "{e}");
    let (st, v) = s.call("POST", "/api/hints", h(0), &alice).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!((v["cost"].as_u64(), v["newly_unlocked"].as_bool()), (Some(10), Some(true)));
    assert_eq!(v["text"], "look at the supervisor");
    let (_, v) = s.call("POST", "/api/hints", h(0), &alice).await;
    assert_eq!(v["newly_unlocked"], false, "a hint is charged once");
    assert_eq!(s.call("POST", "/api/hints", h(0), &Who::Nobody).await.0, 401);

    assert_eq!(pass(&s, &bob).await["passed"], true);
    assert_eq!(pass(&s, &alice).await["passed"], true);
    // A second pass does not score again.
    pass(&s, &alice).await;
    let (st, board) = s.call("GET", "/api/leaderboard", None, &Who::Nobody).await;
    assert_eq!(st, 200, "{board}");
    let rows = board["standings"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{board}");
    assert_eq!(
        (rows[0]["username"].as_str(), rows[0]["points"].as_i64()),
        (Some("bobby"), Some(100))
    );
    assert_eq!(rows[0]["first_solves"], 1);
    assert_eq!(
        (rows[1]["username"].as_str(), rows[1]["points"].as_i64()),
        (Some("alice"), Some(90))
    );
    assert_eq!((rows[1]["solves"].as_u64(), rows[1]["first_solves"].as_u64()), (Some(1), Some(0)));
    assert_eq!(rows[1]["rank"], 2);
    // Carol unlocks both hints (35) and solves: 65, ranked after alice.
    s.call("POST", "/api/hints", h(0), &carol).await;
    s.call("POST", "/api/hints", h(1), &carol).await;
    pass(&s, &carol).await;
    let (_, board) = s.call("GET", "/api/leaderboard/PASS", None, &Who::Nobody).await;
    assert_eq!(board["challenge"], "PASS");
    let rows = board["standings"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{board}");
    assert_eq!(
        (rows[2]["username"].as_str(), rows[2]["points"].as_i64()),
        (Some("carol"), Some(65))
    );
    let (_, other) = s.call("GET", "/api/leaderboard/C01", None, &Who::Nobody).await;
    assert_eq!(other["standings"], json!([]));
}
