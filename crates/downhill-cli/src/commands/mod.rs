//! One module per subcommand.

pub mod bench;
pub mod demo;
pub mod list;
pub mod run;
pub mod schedule;
mod schedule_plot;
pub mod serve;
pub mod sweep;
