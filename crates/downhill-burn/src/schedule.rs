//! A downhill schedule where burn wants an `LrScheduler`.

use crate::Error;
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use downhill_schedule::{AnySchedule, Scheduler};

/// Burn's `LrScheduler` over a downhill schedule: the k-th call of `step`
/// returns the lr of the k-th update, the value `downhill schedule SPEC --lr
/// BASE` prints at step k (PyTorch's `param_groups[0]['lr']` before the k-th
/// `optimizer.step()`). The record is the step count; loading it replays the
/// schedule to that step. `plateau` needs metrics, which burn's scheduler
/// interface does not pass: it is refused.
#[derive(Clone, Debug)]
pub struct DownhillLrScheduler {
    start: Scheduler,
    now: Scheduler,
}

impl DownhillLrScheduler {
    /// Starts `schedule` from the base lr `base_lr`.
    pub fn new(schedule: AnySchedule, base_lr: f64) -> Result<Self, Error> {
        if matches!(schedule, AnySchedule::Plateau(_)) {
            return Err(Error::Plateau);
        }
        let start = Scheduler::new(schedule, base_lr)?;
        Ok(DownhillLrScheduler {
            now: start.clone(),
            start,
        })
    }

    /// Builds the schedule from a spec such as `"cosine:t_max=100"`.
    pub fn from_spec(spec: &str, base_lr: f64) -> Result<Self, Error> {
        Self::new(downhill_schedule::build(spec)?, base_lr)
    }
}

impl LrScheduler for DownhillLrScheduler {
    fn step(&mut self) -> f64 {
        let lr = self.now.lr();
        self.now
            .advance()
            .unwrap_or_else(|e| panic!("downhill schedule: {e}"));
        lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        LrSchedulerRecord::new().with_scalar("step", self.now.step())
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        let step: u64 = record.scalar("step").unwrap_or(0);
        self.now = self.start.clone();
        for _ in 0..step {
            self.step();
        }
    }
}
