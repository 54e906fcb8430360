//! Elementwise pieces shared by the update rules, in PyTorch's operation order.
//!
//! Flags that are fixed for a whole step (maximize, weight decay on or off,
//! AMSGrad…) become compile-time constants through `specialize!`, so each
//! update loop is compiled without per-element branches and vectorises.

use crate::scalar::Scalar;

/// Runs `$body` once per valid combination of flags, each flag bound as a
/// `const` inside it: `specialize!([MAXIMIZE = self.maximize] { … })`.
/// `(A, B) = one_of(a, b)` binds two flags that are never both true (coupled
/// or decoupled weight decay): three combinations, not four.
macro_rules! specialize {
    ([] $body:block) => { $body };
    ([$flag:ident = $value:expr $(, $($rest:tt)*)?] $body:block) => {
        if $value {
            const $flag: bool = true;
            $crate::ops::specialize!([$($($rest)*)?] $body)
        } else {
            const $flag: bool = false;
            $crate::ops::specialize!([$($($rest)*)?] $body)
        }
    };
    ([($a:ident, $b:ident) = one_of($va:expr, $vb:expr) $(, $($rest:tt)*)?] $body:block) => {
        if $va {
            const $a: bool = true;
            const $b: bool = false;
            $crate::ops::specialize!([$($($rest)*)?] $body)
        } else if $vb {
            const $a: bool = false;
            const $b: bool = true;
            $crate::ops::specialize!([$($($rest)*)?] $body)
        } else {
            const $a: bool = false;
            const $b: bool = false;
            $crate::ops::specialize!([$($($rest)*)?] $body)
        }
    };
}
#[doc(hidden)]
pub(crate) use specialize;

/// The gradient an update uses: negated when maximizing, plus `wd·θ` with
/// coupled (L2) weight decay. PyTorch skips the decay term when wd = 0.
#[inline(always)]
pub fn grad<T: Scalar, const MAXIMIZE: bool, const DECAY: bool>(
    param: T,
    grad: T,
    weight_decay: T,
) -> T {
    let g = if MAXIMIZE { -grad } else { grad };
    if DECAY {
        g + weight_decay * param
    } else {
        g
    }
}

/// `torch.lerp(a, b, w)` on CPU: `a + w·(b − a)` for |w| < ½ (`SMALL`),
/// else `b − (b − a)·(1 − w)`; `one_minus_w` is `1 − w` rounded to `T`.
#[inline(always)]
pub fn lerp<T: Scalar, const SMALL: bool>(a: T, b: T, w: T, one_minus_w: T) -> T {
    if SMALL {
        a + w * (b - a)
    } else {
        b - (b - a) * one_minus_w
    }
}

/// A lerp weight with what [`lerp`] needs: the weight, `1 − w`, and whether |w| < ½.
#[derive(Clone, Copy, Debug)]
pub struct LerpWeight<T> {
    pub w: T,
    pub one_minus_w: T,
    pub small: bool,
}

impl<T: Scalar> LerpWeight<T> {
    pub fn new(w: f64) -> Self {
        let w = T::of(w);
        LerpWeight {
            w,
            one_minus_w: T::one() - w,
            small: w.abs() < T::of(0.5),
        }
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
