//! For the same gradients, steps through the candle adapter equal the
//! downhill-optim slice path bit for bit, for every rule.

mod common;

use candle_core::{DType, Var};
use candle_nn::Optimizer as _;
use common::{flat, grads, var};
use downhill_candle::Builder;
use downhill_optim::{AnyRule, ParamGroup, Scalar, OPTIMIZERS};

const SHAPES: [[usize; 2]; 2] = [[4, 3], [3, 5]];

/// Steps `rule` three times both ways; the adapter must fail exactly when
/// the slice path does. Returns whether the steps were taken.
fn check<T: Scalar>(rule: AnyRule, dtype: DType, clip: Option<f64>) -> bool {
    let name = downhill_optim::RuleSet::name(&rule);
    let shapes: Vec<Vec<usize>> = SHAPES.iter().map(|s| s.to_vec()).collect();
    let vars: Vec<Var> = SHAPES
        .iter()
        .zip(1..)
        .map(|(s, seed)| var(s, dtype, seed))
        .collect();
    let mut params: Vec<Vec<T>> = vars
        .iter()
        .map(|v| flat(v).into_iter().map(T::of).collect())
        .collect();
    let mut reference =
        downhill_optim::Optimizer::<T>::with_groups(rule.clone(), vec![ParamGroup::shaped(shapes)])
            .unwrap();
    let named = vars
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("v{i}"), v.clone()));
    let mut builder = Builder::from_named(named, rule);
    if let Some(max) = clip {
        builder = builder.clip_global_norm(max);
    }
    let mut adapter = builder.build().unwrap();
    for step in 0..3 {
        let store = grads(&vars.iter().collect::<Vec<_>>(), 10 * step);
        let mut g: Vec<T> = vars
            .iter()
            .flat_map(|v| flat(store.get(v.as_tensor()).unwrap()))
            .map(T::of)
            .collect();
        if let Some(max) = clip {
            let sizes: Vec<usize> = vars.iter().map(|v| v.elem_count()).collect();
            downhill::train::Clip::GlobalNorm(max).apply(&mut g, &sizes);
        }
        let (g0, g1) = g.split_at(params[0].len());
        let (p0, p1) = params.split_at_mut(1);
        let expected = reference.step_tensors(&mut [&mut p0[0], &mut p1[0]], &[g0, g1]);
        let got = adapter.step(&store);
        match (expected, got) {
            (Ok(_), Ok(())) => {}
            (Err(_), Err(_)) => return false,
            (e, g) => panic!("{name}: slice path {e:?}, adapter {g:?}"),
        }
        for (p, v) in params.iter_mut().zip(&vars) {
            if dtype == DType::BF16 || dtype == DType::F16 {
                // Rounded back to the variable's precision, read again next step.
                let t = candle_core::Tensor::from_vec(
                    p.iter().map(|x| x.widen()).collect::<Vec<_>>(),
                    p.len(),
                    v.device(),
                )
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
                *p = flat(&t).into_iter().map(T::of).collect();
            }
            let got: Vec<T> = flat(v).into_iter().map(T::of).collect();
            assert!(
                got.iter()
                    .zip(p.iter())
                    .all(|(a, b)| a.widen().to_bits() == b.widen().to_bits()),
                "{name} ({dtype:?}) step {step}: adapter differs from the slice path"
            );
        }
    }
    true
}

/// The rules both paths refuse to step without an objective (L-BFGS, the
/// look-ahead form of Nesterov).
const NEEDS_OBJECTIVE: [&str; 2] = ["lbfgs", "nag"];

fn every_rule<T: Scalar>(dtype: DType) {
    for entry in OPTIMIZERS {
        let stepped = check::<T>((entry.make)(), dtype, None);
        assert_eq!(
            stepped,
            !NEEDS_OBJECTIVE.contains(&entry.name),
            "{}",
            entry.name
        );
    }
}

#[test]
fn every_rule_matches_the_slice_path_in_f32() {
    every_rule::<f32>(DType::F32);
}

#[test]
fn every_rule_matches_the_slice_path_in_f64() {
    every_rule::<f64>(DType::F64);
}

#[test]
fn half_precision_steps_in_f32_and_rounds_back() {
    for spec in ["adamw:lr=0.01", "sgd:lr=0.1,momentum=0.9", "lion:lr=0.01"] {
        assert!(check::<f32>(
            downhill_optim::build(spec).unwrap(),
            DType::BF16,
            None
        ));
        assert!(check::<f32>(
            downhill_optim::build(spec).unwrap(),
            DType::F16,
            None
        ));
    }
}

#[test]
fn global_norm_clipping_is_downhills_clip() {
    check::<f32>(
        downhill_optim::build("adam").unwrap(),
        DType::F32,
        Some(0.5),
    );
    check::<f64>(
        downhill_optim::build("sgd:lr=0.1").unwrap(),
        DType::F64,
        Some(0.5),
    );
}

#[test]
fn lbfgs_is_refused_with_a_clear_error() {
    let v = var(&[3], DType::F32, 1);
    let mut opt = Builder::from_named(
        [("w".to_string(), v.clone())],
        downhill_optim::build("lbfgs").unwrap(),
    )
    .build()
    .unwrap();
    let err = opt.step(&grads(&[&v], 0)).unwrap_err().to_string();
    assert!(err.contains("lbfgs"), "{err}");
}
