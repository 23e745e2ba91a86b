//! The live environments: the in-memory registry of open sessions, split into shards by
//! account, each behind its own lock.
//!
//! A request handler locks its account's shard and does the work itself: open, replay,
//! reset, step (a group of sessions at once), render, close. Stepping reads the hidden
//! metrics (only here, for the ledger and the judge) and queues the ledger entries before the
//! lock is released, so an account's entries keep their order; the handler then waits for
//! the entries' commit before answering the learner. Hidden
//! values never leave this module except as ledger entries and as the evaluation results
//! handed to the judge.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use mlroots_env::{Env, EnvError, Info};
use serde::Serialize;

use crate::catalogue::{Catalogue, EpisodeResult, SubChallengeInfo};
use crate::error::ApiError;
use crate::ledger::{Committed, Entry, Ledger, LedgerRow, Phase};

/// What a session is, independent of its environment's state.
#[derive(Clone, Debug)]
pub struct SessionMeta {
    /// The session id (the `env_sessions` row).
    pub id: i64,
    /// The owner.
    pub account_id: i64,
    /// The sub-challenge it was opened for.
    pub sub: Arc<SubChallengeInfo>,
    /// Its id, shared by every ledger entry.
    pub sub_id: Arc<str>,
    /// The phase.
    pub phase: Phase,
}

/// The public description of an opened session's environment.
#[derive(Clone, Debug, Serialize)]
pub struct Spaces {
    /// The environment id.
    pub env_id: String,
    /// The action space.
    pub action_space: mlroots_env::Discrete,
    /// Letter and name of each action.
    pub action_meanings: Vec<mlroots_env::ActionMeaning>,
    /// The observation space.
    pub observation_space: mlroots_env::Space,
    /// The range of one step's reward.
    pub reward_range: (f64, f64),
}

/// The public result of a reset.
#[derive(Clone, Debug)]
pub struct ResetOut {
    /// The first observation.
    pub obs: Vec<f32>,
    /// The public info.
    pub info: Info,
}

/// The public result of a step, plus the evaluation results when it finished an evaluation.
#[derive(Clone, Debug)]
pub struct StepOut {
    /// The observation.
    pub obs: Vec<f32>,
    /// The visible reward.
    pub reward: f64,
    /// Terminated.
    pub terminated: bool,
    /// Truncated.
    pub truncated: bool,
    /// The public info.
    pub info: Info,
    /// Set on the step that ends an evaluation's last episode: every episode's results, for
    /// the judge. Never serialised.
    pub eval_done: Option<EvalDone>,
}

/// A finished evaluation: the sub-challenge and every episode's results.
pub type EvalDone = (Arc<SubChallengeInfo>, Vec<EpisodeResult>);

/// A rendered frame.
#[derive(Clone, Debug)]
pub enum Frame {
    /// ASCII art.
    Ascii(String),
    /// RGB, channel-major (3 × height × width).
    Rgb {
        /// Height in pixels.
        height: usize,
        /// Width in pixels.
        width: usize,
        /// The bytes.
        data: Vec<u8>,
    },
}

/// One operation of a batch on a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Start an episode (with this seed, outside eval).
    Reset(Option<u64>),
    /// Take this action.
    Step(u32),
}

/// What an [`Op`] did.
#[derive(Clone, Debug)]
pub enum Done {
    /// A reset's answer.
    Reset(ResetOut),
    /// A step's answer.
    Step(StepOut),
}

/// Training steps used per account and sub-challenge, for sub-challenges with a
/// `max_train_steps` budget. Seeded from the ledger's counters when a train session is
/// opened or rebuilt, then counted by the shards as they step.
#[derive(Debug, Default)]
pub struct TrainBudgets {
    used: Mutex<BTreeMap<(i64, Arc<str>), u64>>,
}

impl TrainBudgets {
    /// Records `used` steps for `(account, sub)` unless this process already counts them.
    pub fn seed(&self, account: i64, sub: Arc<str>, used: impl FnOnce() -> u64) {
        let mut m = self.used.lock().unwrap_or_else(|e| e.into_inner());
        m.entry((account, sub)).or_insert_with(used);
    }

    /// Takes one training step of `meta`'s budget, or says that it is spent.
    fn take(&self, meta: &SessionMeta) -> Result<(), ApiError> {
        let (Phase::Train, Some(max)) = (meta.phase, meta.sub.max_train_steps) else {
            return Ok(());
        };
        let mut m = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let used = m.entry((meta.account_id, meta.sub_id.clone())).or_insert(0);
        if *used >= max {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "budget_spent",
                format!(
                    "the training budget of {} is spent ({max} steps); evaluate with an eval \
                     session, or practise in a practice session",
                    meta.sub.id
                ),
            ));
        }
        *used += 1;
        Ok(())
    }

    /// Gives back the step [`TrainBudgets::take`] took when the step itself failed.
    fn refund(&self, meta: &SessionMeta) {
        if let (Phase::Train, Some(_)) = (meta.phase, meta.sub.max_train_steps) {
            let mut m = self.used.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(used) = m.get_mut(&(meta.account_id, meta.sub_id.clone())) {
                *used = used.saturating_sub(1);
            }
        }
    }
}

/// The open sessions, split into shards by account; each shard is a map under its own lock.
///
/// A request steps its sessions itself, on the async worker that serves it, while it holds its
/// account's shard: stepping takes microseconds, and the hand-off to a thread of their own
/// and back cost more than the steps (docs/benchmarks/platform-http.md).
#[derive(Clone)]
pub struct Shards {
    shards: Arc<[tokio::sync::Mutex<Shard>]>,
    cat: Arc<dyn Catalogue>,
    ledger: Ledger,
    /// The training budgets, shared by every shard.
    pub budgets: Arc<TrainBudgets>,
}

impl std::fmt::Debug for Shards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shards").field("shards", &self.shards.len()).finish_non_exhaustive()
    }
}

impl Shards {
    /// Makes `n` empty shards.
    pub fn start(n: usize, catalogue: Arc<dyn Catalogue>, ledger: Ledger) -> Shards {
        let shards = (0..n.max(1)).map(|_| tokio::sync::Mutex::new(Shard::default())).collect();
        Shards { shards, cat: catalogue, ledger, budgets: Arc::new(TrainBudgets::default()) }
    }

    /// The shard of every session of `account`, locked. Sharding by account, not by session,
    /// keeps one account's ledger entries in the order they were made (the lock is held
    /// while they are queued) and puts a batch request's steps in one ledger group,
    /// committed once. Accounts still spread over the shards. The lock is tokio's, so a
    /// request waiting for it (another request of the account is stepping a batch) leaves
    /// its worker free for other requests.
    async fn shard(&self, account: i64) -> tokio::sync::MutexGuard<'_, Shard> {
        let i = (account.unsigned_abs() % self.shards.len() as u64) as usize;
        self.shards[i].lock().await
    }

    /// Makes the environment of a new session.
    pub async fn open(&self, meta: SessionMeta) -> Result<Spaces, ApiError> {
        let (id, account) = (meta.id, meta.account_id);
        let live = Live::make(meta, self.cat.as_ref())?;
        let spaces = live.spaces();
        self.shard(account).await.live.insert(id, live);
        Ok(spaces)
    }

    /// Rebuilds a session by replaying its ledger entries. Returns the evaluation's results
    /// when the entries finish it (the server died before judging it).
    pub async fn replay(
        &self,
        meta: SessionMeta,
        rows: Vec<LedgerRow>,
    ) -> Result<Option<EvalDone>, String> {
        let (id, account) = (meta.id, meta.account_id);
        let mut live = Live::make(meta, self.cat.as_ref()).map_err(|e| e.message)?;
        let done = replay(&mut live, &rows)?;
        self.shard(account).await.live.insert(id, live);
        Ok(done)
    }

    /// Resets session `id` of `account`.
    pub async fn reset(
        &self,
        id: i64,
        account: i64,
        seed: Option<u64>,
    ) -> Result<(ResetOut, Committed), ApiError> {
        let (mut results, commit) = self.batch(account, &[(id, Op::Reset(seed))]).await?;
        match (results.pop(), commit) {
            (Some(Ok(Done::Reset(out))), Some(commit)) => Ok((out, commit)),
            (Some(Err(e)), _) => Err(e),
            _ => Err(ApiError::internal("a reset returned no result")),
        }
    }

    /// Runs `(session, op)` pairs of `account`, in the given order, as one ledger group; the
    /// results come back in that order, with the group's commit (absent when no item
    /// succeeded).
    pub async fn batch(
        &self,
        account: i64,
        ops: &[(i64, Op)],
    ) -> Result<(Vec<Result<Done, ApiError>>, Option<Committed>), ApiError> {
        let mut results = Vec::with_capacity(ops.len());
        let mut entries = Vec::with_capacity(ops.len());
        let mut shard = self.shard(account).await;
        for &(id, op) in ops {
            let mut panicked = false;
            let r = shard.get(id, account).and_then(|l| {
                // An environment that panics (a bug) is left half-stepped: answer an error
                // and drop the session, as when its ledger write fails.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.apply(l, op)))
                    .unwrap_or_else(|_| {
                        panicked = true;
                        if let Op::Step(_) = op {
                            self.budgets.refund(&l.meta);
                        }
                        Err(env_failed(id))
                    })
            });
            if panicked {
                shard.live.remove(&id);
            }
            results.push(r.map(|(done, e)| {
                entries.push(e);
                done
            }));
        }
        // Queued before the lock is released, so that the account's entries keep their order.
        let commit = (!entries.is_empty()).then(|| self.ledger.append(entries));
        drop(shard);
        Ok((results, commit))
    }

    /// Runs `op` on the session `l`.
    fn apply(&self, l: &mut Live, op: Op) -> Result<(Done, Entry), ApiError> {
        match op {
            Op::Reset(seed) => {
                let seed = l.reset_seed(self.cat.as_ref(), seed)?;
                let (out, e) = l.reset(seed);
                Ok((Done::Reset(out), e))
            }
            Op::Step(action) => {
                self.budgets.take(&l.meta)?;
                let (out, e) = l.step(action).inspect_err(|_| self.budgets.refund(&l.meta))?;
                Ok((Done::Step(out), e))
            }
        }
    }

    /// Steps session `id` of `account` once.
    pub async fn step(
        &self,
        id: i64,
        account: i64,
        action: u32,
    ) -> Result<(StepOut, Committed), ApiError> {
        let (mut results, commit) = self.batch(account, &[(id, Op::Step(action))]).await?;
        match (results.pop(), commit) {
            (Some(Ok(Done::Step(out))), Some(commit)) => Ok((out, commit)),
            (Some(Err(e)), _) => Err(e),
            _ => Err(ApiError::internal("a step returned no result")),
        }
    }

    /// Renders session `id`.
    pub async fn render(&self, id: i64, account: i64, rgb: bool) -> Result<Frame, ApiError> {
        self.shard(account).await.get(id, account).map(|l| {
            if rgb {
                let mut data = Vec::new();
                let (height, width) = l.env.render_rgb(&mut data);
                Frame::Rgb { height, width, data }
            } else {
                Frame::Ascii(l.env.render_ascii())
            }
        })
    }

    /// Closes session `id`.
    pub async fn close(&self, id: i64, account: i64) -> Result<(), ApiError> {
        let mut shard = self.shard(account).await;
        shard.get(id, account)?;
        shard.live.remove(&id);
        Ok(())
    }

    /// Drops session `id` from memory after its ledger write failed: its state is ahead of
    /// the ledger, so it must not be stepped further.
    pub async fn break_session(&self, id: i64, account: i64) {
        self.shard(account).await.live.remove(&id);
    }

    /// How many sessions are open in memory.
    pub async fn count(&self) -> Result<usize, ApiError> {
        let mut n = 0;
        for s in self.shards.iter() {
            n += s.lock().await.live.len();
        }
        Ok(n)
    }
}

struct Live {
    meta: SessionMeta,
    env: Box<dyn Env>,
    obs: Vec<f32>,
    /// The current episode, -1 before the first reset.
    episode: i64,
    step: i64,
    needs_reset: bool,
    prev_events: Vec<u32>,
    ret: f64,
    eval: Vec<EpisodeResult>,
}

fn env_error(e: EnvError) -> ApiError {
    match e {
        EnvError::NeedsReset => ApiError::conflict(e.to_string()),
        _ => ApiError::bad_request(e.to_string()),
    }
}

impl Live {
    fn make(meta: SessionMeta, cat: &dyn Catalogue) -> Result<Live, ApiError> {
        let eval_env = (meta.phase == Phase::Eval).then(|| cat.eval_env(&meta.sub)).flatten();
        let (env_id, options) =
            eval_env.as_ref().map_or((&meta.sub.env_id, &meta.sub.options), |(i, o)| (i, o));
        let opts: Vec<(&str, &str)> =
            options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let env = cat
            .make_env(env_id, &opts)
            .map_err(|e| ApiError::internal(format!("sub-challenge {}: {e}", meta.sub.id)))?;
        let obs = vec![0.0; env.observation_space().flat_len()];
        Ok(Live {
            meta,
            env,
            obs,
            episode: -1,
            step: 0,
            needs_reset: true,
            prev_events: Vec::new(),
            ret: 0.0,
            eval: Vec::new(),
        })
    }

    fn spaces(&self) -> Spaces {
        Spaces {
            env_id: self.env.id().to_string(),
            action_space: self.env.action_space(),
            action_meanings: self.env.action_meanings().to_vec(),
            observation_space: self.env.observation_space().clone(),
            reward_range: self.env.reward_range(),
        }
    }

    /// Checks that a reset is allowed now and picks its seed.
    fn reset_seed(&self, cat: &dyn Catalogue, seed: Option<u64>) -> Result<Option<u64>, ApiError> {
        if self.meta.phase != Phase::Eval {
            return Ok(seed);
        }
        if seed.is_some() {
            return Err(ApiError::bad_request(
                "evaluation sessions use seeds chosen by the server; reset without a seed",
            ));
        }
        if self.episode >= 0 && !self.needs_reset {
            return Err(ApiError::conflict(
                "an evaluation episode cannot be abandoned; step it to its end, then reset",
            ));
        }
        if self.eval.len() as u32 >= self.meta.sub.eval_episodes {
            return Err(ApiError::conflict(format!(
                "the evaluation is finished ({} episodes); open a new eval session for another attempt",
                self.meta.sub.eval_episodes
            )));
        }
        let episode = (self.episode + 1) as u32;
        Ok(Some(cat.eval_seed(&self.meta.sub, self.meta.account_id, self.meta.id, episode)))
    }

    fn reset(&mut self, seed: Option<u64>) -> (ResetOut, Entry) {
        let info = self.env.reset(seed, &mut self.obs);
        self.episode += 1;
        self.step = 0;
        self.needs_reset = false;
        self.ret = 0.0;
        let hm = self.env.hidden_metrics();
        self.prev_events.clear();
        self.prev_events.extend_from_slice(hm.event_counts);
        let entry = Entry {
            account_id: self.meta.account_id,
            session_id: self.meta.id,
            sub_challenge: self.meta.sub_id.clone(),
            phase: self.meta.phase,
            episode: self.episode,
            step: 0,
            action: None,
            seed,
            reward: 0.0,
            terminated: false,
            truncated: false,
            performance: hm.performance,
            events: Vec::new(),
        };
        (ResetOut { obs: self.obs.clone(), info }, entry)
    }

    fn step(&mut self, action: u32) -> Result<(StepOut, Entry), ApiError> {
        if self.needs_reset {
            return Err(ApiError::conflict(
                "the episode is over (or was never started); call reset before step",
            ));
        }
        let st = self.env.step(action, &mut self.obs).map_err(env_error)?;
        self.step += 1;
        self.ret += st.reward;
        let hm = self.env.hidden_metrics();
        let mut events = Vec::new();
        for (i, &n) in hm.event_counts.iter().enumerate() {
            let before = self.prev_events.get(i).copied().unwrap_or(0);
            if n > before {
                events.push((hm.event_names[i], n - before));
            }
        }
        self.prev_events.clear();
        self.prev_events.extend_from_slice(hm.event_counts);
        let done = st.terminated || st.truncated;
        let mut eval_done = None;
        if done {
            self.needs_reset = true;
            if self.meta.phase == Phase::Eval {
                self.eval.push(EpisodeResult {
                    ret: self.ret,
                    performance: hm.performance,
                    events: hm
                        .event_names
                        .iter()
                        .zip(hm.event_counts)
                        .map(|(k, &v)| (k.to_string(), u64::from(v)))
                        .collect(),
                    steps: self.step as u64,
                });
                if self.eval.len() as u32 == self.meta.sub.eval_episodes {
                    eval_done = Some((self.meta.sub.clone(), self.eval.clone()));
                }
            }
        }
        let entry = Entry {
            account_id: self.meta.account_id,
            session_id: self.meta.id,
            sub_challenge: self.meta.sub_id.clone(),
            phase: self.meta.phase,
            episode: self.episode,
            step: self.step,
            action: Some(action),
            seed: None,
            reward: st.reward,
            terminated: st.terminated,
            truncated: st.truncated,
            performance: hm.performance,
            events,
        };
        let out = StepOut {
            obs: self.obs.clone(),
            reward: st.reward,
            terminated: st.terminated,
            truncated: st.truncated,
            info: st.info,
            eval_done,
        };
        Ok((out, entry))
    }
}

#[derive(Default)]
struct Shard {
    live: BTreeMap<i64, Live>,
}

/// The code of [`env_failed`]'s error: the handlers close the sessions it names.
pub const ENV_FAILED: &str = "env_failed";

/// Session `id`'s environment panicked (a bug in the environment, not in the request): the
/// session is dropped, and the learner is told to open a new one. Nothing of the failed
/// operation reaches the ledger.
fn env_failed(id: i64) -> ApiError {
    tracing::error!(session = id, "an environment panicked; its session is closed");
    ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        ENV_FAILED,
        format!(
            "session {id}'s environment failed (a bug on the server's side, logged); the session \
             is closed and nothing of this step was recorded: open a new session"
        ),
    )
}

fn no_session(id: i64) -> ApiError {
    ApiError::not_found(format!(
        "no open session {id} for this account; open one with POST /api/sessions"
    ))
}

impl Shard {
    fn get(&mut self, id: i64, account: i64) -> Result<&mut Live, ApiError> {
        match self.live.get_mut(&id) {
            Some(l) if l.meta.account_id == account => Ok(l),
            _ => Err(no_session(id)),
        }
    }
}

/// Replays a session's ledger entries on a fresh environment, checking that each step gives
/// the recorded reward and ending flags (the environments are deterministic, so a mismatch
/// means the ledger or the environment changed).
fn replay(l: &mut Live, rows: &[LedgerRow]) -> Result<Option<EvalDone>, String> {
    let mut done = None;
    for r in rows {
        match r.action {
            None => {
                l.reset(r.seed.map(|s| s as u64));
            }
            Some(a) => {
                let action =
                    u32::try_from(a).map_err(|_| format!("entry {}: bad action {a}", r.seq))?;
                let (out, _) =
                    l.step(action).map_err(|e| format!("entry {}: {}", r.seq, e.message))?;
                done = out.eval_done.clone();
                if out.reward.to_bits() != r.reward.to_bits()
                    || out.terminated != r.terminated
                    || out.truncated != r.truncated
                {
                    return Err(format!(
                        "entry {} replays differently (reward {} recorded, {} replayed)",
                        r.seq, r.reward, out.reward
                    ));
                }
            }
        }
    }
    Ok(done)
}
