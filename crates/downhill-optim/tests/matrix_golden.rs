//! The rules that update whole tensors — Muon and Adafactor — against
//! `torch.optim`: trajectories recorded in float64 by
//! `scripts/golden_matrix.py` (tests/golden/matrix/), on 2-D surfaces held
//! as vectors and 1×2 / 2×1 matrices and on least-squares problems over
//! matrices and batches of matrices; plus shapes, state round trips and the
//! non-finite policies.

mod common;
#[path = "common/surfaces.rs"]
mod surfaces;

use common::numbers;
use downhill_optim::{
    build, newton_schulz, AnyRule, NonFinite, Optimizer, Outcome, ParamGroup, RuleSet, StepError,
};
use serde_json::Value;
use std::path::PathBuf;

/// |a − b| ≤ TOLERANCE·max(|b|, REL_FLOOR) at every point.
const TOLERANCE: f64 = 1e-9;
const REL_FLOOR: f64 = 1e-3;

fn cases() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/matrix/cases.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// ∇ of 0.5·‖A·W − B‖² summed over batches: Aᵀ(A·W − B) per batch, for W
/// of `shape` (a vector is one column).
fn lstsq_gradient(shape: &[usize], a: &[f64], b: &[f64], w: &[f64]) -> Vec<f64> {
    let (rows, cols) = match shape {
        [n] => (*n, 1),
        [.., r, c] => (*r, *c),
        _ => unreachable!("shapes in the goldens have a dimension"),
    };
    let k = rows + 2;
    let mut grad = vec![0.0; w.len()];
    for ((w, g), (a, b)) in w
        .chunks(rows * cols)
        .zip(grad.chunks_mut(rows * cols))
        .zip(a.chunks(k * rows).zip(b.chunks(k * cols)))
    {
        for t in 0..k {
            for j in 0..cols {
                let residual = (0..rows)
                    .map(|i| a[t * rows + i] * w[i * cols + j])
                    .sum::<f64>()
                    - b[t * cols + j];
                for i in 0..rows {
                    g[i * cols + j] += a[t * rows + i] * residual;
                }
            }
        }
    }
    grad
}

fn gradient(case: &Value, shape: &[usize], w: &[f64]) -> Vec<f64> {
    match case["objective"].as_str().unwrap() {
        "lstsq" => lstsq_gradient(shape, &numbers(&case["a"]), &numbers(&case["b"]), w),
        surface => surfaces::gradient(surface, w[0], w[1]).to_vec(),
    }
}

fn shape_of(case: &Value) -> Vec<usize> {
    case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn trajectories_match_torch() {
    let cases = cases();
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 18);
    let mut worst = (0.0f64, String::new());
    for case in cases {
        let spec = case["spec"].as_str().unwrap();
        let shape = shape_of(case);
        let group = ParamGroup::shaped(vec![shape.clone()]);
        let mut opt = Optimizer::<f64>::with_groups(build(spec).unwrap(), vec![group]).unwrap();
        let mut w = numbers(&case["start"]);
        for (step, expected) in case["points"].as_array().unwrap().iter().enumerate() {
            let g = gradient(case, &shape, &w);
            opt.step(&mut w, &g).unwrap();
            for (a, b) in w.iter().zip(numbers(expected)) {
                let err = (a - b).abs() / b.abs().max(REL_FLOOR);
                assert!(
                    err <= TOLERANCE,
                    "{spec} on {} {shape:?}, step {}: {a} vs torch {b} ({err:.2e})",
                    case["objective"],
                    step + 1
                );
                if err > worst.0 {
                    worst = (err, spec.to_string());
                }
            }
        }
    }
    println!("worst relative deviation {:.2e} ({})", worst.0, worst.1);
}

/// A gradient with varied signs and sizes, different at every step.
fn synthetic_gradient(n: usize, step: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((((i + 3 * step) * 17) % 23) as f64 * 0.05 - 0.55) * (1.0 + 0.1 * i as f64))
        .collect()
}

/// A matrix, a vector and a batch of matrices, for rules that take them all.
fn mixed_shapes() -> Vec<Vec<usize>> {
    vec![vec![3, 4], vec![5], vec![2, 2, 3]]
}

fn optimizer(spec: &str, shapes: Vec<Vec<usize>>) -> Optimizer<f64> {
    Optimizer::with_groups(build(spec).unwrap(), vec![ParamGroup::shaped(shapes)]).unwrap()
}

#[test]
fn save_load_resume_is_bit_identical() {
    for (spec, shapes) in [
        ("muon:lr=0.02", vec![vec![3, 4], vec![4, 2]]),
        (
            "muon:nesterov=false,adjust_lr_fn=match_rms_adamw",
            vec![vec![2, 5]],
        ),
        ("adafactor:lr=0.05,weight_decay=0.1", mixed_shapes()),
        ("adafactor:eps1=1e-8,d=2,maximize=true", mixed_shapes()),
    ] {
        let mut opt = optimizer(spec, shapes);
        let n = opt.len();
        let mut params: Vec<f64> = (0..n).map(|i| i as f64 * 0.3 - 0.9).collect();
        for step in 0..5 {
            opt.step(&mut params, &synthetic_gradient(n, step)).unwrap();
        }
        let json = serde_json::to_string(&opt.save().unwrap()).unwrap();
        let mut resumed =
            Optimizer::<f64, AnyRule>::from_saved(serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(resumed, opt, "{spec}: loaded state differs");
        let mut resumed_params = params.clone();
        for step in 5..25 {
            let g = synthetic_gradient(n, step);
            opt.step(&mut params, &g).unwrap();
            resumed.step(&mut resumed_params, &g).unwrap();
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&params), bits(&resumed_params), "{spec}");
    }
}

#[test]
fn adafactor_keeps_factored_moments_for_matrices() {
    let opt = optimizer("adafactor", mixed_shapes());
    // 3 + 4 for the 3×4 matrix, 5 for the vector, 2·(2 + 3) for the batch.
    assert_eq!(opt.extra(0).unwrap().len(), 7 + 5 + 10);
    assert!(opt.buffer(0, "exp_avg_sq").is_none());
}

#[test]
fn extra_state_of_the_wrong_length_is_refused() {
    let opt = optimizer("adafactor", vec![vec![3, 4]]);
    let mut saved = opt.save().unwrap();
    saved.groups[0].extra.pop();
    let err = Optimizer::<f64>::from_saved(saved).unwrap_err().to_string();
    assert!(
        err.contains("extra state has 6 values, expected 7"),
        "{err}"
    );
}

#[test]
fn muon_takes_matrices_only() {
    for shape in [vec![4], vec![2, 2, 2]] {
        let group = ParamGroup::shaped(vec![shape.clone()]);
        let err = Optimizer::<f64>::with_groups(build("muon").unwrap(), vec![group])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("muon steps matrices only") && err.contains(&format!("{shape:?}")),
            "{err}"
        );
    }
    let err = Optimizer::<f64>::new(build("muon").unwrap(), 3)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("parameter group 0: muon steps matrices only"),
        "{err}"
    );
}

#[test]
fn muon_for_matrices_and_adamw_for_the_rest() {
    // The recipe: one group per rule, in the order of the flat parameters.
    let mut opt = Optimizer::<f64>::with_rules(vec![
        (
            build("muon:lr=0.02").unwrap(),
            ParamGroup::shaped(vec![vec![2, 3]]),
        ),
        (build("adamw:lr=0.01").unwrap(), ParamGroup::new(vec![3])),
    ])
    .unwrap();
    let mut params = vec![0.5; 9];
    let grad = synthetic_gradient(9, 0);
    opt.step(&mut params, &grad).unwrap();
    assert_eq!(opt.rule(0).name(), "muon");
    assert_eq!(opt.rule(1).name(), "adam");
    // AdamW's first step moves each coordinate by lr against the gradient's sign.
    for (p, g) in params[6..].iter().zip(&grad[6..]) {
        let decayed = 0.5 * (1.0 - 0.01 * 0.01);
        assert!((p - (decayed - 0.01 * g.signum())).abs() < 1e-7, "{p}");
    }
    assert!(params[..6].iter().all(|p| *p != 0.5));
}

#[test]
fn spec_errors_name_the_valid_values() {
    let err = build("muon:ns_coefficients=[1,2]").unwrap_err().to_string();
    assert!(
        err.contains("ns_coefficients must hold exactly 3 values"),
        "{err}"
    );
    let err = build("muon:ns_steps=100").unwrap_err().to_string();
    assert!(err.contains("ns_steps must be less than 100"), "{err}");
    let err = build("muon:adjust_lr_fn=rms").unwrap_err().to_string();
    assert!(
        err.contains("original, match_rms_adamw, spectral_unclamped"),
        "{err}"
    );
    let err = build("adafactor:eps1=-1").unwrap_err().to_string();
    assert!(err.contains("eps1 must be in [0, inf)"), "{err}");
    let err = build("adafactor:eps1=tiny").unwrap_err().to_string();
    assert!(err.contains("a number or none"), "{err}");
    let err = build("adafactor:beta2_decay=0.5").unwrap_err().to_string();
    assert!(err.contains("beta2_decay must be in (-inf, 0]"), "{err}");
    let err = build("adafactor:d=0.5").unwrap_err().to_string();
    assert!(err.contains("d must be in [1, inf)"), "{err}");
    assert!(build("adafactor:eps1=none").is_ok());
}

#[test]
fn non_finite_policies_apply_to_whole_tensor_rules() {
    for spec in ["muon", "adafactor"] {
        let shapes = vec![vec![2, 3]];
        let mut grad = synthetic_gradient(6, 1);
        grad[4] = f64::NAN;
        let start: Vec<f64> = (0..6).map(|i| 0.1 * i as f64 - 0.2).collect();

        let mut opt = optimizer(spec, shapes.clone());
        let before = opt.clone();
        let mut params = start.clone();
        let err = opt.step(&mut params, &grad).unwrap_err();
        assert!(
            matches!(err, StepError::NonFiniteGradient { index: 4, .. }),
            "{err}"
        );
        assert_eq!((params.as_slice(), &opt), (start.as_slice(), &before));

        opt.set_non_finite(NonFinite::Skip);
        assert!(matches!(
            opt.step(&mut params, &grad).unwrap(),
            Outcome::Skipped { index: 4, .. }
        ));
        assert_eq!(
            (params.as_slice(), &opt),
            (start.as_slice(), &before.clone())
        );

        // Zero: the same as a gradient with a zero there.
        opt.set_non_finite(NonFinite::Zero);
        let outcome = opt.step(&mut params, &grad).unwrap();
        assert_eq!(outcome, Outcome::Zeroed { count: 1 });
        let mut clean = before.clone();
        let mut expected = start.clone();
        let mut zeroed = grad.clone();
        zeroed[4] = 0.0;
        clean.step(&mut expected, &zeroed).unwrap();
        assert_eq!(params, expected, "{spec}");
    }
}

#[test]
fn f32_parameters_step_too() {
    for spec in ["muon:lr=0.02", "adafactor:lr=0.05"] {
        let group = ParamGroup::shaped(vec![vec![3, 4]]);
        let mut opt = Optimizer::<f32>::with_groups(build(spec).unwrap(), vec![group]).unwrap();
        let mut w = vec![1.0f32; 12];
        for step in 0..50 {
            let g: Vec<f32> = synthetic_gradient(12, step)
                .iter()
                .zip(&w)
                .map(|(g, w)| *w + *g as f32 * 0.1)
                .collect();
            opt.step(&mut w, &g).unwrap();
        }
        // Pulled towards zero from 1: every entry moved down, none diverged.
        assert!(w.iter().all(|x| x.is_finite() && *x < 1.0), "{spec}: {w:?}");
    }
}

/// PyTorch's bfloat16 Newton–Schulz on 160 random matrices (1×2 to 12×20,
/// scales 1e-3 to 1e3), from scripts/golden_matrix.py: equal bit for bit.
#[test]
fn newton_schulz_equals_torch_bit_for_bit() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/golden/matrix/newton_schulz.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 160);
    for (index, case) in cases.iter().enumerate() {
        let shape = shape_of(case);
        let (rows, cols) = (shape[0], shape[1]);
        let coefficients = [3.4445, -4.775, 2.0315];
        let out = newton_schulz(&numbers(&case["input"]), rows, cols, coefficients, 5, 1e-7);
        let expected: Vec<f32> = numbers(&case["output"]).iter().map(|x| *x as f32).collect();
        assert_eq!(out, expected, "case {index} ({rows}×{cols})");
    }
}
