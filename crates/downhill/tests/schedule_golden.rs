//! Every schedule against PyTorch's `torch.optim.lr_scheduler` (float64):
//! golden sequences from `scripts/golden_schedules.py`, compared to 1e-12 relative.

use downhill::schedule::{build, Scheduler};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    torch: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    spec: String,
    base_lr: f64,
    steps: u64,
    metrics: Option<Vec<f64>>,
    lr: Vec<f64>,
    momentum: Option<Vec<f64>>,
}

const TOLERANCE: f64 = 1e-12;

fn golden() -> Golden {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/schedules/schedules.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("golden file")).expect("golden JSON")
}

/// |a − b| relative to the larger magnitude (0 when both are 0).
fn relative(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

#[test]
fn every_schedule_matches_pytorch() {
    let golden = golden();
    assert!(
        golden.torch.starts_with('2'),
        "torch version recorded: {}",
        golden.torch
    );
    assert!(golden.cases.len() >= 50);
    let (mut worst, mut exact, mut total) = (0.0f64, 0usize, 0usize);
    for case in &golden.cases {
        let mut scheduler = Scheduler::new(build(&case.spec).unwrap(), case.base_lr).unwrap();
        assert_eq!(case.lr.len() as u64, case.steps);
        for k in 0..case.steps as usize {
            if k > 0 {
                if let Some(metrics) = &case.metrics {
                    scheduler.observe(metrics[k - 1]);
                }
                scheduler.advance().unwrap();
            }
            let (ours, theirs) = (scheduler.lr(), case.lr[k]);
            let deviation = relative(ours, theirs);
            assert!(
                deviation <= TOLERANCE,
                "{} step {k}: lr {ours} vs PyTorch {theirs}",
                case.spec
            );
            worst = worst.max(deviation);
            exact += usize::from(ours == theirs);
            total += 1;
            match &case.momentum {
                Some(momenta) => {
                    let ours = scheduler.momentum().expect("a momentum");
                    assert!(
                        relative(ours, momenta[k]) <= TOLERANCE,
                        "{} step {k}: momentum {ours} vs PyTorch {}",
                        case.spec,
                        momenta[k]
                    );
                }
                None => assert_eq!(scheduler.momentum(), None, "{}", case.spec),
            }
        }
    }
    eprintln!(
        "{total} lrs from {} cases: {exact} bit-identical, worst relative deviation {worst:e}",
        golden.cases.len()
    );
}
