//! Walking a schedule step by step, driving an optimizer, saving and loading.

use super::{AnySchedule, Event, Schedule};
use downhill_optim::hyper::KeyError;
use downhill_optim::scalar::Scalar;
use downhill_optim::spec::ConfigError;
use downhill_optim::{Optimizer, RuleSet};
use serde::{Deserialize, Serialize};

/// A schedule in motion: the lr (and momentum) of the current step.
///
/// ```
/// use downhill_schedule::{build, Scheduler};
/// let mut s = Scheduler::new(build("step:step_size=2,gamma=0.5").unwrap(), 1.0).unwrap();
/// let mut seen = vec![s.lr()];
/// for _ in 0..4 {
///     seen.push(s.advance().unwrap());
/// }
/// assert_eq!(seen, [1.0, 1.0, 0.5, 0.5, 0.25]);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scheduler {
    schedule: AnySchedule,
    base_lr: f64,
    step: u64,
    lr: f64,
}

/// The version written by [`Scheduler::to_json`].
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Saved {
    format: u32,
    scheduler: Scheduler,
}

impl Scheduler {
    /// Starts `schedule` at step 0 with base lr `base_lr` (PyTorch's `base_lrs`).
    pub fn new(mut schedule: AnySchedule, base_lr: f64) -> Result<Self, ConfigError> {
        if !(base_lr.is_finite() && base_lr >= 0.0) {
            return Err(ConfigError::key(
                "schedule",
                KeyError::Constraint(format!(
                    "the base lr must be a finite number >= 0, got {base_lr}"
                )),
            ));
        }
        let lr = schedule.lr(Event::Start, base_lr, base_lr)?;
        Ok(Scheduler {
            schedule,
            base_lr,
            step: 0,
            lr,
        })
    }

    /// The lr of the current step (the update about to be taken).
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The current step k (0 for the first update).
    pub fn step(&self) -> u64 {
        self.step
    }

    pub fn base_lr(&self) -> f64 {
        self.base_lr
    }

    /// The momentum (or β₁) of the current step, when the schedule cycles it.
    pub fn momentum(&self) -> Option<f64> {
        self.schedule.momentum(self.step)
    }

    /// Feeds a metric measured after the current update; it shapes the next lr.
    pub fn observe(&mut self, metric: f64) {
        self.schedule.observe(metric);
    }

    /// Moves to the next step and returns its lr. On error nothing changes.
    pub fn advance(&mut self) -> Result<f64, ConfigError> {
        let mut next = self.schedule.clone();
        let lr = next.lr(Event::Step(self.step + 1), self.base_lr, self.lr)?;
        self.schedule = next;
        self.step += 1;
        self.lr = lr;
        Ok(lr)
    }

    /// Sets the optimizer's lr in every group, and its momentum when the
    /// schedule cycles it (`momentum`, or β₁ for the Adam family, as PyTorch
    /// looks for `betas` first). An optimizer with neither is an error.
    pub fn apply<T: Scalar, R: RuleSet>(
        &self,
        optimizer: &mut Optimizer<T, R>,
    ) -> Result<(), ConfigError> {
        optimizer.set_lr_all(self.lr)?;
        let Some(momentum) = self.momentum() else {
            return Ok(());
        };
        let owner = optimizer.rule(0).name();
        if optimizer.momentum(0).is_none() {
            return Err(ConfigError::key(
                owner,
                KeyError::Constraint(
                    "cycle_momentum=true needs an optimizer with momentum or beta1 (sgd, rmsprop, adam, …); \
                     set cycle_momentum=false"
                        .into(),
                ),
            ));
        }
        optimizer.set_momentum_all(momentum).map_err(|e| match e {
                ConfigError::Key { error: KeyError::Frozen { .. }, .. } => ConfigError::key(
                    owner,
                    KeyError::Constraint(format!(
                        "cycle_momentum=true needs the optimizer built with momentum > 0 (e.g. {owner}:momentum=0.9); \
                         or set cycle_momentum=false"
                    )),
                ),
                other => other,
            })
    }

    /// The scheduler and its state as versioned JSON. Fails for closure schedules.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&Saved {
            format: FORMAT,
            scheduler: self.clone(),
        })
    }

    /// Restores a scheduler written by [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let saved: Saved = serde_json::from_str(text)?;
        if saved.format != FORMAT {
            return Err(serde::de::Error::custom(format!(
                "unsupported scheduler format {} (this build reads {FORMAT})",
                saved.format
            )));
        }
        Ok(saved.scheduler)
    }
}

/// The lrs of steps 0..n of a schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    pub lr: Vec<f64>,
    /// When the schedule cycles momentum: the momentum (or β₁) per step,
    /// `None` at steps where no cycling member is in charge.
    pub momentum: Option<Vec<Option<f64>>>,
}

/// The lrs (and momenta) of steps 0..n: a pure function of its arguments.
pub fn lrs(schedule: &AnySchedule, base_lr: f64, n: u64) -> Result<Sequence, ConfigError> {
    let mut scheduler = Scheduler::new(schedule.clone(), base_lr)?;
    let cycles = schedule.cycles_momentum();
    let capacity = n.min(1 << 20) as usize;
    let (mut lr, mut momentum) = (
        Vec::with_capacity(capacity),
        Vec::with_capacity(if cycles { capacity } else { 0 }),
    );
    for k in 0..n {
        if k > 0 {
            scheduler.advance()?;
        }
        lr.push(scheduler.lr());
        if cycles {
            momentum.push(scheduler.momentum());
        }
    }
    Ok(Sequence {
        lr,
        momentum: cycles.then_some(momentum),
    })
}

/// The lr of step k, replayed from step 0 (PyTorch's chainable form).
pub fn lr_at(schedule: &AnySchedule, base_lr: f64, k: u64) -> Result<f64, ConfigError> {
    let mut scheduler = Scheduler::new(schedule.clone(), base_lr)?;
    for _ in 0..k {
        scheduler.advance()?;
    }
    Ok(scheduler.lr())
}

/// Drives an optimizer's lr (and momentum) from a schedule: call
/// [`before_step`](Self::before_step) before every update, e.g. in the
/// `before_step` closure of `downhill::lab::trajectory`.
/// The base lr is the optimizer's lr at the first call.
#[derive(Clone, Debug)]
pub struct Driver {
    schedule: AnySchedule,
    scheduler: Option<Scheduler>,
}

impl Driver {
    pub fn new(schedule: AnySchedule) -> Self {
        Driver {
            schedule,
            scheduler: None,
        }
    }

    /// The scheduler, once the first step has started it.
    pub fn scheduler(&self) -> Option<&Scheduler> {
        self.scheduler.as_ref()
    }

    /// Feeds a metric measured after the last update (for `plateau`).
    pub fn observe(&mut self, metric: f64) {
        if let Some(s) = &mut self.scheduler {
            s.observe(metric);
        }
    }

    /// Moves the schedule to the next update and sets the optimizer's lr (and momentum).
    pub fn before_step<T: Scalar, R: RuleSet>(
        &mut self,
        optimizer: &mut Optimizer<T, R>,
    ) -> Result<(), ConfigError> {
        match &mut self.scheduler {
            Some(s) => {
                s.advance()?;
            }
            None => {
                let base = optimizer.lr(0);
                self.scheduler = Some(Scheduler::new(self.schedule.clone(), base)?);
            }
        }
        self.scheduler
            .as_ref()
            .map_or(Ok(()), |s| s.apply(optimizer))
    }
}
