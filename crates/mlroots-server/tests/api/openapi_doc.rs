//! `/openapi.json` against the router: every `.route(...)` in `lib.rs` is documented, and
//! every documented operation is answered by the router rather than its fallback.

use std::collections::BTreeSet;

use crate::harness::*;

/// (method, path) of every `.route(...)` call in the router's source.
fn routed() -> BTreeSet<(String, String)> {
    let src = include_str!("../../src/lib.rs");
    let body = src.split("pub fn app(").nth(1).expect("lib.rs has pub fn app");
    let body: String = body.split("\n}\n").next().unwrap().split_whitespace().collect();
    let mut out = BTreeSet::new();
    for piece in body.split(".route(").skip(1) {
        let mut parts = piece.splitn(3, '"');
        let (_, path, rest) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        let rest = rest.trim_start_matches(',');
        // `get(a).delete(b))...`: each method is the word before a `(` at the top level.
        let mut depth = 0i32;
        let mut word = String::new();
        for c in rest.chars() {
            match c {
                '(' => {
                    let method = word.trim_start_matches('.');
                    // `.route_layer(...)` / `.layer(...)` wrap the handler; the rest are methods.
                    if depth == 0 && !method.ends_with("layer") {
                        out.insert((method.to_string(), path.to_string()));
                    }
                    depth += 1;
                    word.clear();
                }
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                _ if depth == 0 => word.push(c),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn openapi_lists_every_route() {
    let routes = routed();
    assert!(routes.len() >= 18, "the source parser found too few routes: {routes:?}");
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("t.db").to_string_lossy().into_owned();
    block_on(async move {
        let s = Server::start(&url).await;
        let (st, doc) = s.call("GET", "/openapi.json", None, &Who::Nobody).await;
        assert_eq!(st, 200);
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        let missing: Vec<_> = routes.difference(&documented).collect();
        assert!(missing.is_empty(), "routes missing from /openapi.json: {missing:?}");
        let stale: Vec<_> = documented.difference(&routes).collect();
        assert!(stale.is_empty(), "documented but not routed: {stale:?}");
        for (method, path) in &documented {
            let uri = path.replace("{id}", "1").replace("{challenge}", "C01");
            let (st, v) = s.raw(&method.to_uppercase(), &uri, "", &Who::Nobody).await;
            assert_ne!(st, 405, "{method} {path} is not routed");
            let fallback =
                st == 404 && v["error"]["message"].as_str().unwrap_or("").contains("no such route");
            assert!(!fallback, "{method} {path} falls through to the fallback");
        }
    });
}
