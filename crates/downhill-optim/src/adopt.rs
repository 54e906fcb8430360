//! ADOPT — `pytorch_optimizer.ADOPT` 4.1.0 (Taniguchi et al., "ADOPT: Modified
//! Adam Can Converge with Any β₂ with the Optimal Rate", NeurIPS 2024).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

/// The clip functions `clip_lambda` can name: pytorch-optimizer's default
/// `lambda step: math.pow(step, 0.25)`, or `None` (no clipping).
pub const ADOPT_CLIPS: &[&str] = &["step^0.25", "none"];

crate::hyperparams! {
    /// ADOPT as in pytorch-optimizer 4.1.0 (`ADOPT`, its batched path on CPU):
    ///
    /// g ← ±∇ (+ wd·θ, or θ ← θ·(1 − η·wd) with weight_decouple, 1 − wd with fixed_decay);
    /// step 1: v ← v + g² only (no parameter update besides the decay);
    /// then n = clamp(g / max(√v, ε), −t^¼, t^¼); m ← lerp(m, n, 1 − β₁);
    /// θ ← θ − η·m; v ← β₂·v + (1 − β₂)·g² (v is the previous step's in n).
    pub struct Adopt {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// decay β₁ of the average of normalised gradients
        beta1: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the second-moment average
        beta2: f64 = 0.9999, Check::UNIT_HALF_OPEN;
        /// clip of the normalised gradient: step^0.25 (±t^¼, the package's default lambda) or none
        clip_lambda: String = "step^0.25".into(), Check::OneOf(ADOPT_CLIPS);
        /// weight decay: L2 penalty, or decoupled decay with weight_decouple
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// decay the weights directly instead of adding wd·θ to the gradient
        weight_decouple: bool = false, Check::Any;
        /// decoupled decay θ·(1 − wd), not scaled by the learning rate
        fixed_decay: bool = false, Check::Any;
        /// floor ε of the root of the second moment (max(√v, ε))
        eps: f64 = 1e-6, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Per-step coefficients of [`Adopt`].
#[derive(Clone, Copy, Debug)]
pub struct AdoptStep {
    /// Step 1: only the second moment is set.
    first: bool,
    /// The clip bound t^¼, or `None` without clipping.
    clip: Option<f64>,
}

/// `torch.clamp_min(x, lo)`: NaN stays NaN.
#[inline(always)]
fn clamp_min<T: Scalar>(x: T, lo: T) -> T {
    if x < lo {
        lo
    } else {
        x
    }
}

/// `torch.clamp_max(x, hi)`: NaN stays NaN.
#[inline(always)]
fn clamp_max<T: Scalar>(x: T, hi: T) -> T {
    if x > hi {
        hi
    } else {
        x
    }
}

impl Rule for Adopt {
    type Coeffs = AdoptStep;
    const NAME: &'static str = "adopt";

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("exp_avg", 0.0), ("exp_avg_sq", 0.0)]
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> AdoptStep {
        AdoptStep {
            first: step == 1,
            clip: (self.clip_lambda != "none").then(|| (step as f64).powf(0.25)),
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &AdoptStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let w1 = ops::LerpWeight::<T>::new(1.0 - self.beta1);
        let beta2 = T::of(self.beta2);
        let one_minus_beta2 = T::of(1.0 - self.beta2);
        let eps = T::of(self.eps);
        let neg_lr = T::of(-self.lr);
        let clip = T::of(c.clip.unwrap_or(f64::INFINITY));
        let neg_clip = T::of(-c.clip.unwrap_or(f64::INFINITY));
        let wd = T::of(self.weight_decay);
        let shrink = T::of(if self.fixed_decay {
            1.0 - self.weight_decay
        } else {
            1.0 - self.weight_decay * self.lr
        });
        let decay = self.weight_decay != 0.0;
        let [exp_avg, exp_avg_sq] = bufs.take();
        let values = p.iter_mut().zip(g.values()).zip(exp_avg).zip(exp_avg_sq);
        if c.first {
            specialize!([MAXIMIZE = self.maximize,
                (COUPLED, DECOUPLED) = one_of(decay && !self.weight_decouple, decay && self.weight_decouple)] {
                    for (((p, g), _m), v) in values {
                        if DECOUPLED {
                            *p = *p * shrink;
                        }
                        let g = ops::grad::<T, MAXIMIZE, COUPLED>(*p, g, wd);
                        *v = ops::addcmul(*v, T::one(), g, g);
                    }
                }
            );
            return;
        }
        specialize!([MAXIMIZE = self.maximize,
            (COUPLED, DECOUPLED) = one_of(decay && !self.weight_decouple, decay && self.weight_decouple),
            CLIP = c.clip.is_some(),
            SMALL = w1.small] {
                for (((p, g), m), v) in values {
                    if DECOUPLED {
                        *p = *p * shrink;
                    }
                    let g = ops::grad::<T, MAXIMIZE, COUPLED>(*p, g, wd);
                    let denom = clamp_min(v.sqrt(), eps);
                    let mut normed = g / denom;
                    if CLIP {
                        normed = clamp_max(clamp_min(normed, neg_clip), clip);
                    }
                    *m = ops::lerp::<T, SMALL>(*m, normed, w1.w, w1.one_minus_w);
                    *p = ops::add_scaled(*p, neg_lr, *m);
                    *v = ops::addcmul(*v * beta2, one_minus_beta2, g, g);
                }
            }
        );
    }
}
