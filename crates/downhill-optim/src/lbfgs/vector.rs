//! The reductions L-BFGS takes over whole vectors, in a fixed order.
//!
//! PyTorch's `dot` calls BLAS and its `sum` a vectorised cascade; these sum
//! eight interleaved lanes, then the lanes pairwise, then the tail in order:
//! the same terms, so results differ from PyTorch's only by rounding order,
//! and are the same on every run and thread count. Vectors of fewer than
//! eight elements are summed strictly in order.

use crate::scalar::Scalar;

const LANES: usize = 8;

/// Σ f(aᵢ, bᵢ) in the order described above.
#[inline(always)]
fn sum_pairs<T: Scalar>(a: &[T], b: &[T], f: impl Fn(T, T) -> T) -> T {
    let mut lanes = [T::zero(); LANES];
    let (a_body, b_body) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (a_tail, b_tail) = (a_body.remainder(), b_body.remainder());
    for (x, y) in a_body.zip(b_body) {
        for k in 0..LANES {
            lanes[k] = lanes[k] + f(x[k], y[k]);
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            lanes[k] = lanes[k] + lanes[k + width];
        }
    }
    let mut total = lanes[0];
    for (&x, &y) in a_tail.iter().zip(b_tail) {
        total = total + f(x, y);
    }
    total
}

/// a·b (`torch.dot`).
pub(super) fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    sum_pairs(a, b, |x, y| x * y)
}

/// Σ|aᵢ| (`a.abs().sum()`).
pub(super) fn abs_sum<T: Scalar>(a: &[T]) -> T {
    sum_pairs(a, a, |x, _| x.abs())
}

/// max |aᵢ| (`a.abs().max()`): NaN if any element is NaN, as PyTorch's max.
pub(super) fn abs_max<T: Scalar>(a: impl Iterator<Item = T>) -> T {
    a.fold(T::zero(), |m, x| {
        let x = x.abs();
        if x.is_nan() || m.is_nan() {
            T::nan()
        } else if x > m {
            x
        } else {
            m
        }
    })
}

/// y ← y + α·x (`y.add_(x, alpha=α)`).
pub(super) fn axpy<T: Scalar>(y: &mut [T], alpha: T, x: &[T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = *y + alpha * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_vectors_are_summed_in_order_and_long_ones_by_lanes() {
        assert_eq!(dot(&[1.0f64, 2.0], &[3.0, 4.0]), 11.0);
        let a: Vec<f64> = (1..=19).map(f64::from).collect();
        assert_eq!(dot(&a, &a), (1..=19).map(|i| f64::from(i * i)).sum::<f64>());
        assert_eq!(abs_sum(&[-1.0f64, 2.0, -3.0]), 6.0);
        assert_eq!(abs_max([-1.0f64, 5.0, -7.0].into_iter()), 7.0);
        assert!(abs_max([1.0f64, f64::NAN, 3.0].into_iter()).is_nan());
        assert!(abs_max([f64::NAN, 3.0].into_iter()).is_nan());
    }
}
