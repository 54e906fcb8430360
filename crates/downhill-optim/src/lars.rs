//! LARS — `pytorch_optimizer.LARS` 4.1.0 (You et al., "Large Batch Training
//! of Convolutional Networks", 2017).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule, Tensor};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// LARS as in pytorch-optimizer 4.1.0 (`LARS`, its batched path on CPU),
    /// per tensor:
    ///
    /// g ← ±∇; for a tensor of two or more dimensions only:
    /// r = tc·‖θ‖/(‖g‖ + wd·‖θ‖) (1 if ‖θ‖ = 0 or the denominator is 0),
    /// g ← (g + wd·θ)·r; then with momentum μ: b ← μ·b + (1 − dampening)·g
    /// (b starts at 0), g ← g + μ·b with nesterov, else g ← b; θ ← θ − η·g.
    /// Vectors and scalars take plain SGD with momentum (no decay, no ratio).
    pub struct Lars {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// weight decay wd (matrices only)
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// momentum factor μ
        momentum: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// dampening of the gradient's share of the momentum
        dampening: f64 = 0.0, Check::UNIT_HALF_OPEN;
        /// trust coefficient tc
        trust_coefficient: f64 = 1e-3, Check::NON_NEGATIVE;
        /// Nesterov momentum
        nesterov: bool = false, Check::Any;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Coefficients of [`Lars`] for one tensor: whether it is scaled (two or more
/// dimensions) and its trust ratio.
#[derive(Clone, Copy, Debug)]
pub struct LarsStep {
    pub scaled: bool,
    pub ratio: f64,
}

/// Sums over a tensor: ‖θ‖² and ‖g‖².
const WEIGHT: usize = 0;
const GRAD: usize = 1;

impl Rule for Lars {
    type Coeffs = LarsStep;
    const NAME: &'static str = "lars";
    const PER_TENSOR: bool = true;
    const TENSOR_SUMS: usize = 2;

    crate::rates!(lr, momentum);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        if self.momentum > 0.0 {
            vec![("momentum_buffer", 0.0)]
        } else {
            vec![]
        }
    }

    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) -> LarsStep {
        LarsStep {
            scaled: false,
            ratio: 1.0,
        }
    }

    /// ‖θ‖² and ‖g‖², for tensors of two or more dimensions.
    #[inline(always)]
    fn sum<T: Scalar, G: Gradient<T>>(
        &self,
        _: &LarsStep,
        shape: &[usize],
        _bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
        squares: &mut ops::Squares,
    ) {
        if shape.len() < 2 {
            return;
        }
        for (i, p) in p.iter().enumerate() {
            squares.add(WEIGHT, i, p.widen());
            squares.add(GRAD, i, g.get(i).widen());
        }
    }

    /// r = tc·‖θ‖/(‖g‖ + wd·‖θ‖), in `T`.
    fn tensor_coeffs<T: Scalar>(&self, _: &LarsStep, tensor: Tensor<'_>) -> LarsStep {
        if tensor.ndim() < 2 {
            return LarsStep {
                scaled: false,
                ratio: 1.0,
            };
        }
        let weight_norm = T::of(tensor.sums[WEIGHT].sqrt());
        let grad_norm = T::of(tensor.sums[GRAD].sqrt());
        let denominator = grad_norm + T::of(self.weight_decay) * weight_norm;
        let ratio = if weight_norm > T::zero() && denominator > T::zero() {
            T::of(self.trust_coefficient) * weight_norm / denominator
        } else {
            T::one()
        };
        LarsStep {
            scaled: true,
            ratio: ratio.widen(),
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &LarsStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let (wd, ratio) = (T::of(self.weight_decay), T::of(c.ratio));
        let (mu, keep) = (T::of(self.momentum), T::of(1.0 - self.dampening));
        let neg_lr = T::of(-self.lr);
        let mut buffers = bufs.into_slices();
        let buf = if self.momentum > 0.0 {
            buffers.next().expect("momentum_buffer")
        } else {
            &mut []
        };
        specialize!([MAXIMIZE = self.maximize,
            SCALED = c.scaled,
            MOMENTUM = self.momentum > 0.0,
            NESTEROV = self.nesterov] {
            for (i, p) in p.iter_mut().enumerate() {
                let raw = g.get(i);
                let mut d = if MAXIMIZE { -raw } else { raw };
                if SCALED {
                    d = ops::add_scaled(d, wd, *p) * ratio;
                }
                if MOMENTUM {
                    buf[i] = ops::add_scaled(buf[i] * mu, keep, d);
                    d = if NESTEROV { ops::add_scaled(d, mu, buf[i]) } else { buf[i] };
                }
                *p = ops::add_scaled(*p, neg_lr, d);
            }
        });
    }
}
