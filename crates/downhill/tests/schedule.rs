//! Schedules beyond PyTorch's reach: plateau state round trips, plateau inside
//! compositions (hand-checked), closures, driving optimizers, spec errors.

use downhill::hyper::Value;
use downhill::schedule::{
    build, linear_scaling, lr_at, lrs, AnySchedule, Chained, Driver, Lambda, Scheduler, Sequential,
};
use downhill::{optim, Optimizer};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 * a.abs().max(b.abs())
}

/// Runs `spec` from base lr `base`, feeding `metrics[k]` (when present) after step k.
fn walk(spec: &str, base: f64, steps: usize, metrics: &[Option<f64>]) -> Vec<f64> {
    let mut s = Scheduler::new(build(spec).unwrap(), base).unwrap();
    let mut out = vec![s.lr()];
    for k in 1..steps {
        if let Some(Some(m)) = metrics.get(k - 1) {
            s.observe(*m);
        }
        out.push(s.advance().unwrap());
    }
    out
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w), "step {k}: {g} vs {w} (all: {got:?})");
    }
}

#[test]
fn plateau_inside_sequential_hand_checked() {
    // linear warm-up 0.5 → 1.0 over 2 steps (0.5, 0.75, 1.0), plateau from step 3
    // (starting afresh at the base lr 1.0), constant 0.1·base from step 10.
    let spec = "sequential:schedulers=[linear:start_factor=0.5,total_iters=2;\
                plateau:patience=1,factor=0.5;constant:factor=0.1,total_iters=100],milestones=[3,10]";
    // Metrics after steps 0..2 go to the warm-up (which ignores them; a plateau
    // seeing three 9s would not change anything either, but the ones after
    // step 3 would cut the lr if they reached it early).
    let metrics = [9.0, 9.0, 9.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6].map(Some);
    let got = walk(spec, 1.0, 13, &metrics);
    // step 4: first metric 1.0 is the best; 5: one bad (≤ patience); 6: two bad → 0.5;
    // 7: 0.5 improves; 8: one bad; 9: two bad → 0.25; 10: the constant member takes over.
    let want = [
        0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.1, 0.1, 0.1,
    ];
    assert_close(&got, &want);
}

#[test]
fn plateau_inside_chained_hand_checked() {
    // Both act on the lr in turn: ×0.5 every step, and ×0.1 when the metric stalls.
    let spec = "chained:schedulers=[exponential:gamma=0.5;plateau:patience=0,factor=0.1]";
    let metrics = [Some(3.0), Some(3.0), Some(2.0), None];
    let got = walk(spec, 1.0, 5, &metrics);
    assert_close(&got, &[1.0, 0.5, 0.025, 0.0125, 0.00625]);
}

#[test]
fn plateau_without_metrics_keeps_its_lr() {
    assert_eq!(walk("plateau:patience=0", 0.3, 20, &[]), vec![0.3; 20]);
}

#[test]
fn save_load_continue_is_identical() {
    let specs = [
        "plateau:patience=2,factor=0.5,cooldown=1,threshold=0.01",
        "sequential:schedulers=[linear:start_factor=0.1,total_iters=4;plateau:patience=1;cosine:t_max=9],milestones=[5,25]",
        "chained:schedulers=[plateau:mode=max,patience=0,factor=0.9;cosine-restarts:t_0=4,t_mult=2]",
        "onecycle:max_lr=0.1,total_steps=60,three_phase=true",
    ];
    let metric = |k: u64| 1.0 / (1.0 + (k % 7) as f64) + (k / 7) as f64 * 0.01;
    for spec in specs {
        let mut straight = Scheduler::new(build(spec).unwrap(), 0.1).unwrap();
        let mut resumed: Option<Scheduler> = None;
        for k in 0..60u64 {
            if k == 23 {
                let saved = straight.to_json().unwrap();
                resumed = Some(Scheduler::from_json(&saved).unwrap());
            }
            if let Some(r) = &mut resumed {
                assert_eq!(r.lr().to_bits(), straight.lr().to_bits(), "{spec} step {k}");
                assert_eq!(
                    r.momentum().map(f64::to_bits),
                    straight.momentum().map(f64::to_bits)
                );
                r.observe(metric(k));
                r.advance().unwrap();
            }
            straight.observe(metric(k));
            if k < 59 {
                straight.advance().unwrap();
            }
        }
        assert!(resumed.is_some());
    }
}

#[test]
fn saved_state_is_versioned_and_checked() {
    let s = Scheduler::new(build("plateau").unwrap(), 0.1).unwrap();
    let text = s.to_json().unwrap();
    assert!(text.contains("\"format\":1"), "{text}");
    let future = text.replace("\"format\":1", "\"format\":99");
    assert!(Scheduler::from_json(&future)
        .unwrap_err()
        .to_string()
        .contains("format 99"));
    let seq = Scheduler::new(
        build("sequential:schedulers=[constant;exponential:gamma=0.9],milestones=[3]").unwrap(),
        1.0,
    )
    .unwrap()
    .to_json()
    .unwrap();
    let broken = seq.replace("\"milestones\":[3]", "\"milestones\":[]");
    assert!(Scheduler::from_json(&broken)
        .unwrap_err()
        .to_string()
        .contains("milestones"));
}

#[test]
fn closures_lambda_and_multiplicative() {
    let lambda = AnySchedule::Lambda(Lambda::new(|t| 1.0 / (1.0 + t as f64)));
    assert_eq!(
        lrs(&lambda, 2.0, 4).unwrap().lr,
        vec![2.0, 1.0, 2.0 / 3.0, 0.5]
    );
    let halving = AnySchedule::Lambda(Lambda::multiplicative(|_| 0.5));
    let exponential = build("exponential:gamma=0.5").unwrap();
    assert_eq!(
        lrs(&halving, 1.0, 30).unwrap(),
        lrs(&exponential, 1.0, 30).unwrap()
    );
    // Closures compose, but cannot be saved.
    let warm = Sequential::new(
        vec![build("linear:total_iters=3").unwrap(), lambda.clone()],
        vec![3],
    )
    .unwrap();
    let composed = AnySchedule::Sequential(warm);
    assert_eq!(lrs(&composed, 2.0, 5).unwrap().lr[3..], [2.0, 1.0]);
    let s = Scheduler::new(
        AnySchedule::Chained(Chained::new(vec![lambda]).unwrap()),
        1.0,
    )
    .unwrap();
    assert!(s.to_json().is_err());
}

#[test]
fn lr_at_is_the_replayed_sequence() {
    let schedule = build("sequential:schedulers=[linear:start_factor=0.1,total_iters=5;cosine:t_max=45],milestones=[5]").unwrap();
    let all = lrs(&schedule, 0.1, 200).unwrap().lr;
    for k in [0u64, 4, 5, 6, 49, 50, 51, 95, 199] {
        assert_eq!(lr_at(&schedule, 0.1, k).unwrap(), all[k as usize]);
    }
    // The cosine reaches eta_min at t = t_max, then climbs back to the base at
    // t = 2·t_max (up to the drift of PyTorch's recursive form).
    assert_eq!(all[5 + 45], 0.0);
    assert!((all[5 + 90] - 0.1).abs() < 1e-13, "{}", all[95]);
    assert!(all[5 + 91] < all[5 + 90]);
}

#[test]
fn onecycle_refuses_steps_past_the_cycle_and_changes_nothing() {
    let mut s = Scheduler::new(build("onecycle:max_lr=0.1,total_steps=3").unwrap(), 1.0).unwrap();
    for _ in 0..3 {
        s.advance().unwrap();
    }
    let before = (s.step(), s.lr());
    let e = s.advance().unwrap_err().to_string();
    assert!(e.contains("past total_steps=3"), "{e}");
    assert_eq!((s.step(), s.lr()), before);
}

#[test]
fn driving_optimizers_sets_lr_and_momentum_or_beta1() {
    let cyclic = build("cyclic:base_lr=0.01,max_lr=0.1,step_size_up=2").unwrap();
    let mut sgd =
        Optimizer::<f64>::new(optim::build("sgd:lr=0.5,momentum=0.5").unwrap(), 1).unwrap();
    let mut driver = Driver::new(cyclic.clone());
    let mut seen = Vec::new();
    for _ in 0..5 {
        driver.before_step(&mut sgd).unwrap();
        seen.push((sgd.get(0, "lr").unwrap(), sgd.get(0, "momentum").unwrap()));
    }
    let f = Value::Float;
    assert_eq!(seen[0], (f(0.01), f(0.9)));
    assert_eq!(seen[2], (f(0.1), f(0.8)));
    assert_eq!(seen[4], (f(0.01), f(0.9)));

    let mut adam = Optimizer::<f64>::new(optim::build("adam").unwrap(), 1).unwrap();
    let mut driver = Driver::new(build("onecycle:max_lr=0.1,total_steps=10").unwrap());
    driver.before_step(&mut adam).unwrap();
    assert_eq!(adam.get(0, "beta1"), Some(f(0.95)));
    let Some(Value::Float(lr)) = adam.get(0, "lr") else {
        panic!("adam has an lr")
    };
    assert!((lr - 0.1 / 25.0).abs() < 1e-17, "{lr}");

    for (optimizer, wanted) in [("adagrad", "momentum or beta1"), ("sgd", "momentum > 0")] {
        let mut opt = Optimizer::<f64>::new(optim::build(optimizer).unwrap(), 1).unwrap();
        let e = Driver::new(cyclic.clone())
            .before_step(&mut opt)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(wanted) && e.contains("cycle_momentum=false"),
            "{e}"
        );
    }
    let mut adagrad = Optimizer::<f64>::new(optim::build("adagrad").unwrap(), 1).unwrap();
    let quiet = build("cyclic:base_lr=0.01,max_lr=0.1,cycle_momentum=false").unwrap();
    Driver::new(quiet).before_step(&mut adagrad).unwrap();
    assert_eq!(adagrad.get(0, "lr"), Some(f(0.01)));
}

#[test]
fn the_base_lr_is_the_optimizers() {
    let mut opt = Optimizer::<f64>::new(optim::build("sgd:lr=0.4").unwrap(), 1).unwrap();
    let mut driver = Driver::new(build("step:step_size=1,gamma=0.5").unwrap());
    let mut seen = Vec::new();
    for _ in 0..3 {
        driver.before_step(&mut opt).unwrap();
        seen.push(opt.get(0, "lr").unwrap());
    }
    assert_eq!(
        seen,
        [Value::Float(0.4), Value::Float(0.2), Value::Float(0.1)]
    );
}

#[test]
fn linear_scaling_rule() {
    assert_eq!(linear_scaling(0.1, 1024, 256).unwrap(), 0.4);
    assert_eq!(linear_scaling(0.1, 32, 256).unwrap(), 0.0125);
    assert!(linear_scaling(0.1, 32, 0).is_err());
    assert!(linear_scaling(-0.1, 32, 256).is_err());
    assert!(linear_scaling(f64::NAN, 32, 256).is_err());
}

#[test]
fn spec_errors_name_the_problem() {
    let cases = [
        ("step", "missing required key 'step_size'"),
        ("step:step_size=0", "step_size must be in (0, inf), got 0"),
        ("cosine:t_max=0", "t_max must be in (0, inf), got 0"),
        ("cosine", "missing required key 't_max'"),
        (
            "exponential:gamma=-0.5",
            "gamma must be in [0, inf), got -0.5",
        ),
        ("onecycle:max_lr=0.1", "onecycle needs total_steps"),
        (
            "onecycle:max_lr=0.1,total_steps=10,pct_start=0.1",
            "phase of zero length",
        ),
        (
            "cyclic:base_lr=0.1,max_lr=1,mode=sawtooth",
            "mode must be one of triangular, triangular2, exp_range",
        ),
        ("plateau:mode=lowest", "mode must be one of min, max"),
        ("plateau:factor=1", "factor must be in [0, 1)"),
        (
            "multistep:milestones=[1,x]",
            "milestones must be a bracketed list",
        ),
        (
            "multistep:milestones=3",
            "milestones must be a bracketed list",
        ),
        (
            "sequential:schedulers=[constant;cosine:t_max=5]",
            "one entry fewer than schedulers",
        ),
        (
            "sequential:schedulers=[constant;cosine:t_max=5],milestones=[0]",
            "increasing and > 0",
        ),
        (
            "sequential:schedulers=constant,milestones=[]",
            "schedulers must be a bracketed list",
        ),
        (
            "sequential:schedulers=[constant;;cosine:t_max=5],milestones=[2,3]",
            "schedulers must be a bracketed list",
        ),
        (
            "chained:schedulers=[constant;cosine]",
            "missing required key 't_max'",
        ),
        (
            "chained:schedulers=[constant],gamma=2",
            "unknown key 'gamma'; valid keys: schedulers",
        ),
        (
            "cosine:t_max=5,gamma=2",
            "unknown key 'gamma'; valid keys: t_max, eta_min",
        ),
        (
            "warmup",
            "unknown schedule 'warmup'; valid: constant, linear",
        ),
        ("linear:start_factor=0", "start_factor must be in (0, 1]"),
    ];
    for (spec, wanted) in cases {
        let e = build(spec).unwrap_err().to_string();
        assert!(e.contains(wanted), "{spec}: {e}");
    }
    for base in [-0.1, f64::NAN, f64::INFINITY] {
        let e = Scheduler::new(build("constant").unwrap(), base)
            .unwrap_err()
            .to_string();
        assert!(e.contains("base lr must be a finite number >= 0"), "{e}");
    }
}
