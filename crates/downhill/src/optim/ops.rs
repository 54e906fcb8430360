//! Elementwise pieces shared by the update rules, in PyTorch's operation order.

use crate::scalar::Scalar;

/// `torch.lerp(a, b, w)` on CPU: `a + w·(b − a)` for |w| < ½, else `b − (b − a)·(1 − w)`.
#[inline(always)]
pub fn lerp<T: Scalar>(a: T, b: T, w: T) -> T {
    if w.abs() < T::of(0.5) {
        a + w * (b - a)
    } else {
        b - (b - a) * (T::one() - w)
    }
}

/// `s.addcmul(a, b, value=v)`: `s + v·a·b`, evaluated left to right.
#[inline(always)]
pub fn addcmul<T: Scalar>(s: T, v: T, a: T, b: T) -> T {
    s + v * a * b
}

/// `s.addcdiv(a, b, value=v)`: `s + v·a / b`, evaluated left to right.
#[inline(always)]
pub fn addcdiv<T: Scalar>(s: T, v: T, a: T, b: T) -> T {
    s + v * a / b
}

/// The gradient an update uses: negated when maximizing, plus the L2 term `wd·θ`.
#[derive(Clone, Copy, Debug)]
pub struct Grad<T> {
    maximize: bool,
    weight_decay: Option<T>,
}

impl<T: Scalar> Grad<T> {
    /// `weight_decay = 0` adds nothing (PyTorch skips the term, keeping `-0.0`).
    pub fn new(maximize: bool, weight_decay: f64) -> Self {
        Grad {
            maximize,
            weight_decay: (weight_decay != 0.0).then(|| T::of(weight_decay)),
        }
    }

    /// Coupled (L2) decay only when `coupled`; decoupled decay is applied to θ instead.
    pub fn coupled(maximize: bool, weight_decay: f64, coupled: bool) -> Self {
        Self::new(maximize, if coupled { weight_decay } else { 0.0 })
    }

    #[inline(always)]
    pub fn at(&self, param: T, grad: T) -> T {
        let g = if self.maximize { -grad } else { grad };
        match self.weight_decay {
            Some(wd) => g + wd * param,
            None => g,
        }
    }
}
