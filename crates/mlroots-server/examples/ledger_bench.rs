//! Throughput of environment sessions with the ledger on: single steps (one session, one
//! request per step, each answered after its commit) and batch steps (64 sessions per
//! request), through the router in process (no sockets: this measures the server, not
//! HTTP over loopback), plus the raw ledger writer.
//!
//! `cargo run --release -p mlroots-server --example ledger_bench [DATABASE_URL] [SECONDS]`
//! (default, or "": a temporary SQLite file, 3 seconds per measurement).
#![allow(clippy::disallowed_methods)] // a benchmark times itself
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use mlroots_server::{Config, EnvCatalogue, Phase, ledger};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Value,
    auth: Option<&str>,
) -> Value {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "localhost");
    if let Some(t) = auth {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = app.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    if parts.headers.contains_key(header::SET_COOKIE) {
        let c = parts.headers[header::SET_COOKIE].to_str().unwrap();
        return json!({"cookie": c.split(';').next().unwrap()});
    }
    if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile::tempdir().unwrap();
    let url = args
        .get(1)
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| dir.path().join("bench.db").to_string_lossy().into_owned());
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let dur = Duration::from_secs(secs);
    let backend = if mlroots_server::db::is_postgres(&url) { "PostgreSQL" } else { "SQLite" };
    let mut config = Config::new(&url);
    config.max_sessions_per_account = 1024;
    // One account drives every client here: lift its step quota out of the measurement.
    config.steps_per_second = 100_000_000;
    let state = mlroots_server::start(config, Arc::new(EnvCatalogue)).await.unwrap();
    let app = mlroots_server::app(state.clone());

    let creds = json!({"username": "bench", "password": "bench-password"});
    call(&app, "POST", "/api/register", creds.clone(), None).await;
    let cookie =
        call(&app, "POST", "/api/login", creds, None).await["cookie"].as_str().unwrap().to_string();
    let req = Request::builder()
        .method("POST")
        .uri("/api/tokens")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(json!({"name": "bench"}).to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let t: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let token = t["token"].as_str().unwrap().to_string();
    let tok = Some(token.as_str());

    let mut ids = Vec::new();
    for _ in 0..64 {
        let o = call(
            &app,
            "POST",
            "/api/sessions",
            json!({"sub_challenge": "env/boat-race", "phase": "train"}),
            tok,
        )
        .await;
        let id = o["id"].as_i64().unwrap();
        call(&app, "POST", &format!("/api/sessions/{id}/reset"), json!({"seed": 0}), tok).await;
        ids.push(id);
    }
    println!("backend: {backend}, {secs} s per measurement, environment boat-race-v1, ledger on");

    // Single: one session, one request per step, answered after the step's commit.
    let id = ids[0];
    let (start, mut n) = (Instant::now(), 0u64);
    while start.elapsed() < dur {
        let out =
            call(&app, "POST", &format!("/api/sessions/{id}/step"), json!({"action": n % 4}), tok)
                .await;
        if out["terminated"] == true || out["truncated"] == true {
            call(&app, "POST", &format!("/api/sessions/{id}/reset"), Value::Null, tok).await;
        }
        n += 1;
    }
    let single = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "single steps, 1 session:        {single:>9.0} steps/s ({:.3} ms per step)",
        1e3 / single
    );

    // Batched: 64 sessions per request.
    let (start, mut n, mut k) = (Instant::now(), 0u64, 0u32);
    while start.elapsed() < dur {
        let steps: Vec<Value> =
            ids.iter().map(|&s| json!({"session": s, "action": k % 4})).collect();
        let out = call(&app, "POST", "/api/sessions/step", json!({"steps": steps}), tok).await;
        for (r, &s) in out["results"].as_array().unwrap().iter().zip(&ids) {
            if r["terminated"] == true || r["truncated"] == true {
                call(&app, "POST", &format!("/api/sessions/{s}/reset"), Value::Null, tok).await;
            }
        }
        n += ids.len() as u64;
        k += 1;
    }
    let batched = n as f64 / start.elapsed().as_secs_f64();
    println!("batch steps, 64 sessions:       {batched:>9.0} steps/s");

    // Batched from 8 concurrent clients of 64 sessions each (8 x 64 = 512 sessions) share
    // commits: group commit at work.
    let mut groups = vec![ids.clone()];
    for _ in 1..8 {
        let mut v = Vec::new();
        for _ in 0..64 {
            let o = call(
                &app,
                "POST",
                "/api/sessions",
                json!({"sub_challenge": "env/boat-race", "phase": "train"}),
                tok,
            )
            .await;
            let id = o["id"].as_i64().unwrap();
            call(&app, "POST", &format!("/api/sessions/{id}/reset"), json!({"seed": 0}), tok).await;
            v.push(id);
        }
        groups.push(v);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for mine in groups {
        let app = app.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let (mut n, mut k) = (0u64, 0u32);
            while start.elapsed() < dur {
                let steps: Vec<Value> =
                    mine.iter().map(|&s| json!({"session": s, "action": k % 4})).collect();
                let out =
                    call(&app, "POST", "/api/sessions/step", json!({"steps": steps}), Some(&token))
                        .await;
                for (r, &s) in out["results"].as_array().unwrap().iter().zip(&mine) {
                    if r["terminated"] == true || r["truncated"] == true {
                        call(
                            &app,
                            "POST",
                            &format!("/api/sessions/{s}/reset"),
                            Value::Null,
                            Some(&token),
                        )
                        .await;
                    }
                }
                n += mine.len() as u64;
                k += 1;
            }
            n
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await.unwrap();
    }
    let total = n as f64 / start.elapsed().as_secs_f64();
    println!("batch steps, 8 clients x 64:    {total:>9.0} steps/s");

    // The writer alone: groups of 64 entries from 8 concurrent producers.
    let led = state.inner.ledger.clone();
    let sub: Arc<str> = "env/boat-race".into();
    let (start, mut n) = (Instant::now(), 0u64);
    let mut pending = Vec::new();
    while start.elapsed() < dur {
        let entries: Vec<ledger::Entry> = (0..64)
            .map(|i| ledger::Entry {
                account_id: 1,
                session_id: ids[0],
                sub_challenge: sub.clone(),
                phase: Phase::Train,
                episode: 0,
                step: i,
                action: Some(0),
                seed: None,
                reward: -1.0,
                terminated: false,
                truncated: false,
                performance: -1.0,
                events: Vec::new(),
            })
            .collect();
        pending.push(led.append(entries));
        if pending.len() == 8 {
            for p in pending.drain(..) {
                p.await.unwrap().unwrap();
            }
        }
        n += 64;
    }
    for p in pending {
        p.await.unwrap().unwrap();
    }
    let raw = n as f64 / start.elapsed().as_secs_f64();
    println!("ledger writer alone:            {raw:>9.0} entries/s");
    let account = 1;
    let verified = state.db(move |c| Ok(ledger::verify_chain(c, account).unwrap())).await.unwrap();
    println!("chain verified: {verified} entries");
}
