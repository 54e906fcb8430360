//! Adafactor — `torch.optim.Adafactor` (Shazeer & Stern, "Adafactor:
//! Adaptive Learning Rates with Sublinear Memory Cost", ICML 2018).

use super::ops::{self, LerpWeight, Squares};
use super::{Gradient, Rule, WholeTensor};
use crate::hyper::Check;
use crate::scalar::Scalar;

crate::hyperparams! {
    /// Adafactor as `torch.optim.Adafactor`, per tensor of n elements:
    ///
    /// g ← ±∇; β̂ = t^beta2_decay; ρ = min(η, 1/√t); α = max(ε₂, ‖θ‖/√n)·ρ
    /// (the RMS before decay); θ ← θ·(1 − η·wd);
    /// matrices (the last two dimensions, R rows × C columns): r ← lerp(r, ‖g_row‖²/C, β̂),
    /// c ← lerp(c, ‖g_col‖²/R, β̂), v̂ = r·cᵀ / max(mean(r), ε₁);
    /// vectors: v ← lerp(v, g², β̂), v̂ = v;
    /// u = g/√max(v̂, ε₁²); θ ← θ − α/max(1, ‖u‖/(√n·d))·u.
    /// (ε₁ unset — `eps1=none` — is the dtype's machine epsilon.)
    pub struct Adafactor {
        /// learning rate η (the relative step is min(η, 1/√t))
        lr: f64 = 1e-2, Check::NON_NEGATIVE;
        /// the decay exponent: 1 − β₂ at step t is t^beta2_decay
        beta2_decay: f64 = -0.8, Check::Range { lo: f64::NEG_INFINITY, lo_open: true, hi: 0.0, hi_open: false };
        /// floor ε₁ of the second-moment estimate (none: the dtype's epsilon)
        eps1: Option<f64> = None, Check::NON_NEGATIVE;
        /// floor ε₂ of the parameters' RMS in the step size
        eps2: f64 = 1e-3, Check::NON_NEGATIVE;
        /// clipping threshold d of the update's RMS
        d: f64 = 1.0, Check::Range { lo: 1.0, lo_open: false, hi: f64::INFINITY, hi_open: true };
        /// decoupled weight decay wd (θ ← θ·(1 − η·wd))
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

/// The scalars of one step: 1 − β₂ₜ and the relative step ρ.
#[derive(Clone, Copy, Debug)]
pub struct AdafactorStep {
    pub one_minus_beta2: f64,
    pub rho: f64,
}

/// A tensor as Adafactor factors it: `batch` matrices of `rows`×`cols`
/// (a vector is one row, not factored).
struct Factors {
    batch: usize,
    rows: usize,
    cols: usize,
    factored: bool,
}

impl Factors {
    fn of(shape: &[usize]) -> Self {
        match shape {
            [.., rows, cols] => Factors {
                batch: shape[..shape.len() - 2].iter().product(),
                rows: *rows,
                cols: *cols,
                factored: true,
            },
            _ => Factors {
                batch: 1,
                rows: 1,
                cols: shape.iter().product(),
                factored: false,
            },
        }
    }

    /// Values of state: R + C per matrix, n for a vector.
    fn state_len(&self) -> usize {
        if self.factored {
            self.batch * (self.rows + self.cols)
        } else {
            self.cols
        }
    }
}

/// ‖x‖ in `T`, summed as [`Squares`] sums.
#[inline(always)]
fn norm<T: Scalar>(x: impl ExactSizeIterator<Item = T>) -> T {
    let mut squares = Squares::new(x.len());
    for (i, v) in x.enumerate() {
        squares.add(0, i, v.widen());
    }
    T::of(squares.totals()[0].sqrt())
}

impl Adafactor {
    /// The moment estimate v̂ of every element, updating the state `extra`.
    #[inline(always)]
    fn estimate<T: Scalar>(
        &self,
        f: &Factors,
        g: &[T],
        extra: &mut [T],
        w: LerpWeight<T>,
    ) -> Vec<T> {
        if !f.factored {
            for (v, g) in extra.iter_mut().zip(g) {
                *v = ops::lerp_by(*v, *g * *g, w);
            }
            return extra.to_vec();
        }
        let eps1 = T::of(self.eps1.unwrap_or(T::epsilon().widen()));
        let (rows, cols) = (f.rows, f.cols);
        let (row_vars, col_vars) = extra.split_at_mut(f.batch * rows);
        let mut estimate = Vec::with_capacity(g.len());
        for ((g, row_var), col_var) in g
            .chunks(rows * cols)
            .zip(row_vars.chunks_mut(rows))
            .zip(col_vars.chunks_mut(cols))
        {
            for (i, r) in row_var.iter_mut().enumerate() {
                let row = norm(g[i * cols..(i + 1) * cols].iter().copied());
                *r = ops::lerp_by(*r, row * row / T::of(cols as f64), w);
            }
            // Column sums of squares row by row (one pass in memory order),
            // each a chain of fused multiply-adds down its column.
            let mut col_squares = vec![0.0f64; cols];
            for row in g.chunks(cols) {
                for (s, g) in col_squares.iter_mut().zip(row) {
                    *s = g.widen().mul_add(g.widen(), *s);
                }
            }
            for (c, s) in col_var.iter_mut().zip(&col_squares) {
                let col = T::of(s.sqrt());
                *c = ops::lerp_by(*c, col * col / T::of(rows as f64), w);
            }
            let sum = row_var.iter().fold(T::zero(), |s, r| s + *r);
            let mean = (sum / T::of(rows as f64)).max(eps1);
            for r in row_var.iter() {
                estimate.extend(col_var.iter().map(|c| *r * *c / mean));
            }
        }
        estimate
    }
}

impl Rule for Adafactor {
    type Coeffs = AdafactorStep;
    const NAME: &'static str = "adafactor";
    const WHOLE_TENSOR: bool = true;

    crate::rates!(lr);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    fn extra_len(&self, shapes: &[Vec<usize>]) -> usize {
        shapes.iter().map(|s| Factors::of(s).state_len()).sum()
    }

    fn begin_step(&self, step: u64, _scalars: &mut [f64]) -> AdafactorStep {
        let t = step as f64;
        AdafactorStep {
            one_minus_beta2: t.powf(self.beta2_decay),
            rho: self.lr.min(1.0 / t.sqrt()),
        }
    }

    #[inline(always)]
    fn step_tensor<T: Scalar, G: Gradient<T>>(
        &self,
        c: &AdafactorStep,
        t: WholeTensor<'_, T>,
        g: &mut G,
    ) {
        let g: Vec<T> = g
            .values()
            .map(|g| if self.maximize { -g } else { g })
            .collect();
        let n = (t.p.len() as f64).sqrt();
        let rms = norm(t.p.iter().copied()).widen() / n;
        let alpha = self.eps2.max(rms) * c.rho;
        if self.weight_decay != 0.0 {
            let shrink = T::of(1.0 - self.lr * self.weight_decay);
            t.p.iter_mut().for_each(|p| *p = *p * shrink);
        }
        let factors = Factors::of(t.shape);
        let w = LerpWeight::new(c.one_minus_beta2);
        let mut update = self.estimate(&factors, &g, t.extra, w);
        let eps1 = T::of(self.eps1.unwrap_or(T::epsilon().widen()));
        let floor = eps1 * eps1;
        for (u, g) in update.iter_mut().zip(&g) {
            *u = T::one() / u.max(floor).sqrt() * *g;
        }
        let denom = 1f64.max(norm(update.iter().copied()).widen() / (n * self.d));
        let step = T::of(-alpha / denom);
        for (p, u) in t.p.iter_mut().zip(&update) {
            *p = ops::add_scaled(*p, step, *u);
        }
    }
}
