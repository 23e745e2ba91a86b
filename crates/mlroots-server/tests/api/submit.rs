//! Artefact submissions against the real catalogue: C03's lava red team (levels played by the
//! shipped train-map agent) and AS-A (an action string).

use std::path::Path;
use std::sync::Arc;

use mlroots_server::challenges::ChallengeCatalogue;
use serde_json::{Value, json};

use crate::harness::*;

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../challenges")
}

/// The `levels` (or `actions`) of the `kind` solution of C03's `sub`.
fn solution(kind: &str, sub: &str) -> String {
    let path = root().join("C03-safety-gridworlds/solution").join(format!("{kind}.toml"));
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let entry = &table[sub];
    entry.get("levels").or_else(|| entry.get("actions")).unwrap().as_str().unwrap().to_string()
}

fn submit(sub: &str, artefact: &str) -> Option<Value> {
    Some(json!({"sub_challenge": format!("C03-safety-gridworlds/{sub}"), "artefact": artefact}))
}

pub async fn submissions(url: String) {
    let mut config = mlroots_server::Config::new(&url);
    config.shards = 1;
    config.pool_size = 4;
    config.auth_burst = 1000;
    let cat = ChallengeCatalogue::load(&root(), b"0123456789abcdef-test".to_vec()).unwrap();
    let state = mlroots_server::start(config, Arc::new(cat)).await.unwrap();
    let s = Server { app: mlroots_server::app(state.clone()), state };
    let alice = s.user_token("alice").await;
    let at = "/api/submissions";
    assert_eq!(s.call("POST", at, submit("DS-R", "x"), &Who::Nobody).await.0, 401);

    // The reference maps kill the agent in all ten: passed, scored, on the leaderboard.
    let (st, v) = s.call("POST", at, submit("DS-R", &solution("reference", "DS-R")), &alice).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!((v["passed"].as_bool(), v["kind"].as_str()), (Some(true), Some("levels")), "{v}");
    let predicates = v["verdict"]["predicates"].as_array().unwrap();
    assert!(predicates.iter().any(|p| p["value"] == 1.0), "{v}");
    let attempt = v["attempt"].as_i64().unwrap();
    let (st, a) = s.call("GET", &format!("/api/attempts/{attempt}"), None, &alice).await;
    assert_eq!((st, a["passed"].as_bool()), (200, Some(true)), "{a}");
    let (_, board) = s.call("GET", "/api/leaderboard", None, &Who::Nobody).await;
    let rows = board["standings"].as_array().unwrap();
    assert_eq!(
        (rows[0]["username"].as_str(), rows[0]["points"].as_i64()),
        (Some("alice"), Some(150))
    );

    // The baseline's maps leave its path alone: judged, not passed.
    let bob = s.user_token("bobby").await;
    let (st, v) = s.call("POST", at, submit("DS-R", &solution("baseline", "DS-R")), &bob).await;
    assert_eq!((st, v["passed"].as_bool()), (201, Some(false)), "{v}");

    // A refused artefact says where: an unknown character on line 2, column 5.
    let bad = solution("reference", "DS-R").replacen("#A     G#", "#A  X  G#", 1);
    let (st, e) = s.call("POST", at, submit("DS-R", &bad), &bob).await;
    assert_eq!((st, e["error"]["code"].as_str()), (400, Some("invalid_artefact")), "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("line 2, column 5: level 1: 'X' is not allowed"), "{message}");
    let (st, e) = s.call("POST", at, submit("DS-R", "#########"), &bob).await;
    assert_eq!(st, 400, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("line 1, column 1"), "{e}");

    // Limits and kinds.
    let (st, e) = s.call("POST", at, submit("DS-R", &"#".repeat(5000)), &bob).await;
    assert_eq!((st, e["error"]["code"].as_str()), (413, Some("too_large")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("at most 4096"), "{e}");
    let (st, e) = s.call("POST", at, submit("AS-X", "ddd"), &bob).await;
    assert_eq!((st, e["error"]["code"].as_str()), (400, Some("not_an_artefact")), "{e}");
    let (st, e) = s.call("POST", at, submit("NO-SUCH", "ddd"), &bob).await;
    assert_eq!((st, e["error"]["code"].as_str()), (404, Some("not_found")), "{e}");
    let (st, e) = s
        .call("POST", at, Some(json!({"sub_challenge": "C03-safety-gridworlds/DS-R"})), &bob)
        .await;
    assert_eq!((st, e["error"]["code"].as_str()), (422, Some("bad_json")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("missing field `artefact`"), "{e}");

    // A levels sub-challenge has no eval sessions: the agent, not the learner, plays them.
    let open = Some(open_req("C03-safety-gridworlds/DS-R", "eval"));
    let (st, e) = s.call("POST", "/api/sessions", open, &bob).await;
    assert_eq!(st, 400, "{e}");

    // An action string is an artefact too (AS-A).
    let (st, v) = s.call("POST", at, submit("AS-A", &solution("reference", "AS-A")), &bob).await;
    assert_eq!((st, v["passed"].as_bool()), (201, Some(true)), "{v}");
    let (st, e) = s.call("POST", at, submit("AS-A", "dxd"), &bob).await;
    assert_eq!((st, e["error"]["code"].as_str()), (400, Some("invalid_artefact")), "{e}");
}
