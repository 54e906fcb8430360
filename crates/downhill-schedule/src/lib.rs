//! # downhill-schedule
//!
//! Learning-rate schedules: every `torch.optim.lr_scheduler`, composable.
//!
//! ```
//! use downhill_optim::{build, Optimizer};
//! use downhill_schedule::{self as schedule, Scheduler};
//! // Linear warm-up over 5 updates, then cosine decay over 95.
//! let warmup_cosine = schedule::build(
//!     "sequential:schedulers=[linear:start_factor=0.1,total_iters=5;cosine:t_max=95],milestones=[5]",
//! )
//! .unwrap();
//! let mut opt = Optimizer::<f32>::new(build("adamw:lr=0.001").unwrap(), 4).unwrap();
//! let mut scheduler = Scheduler::new(warmup_cosine, opt.lr(0)).unwrap();
//! let (mut params, grads) = ([1.0f32; 4], [0.5f32; 4]);
//! for _ in 0..100 {
//!     scheduler.apply(&mut opt).unwrap(); // sets the typed lr of every group
//!     opt.step(&mut params, &grads).unwrap();
//!     scheduler.advance().unwrap();
//! }
//! assert!((scheduler.lr() - 0.0).abs() < 1e-9, "the cosine ends at eta_min = 0");
//! ```
//!
//! A schedule maps the step count k to the learning rate of the k-th update
//! (PyTorch: `param_groups[0]['lr']` before the k-th `optimizer.step()`),
//! given the base lr (PyTorch's `base_lrs`, the optimizer's initial lr).
//!
//! Most PyTorch schedulers are *chainable*: `get_lr` computes the next lr from
//! the current one (`lr ← lr·γ`), not from a closed form. The two agree in
//! exact arithmetic but not in the last bits, and they disagree outright when
//! schedules are chained. Every schedule here uses the form PyTorch uses, so a
//! sequence is reproduced to the rounding: [`lrs`] and [`lr_at`] replay it
//! from step 0 (pure functions of the spec, base lr and step count) and
//! [`Scheduler`] walks it one step at a time.
//!
//! Specs follow the grammar of optimizers (`NAME[:key=value,…]`, PyTorch's
//! lower-case keyword names). Composites take their members as a bracketed
//! list of specs separated by `;`:
//! `sequential:schedulers=[linear:start_factor=0.1,total_iters=5;cosine:t_max=95],milestones=[5]`.
//!
//! `plateau` (ReduceLROnPlateau) is the one schedule that depends on data: it
//! is fed metrics with [`Scheduler::observe`]. A metric observed after update
//! k − 1 decides the lr of update k (PyTorch: `scheduler.step(metric)` after
//! `optimizer.step()`); a step with no new metric leaves `plateau` as it is.
//! Unlike PyTorch, `plateau` composes: `sequential` passes metrics to the
//! member in charge, `chained` to every member.

mod compose;
mod cosine;
mod cyclic;
mod lambda;
mod plateau;
mod registry;
mod scaling;
mod scheduler;
mod simple;
mod swa;

pub use compose::{Chained, Sequential};
pub use cosine::{Cosine, CosineRestarts};
pub use cyclic::{Cyclic, OneCycle};
pub use lambda::Lambda;
pub use plateau::{Plateau, PlateauConfig, PlateauState};
pub use registry::{build, Entry, SCHEDULES};
pub use scaling::linear_scaling;
pub use scheduler::{lr_at, lrs, Driver, Scheduler, Sequence};
pub use simple::{Constant, Exponential, Linear, MultiStep, Multiplicative, Polynomial, StepLr};
pub use swa::{Swalr, SWALR_STRATEGIES};

use downhill_optim::spec::ConfigError;
use serde::{Deserialize, Serialize};

/// Which lr a schedule is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Local step 0 when the schedule is built (PyTorch's initial step, taken
    /// on the optimizer's current lr; chained members take it in order).
    Start,
    /// Local step 0 when a `sequential` switches to the schedule at a
    /// milestone (PyTorch's `_update_lr(0)`: the closed form where there is one).
    Restart,
    /// Local step t ≥ 1 (PyTorch's chainable `get_lr`).
    Step(u64),
}

/// A learning-rate schedule in PyTorch's chainable form.
pub trait Schedule {
    /// The lr for `event`, from the base lr and the lr in force now (`current`).
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError>;

    /// The momentum (or Adam's β₁) at local step `t`, for schedules that cycle it.
    fn momentum(&self, _t: u64) -> Option<f64> {
        None
    }

    /// Feeds a metric, measured after the last update (used by `plateau`).
    fn observe(&mut self, _metric: f64) {}
}

/// Any schedule: the built-ins, closures, and their compositions.
///
/// Serialisable with its state (the closure schedule [`Lambda`] excepted).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "schedule", rename_all = "kebab-case")]
pub enum AnySchedule {
    Constant(Constant),
    Linear(Linear),
    Step(StepLr),
    Multistep(MultiStep),
    Exponential(Exponential),
    Polynomial(Polynomial),
    Cosine(Cosine),
    CosineRestarts(CosineRestarts),
    Cyclic(Cyclic),
    Onecycle(OneCycle),
    Multiplicative(Multiplicative),
    Plateau(Plateau),
    Sequential(Sequential),
    Chained(Chained),
    Swalr(Swalr),
    #[serde(skip)]
    Lambda(Lambda),
}

impl AnySchedule {
    fn inner(&self) -> &dyn Schedule {
        match self {
            AnySchedule::Constant(s) => s,
            AnySchedule::Linear(s) => s,
            AnySchedule::Step(s) => s,
            AnySchedule::Multistep(s) => s,
            AnySchedule::Exponential(s) => s,
            AnySchedule::Polynomial(s) => s,
            AnySchedule::Cosine(s) => s,
            AnySchedule::CosineRestarts(s) => s,
            AnySchedule::Cyclic(s) => s,
            AnySchedule::Onecycle(s) => s,
            AnySchedule::Multiplicative(s) => s,
            AnySchedule::Plateau(s) => s,
            AnySchedule::Sequential(s) => s,
            AnySchedule::Chained(s) => s,
            AnySchedule::Swalr(s) => s,
            AnySchedule::Lambda(s) => s,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Schedule {
        match self {
            AnySchedule::Constant(s) => s,
            AnySchedule::Linear(s) => s,
            AnySchedule::Step(s) => s,
            AnySchedule::Multistep(s) => s,
            AnySchedule::Exponential(s) => s,
            AnySchedule::Polynomial(s) => s,
            AnySchedule::Cosine(s) => s,
            AnySchedule::CosineRestarts(s) => s,
            AnySchedule::Cyclic(s) => s,
            AnySchedule::Onecycle(s) => s,
            AnySchedule::Multiplicative(s) => s,
            AnySchedule::Plateau(s) => s,
            AnySchedule::Sequential(s) => s,
            AnySchedule::Chained(s) => s,
            AnySchedule::Swalr(s) => s,
            AnySchedule::Lambda(s) => s,
        }
    }

    /// Whether this schedule (or a member) sets the momentum.
    pub fn cycles_momentum(&self) -> bool {
        match self {
            AnySchedule::Cyclic(s) => s.cycle_momentum,
            AnySchedule::Onecycle(s) => s.cycle_momentum,
            AnySchedule::Sequential(s) => s.members().iter().any(AnySchedule::cycles_momentum),
            AnySchedule::Chained(s) => s.members().iter().any(AnySchedule::cycles_momentum),
            _ => false,
        }
    }
}

impl Schedule for AnySchedule {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        self.inner_mut().lr(event, base, current)
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        self.inner().momentum(t)
    }

    fn observe(&mut self, metric: f64) {
        self.inner_mut().observe(metric)
    }
}
