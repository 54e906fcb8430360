//! The strong-Wolfe line search of `torch.optim.LBFGS` (`_strong_wolfe` and
//! `_cubic_interpolate`, ported from Lua torch's `lswolfe.lua` and
//! `polyinterp.lua`): bracketing then zoom, Nocedal & Wright, *Numerical
//! Optimization* (2nd ed.), Algorithms 3.5 and 3.6, with cubic interpolation.

use super::vector::{abs_max, dot};
use crate::scalar::Scalar;
use crate::scalar::{py_max, py_min};

/// Sufficient decrease: f(x + t·d) ≤ f + c₁·t·gᵀd.
const C1: f64 = 1e-4;
/// Curvature: |∇f(x + t·d)ᵀd| ≤ −c₂·gᵀd.
const C2: f64 = 0.9;
/// The zoom stops when the bracket is this short along d: `_strong_wolfe`'s
/// default, since `LBFGS.step` does not pass the group's tolerance_change.
const TOLERANCE_CHANGE: f64 = 1e-9;
/// No gradient slot.
const NONE: usize = usize::MAX;

/// The minimiser of the cubic through (x₁, f₁, g₁) and (x₂, f₂, g₂), clamped
/// to `bounds` (the interval between the points when `None`); the middle of
/// the bounds when the cubic has no minimum.
pub(super) fn cubic_interpolate(
    (x1, f1, g1): (f64, f64, f64),
    (x2, f2, g2): (f64, f64, f64),
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (lo, hi) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= 0.0 {
        let d2 = d2_square.sqrt();
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        py_min(py_max(min_pos, lo), hi)
    } else {
        (lo + hi) / 2.0
    }
}

/// The line x + t·d a search runs along.
pub(super) struct Line<'a, T> {
    pub x: &'a [T],
    pub d: &'a [T],
    /// The loss at x.
    pub f: f64,
    /// The gradient at x on entry, at the point found on return.
    pub g: &'a mut [T],
    /// gᵀd at x.
    pub gtd: f64,
    /// Scratch of five times x's length: the trial point and four gradients.
    pub scratch: &'a mut [T],
}

/// What a search found: the loss at x + t·d, t and the evaluations it took.
pub(super) struct Found {
    pub f: f64,
    pub t: f64,
    pub evals: u64,
}

/// Trial points and the gradients there, kept in four slots (slot 0 is the
/// gradient at x): brackets and the previous point refer to slots, as
/// PyTorch's lists refer to tensors, so no gradient is copied.
struct Trials<'a, T, E> {
    x: &'a [T],
    d: &'a [T],
    point: &'a mut [T],
    slots: &'a mut [T],
    eval: E,
}

impl<T: Scalar, E: FnMut(&[T], &mut [T]) -> Option<f64>> Trials<'_, T, E> {
    /// Evaluates x + t·d into a slot that none of `live` uses: the loss,
    /// the slot and the directional derivative.
    fn at(&mut self, t: f64, live: [usize; 2]) -> Option<(f64, usize, f64)> {
        let n = self.x.len();
        let slot = (1..=4).find(|s| !live.contains(s)).unwrap_or(1);
        let step = T::of(t);
        for ((p, &x), &d) in self.point.iter_mut().zip(self.x).zip(self.d) {
            *p = x + step * d;
        }
        let g = &mut self.slots[(slot - 1) * n..slot * n];
        let f = (self.eval)(self.point, g)?;
        Some((f, slot, dot(g, self.d).widen()))
    }
}

/// The strong-Wolfe search from step `t` with at most `max_ls` evaluations
/// after the first; `eval` writes the gradient at a point and returns the
/// loss (`None` stops the search).
pub(super) fn strong_wolfe<T: Scalar>(
    line: Line<'_, T>,
    mut t: f64,
    max_ls: u64,
    eval: impl FnMut(&[T], &mut [T]) -> Option<f64>,
) -> Option<Found> {
    let Line {
        x,
        d,
        f,
        g,
        gtd,
        scratch,
    } = line;
    let n = x.len();
    let (point, slots) = scratch.split_at_mut(n);
    let mut trials = Trials {
        x,
        d,
        point,
        slots,
        eval,
    };
    let d_norm = abs_max(d.iter().copied()).widen();
    let (mut f_new, mut g_new, mut gtd_new) = trials.at(t, [NONE; 2])?;
    let mut evals = 1;

    // Bracket an interval containing a point satisfying the Wolfe criteria.
    let (mut t_prev, mut f_prev, mut g_prev, mut gtd_prev) = (0.0, f, 0, gtd);
    let mut done = false;
    let mut ls_iter = 0;
    let mut bracket = None;
    while ls_iter < max_ls {
        let around = (
            [t_prev, t],
            [f_prev, f_new],
            [g_prev, g_new],
            [gtd_prev, gtd_new],
        );
        if f_new > f + C1 * t * gtd || (ls_iter > 1 && f_new >= f_prev) {
            bracket = Some(around);
            break;
        }
        if gtd_new.abs() <= -C2 * gtd {
            // PyTorch's one-point bracket, held twice.
            bracket = Some(([t; 2], [f_new; 2], [g_new; 2], [gtd_new; 2]));
            done = true;
            break;
        }
        if gtd_new >= 0.0 {
            bracket = Some(around);
            break;
        }
        // Interpolate.
        let (min_step, max_step) = (t + 0.01 * (t - t_prev), t * 10.0);
        let tmp = t;
        t = cubic_interpolate(
            (t_prev, f_prev, gtd_prev),
            (t, f_new, gtd_new),
            Some((min_step, max_step)),
        );
        (t_prev, f_prev, g_prev, gtd_prev) = (tmp, f_new, g_new, gtd_new);
        (f_new, g_new, gtd_new) = trials.at(t, [g_prev, NONE])?;
        evals += 1;
        ls_iter += 1;
    }
    // Out of evaluations: PyTorch leaves the bracket's derivatives unset, and
    // the zoom below does not run.
    let (mut b, mut bf, mut bg, mut bgtd) =
        bracket.unwrap_or(([0.0, t], [f, f_new], [0, g_new], [f64::NAN; 2]));

    // Zoom: refine the bracket until a point satisfies the criteria.
    let mut insuf_progress = false;
    let order = |bf: &[f64; 2]| if bf[0] <= bf[1] { (0, 1) } else { (1, 0) };
    let (mut low, mut high) = order(&bf);
    while !done && ls_iter < max_ls {
        if (b[1] - b[0]).abs() * d_norm < TOLERANCE_CHANGE {
            break;
        }
        t = cubic_interpolate((b[0], bf[0], bgtd[0]), (b[1], bf[1], bgtd[1]), None);
        // Too close to an end of the bracket, twice or beyond it: move 0.1 of
        // the bracket's length inside.
        let (b_max, b_min) = (py_max(b[0], b[1]), py_min(b[0], b[1]));
        let eps = 0.1 * (b_max - b_min);
        if py_min(b_max - t, t - b_min) < eps {
            if insuf_progress || t >= b_max || t <= b_min {
                t = if (t - b_max).abs() < (t - b_min).abs() {
                    b_max - eps
                } else {
                    b_min + eps
                };
                insuf_progress = false;
            } else {
                insuf_progress = true;
            }
        } else {
            insuf_progress = false;
        }
        (f_new, g_new, gtd_new) = trials.at(t, bg)?;
        evals += 1;
        ls_iter += 1;
        if f_new > f + C1 * t * gtd || f_new >= bf[low] {
            // Armijo condition not satisfied or not lower than the lowest point.
            (b[high], bf[high], bg[high], bgtd[high]) = (t, f_new, g_new, gtd_new);
            (low, high) = order(&bf);
        } else {
            if gtd_new.abs() <= -C2 * gtd {
                done = true;
            } else if gtd_new * (b[high] - b[low]) >= 0.0 {
                // The old high becomes the new low.
                (b[high], bf[high], bg[high], bgtd[high]) = (b[low], bf[low], bg[low], bgtd[low]);
            }
            (b[low], bf[low], bg[low], bgtd[low]) = (t, f_new, g_new, gtd_new);
        }
    }
    if bg[low] != 0 {
        let slot = bg[low];
        g.copy_from_slice(&trials.slots[(slot - 1) * n..slot * n]);
    }
    Some(Found {
        f: bf[low],
        t: b[low],
        evals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cubic_through_a_quadratic_finds_its_minimum() {
        // f(x) = (x − 1)²: f(0) = 1, f'(0) = −2; f(3) = 4, f'(3) = 4.
        let t = cubic_interpolate((0.0, 1.0, -2.0), (3.0, 4.0, 4.0), None);
        assert!((t - 1.0).abs() < 1e-12, "{t}");
        // Bounds clamp it; without a minimum, the middle of the bounds.
        assert_eq!(
            cubic_interpolate((0.0, 1.0, -2.0), (3.0, 4.0, 4.0), Some((2.0, 5.0))),
            2.0
        );
    }

    #[test]
    fn the_search_on_a_quadratic_meets_the_strong_wolfe_conditions() {
        // f(x) = x², from x = 1 along d = −1 with t = 3 first: bracket, then zoom.
        let (x, d) = ([1.0f64], [-1.0]);
        let mut g = [2.0];
        let mut scratch = [0.0; 5];
        let found = strong_wolfe(
            Line {
                x: &x,
                d: &d,
                f: 1.0,
                g: &mut g,
                gtd: -2.0,
                scratch: &mut scratch,
            },
            3.0,
            25,
            |p: &[f64], g: &mut [f64]| {
                g[0] = 2.0 * p[0];
                Some(p[0] * p[0])
            },
        )
        .unwrap();
        let point = 1.0 - found.t;
        assert_eq!(found.f, point * point);
        assert_eq!(g[0], 2.0 * point);
        assert!(found.f <= 1.0 + C1 * found.t * -2.0);
        assert!(g[0].abs() <= C2 * 2.0);
        assert!(found.evals >= 2);
    }
}
