//! The floating-point types an optimizer can run in (`f32`, `f64`).

use serde::{de::DeserializeOwned, Serialize};
use std::fmt::{Debug, Display};

/// A floating-point element type for parameters, gradients and optimizer state.
///
/// Hyperparameters are kept in `f64` and converted with [`Scalar::of`] where an
/// update uses them, as PyTorch converts Python floats to the tensor's dtype.
pub trait Scalar:
    num_traits::Float + Debug + Display + Default + Send + Sync + Serialize + DeserializeOwned + 'static
{
    /// The dtype's name as saved in state files: `"f32"` or `"f64"`.
    const DTYPE: &'static str;
    /// Converts (rounding to nearest) from `f64`.
    fn of(x: f64) -> Self;
    /// Widens to `f64` (exact).
    fn widen(self) -> f64;
}

impl Scalar for f32 {
    const DTYPE: &'static str = "f32";
    fn of(x: f64) -> Self {
        x as f32
    }
    fn widen(self) -> f64 {
        f64::from(self)
    }
}

impl Scalar for f64 {
    const DTYPE: &'static str = "f64";
    fn of(x: f64) -> Self {
        x
    }
    fn widen(self) -> f64 {
        self
    }
}

/// Python's `max(a, b)` on floats: `a` unless `b > a` (so a NaN `b` is
/// passed over), as the reference implementations compute step sizes.
pub(crate) fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Python's `min(a, b)` on floats: `a` unless `b < a`.
pub(crate) fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}
