//! The training loop: shuffled batches, exact gradients, any optimizer,
//! clipping, early stopping, and observers for everything else.
//!
//! The loop owns stepping; it hands a [`StepRecord`] per update and an
//! [`EpochRecord`] per epoch to each [`Observer`] (progress bars, metric
//! files, [`Checkpointer`]). A learning-rate schedule ([`LrSchedule`]) can
//! advance every update or every epoch; it is fed the monitored loss after
//! each epoch (for `plateau`). Randomness comes from two ChaCha8
//! streams of the seed: stream 0 draws the initial weights, stream 1 the
//! shuffles, so runs with the same seed share both.

mod checkpoint;
mod clip;
mod distributed;
mod observer;
mod run;
mod setup;
mod shard_state;
mod state;

pub use checkpoint::{Checkpoint, Checkpointer, RngState};
pub use clip::Clip;
pub use distributed::{
    all_gather_f64, all_reduce_sum, replicated, shards, CommError, Communicator, Distributed,
    Gathered, Shard, Solo,
};
pub use observer::{EpochRecord, History, MetricsFormat, MetricsWriter, Observer, StepRecord};
pub use run::{train, train_distributed};
pub use setup::{Finished, Prepared, Setup, SetupError, TaskChoice};
pub use state::{
    LrSchedule, Outcome, Samples, ScheduleUnit, Swa, TrainConfig, TrainError, TrainState,
};
