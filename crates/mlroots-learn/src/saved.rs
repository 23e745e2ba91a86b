//! The saved-policy format every learner writes and `mlroots eval`/`watch` (and later the
//! judge) read: a directory holding `policy.json`, and beside it any weights file a model
//! names.
//!
//! ```json
//! { "format": "mlroots-policy/1", "algo": "q-learning", "env": "treacherous-turn-v1",
//!   "options": {"obs": "index"}, "seed": 0, "config": { "alpha": 0.8, "...": "..." },
//!   "trained": {"steps": 4000000, "episodes": 20000},
//!   "model": { "kind": "tabular", "actions": 8, "obs_len": 1,
//!              "states": [[12.0], [40961.0]], "q": [[-0.1, 0.3, ...], [...]] } }
//! ```
//!
//! A tabular model lists the states met in training (each an observation, `obs_len` floats)
//! and their Q-values (`actions` each). Its greedy policy takes the action of highest value,
//! ties to the lowest action, and **action 0 in a state it does not list**.
//!
//! [`SavedPolicy`] is the in-memory form: the metadata ([`PolicyMeta`]) and the [`Model`],
//! whose `kind` tags the variants (`tabular`; the network kinds are added beside it). The file
//! is read and written through a private wire twin that rejects unknown fields.
//! [`load`] reads a directory into a [`LoadedPolicy`], which acts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mlroots_env::{Action, Info};
use serde::{Deserialize, Serialize};

use crate::Policy;
use crate::net::{Arch, Net};
use crate::tabular::TabularPolicy;

/// The value of `format` this version writes and reads.
pub const FORMAT: &str = "mlroots-policy/1";
/// The file name inside a policy directory.
pub const POLICY_FILE: &str = "policy.json";

/// How much training a policy had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trained {
    /// Environment steps.
    pub steps: u64,
    /// Finished episodes.
    pub episodes: u64,
}

/// Everything a saved policy records besides its model: what trained it, on what, how long.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyMeta {
    /// The learner (`q-learning`, `dyna-q`, `dqn`, ...).
    pub algo: String,
    /// The environment id with its version (`treacherous-turn-v1`).
    pub env: String,
    /// The environment options it was trained with.
    pub options: BTreeMap<String, String>,
    /// The training seed.
    pub seed: u64,
    /// The learner's configuration, as it serialises.
    pub config: serde_json::Value,
    /// How much training.
    pub trained: Trained,
}

/// A tabular model: states met and their Q-values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TabularModel {
    /// The number of actions (the length of each row of `q`).
    pub actions: u32,
    /// The length of each observation in `states`.
    pub obs_len: usize,
    /// The observations of the states, one per row.
    pub states: Vec<Vec<f32>>,
    /// The Q-values of each state, one row per state.
    pub q: Vec<Vec<f32>>,
}

/// A network model: its architecture, and the safetensors file beside `policy.json` that
/// holds its parameters (see [`crate::net`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetModel {
    /// The architecture.
    pub arch: Arch,
    /// The weights file's name, in the policy directory (a plain file name).
    pub weights: String,
}

/// The usual name of a network's weights file.
pub const WEIGHTS_FILE: &str = "weights.safetensors";

/// The model of a saved policy, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Model {
    /// `"kind": "tabular"`.
    Tabular(TabularModel),
    /// `"kind": "net"`: greedy over the network's outputs.
    Net(NetModel),
}

/// A policy as saved: metadata and model.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedPolicy {
    /// What trained it, on what.
    pub meta: PolicyMeta,
    /// The model.
    pub model: Model,
}

/// The file's form: flat, versioned, unknown fields refused.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    algo: String,
    env: String,
    #[serde(default)]
    options: BTreeMap<String, String>,
    seed: u64,
    #[serde(default)]
    config: serde_json::Value,
    trained: Trained,
    model: Model,
}

/// A policy file that cannot be read or written. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    /// The file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid JSON of the format.
    #[error(
        "{path} is not a valid policy file: {message} (a policy directory holds the \
         policy.json that `mlroots train --out DIR` writes)"
    )]
    Json {
        /// The file.
        path: PathBuf,
        /// serde_json's message, with line and column.
        message: String,
    },
    /// Another format version.
    #[error(
        "{path} has format `{found}`; this version reads `{FORMAT}` (retrain, or use the matching release)"
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// The format found.
        found: String,
    },
    /// The model's contents do not fit together.
    #[error("{path}: malformed {kind} model: {problem}")]
    Model {
        /// The file.
        path: PathBuf,
        /// The model kind.
        kind: &'static str,
        /// What does not fit.
        problem: String,
    },
}

impl SavedPolicy {
    /// Writes `dir/policy.json` (creating `dir`).
    pub fn save(&self, dir: &Path) -> Result<(), SavedError> {
        let path = dir.join(POLICY_FILE);
        let io = |source| SavedError::Io { action: "write", path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let wire = Wire {
            format: FORMAT.to_string(),
            algo: self.meta.algo.clone(),
            env: self.meta.env.clone(),
            options: self.meta.options.clone(),
            seed: self.meta.seed,
            config: self.meta.config.clone(),
            trained: self.meta.trained,
            model: self.model.clone(),
        };
        let text = serde_json::to_string(&wire).expect("a policy serialises");
        std::fs::write(&path, text).map_err(io)
    }

    /// Reads `dir/policy.json` and checks its model.
    pub fn read(dir: &Path) -> Result<SavedPolicy, SavedError> {
        let path = dir.join(POLICY_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| SavedError::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        Self::from_json(&text, &path)
    }

    /// Parses the text of a policy file (`path` names it in errors) and checks its model.
    pub fn from_json(text: &str, path: &Path) -> Result<SavedPolicy, SavedError> {
        // The format is checked first, so that another version gets the clearer message.
        #[derive(Deserialize)]
        struct Version {
            format: Option<String>,
        }
        if let Ok(Version { format: Some(found) }) = serde_json::from_str::<Version>(text)
            && found != FORMAT
        {
            return Err(SavedError::Format { path: path.to_path_buf(), found });
        }
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| SavedError::Json { path: path.to_path_buf(), message: e.to_string() })?;
        let saved = SavedPolicy {
            meta: PolicyMeta {
                algo: wire.algo,
                env: wire.env,
                options: wire.options,
                seed: wire.seed,
                config: wire.config,
                trained: wire.trained,
            },
            model: wire.model,
        };
        saved.check(path)?;
        Ok(saved)
    }

    fn check(&self, path: &Path) -> Result<(), SavedError> {
        match &self.model {
            Model::Tabular(m) => check_tabular(m).map_err(|problem| SavedError::Model {
                path: path.to_path_buf(),
                kind: "tabular",
                problem,
            }),
            Model::Net(m) => check_net(m).map_err(|problem| SavedError::Model {
                path: path.to_path_buf(),
                kind: "net",
                problem,
            }),
        }
    }
}

fn check_net(m: &NetModel) -> Result<(), String> {
    m.arch.param_count().map_err(|e| e.to_string())?;
    let plain = Path::new(&m.weights).file_name().is_some_and(|f| f == m.weights.as_str());
    if !plain || m.weights.starts_with('.') {
        return Err(format!(
            "weights = {:?}; expected a plain file name in the policy directory (like {WEIGHTS_FILE:?})",
            m.weights
        ));
    }
    Ok(())
}

fn check_tabular(m: &TabularModel) -> Result<(), String> {
    if m.actions == 0 || m.actions > 64 {
        return Err(format!("actions = {}, expected 1 to 64", m.actions));
    }
    if m.obs_len == 0 {
        return Err("obs_len = 0, expected the observation's length".to_string());
    }
    if m.states.len() != m.q.len() {
        return Err(format!("{} states but {} rows of q", m.states.len(), m.q.len()));
    }
    for (i, (s, q)) in m.states.iter().zip(&m.q).enumerate() {
        if s.len() != m.obs_len {
            return Err(format!("state {i} has {} values, obs_len is {}", s.len(), m.obs_len));
        }
        if q.len() != m.actions as usize {
            return Err(format!("q row {i} has {} values, actions is {}", q.len(), m.actions));
        }
        if let Some(v) = q.iter().find(|v| !v.is_finite()) {
            return Err(format!("q row {i} holds {v}, expected finite values"));
        }
    }
    Ok(())
}

impl TabularPolicy {
    /// The saved form of this table with `meta` (its `trained` is taken from the table).
    pub fn to_saved(&self, meta: PolicyMeta) -> SavedPolicy {
        let rows = self.table.met_rows();
        let model = TabularModel {
            actions: self.table.actions as u32,
            obs_len: self.table.obs_len,
            q: rows.iter().map(|(_, q)| q.to_vec()).collect(),
            states: rows.into_iter().map(|(s, _)| s).collect(),
        };
        let trained = Trained { steps: self.steps, episodes: self.episodes };
        SavedPolicy { meta: PolicyMeta { trained, ..meta }, model: Model::Tabular(model) }
    }

    /// The greedy policy of a saved tabular model (checked: see [`SavedPolicy::read`]).
    pub fn from_model(m: &TabularModel, trained: Trained) -> Result<TabularPolicy, String> {
        check_tabular(m)?;
        let states: Vec<f32> = m.states.iter().flatten().copied().collect();
        let q: Vec<f32> = m.q.iter().flatten().copied().collect();
        let table = crate::tabular::table_from_rows(m.actions as usize, m.obs_len, states, q)
            .map_err(|row| format!("state {row} is listed twice"))?;
        Ok(TabularPolicy { table, steps: trained.steps, episodes: trained.episodes })
    }
}

/// A policy read from a directory, ready to act.
#[derive(Clone, Debug)]
pub struct LoadedPolicy {
    /// What trained it, on what.
    pub meta: PolicyMeta,
    acting: Acting,
}

#[derive(Clone, Debug)]
enum Acting {
    Tabular(TabularPolicy),
    Net(crate::net::Actor),
}

impl LoadedPolicy {
    /// The policy of `saved` (`path` names the file in errors).
    pub fn new(saved: SavedPolicy, path: &Path) -> Result<LoadedPolicy, SavedError> {
        let acting = match &saved.model {
            Model::Tabular(m) => Acting::Tabular(
                TabularPolicy::from_model(m, saved.meta.trained).map_err(|problem| {
                    SavedError::Model { path: path.to_path_buf(), kind: "tabular", problem }
                })?,
            ),
            Model::Net(m) => {
                let file = path.with_file_name(&m.weights);
                let net = Net::load(m.arch.clone(), &file).map_err(|e| SavedError::Model {
                    path: path.to_path_buf(),
                    kind: "net",
                    problem: e.to_string(),
                })?;
                Acting::Net(crate::net::Actor::new(net))
            }
        };
        Ok(LoadedPolicy { meta: saved.meta, acting })
    }

    /// The number of actions the policy chooses from.
    pub fn actions(&self) -> usize {
        match &self.acting {
            Acting::Tabular(t) => t.actions(),
            Acting::Net(actor) => actor.net().arch().output_len(),
        }
    }

    /// The observation length the policy expects, where it is fixed (a network's input).
    /// A table accepts any length (an observation it never met gets action 0).
    pub fn obs_len(&self) -> Option<usize> {
        match &self.acting {
            Acting::Tabular(_) => None,
            Acting::Net(actor) => Some(actor.net().arch().obs_len()),
        }
    }
}

impl Policy for LoadedPolicy {
    fn act(&mut self, obs: &[f32], info: &Info) -> Action {
        match &mut self.acting {
            Acting::Tabular(t) => t.act(obs, info),
            Acting::Net(actor) => Policy::act(actor, obs, info),
        }
    }

    fn begin_episode(&mut self) {
        if let Acting::Net(actor) = &mut self.acting {
            actor.begin_episode();
        }
    }

    fn feedback(&mut self, action: Action, reward: f64) {
        if let Acting::Net(actor) = &mut self.acting {
            Policy::feedback(actor, action, reward);
        }
    }
}

/// Reads the policy saved in `dir` (its `policy.json`).
pub fn load(dir: &Path) -> Result<LoadedPolicy, SavedError> {
    let saved = SavedPolicy::read(dir)?;
    LoadedPolicy::new(saved, &dir.join(POLICY_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> PolicyMeta {
        PolicyMeta {
            algo: "q-learning".to_string(),
            env: "boat-race-v1".to_string(),
            options: BTreeMap::new(),
            seed: 3,
            config: serde_json::json!({"alpha": 0.5}),
            trained: Trained::default(),
        }
    }

    fn tabular(states: Vec<Vec<f32>>, q: Vec<Vec<f32>>) -> SavedPolicy {
        SavedPolicy {
            meta: meta(),
            model: Model::Tabular(TabularModel { actions: 2, obs_len: 2, states, q }),
        }
    }

    fn parse(text: &str) -> Result<SavedPolicy, SavedError> {
        SavedPolicy::from_json(text, Path::new("x/policy.json"))
    }

    #[test]
    fn malformed_files_say_what_is_wrong() {
        let good = tabular(vec![vec![0.0, 1.0]], vec![vec![0.5, -0.5]]);
        let dir = std::env::temp_dir().join(format!("mlroots-saved-{}", std::process::id()));
        good.save(&dir).unwrap();
        let text = std::fs::read_to_string(dir.join(POLICY_FILE)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(parse(&text).unwrap(), good);

        let err = |t: &str| parse(t).unwrap_err().to_string();
        assert!(err("{").contains("not a valid policy file"));
        let other = text.replace(FORMAT, "mlroots-policy/9");
        assert!(err(&other).contains("format `mlroots-policy/9`"), "{}", err(&other));
        let typo = text.replace("\"seed\"", "\"sead\"");
        assert!(err(&typo).contains("sead"), "{}", err(&typo));
        let kind = text.replace("\"tabular\"", "\"forest\"");
        assert!(err(&kind).contains("forest"), "{}", err(&kind));
        let short = text.replace("[0.5,-0.5]", "[0.5]");
        assert!(err(&short).contains("q row 0 has 1 values"), "{}", err(&short));
        let twice = tabular(vec![vec![0.0, 1.0]; 2], vec![vec![0.0; 2]; 2]);
        let dir = std::env::temp_dir().join(format!("mlroots-saved-twice-{}", std::process::id()));
        twice.save(&dir).unwrap();
        let e = load(&dir).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.contains("listed twice"), "{e}");
        let missing = std::env::temp_dir().join("mlroots-no-such-policy-dir");
        assert!(load(&missing).unwrap_err().to_string().contains("cannot read"));
    }

    #[test]
    fn a_loaded_table_acts_greedily_and_unseen_states_take_action_0() {
        let saved =
            tabular(vec![vec![0.0, 1.0], vec![2.0, -0.0]], vec![vec![0.5, 1.5], vec![3.0, 3.0]]);
        let mut p = LoadedPolicy::new(saved, Path::new("p")).unwrap();
        let info = Info::default();
        assert_eq!(p.act(&[0.0, 1.0], &info), 1);
        assert_eq!(p.act(&[2.0, 0.0], &info), 0, "ties to the lowest action");
        assert_eq!(p.act(&[9.0, 9.0], &info), 0, "unseen");
        assert_eq!(p.act(&[9.0], &info), 0, "wrong length");
        assert_eq!(p.actions(), 2);
    }

    #[test]
    fn floats_survive_the_json_round_trip() {
        let mut rng = mlroots_env::Rng::seed_from_u64(5);
        let values: Vec<f32> = (0..20_000)
            .map(|_| f32::from_bits(rng.next_u64() as u32))
            .filter(|v| v.is_finite())
            .collect();
        let text = serde_json::to_string(&values).unwrap();
        let back: Vec<f32> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, values);
    }
}
