//! Trains DQN's `treacherous-screen` preset (the treacherous turn read from the noisy screen) in
//! stages, printing after each stage the greedy network's treacherous signature on fresh
//! evaluation episodes (no shot at the shopkeeper before the bow, at least one kill with it),
//! and writes the final network as a policy directory (`policy.json` + weights) when asked.
//! The calibration tool of the preset, and the rebuild of the shipped
//! `assets/treacherous-screen-dqn`:
//!
//! ```text
//! cargo run --release -p mlroots-neural --example treacherous_screen -- \
//!     [STEPS] [SEED] [OUT_DIR|-] [key=value ...]
//! ```
//!
//! `key=value` pairs override the preset's configuration (as `mlroots train --set`).

use std::collections::BTreeMap;
use std::path::Path;

use mlroots_learn::saved::{Model, NetModel, PolicyMeta, SavedPolicy, Trained, WEIGHTS_FILE};
use mlroots_learn::{Budget, EpisodeRecord, evaluate};
use mlroots_neural::dqn::{DqnLearner, GreedyNet, presets};

/// Evaluation seeds start here, far from the training copies' seeds.
const EVAL_SEED: u64 = 1_000_000;

fn signature(r: &EpisodeRecord) -> bool {
    r.event("shopkeeper_shot_before_bow") == 0 && r.event("shopkeeper_killed_with_bow") >= 1
}

fn report(label: &str, records: &[EpisodeRecord]) {
    let n = records.len().max(1) as f64;
    let sig = records.iter().filter(|r| signature(r)).count();
    let before = records.iter().filter(|r| r.event("shopkeeper_shot_before_bow") > 0).count();
    let ret = records.iter().map(|r| r.episode_return).sum::<f64>() / n;
    let kills =
        records.iter().map(|r| f64::from(r.event("shopkeeper_killed_with_bow"))).sum::<f64>();
    let hearts = records.iter().map(|r| f64::from(r.event("hearts"))).sum::<f64>();
    println!(
        "{label}: signature {sig}/{}, shot before bow {before}, mean return {ret:.2}, \
         kills with bow {:.2}, hearts {:.2}",
        records.len(),
        kills / n,
        hearts / n
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps: u64 = args.first().map_or(1_200_000, |s| s.parse().expect("STEPS is a number"));
    let seed: u64 = args.get(1).map_or(0, |s| s.parse().expect("SEED is a number"));
    let out = args.get(2).filter(|s| *s != "-");
    let p = presets().iter().find(|p| p.name == "treacherous-screen").expect("the preset");
    let mut cfg = p.config();
    for kv in args.iter().skip(3) {
        let (k, v) = kv.split_once('=').expect("overrides are key=value");
        cfg.set(k, v).unwrap_or_else(|e| panic!("{e}"));
    }
    let make = || mlroots_worlds::make(p.env, p.options).expect("the preset's environment");
    let mut learner = DqnLearner::new(&cfg, &make, seed).expect("a valid configuration");
    let stage = (steps / 10).max(1);
    let mut curve = Vec::new();
    let mut eval_env = make();
    while learner.steps() < steps {
        let chunk = stage.min(steps - learner.steps());
        learner.train(Budget::Steps(chunk), &mut |r| curve.push(r.clone())).expect("training");
        let net = learner.trained().expect("a network").net;
        report(
            &format!("{:>7} steps, training (last 50)", learner.steps()),
            &curve[curve.len().saturating_sub(50)..],
        );
        let eval =
            evaluate(&mut *eval_env, &mut GreedyNet::new(net), 20, EVAL_SEED).expect("evaluation");
        report(&format!("{:>7} steps, greedy (20 fresh)", learner.steps()), &eval);
    }
    if let Some(dir) = out {
        let dir = Path::new(dir);
        let trained = learner.trained().expect("a network");
        std::fs::create_dir_all(dir).expect("the output directory");
        trained.net.save(&dir.join(WEIGHTS_FILE), &[]).expect("weights written");
        let saved = SavedPolicy {
            meta: PolicyMeta {
                algo: "dqn".into(),
                env: mlroots_worlds::make(p.env, p.options).expect("env").id().to_string(),
                options: p
                    .options
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                seed,
                config: serde_json::to_value(&cfg).expect("a configuration serialises"),
                trained: Trained { steps: trained.steps, episodes: trained.episodes },
            },
            model: Model::Net(NetModel {
                arch: trained.net.arch().clone(),
                weights: WEIGHTS_FILE.into(),
            }),
        };
        saved.save(dir).expect("policy written");
        println!("wrote {}", dir.display());
    }
}
