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
mod observer;
mod setup;

pub use checkpoint::{Checkpoint, Checkpointer, RngState};
pub use clip::Clip;
pub use observer::{EpochRecord, History, MetricsFormat, MetricsWriter, Observer, StepRecord};
pub use setup::{Finished, Prepared, Setup, SetupError, TaskChoice};

use crate::data::{BatchSize, Batcher, Dataset};
use crate::model::{Float, Network};
use crate::optim::{self, AnyRule, NonFinite, Optimizer, ParamGroup, StepError};
use crate::schedule::{linear_scaling, AnySchedule, Scheduler};
use crate::spec::ConfigError;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use thiserror::Error;

/// Why training stopped with an error.
#[derive(Debug, Error)]
pub enum TrainError {
    #[error("the loss became {loss} at epoch {epoch}, update {step}; lower the learning rate or clip gradients (--clip)")]
    NonFiniteLoss { epoch: usize, step: u64, loss: f64 },
    #[error("update {step}: {source}")]
    Step { step: u64, source: StepError },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("{0}")]
    Output(String),
}

/// Samples converted to the element type the model computes in.
#[derive(Clone, Debug)]
pub struct Samples<T> {
    pub x: Array2<T>,
    pub y: Vec<f64>,
}

impl<T: Float> Samples<T> {
    pub fn of(data: &Dataset) -> Self {
        Samples {
            x: data.features.mapv(T::of),
            y: data.targets.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
}

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Total epochs (a resumed run continues up to this count).
    pub epochs: usize,
    pub batch: BatchSize,
    pub drop_last: bool,
    pub clip: Option<Clip>,
    /// Stop after this many epochs without a lower monitored loss (test loss, or train loss without a test set).
    pub patience: Option<usize>,
}

/// When a schedule moves to its next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleUnit {
    /// Every update (PyTorch: `scheduler.step()` after each `optimizer.step()`).
    Step,
    /// Once per epoch, before the epoch's first update.
    Epoch,
}

/// A schedule driving the optimizer's learning rate (and momentum, for cyclic ones).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LrSchedule {
    pub scheduler: Scheduler,
    pub unit: ScheduleUnit,
}

/// Everything that changes during training (and is saved in checkpoints).
#[derive(Clone, Debug)]
pub struct TrainState<T: Float> {
    pub params: Vec<T>,
    pub optimizer: Optimizer<T>,
    /// The shuffling stream.
    pub rng: ChaCha8Rng,
    /// Epochs completed.
    pub epoch: usize,
    /// Updates completed.
    pub step: u64,
    pub seconds: f64,
    /// Lowest monitored loss so far, and epochs since it.
    pub best_loss: Option<f64>,
    pub stale_epochs: usize,
    pub schedule: Option<LrSchedule>,
}

impl<T: Float> TrainState<T> {
    /// Fresh weights from stream 0 of `seed`; shuffles from stream 1. The
    /// optimizer has one group with one tensor per weight matrix and bias.
    pub fn new(net: &Network, rule: AnyRule, seed: u64) -> Result<Self, ConfigError> {
        let mut init = ChaCha8Rng::seed_from_u64(seed);
        let mut params = vec![T::zero(); net.param_len()];
        net.init(&mut params, &mut init);
        let optimizer = Optimizer::with_groups(rule, vec![ParamGroup::new(net.tensor_sizes())])?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        Ok(TrainState {
            params,
            optimizer,
            rng,
            epoch: 0,
            step: 0,
            seconds: 0.0,
            best_loss: None,
            stale_epochs: 0,
            schedule: None,
        })
    }

    /// The linear scaling rule ([`linear_scaling`]): lr ← lr · batch / reference.
    pub fn scale_lr(&mut self, batch: usize, reference: usize) -> Result<f64, ConfigError> {
        let lr = linear_scaling(self.lr(), batch as u64, reference as u64)
            .map_err(|e| ConfigError::key("scale-lr", e))?;
        self.optimizer.set_lr_all(lr)?;
        Ok(lr)
    }

    /// Starts `schedule` from the optimizer's current lr (the base lr) and
    /// sets the lr of the first update.
    pub fn set_schedule(
        &mut self,
        schedule: AnySchedule,
        unit: ScheduleUnit,
    ) -> Result<(), ConfigError> {
        let scheduler = Scheduler::new(schedule, self.lr())?;
        scheduler.apply(&mut self.optimizer)?;
        self.schedule = Some(LrSchedule { scheduler, unit });
        Ok(())
    }

    /// The learning rate of group 0.
    pub fn lr(&self) -> f64 {
        self.optimizer.lr(0)
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub epochs: usize,
    pub stopped_early: bool,
    /// Updates skipped for a non-finite gradient in this call ([`NonFinite::Skip`]).
    pub skipped_updates: u64,
    /// Gradient entries replaced with zero in this call ([`NonFinite::Zero`]).
    pub zeroed_values: u64,
}

/// Trains until `config.epochs` epochs are complete (continuing from
/// `state.epoch`) or early stopping triggers.
///
/// A non-finite gradient is handled by the optimizer's [`NonFinite`] policy.
/// Under the default ([`NonFinite::Error`]) a non-finite batch loss stops the
/// run; under `skip` or `zero` the batch is left out of the epoch's mean loss,
/// and only an epoch without one finite batch loss stops it. Under `propagate`
/// the bad values enter the parameters and the next non-finite loss stops the run.
pub fn train<T: Float>(
    net: &Network,
    train: &Samples<T>,
    test: Option<&Samples<T>>,
    config: &TrainConfig,
    state: &mut TrainState<T>,
    observers: &mut [&mut dyn Observer<T>],
) -> Result<Outcome, TrainError> {
    let batch = config.batch.resolve(train.len()).max(1);
    let mut batcher = Batcher::new(train.len(), batch, config.drop_last);
    let mut ws = net.workspace::<T>(batch);
    let mut grads = vec![T::zero(); net.param_len()];
    let sizes = net.tensor_sizes();
    let mut stopped_early = false;
    let (mut skipped_updates, mut zeroed_values) = (0, 0);
    let tolerant = matches!(
        state.optimizer.non_finite(),
        NonFinite::Skip | NonFinite::Zero
    );
    while state.epoch < config.epochs && !stopped_early {
        let started = Instant::now();
        batcher.shuffle(&mut state.rng);
        let (mut loss_sum, mut seen, mut last_bad_loss) = (0.0, 0usize, None);
        for (index, rows) in batcher.batches().enumerate() {
            if let Some(s) = state.schedule.as_mut() {
                let due = match s.unit {
                    ScheduleUnit::Step => state.step > 0,
                    ScheduleUnit::Epoch => index == 0 && state.epoch > 0,
                };
                if due {
                    s.scheduler.advance()?;
                    s.scheduler.apply(&mut state.optimizer)?;
                }
            }
            ws.gather(&train.x, &train.y, rows);
            let mut loss = 0.0;
            let stepped = state
                .optimizer
                .step_with(&mut state.params, &mut grads, |point, g| {
                    loss = net.gradient(point, &mut ws, rows.len(), g);
                    if let Some(clip) = &config.clip {
                        clip.apply(g, &sizes);
                    }
                    T::of(loss)
                });
            state.step += 1;
            if !loss.is_finite() && !tolerant {
                return Err(TrainError::NonFiniteLoss {
                    epoch: state.epoch + 1,
                    step: state.step,
                    loss,
                });
            }
            let stepped = stepped.map_err(|source| TrainError::Step {
                step: state.step,
                source,
            })?;
            match stepped.outcome {
                optim::Outcome::Applied => {}
                optim::Outcome::Skipped { .. } => skipped_updates += 1,
                optim::Outcome::Zeroed { count } => zeroed_values += count as u64,
            }
            if loss.is_finite() {
                loss_sum += loss * rows.len() as f64;
                seen += rows.len();
            } else {
                last_bad_loss = Some(loss);
            }
            let record = StepRecord {
                epoch: state.epoch,
                step: state.step,
                loss,
            };
            for o in observers.iter_mut() {
                o.on_step(&record)?;
            }
        }
        if let (0, Some(loss)) = (seen, last_bad_loss) {
            return Err(TrainError::NonFiniteLoss {
                epoch: state.epoch + 1,
                step: state.step,
                loss,
            });
        }
        let train_loss = loss_sum / seen.max(1) as f64;
        let evaluation = test
            .filter(|t| !t.is_empty())
            .map(|t| net.evaluate(&state.params, &t.x, &t.y, &mut ws));
        if let Some(e) = evaluation.filter(|e| !e.loss.is_finite()) {
            return Err(TrainError::NonFiniteLoss {
                epoch: state.epoch + 1,
                step: state.step,
                loss: e.loss,
            });
        }
        state.epoch += 1;
        state.seconds += started.elapsed().as_secs_f64();
        let monitored = evaluation.map_or(train_loss, |e| e.loss);
        if state.best_loss.is_none_or(|best| monitored < best) {
            state.best_loss = Some(monitored);
            state.stale_epochs = 0;
        } else {
            state.stale_epochs += 1;
        }
        stopped_early = config.patience.is_some_and(|p| state.stale_epochs >= p);
        let record = EpochRecord {
            epoch: state.epoch,
            train_loss,
            test_loss: evaluation.map(|e| e.loss),
            accuracy: evaluation.and_then(|e| e.accuracy),
            lr: state.lr(),
            seconds: state.seconds,
        };
        if let Some(s) = state.schedule.as_mut() {
            s.scheduler.observe(monitored);
        }
        for o in observers.iter_mut() {
            o.on_epoch(&record, state)?;
        }
    }
    for o in observers.iter_mut() {
        o.on_end(state)?;
    }
    Ok(Outcome {
        epochs: state.epoch,
        stopped_early,
        skipped_updates,
        zeroed_values,
    })
}
