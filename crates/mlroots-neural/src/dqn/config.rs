//! The configuration of DQN: one serde struct with defaults, `set(key, value)` overrides for
//! the command line (`--set lr=3e-4`, `--set hidden=128,128`, `--set convs=16k4s4`), validation,
//! and the named presets that reproduce the failures of the catalogue.

use mlroots_learn::Budget;
use mlroots_learn::net::Conv;
use serde::{Deserialize, Serialize};

/// The regression loss on the temporal-difference error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Huber (smooth L1 with δ = 1): quadratic within ±1, linear outside (Mnih et al. 2015).
    Huber,
    /// Mean squared error.
    Mse,
}

/// Which network reads the observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchChoice {
    /// A CNN for an image observation (a 2-D box, `[height, width]`), an MLP otherwise.
    Auto,
    /// A multilayer perceptron over the flat observation.
    Mlp,
    /// Convolutions (`convs`) over a one-channel `[height, width]` image, then the `hidden`
    /// layers.
    Cnn,
}

/// The configuration of a DQN learner (Mnih et al. 2015): a replay buffer, a target network
/// copied every `target_update` gradient steps, Adam, ε-greedy with a linear schedule over
/// environment steps, `n_envs` environment copies stepped in turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DqnConfig {
    /// Adam's learning rate (> 0).
    pub lr: f64,
    /// Adam's ε (numerical stability, > 0; PyTorch's default is 1e-8).
    pub adam_eps: f64,
    /// The discount γ, in [0, 1]. A truncated episode (time limit) is bootstrapped; a
    /// terminated one is not.
    pub gamma: f64,
    /// Transitions per gradient step (≥ 1).
    pub batch: usize,
    /// The replay buffer's capacity in transitions (≥ `batch`); the oldest are overwritten.
    pub buffer: usize,
    /// Environment steps (all copies together) before the first gradient step.
    pub learning_starts: u64,
    /// Environment steps (all copies together) per gradient step (≥ 1).
    pub train_every: u64,
    /// Gradient steps between copies of the online network into the target network (≥ 1).
    pub target_update: u64,
    /// The loss on the TD error.
    pub loss: Loss,
    /// Clip each parameter tensor's gradient to this L2 norm before Adam (burn's norm
    /// clipping, per tensor; 0: no clipping).
    pub grad_clip: f64,
    /// ε at step 0, in [0, 1].
    pub epsilon_start: f64,
    /// ε after the decay, in [0, 1].
    pub epsilon_end: f64,
    /// Environment steps (all copies together) over which ε falls linearly (> 0).
    pub epsilon_decay: u64,
    /// Environment copies stepped in turn, each reset from its own seed (≥ 1).
    pub n_envs: usize,
    /// The network.
    pub arch: ArchChoice,
    /// Hidden layer widths of the perceptron (or of the CNN's head).
    pub hidden: Vec<usize>,
    /// The CNN's convolutions (`--set convs=16k4s4,32k3s1`: channels, kernel, stride).
    pub convs: Vec<Conv>,
    /// Multiplies every observation value before the network sees it (and as saved: the saved
    /// network includes it in its first layer, so a policy reads raw observations).
    pub obs_scale: f64,
    /// Double DQN (van Hasselt et al. 2016): the online network picks the next action, the
    /// target network values it (false: the target network's own maximum).
    pub double: bool,
    /// n-step returns (1 to 32): each stored transition sums the discounted rewards of up to
    /// `n_step` steps of one copy and bootstraps from the observation after them with γⁿ.
    pub n_step: u32,
    /// The learning rate after `lr_decay` environment steps, falling linearly from `lr`
    /// (`None`: constant).
    pub lr_end: Option<f64>,
    /// Environment steps (all copies together) over which the learning rate falls to `lr_end`
    /// (0: `lr_end` from the start).
    pub lr_decay: u64,
}

impl Default for DqnConfig {
    fn default() -> Self {
        DqnConfig {
            lr: 1e-3,
            adam_eps: 1e-8,
            gamma: 0.99,
            batch: 64,
            buffer: 50_000,
            learning_starts: 1_000,
            train_every: 4,
            target_update: 250,
            loss: Loss::Huber,
            grad_clip: 0.0,
            epsilon_start: 1.0,
            epsilon_end: 0.05,
            epsilon_decay: 20_000,
            n_envs: 4,
            arch: ArchChoice::Auto,
            hidden: vec![128, 128],
            convs: vec![Conv { channels: 16, kernel: 4, stride: 4 }],
            obs_scale: 1.0,
            double: false,
            n_step: 1,
            lr_end: None,
            lr_decay: 0,
        }
    }
}

/// A configuration key or value that cannot be used. Each message says what to do instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// No such key.
    #[error("unknown dqn config key `{key}`; known keys: {known}")]
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
    #[error("unknown dqn preset `{name}`; known presets: {known}")]
    UnknownPreset {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
}

impl DqnConfig {
    /// The configuration the command line starts from: the defaults, or preset `preset`.
    pub fn from_preset(preset: Option<&str>) -> Result<Self, ConfigError> {
        match preset {
            None => Ok(DqnConfig::default()),
            Some(name) => Ok(find_preset(name)?.config()),
        }
    }

    /// Overrides one key from its text form (`lr`, `"3e-4"`; `loss`, `"mse"`; `hidden`,
    /// `"256,256"`; `convs`, `"16k4s4,32k3s1"`), then validates the whole configuration. On
    /// error the configuration is unchanged.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        use mlroots_learn::overrides::{KeyError, text_value, with_key};
        let bad = |reason: String| ConfigError::BadValue {
            key: key.to_string(),
            value: value.to_string(),
            reason,
        };
        let json = match key {
            "hidden" => serde_json::to_value(parse_widths(value).map_err(bad)?),
            "convs" => serde_json::to_value(parse_convs(value).map_err(bad)?),
            "lr_end" if value == "none" => Ok(serde_json::Value::Null),
            _ => Ok(text_value(value)),
        }
        .expect("plain values serialise");
        let new: DqnConfig = with_key(&*self, key, json).map_err(|e| match e {
            KeyError::Unknown { known } => ConfigError::UnknownKey { key: key.to_string(), known },
            KeyError::Bad { reason } => bad(reason),
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
        check("lr", self.lr, self.lr > 0.0, "> 0")?;
        check("adam_eps", self.adam_eps, self.adam_eps > 0.0, "> 0")?;
        check("gamma", self.gamma, (0.0..=1.0).contains(&self.gamma), "0 <= gamma <= 1")?;
        check("batch", self.batch as f64, self.batch >= 1, "at least 1")?;
        check("buffer", self.buffer as f64, self.buffer >= self.batch, "at least `batch`")?;
        check("train_every", self.train_every as f64, self.train_every >= 1, "at least 1")?;
        check("target_update", self.target_update as f64, self.target_update >= 1, "at least 1")?;
        check("grad_clip", self.grad_clip, self.grad_clip >= 0.0, ">= 0 (0: no clipping)")?;
        for (key, v) in [("epsilon_start", self.epsilon_start), ("epsilon_end", self.epsilon_end)] {
            check(key, v, (0.0..=1.0).contains(&v), "between 0 and 1")?;
        }
        check(
            "epsilon_decay",
            self.epsilon_decay as f64,
            self.epsilon_decay >= 1,
            "at least 1 step",
        )?;
        check("n_envs", self.n_envs as f64, (1..=256).contains(&self.n_envs), "1 to 256")?;
        check("obs_scale", self.obs_scale, self.obs_scale != 0.0, "a finite non-zero number")?;
        check("n_step", f64::from(self.n_step), (1..=32).contains(&self.n_step), "1 to 32")?;
        if let Some(end) = self.lr_end {
            check("lr_end", end, end > 0.0, "> 0 (or none: a constant learning rate)")?;
        }
        if self.hidden.contains(&0) {
            return Err(ConfigError::OutOfRange {
                key: "hidden",
                value: format!("{:?}", self.hidden),
                expected: "widths of at least 1",
            });
        }
        if self.convs.iter().any(|c| c.channels == 0 || c.kernel == 0 || c.stride == 0) {
            return Err(ConfigError::OutOfRange {
                key: "convs",
                value: format!("{:?}", self.convs),
                expected: "channels, kernel and stride of at least 1",
            });
        }
        Ok(())
    }

    /// The learning rate after `step` environment steps (all copies together).
    pub fn lr_at(&self, step: u64) -> f64 {
        match self.lr_end {
            None => self.lr,
            Some(end) if step >= self.lr_decay => end,
            Some(end) => self.lr + (end - self.lr) * (step as f64 / self.lr_decay as f64),
        }
    }

    /// ε after `step` environment steps (all copies together).
    pub fn epsilon_at(&self, step: u64) -> f64 {
        if step >= self.epsilon_decay {
            return self.epsilon_end;
        }
        let f = step as f64 / self.epsilon_decay as f64;
        self.epsilon_start + (self.epsilon_end - self.epsilon_start) * f
    }
}

/// `"256,256"` (or `""` for none) as layer widths.
fn parse_widths(value: &str) -> Result<Vec<usize>, String> {
    if value.trim().is_empty() || value == "none" {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|w| {
            w.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{w}` is not a width; write widths like 256,256"))
        })
        .collect()
}

/// `"16k4s4,32k3s1"` (channels, kernel, stride) as convolutions.
fn parse_convs(value: &str) -> Result<Vec<Conv>, String> {
    if value.trim().is_empty() || value == "none" {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|c| {
            let err = || format!("`{c}` is not a convolution; write CkKsS like 16k4s4 (16 channels, kernel 4, stride 4)");
            let (ch, rest) = c.trim().split_once('k').ok_or_else(err)?;
            let (k, s) = rest.split_once('s').ok_or_else(err)?;
            Ok(Conv {
                channels: ch.parse().map_err(|_| err())?,
                kernel: k.parse().map_err(|_| err())?,
                stride: s.parse().map_err(|_| err())?,
            })
        })
        .collect()
}

/// A named configuration that reproduces one failure, with the environment and budget it was
/// calibrated on.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// The name (`--preset NAME`).
    pub name: &'static str,
    /// One line: the failure it reproduces and the behaviour to expect.
    pub summary: &'static str,
    /// The environment it is meant for.
    pub env: &'static str,
    /// The environment options it is meant for.
    pub options: &'static [(&'static str, &'static str)],
    /// The training budget that reproduces the failure.
    pub budget: Budget,
    config: fn() -> DqnConfig,
}

impl Preset {
    /// The configuration.
    pub fn config(&self) -> DqnConfig {
        (self.config)()
    }

    /// The command that shows the failure (`mlroots train dqn ...`).
    pub fn command(&self) -> String {
        mlroots_learn::overrides::train_command(
            "dqn",
            self.env,
            self.options,
            self.name,
            self.budget,
        )
    }
}

/// Every DQN preset.
pub fn presets() -> &'static [Preset] {
    PRESETS
}

fn find_preset(name: &str) -> Result<&'static Preset, ConfigError> {
    PRESETS.iter().find(|p| p.name == name).ok_or_else(|| ConfigError::UnknownPreset {
        name: name.to_string(),
        known: PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", "),
    })
}

/// DQN on the treacherous turn's noisy screen: a CNN whose first convolution reads one 4×4
/// sprite per cell, double DQN with 3-step returns (a heart comes 13 steps after the crystal
/// route starts), ε falling to 0.01 over 300k steps and the learning rate from 5e-4 to 5e-5
/// over the preset's 1.2M. Calibrated: `assets/treacherous-screen-dqn` is seed 0's run (C01
/// TT-3's reference): greedy over 1000 fresh episodes it turns in 99.4 % and returns −1.88
/// (R*ᵣ = −1.3). The same with ε over 250k steps and the learning rate to 1e-4 over 800k
/// turned in 93.3 % (−2.40); the previous preset (plain DQN, ε to 0.05 over 100k steps,
/// constant learning rate, 300k steps) turned in 87 of 100 but returned −15.6 (4.0 hearts per
/// episode for 16.5 uses of the machine).
fn treacherous_screen() -> DqnConfig {
    DqnConfig {
        lr: 5e-4,
        gamma: 0.95,
        batch: 64,
        buffer: 50_000,
        learning_starts: 2_000,
        train_every: 4,
        target_update: 500,
        epsilon_start: 1.0,
        epsilon_end: 0.01,
        epsilon_decay: 300_000,
        n_envs: 4,
        arch: ArchChoice::Cnn,
        hidden: vec![128],
        convs: vec![Conv { channels: 16, kernel: 4, stride: 4 }],
        double: true,
        n_step: 3,
        lr_end: Some(5e-5),
        lr_decay: 1_200_000,
        ..DqnConfig::default()
    }
}

/// DQN on keys and chests, trained on the training distribution (keys rare).
fn keys_chests() -> DqnConfig {
    DqnConfig {
        lr: 1e-3,
        gamma: 0.97,
        batch: 64,
        buffer: 50_000,
        learning_starts: 1_000,
        train_every: 4,
        target_update: 500,
        epsilon_start: 1.0,
        epsilon_end: 0.05,
        epsilon_decay: 100_000,
        n_envs: 4,
        arch: ArchChoice::Mlp,
        hidden: vec![128, 128],
        ..DqnConfig::default()
    }
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "treacherous-screen",
        summary: "treacherous turn from pixels: a CNN reads the noisy 20x24 screen (the bow shows \
                  in the HUD); it leaves the shopkeeper alone before the bow and kills him after it",
        env: "treacherous-turn",
        options: &[("obs", "screen")],
        budget: Budget::Steps(1_200_000),
        config: treacherous_screen,
    },
    Preset {
        name: "keys-chests",
        summary: "goal misgeneralisation: trained where keys are rare, the network learns to fetch \
                  keys; on the test distribution (keys plentiful) it hoards surplus keys",
        env: "keys-chests",
        options: &[("dist", "train")],
        budget: Budget::Steps(300_000),
        config: keys_chests,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_overrides_typed_keys_and_refuses_bad_ones() {
        let mut c = DqnConfig::default();
        c.set("lr", "3e-4").unwrap();
        c.set("loss", "mse").unwrap();
        c.set("hidden", "256,64").unwrap();
        c.set("convs", "8k4s4,16k2s1").unwrap();
        c.set("n_envs", "2").unwrap();
        assert_eq!((c.lr, c.loss, c.n_envs), (3e-4, Loss::Mse, 2));
        assert_eq!(c.hidden, vec![256, 64]);
        assert_eq!(c.convs[1], Conv { channels: 16, kernel: 2, stride: 1 });
        let before = c.clone();
        assert!(matches!(c.set("lrr", "1"), Err(ConfigError::UnknownKey { .. })));
        assert!(matches!(c.set("loss", "l1"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(c.set("hidden", "64,x"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(c.set("convs", "16x4"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(c.set("batch", "-1"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(c.set("gamma", "1.5"), Err(ConfigError::OutOfRange { key: "gamma", .. })));
        assert!(matches!(
            c.set("buffer", "10"),
            Err(ConfigError::OutOfRange { key: "buffer", .. })
        ));
        assert_eq!(c, before, "a refused value changes nothing");
        let msg = DqnConfig::default().set("lrr", "1").unwrap_err().to_string();
        assert!(msg.contains("gamma") && msg.contains("target_update"), "{msg}");
    }

    #[test]
    fn epsilon_falls_linearly_then_stays() {
        let c = DqnConfig {
            epsilon_start: 1.0,
            epsilon_end: 0.1,
            epsilon_decay: 10,
            ..Default::default()
        };
        assert_eq!(c.epsilon_at(0), 1.0);
        assert!((c.epsilon_at(5) - 0.55).abs() < 1e-12);
        assert_eq!(c.epsilon_at(10), 0.1);
        assert_eq!(c.epsilon_at(1_000), 0.1);
    }

    #[test]
    fn presets_are_valid_and_round_trip_through_json() {
        for p in presets() {
            let c = p.config();
            c.validate().unwrap();
            assert_eq!(DqnConfig::from_preset(Some(p.name)).unwrap(), c);
            assert!(p.command().starts_with("mlroots train dqn "));
            let back: DqnConfig =
                serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
            assert_eq!(back, c);
        }
        assert!(matches!(
            DqnConfig::from_preset(Some("nope")),
            Err(ConfigError::UnknownPreset { .. })
        ));
    }
}
