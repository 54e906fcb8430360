//! Single precision follows double precision: the same runs in f32 and f64
//! stay within a documented tolerance (README: "f32 and f64").

use downhill::lab::{trajectory, ParamShape};
use downhill::optim::build;
use downhill::surface::Surface;

/// Specs and surfaces of well-conditioned runs (no chaotic amplification).
const CASES: &[(&str, Surface)] = &[
    ("gd:lr=0.01", Surface::Booth),
    ("momentum:lr=0.01", Surface::Booth),
    ("nag:lr=0.01", Surface::Booth),
    ("sgd:lr=0.01,momentum=0.9,nesterov=true", Surface::Booth),
    ("adagrad:lr=0.5", Surface::Booth),
    ("rmsprop:lr=0.01,centered=true", Surface::Booth),
    ("adadelta:lr=1", Surface::Booth),
    ("adam:lr=0.05,amsgrad=true", Surface::Booth),
    ("adamw:lr=0.05", Surface::Booth),
    ("nadam:lr=0.05", Surface::Booth),
    ("radam:lr=0.05", Surface::Booth),
    ("adamax:lr=0.05", Surface::Booth),
    ("rprop:lr=0.01", Surface::Booth),
    ("asgd:lr=0.01", Surface::Booth),
    ("gd:lr=0.5", Surface::Anisotropic),
    ("adam:lr=0.1", Surface::Anisotropic),
    ("rmsprop:lr=0.01", Surface::Anisotropic),
];

/// Worst |x₃₂ − x₆₄| / max(|x₆₄|, 1) over 250 steps; the README states this bound.
const TOLERANCE: f64 = 1e-5;

#[test]
fn f32_runs_follow_f64_runs() {
    for &(spec, surface) in CASES {
        let start = surface.info().start;
        let wide = trajectory::<f64, _>(
            &surface,
            start,
            ParamShape::Vector,
            build(spec).unwrap(),
            250,
            |_, _| Ok(()),
        )
        .unwrap();
        let narrow = trajectory::<f32, _>(
            &surface,
            start,
            ParamShape::Vector,
            build(spec).unwrap(),
            250,
            |_, _| Ok(()),
        )
        .unwrap();
        assert_eq!(wide.points.len(), narrow.points.len(), "{spec}");
        let worst = wide
            .points
            .iter()
            .zip(&narrow.points)
            .flat_map(|(a, b)| [(a.x, b.x), (a.y, b.y)])
            .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
            .fold(0.0, f64::max);
        eprintln!("{spec} on {surface}: worst f32 deviation {worst:.2e}");
        assert!(
            worst <= TOLERANCE,
            "{spec} on {surface}: f32 deviates by {worst:e}"
        );
        assert!(
            worst > 0.0,
            "{spec}: f32 run identical to f64 — is it really f32?"
        );
    }
}
