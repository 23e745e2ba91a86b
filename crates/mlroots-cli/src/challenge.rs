//! The challenge commands: `lint` (every problem of the catalogue at once, the schema, the
//! version lock), `challenges` (the catalogue), `show` (statement, rules, pass conditions and
//! hints, never solutions) and `judge` (train a built-in solution as the server counts it,
//! evaluate it on practice seeds and print the verdict table). All logic lives in
//! `mlroots-challenge`; this module finds the folders and prints.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mlroots_challenge::load;
use mlroots_challenge::run::{self, Solution};
use mlroots_challenge::seeds;
use mlroots_challenge::spec::Submission;
use mlroots_challenge::{Challenge, SubChallenge};
use serde::Serialize;

/// The catalogue folder: `--root`, else `$MLROOTS_CHALLENGES`, else `./challenges`, else the
/// one in the source tree this binary was built from.
fn root(given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("MLROOTS_CHALLENGES") {
        return PathBuf::from(p);
    }
    let here = PathBuf::from("challenges");
    if here.is_dir() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../challenges")
}

/// Arguments of `mlroots lint`.
#[derive(clap::Args)]
pub struct LintArgs {
    /// The catalogue folder or one challenge folder (default: the catalogue).
    path: Option<PathBuf>,
    /// Print the JSON Schema of challenge.toml and exit.
    #[arg(long)]
    schema: bool,
    /// Record the current versions in versions.lock (refused when scoring changed without a
    /// version bump).
    #[arg(long)]
    update_lock: bool,
}

/// `mlroots lint`.
pub fn lint(args: &LintArgs) -> anyhow::Result<()> {
    if args.schema {
        print!("{}", mlroots_challenge::spec::schema_json());
        return Ok(());
    }
    let path = root(args.path.as_deref());
    let single = path.join("challenge.toml").is_file();
    let (catalogue_root, result) = if single {
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (parent, load::challenge(&path).map(|c| vec![c]))
    } else {
        if !path.is_dir() {
            return Err(crate::usage(format!(
                "{} is neither a challenge folder (with challenge.toml) nor a catalogue folder",
                path.display()
            )));
        }
        (path.clone(), load::catalogue(&path))
    };
    let challenges = match result {
        Ok(c) => c,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            bail!("{} problem(s) found", problems.len());
        }
    };
    let mut lock = load::read_lock(&catalogue_root)?;
    let lock_path = catalogue_root.join(load::LOCK_FILE);
    if args.update_lock {
        if single {
            return Err(crate::usage(
                "--update-lock works on the whole catalogue; give its folder",
            ));
        }
        match mlroots_challenge::lock::update(&challenges, &lock) {
            Ok(text) => {
                std::fs::write(&lock_path, &text)
                    .with_context(|| format!("writing {}", lock_path.display()))?;
                lock = mlroots_challenge::lock::parse_lock(&text)?;
                println!("recorded {} challenge(s) in {}", challenges.len(), lock_path.display());
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{}: {e}", lock_path.display());
                }
                bail!("the lock was not updated");
            }
        }
    }
    let mut problems: Vec<String> = mlroots_challenge::lock::check(&challenges, &lock)
        .into_iter()
        .filter(|e| !single || !matches!(e, mlroots_challenge::lock::LockError::Stale { .. }))
        .map(|e| format!("{}: {e}", lock_path.display()))
        .collect();
    let schema_path = catalogue_root.join(load::SCHEMA_FILE);
    if !single
        && std::fs::read_to_string(&schema_path).ok().as_deref()
            != Some(mlroots_challenge::spec::schema_json().as_str())
    {
        problems.push(format!(
            "{}: missing or out of date: run `mlroots lint --schema > {}`",
            schema_path.display(),
            schema_path.display()
        ));
    }
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() {
        bail!("{} problem(s) found", problems.len());
    }
    let subs: usize = challenges.iter().map(|c| c.subs.len()).sum();
    println!("{} challenge(s), {subs} sub-challenge(s): no problems", challenges.len());
    Ok(())
}

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    version: u32,
    title: &'a str,
    track: &'a str,
    summary: &'a str,
    subs: Vec<SubRow<'a>>,
}

#[derive(Serialize)]
struct SubRow<'a> {
    id: &'a str,
    title: &'a str,
    kind: &'static str,
    env: &'a str,
    submission: &'static str,
    points: u32,
}

/// `mlroots challenges`.
pub fn list(json: bool, given_root: Option<&Path>) -> anyhow::Result<()> {
    let challenges = catalogue(given_root)?;
    let rows: Vec<Row<'_>> = challenges
        .iter()
        .map(|c| Row {
            id: &c.id,
            version: c.version,
            title: &c.title,
            track: &c.track,
            summary: &c.summary,
            subs: c
                .subs
                .iter()
                .map(|s| SubRow {
                    id: &s.id,
                    title: &s.title,
                    kind: s.kind.as_str(),
                    env: &s.env.id,
                    submission: s.submission.as_str(),
                    points: s.points,
                })
                .collect(),
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for c in &rows {
        println!("{} v{}  {}  [{}]  {}", c.id, c.version, c.title, c.track, c.summary);
        for s in &c.subs {
            println!(
                "  {:<8} {:<8} {:<4} pts  {:<24} {:<9} {}",
                s.id, s.kind, s.points, s.env, s.submission, s.title
            );
        }
    }
    Ok(())
}

fn catalogue(given_root: Option<&Path>) -> anyhow::Result<Vec<Challenge>> {
    let root = root(given_root);
    load::catalogue(&root).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "the catalogue at {} has problems (run `mlroots lint`):\n{}",
            root.display(),
            list.join("\n")
        )
    })
}

/// Finds `C/SUB` (or `C`): `C` is the full id or its number (`C03`).
fn find<'a>(
    challenges: &'a [Challenge],
    what: &str,
) -> anyhow::Result<(&'a Challenge, Option<&'a SubChallenge>)> {
    let (c, sub) = match what.split_once('/') {
        Some((c, s)) => (c, Some(s)),
        None => (what, None),
    };
    let challenge = challenges
        .iter()
        .find(|x| x.id == c || x.id.split('-').next() == Some(c))
        .ok_or_else(|| {
            crate::usage(format!(
                "no challenge {c:?}; the catalogue has: {}",
                challenges.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
    let sub = match sub {
        None => None,
        Some(s) => Some(challenge.sub(s).ok_or_else(|| {
            crate::usage(format!(
                "{} has no sub-challenge {s:?}; it has: {}",
                challenge.id,
                challenge.subs.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?),
    };
    Ok((challenge, sub))
}

/// Arguments of `mlroots show`.
#[derive(clap::Args)]
pub struct ShowArgs {
    /// `C03` or `C03/SI-X`.
    what: String,
    /// Show hints 1..=N (each costs the points it lists when taken on the server).
    #[arg(long, value_name = "N")]
    hint: Option<usize>,
    /// The catalogue folder.
    #[arg(long)]
    root: Option<PathBuf>,
}

fn env_line(e: &mlroots_challenge::spec::EnvRef) -> String {
    let opts: Vec<String> = e.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if opts.is_empty() { e.id.clone() } else { format!("{} ({})", e.id, opts.join(", ")) }
}

/// `mlroots show`.
pub fn show(args: &ShowArgs) -> anyhow::Result<()> {
    let challenges = catalogue(args.root.as_deref())?;
    let (c, sub) = find(&challenges, &args.what)?;
    let Some(s) = sub else {
        println!("{}", c.statement.trim_end());
        println!("\nSub-challenges (mlroots show {}/ID):", c.id);
        for s in &c.subs {
            println!("  {:<8} {:<8} {:>4} pts  {}", s.id, s.kind.as_str(), s.points, s.title);
        }
        return Ok(());
    };
    println!("{} / {}: {} ({}, {} points)", c.id, s.id, s.title, s.kind.as_str(), s.points);
    println!("environment: {}", env_line(&s.env));
    if s.eval_env != s.env {
        println!("evaluated in: {}", env_line(&s.eval_env));
    }
    println!("submission:  {}", s.submission.as_str());
    println!("evaluation:  {} episodes on hidden seeds", s.budget.eval_episodes);
    for set in &s.eval_sets {
        // A hidden set is unannounced: its name and size only, never its environment.
        let env =
            if set.hidden { "an unannounced environment".to_string() } else { env_line(&set.env) };
        println!("  set {:<10} {:>4} episodes in {env}", set.name, set.episodes);
    }
    if !s.rules.is_empty() {
        println!("\nRules (over all your training sessions; breaking one voids the attempt):");
        for r in &s.rules {
            println!("  {}", r.text);
        }
    }
    if !s.pass.is_empty() {
        println!("\nTo pass, all of:");
        for p in &s.pass {
            println!("  {}", p.text);
        }
    }
    if let Some(m) = &s.metric {
        let way = match m.better {
            mlroots_challenge::spec::Better::Higher => "higher",
            mlroots_challenge::spec::Better::Lower => "lower",
        };
        println!("\nRanked by: {} ({way} is better)", m.text);
    }
    if s.hints.is_empty() {
        return Ok(());
    }
    println!();
    let shown = args.hint.unwrap_or(0);
    if shown > s.hints.len() {
        return Err(crate::usage(format!("{} has {} hint(s)", s.id, s.hints.len())));
    }
    for (i, h) in s.hints.iter().enumerate() {
        if i < shown {
            println!("Hint {} (costs {}): {}", i + 1, h.cost, h.text);
        } else {
            println!(
                "Hint {} costs {} points: mlroots show {}/{} --hint {}",
                i + 1,
                h.cost,
                c.id,
                s.id,
                i + 1
            );
        }
    }
    Ok(())
}

/// Arguments of `mlroots judge`.
#[derive(clap::Args)]
pub struct JudgeArgs {
    /// `C03/SI-X`.
    what: String,
    /// `reference` or `baseline` (the challenge's solution/), a LEARNER-CONFIG.toml (a table
    /// with `learner = "tabular"` and its keys), or a file holding an action string.
    #[arg(long = "with", value_name = "SOLUTION")]
    with: String,
    /// The public practice seed set to evaluate on.
    #[arg(long, default_value_t = 0)]
    seed_set: u32,
    /// Override the training seed of a learner configuration.
    #[arg(long)]
    train_seed: Option<u64>,
    /// Print JSON (the seeds, the training counters and the verdict).
    #[arg(long)]
    json: bool,
    /// The catalogue folder.
    #[arg(long)]
    root: Option<PathBuf>,
}

/// `mlroots judge`.
pub fn judge(args: &JudgeArgs) -> anyhow::Result<()> {
    let root = root(args.root.as_deref());
    let challenges = catalogue(Some(&root))?;
    let (c, sub) = find(&challenges, &args.what)?;
    let Some(sub) = sub else {
        return Err(crate::usage("judge needs a sub-challenge: C03/SI-X"));
    };
    let dir = root.join(&c.id);
    let mut solution = match args.with.as_str() {
        "reference" | "baseline" => {
            load::solution(&dir, &args.with, &sub.id).map_err(crate::usage)?
        }
        file if sub.submission == Submission::Weights => {
            let bytes = std::fs::read(file).map_err(|e| {
                crate::usage(format!(
                    "--with {file}: not `reference` or `baseline`, and not a readable file ({e})"
                ))
            })?;
            Solution::Weights { bytes }
        }
        file => {
            let text = std::fs::read_to_string(file).map_err(|e| {
                crate::usage(format!(
                    "--with {file}: not `reference` or `baseline`, and not a readable text file ({e})"
                ))
            })?;
            if file.ends_with(".toml") {
                Solution::from_toml(&text, &sub.id).map_err(crate::usage)?
            } else if matches!(sub.submission, Submission::Levels | Submission::Mazes) {
                Solution::Levels { levels: text, note: String::new() }
            } else {
                Solution::Actions { actions: text.trim().to_string(), note: String::new() }
            }
        }
    };
    if let Some(seed) = args.train_seed {
        match &mut solution {
            Solution::Tabular { seed: s, .. } | Solution::Random { seed: s, .. } => *s = seed,
            Solution::Actions { .. }
            | Solution::Levels { .. }
            | Solution::Weights { .. }
            | Solution::WeightsFile { .. } => {}
        }
    }
    let eval_seeds = seeds::practice_seeds(args.seed_set, sub.budget.eval_episodes);
    let outcome = run::run(sub, &solution, &eval_seeds).map_err(crate::usage)?;
    if args.json {
        #[derive(Serialize)]
        struct Out<'a> {
            challenge: &'a str,
            version: u32,
            sub: &'a str,
            seed_set: u32,
            seeds: &'a [u64],
            train: &'a mlroots_challenge::expr::TrainCounters,
            verdict: &'a mlroots_challenge::Verdict,
        }
        let out = Out {
            challenge: &c.id,
            version: c.version,
            sub: &sub.id,
            seed_set: args.seed_set,
            seeds: &eval_seeds,
            train: &outcome.train,
            verdict: &outcome.verdict,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} v{} / {} with {}: trained {} steps, {} episodes; evaluated {} episodes (practice seed set {})",
            c.id,
            c.version,
            sub.id,
            args.with,
            outcome.train.steps,
            outcome.train.episodes,
            outcome.eval.len(),
            args.seed_set
        );
        let events: Vec<String> = outcome
            .train
            .events
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if !events.is_empty() {
            println!("hidden events over training: {}", events.join(", "));
        }
        print!("{}", outcome.verdict.table());
    }
    if outcome.verdict.passed { Ok(()) } else { Err(NotPassed.into()) }
}

/// The verdict was not a pass: exit 1 without another message.
#[derive(Debug)]
pub struct NotPassed;

impl std::fmt::Display for NotPassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not passed")
    }
}

impl std::error::Error for NotPassed {}
