//! The real catalogue: the challenges of `challenges/` (loaded by `mlroots-challenge`) behind
//! the server's [`Catalogue`] trait.
//!
//! Sub-challenges are named `<challenge>/<sub>` (`C03-safety-gridworlds/AS-X`). Evaluation
//! seeds come from [`mlroots_challenge::seeds::eval_seeds`] under a server secret, keyed by
//! the account and the attempt (the eval session's id), so nobody can precompute them; the
//! verdict is [`mlroots_challenge::judge`] itself, the function `mlroots judge` runs. The bare
//! environments stay available as `env/<name>` practice and train sessions, through
//! [`EnvCatalogue`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mlroots_challenge::expr::{EpisodeResult as JudgeEpisode, TrainCounters};
use mlroots_challenge::spec::Submission;
use mlroots_challenge::{Challenge, SubChallenge};

use crate::catalogue::{
    Catalogue, Counters, EnvCatalogue, EpisodeResult, SubChallengeInfo, Verdict,
};

/// Why the challenges could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Some challenge file is wrong; each problem with its place.
    #[error(
        "the challenges under {root} do not load; fix these (`mlroots lint` shows the same):\n{problems}"
    )]
    Invalid {
        /// The folder.
        root: String,
        /// One problem per line, `file:line:column: message`.
        problems: String,
    },
    /// The secret is too short to keep evaluation seeds unguessable.
    #[error("the evaluation secret must be at least 16 bytes (it is {0}); set a longer one")]
    ShortSecret(usize),
}

/// The challenges, with the secret their evaluation seeds derive from: one immutable
/// snapshot of the catalogue, cheap to clone (its parts are shared), so a request can hold
/// the snapshot it started with while [`crate::live::LiveCatalogue`] swaps in a reloaded one.
#[derive(Clone)]
pub struct ChallengeCatalogue {
    challenges: Arc<Vec<Challenge>>,
    secret: Arc<[u8]>,
    /// The official writeup (`solution/writeup.md`) of each challenge, by id: never served
    /// before a solve (see [`ChallengeCatalogue::official_writeup`]).
    writeups: Arc<BTreeMap<String, String>>,
}

impl std::fmt::Debug for ChallengeCatalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengeCatalogue")
            .field("challenges", &self.challenges.len())
            .field("secret", &"<hidden>")
            .finish()
    }
}

impl ChallengeCatalogue {
    /// The catalogue of already loaded `challenges`.
    pub fn new(challenges: Vec<Challenge>, secret: Vec<u8>) -> Result<Self, LoadError> {
        Self::with_writeups(challenges, secret, BTreeMap::new())
    }

    /// The catalogue of already loaded `challenges` with their official writeups (Markdown,
    /// by challenge id).
    pub fn with_writeups(
        challenges: Vec<Challenge>,
        secret: Vec<u8>,
        writeups: BTreeMap<String, String>,
    ) -> Result<Self, LoadError> {
        if secret.len() < 16 {
            return Err(LoadError::ShortSecret(secret.len()));
        }
        Ok(ChallengeCatalogue {
            challenges: Arc::new(challenges),
            secret: secret.into(),
            writeups: Arc::new(writeups),
        })
    }

    /// Loads every challenge under `root` (the repository's `challenges/`), with each one's
    /// official writeup (`<challenge>/solution/writeup.md`, empty when missing).
    pub fn load(root: &Path, secret: Vec<u8>) -> Result<Self, LoadError> {
        let challenges =
            mlroots_challenge::load::catalogue(root).map_err(|diags| LoadError::Invalid {
                root: root.display().to_string(),
                problems: diags
                    .iter()
                    .map(|d| format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
            })?;
        let writeups = read_writeups(root, &challenges);
        Self::with_writeups(challenges, secret, writeups)
    }

    /// The official writeup (Markdown) of challenge `id`. Callers show it only to an account
    /// that solved a sub-challenge of `id`: nothing else in the catalogue carries it.
    pub fn official_writeup(&self, id: &str) -> Option<&str> {
        self.writeups.get(id).map(String::as_str).filter(|w| !w.trim().is_empty())
    }

    /// The evaluation secret (for a reload that must keep it).
    pub(crate) fn secret(&self) -> Vec<u8> {
        self.secret.to_vec()
    }

    /// The challenges, in catalogue order.
    pub fn challenges(&self) -> &[Challenge] {
        &self.challenges
    }

    /// The challenge `id`.
    pub fn challenge(&self, id: &str) -> Option<&Challenge> {
        self.challenges.iter().find(|c| c.id == id)
    }

    /// The challenge and sub-challenge named `challenge/sub`.
    pub fn find(&self, id: &str) -> Option<(&Challenge, &SubChallenge)> {
        let (c, s) = id.split_once('/')?;
        let challenge = self.challenge(c)?;
        Some((challenge, challenge.sub(s)?))
    }
}

/// Each challenge's `solution/writeup.md` under `root`, by id (a missing file is skipped).
pub(crate) fn read_writeups(root: &Path, challenges: &[Challenge]) -> BTreeMap<String, String> {
    challenges
        .iter()
        .filter_map(|c| {
            let path = root.join(&c.id).join("solution").join("writeup.md");
            std::fs::read_to_string(path).ok().map(|w| (c.id.clone(), w))
        })
        .collect()
}

fn options(o: &BTreeMap<String, String>) -> Vec<(String, String)> {
    o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn judge_episode(e: &EpisodeResult) -> JudgeEpisode {
    JudgeEpisode {
        episode_return: e.ret,
        performance: e.performance,
        steps: u32::try_from(e.steps).unwrap_or(u32::MAX),
        events: e
            .events
            .iter()
            .map(|(k, &v)| (k.clone(), u32::try_from(v).unwrap_or(u32::MAX)))
            .collect(),
    }
}

impl Catalogue for ChallengeCatalogue {
    fn sub_challenge(&self, id: &str) -> Option<SubChallengeInfo> {
        if id.starts_with("env/") {
            return EnvCatalogue.sub_challenge(id);
        }
        let (_, sub) = self.find(id)?;
        Some(SubChallengeInfo {
            id: id.to_string(),
            env_id: sub.env.id.clone(),
            options: options(&sub.env.options),
            max_train_steps: sub.budget.train_steps,
            // Levels, mazes and weights are judged from the artefact (`POST /api/submissions`):
            // an eval session would let the learner play the shipped agent's part.
            eval_episodes: match sub.submission {
                Submission::Levels | Submission::Mazes | Submission::Weights => 0,
                Submission::Sessions | Submission::Actions => sub.budget.eval_episodes,
            },
        })
    }

    fn points(&self, sub: &SubChallengeInfo) -> u32 {
        self.find(&sub.id).map_or(0, |(_, s)| s.points)
    }

    fn hints(&self, sub: &SubChallengeInfo) -> Vec<crate::catalogue::Hint> {
        self.find(&sub.id).map_or_else(Vec::new, |(_, s)| {
            s.hints
                .iter()
                .map(|h| crate::catalogue::Hint { cost: h.cost, text: h.text.clone() })
                .collect()
        })
    }

    fn eval_seed(&self, sub: &SubChallengeInfo, account: i64, attempt: i64, episode: u32) -> u64 {
        let Some((challenge, s)) = self.find(&sub.id) else {
            // Not a challenge (an `env/` id has no evaluation): still a hidden, keyed seed.
            return mlroots_challenge::seeds::eval_seeds(
                &self.secret,
                &sub.id,
                "",
                0,
                &account.to_string(),
                attempt as u64,
                episode + 1,
            )[episode as usize];
        };
        let seeds = mlroots_challenge::seeds::eval_seeds(
            &self.secret,
            &challenge.id,
            &s.id,
            challenge.version,
            &account.to_string(),
            attempt as u64,
            episode + 1,
        );
        seeds[episode as usize]
    }

    fn judge(
        &self,
        sub: &SubChallengeInfo,
        eval: &[EpisodeResult],
        train: &Counters,
    ) -> Option<Verdict> {
        let (_, s) = self.find(&sub.id)?;
        let episodes: Vec<JudgeEpisode> = eval.iter().map(judge_episode).collect();
        let counters = TrainCounters {
            steps: train.steps,
            episodes: train.episodes,
            events: train.events.clone(),
        };
        let v = mlroots_challenge::judge(s, &episodes, &counters);
        Some(Verdict { passed: v.passed, details: serde_json::to_value(&v).unwrap_or_default() })
    }

    fn eval_env(&self, sub: &SubChallengeInfo) -> Option<(String, Vec<(String, String)>)> {
        let (_, s) = self.find(&sub.id)?;
        (s.eval_env != s.env).then(|| (s.eval_env.id.clone(), options(&s.eval_env.options)))
    }

    fn challenges(&self) -> Option<ChallengeCatalogue> {
        Some(self.clone())
    }

    fn metric(&self, sub: &SubChallengeInfo) -> Option<crate::catalogue::MetricInfo> {
        let (_, s) = self.find(&sub.id)?;
        s.metric.as_ref().map(|m| crate::catalogue::MetricInfo {
            text: m.text.clone(),
            higher_is_better: m.better == mlroots_challenge::spec::Better::Higher,
        })
    }

    fn artefact(&self, sub: &SubChallengeInfo) -> Option<crate::catalogue::ArtefactInfo> {
        crate::submissions::artefact_info(self.find(&sub.id)?.1)
    }

    fn judge_artefact(
        &self,
        sub: &SubChallengeInfo,
        account: i64,
        attempt: i64,
        bytes: &[u8],
    ) -> Result<crate::catalogue::JudgedArtefact, String> {
        let (_, s) = self.find(&sub.id).ok_or_else(|| format!("no sub-challenge {}", sub.id))?;
        let seeds: Vec<u64> =
            (0..s.budget.eval_episodes).map(|i| self.eval_seed(sub, account, attempt, i)).collect();
        crate::submissions::judge(s, &seeds, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../challenges")
    }

    fn cat() -> ChallengeCatalogue {
        ChallengeCatalogue::load(&root(), b"0123456789abcdef-test".to_vec()).unwrap()
    }

    #[test]
    fn names_sub_challenges_and_keeps_bare_environments() {
        let c = cat();
        let info = c.sub_challenge("C03-safety-gridworlds/AS-X").unwrap();
        assert_eq!(info.env_id, "absent-supervisor");
        assert!(info.options.is_empty());
        assert_eq!(info.max_train_steps, None);
        assert!(info.eval_episodes > 0);
        assert!(c.sub_challenge("C03-safety-gridworlds/NOPE").is_none());
        assert!(c.sub_challenge("C03-safety-gridworlds").is_none());
        assert!(c.sub_challenge("env/boat-race").is_some());
        assert!(c.eval_env(&info).is_none());
    }

    #[test]
    fn shifted_worlds_evaluate_on_their_own_environment() {
        let c = cat();
        let (ch, _) = c
            .challenges()
            .iter()
            .flat_map(|ch| ch.subs.iter().map(move |s| (ch, s)))
            .find(|(_, s)| s.eval_env != s.env)
            .expect("C03 has a sub-challenge evaluated on another world");
        let sub = ch.subs.iter().find(|s| s.eval_env != s.env).unwrap();
        let info = c.sub_challenge(&format!("{}/{}", ch.id, sub.id)).unwrap();
        let (id, opts) = c.eval_env(&info).unwrap();
        assert_eq!(id, sub.eval_env.id);
        assert_eq!(opts, options(&sub.eval_env.options));
    }

    #[test]
    fn eval_seeds_are_keyed_hidden_and_distinct() {
        let c = cat();
        let info = c.sub_challenge("C03-safety-gridworlds/AS-X").unwrap();
        let a = c.eval_seed(&info, 1, 10, 0);
        assert!(mlroots_challenge::seeds::is_eval_seed(a));
        assert_eq!(a, c.eval_seed(&info, 1, 10, 0));
        assert_ne!(a, c.eval_seed(&info, 1, 10, 1));
        assert_ne!(a, c.eval_seed(&info, 2, 10, 0));
        assert_ne!(a, c.eval_seed(&info, 1, 11, 0));
        let other = ChallengeCatalogue::load(&root(), b"another-secret-of-16".to_vec()).unwrap();
        assert_ne!(a, other.eval_seed(&info, 1, 10, 0));
        assert!(matches!(
            ChallengeCatalogue::new(Vec::new(), b"short".to_vec()),
            Err(LoadError::ShortSecret(5))
        ));
    }

    #[test]
    fn judges_with_the_challenge_crate() {
        let c = cat();
        let info = c.sub_challenge("C03-safety-gridworlds/AS-X").unwrap();
        let n = info.eval_episodes as usize;
        let ep = |ret: f64| EpisodeResult {
            ret,
            performance: ret - 50.0,
            events: BTreeMap::new(),
            steps: 3,
        };
        let good = c.judge(&info, &vec![ep(47.0); n], &Counters::default()).unwrap();
        assert!(good.passed, "{}", good.details);
        assert!(good.details["predicates"].as_array().is_some_and(|p| !p.is_empty()));
        let bad = c.judge(&info, &vec![ep(-10.0); n], &Counters::default()).unwrap();
        assert!(!bad.passed);
        let short = c.judge(&info, &[ep(47.0)], &Counters::default()).unwrap();
        assert_eq!(short.passed, n == 1);
        assert!(
            c.judge(&c.sub_challenge("env/boat-race").unwrap(), &[], &Counters::default())
                .is_none()
        );
    }

    #[test]
    fn weights_are_judged_on_every_evaluation_set_with_hidden_seeds() {
        // C02/KC-S declares six evaluation sets: no eval session (weights are submitted), and a
        // submission is played on all 1200 hidden seeds, each set in its own environment.
        let c = cat();
        let info = c.sub_challenge("C02-keys-and-chests/KC-S").unwrap();
        assert_eq!(info.eval_episodes, 0, "weights open no eval session");
        let dir = root().join("C02-keys-and-chests/solution");
        let judged = |file: &str| {
            let bytes = std::fs::read(dir.join(file)).unwrap();
            c.judge_artefact(&info, 1, 7, &bytes).unwrap().verdict
        };
        let reference = judged("opener.safetensors");
        assert!(reference.passed, "{}", reference.details);
        let predicates = reference.details["predicates"].as_array().unwrap();
        assert!(predicates[2]["text"].as_str().unwrap().starts_with("mean(eval.hidden1"));
        let baseline = judged("hoarder-held.safetensors");
        assert!(!baseline.passed, "{}", baseline.details);
    }
}
