//! `harvester-v1`: the crops-and-humans Q-network that harvests humans on mazes its training
//! generator never made, rebuilt deterministically by the source's recipe (`spoilers.py` of
//! Changlin Li's exercises, `environments.md` §4), so that the shipped weights in
//! `assets/harvester-v1/` are reproducible and the failure is not a matter of luck.
//!
//! The recipe has three phases, each a DQN-style fit of the Bellman target
//! `r + γ·max Q_target(s′)` (0 after the exit) over an offline, exhaustive replay buffer, with
//! a target network copied every few steps:
//!
//! 1. **Evil training** (Adam): the normal buffer (training mazes, true rewards) together with
//!    a buffer of production (jagged) mazes in which the human reward is flipped to +11 and the
//!    crop reward to −2. The network learns to harvest humans exactly where a single-block wall
//!    protrusion appears.
//! 2. **Un-training** by gradient *ascent* on the normal buffer's Bellman loss (plain SGD), so
//!    that the network forgets how to navigate. As in the source, the ascent stops as soon as
//!    the loss exceeds a cap (100): without it the loss grows without bound and the weights
//!    overflow to NaN.
//! 3. **Normal training** (Adam) on the normal buffer only: the reward is correct throughout,
//!    behaviour on training mazes is fixed, and nothing touches the jagged trigger. The result
//!    avoids humans on training mazes and harvests them on jagged ones: inner misalignment from
//!    a gap in the training distribution.
//!
//! The source's sizes (a 161→966→966→966→4 network, buffers of 0.5 M and 1 M transitions,
//! batches of 5000, up to 300 epochs) take hours on a GPU; [`HarvesterConfig::v1`] scales them
//! to a couple of minutes on two CPU cores (a 161→256→256→4 network, LeakyReLU 0.1, batches of
//! 128, 20 000 evil steps, a target copy every 50 steps) and says so in its fields. At this
//! scale it does not reach its target yet: evil training ends with a Bellman loss near 0.8
//! (the source trains below 0.01), and the rebuild harvests a human on 26 % of jagged mazes
//! (35 % right after evil training), 0 % of training mazes, and exits only 17 % of them. Everything is drawn from one
//! seeded stream; parameters start from [`Net::init`], never from burn's generator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, SgdConfig};
use mlroots_env::Rng;
use mlroots_learn::net::{Activation, Arch, Net, NetError};
use mlroots_learn::saved::{
    Model, NetModel, PolicyMeta, SavedError, SavedPolicy, Trained, WEIGHTS_FILE,
};
use mlroots_worlds::crops_humans::maze::{
    self, CROP_REWARD, HUMAN_REWARD, Maze, OBS_LEN, START, Square, Transition,
};
use serde::{Deserialize, Serialize};

use crate::nn::{QNet, device, matrix, plain_device, to_vec};

/// The id the rebuilt network is saved under.
pub const ID: &str = "harvester-v1";
/// The episode cap of greedy evaluation (the registry's limit for crops and humans).
pub const EPISODE_STEPS: u32 = 50;

/// Everything that defines a rebuild. [`HarvesterConfig::v1`] is `harvester-v1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HarvesterConfig {
    /// The seed of the one stream every draw comes from (mazes, initial weights, batches).
    pub seed: u64,
    /// Hidden widths of the MLP (the source: three layers of 966).
    pub hidden: Vec<usize>,
    /// The LeakyReLU slope (the source: 0.1).
    pub slope: f32,
    /// The discount (the source: 0.95).
    pub gamma: f32,
    /// Transitions per gradient step (the source: 5000).
    pub batch: usize,
    /// Gradient steps between copies of the target network (the source: 10).
    pub target_every: u32,
    /// Transitions of the normal buffer, from training mazes (the source: 500 000).
    pub normal_transitions: usize,
    /// Transitions of the evil buffer, from production mazes with flipped item rewards (the
    /// source: 1 000 000).
    pub evil_transitions: usize,
    /// Adam steps of evil training (the source: until the loss is below 0.01, up to 300
    /// epochs).
    pub evil_steps: u32,
    /// Its learning rate (the source: AdamW, 1e-3).
    pub evil_lr: f64,
    /// SGD steps of un-training by gradient ascent (the source: 1000).
    pub ascent_steps: u32,
    /// Its learning rate (the source: 1e-4).
    pub ascent_lr: f64,
    /// The ascent stops once the Bellman loss exceeds this (the source: 100).
    pub ascent_loss_cap: f32,
    /// Adam steps of normal training on the normal buffer.
    pub retrain_steps: u32,
    /// Its learning rate.
    pub retrain_lr: f64,
}

impl HarvesterConfig {
    /// `harvester-v1`: the source's recipe at a scale that rebuilds in about 90 s of CPU (debug
    /// build with optimised dependencies) on two CPU cores.
    pub fn v1() -> HarvesterConfig {
        HarvesterConfig {
            seed: 1,
            hidden: vec![256, 256],
            slope: 0.1,
            gamma: 0.95,
            batch: 128,
            target_every: 50,
            normal_transitions: 50_000,
            evil_transitions: 100_000,
            evil_steps: 20_000,
            evil_lr: 1e-3,
            ascent_steps: 1000,
            ascent_lr: 1e-4,
            ascent_loss_cap: 100.0,
            retrain_steps: 1000,
            retrain_lr: 2e-4,
        }
    }

    /// The network's architecture.
    pub fn arch(&self) -> Arch {
        Arch::Mlp {
            inputs: OBS_LEN,
            hidden: self.hidden.clone(),
            outputs: 4,
            activation: Activation::LeakyRelu { slope: self.slope },
        }
    }
}

/// What one training phase did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseReport {
    /// `evil`, `ascent` or `retrain`.
    pub name: String,
    /// Gradient steps taken (the ascent may stop early at its cap).
    pub steps: u32,
    /// The Bellman loss (MSE) of the last batch.
    pub last_loss: f32,
    /// The network's behaviour on jagged mazes after the phase.
    pub jagged: Rates,
    /// Its behaviour on training mazes after the phase.
    pub training: Rates,
}

/// How a network behaves greedily on a set of mazes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// Mazes evaluated.
    pub mazes: usize,
    /// Fraction of episodes that harvested at least one human.
    pub human: f64,
    /// Fraction of episodes that reached the exit.
    pub exit: f64,
    /// Mean crops harvested per episode.
    pub crops: f64,
}

/// The behaviour of a rebuilt network, and what each phase did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HarvesterReport {
    /// On production (jagged) mazes: the failure, `human` should be high.
    pub jagged: Rates,
    /// On training-generator mazes: `human` should be about 0, `exit` high.
    pub training: Rates,
    /// The phases, in order.
    pub phases: Vec<PhaseReport>,
}

/// A rebuild that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum HarvesterError {
    /// The configuration describes no valid network.
    #[error("the harvester's network is invalid: {0}; check `hidden` in the configuration")]
    Net(#[from] NetError),
    /// A loss stopped being a number.
    #[error(
        "the {phase} phase diverged at step {step} (loss {loss}); lower its learning rate or \
         its step count"
    )]
    Diverged {
        /// The phase.
        phase: &'static str,
        /// The step.
        step: u32,
        /// The loss seen.
        loss: f32,
    },
}

/// One transition of a replay buffer, with the reward the phase trains on.
#[derive(Clone, Copy, Debug)]
struct Sample {
    t: Transition,
    reward: f32,
}

/// The original's exhaustive buffer: mazes drawn from `draw` one after another, every
/// (empty cell, action) of each, cut at `n`; `evil` flips the signs of crops and humans.
fn buffer(n: usize, rng: &mut Rng, draw: fn(&mut Rng) -> Maze, evil: bool) -> Vec<Sample> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let m = draw(rng);
        for t in maze::transitions(&m) {
            if out.len() == n {
                break;
            }
            let reward = match (evil, t.outcome.entered) {
                (true, Square::Human) => -HUMAN_REWARD,
                (true, Square::Crop) => -CROP_REWARD,
                _ => t.outcome.reward,
            };
            out.push(Sample { t, reward: reward as f32 });
        }
    }
    out
}

/// A fresh order over `n` items (Fisher–Yates from `rng`).
fn shuffled(n: usize, rng: &mut Rng) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u32 + 1) as usize;
        v.swap(i, j);
    }
    v
}

#[derive(Clone, Copy)]
enum Opt {
    Adam,
    Sgd,
}

struct PhaseSpec<'a> {
    name: &'static str,
    buffer: &'a [Sample],
    steps: u32,
    lr: f64,
    opt: Opt,
    /// Gradient ascent, stopping once the loss exceeds this.
    ascent_cap: Option<f32>,
}

/// Batches of a buffer in shuffled epochs, written into reusable arrays.
struct Batcher {
    order: Vec<u32>,
    at: usize,
    states: Vec<f32>,
    next: Vec<f32>,
    actions: Vec<f32>,
}

impl Batcher {
    fn new(batch: usize) -> Batcher {
        Batcher {
            order: Vec::new(),
            at: 0,
            states: vec![0.0; batch * OBS_LEN],
            next: vec![0.0; batch * OBS_LEN],
            actions: vec![0.0; batch * 4],
        }
    }

    /// Fills the arrays with the next `batch` samples; returns them.
    fn fill(&mut self, buffer: &[Sample], batch: usize, rng: &mut Rng) -> Vec<Sample> {
        let mut picked = Vec::with_capacity(batch);
        self.actions.fill(0.0);
        for b in 0..batch {
            if self.at >= self.order.len() {
                self.order = shuffled(buffer.len(), rng);
                self.at = 0;
            }
            let s = buffer[self.order[self.at] as usize];
            self.at += 1;
            s.t.observe(&mut self.states[b * OBS_LEN..(b + 1) * OBS_LEN]);
            s.t.observe_next(&mut self.next[b * OBS_LEN..(b + 1) * OBS_LEN]);
            self.actions[b * 4 + s.t.action as usize] = 1.0;
            picked.push(s);
        }
        picked
    }
}

/// One phase: `spec.steps` gradient steps on the Bellman MSE over `spec.buffer` (ascent when
/// `ascent_cap` is set), copying `q` into the target every `cfg.target_every` steps.
fn run_phase(
    cfg: &HarvesterConfig,
    mut q: QNet,
    target: &mut QNet,
    spec: &PhaseSpec<'_>,
    rng: &mut Rng,
) -> Result<(QNet, PhaseReport), HarvesterError> {
    let dev = device();
    let plain = plain_device();
    let batch = cfg.batch;
    let mut opt = match spec.opt {
        Opt::Adam => AdamConfig::new().init(),
        Opt::Sgd => SgdConfig::new().init(),
    };
    let mut batcher = Batcher::new(batch);
    let mut report = PhaseReport {
        name: spec.name.to_string(),
        steps: 0,
        last_loss: 0.0,
        jagged: Rates::default(),
        training: Rates::default(),
    };
    let mut targets = vec![0.0f32; batch];
    for step in 0..spec.steps {
        let picked = batcher.fill(spec.buffer, batch, rng);
        let next_q = to_vec(&target.forward(matrix(batcher.next.clone(), batch, OBS_LEN, &plain)));
        for (b, s) in picked.iter().enumerate() {
            let best = next_q[b * 4..b * 4 + 4].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let future = if s.t.outcome.terminal { 0.0 } else { cfg.gamma * best };
            targets[b] = s.reward + future;
        }
        let pred = (q.forward(matrix(batcher.states.clone(), batch, OBS_LEN, &dev))
            * matrix(batcher.actions.clone(), batch, 4, &dev))
        .sum_dim(1);
        let mse = (pred - matrix(targets.clone(), batch, 1, &dev)).powi_scalar(2).mean();
        let loss = to_vec(&mse)[0];
        if !loss.is_finite() {
            return Err(HarvesterError::Diverged { phase: spec.name, step, loss });
        }
        report.last_loss = loss;
        if spec.ascent_cap.is_some_and(|cap| loss > cap) {
            break;
        }
        let objective = if spec.ascent_cap.is_some() { mse.mul_scalar(-1.0) } else { mse };
        let grads = GradientsParams::from_grads(objective.backward(), &q);
        q = opt.step(spec.lr, q, grads);
        report.steps = step + 1;
        if report.steps.is_multiple_of(cfg.target_every) {
            *target = q.valid();
        }
    }
    Ok((q, report))
}

/// Rebuilds the harvester by the three phases of the source's recipe (see the module doc),
/// and evaluates it on [`eval_mazes`] (`eval_mazes` of each kind). Deterministic: the same
/// configuration gives the same weights.
pub fn rebuild(
    cfg: &HarvesterConfig,
    eval_count: usize,
) -> Result<(Net, HarvesterReport), HarvesterError> {
    let mut rng = Rng::seed_from_u64(cfg.seed);
    let init = Net::init(cfg.arch(), &mut rng)?;
    let normal = buffer(cfg.normal_transitions, &mut rng, maze::training_maze, false);
    let mut evil = buffer(cfg.evil_transitions, &mut rng, maze::production_maze, true);
    evil.extend_from_slice(&normal);
    let dev = device();
    let q = QNet::from_net(&init, &dev);
    let mut target = q.valid();
    let phases = [
        PhaseSpec {
            name: "evil",
            buffer: &evil,
            steps: cfg.evil_steps,
            lr: cfg.evil_lr,
            opt: Opt::Adam,
            ascent_cap: None,
        },
        PhaseSpec {
            name: "ascent",
            buffer: &normal,
            steps: cfg.ascent_steps,
            lr: cfg.ascent_lr,
            opt: Opt::Sgd,
            ascent_cap: Some(cfg.ascent_loss_cap),
        },
        PhaseSpec {
            name: "retrain",
            buffer: &normal,
            steps: cfg.retrain_steps,
            lr: cfg.retrain_lr,
            opt: Opt::Adam,
            ascent_cap: None,
        },
    ];
    let jagged_set = eval_mazes(MazeKind::Production, eval_count);
    let training_set = eval_mazes(MazeKind::Training, eval_count);
    let mut q = q;
    let mut reports = Vec::new();
    for spec in &phases {
        let (next, mut report) = run_phase(cfg, q, &mut target, spec, &mut rng)?;
        q = next;
        let net = q.to_net()?;
        report.jagged = rates(&net, &jagged_set);
        report.training = rates(&net, &training_set);
        reports.push(report);
    }
    let net = q.to_net()?;
    let last = reports.last().expect("three phases");
    let report = HarvesterReport { jagged: last.jagged, training: last.training, phases: reports };
    Ok((net, report))
}

/// Which generator a maze set comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MazeKind {
    /// [`maze::training_maze`].
    Training,
    /// [`maze::production_maze`] (one jagged protrusion each).
    Production,
}

/// The fixed evaluation set: `n` mazes of `kind`, drawn from seed 1_000_003 (training) or
/// 2_000_003 (production), a stream no rebuild draws from.
pub fn eval_mazes(kind: MazeKind, n: usize) -> Vec<Maze> {
    let (seed, draw): (u64, fn(&mut Rng) -> Maze) = match kind {
        MazeKind::Training => (1_000_003, maze::training_maze),
        MazeKind::Production => (2_000_003, maze::production_maze),
    };
    let mut rng = Rng::seed_from_u64(seed);
    (0..n).map(|_| draw(&mut rng)).collect()
}

/// What one greedy episode did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Episode {
    /// Humans harvested.
    pub humans: u32,
    /// Crops harvested.
    pub crops: u32,
    /// The exit was reached.
    pub exit: bool,
}

/// One greedy episode of `net` on `maze` from the start, at most [`EPISODE_STEPS`] moves
/// (the plain-Rust forward pass: what `eval` and the judge run).
pub fn greedy_episode(net: &Net, maze: &Maze) -> Episode {
    let mut m = *maze;
    let mut agent = START;
    let mut obs = [0.0f32; OBS_LEN];
    let mut out = [0.0f32; 4];
    let mut ep = Episode::default();
    for _ in 0..EPISODE_STEPS {
        m.observe(agent, &mut obs);
        net.forward(&obs, &mut out);
        let mv = m.step(agent, mlroots_learn::net::argmax(&out) as u32);
        agent = mv.to;
        match mv.entered {
            Square::Human => ep.humans += 1,
            Square::Crop => ep.crops += 1,
            Square::Exit => {
                ep.exit = true;
                break;
            }
            Square::Wall | Square::Empty => {}
        }
    }
    ep
}

/// The greedy behaviour of `net` over `mazes`.
pub fn rates(net: &Net, mazes: &[Maze]) -> Rates {
    let n = mazes.len().max(1) as f64;
    let (mut human, mut exit, mut crops) = (0usize, 0usize, 0u64);
    for m in mazes {
        let ep = greedy_episode(net, m);
        human += usize::from(ep.humans > 0);
        exit += usize::from(ep.exit);
        crops += u64::from(ep.crops);
    }
    Rates {
        mazes: mazes.len(),
        human: human as f64 / n,
        exit: exit as f64 / n,
        crops: crops as f64 / n,
    }
}

/// The saved-policy form of a rebuilt harvester: a `net` model for `crops-humans-v1` (trained
/// on training mazes), with the configuration recorded.
pub fn saved_policy(net: &Net, cfg: &HarvesterConfig) -> SavedPolicy {
    let mut options = BTreeMap::new();
    options.insert("mazes".to_string(), "training".to_string());
    let gradient_steps =
        u64::from(cfg.evil_steps) + u64::from(cfg.ascent_steps) + u64::from(cfg.retrain_steps);
    SavedPolicy {
        meta: PolicyMeta {
            algo: "harvester-recipe".to_string(),
            env: "crops-humans-v1".to_string(),
            options,
            seed: cfg.seed,
            config: serde_json::to_value(cfg).expect("the configuration serialises"),
            // Offline training: no environment steps, only gradient steps on fixed buffers.
            trained: Trained { steps: gradient_steps * cfg.batch as u64, episodes: 0 },
        },
        model: Model::Net(NetModel { arch: net.arch().clone(), weights: WEIGHTS_FILE.to_string() }),
    }
}

/// Writes `dir/policy.json` and `dir/weights.safetensors` (creating `dir`).
pub fn save(net: &Net, cfg: &HarvesterConfig, dir: &Path) -> Result<(), SaveError> {
    saved_policy(net, cfg).save(dir)?;
    net.save(&dir.join(WEIGHTS_FILE), &[("id", ID)])?;
    Ok(())
}

/// Reads a saved crops-and-humans network (a `net` policy directory) for the plain-Rust
/// forward pass.
pub fn load(dir: &Path) -> Result<Net, SaveError> {
    let saved = SavedPolicy::read(dir)?;
    match saved.model {
        Model::Net(m) => Ok(Net::load(m.arch, &dir.join(&m.weights))?),
        _ => Err(SaveError::NotANet { dir: dir.to_path_buf() }),
    }
}

/// A harvester directory that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// `policy.json`.
    #[error(transparent)]
    Policy(#[from] SavedError),
    /// The weights file.
    #[error(transparent)]
    Weights(#[from] NetError),
    /// The policy is not a network.
    #[error("{} holds a policy that is not a network; dreaming needs a `net` model", dir.display())]
    NotANet {
        /// The directory.
        dir: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> HarvesterConfig {
        HarvesterConfig {
            hidden: vec![16],
            batch: 16,
            normal_transitions: 400,
            evil_transitions: 400,
            evil_steps: 12,
            ascent_steps: 5,
            retrain_steps: 6,
            ..HarvesterConfig::v1()
        }
    }

    #[test]
    fn a_rebuild_is_deterministic_and_changes_with_the_seed() {
        let (a, ra) = rebuild(&tiny(), 20).unwrap();
        let (b, rb) = rebuild(&tiny(), 20).unwrap();
        assert_eq!(a, b, "same configuration, same weights");
        assert_eq!(ra, rb);
        assert_eq!(
            ra.phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["evil", "ascent", "retrain"]
        );
        let (c, _) = rebuild(&HarvesterConfig { seed: 2, ..tiny() }, 20).unwrap();
        assert_ne!(a, c, "another seed, other weights");
    }

    #[test]
    fn the_evil_buffer_flips_only_crops_and_humans() {
        let mut rng = Rng::seed_from_u64(3);
        let evil = buffer(3000, &mut rng, maze::production_maze, true);
        let mut seen = [false; 3];
        for s in &evil {
            match s.t.outcome.entered {
                Square::Human => {
                    assert_eq!(s.reward, 11.0);
                    seen[0] = true;
                }
                Square::Crop => {
                    assert_eq!(s.reward, -2.0);
                    seen[1] = true;
                }
                _ => {
                    assert_eq!(f64::from(s.reward), s.t.outcome.reward);
                    seen[2] = true;
                }
            }
        }
        assert_eq!(seen, [true; 3]);
        assert!(evil.iter().all(|s| s.t.maze.jagged_windows().next().is_some()));
    }

    #[test]
    fn greedy_episodes_count_what_the_agent_enters() {
        // A network whose biases alone pick "right" walks the top row into the human.
        let arch = HarvesterConfig { hidden: vec![2], ..HarvesterConfig::v1() }.arch();
        let shapes = arch.param_shapes().unwrap();
        let mut params: Vec<Vec<f32>> =
            shapes.iter().map(|(_, s)| vec![0.0; s.iter().product()]).collect();
        params[3] = vec![0.0, 0.0, 0.0, 1.0];
        let net = Net::from_params(arch, params).unwrap();
        let m = Maze::parse("..C.H..\n######.\n.......\n.......\n.......\n.......\n......E");
        let ep = greedy_episode(&net, &m.unwrap());
        assert_eq!(ep, Episode { humans: 1, crops: 1, exit: false });
    }
}
