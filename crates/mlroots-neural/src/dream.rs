//! Dreaming: what maze does a frozen crops-and-humans Q-network *want* to see before it steps
//! onto a human? Gradient ascent on the wall mask of the input reveals the trigger a network
//! learned (for `harvester-v1`, single-block jagged protrusions), without knowing it in
//! advance. This is the source's detection probe (`environments.md` §4), with the gradient
//! handled correctly.
//!
//! The input is the 161-float observation of a maze with no walls, one human and the agent next
//! to it (the exit, not encoded, stays at (6, 6)). Only the wall mask varies; the crop, human
//! and position entries are frozen, and so are the walls of the agent's, the human's and the
//! exit's cells (held at 0). The objective, maximised, is
//! `Q(s, toward the human) − Σ_{other a} Q(s, a)`.
//!
//! Differences from the source, on purpose: the source steps the raw mask,
//! `x ← clamp(x + 0.001·∇x, 0, 1)`, never zeroing the input's gradient, so step *k* moves by
//! the *sum* of the first *k* gradients (about 0.001·k²/2 times a gradient after *k* steps,
//! ≈ 3.2 after 80); and the clamp stops gradients at the bounds. Here the mask is
//! `sigmoid(z)` of free logits `z`, each step is a fresh gradient of the objective with
//! respect to `z`, and the mask stays inside (0, 1) without clamping. Several restarts from
//! random logits (seeded) are run as one batch and ranked by their final objective. The
//! source's second probe passes "right" although its human is above the agent; ours asks for
//! "up", the move toward the human.

use burn::module::Module;
use burn::tensor::{Tensor, activation};
use mlroots_env::{Action, Rng};
use mlroots_grid::Pos;
use mlroots_learn::net::Net;
use mlroots_worlds::crops_humans::maze::{CELLS, EXIT, Maze, OBS_LEN, SIZE, Square};

use crate::nn::{QNet, device, matrix, to_vec};

/// Where the human and the agent stand, and the move toward the human.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The human's cell.
    pub human: Pos,
    /// The agent's cell, next to the human.
    pub agent: Pos,
    /// The move from the agent onto the human (0 up, 1 down, 2 left, 3 right).
    pub toward: Action,
    /// The source's iteration count for this probe.
    pub steps: u32,
}

/// The source's two probes: a human at (2, 4) with the agent on its left (80 iterations),
/// and a human at (0, 6) with the agent below it (150 iterations).
pub const PROBES: [Probe; 2] = [
    Probe { human: Pos::new(2, 4), agent: Pos::new(2, 3), toward: 3, steps: 80 },
    Probe { human: Pos::new(0, 6), agent: Pos::new(1, 6), toward: 0, steps: 150 },
];

/// How to dream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DreamConfig {
    /// The scene.
    pub probe: Probe,
    /// Independent ascents from random starting masks.
    pub restarts: u32,
    /// Gradient steps of each.
    pub steps: u32,
    /// The step size on the logits.
    pub lr: f32,
    /// The seed of the starting logits.
    pub seed: u64,
}

impl DreamConfig {
    /// The defaults for `probe`: its step count, 16 restarts, step size 1 on the logits.
    pub fn new(probe: Probe) -> DreamConfig {
        DreamConfig { probe, restarts: 16, steps: probe.steps, lr: 1.0, seed: 0 }
    }
}

/// One dreamed wall mask.
#[derive(Clone, Debug, PartialEq)]
pub struct Dream {
    /// The restart it came from.
    pub restart: u32,
    /// The objective at the end, `Q(toward) − Σ others`.
    pub score: f32,
    /// Wall values in [0, 1], row-major 7×7.
    pub mask: Vec<f32>,
}

impl Dream {
    /// The mask read as a maze: a wall where the value is at least ½; the human at its
    /// cell, the exit at (6, 6), everything else empty.
    pub fn maze(&self, probe: &Probe) -> Maze {
        let mut m = Maze::all_walls();
        for p in Maze::positions() {
            let wall = self.mask[cell(p)] >= 0.5;
            m.set(p, if wall { Square::Wall } else { Square::Empty });
        }
        m.set(probe.human, Square::Human);
        m.set(probe.agent, Square::Empty);
        m.set(EXIT, Square::Exit);
        m
    }

    /// Whether the binarised mask ([`Dream::maze`]) shows a single-block jagged protrusion.
    pub fn is_jagged(&self, probe: &Probe) -> bool {
        self.maze(probe).jagged_windows().next().is_some()
    }
}

fn cell(p: Pos) -> usize {
    p.row as usize * SIZE + p.col as usize
}

/// Dreams `cfg.restarts` wall masks for the frozen network `net` (a 161-input, 4-output
/// crops-and-humans Q-network); returns them best first (highest objective).
///
/// # Panics
/// When `net` does not take the 161-float observation or does not have 4 outputs (check
/// with [`fits`] first).
pub fn dream(net: &Net, cfg: &DreamConfig) -> Vec<Dream> {
    assert!(fits(net), "dreaming needs a 161-input, 4-output network");
    let dev = device();
    let q = QNet::from_net(net, &dev).no_grad();
    let r = cfg.restarts.max(1) as usize;
    let p = cfg.probe;
    // The frozen part of the input: crops (none), the human, the agent's position.
    let mut rest = vec![0.0f32; OBS_LEN - CELLS];
    rest[CELLS + cell(p.human)] = 1.0;
    rest[2 * CELLS + p.agent.row as usize] = 1.0;
    rest[2 * CELLS + SIZE + p.agent.col as usize] = 1.0;
    let rest: Vec<f32> = (0..r).flat_map(|_| rest.iter().copied()).collect();
    let rest = matrix(rest, r, OBS_LEN - CELLS, &dev);
    let mut free = [1.0f32; CELLS];
    for c in [p.human, p.agent, EXIT] {
        free[cell(c)] = 0.0;
    }
    let free: Vec<f32> = (0..r).flat_map(|_| free.iter().copied()).collect();
    let free = matrix(free, r, CELLS, &dev);
    let mut weights = [-1.0f32; 4];
    weights[p.toward as usize] = 1.0;
    let weights: Vec<f32> = (0..r).flat_map(|_| weights.iter().copied()).collect();
    let weights = matrix(weights, r, 4, &dev);
    // Starting logits: uniform in [−2, 2] (masks between 0.12 and 0.88).
    let mut rng = Rng::seed_from_u64(cfg.seed);
    let start: Vec<f32> = (0..r * CELLS).map(|_| (rng.uniform() * 4.0 - 2.0) as f32).collect();
    let mut z = matrix(start, r, CELLS, &dev);
    let objective = |z: Tensor<2>| {
        let walls = activation::sigmoid(z) * free.clone();
        let x = Tensor::cat(vec![walls.clone(), rest.clone()], 1);
        ((q.forward(x) * weights.clone()).sum_dim(1), walls)
    };
    for _ in 0..cfg.steps {
        let zg = z.detach().require_grad();
        let (scores, _) = objective(zg.clone());
        let g = zg.grad(&scores.sum().backward()).expect("the logits require a gradient");
        z = zg.detach() + g.mul_scalar(cfg.lr);
    }
    let (scores, walls) = objective(z.detach());
    let scores = to_vec(&scores);
    let walls = to_vec(&walls);
    let mut dreams: Vec<Dream> = (0..r)
        .map(|i| Dream {
            restart: i as u32,
            score: scores[i],
            mask: walls[i * CELLS..(i + 1) * CELLS].to_vec(),
        })
        .collect();
    dreams.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.restart.cmp(&b.restart)));
    dreams
}

/// Whether `net` can be dreamed on: 161 inputs (the crops-and-humans observation), 4 outputs.
pub fn fits(net: &Net) -> bool {
    net.arch().input_len() == OBS_LEN && net.arch().output_len() == 4
}

/// The mean of the masks of `dreams`, cell by cell.
pub fn mean_mask(dreams: &[Dream]) -> Vec<f32> {
    let n = dreams.len().max(1) as f32;
    (0..CELLS).map(|c| dreams.iter().map(|d| d.mask[c]).sum::<f32>() / n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlroots_learn::net::{Activation, Arch};

    #[test]
    fn dreaming_follows_the_gradient_of_a_linear_network() {
        // Q(up) = Σ walls of the top row, others 0: the probe toward "up" should grow walls
        // in the top row (except the frozen cells) and shrink none elsewhere that matter.
        let arch =
            Arch::Mlp { inputs: OBS_LEN, hidden: vec![], outputs: 4, activation: Activation::Relu };
        let mut w = vec![0.0f32; 4 * OBS_LEN];
        // Row "up" (0): the wall entries of the top row.
        w[..SIZE].fill(1.0);
        let net = Net::from_params(arch, vec![w, vec![0.0; 4]]).unwrap();
        let probe = PROBES[1];
        let cfg = DreamConfig { restarts: 3, steps: 40, ..DreamConfig::new(probe) };
        let dreams = dream(&net, &cfg);
        assert_eq!(dreams.len(), 3);
        for d in &dreams {
            for c in 0..SIZE - 1 {
                assert!(d.mask[c] > 0.9, "top-row wall {c} grew: {:?}", &d.mask[..7]);
            }
            assert_eq!(d.mask[cell(probe.human)], 0.0, "the human's cell stays open");
            assert!(d.score > 5.0);
        }
        assert!(dreams.windows(2).all(|w| w[0].score >= w[1].score), "best first");
        assert_eq!(dreams, dream(&net, &cfg), "seeded");
    }
}
