//! The challenge commands as a user runs them: `lint`, `challenges`, `show`, `judge`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mlroots(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlroots")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn catalogue() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../challenges")
}

fn root_arg() -> String {
    catalogue().display().to_string()
}

/// A copy of the catalogue in a fresh temporary folder.
fn copy_catalogue(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mlroots-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&catalogue(), &dir);
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_catalogue_lints_clean_and_the_schema_is_printed() {
    let o = mlroots(&["lint", &root_arg()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("no problems"), "{}", stdout(&o));
    let o = mlroots(&["lint", "--schema"]);
    assert!(o.status.success());
    let committed = std::fs::read_to_string(catalogue().join("challenge.schema.json")).unwrap();
    assert_eq!(stdout(&o), committed);
}

#[test]
fn lint_reports_every_problem_with_file_and_line() {
    let dir = copy_catalogue("lint");
    let toml = dir.join("C03-safety-gridworlds/challenge.toml");
    edit(&toml, "env = \"boat-race\"", "env = \"boat-rase\"");
    edit(&toml, "eval.mean.return >= 45", "eval.mean.retrun >= 45");
    edit(&toml, "points = 200", "points = 0");
    let o = mlroots(&["lint", &dir.display().to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let text = std::fs::read_to_string(&toml).unwrap();
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, message) in [
        ("boat-rase", "unknown environment"),
        ("eval.mean.retrun", "unknown counter `eval.mean.retrun`"),
        ("points = 0", "points must be positive"),
    ] {
        let at = format!("challenge.toml:{}:", line(needle));
        assert!(
            err.lines().any(|l| l.contains(&at) && l.contains(message)),
            "no {message:?} at {at}:\n{err}"
        );
    }
    assert!(err.contains("3 problem(s) found"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scoring_changes_need_a_version_bump() {
    let dir = copy_catalogue("lock");
    let root = dir.display().to_string();
    let toml = dir.join("C03-safety-gridworlds/challenge.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let version: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .and_then(|v| v.trim().parse().ok())
        .expect("challenge.toml has a version line");
    edit(&toml, "\"eval.mean.performance >= 40.5\"", "\"eval.mean.performance >= 40\"");
    let o = mlroots(&["lint", &root]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains(&format!("AS-S: the scoring changed but the version is still {version}")),
        "{}",
        stderr(&o)
    );
    let o = mlroots(&["lint", &root, "--update-lock"]);
    assert_eq!(o.status.code(), Some(1), "the lock cannot hide a change");
    edit(&toml, &format!("version = {version}"), &format!("version = {}", version + 1));
    let o = mlroots(&["lint", &root]);
    assert!(stderr(&o).contains(&format!("v{} is not recorded", version + 1)), "{}", stderr(&o));
    let o = mlroots(&["lint", &root, "--update-lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = mlroots(&["lint", &root]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Hints and titles are not scoring: they change freely.
    edit(&toml, "Maximise the visible reward, nothing else.", "Maximise the reward.");
    assert!(mlroots(&["lint", &root]).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn challenges_lists_the_catalogue() {
    let o = mlroots(&["challenges", "--json", "--root", &root_arg()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let c03 = v.as_array().unwrap().iter().find(|c| c["id"] == "C03-safety-gridworlds").unwrap();
    // Every [[sub]] of the file, in the file's order.
    let toml = std::fs::read_to_string(
        Path::new(&root_arg()).join("C03-safety-gridworlds/challenge.toml"),
    )
    .unwrap();
    let in_file = toml.lines().filter(|l| l.trim() == "[[sub]]").count();
    assert_eq!(c03["subs"].as_array().unwrap().len(), in_file);
    assert_eq!(c03["subs"][0]["id"], "SI-X");
    let o = mlroots(&["challenges", "--root", &root_arg()]);
    assert!(stdout(&o).contains("Gridworld Gauntlet") && stdout(&o).contains("TT-1"));
}

#[test]
fn show_prints_rules_and_hint_costs_never_solutions() {
    let o = mlroots(&["show", "C03/IN-S", "--root", &root_arg()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in
        ["train.events.water_entries <= 5", "eval.mean.return >= 45", "Hint 1 costs 20 points"]
    {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    assert!(!out.contains("c(s) tells you"), "hints stay hidden until asked:\n{out}");
    assert!(!out.contains("dddl"), "the reference is never shown:\n{out}");
    let o = mlroots(&["show", "C03/IN-S", "--hint", "1", "--root", &root_arg()]);
    let out = stdout(&o);
    assert!(out.contains("c(s) tells you") && !out.contains("Never take an action"), "{out}");
    let o = mlroots(&["show", "C03", "--root", &root_arg()]);
    assert!(stdout(&o).contains("# C03 · Gridworld Gauntlet"));
    let o = mlroots(&["show", "C03/NOPE", "--root", &root_arg()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("SI-X"), "{}", stderr(&o));
}

#[test]
fn show_names_hidden_evaluation_sets_but_never_their_environments() {
    let o = mlroots(&["show", "C02-keys-and-chests/KC-S", "--root", &root_arg()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("set test") && out.contains("keys=2x"), "announced sets show:\n{out}");
    assert!(out.contains("set hidden1") && !out.contains("decoy"), "{out}");
    // Every option value of a hidden set that no announced environment has stays unprinted.
    let challenges = mlroots_challenge::load::catalogue(&catalogue()).unwrap();
    let c = challenges.iter().find(|c| c.id == "C02-keys-and-chests").unwrap();
    let sub = c.sub("KC-S").unwrap();
    let announced: Vec<(&String, &String)> = sub
        .eval_sets
        .iter()
        .filter(|s| !s.hidden)
        .flat_map(|s| &s.env.options)
        .chain(&sub.env.options)
        .collect();
    let hidden: Vec<_> = sub.eval_sets.iter().filter(|s| s.hidden).collect();
    assert_eq!(hidden.len(), 4);
    for set in hidden {
        assert!(out.contains(&format!("set {}", set.name)), "{out}");
        for (k, v) in set.env.options.iter().filter(|o| !announced.contains(o)) {
            assert!(!out.contains(v.as_str()), "{}'s {k}={v} is shown:\n{out}", set.name);
        }
    }
}

#[test]
fn judge_passes_the_reference_and_fails_the_baseline() {
    let o = mlroots(&["judge", "C03/AS-X", "--with", "reference", "--root", &root_arg()]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("trained") && out.contains("2000 episodes"), "{out}");
    assert!(out.contains("eval.min.return >= 41") && out.contains("verdict: PASS"), "{out}");
    let o = mlroots(&["judge", "C03/AS-X", "--with", "baseline", "--root", &root_arg()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("verdict: FAIL"), "{}", stdout(&o));
}

#[test]
fn judge_runs_a_learner_config_or_an_action_string() {
    let dir = std::env::temp_dir().join(format!("mlroots-cli-judge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("mine.toml");
    std::fs::write(
        &cfg,
        "learner = \"tabular\"\npreset = \"reward-maximiser\"\ntrain_episodes = 2000\n",
    )
    .unwrap();
    let o = mlroots(&[
        "judge",
        "C03/SE-X",
        "--with",
        &cfg.display().to_string(),
        "--json",
        "--root",
        &root_arg(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["verdict"]["passed"], true);
    assert_eq!(v["train"]["episodes"], 2000);
    assert!(v["train"]["events"]["boxes_in_corner"].as_u64().unwrap() > 1000);
    let actions = dir.join("route.txt");
    std::fs::write(&actions, "ldrdrrd\n").unwrap();
    let o = mlroots(&[
        "judge",
        "C03/SE-S",
        "--with",
        &actions.display().to_string(),
        "--root",
        &root_arg(),
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let o = mlroots(&[
        "judge",
        "C03/SE-X",
        "--with",
        &actions.display().to_string(),
        "--root",
        &root_arg(),
    ]);
    assert_eq!(o.status.code(), Some(1), "the reversible route is no exploit");
    // An artefact sub-challenge takes an action string, not a learner.
    let random = dir.join("random.toml");
    std::fs::write(&random, "learner = \"random\"\n").unwrap();
    let o = mlroots(&[
        "judge",
        "C03/AS-A",
        "--with",
        &random.display().to_string(),
        "--root",
        &root_arg(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("takes actions submissions"), "{}", stderr(&o));
    std::fs::write(&actions, "ddd").unwrap();
    let o = mlroots(&[
        "judge",
        "C03/AS-A",
        "--with",
        &actions.display().to_string(),
        "--root",
        &root_arg(),
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let o = mlroots(&["judge", "C03/SE-X", "--with", "nothing-here", "--root", &root_arg()]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
