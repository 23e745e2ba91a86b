//! The configuration of the tabular learners: one serde struct with defaults, `set(key, value)`
//! overrides for the command line, validation, and the named presets that reproduce the
//! failures of the catalogue (one command each in the README).

use serde::{Deserialize, Serialize};

use crate::Budget;

/// The tabular algorithms, by their command-line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// `q-learning`: off-policy, bootstraps on `max_a Q(s′, a)` (Watkins 1989).
    QLearning,
    /// `sarsa`: on-policy, bootstraps on `Q(s′, a′)` for the action `a′` the learner takes next.
    Sarsa,
    /// `expected-sarsa`: bootstraps on the expectation of `Q(s′, ·)` under the behaviour policy.
    ExpectedSarsa,
    /// `dyna-q`: Q-learning plus `planning_steps` simulated updates per real step, replayed from
    /// a learned deterministic model (Sutton 1990; Sutton & Barto 2018 §8.2).
    DynaQ,
}

impl Algorithm {
    /// Every algorithm, in the order the command line lists them.
    pub const ALL: [Algorithm; 4] =
        [Algorithm::QLearning, Algorithm::Sarsa, Algorithm::ExpectedSarsa, Algorithm::DynaQ];

    /// The command-line name (`q-learning`, `sarsa`, `expected-sarsa`, `dyna-q`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::QLearning => "q-learning",
            Algorithm::Sarsa => "sarsa",
            Algorithm::ExpectedSarsa => "expected-sarsa",
            Algorithm::DynaQ => "dyna-q",
        }
    }

    /// The algorithm named `name`.
    pub fn from_name(name: &str) -> Result<Algorithm, ConfigError> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name).ok_or_else(|| {
            ConfigError::UnknownAlgorithm { name: name.to_string(), known: algorithm_names() }
        })
    }
}

fn algorithm_names() -> String {
    Algorithm::ALL.map(Algorithm::name).join(", ")
}

/// How the behaviour policy explores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exploration {
    /// A uniformly random action with probability ε (see [`Schedule`]), else the greedy one
    /// (ties broken uniformly at random while training).
    EpsilonGreedy,
    /// Trazzi's scheme for the treacherous turn (environments.md §2): in episode `i` (from 0),
    /// a random action with probability `0.1 / ln(i + 2)`, else `argmax_a Q(s, a) + N(0, 1)/(i + 1)`
    /// (independent Gaussian noise per action). The `epsilon*` keys are ignored.
    Trazzi,
}

/// How ε changes with the episode index `i` (from 0), between `epsilon` and `epsilon_end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// ε = `epsilon` for ever.
    Constant,
    /// From `epsilon` to `epsilon_end` in a straight line over `epsilon_decay` episodes, then
    /// `epsilon_end`.
    Linear,
    /// `epsilon_end + (epsilon − epsilon_end)·exp(−i / epsilon_decay)`.
    Exponential,
}

/// Which action an update is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateOn {
    /// The action the learner chose.
    Chosen,
    /// The action the environment executed (`Info::actual_actions`, after an interruption or
    /// drunkenness replaced it), as Orseau & Armstrong (2016) require for Q-learning to be
    /// safely interruptible: the override then looks like the learner's own exploration, which
    /// an off-policy learner discounts.
    Executed,
}

/// Which outcome Dyna-Q's deterministic model keeps for each `(s, a)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DynaModel {
    /// The most recent outcome `(r, s′)` (Sutton & Barto's tabular Dyna-Q).
    Last,
    /// The majority outcome, tracked by the Boyer–Moore vote (one outcome and a counter per
    /// pair): an outcome seen more than half the time is kept, so a rare transition (the
    /// treacherous turn's bow arriving at step 101 whatever the state, a lottery lost once)
    /// cannot replace the usual one. Still one outcome per pair: for outcomes without a
    /// majority it keeps one of them.
    Majority,
}

/// Domain knowledge the learner may use to restrict its own actions while training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shield {
    /// No restriction.
    None,
    /// For `treacherous-turn` with `obs=index` only (curriculum C01, TT-2 hint H4: "explore
    /// everything except shooting the shopkeeper until the bow appears, then try it once").
    /// The learner decodes the public state index; while training it never takes a shot whose
    /// arrow would hit the living shopkeeper before the bow, and with the bow only until
    /// `shield_strikes` kills have been seen (a kill shows as the shopkeeper's bit of the state
    /// clearing). Shots it forbids before the bow are written into the table with the value
    /// `shield_q`, so that the greedy policy keeps the rule; the value of the kill with the bow
    /// is learned, never written.
    TreacherousTurnOneStrike,
    /// Any environment with a public cost signal in its info (`cost_signal`; curriculum C01,
    /// TT-S hint H4: "treat any action that ever produced cost as forbidden in every state").
    /// When a step reports a positive cost, what the action did is forbidden for good: with
    /// `cost_context` empty, that action in that state; with it, that action's context (the
    /// value of the observation entry it names), for every action with a context and in
    /// every state. The learner never takes a forbidden action (unless all are), bootstraps
    /// over the allowed ones, and the forbidden values are written into the table with
    /// `shield_q`, so that the greedy policy keeps the rule.
    Cost,
}

/// The configuration of a tabular learner. Every key has a default (`TabularConfig::default()`
/// is Q-learning with α 0.1, γ 0.99, ε-greedy 0.1); [`TabularConfig::set`] overrides one key
/// from its text form, and [`TabularConfig::preset`] gives the configurations of the failure
/// reproductions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TabularConfig {
    /// The algorithm.
    pub algo: Algorithm,
    /// The learning rate α, in (0, 1].
    pub alpha: f64,
    /// The discount γ, in [0, 1]. A truncated episode (time limit) is bootstrapped; a
    /// terminated one is not.
    pub gamma: f64,
    /// The initial value of every Q(s, a).
    pub q_init: f64,
    /// The exploration scheme.
    pub exploration: Exploration,
    /// ε at episode 0 (ε-greedy), in [0, 1].
    pub epsilon: f64,
    /// The final ε of a decaying schedule, in [0, 1].
    pub epsilon_end: f64,
    /// How ε decays.
    pub epsilon_schedule: Schedule,
    /// The length (linear) or time constant (exponential) of the decay, in episodes (> 0).
    pub epsilon_decay: f64,
    /// Honour the environment's public `exploration` extra (whisky-gold's drunkenness in
    /// `exploration=agent` mode): while it is set, the learner explores at least that much.
    pub info_exploration: bool,
    /// Which action the update is about (see [`UpdateOn`]).
    pub update_on: UpdateOn,
    /// Dyna-Q: simulated updates per real step (ignored by the other algorithms).
    pub planning_steps: u32,
    /// Dyna-Q: which outcome the model keeps (see [`DynaModel`]).
    pub dyna_model: DynaModel,
    /// Dyna-Q: when training ends, the greedy table is finished by value iteration on the
    /// learned model (full backups, α = 1, until no value moves by more than 1e-6, at most
    /// this many sweeps), with every action never tried in a state valued just below the
    /// worst tried one: the greedy policy then follows the best route through what was
    /// actually experienced, instead of the optimism of `q_init` (which drives exploration
    /// while training). 0 keeps the table as training left it.
    pub final_sweeps: u32,
    /// Domain knowledge restricting the learner's own actions while training.
    pub shield: Shield,
    /// With the one-strike shield: the kills allowed during the whole training run.
    pub shield_strikes: u32,
    /// With the one-strike shield: the episodes played before a kill with the bow is allowed
    /// (learn the world first, so that the single kill happens on a known route).
    pub shield_warmup: u64,
    /// With the one-strike shield: the value written for a shot it forbids before the bow;
    /// with the cost shield, for every action it forbids.
    pub shield_q: f64,
    /// With the cost shield: the name of the info extra that carries the cost (a number;
    /// positive means cost).
    pub cost_signal: String,
    /// With the cost shield: for each action, comma-separated, the index of the observation
    /// entry that says what the action acts on (its context), or `-` for an action the shield
    /// never forbids; the empty string keys the rule on the whole state. Actions with a
    /// context share one key space (a shot whose arrow stops at a symbol that once produced
    /// cost is forbidden in every direction): `-,-,-,-,7,8,9,10`.
    pub cost_context: String,
    /// With the one-strike shield and Dyna-Q: a local model. The learner knows the rules are
    /// local (it decodes the public state index into the board, as the shield does): an
    /// action's outcome depends only on Link's cell and on what lies on the cells it touches
    /// (and, where those need them, on the crystal and heart, on the shopkeeper's life for
    /// the machine, on the bow for an arrow that stops at him). Each transition seen is a
    /// rule for its context, and planning applies the rules in every state they reach, so a
    /// single kill, a single heart or a single walk generalises to every map where it fits.
    /// And the one permitted kill is an experiment: from episode `shield_warmup` on, with the
    /// bow and until the machine has been tried with the shopkeeper dead, the learner acts
    /// greedily on value iteration over this model, with every untried action of a state
    /// where he is dead, and the permitted kill itself, valued `plan_optimism` (R-max): it
    /// walks to the kill, then to the machine. The final sweeps use the same model.
    pub local_model: bool,
    /// With `local_model`: the value of an untried action in the kill experiment.
    pub plan_optimism: f64,
    /// The most distinct states the table may hold before training stops with an error (an
    /// observation with noise or a clock makes every state new).
    pub max_states: u32,
}

impl Default for TabularConfig {
    fn default() -> Self {
        TabularConfig {
            algo: Algorithm::QLearning,
            alpha: 0.1,
            gamma: 0.99,
            q_init: 0.0,
            exploration: Exploration::EpsilonGreedy,
            epsilon: 0.1,
            epsilon_end: 0.01,
            epsilon_schedule: Schedule::Constant,
            epsilon_decay: 1000.0,
            info_exploration: true,
            update_on: UpdateOn::Chosen,
            planning_steps: 50,
            dyna_model: DynaModel::Last,
            final_sweeps: 0,
            shield: Shield::None,
            shield_strikes: 1,
            shield_warmup: 0,
            shield_q: -100.0,
            cost_signal: "harm_cost".to_string(),
            cost_context: String::new(),
            local_model: false,
            plan_optimism: 10.0,
            max_states: 1_000_000,
        }
    }
}

/// A configuration key or value that cannot be used. Each message says what to do instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// No such key.
    #[error("unknown tabular config key `{key}`; known keys: {known}")]
    UnknownKey {
        /// The key given.
        key: String,
        /// The accepted keys.
        known: String,
    },
    /// The value does not parse as the key's type.
    #[error("bad value `{value}` for `{key}`: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// An override without `=`.
    #[error("`{text}` is not KEY=VALUE (e.g. alpha=0.1)")]
    NotKeyValue {
        /// The text given.
        text: String,
    },
    /// A value outside its range.
    #[error("`{key}` = {value} is out of range: {expected}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// The value, as text.
        value: String,
        /// The accepted range.
        expected: &'static str,
    },
    /// No such preset.
    #[error("unknown tabular preset `{name}`; known presets: {known}")]
    UnknownPreset {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
    /// The preset is for another algorithm.
    #[error(
        "preset `{preset}` is for `{preset_algo}`, not `{algo}`; run `{preset_algo}` with it, \
         or choose another preset"
    )]
    PresetAlgorithm {
        /// The preset.
        preset: String,
        /// Its algorithm.
        preset_algo: &'static str,
        /// The algorithm asked for.
        algo: &'static str,
    },
    /// No such algorithm.
    #[error("unknown tabular algorithm `{name}`; known: {known}")]
    UnknownAlgorithm {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
}

impl TabularConfig {
    /// The defaults for `algo`.
    pub fn new(algo: Algorithm) -> Self {
        TabularConfig { algo, ..TabularConfig::default() }
    }

    /// The configuration the command line starts from: the defaults of `algo`, or preset
    /// `preset`, which must be a preset of `algo`.
    pub fn for_algorithm(algo: &str, preset: Option<&str>) -> Result<Self, ConfigError> {
        let algo = Algorithm::from_name(algo)?;
        match preset {
            None => Ok(TabularConfig::new(algo)),
            Some(name) => {
                let p = find_preset(name)?;
                if p.algo != algo {
                    return Err(ConfigError::PresetAlgorithm {
                        preset: name.to_string(),
                        preset_algo: p.algo.name(),
                        algo: algo.name(),
                    });
                }
                Ok((p.config)())
            }
        }
    }

    /// The configuration of preset `name` (see [`presets`]).
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        Ok((find_preset(name)?.config)())
    }

    /// Overrides one key from a `KEY=VALUE` text (`alpha=0.5`), as [`TabularConfig::set`].
    pub fn set_pair(&mut self, text: &str) -> Result<(), ConfigError> {
        let (key, value) =
            text.split_once('=').ok_or_else(|| ConfigError::NotKeyValue { text: text.into() })?;
        self.set(key, value)
    }

    /// Overrides one key from its text form (`alpha`, `"0.5"`; `exploration`, `"trazzi"`;
    /// `info_exploration`, `"false"`), then validates the whole configuration. On error the
    /// configuration is unchanged.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        use crate::overrides::{KeyError, text_value, with_key};
        let new = with_key(&*self, key, text_value(value)).map_err(|e| match e {
            KeyError::Unknown { known } => ConfigError::UnknownKey { key: key.to_string(), known },
            KeyError::Bad { reason } => {
                ConfigError::BadValue { key: key.to_string(), value: value.to_string(), reason }
            }
        })?;
        new.validate()?;
        *self = new;
        Ok(())
    }

    /// Checks every range; training calls it first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn check(
            key: &'static str,
            value: f64,
            ok: bool,
            expected: &'static str,
        ) -> Result<(), ConfigError> {
            if ok && value.is_finite() {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange { key, value: value.to_string(), expected })
            }
        }
        check("alpha", self.alpha, self.alpha > 0.0 && self.alpha <= 1.0, "0 < alpha <= 1")?;
        check("gamma", self.gamma, (0.0..=1.0).contains(&self.gamma), "0 <= gamma <= 1")?;
        check("q_init", self.q_init, true, "a finite number")?;
        check("epsilon", self.epsilon, (0.0..=1.0).contains(&self.epsilon), "0 <= epsilon <= 1")?;
        check(
            "epsilon_end",
            self.epsilon_end,
            (0.0..=1.0).contains(&self.epsilon_end),
            "0 <= epsilon_end <= 1",
        )?;
        check("epsilon_decay", self.epsilon_decay, self.epsilon_decay > 0.0, "> 0 episodes")?;
        check("shield_q", self.shield_q, true, "a finite number")?;
        check("plan_optimism", self.plan_optimism, true, "a finite number")?;
        if parse_context(&self.cost_context).is_none() {
            return Err(ConfigError::OutOfRange {
                key: "cost_context",
                value: self.cost_context.clone(),
                expected: "comma-separated observation indices or `-`, one per action (or empty)",
            });
        }
        if self.max_states == 0 {
            return Err(ConfigError::OutOfRange {
                key: "max_states",
                value: "0".to_string(),
                expected: "at least 1",
            });
        }
        Ok(())
    }

    /// ε of episode `episode` under the ε-greedy schedule.
    pub fn epsilon_at(&self, episode: u64) -> f64 {
        let i = episode as f64;
        match self.epsilon_schedule {
            Schedule::Constant => self.epsilon,
            Schedule::Linear if i >= self.epsilon_decay => self.epsilon_end,
            Schedule::Linear => {
                self.epsilon + (self.epsilon_end - self.epsilon) * (i / self.epsilon_decay)
            }
            Schedule::Exponential => {
                self.epsilon_end
                    + (self.epsilon - self.epsilon_end) * (-i / self.epsilon_decay).exp()
            }
        }
    }
}

/// The per-action contexts of `cost_context` (`None` in an entry: no context), or `None` when
/// the text does not parse. The empty text is the empty list (the whole state is the context).
pub(crate) fn parse_context(text: &str) -> Option<Vec<Option<usize>>> {
    if text.trim().is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|item| match item.trim() {
            "-" => Some(None),
            n => n.parse::<usize>().ok().map(Some),
        })
        .collect()
}

/// A named configuration that reproduces one failure, with the environment and budget it was
/// calibrated on (the failure tests train exactly this).
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// The name (`--preset NAME`).
    pub name: &'static str,
    /// The algorithm it configures.
    pub algo: Algorithm,
    /// One line: the failure it reproduces and the behaviour to expect.
    pub summary: &'static str,
    /// The environment it is meant for.
    pub env: &'static str,
    /// The environment options it is meant for.
    pub options: &'static [(&'static str, &'static str)],
    /// The training budget that reproduces the failure (what the test uses).
    pub budget: Budget,
    config: fn() -> TabularConfig,
}

impl Preset {
    /// The configuration.
    pub fn config(&self) -> TabularConfig {
        (self.config)()
    }

    /// The command that shows the failure (`mlroots train ...`).
    pub fn command(&self) -> String {
        crate::overrides::train_command(
            self.algo.name(),
            self.env,
            self.options,
            self.name,
            self.budget,
        )
    }
}

/// Every tabular preset.
pub fn presets() -> &'static [Preset] {
    PRESETS
}

fn find_preset(name: &str) -> Result<&'static Preset, ConfigError> {
    PRESETS.iter().find(|p| p.name == name).ok_or_else(|| ConfigError::UnknownPreset {
        name: name.to_string(),
        known: PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", "),
    })
}

/// Trazzi's hyperparameters (environments.md §2): Q₀ = 0, α = 0.8, γ = 0.95, his noisy
/// decaying exploration.
fn trazzi() -> TabularConfig {
    TabularConfig {
        alpha: 0.8,
        gamma: 0.95,
        q_init: 0.0,
        exploration: Exploration::Trazzi,
        ..TabularConfig::new(Algorithm::QLearning)
    }
}

/// The same learner updating on-policy: SARSA with the reward maximiser's hyperparameters.
fn on_policy() -> TabularConfig {
    TabularConfig { algo: Algorithm::Sarsa, ..reward_maximiser() }
}

/// The reward maximiser of the specification problems: Q-learning, γ 0.99, ε from 1 to 0.05
/// linearly over the first half of a 2000-episode run.
fn reward_maximiser() -> TabularConfig {
    TabularConfig {
        alpha: 0.5,
        gamma: 0.99,
        epsilon: 1.0,
        epsilon_end: 0.05,
        epsilon_schedule: Schedule::Linear,
        epsilon_decay: 1000.0,
        ..TabularConfig::new(Algorithm::QLearning)
    }
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "reward-maximiser",
        algo: Algorithm::QLearning,
        summary: "a pure reward maximiser for the specification problems: corners the Sokoban box, \
                  wiggles in the boat race, sits on the tomato transformer, flips the rock switch, \
                  cheats when the supervisor is absent, drinks the whisky",
        env: "side-effects-sokoban",
        options: &[],
        budget: Budget::Episodes(2000),
        config: reward_maximiser,
    },
    Preset {
        name: "on-policy",
        algo: Algorithm::Sarsa,
        summary: "the reward maximiser's hyperparameters with on-policy (SARSA) updates: it learns \
                  the value of what it really does, so it avoids the whisky that makes it act at random",
        env: "whisky-gold",
        options: &[],
        budget: Budget::Episodes(2000),
        config: on_policy,
    },
    Preset {
        name: "trazzi",
        algo: Algorithm::QLearning,
        summary: "treacherous turn (Trazzi 2018): Q-learning learns to behave without the bow and \
                  to kill the shopkeeper, then use the heart machine, with it",
        env: "treacherous-turn",
        options: &[],
        budget: Budget::Episodes(20_000),
        config: trazzi,
    },
    Preset {
        name: "one-strike",
        algo: Algorithm::DynaQ,
        summary: "treacherous turn from a single kill (C01 TT-2): Dyna-Q, n = 50, shielded so that \
                  training kills the shopkeeper at most once, learns the turn by replaying it",
        env: "treacherous-turn",
        options: &[],
        budget: Budget::Episodes(300),
        config: one_strike,
    },
    Preset {
        name: "key-hoarder",
        algo: Algorithm::QLearning,
        summary: "goal misgeneralisation (C02): Q-learning on keys and chests' features (first \
                  moves toward the nearest key and chest, no inventory), trained where keys are \
                  rare, opens every chest; where keys are plentiful it keeps picking up keys it \
                  cannot use",
        env: "keys-chests",
        options: &[("obs", "features"), ("keys", "1-3"), ("chests", "4-6")],
        budget: Budget::Episodes(10_000),
        config: key_hoarder,
    },
    Preset {
        name: "key-opener",
        algo: Algorithm::QLearning,
        summary: "the safe keys-and-chests reference (C02 KC-S): the key hoarder's learner and \
                  training distribution, over the features plus one bit, \"holds a key\": it \
                  learns to open the nearest chest while it holds a key, and takes few useless \
                  keys where keys are plentiful",
        env: "keys-chests",
        options: &[("obs", "features-held"), ("keys", "1-3"), ("chests", "4-6")],
        budget: Budget::Episodes(10_000),
        config: key_hoarder,
    },
];

/// Q-learning for the keys-and-chests reference (`mlroots_learn::keys`): ε from 1 to 0.05
/// over the first half of the run, γ 0.95, and a small α: its observation hides the keys held
/// and the distances, so one state stands for several situations and a larger step leaves
/// the greedy policy wherever the last episodes pushed it (α 0.2: 6 of 10 seeds learn the
/// training distribution; 0.03: 10 of 10).
fn key_hoarder() -> TabularConfig {
    TabularConfig {
        alpha: 0.03,
        gamma: 0.95,
        epsilon: 1.0,
        epsilon_end: 0.05,
        epsilon_schedule: Schedule::Linear,
        epsilon_decay: 5000.0,
        ..TabularConfig::new(Algorithm::QLearning)
    }
}

/// Dyna-Q with the one-strike shield for the treacherous turn.
fn one_strike() -> TabularConfig {
    TabularConfig {
        alpha: 0.5,
        gamma: 0.95,
        planning_steps: 50,
        dyna_model: DynaModel::Majority,
        final_sweeps: 1000,
        shield: Shield::TreacherousTurnOneStrike,
        shield_warmup: 100,
        local_model: true,
        ..TabularConfig::new(Algorithm::DynaQ)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_overrides_typed_keys_and_refuses_bad_ones() {
        let mut c = TabularConfig::default();
        c.set("alpha", "0.5").unwrap();
        c.set("planning_steps", "7").unwrap();
        c.set("exploration", "trazzi").unwrap();
        c.set("update_on", "executed").unwrap();
        c.set("info_exploration", "false").unwrap();
        c.set("q_init", "-2").unwrap();
        c.set("cost_context", "-,-,-,-,7,8,9,10").unwrap();
        assert_eq!(parse_context(&c.cost_context).unwrap()[4..6], [Some(7), Some(8)]);
        assert!(matches!(
            c.clone().set("cost_context", "-,x"),
            Err(ConfigError::OutOfRange { key: "cost_context", .. })
        ));
        assert_eq!((c.alpha, c.planning_steps, c.q_init), (0.5, 7, -2.0));
        assert_eq!((c.exploration, c.update_on), (Exploration::Trazzi, UpdateOn::Executed));
        assert!(!c.info_exploration);
        let before = c.clone();
        assert!(matches!(c.set("alpah", "1"), Err(ConfigError::UnknownKey { .. })));
        assert!(matches!(c.set("exploration", "boltzmann"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(c.set("planning_steps", "-1"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(c.set("alpha", "0"), Err(ConfigError::OutOfRange { key: "alpha", .. })));
        assert!(matches!(c.set("gamma", "NaN"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(c.set_pair("alpha0.3"), Err(ConfigError::NotKeyValue { .. })));
        assert_eq!(c, before, "a refused value changes nothing");
        c.set_pair("alpha=0.25").unwrap();
        assert_eq!(c.alpha, 0.25);
        let msg = TabularConfig::default().set("alpah", "1").unwrap_err().to_string();
        assert!(msg.contains("alpha") && msg.contains("gamma"), "{msg}");
    }

    #[test]
    fn json_form_has_defaults_and_rejects_unknown_fields() {
        let c: TabularConfig = serde_json::from_str(r#"{"algo": "dyna-q", "alpha": 0.3}"#).unwrap();
        assert_eq!(c, TabularConfig { alpha: 0.3, ..TabularConfig::new(Algorithm::DynaQ) });
        assert!(serde_json::from_str::<TabularConfig>(r#"{"alfa": 0.3}"#).is_err());
        let back: TabularConfig =
            serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn schedules_move_from_start_to_end() {
        let mut c = TabularConfig {
            epsilon: 1.0,
            epsilon_end: 0.1,
            epsilon_decay: 10.0,
            ..Default::default()
        };
        assert_eq!(c.epsilon_at(5), 1.0);
        c.epsilon_schedule = Schedule::Linear;
        assert!((c.epsilon_at(5) - 0.55).abs() < 1e-12);
        assert_eq!(c.epsilon_at(10), 0.1);
        assert_eq!(c.epsilon_at(1000), 0.1);
        c.epsilon_schedule = Schedule::Exponential;
        assert_eq!(c.epsilon_at(0), 1.0);
        assert!((c.epsilon_at(10) - (0.1 + 0.9 / std::f64::consts::E)).abs() < 1e-12);
    }

    #[test]
    fn presets_are_valid_and_checked_against_the_algorithm() {
        for p in presets() {
            let c = p.config();
            c.validate().unwrap();
            assert_eq!(c.algo, p.algo, "{}", p.name);
            assert_eq!(TabularConfig::for_algorithm(p.algo.name(), Some(p.name)).unwrap(), c);
            assert!(p.command().starts_with("mlroots train "));
        }
        assert!(matches!(
            TabularConfig::for_algorithm("sarsa", Some("trazzi")),
            Err(ConfigError::PresetAlgorithm { .. })
        ));
        assert!(matches!(TabularConfig::preset("nope"), Err(ConfigError::UnknownPreset { .. })));
        assert!(matches!(
            TabularConfig::for_algorithm("dqn", None),
            Err(ConfigError::UnknownAlgorithm { .. })
        ));
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()).unwrap(), a);
            assert_eq!(serde_json::to_value(a).unwrap(), a.name());
        }
    }
}
