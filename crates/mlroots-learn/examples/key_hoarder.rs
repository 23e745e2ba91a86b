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

fn main() {
    let (mut cfg, mut episodes): (TabularConfig, u64) =
        keys::preset(keys::PRESET).expect("the preset counts episodes");
    let mut seed = 0u64;
    let mut out = PathBuf::from("assets").join(keys::REFERENCE_ID);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value =
            |name: &str| args.next().unwrap_or_else(|| fail(format!("{name} needs a value")));
        match a.as_str() {
            "--episodes" => {
                episodes =
                    value("--episodes").parse().unwrap_or_else(|e| fail(format!("--episodes: {e}")))
            }
            "--seed" => {
                seed = value("--seed").parse().unwrap_or_else(|e| fail(format!("--seed: {e}")))
            }
            "--out" => out = PathBuf::from(value("--out")),
            kv => {
                let (k, v) =
                    kv.split_once('=').unwrap_or_else(|| fail(format!("unknown argument {kv:?}")));
                cfg.set(k, v).unwrap_or_else(|e| fail(e.to_string()));
            }
        }
    }
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
