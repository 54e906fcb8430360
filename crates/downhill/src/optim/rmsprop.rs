//! RMSProp — `torch.optim.RMSprop` (Hinton, Coursera lecture 6e, 2012; centered: Graves 2013).

use super::{ops, Bufs, Rule};
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

    fn apply<T: Scalar>(&self, _: &(), bufs: Bufs<'_, T>, p: &mut [T], g: &[T]) {
        let alpha = T::of(self.alpha);
        let one_minus_alpha = T::of(1.0 - self.alpha);
        let eps = T::of(self.eps);
        let neg_lr = T::of(-self.lr);
        let mu = T::of(self.momentum);
        let grad = ops::Grad::new(self.maximize, self.weight_decay);
        let mut bufs = bufs.into_slices();
        let square_avg = bufs.next().expect("square_avg buffer");
        let mut momentum = if self.momentum > 0.0 {
            bufs.next()
        } else {
            None
        };
        let mut grad_avg = if self.centered { bufs.next() } else { None };
        for (i, (p, &g)) in p.iter_mut().zip(g).enumerate() {
            let g = grad.at(*p, g);
            let v = ops::addcmul(square_avg[i] * alpha, one_minus_alpha, g, g);
            square_avg[i] = v;
            let avg = match grad_avg.as_deref_mut() {
                Some(ga) => {
                    ga[i] = ops::lerp(ga[i], g, one_minus_alpha);
                    ops::addcmul(v, -T::one(), ga[i], ga[i]).sqrt()
                }
                None => v.sqrt(),
            } + eps;
            match momentum.as_deref_mut() {
                Some(b) => {
                    b[i] = ops::addcdiv(b[i] * mu, T::one(), g, avg);
                    *p = *p + neg_lr * b[i];
                }
                None => *p = ops::addcdiv(*p, neg_lr, g, avg),
            }
        }
    }
}
