//! The DQN benchmark workload, in one place so that criterion (`benches/dqn.rs`) and the
//! CPU-time runner (`examples/dqn_steps.rs`, driven by `bench/dqn_compare.py`) time the same
//! steps that `bench/dqn_torch.py` runs in PyTorch: the MLP 161→256→256→4 (the
//! crops-and-humans input) at batch 64, on one fixed seeded batch.

use mlroots_env::Rng;
use mlroots_learn::net::{Activation, Arch, Net};

use crate::nn::{AdamSettings, QTrainer, TdLoss};

const BATCH: usize = 64;
const INPUTS: usize = 161;
const ACTIONS: usize = 4;

/// A trainer and the batch it trains on.
pub struct DqnBench {
    trainer: QTrainer,
    obs: Vec<f32>,
    next: Vec<f32>,
    actions: Vec<u32>,
    rewards: Vec<f32>,
}

impl Default for DqnBench {
    fn default() -> Self {
        DqnBench::new()
    }
}

impl DqnBench {
    /// The network from seed 0 and a batch of binary observations.
    pub fn new() -> DqnBench {
        let arch = Arch::Mlp {
            inputs: INPUTS,
            hidden: vec![256, 256],
            outputs: ACTIONS,
            activation: Activation::Relu,
        };
        let mut rng = Rng::seed_from_u64(0);
        let net = Net::init(arch, &mut rng).expect("a valid architecture");
        let obs = (0..BATCH * INPUTS).map(|_| rng.below(2) as f32).collect();
        let next = (0..BATCH * INPUTS).map(|_| rng.below(2) as f32).collect();
        let actions = (0..BATCH).map(|_| rng.below(ACTIONS as u32)).collect();
        let rewards = (0..BATCH).map(|_| rng.uniform() as f32).collect();
        let adam = AdamSettings { lr: 1e-4, eps: 1e-8, grad_clip: None };
        DqnBench { trainer: QTrainer::new(&net, adam), obs, next, actions, rewards }
    }

    /// `fit`: forward, squared loss on the taken actions' Q, backward, Adam. Returns the loss.
    pub fn fit(&mut self) -> f32 {
        self.trainer.train_step(&self.obs, &self.actions, &self.rewards, TdLoss::Mse)
    }

    /// `dqn-update`: the target network's forward on the next observations and the max, then
    /// `fit` with the Huber loss (one DQN gradient step, replay sampling excluded).
    pub fn update(&mut self) -> f32 {
        let q = self.trainer.target_values(&self.next, BATCH);
        let targets: Vec<f32> = (0..BATCH)
            .map(|k| {
                let best =
                    q[k * ACTIONS..(k + 1) * ACTIONS].iter().copied().fold(f32::MIN, f32::max);
                self.rewards[k] + 0.99 * best
            })
            .collect();
        self.trainer.train_step(&self.obs, &self.actions, &targets, TdLoss::Huber)
    }
}
