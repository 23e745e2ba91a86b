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

fn main() {
    let (mut cfg, mut episodes): (TabularConfig, u64) =
        keys::preset(keys::OPENER_PRESET).expect("the preset counts episodes");
    let mut seed = 0u64;
    let mut eval = 500u64;
    let mut out = PathBuf::from("assets").join(keys::OPENER_ID);
    let mut challenge: Option<PathBuf> = None;
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
            "--eval" => {
                eval = value("--eval").parse().unwrap_or_else(|e| fail(format!("--eval: {e}")))
            }
            "--out" => out = PathBuf::from(value("--out")),
            "--challenge" => challenge = Some(PathBuf::from(value("--challenge"))),
            kv => {
                let (k, v) =
                    kv.split_once('=').unwrap_or_else(|| fail(format!("unknown argument {kv:?}")));
                cfg.set(k, v).unwrap_or_else(|e| fail(e.to_string()));
            }
        }
    }
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
