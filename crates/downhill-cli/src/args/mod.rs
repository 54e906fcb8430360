//! Argument groups several subcommands share, and their checks.

pub mod problem;
pub mod setup;
