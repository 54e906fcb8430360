//! Adan — `pytorch_optimizer.Adan` 4.1.0 (Xie et al., "Adan: Adaptive Nesterov
//! Momentum Algorithm for Faster Optimizing Deep Models", TPAMI 2024).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::{Check, KeyError};
use crate::scalar::Scalar;

crate::hyperparams! {
    /// Adan as in pytorch-optimizer 4.1.0 (`Adan`, its batched path on CPU). Its
    /// betas are the averages' decays, one minus the paper's β's:
    ///
    /// g ← ±∇; d = g − g_prev (g_prev = g at step 1); m ← lerp(m, g, 1 − β₁);
    /// m_d ← lerp(m_d, d, 1 − β₂); u = β₂·d + g; v ← β₃·v + (1 − β₃)·u²;
    /// D = √v/√(1 − β₃ᵗ) + ε; (θ ← θ·(1 − η·wd) with weight_decouple);
    /// θ ← θ − η/(1 − β₁ᵗ)·m/D − η·β₂/(1 − β₂ᵗ)·m_d/D; (default decay: θ ← θ/(1 + η·wd)).
    pub struct Adan {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// decay β₁ of the gradient average
        beta1: f64 = 0.98, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the gradient-difference average
        beta2: f64 = 0.92, Check::UNIT_HALF_OPEN;
        /// decay β₃ of the average of squared corrected gradients
        beta3: f64 = 0.99, Check::UNIT;
        /// weight decay: θ ← θ/(1 + η·wd) after the step, or θ·(1 − η·wd) before it with weight_decouple
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// decay the weights before the step (θ·(1 − η·wd)) instead of dividing after it
        weight_decouple: bool = false, Check::Any;
        /// global gradient-norm clipping: only 0 (off, the default); clipping needs the norm of all gradients
        max_grad_norm: f64 = 0.0, Check::NON_NEGATIVE;
        /// term ε added to the root (outside it)
        eps: f64 = 1e-8, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Per-step coefficients of [`Adan`].
#[derive(Clone, Copy, Debug)]
pub struct AdanStep {
    /// Step 1: the previous gradient is taken as the current one.
    first: bool,
    step_size: f64,
    diff_step_size: f64,
    bias_correction3_sqrt: f64,
}

impl Rule for Adan {
    type Coeffs = AdanStep;
    const NAME: &'static str = "adan";

    fn constraints(&self) -> Result<(), KeyError> {
        if self.max_grad_norm != 0.0 {
            return Err(KeyError::Constraint(format!(
                "max_grad_norm={} is not supported: global gradient-norm clipping needs the norm \
                 of every gradient at once, which an elementwise rule cannot compute; use 0 (the default)",
                self.max_grad_norm
            )));
        }
        Ok(())
    }

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("exp_avg", 0.0),
            ("exp_avg_sq", 0.0),
            ("exp_avg_diff", 0.0),
            ("previous_grad", 0.0),
        ]
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> AdanStep {
        let t = step as f64;
        AdanStep {
            first: step == 1,
            step_size: self.lr / (1.0 - self.beta1.powf(t)),
            diff_step_size: self.lr * self.beta2 / (1.0 - self.beta2.powf(t)),
            bias_correction3_sqrt: (1.0 - self.beta3.powf(t)).sqrt(),
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &AdanStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let w1 = ops::LerpWeight::<T>::new(1.0 - self.beta1);
        let w2 = ops::LerpWeight::<T>::new(1.0 - self.beta2);
        let beta2 = T::of(self.beta2);
        let beta3 = T::of(self.beta3);
        let one_minus_beta3 = T::of(1.0 - self.beta3);
        let eps = T::of(self.eps);
        let bc3_sqrt = T::of(c.bias_correction3_sqrt);
        let neg_step = T::of(-c.step_size);
        let neg_diff_step = T::of(-c.diff_step_size);
        let shrink = T::of(1.0 - self.lr * self.weight_decay);
        let divisor = T::of(1.0 + self.lr * self.weight_decay);
        let decay = self.weight_decay != 0.0;
        let n = g.len();
        let p = &mut p[..n];
        let [exp_avg, exp_avg_sq, exp_avg_diff, previous_grad] = bufs.take();
        let (exp_avg, exp_avg_sq, exp_avg_diff, previous_grad) = (
            &mut exp_avg[..n],
            &mut exp_avg_sq[..n],
            &mut exp_avg_diff[..n],
            &mut previous_grad[..n],
        );
        specialize!([MAXIMIZE = self.maximize,
            FIRST = c.first,
            (DIVIDED, DECOUPLED) = one_of(decay && !self.weight_decouple, decay && self.weight_decouple),
            SMALL1 = w1.small,
            SMALL2 = w2.small] {
                for i in 0..n {
                    let raw = g.get(i);
                    // The package starts the previous gradient at −(the first
                    // gradient as given), before `maximize` negates it.
                    let prev = if FIRST { -raw } else { previous_grad[i] };
                    let g = if MAXIMIZE { -raw } else { raw };
                    let diff = prev + g;
                    exp_avg[i] = ops::lerp::<T, SMALL1>(exp_avg[i], g, w1.w, w1.one_minus_w);
                    exp_avg_diff[i] = ops::lerp::<T, SMALL2>(exp_avg_diff[i], diff, w2.w, w2.one_minus_w);
                    let corrected = diff * beta2 + g;
                    exp_avg_sq[i] = ops::addcmul(exp_avg_sq[i] * beta3, one_minus_beta3, corrected, corrected);
                    let denom = exp_avg_sq[i].sqrt() / bc3_sqrt + eps;
                    if DECOUPLED {
                        p[i] = p[i] * shrink;
                    }
                    p[i] = ops::addcdiv(p[i], neg_step, exp_avg[i], denom);
                    p[i] = ops::addcdiv(p[i], neg_diff_step, exp_avg_diff[i], denom);
                    if DIVIDED {
                        p[i] = p[i] / divisor;
                    }
                    previous_grad[i] = -g;
                }
            }
        );
    }
}
