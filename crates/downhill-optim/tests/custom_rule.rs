//! A rule defined outside the crate runs through `Optimizer` with everything a
//! built-in rule gets: threads, groups, typed lr and momentum, state
//! save → load → resume, and the non-finite gradient policies.

use downhill_optim::hyper::{Check, KeyError, Value};
use downhill_optim::{
    hyperparams, Bufs, Gradient, NonFinite, Optimizer, Outcome, ParamGroup, Rule, SavedState,
    Scalar, StepError,
};

hyperparams! {
    /// Signum (sign of momentum; Bernstein et al., ICML 2018):
    /// m ← β·m + (1 − β)·g; θ ← θ − η·sign(m).
    pub struct Signum {
        /// learning rate η
        lr: f64 = 0.01, Check::NON_NEGATIVE;
        /// momentum β
        beta: f64 = 0.9, Check::UNIT_HALF_OPEN;
    }
}

impl Rule for Signum {
    type Coeffs = ();
    const NAME: &'static str = "signum";

    fn constraints(&self) -> Result<(), KeyError> {
        if self.lr > 10.0 {
            return Err(KeyError::Constraint("lr must be at most 10".into()));
        }
        Ok(())
    }

    fn buffers(&self) -> Vec<(&'static str, f64)> {
        vec![("momentum", 0.0)]
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.beta)
    }

    fn set_momentum(&mut self, beta: f64) {
        self.beta = beta;
    }

    fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}

    fn apply<T: Scalar, G: Gradient<T>>(&self, _: &(), bufs: Bufs<'_, T>, p: &mut [T], g: &mut G) {
        let (lr, beta, keep) = (T::of(self.lr), T::of(self.beta), T::of(1.0 - self.beta));
        let [m] = bufs.take();
        for ((p, m), g) in p.iter_mut().zip(m.iter_mut()).zip(g.values()) {
            *m = beta * *m + keep * g;
            *p = *p - lr * sign(*m);
        }
    }
}

/// torch.sign: −1, 0 or 1 (NaN stays NaN); Rust's `signum` gives 1 for +0.
fn sign<T: Scalar>(x: T) -> T {
    if x == T::zero() {
        x
    } else {
        x.signum()
    }
}

/// The same rule written as a plain loop, for reference.
fn reference<T: Scalar>(rule: &Signum, p: &mut [T], m: &mut [T], g: &[T]) {
    let (lr, beta, keep) = (T::of(rule.lr), T::of(rule.beta), T::of(1.0 - rule.beta));
    for i in 0..p.len() {
        m[i] = beta * m[i] + keep * g[i];
        p[i] = p[i] - lr * sign(m[i]);
    }
}

fn gradient<T: Scalar>(n: usize, step: usize) -> Vec<T> {
    (0..n)
        .map(|i| T::of((((i * 31 + step * 7) % 97) as f64 - 48.0) / 17.0))
        .collect()
}

fn start<T: Scalar>(n: usize) -> Vec<T> {
    (0..n)
        .map(|i| T::of(((i % 13) as f64 - 6.0) / 5.0))
        .collect()
}

fn bits<T: Scalar>(v: &[T]) -> Vec<u64> {
    v.iter().map(|x| x.widen().to_bits()).collect()
}

fn matches_the_plain_loop<T: Scalar>() {
    let rule = Signum {
        lr: 0.05,
        beta: 0.8,
    };
    let n = 1001;
    let mut opt = Optimizer::<T, Signum>::new(rule.clone(), n).unwrap();
    let (mut p, mut q) = (start::<T>(n), start::<T>(n));
    let mut m = vec![T::zero(); n];
    for step in 0..6 {
        let g = gradient::<T>(n, step);
        assert_eq!(opt.step(&mut p, &g), Ok(Outcome::Applied));
        reference(&rule, &mut q, &mut m, &g);
    }
    assert_eq!(bits(&p), bits(&q));
    assert_eq!(bits(opt.buffer(0, "momentum").unwrap()), bits(&m));
    assert_eq!(opt.steps_taken(0), 6);
}

#[test]
fn a_rule_from_outside_matches_its_plain_loop_in_f32_and_f64() {
    matches_the_plain_loop::<f32>();
    matches_the_plain_loop::<f64>();
}

#[test]
fn a_rule_from_outside_is_validated_at_construction() {
    let err = Optimizer::<f64, Signum>::new(
        Signum {
            lr: -1.0,
            beta: 0.9,
        },
        3,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "signum: lr must be in [0, inf), got -1.0");
    let err = Optimizer::<f64, Signum>::new(
        Signum {
            lr: 11.0,
            beta: 0.9,
        },
        3,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "signum: lr must be at most 10");
    let err = Optimizer::<f64, Signum>::new(Signum { lr: 1.0, beta: 1.0 }, 3).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("signum: beta must be in [0, 1)"),
        "{err}"
    );
}

#[test]
fn results_do_not_depend_on_threads_or_tensor_layout() {
    let sizes = [70_000, 3, 65_537, 1, 100_000, 12];
    let n: usize = sizes.iter().sum();
    let run = |threads: usize, split: bool| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let group = ParamGroup::new(if split { sizes.to_vec() } else { vec![n] });
            let mut opt =
                Optimizer::<f32, Signum>::with_groups(Signum::default(), vec![group]).unwrap();
            let mut p = start::<f32>(n);
            for step in 0..3 {
                let g = gradient::<f32>(n, step);
                if split {
                    let mut rest_p = &mut p[..];
                    let mut rest_g = &g[..];
                    let mut ps = Vec::new();
                    let mut gs = Vec::new();
                    for &len in &sizes {
                        let (a, b) = rest_p.split_at_mut(len);
                        let (c, d) = rest_g.split_at(len);
                        ps.push(a);
                        gs.push(c);
                        rest_p = b;
                        rest_g = d;
                    }
                    opt.step_tensors(&mut ps, &gs).unwrap();
                } else {
                    opt.step(&mut p, &g).unwrap();
                }
            }
            bits(&p)
        })
    };
    let one = run(1, false);
    for threads in [2, 3, 4] {
        assert_eq!(run(threads, false), one, "{threads} threads, one tensor");
        assert_eq!(
            run(threads, true),
            one,
            "{threads} threads, {} tensors",
            sizes.len()
        );
    }
}

#[test]
fn groups_typed_lr_and_momentum() {
    let groups = vec![
        ParamGroup::new(vec![2]),
        ParamGroup::new(vec![2]).with("lr", Value::Float(0.5)),
    ];
    let mut opt =
        Optimizer::<f64, Signum>::with_groups(Signum { lr: 0.1, beta: 0.0 }, groups).unwrap();
    let mut p = [0.0; 4];
    opt.step(&mut p, &[1.0, -1.0, 1.0, -1.0]).unwrap();
    assert_eq!(p, [-0.1, 0.1, -0.5, 0.5]);
    assert_eq!((opt.lr(0), opt.lr(1)), (0.1, 0.5));
    opt.set_lr(1, 0.25).unwrap();
    assert_eq!(opt.lr(1), 0.25);
    assert!(opt.set_lr(0, -1.0).is_err());
    assert!(opt.set_lr(0, f64::NAN).is_err());
    assert_eq!(opt.lr(0), 0.1, "a refused lr changes nothing");
    opt.set_momentum_all(0.5).unwrap();
    assert_eq!((opt.momentum(0), opt.momentum(1)), (Some(0.5), Some(0.5)));
    assert!(opt.set_momentum_all(1.5).is_err());
    assert_eq!(
        opt.momentum(1),
        Some(0.5),
        "a refused momentum changes nothing"
    );
}

#[test]
fn save_load_resume_is_bit_identical() {
    let n = 257;
    let groups = vec![
        ParamGroup::new(vec![200]),
        ParamGroup::new(vec![57]).with("beta", Value::Float(0.5)),
    ];
    let mut straight = Optimizer::<f64, Signum>::with_groups(Signum::default(), groups).unwrap();
    let mut p = start::<f64>(n);
    for step in 0..4 {
        straight.step(&mut p, &gradient(n, step)).unwrap();
    }
    let text = serde_json::to_string(&straight.save().unwrap()).unwrap();
    assert!(
        text.contains("\"signum\"") || text.contains("\"beta\""),
        "{text}"
    );
    let saved: SavedState<f64, Signum> = serde_json::from_str(&text).unwrap();
    let mut resumed = Optimizer::<f64, Signum>::from_saved(saved).unwrap();
    assert_eq!(resumed, straight);
    let mut q = p.clone();
    for step in 4..9 {
        straight.step(&mut p, &gradient(n, step)).unwrap();
        resumed.step(&mut q, &gradient(n, step)).unwrap();
    }
    assert_eq!(bits(&p), bits(&q));
    assert_eq!(resumed, straight);
}

#[test]
fn load_keeps_the_non_finite_policy() {
    let saved = Optimizer::<f64, Signum>::new(Signum::default(), 3)
        .unwrap()
        .save()
        .unwrap();
    let mut opt = Optimizer::<f64, Signum>::new(Signum::default(), 3).unwrap();
    opt.set_non_finite(NonFinite::Skip);
    opt.load(saved).unwrap();
    assert_eq!(opt.non_finite(), NonFinite::Skip);
    let mut p = [1.0, 2.0, 3.0];
    let outcome = opt.step(&mut p, &[f64::NAN, 1.0, 1.0]).unwrap();
    assert!(matches!(outcome, Outcome::Skipped { .. }), "{outcome:?}");
    assert_eq!(p, [1.0, 2.0, 3.0]);
}

#[test]
fn every_non_finite_policy_applies_to_a_rule_from_outside() {
    let n = 50;
    let mut g = gradient::<f64>(n, 0);
    g[3] = f64::NAN;
    g[40] = f64::NEG_INFINITY;
    let fresh = || Optimizer::<f64, Signum>::new(Signum::default(), n).unwrap();

    for policy in [NonFinite::Error, NonFinite::Skip] {
        let mut opt = fresh();
        opt.set_non_finite(policy);
        let mut p = start::<f64>(n);
        let result = opt.step(&mut p, &g);
        match policy {
            NonFinite::Error => assert!(
                matches!(result, Err(StepError::NonFiniteGradient { index: 3, value }) if value.is_nan()),
                "{result:?}"
            ),
            _ => assert!(
                matches!(result, Ok(Outcome::Skipped { index: 3, value }) if value.is_nan()),
                "{result:?}"
            ),
        }
        assert_eq!(
            bits(&p),
            bits(&start::<f64>(n)),
            "{policy:?} changed the parameters"
        );
        assert_eq!(opt, fresh(), "{policy:?} changed the state");
        assert_eq!(opt.steps_taken(0), 0);
    }

    let mut zeroed = fresh();
    zeroed.set_non_finite(NonFinite::Zero);
    let mut p = start::<f64>(n);
    assert_eq!(zeroed.step(&mut p, &g), Ok(Outcome::Zeroed { count: 2 }));
    let mut cleaned = g.clone();
    cleaned[3] = 0.0;
    cleaned[40] = 0.0;
    let mut expected = fresh();
    let mut q = start::<f64>(n);
    expected.step(&mut q, &cleaned).unwrap();
    assert_eq!(bits(&p), bits(&q));
    assert_eq!(zeroed, expected);

    let mut propagated = fresh();
    propagated.set_non_finite(NonFinite::Propagate);
    let mut p = start::<f64>(n);
    assert_eq!(propagated.step(&mut p, &g), Ok(Outcome::Applied));
    // PyTorch's semantics: the bad values flow into the state and the parameters.
    let m = propagated.buffer(0, "momentum").unwrap();
    assert!(m[3].is_nan() && m[40] == f64::NEG_INFINITY);
    assert!(p[3].is_nan());
    assert_eq!(p[40], start::<f64>(n)[40] + 0.01);
    assert!(p.iter().enumerate().all(|(i, x)| i == 3 || x.is_finite()));
}
