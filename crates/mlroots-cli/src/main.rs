//! The `mlroots` command. Glue only: every behaviour lives in a library crate; this binary
//! parses arguments, calls the libraries and prints.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error (unknown id, option or action letter).

mod admin;
mod bench;
mod challenge;
mod curve;
mod dream;
mod envs;
mod eval;
mod harvester;
mod learners;
mod play;
mod rollout;
mod serve;
mod train;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// burn's training loops allocate many small tensors: mimalloc makes them about 1.7x faster
// (shared/stack.md), and costs nothing elsewhere.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Train a reference learner: progress bar, learning curve (CSV and SVG), saved policy.
    Train(train::Args),
    /// Evaluate a saved policy greedily: mean return, hidden performance, hidden events.
    Eval(eval::Args),
    /// Replay one greedy episode of a saved policy in the terminal.
    Watch(watch::Args),
    /// Check the challenge catalogue: every problem with file and line, the version lock.
    Lint(challenge::LintArgs),
    /// List the challenges and their sub-challenges.
    Challenges {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// The catalogue folder (default: ./challenges).
        #[arg(long)]
        root: Option<std::path::PathBuf>,
    },
    /// Show a challenge's statement, or a sub-challenge's rules, pass conditions and hints.
    Show(challenge::ShowArgs),
    /// Run a reference, a baseline, a learner configuration or an action string through the
    /// judge, on public practice seeds, and print the verdict table (exit 1 unless it passes).
    Judge(challenge::JudgeArgs),
    /// Dream the walls that make a crops-and-humans network step onto a human.
    Dream(dream::Args),
    /// Rebuild the crops-and-humans network harvester-v1 by the source's recipe, timed.
    Harvester(harvester::Args),
    /// Serve the platform: HTTP API, environment sessions, ledger (SQLite or PostgreSQL).
    Serve(serve::Args),
    /// Administer the platform: create accounts (on the database), reload a running server's catalogue.
    #[command(subcommand)]
    Admin(admin::Admin),
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
        Command::Train(args) => train::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Lint(args) => challenge::lint(&args),
        Command::Challenges { json, root } => challenge::list(json, root.as_deref()),
        Command::Show(args) => challenge::show(&args),
        Command::Judge(args) => challenge::judge(&args),
        Command::Dream(args) => dream::run(&args),
        Command::Harvester(args) => harvester::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Admin(cmd) => admin::run(&cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<challenge::NotPassed>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.is::<UsageError>() { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}
