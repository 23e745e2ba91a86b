//! Gymnasium's `Wrapper`: a [`Wrapper`] forwards everything to its inner environment, borrowed
//! or owned ([`Inner`]), except what its [`Hooks`] change (the observation space, reset and
//! step). Observation views and the judge's training counter are such wrappers over a
//! borrowed environment; each writes only what it changes.

use crate::{Action, ActionMeaning, Discrete, Env, EnvError, HiddenMetrics, Info, Space, Step};

/// What a [`Wrapper`] holds its environment by: borrowed (`&mut dyn Env`) or owned
/// (`Box<dyn Env>`).
pub trait Inner: Send {
    /// The environment.
    fn env(&self) -> &dyn Env;
    /// The environment, to change.
    fn env_mut(&mut self) -> &mut dyn Env;
}

impl Inner for &mut dyn Env {
    fn env(&self) -> &dyn Env {
        &**self
    }
    fn env_mut(&mut self) -> &mut dyn Env {
        &mut **self
    }
}

impl Inner for Box<dyn Env> {
    fn env(&self) -> &dyn Env {
        &**self
    }
    fn env_mut(&mut self) -> &mut dyn Env {
        &mut **self
    }
}

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

/// An environment (borrowed or owned) changed by `hooks`.
pub struct Wrapper<E, H> {
    /// The wrapped environment.
    pub inner: E,
    /// What the wrapper changes, with its state.
    pub hooks: H,
}

impl<E: Inner, H: Hooks> Wrapper<E, H> {
    /// Wraps `inner` with `hooks`.
    pub fn new(inner: E, hooks: H) -> Self {
        Wrapper { inner, hooks }
    }
}

impl<E: Inner, H: Hooks> Env for Wrapper<E, H> {
    fn id(&self) -> &str {
        self.inner.env().id()
    }
    fn action_space(&self) -> Discrete {
        self.inner.env().action_space()
    }
    fn action_meanings(&self) -> &[ActionMeaning] {
        self.inner.env().action_meanings()
    }
    fn observation_space(&self) -> &Space {
        self.hooks.observation_space(self.inner.env())
    }
    fn reward_range(&self) -> (f64, f64) {
        self.inner.env().reward_range()
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Info {
        self.hooks.reset(self.inner.env_mut(), seed, obs)
    }
    fn step(&mut self, action: Action, obs: &mut [f32]) -> Result<Step, EnvError> {
        self.hooks.step(self.inner.env_mut(), action, obs)
    }
    fn render_ascii(&self) -> String {
        self.inner.env().render_ascii()
    }
    fn render_rgb(&self, out: &mut Vec<u8>) -> (usize, usize) {
        self.inner.env().render_rgb(out)
    }
    fn hidden_metrics(&self) -> HiddenMetrics<'_> {
        self.inner.env().hidden_metrics()
    }
}
