//! Mazes generated per second by the crops-and-humans generators, and the exhaustive
//! transitions of one maze (what a replay buffer is built from), on one core
//! (`cargo bench -p mlroots-worlds --bench mazes`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlroots_env::Rng;
use mlroots_worlds::crops_humans::maze::{self, OBS_LEN};

fn mazes(c: &mut Criterion) {
    let mut group = c.benchmark_group("crops-humans-mazes");
    group.throughput(Throughput::Elements(1));
    let mut rng = Rng::seed_from_u64(0);
    group.bench_function("training", |b| b.iter(|| black_box(maze::training_maze(&mut rng))));
    group.bench_function("production", |b| b.iter(|| black_box(maze::production_maze(&mut rng))));
    group.bench_function("predicate", |b| {
        let m = maze::training_maze(&mut rng);
        b.iter(|| black_box(maze::could_come_from_training_generator(black_box(&m))))
    });
    group.finish();

    // One maze's transitions with both observations written: about 25 empty cells x 4 moves.
    let mut group = c.benchmark_group("crops-humans-transitions");
    let m = maze::training_maze(&mut rng);
    group.throughput(Throughput::Elements(maze::transitions(&m).count() as u64));
    group.bench_function("training-maze", |b| {
        let (mut s, mut n) = ([0.0f32; OBS_LEN], [0.0f32; OBS_LEN]);
        b.iter(|| {
            for t in maze::transitions(black_box(&m)) {
                t.observe(&mut s);
                t.observe_next(&mut n);
                black_box((&s, &n, t.outcome.reward));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, mazes);
criterion_main!(benches);
