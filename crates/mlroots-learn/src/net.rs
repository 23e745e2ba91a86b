//! Networks as data: an architecture ([`Arch`]), its parameters ([`Net`]), the forward pass in
//! plain Rust, and the safetensors file they are saved in.
//!
//! Training uses burn (`mlroots-neural`), but running a saved network must not: the judge and
//! the server evaluate submitted weights with this forward pass, which is deterministic and
//! needs no tensor library. The parameter layout follows PyTorch's conventions so that weights
//! trained elsewhere load unchanged: a dense layer `layers.{i}` has `weight` `[out, in]` and
//! `bias` `[out]`; a convolution `convs.{i}` has `weight` `[out, in, k, k]` and `bias` `[out]`
//! (no padding). Initialisation is PyTorch's default, `U(−1/√fan_in, 1/√fan_in)`, drawn from our
//! seeded [`Rng`] so that a seed gives the same network on every machine.

use std::path::Path;

use mlroots_env::Rng;
use serde::{Deserialize, Serialize};

/// The nonlinearity between layers (none after the last one).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x` if positive, else `slope · x`.
    LeakyRelu {
        /// The negative slope (0.1 for the harvester).
        slope: f32,
    },
}

impl Activation {
    /// Applies the activation to one value.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::LeakyRelu { slope } => {
                if x > 0.0 {
                    x
                } else {
                    slope * x
                }
            }
        }
    }
}

/// A convolution layer of a [`Arch::Cnn`]: square kernel, no padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv {
    /// Output channels.
    pub channels: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
}

/// A network architecture: what a saved policy records beside its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arch {
    /// A multilayer perceptron over a flat input.
    Mlp {
        /// Input length.
        inputs: usize,
        /// Hidden layer widths.
        hidden: Vec<usize>,
        /// Output length (one Q-value per action).
        outputs: usize,
        /// Between layers.
        activation: Activation,
    },
    /// Convolutions over a `[channels, height, width]` image, then a perceptron.
    Cnn {
        /// `[channels, height, width]` of the input.
        input: [usize; 3],
        /// The convolutions, in order (each followed by the activation).
        convs: Vec<Conv>,
        /// Hidden layer widths of the perceptron head.
        hidden: Vec<usize>,
        /// Output length.
        outputs: usize,
        /// Between layers.
        activation: Activation,
    },
}

/// What is wrong with an architecture or a weights file.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The architecture cannot be built.
    #[error("bad architecture: {0}")]
    BadArch(String),
    /// The weights file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The weights file is not valid safetensors, or does not match the architecture.
    #[error("{path}: {reason}")]
    BadWeights {
        /// The file (or `<bytes>`).
        path: String,
        /// What is wrong and what was expected.
        reason: String,
    },
}

impl Arch {
    /// The length of the flat input.
    pub fn input_len(&self) -> usize {
        match self {
            Arch::Mlp { inputs, .. } => *inputs,
            Arch::Cnn { input, .. } => input.iter().product(),
        }
    }

    /// The length of the output.
    pub fn output_len(&self) -> usize {
        match self {
            Arch::Mlp { outputs, .. } | Arch::Cnn { outputs, .. } => *outputs,
        }
    }

    /// The nonlinearity.
    pub fn activation(&self) -> Activation {
        match self {
            Arch::Mlp { activation, .. } | Arch::Cnn { activation, .. } => *activation,
        }
    }

    /// The shapes `[channels, height, width]` after each convolution (empty for an MLP).
    pub fn conv_shapes(&self) -> Result<Vec<[usize; 3]>, NetError> {
        let Arch::Cnn { input, convs, .. } = self else { return Ok(Vec::new()) };
        let mut shape = *input;
        let mut out = Vec::new();
        for (i, c) in convs.iter().enumerate() {
            if c.kernel == 0 || c.stride == 0 || c.channels == 0 {
                return Err(NetError::BadArch(format!(
                    "convs.{i}: channels, kernel and stride must be ≥ 1"
                )));
            }
            if shape[1] < c.kernel || shape[2] < c.kernel {
                return Err(NetError::BadArch(format!(
                    "convs.{i}: kernel {} does not fit a {}×{} input",
                    c.kernel, shape[1], shape[2]
                )));
            }
            shape = [
                c.channels,
                (shape[1] - c.kernel) / c.stride + 1,
                (shape[2] - c.kernel) / c.stride + 1,
            ];
            out.push(shape);
        }
        Ok(out)
    }

    /// The widths of the dense layers, input first: `[in, h1, ..., out]`.
    pub fn dense_widths(&self) -> Result<Vec<usize>, NetError> {
        let (first, hidden, outputs) = match self {
            Arch::Mlp { inputs, hidden, outputs, .. } => (*inputs, hidden, *outputs),
            Arch::Cnn { hidden, outputs, .. } => {
                let flat =
                    self.conv_shapes()?.last().map_or(self.input_len(), |s| s.iter().product());
                (flat, hidden, *outputs)
            }
        };
        let widths: Vec<usize> =
            std::iter::once(first).chain(hidden.iter().copied()).chain([outputs]).collect();
        if widths.contains(&0) {
            return Err(NetError::BadArch("every layer width must be ≥ 1".into()));
        }
        Ok(widths)
    }

    /// Every parameter tensor's name and shape, in the order [`Net::params`] holds them.
    pub fn param_shapes(&self) -> Result<Vec<(String, Vec<usize>)>, NetError> {
        let mut shapes = Vec::new();
        if let Arch::Cnn { input, convs, .. } = self {
            let mut in_ch = input[0];
            for (i, c) in convs.iter().enumerate() {
                shapes.push((
                    format!("convs.{i}.weight"),
                    vec![c.channels, in_ch, c.kernel, c.kernel],
                ));
                shapes.push((format!("convs.{i}.bias"), vec![c.channels]));
                in_ch = c.channels;
            }
        }
        self.conv_shapes()?;
        for (i, w) in self.dense_widths()?.windows(2).enumerate() {
            shapes.push((format!("layers.{i}.weight"), vec![w[1], w[0]]));
            shapes.push((format!("layers.{i}.bias"), vec![w[1]]));
        }
        Ok(shapes)
    }

    /// The number of parameters.
    pub fn param_count(&self) -> Result<usize, NetError> {
        Ok(self.param_shapes()?.iter().map(|(_, s)| s.iter().product::<usize>()).sum())
    }
}

/// A network: its architecture and its parameters, in [`Arch::param_shapes`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    arch: Arch,
    params: Vec<Vec<f32>>,
}

impl Net {
    /// PyTorch's default initialisation, `U(−1/√fan_in, 1/√fan_in)` for weights and biases,
    /// drawn from `rng` tensor by tensor, element by element in row-major order.
    pub fn init(arch: Arch, rng: &mut Rng) -> Result<Net, NetError> {
        let shapes = arch.param_shapes()?;
        let mut params = Vec::with_capacity(shapes.len());
        // Shapes come in (weight, bias) pairs; both draw from the weight's fan-in.
        for pair in shapes.chunks(2) {
            let fan_in: usize = pair[0].1[1..].iter().product();
            let bound = 1.0 / (fan_in as f64).sqrt();
            for (_, shape) in pair {
                let n: usize = shape.iter().product();
                params.push((0..n).map(|_| ((rng.uniform() * 2.0 - 1.0) * bound) as f32).collect());
            }
        }
        Ok(Net { arch, params })
    }

    /// A network from parameters in [`Arch::param_shapes`] order; checks every length.
    pub fn from_params(arch: Arch, params: Vec<Vec<f32>>) -> Result<Net, NetError> {
        let shapes = arch.param_shapes()?;
        if shapes.len() != params.len() {
            return Err(NetError::BadArch(format!(
                "{} parameter tensors given, the architecture has {}",
                params.len(),
                shapes.len()
            )));
        }
        for ((name, shape), p) in shapes.iter().zip(&params) {
            let n: usize = shape.iter().product();
            if p.len() != n {
                return Err(NetError::BadArch(format!(
                    "{name}: {} values given, shape {shape:?} needs {n}",
                    p.len()
                )));
            }
        }
        Ok(Net { arch, params })
    }

    /// The architecture.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    /// The parameters, in [`Arch::param_shapes`] order.
    pub fn params(&self) -> &[Vec<f32>] {
        &self.params
    }

    /// The Euclidean norm of all parameters together.
    pub fn l2_norm(&self) -> f64 {
        self.params.iter().flatten().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt()
    }

    /// The forward pass of one input; `out` gets [`Arch::output_len`] values.
    ///
    /// # Panics
    /// If `x` or `out` has the wrong length (a caller's bug, not user input).
    pub fn forward(&self, x: &[f32], out: &mut [f32]) {
        assert_eq!(x.len(), self.arch.input_len(), "input length");
        assert_eq!(out.len(), self.arch.output_len(), "output length");
        let act = self.arch.activation();
        let mut cur = x.to_vec();
        let mut p = 0;
        if let Arch::Cnn { input, convs, .. } = &self.arch {
            let mut shape = *input;
            for c in convs {
                let (w, b) = (&self.params[p], &self.params[p + 1]);
                p += 2;
                let (ih, iw) = (shape[1], shape[2]);
                let (oh, ow) = ((ih - c.kernel) / c.stride + 1, (iw - c.kernel) / c.stride + 1);
                let mut next = vec![0.0; c.channels * oh * ow];
                for o in 0..c.channels {
                    for y in 0..oh {
                        for xo in 0..ow {
                            let mut s = b[o];
                            for i in 0..shape[0] {
                                for ky in 0..c.kernel {
                                    let row =
                                        &cur[(i * ih + y * c.stride + ky) * iw + xo * c.stride..];
                                    let wrow =
                                        &w[((o * shape[0] + i) * c.kernel + ky) * c.kernel..];
                                    for kx in 0..c.kernel {
                                        s += row[kx] * wrow[kx];
                                    }
                                }
                            }
                            next[(o * oh + y) * ow + xo] = act.apply(s);
                        }
                    }
                }
                shape = [c.channels, oh, ow];
                cur = next;
            }
        }
        let layers = (self.params.len() - p) / 2;
        for l in 0..layers {
            let (w, b) = (&self.params[p], &self.params[p + 1]);
            p += 2;
            let n_in = cur.len();
            let last = l + 1 == layers;
            let next: Vec<f32> = b
                .iter()
                .enumerate()
                .map(|(o, &bias)| {
                    let s = bias + dot(&w[o * n_in..(o + 1) * n_in], &cur);
                    if last { s } else { act.apply(s) }
                })
                .collect();
            cur = next;
        }
        out.copy_from_slice(&cur);
    }

    /// The index of the largest output for `x` (ties to the lowest index).
    pub fn argmax(&self, x: &[f32]) -> usize {
        let mut q = vec![0.0; self.arch.output_len()];
        self.forward(x, &mut q);
        argmax(&q)
    }

    /// The safetensors bytes of the parameters (f32), with `metadata` in the header.
    pub fn to_safetensors(&self, metadata: &[(&str, &str)]) -> Vec<u8> {
        self.to_safetensors_as(Precision::F32, metadata)
    }

    /// The safetensors bytes of the parameters stored at `precision` (f16 rounds each to the
    /// nearest, ties to even), with `metadata` in the header.
    pub fn to_safetensors_as(&self, precision: Precision, metadata: &[(&str, &str)]) -> Vec<u8> {
        let shapes = self.arch.param_shapes().expect("a built net has a valid arch");
        let bytes: Vec<Vec<u8>> = self
            .params
            .iter()
            .map(|p| {
                let mut b = Vec::with_capacity(p.len() * precision.width());
                p.iter().for_each(|&v| precision.encode(v, &mut b));
                b
            })
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = shapes
            .into_iter()
            .zip(&bytes)
            .map(|((name, shape), b)| {
                let view = safetensors::tensor::TensorView::new(precision.dtype(), shape, b)
                    .expect("shape matches the data");
                (name, view)
            })
            .collect();
        let meta = metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        safetensors::serialize(views, Some(meta)).expect("serialising in memory cannot fail")
    }

    /// Reads parameters for `arch` from safetensors bytes: every tensor of the architecture
    /// must be present, f32, of its exact shape and finite; no other tensor is accepted.
    /// Metadata in the header is ignored.
    pub fn from_safetensors(arch: Arch, bytes: &[u8], path: &str) -> Result<Net, NetError> {
        Net::from_safetensors_as(arch, bytes, path, Precision::F32)
    }

    /// [`Net::from_safetensors`] for tensors stored at `precision` (widened exactly to f32).
    pub fn from_safetensors_as(
        arch: Arch,
        bytes: &[u8],
        path: &str,
        precision: Precision,
    ) -> Result<Net, NetError> {
        let bad = |reason: String| NetError::BadWeights { path: path.to_string(), reason };
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let shapes = arch.param_shapes()?;
        for name in st.names() {
            if !shapes.iter().any(|(n, _)| n == name) {
                let expected: Vec<&str> = shapes.iter().map(|(n, _)| n.as_str()).collect();
                return Err(bad(format!(
                    "unexpected tensor `{name}`; the architecture has {}",
                    expected.join(", ")
                )));
            }
        }
        let mut params = Vec::with_capacity(shapes.len());
        for (name, shape) in &shapes {
            let t = st
                .tensor(name)
                .map_err(|_| bad(format!("tensor `{name}` is missing (shape {shape:?})")))?;
            if t.dtype() != precision.dtype() {
                return Err(bad(format!(
                    "tensor `{name}` is {:?}; expected {:?}",
                    t.dtype(),
                    precision.dtype()
                )));
            }
            if t.shape() != shape.as_slice() {
                return Err(bad(format!(
                    "tensor `{name}` has shape {:?}; expected {shape:?}",
                    t.shape()
                )));
            }
            let values: Vec<f32> =
                t.data().chunks_exact(precision.width()).map(|c| precision.decode(c)).collect();
            if values.iter().any(|v| !v.is_finite()) {
                return Err(bad(format!("tensor `{name}` holds NaN or infinite values")));
            }
            params.push(values);
        }
        Net::from_params(arch, params)
    }

    /// Writes the parameters to `path` as safetensors.
    pub fn save(&self, path: &Path, metadata: &[(&str, &str)]) -> Result<(), NetError> {
        std::fs::write(path, self.to_safetensors(metadata))
            .map_err(|source| NetError::Io { path: path.display().to_string(), source })
    }

    /// Reads parameters for `arch` from the safetensors file at `path`.
    pub fn load(arch: Arch, path: &Path) -> Result<Net, NetError> {
        Net::load_as(arch, path, Precision::F32)
    }

    /// [`Net::load`] for a file stored at `precision`.
    pub fn load_as(arch: Arch, path: &Path, precision: Precision) -> Result<Net, NetError> {
        let bytes = std::fs::read(path)
            .map_err(|source| NetError::Io { path: path.display().to_string(), source })?;
        Net::from_safetensors_as(arch, &bytes, &path.display().to_string(), precision)
    }
}

/// How a weights file stores each parameter. Shipped policies and submissions are f32; f16
/// halves the size of networks kept only as test fixtures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// IEEE single precision.
    F32,
    /// IEEE half precision: rounded to the nearest when written (ties to even; beyond the
    /// range, infinity), widened exactly when read.
    F16,
}

impl Precision {
    fn dtype(self) -> safetensors::Dtype {
        match self {
            Precision::F32 => safetensors::Dtype::F32,
            Precision::F16 => safetensors::Dtype::F16,
        }
    }
    fn width(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }
    fn encode(self, v: f32, out: &mut Vec<u8>) {
        match self {
            Precision::F32 => out.extend_from_slice(&v.to_le_bytes()),
            Precision::F16 => out.extend_from_slice(&half::f16::from_f32(v).to_le_bytes()),
        }
    }
    fn decode(self, c: &[u8]) -> f32 {
        match self {
            Precision::F32 => f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            Precision::F16 => half::f16::from_le_bytes([c[0], c[1]]).to_f32(),
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The index of the largest value (ties to the lowest index; NaN never wins).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// `‖θ − θ₀‖₂ / ‖θ₀‖₂` over every parameter of two networks of one architecture (in f64);
/// infinite when `anchor` is all zeros and `net` is not. (C04/HV-S's weight budget: its judge
/// and its reference repair measure it alike.)
pub fn relative_change(anchor: &Net, net: &Net) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (a, b) in anchor.params().iter().flatten().zip(net.params().iter().flatten()) {
        diff += (f64::from(*b) - f64::from(*a)).powi(2);
        norm += f64::from(*a).powi(2);
    }
    if diff == 0.0 { 0.0 } else { (diff / norm).sqrt() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f16_bits(x: f32) -> u16 {
        let mut b = Vec::new();
        Precision::F16.encode(x, &mut b);
        u16::from_le_bytes([b[0], b[1]])
    }

    fn f16_value(h: u16) -> f32 {
        Precision::F16.decode(&h.to_le_bytes())
    }

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
        let net = Net::init(arch.clone(), &mut Rng::seed_from_u64(7)).unwrap();
        let f16 = Precision::F16;
        let bytes = net.to_safetensors_as(f16, &[("what", "test")]);
        let back = Net::from_safetensors_as(arch.clone(), &bytes, "w", f16).unwrap();
        for (a, b) in net.params().iter().flatten().zip(back.params().iter().flatten()) {
            assert_eq!(*b, f16_value(f16_bits(*a)));
        }
        let again = back.to_safetensors_as(f16, &[]);
        assert_eq!(Net::from_safetensors_as(arch, &again, "w", f16).unwrap(), back);
        let other =
            Arch::Mlp { inputs: 3, hidden: vec![5], outputs: 2, activation: Activation::Relu };
        let err = Net::from_safetensors_as(other, &bytes, "w.f16", f16).unwrap_err().to_string();
        assert!(err.contains("w.f16") && err.contains("expected [5, 3]"), "{err}");
        let f32_bytes = net.to_safetensors(&[]);
        let err = Net::from_safetensors_as(net.arch().clone(), &f32_bytes, "w", f16)
            .unwrap_err()
            .to_string();
        assert!(err.contains("F32"), "{err}");
    }

    fn mlp() -> Arch {
        Arch::Mlp {
            inputs: 3,
            hidden: vec![4],
            outputs: 2,
            activation: Activation::LeakyRelu { slope: 0.1 },
        }
    }

    #[test]
    fn a_hand_computed_mlp_forward() {
        // One hidden unit per sign: leaky ReLU keeps 0.1 of the negative one.
        let arch = Arch::Mlp {
            inputs: 2,
            hidden: vec![2],
            outputs: 1,
            activation: Activation::LeakyRelu { slope: 0.1 },
        };
        let net = Net::from_params(
            arch,
            vec![vec![1.0, 2.0, -1.0, -1.0], vec![0.0, 0.0], vec![1.0, 1.0], vec![0.5]],
        )
        .unwrap();
        let mut out = [0.0];
        net.forward(&[1.0, 1.0], &mut out);
        assert_eq!(out[0], 3.0 - 0.2 + 0.5);
    }

    #[test]
    fn a_hand_computed_convolution() {
        // A 1×3×3 input, one 2×2 kernel of ones, stride 1: four window sums, then a sum head.
        let arch = Arch::Cnn {
            input: [1, 3, 3],
            convs: vec![Conv { channels: 1, kernel: 2, stride: 1 }],
            hidden: vec![],
            outputs: 1,
            activation: Activation::Relu,
        };
        let net =
            Net::from_params(arch, vec![vec![1.0; 4], vec![0.0], vec![1.0; 4], vec![0.0]]).unwrap();
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut out = [0.0];
        net.forward(&x, &mut out);
        assert_eq!(out[0], (1 + 2 + 4 + 5 + 2 + 3 + 5 + 6 + 4 + 5 + 7 + 8 + 5 + 6 + 8 + 9) as f32);
    }

    #[test]
    fn init_is_seeded_and_bounded_by_fan_in() {
        let a = Net::init(mlp(), &mut Rng::seed_from_u64(1)).unwrap();
        assert_eq!(a, Net::init(mlp(), &mut Rng::seed_from_u64(1)).unwrap());
        assert_ne!(a, Net::init(mlp(), &mut Rng::seed_from_u64(2)).unwrap());
        let bound = 1.0 / 3f32.sqrt();
        assert!(a.params()[0].iter().chain(&a.params()[1]).all(|v| v.abs() <= bound));
        assert_eq!(mlp().param_count().unwrap(), 3 * 4 + 4 + 4 * 2 + 2);
    }

    #[test]
    fn safetensors_round_trip_and_every_mismatch_is_named() {
        let net = Net::init(mlp(), &mut Rng::seed_from_u64(3)).unwrap();
        let bytes = net.to_safetensors(&[("arch", "mlp")]);
        assert_eq!(Net::from_safetensors(mlp(), &bytes, "w").unwrap(), net);
        let other =
            Arch::Mlp { inputs: 3, hidden: vec![5], outputs: 2, activation: Activation::Relu };
        let err = Net::from_safetensors(other, &bytes, "w.safetensors").unwrap_err().to_string();
        assert!(
            err.contains("w.safetensors")
                && err.contains("layers.0.weight")
                && err.contains("[5, 3]"),
            "{err}"
        );
        let err = Net::from_safetensors(mlp(), b"not safetensors", "w").unwrap_err().to_string();
        assert!(err.contains("not a safetensors file"), "{err}");
        let mut nan = net.clone();
        nan.params[1][0] = f32::NAN;
        let err =
            Net::from_safetensors(mlp(), &nan.to_safetensors(&[]), "w").unwrap_err().to_string();
        assert!(err.contains("NaN"), "{err}");
    }

    #[test]
    fn architectures_that_cannot_be_built_are_refused() {
        let too_big = Arch::Cnn {
            input: [1, 2, 2],
            convs: vec![Conv { channels: 1, kernel: 3, stride: 1 }],
            hidden: vec![],
            outputs: 1,
            activation: Activation::Relu,
        };
        assert!(too_big.param_shapes().unwrap_err().to_string().contains("does not fit"));
        let zero =
            Arch::Mlp { inputs: 3, hidden: vec![0], outputs: 2, activation: Activation::Relu };
        assert!(zero.param_count().is_err());
        assert_eq!(argmax(&[1.0, 3.0, 3.0, f32::NAN]), 1);
    }
}
