//! One module per subcommand.

pub mod compare;
mod compare_plot;
pub mod list;
pub mod run;
pub mod train;
