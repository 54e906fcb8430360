//! Every error path of the spec grammar and of hyperparameter validation,
//! with the message a user sees.

use downhill::optim::build;

fn error(spec: &str) -> String {
    match build(spec) {
        Ok(rule) => panic!("'{spec}' was accepted as {rule:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn syntax_errors() {
    let cases = [
        (
            "",
            "invalid spec '': the name is missing (expected NAME[:key=value,…])",
        ),
        (
            ":lr=1",
            "invalid spec ':lr=1': the name is missing (expected NAME[:key=value,…])",
        ),
        (
            "ad am",
            "invalid spec 'ad am': name 'ad am' may hold only letters, digits, '-' and '_'",
        ),
        (
            "adam:",
            "invalid spec 'adam:': nothing after ':' (expected key=value)",
        ),
        ("adam:lr", "invalid spec 'adam:lr': 'lr' is not key=value"),
        (
            "adam:lr=0.1,",
            "invalid spec 'adam:lr=0.1,': '' is not key=value",
        ),
        (
            "adam:=0.1",
            "invalid spec 'adam:=0.1': '' is not a key name",
        ),
        (
            "adam:l r=0.1",
            "invalid spec 'adam:l r=0.1': 'l r' is not a key name",
        ),
        ("adam:lr=", "invalid spec 'adam:lr=': key 'lr' has no value"),
        ("adam:lr=[0.1", "invalid spec 'adam:lr=[0.1': unclosed '['"),
        (
            "adam:lr=0.1]",
            "invalid spec 'adam:lr=0.1]': unmatched ']' at column 7",
        ),
        ("adam:lr=0.1,lr=0.2", "adam: key 'lr' is given twice"),
    ];
    for (spec, want) in cases {
        assert_eq!(error(spec), want, "spec '{spec}'");
    }
}

#[test]
fn unknown_names_and_keys_list_what_is_valid() {
    assert_eq!(
        error("adamm"),
        "unknown optimizer 'adamm' (did you mean 'adam'?); valid: gd, momentum, nag, sgd, adagrad, rmsprop, adadelta, adam, adamw, nadam, radam, adamax, rprop, asgd, lion, adopt, ademamix, adan, lamb, lars, prodigy, schedulefree-sgd, schedulefree-adamw, sparse_adam, muon, adafactor, lbfgs"
    );
    assert_eq!(
        error("adam:bta1=0.5"),
        "adam: unknown key 'bta1'; valid keys: lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled_weight_decay, maximize; did you mean 'beta1'?"
    );
    assert_eq!(
        error("adam:betas=[0.9,0.99]"),
        "adam: unknown key 'betas'; valid keys: lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled_weight_decay, maximize; tuples are split: use beta1 and beta2"
    );
    assert!(error("rprop:etas=[0.4,1.3]").ends_with("tuples are split: use eta_minus and eta_plus"));
    assert!(
        error("rprop:step_sizes=[0.1,1]").ends_with("tuples are split: use step_min and step_max")
    );
    // Presets accept only their own keys.
    assert_eq!(
        error("gd:momentum=0.9"),
        "gd: unknown key 'momentum'; valid keys: lr, weight_decay, maximize"
    );
    assert!(error("adamw:decoupled_weight_decay=false")
        .starts_with("adamw: unknown key 'decoupled_weight_decay'"));
}

#[test]
fn values_of_the_wrong_type() {
    assert_eq!(
        error("adam:lr=fast"),
        "adam: lr must be a number, got 'fast'"
    );
    assert_eq!(
        error("adam:amsgrad=yes"),
        "adam: amsgrad must be true or false, got 'yes'"
    );
    assert_eq!(
        error("sgd:nesterov=1"),
        "sgd: nesterov must be true or false, got '1'"
    );
}

#[test]
fn values_out_of_range() {
    let cases = [
        ("sgd:lr=-1", "sgd: lr must be in [0, inf), got -1.0"),
        ("adam:lr=inf", "adam: lr must be in [0, inf), got inf"),
        ("adam:lr=NaN", "adam: lr must be in [0, inf), got NaN"),
        ("adam:beta1=1", "adam: beta1 must be in [0, 1), got 1.0"),
        ("adam:beta2=-0.1", "adam: beta2 must be in [0, 1), got -0.1"),
        ("adam:eps=-1e-8", "adam: eps must be in [0, inf), got -1e-8"),
        (
            "adadelta:rho=1.5",
            "adadelta: rho must be in [0, 1], got 1.5",
        ),
        (
            "rprop:eta_minus=1",
            "rprop: eta_minus must be in (0, 1), got 1.0",
        ),
        (
            "rprop:eta_plus=0.9",
            "rprop: eta_plus must be in (1, inf), got 0.9",
        ),
        (
            "sgd:momentum=-0.5",
            "sgd: momentum must be in [0, inf), got -0.5",
        ),
        (
            "sgd:dampening=inf",
            "sgd: dampening must be in (-inf, inf), got inf",
        ),
        ("asgd:t0=-1", "asgd: t0 must be in [0, inf), got -1.0"),
        (
            "nadam:momentum_decay=-1",
            "nadam: momentum_decay must be in [0, inf), got -1.0",
        ),
        (
            "adagrad:initial_accumulator_value=-1",
            "adagrad: initial_accumulator_value must be in [0, inf), got -1.0",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(error(spec), want, "spec '{spec}'");
    }
}

#[test]
fn constraints_across_keys() {
    assert_eq!(
        error("sgd:nesterov=true"),
        "sgd: nesterov=true requires momentum > 0 and dampening = 0"
    );
    assert_eq!(
        error("sgd:momentum=0.9,dampening=0.1,nesterov=true"),
        "sgd: nesterov=true requires momentum > 0 and dampening = 0"
    );
    assert_eq!(
        error("rprop:step_min=2,step_max=1"),
        "rprop: step_min must not exceed step_max, got step_min=2 > step_max=1"
    );
}

#[test]
fn valid_specs_set_what_they_say() {
    let rule = build(" adam : lr = 0.01 , beta1=0.5,amsgrad=true ").unwrap();
    let h = rule.hyper();
    use downhill::hyper::Value;
    assert_eq!(h.get("lr"), Some(Value::Float(0.01)));
    assert_eq!(h.get("beta1"), Some(Value::Float(0.5)));
    assert_eq!(h.get("amsgrad"), Some(Value::Bool(true)));
    assert_eq!(h.get("beta2"), Some(Value::Float(0.999)));
    let momentum = build("momentum").unwrap();
    assert_eq!(momentum.hyper().get("momentum"), Some(Value::Float(0.9)));
    let adamw = build("adamw").unwrap();
    assert_eq!(adamw.hyper().get("weight_decay"), Some(Value::Float(0.01)));
    assert_eq!(
        adamw.hyper().get("decoupled_weight_decay"),
        Some(Value::Bool(true))
    );
}
