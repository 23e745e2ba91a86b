//! Runs a fixed number of DQN train steps of `benches/dqn.rs`'s workloads (the MLP
//! 161→256→256→4 at batch 64, the same data) and nothing else, so that a caller can time the
//! process's CPU time: on a loaded machine, CPU time is what compares with PyTorch's
//! (`bench/dqn_compare.py` alternates both and prints the ratio).
//!
//! ```text
//! cargo run --release -p mlroots-neural --example dqn_steps -- fit|dqn-update STEPS
//! ```

use std::hint::black_box;

use mlroots_neural::bench::DqnBench;

// As in the `mlroots` binary that trains (burn allocates a tensor per operation).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (workload, steps) = match (args.first(), args.get(1).and_then(|s| s.parse::<u64>().ok())) {
        (Some(w), Some(n)) if w == "fit" || w == "dqn-update" => (w.clone(), n),
        _ => {
            eprintln!("usage: dqn_steps fit|dqn-update STEPS");
            std::process::exit(2);
        }
    };
    let mut b = DqnBench::new();
    for _ in 0..steps {
        black_box(if workload == "fit" { b.fit() } else { b.update() });
    }
}
