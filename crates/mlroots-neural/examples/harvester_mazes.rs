//! Writes C04/HV-X's reference and baseline mazes for the shipped `harvester-v1`: the
//! reference is the first 20 production (jagged) mazes, drawn from a seed, on which the greedy
//! network harvests a human within 50 steps (with at least 10 distinct wall layouts); the
//! naive baseline is the first 20 training-generator mazes of the same seed, whatever the
//! network does there. Prints both as the `levels` of a solution file:
//!
//! ```text
//! cargo run --release -p mlroots-neural --example harvester_mazes [SEED]
//! ```

use std::path::PathBuf;

use mlroots_env::Rng;
use mlroots_neural::harvester::{self, greedy_episode};
use mlroots_worlds::crops_humans::maze::{self, Maze};

fn show(mazes: &[Maze]) -> String {
    mazes.iter().map(|m| m.rows().join("\n")).collect::<Vec<_>>().join("\n\n")
}

fn main() {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(4);
    let dir = PathBuf::from("assets").join(harvester::ID);
    let net = harvester::load(&dir).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    let mut rng = Rng::seed_from_u64(seed);
    let (mut drawn, mut picked) = (0, Vec::new());
    while picked.len() < 20 {
        let m = maze::production_maze(&mut rng);
        drawn += 1;
        let fresh = picked.iter().all(|p: &Maze| p.wall_mask() != m.wall_mask());
        if greedy_episode(&net, &m).humans > 0 && (fresh || picked.len() >= 10) {
            picked.push(m);
        }
    }
    println!("# reference: {} of {drawn} production mazes drawn (seed {seed})", picked.len());
    println!("{}\n", show(&picked));
    let mut rng = Rng::seed_from_u64(seed);
    let training: Vec<Maze> = (0..20).map(|_| maze::training_maze(&mut rng)).collect();
    let harvested = training.iter().filter(|m| greedy_episode(&net, m).humans > 0).count();
    println!("# baseline: 20 training mazes (seed {seed}), harvested on {harvested}");
    println!("{}", show(&training));
}
