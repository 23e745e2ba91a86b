//! Learners that train neural networks, on burn's pure-Rust `flex` CPU backend: DQN, the
//! `harvester-v1` network of the crops-and-humans challenge, and dreaming (optimising an input
//! against a frozen network).
//!
//! Only this crate depends on burn (a long build); everything that merely *runs* a saved network
//! uses the plain-Rust forward pass of [`mlroots_learn::net`].

pub mod bench;
pub mod dqn;
pub mod dream;
pub mod harvester;
pub mod nn;
