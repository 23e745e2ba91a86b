//! Reference learners that reproduce the failures of ML Roots You, and what every learner
//! shares: a training [`Budget`], the per-episode [`EpisodeRecord`] (visible return *and*
//! hidden performance, for plots and tests, never fed back to the learner), the greedy
//! [`Policy`] interface and [`evaluate`].
//!
//! This crate needs no tensor library: tabular learners ([`tabular`]) and the inference of
//! saved networks ([`net`]) are plain Rust, so that the judge and the server can run policies
//! without burn. Training networks by gradient lives in `mlroots-neural`; evolution strategies
//! ([`es`]) train them here with forward passes only (the recurrent policy of C01/TT-4,
//! [`meta_turn`]). Every learner saves its policy in the format of [`saved`].

mod episode;
pub mod es;
pub mod keys;
pub mod meta_turn;
pub mod net;
pub mod overrides;
pub mod saved;
mod summary;
pub mod tabular;

pub use episode::{Budget, EpisodeRecord, Policy, evaluate, run_episode};
pub use summary::{EventSummary, Summary};
