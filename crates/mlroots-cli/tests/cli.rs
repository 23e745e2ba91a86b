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
