//! What a training run is made of: its configuration, the state that changes
//! (and is checkpointed), the samples, how it ended and why it failed.

use super::clip::Clip;
use crate::data::{BatchSize, Dataset};
use crate::model::{Float, Network};
use crate::optim::{AnyRule, Averaged, Optimizer, ParamGroup, RuleSet, StepError};
use crate::schedule::{linear_scaling, AnySchedule, Scheduler};
use crate::spec::ConfigError;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
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
    /// A run that cannot be distributed, or a failed collective.
    #[error("distributed: {0}")]
    Distributed(String),
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
    /// Stochastic weight averaging, if any.
    pub swa: Option<Swa>,
}

/// Stochastic weight averaging in training (`--swa START[,SWA_LR]`, the
/// recipe of `torch.optim.swa_utils`): the parameters at the end of epoch
/// `start` and of every later epoch enter a running mean
/// ([`Averaged`](crate::optim::Averaged)); with `lr`, the schedule
/// `swalr:swa_lr=lr` (cos over 10 epochs, then constant) takes over the
/// learning rate, per epoch, after epoch `start`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Swa {
    pub start: usize,
    pub lr: Option<f64>,
}

impl std::str::FromStr for Swa {
    type Err = String;
    /// `START` or `START,SWA_LR`: an epoch ≥ 1 and an lr ≥ 0.
    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || {
            format!("--swa must be START or START,SWA_LR (an epoch >= 1 and a learning rate >= 0), got '{text}'")
        };
        let (start, lr) = match text.split_once(',') {
            Some((start, lr)) => (start, Some(lr)),
            None => (text, None),
        };
        let start: usize = start.trim().parse().map_err(|_| usage())?;
        let lr = lr
            .map(|lr| lr.trim().parse::<f64>().map_err(|_| usage()))
            .transpose()?;
        if start == 0 || lr.is_some_and(|lr| !(lr.is_finite() && lr >= 0.0)) {
            return Err(usage());
        }
        Ok(Swa { start, lr })
    }
}

impl std::fmt::Display for Swa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.lr {
            Some(lr) => write!(f, "{},{lr:?}", self.start),
            None => write!(f, "{}", self.start),
        }
    }
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
    /// The stochastic weight average, once SWA has started.
    pub averaged: Option<Averaged<T>>,
}

impl<T: Float> TrainState<T> {
    /// The parameters a model is evaluated with: Schedule-Free's x (see
    /// `Optimizer::evaluation_point`), the parameters themselves otherwise.
    pub fn evaluation_params(&self) -> std::borrow::Cow<'_, [T]> {
        use crate::optim::RuleSet;
        if !self.optimizer.rule(0).has_evaluation_point() {
            return std::borrow::Cow::Borrowed(&self.params);
        }
        let mut x = vec![T::zero(); self.params.len()];
        self.optimizer
            .evaluation_point(&self.params, &mut x)
            .expect("the optimizer was built for these parameters");
        std::borrow::Cow::Owned(x)
    }

    /// Fresh weights from stream 0 of `seed`; shuffles from stream 1. The
    /// optimizer has one group with one tensor per weight matrix (a matrix,
    /// for rules such as LARS that look at shapes) and bias.
    pub fn new(net: &Network, rule: AnyRule, seed: u64) -> Result<Self, ConfigError> {
        let mut init = ChaCha8Rng::seed_from_u64(seed);
        let mut params = vec![T::zero(); net.param_len()];
        net.init(&mut params, &mut init);
        let optimizer = optimizer_for(&net.tensor_shapes(), rule)?;
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
            averaged: None,
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
    /// Updates skipped for a non-finite gradient in this call ([`NonFinite::Skip`](crate::optim::NonFinite::Skip)).
    pub skipped_updates: u64,
    /// Gradient entries replaced with zero in this call ([`NonFinite::Zero`](crate::optim::NonFinite::Zero)).
    pub zeroed_values: u64,
}

/// The optimizer of a network: one group of all its tensors, or, for a rule
/// that takes only some shapes (Muon: matrices), the usual recipe: a group
/// per tensor, the rule for the weight matrices and AdamW with the same
/// learning rate for the biases.
pub(super) fn optimizer_for<T: Float>(
    shapes: &[Vec<usize>],
    rule: AnyRule,
) -> Result<Optimizer<T>, ConfigError> {
    let shapes = shapes.to_vec();
    if super::shard_state::one_group(&rule, &shapes) {
        return Optimizer::with_groups(rule, vec![ParamGroup::shaped(shapes)]);
    }
    let others = crate::optim::build(&format!("adamw:lr={:?}", rule.lr()))?;
    let groups = shapes
        .into_iter()
        .map(|shape| {
            let chosen = if rule.check_shape(&shape).is_ok() {
                &rule
            } else {
                &others
            };
            (chosen.clone(), ParamGroup::shaped(vec![shape]))
        })
        .collect();
    Optimizer::with_rules(groups)
}
