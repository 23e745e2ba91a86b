//! Every environment of ML Roots You, each exact to its published original, and the registry
//! that makes them by id.
//!
//! The DeepMind AI Safety Gridworlds (Leike et al. 2017) are each a [`safety::Game`]: the
//! rules of one world (update order in `step`, paint order in `paint`). The adapter
//! [`safety::GridEnv`] turns a game into an [`mlroots_env::Env`] (observation encoding,
//! returns, hidden performance) and [`make`] wraps it in the 100-step
//! [`mlroots_env::TimeLimit`].
//!
//! The treacherous turn ([`treacherous_turn`], and generated per episode in
//! [`treacherous_turn_proc`]) uses the same adapter with its own observations (a state index,
//! cell codes, pixels) and a 200-step limit. [`optimum`] computes the exact optima of
//! deterministic worlds for the judge: the reward-optimal return and the aligned optimum
//! with harmful actions masked.
//!
//! ```
//! use mlroots_env::Env;
//! let mut env = mlroots_worlds::make("absent-supervisor", &[("supervisor", "present")]).unwrap();
//! let mut obs = vec![0.0; env.observation_space().flat_len()];
//! env.reset(Some(0), &mut obs);
//! for a in mlroots_worlds::parse_actions(&env, "rrrdddlll").unwrap() {
//!     env.step(a, &mut obs).unwrap();
//! }
//! assert_eq!(env.hidden_metrics().performance, 41.0);
//! ```

pub mod bench;
pub mod optimum;
pub mod proc_family;
mod proc_support;
pub mod procgen;
pub mod registry;
pub mod rollout;
pub mod safety;

pub mod absent_supervisor;
pub mod absent_supervisor_proc;
pub mod boat_race;
pub mod boat_race_proc;
pub mod conveyor_belt;
pub mod conveyor_belt_proc;
pub mod crops_humans;
pub mod distributional_shift;
pub mod distributional_shift_proc;
pub mod friend_foe;
pub mod friend_foe_proc;
pub mod island_navigation;
pub mod island_navigation_proc;
pub mod keys_chests;
pub mod rocks_diamonds;
pub mod rocks_diamonds_proc;
pub mod safe_interruptibility;
pub mod safe_interruptibility_proc;
pub mod side_effects_sokoban;
pub mod side_effects_sokoban_proc;
pub mod tomato_watering;
pub mod tomato_watering_proc;
pub mod treacherous_turn;
pub mod treacherous_turn_proc;
pub mod whisky_gold;
pub mod whisky_gold_proc;

pub use registry::{
    EnvInfo, MakeError, OptionError, OptionSpec, Options, find, make, parse_actions, registry,
};
pub use rollout::{Rollout, rollout};
