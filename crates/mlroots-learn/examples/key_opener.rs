//! Trains the safe keys-and-chests reference `ref-q-keys-opener` (C02 KC-S: tabular
//! Q-learning, preset `key-opener`, on the C02 training distribution over `obs=features-held`),
//! prints what its greedy policy does on each of KC-S's evaluation sets, and writes it as a
//! linear network to `assets/ref-q-keys-opener` (or `--out DIR`). With `--challenge DIR` it
//! also writes KC-S's reference and baseline weights into `DIR/solution/`: `opener.safetensors`
//! (these weights) and `hoarder-held.safetensors` (the shipped hoarder `assets/ref-q-keys` on
//! the same observation, ignoring the "holds a key" bit).
//!
//! ```text
//! cargo run --release -p mlroots-learn --example key_opener -- \
//!     [--episodes N] [--seed S] [--out DIR] [--challenge DIR] [--eval N] [KEY=VALUE ...]
//! ```
//!
//! `KEY=VALUE` pairs override the preset's configuration (`alpha=0.1`, `gamma=0.9`).

use std::path::PathBuf;

use mlroots_learn::keys::{self, Greedy};
use mlroots_learn::saved::Trained;
use mlroots_learn::tabular::TabularConfig;

fn fail(msg: String) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}

/// Trains `ref-q-keys-opener`, measures it beside the hoarder, and writes it.
#[derive(clap::Parser)]
struct Args {
    /// Training episodes (default: the preset's).
    #[arg(long)]
    episodes: Option<u64>,
    /// The training seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Greedy episodes per evaluation set.
    #[arg(long, default_value_t = 500)]
    eval: u64,
    /// Where to write the policy.
    #[arg(long, default_value_os_t = PathBuf::from("assets").join(keys::OPENER_ID))]
    out: PathBuf,
    /// Also write KC-S's reference and baseline weights into `DIR/solution/`.
    #[arg(long, value_name = "DIR")]
    challenge: Option<PathBuf>,
    /// Overrides of the preset's configuration, `KEY=VALUE` (`alpha=0.1`).
    #[arg(value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let (mut cfg, preset_episodes): (TabularConfig, u64) =
        keys::preset(keys::OPENER_PRESET).expect("the preset counts episodes");
    for kv in &args.overrides {
        cfg.set_pair(kv).unwrap_or_else(|e| fail(e.to_string()));
    }
    let episodes = args.episodes.unwrap_or(preset_episodes);
    let Args { seed, eval, out, challenge, .. } = args;
    let mut table = keys::train(&cfg, keys::TRAIN_HELD, episodes, seed, &mut |_| {})
        .unwrap_or_else(|e| fail(e.to_string()));
    println!(
        "trained {} episodes, {} steps, {} states",
        table.trained_episodes(),
        table.trained_steps(),
        table.states()
    );
    let net = keys::held_to_net(&mut table).unwrap_or_else(|e| fail(e.to_string()));
    let hoarder = keys::load(&PathBuf::from("assets").join(keys::REFERENCE_ID))
        .and_then(|h| keys::hoarder_held(&h))
        .unwrap_or_else(|e| fail(format!("the hoarder assets/{}: {e}", keys::REFERENCE_ID)));
    for (name, policy) in [("opener", &net), ("hoarder", &hoarder)] {
        let sets = keys::measure_sets(&mut Greedy::new(policy.clone()), eval, keys::EVAL_SEED)
            .unwrap_or_else(|e| fail(e.to_string()));
        println!("{name}, greedy, {eval} episodes per set from seed {}:", keys::EVAL_SEED);
        for (set, e) in &sets {
            println!("  {set:<6} {e}");
        }
        let hidden: Vec<f64> = sets
            .iter()
            .filter(|(s, _)| keys::HIDDEN_SETS.contains(s))
            .map(|(_, e)| e.open_ratio)
            .collect();
        println!("  hidden families' mean open ratio {:.3}", hidden.iter().sum::<f64>() / 4.0);
    }
    let trained = Trained { steps: table.trained_steps(), episodes: table.trained_episodes() };
    keys::save(&net, &cfg, seed, trained, keys::TRAIN_HELD, &out)
        .unwrap_or_else(|e| fail(e.to_string()));
    println!("wrote {}", out.display());
    if let Some(dir) = challenge {
        let solution = dir.join("solution");
        for (file, n) in [("opener.safetensors", &net), ("hoarder-held.safetensors", &hoarder)] {
            let path = solution.join(file);
            n.save(&path, &[]).unwrap_or_else(|e| fail(e.to_string()));
            println!("wrote {}", path.display());
        }
    }
}
