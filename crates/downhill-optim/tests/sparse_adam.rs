//! `sparse_adam` against `torch.optim.SparseAdam` (float64), recorded by
//! `scripts/golden_sparse_adam.py`: sparse steps with some rows, repeated
//! rows (summed), no rows at all, and maximize; only the rows present move.
//! Plus the refusals of `step_sparse`, which change nothing.

use downhill_optim::{build, NonFinite, Optimizer, Outcome, ParamGroup, StepError};
use serde_json::Value;

mod common;
use common::numbers;

#[test]
fn sparse_steps_match_pytorch() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/sparse/sparse_adam.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let row_len = doc["row_len"].as_u64().unwrap() as usize;
    for case in doc["cases"].as_array().unwrap() {
        let spec = case["spec"].as_str().unwrap();
        let mut params = numbers(&case["start"]);
        let mut opt = Optimizer::<f64>::new(build(spec).unwrap(), params.len()).unwrap();
        for (k, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let rows: Vec<usize> = numbers(&step["rows"]).iter().map(|&r| r as usize).collect();
            let before = params.clone();
            opt.step_sparse(&mut params, row_len, &rows, &numbers(&step["values"]))
                .unwrap();
            let expected = numbers(&step["params"]);
            for (i, (a, b)) in params.iter().zip(&expected).enumerate() {
                // One ulp of PyTorch's MKL square root at most (see replay.rs).
                assert!(
                    (a - b).abs() <= 1e-14 * b.abs().max(1.0),
                    "{spec} step {}: entry {i}: {a} vs {b}",
                    k + 1
                );
                if !rows.contains(&(i / row_len)) {
                    assert_eq!(
                        a.to_bits(),
                        before[i].to_bits(),
                        "{spec}: an absent row moved"
                    );
                }
            }
        }
        assert_eq!(opt.steps_taken(0), 8);
    }
}

#[test]
fn bad_sparse_steps_are_refused_and_change_nothing() {
    let mut opt = Optimizer::<f64>::new(build("sparse_adam").unwrap(), 6).unwrap();
    let mut p = vec![1.0; 6];
    let before = opt.clone();
    let cases: [(usize, &[usize], &[f64], &str); 4] = [
        (
            2,
            &[3],
            &[1.0, 2.0],
            "sparse gradient: row 3 is out of range (the parameters hold 3 rows)",
        ),
        (
            4,
            &[0],
            &[1.0; 4],
            "sparse gradient: rows of 4 entries do not divide the 6 parameters",
        ),
        (
            2,
            &[0, 1],
            &[1.0; 3],
            "sparse gradient: 3 values for 2 rows of 2",
        ),
        (
            0,
            &[],
            &[],
            "sparse gradient: rows of 0 entries do not divide the 6 parameters",
        ),
    ];
    for (row_len, rows, values, message) in cases {
        let err = opt.step_sparse(&mut p, row_len, rows, values).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(opt, before);
        assert_eq!(p, vec![1.0; 6]);
    }
    // NaN under the default policy: refused; under zero: the entry reads as 0.
    let err = opt
        .step_sparse(&mut p, 2, &[1], &[f64::NAN, 1.0])
        .unwrap_err();
    assert!(
        matches!(err, StepError::NonFiniteGradient { index: 0, .. }),
        "{err}"
    );
    assert_eq!(opt, before);
    opt.set_non_finite(NonFinite::Zero);
    let outcome = opt.step_sparse(&mut p, 2, &[1], &[f64::NAN, 1.0]).unwrap();
    assert_eq!(outcome, Outcome::Zeroed { count: 1 });
    let mut clean = Optimizer::<f64>::new(build("sparse_adam").unwrap(), 6).unwrap();
    let mut q = vec![1.0; 6];
    clean.step_sparse(&mut q, 2, &[1], &[0.0, 1.0]).unwrap();
    assert_eq!(p, q);
    // Other rules and several groups are refused.
    let mut adam = Optimizer::<f64>::new(build("adam").unwrap(), 6).unwrap();
    assert_eq!(
        adam.step_sparse(&mut p, 2, &[0], &[1.0, 1.0])
            .unwrap_err()
            .to_string(),
        "adam does not take sparse gradients (sparse_adam does)"
    );
    let mut two = Optimizer::<f64>::with_groups(
        build("sparse_adam").unwrap(),
        vec![ParamGroup::new(vec![2]), ParamGroup::new(vec![4])],
    )
    .unwrap();
    assert!(two.step_sparse(&mut p, 2, &[0], &[1.0, 1.0]).is_err());
}

#[test]
fn a_dense_step_is_a_sparse_step_with_every_row() {
    let grad = [0.5, -1.0, 2.0, 0.25, 0.0, -3.0];
    let mut dense = Optimizer::<f64>::new(build("sparse_adam:lr=0.1").unwrap(), 6).unwrap();
    let mut sparse = dense.clone();
    let (mut p, mut q) = (vec![1.0; 6], vec![1.0; 6]);
    for _ in 0..3 {
        dense.step(&mut p, &grad).unwrap();
        sparse
            .step_sparse(&mut q, 3, &[1, 0], &[0.25, 0.0, -3.0, 0.5, -1.0, 2.0])
            .unwrap();
    }
    assert_eq!(p, q);
}
