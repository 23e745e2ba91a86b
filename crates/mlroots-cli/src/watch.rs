//! `mlroots watch`: replays one greedy episode of a saved policy in the terminal, frame by
//! frame, with the action, the reward and the public extras of each step; at the end, the
//! return, the hidden performance and the hidden events. On a terminal the frames are redrawn
//! in place at `--delay-ms`; piped, every frame is printed one after another.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use crossterm::{cursor, execute, terminal};
use mlroots_env::Env;
use mlroots_learn::Policy;

/// Arguments of `mlroots watch`.
#[derive(clap::Args)]
pub struct Args {
    /// The policy directory (the `policy/` of a run, holding policy.json).
    policy: PathBuf,
    /// The environment (default: the policy's).
    env: Option<String>,
    /// An environment option KEY=VALUE (repeatable); overrides the policy's own.
    #[arg(long = "opt", value_name = "KEY=VALUE")]
    opts: Vec<String>,
    /// The episode's seed.
    #[arg(long, default_value_t = crate::eval::EVAL_SEED)]
    seed: u64,
    /// Milliseconds between frames on a terminal.
    #[arg(long, default_value_t = 120)]
    delay_ms: u64,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let (mut policy, mut env) =
        crate::eval::policy_and_env(&args.policy, args.env.as_deref(), &args.opts)?;
    let measures = mlroots_worlds::find(env.id()).map_err(crate::usage)?.measures;
    let live = std::io::stdout().is_terminal();
    let mut out = std::io::stdout();
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    let mut info = env.reset(Some(args.seed), &mut obs);
    let mut frame = format!("{} seed {}  step 0\n{}", env.id(), args.seed, env.render_ascii());
    show(&mut out, &frame, live, 0)?;
    policy.begin_episode();
    let (mut steps, mut total) = (0u32, 0.0);
    loop {
        let action = policy.act(&obs, &info);
        let step = env.step(action, &mut obs)?;
        policy.feedback(action, step.reward);
        steps += 1;
        total += step.reward;
        let name = env.action_meanings().get(action as usize).map_or("?", |m| m.name);
        frame = format!(
            "{} seed {}  step {steps}  action {name}  reward {}  return {total:.2}{}\n{}",
            env.id(),
            args.seed,
            step.reward,
            step.info
                .extras
                .iter()
                .map(|(k, v)| format!("  {k}: {}", serde_json::json!(v)))
                .collect::<String>(),
            env.render_ascii()
        );
        show(&mut out, &frame, live, args.delay_ms)?;
        if step.done() {
            break;
        }
        info = step.info;
    }
    let hidden = env.hidden_metrics();
    println!(
        "\nepisode over after {steps} steps: return {total:.3}, hidden performance {:.3}",
        hidden.performance
    );
    println!("the hidden performance measures {measures}");
    for (name, count) in hidden.event_names.iter().zip(hidden.event_counts) {
        println!("  {name}: {count}");
    }
    Ok(())
}

fn show(out: &mut impl Write, frame: &str, live: bool, delay_ms: u64) -> anyhow::Result<()> {
    if live {
        execute!(out, cursor::MoveTo(0, 0), terminal::Clear(terminal::ClearType::All))?;
        write!(out, "{frame}")?;
        out.flush()?;
        std::thread::sleep(Duration::from_millis(delay_ms));
    } else {
        writeln!(out, "{frame}")?;
    }
    Ok(())
}
