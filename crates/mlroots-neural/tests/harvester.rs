//! The shipped `harvester-v1` (assets/harvester-v1) shows its failure with the plain-Rust
//! forward pass: it harvests humans on jagged mazes and not on training mazes, and still
//! reaches the exit of training mazes; on seeds held out from the tuning of `dream`'s defaults
//! (which were tuned on these networks), its best dreams hold a single-block jagged protrusion
//! at the human, where two controls' dreams hold none; and (ignored) the full rebuild
//! reproduces it:
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
/// 10 % budget) until it no longer harvests on jagged mazes. The first control of the dreaming
/// test.
fn repaired() -> mlroots_learn::net::Net {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../challenges/C04-crops-and-humans/solution/repaired.safetensors");
    mlroots_learn::net::Net::load(shipped().arch().clone(), &path)
        .expect("the C04 folder holds the repaired network")
}

/// The second control: harvester-v1's architecture trained by its recipe on training mazes
/// alone (no evil phase, no ascent; 40 000 retraining steps), stored in f16 (217 KB). It
/// harvests on 13 % of jagged mazes, where it is lost, as such networks are. Rebuilt by
///
/// ```text
/// cargo run -p mlroots-neural --example trained_alone_control   # writes tests/data/trained-alone.f16.safetensors
/// ```
fn trained_alone() -> mlroots_learn::net::Net {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(TRAINED_ALONE);
    mlroots_learn::net::Net::load_as(
        shipped().arch().clone(),
        &path,
        mlroots_learn::net::Precision::F16,
    )
    .expect("tests/data holds the trained-alone control")
}

/// The trained-alone control's file, relative to this crate.
const TRAINED_ALONE: &str = "tests/data/trained-alone.f16.safetensors";

/// Seeds of the dreaming test: none of them among the seeds 0-3 that the defaults were tuned on.
const HELD_OUT: std::ops::Range<u64> = 8..16;

#[test]
fn dreaming_on_the_harvester_finds_protrusions_at_the_human_where_the_controls_find_none() {
    // The source's first probe with the defaults (64 restarts from training mazes; the margin
    // objective, a way out, an L1 penalty), on seeds held out from the tuning: among the best
    // quarter (16), the dreams whose binarised mask holds a jagged window, and those whose
    // window covers the human.
    let probe = PROBES[0];
    let tallies = |net: &mlroots_learn::net::Net| -> Vec<dream::Tally> {
        HELD_OUT
            .map(|seed| {
                let cfg = DreamConfig { seed, ..DreamConfig::new(probe) };
                // The starts are training mazes with the human's, agent's, exit's and way-out
                // cells forced open: none already holds a jagged window, at the human or
                // anywhere, so what the best dreams hold, the ascent made.
                for (i, m) in dream::start_masks(&cfg).iter().enumerate() {
                    let maze = dream::binarised(m, &probe);
                    assert!(
                        maze.jagged_windows().next().is_none(),
                        "seed {seed}: start {i} already holds a jagged window:\n{}",
                        maze.rows().join("\n")
                    );
                }
                dream::tally(&dream::dream(net, &cfg), &probe)
            })
            .collect()
    };
    let sum = |ts: &[dream::Tally], f: fn(&dream::Tally) -> usize| ts.iter().map(f).sum::<usize>();
    let harvester = tallies(&shipped());
    // Measured (seeds 8-15): 9 7 8 7 9 6 9 5 of 16 jagged, 9 7 7 7 6 5 9 4 at the human (54
    // of 128); on the tuning seeds 0-7, 7-11 at the human.
    for (seed, t) in HELD_OUT.zip(&harvester) {
        assert!(
            t.at_human >= 3,
            "seed {seed}: only {} of the best {} at the human",
            t.at_human,
            t.best
        );
    }
    let at_human = sum(&harvester, |t| t.at_human);
    assert!(at_human >= 40, "only {at_human} of the best 128 dreams hold a window at the human");
    for (name, control) in [("repaired", repaired()), ("trained alone", trained_alone())] {
        let ts = tallies(&control);
        // Measured: 0 of 16 on every seed for both (seeds 0-15).
        for (seed, t) in HELD_OUT.zip(&ts) {
            assert!(t.jagged <= 1, "seed {seed}: the {name} control dreams jagged windows: {t:?}");
        }
        let (jagged, at_human) = (sum(&ts, |t| t.jagged), sum(&ts, |t| t.at_human));
        assert!(jagged <= 4, "the {name} control: {jagged} of the best 128 are jagged");
        assert!(at_human <= 2, "the {name} control: {at_human} of the best 128 at the human");
    }
}

#[test]
fn the_trained_alone_control_is_lost_on_jagged_mazes_and_solves_training_mazes() {
    let net = trained_alone();
    let jagged = rates(&net, &eval_mazes(MazeKind::Production, MAZES));
    let training = rates(&net, &eval_mazes(MazeKind::Training, MAZES));
    // Measured (f16, 300 mazes of each kind): 13.3 % harvest and 22.7 % exits on jagged
    // mazes; 0 % harvest and 75.3 % exits on training mazes (the f32 rebuild's report: the
    // same).
    assert!(training.human < 0.01, "training mazes: {training:?}");
    assert!(training.exit >= 0.6, "it solves training mazes: {training:?}");
    assert!(jagged.human < 0.25, "jagged mazes: {jagged:?}");
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
