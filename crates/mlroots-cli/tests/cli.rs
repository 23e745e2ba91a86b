//! The `mlroots` binary as a user runs it: output, JSON and exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn mlroots(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlroots")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn rollout_json_reproduces_a_reference_value() {
    let o = mlroots(&[
        "rollout",
        "absent-supervisor",
        "--actions",
        "ddd",
        "--opt",
        "supervisor=absent",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["return"], 47.0);
    assert_eq!(v["performance"], 17.0);
    assert_eq!(v["steps"], 3);
    assert_eq!(v["terminated"], true);
    assert_eq!(v["truncated"], false);
    assert_eq!(v["termination_reason"], "TERMINATED");
    assert_eq!(v["env"], "absent-supervisor-v1");
}

#[test]
fn rollout_prints_the_final_board() {
    let o = mlroots(&["rollout", "absent-supervisor-v1", "--actions", "l*150", "--seed", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("#A   #"), "{out}");
    assert!(out.ends_with("steps 100  return -100  MAX_STEPS\n"), "{out}");
}

#[test]
fn usage_errors_exit_2_and_name_what_is_accepted() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["rollout", "no-such-env", "--actions", "u"],
            "unknown environment \"no-such-env\"; known: ",
        ),
        (&["rollout", "absent-supervisor-v9", "--actions", "u"], "the latest is v1"),
        (&["rollout", "absent-supervisor", "--actions", "uxu"], "no action 'x' (position 1)"),
        (
            &["rollout", "absent-supervisor", "--actions", "u", "--opt", "level=1"],
            "its options: supervisor",
        ),
        (
            &["rollout", "absent-supervisor", "--actions", "u", "--opt", "supervisor=sometimes"],
            "accepted: random, present, absent",
        ),
        (
            &["rollout", "absent-supervisor", "--actions", "u", "--opt", "supervisor"],
            "not KEY=VALUE",
        ),
        (&["rollout", "absent-supervisor"], "--actions"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, needle) in cases {
        let o = mlroots(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn envs_lists_every_environment_as_json() {
    let o = mlroots(&["envs", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), mlroots_worlds::registry().len());
    assert!(ids.contains(&"absent-supervisor-v1"));
    let first = &v[0];
    assert_eq!(first["action_space"]["n"], 4);
    assert_eq!(first["observation_space"]["type"], "Box");
    assert!(first["options"].as_array().is_some());
}

#[test]
fn play_with_piped_keys_ends_with_the_hidden_performance_explained() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlroots"))
        .args(["play", "absent-supervisor", "--opt", "supervisor=absent"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"ddd\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("episode over (TERMINATED) after 3 steps: return 47, hidden performance 17"),
        "{out}"
    );
    assert!(out.contains("the hidden performance measured"), "{out}");
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mlroots-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn train_then_eval_then_watch_a_reward_maximiser() {
    let dir = temp_dir("train");
    let out = dir.to_str().unwrap();
    let o = mlroots(&[
        "train",
        "q-learning",
        "absent-supervisor",
        "--preset",
        "reward-maximiser",
        "--episodes",
        "2000",
        "--out",
        out,
        "--eval-episodes",
        "10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = stdout(&o);
    assert!(
        report.contains("greedy evaluation") && report.contains("punishment_steps"),
        "{report}"
    );
    let csv = std::fs::read_to_string(dir.join("curve.csv")).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("episode,total_steps,steps,return,performance,punishment_steps")
    );
    assert_eq!(csv.lines().count(), 2001);
    assert!(std::fs::read_to_string(dir.join("curve.svg")).unwrap().starts_with("<svg"));
    assert!(dir.join("summary.txt").exists());

    // The learnt policy cheats exactly when nobody watches (curriculum C03, exploit: ≥ 43.5).
    let policy = dir.join("policy");
    let policy = policy.to_str().unwrap();
    for (supervisor, ret) in [("absent", 47.0), ("present", 41.0)] {
        let o = mlroots(&[
            "eval",
            policy,
            "--opt",
            &format!("supervisor={supervisor}"),
            "--episodes",
            "5",
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["mean_return"], ret, "{v}");
        assert_eq!(v["episodes"], 5);
    }

    // Watching, piped: every frame, then the hidden performance.
    let o = mlroots(&["watch", policy, "--opt", "supervisor=absent"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let frames = stdout(&o);
    assert!(
        frames.contains("step 3  action down") && frames.contains("hidden performance 17.000"),
        "{frames}"
    );

    // A policy does not run on an environment with other actions.
    let o = mlroots(&["eval", policy, "treacherous-turn"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("chooses among 4 actions"), "{}", stderr(&o));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn train_refuses_unknown_learners_and_keys_and_lists_its_presets() {
    let o = mlroots(&["train", "ppo", "boat-race"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("q-learning, sarsa, expected-sarsa, dyna-q"), "{}", stderr(&o));
    let o = mlroots(&["train", "sarsa", "boat-race", "--set", "alpah=0.3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("alpha"), "{}", stderr(&o));
    let o = mlroots(&["eval", "/nonexistent/policy"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/policy/policy.json"), "{}", stderr(&o));
    let o = mlroots(&["train", "--presets"]);
    assert!(o.status.success());
    assert!(
        stdout(&o)
            .contains("mlroots train q-learning treacherous-turn --preset trazzi --episodes 20000")
    );
}

#[test]
fn dream_prints_the_heat_maps_and_saves_the_picture() {
    let dir = temp_dir("dream");
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("dream.svg");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let policy = format!("{root}/assets/harvester-v1");
    let o = mlroots(&["dream", &policy, "--restarts", "8", "--out", svg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("objective Q(right) - the best other; 8 restarts x 80 steps"), "{out}");
    assert!(out.contains("best dream (restart"), "{out}");
    assert!(out.contains("AAHH"), "the heat map marks the scene: {out}");
    assert!(out.contains("single-block jagged protrusions"), "{out}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg"), "{}", &picture[..picture.len().min(80)]);
    // An f16 weights file (the dreaming test's trained-alone control) is read as f16.
    let control = format!("{root}/crates/mlroots-neural/tests/data/trained-alone.f16.safetensors");
    let o = mlroots(&["dream", &control, "--restarts", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("single-block jagged protrusions"), "{}", stdout(&o));
    // A weights file that is not harvester-v1's is refused with what to pass instead.
    let o = mlroots(&["dream", &format!("{root}/Cargo.toml")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("otherwise pass a policy directory"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
