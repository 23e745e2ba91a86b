//! `mlroots rollout`: replays an action string from reset.

use serde::Serialize;

/// Arguments of `mlroots rollout`.
#[derive(clap::Args)]
pub struct Args {
    /// The environment id (`boat-race`, `boat-race-v1`, ...); see `mlroots envs`.
    env: String,
    /// The actions as letters (`u d l r`, `n` for no-op where offered); segments separated by
    /// spaces may repeat as LETTERS*N (`"rl*50"`).
    #[arg(long, allow_hyphen_values = true)]
    actions: String,
    /// The episode's seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// An option KEY=VALUE (repeatable).
    #[arg(long = "opt", value_name = "KEY=VALUE")]
    opts: Vec<String>,
    /// Print one JSON object instead of the board.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    env: &'a str,
    seed: u64,
    actions: &'a str,
    #[serde(flatten)]
    rollout: &'a mlroots_worlds::Rollout,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let opts = crate::parse_opts(&args.opts)?;
    let mut env = mlroots_worlds::make(&args.env, &opts).map_err(crate::usage)?;
    let actions =
        mlroots_worlds::parse_actions(env.as_ref(), &args.actions).map_err(crate::usage)?;
    let r = mlroots_worlds::rollout(env.as_mut(), args.seed, &actions)?;
    if args.json {
        let report = Report { env: env.id(), seed: args.seed, actions: &args.actions, rollout: &r };
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", r.board);
        let end = match r.termination_reason {
            Some(reason) => reason.as_str(),
            None => "running",
        };
        println!("steps {}  return {}  {end}", r.steps, r.episode_return);
    }
    Ok(())
}
