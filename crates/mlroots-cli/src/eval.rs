//! `mlroots eval`: plays a saved policy greedily for a number of seeded episodes and prints
//! the mean return, the mean hidden performance and the hidden event counts.
//!
//! The environment defaults to the one the policy was trained on, with its options; naming
//! another environment (or other options) evaluates it under a shift: a keys-and-chests
//! policy trained with `dist=train` evaluated with `--opt dist=test`.

use std::path::PathBuf;

use mlroots_env::Env;
use mlroots_learn::Summary;
use mlroots_learn::saved::LoadedPolicy;
use serde::Serialize;

/// The first evaluation seed: far from the seeds training starts at, so that a default
/// evaluation does not replay the training's first episodes.
pub const EVAL_SEED: u64 = 1_000_000;

/// Arguments of `mlroots eval`.
#[derive(clap::Args)]
pub struct Args {
    /// The policy directory (the `policy/` of a run, holding policy.json).
    policy: PathBuf,
    /// The environment (default: the policy's).
    env: Option<String>,
    /// An environment option KEY=VALUE (repeatable); overrides the policy's own.
    #[arg(long = "opt", value_name = "KEY=VALUE")]
    opts: Vec<String>,
    /// Episodes to play.
    #[arg(long, default_value_t = 100)]
    episodes: u64,
    /// The first episode's seed; episode i uses seed + i.
    #[arg(long, default_value_t = EVAL_SEED)]
    seed: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Loads the policy at `dir` and makes the environment to run it in: `env` (default: the
/// policy's) with the policy's options when it is the same environment, then `opts` on top.
/// Refuses an environment whose observations or actions do not fit the policy.
pub fn policy_and_env(
    dir: &std::path::Path,
    env: Option<&str>,
    opts: &[String],
) -> anyhow::Result<(LoadedPolicy, Box<dyn Env>)> {
    let policy = mlroots_learn::saved::load(dir).map_err(crate::usage)?;
    let trained_on = mlroots_worlds::find(&policy.meta.env).map_err(crate::usage)?;
    let target = mlroots_worlds::find(env.unwrap_or(&policy.meta.env)).map_err(crate::usage)?;
    let mut options: Vec<(String, String)> = if target.name == trained_on.name {
        policy.meta.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    } else {
        Vec::new()
    };
    for (k, v) in crate::parse_opts(opts)? {
        options.retain(|(key, _)| key != k);
        options.push((k.to_string(), v.to_string()));
    }
    let pairs: Vec<(&str, &str)> = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let made = mlroots_worlds::make(target.name, &pairs).map_err(crate::usage)?;
    let obs_len = made.observation_space().flat_len();
    if let Some(expected) = policy.obs_len().filter(|&n| n != obs_len) {
        return Err(crate::usage(format!(
            "{} expects observations of {expected} values, but {} with these options gives {obs_len}; \
             evaluate it on an environment with the same observation",
            dir.display(),
            target.name
        )));
    }
    let actions = made.action_space().n as usize;
    if policy.actions() != actions {
        return Err(crate::usage(format!(
            "{} chooses among {} actions, but {} has {actions}",
            dir.display(),
            policy.actions(),
            target.name
        )));
    }
    Ok((policy, made))
}

#[derive(Serialize)]
struct Report<'a> {
    policy: String,
    env: &'a str,
    seed: u64,
    #[serde(flatten)]
    summary: &'a Summary,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let (mut policy, mut env) = policy_and_env(&args.policy, args.env.as_deref(), &args.opts)?;
    let records = mlroots_learn::evaluate(env.as_mut(), &mut policy, args.episodes, args.seed)?;
    let summary = Summary::of(&records);
    if args.json {
        let report = Report {
            policy: args.policy.display().to_string(),
            env: env.id(),
            seed: args.seed,
            summary: &summary,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} on {} (seeds {}..{})",
            args.policy.display(),
            env.id(),
            args.seed,
            args.seed + args.episodes
        );
        print!("{summary}");
    }
    Ok(())
}
