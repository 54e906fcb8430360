//! RMSProp — `torch.optim.RMSprop` (Hinton, Coursera lecture 6e, 2012; centered: Graves 2013).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// RMSProp as in `torch.optim.RMSprop`:
    ///
    /// g ← ±∇ + wd·θ; v ← α·v + (1 − α)·g²; centered: ḡ ← lerp(ḡ, g, 1 − α), v̂ = v − ḡ²;
    /// d = √v̂ + ε; with momentum: b ← μ·b + g/d, θ ← θ − η·b; else θ ← θ − η·g/d.
    pub struct Rmsprop {
        /// learning rate η
        lr: f64 = 1e-2, Check::NON_NEGATIVE;
        /// smoothing constant α of the squared-gradient average
        alpha: f64 = 0.99, Check::NON_NEGATIVE;
        /// term ε added to the root (outside it)
        eps: f64 = 1e-8, Check::NON_NEGATIVE;
        /// weight decay (L2 penalty)
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// momentum factor μ
        momentum: f64 = 0.0, Check::NON_NEGATIVE;
        /// normalise by the variance estimate v − ḡ² instead of v
        centered: bool = false, Check::Any;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

impl Rule for Rmsprop {
    type Coeffs = ();
    const NAME: &'static str = "rmsprop";

    crate::rates!(lr, momentum);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        let mut names = vec![("square_avg", 0.0)];
        if self.momentum > 0.0 {
            names.push(("momentum_buffer", 0.0));
        }
        if self.centered {
            names.push(("grad_avg", 0.0));
        }
        names
    }

    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(&self, _: &(), bufs: Bufs<'_, T>, p: &mut [T], g: &mut G) {
        let alpha = T::of(self.alpha);
        let w = ops::LerpWeight::<T>::new(1.0 - self.alpha);
        let eps = T::of(self.eps);
        let neg_lr = T::of(-self.lr);
        let mu = T::of(self.momentum);
        let wd = T::of(self.weight_decay);
        let n = g.len();
        let p = &mut p[..n];
        let mut slices = bufs.into_slices();
        let square_avg = &mut slices.next().expect("square_avg")[..n];
        let momentum = if self.momentum > 0.0 {
            &mut slices.next().expect("momentum_buffer")[..n]
        } else {
            &mut []
        };
        let grad_avg = if self.centered {
            &mut slices.next().expect("grad_avg")[..n]
        } else {
            &mut []
        };
        specialize!([MAXIMIZE = self.maximize,
            DECAY = self.weight_decay != 0.0,
            MOMENTUM = self.momentum > 0.0,
            CENTERED = self.centered,
            SMALL = w.small] {
                for i in 0..n {
                    let g = ops::grad::<T, MAXIMIZE, DECAY>(p[i], g.get(i), wd);
                    let v = ops::addcmul(square_avg[i] * alpha, w.w, g, g);
                    square_avg[i] = v;
                    let avg = if CENTERED {
                        grad_avg[i] = ops::lerp::<T, SMALL>(grad_avg[i], g, w.w, w.one_minus_w);
                        ops::addcmul(v, -T::one(), grad_avg[i], grad_avg[i]).sqrt()
                    } else {
                        v.sqrt()
                    } + eps;
                    if MOMENTUM {
                        momentum[i] = ops::addcdiv(momentum[i] * mu, T::one(), g, avg);
                        p[i] = ops::add_scaled(p[i], neg_lr, momentum[i]);
                    } else {
                        p[i] = ops::addcdiv(p[i], neg_lr, g, avg);
                    }
                }
            }
        );
    }
}
