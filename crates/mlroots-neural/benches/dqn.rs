//! Train steps per second of DQN's network on one core: the MLP 161→256→256→4 (the
//! crops-and-humans input) at batch 64, as `bench/dqn_torch.py` runs the same network and loop
//! in PyTorch. Two workloads, in both:
//! * `fit`: forward, squared loss on the taken actions' Q, backward, Adam;
//! * `dqn-update`: the target network's forward on the next observations and the max, then
//!   `fit` with the Huber loss (one DQN gradient step, replay sampling excluded).
//!
//! `cargo bench -p mlroots-neural --bench dqn`.
//!
//! mimalloc is the global allocator here as in the `mlroots` binary that trains: burn allocates
//! a tensor per operation, and glibc's malloc returns large blocks to the kernel, so every
//! step pays page faults that the real training loop does not.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlroots_env::Rng;
use mlroots_learn::net::{Activation, Arch, Net};
use mlroots_neural::nn::{AdamSettings, QTrainer, TdLoss};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 64;
const INPUTS: usize = 161;
const ACTIONS: usize = 4;

fn dqn(c: &mut Criterion) {
    let arch = Arch::Mlp {
        inputs: INPUTS,
        hidden: vec![256, 256],
        outputs: ACTIONS,
        activation: Activation::Relu,
    };
    let mut rng = Rng::seed_from_u64(0);
    let net = Net::init(arch, &mut rng).unwrap();
    let obs: Vec<f32> = (0..BATCH * INPUTS).map(|_| rng.below(2) as f32).collect();
    let next: Vec<f32> = (0..BATCH * INPUTS).map(|_| rng.below(2) as f32).collect();
    let actions: Vec<u32> = (0..BATCH).map(|_| rng.below(ACTIONS as u32)).collect();
    let rewards: Vec<f32> = (0..BATCH).map(|_| rng.uniform() as f32).collect();
    let adam = AdamSettings { lr: 1e-4, eps: 1e-8, grad_clip: None };

    let mut group = c.benchmark_group("dqn-mlp-161-256-256-4-batch64");
    group.throughput(Throughput::Elements(1));
    let mut t = QTrainer::new(&net, adam);
    group.bench_function("fit", |b| {
        b.iter(|| black_box(t.train_step(&obs, &actions, &rewards, TdLoss::Mse)))
    });
    let mut t = QTrainer::new(&net, adam);
    group.bench_function("dqn-update", |b| {
        b.iter(|| {
            let q = t.target_values(&next, BATCH);
            let targets: Vec<f32> = (0..BATCH)
                .map(|k| {
                    let best =
                        q[k * ACTIONS..(k + 1) * ACTIONS].iter().copied().fold(f32::MIN, f32::max);
                    rewards[k] + 0.99 * best
                })
                .collect();
            black_box(t.train_step(&obs, &actions, &targets, TdLoss::Huber))
        })
    });
    group.finish();
}

criterion_group!(benches, dqn);
criterion_main!(benches);
