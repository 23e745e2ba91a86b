//! Runs a fixed number of DQN train steps of `benches/dqn.rs`'s workloads (the MLP
//! 161→256→256→4 at batch 64, the same data) and nothing else, so that a caller can time the
//! process's CPU time: on a loaded machine, CPU time is what compares with PyTorch's
//! (`bench/dqn_compare.py` alternates both and prints the ratio).
//!
//! ```text
//! cargo run --release -p mlroots-neural --example dqn_steps -- fit|dqn-update STEPS
//! ```

use std::hint::black_box;

use mlroots_env::Rng;
use mlroots_learn::net::{Activation, Arch, Net};
use mlroots_neural::nn::{AdamSettings, QTrainer, TdLoss};

// As in the `mlroots` binary that trains (burn allocates a tensor per operation).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 64;
const INPUTS: usize = 161;
const ACTIONS: usize = 4;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (workload, steps) = match (args.first(), args.get(1).and_then(|s| s.parse::<u64>().ok())) {
        (Some(w), Some(n)) if w == "fit" || w == "dqn-update" => (w.clone(), n),
        _ => {
            eprintln!("usage: dqn_steps fit|dqn-update STEPS");
            std::process::exit(2);
        }
    };
    let arch = Arch::Mlp {
        inputs: INPUTS,
        hidden: vec![256, 256],
        outputs: ACTIONS,
        activation: Activation::Relu,
    };
    let mut rng = Rng::seed_from_u64(0);
    let net = Net::init(arch, &mut rng).expect("a valid arch");
    let obs: Vec<f32> = (0..BATCH * INPUTS).map(|_| rng.below(2) as f32).collect();
    let next: Vec<f32> = (0..BATCH * INPUTS).map(|_| rng.below(2) as f32).collect();
    let actions: Vec<u32> = (0..BATCH).map(|_| rng.below(ACTIONS as u32)).collect();
    let rewards: Vec<f32> = (0..BATCH).map(|_| rng.uniform() as f32).collect();
    let adam = AdamSettings { lr: 1e-4, eps: 1e-8, grad_clip: None };
    let mut t = QTrainer::new(&net, adam);
    for _ in 0..steps {
        if workload == "fit" {
            black_box(t.train_step(&obs, &actions, &rewards, TdLoss::Mse));
        } else {
            let q = t.target_values(&next, BATCH);
            let targets: Vec<f32> = (0..BATCH)
                .map(|k| {
                    let best =
                        q[k * ACTIONS..(k + 1) * ACTIONS].iter().copied().fold(f32::MIN, f32::max);
                    rewards[k] + 0.99 * best
                })
                .collect();
            black_box(t.train_step(&obs, &actions, &targets, TdLoss::Huber));
        }
    }
}
