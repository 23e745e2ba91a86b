//! The Q-table and the map from observations to its rows, shared by training and by the
//! trained (or loaded) greedy policy.
//!
//! A state is a row number. Where the observation is a single `Discrete` index (the treacherous
//! turn's `obs=index`), the index is the row, and the table is allocated whole. Otherwise each
//! distinct observation (compared by the bits of its `f32`s, `-0.0` read as `0.0`) gets the next
//! row the first time it is seen, through a hash map with a fixed hasher (deterministic, unlike
//! `std`'s random one) keyed by those bits.

#[allow(clippy::disallowed_types)] // fixed hasher, never iterated: see `KeyMap`
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use mlroots_env::{Action, Info, Space};

use crate::Policy;

/// The largest whole table allocated for a `Discrete` observation (entries); larger spaces
/// intern the states they meet.
const MAX_DIRECT_ENTRIES: u64 = 1 << 25;

/// A fast, fixed hasher for observation keys (the multiply-rotate scheme of rustc's `FxHasher`,
/// written here over `u32` words).
#[derive(Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl WordHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // A slice of u32 keys arrives here as one byte string: eight bytes per round, not one.
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("an 8-byte chunk")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
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
}

// A HashMap with a fixed hasher: lookups only, never iterated, so its order cannot leak into
// any output (clippy.toml bans std's HashMap for its random per-process order).
#[allow(clippy::disallowed_types)]
type KeyMap = HashMap<Box<[u32]>, u32, BuildHasherDefault<WordHasher>>;

/// The bits of an observation value as a key (`-0.0` and `0.0` are one state).
#[inline]
fn key_bits(v: f32) -> u32 {
    if v == 0.0 { 0 } else { v.to_bits() }
}

/// Where a state's row comes from.
#[derive(Clone, Debug)]
pub(crate) enum Rows {
    /// The observation is one index in `0..n`, the row itself.
    Direct {
        /// The number of states.
        n: u32,
        /// Whether each state has been met (only those are saved).
        seen: Vec<bool>,
    },
    /// Rows are handed out in the order observations are first met.
    Interned {
        /// Observation bits → row.
        map: KeyMap,
        /// The observations of the rows, `obs_len` floats each.
        states: Vec<f32>,
        /// A reused buffer for the key being looked up.
        scratch: Vec<u32>,
    },
}

/// Why an observation has no row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowError {
    /// The table holds `max` states already.
    Full,
    /// A `Discrete` observation outside `0..n` or not an integer.
    BadIndex,
}

/// The Q-table: `states × actions` values, row-major, and the map from observations to rows.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) actions: usize,
    pub(crate) obs_len: usize,
    pub(crate) q: Vec<f32>,
    pub(crate) rows: Rows,
    q_init: f32,
}

impl Table {
    /// An empty table for observations of `space` and `actions` actions, every value `q_init`.
    pub(crate) fn new(space: &Space, actions: usize, q_init: f32) -> Table {
        let obs_len = space.flat_len();
        let rows = match space {
            Space::Discrete(d) if u64::from(d.n) * actions as u64 <= MAX_DIRECT_ENTRIES => {
                Rows::Direct { n: d.n, seen: vec![false; d.n as usize] }
            }
            _ => Rows::Interned { map: KeyMap::default(), states: Vec::new(), scratch: Vec::new() },
        };
        let q = match rows {
            Rows::Direct { n, .. } => vec![q_init; n as usize * actions],
            Rows::Interned { .. } => Vec::new(),
        };
        Table { actions, obs_len, q, rows, q_init }
    }

    /// A placeholder without rows (what a consumed learner leaves behind).
    pub(crate) fn empty() -> Table {
        Table {
            actions: 1,
            obs_len: 1,
            q: Vec::new(),
            rows: Rows::Interned {
                map: KeyMap::default(),
                states: Vec::new(),
                scratch: Vec::new(),
            },
            q_init: 0.0,
        }
    }

    /// A table of interned states with the given observations and values (a loaded policy).
    pub(crate) fn from_rows(
        actions: usize,
        obs_len: usize,
        states: Vec<f32>,
        q: Vec<f32>,
    ) -> Result<Table, usize> {
        let mut map = KeyMap::default();
        let n = states.len().checked_div(obs_len).unwrap_or(0);
        map.reserve(n);
        for (row, obs) in states.chunks_exact(obs_len.max(1)).enumerate().take(n) {
            let key: Box<[u32]> = obs.iter().map(|&v| key_bits(v)).collect();
            if map.insert(key, row as u32).is_some() {
                return Err(row);
            }
        }
        Ok(Table {
            actions,
            obs_len,
            q,
            rows: Rows::Interned { map, states, scratch: Vec::new() },
            q_init: 0.0,
        })
    }

    /// The number of rows allocated.
    pub(crate) fn len(&self) -> usize {
        self.q.len() / self.actions
    }

    /// The row of `obs`, adding it (while fewer than `max` states are held) if new.
    #[inline]
    pub(crate) fn row_or_insert(&mut self, obs: &[f32], max: u32) -> Result<u32, RowError> {
        match &mut self.rows {
            Rows::Direct { n, seen } => {
                let s = direct_index(obs[0], *n).ok_or(RowError::BadIndex)?;
                seen[s as usize] = true;
                Ok(s)
            }
            Rows::Interned { map, states, scratch } => {
                scratch.clear();
                scratch.extend(obs.iter().map(|&v| key_bits(v)));
                if let Some(&row) = map.get(&scratch[..]) {
                    return Ok(row);
                }
                let row = (states.len() / self.obs_len.max(1)) as u32;
                if row >= max {
                    return Err(RowError::Full);
                }
                map.insert(scratch[..].into(), row);
                states.extend_from_slice(obs);
                self.q.resize(self.q.len() + self.actions, self.q_init);
                Ok(row)
            }
        }
    }

    /// Marks row `s` of a `Discrete` table as met (a row a model filled in).
    pub(crate) fn mark_met(&mut self, s: u32) {
        if let Rows::Direct { seen, .. } = &mut self.rows {
            seen[s as usize] = true;
        }
    }

    /// The row of `obs` if it has been met.
    #[inline]
    pub(crate) fn row(&mut self, obs: &[f32]) -> Option<u32> {
        if obs.len() != self.obs_len {
            return None;
        }
        match &mut self.rows {
            Rows::Direct { n, seen } => direct_index(obs[0], *n).filter(|&s| seen[s as usize]),
            Rows::Interned { map, scratch, .. } => {
                scratch.clear();
                scratch.extend(obs.iter().map(|&v| key_bits(v)));
                map.get(&scratch[..]).copied()
            }
        }
    }

    /// The values of row `s`.
    #[inline]
    pub(crate) fn values(&self, s: u32) -> &[f32] {
        let i = s as usize * self.actions;
        &self.q[i..i + self.actions]
    }

    /// The greedy action of row `s`: the highest value, ties to the lowest action.
    #[inline]
    pub(crate) fn greedy(&self, s: u32) -> Action {
        argmax_lowest(self.values(s))
    }

    /// The rows that were met, in row order, with their observations (for saving).
    pub(crate) fn met_rows(&self) -> Vec<(Vec<f32>, &[f32])> {
        match &self.rows {
            Rows::Direct { seen, .. } => seen
                .iter()
                .enumerate()
                .filter(|(_, s)| **s)
                .map(|(i, _)| (vec![i as f32], self.values(i as u32)))
                .collect(),
            Rows::Interned { states, .. } => (0..self.len())
                .map(|r| {
                    let o = &states[r * self.obs_len..(r + 1) * self.obs_len];
                    (o.to_vec(), self.values(r as u32))
                })
                .collect(),
        }
    }

    /// The number of states met.
    pub(crate) fn states_met(&self) -> usize {
        match &self.rows {
            Rows::Direct { seen, .. } => seen.iter().filter(|s| **s).count(),
            Rows::Interned { .. } => self.len(),
        }
    }
}

/// The index carried by a `Discrete` observation, if it is one in `0..n`.
#[inline]
fn direct_index(v: f32, n: u32) -> Option<u32> {
    (v >= 0.0 && v.fract() == 0.0 && (v as u64) < u64::from(n)).then_some(v as u32)
}

/// The first index of the largest value.
#[inline]
pub(crate) fn argmax_lowest(values: &[f32]) -> Action {
    let mut best = 0;
    for (a, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = a;
        }
    }
    best as Action
}

/// A trained Q-table, acting greedily: the action of highest value, ties to the lowest action;
/// in a state never met while training, action 0.
#[derive(Clone, Debug)]
pub struct TabularPolicy {
    pub(crate) table: Table,
    pub(crate) steps: u64,
    pub(crate) episodes: u64,
}

impl TabularPolicy {
    /// The number of actions.
    pub fn actions(&self) -> usize {
        self.table.actions
    }

    /// The number of distinct states met while training (the rows a saved policy holds).
    pub fn states(&self) -> usize {
        self.table.states_met()
    }

    /// Q(s, ·) for observation `obs`, if the state was met.
    pub fn q_values(&mut self, obs: &[f32]) -> Option<&[f32]> {
        let s = self.table.row(obs)?;
        Some(self.table.values(s))
    }

    /// The greedy action for `obs` (action 0 for a state never met).
    pub fn greedy(&mut self, obs: &[f32]) -> Action {
        self.table.row(obs).map_or(0, |s| self.table.greedy(s))
    }

    /// Environment steps this table was trained on.
    pub fn trained_steps(&self) -> u64 {
        self.steps
    }

    /// Finished episodes this table was trained on.
    pub fn trained_episodes(&self) -> u64 {
        self.episodes
    }
}

impl Policy for TabularPolicy {
    fn act(&mut self, obs: &[f32], _info: &Info) -> Action {
        self.greedy(obs)
    }
}

#[cfg(test)]
mod tests {
    use mlroots_env::{BoxSpace, Discrete};

    use super::*;

    #[test]
    fn interned_rows_are_handed_out_in_order_and_capped() {
        let space = Space::Box(BoxSpace { shape: vec![2], low: -1.0, high: 1.0 });
        let mut t = Table::new(&space, 3, 0.5);
        assert_eq!(t.row_or_insert(&[0.0, 1.0], 2), Ok(0));
        assert_eq!(t.row_or_insert(&[1.0, 0.0], 2), Ok(1));
        assert_eq!(t.row_or_insert(&[-0.0, 1.0], 2), Ok(0), "-0.0 is 0.0");
        assert_eq!(t.row_or_insert(&[1.0, 1.0], 2), Err(RowError::Full));
        assert_eq!(t.row(&[1.0, 0.0]), Some(1));
        assert_eq!(t.row(&[0.5, 0.0]), None);
        assert_eq!(t.values(1), &[0.5; 3]);
        assert_eq!(t.states_met(), 2);
    }

    #[test]
    fn discrete_rows_are_the_index() {
        let mut t = Table::new(&Space::Discrete(Discrete::new(10)), 2, 0.0);
        assert_eq!(t.row_or_insert(&[7.0], 1), Ok(7));
        assert_eq!(t.row_or_insert(&[10.0], 1), Err(RowError::BadIndex));
        assert_eq!(t.row_or_insert(&[1.5], 1), Err(RowError::BadIndex));
        assert_eq!(t.row(&[7.0]), Some(7));
        assert_eq!(t.row(&[3.0]), None, "never met");
        assert_eq!(t.met_rows().len(), 1);
    }

    #[test]
    fn greedy_breaks_ties_to_the_lowest_action() {
        assert_eq!(argmax_lowest(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax_lowest(&[0.0, 0.0]), 0);
    }
}
