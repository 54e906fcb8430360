//! One module per subcommand.

pub mod compare;
mod compare_plot;
pub mod list;
mod progress;
pub mod run;
mod setup;
pub mod train;
