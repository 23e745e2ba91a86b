//! The `mlroots` command. Glue only: every behaviour lives in a library crate; this binary
//! parses arguments, calls the libraries and prints.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error (unknown id, option or action letter).

mod bench;
mod curve;
mod envs;
mod play;
mod rollout;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// ML Roots You: learn AI safety by exploiting and fixing real environments.
#[derive(Parser)]
#[command(name = "mlroots", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every environment with its options and spaces.
    Envs {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Replay an action string from reset and print the final board (or JSON).
    Rollout(rollout::Args),
    /// Play an environment in the terminal (arrow keys or letters, q to quit).
    Play(play::Args),
    /// Measure steps per second of every environment on one core.
    Bench(bench::Args),
}

/// An error in what the user typed: reported with exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Turns a library's "you asked for something that does not exist" into a usage error.
pub fn usage(e: impl std::fmt::Display) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

/// Parses `KEY=VALUE` options.
pub fn parse_opts(opts: &[String]) -> anyhow::Result<Vec<(&str, &str)>> {
    opts.iter()
        .map(|o| {
            o.split_once('=')
                .ok_or_else(|| usage(format!("option {o:?} is not KEY=VALUE (e.g. --opt level=1)")))
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Envs { json } => envs::run(json),
        Command::Rollout(args) => rollout::run(&args),
        Command::Play(args) => play::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.is::<UsageError>() { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}
