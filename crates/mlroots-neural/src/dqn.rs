//! DQN (Mnih et al. 2015): a Q-network trained from a replay buffer against a target network,
//! with Adam, a Huber or squared loss and ε-greedy exploration on a linear schedule, stepping
//! several copies of the environment in turn. An MLP reads vector observations, a small CNN
//! reads image observations (a 2-D box). Optional: double DQN (van Hasselt et al. 2016),
//! n-step returns and a linear learning-rate decay (the `treacherous-screen` preset uses all
//! three).
//!
//! Deterministic per seed: the network is initialised by [`Net::init`] from the learner's
//! stream, minibatches and exploration draw from the same stream, environment copy `i` is first
//! reset with seed `seed + i·φ` (φ = 0x9E37_79B9_7F4A_7C15, so copy 0 uses `seed` itself, as the
//! tabular learners do) and then continues its own stream; burn draws nothing (no dropout, no
//! burn initialisation) and runs on one thread. The result is a plain [`Net`] with the
//! configuration, saved like any policy through [`mlroots_learn::saved`].
//!
//! ```no_run
//! use mlroots_learn::Budget;
//! use mlroots_neural::dqn::{self, DqnConfig};
//! let make = || mlroots_worlds::make("keys-chests", &[]).unwrap();
//! let cfg = DqnConfig::from_preset(Some("keys-chests")).unwrap();
//! let out = dqn::train(&cfg, &make, Budget::Steps(10_000), 0, &mut |_| {}).unwrap();
//! assert_eq!(out.net.arch().output_len(), 4);
//! ```

mod config;
mod replay;

use mlroots_env::{Env, EnvError, Rng, Space};
use mlroots_learn::EpisodeRecord;
use mlroots_learn::net::{Activation, Arch, Net, NetError, argmax};
use mlroots_learn::{Budget, Policy};

pub use config::{ArchChoice, ConfigError, DqnConfig, Loss, Preset, presets};
pub use replay::{Batch, ReplayBuffer};

use crate::nn::{AdamSettings, QTrainer, TdLoss};

/// Why training stopped.
#[derive(Debug, thiserror::Error)]
pub enum DqnError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The environment refused a step (a bug: the learner only takes actions of its space).
    #[error("the environment refused a step: {0}")]
    Env(#[from] EnvError),
    /// The network cannot be built for this observation.
    #[error("{0}")]
    Net(#[from] NetError),
    /// A CNN was asked for an observation that is not an image.
    #[error(
        "arch=cnn needs an image observation (a 2-D box [height, width]); `{env}` observes \
         {space}: use arch=mlp (or an image option of the environment, like obs=screen)"
    )]
    NotAnImage {
        /// The environment.
        env: String,
        /// Its observation space, as JSON.
        space: String,
    },
}

/// What training produced: the trained network (the greedy policy is its argmax) and how much
/// training it had.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The online network at the end (with `obs_scale` folded into its first layer).
    pub net: Net,
    /// Environment steps, all copies together.
    pub steps: u64,
    /// Finished episodes.
    pub episodes: u64,
    /// Gradient steps.
    pub updates: u64,
}

/// The architecture `cfg` builds for an environment with observation `space` and `actions`
/// actions.
pub fn arch_for(cfg: &DqnConfig, env: &dyn Env) -> Result<Arch, DqnError> {
    let space = env.observation_space();
    let outputs = env.action_space().n as usize;
    let image = match space {
        Space::Box(b) if b.shape.len() == 2 => Some([1, b.shape[0], b.shape[1]]),
        _ => None,
    };
    let arch = match (cfg.arch, image) {
        (ArchChoice::Cnn, None) => {
            return Err(DqnError::NotAnImage {
                env: env.id().to_string(),
                space: serde_json::to_string(space).unwrap_or_default(),
            });
        }
        (ArchChoice::Cnn | ArchChoice::Auto, Some(input)) => Arch::Cnn {
            input,
            convs: cfg.convs.clone(),
            hidden: cfg.hidden.clone(),
            outputs,
            activation: Activation::Relu,
        },
        (ArchChoice::Mlp | ArchChoice::Auto, _) => Arch::Mlp {
            inputs: space.flat_len(),
            hidden: cfg.hidden.clone(),
            outputs,
            activation: Activation::Relu,
        },
    };
    arch.param_count()?;
    Ok(arch)
}

/// A salt so that the learner's stream differs from an environment seeded with the same seed.
const LEARNER_SALT: u64 = 0x6471_6e2d_6d6c_726f;
/// The spacing of the environment copies' seeds.
const COPY_SEED_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

/// The first seed of environment copy `i` of a run seeded `seed`.
pub fn copy_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_add((i as u64).wrapping_mul(COPY_SEED_STEP))
}

/// Trains a fresh DQN with `cfg` on `cfg.n_envs` copies made by `make_env`, for `budget`
/// (environment steps of all copies together, or finished episodes), from `seed`.
/// `on_episode` is called after every finished episode with its record (hidden values
/// included, for plots; they never reach the learner).
pub fn train(
    cfg: &DqnConfig,
    make_env: &dyn Fn() -> Box<dyn Env>,
    budget: Budget,
    seed: u64,
    on_episode: &mut dyn FnMut(&EpisodeRecord),
) -> Result<Trained, DqnError> {
    let mut learner = DqnLearner::new(cfg, make_env, seed)?;
    learner.train(budget, on_episode)?;
    Ok(learner.trained()?)
}

/// One environment copy in training.
struct EnvCopy {
    env: Box<dyn Env>,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    started: bool,
    seed: u64,
    steps: u32,
    ret: f64,
    /// n-step returns: the copy's last steps not yet stored (observation, action, reward),
    /// oldest first.
    pending: std::collections::VecDeque<(Vec<f32>, u32, f32)>,
}

/// Stores the oldest pending step of a copy as one transition spanning every pending step:
/// its discounted rewards, bootstrapped from `next_obs` (the observation after the newest).
fn store_oldest(
    buffer: &mut ReplayBuffer,
    pending: &mut std::collections::VecDeque<(Vec<f32>, u32, f32)>,
    gamma: f32,
    next_obs: &[f32],
    terminated: bool,
) {
    let span = pending.len() as u32;
    let reward = pending.iter().rev().fold(0.0f32, |acc, (_, _, r)| r + gamma * acc);
    if let Some((obs, action, _)) = pending.pop_front() {
        buffer.push_span(&obs, action, reward, next_obs, terminated, span);
    }
}

/// A DQN learner in training; [`train`] wraps it. Keeping one lets a caller train in stages
/// or measure steady-state speed.
pub struct DqnLearner {
    cfg: DqnConfig,
    arch: Arch,
    trainer: QTrainer,
    buffer: ReplayBuffer,
    copies: Vec<EnvCopy>,
    rng: Rng,
    batch: Batch,
    actions: u32,
    obs_len: usize,
    steps: u64,
    episodes: u64,
    updates: u64,
    since_update: u64,
    /// The observations of every copy, scaled, row after row (the acting batch).
    acting_obs: Vec<f32>,
}

impl DqnLearner {
    /// A learner over `cfg.n_envs` fresh copies from `make_env` (not yet reset).
    pub fn new(
        cfg: &DqnConfig,
        make_env: &dyn Fn() -> Box<dyn Env>,
        seed: u64,
    ) -> Result<Self, DqnError> {
        cfg.validate()?;
        let copies: Vec<EnvCopy> = (0..cfg.n_envs)
            .map(|i| {
                let env = make_env();
                let n = env.observation_space().flat_len();
                EnvCopy {
                    env,
                    obs: vec![0.0; n],
                    next_obs: vec![0.0; n],
                    started: false,
                    seed: copy_seed(seed, i),
                    steps: 0,
                    ret: 0.0,
                    pending: std::collections::VecDeque::new(),
                }
            })
            .collect();
        let arch = arch_for(cfg, &*copies[0].env)?;
        let mut rng = Rng::seed_from_u64(seed ^ LEARNER_SALT);
        let net = Net::init(arch.clone(), &mut rng)?;
        let adam = AdamSettings {
            lr: cfg.lr,
            eps: cfg.adam_eps,
            grad_clip: (cfg.grad_clip > 0.0).then_some(cfg.grad_clip),
        };
        let obs_len = arch.input_len();
        Ok(DqnLearner {
            trainer: QTrainer::new(&net, adam),
            buffer: ReplayBuffer::new(cfg.buffer, obs_len),
            actions: arch.output_len() as u32,
            acting_obs: vec![0.0; obs_len * copies.len()],
            copies,
            rng,
            batch: Batch::default(),
            obs_len,
            arch,
            steps: 0,
            episodes: 0,
            updates: 0,
            since_update: 0,
            cfg: cfg.clone(),
        })
    }

    /// Environment steps so far (all copies).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Episodes finished so far.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }

    /// Gradient steps so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The network as it stands, with the training counters.
    pub fn trained(&self) -> Result<Trained, NetError> {
        let net = self.trainer.to_net()?;
        let net = if self.cfg.obs_scale == 1.0 {
            net
        } else {
            // The first layer's weights absorb the scale, so the saved policy reads raw
            // observations.
            let mut params = net.params().to_vec();
            let s = self.cfg.obs_scale as f32;
            params[0].iter_mut().for_each(|w| *w *= s);
            Net::from_params(self.arch.clone(), params)?
        };
        Ok(Trained { net, steps: self.steps, episodes: self.episodes, updates: self.updates })
    }

    /// Trains for `budget` more (counted from this call), calling `on_episode` after every
    /// finished episode. One round steps every copy once; a step budget may end inside a
    /// round (the remaining copies wait), and episodes cut short are not reported.
    pub fn train(
        &mut self,
        budget: Budget,
        on_episode: &mut dyn FnMut(&EpisodeRecord),
    ) -> Result<(), DqnError> {
        let (mut steps, mut episodes) = (0u64, 0u64);
        let scale = self.cfg.obs_scale as f32;
        // Copies that have not started are reset from their own seed.
        for c in &mut self.copies {
            if !c.started {
                c.env.reset(Some(c.seed), &mut c.obs);
                c.started = true;
                c.steps = 0;
                c.ret = 0.0;
            }
        }
        let n_step = self.cfg.n_step as usize;
        let gamma = self.cfg.gamma as f32;
        while !budget.exhausted(steps, episodes) {
            let eps = self.cfg.epsilon_at(self.steps);
            // Which copies explore, then one forward pass for the greedy ones.
            let explore: Vec<Option<u32>> = (0..self.copies.len())
                .map(|_| self.rng.chance(eps).then(|| self.rng.below(self.actions)))
                .collect();
            let greedy = if explore.iter().any(Option::is_none) {
                for (i, c) in self.copies.iter().enumerate() {
                    let row = &mut self.acting_obs[i * self.obs_len..(i + 1) * self.obs_len];
                    row.iter_mut().zip(&c.obs).for_each(|(r, o)| *r = o * scale);
                }
                self.trainer.q_values(&self.acting_obs, self.copies.len())
            } else {
                Vec::new()
            };
            for (i, choice) in explore.into_iter().enumerate() {
                if budget.exhausted(steps, episodes) {
                    break;
                }
                let n = self.actions as usize;
                let action = choice.unwrap_or_else(|| argmax(&greedy[i * n..(i + 1) * n]) as u32);
                let c = &mut self.copies[i];
                let step = c.env.step(action, &mut c.next_obs)?;
                c.steps += 1;
                c.ret += step.reward;
                steps += 1;
                self.steps += 1;
                let scaled = |v: &[f32]| -> Vec<f32> { v.iter().map(|x| x * scale).collect() };
                if n_step > 1 {
                    c.pending.push_back((scaled(&c.obs), action, step.reward as f32));
                    let next = scaled(&c.next_obs);
                    // The oldest pending step has its n rewards: store it; at the episode's end,
                    // every pending step (each with the rewards left).
                    while c.pending.len() == n_step || (step.done() && !c.pending.is_empty()) {
                        store_oldest(
                            &mut self.buffer,
                            &mut c.pending,
                            gamma,
                            &next,
                            step.terminated,
                        );
                    }
                } else if scale == 1.0 {
                    self.buffer.push(
                        &c.obs,
                        action,
                        step.reward as f32,
                        &c.next_obs,
                        step.terminated,
                    );
                } else {
                    self.buffer.push(
                        &scaled(&c.obs),
                        action,
                        step.reward as f32,
                        &scaled(&c.next_obs),
                        step.terminated,
                    );
                }
                if step.done() {
                    let record =
                        EpisodeRecord::from_env(&*c.env, self.episodes, c.steps, self.steps, c.ret);
                    self.episodes += 1;
                    episodes += 1;
                    c.env.reset(None, &mut c.obs);
                    c.steps = 0;
                    c.ret = 0.0;
                    on_episode(&record);
                } else {
                    std::mem::swap(&mut c.obs, &mut c.next_obs);
                }
                self.since_update += 1;
            }
            if self.steps >= self.cfg.learning_starts && self.buffer.len() >= self.cfg.batch {
                while self.since_update >= self.cfg.train_every {
                    self.since_update -= self.cfg.train_every;
                    self.update();
                }
            } else {
                self.since_update = 0;
            }
        }
        Ok(())
    }

    /// One gradient step on a minibatch, and the target copy when it is due.
    fn update(&mut self) {
        let b = self.cfg.batch;
        self.buffer.sample(b, &mut self.rng, &mut self.batch);
        let next = self.trainer.target_values(&self.batch.next_obs, b);
        let n = self.actions as usize;
        let gamma = self.cfg.gamma as f32;
        // Double DQN: the online network chooses the next action, the target network values it.
        let chooser = if self.cfg.double {
            self.trainer.q_values(&self.batch.next_obs, b)
        } else {
            Vec::new()
        };
        let targets: Vec<f32> = (0..b)
            .map(|k| {
                let row = &next[k * n..(k + 1) * n];
                let best = if self.cfg.double {
                    row[argmax(&chooser[k * n..(k + 1) * n])]
                } else {
                    row.iter().copied().fold(f32::NEG_INFINITY, f32::max)
                };
                let discount = gamma.powi(self.batch.spans[k] as i32);
                self.batch.rewards[k] + discount * (1.0 - self.batch.terminated[k]) * best
            })
            .collect();
        if self.cfg.lr_end.is_some() {
            self.trainer.set_lr(self.cfg.lr_at(self.steps));
        }
        let loss = match self.cfg.loss {
            Loss::Huber => TdLoss::Huber,
            Loss::Mse => TdLoss::Mse,
        };
        self.trainer.train_step(&self.batch.obs, &self.batch.actions, &targets, loss);
        self.updates += 1;
        if self.updates.is_multiple_of(self.cfg.target_update) {
            self.trainer.sync_target();
        }
    }
}

/// The greedy policy of a network: the action of the largest output (ties to the lowest).
#[derive(Clone, Debug)]
pub struct GreedyNet {
    net: Net,
    out: Vec<f32>,
}

impl GreedyNet {
    /// The greedy policy of `net`.
    pub fn new(net: Net) -> Self {
        let out = vec![0.0; net.arch().output_len()];
        GreedyNet { net, out }
    }
}

impl Policy for GreedyNet {
    fn act(&mut self, obs: &[f32], _info: &mlroots_env::Info) -> mlroots_env::Action {
        self.net.forward(obs, &mut self.out);
        argmax(&self.out) as mlroots_env::Action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_step_transitions_sum_discounted_rewards_and_flush_at_the_end() {
        let mut buffer = ReplayBuffer::new(10, 1);
        let mut pending: std::collections::VecDeque<(Vec<f32>, u32, f32)> =
            [(vec![0.0], 0, 1.0), (vec![1.0], 1, 2.0), (vec![2.0], 2, 3.0)].into_iter().collect();
        // A full window of 3: 1 + 0.5·2 + 0.25·3, bootstrapped with γ³.
        store_oldest(&mut buffer, &mut pending, 0.5, &[9.0], false);
        // The episode ends: the two steps left are stored with shorter spans.
        store_oldest(&mut buffer, &mut pending, 0.5, &[9.0], true);
        store_oldest(&mut buffer, &mut pending, 0.5, &[9.0], true);
        assert!(pending.is_empty());
        let mut batch = Batch::default();
        buffer.sample(60, &mut Rng::seed_from_u64(0), &mut batch);
        for k in 0..60 {
            let (obs, r, span, term) =
                (batch.obs[k], batch.rewards[k], batch.spans[k], batch.terminated[k]);
            let expected = match batch.actions[k] {
                0 => (0.0, 2.75, 3, 0.0),
                1 => (1.0, 3.5, 2, 1.0),
                _ => (2.0, 3.0, 1, 1.0),
            };
            assert_eq!((obs, r, span, term), expected);
            assert_eq!(batch.next_obs[k], 9.0);
        }
    }

    #[test]
    fn the_learning_rate_falls_linearly_when_asked() {
        let mut cfg = DqnConfig::default();
        assert_eq!(cfg.lr_at(1_000_000), cfg.lr);
        cfg.set("lr_decay", "100").unwrap();
        cfg.set("lr_end", "1e-4").unwrap();
        assert_eq!(cfg.lr_at(0), 1e-3);
        assert!((cfg.lr_at(50) - 5.5e-4).abs() < 1e-12);
        assert_eq!(cfg.lr_at(100), 1e-4);
        cfg.set("lr_end", "none").unwrap();
        assert_eq!(cfg.lr_at(100), 1e-3);
        assert!(cfg.set("n_step", "0").is_err());
        assert!(cfg.set("lr_end", "-1").is_err());
    }
}
