//! Muon — `torch.optim.Muon` (Jordan et al., "Muon: An optimizer for hidden
//! layers in neural networks", 2024; Liu et al., "Muon is Scalable for LLM
//! Training", 2025, for `match_rms_adamw`).

use super::ops::{self, LerpWeight};
use super::{Gradient, KeyError, Rule, WholeTensor};
use crate::hyper::Check;
use crate::scalar::Scalar;
use half::bf16;

/// The ways `adjust_lr_fn` scales the step for an A×B matrix.
pub const MUON_ADJUSTMENTS: &[&str] = &["original", "match_rms_adamw", "spectral_unclamped"];

crate::hyperparams! {
    /// Muon as `torch.optim.Muon`, for matrices only, per A×B matrix:
    ///
    /// B ← B + (1 − μ)·(g − B) (`lerp`); U = g + μ·(B − g) with nesterov, else B;
    /// O = NS(U): ns_steps Newton–Schulz iterations in bfloat16, X ← X/max(‖X‖, ε),
    /// then G = X·Xᵀ, X ← a·X + (b·G + c·G²)·X (on Uᵀ when A > B);
    /// θ ← θ·(1 − η·wd); θ ← θ − η'·O, with η' = η·√max(1, A/B) (`original`),
    /// 0.2·η·√max(A, B) (`match_rms_adamw`) or η·√(A/B) (`spectral_unclamped`).
    pub struct Muon {
        /// learning rate η
        lr: f64 = 1e-3, Check::NON_NEGATIVE;
        /// decoupled weight decay wd (θ ← θ·(1 − η·wd))
        weight_decay: f64 = 0.1, Check::NON_NEGATIVE;
        /// momentum μ of the buffer B
        momentum: f64 = 0.95, Check::NON_NEGATIVE;
        /// orthogonalise the Nesterov look-ahead g + μ·(B − g) instead of B
        nesterov: bool = true, Check::Any;
        /// the Newton–Schulz coefficients [a, b, c]
        ns_coefficients: Vec<f64> = vec![3.4445, -4.7750, 2.0315], Check::FINITE;
        /// the floor ε of the norm the update is divided by
        eps: f64 = 1e-7, Check::NON_NEGATIVE;
        /// Newton–Schulz iterations (fewer than 100)
        ns_steps: u64 = 5, Check::NON_NEGATIVE;
        /// how the learning rate is scaled to the matrix's shape
        adjust_lr_fn: String = "original".into(), Check::OneOf(MUON_ADJUSTMENTS);
    }
}

impl Muon {
    /// η' for an `rows`×`cols` matrix (in f64, as PyTorch computes it).
    fn adjusted_lr(&self, rows: usize, cols: usize) -> f64 {
        let (a, b) = (rows as f64, cols as f64);
        let ratio = match self.adjust_lr_fn.as_str() {
            "match_rms_adamw" => 0.2 * a.max(b).sqrt(),
            "spectral_unclamped" => (a / b).sqrt(),
            _ => (a / b).max(1.0).sqrt(),
        };
        self.lr * ratio
    }
}

impl Rule for Muon {
    type Coeffs = ();
    const NAME: &'static str = "muon";
    const WHOLE_TENSOR: bool = true;

    crate::rates!(lr, momentum);

    fn constraints(&self) -> Result<(), KeyError> {
        if self.ns_coefficients.len() != 3 {
            return Err(KeyError::Constraint(format!(
                "ns_coefficients must hold exactly 3 values [a,b,c], got {}",
                self.ns_coefficients.len()
            )));
        }
        if self.ns_steps >= 100 {
            return Err(KeyError::Constraint(format!(
                "ns_steps must be less than 100, got {}",
                self.ns_steps
            )));
        }
        Ok(())
    }

    fn check_shape(&self, shape: &[usize]) -> Result<(), String> {
        match shape {
            [rows, cols] if *rows > 0 && *cols > 0 => Ok(()),
            _ => Err(format!(
                "muon steps matrices only (shape [rows, cols]), got a tensor of shape {shape:?}; \
                 give vectors and other tensors a group with another rule (adamw)"
            )),
        }
    }

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("momentum_buffer", 0.0)]
    }

    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}

    #[inline(always)]
    fn step_tensor<T: Scalar, G: Gradient<T>>(&self, _: &(), t: WholeTensor<'_, T>, g: &mut G) {
        let (rows, cols) = (t.shape[0], t.shape[1]);
        let [momentum_buffer] = t.bufs.take();
        let to_grad = LerpWeight::<T>::new(1.0 - self.momentum);
        let to_buffer = LerpWeight::<T>::new(self.momentum);
        let mut update = Vec::with_capacity(t.p.len());
        for (b, g) in momentum_buffer.iter_mut().zip(g.values()) {
            *b = ops::lerp_by(*b, g, to_grad);
            let u = if self.nesterov {
                ops::lerp_by(g, *b, to_buffer)
            } else {
                *b
            };
            update.push(u.widen());
        }
        let [a, b, c] = [0, 1, 2].map(|i| self.ns_coefficients[i] as f32);
        let eps = self.eps as f32;
        let ortho = newton_schulz(&update, rows, cols, [a, b, c], self.ns_steps, eps);
        let shrink = T::of(1.0 - self.lr * self.weight_decay);
        let neg_lr = T::of(-self.adjusted_lr(rows, cols));
        for (p, o) in t.p.iter_mut().zip(ortho) {
            *p = ops::add_scaled(*p * shrink, neg_lr, T::of(f64::from(o)));
        }
    }
}

/// Rounds to bfloat16 (to nearest, ties to even), kept as an `f32`.
fn round_bf16(x: f32) -> f32 {
    bf16::from_f32(x).to_f32()
}

/// PyTorch's `_zeropower_via_newtonschulz` (Muon's orthogonalisation) of
/// the `rows`×`cols` matrix `m`
/// (row-major), in its arithmetic: the matrix is cast to bfloat16 (through
/// f32), every result is rounded to bfloat16, and products accumulate in f32
/// (products of bfloat16 values are exact in f32, so only the order of the
/// sums over k can differ from PyTorch's; it is k's for matrices with fewer
/// than 256 columns). `addmm(C, A, B, beta, alpha)` is `beta·C + alpha·(A·B)`
/// with the first product fused. Returns the result, row-major.
pub fn newton_schulz(
    m: &[f64],
    rows: usize,
    cols: usize,
    [a, b, c]: [f32; 3],
    steps: u64,
    eps: f32,
) -> Vec<f32> {
    let tall = rows > cols;
    // X is r×k with r ≤ k: the matrix, or its transpose when it is tall.
    let (r, k) = if tall { (cols, rows) } else { (rows, cols) };
    let mut x = vec![0.0f32; r * k];
    for i in 0..rows {
        for j in 0..cols {
            let at = if tall { j * k + i } else { i * k + j };
            x[at] = round_bf16(m[i * cols + j] as f32);
        }
    }
    let norm = round_bf16(x.iter().fold(0.0f32, |s, v| v.mul_add(*v, s)).sqrt());
    let norm = round_bf16(norm.max(eps));
    for v in &mut x {
        *v = round_bf16(*v / norm);
    }
    let mut gram = vec![0.0f32; r * r];
    let mut gram_sq = vec![0.0f32; r * r];
    let mut product = vec![0.0f32; r * k];
    for _ in 0..steps {
        matmul(&x, &x, &mut gram, r, k, r, true);
        gram.iter_mut().for_each(|v| *v = round_bf16(*v));
        matmul(&gram, &gram, &mut gram_sq, r, r, r, false);
        for (g, s) in gram.iter_mut().zip(&gram_sq) {
            *g = round_bf16(b.mul_add(*g, c * s));
        }
        matmul(&gram, &x, &mut product, r, r, k, false);
        for (x, p) in x.iter_mut().zip(&product) {
            *x = round_bf16(a.mul_add(*x, *p));
        }
    }
    if !tall {
        return x;
    }
    let mut out = vec![0.0f32; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            out[i * cols + j] = x[j * k + i];
        }
    }
    out
}

/// `out` (m×n) = `lhs` (m×k) · `rhs` (k×n, or n×k read transposed), all row-major.
fn matmul(lhs: &[f32], rhs: &[f32], out: &mut [f32], m: usize, k: usize, n: usize, rhs_t: bool) {
    // Strides of rhs as a k×n matrix.
    let (rsk, rsn) = if rhs_t {
        (1, k as isize)
    } else {
        (n as isize, 1)
    };
    // SAFETY: the slices hold m·k, k·n and m·n values, as the strides describe.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            lhs.as_ptr(),
            k as isize,
            1,
            rhs.as_ptr(),
            rsk,
            rsn,
            0.0,
            out.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}
