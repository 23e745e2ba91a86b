//! What a set of episodes amounts to: the means that `mlroots eval` prints and that training
//! reports, with each hidden event's mean count and the share of episodes in which it happened
//! (the form challenge conditions take: "the button pressed in ≥ 90 % of episodes").

use serde::Serialize;

use crate::EpisodeRecord;

/// One hidden event over a set of episodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventSummary {
    /// The event's name.
    pub name: &'static str,
    /// Its mean count per episode.
    pub mean: f64,
    /// Its total count.
    pub total: u64,
    /// The share of episodes in which it happened at least once.
    pub fraction: f64,
}

/// Means over a set of episodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// How many episodes.
    pub episodes: usize,
    /// Mean steps per episode.
    pub mean_steps: f64,
    /// Mean visible return.
    pub mean_return: f64,
    /// Mean hidden performance.
    pub mean_performance: f64,
    /// Lowest and highest return.
    pub return_range: (f64, f64),
    /// Every hidden event, in the environment's order.
    pub events: Vec<EventSummary>,
}

impl Summary {
    /// Summarises `records` (all from the same environment). Empty input gives zeros.
    pub fn of(records: &[EpisodeRecord]) -> Summary {
        let n = records.len().max(1) as f64;
        let mean = |f: &dyn Fn(&EpisodeRecord) -> f64| records.iter().map(f).sum::<f64>() / n;
        let names: Vec<&'static str> =
            records.first().map(|r| r.events.iter().map(|(n, _)| *n).collect()).unwrap_or_default();
        let events = names
            .into_iter()
            .map(|name| {
                let counts = records.iter().map(|r| r.event(name));
                EventSummary {
                    name,
                    mean: counts.clone().map(f64::from).sum::<f64>() / n,
                    total: counts.clone().map(u64::from).sum(),
                    fraction: counts.filter(|&c| c > 0).count() as f64 / n,
                }
            })
            .collect();
        let returns = records.iter().map(|r| r.episode_return);
        Summary {
            episodes: records.len(),
            mean_steps: mean(&|r| f64::from(r.steps)),
            mean_return: mean(&|r| r.episode_return),
            mean_performance: mean(&|r| r.performance),
            return_range: if records.is_empty() {
                (0.0, 0.0)
            } else {
                (
                    returns.clone().fold(f64::INFINITY, f64::min),
                    returns.fold(f64::NEG_INFINITY, f64::max),
                )
            },
            events,
        }
    }

    /// The summary of event `name`, if the environment has it.
    pub fn event(&self, name: &str) -> Option<&EventSummary> {
        self.events.iter().find(|e| e.name == name)
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "episodes            {}", self.episodes)?;
        writeln!(f, "mean steps          {:.2}", self.mean_steps)?;
        writeln!(
            f,
            "mean return         {:.3}   (min {:.3}, max {:.3})",
            self.mean_return, self.return_range.0, self.return_range.1
        )?;
        writeln!(f, "mean performance    {:.3}   (hidden)", self.mean_performance)?;
        if !self.events.is_empty() {
            writeln!(f, "hidden events       mean/episode  total  in % of episodes")?;
        }
        for e in &self.events {
            writeln!(
                f,
                "  {:<32} {:>8.3} {:>8} {:>8.1}",
                e.name,
                e.mean,
                e.total,
                100.0 * e.fraction
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ret: f64, perf: f64, kills: u32) -> EpisodeRecord {
        EpisodeRecord {
            episode: 0,
            steps: 4,
            total_steps: 4,
            episode_return: ret,
            performance: perf,
            events: vec![("kills", kills)],
        }
    }

    #[test]
    fn means_totals_and_fractions() {
        let s = Summary::of(&[
            record(1.0, 0.0, 0),
            record(3.0, -2.0, 2),
            record(-1.0, 5.0, 1),
            record(1.0, 1.0, 0),
        ]);
        assert_eq!(
            (s.episodes, s.mean_steps, s.mean_return, s.mean_performance),
            (4, 4.0, 1.0, 1.0)
        );
        assert_eq!(s.return_range, (-1.0, 3.0));
        assert_eq!(
            s.event("kills"),
            Some(&EventSummary { name: "kills", mean: 0.75, total: 3, fraction: 0.5 })
        );
        assert!(s.to_string().contains("kills"));
        let empty = Summary::of(&[]);
        assert_eq!((empty.episodes, empty.mean_return), (0, 0.0));
        assert!(empty.return_range == (0.0, 0.0) && empty.event("kills").is_none());
    }
}
