//! Learning curves on disk: every finished episode appended to `curve.csv` as it happens (so
//! an interrupted run keeps its curve), and at the end `curve.svg`, the return and the hidden
//! performance per episode, smoothed, with the hidden event counts that moved below.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use mlroots_learn::EpisodeRecord;
use plotters::prelude::*;

/// Streams episode records to a CSV file and keeps them for the picture.
pub struct Curve {
    csv: BufWriter<File>,
    path: PathBuf,
    records: Vec<EpisodeRecord>,
}

impl Curve {
    /// Creates `dir/curve.csv`.
    pub fn create(dir: &Path) -> anyhow::Result<Curve> {
        let path = dir.join("curve.csv");
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Curve { csv: BufWriter::new(file), path, records: Vec::new() })
    }

    /// Appends one episode. The header is written with the first episode, whose event names
    /// are the columns after `performance`.
    pub fn push(&mut self, r: &EpisodeRecord) -> anyhow::Result<()> {
        if self.records.is_empty() {
            write!(self.csv, "episode,total_steps,steps,return,performance")?;
            for (name, _) in &r.events {
                write!(self.csv, ",{name}")?;
            }
            writeln!(self.csv)?;
        }
        // `+ 0.0` turns −0 into 0.
        let (ret, perf) = (r.episode_return + 0.0, r.performance + 0.0);
        write!(self.csv, "{},{},{},{ret},{perf}", r.episode, r.total_steps, r.steps)?;
        for (_, count) in &r.events {
            write!(self.csv, ",{count}")?;
        }
        writeln!(self.csv)?;
        self.records.push(r.clone());
        Ok(())
    }

    /// The episodes so far.
    pub fn records(&self) -> &[EpisodeRecord] {
        &self.records
    }

    /// Flushes the CSV and draws `curve.svg` beside it; returns the two paths.
    pub fn finish(mut self, title: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
        self.csv.flush().with_context(|| format!("cannot write {}", self.path.display()))?;
        let svg = self.path.with_extension("svg");
        plot(&self.records, title, &svg)?;
        Ok((self.path, svg))
    }
}

/// The moving average of `values` over a trailing window of `window` points.
pub fn smooth(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    let mut sum = 0.0;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            sum += v;
            if i >= window {
                sum -= values[i - window];
            }
            sum / (i + 1).min(window) as f64
        })
        .collect()
}

/// The smoothing window for `n` episodes: about a hundredth of the run, at least 1, at most
/// 100 (the paper's curves average over 100 episodes).
pub fn window_for(n: usize) -> usize {
    (n / 100).clamp(1, 100)
}

fn plot(records: &[EpisodeRecord], title: &str, path: &Path) -> anyhow::Result<()> {
    let drawing = || -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, bottom) = root.split_vertically(380);
        let window = window_for(records.len());
        let x: Vec<f64> = records.iter().map(|r| r.episode as f64 + 1.0).collect();
        let ret = smooth(&records.iter().map(|r| r.episode_return).collect::<Vec<_>>(), window);
        let perf = smooth(&records.iter().map(|r| r.performance).collect::<Vec<_>>(), window);
        let (lo, hi) = bounds(ret.iter().chain(&perf).copied());
        let x_max = x.last().copied().unwrap_or(1.0).max(1.0);
        // At most about 2000 points per line: the curve is smoothed, and the picture stays small.
        let stride = records.len().div_ceil(2000).max(1);
        let points = |v: &[f64]| -> Vec<(f64, f64)> {
            x.iter().copied().zip(v.iter().copied()).step_by(stride).collect()
        };
        let mut chart = ChartBuilder::on(&top)
            .caption(format!("{title} (mean over {window} episodes)"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, lo..hi)?;
        chart.configure_mesh().x_desc("episode").y_desc("per episode").draw()?;
        let blue = RGBColor(31, 119, 180);
        let orange = RGBColor(214, 39, 40);
        chart
            .draw_series(LineSeries::new(points(&ret), blue.stroke_width(2)))?
            .label("return (visible)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], blue.stroke_width(2))
            });
        chart
            .draw_series(LineSeries::new(points(&perf), orange.stroke_width(2)))?
            .label("hidden performance")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], orange.stroke_width(2))
            });
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;

        // The hidden events that happened at all, smoothed the same way.
        let names: Vec<&str> =
            records.first().map(|r| r.events.iter().map(|(n, _)| *n).collect()).unwrap_or_default();
        let series: Vec<(&str, Vec<f64>)> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| records.iter().any(|r| r.events.get(*i).is_some_and(|e| e.1 > 0)))
            .map(|(i, n)| {
                let v: Vec<f64> = records
                    .iter()
                    .map(|r| r.events.get(i).map_or(0.0, |e| f64::from(e.1)))
                    .collect();
                (*n, smooth(&v, window))
            })
            .collect();
        let (_, ev_hi) = bounds(series.iter().flat_map(|(_, v)| v.iter().copied()).chain([0.0]));
        let mut events = ChartBuilder::on(&bottom)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, 0.0..ev_hi.max(1.0))?;
        events.configure_mesh().x_desc("episode").y_desc("hidden events").draw()?;
        for (k, (name, v)) in series.iter().enumerate() {
            let color = Palette99::pick(k + 2).to_rgba();
            events
                .draw_series(LineSeries::new(points(v), color.stroke_width(1)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        if !series.is_empty() {
            events
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
        }
        root.present()?;
        Ok(())
    };
    drawing().map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", path.display()))
}

/// A padded value range for an axis (never empty).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(0.5);
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_is_a_trailing_mean() {
        assert_eq!(smooth(&[1.0, 3.0, 5.0, 7.0], 2), vec![1.0, 2.0, 4.0, 6.0]);
        assert_eq!(smooth(&[2.0, 4.0], 0), vec![2.0, 4.0]);
        assert_eq!((window_for(50), window_for(5000), window_for(10_000_000)), (1, 50, 100));
    }

    #[test]
    fn a_run_leaves_a_csv_with_event_columns_and_a_picture() {
        let dir = std::env::temp_dir().join(format!("mlroots-curve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut curve = Curve::create(&dir).unwrap();
        for i in 0..3u32 {
            curve
                .push(&EpisodeRecord {
                    episode: u64::from(i),
                    steps: 10,
                    total_steps: 10 * u64::from(i + 1),
                    episode_return: f64::from(i),
                    performance: -f64::from(i),
                    events: vec![("lava_entries", i), ("never", 0)],
                })
                .unwrap();
        }
        let (csv, svg) = curve.finish("test").unwrap();
        let text = std::fs::read_to_string(csv).unwrap();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "episode,total_steps,steps,return,performance,lava_entries,never",
                "0,10,10,0,0,0,0",
                "1,20,10,1,-1,1,0",
                "2,30,10,2,-2,2,0"
            ]
        );
        let picture = std::fs::read_to_string(svg).unwrap();
        assert!(picture.starts_with("<svg") && picture.contains("hidden performance"));
        assert!(picture.contains("lava_entries") && !picture.contains(">never<"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
