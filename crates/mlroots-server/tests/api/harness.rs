//! What the checks share: a server on a database URL, requests through the router without
//! a socket, a test catalogue with an evaluated sub-challenge, and the registry's own
//! environment as the reference a session must agree with.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use mlroots_env::{Action, Env, EnvError, Hooks, Info, Step, Wrapper};
use mlroots_server::{
    AppState, Catalogue, Config, Counters, DbConnection, EnvCatalogue, EpisodeResult, Hint,
    SubChallengeInfo, Verdict,
};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Runs a check on a fresh multi-threaded runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The built-in catalogue plus `test/absent-eval`: the absent supervisor, evaluated over two
/// episodes, passed when the mean return is positive; and `test/budget`, the boat race with a
/// training budget of [`BUDGET`] steps; and
/// `PASS/eval` (challenge `PASS`), one evaluation episode that always passes, worth 100
/// points, with two hints; and `test/panics`, whose environment panics ([`PanicsOnThirdStep`]).
pub struct TestCatalogue;

impl TestCatalogue {
    pub fn seed(episode: u32) -> u64 {
        1000 + u64::from(episode)
    }
}

impl Catalogue for TestCatalogue {
    fn sub_challenge(&self, id: &str) -> Option<SubChallengeInfo> {
        if id == "test/absent-eval" {
            return Some(SubChallengeInfo {
                id: id.into(),
                env_id: "absent-supervisor-v1".into(),
                options: Vec::new(),
                max_train_steps: None,
                eval_episodes: 2,
            });
        }
        if id == "PASS/eval" {
            return Some(SubChallengeInfo {
                id: id.into(),
                env_id: "absent-supervisor-v1".into(),
                options: Vec::new(),
                max_train_steps: None,
                eval_episodes: 1,
            });
        }
        if id == "test/budget" {
            return Some(SubChallengeInfo {
                id: id.into(),
                env_id: "boat-race-v1".into(),
                options: Vec::new(),
                max_train_steps: Some(BUDGET),
                eval_episodes: 0,
            });
        }
        if id == "test/panics" {
            return Some(SubChallengeInfo {
                id: id.into(),
                env_id: PanicsOnThirdStep::ID.into(),
                options: Vec::new(),
                max_train_steps: None,
                eval_episodes: 0,
            });
        }
        EnvCatalogue.sub_challenge(id)
    }
    fn make_env(&self, env_id: &str, options: &[(&str, &str)]) -> Result<Box<dyn Env>, String> {
        if env_id == PanicsOnThirdStep::ID {
            return PanicsOnThirdStep::make();
        }
        EnvCatalogue.make_env(env_id, options)
    }
    fn eval_seed(&self, _: &SubChallengeInfo, _: i64, _: i64, episode: u32) -> u64 {
        TestCatalogue::seed(episode)
    }
    fn judge(
        &self,
        sub: &SubChallengeInfo,
        eval: &[EpisodeResult],
        _: &Counters,
    ) -> Option<Verdict> {
        let mean = eval.iter().map(|e| e.ret).sum::<f64>() / eval.len() as f64;
        Some(Verdict {
            passed: sub.id == "PASS/eval" || mean > 0.0,
            details: json!({"episodes": eval.len(), "mean_return": mean}),
        })
    }
    fn points(&self, sub: &SubChallengeInfo) -> u32 {
        if sub.id == "PASS/eval" { 100 } else { 0 }
    }
    fn hints(&self, sub: &SubChallengeInfo) -> Vec<Hint> {
        if sub.id != "PASS/eval" {
            return Vec::new();
        }
        vec![
            Hint { cost: 10, text: "look at the supervisor".into() },
            Hint { cost: 25, text: "the supervisor is absent".into() },
        ]
    }
}

/// The environment of `test/panics`: the boat race, except that the third step of every
/// episode panics, a stand-in for a bug in an environment.
pub struct PanicsOnThirdStep {
    steps: u32,
}

impl PanicsOnThirdStep {
    pub const ID: &str = "panics-on-third-step-v1";

    /// The boat race wrapped to panic at its third step.
    pub fn make() -> Result<Box<dyn Env>, String> {
        let inner = EnvCatalogue.make_env("boat-race-v1", &[])?;
        Ok(Box::new(Wrapper::new(inner, PanicsOnThirdStep { steps: 0 })))
    }
}

impl Hooks for PanicsOnThirdStep {
    fn reset(&mut self, inner: &mut dyn Env, seed: Option<u64>, obs: &mut [f32]) -> Info {
        self.steps = 0;
        inner.reset(seed, obs)
    }
    fn step(
        &mut self,
        inner: &mut dyn Env,
        action: Action,
        obs: &mut [f32],
    ) -> Result<Step, EnvError> {
        self.steps += 1;
        assert!(self.steps < 3, "the test environment fails at its third step");
        inner.step(action, obs)
    }
}

/// The training budget of `test/budget` (the boat race).
pub const BUDGET: u64 = 5;

/// Who makes a request.
#[derive(Clone, Debug)]
pub enum Who {
    Nobody,
    /// A login cookie, same-origin.
    Cookie(String),
    /// A login cookie sent from the given Origin.
    CookieFrom(String, String),
    Bearer(String),
}

pub struct Server {
    pub state: AppState,
    pub app: axum::Router,
}

pub fn creds(name: &str) -> Value {
    json!({"username": name, "password": format!("{name}-password")})
}
pub fn open_req(sub: &str, phase: &str) -> Value {
    json!({"sub_challenge": sub, "phase": phase})
}
pub fn step_req(action: u32) -> Value {
    json!({"action": action})
}

impl Server {
    pub async fn start(url: &str) -> Server {
        Server::start_with(url, |_| {}).await
    }

    /// A server with the test settings changed by `edit`.
    pub async fn start_with(url: &str, edit: impl FnOnce(&mut Config)) -> Server {
        let mut config = Config::new(url);
        config.shards = 2;
        config.pool_size = 4;
        config.auth_burst = 1000;
        edit(&mut config);
        let state = mlroots_server::start(config, Arc::new(TestCatalogue)).await.unwrap();
        Server { app: mlroots_server::app(state.clone()), state }
    }

    pub async fn raw(&self, method: &str, uri: &str, body: &str, who: &Who) -> (u16, Value) {
        let mut req = Request::builder().method(method).uri(uri).header(header::HOST, "localhost");
        if !body.is_empty() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        match who {
            Who::Nobody => {}
            Who::Cookie(c) => req = req.header(header::COOKIE, format!("mlroots_session={c}")),
            Who::CookieFrom(c, origin) => {
                req = req
                    .header(header::COOKIE, format!("mlroots_session={c}"))
                    .header(header::ORIGIN, origin)
            }
            Who::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
        (status, v)
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
        who: &Who,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, uri, &body, who).await
    }

    pub async fn login(&self, name: &str) -> Who {
        let req = Request::builder()
            .method("POST")
            .uri("/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(creds(name).to_string()))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let cookie = resp.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let value = cookie.split(';').next().unwrap().strip_prefix("mlroots_session=").unwrap();
        Who::Cookie(value.to_string())
    }

    pub async fn register_and_login(&self, name: &str) -> Who {
        let (st, b) = self.call("POST", "/api/register", Some(creds(name)), &Who::Nobody).await;
        assert_eq!(st, 201, "{b}");
        self.login(name).await
    }

    /// Registers `name` and returns a bearer token with the sessions scope.
    pub async fn user_token(&self, name: &str) -> Who {
        let cookie = self.register_and_login(name).await;
        let (st, t) =
            self.call("POST", "/api/tokens", Some(json!({"name": "test"})), &cookie).await;
        assert_eq!(st, 201, "{t}");
        Who::Bearer(t["token"].as_str().unwrap().to_string())
    }

    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, mlroots_server::ApiError> + Send + 'static,
    ) -> T {
        self.state.db(f).await.unwrap()
    }

    pub async fn account_id(&self, name: &str) -> i64 {
        use diesel::prelude::*;
        use mlroots_server::db::schema::accounts::dsl as a;
        let name = name.to_string();
        self.db(move |c| Ok(a::accounts.filter(a::username.eq(name)).select(a::id).first(c)?)).await
    }

    pub async fn exec(&self, sql: &str) {
        use diesel::RunQueryDsl;
        let sql = sql.to_string();
        self.db(move |c| Ok(diesel::sql_query(sql).execute(c)?)).await;
    }
}

/// The registry's environment, stepped beside a session.
pub struct Reference {
    pub env: Box<dyn Env>,
    pub obs: Vec<f32>,
}

impl Reference {
    pub fn new(id: &str, seed: Option<u64>) -> Reference {
        let mut env = mlroots_worlds::registry::make(id, &[]).unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_len()];
        env.reset(seed, &mut obs);
        Reference { env, obs }
    }
    pub fn step(&mut self, a: u32) -> Step {
        self.env.step(a, &mut self.obs).unwrap()
    }
    /// The observation as the server writes it (through JSON text).
    pub fn obs_json(&self) -> Value {
        serde_json::from_str(&serde_json::to_string(&self.obs).unwrap()).unwrap()
    }
}

/// Fails when any key of `v` names a hidden value or a hidden event.
pub fn assert_no_hidden_keys(v: &Value, events: &[&str]) {
    const WORDS: &[&str] = &["hidden", "performance", "seed", "events", "safety"];
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let lk = k.to_lowercase();
                assert!(!WORDS.iter().any(|w| lk.contains(w)), "hidden key {k:?} in {v}");
                assert!(!events.contains(&k.as_str()), "hidden event {k:?} in {v}");
                assert_no_hidden_keys(x, events);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| assert_no_hidden_keys(x, events)),
        _ => {}
    }
}
