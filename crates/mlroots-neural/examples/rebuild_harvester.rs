//! Rebuilds `harvester-v1` and writes it to `assets/harvester-v1` (or the directory given as
//! the first argument), printing each phase's effect. The same as `mlroots harvester`, without
//! the CLI's build:
//!
//! ```text
//! cargo run --release -p mlroots-neural --example rebuild_harvester [DIR] [JSON fields to change]
//! ```

use std::path::PathBuf;

use mlroots_learn::overrides::with_json;
use mlroots_neural::harvester::{self, HarvesterConfig};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("assets").join(harvester::ID), PathBuf::from);
    // An optional second argument: JSON fields that replace v1's (an experiment).
    let cfg = match std::env::args().nth(2) {
        Some(text) => with_json(&HarvesterConfig::v1(), &text).unwrap_or_else(|e| {
            eprintln!("error: the second argument: {e}");
            std::process::exit(2);
        }),
        None => HarvesterConfig::v1(),
    };
    let (net, report) = match harvester::rebuild(&cfg, 300) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!("{}", serde_json::to_string_pretty(&report).expect("a report serialises"));
    if let Err(e) = harvester::save(&net, &cfg, &dir) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("wrote {}", dir.display());
}
