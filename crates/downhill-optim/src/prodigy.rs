//! Prodigy — `prodigyopt.Prodigy` 1.1.2 (Mishchenko & Defazio, "Prodigy: An
//! Expeditiously Adaptive Parameter-Free Learner", ICML 2024).

use super::ops::{self, specialize};
use super::{Bufs, Gradient, Rule};
use crate::hyper::{Check, KeyError};
use crate::scalar::Scalar;
use crate::scalar::{py_max, py_min};

crate::hyperparams! {
    /// Prodigy as in prodigyopt 1.1.2 (`Prodigy`): Adam whose step size is
    /// d·η, d estimated from sums over all of the group's elements (every
    /// slice_p-th entry of each tensor):
    ///
    /// g ← ∇ (+ wd·θ unless decouple); at step 1 θ₀ ← θ; ĉ = √(1 − β₂ᵏ⁺¹)/(1 − β₁ᵏ⁺¹)
    /// with use_bias_correction (else 1); dη = d·η·ĉ;
    /// r ← β₃·r + (d/d₀)·dη·⟨g, θ₀ − θ⟩; s ← β₃·s + (d/d₀)·(d if safeguard_warmup else dη)·g;
    /// d̂ = d_coef·r/Σ|s|; d ← max(d, d̂) while d = d₀; d_max ← max(d_max, d̂);
    /// d' = min(d_max, growth_rate·d);
    /// m ← β₁·m + d(1 − β₁)·g; v ← β₂·v + d²(1 − β₂)·g²;
    /// θ ← θ − wd·dη·θ with decouple; θ ← θ − dη·m/(√v + d'·ε) (β₁ = 0: dη·d'·g/(√v + d'·ε)).
    /// β₃ defaults to √β₂. Each parameter group keeps its own d (prodigyopt
    /// shares one over all groups); a step with Σ|s| = 0 (or η = 0) updates
    /// only the moments, as prodigyopt's early return does. With slice_p > 1
    /// the buffers s and θ₀ stay full length; only every slice_p-th entry is used.
    pub struct Prodigy {
        /// learning rate η, a multiplier of the estimated step size d
        lr: f64 = 1.0, Check::NON_NEGATIVE;
        /// decay β₁ of the first moment
        beta1: f64 = 0.9, Check::UNIT_HALF_OPEN;
        /// decay β₂ of the second moment
        beta2: f64 = 0.999, Check::UNIT_HALF_OPEN;
        /// decay β₃ of the sums that estimate d (none: √β₂)
        beta3: Option<f64> = None, Check::UNIT;
        /// term ε·d added to the root (outside it)
        eps: f64 = 1e-8, Check::POSITIVE;
        /// weight decay: decoupled (θ ← θ − wd·dη·θ) with decouple, else L2 added to the gradient
        weight_decay: f64 = 0.0, Check::NON_NEGATIVE;
        /// decay the weights directly (AdamW style) instead of adding wd·θ to the gradient
        decouple: bool = true, Check::Any;
        /// Adam's bias correction √(1 − β₂ᵏ⁺¹)/(1 − β₁ᵏ⁺¹) in the step size
        use_bias_correction: bool = false, Check::Any;
        /// leave η out of the sum s (against a too large d during warm-up)
        safeguard_warmup: bool = false, Check::Any;
        /// initial estimate d₀ of d
        d0: f64 = 1e-6, Check::POSITIVE;
        /// multiplier of the estimate d̂
        d_coef: f64 = 1.0, Check::POSITIVE;
        /// most d may grow per step, as a factor (none: unrestricted)
        growth_rate: Option<f64> = None, Check::POSITIVE;
        /// sharded parameters (FSDP); not supported: must be false
        fsdp_in_use: bool = false, Check::Any;
        /// estimate d from every slice_p-th entry of each tensor only
        slice_p: u64 = 1, Check::Range { lo: 1.0, lo_open: false, hi: f64::INFINITY, hi_open: true };
    }
}

/// Coefficients of [`Prodigy`] for one step.
#[derive(Clone, Copy, Debug)]
pub struct ProdigyStep {
    /// The estimate d at the start of the step (the moments' scale).
    pub d: f64,
    /// The step size dη = d·η·ĉ.
    pub dlr: f64,
    /// The gradient's weight in s: (d/d₀)·dη, or (d/d₀)·d with safeguard_warmup.
    pub s_weight: f64,
    /// The estimate after this step's update (in ε·d and with β₁ = 0).
    pub d_next: f64,
    /// Step 1: θ₀ is recorded.
    pub first: bool,
    /// η > 0: the step does anything besides recording θ₀.
    pub active: bool,
    /// Σ|s| > 0: the parameters are updated (else only the moments).
    pub update: bool,
}

/// The per-group scalars, in [`Rule::scalars`] order.
const D: usize = 0;
const D_MAX: usize = 1;
const D_NUMERATOR: usize = 2;
const K: usize = 3;

/// The sums over the group: ⟨g, θ₀ − θ⟩ and Σ|s|.
const DOT: usize = 0;
const S_ABS: usize = 1;

impl Prodigy {
    /// β₃, or √β₂ when unset.
    fn beta3(&self) -> f64 {
        self.beta3.unwrap_or_else(|| self.beta2.sqrt())
    }

    fn coupled_decay(&self) -> bool {
        self.weight_decay != 0.0 && !self.decouple
    }
}

impl Rule for Prodigy {
    type Coeffs = ProdigyStep;
    const NAME: &'static str = "prodigy";
    const GROUP_SUMS: usize = 2;

    crate::rates!(lr, beta1);

    fn constraints(&self) -> Result<(), KeyError> {
        if self.fsdp_in_use {
            return Err(KeyError::Constraint(
                "fsdp_in_use=true is not supported: downhill does not shard parameters, \
                 so every group's sums already cover all of its elements (leave it false)"
                    .into(),
            ));
        }
        Ok(())
    }

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        let mut names = Vec::new();
        if self.beta1 > 0.0 {
            names.push(("exp_avg", 0.0));
        }
        names.extend([("exp_avg_sq", 0.0), ("s", 0.0), ("p0", 0.0)]);
        names
    }

    fn scalars(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("d", self.d0),
            ("d_max", self.d0),
            ("d_numerator", 0.0),
            ("k", 0.0),
        ]
    }

    fn begin_step(&self, step: u64, scalars: &mut [f64]) -> ProdigyStep {
        let (d, k) = (scalars[D], scalars[K]);
        let bias_correction = if self.use_bias_correction {
            (1.0 - self.beta2.powf(k + 1.0)).powf(0.5) / (1.0 - self.beta1.powf(k + 1.0))
        } else {
            1.0
        };
        let dlr = d * self.lr * bias_correction;
        let s_weight = (d / self.d0) * if self.safeguard_warmup { d } else { dlr };
        ProdigyStep {
            d,
            dlr,
            s_weight,
            d_next: d,
            first: step == 1,
            active: self.lr > 0.0,
            update: false,
        }
    }

    /// Records θ₀ at step 1, updates s, and sums ⟨g, θ₀ − θ⟩ and Σ|s| over
    /// every slice_p-th entry of the tensor.
    #[inline(always)]
    fn sum<T: Scalar, G: Gradient<T>>(
        &self,
        c: &ProdigyStep,
        _shape: &[usize],
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
        sums: &mut ops::Squares,
    ) {
        // After exp_avg (when β₁ > 0) and exp_avg_sq.
        let mut slices = bufs.into_slices().skip(1 + usize::from(self.beta1 > 0.0));
        let s = slices.next().expect("s");
        let p0 = slices.next().expect("p0");
        if c.first {
            p0.copy_from_slice(p);
        }
        if !c.active {
            return;
        }
        let slice_p = self.slice_p as usize;
        let first = (slice_p - sums.index_in_tensor(0) % slice_p) % slice_p;
        let (beta3, s_weight) = (T::of(self.beta3()), T::of(c.s_weight));
        let wd = T::of(self.weight_decay);
        specialize!([COUPLED = self.coupled_decay()] {
            for i in (first..p.len()).step_by(slice_p) {
                let g = ops::grad::<T, false, COUPLED>(p[i], g.get(i), wd);
                sums.add_product(DOT, i, g.widen(), (p0[i] - p[i]).widen());
                s[i] = ops::add_scaled(s[i] * beta3, s_weight, g);
                sums.add_product(S_ABS, i, s[i].abs().widen(), 1.0);
            }
        });
    }

    /// The new d from the sums; the scalar state as prodigyopt leaves it.
    fn group_coeffs(&self, c: &ProdigyStep, sums: &[f64], scalars: &mut [f64]) -> ProdigyStep {
        let d_denom = sums[S_ABS];
        if !c.active || d_denom == 0.0 {
            return *c;
        }
        let delta_numerator = (c.d / self.d0) * c.dlr * sums[DOT];
        let numerator = scalars[D_NUMERATOR] * self.beta3() + delta_numerator;
        let d_hat = self.d_coef * numerator / d_denom;
        let mut d = c.d;
        if d == self.d0 {
            d = py_max(d, d_hat);
        }
        let d_max = py_max(scalars[D_MAX], d_hat);
        d = py_min(d_max, d * self.growth_rate.unwrap_or(f64::INFINITY));
        scalars[D] = d;
        scalars[D_MAX] = d_max;
        scalars[D_NUMERATOR] = numerator;
        scalars[K] += 1.0;
        ProdigyStep {
            d_next: d,
            update: true,
            ..*c
        }
    }

    /// The moments, then (unless the step only updates them) decay and step.
    #[inline(always)]
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        c: &ProdigyStep,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    ) {
        if !c.active {
            return;
        }
        let n = g.len();
        let p = &mut p[..n];
        let mut slices = bufs.into_slices();
        let exp_avg = if self.beta1 > 0.0 {
            &mut slices.next().expect("exp_avg")[..n]
        } else {
            &mut []
        };
        let exp_avg_sq = &mut slices.next().expect("exp_avg_sq")[..n];
        let (beta1, beta2) = (T::of(self.beta1), T::of(self.beta2));
        let m_weight = T::of(c.d * (1.0 - self.beta1));
        let v_weight = T::of(c.d * c.d * (1.0 - self.beta2));
        let eps_d = T::of(c.d_next * self.eps);
        let shrink = T::of(-self.weight_decay * c.dlr);
        let neg_dlr = T::of(-c.dlr);
        let neg_dlr_d = T::of(-c.dlr * c.d_next);
        let wd = T::of(self.weight_decay);
        specialize!([COUPLED = self.coupled_decay(),
            DECOUPLED = self.weight_decay != 0.0 && self.decouple,
            MOMENTUM = self.beta1 > 0.0,
            UPDATE = c.update] {
            for i in 0..n {
                let g = ops::grad::<T, false, COUPLED>(p[i], g.get(i), wd);
                if MOMENTUM {
                    exp_avg[i] = ops::add_scaled(exp_avg[i] * beta1, m_weight, g);
                }
                exp_avg_sq[i] = ops::addcmul(exp_avg_sq[i] * beta2, v_weight, g, g);
                if UPDATE {
                    let denom = exp_avg_sq[i].sqrt() + eps_d;
                    if DECOUPLED {
                        p[i] = ops::add_scaled(p[i], shrink, p[i]);
                    }
                    p[i] = if MOMENTUM {
                        ops::addcdiv(p[i], neg_dlr, exp_avg[i], denom)
                    } else {
                        ops::addcdiv(p[i], neg_dlr_d, g, denom)
                    };
                }
            }
        });
    }
}
