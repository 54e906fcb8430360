//! The modern optimizers (lion, adopt, ademamix, adan, lamb, lars, and
//! Schedule-Free SGD and AdamW) against the packages that define them:
//! trajectories on 2-D surfaces recorded in float64 by
//! `scripts/golden_modern.py` (tests/golden/modern/), the point held as a
//! vector of two or as a 1×2 matrix, Schedule-Free's evaluation point after
//! the last step, plus state round trips and the packages' first-step quirks.

#[path = "common/surfaces.rs"]
mod surfaces;

use downhill_optim::{
    build, Adan, Ademamix, Adopt, AnyRule, Lamb, Lars, Lion, Optimizer, ParamGroup, RuleSet,
    SchedulefreeAdamw, SchedulefreeSgd, OPTIMIZERS,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

const MODERN: [&str; 8] = [
    "lion",
    "adopt",
    "ademamix",
    "adan",
    "lamb",
    "lars",
    "schedulefree-sgd",
    "schedulefree-adamw",
];
/// |a − b| ≤ TOLERANCE·max(|b|, REL_FLOOR) at every point.
const TOLERANCE: f64 = 1e-9;
const REL_FLOOR: f64 = 1e-3;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/modern")
}

/// The points (x, y) of a golden CSV (`step,x,y`), step 0 first.
fn read_points(file: &str) -> Vec<[f64; 2]> {
    let text = std::fs::read_to_string(golden_dir().join(file)).expect(file);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("step,x,y"), "{file}");
    lines
        .enumerate()
        .map(|(k, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 3, "{file}: {line}");
            assert_eq!(fields[0].parse::<usize>().unwrap(), k, "{file}");
            [fields[1].parse().unwrap(), fields[2].parse().unwrap()]
        })
        .collect()
}

fn cases() -> Value {
    let text = std::fs::read_to_string(golden_dir().join("cases.json")).expect("cases.json");
    serde_json::from_str(&text).expect("cases.json parses")
}

#[test]
fn trajectories_match_the_reference_packages() {
    let meta = cases();
    let mut worst: BTreeMap<String, (f64, String)> = BTreeMap::new();
    let mut failures = Vec::new();
    let list = meta["cases"].as_array().expect("cases");
    for case in list {
        let spec = case["spec"].as_str().unwrap();
        let surface = case["surface"].as_str().unwrap();
        let file = case["file"].as_str().unwrap();
        let expected = read_points(file);
        assert_eq!(expected.len() as u64, case["steps"].as_u64().unwrap() + 1);
        let start = case["start"].as_array().unwrap();
        let mut theta = [start[0].as_f64().unwrap(), start[1].as_f64().unwrap()];
        assert_eq!(theta, expected[0], "{file}: start");
        let rule = build(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let name = rule.name().to_string();
        let shape: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let mut opt =
            Optimizer::<f64>::with_groups(rule, vec![ParamGroup::shaped(vec![shape])]).unwrap();
        let mut case_worst = 0.0f64;
        for (k, want) in expected.iter().enumerate().skip(1) {
            let g = surfaces::gradient(surface, theta[0], theta[1]);
            opt.step(&mut theta, &g).unwrap();
            for (a, b) in theta.iter().zip(want) {
                let err = (a - b).abs() / b.abs().max(REL_FLOOR);
                case_worst = case_worst.max(err);
                let within = err <= TOLERANCE; // false for NaN
                if !within && failures.len() < 20 {
                    failures.push(format!(
                        "{file} ({spec} on {surface}) step {k}: {a:?} vs {b:?} (rel {err:.3e})"
                    ));
                }
            }
        }
        if let Some(expected) = case.get("evaluation_point") {
            let mut x = [0.0; 2];
            opt.evaluation_point(&theta, &mut x).unwrap();
            for (a, b) in x.iter().zip(expected.as_array().unwrap()) {
                let b = b.as_f64().unwrap();
                let err = (a - b).abs() / b.abs().max(REL_FLOOR);
                case_worst = case_worst.max(err);
                let within = err <= TOLERANCE; // false for NaN
                if !within {
                    failures.push(format!("{file}: evaluation point {a:?} vs {b:?}"));
                }
            }
        } else {
            assert!(
                !opt.rule(0).has_evaluation_point(),
                "{file}: no evaluation point recorded"
            );
        }
        let entry = worst.entry(name).or_insert((0.0, String::new()));
        if case_worst >= entry.0 {
            *entry = (case_worst, format!("{spec} on {surface}"));
        }
    }
    for (name, (err, case)) in &worst {
        println!("{name:9} worst relative error {err:.3e} ({case})");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for name in MODERN {
        assert!(worst.contains_key(name), "no golden case for {name}");
    }
}

#[test]
fn the_golden_data_records_its_provenance() {
    let meta = cases();
    for key in [
        "python_version",
        "torch_version",
        "lion_pytorch_version",
        "pytorch_optimizer_version",
    ] {
        assert!(meta[key].is_string(), "{key}");
    }
    assert_eq!(meta["lion_pytorch_version"], "0.2.5");
    assert_eq!(meta["pytorch_optimizer_version"], "4.1.0");
    assert_eq!(meta["dtype"], "float64");
}

#[test]
fn the_modern_optimizers_are_registered() {
    let rules: Vec<AnyRule> = vec![
        Lion::default().into(),
        Adopt::default().into(),
        Ademamix::default().into(),
        Adan::default().into(),
        Lamb::default().into(),
        Lars::default().into(),
        SchedulefreeSgd::default().into(),
        SchedulefreeAdamw::default().into(),
    ];
    let names: Vec<&str> = rules.iter().map(|r| r.name()).collect();
    assert_eq!(names, MODERN);
    for name in MODERN {
        let entry = OPTIMIZERS.iter().find(|e| e.name == name).expect(name);
        assert_eq!((entry.make)().name(), name);
        assert!(!entry.summary.is_empty());
    }
}

/// A gradient with varied signs and sizes, different at every step.
fn synthetic_gradient(n: usize, step: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((((i + 3 * step) * 17) % 23) as f64 * 0.05 - 0.55) * (1.0 + 0.1 * i as f64))
        .collect()
}

/// Save → JSON → load at `at` steps, then both runs continue: bit for bit the same.
fn check_resume(spec: &str, at: usize) {
    let mut opt = Optimizer::<f64>::new(build(spec).unwrap(), 7).unwrap();
    let mut params: Vec<f64> = (0..7).map(|i| i as f64 * 0.3 - 0.9).collect();
    for step in 0..at {
        opt.step(&mut params, &synthetic_gradient(7, step)).unwrap();
    }
    let json = serde_json::to_string(&opt.save().unwrap()).unwrap();
    let mut resumed =
        Optimizer::<f64, AnyRule>::from_saved(serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(resumed, opt, "{spec} at {at}: loaded state differs");
    let mut resumed_params = params.clone();
    for step in at..at + 30 {
        let g = synthetic_gradient(7, step);
        opt.step(&mut params, &g).unwrap();
        resumed.step(&mut resumed_params, &g).unwrap();
    }
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&params), bits(&resumed_params), "{spec} at {at}");
    assert_eq!(resumed, opt, "{spec} at {at}: state differs after resuming");
}

#[test]
fn save_load_resume_is_bit_identical() {
    for spec in [
        "lion",
        "lion:lr=0.01,beta1=0.5,weight_decay=0.3",
        "adopt",
        "adopt:lr=0.01,weight_decay=0.1,weight_decouple=true,fixed_decay=true,clip_lambda=none",
        "adopt:weight_decay=0.1,maximize=true",
        "ademamix",
        "ademamix:lr=0.01,t_alpha_beta3=20,weight_decay=0.1",
        "adan",
        "adan:weight_decay=0.1,weight_decouple=true,maximize=true",
        "adan:weight_decay=0.1",
        "lamb",
        "lamb:weight_decay=0.1,weight_decouple=false,adam=true",
        "lars:weight_decay=0.1,nesterov=true",
        "schedulefree-sgd:lr=0.1,warmup_steps=5,weight_decay=0.1",
        "schedulefree-adamw:lr=0.01,warmup_steps=3,r=0.5",
    ] {
        // 0 and 1: around the first step, which ADOPT and Adan treat specially.
        for at in [0, 1, 2, 17] {
            check_resume(spec, at);
        }
    }
}

#[test]
fn options_an_elementwise_rule_cannot_do_are_construction_errors() {
    let err = build("adan:max_grad_norm=1").unwrap_err().to_string();
    assert!(err.contains("max_grad_norm"), "{err}");
    assert!(build("adan:max_grad_norm=0").is_ok());
    let err = build("adopt:clip_lambda=sqrt").unwrap_err().to_string();
    assert!(err.contains("clip_lambda"), "{err}");
    let err = build("ademamix:t_alpha_beta3=10,beta1=0")
        .unwrap_err()
        .to_string();
    assert!(err.contains("t_alpha_beta3"), "{err}");
    assert!(build("ademamix:beta1=0").is_ok());
    // The packages' ranges: betas in [0, 1) (β₃ of ademamix/adan and lion's in [0, 1]).
    for bad in [
        "adopt:beta1=1",
        "adan:beta2=1",
        "ademamix:beta2=1",
        "ademamix:beta3=1.5",
        "lion:beta1=1.01",
        "lion:lr=-1",
        "adopt:eps=-1",
    ] {
        assert!(build(bad).is_err(), "{bad}");
    }
    for good in ["lion:beta1=1,beta2=1", "ademamix:beta3=1", "adan:beta3=1"] {
        assert!(build(good).is_ok(), "{good}");
    }
}

/// lion-pytorch's `sgn_` gives 0 for 0: a zero gradient on zero momentum
/// leaves the parameters alone (Rust's `signum` would step by η).
#[test]
fn lion_takes_the_sign_of_zero_as_zero() {
    let mut opt = Optimizer::<f64>::new(build("lion:lr=0.5").unwrap(), 3).unwrap();
    let mut p = [1.0, -2.0, 0.25];
    opt.step(&mut p, &[0.0, 3.0, -1e-300]).unwrap();
    assert_eq!(p, [1.0, -2.5, 0.75]);
}

/// ADOPT's first step only sets v = g² (after the decay); Adan's first
/// gradient difference is zero (2g when maximizing, as the package has it).
#[test]
fn first_steps_follow_the_packages() {
    let mut opt = Optimizer::<f64>::new(build("adopt:lr=0.5").unwrap(), 2).unwrap();
    let mut p = [1.0, -2.0];
    opt.step(&mut p, &[3.0, -0.5]).unwrap();
    assert_eq!(p, [1.0, -2.0]);
    assert_eq!(opt.buffer(0, "exp_avg_sq").unwrap(), [9.0, 0.25]);
    assert_eq!(opt.buffer(0, "exp_avg").unwrap(), [0.0, 0.0]);

    let mut opt = Optimizer::<f64>::new(
        build("adopt:weight_decay=0.5,weight_decouple=true").unwrap(),
        1,
    )
    .unwrap();
    let mut p = [2.0];
    opt.step(&mut p, &[1.0]).unwrap();
    assert_eq!(p, [2.0 * (1.0 - 0.5 * 1e-3)]);

    let mut opt = Optimizer::<f64>::new(build("adan").unwrap(), 2).unwrap();
    let mut p = [1.0, -2.0];
    opt.step(&mut p, &[3.0, -0.5]).unwrap();
    assert_eq!(opt.buffer(0, "exp_avg_diff").unwrap(), [0.0, 0.0]);
    assert_eq!(opt.buffer(0, "previous_grad").unwrap(), [-3.0, 0.5]);

    let mut opt = Optimizer::<f64>::new(build("adan:maximize=true").unwrap(), 2).unwrap();
    let mut p = [1.0, -2.0];
    opt.step(&mut p, &[3.0, -0.5]).unwrap();
    let diff = opt.buffer(0, "exp_avg_diff").unwrap();
    assert_eq!(diff, [(1.0 - 0.92) * -6.0, (1.0 - 0.92) * 1.0]);
    assert_eq!(opt.buffer(0, "previous_grad").unwrap(), [3.0, -0.5]);
}

#[test]
fn a_betas_key_names_the_split_keys() {
    let err = build("adan:betas=[0.9,0.9,0.9]").unwrap_err().to_string();
    assert!(err.ends_with("use beta1, beta2 and beta3"), "{err}");
    let err = build("lion:betas=[0.9,0.9]").unwrap_err().to_string();
    assert!(err.ends_with("use beta1 and beta2"), "{err}");
}
