//! Nesterov's accelerated gradient in the learning notes' look-ahead form (Nesterov 1983; Sutskever et al., ICML 2013).

use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// NAG with the gradient taken at the look-ahead point:
    ///
    /// v ← μ·v − η·∇f(θ + μ·v); θ ← θ + v.
    ///
    /// It needs the objective at another point, so it only runs through
    /// [`Optimizer::step_with`](super::Optimizer::step_with). `sgd:nesterov=true`
    /// is the same method written for φ = θ + μ·v (with buffer b = −v/η):
    /// PyTorch's iterates are this method's look-ahead points, so from the same
    /// start the two paths differ by μ·v at every step while η is constant.
    pub struct Nag {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// momentum factor μ
        momentum: f64 = 0.9, Check::NON_NEGATIVE;
    }
}

impl Rule for Nag {
    type Coeffs = ();
    const NAME: &'static str = "nag";
    const LOOKAHEAD: bool = true;

    crate::rates!(lr, momentum);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("velocity", 0.0)]
    }

    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}

    fn lookahead<T: Scalar>(&self, bufs: Bufs<'_, T>, p: &[T], point: &mut [T]) {
        let mu = T::of(self.momentum);
        let [velocity] = bufs.take();
        for ((x, &p), &v) in point.iter_mut().zip(p).zip(velocity.iter()) {
            *x = p + mu * v;
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(&self, _: &(), bufs: Bufs<'_, T>, p: &mut [T], g: &mut G) {
        let mu = T::of(self.momentum);
        let lr = T::of(self.lr);
        let [velocity] = bufs.take();
        for ((p, g), v) in p.iter_mut().zip(g.values()).zip(velocity) {
            *v = *v * mu - lr * g;
            *p = *p + *v;
        }
    }
}
