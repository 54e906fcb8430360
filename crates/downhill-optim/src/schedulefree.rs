//! Schedule-Free SGD and AdamW — `schedulefree` 1.4.1 (`SGDScheduleFree`,
//! `AdamWScheduleFree`; Defazio et al., "The Road Less Scheduled", NeurIPS 2024).
//!
//! The parameters hold y, the point where gradients are taken (the package's
//! train mode); the state holds z, the base iterate. A model is evaluated at
//! x = y + (1 − 1/β₁)(z − y) (the package's `eval()`), which
//! [`Optimizer::evaluation_point`](crate::Optimizer::evaluation_point) writes.

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

/// `(0, 1)`: the interpolation the evaluation point divides by.
const OPEN_UNIT: Check = Check::Range {
    lo: 0.0,
    lo_open: true,
    hi: 1.0,
    hi_open: true,
};

crate::hyperparams! {
    /// Schedule-Free SGD as in schedulefree 1.4.1 (`SGDScheduleFree`, its
    /// foreach path):
    ///
    /// η_t = η·min(1, t/warmup_steps); η_max = max of the η_t so far;
    /// w_t = t^r·η_max^weight_lr_power; c = w_t/Σw; g ← g + wd·y;
    /// y ← lerp(y, z, c); y ← y + η_t(β(1 − c) − 1)·g; z ← z − η_t·g
    /// (z starts at y); evaluated at x = lerp(y, z, 1 − 1/β).
    pub struct SchedulefreeSgd {
        /// learning rate η
        lr: f64 = 1.0, Check::NON_NEGATIVE;
        /// interpolation β between y's average and z (momentum)
        momentum: f64 = 0.9, OPEN_UNIT;
        /// weight decay, taken at y
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// steps of linear learning-rate warm-up
        warmup_steps: u64 = 0, Check::NON_NEGATIVE;
        /// power r of the step in the averaging weight t^r
        r: f64 = 0.0, Check::FINITE;
        /// power of the largest learning rate so far in the averaging weight
        weight_lr_power: f64 = 2.0, Check::FINITE;
    }
}

crate::hyperparams! {
    /// Schedule-Free AdamW as in schedulefree 1.4.1 (`AdamWScheduleFree`, its
    /// foreach path): as [`SchedulefreeSgd`] with β = β₁ and the gradient
    /// normalised first: v ← β₂v + (1 − β₂)g²; g ← g/(√(v/(1 − β₂ᵗ)) + ε);
    /// then g ← g + wd·y and the same y and z updates.
    pub struct SchedulefreeAdamw {
        /// learning rate η
        lr: f64 = 0.0025, Check::NON_NEGATIVE;
        /// interpolation β₁ between y's average and z
        beta1: f64 = 0.9, OPEN_UNIT;
        /// decay β₂ of the second moment
        beta2: f64 = 0.999, Check::UNIT_HALF_OPEN;
        /// term ε added to the root
        eps: f64 = 1e-8, Check::NON_NEGATIVE;
        /// weight decay, taken at y
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// steps of linear learning-rate warm-up
        warmup_steps: u64 = 0, Check::NON_NEGATIVE;
        /// power r of the step in the averaging weight t^r
        r: f64 = 0.0, Check::FINITE;
        /// power of the largest learning rate so far in the averaging weight
        weight_lr_power: f64 = 2.0, Check::FINITE;
    }
}

/// Per-step coefficients of both rules.
#[derive(Clone, Copy, Debug)]
pub struct ScheduleFreeStep {
    /// Step 1: z starts at y.
    pub first: bool,
    /// The warmed-up learning rate η_t.
    pub lr: f64,
    /// The averaging weight c = w_t/Σw (the lerp of y towards z).
    pub ckp1: f64,
    /// η_t(β(1 − c) − 1), y's step along the gradient.
    pub y_step: f64,
    /// 1 − β₂ᵗ (AdamW).
    pub bias_correction2: f64,
}

/// The step's coefficients; `scalars` = [η_max, Σw] (η_max starts at −1).
fn schedule(
    step: u64,
    scalars: &mut [f64],
    lr: f64,
    warmup_steps: u64,
    r: f64,
    weight_lr_power: f64,
    beta: f64,
) -> ScheduleFreeStep {
    let k = step - 1;
    let sched = if k < warmup_steps {
        (k + 1) as f64 / warmup_steps as f64
    } else {
        1.0
    };
    let lr = lr * sched;
    scalars[0] = scalars[0].max(lr);
    let weight = ((k + 1) as f64).powf(r) * scalars[0].powf(weight_lr_power);
    scalars[1] += weight;
    let ckp1 = if scalars[1] == 0.0 {
        0.0
    } else {
        weight / scalars[1]
    };
    ScheduleFreeStep {
        first: step == 1,
        lr,
        ckp1,
        y_step: lr * (beta * (1.0 - ckp1) - 1.0),
        bias_correction2: 1.0,
    }
}

/// The y and z updates shared by both rules, for the (normalised, decayed) gradient `d`.
#[inline(always)]
fn move_y_and_z<T: Scalar, const SMALL: bool>(
    y: &mut T,
    z: &mut T,
    d: T,
    toward: ops::LerpWeight<T>,
    y_step: T,
    neg_lr: T,
) {
    *y = ops::lerp::<T, SMALL>(*y, *z, toward.w, toward.one_minus_w);
    *y = ops::add_scaled(*y, y_step, d);
    *z = ops::add_scaled(*z, neg_lr, d);
}

/// x = lerp(y, z, 1 − 1/β) for every element of a run.
fn evaluation<T: Scalar>(beta: f64, z: &[T], y: &[T], x: &mut [T]) {
    let w = ops::LerpWeight::<T>::new(1.0 - 1.0 / beta);
    specialize!([SMALL = w.small] {
        for ((x, y), z) in x.iter_mut().zip(y).zip(z) {
            *x = ops::lerp::<T, SMALL>(*y, *z, w.w, w.one_minus_w);
        }
    });
}

impl Rule for SchedulefreeSgd {
    type Coeffs = ScheduleFreeStep;
    const NAME: &'static str = "schedulefree-sgd";
    const EVALUATION_POINT: bool = true;

    crate::rates!(lr, momentum);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("z", 0.0)]
    }

    fn scalars(&self) -> Vec<(&'static str, f64)> {
        vec![("lr_max", -1.0), ("weight_sum", 0.0)]
    }

    fn begin_step(&self, step: u64, scalars: &mut [f64]) -> ScheduleFreeStep {
        schedule(
            step,
            scalars,
            self.lr,
            self.warmup_steps,
            self.r,
            self.weight_lr_power,
            self.momentum,
        )
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &ScheduleFreeStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let wd = T::of(self.weight_decay);
        let toward = ops::LerpWeight::<T>::new(c.ckp1);
        let (y_step, neg_lr) = (T::of(c.y_step), T::of(-c.lr));
        let [z] = bufs.take();
        specialize!([DECAY = self.weight_decay != 0.0, FIRST = c.first, SMALL = toward.small] {
            for (i, y) in p.iter_mut().enumerate() {
                if FIRST {
                    z[i] = *y;
                }
                let d = ops::grad::<T, false, DECAY>(*y, g.get(i), wd);
                move_y_and_z::<T, SMALL>(y, &mut z[i], d, toward, y_step, neg_lr);
            }
        });
    }

    fn evaluation_point<T: Scalar>(&self, step: u64, buffers: &[&[T]], y: &[T], x: &mut [T]) {
        match step {
            0 => x.copy_from_slice(y),
            _ => evaluation(self.momentum, buffers[0], y, x),
        }
    }
}

impl Rule for SchedulefreeAdamw {
    type Coeffs = ScheduleFreeStep;
    const NAME: &'static str = "schedulefree-adamw";
    const EVALUATION_POINT: bool = true;

    crate::rates!(lr, beta1);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("z", 0.0), ("exp_avg_sq", 0.0)]
    }

    fn scalars(&self) -> Vec<(&'static str, f64)> {
        vec![("lr_max", -1.0), ("weight_sum", 0.0)]
    }

    fn begin_step(&self, step: u64, scalars: &mut [f64]) -> ScheduleFreeStep {
        ScheduleFreeStep {
            bias_correction2: 1.0 - self.beta2.powf(step as f64),
            ..schedule(
                step,
                scalars,
                self.lr,
                self.warmup_steps,
                self.r,
                self.weight_lr_power,
                self.beta1,
            )
        }
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &ScheduleFreeStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let (beta2, one_minus_beta2) = (T::of(self.beta2), T::of(1.0 - self.beta2));
        let (bc2, eps, wd) = (
            T::of(c.bias_correction2),
            T::of(self.eps),
            T::of(self.weight_decay),
        );
        let toward = ops::LerpWeight::<T>::new(c.ckp1);
        let (y_step, neg_lr) = (T::of(c.y_step), T::of(-c.lr));
        let [z, exp_avg_sq] = bufs.take();
        specialize!([DECAY = self.weight_decay != 0.0, FIRST = c.first, SMALL = toward.small] {
            for (i, y) in p.iter_mut().enumerate() {
                if FIRST {
                    z[i] = *y;
                }
                let raw = g.get(i);
                let v = ops::addcmul(exp_avg_sq[i] * beta2, one_minus_beta2, raw, raw);
                exp_avg_sq[i] = v;
                let normalised = raw / ((v / bc2).sqrt() + eps);
                let d = ops::grad::<T, false, DECAY>(*y, normalised, wd);
                move_y_and_z::<T, SMALL>(y, &mut z[i], d, toward, y_step, neg_lr);
            }
        });
    }

    fn evaluation_point<T: Scalar>(&self, step: u64, buffers: &[&[T]], y: &[T], x: &mut [T]) {
        match step {
            0 => x.copy_from_slice(y),
            _ => evaluation(self.beta1, buffers[0], y, x),
        }
    }
}
