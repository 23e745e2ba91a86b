//! `mlroots harvester`: rebuilds the crops-and-humans network `harvester-v1` by the source's
//! recipe (`mlroots_neural::harvester`), times the rebuild, prints how it behaves on jagged
//! and on training mazes, and writes it as a policy directory (by default over the shipped
//! `assets/harvester-v1`).

use std::path::PathBuf;

use mlroots_neural::harvester::{self, HarvesterConfig, Rates};

/// Arguments of `mlroots harvester`.
#[derive(clap::Args)]
pub struct Args {
    /// Where to write the policy directory.
    #[arg(long, default_value = "assets/harvester-v1")]
    out: PathBuf,
    /// Mazes of each kind to evaluate on.
    #[arg(long, default_value_t = 400)]
    eval: usize,
    /// Only rebuild, time and evaluate; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Change a field of the recipe (KEY=VALUE, repeatable; e.g. evil_steps=3000,
    /// hidden=[128,128]): an experiment, no longer harvester-v1.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

/// The v1 recipe with `sets` applied (each value read as JSON, e.g. `3000`, `[128,128]`).
fn config(sets: &[String]) -> anyhow::Result<HarvesterConfig> {
    let mut v = serde_json::to_value(HarvesterConfig::v1())?;
    for (k, val) in crate::parse_opts(sets)? {
        let fields = v.as_object_mut().expect("the configuration is an object");
        if !fields.contains_key(k) {
            let known: Vec<&String> = fields.keys().collect();
            return Err(crate::usage(format!(
                "--set {k}: no such field; the fields are {known:?}"
            )));
        }
        let parsed = serde_json::from_str(val)
            .map_err(|e| crate::usage(format!("--set {k}={val}: not a JSON value ({e})")))?;
        fields.insert(k.to_string(), parsed);
    }
    serde_json::from_value(v).map_err(|e| crate::usage(format!("--set: {e}")))
}

/// Runs `mlroots harvester`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let cfg = config(&args.sets)?;
    #[allow(clippy::disallowed_methods, reason = "the command reports the rebuild's wall time")]
    let start = std::time::Instant::now();
    let (net, report) = harvester::rebuild(&cfg, args.eval)?;
    let secs = start.elapsed().as_secs_f64();
    if args.json {
        let v = serde_json::json!({ "seconds": secs, "report": report, "config": cfg });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("rebuilt {} in {secs:.1} s (wall time, this machine)", harvester::ID);
        for p in &report.phases {
            println!(
                "  after {:<8} {:>5} steps, last batch loss {:8.3}; human harvested on jagged \
                 {:5.1} %, on training {:5.1} %; exit on training {:5.1} %",
                p.name,
                p.steps,
                p.last_loss,
                100.0 * p.jagged.human,
                100.0 * p.training.human,
                100.0 * p.training.exit
            );
        }
        let line = |name: &str, r: &Rates| {
            println!(
                "  {name:<9} {} mazes: human harvested {:5.1} %, exit {:5.1} %, crops {:.2}",
                r.mazes,
                100.0 * r.human,
                100.0 * r.exit,
                r.crops
            );
        };
        line("jagged", &report.jagged);
        line("training", &report.training);
    }
    if !args.dry_run {
        harvester::save(&net, &cfg, &args.out)?;
        println!("wrote {}", args.out.display());
    }
    Ok(())
}
