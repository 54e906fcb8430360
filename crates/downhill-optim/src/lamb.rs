//! LAMB — `pytorch_optimizer.Lamb` 4.1.0 (You et al., "Large Batch
//! Optimization for Deep Learning: Training BERT in 76 minutes", ICLR 2020).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule, Tensor};
use crate::hyper::Check;
use crate::scalar::Scalar;

/// pytorch-optimizer's bound on the weight norm in the trust ratio (`Lamb.clamp`).
const WEIGHT_NORM_CLAMP: f64 = 10.0;

crate::hyperparams! {
    /// LAMB as in pytorch-optimizer 4.1.0 (`Lamb`, its batched path on CPU),
    /// per tensor:
    ///
    /// g ← ±∇; θ ← θ·(1 − η·wd) with weight_decouple (1 − wd with fixed_decay);
    /// m ← β₁·m + β₃·g (β₃ = 1 − β₁ with grad_averaging, else 1);
    /// v ← β₂·v + (1 − β₂)·g²; u = m·(1/(√v + ε)) (+ wd·θ without weight_decouple);
    /// r = min(‖θ‖, 10)/(‖u‖ + ε) (1 if either norm is 0; 1 with adam);
    /// θ ← θ − η/(1 − β₁ᵗ)·r·u. (The step divides by 1 − β₁ᵗ although the
    /// docstring says "without bias correction"; the clamp bounds ‖θ‖, not r.)
    pub struct Lamb {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// decay β₁ of the first moment
        beta1: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the second moment
        beta2: f64 = 0.999, Check::UNIT_HALF_OPEN;
        /// weight decay: decoupled (weight_decouple), else added to the update u
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// decay the weights directly (the default) instead of adding wd·θ to u
        weight_decouple: bool = true, Check::Any;
        /// decoupled decay θ·(1 − wd), not scaled by the learning rate
        fixed_decay: bool = false, Check::Any;
        /// scale the gradient's share of the first moment by 1 − β₁
        grad_averaging: bool = true, Check::Any;
        /// trust ratio 1 (Adam with LAMB's other details)
        adam: bool = false, Check::Any;
        /// term ε added to the root and to the update's norm
        eps: f64 = 1e-6, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Coefficients of [`Lamb`]: the step size η/(1 − β₁ᵗ), and for each tensor
/// its trust ratio.
#[derive(Clone, Copy, Debug)]
pub struct LambStep {
    pub step_size: f64,
    pub ratio: f64,
}

/// Sums over a tensor: ‖θ‖² and ‖u‖².
const WEIGHT: usize = 0;
const UPDATE: usize = 1;

impl Lamb {
    /// The decoupled decay factor (1 without decoupled decay).
    fn shrink(&self) -> f64 {
        if !self.weight_decouple || self.weight_decay == 0.0 {
            1.0
        } else if self.fixed_decay {
            1.0 - self.weight_decay
        } else {
            1.0 - self.weight_decay * self.lr
        }
    }

    /// u = m·(1/(√v + ε)) (+ wd·θ with coupled decay).
    #[inline(always)]
    fn update<T: Scalar, const COUPLED: bool>(m: T, v: T, p: T, eps: T, wd: T) -> T {
        let u = T::one() / (v.sqrt() + eps) * m;
        if COUPLED {
            ops::add_scaled(u, wd, p)
        } else {
            u
        }
    }
}

impl Rule for Lamb {
    type Coeffs = LambStep;
    const NAME: &'static str = "lamb";
    const PER_TENSOR: bool = true;
    const TENSOR_SUMS: usize = 2;

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("exp_avg", 0.0), ("exp_avg_sq", 0.0)]
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> LambStep {
        LambStep {
            step_size: self.lr / (1.0 - self.beta1.powf(step as f64)),
            ratio: 1.0,
        }
    }

    /// Decay, moments, then ‖θ‖² and ‖u‖².
    #[inline(always)]
    fn sum<T: Scalar, G: Gradient<T>>(
        &self,
        _: &LambStep,
        _shape: &[usize],
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
        squares: &mut ops::Squares,
    ) {
        let shrink = T::of(self.shrink());
        let beta1 = T::of(self.beta1);
        let beta3 = T::of(if self.grad_averaging {
            1.0 - self.beta1
        } else {
            1.0
        });
        let beta2 = T::of(self.beta2);
        let one_minus_beta2 = T::of(1.0 - self.beta2);
        let (eps, wd) = (T::of(self.eps), T::of(self.weight_decay));
        let [exp_avg, exp_avg_sq] = bufs.take();
        specialize!([MAXIMIZE = self.maximize,
            DECOUPLED = self.shrink() != 1.0,
            COUPLED = !self.weight_decouple && self.weight_decay > 0.0] {
            for (i, p) in p.iter_mut().enumerate() {
                let raw = g.get(i);
                let g = if MAXIMIZE { -raw } else { raw };
                if DECOUPLED {
                    *p = *p * shrink;
                }
                let m = ops::add_scaled(exp_avg[i] * beta1, beta3, g);
                let v = ops::addcmul(exp_avg_sq[i] * beta2, one_minus_beta2, g, g);
                (exp_avg[i], exp_avg_sq[i]) = (m, v);
                let u = Self::update::<T, COUPLED>(m, v, *p, eps, wd);
                squares.add(WEIGHT, i, p.widen());
                squares.add(UPDATE, i, u.widen());
            }
        });
    }

    /// r = min(‖θ‖, 10)/(‖u‖ + ε), in `T` (1 if a norm is 0, or with adam).
    fn tensor_coeffs<T: Scalar>(&self, c: &LambStep, tensor: Tensor<'_>) -> LambStep {
        let weight_norm = T::of(tensor.sums[WEIGHT].sqrt()).min(T::of(WEIGHT_NORM_CLAMP));
        let update_norm = T::of(tensor.sums[UPDATE].sqrt());
        let ratio = if self.adam || weight_norm == T::zero() || update_norm == T::zero() {
            T::one()
        } else {
            weight_norm / (update_norm + T::of(self.eps))
        };
        LambStep {
            ratio: ratio.widen(),
            ..*c
        }
    }

    /// θ ← θ − step·r·u, with u recomputed from the updated moments.
    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &LambStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        _g: &mut G,
    ) {
        let (eps, wd) = (T::of(self.eps), T::of(self.weight_decay));
        let (ratio, neg_step) = (T::of(c.ratio), T::of(-c.step_size));
        let [exp_avg, exp_avg_sq] = bufs.take();
        specialize!([COUPLED = !self.weight_decouple && self.weight_decay > 0.0, ADAM = self.adam] {
            for (i, p) in p.iter_mut().enumerate() {
                let u = Self::update::<T, COUPLED>(exp_avg[i], exp_avg_sq[i], *p, eps, wd);
                let u = if ADAM { u } else { u * ratio };
                *p = ops::add_scaled(*p, neg_step, u);
            }
        });
    }
}
