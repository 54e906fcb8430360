//! Averaged SGD — `torch.optim.ASGD` (Polyak & Juditsky, SIAM J. Control Optim. 1992).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// ASGD as in `torch.optim.ASGD`:
    ///
    /// g ← ±∇ + wd·θ; θ ← θ·(1 − λ·η_t) − η_t·g; ā ← ā + μ_t·(θ − ā) (ā ← θ while μ_t = 1);
    /// then η_{t+1} = η/(1 + λ·η·t)^α and μ_{t+1} = 1/max(1, t − t₀).
    /// The average ā is kept in the state (`ax`); the parameters follow θ.
    pub struct Asgd {
        /// learning rate η
        lr: f64 = 1e-2, Check::NON_NEGATIVE;
        /// decay term λ
        lambd: f64 = 1e-4, Check::NON_NEGATIVE;
        /// power α of the η update
        alpha: f64 = 0.75, Check::NON_NEGATIVE;
        /// step t₀ at which averaging starts
        t0: f64 = 1e6, Check::NON_NEGATIVE;
        /// weight decay (L2 penalty)
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// Per-step coefficients of [`Asgd`]: this step's η_t and μ_t.
#[derive(Clone, Copy, Debug)]
pub struct AsgdStep {
    pub eta: f64,
    pub mu: f64,
}

impl Rule for Asgd {
    type Coeffs = AsgdStep;
    const NAME: &'static str = "asgd";

    crate::rates!(lr);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("ax", 0.0)]
    }

    fn scalars(&self) -> Vec<(&'static str, f64)> {
        vec![("eta", self.lr), ("mu", 1.0)]
    }

    fn begin_step(&self, step: u64, scalars: &mut [f64]) -> AsgdStep {
        let t = step as f64;
        let current = AsgdStep {
            eta: scalars[0],
            mu: scalars[1],
        };
        scalars[0] = self.lr / (1.0 + self.lambd * self.lr * t).powf(self.alpha);
        scalars[1] = 1.0 / (t - self.t0).max(1.0);
        current
    }

    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &AsgdStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        let shrink = T::of(1.0 - self.lambd * c.eta);
        let neg_eta = T::of(-c.eta);
        let mu = T::of(c.mu);
        let wd = T::of(self.weight_decay);
        let [ax] = bufs.take();
        specialize!([MAXIMIZE = self.maximize, DECAY = self.weight_decay != 0.0, AVERAGE = c.mu != 1.0] {
            for ((p, g), a) in p.iter_mut().zip(g.values()).zip(ax) {
                let g = ops::grad::<T, MAXIMIZE, DECAY>(*p, g, wd);
                *p = *p * shrink;
                *p = ops::add_scaled(*p, neg_eta, g);
                *a = if AVERAGE { *a + (*p - *a) * mu } else { *p };
            }
        });
    }
}
