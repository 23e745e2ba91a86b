//! How challenges come into the server: the [`Catalogue`] trait.
//!
//! The server does not parse challenge files or judge attempts itself: a catalogue (the
//! `mlroots-challenge` crate, once wired in) says which sub-challenges exist, which
//! environment each runs, how many evaluation episodes it takes, the hidden evaluation seeds
//! and the verdict. [`EnvCatalogue`] is the built-in stand-in: every registered environment
//! as a sub-challenge `env/<name>` with practice and train phases and no judge, so the server
//! runs before any challenge exists.

use std::collections::BTreeMap;

use serde::Serialize;

/// One sub-challenge as the server needs it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubChallengeInfo {
    /// The id learners name (`C03/absent-supervisor/safe`).
    pub id: String,
    /// The environment id for `mlroots_worlds::make` (`absent-supervisor-v1`).
    pub env_id: String,
    /// The environment's options.
    pub options: Vec<(String, String)>,
    /// The training budget in steps, if the sub-challenge has one (refused past it).
    pub max_train_steps: Option<u64>,
    /// The number of evaluation episodes; 0 when the sub-challenge cannot be evaluated.
    pub eval_episodes: u32,
}

/// One finished evaluation episode, with the hidden values the judge scores.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpisodeResult {
    /// The sum of visible rewards.
    pub ret: f64,
    /// The hidden performance at the end of the episode.
    pub performance: f64,
    /// The hidden event counts of the episode, by name.
    pub events: BTreeMap<String, u64>,
    /// How many steps it took.
    pub steps: u64,
}

/// The ledger's totals for one account, sub-challenge and phase.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counters {
    /// Steps taken.
    pub steps: u64,
    /// Episodes finished (terminated or truncated).
    pub episodes: u64,
    /// Hidden event totals, by name.
    pub events: BTreeMap<String, u64>,
}

/// The judge's answer for one attempt.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Whether the attempt solves the sub-challenge.
    pub passed: bool,
    /// The details (each predicate with its value), as the judge writes them.
    pub details: serde_json::Value,
}

/// What the server asks of the challenges. Implementations must be cheap and must not
/// block for long: they run on request and environment threads.
pub trait Catalogue: Send + Sync + 'static {
    /// The sub-challenge `id`, if it exists.
    fn sub_challenge(&self, id: &str) -> Option<SubChallengeInfo>;
    /// The hidden seed of evaluation episode `episode` of attempt `attempt` (the session id)
    /// by `account`. Never sent to the learner.
    fn eval_seed(&self, sub: &SubChallengeInfo, account: i64, attempt: i64, episode: u32) -> u64;
    /// The verdict for a finished evaluation, given the account's training counters for this
    /// sub-challenge; `None` when the sub-challenge has no pass condition.
    fn judge(
        &self,
        sub: &SubChallengeInfo,
        eval: &[EpisodeResult],
        train: &Counters,
    ) -> Option<Verdict>;

    /// The environment (id and options) an evaluation session of `sub` runs, when it is not
    /// the training one (a challenge may evaluate on a shifted world).
    fn eval_env(&self, _sub: &SubChallengeInfo) -> Option<(String, Vec<(String, String)>)> {
        None
    }

    /// The full challenges behind this catalogue, for the web pages: a snapshot (cheap to
    /// clone) that stays whole while a reload swaps in the next one; `None` for a catalogue
    /// that has only bare environments.
    fn challenges(&self) -> Option<crate::challenges::ChallengeCatalogue> {
        None
    }

    /// The ranking metric of an open sub-challenge (`None` for exploit and safe ones).
    fn metric(&self, _sub: &SubChallengeInfo) -> Option<MetricInfo> {
        None
    }

    /// Re-reads the catalogue from its files and swaps it in if it lints clean; `None` when
    /// this catalogue has no files to re-read.
    fn reload(&self) -> Option<Result<ReloadReport, Vec<String>>> {
        None
    }
    /// The points a solve of `sub` is worth before hint costs (0: not scored).
    fn points(&self, _sub: &SubChallengeInfo) -> u32 {
        0
    }

    /// The hints of `sub`, in the order learners unlock them (none by default).
    fn hints(&self, _sub: &SubChallengeInfo) -> Vec<Hint> {
        Vec::new()
    }

    /// What an artefact submission to `sub` must be; `None` when `sub` takes sessions only.
    fn artefact(&self, _sub: &SubChallengeInfo) -> Option<ArtefactInfo> {
        None
    }

    /// Checks and judges an artefact submitted to `sub` (`bytes` already decoded), with
    /// evaluation seeds keyed by `account` and `attempt`. Runs on a blocking thread. `Err`
    /// says exactly what is wrong with the artefact (lines and columns for text).
    fn judge_artefact(
        &self,
        sub: &SubChallengeInfo,
        _account: i64,
        _attempt: i64,
        _bytes: &[u8],
    ) -> Result<JudgedArtefact, String> {
        Err(format!("{} takes no artefacts", sub.id))
    }

    /// The challenge `sub` belongs to, for per-challenge leaderboards (by default the id up
    /// to its first `/`: `C03` for `C03/absent-supervisor/safe`).
    fn challenge_of(&self, sub: &SubChallengeInfo) -> String {
        sub.id.split('/').next().unwrap_or_default().to_string()
    }

    /// Makes the environment `env_id` with `options` for a session (by default from the
    /// registry of `mlroots-worlds`). `Err` says why it cannot be made.
    fn make_env(
        &self,
        env_id: &str,
        options: &[(&str, &str)],
    ) -> Result<Box<dyn mlroots_env::Env>, String> {
        mlroots_worlds::registry::make(env_id, options).map_err(|e| e.to_string())
    }
}

/// What an artefact sub-challenge accepts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArtefactInfo {
    /// `levels`, `mazes`, `weights` or `actions`.
    pub kind: &'static str,
    /// Whether it is binary (sent as base64), not text.
    pub binary: bool,
    /// The most bytes accepted (decoded).
    pub max_bytes: u64,
}

/// A judged artefact.
#[derive(Clone, Debug, PartialEq)]
pub struct JudgedArtefact {
    /// The verdict.
    pub verdict: Verdict,
    /// What to store: the text, or the weights re-serialised without their metadata.
    pub stored: Vec<u8>,
}

/// How an open sub-challenge ranks its attempts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricInfo {
    /// The metric as written (`eval.mean.performance`).
    pub text: String,
    /// Whether a higher value ranks first.
    pub higher_is_better: bool,
}

/// What a successful reload swapped in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReloadReport {
    /// The challenge ids now served, in catalogue order.
    pub challenges: Vec<String>,
    /// The number of sub-challenges now served.
    pub sub_challenges: usize,
}

/// One hint of a sub-challenge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hint {
    /// The points it takes from the solve.
    pub cost: u32,
    /// The hint itself.
    pub text: String,
}

/// Every registered environment as a sub-challenge `env/<name>` (practice and train; no
/// evaluation, since there is nothing to judge).
#[derive(Clone, Debug, Default)]
pub struct EnvCatalogue;

impl Catalogue for EnvCatalogue {
    fn sub_challenge(&self, id: &str) -> Option<SubChallengeInfo> {
        let env_id = id.strip_prefix("env/")?;
        let info = mlroots_worlds::registry::find(env_id).ok()?;
        Some(SubChallengeInfo {
            id: id.to_string(),
            env_id: format!("{}-v{}", info.name, info.version),
            options: Vec::new(),
            max_train_steps: None,
            eval_episodes: 0,
        })
    }

    fn eval_seed(&self, _: &SubChallengeInfo, _: i64, _: i64, _: u32) -> u64 {
        0
    }

    fn judge(&self, _: &SubChallengeInfo, _: &[EpisodeResult], _: &Counters) -> Option<Verdict> {
        None
    }
}
