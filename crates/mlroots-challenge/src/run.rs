//! Running a solution the way the server counts it: a built-in learner configuration
//! (reference solutions, naive baselines, a learner's own `LEARNER-CONFIG.toml`) trains in the
//! sub-challenge's environment behind a [`Ledger`] that counts every step, finished episode
//! and hidden event (exactly what the server's training ledger records), then the policy is
//! evaluated greedily, one episode per seed. An action string is replayed from each reset.
//! No IO: the caller reads files and prints.

use std::collections::BTreeMap;

use mlroots_env::{Action, Env, EnvError, Hooks, Info, Rng, Step, Wrapper};
use mlroots_learn::tabular::{self, TabularConfig, TabularPolicy};
use mlroots_learn::{Budget, EpisodeRecord, Policy};
use serde::Deserialize;

use crate::artefact::{self, Agent, ArtefactError, CheckedLevel};
use crate::expr::{EpisodeResult, TrainCounters};
use crate::judge::{Verdict, judge};
use crate::spec::{SubChallenge, Submission};

/// A solution: how to produce the behaviour that is judged.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "learner", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Solution {
    /// A tabular learner (`mlroots train` configurations), trained then evaluated greedily.
    Tabular {
        /// A preset of `mlroots-learn` (`reward-maximiser`, `on-policy`, `trazzi`, `one-strike`).
        preset: Option<String>,
        /// The algorithm when there is no preset (`q-learning`, `sarsa`, `expected-sarsa`,
        /// `dyna-q`).
        algo: Option<String>,
        /// Overrides of configuration keys, as in `mlroots train --set KEY=VALUE`.
        #[serde(default)]
        set: BTreeMap<String, toml::Value>,
        /// Training episodes.
        train_episodes: Option<u64>,
        /// Training steps.
        train_steps: Option<u64>,
        /// The training seed.
        #[serde(default)]
        seed: u64,
        /// In a state never met while training: `false` (default) takes action 0, as a saved
        /// table does; `true` takes a uniformly random action (seeded by `seed`), so that a
        /// table on a procedural family is at least as good as chance on new layouts.
        #[serde(default)]
        random_unseen: bool,
        /// `true`: the table is over [`crate::local`]'s view (the 3×3 cells around the agent
        /// and the direction of the goal), not the whole board, in training and evaluation.
        #[serde(default)]
        local_view: bool,
        /// `true`: the table is over [`crate::turn_view`]'s view of the generated treacherous
        /// turn (the next target's direction, the neighbours, where each arrow would stop), in
        /// training and evaluation.
        #[serde(default)]
        turn_view: bool,
        /// Why this configuration (documentation only).
        #[serde(default)]
        note: String,
    },
    /// Uniformly random actions, no training: the naive baseline.
    Random {
        /// The seed of the action stream.
        #[serde(default)]
        seed: u64,
        /// Documentation only.
        #[serde(default)]
        note: String,
    },
    /// An action string (letters of the environment's actions, `LETTERS*N` repeats), replayed
    /// from each evaluation reset.
    Actions {
        /// The string.
        actions: String,
        /// Documentation only.
        #[serde(default)]
        note: String,
    },
    /// Levels (or mazes) as text, separated by blank lines, played by the sub-challenge's
    /// shipped agent.
    Levels {
        /// The levels.
        levels: String,
        /// Documentation only.
        #[serde(default)]
        note: String,
    },
    /// Weights in a file of the challenge folder (a reference or baseline of a weights
    /// sub-challenge, e.g. `solution/repaired.safetensors`); [`crate::load::solution`] reads
    /// it into [`Solution::Weights`].
    WeightsFile {
        /// The file, relative to the challenge folder.
        file: String,
        /// Documentation only.
        #[serde(default)]
        note: String,
    },
    /// Weights (safetensors bytes) of the sub-challenge's architecture, evaluated greedily.
    #[serde(skip)]
    Weights {
        /// The file's bytes.
        bytes: Vec<u8>,
    },
}

/// Why a solution could not be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The solution file does not parse or names no entry for the sub-challenge.
    #[error("{0}")]
    Solution(String),
    /// The learner configuration is refused.
    #[error("learner configuration: {0}")]
    Config(#[from] tabular::ConfigError),
    /// Training failed.
    #[error("training: {0}")]
    Train(#[from] tabular::TrainError),
    /// The environment could not be made.
    #[error("{0}")]
    Make(#[from] mlroots_worlds::MakeError),
    /// The environment refused a step.
    #[error("evaluation: {0}")]
    Env(#[from] EnvError),
    /// The artefact is refused: every problem with its line and column.
    #[error("the artefact is refused:\n{0}")]
    Artefact(#[from] ArtefactError),
    /// This solution cannot be submitted to this sub-challenge.
    #[error("{sub} takes {submission} submissions; {got} cannot be judged there")]
    Kind {
        /// The sub-challenge.
        sub: String,
        /// What it takes.
        submission: &'static str,
        /// What was given.
        got: &'static str,
    },
}

impl Solution {
    /// The solution for sub-challenge `sub` in a solution file's text: either one table with a
    /// `learner` key, or one table per sub-challenge id (as in `solution/reference.toml`).
    pub fn from_toml(text: &str, sub: &str) -> Result<Solution, RunError> {
        let bad = |e: String| RunError::Solution(e);
        let value: toml::Table = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let entry = if value.contains_key("learner") {
            toml::Value::Table(value)
        } else {
            value.get(sub).cloned().ok_or_else(|| {
                bad(format!(
                    "no solution for {sub}; the file has: {}",
                    value.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?
        };
        entry.try_into().map_err(|e: toml::de::Error| bad(format!("{sub}: {}", e.message())))
    }

    fn name(&self) -> &'static str {
        match self {
            Solution::Tabular { .. } => "a tabular learner",
            Solution::Random { .. } => "a random policy",
            Solution::Actions { .. } => "an action string",
            Solution::Levels { .. } => "levels",
            Solution::WeightsFile { .. } | Solution::Weights { .. } => "weights",
        }
    }
}

/// Counts what the server's ledger counts while a learner trains: every step, every finished
/// episode, and every hidden event (read at the end of each episode, or when an unfinished
/// one is abandoned by a reset or by the end of training).
pub type Ledger<'a> = Wrapper<&'a mut dyn Env, Counting>;

/// The hooks of a [`Ledger`]: the counters, and whether an episode is under way.
pub struct Counting {
    counters: TrainCounters,
    in_episode: bool,
}

/// Starts counting in `env`.
pub fn ledger(env: &mut dyn Env) -> Ledger<'_> {
    let mut counters = TrainCounters::default();
    for name in env.hidden_metrics().event_names {
        counters.events.insert(name.to_string(), 0);
    }
    Wrapper::new(env, Counting { counters, in_episode: false })
}

/// The counters of `ledger`, the unfinished episode's events included.
pub fn finish(mut ledger: Ledger<'_>) -> TrainCounters {
    if ledger.hooks.in_episode {
        ledger.hooks.harvest(&*ledger.inner);
    }
    ledger.hooks.counters
}

impl Counting {
    fn harvest(&mut self, env: &dyn Env) {
        let hidden = env.hidden_metrics();
        for (name, &count) in hidden.event_names.iter().zip(hidden.event_counts) {
            *self.counters.events.entry(name.to_string()).or_default() += u64::from(count);
        }
    }
}

impl Hooks for Counting {
    fn reset(&mut self, env: &mut dyn Env, seed: Option<u64>, obs: &mut [f32]) -> Info {
        if self.in_episode {
            self.harvest(env);
        }
        self.in_episode = true;
        env.reset(seed, obs)
    }
    fn step(
        &mut self,
        env: &mut dyn Env,
        action: Action,
        obs: &mut [f32],
    ) -> Result<Step, EnvError> {
        let step = env.step(action, obs)?;
        self.counters.steps += 1;
        if step.done() {
            self.harvest(env);
            self.counters.episodes += 1;
            self.in_episode = false;
        }
        Ok(step)
    }
}

/// What acts in evaluation.
pub enum Actor {
    /// A trained tabular policy.
    Tabular {
        /// The table.
        policy: TabularPolicy,
        /// The random stream for states never met in training, when it has one.
        unseen: Option<Rng>,
        /// The view it acts on.
        view: View,
    },
    /// Uniformly random actions from a seeded stream.
    Random(Rng),
    /// An action string replayed from each reset.
    Actions(Vec<Action>),
    /// Checked levels, one per evaluation episode, played by the sub-challenge's agent.
    Levels(Vec<CheckedLevel>),
    /// A network acting greedily on the observation (a recurrent one carries its state
    /// through each episode).
    Net(mlroots_learn::net::Actor),
}

/// What a tabular actor observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The environment's observation.
    Board,
    /// [`crate::local`]'s view of the ASCII board.
    Local,
    /// [`crate::turn_view`]'s view of the generated treacherous turn.
    Turn,
}

/// A trained solution: what acts, and the training counters.
pub struct Trained {
    /// The actor.
    pub actor: Actor,
    /// What training cost (zero for untrained solutions).
    pub counters: TrainCounters,
}

/// Trains `solution` for `sub` in its training environment, counting as the server does.
pub fn train(sub: &SubChallenge, solution: &Solution) -> Result<Trained, RunError> {
    let fits = match sub.submission {
        Submission::Sessions => !matches!(
            solution,
            Solution::Levels { .. } | Solution::Weights { .. } | Solution::WeightsFile { .. }
        ),
        Submission::Actions => matches!(solution, Solution::Actions { .. }),
        Submission::Levels | Submission::Mazes => matches!(solution, Solution::Levels { .. }),
        Submission::Weights => {
            matches!(solution, Solution::Weights { .. } | Solution::WeightsFile { .. })
        }
    };
    if !fits {
        return Err(RunError::Kind {
            sub: sub.id.clone(),
            submission: sub.submission.as_str(),
            got: solution.name(),
        });
    }
    let mut env = sub.env.make()?;
    let mut counters = TrainCounters::default();
    for name in &sub.env.events {
        counters.events.insert(name.clone(), 0);
    }
    let actor = match solution {
        Solution::Tabular {
            preset,
            algo,
            set,
            train_episodes,
            train_steps,
            seed,
            random_unseen,
            local_view,
            turn_view,
            ..
        } => {
            let mut cfg = match (preset, algo) {
                (Some(p), None) => TabularConfig::preset(p)?,
                (p, Some(a)) => TabularConfig::for_algorithm(a, p.as_deref())?,
                (None, None) => TabularConfig::default(),
            };
            for (key, value) in set {
                let text = match value {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                cfg.set(key, &text)?;
            }
            let budget = match (train_episodes, train_steps) {
                (Some(n), None) => Budget::Episodes(*n),
                (None, Some(n)) => Budget::Steps(*n),
                _ => {
                    return Err(RunError::Solution(
                        "a tabular solution needs exactly one of train_episodes and train_steps"
                            .into(),
                    ));
                }
            };
            let view = match (local_view, turn_view) {
                (false, false) => View::Board,
                (true, false) => View::Local,
                (false, true) => View::Turn,
                (true, true) => {
                    return Err(RunError::Solution(
                        "a tabular solution takes at most one of local_view and turn_view".into(),
                    ));
                }
            };
            let mut ledger = ledger(&mut *env);
            let policy = match view {
                View::Local => {
                    let mut view = crate::local::view(&mut ledger);
                    tabular::train(&cfg, &mut view, budget, *seed, &mut |_| {})?
                }
                View::Turn => {
                    let mut view = crate::turn_view::view(&mut ledger);
                    tabular::train(&cfg, &mut view, budget, *seed, &mut |_| {})?
                }
                View::Board => tabular::train(&cfg, &mut ledger, budget, *seed, &mut |_| {})?,
            };
            counters = finish(ledger);
            let unseen = random_unseen.then(|| Rng::seed_from_u64(*seed));
            Actor::Tabular { policy, unseen, view }
        }
        Solution::Random { seed, .. } => Actor::Random(Rng::seed_from_u64(*seed)),
        Solution::Actions { actions, .. } => {
            Actor::Actions(mlroots_worlds::parse_actions(&*env, actions)?)
        }
        Solution::Levels { levels, .. } => Actor::Levels(check_levels(sub, levels)?),
        Solution::Weights { bytes } => {
            Actor::Net(mlroots_learn::net::Actor::new(check_weights(sub, bytes)?))
        }
        Solution::WeightsFile { file, .. } => {
            return Err(RunError::Solution(format!(
                "the weights file {file} must be read first (load::solution reads it)"
            )));
        }
    };
    Ok(Trained { actor, counters })
}

/// Checks a levels submission for `sub`: its grammar, then each level through the eval
/// environment's level option.
pub fn check_levels(sub: &SubChallenge, text: &str) -> Result<Vec<CheckedLevel>, RunError> {
    let spec = sub.artefact.clone().unwrap_or_default();
    let option = spec.option.clone().unwrap_or_default();
    let make = |level: &str| level_env(sub, &option, level).map_err(|e| e.to_string());
    Ok(artefact::read_levels(&spec, text, sub.budget.eval_episodes, &make)?)
}

/// Checks a weights submission for `sub` against its declared architecture.
pub fn check_weights(
    sub: &SubChallenge,
    bytes: &[u8],
) -> Result<mlroots_learn::net::Net, RunError> {
    let spec = sub.artefact.clone().unwrap_or_default();
    let arch = spec.arch.ok_or_else(|| {
        RunError::Solution(format!("{} declares no architecture for weights", sub.id))
    })?;
    let max = spec.max_bytes.unwrap_or(artefact::DEFAULT_MAX_WEIGHT_BYTES);
    let net = artefact::check_weights(&arch, bytes, max)?;
    if let Some(budget) = spec.max_relative_change {
        let Some(Agent::Net(anchor)) = &sub.agent else {
            return Err(RunError::Solution(format!(
                "{} limits the change of the weights but has no shipped network loaded",
                sub.id
            )));
        };
        artefact::check_change(anchor, &net, budget)?;
    }
    Ok(net)
}

fn level_env(
    sub: &SubChallenge,
    option: &str,
    level: &str,
) -> Result<Box<dyn Env>, mlroots_worlds::MakeError> {
    let mut opts: Vec<(&str, &str)> =
        sub.eval_env.options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    opts.retain(|(k, _)| *k != option);
    opts.push((option, level));
    mlroots_worlds::make(&sub.eval_env.id, &opts)
}

/// Plays `agent` greedily on each level (the level's episode reset with the matching seed).
fn play_levels(
    sub: &SubChallenge,
    levels: &[CheckedLevel],
    seeds: &[u64],
) -> Result<Vec<EpisodeResult>, RunError> {
    let agent: &Agent = sub.agent.as_ref().ok_or_else(|| {
        RunError::Solution(format!("{} has no shipped agent loaded to play the levels", sub.id))
    })?;
    let option = sub.artefact.as_ref().and_then(|a| a.option.clone()).unwrap_or_default();
    let mut out = Vec::with_capacity(levels.len());
    for (i, level) in levels.iter().enumerate() {
        let mut env = level_env(sub, &option, &level.option_text)?;
        let mut obs = vec![0.0; env.observation_space().flat_len()];
        env.reset(Some(seeds.get(i).copied().unwrap_or(0)), &mut obs);
        let (mut steps, mut ret) = (0u32, 0.0);
        loop {
            let action = agent.act(&*env, &obs);
            let step = env.step(action, &mut obs)?;
            steps += 1;
            ret += step.reward;
            if step.done() {
                break;
            }
        }
        let record = EpisodeRecord::from_env(&*env, i as u64, steps, u64::from(steps), ret);
        out.push(EpisodeResult::from(&record));
    }
    Ok(out)
}

/// Evaluates `trained` in `sub`'s evaluation environment, one episode per seed (the greedy
/// policy; an action string stops where it ends if the episode has not).
pub fn evaluate(
    sub: &SubChallenge,
    trained: &mut Trained,
    seeds: &[u64],
) -> Result<Vec<EpisodeResult>, RunError> {
    if !sub.eval_sets.is_empty() {
        return evaluate_sets(sub, trained, seeds);
    }
    if let Actor::Levels(levels) = &trained.actor {
        return play_levels(sub, levels, seeds);
    }
    let mut env = sub.eval_env.make()?;
    let n = env.action_space().n;
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    let mut out = Vec::with_capacity(seeds.len());
    for (i, &seed) in seeds.iter().enumerate() {
        let mut info = env.reset(Some(seed), &mut obs);
        if let Actor::Net(a) = &mut trained.actor {
            a.reset();
        }
        let (mut steps, mut ret) = (0u32, 0.0);
        loop {
            let action = match &mut trained.actor {
                Actor::Tabular { policy, unseen, view } => {
                    let (local, turn_state);
                    let mut turn = None;
                    let o = match view {
                        View::Local => {
                            local = crate::local::features(&env.render_ascii());
                            &local[..]
                        }
                        View::Turn => {
                            turn_state = crate::turn_view::state(
                                turn.insert(crate::turn_view::features(&obs)),
                            );
                            &turn_state[..]
                        }
                        View::Board => &obs[..],
                    };
                    let a = match unseen {
                        Some(rng) if policy.q_values(o).is_none() => rng.below(n),
                        _ => policy.act(o, &info),
                    };
                    match &turn {
                        Some(t) => crate::turn_view::absolute(t, a),
                        None => a,
                    }
                }
                Actor::Random(rng) => rng.below(n),
                Actor::Actions(list) => match list.get(steps as usize) {
                    Some(&a) => a,
                    None => break,
                },
                Actor::Net(a) => a.act(&obs) as Action,
                Actor::Levels(_) => break,
            };
            let step = env.step(action, &mut obs)?;
            if let Actor::Net(a) = &mut trained.actor {
                a.feedback(action as usize, step.reward);
            }
            steps += 1;
            ret += step.reward;
            if step.done() {
                break;
            }
            info = step.info;
        }
        let record = EpisodeRecord::from_env(&*env, i as u64, steps, u64::from(steps), ret);
        out.push(EpisodeResult::from(&record));
    }
    Ok(out)
}

/// Evaluates `trained` on `sub`'s named evaluation sets: the first set's episodes on the first
/// seeds, in its environment, then the next set's on the following seeds, and so on (fewer
/// seeds than `budget.eval_episodes`: the last sets get fewer episodes, or none).
fn evaluate_sets(
    sub: &SubChallenge,
    trained: &mut Trained,
    seeds: &[u64],
) -> Result<Vec<EpisodeResult>, RunError> {
    let mut out = Vec::with_capacity(seeds.len());
    let mut start = 0;
    for set in &sub.eval_sets {
        let end = (start + set.episodes as usize).min(seeds.len());
        let one = SubChallenge { eval_env: set.env.clone(), eval_sets: Vec::new(), ..sub.clone() };
        out.extend(evaluate(&one, trained, &seeds[start..end])?);
        start = end;
    }
    Ok(out)
}

/// A judged run.
pub struct Outcome {
    /// The training counters.
    pub train: TrainCounters,
    /// The evaluation episodes.
    pub eval: Vec<EpisodeResult>,
    /// The verdict.
    pub verdict: Verdict,
}

/// Trains, evaluates on `seeds` and judges.
pub fn run(sub: &SubChallenge, solution: &Solution, seeds: &[u64]) -> Result<Outcome, RunError> {
    let mut trained = train(sub, solution)?;
    let eval = evaluate(sub, &mut trained, seeds)?;
    let verdict = judge(sub, &eval, &trained.counters);
    Ok(Outcome { train: trained.counters, eval, verdict })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solution_files_name_one_entry_or_one_per_sub() {
        let one = "learner = \"tabular\"\npreset = \"reward-maximiser\"\ntrain_episodes = 10\n";
        assert!(matches!(Solution::from_toml(one, "ANY").unwrap(), Solution::Tabular { .. }));
        let many = "[A-X]\nlearner = \"random\"\n[A-S]\nlearner = \"actions\"\nactions = \"ddd\"\n";
        assert!(matches!(Solution::from_toml(many, "A-S").unwrap(), Solution::Actions { .. }));
        let e = Solution::from_toml(many, "B-X").unwrap_err().to_string();
        assert!(e.contains("no solution for B-X") && e.contains("A-S"), "{e}");
        let typo = "learner = \"tabular\"\ntrain_episode = 10\n";
        let e = Solution::from_toml(typo, "X").unwrap_err().to_string();
        assert!(e.contains("train_episode"), "{e}");
        let e = Solution::from_toml("learner = \"dqn\"\n", "X").unwrap_err().to_string();
        assert!(e.contains("dqn"), "{e}");
    }

    #[test]
    fn the_ledger_counts_every_step_and_the_events_of_cut_episodes() {
        // Random walks in the absent supervisor, cut in the middle of an episode: the ledger's
        // counts equal a count made by hand from the same steps.
        let mut env =
            mlroots_worlds::make("absent-supervisor", &[("supervisor", "absent")]).unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_len()];
        let mut rng = Rng::seed_from_u64(3);
        let mut ledger = ledger(&mut *env);
        let (mut steps, mut episodes, mut punished) = (0u64, 0u64, 0u64);
        let mut on_p = 0u64;
        ledger.reset(Some(0), &mut obs);
        for _ in 0..1234 {
            let step = ledger.step(rng.below(4), &mut obs).unwrap();
            steps += 1;
            on_p = u64::from(ledger.hidden_metrics().event("punishment_steps").unwrap());
            if step.done() {
                episodes += 1;
                punished += on_p;
                on_p = 0;
                ledger.reset(None, &mut obs);
            }
        }
        let counters = finish(ledger);
        assert_eq!((counters.steps, counters.episodes), (steps, episodes));
        assert_eq!(counters.events["punishment_steps"], punished + on_p);
        assert!(punished > 0 && episodes > 5);
    }
}
