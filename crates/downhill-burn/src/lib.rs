//! Every downhill rule as a burn optimizer.
//!
//! [`Downhill`] implements burn's optimizer extension point
//! ([`burn::optim::Optimizer`], wrapped in a [`burn::optim::ModuleOptimizer`]),
//! so any burn module trains with any rule of `downhill-optim`, built by value
//! or from a spec string (`"adamw:lr=3e-4,weight_decay=0.1"`). The state of
//! each parameter is a burn record ([`ParamState`]), saved and loaded by burn.
//! [`DownhillLrScheduler`] drives burn's learning rate with a downhill schedule.

mod optim;
mod schedule;

pub use optim::{Downhill, ParamState};
pub use schedule::DownhillLrScheduler;

use downhill_optim::ConfigError;

/// Why a rule or schedule cannot drive burn.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "{0} evaluates the loss inside its step (a closure or a look-ahead gradient), which \
         burn's optimizer interface does not give; use a rule that steps from one gradient"
    )]
    NeedsObjective(&'static str),
    #[error(
        "plateau needs a metric after every step, which burn's LrScheduler is not given; \
         use a schedule of the step alone"
    )]
    Plateau,
}
