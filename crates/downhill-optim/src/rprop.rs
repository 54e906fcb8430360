//! Rprop — `torch.optim.Rprop` (Riedmiller & Braun, ICNN 1993).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::{Check, KeyError};
use crate::scalar::Scalar;

crate::hyperparams! {
    /// Rprop as in `torch.optim.Rprop` (only the sign of the gradient is used):
    ///
    /// s = sign(g·g_prev); Δ ← clamp(Δ·(η₊ if s > 0, η₋ if s < 0, 1 else), Δ_min, Δ_max);
    /// where s < 0 the gradient is zeroed; θ ← θ − sign(g)·Δ; g_prev ← g.
    /// Each Δ starts at the learning rate.
    pub struct Rprop {
        /// learning rate: the initial step size Δ
        lr: f64 = 1e-2, Check::NON_NEGATIVE;
        /// factor η₋ when the gradient changes sign
        eta_minus: f64 = 0.5, Check::Range { lo: 0.0, lo_open: true, hi: 1.0, hi_open: true };
        /// factor η₊ when the gradient keeps its sign
        eta_plus: f64 = 1.2, Check::Range { lo: 1.0, lo_open: true, hi: f64::INFINITY, hi_open: true };
        /// smallest step size Δ_min
        step_min: f64 = 1e-6, Check::NON_NEGATIVE;
        /// largest step size Δ_max
        step_max: f64 = 50.0, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

impl Rule for Rprop {
    type Coeffs = ();
    const NAME: &'static str = "rprop";

    crate::rates!(lr);

    fn constraints(&self) -> Result<(), KeyError> {
        if self.step_min > self.step_max {
            return Err(KeyError::Constraint(format!(
                "step_min must not exceed step_max, got step_min={} > step_max={}",
                self.step_min, self.step_max
            )));
        }
        Ok(())
    }

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("prev", 0.0), ("step_size", self.lr)]
    }

    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(&self, _: &(), bufs: Bufs<'_, T>, p: &mut [T], g: &mut G) {
        let (eta_minus, eta_plus) = (T::of(self.eta_minus), T::of(self.eta_plus));
        let (step_min, step_max) = (T::of(self.step_min), T::of(self.step_max));
        let [prev, step_size] = bufs.take();
        specialize!([MAXIMIZE = self.maximize] {
            for (((p, g), prev), delta) in p.iter_mut().zip(g.values()).zip(prev).zip(step_size) {
                let g = ops::grad::<T, MAXIMIZE, false>(*p, g, T::zero());
                let product = g * *prev;
                let factor = if product > T::zero() {
                    eta_plus
                } else if product < T::zero() {
                    eta_minus
                } else {
                    T::one()
                };
                *delta = (*delta * factor).max(step_min).min(step_max);
                let g = if factor == eta_minus { T::zero() } else { g };
                *p = *p + -sign(g) * *delta;
                *prev = g;
            }
        });
    }
}

/// `torch.sign`: −1, 0 or 1 (0 for ±0).
fn sign<T: Scalar>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}
