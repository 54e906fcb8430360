//! How an update rule reads its gradient: through the engine, which applies
//! the optimizer's [`NonFinite`](crate::NonFinite) policy in the same pass.

use crate::scalar::Scalar;

/// The gradient of one run of elements, as a rule reads it.
///
/// Under [`NonFinite::Zero`](crate::NonFinite::Zero) NaN and ±∞ entries read as
/// zero (in registers, in the same single pass) and the engine counts them;
/// under the other policies entries are read as they are. A rule has no other
/// way to the gradient, so every rule gets the policy. Read entry `i` once per
/// step: [`Gradient::get`] or [`Gradient::values`].
pub trait Gradient<T: Scalar>: sealed::Sealed {
    /// The number of entries (equal to the run's parameter count).
    fn len(&self) -> usize;

    /// Whether the run is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i`. Index with `i < len()` on slices cut to `len()` so the loop vectorises.
    fn get(&mut self, i: usize) -> T;

    /// The entries in order.
    fn values(&mut self) -> impl Iterator<Item = T> + '_;
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for super::Raw<'_, T> {}
    impl<T> Sealed for super::Zeroing<'_, T> {}
}

/// Entries read as they are.
pub(crate) struct Raw<'a, T>(pub &'a [T]);

impl<T: Scalar> Gradient<T> for Raw<'_, T> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline(always)]
    fn get(&mut self, i: usize) -> T {
        self.0[i]
    }

    #[inline(always)]
    fn values(&mut self) -> impl Iterator<Item = T> + '_ {
        self.0.iter().copied()
    }
}

/// Entries with NaN and ±∞ read as zero, remembering whether there were any.
pub(crate) struct Zeroing<'a, T> {
    values: &'a [T],
    pub saw_bad: bool,
}

impl<'a, T> Zeroing<'a, T> {
    pub fn new(values: &'a [T]) -> Self {
        Zeroing {
            values,
            saw_bad: false,
        }
    }
}

#[inline(always)]
fn clean<T: Scalar>(g: T, saw_bad: &mut bool) -> T {
    let finite = g.is_finite();
    *saw_bad |= !finite;
    if finite {
        g
    } else {
        T::zero()
    }
}

impl<T: Scalar> Gradient<T> for Zeroing<'_, T> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.values.len()
    }

    #[inline(always)]
    fn get(&mut self, i: usize) -> T {
        clean(self.values[i], &mut self.saw_bad)
    }

    #[inline(always)]
    fn values(&mut self) -> impl Iterator<Item = T> + '_ {
        let saw_bad = &mut self.saw_bad;
        self.values.iter().map(move |&g| clean(g, saw_bad))
    }
}
