//! The one module that speaks burn: a Q-network ([`QNet`]) built from an [`Arch`] and a
//! [`Net`] of our own, converted back after training, plus the few tensor helpers the learners
//! use. burn 0.22 changed its API wholesale; keeping it behind this file means the next change
//! touches one place.
//!
//! Parameters never come from burn's random generator (its seed is global to the device and
//! shared by every thread): they are drawn by [`Net::init`] from our seeded stream and loaded
//! here, so a seed gives the same network whatever else runs in the process.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::{Device, Gradients, Tensor, TensorData, activation};
use mlroots_learn::net::{Activation, Arch, Net, NetError};

/// The device every learner trains on: burn's pure-Rust `flex` CPU backend, with autodiff.
pub fn device() -> Device {
    Device::flex().autodiff()
}

/// The same backend without autodiff: for forward passes that need no gradient (target
/// networks, evaluation). A module moves here with `Module::valid`.
pub fn plain_device() -> Device {
    Device::flex()
}

/// A Q-network (or any network of an [`Arch`]) as a burn module.
#[derive(Module, Debug)]
pub struct QNet {
    convs: Vec<Conv2d>,
    layers: Vec<Linear>,
    #[module(skip)]
    arch: Arch,
}

fn param<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_data(TensorData::new(values, shape), device)
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
    t.to_data().convert::<f32>().try_into_vec::<f32>().expect("an f32 tensor")
}

impl QNet {
    /// The burn module holding `net`'s parameters, on `device`.
    ///
    /// # Panics
    /// For a recurrent network (callers train and dream on feedforward Q-networks only).
    pub fn from_net(net: &Net, device: &Device) -> QNet {
        assert_eq!(net.arch().state_len(), 0, "a Q-network is feedforward");
        let (params, shapes) = burn_layout(net);
        QNet::from_parts(net.arch(), params, &shapes, device)
    }

    /// The module from parameters in burn's layout (linear weights `[in, out]`, contiguous).
    /// The vectors become the tensors' buffers (no copy); [`QNet::into_params`] hands them back.
    fn from_parts(
        arch: &Arch,
        params: Vec<Vec<f32>>,
        shapes: &[Vec<usize>],
        device: &Device,
    ) -> QNet {
        let mut params = params.into_iter();
        let mut next = || params.next().expect("one vector per parameter tensor");
        let mut convs = Vec::new();
        let mut layers = Vec::new();
        let mut i = 0;
        if let Arch::Cnn { convs: spec, .. } = arch {
            for c in spec {
                let s = &shapes[i];
                convs.push(Conv2d {
                    weight: param(next(), [s[0], s[1], s[2], s[3]], device),
                    bias: Some(param(next(), [s[0]], device)),
                    stride: [c.stride, c.stride],
                    kernel_size: [c.kernel, c.kernel],
                    dilation: [1, 1],
                    groups: 1,
                    padding: PaddingConfig2d::Valid,
                });
                i += 2;
            }
        }
        while i < shapes.len() {
            let s = &shapes[i];
            layers.push(Linear {
                weight: param(next(), [s[0], s[1]], device),
                bias: Some(param(next(), [s[1]], device)),
            });
            i += 2;
        }
        QNet { convs, layers, arch: arch.clone() }
    }

    /// The gradient of every parameter tensor in `grads` (f32, row-major), in our order (each
    /// convolution's weight and bias, then each linear layer's).
    ///
    /// Each gradient is removed from `grads`, so its buffer is handed over without a copy.
    fn param_grads(&self, grads: &mut Gradients) -> Vec<TensorData> {
        fn flat<const D: usize>(p: &Param<Tensor<D>>, grads: &mut Gradients) -> TensorData {
            let g = p.val().grad_remove(grads);
            g.expect("every parameter takes part in the forward pass").into_data()
        }
        let mut out = Vec::new();
        for c in &self.convs {
            out.push(flat(&c.weight, grads));
            out.push(flat(c.bias.as_ref().expect("built with a bias"), grads));
        }
        for l in &self.layers {
            out.push(flat(&l.weight, grads));
            out.push(flat(l.bias.as_ref().expect("built with a bias"), grads));
        }
        out
    }

    /// The parameter tensors' values, in our order (burn's layout), consuming the module: a
    /// buffer no other tensor shares is handed back without a copy.
    fn into_params(self) -> Vec<Vec<f32>> {
        fn owned<const D: usize>(p: Param<Tensor<D>>) -> Vec<f32> {
            p.into_value().into_data().convert::<f32>().try_into_vec::<f32>().expect("f32")
        }
        let mut out = Vec::new();
        for c in self.convs {
            out.push(owned(c.weight));
            out.push(owned(c.bias.expect("built with a bias")));
        }
        for l in self.layers {
            out.push(owned(l.weight));
            out.push(owned(l.bias.expect("built with a bias")));
        }
        out
    }

    /// The parameters as our [`Net`] (for saving, and for the plain-Rust forward pass).
    pub fn to_net(&self) -> Result<Net, NetError> {
        let mut params = Vec::new();
        for c in &self.convs {
            params.push(values(&c.weight.val()));
            params.push(values(&c.bias.as_ref().expect("built with a bias").val()));
        }
        for l in &self.layers {
            params.push(values(&l.weight.val().transpose()));
            params.push(values(&l.bias.as_ref().expect("built with a bias").val()));
        }
        Net::from_params(self.arch.clone(), params)
    }

    /// The architecture.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    fn act(&self, x: Tensor<2>) -> Tensor<2> {
        match self.arch.activation() {
            Activation::Relu => activation::relu(x),
            Activation::LeakyRelu { slope } => activation::leaky_relu(x, f64::from(slope)),
        }
    }

    /// The outputs for a batch of flat inputs `[batch, input_len]`: `[batch, outputs]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = match &self.arch {
            Arch::Mlp { .. } | Arch::Gru { .. } => x,
            Arch::Cnn { input, .. } => {
                let [batch, _] = x.dims();
                let mut img = x.reshape([batch, input[0], input[1], input[2]]);
                for c in &self.convs {
                    img = match self.arch.activation() {
                        Activation::Relu => activation::relu(c.forward(img)),
                        Activation::LeakyRelu { slope } => {
                            activation::leaky_relu(c.forward(img), f64::from(slope))
                        }
                    };
                }
                img.flatten(1, 3)
            }
        };
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(h);
            if i < last {
                h = self.act(h);
            }
        }
        h
    }
}

/// A `[rows, cols]` tensor from row-major values.
pub fn matrix(values: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// The values of a tensor, row-major.
pub fn to_vec<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
    values(t)
}

/// How a [`QTrainer`] regresses Q(s, a) on its targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TdLoss {
    /// Huber with δ = 1 (smooth L1), averaged over the batch.
    Huber,
    /// Squared error, averaged over the batch.
    Mse,
}

/// The settings of a [`QTrainer`]'s Adam.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamSettings {
    /// The learning rate.
    pub lr: f64,
    /// Adam's ε.
    pub eps: f64,
    /// Per-tensor gradient norm clipping (`None`: none).
    pub grad_clip: Option<f64>,
}

/// DQN's networks and optimiser, behind plain slices: the online Q-network's parameters with
/// Adam's moments (plain vectors in burn's layout, updated by one fused pass per tensor), the
/// target network (a frozen copy without autodiff), and the loss. burn runs every forward pass
/// and the backward pass; the learner in [`crate::dqn`] never touches a tensor.
///
/// Why Adam is ours: burn's `Adam` spends about a dozen whole-tensor operations per parameter
/// tensor, each allocating and filling a fresh tensor, which cost as much as the backward pass
/// itself at DQN's sizes. The update is burn's formula (bias-corrected moments, ε scaled by
/// √(1 − β₂ᵗ), per-tensor norm clipping) applied in place, element by element.
pub struct QTrainer {
    arch: Arch,
    /// The online network's parameters, in burn's layout (linear weights `[in, out]`).
    params: Vec<Vec<f32>>,
    /// Their shapes in burn's layout.
    shapes: Vec<Vec<usize>>,
    /// Adam's first and second moments, one vector per parameter tensor.
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    /// Adam steps taken.
    time: i32,
    /// The online network without autodiff, for acting; rebuilt after each update when needed.
    acting: Option<QNet>,
    target: QNet,
    adam: AdamSettings,
    device: Device,
    outputs: usize,
    inputs: usize,
}

/// Adam's β₁ and β₂ (burn's and PyTorch's defaults).
const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;

impl QTrainer {
    /// A trainer whose online and target networks both start as `net`.
    pub fn new(net: &Net, adam: AdamSettings) -> QTrainer {
        let arch = net.arch().clone();
        let (params, shapes) = burn_layout(net);
        let m: Vec<Vec<f32>> = params.iter().map(|p| vec![0.0; p.len()]).collect();
        let device = device();
        let target = QNet::from_parts(&arch, params.clone(), &shapes, &device.clone().inner());
        QTrainer {
            outputs: arch.output_len(),
            inputs: arch.input_len(),
            arch,
            v: m.clone(),
            m,
            params,
            shapes,
            time: 0,
            acting: None,
            target,
            adam,
            device,
        }
    }

    /// The online network's outputs for `rows` flat inputs (`rows × outputs` values).
    pub fn q_values(&mut self, obs: &[f32], rows: usize) -> Vec<f32> {
        let plain = self.device.clone().inner();
        let acting = self.acting.get_or_insert_with(|| {
            QNet::from_parts(&self.arch, self.params.clone(), &self.shapes, &plain)
        });
        let x = matrix(obs.to_vec(), rows, self.inputs, &plain);
        values(&acting.forward(x))
    }

    /// The target network's outputs for `rows` flat inputs (`rows × outputs` values).
    pub fn target_values(&self, obs: &[f32], rows: usize) -> Vec<f32> {
        let x = matrix(obs.to_vec(), rows, self.inputs, &self.device.clone().inner());
        values(&self.target.forward(x))
    }

    /// One gradient step on the loss between `Q(obs_b, actions_b)` and `targets_b`; returns
    /// the loss before the step.
    ///
    /// The loss and its derivative with respect to the taken actions' Q are computed here on
    /// the batch's few values; burn back-propagates that derivative through the network (the
    /// backward pass of `sum(Q ⊙ G)`, where `G` holds dL/dQ(s, a) at the taken actions and 0
    /// elsewhere), which is the gradient of the loss itself.
    pub fn train_step(
        &mut self,
        obs: &[f32],
        actions: &[u32],
        targets: &[f32],
        loss: TdLoss,
    ) -> f32 {
        let rows = actions.len();
        // The parameters move into the module for the pass and come back after it.
        let params = std::mem::take(&mut self.params);
        let online = QNet::from_parts(&self.arch, params, &self.shapes, &self.device);
        let x = matrix(obs.to_vec(), rows, self.inputs, &self.device);
        let q = online.forward(x);
        let q_values = values(&q);
        let mut dq = vec![0.0f32; rows * self.outputs];
        let mut total = 0.0f32;
        let n = rows as f32;
        for (r, (&a, &y)) in actions.iter().zip(targets).enumerate() {
            let k = r * self.outputs + a as usize;
            let d = q_values[k] - y;
            let (l, g) = match loss {
                TdLoss::Mse => (d * d, 2.0 * d),
                // ½d² inside ±1, |d| − ½ outside (smooth L1 with δ = 1).
                TdLoss::Huber if d.abs() <= 1.0 => (0.5 * d * d, d),
                TdLoss::Huber => (d.abs() - 0.5, d.signum()),
            };
            total += l;
            dq[k] = g / n;
        }
        let surrogate = (q * matrix(dq, rows, self.outputs, &self.device)).sum();
        let mut grads = surrogate.backward();
        let g = online.param_grads(&mut grads);
        drop((grads, surrogate));
        self.params = online.into_params();
        for (i, g) in g.into_iter().enumerate() {
            self.adam_step(i, g.as_slice::<f32>().expect("an f32 gradient"));
        }
        self.time += 1;
        self.acting = None;
        total / n
    }

    /// Adam on parameter tensor `i` with gradient `g`, clipped to the norm first when asked.
    fn adam_step(&mut self, i: usize, g: &[f32]) {
        let coef = match self.adam.grad_clip {
            Some(clip) => {
                let norm = g.iter().map(|x| x * x).sum::<f32>().sqrt();
                (clip as f32 / (norm + f32::MIN_POSITIVE)).min(1.0)
            }
            None => 1.0,
        };
        let t = self.time + 1;
        let bc2_sqrt = (1.0 - BETA_2.powi(t)).sqrt();
        let factor = bc2_sqrt / (1.0 - BETA_1.powi(t));
        let eps = self.adam.eps as f32 * bc2_sqrt;
        let lr = self.adam.lr as f32;
        // Equal lengths up front, so the loop has no bounds checks and vectorises.
        let p = &mut self.params[i][..];
        let n = p.len();
        let (m, v, g) = (&mut self.m[i][..n], &mut self.v[i][..n], &g[..n]);
        for k in 0..n {
            let g = g[k] * coef;
            m[k] = m[k] * BETA_1 + g * (1.0 - BETA_1);
            v[k] = v[k] * BETA_2 + g * g * (1.0 - BETA_2);
            p[k] -= lr * (m[k] * factor / (v[k].sqrt() + eps));
        }
    }

    /// Sets Adam's learning rate for the next steps (a schedule).
    pub fn set_lr(&mut self, lr: f64) {
        self.adam.lr = lr;
    }

    /// Copies the online network into the target network.
    pub fn sync_target(&mut self) {
        self.target = QNet::from_parts(
            &self.arch,
            self.params.clone(),
            &self.shapes,
            &self.device.clone().inner(),
        );
    }

    /// The online network as our [`Net`].
    pub fn to_net(&self) -> Result<Net, NetError> {
        let params = self
            .params
            .iter()
            .zip(&self.shapes)
            .enumerate()
            .map(
                |(i, (p, s))| {
                    if self.is_linear_weight(i) { transpose(p, s[0], s[1]) } else { p.clone() }
                },
            )
            .collect();
        Net::from_params(self.arch.clone(), params)
    }

    fn is_linear_weight(&self, i: usize) -> bool {
        i >= 2 * conv_count(&self.arch) && i.is_multiple_of(2)
    }
}

fn conv_count(arch: &Arch) -> usize {
    match arch {
        Arch::Cnn { convs, .. } => convs.len(),
        Arch::Mlp { .. } | Arch::Gru { .. } => 0,
    }
}

/// A row-major `[rows, cols]` matrix transposed (row-major `[cols, rows]`).
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// `net`'s parameters and shapes in burn's layout: linear weights `[in, out]` (ours and
/// PyTorch's are `[out, in]`), everything else as ours.
fn burn_layout(net: &Net) -> (Vec<Vec<f32>>, Vec<Vec<usize>>) {
    let arch = net.arch();
    let shapes = arch.param_shapes().expect("a built net has a valid arch");
    let convs = conv_count(arch);
    net.params()
        .iter()
        .zip(shapes)
        .enumerate()
        .map(|(i, (p, (_, s)))| {
            if i >= 2 * convs && i % 2 == 0 {
                (transpose(p, s[0], s[1]), vec![s[1], s[0]])
            } else {
                (p.clone(), s.to_vec())
            }
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlroots_env::Rng;
    use mlroots_learn::net::Conv;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-4 * (1.0 + y.abs()))
    }

    fn check_same_forward(arch: Arch) {
        let net = Net::init(arch.clone(), &mut Rng::seed_from_u64(9)).unwrap();
        let device = device();
        let q = QNet::from_net(&net, &device);
        assert_eq!(q.to_net().unwrap(), net, "the round trip through burn is exact");
        let n = arch.input_len();
        let mut rng = Rng::seed_from_u64(1);
        let xs: Vec<f32> = (0..3 * n).map(|_| rng.uniform() as f32).collect();
        let burn_out = to_vec(&q.forward(matrix(xs.clone(), 3, n, &device)));
        let mut ours = vec![0.0; arch.output_len()];
        for (b, x) in xs.chunks(n).enumerate() {
            net.forward(x, &mut ours);
            let theirs = &burn_out[b * ours.len()..(b + 1) * ours.len()];
            assert!(close(theirs, &ours), "burn {theirs:?} vs ours {ours:?}");
        }
    }

    #[test]
    fn burn_and_the_plain_forward_pass_agree_on_an_mlp() {
        check_same_forward(Arch::Mlp {
            inputs: 11,
            hidden: vec![16, 8],
            outputs: 4,
            activation: Activation::LeakyRelu { slope: 0.1 },
        });
    }

    #[test]
    fn burn_and_the_plain_forward_pass_agree_on_a_cnn() {
        check_same_forward(Arch::Cnn {
            input: [2, 9, 7],
            convs: vec![
                Conv { channels: 4, kernel: 3, stride: 1 },
                Conv { channels: 3, kernel: 2, stride: 2 },
            ],
            hidden: vec![10],
            outputs: 5,
            activation: Activation::Relu,
        });
    }

    #[test]
    fn the_trainer_fits_q_of_the_taken_action_only() {
        let arch =
            Arch::Mlp { inputs: 2, hidden: vec![16], outputs: 3, activation: Activation::Relu };
        let net = Net::init(arch, &mut Rng::seed_from_u64(2)).unwrap();
        for loss in [TdLoss::Huber, TdLoss::Mse] {
            let adam = AdamSettings { lr: 1e-2, eps: 1e-8, grad_clip: Some(10.0) };
            let mut t = QTrainer::new(&net, adam);
            let obs = [1.0, 0.0, 0.0, 1.0];
            let before = t.q_values(&obs, 2);
            assert_eq!(before, t.target_values(&obs, 2), "the target starts as the online net");
            let mut first = None;
            let mut last = 0.0;
            for _ in 0..300 {
                last = t.train_step(&obs, &[2, 0], &[3.0, -2.0], loss);
                first.get_or_insert(last);
            }
            assert!(last < 0.01 * first.unwrap(), "{loss:?}: {first:?} -> {last}");
            let q = t.q_values(&obs, 2);
            assert!((q[2] - 3.0).abs() < 0.1 && (q[3] + 2.0).abs() < 0.1, "{q:?}");
            assert_eq!(t.target_values(&obs, 2), before, "the target waits for sync");
            t.sync_target();
            assert_eq!(t.target_values(&obs, 2), q);
            let back = t.to_net().unwrap();
            let mut out = [0.0; 3];
            back.forward(&obs[..2], &mut out);
            assert!(close(&out, &q[..3]), "{out:?} vs {q:?}");
        }
    }

    /// The trainer's fused Adam and its loss derivative make the same steps as burn's `Adam`
    /// on the loss written with tensors (the formulation the trainer replaced).
    #[test]
    fn the_trainer_steps_as_burns_adam_on_the_tensor_loss() {
        use burn::optim::grad_clipping::GradientClippingConfig;
        use burn::optim::{AdamConfig, GradientsParams};
        let arch =
            Arch::Mlp { inputs: 3, hidden: vec![8, 8], outputs: 2, activation: Activation::Relu };
        let net = Net::init(arch, &mut Rng::seed_from_u64(5)).unwrap();
        let obs = [0.5, -1.0, 2.0, 1.0, 0.0, -0.5, 0.3, 0.3, 0.3];
        let actions = [1u32, 0, 1];
        let targets = [4.0f32, -0.2, 0.1];
        for (loss, clip) in [(TdLoss::Huber, None), (TdLoss::Mse, Some(0.5))] {
            let adam = AdamSettings { lr: 1e-2, eps: 1e-8, grad_clip: clip };
            let mut t = QTrainer::new(&net, adam);
            let device = device();
            let mut q = QNet::from_net(&net, &device);
            let mut config = AdamConfig::new().with_epsilon(1e-8);
            if let Some(c) = clip {
                config = config.with_grad_clipping(Some(GradientClippingConfig::Norm(c as f32)));
            }
            let mut opt = config.init();
            let mask = matrix(vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0], 3, 2, &device);
            let y = matrix(targets.to_vec(), 3, 1, &device);
            for step in 0..5 {
                let ours = t.train_step(&obs, &actions, &targets, loss);
                let x = matrix(obs.to_vec(), 3, 3, &device);
                let diff = (q.forward(x) * mask.clone()).sum_dim(1) - y.clone();
                let l = match loss {
                    TdLoss::Mse => diff.powi_scalar(2).mean(),
                    TdLoss::Huber => {
                        let c = diff.clone().clamp(-1.0, 1.0);
                        (c.clone().powi_scalar(2).mul_scalar(0.5) + diff.abs() - c.abs()).mean()
                    }
                };
                let theirs = to_vec(&l)[0];
                assert!((ours - theirs).abs() <= 1e-5 * (1.0 + theirs.abs()), "{ours} {theirs}");
                let grads = GradientsParams::from_grads(l.backward(), &q);
                q = opt.step(1e-2, q, grads);
                let (a, b) = (t.to_net().unwrap(), q.to_net().unwrap());
                for (pa, pb) in a.params().iter().zip(b.params()) {
                    assert!(close(pa, pb), "{loss:?} step {step}: {pa:?} vs {pb:?}");
                }
            }
        }
    }

    #[test]
    fn adam_fits_a_target_and_input_gradients_flow() {
        use burn::optim::{AdamConfig, GradientsParams};
        let arch =
            Arch::Mlp { inputs: 3, hidden: vec![8], outputs: 1, activation: Activation::Relu };
        let device = device();
        let mut q = QNet::from_net(&Net::init(arch, &mut Rng::seed_from_u64(4)).unwrap(), &device);
        let mut opt = AdamConfig::new().init();
        let x = matrix(vec![1.0, 0.0, 0.5, 0.0, 1.0, -0.5], 2, 3, &device);
        let y = matrix(vec![2.0, -1.0], 2, 1, &device);
        let loss = |q: &QNet| (q.forward(x.clone()) - y.clone()).powi_scalar(2).mean();
        let before = to_vec(&loss(&q))[0];
        for _ in 0..200 {
            let grads = GradientsParams::from_grads(loss(&q).backward(), &q);
            q = opt.step(1e-2, q, grads);
        }
        let after = to_vec(&loss(&q))[0];
        assert!(after < 0.01 * before, "loss {before} -> {after}");
        // The gradient with respect to the input (dreaming, adversarial examples).
        let input = matrix(vec![0.3, 0.2, 0.1], 1, 3, &device).require_grad();
        let out = q.forward(input.clone()).sum();
        let g = input.grad(&out.backward()).expect("the input requires a gradient");
        assert_eq!(g.dims(), [1, 3]);
        assert!(to_vec(&g).iter().any(|v| *v != 0.0));
    }
}
