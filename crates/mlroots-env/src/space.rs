//! Action and observation spaces with `contains`, `sample` and a JSON form, as Gymnasium has.

use serde::Serialize;

use crate::{Action, Rng};

/// A discrete space `{0, 1, ..., n-1}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Discrete {
    /// The number of elements.
    pub n: u32,
}

impl Discrete {
    /// The space `{0, ..., n-1}`.
    pub const fn new(n: u32) -> Self {
        Discrete { n }
    }

    /// Whether `a` is an element.
    pub fn contains(&self, a: Action) -> bool {
        a < self.n
    }

    /// A uniformly random element.
    pub fn sample(&self, rng: &mut Rng) -> Action {
        rng.below(self.n)
    }
}

/// A box of `f32` values with a shape and inclusive bounds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoxSpace {
    /// The shape, outermost dimension first (`[height, width]` for a board).
    pub shape: Vec<usize>,
    /// The smallest value any element may take.
    pub low: f32,
    /// The largest value any element may take.
    pub high: f32,
}

/// An observation (or action) space.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Space {
    /// One integer in `0..n`, carried as a single `f32` in observation buffers.
    Discrete(Discrete),
    /// A box of `f32`.
    Box(BoxSpace),
}

impl Space {
    /// The number of `f32` an observation buffer of this space holds.
    pub fn flat_len(&self) -> usize {
        match self {
            Space::Discrete(_) => 1,
            Space::Box(b) => b.shape.iter().product(),
        }
    }

    /// Whether the flat buffer `x` is an element of the space.
    pub fn contains(&self, x: &[f32]) -> bool {
        if x.len() != self.flat_len() {
            return false;
        }
        match self {
            Space::Discrete(d) => {
                let v = x[0];
                v >= 0.0 && v.fract() == 0.0 && (v as u64) < u64::from(d.n)
            }
            Space::Box(b) => x.iter().all(|v| (b.low..=b.high).contains(v)),
        }
    }

    /// Fills `out` with a random element (uniform per coordinate for a box).
    pub fn sample(&self, rng: &mut Rng, out: &mut [f32]) {
        match self {
            Space::Discrete(d) => out[0] = d.sample(rng) as f32,
            Space::Box(b) => {
                for v in out.iter_mut() {
                    *v = b.low + (b.high - b.low) * rng.uniform() as f32;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_is_gymnasium_like() {
        let s = Space::Box(BoxSpace { shape: vec![6, 7], low: 0.0, high: 5.0 });
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"type":"Box","shape":[6,7],"low":0.0,"high":5.0}"#
        );
        let d = Space::Discrete(Discrete::new(4));
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"type":"Discrete","n":4}"#);
    }

    #[test]
    fn contains_and_sample_agree() {
        let mut rng = Rng::seed_from_u64(3);
        let s = Space::Box(BoxSpace { shape: vec![2, 3], low: 0.0, high: 5.0 });
        let mut x = vec![0.0; s.flat_len()];
        for _ in 0..100 {
            s.sample(&mut rng, &mut x);
            assert!(s.contains(&x));
        }
        assert!(!s.contains(&[0.0; 5]));
        assert!(!s.contains(&[0.0, 0.0, 0.0, 0.0, 0.0, 6.0]));
        let d = Space::Discrete(Discrete::new(3));
        assert!(d.contains(&[2.0]) && !d.contains(&[3.0]) && !d.contains(&[0.5]));
    }
}
