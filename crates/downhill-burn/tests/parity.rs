//! Steps through burn's optimizer interface equal downhill-optim's slice path
//! bit for bit, for every rule burn can drive, on a real backward pass.

mod common;

use burn::module::ParamId;
use burn::optim::GradientsParams;
use burn::optim::ModuleOptimizer;
use common::{values, Mlp};
use downhill_burn::{Downhill, Error};
use downhill_optim::{AnyRule, Optimizer, ParamGroup, RuleSet, OPTIMIZERS};

fn reference(rule: &AnyRule, shape: &[usize]) -> Optimizer<f32> {
    Optimizer::with_groups(rule.clone(), vec![ParamGroup::shaped(vec![shape.to_vec()])]).unwrap()
}

/// The gradient of parameter `id` (rank 1 or 2) as a vector.
pub fn grad(grads: &GradientsParams, id: ParamId, rank: usize) -> Vec<f32> {
    match rank {
        1 => values(grads.get::<1>(id).unwrap()),
        _ => values(grads.get::<2>(id).unwrap()),
    }
}

#[test]
fn every_rule_steps_like_the_slice_path() {
    let (mut driven, mut refused) = (Vec::new(), Vec::new());
    for entry in OPTIMIZERS {
        let rule = (entry.make)();
        let adapter = match Downhill::new(rule.clone()) {
            Ok(adapter) => adapter,
            Err(Error::NeedsObjective(name)) => {
                refused.push(name);
                continue;
            }
            Err(e) => panic!("{}: {e}", entry.name),
        };
        // Rules that update matrices only (muon) get a model without biases.
        let bias = rule.check_shape(&[3]).is_ok();
        let mut model = Mlp::new(bias);
        let mut optim = ModuleOptimizer::from(adapter);
        let mut slices = model.params();
        let mut refs: Vec<Optimizer<f32>> = slices
            .iter()
            .map(|(_, _, shape)| reference(&rule, shape))
            .collect();
        for k in 0..3 {
            let grads = model.grads(k);
            for ((id, values, shape), opt) in slices.iter_mut().zip(&mut refs) {
                opt.step(values, &grad(&grads, *id, shape.len())).unwrap();
            }
            model = optim.step(rule.lr(), model, grads);
            let stepped = model.params();
            for ((_, want, _), (_, got, _)) in slices.iter().zip(&stepped) {
                assert_eq!(got, want, "{} step {k}", entry.name);
            }
        }
        assert_ne!(slices, Mlp::new(bias).params(), "{}", entry.name);
        driven.push(entry.name);
    }
    // Every rule but those evaluating the loss inside the step.
    assert_eq!(refused, ["nag", "lbfgs"]);
    assert_eq!(driven.len() + 2, OPTIMIZERS.len(), "{driven:?}");
}

#[test]
fn specs_build_and_closure_rules_are_refused_by_name() {
    let adapter = Downhill::from_spec("adamw:lr=3e-4,weight_decay=0.1").unwrap();
    assert_eq!(adapter.rule().lr(), 3e-4);
    let err = Downhill::from_spec("lbfgs").unwrap_err();
    assert!(
        err.to_string().starts_with("lbfgs evaluates the loss"),
        "{err}"
    );
    let err = Downhill::from_spec("adamw:lrr=1").unwrap_err();
    assert!(err.to_string().contains("lr"), "{err}");
}
