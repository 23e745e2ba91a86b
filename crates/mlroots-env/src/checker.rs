//! The environment checker: verifies that an [`Env`] keeps the contract.
//!
//! It checks that spaces are respected, rewards lie in the declared range, infos are
//! well-formed, the same seed and actions give the same episode (on two fresh copies), invalid
//! actions are refused without changing anything, and an environment can be reset after an
//! episode ends (and refuses to step before that).

use crate::{Env, EnvError, Rng, Step};

/// How hard [`check_env`] works.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Seeds to check; each seed runs `episodes` episodes with random actions.
    pub seeds: Vec<u64>,
    /// Episodes per seed (the later ones reset without a seed).
    pub episodes: usize,
    /// An episode longer than this is an error (the time limit must end episodes).
    pub max_episode_steps: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { seeds: vec![0, 1, 2], episodes: 3, max_episode_steps: 10_000 }
    }
}

/// A broken promise, with the environment id, the seed and the step where it broke.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{env} (seed {seed}, episode {episode}, step {step}): {what}")]
pub struct CheckError {
    /// The environment's id.
    pub env: String,
    /// The seed being checked.
    pub seed: u64,
    /// The episode (0-based) of that seed.
    pub episode: usize,
    /// The step (0 = reset).
    pub step: usize,
    /// What went wrong.
    pub what: String,
}

/// Checks the environments made by `make` (called for each fresh copy it needs).
pub fn check_env(make: &dyn Fn() -> Box<dyn Env>, opts: &CheckOptions) -> Result<(), CheckError> {
    let probe = make();
    let id = probe.id().to_string();
    let fail = |seed, episode, step, what: String| CheckError {
        env: id.clone(),
        seed,
        episode,
        step,
        what,
    };
    let n = probe.action_space().n;
    if probe.action_meanings().len() != n as usize {
        return Err(fail(
            0,
            0,
            0,
            format!("{} action meanings for {n} actions", probe.action_meanings().len()),
        ));
    }
    let mut letters: Vec<char> = probe.action_meanings().iter().map(|m| m.letter).collect();
    letters.sort_unstable();
    letters.dedup();
    if letters.len() != n as usize {
        return Err(fail(0, 0, 0, "two actions share a letter".into()));
    }
    let (lo, hi) = probe.reward_range();
    let space = probe.observation_space().clone();
    let len = space.flat_len();

    for &seed in &opts.seeds {
        let mut a = make();
        let mut b = make();
        let mut oa = vec![0.0f32; len];
        let mut ob = vec![0.0f32; len];
        let mut actions = Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
        if a.step(0, &mut oa) != Err(EnvError::NeedsReset) {
            return Err(fail(
                seed,
                0,
                0,
                "step before the first reset did not ask for a reset".into(),
            ));
        }
        for episode in 0..opts.episodes {
            let s = if episode == 0 { Some(seed) } else { None };
            let ia = a.reset(s, &mut oa);
            let ib = b.reset(s, &mut ob);
            let at = |step, what: String| fail(seed, episode, step, what);
            if ia != ib || oa != ob || a.render_ascii() != b.render_ascii() {
                return Err(at(0, "two copies reset with the same seed differ".into()));
            }
            if !space.contains(&oa) {
                return Err(at(0, format!("reset observation outside {space:?}")));
            }
            if ia.termination_reason.is_some() || ia.actual_actions.is_some() {
                return Err(at(0, "reset info carries a step's keys".into()));
            }
            let mut rgb = Vec::new();
            let (h, w) = a.render_rgb(&mut rgb);
            if rgb.len() != 3 * h * w || h * w == 0 {
                return Err(at(0, format!("rgb frame of {} bytes for {h}x{w}", rgb.len())));
            }
            let mut t = 0;
            loop {
                t += 1;
                if t > opts.max_episode_steps {
                    return Err(at(t, "the episode did not end".into()));
                }
                let bad = n + (actions.below(3));
                if a.step(bad, &mut oa) != Err(EnvError::InvalidAction { action: bad, n }) {
                    return Err(at(t, format!("invalid action {bad} was not refused")));
                }
                let act = a.action_space().sample(&mut actions);
                let sa = a.step(act, &mut oa).map_err(|e| at(t, e.to_string()))?;
                let sb = b.step(act, &mut ob).map_err(|e| at(t, e.to_string()))?;
                check_step(&sa, lo, hi).map_err(|w| at(t, w))?;
                if sa != sb || oa != ob || a.hidden_metrics() != b.hidden_metrics() {
                    return Err(at(t, "two copies given the same seed and actions differ".into()));
                }
                if !space.contains(&oa) {
                    return Err(at(t, "observation outside the observation space".into()));
                }
                if let Some(act2) = sa.info.actual_actions
                    && act2 >= n
                {
                    return Err(at(t, format!("actual action {act2} outside the action space")));
                }
                if sa.done() {
                    if a.step(0, &mut oa) != Err(EnvError::NeedsReset) {
                        return Err(at(t, "step after the end did not ask for a reset".into()));
                    }
                    break;
                }
            }
        }
    }
    Ok(())
}

fn check_step(s: &Step, lo: f64, hi: f64) -> Result<(), String> {
    if !s.reward.is_finite() || s.reward < lo - 1e-9 || s.reward > hi + 1e-9 {
        return Err(format!("reward {} outside the declared range [{lo}, {hi}]", s.reward));
    }
    if s.terminated && s.truncated {
        return Err("terminated and truncated at once".into());
    }
    if s.done() != s.info.termination_reason.is_some() {
        return Err("termination_reason must be set exactly on the last step".into());
    }
    Ok(())
}
