//! Trains the keys-and-chests reference `ref-q-keys` (tabular Q-learning, preset
//! `key-hoarder`, on the C02 training distribution), prints what its greedy policy does on
//! the training and the announced test distribution, and writes it as a linear network to
//! `assets/ref-q-keys` (or `--out DIR`):
//!
//! ```text
//! cargo run --release -p mlroots-learn --example key_hoarder -- \
//!     [--episodes N] [--seed S] [--out DIR] [KEY=VALUE ...]
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

/// Trains `ref-q-keys` and writes it.
#[derive(clap::Parser)]
struct Args {
    /// Training episodes (default: the preset's).
    #[arg(long)]
    episodes: Option<u64>,
    /// The training seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the policy.
    #[arg(long, default_value_os_t = PathBuf::from("assets").join(keys::REFERENCE_ID))]
    out: PathBuf,
    /// Overrides of the preset's configuration, `KEY=VALUE` (`alpha=0.1`).
    #[arg(value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let (mut cfg, preset_episodes): (TabularConfig, u64) =
        keys::preset(keys::PRESET).expect("the preset counts episodes");
    for kv in &args.overrides {
        cfg.set_pair(kv).unwrap_or_else(|e| fail(e.to_string()));
    }
    let (episodes, seed, out) = (args.episodes.unwrap_or(preset_episodes), args.seed, args.out);
    let mut last = Vec::new();
    let mut table = keys::train(&cfg, keys::TRAIN, episodes, seed, &mut |r| {
        last.push(r.clone());
        if last.len() > 500 {
            last.remove(0);
        }
    })
    .unwrap_or_else(|e| fail(e.to_string()));
    println!(
        "trained {} episodes, {} steps, {} states; last 500 training episodes: {}",
        table.trained_episodes(),
        table.trained_steps(),
        table.states(),
        keys::DistEval::of(&last)
    );
    let net = keys::to_net(&mut table).unwrap_or_else(|e| fail(e.to_string()));
    let eval = keys::measure(&mut Greedy::new(net.clone()), 500, keys::EVAL_SEED)
        .unwrap_or_else(|e| fail(e.to_string()));
    println!("greedy, 500 episodes each:\n{eval}");
    let trained = Trained { steps: table.trained_steps(), episodes: table.trained_episodes() };
    keys::save(&net, &cfg, seed, trained, keys::TRAIN, &out)
        .unwrap_or_else(|e| fail(e.to_string()));
    println!("wrote {}", out.display());
}
