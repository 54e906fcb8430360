//! Sweeps: every optimizer × learning rate (× values of other keys) on one
//! surface from one start, each run independent and run in parallel.

use super::runs::schedule_step;
use super::trajectory::{trajectory, ParamShape, Trajectory};
use crate::optim::{self, AnyRule, RuleSet, OPTIMIZERS};
use crate::schedule::{self, AnySchedule};
use crate::spec::{ConfigError, Spec};
use crate::surface::Landscape;
use rayon::prelude::*;
use thiserror::Error;

/// Why a sweep could not be set up.
#[derive(Debug, Error)]
pub enum SweepError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A swept key that no optimizer of the sweep has.
    #[error("none of the optimizers has the key '{key}'")]
    UnusedKey { key: String },
    /// A learning rate a spec's rule refuses.
    #[error("{spec}: {source}")]
    Lr {
        spec: String,
        source: Box<ConfigError>,
    },
}

/// A swept key (not `lr`) and its values as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    pub values: Vec<String>,
}

/// One run of a sweep, built and checked.
#[derive(Clone, Debug)]
pub struct Job {
    /// The spec as given.
    pub optimizer: String,
    /// The swept values of the keys this optimizer has (`None` where it has not).
    pub params: Vec<Option<String>>,
    pub lr: f64,
    pub rule: AnyRule,
}

/// A finished run of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct GridPoint {
    /// The spec as given.
    pub optimizer: String,
    /// The swept values of the keys this optimizer has (`None` where it has not).
    pub params: Vec<Option<String>>,
    pub lr: f64,
    pub path: Trajectory,
}

impl GridPoint {
    /// The spec and its swept values, e.g. `momentum momentum=0.9`.
    pub fn variant(&self, keys: &[String]) -> String {
        let mut label = self.optimizer.clone();
        for (key, value) in keys.iter().zip(&self.params) {
            if let Some(v) = value {
                label.push_str(&format!(" {key}={v}"));
            }
        }
        label
    }

    /// The spec this run ran, lr and swept values written in (`keys` as
    /// given to [`grid`]), e.g. `momentum:lr=0.1,momentum=0.9`.
    pub fn spec(&self, keys: &[String]) -> Result<String, ConfigError> {
        let spec = Spec::parse(&self.optimizer)?;
        Ok(run_spec(&spec, keys, &self.params, self.lr))
    }
}

/// Whether the optimizer named in `spec` accepts `key`.
pub fn accepts(spec: &Spec, key: &str) -> bool {
    OPTIMIZERS
        .iter()
        .find(|e| e.name == spec.name)
        .is_some_and(|e| match e.keys {
            Some(keys) => keys.contains(&key),
            None => (e.make)().hyper().get(key).is_some(),
        })
}

/// The spec text with `overrides` replacing or adding keys.
fn with_overrides(spec: &Spec, overrides: &[(&str, String)]) -> String {
    let mut args: Vec<(String, String)> = spec
        .args
        .iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    args.extend(overrides.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let body: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}:{}", spec.name, body.join(","))
}

/// The spec text of one run: `spec` with the lr and the swept `values` it
/// has (of `keys`, in order) written in, each overriding the spec's own.
fn run_spec(spec: &Spec, keys: &[String], values: &[Option<String>], lr: f64) -> String {
    let mut overrides = vec![("lr", format!("{lr:?}"))];
    for (key, value) in keys.iter().zip(values) {
        if let Some(v) = value {
            overrides.push((key.as_str(), v.clone()));
        }
    }
    with_overrides(spec, &overrides)
}

/// Every combination of the values of the parameters `spec` accepts.
fn combinations(spec: &Spec, params: &[Param]) -> Vec<Vec<Option<String>>> {
    let mut combos: Vec<Vec<Option<String>>> = vec![Vec::new()];
    for p in params {
        let choices: Vec<Option<String>> = if accepts(spec, &p.key) {
            p.values.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        };
        combos = combos
            .into_iter()
            .flat_map(|c| {
                choices.iter().map(move |v| {
                    let mut next = c.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    combos
}

/// The jobs of a sweep, in order: each optimizer, each combination of the
/// swept values it accepts, each lr. Every key (the lr included) overrides the
/// spec's own value, as if written in the spec. Every spec is parsed and every
/// swept key checked to belong to some optimizer before any rule is built.
pub fn grid(optimizers: &[String], params: &[Param], lrs: &[f64]) -> Result<Vec<Job>, SweepError> {
    let specs = optimizers
        .iter()
        .map(|s| Spec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(p) = params
        .iter()
        .find(|p| !specs.iter().any(|s| accepts(s, &p.key)))
    {
        return Err(SweepError::UnusedKey { key: p.key.clone() });
    }
    let keys: Vec<String> = params.iter().map(|p| p.key.clone()).collect();
    let mut jobs = Vec::new();
    for (text, spec) in optimizers.iter().zip(&specs) {
        for combo in combinations(spec, params) {
            for &lr in lrs {
                jobs.push(Job {
                    optimizer: text.clone(),
                    params: combo.clone(),
                    lr,
                    rule: optim::build(&run_spec(spec, &keys, &combo, lr))?,
                });
            }
        }
    }
    Ok(jobs)
}

/// The jobs of an optimizer × lr grid: each spec built as given, then its
/// learning rate set to each of `lrs` (an lr the rule refuses is an error
/// naming the spec).
pub fn lr_grid(optimizers: &[String], lrs: &[f64]) -> Result<Vec<Job>, SweepError> {
    let mut jobs = Vec::with_capacity(optimizers.len() * lrs.len());
    for spec in optimizers {
        let base = optim::build(spec)?;
        for &lr in lrs {
            let mut rule = base.clone();
            rule.set_lr(lr);
            rule.validate().map_err(|e| SweepError::Lr {
                spec: spec.clone(),
                source: Box::new(ConfigError::key(base.name(), e)),
            })?;
            jobs.push(Job {
                optimizer: spec.clone(),
                params: Vec::new(),
                lr,
                rule,
            });
        }
    }
    Ok(jobs)
}

/// Runs every job for `steps` updates from `start` (in parallel), each with a
/// fresh copy of `schedule`; `done()` is called as each run ends. The points
/// come back in the order of the jobs.
pub fn run(
    jobs: Vec<Job>,
    landscape: &dyn Landscape,
    start: [f64; 2],
    steps: usize,
    schedule: Option<&AnySchedule>,
    done: impl Fn() + Sync,
) -> Result<Vec<GridPoint>, ConfigError> {
    jobs.into_par_iter()
        .map(|job| {
            let mut driver = schedule.cloned().map(schedule::Driver::new);
            let path = trajectory::<f64, _>(
                landscape,
                start,
                ParamShape::Vector,
                job.rule,
                steps,
                |reached, o| schedule_step(driver.as_mut(), reached, o),
            );
            done();
            Ok(GridPoint {
                optimizer: job.optimizer,
                params: job.params,
                lr: job.lr,
                path: path?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_the_spec_keys() {
        let spec = Spec::parse("momentum:lr=0.5,momentum=0.1,dampening=0").unwrap();
        let text = with_overrides(&spec, &[("lr", "0.01".into()), ("momentum", "0.9".into())]);
        assert_eq!(text, "momentum:dampening=0,lr=0.01,momentum=0.9");
    }

    #[test]
    fn parameters_multiply_only_the_optimizers_that_have_them() {
        let params = [Param {
            key: "momentum".into(),
            values: vec!["0.5".into(), "0.9".into()],
        }];
        assert_eq!(combinations(&Spec::parse("nag").unwrap(), &params).len(), 2);
        assert_eq!(
            combinations(&Spec::parse("gd").unwrap(), &params),
            vec![vec![None]]
        );
        assert_eq!(
            combinations(&Spec::parse("adam").unwrap(), &params),
            vec![vec![None]]
        );
        let jobs = grid(&["nag".into(), "gd".into()], &params, &[0.1, 0.2]).unwrap();
        assert_eq!(jobs.len(), 6);
        let unused = grid(&["gd".into()], &params, &[0.1]).unwrap_err();
        assert_eq!(
            unused.to_string(),
            "none of the optimizers has the key 'momentum'"
        );
    }

    #[test]
    fn an_lr_grid_sets_the_typed_lr() {
        let jobs = lr_grid(&["adam:beta1=0.8".into()], &[0.5, 0.25]).unwrap();
        assert_eq!(jobs[1].rule.lr(), 0.25);
        assert_eq!(
            jobs[1].rule,
            optim::build("adam:beta1=0.8,lr=0.25").unwrap()
        );
        let refused = lr_grid(&["gd".into()], &[-1.0]).unwrap_err();
        assert!(
            refused.to_string().starts_with("gd: sgd: lr must be"),
            "{refused}"
        );
    }
}
