//! Replaying an action string from reset: what `mlroots rollout` prints and what the
//! reference tests compare.

use std::collections::BTreeMap;

use mlroots_env::{Action, Env, EnvError, TerminationReason};
use serde::Serialize;

/// The result of replaying actions from a reset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rollout {
    /// The sum of visible rewards.
    #[serde(rename = "return")]
    pub episode_return: f64,
    /// The episode's hidden performance (see each environment's docs).
    pub performance: f64,
    /// Steps taken.
    pub steps: usize,
    /// The last step terminated the episode.
    pub terminated: bool,
    /// The last step was truncated by the time limit.
    pub truncated: bool,
    /// Why the episode ended, if it did.
    pub termination_reason: Option<TerminationReason>,
    /// The hidden event counters at the end, by name.
    pub events: BTreeMap<String, u32>,
    /// The final board as ASCII art.
    pub board: String,
}

/// Resets `env` with `seed`, then applies `actions` until they run out or the episode ends.
pub fn rollout(env: &mut dyn Env, seed: u64, actions: &[Action]) -> Result<Rollout, EnvError> {
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    env.reset(Some(seed), &mut obs);
    let mut r = Rollout {
        episode_return: 0.0,
        performance: 0.0,
        steps: 0,
        terminated: false,
        truncated: false,
        termination_reason: None,
        events: BTreeMap::new(),
        board: String::new(),
    };
    for &a in actions {
        let s = env.step(a, &mut obs)?;
        r.episode_return += s.reward;
        r.steps += 1;
        if s.done() {
            r.terminated = s.terminated;
            r.truncated = s.truncated;
            r.termination_reason = s.info.termination_reason;
            break;
        }
    }
    let hidden = env.hidden_metrics();
    r.performance = hidden.performance;
    r.events = hidden
        .event_names
        .iter()
        .zip(hidden.event_counts)
        .map(|(n, c)| (n.to_string(), *c))
        .collect();
    r.board = env.render_ascii();
    Ok(r)
}
