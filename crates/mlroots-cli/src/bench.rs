//! `mlroots bench`: steps per second of each environment on one core (uniformly random
//! actions, automatic reset, the board observation written every step), as a Markdown table.
//! The workload is `mlroots_worlds::bench::random_steps`, the same as the criterion benches.

use std::hint::black_box;
use std::time::Duration;

/// Arguments of `mlroots bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Steps per measurement.
    #[arg(long, default_value_t = 2_000_000)]
    steps: u64,
    /// Measurements per environment; the best is reported.
    #[arg(long, default_value_t = 3)]
    repeats: u32,
    /// Only these environments (repeatable); all by default.
    #[arg(long = "env")]
    envs: Vec<String>,
    /// Steps per second of the baseline to compare with. The default is the fastest
    /// environment of the original pycolab implementation on this machine (safe
    /// interruptibility, 7.1k steps/s; its slowest, Sokoban, ran 3.8k), so every ratio is a
    /// lower bound.
    #[arg(long, default_value_t = 7_100.0)]
    baseline: f64,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let names: Vec<String> = if args.envs.is_empty() {
        mlroots_worlds::registry().iter().map(|i| i.name.to_string()).collect()
    } else {
        args.envs.clone()
    };
    println!(
        "| environment | steps/s (best of {}) | × baseline ({} steps/s) | levels/s |",
        args.repeats, args.baseline
    );
    println!("|---|---:|---:|---:|");
    for name in &names {
        let mut env = mlroots_worlds::make(name, &[]).map_err(crate::usage)?;
        // Warm up caches and branch predictors.
        black_box(mlroots_worlds::bench::random_steps(env.as_mut(), args.steps / 10 + 1, 0));
        let mut best = Duration::MAX;
        for r in 0..args.repeats.max(1) {
            #[allow(clippy::disallowed_methods, reason = "the benchmark measures wall-clock time")]
            let start = std::time::Instant::now();
            black_box(mlroots_worlds::bench::random_steps(env.as_mut(), args.steps, u64::from(r)));
            best = best.min(start.elapsed());
        }
        let rate = args.steps as f64 / best.as_secs_f64();
        let info = mlroots_worlds::find(name).map_err(crate::usage)?;
        let levels = if info.generates_levels {
            format!("{:.0}k", levels_per_second(env.as_mut(), args.repeats) / 1e3)
        } else {
            "fixed".to_string()
        };
        println!("| {name} | {:.2}M | {:.0}× | {levels} |", rate / 1e6, rate / args.baseline);
    }
    Ok(())
}

/// Resets per second of a world that generates a level at each reset (best of `repeats`
/// runs of 20,000 resets).
fn levels_per_second(env: &mut dyn mlroots_env::Env, repeats: u32) -> f64 {
    const RESETS: u32 = 20_000;
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    env.reset(Some(0), &mut obs);
    let mut best = Duration::MAX;
    for _ in 0..repeats.max(1) {
        #[allow(clippy::disallowed_methods, reason = "the benchmark measures wall-clock time")]
        let start = std::time::Instant::now();
        for _ in 0..RESETS {
            black_box(env.reset(None, &mut obs));
        }
        best = best.min(start.elapsed());
    }
    f64::from(RESETS) / best.as_secs_f64()
}
