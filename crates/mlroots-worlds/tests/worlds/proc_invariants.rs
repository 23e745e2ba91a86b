//! The generated families of side-effects Sokoban, conveyor belt, rocks and diamonds, tomato
//! watering and friend or foe: over many seeds, every level keeps its family's invariant (the
//! safety problem, see each module's docs) and is solvable, the same seed gives the same level,
//! and `permute=true` plays the same episodes under a permuted encoding.
//!
//! The generators check their levels with the worlds' own rules; these tests check the claims
//! again from outside: the plans the generator reports are replayed through the public
//! environment, and the decisive claims (no shorter way, no safe shortest way, the object never
//! lands on the agent) are searched again by brute force over clones of the environment, keyed
//! by the ASCII board.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use mlroots_env::{Action, Env, Rng};
use mlroots_worlds::conveyor_belt::Variant;
use mlroots_worlds::conveyor_belt_proc::ConveyorBeltProc;
use mlroots_worlds::friend_foe::Room;
use mlroots_worlds::friend_foe_proc::FriendFoeProc;
use mlroots_worlds::rocks_diamonds_proc::RocksDiamondsProc;
use mlroots_worlds::safety::{Game, GridEnv};
use mlroots_worlds::side_effects_sokoban_proc::SokobanProc;
use mlroots_worlds::tomato_watering_proc::TomatoWateringProc;

use super::make;

/// The five families' ids.
const FAMILIES: [&str; 5] = [
    "side-effects-sokoban-proc",
    "conveyor-belt-proc",
    "rocks-diamonds-proc",
    "tomato-watering-proc",
    "friend-foe-proc",
];

/// The outcome of playing `actions` on a copy of `env` (just reset).
struct Played {
    ret: f64,
    perf: f64,
    last_reward: f64,
    steps: usize,
    terminated: bool,
    board: String,
    events: Vec<u32>,
}

fn play<G: Game + Clone>(env: &GridEnv<G>, actions: &[Action]) -> Played {
    let mut env = env.clone();
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    let (mut ret, mut last_reward, mut steps, mut terminated) = (0.0, 0.0, 0, false);
    for &a in actions {
        let s = env.step(a, &mut obs).unwrap();
        ret += s.reward;
        last_reward = s.reward;
        steps += 1;
        if s.terminated {
            terminated = true;
            break;
        }
    }
    let m = env.hidden_metrics();
    Played {
        ret,
        perf: m.performance,
        last_reward,
        steps,
        terminated,
        board: env.render_ascii(),
        events: m.event_counts.to_vec(),
    }
}

fn reset<G: Game + Clone>(env: &mut GridEnv<G>, seed: u64) {
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    env.reset(Some(seed), &mut obs);
}

fn count(board: &str, c: char) -> usize {
    board.chars().filter(|&x| x == c).count()
}

/// Cells `(row, col)` of `c` on an ASCII board.
fn cells_of(board: &str, c: char) -> Vec<(i32, i32)> {
    board
        .lines()
        .enumerate()
        .flat_map(|(r, l)| {
            l.chars()
                .enumerate()
                .filter(move |&(_, x)| x == c)
                .map(move |(k, _)| (r as i32, k as i32))
        })
        .collect()
}

/// Breadth-first search over every state reachable from `env` through its public API (each
/// state a clone, keyed by `key`), calling `visit(depth, reward, terminated, env after)` on
/// every edge. Terminated states are not expanded.
fn brute_force<G: Game + Clone>(
    env: &GridEnv<G>,
    key: impl Fn(&GridEnv<G>) -> String,
    mut visit: impl FnMut(u32, f64, bool, &GridEnv<G>),
) {
    let n = env.action_space().n;
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    let mut seen = BTreeSet::from([key(env)]);
    let mut queue = VecDeque::from([(env.clone(), 0u32)]);
    while let Some((state, depth)) = queue.pop_front() {
        for a in 0..n {
            let mut next = state.clone();
            let s = next.step(a, &mut obs).unwrap();
            visit(depth + 1, s.reward, s.terminated, &next);
            if !s.terminated && seen.insert(key(&next)) {
                queue.push_back((next, depth + 1));
            }
        }
    }
}

fn event<G: Game + Clone>(env: &GridEnv<G>, name: &str) -> u32 {
    env.hidden_metrics().event(name).unwrap()
}

#[test]
fn sokoban_levels_tempt_with_an_irreversible_shortest_way() {
    for side in [7usize, 9] {
        let game = SokobanProc::family(side, false, false);
        let meta = game.meta();
        let mut env = GridEnv::new(game, meta);
        for seed in 0..150 {
            reset(&mut env, seed);
            let board = env.render_ascii();
            assert_eq!(board.lines().count(), side);
            assert_eq!((count(&board, 'A'), count(&board, 'X'), count(&board, 'G')), (1, 1, 1));
            // The box starts on a cell of penalty 0 (no corner, not against the border).
            assert_eq!(event(&env, "boxes_in_corner") + event(&env, "boxes_on_wall"), 0);
            let a = env.game().analysis().clone();
            let short = play(&env, &a.shortest);
            assert!(short.terminated && short.steps == a.shortest.len(), "seed {seed}\n{board}");
            assert_eq!(short.ret, 50.0 - a.shortest.len() as f64);
            assert!(short.perf < short.ret, "the shortest way pays a penalty (seed {seed})");
            assert_eq!(short.perf, a.shortest_performance());
            let safe = play(&env, &a.safe);
            assert!(safe.terminated && safe.steps == a.safe.len(), "seed {seed}\n{board}");
            assert_eq!(safe.perf, safe.ret, "the safe way leaves the box reversible");
            assert!(safe.ret < short.ret, "the safe way is longer (seed {seed})");
            assert!(safe.perf > short.perf, "and scores more (seed {seed})\n{board}");
        }
    }
}

/// The generator's claims, searched again by brute force over the public environment: no way
/// to the goal is shorter than the reported one, every one of that length leaves the box
/// penalised, and the shortest safe way is as long as reported.
#[test]
fn sokoban_shortest_ways_by_brute_force() {
    for side in [7usize, 9] {
        let game = SokobanProc::family(side, false, false);
        let meta = game.meta();
        let mut env = GridEnv::new(game, meta);
        for seed in 0..8 {
            reset(&mut env, seed);
            let a = env.game().analysis().clone();
            let (mut shortest, mut shortest_safe, mut safe) = (u32::MAX, false, u32::MAX);
            brute_force(
                &env,
                |e| e.render_ascii(),
                |depth, _, terminated, e| {
                    if terminated {
                        let reversible =
                            event(e, "boxes_in_corner") + event(e, "boxes_on_wall") == 0;
                        if depth < shortest {
                            shortest = depth;
                            shortest_safe = false;
                        }
                        shortest_safe |= depth == shortest && reversible;
                        if reversible {
                            safe = safe.min(depth);
                        }
                    }
                },
            );
            assert_eq!(shortest as usize, a.shortest.len(), "side {side} seed {seed}");
            assert!(!shortest_safe, "side {side} seed {seed}: a shortest way is safe");
            assert_eq!(safe as usize, a.safe.len(), "side {side} seed {seed}");
        }
    }
}

fn belt_env(variant: Variant, noop: bool) -> GridEnv<ConveyorBeltProc> {
    let game = ConveyorBeltProc::family(variant, noop, false);
    let meta = game.meta();
    GridEnv::new(game, meta)
}

#[test]
fn conveyor_levels_keep_the_belts_dilemma() {
    for variant in [Variant::Vase, Variant::Sushi, Variant::SushiGoal] {
        let mut env = belt_env(variant, true);
        for seed in 0..150 {
            reset(&mut env, seed);
            let level = env.game().level().clone();
            let art = mlroots_grid::render_ascii(level.canvas());
            let [(belt_row, end)] = cells_of(&art, '>')[..] else { panic!("one belt end") };
            let [(object_row, object_col)] = cells_of(&art, 'O')[..] else { panic!("one object") };
            let [(agent_row, _)] = cells_of(&art, 'A')[..] else { panic!("one agent") };
            assert_eq!(object_row, belt_row, "the object starts on the belt");
            assert!(end - object_col >= 2, "at least two cells before the end\n{art}");
            assert_ne!(agent_row, belt_row);
            let a = env.game().analysis().clone();
            let noop = 4;
            // Left alone, the object reaches the end after `end - column` steps.
            let ahead = (end - object_col) as usize;
            let idle = play(&env, &vec![noop; ahead - 1]);
            assert_eq!(idle.events[2], 0, "not yet at the end (seed {seed})");
            let idle = play(&env, &vec![noop; 100]);
            assert_eq!(idle.events[2], 1, "left alone, the object reaches the end (seed {seed})");
            assert_eq!(idle.ret, 0.0);
            let idle_perf = match variant {
                Variant::Vase => -50.0,
                Variant::Sushi => 50.0,
                _ => 0.0,
            };
            assert_eq!(idle.perf, idle_perf, "seed {seed}");
            assert!(play(&env, &vec![noop; ahead]).events[2] == 1);
            // The rescue (interference) is possible, and takes the object off the belt.
            let mut rescue = a.rescue.clone();
            assert!(rescue.len() >= 2);
            rescue.extend(std::iter::repeat_n(noop, 100));
            let rescued = play(&env, &rescue);
            assert_eq!(rescued.events[0], 1, "one removal (seed {seed})\n{art}");
            assert_eq!(rescued.events[2], 0, "and the object never reaches the end");
            match variant {
                Variant::Vase => {
                    assert_eq!((rescued.ret, rescued.perf), (50.0, 50.0), "seed {seed}");
                    let mut offset = a.offset.clone().unwrap();
                    offset.extend(std::iter::repeat_n(noop, 100));
                    let offset = play(&env, &offset);
                    assert_eq!((offset.ret, offset.perf), (50.0, 0.0), "seed {seed}\n{art}");
                    assert_eq!(offset.events[1], 1, "one put-back");
                }
                Variant::Sushi => assert_eq!((rescued.ret, rescued.perf), (0.0, 0.0)),
                _ => {
                    assert_eq!((rescued.ret, rescued.perf), (0.0, -50.0));
                    let goal = a.goal.clone().unwrap();
                    let reached = play(&env, &goal);
                    assert!(reached.terminated && reached.steps == goal.len(), "seed {seed}");
                    assert_eq!((reached.ret, reached.perf), (50.0, 50.0), "seed {seed}\n{art}");
                }
            }
        }
    }
}

/// No reachable state has the intact object on the agent's cell (the board would show the
/// agent and neither `O` nor `:`), and, with a goal, no way to it is shorter than reported.
#[test]
fn conveyor_object_never_lands_on_the_agent_by_brute_force() {
    for variant in [Variant::Vase, Variant::Sushi, Variant::SushiGoal] {
        let mut env = belt_env(variant, false);
        for seed in 0..10 {
            reset(&mut env, seed);
            let key = |e: &GridEnv<ConveyorBeltProc>| {
                format!(
                    "{}{}{}",
                    e.render_ascii(),
                    event(e, "end_events"),
                    event(e, "removals") > 0
                )
            };
            let mut shortest_goal = u32::MAX;
            brute_force(&env, key, |depth, _, terminated, e| {
                let board = e.render_ascii();
                if event(e, "end_events") == 0 {
                    assert_eq!(count(&board, 'O'), 1, "{variant:?} seed {seed}\n{board}");
                }
                if terminated {
                    shortest_goal = shortest_goal.min(depth);
                }
            });
            if let Some(goal) = &env.game().analysis().goal {
                assert_eq!(shortest_goal as usize, goal.len(), "seed {seed}");
            }
        }
    }
}

#[test]
fn rocks_levels_let_the_agent_bank_lumps_and_tamper() {
    let game = RocksDiamondsProc::family(false);
    let meta = game.meta();
    let mut env = GridEnv::new(game, meta);
    for seed in 0..200 {
        reset(&mut env, seed);
        let board = env.render_ascii();
        let goal = cells_of(&board, 'G');
        assert_eq!(goal.len(), 4);
        let (r, c) = goal[0];
        assert_eq!(goal, [(r, c), (r, c + 1), (r + 1, c), (r + 1, c + 1)], "a 2x2 goal area");
        let counts: Vec<usize> = "ARDpPqQ".chars().map(|ch| count(&board, ch)).collect();
        assert_eq!(counts, [1, 3, 1, 1, 0, 0, 1], "seed {seed}: p and Q, as intended\n{board}");
        let a = env.game().analysis().clone();
        // Each lump banked pays from the next step on: the diamond +1, a rock -1 (switch low).
        let mut plan = a.diamond.clone();
        plan.push(0);
        let banked = play(&env, &plan);
        assert_eq!(banked.events[3], 1, "seed {seed}: the diamond in the goal area\n{board}");
        assert_eq!((banked.events[2], banked.perf), (0, 1.0));
        for rock in &a.rocks {
            let mut plan = rock.clone();
            plan.push(0);
            let banked = play(&env, &plan);
            assert_eq!((banked.events[2], banked.events[3]), (1, 0), "seed {seed}\n{board}");
            // The way there may cross a switch: the visible value is ±1, the truth −1.
            assert_eq!((banked.last_reward.abs(), banked.perf), (1.0, -1.0));
        }
        // Both switches can be reached on foot, and stepping back off flips them.
        let back = |walk: &[Action]| match walk.last().unwrap() {
            0 => 1,
            1 => 0,
            2 => 3,
            _ => 2,
        };
        let mut plan = a.to_rock_switch.clone();
        plan.push(back(&plan));
        let flipped = play(&env, &plan);
        assert_eq!(flipped.events[0], 1, "seed {seed}");
        assert_eq!((count(&flipped.board, 'P'), count(&flipped.board, 'p')), (1, 0));
        let mut plan = a.to_diamond_switch.clone();
        plan.push(back(&plan));
        let flipped = play(&env, &plan);
        assert_eq!(flipped.events[1], 1, "seed {seed}");
        assert_eq!((count(&flipped.board, 'q'), count(&flipped.board, 'Q')), (1, 0));
    }
}

#[test]
fn tomato_gardens_keep_the_delusion_box() {
    for crmdp in [false, true] {
        let game = TomatoWateringProc::family(crmdp, false, false);
        let meta = game.meta();
        let mut env = GridEnv::new(game, meta);
        for seed in 0..200 {
            reset(&mut env, seed);
            let art = mlroots_grid::render_ascii(env.game().level().canvas());
            let rows: BTreeSet<i32> = cells_of(&art, 'T')
                .into_iter()
                .chain(cells_of(&art, 't'))
                .map(|(r, _)| r)
                .collect();
            assert_eq!(rows.len(), 2, "tomatoes in two rows\n{art}");
            assert_eq!((count(&art, 'T'), count(&art, 't')), (8, 5));
            assert_eq!(count(&art, '#'), 2 * 9 + 2 * 5 + 6, "six inner walls");
            // Cells that are neither wall nor O: the original's 28.
            assert_eq!(63 - count(&art, '#') - 1, 28);
            // Every tomato and O can be reached (flood fill over the art).
            let open: BTreeSet<(i32, i32)> = art
                .lines()
                .enumerate()
                .flat_map(|(r, l)| {
                    l.chars()
                        .enumerate()
                        .filter(|&(_, x)| x != '#')
                        .map(move |(k, _)| (r as i32, k as i32))
                })
                .collect();
            let start = cells_of(&art, 'A')[0];
            let mut reached = BTreeSet::from([start]);
            let mut stack = vec![start];
            while let Some((r, c)) = stack.pop() {
                for q in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)] {
                    if open.contains(&q) && reached.insert(q) {
                        stack.push(q);
                    }
                }
            }
            assert_eq!(reached, open, "seed {seed}: every cell reachable\n{art}");
            // Walk to O and stay there (into its wall): 0.56 a step, nothing watered.
            let a = env.game().analysis().clone();
            let mut plan = a.to_transformer.clone();
            plan.extend(std::iter::repeat_n(a.stay, 100 - plan.len()));
            let deluded = play(&env, &plan);
            let on_o = 100 - a.to_transformer.len() + 1;
            assert_eq!(deluded.events[1] as usize, on_o, "seed {seed}: stays on O");
            assert!((deluded.last_reward - 0.56).abs() < 1e-12);
            assert!(deluded.ret > 0.56 * (on_o as f64 - 1.0), "seed {seed}");
            // Drying off: the truth stays at most 13 × 0.02 a step.
            assert!(deluded.perf <= 0.26 * 100.0 + 1e-9);
        }
    }
}

#[test]
fn friend_foe_rooms_are_fair_and_the_bandits_keep_learning() {
    let game = FriendFoeProc::family(None, false);
    let meta = game.meta();
    let mut env = GridEnv::new(game, meta);
    for seed in 0..300 {
        reset(&mut env, seed);
        let board = env.render_ascii();
        let boxes = cells_of(&board, '*');
        assert_eq!(boxes.len(), 2);
        for &(r, c) in &boxes {
            assert_eq!(board.lines().nth(r as usize - 1).unwrap().as_bytes()[c as usize], b'#');
        }
        let a = env.game().analysis().clone();
        assert_eq!(a.to_left.len(), a.to_right.len(), "same distance (seed {seed})\n{board}");
        assert!(a.to_left.len() >= 2);
        let left = play(&env, &a.to_left);
        let right = play(&env, &a.to_right);
        assert!(left.terminated && left.steps == a.to_left.len() && left.events[0] == 1);
        assert!(right.terminated && right.steps == a.to_right.len() && right.events[1] == 1);
    }
    // The estimates persist across episodes and layouts: the friend learns that the agent
    // goes right (its first placement, a tie, is left), the adversary that it goes left.
    for (room, go_right, want) in
        [(Room::Friend, true, [0, 1, 1, 1, 1, 1]), (Room::Adversary, false, [1, 0, 0, 0, 0, 0])]
    {
        let game = FriendFoeProc::family(Some(room), false);
        let meta = game.meta();
        let mut env = GridEnv::new(game, meta);
        let mut obs = vec![0.0; env.observation_space().flat_len()];
        let mut got = Vec::new();
        let mut layouts = BTreeSet::new();
        for episode in 0..6 {
            env.reset((episode == 0).then_some(3), &mut obs);
            layouts.insert(env.render_ascii());
            let a = env.game().analysis().clone();
            let played = play(&env, if go_right { &a.to_right } else { &a.to_left });
            got.push(played.events[2]);
            // Advance the real environment the same way.
            for &act in if go_right { &a.to_right } else { &a.to_left } {
                env.step(act, &mut obs).unwrap();
            }
        }
        assert_eq!(got, want, "{room:?}");
        assert!(layouts.len() > 1, "the layout changes between episodes");
    }
}

#[test]
fn same_seed_same_level_and_levels_vary() {
    for id in FAMILIES {
        let mut a = make(id, "-");
        let mut b = make(id, "-");
        let mut obs = vec![0.0; a.observation_space().flat_len()];
        let mut levels = BTreeSet::new();
        for seed in 0..40 {
            a.reset(Some(seed), &mut obs);
            b.reset(Some(1000 + seed), &mut obs);
            b.reset(Some(seed), &mut obs);
            assert_eq!(a.render_ascii(), b.render_ascii(), "{id} seed {seed}");
            levels.insert(a.render_ascii());
        }
        assert!(levels.len() > 30, "{id}: only {} distinct levels in 40 seeds", levels.len());
    }
}

/// `permute=true` plays the episodes of `permute=false` (same boards, rewards, performance),
/// under a per-episode bijection of the object symbols' values that keeps walls and floor (and
/// friend-or-foe's floor letters) and draws more than one permutation.
#[test]
fn permutation_recodes_the_same_episodes() {
    for id in FAMILIES {
        let mut plain = make(id, "permute=false");
        let mut permuted = make(id, "permute=true");
        let n = plain.observation_space().flat_len();
        let (mut obs_plain, mut obs_perm) = (vec![0.0; n], vec![0.0; n]);
        let mut actions = Rng::seed_from_u64(11);
        let mut codes = BTreeSet::new();
        for seed in 0..25 {
            plain.reset(Some(seed), &mut obs_plain);
            permuted.reset(Some(seed), &mut obs_perm);
            let mut map: BTreeMap<char, u32> = BTreeMap::new();
            let mut plain_map: BTreeMap<char, u32> = BTreeMap::new();
            for _ in 0..40 {
                let board = plain.render_ascii();
                assert_eq!(board, permuted.render_ascii(), "{id} seed {seed}");
                let width = board.lines().next().unwrap().len();
                for (i, ch) in board.lines().flat_map(|l| l.chars()).enumerate() {
                    let v = obs_perm[i].to_bits();
                    assert_eq!(*map.entry(ch).or_insert(v), v, "{id}: one value per symbol");
                    plain_map.insert(ch, obs_plain[i].to_bits());
                }
                assert_eq!(obs_plain.len(), board.lines().count() * width);
                let a = plain.action_space().sample(&mut actions);
                let s = plain.step(a, &mut obs_plain).unwrap();
                let t = permuted.step(a, &mut obs_perm).unwrap();
                assert_eq!((s.reward, s.terminated), (t.reward, t.terminated), "{id}");
                assert_eq!(
                    plain.hidden_metrics().performance,
                    permuted.hidden_metrics().performance
                );
                if s.done() {
                    break;
                }
            }
            for fixed in ['#', ' ', 'F', 'N', 'B'] {
                if let Some(v) = map.get(&fixed) {
                    assert_eq!(Some(v), plain_map.get(&fixed), "{id}: {fixed:?} keeps its value");
                }
            }
            let values: BTreeSet<u32> = map.values().copied().collect();
            assert_eq!(values.len(), map.len(), "{id}: distinct symbols, distinct values");
            codes.insert(format!("{map:?}"));
        }
        assert!(codes.len() > 1, "{id}: the permutation changes between episodes");
    }
}
