//! Training steps per second of the tabular learners on one core, each beside the same
//! environment stepped with random actions in the same run (the baseline: the ratio is the
//! learner's overhead). `cargo bench -p mlroots-learn --bench tabular`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlroots_learn::Budget;
use mlroots_learn::tabular::{self, TabularConfig, TabularLearner};

const STEPS: u64 = 100_000;

fn learners(c: &mut Criterion) {
    let mut group = c.benchmark_group("tabular");
    group.throughput(Throughput::Elements(STEPS));
    group.sample_size(10);
    for (env_id, opts) in
        [("treacherous-turn", vec![]), ("absent-supervisor", vec![]), ("whisky-gold", vec![])]
    {
        let mut env = mlroots_worlds::make(env_id, &opts).unwrap();
        group.bench_function(format!("{env_id}/random-steps"), |b| {
            b.iter(|| black_box(mlroots_worlds::bench::random_steps(env.as_mut(), STEPS, 1)))
        });
        for algo in ["q-learning", "sarsa", "dyna-q"] {
            let mut cfg = TabularConfig::for_algorithm(algo, None).unwrap();
            cfg.planning_steps = 5;
            // A learner that has met its states: the steady state of a long run.
            let mut learner = TabularLearner::new(&cfg, env.as_ref(), 0).unwrap();
            learner.train(env.as_mut(), Budget::Steps(STEPS), &mut |_| {}).unwrap();
            group.bench_function(format!("{env_id}/{algo}"), |b| {
                b.iter(|| {
                    learner.train(env.as_mut(), Budget::Steps(STEPS), &mut |_| {}).unwrap();
                    black_box(learner.steps())
                })
            });
        }
    }
    // A whole run from scratch, as `mlroots train` does it: 1M steps of Trazzi's Q-learning.
    group.throughput(Throughput::Elements(1_000_000));
    let mut env = mlroots_worlds::make("treacherous-turn", &[]).unwrap();
    let cfg = TabularConfig::preset("trazzi").unwrap();
    group.bench_function("treacherous-turn/trazzi-1M-from-scratch", |b| {
        b.iter(|| {
            black_box(
                tabular::train(&cfg, env.as_mut(), Budget::Steps(1_000_000), 0, &mut |_| {})
                    .unwrap(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, learners);
criterion_main!(benches);
