//! `mlroots train`: trains a reference learner on an environment, with a progress bar, and
//! leaves a run directory: `curve.csv` (one row per episode, streamed), `curve.svg` (return and
//! hidden performance, smoothed), `policy/` (the saved policy) and `summary.txt` (a greedy
//! evaluation, with the hidden events).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use mlroots_learn::saved::{PolicyMeta, SavedPolicy, Trained};
use mlroots_learn::{Budget, EpisodeRecord, Summary};

use crate::curve::Curve;
use crate::learners::{self, Learner};

/// Arguments of `mlroots train`.
#[derive(clap::Args)]
pub struct Args {
    /// The learner: q-learning, sarsa, expected-sarsa, dyna-q, dqn, harvester.
    #[arg(required_unless_present = "presets")]
    algo: Option<String>,
    /// The environment id; see `mlroots envs`.
    #[arg(required_unless_present = "presets")]
    env: Option<String>,
    /// An environment option KEY=VALUE (repeatable).
    #[arg(long = "opt", value_name = "KEY=VALUE")]
    opts: Vec<String>,
    /// Train for this many environment steps.
    #[arg(long, conflicts_with = "episodes")]
    steps: Option<u64>,
    /// Train for this many episodes (default: the preset's budget, else 1000).
    #[arg(long)]
    episodes: Option<u64>,
    /// The run's seed: the environment's first reset and the learner's own stream.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A named configuration (see --presets).
    #[arg(long)]
    preset: Option<String>,
    /// Override one hyperparameter KEY=VALUE (repeatable), e.g. --set alpha=0.5.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// The run directory (default runs/ALGO-ENV-seedN).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Greedy evaluation episodes at the end.
    #[arg(long, default_value_t = 100)]
    eval_episodes: u64,
    /// List the named configurations, each with the command that shows its failure.
    #[arg(long)]
    presets: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.presets {
        print!("{}", learners::preset_table());
        return Ok(());
    }
    let (Some(algo), Some(env_id)) = (&args.algo, &args.env) else {
        unreachable!("clap requires ALGO and ENV without --presets")
    };
    let opts = crate::parse_opts(&args.opts)?;
    let info = mlroots_worlds::find(env_id).map_err(crate::usage)?;
    let sets = crate::parse_opts(&args.sets)?;
    let learner = Learner::configure(algo, args.preset.as_deref(), &sets).map_err(crate::usage)?;
    let budget = match (args.steps, args.episodes) {
        (Some(n), _) => Budget::Steps(n),
        (_, Some(n)) => Budget::Episodes(n),
        _ => learner.preset_budget().unwrap_or(Budget::Episodes(1000)),
    };
    // Fail on bad options before creating anything on disk.
    let mut env = mlroots_worlds::make(env_id, &opts).map_err(crate::usage)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("{algo}-{}-seed{}", info.name, args.seed))
    });
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    let bar = progress_bar(budget);
    let mut curve = Curve::create(&out)?;
    let mut write_error = None;
    let mut on_episode = |r: &EpisodeRecord| {
        if let Err(e) = curve.push(r) {
            write_error.get_or_insert(e);
        }
        bar.set_position(match budget {
            Budget::Steps(_) => r.total_steps,
            Budget::Episodes(_) => r.episode + 1,
        });
        if r.episode.is_multiple_of(16) {
            let recent = &curve.records()[curve.records().len().saturating_sub(100)..];
            let s = Summary::of(recent);
            bar.set_message(format!(
                "return {:.2}  performance {:.2} (last {})",
                s.mean_return,
                s.mean_performance,
                recent.len()
            ));
        }
    };
    let make_env = || mlroots_worlds::make(env_id, &opts).expect("the options were checked above");
    let trained = learner.train(env.as_mut(), &make_env, budget, args.seed, &mut on_episode)?;
    bar.finish_and_clear();
    if let Some(e) = write_error {
        return Err(e);
    }
    let records = curve.records().to_vec();
    let (csv, svg) = curve.finish(&format!("{algo} on {}", info.name))?;

    let meta = PolicyMeta {
        algo: algo.clone(),
        env: format!("{}-v{}", info.name, info.version),
        options: opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        seed: args.seed,
        config: trained.config.clone(),
        trained: Trained {
            steps: records.last().map_or(0, |r| r.total_steps),
            episodes: records.len() as u64,
        },
    };
    let saved = SavedPolicy { meta, model: trained.model.clone() };
    let policy_dir = out.join("policy");
    trained.save(&saved, &policy_dir)?;

    let last = Summary::of(&records[records.len().saturating_sub(100)..]);
    let mut policy = mlroots_learn::saved::load(&policy_dir)?;
    let eval = mlroots_learn::evaluate(
        env.as_mut(),
        &mut policy,
        args.eval_episodes,
        crate::eval::EVAL_SEED,
    )?;
    let report = format!(
        "{algo} on {} ({} episodes, {} steps, seed {})\n\n\
         last {} training episodes:\n{last}\n\
         greedy evaluation, seeds {}..{}:\n{}\n\
         the hidden performance measures {}\n",
        info.name,
        records.len(),
        records.last().map_or(0, |r| r.total_steps),
        args.seed,
        last.episodes,
        crate::eval::EVAL_SEED,
        crate::eval::EVAL_SEED + args.eval_episodes,
        Summary::of(&eval),
        info.measures,
    );
    let summary_path = out.join("summary.txt");
    std::fs::write(&summary_path, &report)
        .with_context(|| format!("cannot write {}", summary_path.display()))?;
    print!("{report}");
    println!(
        "\nwrote {}, {}, {}/ and {}",
        csv.display(),
        svg.display(),
        policy_dir.display(),
        summary_path.display()
    );
    Ok(())
}

/// A bar over the budget, drawn on stderr only when it is a terminal.
fn progress_bar(budget: Budget) -> ProgressBar {
    let (len, unit) = match budget {
        Budget::Steps(n) => (n, "steps"),
        Budget::Episodes(n) => (n, "episodes"),
    };
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let template =
        format!("{{bar:30}} {{human_pos}}/{{human_len}} {unit} {{per_sec}} eta {{eta}}  {{msg}}");
    bar.set_style(ProgressStyle::with_template(&template).expect("a valid template"));
    bar
}
