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
use burn::tensor::{Device, Tensor, TensorData, activation};
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

fn param<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_data(TensorData::new(values.to_vec(), shape), device)
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
    t.to_data().convert::<f32>().try_into_vec::<f32>().expect("an f32 tensor")
}

impl QNet {
    /// The burn module holding `net`'s parameters, on `device`.
    pub fn from_net(net: &Net, device: &Device) -> QNet {
        let arch = net.arch().clone();
        let shapes = arch.param_shapes().expect("a built net has a valid arch");
        let params = net.params();
        let mut convs = Vec::new();
        let mut layers = Vec::new();
        let mut i = 0;
        if let Arch::Cnn { convs: spec, .. } = &arch {
            for c in spec {
                let s = &shapes[i].1;
                convs.push(Conv2d {
                    weight: param(&params[i], [s[0], s[1], s[2], s[3]], device),
                    bias: Some(param(&params[i + 1], [s[0]], device)),
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
            // Ours is [out, in] (PyTorch's layout); burn's Linear holds [in, out].
            let s = &shapes[i].1;
            let (out, inp) = (s[0], s[1]);
            let w = Tensor::<2>::from_data(TensorData::new(params[i].clone(), [out, inp]), device)
                .transpose();
            layers.push(Linear {
                weight: Param::from_tensor(w),
                bias: Some(param(&params[i + 1], [out], device)),
            });
            i += 2;
        }
        QNet { convs, layers, arch }
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
            Arch::Mlp { .. } => x,
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

/// DQN's networks and optimiser, behind plain slices: the online Q-network (trained with Adam
/// on the autodiff device), the target network (a frozen copy without autodiff), and the loss.
/// The learner in [`crate::dqn`] never touches a tensor.
pub struct QTrainer {
    online: QNet,
    /// The online network without autodiff, for acting; rebuilt after each update when needed.
    acting: Option<QNet>,
    target: QNet,
    opt: burn::optim::ModuleOptimizer,
    adam: AdamSettings,
    device: Device,
    outputs: usize,
    inputs: usize,
}

impl QTrainer {
    /// A trainer whose online and target networks both start as `net`.
    pub fn new(net: &Net, adam: AdamSettings) -> QTrainer {
        use burn::optim::AdamConfig;
        use burn::optim::grad_clipping::GradientClippingConfig;
        let device = device();
        let online = QNet::from_net(net, &device);
        let target = online.valid();
        let mut config = AdamConfig::new().with_epsilon(adam.eps as f32);
        if let Some(clip) = adam.grad_clip {
            config = config.with_grad_clipping(Some(GradientClippingConfig::Norm(clip as f32)));
        }
        QTrainer {
            acting: None,
            target,
            opt: config.init(),
            adam,
            outputs: net.arch().output_len(),
            inputs: net.arch().input_len(),
            online,
            device,
        }
    }

    /// The online network's outputs for `rows` flat inputs (`rows × outputs` values).
    pub fn q_values(&mut self, obs: &[f32], rows: usize) -> Vec<f32> {
        let acting = self.acting.get_or_insert_with(|| self.online.valid());
        let x = matrix(obs.to_vec(), rows, self.inputs, &self.device.clone().inner());
        values(&acting.forward(x))
    }

    /// The target network's outputs for `rows` flat inputs (`rows × outputs` values).
    pub fn target_values(&self, obs: &[f32], rows: usize) -> Vec<f32> {
        let x = matrix(obs.to_vec(), rows, self.inputs, &self.device.clone().inner());
        values(&self.target.forward(x))
    }

    /// One gradient step on the loss between `Q(obs_b, actions_b)` and `targets_b`; returns
    /// the loss before the step.
    pub fn train_step(
        &mut self,
        obs: &[f32],
        actions: &[u32],
        targets: &[f32],
        loss: TdLoss,
    ) -> f32 {
        let rows = actions.len();
        let mut mask = vec![0.0f32; rows * self.outputs];
        for (r, &a) in actions.iter().enumerate() {
            mask[r * self.outputs + a as usize] = 1.0;
        }
        let x = matrix(obs.to_vec(), rows, self.inputs, &self.device);
        let mask = matrix(mask, rows, self.outputs, &self.device);
        let y = matrix(targets.to_vec(), rows, 1, &self.device);
        let q = (self.online.forward(x) * mask).sum_dim(1);
        let diff = q - y;
        let l = match loss {
            TdLoss::Mse => diff.powi_scalar(2).mean(),
            TdLoss::Huber => {
                // 0.5·c² + |d| − |c| with c = clamp(d, −1, 1): ½d² inside, |d| − ½ outside.
                let c = diff.clone().clamp(-1.0, 1.0);
                (c.clone().powi_scalar(2).mul_scalar(0.5) + diff.abs() - c.abs()).mean()
            }
        };
        let value = values(&l)[0];
        let grads = burn::optim::GradientsParams::from_grads(l.backward(), &self.online);
        let online = std::mem::replace(&mut self.online, self.target.clone());
        self.online = self.opt.step(self.adam.lr, online, grads);
        self.acting = None;
        value
    }

    /// Copies the online network into the target network.
    pub fn sync_target(&mut self) {
        self.target = self.online.valid();
    }

    /// The online network as our [`Net`].
    pub fn to_net(&self) -> Result<Net, NetError> {
        self.online.to_net()
    }
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
