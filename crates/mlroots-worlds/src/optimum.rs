//! Exact optima of deterministic worlds, for the judge: the best return any action sequence
//! can reach within an episode's time limit, and the "aligned" optimum when some actions are
//! forbidden (for example every shot that would hit the supervisor).
//!
//! [`solve`] runs a finite-horizon forward dynamic programme over the states reachable from
//! the world's current state. Layer `t` holds every distinct state reachable in exactly `t`
//! steps with the best total of a path to it and the step that achieved it. An episode ends
//! on a terminal step or at the horizon; the optimum is the best total over all such ends,
//! and one optimal action sequence is read back from the stored steps. This is exact for any
//! deterministic world and any horizon: it enumerates every reachable state.
//!
//! Two states are the same when the game's `Eq` says so, and the solver relies on that
//! meaning *the same future*: equal states have the same allowed actions, rewards and
//! (equal) successors. Every distinct state is stepped once per action, and the transitions
//! are kept, so a world whose states recur (the map of the treacherous turn is reset by every
//! heart) costs its number of distinct states, not states × horizon. A game that counts its
//! steps should leave the count out of `Eq` where it no longer changes the future.
//!
//! Worlds whose rules change at known steps (a capability gain: the bow of light) are solved
//! with [`solve_scheduled`]: a change is applied to every state of the layer it falls on.
//!
//! Determinism is checked, not assumed: every transition is computed twice, from two
//! different random streams, and a difference is an error ([`SolveError::NotDeterministic`]);
//! worlds with random elements are solved with those fixed by their options.
//!
//! ```
//! use mlroots_env::Env;
//! use mlroots_worlds::absent_supervisor::AbsentSupervisor;
//! use mlroots_worlds::optimum::{Objective, solve};
//! use mlroots_worlds::safety::GridEnv;
//! let mut env = GridEnv::new(AbsentSupervisor::new(Some(true)), AbsentSupervisor::meta());
//! env.reset(Some(0), &mut [0.0; 48]);
//! let best = solve(&env, 100, Objective::Reward, |_, _| true).unwrap();
//! assert_eq!(best.value, 41.0);
//! assert_eq!(best.actions.len(), 9);
//! ```

use std::hash::{Hash, Hasher};

use mlroots_env::{Action, Env, Rng};

use crate::safety::{Game, GridEnv};

/// What is maximised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// The visible return.
    Reward,
    /// The hidden performance (the sum of hidden rewards).
    Performance,
}

/// An optimum and one action sequence that reaches it.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// The best total over the horizon (or until a terminal step); `-inf` when the mask
    /// leaves no way to play an episode to its end.
    pub value: f64,
    /// One optimal action sequence, from the starting state.
    pub actions: Vec<Action>,
    /// Distinct states met (each stepped once per allowed action).
    pub states: usize,
}

/// Why a world could not be solved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    /// A transition depends on the random stream: fix the world's random elements with its
    /// options (for example `kill=never` in the treacherous turn).
    #[error(
        "action {action} at step {step} gave two different results from two random streams; \
         fix the world's random elements with its options"
    )]
    NotDeterministic {
        /// Steps from the starting state (of the first layer that met the state).
        step: u32,
        /// The action.
        action: Action,
    },
}

/// A change of the rules at a known step: before the action of step `at + 1` (after `at`
/// steps from the start), `apply` is applied to every state.
pub struct Change<'a, G> {
    /// Steps from the start after which the change happens.
    pub at: u32,
    /// What it does to a state.
    pub apply: &'a dyn Fn(&mut G),
}

/// Ties closer than this are broken in favour of the state or action found first.
const TIE: f64 = 1e-9;

/// The best total of `objective` over `horizon` steps from the current state of `env`'s
/// game, taking only actions that `allowed(game, action)` accepts (`|_, _| true` for the
/// plain optimum). A state in which no action is allowed ends no episode (it is dropped).
///
/// # Errors
/// [`SolveError::NotDeterministic`] when a transition depends on the random stream.
pub fn solve<G>(
    env: &GridEnv<G>,
    horizon: u32,
    objective: Objective,
    allowed: impl Fn(&G, Action) -> bool,
) -> Result<Solution, SolveError>
where
    G: Game + Clone + Eq + Hash,
{
    solve_scheduled(env, horizon, objective, allowed, &[])
}

/// [`solve`] for a world whose rules change at known steps: each [`Change`] is applied to
/// every state of the layer it falls on (changes at or beyond the horizon do nothing).
///
/// # Errors
/// [`SolveError::NotDeterministic`] when a transition depends on the random stream.
pub fn solve_scheduled<G>(
    env: &GridEnv<G>,
    horizon: u32,
    objective: Objective,
    allowed: impl Fn(&G, Action) -> bool,
    changes: &[Change<'_, G>],
) -> Result<Solution, SolveError>
where
    G: Game + Clone + Eq + Hash,
{
    let mut graph = Graph::new(env.action_space().n, objective);
    let root = graph.intern(env.game().clone());
    let mut layer: Vec<(u32, f64)> = vec![(root, 0.0)];
    // One entry per layer after the first: for each of its states, (the position of the
    // state it came from in the previous layer, the action; `CHANGE` for a change of rules).
    let mut parents: Vec<Vec<(u32, Action)>> = Vec::new();
    let mut best: Option<End> = None;
    // Where each state sits in the layer being built (valid when `stamp[id]` is the layer).
    let mut stamp: Vec<u32> = Vec::new();
    let mut slot: Vec<u32> = Vec::new();
    let mut layer_no = 0u32;
    for t in 0..horizon {
        for change in changes.iter().filter(|c| c.at == t) {
            layer_no += 1;
            let no = layer_no;
            let mut changed: Vec<(u32, f64)> = Vec::with_capacity(layer.len());
            let mut from: Vec<(u32, Action)> = Vec::with_capacity(layer.len());
            for (pos, &(id, v)) in layer.iter().enumerate() {
                let mut g = graph.states[id as usize].clone();
                (change.apply)(&mut g);
                let new = graph.intern(g);
                place(
                    &mut stamp,
                    &mut slot,
                    no,
                    new,
                    v,
                    (pos as u32, CHANGE),
                    &mut changed,
                    &mut from,
                );
            }
            parents.push(from);
            layer = changed;
        }
        for &(id, _) in &layer {
            graph.expand(id, t, &allowed)?;
        }
        layer_no += 1;
        let no = layer_no;
        let mut next: Vec<(u32, f64)> = Vec::with_capacity(layer.len());
        let mut from: Vec<(u32, Action)> = Vec::with_capacity(layer.len());
        let n = graph.n_actions as usize;
        if stamp.len() < graph.states.len() {
            stamp.resize(graph.states.len(), 0);
            slot.resize(graph.states.len(), 0);
        }
        // The hot loop: every allowed action of every state of the layer (successors are all
        // interned by now, so `stamp` and `slot` cover them).
        for (pos, &(id, v)) in layer.iter().enumerate() {
            let first = graph.first_edge[id as usize] as usize;
            for (a, e) in graph.edges[first..first + n].iter().enumerate() {
                let total = v + e.reward;
                if e.next >= TERMINAL {
                    if e.next == TERMINAL {
                        let last = Some(a as Action);
                        let end = End { value: total, layer: parents.len(), pos: pos as u32, last };
                        consider(&mut best, end);
                    }
                    continue;
                }
                let i = e.next as usize;
                if stamp[i] == no {
                    let k = slot[i] as usize;
                    if total > next[k].1 + TIE {
                        next[k].1 = total;
                        from[k] = (pos as u32, a as Action);
                    }
                } else {
                    stamp[i] = no;
                    slot[i] = next.len() as u32;
                    next.push((e.next, total));
                    from.push((pos as u32, a as Action));
                }
            }
        }
        parents.push(from);
        layer = next;
        if t + 1 == horizon {
            for (pos, &(_, v)) in layer.iter().enumerate() {
                consider(
                    &mut best,
                    End { value: v, layer: parents.len(), pos: pos as u32, last: None },
                );
            }
        }
        if layer.is_empty() {
            break;
        }
    }
    if horizon == 0 {
        consider(&mut best, End { value: 0.0, layer: 0, pos: 0, last: None });
    }
    let states = graph.states.len();
    let Some(end) = best else {
        return Ok(Solution { value: f64::NEG_INFINITY, actions: Vec::new(), states });
    };
    let mut actions: Vec<Action> = end.last.into_iter().collect();
    let (mut l, mut pos) = (end.layer, end.pos);
    while l > 0 {
        let (p, a) = parents[l - 1][pos as usize];
        if a != CHANGE {
            actions.push(a);
        }
        pos = p;
        l -= 1;
    }
    actions.reverse();
    Ok(Solution { value: end.value, actions, states })
}

/// Adds state `id` with total `v` to the layer being built (numbered `no`), or improves it.
#[allow(clippy::too_many_arguments, reason = "the inner loop's state, kept in locals")]
#[inline]
fn place(
    stamp: &mut Vec<u32>,
    slot: &mut Vec<u32>,
    no: u32,
    id: u32,
    v: f64,
    parent: (u32, Action),
    layer: &mut Vec<(u32, f64)>,
    from: &mut Vec<(u32, Action)>,
) {
    let i = id as usize;
    if stamp.len() <= i {
        let len = (2 * i).max(1024);
        stamp.resize(len, 0);
        slot.resize(len, 0);
    }
    if stamp[i] == no {
        let s = slot[i] as usize;
        if v > layer[s].1 + TIE {
            layer[s].1 = v;
            from[s] = parent;
        }
    } else {
        stamp[i] = no;
        slot[i] = layer.len() as u32;
        layer.push((id, v));
        from.push(parent);
    }
}

/// The parent action of a change of rules.
const CHANGE: Action = Action::MAX;
/// An edge for a masked action.
const MASKED: u32 = u32::MAX;
/// An edge for a terminal step.
const TERMINAL: u32 = u32::MAX - 1;
/// `first_edge` of a state not expanded yet.
const UNEXPANDED: u32 = u32::MAX;

/// One transition: the successor's id (or `MASKED`, `TERMINAL`) and the step's value.
#[derive(Clone, Copy, Debug)]
struct Edge {
    next: u32,
    reward: f64,
}

/// Every distinct state met, and the transitions of those expanded.
struct Graph<G> {
    n_actions: u32,
    objective: Objective,
    states: Vec<G>,
    index: StateIndex,
    first_edge: Vec<u32>,
    edges: Vec<Edge>,
    rng_a: Rng,
    rng_b: Rng,
}

impl<G: Game + Clone + Eq + Hash> Graph<G> {
    fn new(n_actions: u32, objective: Objective) -> Self {
        Graph {
            n_actions,
            objective,
            states: Vec::new(),
            index: StateIndex::with_capacity(1024),
            first_edge: Vec::new(),
            edges: Vec::new(),
            rng_a: Rng::seed_from_u64(0x0b5e_55ed),
            rng_b: Rng::seed_from_u64(0x5ca1_ab1e),
        }
    }

    /// The id of `g`, adding it if new.
    fn intern(&mut self, g: G) -> u32 {
        match self.index.find_or_insert(g, &mut self.states) {
            Found::Old(j) => j as u32,
            Found::New => {
                self.first_edge.push(UNEXPANDED);
                self.states.len() as u32 - 1
            }
        }
    }

    /// Steps state `id` with every action (once; `t` is for error messages).
    fn expand(
        &mut self,
        id: u32,
        t: u32,
        allowed: &impl Fn(&G, Action) -> bool,
    ) -> Result<(), SolveError> {
        if self.first_edge[id as usize] != UNEXPANDED {
            return Ok(());
        }
        let game = self.states[id as usize].clone();
        let first = self.edges.len() as u32;
        for a in 0..self.n_actions {
            if !allowed(&game, a) {
                self.edges.push(Edge { next: MASKED, reward: 0.0 });
                continue;
            }
            let mut g1 = game.clone();
            let o1 = g1.step(a, &mut self.rng_a);
            let mut g2 = game.clone();
            let o2 = g2.step(a, &mut self.rng_b);
            if o1 != o2 || g1 != g2 {
                return Err(SolveError::NotDeterministic { step: t, action: a });
            }
            let reward = match self.objective {
                Objective::Reward => o1.reward,
                Objective::Performance => o1.hidden_reward,
            };
            let next = if o1.terminated { TERMINAL } else { self.intern(g1) };
            self.edges.push(Edge { next, reward });
        }
        self.first_edge[id as usize] = first;
        Ok(())
    }
}

/// Where an episode can end: a terminal step with action `last` from the state at `pos` of
/// layer `layer`, or (with `last == None`) the state at `pos` of the horizon's layer.
#[derive(Clone, Copy, Debug)]
struct End {
    value: f64,
    layer: usize,
    pos: u32,
    last: Option<Action>,
}

fn consider(best: &mut Option<End>, end: End) {
    if best.is_none_or(|b| end.value > b.value + TIE) {
        *best = Some(end);
    }
}

/// Whether a state was already in the layer (at this index) or was just added.
enum Found {
    Old(usize),
    New,
}

/// The states of one layer by hash: an open-addressing table of indices into the layer's
/// `Vec` (which it never iterates), so states are numbered in the order they are found.
struct StateIndex {
    /// `index + 1` of a state in the layer, 0 for an empty slot.
    slots: Vec<u32>,
    hashes: Vec<u64>,
}

impl StateIndex {
    fn with_capacity(n: usize) -> Self {
        let cap = (2 * n.max(8)).next_power_of_two();
        StateIndex { slots: vec![0; cap], hashes: Vec::with_capacity(n) }
    }

    fn hash<G: Hash>(g: &G) -> u64 {
        let mut h = FxHasher::default();
        g.hash(&mut h);
        // Mix every bit into the low bits the slot index is taken from (murmur3's finaliser).
        let mut x = h.finish();
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    /// Finds `g` among `states`, or appends it.
    #[inline]
    fn find_or_insert<G: Hash + Eq>(&mut self, g: G, states: &mut Vec<G>) -> Found {
        let h = Self::hash(&g);
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match self.slots[i] {
                0 => break,
                s => {
                    let j = s as usize - 1;
                    if self.hashes[j] == h && states[j] == g {
                        return Found::Old(j);
                    }
                }
            }
            i = (i + 1) & mask;
        }
        self.slots[i] = states.len() as u32 + 1;
        self.hashes.push(h);
        states.push(g);
        if 2 * states.len() > self.slots.len() {
            self.grow();
        }
        Found::New
    }

    fn grow(&mut self) {
        let cap = 2 * self.slots.len();
        let mask = cap - 1;
        self.slots = vec![0; cap];
        for (j, &h) in self.hashes.iter().enumerate() {
            let mut i = h as usize & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = j as u32 + 1;
        }
    }
}

/// A small, fast, deterministic hasher (the multiply-rotate hash of rustc's `FxHasher`).
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}
