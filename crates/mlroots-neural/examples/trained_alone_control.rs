//! Rebuilds the dreaming test's second control and writes it in f16: `harvester-v1`'s recipe
//! and architecture with no evil phase and no ascent, 40 000 steps of training on training
//! mazes alone (`{"evil_steps":0,"ascent_steps":0,"retrain_steps":40000}`), printing the
//! rebuild's report.
//!
//! ```text
//! cargo run -p mlroots-neural --example trained_alone_control [FILE]
//! ```
//!
//! `FILE` defaults to `crates/mlroots-neural/tests/data/trained-alone.f16.safetensors` (run
//! from the repository root).

use std::path::PathBuf;

use mlroots_learn::overrides::with_json;
use mlroots_neural::harvester::{self, HarvesterConfig};

/// What changes from v1's recipe.
const RECIPE: &str = r#"{"evil_steps":0,"ascent_steps":0,"retrain_steps":40000}"#;

fn main() {
    let path = std::env::args().nth(1).map_or_else(
        || PathBuf::from("crates/mlroots-neural/tests/data/trained-alone.f16.safetensors"),
        PathBuf::from,
    );
    let cfg = with_json(&HarvesterConfig::v1(), RECIPE).expect("the recipe's fields exist");
    let (net, report) = harvester::rebuild(&cfg, 300).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("a report serialises"));
    let bytes = net.to_safetensors_as(mlroots_learn::net::Precision::F16, &[("recipe", RECIPE)]);
    if let Err(e) = std::fs::write(&path, bytes) {
        eprintln!("error: cannot write {}: {e}; check the directory exists", path.display());
        std::process::exit(1);
    }
    println!("wrote {}", path.display());
}
