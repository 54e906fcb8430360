//! prodigy against prodigyopt 1.1.2: trajectories recorded in float64 by
//! `scripts/golden_prodigy.py` (tests/golden/prodigy/) on 2-D surfaces and on
//! a 40-element quadratic held as two tensors (slice_p per tensor), plus
//! state round trips and the rule's own checks.

mod common;

use common::numbers;
use downhill_optim::{build, AnyRule, NonFinite, Optimizer, Outcome, ParamGroup, Prodigy, RuleSet};
use serde_json::Value;
use std::path::PathBuf;

/// |a − b| ≤ TOLERANCE·max(|b|, REL_FLOOR) at every recorded point.
const TOLERANCE: f64 = 1e-9;
const REL_FLOOR: f64 = 1e-3;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/prodigy")
}

fn cases() -> Value {
    let text = std::fs::read_to_string(golden_dir().join("cases.json")).expect("cases.json");
    serde_json::from_str(&text).expect("cases.json parses")
}

/// The rows (step, point) of a golden CSV, step 0 first.
fn read_rows(file: &str) -> Vec<(usize, Vec<f64>)> {
    let text = std::fs::read_to_string(golden_dir().join(file)).expect(file);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("step,"), "{file}");
    lines
        .map(|line| {
            let mut fields = line.split(',');
            let step = fields.next().unwrap().parse().unwrap();
            (step, fields.map(|x| x.parse().unwrap()).collect())
        })
        .collect()
}

/// ∇f at `theta` for a case's surface (the 2-D ones of the generator, or
/// its quadratic Σ a_i (θ_i − b_i)² with gradient 2·a_i·(θ_i − b_i)).
fn gradient(surface: &str, theta: &[f64], quadratic: &(Vec<f64>, Vec<f64>)) -> Vec<f64> {
    let (x, y) = (theta[0], theta.get(1).copied().unwrap_or(0.0));
    match surface {
        "quadratic" => theta
            .iter()
            .zip(quadratic.0.iter().zip(&quadratic.1))
            .map(|(t, (a, b))| 2.0 * a * (t - b))
            .collect(),
        "rosenbrock" => vec![
            -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
            200.0 * (y - x * x),
        ],
        "booth" => {
            let (u, v) = (x + 2.0 * y - 7.0, 2.0 * x + y - 5.0);
            vec![2.0 * u + 4.0 * v, 4.0 * u + 2.0 * v]
        }
        "himmelblau" => {
            let (u, v) = (x * x + y - 11.0, x + y * y - 7.0);
            vec![4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v]
        }
        "anisotropic" => vec![x / 10.0, 2.0 * y],
        other => panic!("unknown surface {other}"),
    }
}

#[test]
fn trajectories_match_prodigyopt() {
    let meta = cases();
    assert_eq!(meta["prodigyopt_version"], "1.1.2");
    assert_eq!(meta["dtype"], "float64");
    let quadratic = (
        numbers(&meta["quadratic"]["a"]),
        numbers(&meta["quadratic"]["b"]),
    );
    let (mut worst, mut worst_case) = (0.0f64, String::new());
    let mut failures = Vec::new();
    let list = meta["cases"].as_array().expect("cases");
    assert!(list.len() >= 20, "{} cases", list.len());
    for case in list {
        let (spec, surface) = (
            case["spec"].as_str().unwrap(),
            case["surface"].as_str().unwrap(),
        );
        let file = case["file"].as_str().unwrap();
        let rows = read_rows(file);
        let sizes: Vec<usize> = numbers(&case["tensors"])
            .iter()
            .map(|&n| n as usize)
            .collect();
        let mut opt =
            Optimizer::<f64>::with_groups(build(spec).unwrap(), vec![ParamGroup::new(sizes)])
                .unwrap();
        let mut theta = numbers(&case["start"]);
        assert_eq!(theta, rows[0].1, "{file}: start");
        let mut rows = rows.iter().skip(1).peekable();
        for step in 1..=case["steps"].as_u64().unwrap() as usize {
            let g = gradient(surface, &theta, &quadratic);
            opt.step(&mut theta, &g).unwrap();
            let Some((_, want)) = rows.next_if(|(k, _)| *k == step) else {
                continue;
            };
            for (i, (a, b)) in theta.iter().zip(want).enumerate() {
                let err = (a - b).abs() / b.abs().max(REL_FLOOR);
                if err > worst {
                    (worst, worst_case) = (err, format!("{spec} on {surface}"));
                }
                let within = err <= TOLERANCE; // false for NaN
                if !within && failures.len() < 20 {
                    failures.push(format!("{file} ({spec}) step {step} [{i}]: {a:?} vs {b:?}"));
                }
            }
        }
        assert!(rows.next().is_none(), "{file}: rows left over");
    }
    println!("prodigy worst relative error {worst:.3e} ({worst_case})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A gradient with varied signs and sizes, different at every step.
fn synthetic_gradient(n: usize, step: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((((i + 3 * step) * 17) % 23) as f64 * 0.05 - 0.55) * (1.0 + 0.1 * i as f64))
        .collect()
}

/// Two groups of two tensors each (11 elements).
fn two_groups(spec: &str) -> Optimizer<f64> {
    let groups = vec![ParamGroup::new(vec![3, 4]), ParamGroup::new(vec![2, 2])];
    Optimizer::<f64>::with_groups(build(spec).unwrap(), groups).unwrap()
}

#[test]
fn save_load_resume_is_bit_identical() {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for spec in [
        "prodigy",
        "prodigy:beta1=0,weight_decay=0.1,decouple=false,slice_p=2",
        "prodigy:use_bias_correction=true,safeguard_warmup=true,beta3=0.9,growth_rate=1.5,d_coef=2",
    ] {
        for at in [1, 6] {
            let mut opt = two_groups(spec);
            let mut params: Vec<f64> = (0..11).map(|i| i as f64 * 0.3 - 0.9).collect();
            for step in 0..at {
                opt.step(&mut params, &synthetic_gradient(11, step))
                    .unwrap();
            }
            let json = serde_json::to_string(&opt.save().unwrap()).unwrap();
            let mut resumed =
                Optimizer::<f64, AnyRule>::from_saved(serde_json::from_str(&json).unwrap())
                    .unwrap();
            assert_eq!(resumed, opt, "{spec} at {at}: loaded state differs");
            let mut resumed_params = params.clone();
            for step in at..at + 20 {
                let g = synthetic_gradient(11, step);
                opt.step(&mut params, &g).unwrap();
                resumed.step(&mut resumed_params, &g).unwrap();
            }
            assert_eq!(bits(&params), bits(&resumed_params), "{spec} at {at}");
            assert_eq!(resumed, opt, "{spec} at {at}: state differs after resuming");
        }
    }
}

#[test]
fn tensors_stepped_apart_or_flat_give_the_same_bits() {
    let mut flat = two_groups("prodigy:slice_p=3,lr=0.5");
    let mut apart = flat.clone();
    let mut p: Vec<f64> = (0..11).map(|i| i as f64 * 0.2 - 1.0).collect();
    let mut q = p.clone();
    for step in 0..10 {
        let g = synthetic_gradient(11, step);
        flat.step(&mut p, &g).unwrap();
        let (q1, rest) = q.split_at_mut(3);
        let (q2, rest) = rest.split_at_mut(4);
        let (q3, q4) = rest.split_at_mut(2);
        let gs: Vec<&[f64]> = vec![&g[..3], &g[3..7], &g[7..9], &g[9..]];
        apart.step_tensors(&mut [q1, q2, q3, q4], &gs).unwrap();
    }
    assert_eq!(flat, apart);
    assert_eq!(p, q);
}

#[test]
fn each_group_keeps_its_own_d() {
    let mut opt = two_groups("prodigy");
    let mut p = vec![1.0; 11];
    let mut g = synthetic_gradient(11, 0);
    g[7..].iter_mut().for_each(|x| *x = 0.0);
    opt.step(&mut p, &g).unwrap();
    // Group 1's gradient is zero: Σ|s| = 0, so only its moments move.
    assert_eq!(opt.steps_taken(1), 1);
    assert_eq!(&p[7..], &[1.0; 4]);
    assert!(p[..7].iter().filter(|&&x| x != 1.0).count() >= 6);
    opt.step(&mut p, &synthetic_gradient(11, 1)).unwrap();
    assert!(opt.buffer(0, "p0").unwrap().iter().all(|&x| x == 1.0));
}

#[test]
fn zeroed_entries_step_as_zeros() {
    let mut zeroing = two_groups("prodigy:slice_p=2");
    zeroing.set_non_finite(NonFinite::Zero);
    let mut clean = zeroing.clone();
    let (mut p, mut q) = (vec![0.5; 11], vec![0.5; 11]);
    for step in 0..4 {
        let mut g = synthetic_gradient(11, step);
        (g[2], g[8]) = (0.0, 0.0);
        clean.step(&mut q, &g).unwrap();
        (g[2], g[8]) = (f64::NAN, f64::INFINITY);
        let outcome = zeroing.step(&mut p, &g).unwrap();
        assert_eq!(outcome, Outcome::Zeroed { count: 2 });
    }
    assert_eq!(zeroing, clean);
    assert_eq!(p, q);
}

#[test]
fn the_keys_are_checked_as_prodigyopt_checks_them() {
    for (spec, message) in [
        ("prodigy:d0=0", "d0 must be in (0, inf), got 0"),
        ("prodigy:eps=0", "eps must be in (0, inf), got 0"),
        ("prodigy:beta1=1", "beta1 must be in [0, 1), got 1"),
        ("prodigy:beta2=-0.1", "beta2 must be in [0, 1), got -0.1"),
        ("prodigy:slice_p=0", "slice_p must be in [1, inf), got 0"),
        (
            "prodigy:fsdp_in_use=true",
            "fsdp_in_use=true is not supported",
        ),
        ("prodigy:beta3=2", "beta3 must be in [0, 1], got 2"),
        (
            "prodigy:growth_rate=x",
            "growth_rate must be a number or none",
        ),
    ] {
        let err = build(spec).unwrap_err().to_string();
        assert!(err.contains(message), "{spec}: {err}");
    }
    let rule = build("prodigy:beta3=none,growth_rate=1.02").unwrap();
    assert_eq!(
        rule,
        AnyRule::Prodigy(Prodigy {
            growth_rate: Some(1.02),
            ..Prodigy::default()
        })
    );
    assert!(rule.group_sums() && !build("adam").unwrap().group_sums());
    assert_eq!(rule.buffers().len(), 4);
    assert_eq!(build("prodigy:beta1=0").unwrap().buffers().len(), 3);
}
