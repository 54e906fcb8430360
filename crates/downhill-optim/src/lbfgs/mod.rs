//! L-BFGS — `torch.optim.LBFGS` (Liu & Nocedal, "On the limited memory BFGS
//! method for large scale optimization", Math. Programming 45, 1989), with
//! PyTorch's optional strong-Wolfe line search (Nocedal & Wright,
//! *Numerical Optimization*, Algorithms 3.5 and 3.6).

mod memory;
mod vector;
mod wolfe;

use self::memory::{Memory, Undo};
use self::vector::{abs_max, abs_sum, axpy, dot};
use self::wolfe::{strong_wolfe, Line};
use super::{Bufs, Gradient, ObjectiveRun, Rule};
use crate::hyper::Check;
use crate::scalar::Scalar;

/// The line searches `line_search_fn` can name (PyTorch's `None` is `none`).
pub const LINE_SEARCHES: &[&str] = &["none", "strong_wolfe"];

/// The largest history_size accepted (it sizes the state: 2·n per pair).
const MAX_HISTORY: f64 = 65536.0;

/// `ys` must exceed this for a pair to enter the history.
const CURVATURE_FLOOR: f64 = 1e-10;

crate::hyperparams! {
    /// L-BFGS as `torch.optim.LBFGS` (PyTorch 2.15): one step is one
    /// `step(closure)`, up to max_iter iterations of
    ///
    /// d ← −H·g by the two-loop recursion over the last history_size pairs
    /// (s = t·d, y = Δg, kept when yᵀs > 1e-10; H₀ = yᵀs/yᵀy, the newest
    /// pair's); t ← lr (min(1, 1/‖g‖₁)·lr on the run's very first iteration),
    /// or the strong-Wolfe search from there; θ ← θ + t·d.
    ///
    /// The step stops early when max|g| ≤ tolerance_grad, gᵀd > −tolerance_change,
    /// max|t·d| ≤ tolerance_change, |Δloss| < tolerance_change, or after
    /// max_eval evaluations; without a line search the last iteration does
    /// not evaluate again. It evaluates the objective itself, so it only runs
    /// through [`Optimizer::step_with`](crate::Optimizer::step_with), on one
    /// parameter group, and returns the loss of its first evaluation. Dot
    /// products and sums run in the element type in a fixed order (not
    /// BLAS's), the scalar logic in f64.
    pub struct Lbfgs {
        /// learning rate: the step length t before any line search
        lr: f64 = 1.0, Check::NON_NEGATIVE;
        /// most iterations per step
        max_iter: u64 = 20, Check::Range { lo: 1.0, lo_open: false, hi: 1e9, hi_open: false };
        /// most objective evaluations per step; 0 means max_iter*5//4 (PyTorch's None)
        max_eval: u64 = 0, Check::Range { lo: 0.0, lo_open: false, hi: 1e9, hi_open: false };
        /// stop when max|g| is at most this
        tolerance_grad: f64 = 1e-7, Check::NON_NEGATIVE;
        /// stop when the loss, the step or gᵀd changes less than this
        tolerance_change: f64 = 1e-9, Check::NON_NEGATIVE;
        /// pairs (s, y) kept (the state holds 2·history_size + 2 vectors)
        history_size: u64 = 100, Check::Range { lo: 1.0, lo_open: false, hi: MAX_HISTORY, hi_open: false };
        /// line search: none (fixed step lr) or strong_wolfe
        line_search_fn: String = "none".into(), Check::OneOf(LINE_SEARCHES);
        /// maximize the objective instead of minimizing it
        maximize: bool = false, Check::Any;
    }
}

impl Lbfgs {
    /// max_eval, with 0 read as PyTorch's default max_iter*5//4.
    pub fn max_evals(&self) -> u64 {
        match self.max_eval {
            0 => self.max_iter * 5 / 4,
            given => given,
        }
    }

    fn history(&self) -> usize {
        self.history_size as usize
    }
}

/// The scalar state, in [`Rule::scalars`] order.
const SCALARS: [(&str, f64); 7] = [
    ("func_evals", 0.0),
    ("n_iter", 0.0),
    ("t", 0.0),
    ("h_diag", 1.0),
    ("prev_loss", 0.0),
    ("history", 0.0),
    ("head", 0.0),
];

/// PyTorch's per-optimizer state besides the vectors.
struct Scalars {
    func_evals: f64,
    n_iter: f64,
    t: f64,
    h_diag: f64,
    prev_loss: f64,
}

impl Scalars {
    fn read(s: &[f64]) -> Self {
        Scalars {
            func_evals: s[0],
            n_iter: s[1],
            t: s[2],
            h_diag: s[3],
            prev_loss: s[4],
        }
    }

    fn write(&self, memory: &Memory<'_, impl Scalar>, s: &mut [f64]) {
        s[..7].copy_from_slice(&[
            self.func_evals,
            self.n_iter,
            self.t,
            self.h_diag,
            self.prev_loss,
            memory.len as f64,
            memory.head as f64,
        ]);
    }
}

impl Rule for Lbfgs {
    type Coeffs = ();
    const NAME: &'static str = "lbfgs";
    const NEEDS_OBJECTIVE: bool = true;

    crate::rates!(lr);

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    fn scalars(&self) -> Vec<(&'static str, f64)> {
        SCALARS.to_vec()
    }

    fn extra_len(&self, shapes: &[Vec<usize>]) -> usize {
        let n = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
        memory::extra_len(n, self.history())
    }

    // The elementwise part is never called: the optimizer steps a rule that
    // needs the objective through step_objective only.
    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}

    fn apply<T: Scalar, G: Gradient<T>>(&self, _: &(), _: Bufs<'_, T>, _: &mut [T], _: &mut G) {}

    fn step_objective<T: Scalar, F: FnMut(&[T], &mut [T]) -> Option<T>>(
        &self,
        run: ObjectiveRun<'_, T>,
        objective: F,
    ) -> Option<T> {
        let ObjectiveRun {
            p,
            grad,
            scalars,
            extra,
            undo,
        } = run;
        let n = p.len();
        let mut objective = objective;
        if n == 0 {
            // Nothing to optimise: PyTorch evaluates and returns.
            return objective(p, grad);
        }
        let mut memory = Memory::new(extra, n, self.history(), scalars[5], scalars[6]);
        let mut saved = undo.then(|| Undo::take(p, scalars, &mut memory));
        let ran = self.run(
            Step {
                p: &mut *p,
                g: grad,
                scalars: &mut *scalars,
                memory: &mut memory,
                undo: saved.as_mut(),
            },
            &mut objective,
        );
        if ran.is_none() {
            if let Some(saved) = saved {
                saved.restore(p, scalars, &mut memory);
            }
        }
        ran
    }
}

/// One step's view of the group.
struct Step<'a, 'm, T> {
    p: &'a mut [T],
    g: &'a mut [T],
    scalars: &'a mut [f64],
    memory: &'a mut Memory<'m, T>,
    undo: Option<&'a mut Undo<T>>,
}

impl Lbfgs {
    /// `LBFGS.step(closure)`; `None` when the objective stopped it.
    fn run<T: Scalar, F: FnMut(&[T], &mut [T]) -> Option<T>>(
        &self,
        step: Step<'_, '_, T>,
        objective: &mut F,
    ) -> Option<T> {
        let Step {
            p,
            g,
            scalars,
            memory,
            mut undo,
        } = step;
        let n = p.len();
        let maximize = self.maximize;
        // The loss as L-BFGS sees it (negated to maximize), and the gradient likewise.
        let mut evaluate = |point: &[T], g: &mut [T]| -> Option<(T, f64)> {
            let loss = objective(point, g)?;
            if maximize {
                g.iter_mut().for_each(|x| *x = -*x);
                return Some((loss, -loss.widen()));
            }
            Some((loss, loss.widen()))
        };
        let mut state = Scalars::read(scalars);
        let max_eval = self.max_evals();
        let (orig_loss, mut loss) = evaluate(p, g)?;
        let mut current_evals = 1;
        state.func_evals += 1.0;
        let below = |g: &[T]| abs_max(g.iter().copied()).widen() <= self.tolerance_grad;
        if below(g) {
            state.write(memory, scalars);
            return Some(orig_loss);
        }
        let (mut scratch, mut pair) = (Vec::new(), Vec::new());
        let mut al = vec![T::zero(); memory.len.max(1)];
        let mut t = state.t;
        let mut n_iter = 0;
        while n_iter < self.max_iter {
            n_iter += 1;
            state.n_iter += 1.0;
            // The direction.
            if state.n_iter == 1.0 {
                for (d, &g) in memory.d.iter_mut().zip(g.iter()) {
                    *d = -g;
                }
                memory.clear();
                state.h_diag = 1.0;
            } else {
                let step = T::of(t);
                // y = g − prev, s = t·d: the newest pair, kept if yᵀs > 1e-10.
                if pair.is_empty() {
                    pair = vec![T::zero(); 2 * n];
                }
                let (y, s) = pair.split_at_mut(n);
                for ((y, s), ((&g, &prev), &d)) in y
                    .iter_mut()
                    .zip(s.iter_mut())
                    .zip(g.iter().zip(memory.prev.iter()).zip(memory.d.iter()))
                {
                    *y = g - prev;
                    *s = d * step;
                }
                let ys = dot(y, s);
                if ys.widen() > CURVATURE_FLOOR {
                    memory.push(y, s, ys, undo.as_deref_mut());
                    let (y, _, _) = memory.pair(memory.len - 1);
                    state.h_diag = (ys / dot(y, y)).widen();
                }
                if al.len() < memory.len {
                    al.resize(memory.len, T::zero());
                }
                two_loop(memory, g, T::of(state.h_diag), &mut al);
            }
            memory.prev.copy_from_slice(g);
            state.prev_loss = loss;
            // The step length.
            t = if state.n_iter == 1.0 {
                let inverse = 1.0 / abs_sum(g).widen();
                (if inverse < 1.0 { inverse } else { 1.0 }) * self.lr
            } else {
                self.lr
            };
            let gtd = dot(g, memory.d).widen();
            if gtd > -self.tolerance_change {
                break;
            }
            let mut ls_func_evals = 0;
            let opt_cond;
            if self.line_search_fn == "strong_wolfe" {
                if scratch.is_empty() {
                    scratch = vec![T::zero(); 5 * n];
                }
                let found = strong_wolfe(
                    Line {
                        x: p,
                        d: memory.d,
                        f: loss,
                        g,
                        gtd,
                        scratch: &mut scratch,
                    },
                    t,
                    max_eval.saturating_sub(current_evals),
                    |point: &[T], g: &mut [T]| evaluate(point, g).map(|(_, f)| f),
                )?;
                (loss, t, ls_func_evals) = (found.f, found.t, found.evals);
                axpy(p, T::of(t), memory.d);
                opt_cond = below(g);
            } else {
                axpy(p, T::of(t), memory.d);
                if n_iter != self.max_iter {
                    // Not on the last iteration: in a stochastic setting there
                    // is no use in evaluating again.
                    loss = evaluate(p, g)?.1;
                    ls_func_evals = 1;
                    opt_cond = below(g);
                } else {
                    opt_cond = false;
                }
            }
            current_evals += ls_func_evals;
            state.func_evals += ls_func_evals as f64;
            // Conditions.
            if n_iter == self.max_iter || current_evals >= max_eval || opt_cond {
                break;
            }
            let step = T::of(t);
            if abs_max(memory.d.iter().map(|&d| d * step)).widen() <= self.tolerance_change {
                break;
            }
            if (loss - state.prev_loss).abs() < self.tolerance_change {
                break;
            }
        }
        state.t = t;
        state.write(memory, scalars);
        Some(orig_loss)
    }
}

/// d ← −H·g by the two-loop recursion (PyTorch's one-buffer form), H₀ = h_diag.
fn two_loop<T: Scalar>(memory: &mut Memory<'_, T>, g: &[T], h_diag: T, al: &mut [T]) {
    let q = std::mem::take(&mut memory.d);
    for (q, &g) in q.iter_mut().zip(g) {
        *q = -g;
    }
    for i in (0..memory.len).rev() {
        let (y, s, ro) = memory.pair(i);
        al[i] = dot(s, q) * ro;
        axpy(q, -al[i], y);
    }
    for q in q.iter_mut() {
        *q = *q * h_diag;
    }
    for (i, &al_i) in al[..memory.len].iter().enumerate() {
        let (y, s, ro) = memory.pair(i);
        let be_i = dot(y, q) * ro;
        axpy(q, al_i - be_i, s);
    }
    memory.d = q;
}
