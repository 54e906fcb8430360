//! One module per subcommand: arguments → library → output. No command
//! imports another; what they share is in `args`, `output`, `progress` and `plot`.

pub mod bench;
pub mod compare;
pub mod demo;
pub mod list;
pub mod run;
pub mod schedule;
pub mod serve;
pub mod sweep;
pub mod train;
pub mod tune;
