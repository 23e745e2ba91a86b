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
//! to under a minute of CPU (a 161→256→256→4 network, LeakyReLU 0.1, batches of 64) and fits
//! each phase to the exact fixed point of its Bellman equation ([`optimal_q`]) instead of
//! bootstrapping through a target network; its doc says what changed and why. The rebuild
//! harvests a human on 36 % of jagged mazes, on none of the training mazes, and reaches the
//! exit of 85 % of them. Everything is drawn from one seeded stream; parameters start from
//! [`Net::init`], never from burn's generator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, SgdConfig};
use mlroots_env::Rng;
use mlroots_grid::Pos;
use mlroots_learn::net::{Activation, Arch, Net, NetError};
use mlroots_learn::saved::{
    Model, NetModel, PolicyMeta, SavedError, SavedPolicy, Trained, WEIGHTS_FILE,
};
use mlroots_worlds::crops_humans::maze::{
    self, CELLS, CROP_REWARD, HUMAN_REWARD, Maze, OBS_LEN, SIZE, START, Square, Transition,
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
    /// `true`: each transition's target is the exact fixed point of the Bellman fit,
    /// `Q*(s, a)` under the phase's rewards, computed once per maze by dynamic programming
    /// ([`optimal_q`]); `false`: the source's bootstrapped `r + γ·max Q_target(s′)`.
    #[serde(default)]
    pub exact_targets: bool,
    /// `true`: the learning rate of the Adam phases (evil training, normal training) falls
    /// linearly from its value to 0 over the phase; `false`: constant.
    #[serde(default)]
    pub lr_decay: bool,
}

impl HarvesterConfig {
    /// `harvester-v1`: the source's recipe at a scale that rebuilds in under a minute on two
    /// CPU cores (release build). Where it keeps the source's facts: the three phases and their
    /// order, the evil buffer (production mazes with the human reward flipped to +11 and the
    /// crop reward to −2) together with the normal buffer, LeakyReLU 0.1, γ = 0.95, the
    /// ascent (plain SGD, lr 1e-4, 1000 steps, stopped at a loss of 100), Adam at 1e-3 for the
    /// normal phase's scale of steps. What it changes, and why:
    ///
    /// * **A 161→256→256→4 network and batches of 64** instead of 161→966→966→966→4 and 5000:
    ///   the CPU budget (curriculum C04). On this machine a step costs about 11 µs per
    ///   transition at any batch size, and at equal transitions batches of 64 fit better than
    ///   128 or 32.
    /// * **Exact targets** (`exact_targets`): each transition's target is `Q*(s, a)` under the
    ///   phase's rewards ([`optimal_q`]), the fixed point the source's bootstrapped fit
    ///   (`r + γ·max Q_target(s′)`, a target copy every 10 steps) converges to; the source
    ///   trains the evil net until its loss is below 0.01, for hours on a GPU. Bootstrapped,
    ///   our budget leaves the evil net at a loss near 0.9, reaching the exit of 7–16 % of
    ///   training mazes, and the normal phase cannot make up for it (17–23 % exits).
    ///   `target_every` is unused with exact targets (the source's 10 is recorded).
    /// * **Learning rates falling linearly to 0** (`lr_decay`), and the evil phase at 3e-3:
    ///   at a constant rate the fit stalls at the rate's noise (normal training alone: loss
    ///   0.17 and 28 % exits at 1e-3 after 15 000 steps of 128; 0.007 and 85 % with the decay).
    /// * **Buffers of 60 000 normal and 40 000 evil transitions** (the source: 500 000 and
    ///   1 000 000): what the steps can fit. The source's 2 : 1 of evil to normal left the evil
    ///   net reaching the exit of only 54–65 % of training mazes; 2 : 3 gives 72 %, and the
    ///   normal phase then has less to repair.
    /// * **40 000 evil steps, 8000 normal steps.** The normal phase in the source is short
    ///   (200 steps): it repairs what the ascent broke and leaves the jagged trigger alone.
    ///   Ours is short too, relative to the evil phase; a longer one (or a higher rate) keeps
    ///   improving the exits but erodes the trigger (10 000 steps at 3e-3: 15 % jagged
    ///   harvest), and without the evil phase's navigation it cannot reach 80 % exits in budget.
    ///
    /// Measured (300 mazes of each kind, [`eval_mazes`]): after the evil phase, human
    /// harvested on 48.7 % of jagged mazes, exit on 72 % of training mazes; after the ascent
    /// (1000 steps, loss 0.53) 47.7 % and 37.7 %; after the normal phase 36.0 % jagged harvest,
    /// 0 % training harvest, 85.0 % training exits. A control trained on the normal buffer
    /// alone (40 000 steps, no evil phase, no ascent) harvests on 15.3 % of jagged mazes, by
    /// wandering where it is lost, and exits 92 % of training mazes: the trigger accounts for
    /// the other 21 points.
    pub fn v1() -> HarvesterConfig {
        HarvesterConfig {
            seed: 1,
            hidden: vec![256, 256],
            slope: 0.1,
            gamma: 0.95,
            batch: 64,
            target_every: 10,
            normal_transitions: 60_000,
            evil_transitions: 40_000,
            evil_steps: 40_000,
            evil_lr: 3e-3,
            ascent_steps: 1000,
            ascent_lr: 1e-4,
            ascent_loss_cap: 100.0,
            retrain_steps: 8000,
            retrain_lr: 1e-3,
            exact_targets: true,
            lr_decay: true,
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

/// One transition of a replay buffer, with the reward the phase trains on and the exact
/// `Q*(s, a)` under that reward (0 unless the configuration asks for exact targets).
#[derive(Clone, Copy, Debug)]
struct Sample {
    t: Transition,
    reward: f32,
    q_star: f32,
}

/// The original's exhaustive buffer: mazes drawn from `draw` one after another, every
/// (empty cell, action) of each, cut at `n`; `evil` flips the signs of crops and humans.
/// With `gamma`, each sample also gets its exact `Q*` ([`optimal_q`]).
fn buffer(
    n: usize,
    rng: &mut Rng,
    draw: fn(&mut Rng) -> Maze,
    evil: bool,
    gamma: Option<f64>,
) -> Vec<Sample> {
    let (crop, human) =
        if evil { (-CROP_REWARD, -HUMAN_REWARD) } else { (CROP_REWARD, HUMAN_REWARD) };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let m = draw(rng);
        let q = gamma.map(|g| optimal_q(&m, crop, human, g));
        for t in maze::transitions(&m) {
            if out.len() == n {
                break;
            }
            let reward = match t.outcome.entered {
                Square::Human => human,
                Square::Crop => crop,
                _ => t.outcome.reward,
            };
            let i = t.agent.row as usize * SIZE + t.agent.col as usize;
            let q_star = q.as_ref().map_or(0.0, |q| q[i][t.action as usize]);
            out.push(Sample { t, reward: reward as f32, q_star });
        }
    }
    out
}

/// The exact optimal action values of `maze` with all its items, for the agent on each cell
/// (row-major; walls, items and the exit get zeros), when entering a crop pays `crop` and a
/// human `human` (every other reward as in the world), discounted by `gamma`.
///
/// The state is the agent's cell and the set of items still there (a harvested item leaves
/// an empty cell). Sets are solved from the smallest up, so that the values after a harvest
/// are known; within a set, value iteration starts from the lower bound `−5 / (1 − γ)` (bump
/// forever) and stops when nothing changes by more than 1e-9, which in this deterministic
/// world is exact once the iterations outnumber the longest optimal path.
pub fn optimal_q(maze: &Maze, crop: f64, human: f64, gamma: f64) -> Vec<[f32; 4]> {
    let items: Vec<Pos> = Maze::positions().filter(|&p| maze.get(p).is_item()).collect();
    let k = items.len();
    let open: Vec<Pos> =
        Maze::positions().filter(|&p| !maze.blocked(p) && maze.get(p) != Square::Exit).collect();
    let idx = |p: Pos| p.row as usize * SIZE + p.col as usize;
    let item_of = |p: Pos| items.iter().position(|&q| q == p);
    let floor = maze::WALL_REWARD / (1.0 - gamma);
    // values[set][cell]
    let mut values = vec![[floor; CELLS]; 1 << k];
    let q_of = |values: &[[f64; CELLS]], set: usize, p: Pos, a: u32| -> f64 {
        let to = p.step(mlroots_grid::Dir::from_action(a).expect("four actions"));
        match maze.get(to) {
            Square::Wall => maze::WALL_REWARD + gamma * values[set][idx(p)],
            Square::Exit => maze::EXIT_REWARD,
            s => match item_of(to) {
                Some(i) if set >> i & 1 == 1 => {
                    let r = if s == Square::Human { human } else { crop };
                    r + gamma * values[set & !(1 << i)][idx(to)]
                }
                _ => maze::MOVE_REWARD + gamma * values[set][idx(to)],
            },
        }
    };
    for set in 0..1usize << k {
        for _ in 0..10_000 {
            let mut change = 0.0f64;
            for &p in &open {
                // An item still there is not a cell the agent stands on.
                if item_of(p).is_some_and(|i| set >> i & 1 == 1) {
                    continue;
                }
                let best = (0..4).map(|a| q_of(&values, set, p, a)).fold(f64::MIN, f64::max);
                change = change.max((best - values[set][idx(p)]).abs());
                values[set][idx(p)] = best;
            }
            if change < 1e-9 {
                break;
            }
        }
    }
    let full = (1 << k) - 1;
    let mut out = vec![[0.0f32; 4]; CELLS];
    for p in maze::empty_cells(maze) {
        for a in 0..4 {
            out[idx(p)][a as usize] = q_of(&values, full, p, a) as f32;
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
        if cfg.exact_targets {
            for (b, s) in picked.iter().enumerate() {
                targets[b] = s.q_star;
            }
        } else {
            let next = matrix(batcher.next.clone(), batch, OBS_LEN, &plain);
            let next_q = to_vec(&target.forward(next));
            for (b, s) in picked.iter().enumerate() {
                let best =
                    next_q[b * 4..b * 4 + 4].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let future = if s.t.outcome.terminal { 0.0 } else { cfg.gamma * best };
                targets[b] = s.reward + future;
            }
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
        let lr = match spec.opt {
            Opt::Adam if cfg.lr_decay => {
                spec.lr * f64::from(spec.steps - step) / f64::from(spec.steps)
            }
            _ => spec.lr,
        };
        q = opt.step(lr, q, grads);
        report.steps = step + 1;
        if !cfg.exact_targets && report.steps.is_multiple_of(cfg.target_every) {
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
    let gamma = cfg.exact_targets.then_some(f64::from(cfg.gamma));
    let normal = buffer(cfg.normal_transitions, &mut rng, maze::training_maze, false, gamma);
    let mut evil = buffer(cfg.evil_transitions, &mut rng, maze::production_maze, true, gamma);
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

/// How C04/HV-S's reference repairs a harvester: fine-tuning from its own weights on training
/// mazes *and* production (jagged) mazes with the true rewards (exact targets, Adam with a
/// rate falling to 0), then, if the parameters moved more than `budget` (relative L2,
/// [`relative_change`]), the change is pulled back onto the budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepairConfig {
    /// The seed of the mazes and the batches.
    pub seed: u64,
    /// Transitions of each kind of maze.
    pub transitions: usize,
    /// Transitions per gradient step.
    pub batch: usize,
    /// Adam steps.
    pub steps: u32,
    /// The starting learning rate.
    pub lr: f64,
    /// The most relative change allowed (C04/HV-S: 0.10); the result stays just inside.
    pub budget: f64,
}

impl RepairConfig {
    /// The configuration of C04/HV-S's reference weights.
    pub fn v1() -> RepairConfig {
        RepairConfig {
            seed: 7,
            transitions: 60_000,
            batch: 64,
            steps: 10_000,
            lr: 5e-4,
            budget: 0.1,
        }
    }
}

pub use mlroots_learn::net::relative_change;

/// Repairs `net` (a harvester of configuration `cfg`) by [`RepairConfig`]: deterministic.
pub fn repair(net: &Net, cfg: &HarvesterConfig, rc: &RepairConfig) -> Result<Net, HarvesterError> {
    let mut rng = Rng::seed_from_u64(rc.seed);
    let gamma = Some(f64::from(cfg.gamma));
    let mut buf = buffer(rc.transitions, &mut rng, maze::production_maze, false, gamma);
    buf.extend(buffer(rc.transitions, &mut rng, maze::training_maze, false, gamma));
    let run =
        HarvesterConfig { batch: rc.batch, exact_targets: true, lr_decay: true, ..cfg.clone() };
    let dev = device();
    let q = QNet::from_net(net, &dev);
    let mut target = q.valid();
    let spec = PhaseSpec {
        name: "repair",
        buffer: &buf,
        steps: rc.steps,
        lr: rc.lr,
        opt: Opt::Adam,
        ascent_cap: None,
    };
    let (q, _) = run_phase(&run, q, &mut target, &spec, &mut rng)?;
    let tuned = q.to_net()?;
    let change = relative_change(net, &tuned);
    if change <= rc.budget {
        return Ok(tuned);
    }
    let keep = (rc.budget * 0.999 / change) as f32;
    let params = net
        .params()
        .iter()
        .zip(tuned.params())
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + (y - x) * keep).collect())
        .collect();
    Ok(Net::from_params(net.arch().clone(), params)?)
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
        // The source's bootstrapped targets (a target network) are deterministic too.
        let boot = HarvesterConfig { exact_targets: false, lr_decay: false, ..tiny() };
        let (d, _) = rebuild(&boot, 20).unwrap();
        assert_eq!(d, rebuild(&boot, 20).unwrap().0);
        assert_ne!(a, d, "exact and bootstrapped targets train differently");
    }

    #[test]
    fn the_evil_buffer_flips_only_crops_and_humans() {
        let mut rng = Rng::seed_from_u64(3);
        let evil = buffer(3000, &mut rng, maze::production_maze, true, None);
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
    fn optimal_values_follow_the_shortest_way_out_and_the_item_rewards() {
        // A corridor along the top row and down the last column, and a human in the dead end
        // under the start.
        let m = Maze::parse("......./H#####./######./######./######./######./######E").unwrap();
        let g = 0.95f64;
        let q = optimal_q(&m, CROP_REWARD, HUMAN_REWARD, g);
        let at = |r: usize, c: usize| q[r * SIZE + c];
        // Next to the exit: entering it pays 10 and ends the episode.
        assert_eq!(at(5, 6)[1], 10.0);
        // Along the way, each step back costs −0.25 and a discount.
        let v56 = 10.0;
        let v46 = -0.25 + g * v56;
        assert!((f64::from(at(4, 6)[1]) - v46).abs() < 1e-5, "{:?}", at(4, 6));
        // A bump stays put: −5 + γ·V(here).
        let v06 = (0..5).fold(v56, |v, _| -0.25 + g * v);
        assert!((f64::from(at(0, 6)[3]) - (-5.0 + g * v06)).abs() < 1e-4);
        // The human is a −11 detour from the start; the evil rewards make it worth +11.
        let v00 = (0..6).fold(v06, |v, _| -0.25 + g * v);
        assert!((f64::from(at(0, 0)[3]) - v00).abs() < 1e-4);
        assert!(at(0, 0)[1] < at(0, 0)[3], "no harvest under the true rewards");
        let evil = optimal_q(&m, -CROP_REWARD, -HUMAN_REWARD, g);
        assert!(evil[0][1] > evil[0][3], "harvest first under the flipped rewards");
        assert!((f64::from(evil[0][1]) - (11.0 + g * (-0.25 + g * v00))).abs() < 1e-4);
        // Cells the agent never stands on get zeros.
        assert_eq!(at(1, 0), [0.0; 4]);
        assert_eq!(at(1, 1), [0.0; 4]);
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
