//! Several optimizers from one start, each under the same schedule.

use super::trajectory::{trajectory, ParamShape, Point, Trajectory};
use crate::optim::{self, Optimizer};
use crate::schedule;
use crate::spec::ConfigError;
use crate::surface::Landscape;

/// One optimizer's path, labelled with its spec as given.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub spec: String,
    pub path: Trajectory,
}

/// The paths of every spec from `start` (handed over as `shape`), in f64, each with a fresh copy of
/// `schedule` (a schedule spec). Specs and the schedule are all checked
/// before any step is taken. `observe(run, reached, optimizer)` sees each
/// optimizer at each point reached before the next update (after the
/// schedule has set the learning rate), in the state it holds there.
pub fn runs<F>(
    landscape: &dyn Landscape,
    start: [f64; 2],
    shape: ParamShape,
    specs: &[String],
    steps: usize,
    schedule: Option<&str>,
    mut observe: F,
) -> Result<Vec<Run>, ConfigError>
where
    F: FnMut(usize, &Point, &Optimizer<f64>),
{
    let rules = specs
        .iter()
        .map(|s| optim::build(s))
        .collect::<Result<Vec<_>, _>>()?;
    let schedule = schedule.map(schedule::build).transpose()?;
    let mut runs = Vec::with_capacity(rules.len());
    for (run, (spec, rule)) in specs.iter().zip(rules).enumerate() {
        let mut driver = schedule.clone().map(schedule::Driver::new);
        let path = trajectory::<f64, _>(
            landscape,
            start,
            shape,
            rule,
            steps,
            |reached, optimizer| {
                schedule_step(driver.as_mut(), reached, optimizer)?;
                observe(run, reached, optimizer);
                Ok(())
            },
        )?;
        runs.push(Run {
            spec: spec.clone(),
            path,
        });
    }
    Ok(runs)
}

/// What a schedule does before each update of a run: a plateau schedule is fed
/// the loss after each update (its metric), then the learning rate is set.
pub fn schedule_step(
    driver: Option<&mut schedule::Driver>,
    reached: &Point,
    optimizer: &mut Optimizer<f64>,
) -> Result<(), ConfigError> {
    match driver {
        Some(driver) => {
            if reached.step > 0 {
                driver.observe(reached.loss);
            }
            driver.before_step(optimizer)
        }
        None => Ok(()),
    }
}
