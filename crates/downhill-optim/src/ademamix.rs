//! AdEMAMix — `pytorch_optimizer.AdEMAMix` 4.1.0 (Pagliardini et al., "The
//! AdEMAMix Optimizer: Better, Faster, Older", ICLR 2025).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::{Check, KeyError};
use crate::scalar::Scalar;

crate::hyperparams! {
    /// AdEMAMix as in pytorch-optimizer 4.1.0 (`AdEMAMix`, its batched path on CPU):
    ///
    /// g ← ±∇ (+ wd·θ, or θ ← θ·(1 − η·wd) with weight_decouple, 1 − wd with fixed_decay);
    /// m₁ ← lerp(m₁, g, 1 − β₁); v ← β₂·v + (1 − β₂)·g²; m₂ ← lerp(m₂, g, 1 − β₃(t));
    /// θ ← θ − η·(m₁/(1 − β₁ᵗ) + α(t)·m₂) / (√v/√(1 − β₂ᵗ) + ε) (the slow EMA m₂ is not
    /// bias-corrected). Warm-up over T = t_alpha_beta3 steps (0: none):
    /// α(t) = min(t·α/T, α), β₃(t) = min(exp(ln β₁·ln β₃ / ((1 − t/T)·ln β₃ + (t/T)·ln β₁)), β₃).
    pub struct Ademamix {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// decay β₁ of the fast first-moment average
        beta1: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the second-moment average
        beta2: f64 = 0.999, Check::UNIT_HALF_OPEN;
        /// decay β₃ of the slow first-moment average
        beta3: f64 = 0.9999, Check::UNIT;
        /// weight decay: L2 penalty, or decoupled decay with weight_decouple
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// decay the weights directly instead of adding wd·θ to the gradient
        weight_decouple: bool = false, Check::Any;
        /// decoupled decay θ·(1 − wd), not scaled by the learning rate
        fixed_decay: bool = false, Check::Any;
        /// weight α of the slow average
        alpha: f64 = 5.0, Check::NON_NEGATIVE;
        /// warm-up length T of α and β₃ in steps (0 = the package's None: no warm-up)
        t_alpha_beta3: f64 = 0.0, Check::NON_NEGATIVE;
        /// term ε added to the root (outside it)
        eps: f64 = 1e-8, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Per-step coefficients of [`Ademamix`].
#[derive(Clone, Copy, Debug)]
pub struct AdemamixStep {
    bias_correction1: f64,
    bias_correction2_sqrt: f64,
    alpha: f64,
    beta3: f64,
}

impl Ademamix {
    /// The warm-up schedules (`schedule_alpha`, `schedule_beta3`) at step `step`.
    fn schedules(&self, step: u64) -> (f64, f64) {
        if self.t_alpha_beta3 == 0.0 {
            return (self.alpha, self.beta3);
        }
        let (t, warm) = (step as f64, self.t_alpha_beta3);
        let alpha = (t * self.alpha / warm).min(self.alpha);
        let (log_beta1, log_beta3) = (self.beta1.ln(), self.beta3.ln());
        let beta3 = (log_beta1 * log_beta3
            / ((1.0 - t / warm) * log_beta3 + (t / warm) * log_beta1))
            .exp()
            .min(self.beta3);
        (alpha, beta3)
    }
}

impl Rule for Ademamix {
    type Coeffs = AdemamixStep;
    const NAME: &'static str = "ademamix";

    fn constraints(&self) -> Result<(), KeyError> {
        if self.t_alpha_beta3 != 0.0 && (self.beta1 == 0.0 || self.beta3 == 0.0) {
            return Err(KeyError::Constraint(format!(
                "the β₃ warm-up (t_alpha_beta3 > 0) takes ln β₁ and ln β₃: beta1 and beta3 must be positive, got beta1={} and beta3={}",
                self.beta1, self.beta3
            )));
        }
        Ok(())
    }

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("exp_avg", 0.0), ("exp_avg_sq", 0.0), ("exp_avg_slow", 0.0)]
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> AdemamixStep {
        let t = step as f64;
        let (alpha, beta3) = self.schedules(step);
        AdemamixStep {
            bias_correction1: 1.0 - self.beta1.powf(t),
            bias_correction2_sqrt: (1.0 - self.beta2.powf(t)).sqrt(),
            alpha,
            beta3,
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &AdemamixStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let w1 = ops::LerpWeight::<T>::new(1.0 - self.beta1);
        let w3 = ops::LerpWeight::<T>::new(1.0 - c.beta3);
        let beta2 = T::of(self.beta2);
        let one_minus_beta2 = T::of(1.0 - self.beta2);
        let eps = T::of(self.eps);
        let neg_lr = T::of(-self.lr);
        let bc1 = T::of(c.bias_correction1);
        let bc2_sqrt = T::of(c.bias_correction2_sqrt);
        let alpha = T::of(c.alpha);
        let wd = T::of(self.weight_decay);
        let shrink = T::of(if self.fixed_decay {
            1.0 - self.weight_decay
        } else {
            1.0 - self.weight_decay * self.lr
        });
        let decay = self.weight_decay != 0.0;
        let n = g.len();
        let p = &mut p[..n];
        let [exp_avg, exp_avg_sq, exp_avg_slow] = bufs.take();
        let (exp_avg, exp_avg_sq, exp_avg_slow) = (
            &mut exp_avg[..n],
            &mut exp_avg_sq[..n],
            &mut exp_avg_slow[..n],
        );
        specialize!([MAXIMIZE = self.maximize,
            (COUPLED, DECOUPLED) = one_of(decay && !self.weight_decouple, decay && self.weight_decouple),
            SMALL1 = w1.small,
            SMALL3 = w3.small] {
                for i in 0..n {
                    if DECOUPLED {
                        p[i] = p[i] * shrink;
                    }
                    let g = ops::grad::<T, MAXIMIZE, COUPLED>(p[i], g.get(i), wd);
                    exp_avg[i] = ops::lerp::<T, SMALL1>(exp_avg[i], g, w1.w, w1.one_minus_w);
                    exp_avg_sq[i] = ops::addcmul(exp_avg_sq[i] * beta2, one_minus_beta2, g, g);
                    exp_avg_slow[i] = ops::lerp::<T, SMALL3>(exp_avg_slow[i], g, w3.w, w3.one_minus_w);
                    let denom = exp_avg_sq[i].sqrt() / bc2_sqrt + eps;
                    let update = ops::add_scaled(exp_avg[i] / bc1, alpha, exp_avg_slow[i]);
                    p[i] = ops::addcdiv(p[i], neg_lr, update, denom);
                }
            }
        );
    }
}
