//! Argument groups several subcommands share, and their checks.

pub mod number;
pub mod problem;
pub mod setup;
