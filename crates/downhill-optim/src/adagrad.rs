//! AdaGrad — `torch.optim.Adagrad` (Duchi, Hazan & Singer, JMLR 2011).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// AdaGrad as in `torch.optim.Adagrad`:
    ///
    /// g ← ±∇ + wd·θ; η_t = η / (1 + (t − 1)·lr_decay); G ← G + g²;
    /// θ ← θ − η_t · g / (√G + ε).
    pub struct Adagrad {
        /// learning rate η
        lr: f64 = 1e-2, Check::NON_NEGATIVE;
        /// learning-rate decay per step
        lr_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// weight decay (L2 penalty)
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// starting value of the squared-gradient sum G
        initial_accumulator_value: f64 = 0.0, Check::NON_NEGATIVE;
        /// term ε added to √G (outside the root)
        eps: f64 = 1e-10, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

impl Rule for Adagrad {
    /// The step's learning rate η_t.
    type Coeffs = f64;
    const NAME: &'static str = "adagrad";

    crate::rates!(lr);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("sum", self.initial_accumulator_value)]
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> f64 {
        self.lr / (1.0 + (step - 1) as f64 * self.lr_decay)
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        clr: &f64,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let neg_clr = T::of(-clr);
        let eps = T::of(self.eps);
        let wd = T::of(self.weight_decay);
        let [sum] = bufs.take();
        specialize!([MAXIMIZE = self.maximize, DECAY = self.weight_decay != 0.0] {
            for ((p, g), s) in p.iter_mut().zip(g.values()).zip(sum.iter_mut()) {
                let g = ops::grad::<T, MAXIMIZE, DECAY>(*p, g, wd);
                *s = ops::addcmul(*s, T::one(), g, g);
                *p = ops::addcdiv(*p, neg_clr, g, s.sqrt() + eps);
            }
        });
    }
}
