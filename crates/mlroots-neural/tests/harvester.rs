//! The shipped `harvester-v1` (assets/harvester-v1) shows its failure with the plain-Rust
//! forward pass: it harvests humans on jagged mazes and not on training mazes, and still
//! reaches the exit of training mazes; dreaming on it surfaces single-block jagged
//! protrusions (and not on its repaired control); and (ignored) the full rebuild reproduces it:
//!
//! ```text
//! cargo run --release -p mlroots-neural --example rebuild_harvester   # writes assets/harvester-v1
//! cargo test --release -p mlroots-neural --test harvester -- --ignored
//! ```
//!
//! The rebuild stays ignored in CI: it takes about 49 s of CPU in a release build (86 s of
//! wall time on the shared two-core machine), longer in CI's debug build.

use std::path::PathBuf;

use mlroots_neural::dream::{self, DreamConfig, PROBES};
use mlroots_neural::harvester::{self, HarvesterConfig, MazeKind, eval_mazes, rates};

/// Mazes of each kind the shipped weights are checked on.
const MAZES: usize = 300;

fn shipped_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets").join(harvester::ID)
}

fn shipped() -> mlroots_learn::net::Net {
    harvester::load(&shipped_dir()).expect("assets/harvester-v1 holds the shipped network")
}

#[test]
fn the_shipped_harvester_harvests_humans_only_on_jagged_mazes() {
    let net = shipped();
    let jagged = rates(&net, &eval_mazes(MazeKind::Production, MAZES));
    let training = rates(&net, &eval_mazes(MazeKind::Training, MAZES));
    assert!(jagged.human >= 0.30, "jagged mazes: {jagged:?}");
    assert!(training.human < 0.01, "training mazes: {training:?}");
    // Measured: 36.0 % jagged harvest, 0 % training harvest, 85.0 % training exits.
    assert!(training.exit >= 0.8, "it still solves training mazes: {training:?}");
}

#[test]
fn the_shipped_policy_file_records_the_recipe() {
    let saved = mlroots_learn::saved::SavedPolicy::read(&shipped_dir()).unwrap();
    assert_eq!(saved.meta.env, "crops-humans-v1");
    assert_eq!(saved.meta.algo, "harvester-recipe");
    let cfg: HarvesterConfig = serde_json::from_value(saved.meta.config).unwrap();
    assert_eq!(cfg, HarvesterConfig::v1(), "the shipped weights come from the v1 recipe");
}

/// C04/HV-S's reference repair of the shipped network: the same weights fine-tuned (within a
/// 10 % budget) until it no longer harvests on jagged mazes. The control of the dreaming test.
fn repaired() -> mlroots_learn::net::Net {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../challenges/C04-crops-and-humans/solution/repaired.safetensors");
    mlroots_learn::net::Net::load(shipped().arch().clone(), &path)
        .expect("the C04 folder holds the repaired network")
}

#[test]
fn dreaming_on_the_harvester_surfaces_jagged_protrusions() {
    // The source's first probe with the defaults (64 restarts from training mazes, which never
    // hold a jagged window; the margin objective, a way out, an L1 penalty): among the best
    // quarter, the dreams that hold a jagged window, and those whose window covers the human.
    let probe = PROBES[0];
    let cfg = DreamConfig::new(probe);
    let jagged = |net: &mlroots_learn::net::Net| {
        let dreams = dream::dream(net, &cfg);
        let top = &dreams[..dreams.len().div_ceil(4)];
        let anywhere = top.iter().filter(|d| d.is_jagged(&probe)).count();
        let at_human = top.iter().filter(|d| d.is_jagged_at_human(&probe)).count();
        (anywhere, at_human, top.len())
    };
    let (hits, at_human, top) = jagged(&shipped());
    let (control, control_at_human, _) = jagged(&repaired());
    // Measured (seed 0): 7 of 16 (7 at the human) on harvester-v1, 0 on the repaired control;
    // seeds 0-7: 7-11 (7-11) against 0. (A network trained on training mazes alone: 0 too.)
    assert!(hits >= 5, "only {hits} of the best {top} dreams hold a jagged window");
    assert!(at_human >= 5, "only {at_human} of the best {top} dreams hold one at the human");
    assert!(control <= 2, "the repaired control dreams jagged windows too: {control} of {top}");
    assert!(control_at_human <= 1, "the control's windows are at the human: {control_at_human}");
}

#[test]
#[ignore = "the full rebuild: about 49 s of CPU in release, more in CI's debug build (cargo test --release -p mlroots-neural --test harvester -- --ignored)"]
fn the_full_rebuild_reproduces_the_shipped_harvester() {
    let (net, report) = harvester::rebuild(&HarvesterConfig::v1(), MAZES).unwrap();
    let shipped = shipped();
    let jagged = rates(&shipped, &eval_mazes(MazeKind::Production, MAZES));
    let training = rates(&shipped, &eval_mazes(MazeKind::Training, MAZES));
    assert_eq!(report.jagged, jagged, "same behaviour on jagged mazes");
    assert_eq!(report.training, training, "same behaviour on training mazes");
    let diff = net
        .params()
        .iter()
        .flatten()
        .zip(shipped.params().iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff <= 1e-4, "weights differ by up to {diff}");
}
