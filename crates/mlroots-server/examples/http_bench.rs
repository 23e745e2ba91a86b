//! Session stepping over real HTTP on loopback, with the ledger on: the server that
//! `mlroots serve` runs (`mlroots_server::serve_on`), driven by keep-alive connections
//! from this process. It answers the platform's two latency questions that the in-process
//! `ledger_bench` cannot: the p99 latency of a single step with 200 sessions stepping at
//! once (one connection each), and the throughput of batch stepping (64 sessions a request).
//!
//! `cargo run --release -p mlroots-server --example http_bench [DATABASE_URL] [SECONDS] [SESSIONS]`
//! (default, or "": a temporary SQLite file, 5 seconds per measurement, 200 sessions;
//! `RATES=2000,5000,10000`, the default, sets the paced measurements' total steps/s).
//!
//! The paced measurements run first, on the fresh database: the closed loop writes far more
//! than they do, and the disk work it leaves behind (checkpoints, write-back) would otherwise
//! land in whichever measurement comes next.
//!
//! The client is a minimal HTTP/1.1 writer and reader over `TcpStream` (requests with
//! `Content-Length`, responses with `Content-Length`), so that the client costs as little as
//! possible of the machine it shares with the server.
#![allow(clippy::disallowed_methods)] // a benchmark times itself
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mlroots_server::{Config, EnvCatalogue};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

// The allocator of the shipped `mlroots` binary, so that the server measured is the one served.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: BufReader<TcpStream>,
    auth: String,
}

impl Conn {
    async fn open(addr: std::net::SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Conn { stream: BufReader::new(stream), auth: String::new() }
    }

    /// Sends one request and returns (status, Set-Cookie value if any, body).
    async fn call(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\n\r\n",
            self.auth,
            body.len()
        );
        let mut req = head.into_bytes();
        req.extend_from_slice(body);
        self.stream.get_mut().write_all(&req).await.unwrap();
        let (mut status, mut len, mut cookie) = (0u16, 0usize, String::new());
        let mut line = String::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if status == 0 {
                status = l.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
            } else if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                } else if k.eq_ignore_ascii_case("set-cookie") {
                    cookie = v.trim().split(';').next().unwrap_or("").to_string();
                }
            }
        }
        let mut out = vec![0; len];
        self.stream.read_exact(&mut out).await.unwrap();
        (status, cookie, out)
    }

    async fn json(&mut self, method: &str, path: &str, body: Value) -> Value {
        let (status, _, out) = self.call(method, path, body.to_string().as_bytes()).await;
        assert!(status < 300, "{method} {path}: {status} {}", String::from_utf8_lossy(&out));
        if out.is_empty() { Value::Null } else { serde_json::from_slice(&out).unwrap() }
    }
}

/// Opens a train session of boat-race and resets it.
async fn session(c: &mut Conn) -> i64 {
    let o = c
        .json("POST", "/api/sessions", json!({"sub_challenge": "env/boat-race", "phase": "train"}))
        .await;
    let id = o["id"].as_i64().unwrap();
    c.json("POST", &format!("/api/sessions/{id}/reset"), json!({"seed": 0})).await;
    id
}

/// Steps `n_sessions` sessions concurrently, one connection each, for `dur`; paced at
/// `rate` steps/s in all when given. Returns (steps, seconds, latencies in µs from when each
/// step was due, latencies in µs from when it was sent). The two differ by how late the
/// client wakes: tokio's timers tick once a millisecond, so a paced step goes out up to a
/// millisecond after it was due even when nothing is queued.
async fn single_steps(
    addr: std::net::SocketAddr,
    auth: &str,
    n_sessions: usize,
    dur: Duration,
    rate: Option<f64>,
) -> (u64, f64, Vec<u32>, Vec<u32>) {
    let gate = Arc::new(tokio::sync::Barrier::new(n_sessions + 1));
    let mut tasks = Vec::new();
    for i in 0..n_sessions {
        let auth = auth.to_string();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(addr).await;
            c.auth = auth;
            let id = session(&mut c).await;
            let path = format!("/api/sessions/{id}/step");
            let period = rate.map(|r| Duration::from_secs_f64(n_sessions as f64 / r));
            gate.wait().await;
            let start = Instant::now();
            // Spread the sessions' first steps over one period.
            let mut due =
                start + period.map_or(Duration::ZERO, |p| p * i as u32 / n_sessions as u32);
            let (mut lat, mut lat_sent) = (Vec::new(), Vec::new());
            let mut k = 0u32;
            while start.elapsed() < dur {
                if period.is_some() {
                    tokio::time::sleep_until(due.into()).await;
                } else {
                    due = Instant::now();
                }
                let body = format!("{{\"action\":{}}}", k % 4);
                let sent = Instant::now();
                let (status, _, out) = c.call("POST", &path, body.as_bytes()).await;
                lat.push(due.elapsed().as_micros() as u32);
                lat_sent.push(sent.elapsed().as_micros() as u32);
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&out));
                let v: Value = serde_json::from_slice(&out).unwrap();
                if v["terminated"] == true || v["truncated"] == true {
                    c.json("POST", &format!("/api/sessions/{id}/reset"), json!({})).await;
                }
                if let Some(p) = period {
                    due += p;
                }
                k += 1;
            }
            (lat, lat_sent)
        }));
    }
    gate.wait().await;
    let start = Instant::now();
    let (mut lat, mut lat_sent) = (Vec::new(), Vec::new());
    for t in tasks {
        let (a, b) = t.await.unwrap();
        lat.extend(a);
        lat_sent.extend(b);
    }
    (lat.len() as u64, start.elapsed().as_secs_f64(), lat, lat_sent)
}

fn report(what: &str, n: u64, elapsed: f64, mut lat: Vec<u32>) {
    lat.sort_unstable();
    println!(
        "{what}: {:>8.0} steps/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        n as f64 / elapsed,
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
    );
}

/// Bytes this process has sent toward storage so far (`write_bytes` of `/proc/self/io`: pages
/// dirtied in files, counted when dirtied), where Linux reports it.
fn disk_written() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines().find_map(|l| l.strip_prefix("write_bytes:")).and_then(|v| v.trim().parse().ok())
}

/// CPU seconds this process (server and client together) has used so far, user and system
/// (`/proc/self/stat`, in Linux's fixed 100 ticks a second), where Linux reports it.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// What a measurement cost the machine: bytes sent toward storage since `before` (from
/// [`disk_written`]) and CPU since `cpu_before` (from [`cpu_seconds`]), per step.
fn report_costs(before: (Option<u64>, Option<f64>), steps: u64, elapsed: f64) {
    if let (Some(a), Some(b)) = (before.0, disk_written()) {
        let bytes = b.saturating_sub(a) as f64;
        println!(
            "  written to storage: {:.0} MB, {:.1} KB a step",
            bytes / 1e6,
            bytes / 1e3 / steps.max(1) as f64
        );
    }
    if let (Some(a), Some(b)) = (before.1, cpu_seconds()) {
        println!(
            "  CPU (server and client): {:.2} cores, {:.0} µs a step",
            (b - a) / elapsed,
            (b - a) * 1e6 / steps.max(1) as f64
        );
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
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
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let n_sessions: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let dur = Duration::from_secs(secs);
    let backend = if mlroots_server::db::is_postgres(&url) { "PostgreSQL" } else { "SQLite" };

    let mut config = Config::new(&url);
    config.max_sessions_per_account = 4096;
    config.steps_per_second = 100_000_000; // one account drives every connection
    let state = mlroots_server::start(config, Arc::new(EnvCatalogue)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mlroots_server::serve_on(listener, state));

    let mut setup = Conn::open(addr).await;
    let creds = json!({"username": "bench", "password": "bench-password"});
    setup.json("POST", "/api/register", creds.clone()).await;
    let (_, cookie, _) = setup.call("POST", "/api/login", creds.to_string().as_bytes()).await;
    setup.auth = format!("Cookie: {cookie}\r\n");
    let token = setup.json("POST", "/api/tokens", json!({"name": "bench"})).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("Authorization: Bearer {token}\r\n");
    println!(
        "backend: {backend}, {secs} s per measurement, boat-race-v1 train sessions, ledger on, HTTP/1.1 keep-alive on {addr}"
    );

    // Single steps from `n_sessions` concurrent connections, one session each: first paced at
    // each rate of `RATES` steps/s in all (open loop: each step is timed from when it was due,
    // so a slow answer counts against every step it delays; and timed from its send, without
    // the client's timer lateness), then as fast as they can (closed loop: the saturated
    // throughput, where latency is only queueing: `n_sessions` / throughput on average).
    let rates = std::env::var("RATES").unwrap_or_else(|_| "2000,5000,10000".into());
    for rate in rates.split(',') {
        let Ok(rate) = rate.trim().parse::<f64>() else {
            eprintln!("RATES: {rate:?} is not a number of steps per second; skipped");
            continue;
        };
        let before = (disk_written(), cpu_seconds());
        let (n, elapsed, lat, lat_sent) =
            single_steps(addr, &auth, n_sessions, dur, Some(rate)).await;
        report(
            &format!("single steps, {n_sessions} sessions, paced at {rate:.0}/s"),
            n,
            elapsed,
            lat,
        );
        report("  the same, timed from each request's send", n, elapsed, lat_sent);
        report_costs(before, n, elapsed);
    }
    let before = (disk_written(), cpu_seconds());
    let (n, elapsed, lat, _) = single_steps(addr, &auth, n_sessions, dur, None).await;
    report(&format!("single steps, {n_sessions} sessions, closed loop"), n, elapsed, lat);
    report_costs(before, n, elapsed);

    // Batch steps: `clients` connections, each stepping its own 64 sessions per request.
    for clients in [1usize, 4] {
        let gate = Arc::new(tokio::sync::Barrier::new(clients + 1));
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let auth = auth.clone();
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                let mut c = Conn::open(addr).await;
                c.auth = auth;
                let mut ids = Vec::new();
                for _ in 0..64 {
                    ids.push(session(&mut c).await);
                }
                gate.wait().await;
                let start = Instant::now();
                let (mut n, mut k) = (0u64, 0u32);
                let mut lat = Vec::new();
                while start.elapsed() < dur {
                    let steps: Vec<Value> =
                        ids.iter().map(|&s| json!({"session": s, "action": k % 4})).collect();
                    let t = Instant::now();
                    let out = c.json("POST", "/api/sessions/step", json!({"steps": steps})).await;
                    lat.push(t.elapsed().as_micros() as u32);
                    for (r, &s) in out["results"].as_array().unwrap().iter().zip(&ids) {
                        if r["terminated"] == true || r["truncated"] == true {
                            c.json("POST", &format!("/api/sessions/{s}/reset"), json!({})).await;
                        }
                    }
                    n += ids.len() as u64;
                    k += 1;
                }
                (n, lat)
            }));
        }
        gate.wait().await;
        let start = Instant::now();
        let (mut n, mut lat) = (0u64, Vec::new());
        for t in tasks {
            let (m, l) = t.await.unwrap();
            n += m;
            lat.extend(l);
        }
        let elapsed = start.elapsed().as_secs_f64();
        lat.sort_unstable();
        println!(
            "batch steps, {clients} connection(s) x 64 sessions: {:>8.0} steps/s; request p50 {:.2} ms, p99 {:.2} ms",
            n as f64 / elapsed,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
        );
    }
}
