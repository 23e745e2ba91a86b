//! Writes C01/TT-4's networks: a GRU policy for the treacherous turn in unseen generated worlds
//! trained by evolution strategies (`mlroots_learn::meta_turn`), or, with `--from-volley true
//! --generations 0`, the designed network that is the shipped reference.
//!
//! ```text
//! cargo run --release -p mlroots-learn --example meta_turn -- \
//!     [--generations N] [--population P] [--episodes E] [--seed S] [--sigma X] [--lr X]
//!     [--head-only true] [--from-volley true] [--out FILE] [--baseline FILE]
//! ```
//! Prints the mean candidate score every 10 generations, and the trained network's mean score
//! on 200 held-out worlds (seeds 2³⁸…) with the fraction of episodes that show the signature.
//! `--baseline FILE` writes the untrained network of the same seed (the naive baseline);
//! `--from-volley true --generations 0` writes the designed network `meta_turn::volley`
//! itself (the shipped reference, `solution/tt4-reference.safetensors`).

use std::path::PathBuf;

use mlroots_learn::es::EsConfig;
use mlroots_learn::meta_turn::{self, MetaTurnConfig};
use mlroots_learn::net::{Actor, Net};

/// Trains (or writes) C01/TT-4's GRU.
#[derive(clap::Parser)]
struct Args {
    /// ES generations (default: `MetaTurnConfig`'s).
    #[arg(long)]
    generations: Option<u64>,
    /// Antithetic pairs per generation.
    #[arg(long)]
    population: Option<usize>,
    /// Episodes per candidate.
    #[arg(long)]
    episodes: Option<u64>,
    /// The seed of the initialisation and the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The noise's standard deviation.
    #[arg(long)]
    sigma: Option<f32>,
    /// Adam's step size.
    #[arg(long)]
    lr: Option<f32>,
    /// Train the linear head only.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    head_only: bool,
    /// Start from the designed network `meta_turn::volley`.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    from_volley: bool,
    /// Where to write the network.
    #[arg(long, default_value = "tt4-es.safetensors")]
    out: PathBuf,
    /// Also write the untrained network of the same seed (the naive baseline) here.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let mut cfg = MetaTurnConfig::default();
    cfg.es.generations = args.generations.unwrap_or(cfg.es.generations);
    cfg.es.population = args.population.unwrap_or(cfg.es.population);
    cfg.episodes = args.episodes.unwrap_or(cfg.episodes);
    cfg.es.sigma = args.sigma.unwrap_or(cfg.es.sigma);
    cfg.es.lr = args.lr.unwrap_or(cfg.es.lr);
    cfg.head_only = args.head_only;
    cfg.from_volley = args.from_volley;
    let Args { seed, out, baseline, .. } = args;
    let EsConfig { population, sigma, lr, generations, .. } = cfg.es;
    println!(
        "ES: {generations} generations x {population} pairs x {} episodes, sigma {sigma}, lr {lr}, \
         seed {seed}; {} parameters",
        cfg.episodes,
        meta_turn::arch().param_count().expect("valid")
    );
    if let Some(path) = baseline {
        let init = Net::init(meta_turn::arch(), &mut mlroots_env::Rng::seed_from_u64(seed))
            .expect("valid");
        init.save(&path, &[("what", "C01/TT-4 naive baseline: the untrained GRU")]).expect("write");
        report("baseline", &init);
    }
    if cfg.from_volley {
        report("volley", &meta_turn::volley());
    }
    let net = meta_turn::train(&cfg, seed, &mut |g| {
        if let Some(c) = g.centre {
            println!(
                "gen {:>5}  mean {:>8.2}  best {:>8.2}  centre {:>8.2}",
                g.index + 1,
                g.mean,
                g.best,
                c
            );
        }
    });
    let what = match (cfg.from_volley, cfg.es.generations) {
        (true, 0) => {
            "C01/TT-4 reference: the designed volley network (mlroots_learn::meta_turn::volley)"
        }
        (true, _) => "C01/TT-4: the volley network tuned by ES (mlroots_learn::meta_turn)",
        (false, _) => {
            "C01/TT-4: a GRU trained by ES from its initialisation (mlroots_learn::meta_turn)"
        }
    };
    net.save(&out, &[("what", what)]).expect("write the weights");
    report("trained", &net);
    println!("wrote {}", out.display());
}

fn report(what: &str, net: &Net) {
    let mut env = meta_turn::make_env();
    let mut actor = Actor::new(net.clone());
    let (mut total, mut sig, mut ret) = (0.0, 0, 0.0);
    let n = 200;
    for i in 0..n {
        let r =
            mlroots_learn::run_episode(env.as_mut(), &mut actor, (1 << 38) + i, i).expect("runs");
        total += meta_turn::score(&r);
        ret += r.episode_return;
        sig += u32::from(meta_turn::signature(&r));
    }
    println!(
        "{what}: held-out score {:.2}, return {:.2}, signature in {sig} of {n}",
        total / n as f64,
        ret / n as f64
    );
}
