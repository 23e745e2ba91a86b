//! The replay buffer of DQN: a ring of transitions in flat `f32` storage (no allocation per
//! step once full), sampled uniformly with replacement from our seeded [`Rng`], so that a seed
//! gives the same minibatches on every machine.

use mlroots_env::Rng;

/// A minibatch, row-major: `obs` and `next_obs` hold `len × obs_len` values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// The observations.
    pub obs: Vec<f32>,
    /// The actions taken.
    pub actions: Vec<u32>,
    /// The rewards received.
    pub rewards: Vec<f32>,
    /// The observations after the step.
    pub next_obs: Vec<f32>,
    /// 1.0 where the step terminated the episode (no bootstrap), else 0.0. A truncation by the
    /// time limit is not a termination.
    pub terminated: Vec<f32>,
    /// The environment steps each transition spans (1, or up to `n` for n-step returns): the
    /// bootstrap is discounted by γ to this power.
    pub spans: Vec<u32>,
}

/// A fixed-capacity ring of transitions `(s, a, r, s′, terminated, span)`: `r` is the
/// discounted reward over `span` environment steps and `s′` the observation after them.
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    obs_len: usize,
    capacity: usize,
    len: usize,
    next: usize,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    actions: Vec<u32>,
    rewards: Vec<f32>,
    terminated: Vec<f32>,
    spans: Vec<u32>,
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions of observations of `obs_len` values.
    pub fn new(capacity: usize, obs_len: usize) -> Self {
        assert!(capacity > 0, "a replay buffer holds at least one transition");
        ReplayBuffer {
            obs_len,
            capacity,
            len: 0,
            next: 0,
            obs: vec![0.0; capacity * obs_len],
            next_obs: vec![0.0; capacity * obs_len],
            actions: vec![0; capacity],
            rewards: vec![0.0; capacity],
            terminated: vec![0.0; capacity],
            spans: vec![1; capacity],
        }
    }

    /// The transitions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a one-step transition, overwriting the oldest when full.
    pub fn push(
        &mut self,
        obs: &[f32],
        action: u32,
        reward: f32,
        next_obs: &[f32],
        terminated: bool,
    ) {
        self.push_span(obs, action, reward, next_obs, terminated, 1);
    }

    /// Adds a transition spanning `span` environment steps (`reward` their discounted sum,
    /// `next_obs` the observation after the last), overwriting the oldest when full.
    pub fn push_span(
        &mut self,
        obs: &[f32],
        action: u32,
        reward: f32,
        next_obs: &[f32],
        terminated: bool,
        span: u32,
    ) {
        let i = self.next;
        let row = i * self.obs_len..(i + 1) * self.obs_len;
        self.obs[row.clone()].copy_from_slice(obs);
        self.next_obs[row].copy_from_slice(next_obs);
        self.actions[i] = action;
        self.rewards[i] = reward;
        self.terminated[i] = if terminated { 1.0 } else { 0.0 };
        self.spans[i] = span;
        self.next = (i + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// Fills `out` with `size` transitions drawn uniformly with replacement (reusing its
    /// storage).
    ///
    /// # Panics
    /// If the buffer is empty (the learner samples only after `learning_starts`).
    pub fn sample(&self, size: usize, rng: &mut Rng, out: &mut Batch) {
        assert!(!self.is_empty(), "sampling an empty replay buffer");
        out.obs.clear();
        out.next_obs.clear();
        out.actions.clear();
        out.rewards.clear();
        out.terminated.clear();
        out.spans.clear();
        for _ in 0..size {
            let i = rng.below(self.len as u32) as usize;
            let row = i * self.obs_len..(i + 1) * self.obs_len;
            out.obs.extend_from_slice(&self.obs[row.clone()]);
            out.next_obs.extend_from_slice(&self.next_obs[row]);
            out.actions.push(self.actions[i]);
            out.rewards.push(self.rewards[i]);
            out.terminated.push(self.terminated[i]);
            out.spans.push(self.spans[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_overwrites_the_oldest_and_samples_are_seeded() {
        let mut buf = ReplayBuffer::new(3, 2);
        for t in 0..5u32 {
            let v = t as f32;
            buf.push(&[v, v], t, v, &[v + 1.0, v + 1.0], t == 4);
        }
        assert_eq!(buf.len(), 3);
        let mut batch = Batch::default();
        buf.sample(200, &mut Rng::seed_from_u64(1), &mut batch);
        let mut seen: Vec<u32> = batch.actions.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen, vec![2, 3, 4], "transitions 0 and 1 were overwritten");
        for (k, &a) in batch.actions.iter().enumerate() {
            assert_eq!(batch.obs[2 * k], a as f32);
            assert_eq!(batch.next_obs[2 * k + 1], a as f32 + 1.0);
            assert_eq!(batch.rewards[k], a as f32);
            assert_eq!(batch.terminated[k], if a == 4 { 1.0 } else { 0.0 });
            assert_eq!(batch.spans[k], 1);
        }
        let mut again = Batch::default();
        buf.sample(200, &mut Rng::seed_from_u64(1), &mut again);
        assert_eq!(batch, again, "the same seed draws the same minibatch");
    }
}
