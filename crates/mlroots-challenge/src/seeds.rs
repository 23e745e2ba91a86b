//! Seeds: the public practice seeds (below 2^32) and the evaluation seeds, derived from a
//! server secret by HMAC-SHA256 with the top bit set, so that the two sets never meet and
//! each attempt meets fresh episodes that nobody can precompute without the secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Every evaluation seed has this bit set; no practice seed has it.
pub const EVAL_BIT: u64 = 1 << 63;

/// The largest practice seed, plus one.
pub const PRACTICE_LIMIT: u64 = 1 << 32;

/// True for a seed of the evaluation set.
pub fn is_eval_seed(seed: u64) -> bool {
    seed & EVAL_BIT != 0
}

/// The `n` evaluation seeds of an attempt: HMAC-SHA256 under `secret` of the challenge, the
/// sub-challenge, the version, the account and the attempt number, one per episode.
pub fn eval_seeds(
    secret: &[u8],
    challenge: &str,
    sub: &str,
    version: u32,
    account: &str,
    attempt: u64,
    n: u32,
) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let mut mac =
                <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any size");
            // Each field is length-prefixed, so no two tuples share a message.
            for field in [challenge.as_bytes(), sub.as_bytes(), account.as_bytes()] {
                mac.update(&(field.len() as u64).to_le_bytes());
                mac.update(field);
            }
            mac.update(&version.to_le_bytes());
            mac.update(&attempt.to_le_bytes());
            mac.update(&i.to_le_bytes());
            let out = mac.finalize().into_bytes();
            let mut first = [0u8; 8];
            first.copy_from_slice(&out[..8]);
            u64::from_le_bytes(first) | EVAL_BIT
        })
        .collect()
}

/// The `n` public practice seeds of practice set `set` (what `mlroots judge --seed-set`
/// evaluates on): SplitMix64 of the set and the index, below 2^32.
pub fn practice_seeds(set: u32, n: u32) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let mut z = (u64::from(set) << 32 | u64::from(i)).wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % PRACTICE_LIMIT
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_seeds_are_disjoint_from_practice_seeds() {
        let eval = eval_seeds(b"secret", "C03-safety-gridworlds", "AS-X", 1, "ada", 0, 1000);
        assert!(eval.iter().all(|&s| is_eval_seed(s)));
        for set in 0..4 {
            assert!(
                practice_seeds(set, 1000).iter().all(|&s| s < PRACTICE_LIMIT && !is_eval_seed(s))
            );
        }
        let mut sorted = eval.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), eval.len(), "no seed repeats within an attempt");
    }

    #[test]
    fn eval_seeds_depend_on_every_input() {
        let base = eval_seeds(b"secret", "C03", "AS-X", 1, "ada", 0, 4);
        assert_eq!(base, eval_seeds(b"secret", "C03", "AS-X", 1, "ada", 0, 4), "deterministic");
        for other in [
            eval_seeds(b"secreT", "C03", "AS-X", 1, "ada", 0, 4),
            eval_seeds(b"secret", "C04", "AS-X", 1, "ada", 0, 4),
            eval_seeds(b"secret", "C03", "AS-S", 1, "ada", 0, 4),
            eval_seeds(b"secret", "C03", "AS-X", 2, "ada", 0, 4),
            eval_seeds(b"secret", "C03", "AS-X", 1, "bob", 0, 4),
            eval_seeds(b"secret", "C03", "AS-X", 1, "ada", 1, 4),
            // Moving a byte between fields changes the message (length prefixes).
            eval_seeds(b"secret", "C0", "3AS-X", 1, "ada", 0, 4),
        ] {
            assert!(other.iter().all(|s| !base.contains(s)), "{other:?} vs {base:?}");
        }
        // Golden values, computed independently with Python's hmac module: the derivation
        // must not change silently (it would change every recorded attempt's episodes).
        assert_eq!(base[..2], [15390606477136870881, 14680637402135194870]);
        assert_eq!(practice_seeds(1, 3), practice_seeds(1, 3));
        assert_ne!(practice_seeds(1, 3), practice_seeds(2, 3));
    }
}
