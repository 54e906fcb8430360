//! Save → load → continue reproduces an uninterrupted run bit for bit, and a
//! state for other variables or rules is refused, changing nothing.

mod common;

use candle_core::{DType, Var};
use candle_nn::Optimizer as _;
use common::{flat, grads, var};
use downhill_candle::{Builder, Optimizer};

const SHAPES: [&[usize]; 3] = [&[4, 3], &[3], &[3, 5]];
const NAMES: [&str; 3] = ["fc.weight", "fc.bias", "head.weight"];

fn model() -> Vec<Var> {
    SHAPES
        .iter()
        .zip(1..)
        .map(|(s, seed)| var(s, DType::F32, seed))
        .collect()
}

fn optimizer(vars: &[Var], spec: &str) -> Optimizer {
    let named = NAMES
        .iter()
        .map(|n| n.to_string())
        .zip(vars.iter().cloned());
    Builder::from_named(named, downhill_optim::build(spec).unwrap())
        .group("*.bias", "weight_decay=0")
        .unwrap()
        .group_rule("head.*", downhill_optim::build("muon:lr=0.01").unwrap())
        .schedule(downhill_schedule::build("sequential:schedulers=[linear:start_factor=0.1,total_iters=3;cosine:t_max=7],milestones=[3]").unwrap())
        .clip_global_norm(1.0)
        .build()
        .unwrap()
}

fn train(opt: &mut Optimizer, vars: &[Var], steps: std::ops::Range<u64>) {
    for step in steps {
        opt.step(&grads(&vars.iter().collect::<Vec<_>>(), step))
            .unwrap();
    }
}

#[test]
fn save_load_resume_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opt.safetensors");
    let straight = model();
    let mut opt = optimizer(&straight, "adamw:lr=0.01,weight_decay=0.1");
    train(&mut opt, &straight, 0..10);

    let first = model();
    let mut opt = optimizer(&first, "adamw:lr=0.01,weight_decay=0.1");
    train(&mut opt, &first, 0..5);
    opt.save(&path).unwrap();
    let resumed: Vec<Var> = first
        .iter()
        .map(|v| Var::from_tensor(&v.copy().unwrap()).unwrap())
        .collect();
    let mut opt = optimizer(&resumed, "adamw:lr=0.01,weight_decay=0.1");
    opt.load(&path).unwrap();
    assert_eq!(opt.steps_taken(), 5);
    train(&mut opt, &resumed, 5..10);
    for (a, b) in straight.iter().zip(&resumed) {
        let bits = |v: &Var| flat(v).iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b));
    }
}

#[test]
fn a_mismatching_state_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opt.safetensors");
    let vars = model();
    let mut saved = optimizer(&vars, "adamw:lr=0.01");
    train(&mut saved, &vars, 0..2);
    saved.save(&path).unwrap();

    let mut other = optimizer(&vars, "sgd:lr=0.1,momentum=0.9");
    let before = other.to_tensors().unwrap();
    let err = other.load(&path).unwrap_err().to_string();
    assert!(
        err.contains("does not match") || err.contains("differs"),
        "{err}"
    );
    let after = other.to_tensors().unwrap();
    assert_eq!(
        before.keys().collect::<std::collections::BTreeSet<_>>(),
        after.keys().collect()
    );
    for (k, t) in &before {
        assert_eq!(flat(t), flat(&after[k]), "{k} changed");
    }

    let renamed = NAMES
        .iter()
        .map(|n| format!("x.{n}"))
        .zip(vars.iter().cloned());
    let mut renamed = Builder::from_named(renamed, downhill_optim::build("adamw:lr=0.01").unwrap())
        .build()
        .unwrap();
    let err = renamed.load(&path).unwrap_err().to_string();
    assert!(err.contains("is for variables"), "{err}");
}

#[test]
fn groups_follow_name_patterns() {
    let vars = model();
    let opt = optimizer(&vars, "adamw:lr=0.01,weight_decay=0.1");
    assert_eq!(opt.names(), ["fc.weight", "fc.bias", "head.weight"]);
    assert_eq!(downhill_optim::RuleSet::name(opt.rule(1)), "adam");
    assert_eq!(
        downhill_optim::hyper::Hyper::get(opt.rule(1), "weight_decay"),
        Some(downhill_optim::hyper::Value::Float(0.0))
    );
    assert_eq!(downhill_optim::RuleSet::name(opt.rule(2)), "muon");
}
