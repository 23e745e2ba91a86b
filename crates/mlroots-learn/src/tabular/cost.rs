//! The cost shield (curriculum C01, TT-S hint H4: "treat any action that ever produced cost as
//! forbidden in every state"): a learner that reads a public cost signal beside the reward
//! remembers what produced cost and never does it again. What "the same action" means is the
//! configuration's: the action in the state where it produced cost, or, with a context, every
//! action whose context (the observation entry saying what it acts on, such as the symbol an
//! arrow would stop at) has the value that once produced cost.

use mlroots_env::{Action, Extra, Info};

/// What produced cost, and how to recognise it again.
#[derive(Clone, Debug)]
pub(crate) struct CostShield {
    /// The info extra carrying the cost.
    signal: String,
    /// Per action, the observation index of its context (`None`: never forbidden); empty:
    /// the whole state is the context.
    context: Vec<Option<usize>>,
    /// Forbidden contexts (bits of the observation value), sorted.
    values: Vec<u32>,
    /// Forbidden `(row, action)` pairs when the whole state is the context, sorted.
    pairs: Vec<(u32, Action)>,
}

/// What an action would be forbidden as, computed before it is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// Its context's value.
    Value(u32),
    /// The pair itself.
    Pair(u32, Action),
    /// Nothing: the shield never forbids this action.
    None,
}

/// The bits of a value (`-0.0` read as `0.0`).
#[inline]
fn bits(v: f32) -> u32 {
    if v == 0.0 { 0 } else { v.to_bits() }
}

impl CostShield {
    pub(crate) fn new(signal: &str, context: Vec<Option<usize>>) -> Self {
        CostShield { signal: signal.to_string(), context, values: Vec::new(), pairs: Vec::new() }
    }

    /// The largest observation index a context names (to check it against the space).
    pub(crate) fn max_index(&self) -> Option<usize> {
        self.context.iter().flatten().copied().max()
    }

    /// What action `a` in row `s` with observation `obs` would be forbidden as.
    #[inline]
    pub(crate) fn key(&self, obs: &[f32], s: u32, a: Action) -> Key {
        if self.context.is_empty() {
            return Key::Pair(s, a);
        }
        match self.context.get(a as usize).copied().flatten().and_then(|i| obs.get(i)) {
            Some(&v) => Key::Value(bits(v)),
            None => Key::None,
        }
    }

    /// The cost a step reported (0 without the signal).
    #[inline]
    pub(crate) fn cost(&self, info: &Info) -> f64 {
        match info.extras.get(&self.signal) {
            Some(Extra::Float(x)) => x,
            Some(Extra::Int(x)) => x as f64,
            _ => 0.0,
        }
    }

    /// Forbids `key` for good (a step with cost).
    pub(crate) fn forbid(&mut self, key: Key) {
        match key {
            Key::Value(v) => {
                if let Err(i) = self.values.binary_search(&v) {
                    self.values.insert(i, v);
                }
            }
            Key::Pair(s, a) => {
                if let Err(i) = self.pairs.binary_search(&(s, a)) {
                    self.pairs.insert(i, (s, a));
                }
            }
            Key::None => {}
        }
    }

    /// The actions forbidden in row `s` with observation `obs` (bit `a` for action `a`).
    #[inline]
    pub(crate) fn mask(&self, obs: &[f32], s: u32, actions: u32) -> u64 {
        if self.values.is_empty() && self.pairs.is_empty() {
            return 0;
        }
        let mut mask = 0u64;
        for a in 0..actions {
            let forbidden = match self.key(obs, s, a) {
                Key::Value(v) => self.values.binary_search(&v).is_ok(),
                Key::Pair(s, a) => self.pairs.binary_search(&(s, a)).is_ok(),
                Key::None => false,
            };
            if forbidden {
                mask |= 1 << a;
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_forbids_every_action_that_acts_on_it() {
        let mut shield = CostShield::new("harm_cost", vec![None, Some(1), Some(2)]);
        let obs = [0.0, 6.0, 1.0];
        assert_eq!(shield.mask(&obs, 0, 3), 0);
        shield.forbid(shield.key(&obs, 0, 1));
        // Action 1 acts on a 6 here; action 2 acts on a 6 in another state: both forbidden.
        assert_eq!(shield.mask(&obs, 0, 3), 0b010);
        assert_eq!(shield.mask(&[0.0, 1.0, 6.0], 9, 3), 0b100);
        assert_eq!(shield.key(&obs, 0, 0), Key::None);
        let mut pairs = CostShield::new("harm_cost", Vec::new());
        pairs.forbid(pairs.key(&obs, 4, 2));
        assert_eq!((pairs.mask(&obs, 4, 3), pairs.mask(&obs, 5, 3)), (0b100, 0));
    }
}
