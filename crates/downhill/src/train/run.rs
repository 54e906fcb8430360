//! The training loop.

use super::distributed::Distributed;
use super::observer::{EpochRecord, Observer, StepRecord};
use super::state::{
    LrSchedule, Outcome, Samples, ScheduleUnit, Swa, TrainConfig, TrainError, TrainState,
};
use crate::data::Batcher;
use crate::model::{Float, Network};
use crate::optim::{self, Averaged, Averaging, NonFinite};
use crate::schedule::Scheduler;
use std::time::Instant;

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
    run(net, train, test, config, state, observers, None)
}

/// [`train`] as one rank of a data-parallel run ([`Distributed`]): the same
/// batches, records and outcome on every rank.
pub fn train_distributed<T: Float>(
    net: &Network,
    train: &Samples<T>,
    test: Option<&Samples<T>>,
    config: &TrainConfig,
    state: &mut TrainState<T>,
    observers: &mut [&mut dyn Observer<T>],
    dist: &Distributed,
) -> Result<Outcome, TrainError> {
    run(net, train, test, config, state, observers, Some(dist))
}

pub(super) fn run<T: Float>(
    net: &Network,
    train: &Samples<T>,
    test: Option<&Samples<T>>,
    config: &TrainConfig,
    state: &mut TrainState<T>,
    observers: &mut [&mut dyn Observer<T>],
    dist: Option<&Distributed>,
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
            let (loss, stepped) = match dist {
                None => {
                    ws.gather(&train.x, &train.y, rows);
                    // The batch's loss is the first evaluation's: at the parameters
                    // before the step (lbfgs evaluates again inside its step).
                    let mut first_loss = None;
                    let stepped =
                        state
                            .optimizer
                            .step_with(&mut state.params, &mut grads, |point, g| {
                                let loss = net.gradient(point, &mut ws, rows.len(), g);
                                first_loss.get_or_insert(loss);
                                if let Some(clip) = &config.clip {
                                    clip.apply(g, &sizes);
                                }
                                T::of(loss)
                            });
                    let loss = first_loss.unwrap_or(f64::NAN);
                    (loss, stepped.map(|s| s.outcome))
                }
                Some(d) => d.step(net, &mut ws, train, rows, &mut grads, config, state)?,
            };
            state.step += 1;
            if !loss.is_finite() && !tolerant {
                return Err(TrainError::NonFiniteLoss {
                    epoch: state.epoch + 1,
                    step: state.step,
                    loss,
                });
            }
            let outcome = stepped.map_err(|source| TrainError::Step {
                step: state.step,
                source,
            })?;
            match outcome {
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
            .map(|t| net.evaluate(&state.evaluation_params(), &t.x, &t.y, &mut ws));
        if let Some(e) = evaluation.filter(|e| !e.loss.is_finite()) {
            return Err(TrainError::NonFiniteLoss {
                epoch: state.epoch + 1,
                step: state.step,
                loss: e.loss,
            });
        }
        state.epoch += 1;
        let seconds = started.elapsed().as_secs_f64();
        state.seconds += seconds;
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
            seconds,
            elapsed: state.seconds,
        };
        if let Some(s) = state.schedule.as_mut() {
            s.scheduler.observe(monitored);
        }
        if let Some(swa) = config.swa.filter(|swa| state.epoch >= swa.start) {
            average(state, swa)?;
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

/// The end of an epoch under SWA: the parameters enter the average; at the
/// start epoch, `swalr` takes over the learning rate if SWA has one.
fn average<T: Float>(state: &mut TrainState<T>, swa: Swa) -> Result<(), TrainError> {
    let len = state.params.len();
    let averaged = state
        .averaged
        .get_or_insert_with(|| Averaged::new(Averaging::Swa, len).expect("SWA takes no decay"));
    averaged
        .update(&state.params)
        .map_err(|source| TrainError::Step {
            step: state.step,
            source,
        })?;
    if let (Some(lr), true) = (swa.lr, state.epoch == swa.start) {
        let swalr = crate::schedule::build(&format!("swalr:swa_lr={lr:?}"))?;
        let scheduler = Scheduler::new(swalr, state.lr())?;
        scheduler.apply(&mut state.optimizer)?;
        state.schedule = Some(LrSchedule {
            scheduler,
            unit: ScheduleUnit::Epoch,
        });
    }
    Ok(())
}
