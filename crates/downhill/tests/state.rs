//! Saved optimizer state: save → load → continue is bit-identical, for every
//! optimizer; damaged or mismatched state is refused; failed steps change nothing.

use downhill::hyper::Value;
use downhill::optim::{build, Optimizer, ParamGroup, StepError, OPTIMIZERS};
use downhill::surface::{Landscape, Surface};
use downhill::StateFiles;

/// Every optimizer with options that create every kind of state.
const SPECS: &[&str] = &[
    "gd:lr=0.001",
    "momentum:lr=0.001",
    "nag:lr=0.001",
    "sgd:lr=0.001,momentum=0.9,dampening=0.1,weight_decay=0.01",
    "sgd:lr=0.001,momentum=0.9,nesterov=true",
    "adagrad:lr=0.1,lr_decay=0.01,initial_accumulator_value=0.1",
    "rmsprop:lr=0.01,centered=true,momentum=0.5",
    "adadelta:lr=0.5",
    "adam:lr=0.01,amsgrad=true",
    "adamw:lr=0.01",
    "nadam:lr=0.01,decoupled_weight_decay=true,weight_decay=0.1",
    "radam:lr=0.01",
    "adamax:lr=0.01",
    "rprop",
    "asgd:lr=0.001,t0=5",
];

/// A 2-D problem stacked `copies` times (several tensors), the gradient of the sum.
fn grads(params: &[f64]) -> Vec<f64> {
    params
        .chunks(2)
        .flat_map(|p| Surface::Rosenbrock.gradient(p[0], p[1]))
        .collect()
}

fn step<F: FnMut(&[f64]) -> Vec<f64>>(opt: &mut Optimizer<f64>, params: &mut [f64], mut f: F) {
    let mut g = vec![0.0; params.len()];
    opt.step_with(params, &mut g, |p, g| {
        g.copy_from_slice(&f(p));
        0.0
    })
    .unwrap();
}

fn grouped(spec: &str) -> Optimizer<f64> {
    let rule = build(spec).unwrap();
    let mut second = ParamGroup::new(vec![2]).with("lr", Value::Float(0.0005));
    if rule.hyper().get("weight_decay").is_some() {
        second = second.with("weight_decay", Value::Float(0.0));
    }
    Optimizer::with_groups(rule, vec![ParamGroup::new(vec![2, 2]), second]).unwrap()
}

#[test]
fn save_load_continue_is_bit_identical_for_every_optimizer() {
    for spec in SPECS {
        let start = vec![-1.2, 1.0, 0.5, 0.5, -0.3, 2.0];
        let mut straight = grouped(spec);
        let mut p1 = start.clone();
        for _ in 0..60 {
            step(&mut straight, &mut p1, grads);
        }

        let mut first = grouped(spec);
        let mut p2 = start.clone();
        for _ in 0..25 {
            step(&mut first, &mut p2, grads);
        }
        let text = first.to_json().unwrap();
        drop(first);
        let mut resumed = Optimizer::<f64>::from_json(&text).unwrap();
        for _ in 25..60 {
            step(&mut resumed, &mut p2, grads);
        }
        assert!(
            p1.iter().zip(&p2).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{spec}: {p1:?} vs {p2:?}"
        );
        assert_eq!(straight, resumed, "{spec}: state differs after resume");
        assert_eq!(
            straight.to_json().unwrap(),
            resumed.to_json().unwrap(),
            "{spec}"
        );
    }
}

#[test]
fn f32_state_round_trips_exactly() {
    for spec in SPECS {
        let mut opt = Optimizer::<f32>::new(build(spec).unwrap(), 3).unwrap();
        let mut p = [0.3f32, -1.7, 2.25];
        let mut g = [0f32; 3];
        for k in 0..17 {
            opt.step_with(&mut p, &mut g, |p, g| {
                for (gi, pi) in g.iter_mut().zip(p) {
                    *gi = pi * 0.7 + (k as f32).sin() * 1e-3;
                }
                0.0
            })
            .unwrap();
        }
        let back = Optimizer::<f32>::from_json(&opt.to_json().unwrap()).unwrap();
        assert_eq!(opt, back, "{spec}");
        assert!(Optimizer::<f64>::from_json(&opt.to_json().unwrap())
            .unwrap_err()
            .to_string()
            .contains("f32"));
    }
}

#[test]
fn separate_tensors_step_like_the_flat_vector() {
    for spec in SPECS.iter().filter(|s| !s.starts_with("nag")) {
        let mut flat = grouped(spec);
        let mut split = grouped(spec);
        let mut p = vec![-1.2, 1.0, 0.5, 0.5, -0.3, 2.0];
        let (mut a, mut b, mut c) = ([-1.2, 1.0], [0.5, 0.5], [-0.3, 2.0]);
        for _ in 0..40 {
            let g = grads(&p);
            flat.step(&mut p, &g).unwrap();
            let (ga, gb, gc) = (grads(&a), grads(&b), grads(&c));
            split
                .step_tensors(&mut [&mut a, &mut b, &mut c], &[&ga, &gb, &gc])
                .unwrap();
        }
        assert_eq!([a, b, c].concat(), p, "{spec}");
        assert_eq!(flat, split, "{spec}");
    }
}

#[test]
fn groups_use_their_own_learning_rate() {
    let opt = grouped("sgd:lr=0.01,weight_decay=0.1");
    assert_eq!(opt.get(0, "lr"), Some(Value::Float(0.01)));
    assert_eq!(opt.get(1, "lr"), Some(Value::Float(0.0005)));
    assert_eq!(opt.get(0, "weight_decay"), Some(Value::Float(0.1)));
    assert_eq!(opt.get(1, "weight_decay"), Some(Value::Float(0.0)));
    let mut opt = opt;
    let mut p = vec![1.0; 6];
    opt.step(&mut p, &[1.0; 6]).unwrap();
    assert_eq!(
        p,
        vec![
            1.0 - 0.01 * 1.1,
            1.0 - 0.01 * 1.1,
            1.0 - 0.01 * 1.1,
            1.0 - 0.01 * 1.1,
            0.9995,
            0.9995
        ]
    );
}

#[test]
fn non_finite_gradients_change_nothing() {
    for spec in SPECS.iter().filter(|s| !s.starts_with("nag")) {
        let mut opt = grouped(spec);
        let mut p = vec![-1.2, 1.0, 0.5, 0.5, -0.3, 2.0];
        for _ in 0..5 {
            let g = grads(&p);
            opt.step(&mut p, &g).unwrap();
        }
        let (before_opt, before_p) = (opt.clone(), p.clone());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut g = grads(&p);
            g[4] = bad;
            let err = opt.step(&mut p, &g).unwrap_err();
            assert!(
                matches!(err, StepError::NonFiniteGradient { index: 4, .. }),
                "{spec}: {err}"
            );
            assert_eq!(opt, before_opt, "{spec}: state changed");
            assert_eq!(p, before_p, "{spec}: parameters changed");
        }
    }
}

#[test]
fn wrong_lengths_are_errors() {
    let mut opt = grouped("adam");
    let mut p = vec![0.0; 6];
    assert!(matches!(
        opt.step(&mut p, &[0.0; 5]),
        Err(StepError::Length {
            what: "gradients",
            ..
        })
    ));
    assert!(matches!(
        opt.step(&mut p[..4], &[0.0; 4]),
        Err(StepError::Length {
            what: "parameters",
            ..
        })
    ));
    let (mut a, mut b) = ([0.0; 2], [0.0; 3]);
    let err = opt
        .step_tensors(&mut [&mut a, &mut b], &[&[0.0; 2], &[0.0; 3]])
        .unwrap_err();
    assert!(matches!(err, StepError::TensorCount { .. }), "{err}");
    let mut c = [0.0; 2];
    let err = opt
        .step_tensors(
            &mut [&mut a, &mut b, &mut c],
            &[&[0.0; 2], &[0.0; 3], &[0.0; 2]],
        )
        .unwrap_err();
    assert!(
        matches!(err, StepError::TensorLength { index: 1, .. }),
        "{err}"
    );
    let mut nag = Optimizer::<f64>::new(build("nag").unwrap(), 2).unwrap();
    assert!(matches!(
        nag.step(&mut [0.0; 2], &[1.0; 2]),
        Err(StepError::NeedsObjective { .. })
    ));
}

#[test]
fn damaged_or_mismatched_state_is_refused() {
    let mut opt = grouped("adam:amsgrad=true");
    let mut p = vec![0.5; 6];
    let g = grads(&p);
    opt.step(&mut p, &g).unwrap();
    let good = opt.to_json().unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            good[..good.len() / 2].to_string(),
            "not a readable optimizer state",
        ),
        (
            good.replace("downhill-optimizer-state", "something-else"),
            "not an optimizer state",
        ),
        (
            good.replace("\"version\":2", "\"version\":99"),
            "version 99 is not supported",
        ),
        (good.replace("\"exp_avg_sq\"", "\"exp_avg_sqq\""), "buffers"),
        (
            good.replace("\"lr\":0.001", "\"lr\":-1.0"),
            "lr must be in [0, inf), got -1.0",
        ),
        (
            good.replace("\"sizes\":[2,2]", "\"sizes\":[2,3]"),
            "has 4 values, expected 5",
        ),
        (String::new(), "not a readable optimizer state"),
    ];
    for (text, want) in cases {
        let err = Optimizer::<f64>::from_json(&text).unwrap_err().to_string();
        assert!(err.contains(want), "expected '{want}' in '{err}'");
    }
    // A state of another optimizer or layout does not load into this one.
    let other = Optimizer::<f64>::new(build("sgd:momentum=0.9").unwrap(), 6).unwrap();
    let before = opt.clone();
    let err = opt.load(other.save().unwrap()).unwrap_err().to_string();
    assert!(err.contains("saved layout"), "{err}");
    assert_eq!(opt, before);
}

#[test]
fn every_optimizer_name_builds_with_defaults() {
    for entry in OPTIMIZERS {
        let rule = build(entry.name).unwrap();
        // A 2×2 matrix: every rule takes one (muon takes nothing else).
        let group = ParamGroup::shaped(vec![vec![2, 2]]);
        let opt = Optimizer::<f64>::with_groups(rule, vec![group]).unwrap();
        assert_eq!(opt.len(), 4);
        assert!(!entry.keys().is_empty(), "{}", entry.name);
    }
}

#[test]
fn setting_a_key_that_reshapes_state_is_refused() {
    let mut opt = Optimizer::<f64>::new(build("adam").unwrap(), 2).unwrap();
    let err = opt
        .set_all("amsgrad", &Value::Bool(true))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot be changed after construction"),
        "{err}"
    );
    let err = opt
        .set_all("lr", &Value::Float(-1.0))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "adam: lr must be in [0, inf), got -1.0");
    opt.set_all("beta1", &Value::Float(0.5)).unwrap();
    assert_eq!(opt.get(0, "beta1"), Some(Value::Float(0.5)));
}

/// ASGD's average `ax`, `eta` and `mu` follow torch step by step
/// (golden: `scripts/golden_asgd_state.py`).
#[test]
fn asgd_average_matches_torch() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/optim/asgd_state.json"
    ))
    .unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-3);
    for case in golden["cases"].as_array().unwrap() {
        let spec = case["spec"].as_str().unwrap();
        let mut opt = Optimizer::<f64>::new(build(spec).unwrap(), 2).unwrap();
        let mut p = [
            case["start"][0].as_f64().unwrap(),
            case["start"][1].as_f64().unwrap(),
        ];
        for (k, want) in case["steps"].as_array().unwrap().iter().enumerate() {
            let g = Surface::Booth.gradient(p[0], p[1]);
            opt.step(&mut p, &g).unwrap();
            let saved = opt.save().unwrap();
            let group = &saved.groups[0];
            for i in 0..2 {
                assert!(
                    close(p[i], want["params"][i].as_f64().unwrap()),
                    "{spec} step {k} param {i}"
                );
                assert!(
                    close(group.buffers["ax"][i], want["ax"][i].as_f64().unwrap()),
                    "{spec} step {k} ax {i}"
                );
            }
            assert!(
                close(group.scalars["eta"], want["eta"].as_f64().unwrap()),
                "{spec} step {k} eta"
            );
            assert!(
                close(group.scalars["mu"], want["mu"].as_f64().unwrap()),
                "{spec} step {k} mu"
            );
        }
    }
}
