//! L-BFGS against `torch.optim.LBFGS`: trajectories, returned losses and
//! evaluation counts recorded in float64 by `scripts/golden_lbfgs.py`
//! (tests/golden/lbfgs/cases.json), on 2-D surfaces and two 20-dimensional
//! ones, with and without the strong-Wolfe line search.

mod common;

use downhill_optim::{build, Optimizer, OPTIMIZERS};
use serde_json::Value;
use std::path::PathBuf;

/// |a − b| ≤ TOLERANCE·max(|b|, REL_FLOOR) at every point and loss.
const TOLERANCE: f64 = 1e-9;
const REL_FLOOR: f64 = 1e-3;

fn cases() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/lbfgs/cases.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// f and ∇f of the generator's surfaces, term for term as it computes them.
fn surface(name: &str, v: &[f64], g: &mut [f64]) -> f64 {
    let two = |g: &mut [f64], f: f64, gx: f64, gy: f64| {
        g.copy_from_slice(&[gx, gy]);
        f
    };
    match name {
        "rosenbrock" => {
            let (x, y) = (v[0], v[1]);
            let (a, b) = (1.0 - x, y - x * x);
            two(
                g,
                a * a + 100.0 * (b * b),
                -2.0 * a - 400.0 * x * b,
                200.0 * b,
            )
        }
        "booth" | "neg-booth" => {
            let sign = if name == "booth" { 1.0 } else { -1.0 };
            let (x, y) = (v[0], v[1]);
            let (a, b) = (x + 2.0 * y - 7.0, 2.0 * x + y - 5.0);
            let f = two(g, a * a + b * b, 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b);
            g.iter_mut().for_each(|x| *x *= sign);
            f * sign
        }
        "himmelblau" => {
            let (x, y) = (v[0], v[1]);
            let (a, b) = (x * x + y - 11.0, x + y * y - 7.0);
            two(
                g,
                a * a + b * b,
                4.0 * x * a + 2.0 * b,
                2.0 * a + 4.0 * y * b,
            )
        }
        "anisotropic" => {
            let (x, y) = (v[0], v[1]);
            two(g, x * x / 20.0 + y * y, x / 10.0, 2.0 * y)
        }
        "quartic" => {
            let (x, y) = (v[0], v[1]);
            let x2 = x * x;
            let f = x2 * x2 + 2.0 * (x2 * x) + y * y - 1.0;
            two(g, f, 4.0 * (x2 * x) + 6.0 * x2, 2.0 * y)
        }
        "beale" => {
            let (x, y) = (v[0], v[1]);
            let (y2, y3) = (y * y, y * y * y);
            let a = 1.5 - x + x * y;
            let b = 2.25 - x + x * y2;
            let c = 2.625 - x + x * y3;
            let gx = 2.0 * a * (y - 1.0) + 2.0 * b * (y2 - 1.0) + 2.0 * c * (y3 - 1.0);
            let gy = 2.0 * a * x + 2.0 * b * 2.0 * x * y + 2.0 * c * 3.0 * x * y2;
            two(g, a * a + b * b + c * c, gx, gy)
        }
        "quadratic20" => {
            let n = v.len();
            let mut f = 0.0;
            for i in 0..n {
                let mut ax = (i + 1) as f64 * v[i];
                if i > 0 {
                    ax += 0.5 * v[i - 1];
                }
                if i + 1 < n {
                    ax += 0.5 * v[i + 1];
                }
                f += 0.5 * (v[i] * ax) - v[i];
                g[i] = ax - 1.0;
            }
            f
        }
        "rosenbrock20" => {
            let mut f = 0.0;
            for i in (0..v.len()).step_by(2) {
                let (x, y) = (v[i], v[i + 1]);
                let (a, b) = (1.0 - x, y - x * x);
                f += a * a + 100.0 * (b * b);
                g[i] = -2.0 * a - 400.0 * x * b;
                g[i + 1] = 200.0 * b;
            }
            f
        }
        other => panic!("unknown surface {other}"),
    }
}

fn deviation(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(REL_FLOOR)
}

fn scalar(opt: &Optimizer<f64>, name: &str) -> f64 {
    opt.save().unwrap().groups[0].scalars[name]
}

#[test]
fn trajectories_match_torch() {
    let doc = cases();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut worst = (0.0, String::new());
    for case in cases {
        let (spec, name) = (
            case["spec"].as_str().unwrap(),
            case["surface"].as_str().unwrap(),
        );
        let mut params = common::numbers(&case["start"]);
        let mut grads = vec![0.0; params.len()];
        let mut opt = Optimizer::<f64>::new(build(spec).unwrap(), params.len()).unwrap();
        for (k, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{spec} on {name}, step {}", k + 1);
            let done = opt
                .step_with(&mut params, &mut grads, |p, g| surface(name, p, g))
                .unwrap();
            let expected = common::numbers(&step["point"]);
            let loss = step["loss"].as_f64().unwrap();
            for (&got, &want) in params.iter().zip(&expected).chain([(&done.loss, &loss)]) {
                let off = deviation(got, want);
                assert!(off <= TOLERANCE, "{at}: {got} vs {want} ({off:.3e})");
                if off > worst.0 {
                    worst = (off, at.clone());
                }
            }
            for key in ["func_evals", "n_iter"] {
                assert_eq!(
                    scalar(&opt, key),
                    step[key].as_f64().unwrap(),
                    "{at}: {key}"
                );
            }
        }
    }
    eprintln!("worst relative deviation {:.3e} ({})", worst.0, worst.1);
}

#[test]
fn the_golden_data_records_its_provenance() {
    let doc = cases();
    assert_eq!(doc["generator"], "python3 scripts/golden_lbfgs.py");
    assert!(doc["versions"]["torch"].as_str().unwrap().starts_with("2."));
    let specs: Vec<&str> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["spec"].as_str().unwrap())
        .collect();
    assert!(specs.iter().any(|s| s.contains("strong_wolfe")));
    assert!(specs.iter().any(|s| !s.contains("strong_wolfe")));
    assert!(OPTIMIZERS.iter().any(|e| e.name == "lbfgs"));
}
