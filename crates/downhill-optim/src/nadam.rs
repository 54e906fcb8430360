//! NAdam — `torch.optim.NAdam` (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR workshop 2016).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// NAdam as in `torch.optim.NAdam`, sharing Adam's moments:
    ///
    /// μ_t = β₁·(1 − ½·0.96^(t·ψ)); Π_t = Π_{t−1}·μ_t; m, v as in Adam;
    /// d = √(v / (1 − β₂ᵗ)) + ε;
    /// θ ← θ − η(1 − μ_t)/(1 − Π_t) · g/d − η·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/d.
    pub struct Nadam {
        /// learning rate η
        lr: f64 = 2e-3, Check::NON_NEGATIVE;
        /// decay β₁ of the first-moment average
        beta1: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the second-moment average
        beta2: f64 = 0.999, Check::UNIT_HALF_OPEN;
        /// term ε added to the root (outside it)
        eps: f64 = 1e-8, Check::NON_NEGATIVE;
        /// weight decay: L2 penalty, or decoupled decay with decoupled_weight_decay
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// momentum decay ψ of the μ_t schedule
        momentum_decay: f64 = 4e-3, Check::NON_NEGATIVE;
        /// decay the weights directly (NAdamW) instead of adding wd·θ to the gradient
        decoupled_weight_decay: bool = false, Check::Any;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Per-step coefficients of [`Nadam`].
#[derive(Clone, Copy, Debug)]
pub struct NadamStep {
    pub bias_correction2: f64,
    pub grad_coef: f64,
    pub avg_coef: f64,
}

impl Rule for Nadam {
    type Coeffs = NadamStep;
    const NAME: &'static str = "nadam";

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("exp_avg", 0.0), ("exp_avg_sq", 0.0)]
    }

    fn scalars(&self) -> Vec<(&'static str, f64)> {
        vec![("mu_product", 1.0)]
    }

    fn begin_step(&self, step: u64, scalars: &mut [f64]) -> NadamStep {
        let t = step as f64;
        let bias_correction2 = 1.0 - self.beta2.powf(t);
        let mu = self.beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = self.beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        scalars[0] *= mu;
        let mu_product = scalars[0];
        let mu_product_next = mu_product * mu_next;
        NadamStep {
            bias_correction2,
            grad_coef: -self.lr * (1.0 - mu) / (1.0 - mu_product),
            avg_coef: (-self.lr * mu_next) / (1.0 - mu_product_next),
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &NadamStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let w1 = ops::LerpWeight::<T>::new(1.0 - self.beta1);
        let beta2 = T::of(self.beta2);
        let one_minus_beta2 = T::of(1.0 - self.beta2);
        let eps = T::of(self.eps);
        let bc2 = T::of(c.bias_correction2);
        let (grad_coef, avg_coef) = (T::of(c.grad_coef), T::of(c.avg_coef));
        let wd = T::of(self.weight_decay);
        let shrink = T::of(1.0 - self.lr * self.weight_decay);
        let decay = self.weight_decay != 0.0;
        let [exp_avg, exp_avg_sq] = bufs.take();
        specialize!([MAXIMIZE = self.maximize,
            (COUPLED, DECOUPLED) = one_of(decay && !self.decoupled_weight_decay, decay && self.decoupled_weight_decay),
            SMALL = w1.small] {
                for (((p, g), m), v) in p.iter_mut().zip(g.values()).zip(exp_avg).zip(exp_avg_sq) {
                    if DECOUPLED {
                        *p = *p * shrink;
                    }
                    let g = ops::grad::<T, MAXIMIZE, COUPLED>(*p, g, wd);
                    *m = ops::lerp::<T, SMALL>(*m, g, w1.w, w1.one_minus_w);
                    *v = ops::addcmul(*v * beta2, one_minus_beta2, g, g);
                    let denom = (*v / bc2).sqrt() + eps;
                    *p = ops::addcdiv(*p, grad_coef, g, denom);
                    *p = ops::addcdiv(*p, avg_coef, *m, denom);
                }
            }
        );
    }
}
