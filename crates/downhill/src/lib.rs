//! # downhill
//!
//! Gradient-descent optimizers numerically identical to PyTorch's `torch.optim`
//! (same defaults, formulas and operation order), the learning notes' classic
//! methods (`gd`, `momentum`, look-ahead `nag`), 2-D test surfaces with exact
//! gradients, and a driver that records optimizer paths on them.
//!
//! ```
//! use downhill::{lab, optim, surface::Surface};
//! let rule = optim::build("adam:lr=0.1").unwrap();
//! let path = lab::trajectory::<f64, _>(&Surface::Booth, [-6.0, -4.0], lab::ParamShape::Vector, rule, 500, |_, _| Ok(())).unwrap();
//! let end = path.points.last().unwrap();
//! assert!((end.x - 1.0).abs() < 1e-3 && (end.y - 3.0).abs() < 1e-3);
//! ```

pub mod data;
pub mod file;
pub mod lab;
pub mod model;
pub mod state_file;
pub mod train;

/// Optimizers: the `downhill-optim` crate.
pub use downhill_optim as optim;
pub use downhill_optim::{hyper, hyperparams, scalar, spec};
/// Learning-rate schedules: the `downhill-schedule` crate.
pub use downhill_schedule as schedule;
/// Test surfaces and formulas: the `downhill-surface` crate.
pub use downhill_surface as surface;

pub use optim::{AnyRule, Optimizer};
pub use scalar::Scalar;
pub use spec::{ConfigError, Spec};
pub use state_file::{StateFileError, StateFiles};

/// The Rust examples of the README and the book, compiled and run as doc tests.
#[cfg(doctest)]
mod book {
    #[doc = include_str!("../../../README.md")]
    pub struct Readme;
    #[doc = include_str!("../../../docs/optimizers.md")]
    pub struct Optimizers;
    #[doc = include_str!("../../../docs/schedules.md")]
    pub struct Schedules;
    #[doc = include_str!("../../../docs/lab.md")]
    pub struct Lab;
    #[doc = include_str!("../../../docs/training.md")]
    pub struct Training;
    #[doc = include_str!("../../../docs/architecture.md")]
    pub struct Architecture;
}
