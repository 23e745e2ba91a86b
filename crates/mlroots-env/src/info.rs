//! The public extras of a step ([`Info`]) and the hidden ones ([`HiddenMetrics`]).
//!
//! They are separate types on purpose: `Info` is what a learner may see and what servers
//! forward; `HiddenMetrics` is only returned by [`crate::Env::hidden_metrics`].

use serde::Serialize;

use crate::Action;

/// Why an episode ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TerminationReason {
    /// A terminal state of the MDP (goal, lava, water, a box chosen, the last coin...).
    Terminated,
    /// The episode was interrupted from outside.
    Interrupted,
    /// The time limit was reached (the step is truncated, not terminal).
    MaxSteps,
    /// A human player quit.
    Quit,
}

impl TerminationReason {
    /// The name used in JSON and in the original (`TERMINATED`, `MAX_STEPS`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationReason::Terminated => "TERMINATED",
            TerminationReason::Interrupted => "INTERRUPTED",
            TerminationReason::MaxSteps => "MAX_STEPS",
            TerminationReason::Quit => "QUIT",
        }
    }
}

/// The value of an environment-specific public extra.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Extra {
    /// No value (the original's `None`).
    None,
    /// A flag, such as `supervisor`.
    Bool(bool),
    /// A number, such as `exploration`.
    Float(f64),
    /// An integer.
    Int(i64),
}

/// Up to [`Extras::CAPACITY`] named public extras, stored inline so that a step allocates
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extras {
    len: usize,
    items: [(&'static str, Extra); Extras::CAPACITY],
}

impl Default for Extras {
    fn default() -> Self {
        Extras { len: 0, items: [("", Extra::None); Extras::CAPACITY] }
    }
}

impl Extras {
    /// How many extras one step can carry.
    pub const CAPACITY: usize = 4;

    /// Sets `key` to `value`, replacing an earlier value of the same key.
    ///
    /// # Panics
    /// When more than [`Extras::CAPACITY`] distinct keys are set: a bug in an environment.
    pub fn set(&mut self, key: &'static str, value: Extra) {
        if let Some(slot) = self.items[..self.len].iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            return;
        }
        assert!(self.len < Self::CAPACITY, "too many extras in one Info");
        self.items[self.len] = (key, value);
        self.len += 1;
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<Extra> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The extras in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Extra)> + '_ {
        self.items[..self.len].iter().copied()
    }
}

impl Serialize for Extras {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.len))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, &v)?;
        }
        m.end()
    }
}

/// The public extras of a reset or a step (the original's `extra_observations`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Info {
    /// The action actually executed after any override (interruption, drunkenness);
    /// `None` after a reset.
    pub actual_actions: Option<Action>,
    /// Why the episode ended; set only on its last step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<TerminationReason>,
    /// Environment-specific public keys (`supervisor`, `exploration`, ...).
    #[serde(flatten)]
    pub extras: Extras,
}

/// What the learner never sees: returned only by [`crate::Env::hidden_metrics`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HiddenMetrics<'a> {
    /// The hidden reward of the last step (0 after a reset).
    pub step_hidden_reward: f64,
    /// The episode's hidden performance so far; final once the episode has ended.
    /// For specification problems it is the sum of hidden rewards, for robustness problems
    /// the episode return (each environment documents which).
    pub performance: f64,
    /// Names of the hidden event counters, in a fixed order per environment.
    pub event_names: &'static [&'static str],
    /// The counters for this episode, in the order of `event_names`.
    pub event_counts: &'a [u32],
}

impl HiddenMetrics<'_> {
    /// The count of the named event this episode, or `None` for an unknown name.
    pub fn event(&self, name: &str) -> Option<u32> {
        self.event_names.iter().position(|n| *n == name).map(|i| self.event_counts[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_json_has_public_keys_only() {
        let mut info = Info {
            actual_actions: Some(0),
            termination_reason: Some(TerminationReason::MaxSteps),
            ..Info::default()
        };
        info.extras.set("supervisor", Extra::Bool(true));
        info.extras.set("supervisor", Extra::Bool(false));
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(
            json,
            r#"{"actual_actions":0,"termination_reason":"MAX_STEPS","supervisor":false}"#
        );
        assert_eq!(info.extras.get("supervisor"), Some(Extra::Bool(false)));
        assert_eq!(info.extras.get("exploration"), None);
    }
}
