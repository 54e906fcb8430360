//! L-BFGS's behaviour besides its trajectories (tests/lbfgs_golden.rs):
//! exact resume, the non-finite policies, one group only, validation.

use downhill_optim::hyper::Value;
use downhill_optim::{build, Lbfgs, NonFinite, Optimizer, Outcome, ParamGroup, StepError};

/// The extended Rosenbrock function on 6 elements.
fn rosenbrock(v: &[f64], g: &mut [f64]) -> f64 {
    let mut f = 0.0;
    for i in (0..v.len()).step_by(2) {
        let (a, b) = (1.0 - v[i], v[i + 1] - v[i] * v[i]);
        f += a * a + 100.0 * b * b;
        g[i] = -2.0 * a - 400.0 * v[i] * b;
        g[i + 1] = 200.0 * b;
    }
    f
}

const START: [f64; 6] = [-1.2, 1.0, -1.0, 1.2, 0.5, -0.3];
const SPECS: [&str; 3] = [
    "lbfgs:line_search_fn=strong_wolfe,max_iter=3,history_size=2",
    "lbfgs:lr=0.001,max_iter=4,history_size=3",
    "lbfgs:line_search_fn=strong_wolfe",
];

fn optimizer(spec: &str) -> Optimizer<f64> {
    Optimizer::new(build(spec).unwrap(), START.len()).unwrap()
}

fn steps(opt: &mut Optimizer<f64>, params: &mut [f64], count: usize) {
    let mut grads = [0.0; 6];
    for _ in 0..count {
        opt.step_with(params, &mut grads, rosenbrock).unwrap();
    }
}

#[test]
fn save_load_resume_is_bit_identical_to_an_uninterrupted_run() {
    for spec in SPECS {
        let (mut whole, mut p_whole) = (optimizer(spec), START);
        steps(&mut whole, &mut p_whole, 8);
        let (mut first, mut p) = (optimizer(spec), START);
        steps(&mut first, &mut p, 3);
        let text = serde_json::to_string(&first.save().unwrap()).unwrap();
        let mut resumed =
            Optimizer::<f64>::from_saved(serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(resumed, first, "{spec}");
        steps(&mut resumed, &mut p, 5);
        assert_eq!(p, p_whole, "{spec}");
        assert_eq!(resumed, whole, "{spec}");
        let extra = resumed.extra(0).unwrap();
        let h = match build(spec).unwrap() {
            downhill_optim::AnyRule::Lbfgs(r) => r.history_size as usize,
            _ => unreachable!(),
        };
        assert_eq!(extra.len(), 2 * 6 + h * (2 * 6 + 1), "{spec}");
    }
}

/// An objective that writes NaN into gradient element 2 at evaluation `bad` (1 the first).
fn failing(bad: usize) -> impl FnMut(&[f64], &mut [f64]) -> f64 {
    let mut calls = 0;
    move |p, g| {
        calls += 1;
        let f = rosenbrock(p, g);
        if calls == bad {
            g[2] = f64::NAN;
        }
        f
    }
}

#[test]
fn error_and_skip_leave_parameters_and_state_as_they_were() {
    for spec in SPECS {
        for policy in [NonFinite::Error, NonFinite::Skip] {
            // Fail at several evaluations of the fourth step: its first, inside
            // the iterations (or line search), once the history is full.
            for bad in [1, 2, 3, 5, 9] {
                let (mut opt, mut p) = (optimizer(spec), START);
                opt.set_non_finite(policy);
                steps(&mut opt, &mut p, 3);
                let (before, p_before) = (opt.clone(), p);
                let result = opt.step_with(&mut p, &mut [0.0; 6], failing(bad));
                let evals = before.save().unwrap().groups[0].scalars["func_evals"];
                match (policy, result) {
                    (NonFinite::Error, Err(StepError::NonFiniteGradient { index: 2, value })) => {
                        assert!(value.is_nan())
                    }
                    (_, Ok(done)) if done.outcome == Outcome::Applied => {
                        // The step ended before evaluation `bad`.
                        assert!(
                            opt.save().unwrap().groups[0].scalars["func_evals"]
                                < evals + bad as f64
                        );
                        continue;
                    }
                    (NonFinite::Skip, Ok(done)) => {
                        assert!(matches!(done.outcome, Outcome::Skipped { index: 2, .. }));
                        assert!(done.loss.is_finite());
                    }
                    (_, other) => panic!("{spec} {policy:?} at {bad}: {other:?}"),
                }
                assert_eq!(p, p_before, "{spec} {policy:?} at {bad}");
                assert_eq!(opt, before, "{spec} {policy:?} at {bad}");
                assert_eq!(opt.steps_taken(0), 3);
                // And the run goes on as if the refused step never happened.
                let (mut clean, mut p_clean) = (optimizer(spec), START);
                steps(&mut clean, &mut p_clean, 4);
                steps(&mut opt, &mut p, 1);
                assert_eq!((p, opt), (p_clean, clean), "{spec} {policy:?} at {bad}");
            }
        }
    }
}

#[test]
fn zero_reads_non_finite_entries_as_zero_and_propagate_lets_them_through() {
    for spec in SPECS {
        let (mut zeroing, mut p) = (optimizer(spec), START);
        zeroing.set_non_finite(NonFinite::Zero);
        let done = zeroing
            .step_with(&mut p, &mut [0.0; 6], failing(2))
            .unwrap();
        assert_eq!(done.outcome, Outcome::Zeroed { count: 1 });
        let (mut plain, mut q) = (optimizer(spec), START);
        let mut calls = 0;
        plain
            .step_with(&mut q, &mut [0.0; 6], |x, g| {
                calls += 1;
                let f = rosenbrock(x, g);
                if calls == 2 {
                    g[2] = 0.0;
                }
                f
            })
            .unwrap();
        assert_eq!((p, zeroing), (q, plain), "{spec}");

        let (mut propagating, mut p) = (optimizer(spec), START);
        propagating.set_non_finite(NonFinite::Propagate);
        let done = propagating
            .step_with(&mut p, &mut [0.0; 6], failing(1))
            .unwrap();
        assert_eq!(done.outcome, Outcome::Applied);
        // As in PyTorch: d = −g holds NaN, gᵀd is NaN, the step is taken.
        assert!(p.iter().any(|x| x.is_nan()), "{spec}: {p:?}");
    }
}

#[test]
fn lbfgs_needs_an_objective_and_one_group() {
    let mut opt = optimizer("lbfgs");
    let mut p = START;
    assert!(matches!(
        opt.step(&mut p, &[1.0; 6]),
        Err(StepError::NeedsObjective { optimizer: "lbfgs" })
    ));
    assert!(matches!(
        opt.step_tensors(&mut [&mut p[..]], &[&[1.0; 6][..]]),
        Err(StepError::NeedsObjective { .. })
    ));
    let groups = vec![ParamGroup::new(vec![3]), ParamGroup::new(vec![3])];
    let err = Optimizer::<f64>::with_groups(build("lbfgs").unwrap(), groups).unwrap_err();
    assert_eq!(
        err.to_string(),
        "lbfgs: lbfgs doesn't support per-parameter options (parameter groups): give one group, not 2"
    );
    // Nor from a state file.
    let mut saved = opt.save().unwrap();
    saved.groups.push(saved.groups[0].clone());
    assert!(Optimizer::<f64>::from_saved(saved).is_err());
    // No parameters: the objective is evaluated and its loss returned.
    let mut empty = Optimizer::<f64>::new(build("lbfgs").unwrap(), 0).unwrap();
    let done = empty.step_with(&mut [], &mut [], |_, _| 4.5).unwrap();
    assert_eq!(done.loss, 4.5);
}

#[test]
fn keys_are_validated_with_their_ranges() {
    for (spec, message) in [
        ("lbfgs:lr=-1", "lbfgs: lr must be in [0, inf), got -1.0"),
        (
            "lbfgs:history_size=0",
            "lbfgs: history_size must be in [1, 65536], got 0",
        ),
        (
            "lbfgs:max_iter=0",
            "lbfgs: max_iter must be in [1, 1000000000], got 0",
        ),
        (
            "lbfgs:line_search_fn=wolfe",
            "lbfgs: line_search_fn must be one of none, strong_wolfe, got 'wolfe'",
        ),
    ] {
        assert_eq!(build(spec).unwrap_err().to_string(), message);
    }
    let rule = Lbfgs {
        max_iter: 7,
        ..Lbfgs::default()
    };
    assert_eq!(rule.max_evals(), 8);
    assert_eq!(
        Lbfgs {
            max_eval: 3,
            ..rule
        }
        .max_evals(),
        3
    );
    // The history sizes the state: it cannot change after construction.
    let mut opt = optimizer("lbfgs");
    assert!(opt.set_all("history_size", &Value::Int(5)).is_err());
    opt.set_all("max_iter", &Value::Int(5)).unwrap();
    opt.set_lr(0, 0.5).unwrap();
}
