//! `mlroots dream`: asks a frozen crops-and-humans Q-network which walls make it step onto a
//! human (gradient ascent on the wall mask, `mlroots_neural::dream`, whose defaults the test
//! uses; `--source` runs the source's form), prints the 7×7 heat map of the best dream and of
//! the mean of the best quarter, marks the single-block jagged protrusions found, and saves
//! the heat maps as a picture (SVG or PNG).

use std::path::{Path, PathBuf};

use anyhow::Context;
use mlroots_neural::dream::{self, DreamConfig, Objective, PROBES, Probe, Start};
use mlroots_worlds::crops_humans::maze::{CELLS, EXIT, SIZE};
use plotters::prelude::*;

/// Arguments of `mlroots dream`.
#[derive(clap::Args)]
pub struct Args {
    /// The policy directory of a crops-and-humans network (e.g. assets/harvester-v1), or a
    /// .safetensors file of harvester-v1's architecture (e.g. C04's repaired weights; a name
    /// ending in .f16.safetensors is read as f16, e.g. the test's trained-alone control).
    policy: PathBuf,
    /// The scene: 1 (human at (2,4), agent on its left) or 2 (human at (0,6), agent below).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    probe: u8,
    /// Independent ascents (the best quarter is summarised).
    #[arg(long, default_value_t = 64)]
    restarts: u32,
    /// Gradient steps of each (default: the probe's, 80 or 150).
    #[arg(long)]
    steps: Option<u32>,
    /// Step size on the mask's logits.
    #[arg(long, default_value_t = 1.0)]
    lr: f32,
    /// Seed of the starting masks.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The source's form: its objective Q(toward) - sum of the others, random starting
    /// masks, no way out, no penalty (the options below then change that form).
    #[arg(long)]
    source: bool,
    /// What is maximised: `margin` (Q(toward) - the best other) or `sum` (the source's).
    #[arg(long, value_parser = ["margin", "sum"])]
    objective: Option<String>,
    /// Where restarts start: `training` (walls of training mazes) or `random`.
    #[arg(long, value_parser = ["training", "random"])]
    start: Option<String>,
    /// Let the dream wall in the agent (by default the cell behind it, opposite the human,
    /// stays open).
    #[arg(long)]
    no_way_out: bool,
    #[arg(long, help = sparsity_help())]
    sparsity: Option<f32>,
    /// Save the heat maps here (.svg or .png).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The help of `--sparsity`, with the library's default.
fn sparsity_help() -> String {
    format!(
        "Weight of the L1 penalty on changing the starting mask (default {}; 0 with --source)",
        dream::SPARSITY
    )
}

/// Runs `mlroots dream`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let out_kind = match &args.out {
        None => None,
        Some(p) => Some(picture_kind(p)?),
    };
    if args.restarts == 0 {
        return Err(crate::usage("--restarts must be at least 1"));
    }
    let net = if args.policy.is_file() {
        let arch = mlroots_neural::harvester::HarvesterConfig::v1().arch();
        let wrong = |e: &dyn std::fmt::Display| {
            crate::usage(format!(
                "{e}; a weights file must hold harvester-v1's architecture (161-256-256-4), \
                 otherwise pass a policy directory"
            ))
        };
        if args.policy.to_string_lossy().ends_with(".f16.safetensors") {
            mlroots_learn::net::Net::load_as(arch, &args.policy, mlroots_learn::net::Precision::F16)
                .map_err(|e| wrong(&e))?
        } else {
            mlroots_learn::net::Net::load(arch, &args.policy).map_err(|e| wrong(&e))?
        }
    } else {
        mlroots_neural::harvester::load(&args.policy).map_err(crate::usage)?
    };
    if !dream::fits(&net) {
        return Err(crate::usage(format!(
            "{} is not a crops-and-humans network: dreaming needs 161 inputs and 4 outputs, it \
             has {} and {}",
            args.policy.display(),
            net.arch().input_len(),
            net.arch().output_len()
        )));
    }
    let probe = PROBES[usize::from(args.probe) - 1];
    let base = if args.source { DreamConfig::source(probe) } else { DreamConfig::new(probe) };
    let cfg = DreamConfig {
        restarts: args.restarts,
        steps: args.steps.unwrap_or(probe.steps),
        lr: args.lr,
        seed: args.seed,
        objective: match args.objective.as_deref() {
            Some("sum") => Objective::Sum,
            Some(_) => Objective::Margin,
            None => base.objective,
        },
        start: match args.start.as_deref() {
            Some("random") => Start::Random,
            Some(_) => Start::Training,
            None => base.start,
        },
        way_out: base.way_out && !args.no_way_out,
        sparsity: args.sparsity.unwrap_or(base.sparsity),
        ..base
    };
    if !(cfg.sparsity >= 0.0 && cfg.sparsity.is_finite()) {
        return Err(crate::usage("--sparsity must be a number at least 0"));
    }
    let dreams = dream::dream(&net, &cfg);
    let top = dream::best_quarter(&dreams);
    let mean = dream::mean_mask(top);
    let toward = ["up", "down", "left", "right"][probe.toward as usize];
    println!(
        "probe {}: human at ({},{}), agent at ({},{}), objective Q({toward}) - {}; {} restarts \
         x {} steps from {} masks, lr {}, L1 penalty {}, {}",
        args.probe,
        probe.human.row,
        probe.human.col,
        probe.agent.row,
        probe.agent.col,
        match cfg.objective {
            Objective::Sum => "sum of the others",
            Objective::Margin => "the best other",
        },
        cfg.restarts,
        cfg.steps,
        match cfg.start {
            Start::Training => "training-maze",
            Start::Random => "random",
        },
        cfg.lr,
        cfg.sparsity,
        if cfg.way_out { "the agent keeps a way out" } else { "the agent may be walled in" }
    );
    let best = &dreams[0];
    println!(
        "\nbest dream (restart {}, objective {:.2}, binarised {:.2}; on it the network {}):",
        best.restart,
        best.score,
        best.binary_score,
        if best.steps_onto_human { "steps onto the human" } else { "does not step onto the human" }
    );
    print!("{}", heat_text(&dreams[0].mask, &probe));
    println!("\nmean of the best {} dreams:", top.len());
    print!("{}", heat_text(&mean, &probe));
    let t = dream::tally(&dreams, &probe);
    println!(
        "\nsingle-block jagged protrusions (walls at >= 0.5): {} of the best {} ({} with the \
         window over the human), {} of all {}",
        t.jagged, t.best, t.at_human, t.all_jagged, t.all
    );
    for d in top.iter().filter(|d| d.is_jagged(&probe)).take(1) {
        let at: Vec<String> =
            d.maze(&probe).jagged_windows().map(|p| format!("({},{})", p.row, p.col)).collect();
        println!(
            "first jagged dream among the best (restart {}; 3x3 windows at {}):",
            d.restart,
            at.join(" ")
        );
        for row in d.maze(&probe).rows() {
            println!("  {row}");
        }
    }
    if let (Some(path), Some(kind)) = (&args.out, out_kind) {
        let title = format!("dream, probe {}", args.probe);
        let maps = [(&dreams[0].mask[..], "best"), (&mean[..], "mean of best quarter")];
        match kind {
            Picture::Svg => svg(path, &maps, &probe, &title)?,
            Picture::Png => png_file(path, &maps, &probe)?,
        }
        println!("heat maps: {}", path.display());
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Picture {
    Svg,
    Png,
}

fn picture_kind(p: &Path) -> anyhow::Result<Picture> {
    match p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => Ok(Picture::Svg),
        Some("png") => Ok(Picture::Png),
        _ => Err(crate::usage(format!("--out {}: name a .svg or .png file", p.display()))),
    }
}

/// The heat map as text: one character per cell by wall value (` ` < 0.2, `░`, `▒`, `▓`,
/// `█` ≥ 0.8), `H` the human, `A` the agent, `E` the exit; then the values.
pub fn heat_text(mask: &[f32], probe: &Probe) -> String {
    let mut s = String::new();
    for r in 0..SIZE {
        s.push_str("  ");
        for c in 0..SIZE {
            let i = r * SIZE + c;
            let ch = match (r as i32, c as i32) {
                p if p == (probe.human.row, probe.human.col) => 'H',
                p if p == (probe.agent.row, probe.agent.col) => 'A',
                p if p == (EXIT.row, EXIT.col) => 'E',
                _ => [' ', '░', '▒', '▓', '█'][((mask[i] * 5.0) as usize).min(4)],
            };
            s.push(ch);
            s.push(ch);
        }
        s.push_str("   ");
        for c in 0..SIZE {
            s.push_str(&format!(" {:.2}", mask[r * SIZE + c]));
        }
        s.push('\n');
    }
    s
}

/// Grey level of a wall value: white (open) to black (wall), as walls are drawn in the world.
fn grey(v: f32) -> u8 {
    (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8
}

const CELL_PX: u32 = 48;

fn svg(path: &Path, maps: &[(&[f32], &str)], probe: &Probe, title: &str) -> anyhow::Result<()> {
    let side = CELL_PX * SIZE as u32;
    let width = maps.len() as u32 * (side + 40) + 40;
    let root = SVGBackend::new(path, (width, side + 90)).into_drawing_area();
    root.fill(&WHITE)?;
    root.draw(&Text::new(title.to_string(), (20, 12), ("sans-serif", 20)))?;
    for (k, (mask, label)) in maps.iter().enumerate() {
        let x0 = 40 + k as i32 * (side as i32 + 40);
        let y0 = 60;
        root.draw(&Text::new(label.to_string(), (x0, 38), ("sans-serif", 16)))?;
        for i in 0..CELLS {
            let (r, c) = ((i / SIZE) as i32, (i % SIZE) as i32);
            let g = grey(mask[i]);
            let (x, y) = (x0 + c * CELL_PX as i32, y0 + r * CELL_PX as i32);
            root.draw(&Rectangle::new(
                [(x, y), (x + CELL_PX as i32, y + CELL_PX as i32)],
                RGBColor(g, g, g).filled(),
            ))?;
            let mark = if (r, c) == (probe.human.row, probe.human.col) {
                Some(("H", RGBColor(255, 110, 90)))
            } else if (r, c) == (probe.agent.row, probe.agent.col) {
                Some(("A", RGBColor(40, 90, 230)))
            } else if (r, c) == (EXIT.row, EXIT.col) {
                Some(("E", RGBColor(0, 170, 50)))
            } else {
                None
            };
            if let Some((t, color)) = mark {
                root.draw(&Rectangle::new(
                    [(x + 4, y + 4), (x + CELL_PX as i32 - 4, y + CELL_PX as i32 - 4)],
                    color.filled(),
                ))?;
                root.draw(&Text::new(t, (x + 17, y + 14), ("sans-serif", 20).into_font()))?;
            }
        }
    }
    root.present()
        .with_context(|| format!("writing {}; check the directory exists", path.display()))?;
    Ok(())
}

/// The same picture as a PNG, without text (cells only; the markers are coloured squares).
fn png_file(path: &Path, maps: &[(&[f32], &str)], probe: &Probe) -> anyhow::Result<()> {
    let side = CELL_PX * SIZE as u32;
    let gap = 16;
    let (w, h) = (maps.len() as u32 * (side + gap) + gap, side + 2 * gap);
    let mut px = vec![255u8; (w * h * 3) as usize];
    for (k, (mask, _)) in maps.iter().enumerate() {
        let x0 = gap + k as u32 * (side + gap);
        for y in 0..side {
            for x in 0..side {
                let (r, c) = ((y / CELL_PX) as i32, (x / CELL_PX) as i32);
                let inner = (4..CELL_PX - 4).contains(&(x % CELL_PX))
                    && (4..CELL_PX - 4).contains(&(y % CELL_PX));
                let rgb = match (r, c) {
                    p if inner && p == (probe.human.row, probe.human.col) => [255, 110, 90],
                    p if inner && p == (probe.agent.row, probe.agent.col) => [40, 90, 230],
                    p if inner && p == (EXIT.row, EXIT.col) => [0, 170, 50],
                    _ => [grey(mask[r as usize * SIZE + c as usize]); 3],
                };
                let at = (((gap + y) * w + x0 + x) * 3) as usize;
                px[at..at + 3].copy_from_slice(&rgb);
            }
        }
    }
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot create {}; check the directory exists", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header()?;
    writer.write_image_data(&px)?;
    writer.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_heat_map_marks_the_scene_and_grades_walls() {
        let mut mask = vec![0.0f32; CELLS];
        mask[0] = 1.0;
        mask[1] = 0.5;
        let text = heat_text(&mask, &PROBES[0]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), SIZE);
        assert!(lines[0].starts_with("  ██▒▒  "), "{}", lines[0]);
        assert!(lines[2].contains("AAHH"), "{}", lines[2]);
        assert!(lines[6].contains("EE"));
        assert!(lines[0].contains(" 1.00 0.50 0.00"));
    }

    #[test]
    fn the_help_shows_the_default_penalty() {
        let default = DreamConfig::new(PROBES[0]).sparsity;
        assert!(sparsity_help().contains(&format!("(default {default};")), "{}", sparsity_help());
    }

    #[test]
    fn pictures_are_named_by_extension() {
        assert!(matches!(picture_kind(Path::new("a.svg")), Ok(Picture::Svg)));
        assert!(matches!(picture_kind(Path::new("a.PNG")), Ok(Picture::Png)));
        assert!(picture_kind(Path::new("a.jpg")).is_err());
    }
}
