//! Learning curves on the challenge page: the viewer's own training sessions of each
//! sub-challenge, read from the ledger (never from what a learner reports), drawn as
//! server-rendered SVG ([`super::svg`]) so they show without JavaScript.
//!
//! Per sub-challenge, two charts and a sentence: the return of each finished training
//! episode with its moving average, and the number of finished episodes against training
//! steps (the budget's clock); the sentence ("42 training episodes, last 10 mean return
//! 37.5, ...") says the same for screen readers and at a glance. Only visible rewards, steps
//! and episode ends are read: hidden performance and events of training stay with the judge.
//! Each session's entries are read light (episode, reward, end, time:
//! `ledger::session_rewards`) and summed per episode here.

use diesel::prelude::*;

use super::svg::{Chart, moving_average, num, thin};
use crate::AppState;
use crate::db::{DbConnection, schema};
use crate::error::ApiError;

/// One finished training episode, in the order trained.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainEpisode {
    /// The environment session it ran in.
    pub session: i64,
    /// Its visible return.
    pub ret: f64,
    /// Its steps.
    pub steps: i64,
    /// When its last step was written (unix ms).
    pub end_ms: i64,
}

/// The most points a chart draws (more episodes are averaged in buckets).
const MAX_POINTS: usize = 300;

/// The finished training episodes of `account` on sub-challenge `sub`, session by session.
pub fn training_episodes(
    conn: &mut DbConnection,
    account: i64,
    sub: &str,
) -> Result<Vec<TrainEpisode>, ApiError> {
    use schema::env_sessions::dsl as s;
    let sessions: Vec<i64> = s::env_sessions
        .filter(s::account_id.eq(account).and(s::sub_challenge.eq(sub)).and(s::phase.eq("train")))
        .order(s::id.asc())
        .select(s::id)
        .load(conn)?;
    let mut out = Vec::new();
    for session in sessions {
        // Per episode: the sum of rewards, the rows (the reset and the steps), and when it
        // ended, if it did.
        let mut episodes: std::collections::BTreeMap<i64, (f64, i64, Option<i64>)> =
            std::collections::BTreeMap::new();
        for (episode, reward, ended, ms) in crate::ledger::session_rewards(conn, account, session)?
        {
            let e = episodes.entry(episode).or_insert((0.0, 0, None));
            e.0 += reward;
            e.1 += 1;
            if ended {
                e.2 = Some(ms);
            }
        }
        for (ret, rows, end) in episodes.into_values() {
            if let Some(end_ms) = end {
                out.push(TrainEpisode { session, ret, steps: rows - 1, end_ms });
            }
        }
    }
    Ok(out)
}

/// A sub-challenge's curves as the challenge page shows them.
pub struct SubCurves {
    /// The sub-challenge's short id (`AS-X`).
    pub sub: String,
    /// "42 training episodes over 1 session, ...".
    pub summary: String,
    /// Return per episode, raw and smoothed (SVG markup).
    pub returns: String,
    /// Finished episodes against training steps (SVG markup).
    pub episodes: String,
}

/// The window of the moving average for `n` episodes: a tenth, at least 5 and at most 100
/// (and never more than `n`).
pub fn window(n: usize) -> usize {
    (n / 10).clamp(5, 100).min(n.max(1))
}

/// The sentence that sums up `eps`.
pub fn summary(eps: &[TrainEpisode]) -> String {
    let n = eps.len();
    let sessions = {
        let mut ids: Vec<i64> = eps.iter().map(|e| e.session).collect();
        ids.dedup();
        ids.len()
    };
    let steps: i64 = eps.iter().map(|e| e.steps).sum();
    let k = n.min(10);
    let last_mean = eps[n - k..].iter().map(|e| e.ret).sum::<f64>() / k as f64;
    let best = eps.iter().map(|e| e.ret).fold(f64::NEG_INFINITY, f64::max);
    let minutes = (eps[n - 1].end_ms - eps[0].end_ms).max(0) as f64 / 60_000.0;
    let span = if minutes < 1.0 {
        "all within a minute".to_string()
    } else {
        format!("{} minutes from the first episode's end to the last's", num(minutes.round()))
    };
    format!(
        "{n} training episode{} over {sessions} session{}, {steps} steps; last {k} mean return \
         {}; best return {}; {span}.",
        if n == 1 { "" } else { "s" },
        if sessions == 1 { "" } else { "s" },
        num(last_mean),
        num(best),
    )
}

/// The two charts of `eps` (not empty), with element ids prefixed by `id`.
pub fn charts(id: &str, sub: &str, eps: &[TrainEpisode]) -> SubCurves {
    let n = eps.len();
    let w = window(n);
    let rets: Vec<f64> = eps.iter().map(|e| e.ret).collect();
    let smooth = moving_average(&rets, w);
    let raw: Vec<(f64, f64)> = rets.iter().enumerate().map(|(i, r)| ((i + 1) as f64, *r)).collect();
    let sm: Vec<(f64, f64)> =
        smooth.iter().enumerate().map(|(i, r)| ((i + 1) as f64, *r)).collect();
    let (lo, hi) =
        rets.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &r| (l.min(r), h.max(r)));
    let thinned = if n > MAX_POINTS {
        format!(
            " (averaged in buckets of {} to draw at most {MAX_POINTS} points)",
            n.div_ceil(MAX_POINTS)
        )
    } else {
        String::new()
    };
    let desc = format!(
        "Return of each of {n} training episodes of {sub} (thin line){thinned}, between {} and {}, \
         and its moving average over {w} episode{} (thick line), from {} at the start to {} at \
         the end.",
        num(lo),
        num(hi),
        if w == 1 { "" } else { "s" },
        num(smooth[0]),
        num(smooth[n - 1]),
    );
    let mut c = Chart::new(
        &format!("{id}-returns"),
        480.0,
        200.0,
        (1.0, n as f64),
        (lo.min(0.0), hi.max(0.0)),
        &format!("Return per training episode, {sub}"),
        &desc,
        ("training episode", "return"),
    );
    c.line(&thin(&raw, MAX_POINTS), "raw", "#9bb7e0", 1.0);
    c.line(&thin(&sm, MAX_POINTS), "smooth", "#0a58ca", 2.5);
    let returns = c.finish();

    let mut total = 0i64;
    let pts: Vec<(f64, f64)> = eps
        .iter()
        .enumerate()
        .map(|(i, e)| {
            total += e.steps;
            (total as f64, (i + 1) as f64)
        })
        .collect();
    let desc = format!(
        "Finished training episodes of {sub} against training steps: {n} episodes in {total} \
         steps, {} steps per episode on average.",
        num(total as f64 / n as f64)
    );
    let mut c = Chart::new(
        &format!("{id}-episodes"),
        480.0,
        200.0,
        (0.0, total as f64),
        (0.0, n as f64),
        &format!("Training episodes over training steps, {sub}"),
        &desc,
        ("training steps", "episodes"),
    );
    c.line(&thin(&pts, MAX_POINTS), "episodes", "#1e9e3a", 2.0);
    SubCurves { sub: sub.to_string(), summary: summary(eps), returns, episodes: c.finish() }
}

/// The curves of each of `subs` (`(full id, short id)`) that `account` has trained on.
pub async fn for_challenge(
    state: &AppState,
    account: i64,
    subs: Vec<(String, String)>,
) -> Vec<SubCurves> {
    let loaded = state
        .db(move |conn| {
            let mut out = Vec::new();
            for (full, short) in subs {
                let eps = training_episodes(conn, account, &full)?;
                if !eps.is_empty() {
                    out.push((short, eps));
                }
            }
            Ok(out)
        })
        .await;
    match loaded {
        Ok(v) => {
            v.iter().map(|(short, eps)| charts(&format!("curve-{short}"), short, eps)).collect()
        }
        Err(e) => {
            tracing::warn!("learning curves: {}", e.message);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(session: i64, ret: f64, steps: i64, end_ms: i64) -> TrainEpisode {
        TrainEpisode { session, ret, steps, end_ms }
    }

    #[test]
    fn summary_and_charts_say_what_the_episodes_did() {
        let mut eps: Vec<TrainEpisode> =
            (0..32).map(|i| ep(1, -10.0 + i as f64, 20, i * 1000)).collect();
        eps.extend((0..10).map(|i| ep(2, 37.5, 5, 120_000 + i)));
        assert_eq!(
            summary(&eps),
            "42 training episodes over 2 sessions, 690 steps; last 10 mean return 37.5; best \
             return 37.5; 2 minutes from the first episode's end to the last's."
        );
        let c = charts("curve-AS-X", "AS-X", &eps);
        assert!(c.returns.contains(
            "<title id=\"curve-AS-X-returns-title\">Return per training episode, AS-X</title>"
        ));
        assert!(c.returns.contains("moving average over 5 episodes"), "{}", c.returns);
        assert!(c.returns.contains("between -10 and 37.5"));
        assert_eq!(c.returns.matches("<polyline").count(), 2);
        assert!(c.episodes.contains("42 episodes in 690 steps"));
        assert!(c.episodes.contains(">690</text>"), "the x axis ends at the total steps");
    }

    #[test]
    fn long_runs_are_thinned_to_a_bounded_size() {
        let eps: Vec<TrainEpisode> = (0..20_000).map(|i| ep(1, (i % 7) as f64, 10, i)).collect();
        let c = charts("c", "X", &eps);
        assert!(c.returns.len() < 20_000, "{} bytes", c.returns.len());
        assert!(c.returns.contains("averaged in buckets of 67"));
        assert!(c.returns.contains("moving average over 100 episodes"));
        assert_eq!((window(1), window(3), window(42), window(600)), (1, 3, 5, 60));
        let one = summary(&eps[..1]);
        assert!(one.starts_with("1 training episode over 1 session, 10 steps; last 1 mean"));
        assert!(one.ends_with("all within a minute."), "{one}");
    }
}
