//! What the web page draws along a path besides its points: the gradient,
//! the update, and where the optimizer has them its velocity, look-ahead point
//! and per-coordinate effective step size.

use super::trajectory::{Point, Trajectory};
use crate::optim::{AnyRule, Optimizer, RuleSet};
use crate::surface::Landscape;
use serde::Serialize;

/// Rules whose step is scaled per coordinate, for which an overlay shows the
/// effective step size (the others scale every coordinate alike).
const ADAPTIVE: [&str; 8] = [
    "adagrad", "rmsprop", "adadelta", "adam", "nadam", "radam", "adamax", "rprop",
];

/// Whether `rule` scales its step per coordinate.
pub fn is_adaptive(rule: &AnyRule) -> bool {
    ADAPTIVE.contains(&rule.name())
}

/// What an overlay needs of an optimizer's state at one point.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct State {
    /// The velocity in parameter units: NAG's `v`, or −η·b for a momentum buffer `b`.
    velocity: Option<[f64; 2]>,
    /// NAG's momentum μ (the look-ahead point is θ + μ·v).
    lookahead_momentum: Option<f64>,
}

impl State {
    /// The state of a 2-parameter optimizer before its next update.
    pub fn of(optimizer: &Optimizer<f64>) -> State {
        if let Some(v) = optimizer.buffer(0, "velocity") {
            State {
                velocity: Some([v[0], v[1]]),
                lookahead_momentum: optimizer.momentum(0),
            }
        } else if let Some(b) = optimizer.buffer(0, "momentum_buffer") {
            let lr = optimizer.lr(0);
            State {
                velocity: Some([-lr * b[0], -lr * b[1]]),
                lookahead_momentum: None,
            }
        } else {
            State::default()
        }
    }
}

/// Per-point overlay arrays; `None` where a value does not exist.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overlays {
    /// ∇f(θ_k).
    pub gradient: Vec<[f64; 2]>,
    /// θ_{k+1} − θ_k (at the last point, toward the point one more update would reach).
    pub step: Vec<Option<[f64; 2]>>,
    /// The velocity before update k, for optimizers that keep one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub velocity: Option<Vec<Option<[f64; 2]>>>,
    /// NAG's look-ahead point θ_k + μ·v_k.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookahead: Option<Vec<Option<[f64; 2]>>>,
    /// For adaptive methods −step_i / ∇f_i, the per-coordinate step size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_lr: Option<Vec<Option<[f64; 2]>>>,
}

/// The overlays of `path`: `next` is the point one more update would reach,
/// `states[k]` the optimizer's state before update k.
pub fn overlays(
    landscape: &dyn Landscape,
    path: &Trajectory,
    next: Option<Point>,
    states: &[State],
    adaptive: bool,
) -> Overlays {
    let p = &path.points;
    let gradient: Vec<[f64; 2]> = p.iter().map(|q| landscape.gradient(q.x, q.y)).collect();
    let step: Vec<Option<[f64; 2]>> = (0..p.len())
        .map(|k| {
            let n = p
                .get(k + 1)
                .copied()
                .or(next.filter(|_| k + 1 == p.len()))?;
            Some([n.x - p[k].x, n.y - p[k].y])
        })
        .collect();
    let state = |k: usize| states.get(k).copied().unwrap_or_default();
    let velocity: Vec<Option<[f64; 2]>> = (0..p.len()).map(|k| state(k).velocity).collect();
    let lookahead: Vec<Option<[f64; 2]>> = (0..p.len())
        .map(|k| {
            let s = state(k);
            let (v, mu) = (s.velocity?, s.lookahead_momentum?);
            Some([p[k].x + mu * v[0], p[k].y + mu * v[1]])
        })
        .collect();
    let effective_lr = adaptive.then(|| {
        step.iter()
            .zip(&gradient)
            .map(|(s, g)| s.map(|s| [-s[0] / g[0], -s[1] / g[1]]))
            .collect()
    });
    let any = |v: Vec<Option<[f64; 2]>>| v.iter().any(Option::is_some).then_some(v);
    Overlays {
        gradient,
        step,
        velocity: any(velocity),
        lookahead: any(lookahead),
        effective_lr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{build, OPTIMIZERS};

    #[test]
    fn adaptive_names_are_rules() {
        let rules: Vec<&str> = OPTIMIZERS.iter().map(|e| (e.make)().name()).collect();
        for name in ADAPTIVE {
            assert!(rules.contains(&name), "{name}");
        }
        assert!(is_adaptive(&build("adamw").unwrap()));
        assert!(!is_adaptive(&build("momentum").unwrap()));
    }

    #[test]
    fn velocities_come_from_the_state_buffers() {
        let mut sgd = Optimizer::<f64>::new(build("momentum:lr=0.5").unwrap(), 2).unwrap();
        sgd.step(&mut [1.0, 1.0], &[2.0, -4.0]).unwrap();
        let s = State::of(&sgd);
        assert_eq!(s.velocity, Some([-1.0, 2.0]));
        assert_eq!(s.lookahead_momentum, None);
        let nag = Optimizer::<f64>::new(build("nag:momentum=0.8").unwrap(), 2).unwrap();
        assert_eq!(State::of(&nag).lookahead_momentum, Some(0.8));
        let adam = Optimizer::<f64>::new(build("adam").unwrap(), 2).unwrap();
        assert_eq!(State::of(&adam), State::default());
    }
}
