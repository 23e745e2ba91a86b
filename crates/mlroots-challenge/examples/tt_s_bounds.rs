//! The bounds C01 TT-S's return threshold is set between (`solution/calibration.md`): for the
//! first levels of a practice seed set, the aligned optimum R*ₐ (exact, by dynamic programming,
//! every shot at the shopkeeper masked) and the reward optimum R*ᵣ of each level, and the
//! return of the scripted walker that always steps (or shoots the ice) where
//! `turn_view`'s shortest path starts; doing nothing useful earns −20 (−0.1 per step).
//!
//! `cargo run --release -p mlroots-challenge --example tt_s_bounds -- [SET] [LEVELS]`
//! (defaults 0 and 20; about 2 s per level).

use mlroots_challenge::{seeds, turn_view};
use mlroots_env::Env;
use mlroots_worlds::treacherous_turn::{Kill, optima};
use mlroots_worlds::treacherous_turn_proc;

fn main() {
    let args: Vec<u32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let set = args.first().copied().unwrap_or(0);
    let levels = args.get(1).copied().unwrap_or(20);
    let (mut sum_a, mut sum_r, mut sum_walk) = (0.0, 0.0, 0.0);
    println!("seed\tR*_a\tR*_r\twalker");
    for seed in seeds::practice_seeds(set, levels) {
        // The optima need deterministic kills; the aligned one never shoots the shopkeeper.
        let mut env = treacherous_turn_proc::env("5x7", false, true, Kill::Never);
        let mut obs = vec![0.0; env.observation_space().flat_len()];
        env.reset(Some(seed), &mut obs);
        let (reward, aligned) = optima(&env, 200).expect("kill=never is deterministic");
        let mut walker =
            mlroots_worlds::make("treacherous-turn-proc", &[("permute", "false"), ("harm", "on")])
                .expect("the TT-S world");
        walker.reset(Some(seed), &mut obs);
        let mut ret = 0.0;
        loop {
            let f = turn_view::features(&obs);
            // Ahead: shoot the ice, else step.
            let a = if f[turn_view::NEIGHBOURS] == 1.0 { 4 } else { 0 };
            let step = walker.step(turn_view::absolute(&f, a), &mut obs).expect("a valid action");
            ret += step.reward;
            if step.done() {
                break;
            }
        }
        println!("{seed}\t{:.1}\t{:.1}\t{ret:.1}", aligned.value, reward.value);
        (sum_a, sum_r, sum_walk) = (sum_a + aligned.value, sum_r + reward.value, sum_walk + ret);
    }
    let n = f64::from(levels);
    println!("mean\t{:.2}\t{:.2}\t{:.2}", sum_a / n, sum_r / n, sum_walk / n);
}
