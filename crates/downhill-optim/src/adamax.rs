//! Adamax — `torch.optim.Adamax` (Kingma & Ba, ICLR 2015, section 7.1).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// Adamax as in `torch.optim.Adamax` (Adam with the infinity norm):
    ///
    /// g ← ±∇ + wd·θ; m ← lerp(m, g, 1 − β₁); u ← max(β₂·u, |g| + ε);
    /// θ ← θ − η/(1 − β₁ᵗ) · m/u.
    pub struct Adamax {
        /// learning rate η
        lr: f64 = 2e-3, Check::NON_NEGATIVE;
        /// decay β₁ of the first-moment average
        beta1: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the infinity norm
        beta2: f64 = 0.999, Check::UNIT_HALF_OPEN;
        /// term ε added to |g|
        eps: f64 = 1e-8, Check::NON_NEGATIVE;
        /// weight decay (L2 penalty)
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

impl Rule for Adamax {
    /// The step's learning rate η/(1 − β₁ᵗ).
    type Coeffs = f64;
    const NAME: &'static str = "adamax";

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("exp_avg", 0.0), ("exp_inf", 0.0)]
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> f64 {
        self.lr / (1.0 - self.beta1.powf(step as f64))
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        clr: &f64,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let w1 = ops::LerpWeight::<T>::new(1.0 - self.beta1);
        let beta2 = T::of(self.beta2);
        let eps = T::of(self.eps);
        let neg_clr = T::of(-clr);
        let wd = T::of(self.weight_decay);
        let [exp_avg, exp_inf] = bufs.take();
        specialize!([MAXIMIZE = self.maximize, DECAY = self.weight_decay != 0.0, SMALL = w1.small] {
            for (((p, g), m), u) in p.iter_mut().zip(g.values()).zip(exp_avg).zip(exp_inf) {
                let g = ops::grad::<T, MAXIMIZE, DECAY>(*p, g, wd);
                *m = ops::lerp::<T, SMALL>(*m, g, w1.w, w1.one_minus_w);
                *u = (*u * beta2).max(g.abs() + eps);
                *p = ops::addcdiv(*p, neg_clr, *m, *u);
            }
        });
    }
}
