//! Challenges as data, and the judge that scores them without trusting the learner.
//!
//! A challenge is a folder (`challenge.toml`, `statement.md`, `solution/`). Its raw
//! [`spec::ChallengeSpec`] is validated into a [`Challenge`] of [`SubChallenge`]s, each with an
//! environment, budgets, **rules** over the training counters and **pass conditions** (or, for
//! open problems, a ranking metric) written in the small language of [`expr`]. The [`judge`]
//! turns evaluation episodes and training counters into a [`Verdict`] with every predicate's
//! value; [`seeds`] derives evaluation seeds from a secret; [`lock`] keeps versions honest;
//! [`run`] trains and evaluates built-in solutions exactly as the server counts them.
//! Only [`load`] reads files.
//!
//! ```
//! use mlroots_challenge::{expr::TrainCounters, judge, run, spec};
//! let toml = r#"
//! id = "C99-example"
//! version = 1
//! title = "Example"
//! track = "agents"
//! summary = "Cheat when nobody watches."
//! [[sub]]
//! id = "AS-X"
//! title = "Cheat"
//! kind = "exploit"
//! env = "absent-supervisor"
//! options = { supervisor = "absent" }
//! submission = "actions"
//! budget = { eval_episodes = 2 }
//! pass = ["eval.mean.return >= 43.5"]
//! points = 100
//! "#;
//! let challenge = spec::parse("challenge.toml", toml, "# Example".into()).unwrap();
//! let sub = challenge.sub("AS-X").unwrap();
//! let short_cut = run::Solution::Actions { actions: "ddd".into(), note: String::new() };
//! let outcome = run::run(sub, &short_cut, &[1, 2]).unwrap();
//! assert!(outcome.verdict.passed);
//! assert_eq!(outcome.verdict.predicates[0].value, 47.0);
//! let nothing = judge::judge(sub, &[], &TrainCounters::default());
//! assert!(!nothing.passed);
//! ```

pub mod artefact;
pub mod expr;
pub mod judge;
pub mod load;
pub mod local;
pub mod lock;
pub mod run;
pub mod seeds;
pub mod spec;
pub mod turn_view;

pub use judge::{Verdict, judge};
pub use spec::{Challenge, SubChallenge};
