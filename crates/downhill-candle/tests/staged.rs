//! The staged path (host copies written back with `Var::set`, the path of
//! CUDA and Metal variables), forced on CPU variables, gives parameters
//! bit-identical to the in-place path; states move between the paths; a
//! failed step writes nothing.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::Optimizer as _;
use common::{flat, grads, var};
use downhill_candle::{Builder, Optimizer};
use downhill_optim::{AnyRule, NonFinite, OPTIMIZERS};

const SHAPES: [&[usize]; 3] = [&[4, 3], &[3], &[3, 5]];
const NAMES: [&str; 3] = ["fc.weight", "fc.bias", "head.weight"];

fn model(dtype: DType) -> Vec<Var> {
    SHAPES
        .iter()
        .zip(1..)
        .map(|(s, seed)| var(s, dtype, seed))
        .collect()
}

/// An optimizer over `vars` named by `NAMES`, configured by `configure`.
fn optimizer(
    vars: &[Var],
    rule: AnyRule,
    staged: bool,
    configure: impl Fn(Builder) -> Builder,
) -> Optimizer {
    let named = NAMES
        .iter()
        .map(|n| n.to_string())
        .zip(vars.iter().cloned());
    let mut builder = configure(Builder::from_named(named, rule));
    if staged {
        builder = builder.staged();
    }
    let opt = builder.build().unwrap();
    assert_eq!(opt.staged(), staged);
    opt
}

fn train(opt: &mut Optimizer, vars: &[Var], steps: std::ops::Range<u64>) {
    for step in steps {
        opt.step(&grads(&vars.iter().collect::<Vec<_>>(), step))
            .unwrap();
    }
}

fn bits(vars: &[Var]) -> Vec<Vec<u64>> {
    vars.iter()
        .map(|v| flat(v).iter().map(|x| x.to_bits()).collect())
        .collect()
}

/// `steps` steps in place and staged from the same values: the same bits.
fn same_both_ways(
    rule: AnyRule,
    dtype: DType,
    steps: u64,
    configure: impl Fn(Builder) -> Builder + Copy,
) {
    let name = downhill_optim::RuleSet::name(&rule);
    let (in_place, staged) = (model(dtype), model(dtype));
    let mut a = optimizer(&in_place, rule.clone(), false, configure);
    let mut b = optimizer(&staged, rule, true, configure);
    train(&mut a, &in_place, 0..steps);
    train(&mut b, &staged, 0..steps);
    assert_ne!(bits(&staged), bits(&model(dtype)), "{name}: nothing moved");
    assert_eq!(bits(&in_place), bits(&staged), "{name} ({dtype:?})");
    assert_eq!(a.steps_taken(), b.steps_taken());
}

fn adamw_groups_schedule_clip(b: Builder) -> Builder {
    b.group("*.bias", "weight_decay=0")
        .unwrap()
        .group("head.*", "lr=0.003")
        .unwrap()
        .schedule(
            downhill_schedule::build(
                "sequential:schedulers=[linear:start_factor=0.1,total_iters=3;cosine:t_max=7],milestones=[3]",
            )
            .unwrap(),
        )
        .clip_global_norm(0.5)
}

#[test]
fn adamw_with_groups_schedule_and_clipping_is_bit_identical() {
    let rule = downhill_optim::build("adamw:lr=0.01,weight_decay=0.1").unwrap();
    same_both_ways(rule, DType::F32, 10, adamw_groups_schedule_clip);
}

#[test]
fn sgd_nesterov_is_bit_identical() {
    let rule = downhill_optim::build("sgd:lr=0.1,momentum=0.9,nesterov=true").unwrap();
    same_both_ways(rule, DType::F32, 10, |b| b);
}

#[test]
fn half_precision_is_bit_identical() {
    for dtype in [DType::BF16, DType::F16] {
        let rule = downhill_optim::build("adamw:lr=0.01,weight_decay=0.1").unwrap();
        same_both_ways(rule, dtype, 10, adamw_groups_schedule_clip);
    }
}

#[test]
fn every_rule_is_bit_identical_in_f32_and_f64() {
    for entry in OPTIMIZERS {
        if ["lbfgs", "nag"].contains(&entry.name) {
            continue; // refused by both paths (tests/parity.rs)
        }
        for dtype in [DType::F32, DType::F64] {
            // The bias gets adamw: some rules (muon) step matrices only.
            same_both_ways((entry.make)(), dtype, 3, |b| {
                b.group_rule("*.bias", downhill_optim::build("adamw").unwrap())
                    .clip_global_norm(1.0)
            });
        }
    }
}

/// Five steps one way, saved, loaded by an optimizer on the other path,
/// five more: the parameters of ten uninterrupted in-place steps.
fn resume_across(first_staged: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opt.safetensors");
    let rule = || downhill_optim::build("adamw:lr=0.01,weight_decay=0.1").unwrap();
    let straight = model(DType::F32);
    let mut opt = optimizer(&straight, rule(), false, adamw_groups_schedule_clip);
    train(&mut opt, &straight, 0..10);

    let first = model(DType::F32);
    let mut opt = optimizer(&first, rule(), first_staged, adamw_groups_schedule_clip);
    train(&mut opt, &first, 0..5);
    opt.save(&path).unwrap();
    let resumed: Vec<Var> = first
        .iter()
        .map(|v| Var::from_tensor(&v.copy().unwrap()).unwrap())
        .collect();
    let mut opt = optimizer(&resumed, rule(), !first_staged, adamw_groups_schedule_clip);
    opt.load(&path).unwrap();
    assert_eq!(opt.steps_taken(), 5);
    train(&mut opt, &resumed, 5..10);
    assert_eq!(bits(&straight), bits(&resumed));
}

#[test]
fn a_state_saved_in_place_resumes_staged() {
    resume_across(false);
}

#[test]
fn a_state_saved_staged_resumes_in_place() {
    resume_across(true);
}

#[test]
fn a_refused_step_writes_nothing() {
    for dtype in [DType::F32, DType::BF16] {
        let rule = || downhill_optim::build("adamw:lr=0.01").unwrap();
        let (vars, reference) = (model(dtype), model(dtype));
        let mut opt = optimizer(&vars, rule(), true, adamw_groups_schedule_clip);
        let mut other = optimizer(&reference, rule(), false, adamw_groups_schedule_clip);
        opt.set_non_finite(NonFinite::Error);
        train(&mut opt, &vars, 0..2);
        train(&mut other, &reference, 0..2);
        let before = bits(&vars);

        let mut store = grads(&vars.iter().collect::<Vec<_>>(), 2);
        let mut poisoned: Vec<f64> = vec![0.5; SHAPES[2].iter().product()];
        poisoned[4] = f64::NAN;
        let nan = Tensor::from_vec(poisoned, SHAPES[2], &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        store.insert(vars[2].as_tensor(), nan);
        let err = opt.step(&store).unwrap_err().to_string();
        assert!(err.contains("finite"), "{err}");
        assert_eq!(bits(&vars), before, "{dtype:?}: a refused step wrote");
        assert_eq!(opt.steps_taken(), 2);

        // The state did not move either: the next steps match a run that never failed.
        train(&mut opt, &vars, 2..5);
        train(&mut other, &reference, 2..5);
        assert_eq!(bits(&vars), bits(&reference), "{dtype:?}");
    }
}
