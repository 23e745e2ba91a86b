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
