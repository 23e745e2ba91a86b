//! Calibration of a challenge's thresholds: trains each sub-challenge's reference and
//! baseline once (as `mlroots judge` does), evaluates them on practice seed sets 0..3, and
//! prints every predicate's value, for `solution/calibration.md`.
//!
//! `cargo run --release -p mlroots-challenge --example calibrate -- challenges/C03-safety-gridworlds [SUB...]`
//!
//! With `--markdown` (first argument) it prints the table of `calibration.md` instead: for each
//! predicate, the range of the reference's and the baseline's values over the four sets.
//! `TRAIN_SEED=N` overrides the training seed of tabular solutions.

use std::path::Path;

use mlroots_challenge::{judge, load, run, seeds};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let markdown = args.first().is_some_and(|a| a == "--markdown");
    if markdown {
        args.remove(0);
        println!("| sub | predicate | reference (sets 0-3) | baseline (sets 0-3) |");
        println!("|---|---|---|---|");
    }
    let Some(dir) = args.first() else {
        eprintln!("usage: calibrate CHALLENGE-DIR [SUB...]");
        std::process::exit(2);
    };
    let dir = Path::new(dir);
    let challenge = match load::challenge(dir) {
        Ok(c) => c,
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            std::process::exit(1);
        }
    };
    for sub in &challenge.subs {
        if args.len() > 1 && !args[1..].contains(&sub.id) {
            continue;
        }
        let mut ranges: Vec<Vec<(f64, f64, bool)>> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        for kind in ["reference", "baseline"] {
            let mut solution = load::solution(dir, kind, &sub.id).expect("solution");
            if let Some(seed) = std::env::var("TRAIN_SEED").ok().and_then(|s| s.parse().ok())
                && let run::Solution::Tabular { seed: s, .. } = &mut solution
            {
                *s = seed;
            }
            let mut trained = run::train(sub, &solution).expect("train");
            let mut range: Vec<(f64, f64, bool)> = Vec::new();
            if markdown {
                for set in 0..4 {
                    let s = seeds::practice_seeds(set, sub.budget.eval_episodes);
                    let eval = run::evaluate(sub, &mut trained, &s).expect("evaluate");
                    let v = judge(sub, &eval, &trained.counters);
                    texts = v.predicates.iter().map(|p| p.text.clone()).collect();
                    // An open sub-challenge's metric is one more row (a void attempt has none).
                    let mut values: Vec<(f64, bool)> =
                        v.predicates.iter().map(|p| (p.value, p.pass)).collect();
                    if let Some(m) = &sub.metric {
                        texts.push(format!("metric: {}", m.text));
                        values.push((v.score.unwrap_or(f64::NAN), v.score.is_some()));
                    }
                    range.resize(values.len(), (f64::INFINITY, f64::NEG_INFINITY, true));
                    for (r, (value, pass)) in range.iter_mut().zip(values) {
                        *r = (r.0.min(value), r.1.max(value), r.2 && pass);
                    }
                }
                ranges.push(range);
                continue;
            }
            println!(
                "## {} {kind}: train steps {} episodes {} events {:?}",
                sub.id, trained.counters.steps, trained.counters.episodes, trained.counters.events
            );
            for set in 0..4 {
                let s = seeds::practice_seeds(set, sub.budget.eval_episodes);
                let eval = run::evaluate(sub, &mut trained, &s).expect("evaluate");
                let v = judge(sub, &eval, &trained.counters);
                let values: Vec<String> = v
                    .predicates
                    .iter()
                    .map(|p| {
                        format!(
                            "{} = {:.3}{}",
                            p.text,
                            p.value,
                            if p.pass { "" } else { " (fails)" }
                        )
                    })
                    .collect();
                let score = v.score.map(|x| format!(" | score {x:.3}")).unwrap_or_default();
                println!(
                    "  set {set}: {} | {}{score}",
                    if v.passed { "PASS" } else { "fail" },
                    values.join("; ")
                );
            }
        }
        if markdown {
            let cell = |(lo, hi, ok): (f64, f64, bool)| {
                let mark = if ok { "" } else { " ✗" };
                if lo == hi {
                    format!("{lo:.3}{mark}")
                } else {
                    format!("{lo:.3} – {hi:.3}{mark}")
                }
            };
            for (i, t) in texts.iter().enumerate() {
                println!(
                    "| {} | `{t}` | {} | {} |",
                    sub.id,
                    cell(ranges[0][i]),
                    cell(ranges[1][i])
                );
            }
        }
    }
}
