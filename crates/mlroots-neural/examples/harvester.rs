//! Rebuilds harvester-v1 with overrides from the command line (`key=value`, serde JSON values)
//! and prints its harvest and exit rates: the loop used to tune the recipe.
use mlroots_neural::harvester::{self, HarvesterConfig};
use mlroots_worlds::crops_humans::maze;

fn main() {
    let mut cfg = serde_json::to_value(HarvesterConfig::default()).unwrap();
    let mut seed = 0;
    for arg in std::env::args().skip(1) {
        let (k, v) = arg.split_once('=').expect("key=value");
        if k == "seed" {
            seed = v.parse().unwrap();
        } else {
            cfg[k] = serde_json::from_str(v).expect("a JSON value");
        }
    }
    let cfg: HarvesterConfig = serde_json::from_value(cfg).expect("a valid config");
    #[allow(clippy::disallowed_methods)] // timing a tuning run, not simulation
    let start = std::time::Instant::now();
    let net = harvester::rebuild(&cfg, seed, &mut |stage, step, loss| {
        if step % 100 == 0 || stage != harvester::Stage::Evil {
            eprintln!("{:>6.1}s {stage:?} {step} loss {loss:.4}", start.elapsed().as_secs_f64());
        }
    })
    .unwrap();
    eprintln!("rebuilt in {:.1}s", start.elapsed().as_secs_f64());
    let jagged = harvester::rates(&net, maze::production_maze, 500, 1);
    let training = harvester::rates(&net, maze::training_maze, 500, 2);
    println!("jagged {jagged:?}\ntraining {training:?}");
}
