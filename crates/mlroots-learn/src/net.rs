//! Networks as data: an architecture ([`Arch`]), its parameters ([`Net`]), the forward pass in
//! plain Rust, and the safetensors file they are saved in.
//!
//! Training uses burn (`mlroots-neural`), but running a saved network must not: the judge and
//! the server evaluate submitted weights with this forward pass, which is deterministic and
//! needs no tensor library. The parameter layout follows PyTorch's conventions so that weights
//! trained elsewhere load unchanged: a dense layer `layers.{i}` has `weight` `[out, in]` and
//! `bias` `[out]`; a convolution `convs.{i}` has `weight` `[out, in, k, k]` and `bias` `[out]`
//! (no padding); a recurrent layer is PyTorch's one-layer `nn.GRU` named `gru`
//! (`gru.weight_ih_l0` `[3·state, in]`, `gru.weight_hh_l0` `[3·state, state]`, their biases,
//! gates in PyTorch's order: reset, update, new). Initialisation is PyTorch's default,
//! `U(−1/√fan_in, 1/√fan_in)` (`U(−1/√state, 1/√state)` for the GRU), drawn from our seeded
//! [`Rng`] so that a seed gives the same network on every machine.
//!
//! A recurrent network carries a state from step to step: [`Actor`] runs any network as a
//! policy over an episode, holding that state (and, for RL²'s feedback, the previous action and
//! reward), so that callers treat feedforward and recurrent policies alike.

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
    /// A one-layer GRU over the sequence of inputs, then a perceptron head on its state: a
    /// recurrent policy that can learn within an episode (RL², Duan et al. 2016; Wang et al.
    /// 2016). The state starts at zero at every reset.
    Gru {
        /// The observation's length.
        inputs: usize,
        /// The GRU's state size.
        state: usize,
        /// Hidden layer widths of the head.
        hidden: Vec<usize>,
        /// Output length (one score per action).
        outputs: usize,
        /// Between the head's layers.
        activation: Activation,
        /// RL²'s feedback: the GRU reads the observation, then the previous action one-hot
        /// (`outputs` values) and the previous reward (zeros at an episode's first step).
        #[serde(default)]
        feedback: bool,
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
    /// The length of the flat input of one forward step (for a GRU with feedback: the
    /// observation, the previous action one-hot and the previous reward).
    pub fn input_len(&self) -> usize {
        match self {
            Arch::Mlp { inputs, .. } => *inputs,
            Arch::Cnn { input, .. } => input.iter().product(),
            Arch::Gru { inputs, outputs, feedback, .. } => {
                inputs + if *feedback { outputs + 1 } else { 0 }
            }
        }
    }

    /// The length of the environment's observation the network reads.
    pub fn obs_len(&self) -> usize {
        match self {
            Arch::Gru { inputs, .. } => *inputs,
            _ => self.input_len(),
        }
    }

    /// The length of the output.
    pub fn output_len(&self) -> usize {
        match self {
            Arch::Mlp { outputs, .. } | Arch::Cnn { outputs, .. } | Arch::Gru { outputs, .. } => {
                *outputs
            }
        }
    }

    /// The length of the recurrent state (0 for a feedforward network).
    pub fn state_len(&self) -> usize {
        match self {
            Arch::Gru { state, .. } => *state,
            _ => 0,
        }
    }

    /// The nonlinearity.
    pub fn activation(&self) -> Activation {
        match self {
            Arch::Mlp { activation, .. }
            | Arch::Cnn { activation, .. }
            | Arch::Gru { activation, .. } => *activation,
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
            Arch::Gru { state, hidden, outputs, .. } => (*state, hidden, *outputs),
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
        if let Arch::Gru { inputs, state, outputs, .. } = self {
            // Sizes from a file: refuse absurd ones before any arithmetic can overflow.
            if [*inputs, *state, *outputs].iter().any(|&n| n == 0 || n > 1 << 20) {
                return Err(NetError::BadArch(
                    "the GRU's inputs, state and outputs must be between 1 and 2^20".into(),
                ));
            }
            let (s, i) = (*state, self.input_len());
            shapes.push(("gru.weight_ih_l0".into(), vec![3 * s, i]));
            shapes.push(("gru.weight_hh_l0".into(), vec![3 * s, s]));
            shapes.push(("gru.bias_ih_l0".into(), vec![3 * s]));
            shapes.push(("gru.bias_hh_l0".into(), vec![3 * s]));
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
        let gru = if arch.state_len() > 0 { 4 } else { 0 };
        let bound = 1.0 / (arch.state_len() as f64).sqrt();
        for (_, shape) in &shapes[..gru] {
            let n: usize = shape.iter().product();
            params.push((0..n).map(|_| ((rng.uniform() * 2.0 - 1.0) * bound) as f32).collect());
        }
        // Dense and convolution shapes come in (weight, bias) pairs; both draw from the
        // weight's fan-in.
        for pair in shapes[gru..].chunks(2) {
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

    /// The forward pass of one input; `out` gets [`Arch::output_len`] values. A recurrent
    /// network takes one step from the zero state ([`Net::step`] carries the state).
    ///
    /// # Panics
    /// If `x` or `out` has the wrong length (a caller's bug, not user input).
    pub fn forward(&self, x: &[f32], out: &mut [f32]) {
        let mut state = vec![0.0; self.arch.state_len()];
        self.step(x, &mut state, out);
    }

    /// One step of the network: a recurrent network reads `x` and its `state`
    /// ([`Arch::state_len`] values, updated in place), then its head writes `out`; a
    /// feedforward network ignores `state` (empty).
    ///
    /// # Panics
    /// If `x`, `state` or `out` has the wrong length (a caller's bug, not user input).
    pub fn step(&self, x: &[f32], state: &mut [f32], out: &mut [f32]) {
        assert_eq!(x.len(), self.arch.input_len(), "input length");
        assert_eq!(state.len(), self.arch.state_len(), "state length");
        assert_eq!(out.len(), self.arch.output_len(), "output length");
        let act = self.arch.activation();
        let (mut cur, mut p) = if state.is_empty() {
            (x.to_vec(), 0)
        } else {
            gru_step(&self.params[..4], x, state);
            (state.to_vec(), 4)
        };
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

/// One step of PyTorch's GRU cell: `r = σ(W_ir x + b_ir + W_hr h + b_hr)`,
/// `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`,
/// `h ← (1 − z) ⊙ n + z ⊙ h`. A mostly-zero input (one-hot boards) is read through its
/// non-zero entries only.
fn gru_step(params: &[Vec<f32>], x: &[f32], h: &mut [f32]) {
    let (w_ih, w_hh, b_ih, b_hh) = (&params[0], &params[1], &params[2], &params[3]);
    let (s, n_in) = (h.len(), x.len());
    let nonzero: Vec<usize> = (0..n_in).filter(|&j| x[j] != 0.0).collect();
    let sparse = nonzero.len() * 4 < n_in;
    let gi: Vec<f32> = (0..3 * s)
        .map(|row| {
            let w = &w_ih[row * n_in..(row + 1) * n_in];
            let wx = if sparse { nonzero.iter().map(|&j| w[j] * x[j]).sum() } else { dot(w, x) };
            b_ih[row] + wx
        })
        .collect();
    let gh: Vec<f32> =
        (0..3 * s).map(|row| b_hh[row] + dot(&w_hh[row * s..(row + 1) * s], h)).collect();
    for k in 0..s {
        let r = sigmoid(gi[k] + gh[k]);
        let z = sigmoid(gi[s + k] + gh[s + k]);
        let n = (gi[2 * s + k] + r * gh[2 * s + k]).tanh();
        h[k] = (1.0 - z) * n + z * h[k];
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// A network acting in an environment, one episode at a time: greedy (the largest output), and
/// for a recurrent network carrying its state, and RL²'s feedback, from step to step.
#[derive(Clone, Debug)]
pub struct Actor {
    net: Net,
    state: Vec<f32>,
    input: Vec<f32>,
    out: Vec<f32>,
}

impl Actor {
    /// An actor at the start of an episode.
    pub fn new(net: Net) -> Actor {
        let arch = net.arch();
        let (state, input, out) = (arch.state_len(), arch.input_len(), arch.output_len());
        Actor { net, state: vec![0.0; state], input: vec![0.0; input], out: vec![0.0; out] }
    }

    /// The network.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// Forgets the episode: zero state, no previous action or reward.
    pub fn reset(&mut self) {
        self.state.fill(0.0);
        self.input.fill(0.0);
    }

    /// The greedy action for `obs` (the environment's observation, [`Arch::obs_len`] values);
    /// a recurrent network's state moves on by one step.
    ///
    /// # Panics
    /// If `obs` has the wrong length (a caller's bug).
    pub fn act(&mut self, obs: &[f32]) -> usize {
        let n = self.net.arch().obs_len();
        self.input[..n].copy_from_slice(obs);
        self.net.step(&self.input, &mut self.state, &mut self.out);
        argmax(&self.out)
    }

    /// The outputs of the last [`Actor::act`].
    pub fn outputs(&self) -> &[f32] {
        &self.out
    }

    /// Tells the actor what its last action was and what it earned (RL²'s feedback; nothing
    /// for a network without it).
    pub fn feedback(&mut self, action: usize, reward: f64) {
        if let Arch::Gru { inputs, outputs, feedback: true, .. } = self.net.arch() {
            let prev = &mut self.input[*inputs..];
            prev.fill(0.0);
            if action < *outputs {
                prev[action] = 1.0;
            }
            prev[*outputs] = reward as f32;
        }
    }
}

impl crate::Policy for Actor {
    fn act(&mut self, obs: &[f32], _info: &mlroots_env::Info) -> mlroots_env::Action {
        Actor::act(self, obs) as mlroots_env::Action
    }

    fn begin_episode(&mut self) {
        self.reset();
    }

    fn feedback(&mut self, action: mlroots_env::Action, reward: f64) {
        Actor::feedback(self, action as usize, reward);
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

    /// A 2-input, 2-state GRU with a linear head; the expected values were computed with
    /// PyTorch's GRU equations in f64 (see `gru_step`).
    fn small_gru(feedback: bool) -> Net {
        let arch = Arch::Gru {
            inputs: 2,
            state: 2,
            hidden: vec![],
            outputs: 2,
            activation: Activation::Relu,
            feedback,
        };
        let n_in = arch.input_len();
        let mut w_ih = vec![0.0; 6 * n_in];
        for r in 0..6 {
            for j in 0..2 {
                let k = r * 2 + j;
                w_ih[r * n_in + j] = 0.1 * (k + 1) as f32 * if k % 2 == 0 { 1.0 } else { -1.0 };
            }
        }
        let w_hh = (0..12)
            .map(|k| 0.05 * (k + 2) as f32 * if (k / 2) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let b_ih = (0..6).map(|k| 0.01 * k as f32).collect();
        let b_hh = (0..6).map(|k| -0.02 * k as f32).collect();
        Net::from_params(
            arch,
            vec![w_ih, w_hh, b_ih, b_hh, vec![1.0, -1.0, 0.5, 2.0], vec![0.0, 0.1]],
        )
        .unwrap()
    }

    #[test]
    fn a_gru_steps_as_pytorch_computes_it_and_the_actor_carries_its_state() {
        let net = small_gru(false);
        let shapes: Vec<String> =
            net.arch().param_shapes().unwrap().into_iter().map(|s| s.0).collect();
        assert_eq!(
            shapes[..4],
            ["gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0"]
        );
        let (mut h, mut out) = (vec![0.0; 2], vec![0.0; 2]);
        let expected = [
            ([0.273_433_9, 0.270_085_94], [0.003_347_97, 0.776_888_8]),
            ([0.447_288_2, 0.456_860_1], [-0.009_571_92, 1.237_364_3]),
        ];
        for (x, (state, q)) in [[1.0, 0.0], [0.5, -1.0]].iter().zip(expected) {
            net.step(x, &mut h, &mut out);
            for (a, b) in h.iter().zip(state).chain(out.iter().zip(q)) {
                assert!((a - b).abs() < 1e-6, "{h:?} {out:?}");
            }
        }
        // The actor replays the same two steps, then forgets them at a reset.
        let mut actor = Actor::new(net.clone());
        assert_eq!(actor.act(&[1.0, 0.0]), 1);
        actor.act(&[0.5, -1.0]);
        assert_eq!(actor.outputs(), &out[..]);
        actor.reset();
        actor.act(&[1.0, 0.0]);
        assert!((actor.outputs()[0] - 0.003_347_97).abs() < 1e-6);
        // A mostly-zero input takes the sparse path and agrees with the dense one.
        let wide = Arch::Gru {
            inputs: 40,
            state: 3,
            hidden: vec![4],
            outputs: 2,
            activation: Activation::Relu,
            feedback: false,
        };
        let net = Net::init(wide, &mut Rng::seed_from_u64(5)).unwrap();
        let mut x = vec![0.0; 40];
        x[7] = 1.0;
        let (mut h1, mut o1) = (vec![0.1, -0.2, 0.3], vec![0.0; 2]);
        net.step(&x, &mut h1, &mut o1);
        let mut h2 = vec![0.1, -0.2, 0.3];
        gru_step_dense(&net.params()[..4], &x, &mut h2);
        for (a, b) in h1.iter().zip(&h2) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    fn gru_step_dense(params: &[Vec<f32>], x: &[f32], h: &mut [f32]) {
        let s = h.len();
        let gate = |w: &[f32], b: &[f32], v: &[f32], row: usize| {
            b[row] + dot(&w[row * v.len()..(row + 1) * v.len()], v)
        };
        let old = h.to_vec();
        for k in 0..s {
            let r =
                sigmoid(gate(&params[0], &params[2], x, k) + gate(&params[1], &params[3], &old, k));
            let z = sigmoid(
                gate(&params[0], &params[2], x, s + k) + gate(&params[1], &params[3], &old, s + k),
            );
            let n = (gate(&params[0], &params[2], x, 2 * s + k)
                + r * gate(&params[1], &params[3], &old, 2 * s + k))
            .tanh();
            h[k] = (1.0 - z) * n + z * old[k];
        }
    }

    #[test]
    fn rl2_feedback_reads_the_previous_action_and_reward_and_a_reset_clears_them() {
        let net = small_gru(true);
        assert_eq!(net.arch().input_len(), 2 + 2 + 1);
        assert_eq!(net.arch().obs_len(), 2);
        assert_eq!(net.arch().param_count().unwrap(), 6 * 5 + 6 * 2 + 6 + 6 + 4 + 2);
        let mut actor = Actor::new(net.clone());
        actor.act(&[1.0, 0.0]);
        let first = actor.outputs().to_vec();
        actor.reset();
        actor.feedback(1, -10.0);
        actor.act(&[1.0, 0.0]);
        // The feedback columns are zero in this net, so only the state could differ: same.
        assert_eq!(actor.outputs(), &first[..]);
        let mut params = net.params().to_vec();
        params[0][4] = 1.0; // row 0 (reset gate, unit 0) reads the previous reward
        params[0][2 * 5 + 4] = 1.0; // row 2 (the update gate of unit 0) reads it too
        let net = Net::from_params(net.arch().clone(), params).unwrap();
        let mut actor = Actor::new(net.clone());
        actor.feedback(1, -10.0);
        actor.act(&[1.0, 0.0]);
        assert_ne!(actor.outputs(), &first[..]);
        actor.reset();
        actor.act(&[1.0, 0.0]);
        assert_eq!(actor.outputs(), &first[..]);
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
