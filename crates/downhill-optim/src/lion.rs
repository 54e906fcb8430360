//! Lion — `lion_pytorch.Lion` 0.2.5 (Chen et al., "Symbolic Discovery of
//! Optimization Algorithms", NeurIPS 2023).

use super::{ops, Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// Lion as in lion-pytorch 0.2.5 (`Lion`, the default non-Triton update):
    ///
    /// θ ← θ·(1 − η·wd); c = β₁·m + (1 − β₁)·g; θ ← θ − η·sign(c);
    /// m ← β₂·m + (1 − β₂)·g (sign(0) = 0, as `sgn_`).
    pub struct Lion {
        /// learning rate η
        lr: f64 = 1e-4, Check::NON_NEGATIVE;
        /// interpolation β₁ between the momentum and the gradient for the update
        beta1: f64 = 0.9, Check::UNIT;
        /// decay β₂ of the momentum
        beta2: f64 = 0.99, Check::UNIT;
        /// decoupled weight decay wd (θ ← θ·(1 − η·wd) before the update)
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
    }
}

/// `torch.sgn` of a real number on CPU: 1, −1, or 0 (for ±0 and NaN).
#[inline(always)]
fn sgn<T: Scalar>(x: T) -> T {
    let positive = if x > T::zero() { T::one() } else { T::zero() };
    let negative = if x < T::zero() { T::one() } else { T::zero() };
    positive - negative
}

impl Rule for Lion {
    type Coeffs = ();
    const NAME: &'static str = "lion";

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("exp_avg", 0.0)]
    }

    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(&self, _: &(), bufs: Bufs<'_, T>, p: &mut [T], g: &mut G) {
        let shrink = T::of(1.0 - self.lr * self.weight_decay);
        let beta1 = T::of(self.beta1);
        let one_minus_beta1 = T::of(1.0 - self.beta1);
        let beta2 = T::of(self.beta2);
        let one_minus_beta2 = T::of(1.0 - self.beta2);
        let neg_lr = T::of(-self.lr);
        let [exp_avg] = bufs.take();
        for ((p, g), m) in p.iter_mut().zip(g.values()).zip(exp_avg) {
            *p = *p * shrink;
            let update = sgn(ops::add_scaled(*m * beta1, one_minus_beta1, g));
            *p = ops::add_scaled(*p, neg_lr, update);
            *m = ops::add_scaled(*m * beta2, one_minus_beta2, g);
        }
    }
}
