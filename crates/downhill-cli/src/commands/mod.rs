//! One module per subcommand.

pub mod demo;
pub mod list;
pub mod run;
pub mod sweep;
