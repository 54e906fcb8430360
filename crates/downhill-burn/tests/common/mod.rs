//! A small MLP on burn's ndarray backend with autodiff, and its gradients.

use burn::module::{Module, ParamId};
use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::{activation::relu, Device, Tensor, TensorData};

#[derive(Module, Debug)]
pub struct Mlp {
    pub hidden: Linear,
    pub out: Linear,
}

pub fn device() -> Device {
    Device::default().autodiff()
}

impl Mlp {
    pub fn new(bias: bool) -> Self {
        let device = device();
        Mlp {
            hidden: LinearConfig::new(4, 6).with_bias(bias).init(&device),
            out: LinearConfig::new(6, 3).with_bias(bias).init(&device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(relu(self.hidden.forward(x)))
    }

    /// The parameters as (id, values, shape), weights then biases.
    pub fn params(&self) -> Vec<(ParamId, Vec<f32>, Vec<usize>)> {
        let mut all = Vec::new();
        for layer in [&self.hidden, &self.out] {
            let w = layer.weight.val();
            all.push((layer.weight.id, values(w.clone()), w.dims().to_vec()));
            if let Some(b) = &layer.bias {
                all.push((b.id, values(b.val()), b.val().dims().to_vec()));
            }
        }
        all
    }

    /// Mean squared error against fixed targets on a fixed batch, step `k`.
    pub fn grads(&self, k: usize) -> GradientsParams {
        let device = device();
        let x = batch(k, [5, 4], &device);
        let y = batch(k + 100, [5, 3], &device);
        let loss = (self.forward(x) - y).powf_scalar(2.0).mean();
        GradientsParams::from_grads(loss.backward(), self)
    }
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

pub fn batch(k: usize, shape: [usize; 2], device: &Device) -> Tensor<2> {
    let n = shape[0] * shape[1];
    let v: Vec<f32> = (0..n)
        .map(|i| ((i * 7 + k * 13) as f32 * 0.31).sin())
        .collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}
