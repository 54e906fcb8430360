//! RAdam — `torch.optim.RAdam` (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// RAdam as in `torch.optim.RAdam`:
    ///
    /// m, v as in Adam; ρ∞ = 2/(1 − β₂) − 1; ρ_t = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ);
    /// if ρ_t > 5: θ ← θ − m̂·η·√(1 − β₂ᵗ)/(√v + ε)·r_t with
    /// r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)); else θ ← θ − m̂·η (m̂ = m/(1 − β₁ᵗ)).
    pub struct Radam {
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
        /// decay the weights directly (RAdamW) instead of adding wd·θ to the gradient
        decoupled_weight_decay: bool = false, Check::Any;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Per-step coefficients of [`Radam`].
#[derive(Clone, Copy, Debug)]
pub struct RadamStep {
    pub bias_correction1: f64,
    pub bias_correction2_sqrt: f64,
    /// The rectification r_t, or `None` while ρ_t ≤ 5 (un-adapted momentum step).
    pub rect: Option<f64>,
}

impl Rule for Radam {
    type Coeffs = RadamStep;
    const NAME: &'static str = "radam";

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("exp_avg", 0.0), ("exp_avg_sq", 0.0)]
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> RadamStep {
        let t = step as f64;
        let bias_correction1 = 1.0 - self.beta1.powf(t);
        let bias_correction2 = 1.0 - self.beta2.powf(t);
        let rho_inf = 2.0 / (1.0 - self.beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * self.beta2.powf(t) / bias_correction2;
        let rect = (rho_t > 5.0).then(|| {
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .powf(0.5)
        });
        RadamStep {
            bias_correction1,
            bias_correction2_sqrt: bias_correction2.powf(0.5),
            rect,
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &RadamStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let w1 = ops::LerpWeight::<T>::new(1.0 - self.beta1);
        let beta2 = T::of(self.beta2);
        let one_minus_beta2 = T::of(1.0 - self.beta2);
        let eps = T::of(self.eps);
        let lr = T::of(self.lr);
        let bc1 = T::of(c.bias_correction1);
        let bc2_sqrt = T::of(c.bias_correction2_sqrt);
        let rect = T::of(c.rect.unwrap_or(1.0));
        let wd = T::of(self.weight_decay);
        let shrink = T::of(1.0 - self.lr * self.weight_decay);
        let decay = self.weight_decay != 0.0;
        let [exp_avg, exp_avg_sq] = bufs.take();
        specialize!([MAXIMIZE = self.maximize,
            (COUPLED, DECOUPLED) = one_of(decay && !self.decoupled_weight_decay, decay && self.decoupled_weight_decay),
            RECTIFIED = c.rect.is_some(),
            SMALL = w1.small] {
                for (((p, g), m), v) in p.iter_mut().zip(g.values()).zip(exp_avg).zip(exp_avg_sq) {
                    if DECOUPLED {
                        *p = *p * shrink;
                    }
                    let g = ops::grad::<T, MAXIMIZE, COUPLED>(*p, g, wd);
                    *m = ops::lerp::<T, SMALL>(*m, g, w1.w, w1.one_minus_w);
                    *v = ops::addcmul(*v * beta2, one_minus_beta2, g, g);
                    let corrected = *m / bc1;
                    let update = if RECTIFIED {
                        // PyTorch's `scalar / tensor` is `tensor.reciprocal() * scalar`.
                        let adaptive = T::one() / (v.sqrt() + eps) * bc2_sqrt;
                        corrected * lr * adaptive * rect
                    } else {
                        corrected * lr
                    };
                    *p = *p - update;
                }
            }
        );
    }
}
