//! Dreams on a saved crops-and-humans network (default `assets/harvester-v1`): for each of the
//! source's two probes, prints the best dreamed wall mask as a 7×7 heat map and how many of
//! the best quarter of the restarts show a single-block jagged protrusion.
//!
//! ```text
//! cargo run --release -p mlroots-neural --example dream_harvester [DIR] [RESTARTS]
//! ```

use std::path::PathBuf;

use mlroots_neural::dream::{self, DreamConfig, PROBES};
use mlroots_neural::harvester;
use mlroots_worlds::crops_humans::maze::SIZE;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("assets").join(harvester::ID), PathBuf::from);
    let restarts = std::env::args().nth(2).and_then(|r| r.parse().ok()).unwrap_or(16);
    let net = harvester::load(&dir).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });
    if !dream::fits(&net) {
        eprintln!("error: {} is not a 161-input, 4-output network", dir.display());
        std::process::exit(1);
    }
    for (i, probe) in PROBES.iter().enumerate() {
        let dreams = dream::dream(&net, &DreamConfig { restarts, ..DreamConfig::new(*probe) });
        let top = &dreams[..dreams.len().div_ceil(4)];
        let jagged = top.iter().filter(|d| d.is_jagged(probe)).count();
        println!(
            "probe {}: best objective {:.2}; jagged in {jagged} of the best {}",
            i + 1,
            dreams[0].score,
            top.len()
        );
        for r in 0..SIZE {
            let row: String = (0..SIZE)
                .map(|c| {
                    [' ', '.', ':', '+', '#']
                        [((dreams[0].mask[r * SIZE + c] * 5.0) as usize).min(4)]
                })
                .collect();
            println!("  |{row}|");
        }
        for row in dreams[0].maze(probe).rows() {
            println!("  {row}");
        }
    }
}
