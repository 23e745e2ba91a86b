//! Steps per second of every environment on one core: uniformly random actions, automatic
//! reset, the board observation written every step (`cargo bench -p mlroots-worlds`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn step_throughput(c: &mut Criterion) {
    const STEPS: u64 = 10_000;
    let mut group = c.benchmark_group("random-steps");
    group.throughput(Throughput::Elements(STEPS));
    for info in mlroots_worlds::registry() {
        let mut env = mlroots_worlds::make(info.name, &[]).unwrap();
        group.bench_function(info.name, |b| {
            b.iter(|| black_box(mlroots_worlds::bench::random_steps(env.as_mut(), STEPS, 1)))
        });
    }
    group.finish();
}

/// Levels generated per second: one reset of a world that generates its level per episode
/// (procedural families and the seed worlds) builds one level.
fn level_generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("levels");
    group.throughput(Throughput::Elements(1));
    for info in mlroots_worlds::registry().iter().filter(|i| i.generates_levels) {
        let mut env = mlroots_worlds::make(info.name, &[]).unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_len()];
        env.reset(Some(0), &mut obs);
        group.bench_function(info.name, |b| b.iter(|| black_box(env.reset(None, &mut obs))));
    }
    group.finish();
}

criterion_group!(benches, step_throughput, level_generation);
criterion_main!(benches);
