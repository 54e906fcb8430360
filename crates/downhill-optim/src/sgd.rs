//! Stochastic gradient descent with optional (Nesterov) momentum — `torch.optim.SGD`.

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::{Check, KeyError};
use crate::scalar::Scalar;

crate::hyperparams! {
    /// SGD as in `torch.optim.SGD`:
    ///
    /// g ← ±∇ + wd·θ; b ← μ·b + (1 − τ)·g (b ← g on the first step);
    /// g ← g + μ·b if nesterov else b; θ ← θ − η·g.
    ///
    /// With momentum it is the "heavy ball" of Polyak (1964) in Sutskever et al.
    /// (2013) form; its effective step on a constant gradient is η/(1 − μ).
    pub struct Sgd {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// momentum factor μ
        momentum: f64 = 0.0, Check::NON_NEGATIVE;
        /// dampening τ of the gradient added to the momentum buffer
        dampening: f64 = 0.0, Check::FINITE;
        /// weight decay (L2 penalty) wd
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// use Nesterov momentum (needs momentum > 0 and dampening = 0)
        nesterov: bool = false, Check::Any;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Per-step coefficients of [`Sgd`].
#[derive(Clone, Copy, Debug)]
pub struct SgdStep {
    pub first: bool,
}

impl Rule for Sgd {
    type Coeffs = SgdStep;
    const NAME: &'static str = "sgd";

    crate::rates!(lr, momentum);

    fn constraints(&self) -> Result<(), KeyError> {
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(KeyError::Constraint(
                "nesterov=true requires momentum > 0 and dampening = 0".into(),
            ));
        }
        Ok(())
    }

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        if self.momentum != 0.0 {
            vec![("momentum_buffer", 0.0)]
        } else {
            vec![]
        }
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> SgdStep {
        SgdStep { first: step == 1 }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &SgdStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let neg_lr = T::of(-self.lr);
        let wd = T::of(self.weight_decay);
        let mu = T::of(self.momentum);
        let keep = T::of(1.0 - self.dampening);
        specialize!([MAXIMIZE = self.maximize, DECAY = self.weight_decay != 0.0] {
            if self.momentum == 0.0 {
                for (p, g) in p.iter_mut().zip(g.values()) {
                    *p = ops::add_scaled(*p, neg_lr, ops::grad::<T, MAXIMIZE, DECAY>(*p, g, wd));
                }
                return;
            }
            let [buf] = bufs.take();
            specialize!([FIRST = c.first, NESTEROV = self.nesterov] {
                for ((p, g), b) in p.iter_mut().zip(g.values()).zip(buf.iter_mut()) {
                    let d = ops::grad::<T, MAXIMIZE, DECAY>(*p, g, wd);
                    *b = if FIRST { d } else { ops::add_scaled(*b * mu, keep, d) };
                    let d = if NESTEROV { ops::add_scaled(d, mu, *b) } else { *b };
                    *p = ops::add_scaled(*p, neg_lr, d);
                }
            });
        })
    }
}
