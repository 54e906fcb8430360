//! The non-finite gradient policies: refuse, skip, or zero the bad entries.

use downhill::optim::{
    build, NonFinite, Optimizer, Outcome, ParamGroup, RuleSet, StepError, OPTIMIZERS,
};
use downhill::Scalar;

/// A gradient with varied signs and sizes.
fn gradient<T: Scalar>(n: usize, step: usize) -> Vec<T> {
    (0..n)
        .map(|i| T::of((((i + 3 * step) * 17) % 23) as f64 * 0.05 - 0.55))
        .collect()
}

/// Every optimizer name with two groups of two tensors, after three ordinary
/// steps: vectors, or matrices (1×3, 2×2 | 1×2, 1×5) for a rule that takes
/// only matrices (muon).
fn warmed<T: Scalar>(name: &str) -> (Optimizer<T>, Vec<T>) {
    let rule = build(name).unwrap();
    let group = |shapes: Vec<Vec<usize>>| {
        if rule.check_shape(&[3]).is_ok() {
            ParamGroup::new(shapes.iter().map(|s| s.iter().product()).collect())
        } else {
            ParamGroup::shaped(shapes)
        }
    };
    let groups = vec![
        group(vec![vec![1, 3], vec![2, 2]]),
        group(vec![vec![1, 2], vec![1, 5]]).with("lr", downhill::hyper::Value::Float(0.05)),
    ];
    let mut opt = Optimizer::<T>::with_groups(rule, groups).unwrap();
    let mut params: Vec<T> = (0..14).map(|i| T::of(i as f64 * 0.1 - 0.6)).collect();
    for step in 0..3 {
        let mut g = gradient::<T>(14, step);
        opt.step_with(&mut params, &mut g, |_, out| {
            out.copy_from_slice(&gradient::<T>(14, step));
            T::zero()
        })
        .unwrap();
    }
    (opt, params)
}

/// The bad gradient: entries 5 and 11 are NaN and +∞ (5 is the first bad one).
fn bad_gradient<T: Scalar>() -> Vec<T> {
    let mut g = gradient::<T>(14, 7);
    g[5] = T::of(f64::NAN);
    g[11] = T::of(f64::INFINITY);
    g
}

/// Steps through the objective form (works for every rule, `nag` included).
fn step<T: Scalar>(
    opt: &mut Optimizer<T>,
    params: &mut [T],
    g: &[T],
) -> Result<Outcome, StepError> {
    let mut buffer = vec![T::zero(); g.len()];
    opt.step_with(params, &mut buffer, |_, out| {
        out.copy_from_slice(g);
        T::zero()
    })
    .map(|e| e.outcome)
}

fn check_policies<T: Scalar>() {
    let bits = |v: &[T]| v.iter().map(|x| x.widen().to_bits()).collect::<Vec<_>>();
    // lbfgs takes one group and evaluates many gradients per step: its
    // policies are tested in downhill-optim's tests/lbfgs.rs.
    let grouped = OPTIMIZERS
        .iter()
        .filter(|e| !build(e.name).unwrap().drives_objective());
    for entry in grouped {
        let (opt, params) = warmed::<T>(entry.name);
        let bad = bad_gradient::<T>();

        // Error (the default): refused, nothing changed.
        let (mut refused, mut p) = (opt.clone(), params.clone());
        assert_eq!(refused.non_finite(), NonFinite::Error);
        let err = step(&mut refused, &mut p, &bad).unwrap_err();
        assert!(
            matches!(err, StepError::NonFiniteGradient { index: 5, .. }),
            "{}: {err}",
            entry.name
        );
        assert_eq!(refused, opt, "{}: state changed", entry.name);
        assert_eq!(
            bits(&p),
            bits(&params),
            "{}: parameters changed",
            entry.name
        );

        // Skip: Ok, nothing changed, step counts kept.
        let (mut skipping, mut p) = (opt.clone(), params.clone());
        skipping.set_non_finite(NonFinite::Skip);
        let outcome = step(&mut skipping, &mut p, &bad).unwrap();
        assert!(
            matches!(outcome, Outcome::Skipped { index: 5, value } if value.is_nan()),
            "{}: {outcome:?}",
            entry.name
        );
        assert_eq!(skipping, opt, "{}: state changed", entry.name);
        assert_eq!(skipping.steps_taken(0), 3);
        assert_eq!(
            bits(&p),
            bits(&params),
            "{}: parameters changed",
            entry.name
        );

        // Zero: the same as a step with the bad entries replaced by zero.
        let (mut zeroing, mut p) = (opt.clone(), params.clone());
        zeroing.set_non_finite(NonFinite::Zero);
        let outcome = step(&mut zeroing, &mut p, &bad).unwrap();
        assert_eq!(outcome, Outcome::Zeroed { count: 2 }, "{}", entry.name);
        let (mut reference, mut expected) = (opt.clone(), params.clone());
        let mut clean = bad.clone();
        clean[5] = T::zero();
        clean[11] = T::zero();
        assert_eq!(
            step(&mut reference, &mut expected, &clean).unwrap(),
            Outcome::Applied
        );
        assert_eq!(zeroing, reference, "{}: state differs", entry.name);
        assert_eq!(
            bits(&p),
            bits(&expected),
            "{}: parameters differ",
            entry.name
        );
        assert_eq!(zeroing.steps_taken(1), 4);

        // Propagate: applied as it is; every element with a finite gradient
        // gets the same update as under `zero` (elementwise rules), or every
        // element of a tensor whose gradient is finite (per-tensor rules,
        // whose norms a NaN reaches, as in the reference packages); none of a
        // group whose sums a NaN reaches (prodigy's d).
        let (mut propagating, mut p) = (opt.clone(), params.clone());
        propagating.set_non_finite(NonFinite::Propagate);
        let outcome = step(&mut propagating, &mut p, &bad).unwrap();
        assert_eq!(outcome, Outcome::Applied, "{}", entry.name);
        assert_eq!(propagating.steps_taken(1), 4);
        // The tensors of `warmed`: 0..3, 3..7 | 7..9, 9..14.
        let reached = |i: usize| match (opt.rule(0).group_sums(), opt.rule(0).per_tensor()) {
            (true, _) => true,
            (false, true) => (3..7).contains(&i) || (9..14).contains(&i),
            (false, false) => [5, 11].contains(&i),
        };
        for i in (0..14).filter(|&i| !reached(i)) {
            assert_eq!(
                p[i].widen().to_bits(),
                expected[i].widen().to_bits(),
                "{}: parameter {i}",
                entry.name
            );
        }
    }
}

/// Under `propagate` the bad values reach the parameters, as in PyTorch.
#[test]
fn propagate_lets_the_bad_values_into_the_parameters() {
    for name in ["sgd", "sgd:momentum=0.9", "adam", "rmsprop", "adagrad"] {
        let (mut opt, mut p) = warmed::<f64>(name);
        opt.set_non_finite(NonFinite::Propagate);
        assert_eq!(opt.step(&mut p, &bad_gradient()).unwrap(), Outcome::Applied);
        assert!(p[5].is_nan(), "{name}: {}", p[5]);
        assert!(!p[11].is_finite(), "{name}: {}", p[11]);
        assert!(p[0].is_finite(), "{name}");
    }
}

#[test]
fn every_optimizer_follows_each_policy_in_f64() {
    check_policies::<f64>();
}

#[test]
fn every_optimizer_follows_each_policy_in_f32() {
    check_policies::<f32>();
}

/// `step` and `step_tensors` apply the same policy as `step_with`.
#[test]
fn the_flat_and_tensor_steps_follow_the_policy() {
    for (_, policy) in NonFinite::NAMES {
        let (mut flat, mut p_flat) = warmed::<f64>("adam");
        let (mut split, mut p_split) = (flat.clone(), p_flat.clone());
        flat.set_non_finite(policy);
        split.set_non_finite(policy);
        let bad = bad_gradient::<f64>();
        let flat_result = flat.step(&mut p_flat, &bad);
        let (a, rest) = p_split.split_at_mut(3);
        let (b, rest) = rest.split_at_mut(4);
        let (c, d) = rest.split_at_mut(2);
        let g = &bad;
        let split_result =
            split.step_tensors(&mut [a, b, c, d], &[&g[..3], &g[3..7], &g[7..9], &g[9..]]);
        // Debug text: a NaN (in the outcome, or in the state under `propagate`)
        // is not equal to itself.
        let text = |x: &dyn std::fmt::Debug| format!("{x:?}");
        assert_eq!(text(&flat_result), text(&split_result));
        assert_eq!(text(&flat), text(&split), "{policy:?}");
        assert_eq!(text(&p_flat), text(&p_split), "{policy:?}");
    }
}

#[test]
fn a_finite_gradient_is_applied_under_every_policy() {
    for (_, policy) in NonFinite::NAMES {
        let (mut opt, mut p) = warmed::<f64>("sgd:momentum=0.9");
        let (mut plain, mut expected) = (opt.clone(), p.clone());
        opt.set_non_finite(policy);
        let g = gradient::<f64>(14, 9);
        assert_eq!(opt.step(&mut p, &g).unwrap(), Outcome::Applied);
        plain.step(&mut expected, &g).unwrap();
        assert_eq!(p, expected);
    }
}

#[test]
fn policies_parse_by_name() {
    for (name, policy) in NonFinite::NAMES {
        assert_eq!(name.parse::<NonFinite>(), Ok(policy));
        assert_eq!(policy.name(), name);
    }
    assert_eq!(
        "ignore".parse::<NonFinite>().unwrap_err(),
        "unknown non-finite gradient policy 'ignore' (valid: error, skip, zero, propagate)"
    );
}
