//! Gradient clipping, as PyTorch's `clip_grad_value_` and `clip_grad_norm_`.

use crate::model::Float;
use std::fmt;
use std::str::FromStr;

/// `--clip value:C | norm:M | global-norm:M`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Each component clamped to `[−C, C]`.
    Value(f64),
    /// Each tensor (weight matrix, bias vector) rescaled by `min(1, M / (‖g‖ + 1e-6))`.
    Norm(f64),
    /// All gradients rescaled together by `min(1, M / (‖g‖ + 1e-6))`, ‖g‖ over every tensor.
    GlobalNorm(f64),
}

impl Clip {
    /// The factor `max / (‖g‖ + 1e-6)` that norm clipping multiplies the
    /// gradients of norm `norm` by, or `None` when it is not below 1
    /// (PyTorch's `clip_grad_norm_`).
    pub fn coefficient(norm: f64, max: f64) -> Option<f64> {
        let coef = max / (norm + 1e-6);
        (coef < 1.0).then_some(coef)
    }

    /// Clips `grads`, a flat vector of tensors of `sizes`.
    pub fn apply<T: Float>(&self, grads: &mut [T], sizes: &[usize]) {
        match *self {
            Clip::Value(c) => {
                let (lo, hi) = (T::of(-c), T::of(c));
                grads.iter_mut().for_each(|g| *g = g.max(lo).min(hi));
            }
            Clip::GlobalNorm(max) => rescale(grads, max),
            Clip::Norm(max) => {
                let mut rest = grads;
                for &size in sizes {
                    let (tensor, tail) = rest.split_at_mut(size);
                    rescale(tensor, max);
                    rest = tail;
                }
            }
        }
    }
}

fn rescale<T: Float>(grads: &mut [T], max: f64) {
    let norm = grads
        .iter()
        .map(|g| g.widen() * g.widen())
        .sum::<f64>()
        .sqrt();
    if let Some(coef) = Clip::coefficient(norm, max) {
        let c = T::of(coef);
        grads.iter_mut().for_each(|g| *g = *g * c);
    }
}

impl FromStr for Clip {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("clip must be value:C, norm:M or global-norm:M with a positive number, got '{text}'")
        };
        let (kind, number) = text.split_once(':').ok_or_else(bad)?;
        let x: f64 = number.trim().parse().map_err(|_| bad())?;
        if !(x.is_finite() && x > 0.0) {
            return Err(bad());
        }
        match kind.trim() {
            "value" => Ok(Clip::Value(x)),
            "norm" => Ok(Clip::Norm(x)),
            "global-norm" => Ok(Clip::GlobalNorm(x)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Clip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clip::Value(x) => write!(f, "value:{x}"),
            Clip::Norm(x) => write!(f, "norm:{x}"),
            Clip::GlobalNorm(x) => write!(f, "global-norm:{x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_by_value_norm_and_global_norm() {
        let mut g = vec![3.0, -4.0, 0.5, 12.0];
        Clip::Value(1.0).apply(&mut g, &[4]);
        assert_eq!(g, vec![1.0, -1.0, 0.5, 1.0]);
        let mut g = vec![3.0, 4.0, 0.0, 12.0];
        Clip::Norm(1.0).apply(&mut g, &[2, 2]);
        let c = 1.0 / (5.0 + 1e-6);
        assert_eq!(g, vec![3.0 * c, 4.0 * c, 0.0, 12.0 * (1.0 / (12.0 + 1e-6))]);
        let mut g = vec![3.0, 4.0, 0.0, 12.0];
        Clip::GlobalNorm(26.0).apply(&mut g, &[2, 2]);
        assert_eq!(g, vec![3.0, 4.0, 0.0, 12.0]);
        Clip::GlobalNorm(6.5).apply(&mut g, &[2, 2]);
        let c = 6.5 / (13.0 + 1e-6);
        assert_eq!(g, vec![3.0 * c, 4.0 * c, 0.0, 12.0 * c]);
    }

    #[test]
    fn parses_specs() {
        assert_eq!("global-norm:1".parse(), Ok(Clip::GlobalNorm(1.0)));
        assert_eq!("value:0.5".parse(), Ok(Clip::Value(0.5)));
        assert!("norm:-1".parse::<Clip>().is_err());
        assert!("max:1"
            .parse::<Clip>()
            .unwrap_err()
            .contains("value:C, norm:M or global-norm:M"));
    }
}
