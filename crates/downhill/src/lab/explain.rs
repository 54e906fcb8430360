//! One update of a 2-D run explained: the rule's equations
//! ([`optim::explain`](crate::optim::explain)) with the numbers of that step.
//!
//! State symbols (moments, buffers) and θ take the values the optimizer
//! really held before and after the step; the other symbols (m̂, Δθ, …) are
//! the equations evaluated with them. Each line's right side is evaluated
//! too, so a caller can see it reproduce the state and the step.

use super::runs::runs;
use super::trajectory::ParamShape;
use crate::hyper::{Hyper, Value};
use crate::optim::explain::{describe, Line, Source, Symbol, Values, Var};
use crate::optim::{RuleSet, SavedGroup};
use crate::spec::ConfigError;
use crate::surface::Landscape;
use serde::Serialize;
use std::collections::BTreeMap;
use thiserror::Error;

/// Why a step cannot be explained.
#[derive(Debug, Error)]
pub enum ExplainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("step must be at least 1 (the update from θ₀ to θ₁)")]
    StepZero,
    #[error("the run stops before step {step}: {reason}")]
    Stopped { step: usize, reason: String },
    #[error("the description of {rule} cannot be evaluated: {message}")]
    Description { rule: &'static str, message: String },
}

/// An optimizer's state at one point: its step count, buffers and scalars.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct State {
    pub step: u64,
    pub buffers: BTreeMap<String, Vec<f64>>,
    pub scalars: BTreeMap<String, f64>,
}

impl From<SavedGroup<f64>> for State {
    fn from(g: SavedGroup<f64>) -> Self {
        State {
            step: g.step,
            buffers: g.buffers,
            scalars: g.scalars,
        }
    }
}

/// One equation with its numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explained {
    #[serde(flatten)]
    pub line: Line,
    /// The left side's value: the optimizer's own for state and θ, else `computed`.
    pub value: [f64; 2],
    /// The right side evaluated.
    pub computed: [f64; 2],
}

/// Update `step` of one optimizer on a surface.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    pub spec: String,
    pub rule: &'static str,
    pub step: usize,
    /// The equations, or `None` for a rule without a description.
    pub lines: Option<Vec<Explained>>,
    pub symbols: Vec<Symbol>,
    /// Every symbol's value by key (`m[t-1]`, `β₁`, `θ[t]`, `t`).
    pub values: Values,
    /// The state before the step (after any schedule set its learning rate).
    pub before: State,
    pub after: State,
}

/// Explains update `step` (1 for the first) of `spec` run from `start` under
/// an optional `schedule`, as [`runs`] would run it.
pub fn explain(
    landscape: &dyn Landscape,
    start: [f64; 2],
    shape: ParamShape,
    spec: &str,
    schedule: Option<&str>,
    step: usize,
) -> Result<Explanation, ExplainError> {
    if step == 0 {
        return Err(ExplainError::StepZero);
    }
    let mut saved: [Option<Result<SavedGroup<f64>, String>>; 2] = [None, None];
    let run = runs(
        landscape,
        start,
        shape,
        &[spec.to_string()],
        step + 1,
        schedule,
        |_, reached, optimizer| {
            if (step - 1..=step).contains(&reached.step) {
                saved[reached.step + 1 - step] = Some(
                    optimizer
                        .save()
                        .map(|s| s.groups.into_iter().next().expect("one group"))
                        .map_err(|e| e.to_string()),
                );
            }
        },
    )?
    .remove(0);
    let stopped = |reason: String| ExplainError::Stopped { step, reason };
    let (Some(p0), Some(p1)) = (run.path.points.get(step - 1), run.path.points.get(step)) else {
        let reason = run.path.diverged.map_or(String::new(), |d| {
            format!("it diverges at step {}: {}", d.step, d.reason)
        });
        return Err(stopped(reason));
    };
    let [Some(before), Some(after)] = saved else {
        unreachable!("the observer sees every point reached")
    };
    let (before, after) = (before.map_err(stopped)?, after.map_err(stopped)?);
    let rule = before.rule.clone();
    let description = describe(&rule, step as u64);
    let mut values = Values::from([
        ("t".to_string(), [step as f64; 2]),
        ("θ[t-1]".to_string(), [p0.x, p0.y]),
        ("θ[t]".to_string(), [p1.x, p1.y]),
    ]);
    let symbols = description
        .as_ref()
        .map_or_else(Vec::new, |d| d.symbols.clone());
    for s in &symbols {
        let name = s.symbol.to_string();
        let at = |index| {
            Var {
                name: name.clone(),
                index: Some(index),
            }
            .key()
        };
        match s.source {
            Source::Key(key) => {
                if let Some(Value::Float(x)) = rule.get(key) {
                    values.insert(name.clone(), [x; 2]);
                }
            }
            Source::Buffer(buffer) => {
                for (index, state) in [(-1, &before), (0, &after)] {
                    if let Some(v) = state.buffers.get(buffer) {
                        values.insert(at(index), [v[0], v[1]]);
                    }
                }
            }
            Source::Scalar(scalar) => {
                for (index, state) in [(-1, &before), (0, &after)] {
                    if let Some(x) = state.scalars.get(scalar) {
                        values.insert(at(index), [*x; 2]);
                    }
                }
            }
        }
    }
    let lines = match description {
        None => None,
        Some(d) => {
            let computed = d
                .evaluate(&mut values, &|p: [f64; 2]| landscape.gradient(p[0], p[1]))
                .map_err(|message| ExplainError::Description {
                    rule: rule.name(),
                    message,
                })?;
            let mut lines = Vec::with_capacity(d.lines.len());
            for (line, computed) in d.lines.into_iter().zip(computed) {
                let value = values[&line.lhs.key()];
                lines.push(Explained {
                    line,
                    value,
                    computed,
                });
            }
            Some(lines)
        }
    };
    Ok(Explanation {
        spec: spec.to_string(),
        rule: rule.name(),
        step,
        lines,
        symbols,
        values,
        before: before.into(),
        after: after.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::Surface;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    /// Every line of every described rule reproduces the library's state and
    /// position at several steps, options included.
    #[test]
    fn every_line_reproduces_the_library() {
        let specs = [
            "gd:lr=0.01",
            "gd:lr=0.01,weight_decay=0.1,maximize=true",
            "momentum:lr=0.01",
            "sgd:lr=0.01,momentum=0.8,dampening=0.3",
            "sgd:lr=0.01,momentum=0.9,nesterov=true,weight_decay=0.05",
            "nag:lr=0.01",
            "adagrad:lr=0.1,lr_decay=0.01,weight_decay=0.1",
            "rmsprop:lr=0.01",
            "rmsprop:lr=0.01,centered=true,momentum=0.5",
            "adadelta",
            "adadelta:lr=0.5,weight_decay=0.1",
            "adam:lr=0.05",
            "adam:lr=0.05,amsgrad=true,weight_decay=0.1",
            "adamw:lr=0.05",
            "nadam:lr=0.05",
            "nadam:lr=0.05,weight_decay=0.1,decoupled_weight_decay=true",
            "adamax:lr=0.05",
            "radam:lr=0.05",
            "radam:lr=0.05,weight_decay=0.1,decoupled_weight_decay=true",
        ];
        let land = Surface::Booth;
        for spec in specs {
            for step in [1, 2, 7, 30] {
                let e = explain(&land, [1.0, -2.0], ParamShape::Vector, spec, None, step).unwrap();
                let lines = e.lines.as_ref().expect(spec);
                for l in lines {
                    for i in 0..2 {
                        assert!(
                            close(l.value[i], l.computed[i]),
                            "{spec} step {step}: {} gives {:?}, the library {:?}",
                            l.line.text,
                            l.computed,
                            l.value
                        );
                    }
                }
                assert_eq!(lines.last().unwrap().value, e.values["θ[t]"]);
            }
        }
    }

    #[test]
    fn adam_values_are_the_optimizers_own() {
        let land = Surface::Anisotropic;
        let e = explain(
            &land,
            [1.0, -2.0],
            ParamShape::Vector,
            "adam:lr=0.1",
            None,
            3,
        )
        .unwrap();
        assert_eq!(e.values["m[t]"], e.after.buffers["exp_avg"][..]);
        assert_eq!(e.values["v[t-1]"], e.before.buffers["exp_avg_sq"][..]);
        assert_eq!((e.before.step, e.after.step), (2, 3));
        assert_eq!(e.values["η"], [0.1; 2]);
        let delta = e.values["Δθ[t]"];
        let moved = [
            e.values["θ[t]"][0] - e.values["θ[t-1]"][0],
            e.values["θ[t]"][1] - e.values["θ[t-1]"][1],
        ];
        assert!((delta[0] - moved[0]).abs() < 1e-12 && (delta[1] - moved[1]).abs() < 1e-12);
    }

    #[test]
    fn a_schedules_learning_rate_is_the_steps() {
        let land = Surface::Anisotropic;
        let e = explain(
            &land,
            [1.0, -2.0],
            ParamShape::Vector,
            "gd:lr=0.1",
            Some("step:step_size=2,gamma=0.5"),
            3,
        )
        .unwrap();
        assert_eq!(e.values["η"], [0.05; 2]);
    }

    #[test]
    fn other_rules_give_their_state_and_bad_steps_an_error() {
        let land = Surface::Anisotropic;
        let e = explain(&land, [1.0, -2.0], ParamShape::Vector, "lion", None, 2).unwrap();
        assert!(e.lines.is_none());
        assert_eq!(e.after.buffers["exp_avg"].len(), 2);
        let err = |spec: &str, step| {
            explain(&land, [1.0, -2.0], ParamShape::Vector, spec, None, step)
                .unwrap_err()
                .to_string()
        };
        assert!(err("adam", 0).contains("at least 1"));
        assert!(
            err("gd:lr=1e200", 5).contains("diverges at step"),
            "{}",
            err("gd:lr=1e200", 5)
        );
        assert!(err("adamm", 1).contains("adam"));
    }
}
