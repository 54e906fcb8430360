//! The update formulas equal their references bit for bit: every case of the
//! trajectory goldens (torch.optim, lion-pytorch, pytorch-optimizer; float64),
//! replayed with the gradients the reference computed, recorded by
//! `scripts/golden_replay.py` in tests/golden/replay/. (The trajectory tests
//! compare whole runs, whose gradients come from downhill's surface formulas
//! and round differently from autograd.)
//!
//! Each step must give exactly the reference's point, up to the first step at
//! which PyTorch took a square root that is not the correctly rounded one
//! (its CPU `sqrt` goes through MKL's vdSqrt; downhill's is IEEE's); from there
//! on the points must agree to [`AFTER_INEXACT_SQRT`].

use downhill_optim::{build, Optimizer, ParamGroup};
use serde_json::Value;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/replay")
}

/// Relative agreement (with a floor of 1e-3) required after the reference's
/// first inexact square root.
const AFTER_INEXACT_SQRT: f64 = 1e-11;

struct Case {
    spec: String,
    start: [f64; 2],
    /// `[2]` (a vector) or `[1, 2]` (a 1×2 matrix).
    shape: Vec<usize>,
    steps: usize,
    /// The first step at which the reference's `sqrt` was not correctly rounded.
    first_inexact_sqrt: Option<usize>,
}

/// (gradient, point after the step) of one step.
type Step = ([f64; 2], [f64; 2]);

fn load() -> (Vec<Case>, Vec<Vec<Step>>) {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(golden_dir().join("cases.json")).unwrap())
            .unwrap();
    let cases: Vec<Case> = meta["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            spec: c["spec"].as_str().unwrap().to_string(),
            start: [
                c["start"][0].as_f64().unwrap(),
                c["start"][1].as_f64().unwrap(),
            ],
            shape: c["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect(),
            steps: c["steps"].as_u64().unwrap() as usize,
            first_inexact_sqrt: c["first_inexact_sqrt"].as_u64().map(|s| s as usize),
        })
        .collect();
    let text = std::fs::read_to_string(golden_dir().join("replay.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("case,step,gx,gy,x,y"));
    let mut steps = vec![Vec::new(); cases.len()];
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (case, step): (usize, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let n: Vec<f64> = f[2..].iter().map(|v| v.parse().unwrap()).collect();
        assert_eq!(step, steps[case].len() + 1, "{line}");
        steps[case].push(([n[0], n[1]], [n[2], n[3]]));
    }
    (cases, steps)
}

#[test]
fn every_case_replays_bit_for_bit() {
    let (cases, steps) = load();
    assert!(cases.len() > 200, "{} cases", cases.len());
    let (mut failures, mut exact_cases) = (Vec::new(), 0);
    for (case, steps) in cases.iter().zip(&steps) {
        assert_eq!(steps.len(), case.steps, "{}", case.spec);
        let group = ParamGroup::shaped(vec![case.shape.clone()]);
        let mut opt =
            Optimizer::<f64>::with_groups(build(&case.spec).unwrap(), vec![group]).unwrap();
        let mut point = case.start;
        let mut exact = true;
        for (k, (grad, expected)) in steps.iter().enumerate() {
            let step = k + 1;
            opt.step(&mut point, grad).unwrap();
            exact &= point == *expected;
            let strict = case.first_inexact_sqrt.is_none_or(|first| step < first);
            let close = point
                .iter()
                .zip(expected)
                .all(|(a, b)| (a - b).abs() <= AFTER_INEXACT_SQRT * b.abs().max(1e-3));
            if (strict && point != *expected) || !close {
                failures.push(format!(
                    "{} from {:?}: step {step} gives {point:?}, the reference {expected:?} \
                     (first inexact reference sqrt: {:?})",
                    case.spec, case.start, case.first_inexact_sqrt
                ));
                break;
            }
        }
        exact_cases += usize::from(exact);
    }
    eprintln!(
        "{exact_cases} of {} cases replay bit for bit at every step",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The case issue 13 named: one ulp apart at step 17 when `addcmul`, `lerp`
/// and `add(alpha=…)` were evaluated with two roundings.
#[test]
fn centered_rmsprop_with_momentum_on_six_hump_camel_is_exact_for_250_steps() {
    let (cases, steps) = load();
    let index = cases
        .iter()
        .position(|c| c.spec == "rmsprop:lr=0.002,alpha=0.9,momentum=0.5,centered=true")
        .unwrap();
    assert_eq!((cases[index].start, steps[index].len()), ([-1.5, 1.0], 250));
    let mut opt = Optimizer::<f64>::new(build(&cases[index].spec).unwrap(), 2).unwrap();
    let mut point = cases[index].start;
    for (grad, expected) in &steps[index] {
        opt.step(&mut point, grad).unwrap();
        assert_eq!(point, *expected);
    }
}
