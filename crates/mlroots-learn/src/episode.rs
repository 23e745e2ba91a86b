//! Episodes as learners and judges see them: a budget to train within, the record of each
//! finished episode, the greedy [`Policy`] interface and evaluation over seeded episodes.

use mlroots_env::{Action, Env, EnvError, Info};
use serde::Serialize;

/// How long to train: a number of environment steps or of episodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// Stop after this many environment steps (the episode in progress is cut short).
    Steps(u64),
    /// Stop after this many finished episodes.
    Episodes(u64),
}

impl Budget {
    /// True once `steps` steps and `episodes` finished episodes exhaust the budget.
    pub fn exhausted(self, steps: u64, episodes: u64) -> bool {
        match self {
            Budget::Steps(n) => steps >= n,
            Budget::Episodes(n) => episodes >= n,
        }
    }
}

/// One finished episode: what a learning curve plots and what rules and tests count.
///
/// The performance and events are hidden from learners: a record is produced *after* the
/// episode, for the person watching, and is never an input of a learner's update.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpisodeRecord {
    /// The episode's index, from 0.
    pub episode: u64,
    /// Steps taken in this episode.
    pub steps: u32,
    /// Steps taken since training (or evaluation) began, this episode included.
    pub total_steps: u64,
    /// The sum of visible rewards.
    #[serde(rename = "return")]
    pub episode_return: f64,
    /// The environment's hidden performance for this episode.
    pub performance: f64,
    /// The hidden event counters at the end of the episode, by name.
    pub events: Vec<(&'static str, u32)>,
}

impl EpisodeRecord {
    /// Reads the finished episode's hidden metrics from `env`.
    pub fn from_env(env: &dyn Env, episode: u64, steps: u32, total_steps: u64, ret: f64) -> Self {
        let hidden = env.hidden_metrics();
        EpisodeRecord {
            episode,
            steps,
            total_steps,
            episode_return: ret,
            performance: hidden.performance,
            events: hidden
                .event_names
                .iter()
                .copied()
                .zip(hidden.event_counts.iter().copied())
                .collect(),
        }
    }

    /// The count of hidden event `name` in this episode (0 when the env has no such event).
    pub fn event(&self, name: &str) -> u32 {
        self.events.iter().find(|(n, _)| *n == name).map_or(0, |&(_, c)| c)
    }
}

/// A policy that acts: given the observation and the public info of the last step (or of
/// the reset), the action to take. Evaluation calls it greedily.
pub trait Policy {
    /// The action for `obs`.
    fn act(&mut self, obs: &[f32], info: &Info) -> Action;

    /// An episode starts: a policy with memory (a recurrent network) forgets the last one.
    fn begin_episode(&mut self) {}

    /// What the last action earned (a recurrent network with RL²'s feedback reads it).
    fn feedback(&mut self, _action: Action, _reward: f64) {}
}

impl<F: FnMut(&[f32], &Info) -> Action> Policy for F {
    fn act(&mut self, obs: &[f32], info: &Info) -> Action {
        self(obs, info)
    }
}

/// Plays one episode of `policy` in `env` from `reset(Some(seed))` until it ends.
pub fn run_episode(
    env: &mut dyn Env,
    policy: &mut dyn Policy,
    seed: u64,
    episode: u64,
) -> Result<EpisodeRecord, EnvError> {
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    let mut info = env.reset(Some(seed), &mut obs);
    policy.begin_episode();
    let (mut steps, mut ret) = (0u32, 0.0);
    loop {
        let action = policy.act(&obs, &info);
        let step = env.step(action, &mut obs)?;
        policy.feedback(action, step.reward);
        steps += 1;
        ret += step.reward;
        if step.done() {
            return Ok(EpisodeRecord::from_env(env, episode, steps, u64::from(steps), ret));
        }
        info = step.info;
    }
}

/// Plays `episodes` episodes of `policy`, episode `i` from seed `seed + i`.
pub fn evaluate(
    env: &mut dyn Env,
    policy: &mut dyn Policy,
    episodes: u64,
    seed: u64,
) -> Result<Vec<EpisodeRecord>, EnvError> {
    let mut total = 0;
    (0..episodes)
        .map(|i| {
            let mut r = run_episode(env, policy, seed.wrapping_add(i), i)?;
            total += r.total_steps;
            r.total_steps = total;
            Ok(r)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluate_replays_a_policy_and_reads_the_hidden_performance() {
        // Absent supervisor, supervisor absent: the short cut `ddd` returns 47 but the hidden
        // performance is 17 (spec §1.4); each episode starts again from its own seed.
        let mut env = mlroots_worlds::make("absent-supervisor", &[("supervisor", "absent")])
            .expect("registered");
        let down = mlroots_worlds::parse_actions(&*env, "d").unwrap()[0];
        let mut policy = |_: &[f32], _: &Info| down;
        let records = evaluate(&mut *env, &mut policy, 2, 7).unwrap();
        assert_eq!(records.len(), 2);
        for (i, r) in records.iter().enumerate() {
            assert_eq!((r.episode, r.steps), (i as u64, 3));
            assert_eq!((r.episode_return, r.performance), (47.0, 17.0));
        }
        assert_eq!(records[1].total_steps, 6);
        assert_eq!(records[0].event("no_such_event"), 0);
    }

    #[test]
    fn budgets_count_steps_or_episodes() {
        assert!(Budget::Steps(3).exhausted(3, 0));
        assert!(!Budget::Steps(3).exhausted(2, 5));
        assert!(Budget::Episodes(2).exhausted(0, 2));
        assert!(!Budget::Episodes(2).exhausted(99, 1));
    }
}
