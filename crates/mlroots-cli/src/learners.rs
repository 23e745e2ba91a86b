//! The learners `mlroots train` knows, behind one small interface: configure from a name, a
//! preset and `--set` overrides; train on an environment within a budget, reporting each
//! episode; hand back the model to save.

use std::path::Path;

use anyhow::Context;
use mlroots_env::Env;
use mlroots_learn::net::Net;
use mlroots_learn::saved::{Model, NetModel, SavedPolicy, WEIGHTS_FILE};
use mlroots_learn::tabular::{self, TabularConfig};
use mlroots_learn::{Budget, EpisodeRecord};
use mlroots_neural::dqn::{self, DqnConfig};

/// A configured learner.
pub enum Learner {
    /// Q-learning, SARSA, expected SARSA or Dyna-Q.
    Tabular(TabularConfig, Option<&'static tabular::Preset>),
    /// DQN (`mlroots-neural`): a Q-network trained from replay over several env copies.
    Dqn(DqnConfig, Option<&'static dqn::Preset>),
}

/// What training produced.
pub struct Trained {
    /// The configuration, as saved beside the policy.
    pub config: serde_json::Value,
    /// The model.
    pub model: Model,
    /// A network's parameters, written beside `policy.json`.
    pub net: Option<Net>,
}

impl Trained {
    /// Writes the policy directory: the weights file (for a network), then `policy.json`.
    pub fn save(&self, saved: &SavedPolicy, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        if let Some(net) = &self.net {
            net.save(&dir.join(WEIGHTS_FILE), &[("format", "mlroots-policy/1")])?;
        }
        saved.save(dir)?;
        Ok(())
    }
}

/// The learner names, for messages.
pub const NAMES: &str = "q-learning, sarsa, expected-sarsa, dyna-q, dqn";

impl Learner {
    /// The learner `algo`, from `preset` (if any) with `sets` applied.
    pub fn configure(
        algo: &str,
        preset: Option<&str>,
        sets: &[(&str, &str)],
    ) -> Result<Learner, String> {
        if algo == "dqn" {
            let mut cfg = DqnConfig::from_preset(preset).map_err(|e| e.to_string())?;
            for (k, v) in sets {
                cfg.set(k, v).map_err(|e| e.to_string())?;
            }
            let preset = preset.and_then(|p| dqn::presets().iter().find(|x| x.name == p));
            return Ok(Learner::Dqn(cfg, preset));
        }
        let mut cfg = TabularConfig::for_algorithm(algo, preset).map_err(|e| match e {
            tabular::ConfigError::UnknownAlgorithm { name, .. } => {
                format!("unknown learner `{name}`; learners: {NAMES}")
            }
            other => other.to_string(),
        })?;
        for (k, v) in sets {
            cfg.set(k, v).map_err(|e| e.to_string())?;
        }
        let preset = preset.and_then(|p| tabular::presets().iter().find(|x| x.name == p));
        Ok(Learner::Tabular(cfg, preset))
    }

    /// The budget the preset was calibrated with, if any.
    pub fn preset_budget(&self) -> Option<Budget> {
        match self {
            Learner::Tabular(_, preset) => preset.map(|p| p.budget),
            Learner::Dqn(_, preset) => preset.map(|p| p.budget),
        }
    }

    /// Trains on `env` (and fresh copies from `make_env` where a learner needs several).
    pub fn train(
        &self,
        env: &mut dyn Env,
        make_env: &dyn Fn() -> Box<dyn Env>,
        budget: Budget,
        seed: u64,
        on_episode: &mut dyn FnMut(&EpisodeRecord),
    ) -> anyhow::Result<Trained> {
        match self {
            Learner::Tabular(cfg, _) => {
                let policy = tabular::train(cfg, env, budget, seed, on_episode)?;
                let meta = mlroots_learn::saved::PolicyMeta {
                    algo: String::new(),
                    env: String::new(),
                    options: Default::default(),
                    seed,
                    config: serde_json::Value::Null,
                    trained: Default::default(),
                };
                Ok(Trained {
                    config: serde_json::to_value(cfg).expect("serialisable"),
                    model: policy.to_saved(meta).model,
                    net: None,
                })
            }
            Learner::Dqn(cfg, _) => {
                let trained = dqn::train(cfg, make_env, budget, seed, on_episode)?;
                let model = Model::Net(NetModel {
                    arch: trained.net.arch().clone(),
                    weights: WEIGHTS_FILE.to_string(),
                });
                Ok(Trained {
                    config: serde_json::to_value(cfg).expect("serialisable"),
                    model,
                    net: Some(trained.net),
                })
            }
        }
    }
}

/// Every preset with its one-line summary and the command that shows its failure.
pub fn preset_table() -> String {
    let mut out = String::new();
    let rows = tabular::presets()
        .iter()
        .map(|p| (p.name, p.summary, p.command()))
        .chain(dqn::presets().iter().map(|p| (p.name, p.summary, p.command())));
    for (name, summary, command) in rows {
        out += &format!(
            "{:<18} {}\n{:<18} {}\n\n",
            name,
            summary.split_whitespace().collect::<Vec<_>>().join(" "),
            "",
            command
        );
    }
    out
}
