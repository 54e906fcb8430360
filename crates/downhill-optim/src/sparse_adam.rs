//! SparseAdam — `torch.optim.SparseAdam`: Adam for sparse gradients with
//! lazy updates (only the rows a gradient holds move, moments included).

use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// SparseAdam as in `torch.optim.SparseAdam` (its `_functional.sparse_adam`),
    /// for the entries a sparse gradient holds (see `Optimizer::step_sparse`):
    ///
    /// g ← ±∇; u = (g − m)(1 − β₁), m ← m + u; w = (g² − v)(1 − β₂), v ← v + w;
    /// θ ← θ + (u + m_old)/(√(w + v_old) + ε)·(−η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)),
    /// t counting every step of the tensor. A dense step updates every entry.
    pub struct SparseAdam {
        /// learning rate η
        lr: f64 = 1e-3, Check::POSITIVE;
        /// decay β₁ of the first moment
        beta1: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the second moment
        beta2: f64 = 0.999, Check::UNIT_HALF_OPEN;
        /// term ε added to the root
        eps: f64 = 1e-8, Check::POSITIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Per-step coefficient of [`SparseAdam`]: −η·√(1 − β₂ᵗ)/(1 − β₁ᵗ).
#[derive(Clone, Copy, Debug)]
pub struct SparseAdamStep {
    pub neg_step_size: f64,
}

impl Rule for SparseAdam {
    type Coeffs = SparseAdamStep;
    const NAME: &'static str = "sparse_adam";
    const SPARSE: bool = true;

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("exp_avg", 0.0), ("exp_avg_sq", 0.0)]
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> SparseAdamStep {
        let bias_correction1 = 1.0 - self.beta1.powf(step as f64);
        let bias_correction2 = 1.0 - self.beta2.powf(step as f64);
        SparseAdamStep {
            neg_step_size: -(self.lr * bias_correction2.sqrt() / bias_correction1),
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &SparseAdamStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let (keep1, keep2) = (T::of(1.0 - self.beta1), T::of(1.0 - self.beta2));
        let (eps, neg_step) = (T::of(self.eps), T::of(c.neg_step_size));
        let [exp_avg, exp_avg_sq] = bufs.take();
        for (i, p) in p.iter_mut().enumerate() {
            let raw = g.get(i);
            let g = if self.maximize { -raw } else { raw };
            let (m, v) = (exp_avg[i], exp_avg_sq[i]);
            let du = (g - m) * keep1;
            let dv = (g * g - v) * keep2;
            exp_avg[i] = m + du;
            exp_avg_sq[i] = v + dv;
            let denom = (dv + v).sqrt() + eps;
            *p = *p + (du + m) / denom * neg_step;
        }
    }
}
