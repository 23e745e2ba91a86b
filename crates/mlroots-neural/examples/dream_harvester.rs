//! Dreams on a saved crops-and-humans network (default `assets/harvester-v1`) and on a control
//! (default C04/HV-S's repaired weights; or a policy directory), with the source's form of the
//! probe, each of the changes `mlroots_neural::dream` makes, and its defaults, for both of the
//! source's probes over a few seeds. Prints, for the best quarter of the restarts (and all of
//! them), how many binarised masks hold a single-block jagged window, and how many hold one at
//! the human; then the harvester's best default dream of each probe.
//!
//! ```text
//! cargo run -p mlroots-neural --example dream_harvester [DIR] [CONTROL] [SEEDS]
//! ```
//!
//! With `SEEDS` 4 it prints the table of `mlroots_neural::dream`'s module doc (about 15 s in
//! the debug build). The trained-alone control of that table is
//! `crates/mlroots-neural/tests/data/trained-alone.f16.safetensors` (a file ending in
//! `.f16.safetensors` is read as f16; `examples/trained_alone_control.rs` rebuilds it).

use std::path::{Path, PathBuf};

use mlroots_learn::net::Net;
use mlroots_neural::dream::{self, DreamConfig, Objective, PROBES, Start};
use mlroots_neural::harvester;

fn load(path: &Path, arch: Option<&Net>) -> Net {
    let arch = || arch.map_or_else(|| HARVESTER_ARCH.with(Clone::clone), |n| n.arch().clone());
    let net = if path.is_dir() {
        harvester::load(path).map_err(|e| e.to_string())
    } else if path.to_string_lossy().ends_with(".f16.safetensors") {
        Net::load_as(arch(), path, mlroots_learn::net::Precision::F16).map_err(|e| e.to_string())
    } else {
        Net::load(arch(), path).map_err(|e| e.to_string())
    };
    let net = net.unwrap_or_else(|e| {
        eprintln!("error: {}: {e}", path.display());
        std::process::exit(1);
    });
    if !dream::fits(&net) {
        eprintln!("error: {} is not a 161-input, 4-output network", path.display());
        std::process::exit(1);
    }
    net
}

thread_local! {
    static HARVESTER_ARCH: mlroots_learn::net::Arch = harvester::HarvesterConfig::v1().arch();
}

fn main() {
    let arg = |i: usize| std::env::args().nth(i);
    let dir = arg(1).map_or_else(|| PathBuf::from("assets").join(harvester::ID), PathBuf::from);
    let control = arg(2).map_or_else(
        || PathBuf::from("challenges/C04-crops-and-humans/solution/repaired.safetensors"),
        PathBuf::from,
    );
    let seeds: u64 = arg(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let net = load(&dir, None);
    let control = load(&control, Some(&net));
    for (i, probe) in PROBES.iter().enumerate() {
        let d = DreamConfig::new(*probe);
        let variants = [
            ("source: sum, random starts", DreamConfig::source(*probe)),
            ("sum, way out", DreamConfig { way_out: true, ..DreamConfig::source(*probe) }),
            ("margin, random starts", DreamConfig { start: Start::Random, ..d }),
            ("margin, training starts, no way out", DreamConfig { way_out: false, ..d }),
            ("sum, training starts, way out", DreamConfig { objective: Objective::Sum, ..d }),
            ("defaults", d),
        ];
        println!("probe {} (64 restarts; jagged / at the human, best 16 [all 64]):", i + 1);
        for (name, cfg) in variants {
            let mut line = format!("  {name:<38}");
            for (who, n) in [("harvester", &net), ("control", &control)] {
                line += &format!(" {who}:");
                for seed in 0..seeds {
                    let t = dream::tally(&dream::dream(n, &DreamConfig { seed, ..cfg }), probe);
                    line += &format!(
                        " {}/{} [{}/{}]",
                        t.jagged, t.at_human, t.all_jagged, t.all_at_human
                    );
                }
            }
            println!("{line}");
        }
        let best = &dream::dream(&net, &d)[0];
        println!(
            "  harvester's best default dream (binarised objective {:.2}):",
            best.binary_score
        );
        for row in best.maze(probe).rows() {
            println!("    {row}");
        }
    }
}
