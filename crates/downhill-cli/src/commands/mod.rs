//! One module per subcommand.

pub mod bench;
pub mod compare;
mod compare_plot;
pub mod demo;
pub mod list;
mod progress;
pub mod run;
pub mod schedule;
mod schedule_plot;
pub mod serve;
pub(crate) mod setup;
pub mod sweep;
pub mod train;
