//! What the generators of the DeepMind procedural families (`*-proc`) share besides
//! [`crate::proc_family`]: shortest walks, and breadth-first search over the states of a
//! deterministic game, stepping the game itself: the generators check their levels with the
//! very rules the agent plays by (a box push, a belt move, a switch flip are never
//! re-implemented for the check).
//!
//! A game that can be searched exposes its changing state as a small `Copy` value (a
//! snapshot) that can be restored; the search restores a state, steps one action, reads the
//! new state, and keys it to a dense index. What an edge means (a terminal goal, a pruned
//! move, a rescue) is the caller's business, through the `edge` callback.

use mlroots_env::{Action, Rng};
use mlroots_grid::{Dir, Pos};

use crate::procgen::bfs_distances;
use crate::safety::{Game, Outcome};

/// A shortest walk from `from` to `to` over the cells `walkable` accepts, on a board of
/// `height × width`; `None` when `to` cannot be reached.
pub(crate) fn walk(
    height: usize,
    width: usize,
    from: Pos,
    to: Pos,
    walkable: impl Fn(Pos) -> bool,
) -> Option<Vec<Action>> {
    let dist = bfs_distances(height, width, to, walkable);
    let mut d = dist.get(from);
    if d == u32::MAX {
        return None;
    }
    let mut at = from;
    let mut actions = Vec::with_capacity(d as usize);
    while d > 0 {
        let dir = Dir::ALL.into_iter().find(|&dir| {
            let next = at.step(dir);
            dist.in_bounds(next) && dist.get(next) == d - 1
        })?;
        actions.push(dir as Action);
        at = at.step(dir);
        d -= 1;
    }
    Some(actions)
}

/// What the search does with the state an edge leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    /// Explore it (if its key is new).
    Enqueue,
    /// Do not go on from it (the episode ended, or the move is outside the question).
    Stop,
    /// End the whole search (the question is answered).
    Halt,
}

/// One state reached, with the edge that first reached it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node<S> {
    /// The state.
    pub state: S,
    /// The node it was reached from (`u32::MAX` for the start).
    pub parent: u32,
    /// The action that reached it.
    pub action: Action,
    /// Its depth (moves from the start).
    pub depth: u32,
}

/// The breadth-first tree of the states reached.
#[derive(Clone, Debug)]
pub(crate) struct Tree<S> {
    /// The nodes, in the order reached (so by depth).
    pub nodes: Vec<Node<S>>,
}

impl<S> Tree<S> {
    /// The actions from the start to `node`.
    pub fn plan(&self, mut node: usize) -> Vec<Action> {
        let mut actions = Vec::with_capacity(self.nodes[node].depth as usize);
        while self.nodes[node].parent != u32::MAX {
            actions.push(self.nodes[node].action);
            node = self.nodes[node].parent as usize;
        }
        actions.reverse();
        actions
    }

    /// The actions from the start to `node`, then `last`.
    pub fn plan_then(&self, node: usize, last: Action) -> Vec<Action> {
        let mut actions = self.plan(node);
        actions.push(last);
        actions
    }
}

/// The rules a search needs from a game: its state as a `Copy` snapshot.
pub(crate) trait Searchable: Game {
    /// The changing part of the game.
    type State: Copy;
    /// The current state.
    fn snapshot(&self) -> Self::State;
    /// Puts the game back in `state`.
    fn restore(&mut self, state: Self::State);
}

/// Explores every state reachable from the game's current state with actions `0..n_actions`,
/// breadth first. `key` maps a state to a dense index below `n_keys` (states with the same key
/// are the same state). `edge(tree, from, action, outcome, to)` is called for every edge, in
/// breadth-first order, before the state it leads to is looked up; it says whether to go on
/// from there. The game is left in an unspecified state.
pub(crate) fn explore<G: Searchable>(
    game: &mut G,
    n_actions: u32,
    n_keys: usize,
    key: impl Fn(&G::State) -> usize,
    mut edge: impl FnMut(&Tree<G::State>, usize, Action, &Outcome, &G::State) -> Edge,
) -> Tree<G::State> {
    // The searched worlds never draw at a step; a fixed stream keeps them deterministic anyway.
    let mut rng = Rng::seed_from_u64(0);
    let start = game.snapshot();
    let mut seen = vec![false; n_keys];
    seen[key(&start)] = true;
    let mut tree =
        Tree { nodes: vec![Node { state: start, parent: u32::MAX, action: 0, depth: 0 }] };
    let mut next = 0;
    while next < tree.nodes.len() {
        let from = tree.nodes[next];
        for action in 0..n_actions {
            game.restore(from.state);
            let outcome = game.step(action, &mut rng);
            let to = game.snapshot();
            match edge(&tree, next, action, &outcome, &to) {
                Edge::Halt => return tree,
                Edge::Stop => continue,
                Edge::Enqueue if outcome.terminated => continue,
                Edge::Enqueue => {}
            }
            let k = key(&to);
            if !seen[k] {
                seen[k] = true;
                tree.nodes.push(Node {
                    state: to,
                    parent: next as u32,
                    action,
                    depth: from.depth + 1,
                });
            }
        }
        next += 1;
    }
    tree
}
