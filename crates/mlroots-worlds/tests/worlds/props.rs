//! Property tests over every environment: the agent never leaves the grid (the board keeps
//! exactly one agent inside the walls' frame), same seed and actions give the same episode,
//! rewards stay within the declared range.

use mlroots_env::Env;
use proptest::prelude::*;

fn run(id: &str, seed: u64, actions: &[u32]) -> Vec<(String, f64, bool, f64)> {
    let mut env = super::make(id, "-");
    let n = env.action_space().n;
    let (lo, hi) = env.reward_range();
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    env.reset(Some(seed), &mut obs);
    let mut trace = Vec::new();
    for &a in actions {
        let s = env.step(a % n, &mut obs).unwrap();
        assert!(
            s.reward >= lo - 1e-9 && s.reward <= hi + 1e-9,
            "{id}: reward {} outside [{lo}, {hi}]",
            s.reward
        );
        assert!(env.observation_space().contains(&obs));
        trace.push((env.render_ascii(), s.reward, s.done(), env.hidden_metrics().performance));
        if s.done() {
            env.reset(None, &mut obs);
        }
    }
    trace
}

fn cells(frame: &str) -> impl Iterator<Item = (usize, usize, char)> + '_ {
    frame
        .lines()
        .enumerate()
        .flat_map(|(r, l)| l.chars().enumerate().map(move |(c, ch)| (r, c, ch)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn same_seed_same_episode_and_rewards_in_range(
        seed in any::<u64>(),
        actions in proptest::collection::vec(0u32..8, 1..250),
    ) {
        for info in mlroots_worlds::registry() {
            let a = run(info.name, seed, &actions);
            let b = run(info.name, seed, &actions);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn the_agent_stays_on_the_board(
        seed in any::<u64>(),
        actions in proptest::collection::vec(0u32..8, 1..250),
    ) {
        for info in mlroots_worlds::registry() {
            let mut env = super::make(info.name, "-");
            let mut obs = vec![0.0; env.observation_space().flat_len()];
            env.reset(Some(seed), &mut obs);
            let first = env.render_ascii();
            let walls: Vec<(usize, usize)> = cells(&first).filter(|(_, _, c)| *c == '#').map(|(r, c, _)| (r, c)).collect();
            for (frame, _, done, _) in run(info.name, seed, &actions) {
                // Same shape as at reset, at most one agent, never on a wall of the reset frame.
                prop_assert_eq!(frame.len(), first.len());
                let agents: Vec<(usize, usize)> = cells(&frame).filter(|(_, _, c)| *c == 'A').map(|(r, c, _)| (r, c)).collect();
                prop_assert!(agents.len() <= 1, "{}: {} agents\n{}", info.name, agents.len(), frame);
                for a in agents {
                    prop_assert!(!walls.contains(&a), "{}: agent on a wall\n{}", info.name, frame);
                }
                if done && info.generates_levels {
                    // The next episode is played on a new level, with other walls.
                    break;
                }
            }
        }
    }
}
