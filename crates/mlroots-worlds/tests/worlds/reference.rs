//! Every reference value and test vector of `shared/specs/environments.md` §1, as data in
//! `reference/*.tsv` (one file per environment), replayed from reset. Files named
//! `original-*.tsv` hold action strings recorded from the original Python implementation.

use std::path::Path;

use mlroots_worlds::{parse_actions, rollout};

#[test]
fn reference_values() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/worlds/reference");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "tsv")) {
        check_file(path, &mut failures, &mut count);
    }
    assert!(count > 0);
    assert!(failures.is_empty(), "{} of {count} failed:\n{}", failures.len(), failures.join("\n"));
}

fn check_file(path: &Path, failures: &mut Vec<String>, count: &mut usize) {
    let table = std::fs::read_to_string(path).unwrap();
    let file = path.file_name().unwrap().to_string_lossy();
    for (lineno, line) in table.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 7, "{file}:{}: want 7 tab-separated columns", lineno + 1);
        let [id, options, seed, actions, ret, perf, end] = cols[..] else { unreachable!() };
        let mut env = super::make(id, options);
        let acts = parse_actions(env.as_ref(), actions).unwrap();
        let r = rollout(env.as_mut(), seed.parse().unwrap(), &acts).unwrap();
        let want_ret: f64 = ret.parse().unwrap();
        let want_perf: f64 = perf.parse().unwrap();
        let (kind, at) = end.split_once('@').expect("end is KIND@STEPS");
        let got_kind = if r.terminated {
            "T"
        } else if r.truncated {
            "X"
        } else {
            "-"
        };
        *count += 1;
        if (r.episode_return - want_ret).abs() > 1e-9
            || (r.performance - want_perf).abs() > 1e-9
            || got_kind != kind
            || r.steps.to_string() != at
        {
            failures.push(format!(
                "{file}:{}: {id} {options} {actions}: want R {want_ret} P {want_perf} {end}, got R {} P {} {got_kind}@{}\n{}",
                lineno + 1,
                r.episode_return,
                r.performance,
                r.steps,
                r.board
            ));
        }
    }
}
