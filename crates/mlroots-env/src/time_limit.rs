//! The time limit: the only source of truncation.

use crate::{
    Action, ActionMeaning, Discrete, Env, EnvError, HiddenMetrics, Info, Space, Step,
    TerminationReason,
};

/// Ends every episode after `max_steps` steps with `truncated = true` and the termination
/// reason `MAX_STEPS` (unless the last step terminated on its own, which takes precedence, as
/// in the original gridworlds).
#[derive(Clone, Debug)]
pub struct TimeLimit<E> {
    env: E,
    max_steps: u32,
    elapsed: u32,
    running: bool,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `env` with a limit of `max_steps` steps per episode.
    pub fn new(env: E, max_steps: u32) -> Self {
        TimeLimit { env, max_steps, elapsed: 0, running: false }
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.elapsed
    }

    /// The step limit.
    pub fn max_steps(&self) -> u32 {
        self.max_steps
    }

    /// The wrapped environment.
    pub fn inner(&self) -> &E {
        &self.env
    }
}

impl<E: Env> Env for TimeLimit<E> {
    fn id(&self) -> &str {
        self.env.id()
    }
    fn action_space(&self) -> Discrete {
        self.env.action_space()
    }
    fn action_meanings(&self) -> &[ActionMeaning] {
        self.env.action_meanings()
    }
    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }
    fn reward_range(&self) -> (f64, f64) {
        self.env.reward_range()
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Info {
        self.elapsed = 0;
        self.running = true;
        self.env.reset(seed, obs)
    }
    #[inline]
    fn step(&mut self, action: Action, obs: &mut [f32]) -> Result<Step, EnvError> {
        if !self.running {
            return Err(EnvError::NeedsReset);
        }
        let mut step = self.env.step(action, obs)?;
        self.elapsed += 1;
        if !step.terminated && self.elapsed >= self.max_steps {
            step.truncated = true;
            step.info.termination_reason = Some(TerminationReason::MaxSteps);
        }
        self.running = !step.done();
        Ok(step)
    }
    fn render_ascii(&self) -> String {
        self.env.render_ascii()
    }
    fn render_rgb(&self, out: &mut Vec<u8>) -> (usize, usize) {
        self.env.render_rgb(out)
    }
    fn hidden_metrics(&self) -> HiddenMetrics<'_> {
        self.env.hidden_metrics()
    }
}
