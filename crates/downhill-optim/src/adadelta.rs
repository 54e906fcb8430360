//! AdaDelta — `torch.optim.Adadelta` (Zeiler, arXiv:1212.5701, 2012).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// AdaDelta as in `torch.optim.Adadelta`:
    ///
    /// g ← ±∇ + wd·θ; v ← ρ·v + (1 − ρ)·g²; Δ = √(u + ε) / √(v + ε) · g;
    /// u ← ρ·u + (1 − ρ)·Δ²; θ ← θ − η·Δ.
    ///
    /// Zeiler's method (and the learning notes) has no learning rate: that is η = 1,
    /// PyTorch's default. The notes also use ε = 1e-8 where PyTorch uses 1e-6.
    pub struct Adadelta {
        /// learning rate η, a factor on the step (1 = the original method)
        lr: f64 = 1.0, Check::NON_NEGATIVE;
        /// decay ρ of both running averages
        rho: f64 = 0.9, Check::UNIT;
        /// term ε inside both roots
        eps: f64 = 1e-6, Check::NON_NEGATIVE;
        /// weight decay (L2 penalty)
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

impl Rule for Adadelta {
    type Coeffs = ();
    const NAME: &'static str = "adadelta";

    crate::rates!(lr);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("square_avg", 0.0), ("acc_delta", 0.0)]
    }

    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(&self, _: &(), bufs: Bufs<'_, T>, p: &mut [T], g: &mut G) {
        let rho = T::of(self.rho);
        let one_minus_rho = T::of(1.0 - self.rho);
        let eps = T::of(self.eps);
        let neg_lr = T::of(-self.lr);
        let wd = T::of(self.weight_decay);
        let [square_avg, acc_delta] = bufs.take();
        specialize!([MAXIMIZE = self.maximize, DECAY = self.weight_decay != 0.0] {
            for (((p, g), v), u) in p.iter_mut().zip(g.values()).zip(square_avg).zip(acc_delta) {
                let g = ops::grad::<T, MAXIMIZE, DECAY>(*p, g, wd);
                *v = ops::addcmul(*v * rho, one_minus_rho, g, g);
                let std = (*v + eps).sqrt();
                let delta = (*u + eps).sqrt() / std * g;
                *u = ops::addcmul(*u * rho, one_minus_rho, delta, delta);
                *p = ops::add_scaled(*p, neg_lr, delta);
            }
        });
    }
}
