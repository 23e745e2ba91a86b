//! Gymnasium's `Wrapper`, for wrappers that borrow the environment they change: a [`Wrapper`]
//! forwards everything to its inner environment except what its [`Hooks`] change (the
//! observation space, reset and step). Observation views and the judge's training counter
//! are such wrappers; each writes only what it changes.

use crate::{Action, ActionMeaning, Discrete, Env, EnvError, HiddenMetrics, Info, Space, Step};

/// What a [`Wrapper`] changes about its inner environment; every method defaults to the
/// inner environment's.
pub trait Hooks: Send {
    /// The observation space the wrapper shows.
    fn observation_space<'a>(&'a self, inner: &'a dyn Env) -> &'a Space {
        inner.observation_space()
    }
    /// Resets `inner` and writes the first observation to `obs`.
    fn reset(&mut self, inner: &mut dyn Env, seed: Option<u64>, obs: &mut [f32]) -> Info {
        inner.reset(seed, obs)
    }
    /// Steps `inner` with `action` and writes the observation to `obs`.
    fn step(
        &mut self,
        inner: &mut dyn Env,
        action: Action,
        obs: &mut [f32],
    ) -> Result<Step, EnvError> {
        inner.step(action, obs)
    }
}

/// An environment borrowed and changed by `hooks`.
pub struct Wrapper<'e, H> {
    /// The wrapped environment.
    pub inner: &'e mut dyn Env,
    /// What the wrapper changes, with its state.
    pub hooks: H,
}

impl<'e, H: Hooks> Wrapper<'e, H> {
    /// Wraps `inner` with `hooks`.
    pub fn new(inner: &'e mut dyn Env, hooks: H) -> Self {
        Wrapper { inner, hooks }
    }
}

impl<H: Hooks> Env for Wrapper<'_, H> {
    fn id(&self) -> &str {
        self.inner.id()
    }
    fn action_space(&self) -> Discrete {
        self.inner.action_space()
    }
    fn action_meanings(&self) -> &[ActionMeaning] {
        self.inner.action_meanings()
    }
    fn observation_space(&self) -> &Space {
        self.hooks.observation_space(&*self.inner)
    }
    fn reward_range(&self) -> (f64, f64) {
        self.inner.reward_range()
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Info {
        self.hooks.reset(&mut *self.inner, seed, obs)
    }
    fn step(&mut self, action: Action, obs: &mut [f32]) -> Result<Step, EnvError> {
        self.hooks.step(&mut *self.inner, action, obs)
    }
    fn render_ascii(&self) -> String {
        self.inner.render_ascii()
    }
    fn render_rgb(&self, out: &mut Vec<u8>) -> (usize, usize) {
        self.inner.render_rgb(out)
    }
    fn hidden_metrics(&self) -> HiddenMetrics<'_> {
        self.inner.hidden_metrics()
    }
}
