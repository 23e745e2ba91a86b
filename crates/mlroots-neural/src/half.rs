//! Half-precision (IEEE f16) weight files, for networks shipped only as test fixtures: a
//! 161-256-256-4 network takes 217 KB instead of 434 KB. The values are rounded to the nearest
//! f16 (ties to even) when written and widened exactly when read, so a fixture is whatever its
//! writer rounded, and a test on it measures that rounded network. Shipped policies stay f32
//! ([`mlroots_learn::net::Net::save`]).

use mlroots_learn::net::{Arch, Net};

/// What went wrong reading a half-precision weight file.
#[derive(Debug, thiserror::Error)]
pub enum HalfError {
    /// The bytes are not a safetensors file of f16 tensors of the architecture's shapes.
    #[error("{path}: {reason}; write it with `mlroots_neural::half::to_safetensors`")]
    BadWeights {
        /// The file.
        path: String,
        /// What does not match.
        reason: String,
    },
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// `x` rounded to the nearest f16 (ties to even), as its bits; beyond the f16 range, infinity.
pub fn f16_bits(x: f32) -> u16 {
    half::f16::from_f32(x).to_bits()
}

/// The f16 with bits `h`, widened to f32 (exact).
pub fn f16_value(h: u16) -> f32 {
    half::f16::from_bits(h).to_f32()
}

/// The safetensors bytes of `net`'s parameters rounded to f16, with `metadata` in the header.
pub fn to_safetensors(net: &Net, metadata: &[(&str, &str)]) -> Vec<u8> {
    let shapes = net.arch().param_shapes().expect("a built net has a valid arch");
    let bytes: Vec<Vec<u8>> = net
        .params()
        .iter()
        .map(|p| p.iter().flat_map(|&v| f16_bits(v).to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = shapes
        .into_iter()
        .zip(&bytes)
        .map(|((name, shape), b)| {
            let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F16, shape, b)
                .expect("shape matches the data");
            (name, view)
        })
        .collect();
    let meta = metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    safetensors::serialize(views, Some(meta)).expect("serialising in memory cannot fail")
}

/// Reads f16 parameters for `arch` from safetensors bytes (every tensor of the architecture,
/// f16, of its exact shape, finite; no other), widened to f32. `path` names the source in
/// errors.
pub fn from_safetensors(arch: Arch, bytes: &[u8], path: &str) -> Result<Net, HalfError> {
    let bad = |reason: String| HalfError::BadWeights { path: path.to_string(), reason };
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let shapes = arch.param_shapes().map_err(|e| bad(e.to_string()))?;
    if st.len() != shapes.len() {
        return Err(bad(format!("{} tensors, the architecture has {}", st.len(), shapes.len())));
    }
    let mut params = Vec::with_capacity(shapes.len());
    for (name, shape) in &shapes {
        let t = st
            .tensor(name)
            .map_err(|_| bad(format!("tensor `{name}` is missing (shape {shape:?})")))?;
        if t.dtype() != safetensors::Dtype::F16 || t.shape() != shape.as_slice() {
            return Err(bad(format!(
                "tensor `{name}` is {:?} {:?}; expected F16 {shape:?}",
                t.dtype(),
                t.shape()
            )));
        }
        let values: Vec<f32> =
            t.data().chunks_exact(2).map(|c| f16_value(u16::from_le_bytes([c[0], c[1]]))).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(bad(format!("tensor `{name}` holds NaN or infinite values")));
        }
        params.push(values);
    }
    Net::from_params(arch, params).map_err(|e| bad(e.to_string()))
}

/// Reads the f16 weight file at `path` for `arch`.
pub fn load(arch: Arch, path: &std::path::Path) -> Result<Net, HalfError> {
    let bytes = std::fs::read(path)
        .map_err(|source| HalfError::Io { path: path.display().to_string(), source })?;
    from_safetensors(arch, &bytes, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlroots_learn::net::Activation;

    #[test]
    fn every_f16_survives_the_round_trip_and_rounding_is_to_nearest_even() {
        for h in 0..=u16::MAX {
            let v = f16_value(h);
            if v.is_nan() {
                assert!(f16_value(f16_bits(v)).is_nan());
            } else {
                assert_eq!(f16_bits(v), h, "{h:#06x} = {v}");
            }
        }
        assert_eq!(f16_bits(1.0), 0x3c00);
        assert_eq!(f16_bits(-2.0), 0xc000);
        assert_eq!(f16_bits(65504.0), 0x7bff);
        assert_eq!(f16_bits(65536.0), 0x7c00, "beyond the range: infinity");
        assert_eq!(f16_bits(0.1), 0x2e66);
        assert_eq!(f16_bits(1e-9), 0, "below the smallest subnormal: zero");
        // 1 + 2^-11 lies halfway between 1 and the next f16: ties go to the even mantissa (1);
        // 1 + 3·2^-11 lies halfway between two odd/even neighbours and goes up.
        assert_eq!(f16_bits(1.0 + f32::powi(2.0, -11)), 0x3c00);
        assert_eq!(f16_bits(1.0 + 3.0 * f32::powi(2.0, -11)), 0x3c02);
        // The smallest subnormal, and half of it (a tie, to even: zero).
        assert_eq!(f16_bits(f32::powi(2.0, -24)), 1);
        assert_eq!(f16_bits(f32::powi(2.0, -25)), 0);
        // Relative error of a normal value is at most 2^-11.
        for x in [0.3f32, -0.0123, 7.77, 1e-3] {
            assert!((f16_value(f16_bits(x)) - x).abs() <= x.abs() * f32::powi(2.0, -11));
        }
    }

    #[test]
    fn a_network_round_trips_within_f16_rounding_and_mismatches_are_named() {
        let arch =
            Arch::Mlp { inputs: 3, hidden: vec![4], outputs: 2, activation: Activation::Relu };
        let net = Net::init(arch.clone(), &mut mlroots_env::Rng::seed_from_u64(7)).unwrap();
        let bytes = to_safetensors(&net, &[("what", "test")]);
        let back = from_safetensors(arch.clone(), &bytes, "w").unwrap();
        for (a, b) in net.params().iter().flatten().zip(back.params().iter().flatten()) {
            assert_eq!(*b, f16_value(f16_bits(*a)));
        }
        assert_eq!(from_safetensors(arch, &to_safetensors(&back, &[]), "w").unwrap(), back);
        let other =
            Arch::Mlp { inputs: 3, hidden: vec![5], outputs: 2, activation: Activation::Relu };
        let err = from_safetensors(other, &bytes, "w.f16").unwrap_err().to_string();
        assert!(err.contains("w.f16") && err.contains("expected F16"), "{err}");
        let f32_bytes = net.to_safetensors(&[]);
        let err = from_safetensors(net.arch().clone(), &f32_bytes, "w").unwrap_err().to_string();
        assert!(err.contains("F32"), "{err}");
    }
}
