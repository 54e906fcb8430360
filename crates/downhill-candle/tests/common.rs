//! Shared helpers: deterministic values, variables and exact gradients.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};

/// Deterministic values in (−1, 1) (a linear congruential sequence).
pub fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// A variable of `shape` and `dtype` holding `values(…, seed)`.
pub fn var(shape: &[usize], dtype: DType, seed: u64) -> Var {
    let n = shape.iter().product();
    let t = Tensor::from_vec(values(n, seed), shape, &Device::Cpu).unwrap();
    Var::from_tensor(&t.to_dtype(dtype).unwrap()).unwrap()
}

/// Gradients of Σ (vᵢ ⊙ cᵢ) with cᵢ = `values(…, seed + i)`: exactly cᵢ.
pub fn grads(vars: &[&Var], seed: u64) -> GradStore {
    let mut loss: Option<Tensor> = None;
    for (i, v) in vars.iter().enumerate() {
        let c = Tensor::from_vec(
            values(v.elem_count(), seed + i as u64),
            v.dims(),
            &Device::Cpu,
        )
        .unwrap()
        .to_dtype(v.dtype())
        .unwrap();
        let term = (v.as_tensor() * c)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap();
        loss = Some(match loss {
            Some(l) => (l + term).unwrap(),
            None => term,
        });
    }
    loss.unwrap().backward().unwrap()
}

/// A tensor's values, flattened, as f64.
pub fn flat(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap()
}
