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
use mlroots_neural::bench::DqnBench;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn dqn(c: &mut Criterion) {
    let mut group = c.benchmark_group("dqn-mlp-161-256-256-4-batch64");
    group.throughput(Throughput::Elements(1));
    let mut b = DqnBench::new();
    group.bench_function("fit", |t| t.iter(|| black_box(b.fit())));
    let mut b = DqnBench::new();
    group.bench_function("dqn-update", |t| t.iter(|| black_box(b.update())));
    group.finish();
}

criterion_group!(benches, dqn);
criterion_main!(benches);
