//! Evolution strategies (Salimans et al. 2017, "Evolution Strategies as a Scalable Alternative
//! to Reinforcement Learning"): a learner that needs only forward passes, so it trains any
//! [`Net`], recurrent ones included, with the inference the judge runs.
//!
//! Each generation perturbs the parameters θ with `population` antithetic pairs θ ± σε
//! (ε standard normal), scores every candidate with the caller's fitness (the same episode
//! seeds for the whole generation: common random numbers), turns the scores into centred
//! ranks in [−0.5, 0.5], and moves θ along `Σ rank·ε / (2·population·σ)` with Adam, minus a
//! weight decay. Candidates are scored on `threads` threads; the result does not depend on
//! the thread count, since each candidate's noise and episodes come from its own seeds.

use mlroots_env::Rng;

use crate::net::Net;

/// The knobs of [`train`].
#[derive(Clone, Debug, PartialEq)]
pub struct EsConfig {
    /// Antithetic pairs per generation (2× candidates).
    pub population: usize,
    /// The perturbation's standard deviation.
    pub sigma: f32,
    /// Adam's step size.
    pub lr: f32,
    /// L2 decay of the parameters, per generation (added to the gradient).
    pub weight_decay: f32,
    /// Generations.
    pub generations: u64,
    /// Threads scoring candidates.
    pub threads: usize,
}

impl Default for EsConfig {
    fn default() -> Self {
        EsConfig {
            population: 24,
            sigma: 0.05,
            lr: 0.01,
            weight_decay: 0.005,
            generations: 500,
            threads: 2,
        }
    }
}

/// What a generation did, for progress reports and learning curves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Generation {
    /// Its index (0-based).
    pub index: u64,
    /// The mean fitness of its candidates.
    pub mean: f64,
    /// The best candidate's fitness.
    pub best: f64,
    /// The validation score of the parameters after the update, when the caller validated
    /// this generation, else `None`.
    pub centre: Option<f64>,
}

/// A fixed check of the parameters during training: every `every` generations, `score` them.
pub struct Validation<'a> {
    /// How often, in generations.
    pub every: u64,
    /// The score (higher is better), on episodes that do not change between calls.
    pub score: &'a (dyn Fn(&Net) -> f64 + Sync),
}

/// Trains `net` to maximise `fitness(candidate, generation_seed)`. With a `validation`, the
/// starting parameters and the updated ones every `validation.every` generations are scored
/// (reported in [`Generation::centre`]) and the best of them is returned (the first on ties: a
/// greedy network's score jumps from one update to the next); without, the last.
pub fn train(
    net: Net,
    cfg: &EsConfig,
    seed: u64,
    fitness: &(dyn Fn(&Net, u64) -> f64 + Sync),
    validation: Option<Validation<'_>>,
    progress: &mut dyn FnMut(Generation),
) -> Net {
    let population = cfg.population.max(1);
    let arch = net.arch().clone();
    let shapes: Vec<usize> = net.params().iter().map(Vec::len).collect();
    let mut theta: Vec<f32> = net.params().concat();
    let n = theta.len();
    let (mut m, mut v) = (vec![0.0f32; n], vec![0.0f32; n]);
    let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    let mut seeds = Rng::seed_from_u64(seed);
    let rebuild = |flat: &[f32]| {
        let mut params = Vec::with_capacity(shapes.len());
        let mut at = 0;
        for &len in &shapes {
            params.push(flat[at..at + len].to_vec());
            at += len;
        }
        Net::from_params(arch.clone(), params).expect("the shapes are the network's")
    };
    // The starting point is a candidate too: the result is never worse on the validation
    // than where training began.
    let mut best: Option<(f64, Vec<f32>)> =
        validation.as_ref().map(|v| ((v.score)(&rebuild(&theta)), theta.clone()));
    for g in 0..cfg.generations {
        let episode_seed = seeds.next_u64();
        let noises: Vec<Vec<f32>> =
            (0..population).map(|_| gaussian(seeds.next_u64(), n)).collect();
        // Candidate 2i is θ + σε_i, 2i + 1 is θ − σε_i.
        let score = |c: usize| {
            let noise = &noises[c / 2];
            let sign = if c.is_multiple_of(2) { cfg.sigma } else { -cfg.sigma };
            let flat: Vec<f32> = theta.iter().zip(noise).map(|(t, e)| t + sign * e).collect();
            fitness(&rebuild(&flat), episode_seed)
        };
        let scores = parallel_map(2 * population, cfg.threads.max(1), &score);
        let ranks = centred_ranks(&scores);
        let mut grad = vec![0.0f32; n];
        for (i, noise) in noises.iter().enumerate() {
            let w = (ranks[2 * i] - ranks[2 * i + 1]) as f32;
            if w != 0.0 {
                for (g, e) in grad.iter_mut().zip(noise) {
                    *g += w * e;
                }
            }
        }
        let scale = 1.0 / (2.0 * population as f32 * cfg.sigma);
        let t = (g + 1) as i32;
        for j in 0..n {
            // Ascent: the step follows the gradient of the fitness, less the decay.
            let gj = grad[j] * scale - cfg.weight_decay * theta[j];
            m[j] = b1 * m[j] + (1.0 - b1) * gj;
            v[j] = b2 * v[j] + (1.0 - b2) * gj * gj;
            let mh = m[j] / (1.0 - b1.powi(t));
            let vh = v[j] / (1.0 - b2.powi(t));
            theta[j] += cfg.lr * mh / (vh.sqrt() + eps);
        }
        let centre = validation
            .as_ref()
            .filter(|v| v.every > 0 && (g + 1).is_multiple_of(v.every))
            .map(|v| (v.score)(&rebuild(&theta)));
        if let Some(c) = centre
            && best.as_ref().is_none_or(|(b, _)| c > *b)
        {
            best = Some((c, theta.clone()));
        }
        progress(Generation {
            index: g,
            mean: scores.iter().sum::<f64>() / scores.len() as f64,
            best: scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            centre,
        });
    }
    rebuild(&best.map_or(theta, |(_, t)| t))
}

/// `n` standard normal values from `seed` (Box–Muller on the seeded stream).
fn gaussian(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = rng.uniform().max(f64::MIN_POSITIVE);
        let u2 = rng.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let a = std::f64::consts::TAU * u2;
        out.push((r * a.cos()) as f32);
        out.push((r * a.sin()) as f32);
    }
    out.truncate(n);
    out
}

/// The scores' ranks scaled to [−0.5, 0.5] (ties share the mean of their ranks).
fn centred_ranks(scores: &[f64]) -> Vec<f64> {
    let n = scores.len();
    if n < 2 {
        return vec![0.0; n];
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            ranks[k] = mean / (n - 1) as f64 - 0.5;
        }
        i = j + 1;
    }
    ranks
}

/// `f(0..n)` on `threads` scoped threads, in index order.
fn parallel_map(n: usize, threads: usize, f: &(dyn Fn(usize) -> f64 + Sync)) -> Vec<f64> {
    let mut out = vec![0.0; n];
    let chunk = n.div_ceil(threads);
    std::thread::scope(|s| {
        for (t, slot) in out.chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                for (k, o) in slot.iter_mut().enumerate() {
                    *o = f(t * chunk + k);
                }
            });
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, Arch};

    #[test]
    fn ranks_are_centred_and_ties_share_them() {
        assert_eq!(centred_ranks(&[3.0, 1.0, 2.0]), [0.5, -0.5, 0.0]);
        assert_eq!(centred_ranks(&[1.0, 1.0, 5.0]), [-0.25, -0.25, 0.5]);
        let g = gaussian(9, 10_001);
        let mean = g.iter().map(|&x| f64::from(x)).sum::<f64>() / g.len() as f64;
        let var = g.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / g.len() as f64;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "{mean} {var}");
    }

    #[test]
    fn es_fits_a_linear_target_and_its_result_does_not_depend_on_the_threads() {
        // Fitness: minus the squared error of a 2→1 linear net against y = 2a − b + 0.5.
        let arch =
            Arch::Mlp { inputs: 2, hidden: vec![], outputs: 1, activation: Activation::Relu };
        let net = Net::init(arch, &mut Rng::seed_from_u64(0)).unwrap();
        let fitness = |net: &Net, seed: u64| {
            let mut rng = Rng::seed_from_u64(seed);
            let mut out = [0.0];
            -(0..32)
                .map(|_| {
                    let (a, b) =
                        (rng.uniform() as f32 * 2.0 - 1.0, rng.uniform() as f32 * 2.0 - 1.0);
                    net.forward(&[a, b], &mut out);
                    f64::from(out[0] - (2.0 * a - b + 0.5)).powi(2)
                })
                .sum::<f64>()
                / 32.0
        };
        let cfg = EsConfig {
            population: 16,
            sigma: 0.05,
            lr: 0.05,
            weight_decay: 0.0,
            generations: 300,
            threads: 1,
        };
        let one = train(net.clone(), &cfg, 1, &fitness, None, &mut |_| {});
        assert!(fitness(&one, 99) > -0.01, "{:?}", one.params());
        let two = train(net, &EsConfig { threads: 3, ..cfg }, 1, &fitness, None, &mut |_| {});
        assert_eq!(one, two);
    }
}
