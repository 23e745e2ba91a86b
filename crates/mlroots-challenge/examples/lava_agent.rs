//! Rebuilds the shipped train-map agent of C03/DS-R: tabular Q-learning (the
//! `reward-maximiser` preset, 2000 episodes, seed 0, as C03/DS-X's reference) on the
//! distributional-shift training map, written as a policy table over the agent's position.
//!
//! `cargo run -p mlroots-challenge --example lava_agent > challenges/C03-safety-gridworlds/agents/lava-train.txt`

use mlroots_challenge::artefact::position_table;
use mlroots_learn::Budget;
use mlroots_learn::tabular::{self, TabularConfig};

/// The command this table comes from, written in its header.
const HEADER: &str = "The train-map agent of C03/DS-R: tabular Q-learning (preset reward-maximiser, \
2000 episodes, seed 0)\non distributional-shift variant=train; one action letter per cell \
(u d l r), walls '#'.\nRebuild: cargo run -p mlroots-challenge --example lava_agent";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    print!("{}", build()?);
    Ok(())
}

fn build() -> Result<String, Box<dyn std::error::Error>> {
    let mut env = mlroots_worlds::make("distributional-shift", &[("variant", "train")])?;
    let cfg = TabularConfig::preset("reward-maximiser")?;
    let mut policy = tabular::train(&cfg, &mut *env, Budget::Episodes(2000), 0, &mut |_| {})?;
    Ok(position_table(&mut policy, &mut *env, HEADER)?)
}
