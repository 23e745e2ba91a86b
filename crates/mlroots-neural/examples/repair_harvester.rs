//! Repairs the shipped `harvester-v1` by C04/HV-S's reference recipe
//! ([`harvester::RepairConfig::v1`]) and writes the weights (no metadata) to the given file,
//! printing the relative change and the behaviour before and after on fixed maze sets:
//!
//! ```text
//! cargo run --release -p mlroots-neural --example repair_harvester OUT.safetensors [JSON fields]
//! ```

use std::path::PathBuf;

use mlroots_learn::overrides::with_json;
use mlroots_neural::harvester::{self, HarvesterConfig, MazeKind, RepairConfig, eval_mazes, rates};

fn main() {
    let Some(out) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: repair_harvester OUT.safetensors [JSON fields of RepairConfig]");
        std::process::exit(2);
    };
    let rc = match std::env::args().nth(2) {
        Some(text) => with_json(&RepairConfig::v1(), &text).unwrap_or_else(|e| {
            eprintln!("error: the second argument: {e}");
            std::process::exit(2);
        }),
        None => RepairConfig::v1(),
    };
    let dir = PathBuf::from("assets").join(harvester::ID);
    let net = harvester::load(&dir).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    let fixed = harvester::repair(&net, &HarvesterConfig::v1(), &rc).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    let jagged = eval_mazes(MazeKind::Production, 300);
    let training = eval_mazes(MazeKind::Training, 300);
    println!("relative change {:.4}", harvester::relative_change(&net, &fixed));
    for (name, n) in [("shipped", &net), ("repaired", &fixed)] {
        println!("{name}: jagged {:?}", rates(n, &jagged));
        println!("{name}: training {:?}", rates(n, &training));
    }
    if let Err(e) = std::fs::write(&out, fixed.to_safetensors(&[])) {
        eprintln!("error: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
    println!("wrote {}", out.display());
}
