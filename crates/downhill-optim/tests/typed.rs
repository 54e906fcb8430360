//! The typed interface of the built-in rules: `From` into `AnyRule`, `lr`,
//! momentum/β₁ for cyclic schedules, state buffers by name.

use downhill_optim::hyper::{Hyper, Value};
use downhill_optim::{
    build, Adadelta, Adagrad, Adam, Adamax, AnyRule, Asgd, Nadam, Nag, Optimizer, Radam, Rmsprop,
    Rprop, RuleSet, Sgd, OPTIMIZERS,
};

#[test]
fn every_rule_converts_into_any_rule() {
    let rules: Vec<AnyRule> = vec![
        Sgd::default().into(),
        Adagrad::default().into(),
        Rmsprop::default().into(),
        Adadelta::default().into(),
        Adam::default().into(),
        Nadam::default().into(),
        Radam::default().into(),
        Adamax::default().into(),
        Rprop::default().into(),
        Asgd::default().into(),
        Nag::default().into(),
    ];
    let names: Vec<&str> = rules.iter().map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "sgd", "adagrad", "rmsprop", "adadelta", "adam", "nadam", "radam", "adamax", "rprop",
            "asgd", "nag"
        ]
    );
    let opt = Optimizer::<f32>::new(Adam::adamw(), 3).unwrap();
    assert_eq!(opt.rule(0), &build("adamw").unwrap());
}

#[test]
fn typed_lr_and_momentum_agree_with_the_keys_for_every_optimizer_name() {
    for entry in OPTIMIZERS {
        let rule = (entry.make)();
        assert_eq!(
            Some(Value::Float(rule.lr())),
            rule.get("lr"),
            "{}",
            entry.name
        );
        let keyed = ["beta1", "momentum"].into_iter().find_map(|k| rule.get(k));
        assert_eq!(rule.momentum().map(Value::Float), keyed, "{}", entry.name);
        let mut changed = rule.clone();
        changed.set_lr(0.125);
        assert_eq!(
            changed.get("lr"),
            Some(Value::Float(0.125)),
            "{}",
            entry.name
        );
    }
}

#[test]
fn momentum_that_would_change_the_state_is_refused() {
    let mut opt = Optimizer::<f64>::new(build("sgd:lr=0.1").unwrap(), 2).unwrap();
    let err = opt.set_momentum_all(0.9).unwrap_err().to_string();
    assert!(err.contains("state buffers"), "{err}");
    assert_eq!(opt.momentum(0), Some(0.0));
    let mut opt = Optimizer::<f64>::new(build("adagrad").unwrap(), 2).unwrap();
    assert_eq!(opt.momentum(0), None);
    assert!(opt.set_momentum_all(0.9).is_err());
    let mut opt = Optimizer::<f64>::new(build("adam").unwrap(), 2).unwrap();
    opt.set_momentum_all(0.85).unwrap();
    assert_eq!(opt.rule(0).get("beta1"), Some(Value::Float(0.85)));
    assert!(
        opt.set_momentum_all(1.0).is_err(),
        "beta1 must stay below 1"
    );
    assert_eq!(opt.momentum(0), Some(0.85));
}

#[test]
fn state_buffers_are_read_by_name() {
    let mut opt = Optimizer::<f64>::new(build("adam:lr=0.1").unwrap(), 2).unwrap();
    opt.step(&mut [1.0, 2.0], &[0.5, -1.0]).unwrap();
    let m = opt.buffer(0, "exp_avg").unwrap();
    assert_eq!(m, [0.5 * (1.0 - 0.9), -(1.0 - 0.9)]);
    assert!(opt.buffer(0, "momentum_buffer").is_none());
    assert!(opt.buffer(1, "exp_avg").is_none());
}
