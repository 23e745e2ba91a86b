//! The environment contract every world of ML Roots You implements: Gymnasium's, in Rust.
//!
//! An [`Env`] is reset with an optional seed and stepped with a discrete [`Action`]:
//!
//! * [`Env::reset`] writes the first observation into a caller-provided buffer and returns
//!   the public [`Info`];
//! * [`Env::step`] writes the next observation and returns a [`Step`]: reward, `terminated`
//!   (the MDP's own end), `truncated` (only ever set by [`TimeLimit`]) and [`Info`].
//!
//! Observations are written into the caller's buffer (`&mut [f32]`, length
//! [`Space::flat_len`]) so that stepping allocates nothing.
//!
//! The public extras of a step live in [`Info`]. What the learner must never see (the hidden
//! reward, the episode's hidden performance and the hidden event counters) is reachable only
//! through the explicitly named accessor [`Env::hidden_metrics`]: nothing that forwards an
//! `Info` can forward a hidden value by accident.
//!
//! ```
//! use mlroots_env::{Discrete, Env, Rng};
//! let space = Discrete::new(4);
//! let mut rng = Rng::seed_from_u64(7);
//! let a = space.sample(&mut rng);
//! assert!(space.contains(a));
//! ```

mod checker;
mod info;
mod rng;
mod space;
mod time_limit;
mod wrapper;

pub use checker::{CheckError, CheckOptions, check_env};
pub use info::{Extra, Extras, HiddenMetrics, Info, TerminationReason};
pub use rng::Rng;
pub use space::{BoxSpace, Discrete, Space};
pub use time_limit::TimeLimit;
pub use wrapper::{Hooks, Inner, Wrapper};

/// A discrete action: an index into the environment's [`Discrete`] action space.
pub type Action = u32;

/// What one step returns besides the observation (written into the caller's buffer).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The visible reward of this step.
    pub reward: f64,
    /// The episode reached a terminal state of the MDP (goal, lava, water, a choice...).
    pub terminated: bool,
    /// The episode was cut by the time limit. Only [`TimeLimit`] sets this.
    pub truncated: bool,
    /// Public extras of this step.
    pub info: Info,
}

impl Step {
    /// True when the episode is over, for either reason.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// One action of an environment, as people type and read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ActionMeaning {
    /// The letter used in action strings (`u`, `d`, `l`, `r`, `n`, ...).
    pub letter: char,
    /// A short name (`up`, `noop`, ...).
    pub name: &'static str,
}

/// Errors an environment returns for bad calls. Each says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// The action is outside the action space.
    #[error("action {action} is not in the action space Discrete({n}); use 0..{n}")]
    InvalidAction {
        /// The action given.
        action: Action,
        /// The size of the action space.
        n: u32,
    },
    /// `step` was called after the episode ended (or before the first reset).
    #[error("the episode is over (or was never started); call reset before step")]
    NeedsReset,
    /// The observation buffer has the wrong length.
    #[error("observation buffer has length {got}, the observation space needs {want}")]
    BadBuffer {
        /// The buffer's length.
        got: usize,
        /// The length the observation space needs.
        want: usize,
    },
}

/// A reinforcement-learning environment with Gymnasium's contract.
///
/// Implementations must be deterministic: the same seed and the same actions give the same
/// observations, rewards, infos and hidden metrics, on every machine. Environments are `Send`
/// so that a server can keep a session's environment and step it from whichever thread
/// serves the request.
pub trait Env: Send {
    /// The registered id, with its version (`boat-race-v1`).
    fn id(&self) -> &str;
    /// The action space.
    fn action_space(&self) -> Discrete;
    /// The meaning and letter of each action, indexed by action.
    fn action_meanings(&self) -> &[ActionMeaning];
    /// The observation space; the buffers given to `reset` and `step` have its flat length.
    fn observation_space(&self) -> &Space;
    /// The range every single step's visible reward lies in, bounds included.
    fn reward_range(&self) -> (f64, f64);
    /// Starts an episode. With `Some(seed)` the episode's random stream is reseeded; with
    /// `None` it continues from the previous episode (a fresh environment behaves as if
    /// seeded with 0).
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Info;
    /// Applies one action.
    fn step(&mut self, action: Action, obs: &mut [f32]) -> Result<Step, EnvError>;
    /// The current board as ASCII art, one line per row.
    fn render_ascii(&self) -> String;
    /// The current frame as an RGB image, channel-major (3 × height × width) into `out`;
    /// returns `(height, width)`.
    fn render_rgb(&self, out: &mut Vec<u8>) -> (usize, usize);
    /// The hidden reward, the episode's hidden performance and the hidden event counters.
    ///
    /// Never forward this to a learner: it is what the judge scores.
    fn hidden_metrics(&self) -> HiddenMetrics<'_>;
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn action_space(&self) -> Discrete {
        (**self).action_space()
    }
    fn action_meanings(&self) -> &[ActionMeaning] {
        (**self).action_meanings()
    }
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn reward_range(&self) -> (f64, f64) {
        (**self).reward_range()
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Info {
        (**self).reset(seed, obs)
    }
    fn step(&mut self, action: Action, obs: &mut [f32]) -> Result<Step, EnvError> {
        (**self).step(action, obs)
    }
    fn render_ascii(&self) -> String {
        (**self).render_ascii()
    }
    fn render_rgb(&self, out: &mut Vec<u8>) -> (usize, usize) {
        (**self).render_rgb(out)
    }
    fn hidden_metrics(&self) -> HiddenMetrics<'_> {
        (**self).hidden_metrics()
    }
}
