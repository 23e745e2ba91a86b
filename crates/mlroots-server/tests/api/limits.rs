//! Rate limits and training budgets: 429 `rate_limited` with the time to wait, and
//! `budget_spent` once a sub-challenge's training steps are used up (also after a restart).

use serde_json::json;

use crate::harness::*;

/// Login and register per IP, and steps per account.
pub async fn rate_limits(url: String) {
    let s = Server::start_with(&url, |c| {
        c.auth_burst = 4;
        c.auth_per_minute = 1.0;
        c.steps_per_second = 6;
    })
    .await;
    // user_token registers and logs in: two of the four attempts.
    let me = s.user_token("alice").await;
    assert_eq!(s.call("POST", "/api/register", Some(creds("bobby")), &Who::Nobody).await.0, 201);
    let wrong = json!({"username": "alice", "password": "not the password"});
    assert_eq!(s.call("POST", "/api/login", Some(wrong.clone()), &Who::Nobody).await.0, 401);
    let (st, e) = s.call("POST", "/api/login", Some(wrong), &Who::Nobody).await;
    assert_eq!((st, e["error"]["code"].as_str()), (429, Some("rate_limited")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("retry in"), "{e}");
    let (st, _) = s.call("POST", "/api/register", Some(creds("carol")), &Who::Nobody).await;
    assert_eq!(st, 429, "register shares the login limit");

    let (_, o) =
        s.call("POST", "/api/sessions", Some(open_req("env/boat-race", "practice")), &me).await;
    let id = o["id"].as_i64().unwrap();
    s.call("POST", &format!("/api/sessions/{id}/reset"), Some(json!({"seed": 1})), &me).await;
    let items: Vec<_> = (0..5).map(|_| json!({"session": id, "action": 0})).collect();
    let (st, out) = s.call("POST", "/api/sessions/step", Some(json!({"steps": items})), &me).await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(
        s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &me).await.0,
        200
    );
    let (st, e) = s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &me).await;
    assert_eq!((st, e["error"]["code"].as_str()), (429, Some("rate_limited")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("6 steps per second"), "{e}");
}

/// `max_train_steps` is enforced on train sessions, across sessions and restarts; practice
/// is not counted.
pub async fn train_budget(url: String) {
    let me;
    {
        let s = Server::start(&url).await;
        me = s.user_token("alice").await;
        let (_, o) =
            s.call("POST", "/api/sessions", Some(open_req("test/budget", "train")), &me).await;
        let id = o["id"].as_i64().unwrap();
        s.call("POST", &format!("/api/sessions/{id}/reset"), Some(json!({"seed": 1})), &me).await;
        // A failed step (bad action) does not use the budget.
        let (st, _) =
            s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(99)), &me).await;
        assert_eq!(st, 400);
        for _ in 0..3 {
            let (st, e) =
                s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &me).await;
            assert_eq!(st, 200, "{e}");
        }
    }
    let s = Server::start(&url).await;
    let (_, o) = s.call("POST", "/api/sessions", Some(open_req("test/budget", "train")), &me).await;
    let id = o["id"].as_i64().unwrap();
    s.call("POST", &format!("/api/sessions/{id}/reset"), Some(json!({"seed": 1})), &me).await;
    for _ in 0..(BUDGET - 3) {
        let (st, e) =
            s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &me).await;
        assert_eq!(st, 200, "{e}");
    }
    let (st, e) = s.call("POST", &format!("/api/sessions/{id}/step"), Some(step_req(0)), &me).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("budget_spent")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("5 steps"), "{e}");
    let (_, o) =
        s.call("POST", "/api/sessions", Some(open_req("test/budget", "practice")), &me).await;
    let p = o["id"].as_i64().unwrap();
    s.call("POST", &format!("/api/sessions/{p}/reset"), Some(json!({"seed": 1})), &me).await;
    let (st, e) = s.call("POST", &format!("/api/sessions/{p}/step"), Some(step_req(0)), &me).await;
    assert_eq!(st, 200, "practice has no budget: {e}");
}
