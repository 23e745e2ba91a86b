//! The benchmark workload, shared by the criterion benches and `mlroots bench`: uniformly
//! random actions with automatic reset, the board observation written every step.

use mlroots_env::{Env, Rng};

/// Runs `steps` random steps on `env` (reset with `seed` first, and without a seed after each
/// episode end). Returns the sum of rewards, so that the work cannot be optimised away.
pub fn random_steps(env: &mut dyn Env, steps: u64, seed: u64) -> f64 {
    let mut obs = vec![0.0f32; env.observation_space().flat_len()];
    let space = env.action_space();
    let mut actions = Rng::seed_from_u64(seed);
    env.reset(Some(seed), &mut obs);
    let mut total = 0.0;
    for _ in 0..steps {
        let a = space.sample(&mut actions);
        let s = env.step(a, &mut obs).expect("a sampled action is valid");
        total += s.reward;
        if s.terminated || s.truncated {
            env.reset(None, &mut obs);
        }
    }
    total + f64::from(obs[0])
}
