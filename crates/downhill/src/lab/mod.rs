//! The lab: optimizers walked over 2-D landscapes.
//!
//! [`trajectory`] records one optimizer's path; [`runs`] the paths of several
//! specs from one start under an optional schedule (what `downhill run` prints
//! and the web page draws); [`sweep`] grids of optimizers × learning rates ×
//! parameters; [`tune`] the best lr of each optimizer; [`phase`] one
//! optimizer's lr × key phase diagram; [`overlay`] what the page draws along a
//! path besides its points; [`explain`] one update's equations with its numbers.

pub mod explain;
pub mod overlay;
pub mod phase;
mod runs;
pub mod sweep;
mod trajectory;
pub mod tune;

pub use runs::{runs, schedule_step, Run};
pub use trajectory::{trajectory, Divergence, ParamShape, Point, Trajectory};

/// The learning notes' seven optimizers (what `downhill run` runs when given none).
pub const SEED_OPTIMIZERS: [&str; 7] = [
    "gd:lr=0.01",
    "momentum:lr=0.01",
    "nag:lr=0.01",
    "adagrad:lr=0.01",
    "rmsprop:lr=0.01",
    "adadelta",
    "adam:lr=0.01",
];
