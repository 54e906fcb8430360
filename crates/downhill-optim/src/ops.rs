//! Elementwise pieces shared by the update rules, in PyTorch's operation order.
//!
//! PyTorch's CPU kernels (the AVX2 and AVX-512 builds that x86-64 machines
//! run) evaluate `add(t, alpha=a)`, `addcmul` and `lerp` as fused
//! multiply-adds, one rounding each; [`add_scaled`], [`addcmul`] and [`lerp`]
//! do the same (`mul_add`, a single instruction where the step engine runs,
//! exact everywhere), so that trajectories equal PyTorch's bit for bit.
//! `addcdiv` and separate `mul_`/`add_` calls stay two roundings.
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
/// coupled (L2) weight decay (`grad.add(param, alpha=wd)`, fused). PyTorch
/// skips the decay term when wd = 0.
#[inline(always)]
pub fn grad<T: Scalar, const MAXIMIZE: bool, const DECAY: bool>(
    param: T,
    grad: T,
    weight_decay: T,
) -> T {
    let g = if MAXIMIZE { -grad } else { grad };
    if DECAY {
        add_scaled(g, weight_decay, param)
    } else {
        g
    }
}

/// `torch.lerp(a, b, w)` on CPU: `a + w·(b − a)` for |w| < ½ (`SMALL`),
/// else `b − (b − a)·(1 − w)`, each one fused multiply-add; `one_minus_w`
/// is `1 − w` rounded to `T`.
#[inline(always)]
pub fn lerp<T: Scalar, const SMALL: bool>(a: T, b: T, w: T, one_minus_w: T) -> T {
    if SMALL {
        w.mul_add(b - a, a)
    } else {
        (a - b).mul_add(one_minus_w, b)
    }
}

/// `s.add(t, alpha=a)`: `s + a·t` with one rounding (PyTorch's `vec::fmadd(t, a, s)`).
#[inline(always)]
pub fn add_scaled<T: Scalar>(s: T, a: T, t: T) -> T {
    t.mul_add(a, s)
}

/// [`lerp`] by a weight known only at run time (per-tensor rules).
#[inline(always)]
pub fn lerp_by<T: Scalar>(a: T, b: T, w: LerpWeight<T>) -> T {
    if w.small {
        lerp::<T, true>(a, b, w.w, w.one_minus_w)
    } else {
        lerp::<T, false>(a, b, w.w, w.one_minus_w)
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

/// Sums over one tensor (or one group, [`Rule::GROUP_SUMS`](crate::Rule::GROUP_SUMS)) —
/// of squares, or of products — in an order fixed by the elements' positions
/// alone (so not by threads or by how the tensor is cut into runs): fewer
/// than 16 elements are summed one element after another with fused
/// multiply-adds, as `torch.linalg.norm` does for short tensors; more in 8
/// lanes (element i into lane i mod 8, each a chain of fused multiply-adds),
/// added pairwise at the end — 8 independent chains, so the sum keeps pace
/// with the update. (PyTorch's vectorised order for long tensors is its own;
/// the two differ by ulps.)
#[derive(Clone, Debug)]
pub struct Squares {
    lanes: [[f64; 8]; crate::MAX_TENSOR_SUMS],
    mask: usize,
    offset: usize,
    /// Where the current run's tensor starts among the summed elements.
    tensor_start: usize,
}

impl Squares {
    /// Zero sums over `len` elements.
    pub(crate) fn new(len: usize) -> Self {
        Squares {
            lanes: [[0.0; 8]; crate::MAX_TENSOR_SUMS],
            mask: if len >= 16 { 7 } else { 0 },
            offset: 0,
            tensor_start: 0,
        }
    }

    /// Where the next run starts among the summed elements, and where its tensor starts.
    pub(crate) fn at(&mut self, offset: usize, tensor_start: usize) {
        self.offset = offset;
        self.tensor_start = tensor_start;
    }

    /// The position of element `i` of the current run in its tensor.
    #[inline(always)]
    pub fn index_in_tensor(&self, i: usize) -> usize {
        self.offset - self.tensor_start + i
    }

    /// Adds x² to sum `k` for element `i` of the current run.
    #[inline(always)]
    pub fn add(&mut self, k: usize, i: usize, x: f64) {
        self.add_product(k, i, x, x);
    }

    /// Adds a·b to sum `k` for element `i` of the current run (one rounding).
    #[inline(always)]
    pub fn add_product(&mut self, k: usize, i: usize, a: f64, b: f64) {
        let lane = &mut self.lanes[k][(self.offset + i) & self.mask];
        *lane = a.mul_add(b, *lane);
    }

    /// The finished sums.
    pub(crate) fn totals(&self) -> [f64; crate::MAX_TENSOR_SUMS] {
        self.lanes
            .map(|l| ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])))
    }
}

/// `s.addcmul(a, b, value=v)`: `s + (v·a)·b`, the last multiply-add fused.
#[inline(always)]
pub fn addcmul<T: Scalar>(s: T, v: T, a: T, b: T) -> T {
    (v * a).mul_add(b, s)
}

/// `s.addcdiv(a, b, value=v)`: `s + v·a / b`, evaluated left to right.
#[inline(always)]
pub fn addcdiv<T: Scalar>(s: T, v: T, a: T, b: T) -> T {
    s + v * a / b
}
