//! Identities between optimizers that must hold exactly or to rounding.

use downhill::hyper::Value;
use downhill::lab::{trajectory, ParamShape, Trajectory};
use downhill::optim::{build, Optimizer};
use downhill::surface::{Landscape, Surface};

fn path(surface: Surface, spec: &str, steps: usize) -> Trajectory {
    trajectory::<f64, _>(
        &surface,
        surface.info().start,
        ParamShape::Vector,
        build(spec).unwrap(),
        steps,
        |_, _| Ok(()),
    )
    .unwrap()
}

fn assert_same(a: &Trajectory, b: &Trajectory, what: &str) {
    assert_eq!(a.points.len(), b.points.len(), "{what}");
    assert!(a.diverged.is_none() && b.diverged.is_none(), "{what}");
    for (p, q) in a.points.iter().zip(&b.points) {
        assert!(
            p.x.to_bits() == q.x.to_bits() && p.y.to_bits() == q.y.to_bits(),
            "{what}: {p:?} vs {q:?}"
        );
    }
}

#[test]
fn momentum_zero_is_plain_sgd() {
    for s in [Surface::Rosenbrock, Surface::Booth, Surface::Himmelblau] {
        let plain = path(s, "gd:lr=0.001", 300);
        assert_same(
            &plain,
            &path(s, "sgd:lr=0.001,momentum=0", 300),
            "sgd momentum=0",
        );
        assert_same(
            &plain,
            &path(s, "momentum:lr=0.001,momentum=0", 300),
            "momentum momentum=0",
        );
        assert_same(
            &plain,
            &path(s, "sgd:lr=0.001,momentum=0,dampening=0.5", 300),
            "dampening without momentum",
        );
    }
}

#[test]
fn seed_momentum_is_sgd_with_momentum_09() {
    let s = Surface::Booth;
    assert_same(
        &path(s, "momentum:lr=0.01", 300),
        &path(s, "sgd:lr=0.01,momentum=0.9", 300),
        "momentum",
    );
    assert_same(
        &path(s, "adamw", 300),
        &path(s, "adam:decoupled_weight_decay=true,weight_decay=0.01", 300),
        "adamw",
    );
}

#[test]
fn first_momentum_step_is_a_plain_step() {
    // PyTorch starts the buffer at the first gradient: no dampening on step one.
    let s = Surface::Rosenbrock;
    let damped = path(s, "sgd:lr=0.001,momentum=0.9,dampening=0.5", 1);
    assert_same(&damped, &path(s, "gd:lr=0.001", 1), "first step");
}

/// Look-ahead NAG's points θ_t plus μ·v_t are exactly PyTorch-Nesterov's iterates.
#[test]
fn nag_lookahead_points_are_sgd_nesterov_iterates() {
    let (lr, mu) = (0.001, 0.9);
    let s = Surface::Rosenbrock;
    let start = s.info().start;
    let mut nag =
        Optimizer::<f64>::new(build(&format!("nag:lr={lr},momentum={mu}")).unwrap(), 2).unwrap();
    let mut theta = start;
    let mut grads = [0.0; 2];
    let torch_like = path(s, &format!("sgd:lr={lr},momentum={mu},nesterov=true"), 400);
    let mut worst: f64 = 0.0;
    for point in &torch_like.points[1..] {
        let before = theta;
        nag.step_with(&mut theta, &mut grads, |p, g| {
            let [gx, gy] = s.gradient(p[0], p[1]);
            g.copy_from_slice(&[gx, gy]);
            s.value(p[0], p[1])
        })
        .unwrap();
        // v_t = θ_t − θ_{t−1}; the look-ahead point is θ_t + μ·v_t.
        let ahead = [
            theta[0] + mu * (theta[0] - before[0]),
            theta[1] + mu * (theta[1] - before[1]),
        ];
        worst = worst
            .max((ahead[0] - point.x).abs())
            .max((ahead[1] - point.y).abs());
    }
    assert!(
        worst < 1e-12,
        "nag vs sgd nesterov: worst difference {worst}"
    );
}

/// Adam with β₁ = 0 and ε = 0 is RMSProp (α = β₂, ε = 0) with lr scaled by √(1 − β₂ᵗ).
#[test]
fn adam_without_first_moment_is_bias_corrected_rmsprop() {
    let s = Surface::Himmelblau;
    let (lr, beta2): (f64, f64) = (0.01, 0.99);
    let mut adam = Optimizer::<f64>::new(
        build(&format!("adam:lr={lr},beta1=0,beta2={beta2},eps=0")).unwrap(),
        2,
    )
    .unwrap();
    let mut rms = Optimizer::<f64>::new(
        build(&format!("rmsprop:lr={lr},alpha={beta2},eps=0")).unwrap(),
        2,
    )
    .unwrap();
    let (mut a, mut r) = (s.info().start, s.info().start);
    let mut worst: f64 = 0.0;
    for t in 1..=300 {
        let ga = s.gradient(a[0], a[1]);
        adam.step(&mut a, &ga).unwrap();
        let scaled = lr * (1.0 - beta2.powf(t as f64)).sqrt();
        rms.set_all("lr", &Value::Float(scaled)).unwrap();
        let gr = s.gradient(r[0], r[1]);
        rms.step(&mut r, &gr).unwrap();
        for i in 0..2 {
            worst = worst.max((a[i] - r[i]).abs() / a[i].abs().max(1e-3));
        }
    }
    assert!(
        worst < 1e-12,
        "adam(β₁=0) vs rmsprop: worst relative difference {worst}"
    );
}

#[test]
fn adadelta_with_lr_one_is_zeilers_method() {
    // Zeiler's AdaDelta (and the notes') has no learning rate: Δ = −RMS[Δx]/RMS[g]·g.
    let s = Surface::Booth;
    let (rho, eps): (f64, f64) = (0.9, 1e-8);
    let run = path(s, &format!("adadelta:lr=1,rho={rho},eps={eps}"), 200);
    let (mut x, mut eg, mut ex) = (s.info().start, [0.0f64; 2], [0.0f64; 2]);
    for point in &run.points[1..] {
        let g = s.gradient(x[0], x[1]);
        for i in 0..2 {
            eg[i] = rho * eg[i] + (1.0 - rho) * g[i] * g[i];
            let delta = -((ex[i] + eps).sqrt() / (eg[i] + eps).sqrt()) * g[i];
            ex[i] = rho * ex[i] + (1.0 - rho) * delta * delta;
            x[i] += delta;
        }
        assert!(
            (x[0] - point.x).abs() < 1e-12 && (x[1] - point.y).abs() < 1e-12,
            "{x:?} vs {point:?}"
        );
    }
}
