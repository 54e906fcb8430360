//! Adam and AdamW — `torch.optim.Adam` / `torch.optim.AdamW`
//! (Kingma & Ba, ICLR 2015; AMSGrad: Reddi et al., ICLR 2018; decoupled decay: Loshchilov & Hutter, ICLR 2019).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// Adam as in `torch.optim.Adam` (AdamW = `decoupled_weight_decay=true`):
    ///
    /// g ← ±∇ (+ wd·θ, or θ ← θ·(1 − η·wd) when decoupled); m ← lerp(m, g, 1 − β₁);
    /// v ← β₂·v + (1 − β₂)·g²; (AMSGrad: v̂ ← max(v̂, v));
    /// θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε).
    pub struct Adam {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// decay β₁ of the first-moment average
        beta1: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the second-moment average
        beta2: f64 = 0.999, Check::UNIT_HALF_OPEN;
        /// term ε added to the root (outside it)
        eps: f64 = 1e-8, Check::NON_NEGATIVE;
        /// weight decay: L2 penalty, or decoupled decay with decoupled_weight_decay
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// use the AMSGrad variant (maximum of past second moments)
        amsgrad: bool = false, Check::Any;
        /// decay the weights directly (AdamW) instead of adding wd·θ to the gradient
        decoupled_weight_decay: bool = false, Check::Any;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

impl Adam {
    /// AdamW's defaults: decoupled decay with `weight_decay = 0.01`.
    pub fn adamw() -> Self {
        Adam {
            weight_decay: 1e-2,
            decoupled_weight_decay: true,
            ..Adam::default()
        }
    }
}

/// Per-step coefficients of [`Adam`].
#[derive(Clone, Copy, Debug)]
pub struct AdamStep {
    pub step_size: f64,
    pub bias_correction2_sqrt: f64,
}

impl Rule for Adam {
    type Coeffs = AdamStep;
    const NAME: &'static str = "adam";

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        let mut names = vec![("exp_avg", 0.0), ("exp_avg_sq", 0.0)];
        if self.amsgrad {
            names.push(("max_exp_avg_sq", 0.0));
        }
        names
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> AdamStep {
        let t = step as f64;
        let bias_correction1 = 1.0 - self.beta1.powf(t);
        let bias_correction2 = 1.0 - self.beta2.powf(t);
        AdamStep {
            step_size: self.lr / bias_correction1,
            bias_correction2_sqrt: bias_correction2.powf(0.5),
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &AdamStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let w1 = ops::LerpWeight::<T>::new(1.0 - self.beta1);
        let beta2 = T::of(self.beta2);
        let one_minus_beta2 = T::of(1.0 - self.beta2);
        let eps = T::of(self.eps);
        let neg_step = T::of(-c.step_size);
        let bc2_sqrt = T::of(c.bias_correction2_sqrt);
        let wd = T::of(self.weight_decay);
        let shrink = T::of(1.0 - self.lr * self.weight_decay);
        let decay = self.weight_decay != 0.0;
        let n = g.len();
        let p = &mut p[..n];
        let mut slices = bufs.into_slices();
        let exp_avg = &mut slices.next().expect("exp_avg")[..n];
        let exp_avg_sq = &mut slices.next().expect("exp_avg_sq")[..n];
        let max_sq = if self.amsgrad {
            &mut slices.next().expect("max_exp_avg_sq")[..n]
        } else {
            &mut []
        };
        specialize!([MAXIMIZE = self.maximize,
            (COUPLED, DECOUPLED) = one_of(decay && !self.decoupled_weight_decay, decay && self.decoupled_weight_decay),
            AMSGRAD = self.amsgrad,
            SMALL = w1.small] {
                for i in 0..n {
                    if DECOUPLED {
                        p[i] = p[i] * shrink;
                    }
                    let g = ops::grad::<T, MAXIMIZE, COUPLED>(p[i], g.get(i), wd);
                    exp_avg[i] = ops::lerp::<T, SMALL>(exp_avg[i], g, w1.w, w1.one_minus_w);
                    exp_avg_sq[i] = ops::addcmul(exp_avg_sq[i] * beta2, one_minus_beta2, g, g);
                    let v = if AMSGRAD {
                        max_sq[i] = max_sq[i].max(exp_avg_sq[i]);
                        max_sq[i]
                    } else {
                        exp_avg_sq[i]
                    };
                    let denom = v.sqrt() / bc2_sqrt + eps;
                    p[i] = ops::addcdiv(p[i], neg_step, exp_avg[i], denom);
                }
            }
        );
    }
}
