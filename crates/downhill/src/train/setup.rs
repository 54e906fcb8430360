//! One training setup, as `downhill train`, `downhill compare` and the web
//! page's training tab share it: the dataset loaded, split and scaled, the
//! model built, and fresh states whose weights and shuffles come from one seed,
//! so several optimizers train from the same initialisation and shuffle order.

use super::distributed::Distributed;
use super::observer::{EpochRecord, History, Observer};
use super::run::run;
use super::state::{Outcome, Samples, ScheduleUnit, TrainConfig, TrainError, TrainState};
use crate::data::{self, Batcher, DataError, Dataset, LoadOptions, Scaling, Task};
use crate::model::{Float, ModelError, ModelSpec, Network};
use crate::optim::{self, NonFinite};
use crate::schedule;
use crate::spec::ConfigError;
use std::ops::ControlFlow;
use thiserror::Error;

/// Why a setup could not be prepared. The first two name the command-line
/// options, as `downhill train` and the web page report them.
#[derive(Debug, Error)]
pub enum SetupError {
    #[error("--test-fraction must be in [0, 1), got {0}")]
    TestFraction(f64),
    #[error("--epochs must be at least 1, got 0")]
    NoEpochs,
    #[error("{file}: {features} features and {task:?}, but the training set has {train_features} and {train_task:?}")]
    TestSetMismatch {
        file: String,
        features: usize,
        task: Task,
        train_features: usize,
        train_task: Task,
    },
    #[error("{0}: no training samples left after the split")]
    NoTrainingSamples(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// What the dataset's targets are taken to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskChoice {
    /// As inferred: whole numbers with at most 100 values are classes.
    Auto,
    Classification,
    Regression,
}

/// Data, model, batching, schedule and seed of a training run.
#[derive(Clone, Debug)]
pub struct Setup {
    /// A bundled dataset, a generator spec or a file (see [`data::resolve`]).
    pub dataset: String,
    /// A separate test set (same forms as `dataset`); no split then.
    pub test_dataset: Option<String>,
    /// How dataset files are read.
    pub load: LoadOptions,
    pub task: TaskChoice,
    /// The model spec (see [`ModelSpec`]).
    pub model: String,
    /// Fraction of samples held out for testing, in [0, 1).
    pub test_fraction: f64,
    /// Whether the split keeps the class proportions.
    pub stratify: bool,
    /// Feature scaling, fitted on the training set.
    pub scaling: Scaling,
    /// Seed of the split, the initial weights and the shuffles.
    pub seed: u64,
    pub config: TrainConfig,
    /// A schedule spec and when it advances.
    pub schedule: Option<(String, ScheduleUnit)>,
    /// The linear scaling rule's reference batch size.
    pub scale_lr: Option<u64>,
    pub non_finite: NonFinite,
}

/// A dataset split and scaled, with the network that fits it.
pub struct Prepared {
    pub dataset: Dataset,
    pub train: Dataset,
    pub test: Dataset,
    pub net: Network,
}

impl Prepared {
    /// The train and test sets in the element type `T` the model computes in.
    pub fn samples<T: Float>(&self) -> (Samples<T>, Samples<T>) {
        (Samples::of(&self.train), Samples::of(&self.test))
    }
}

/// One optimizer's run in [`Setup::train_each`].
pub struct Finished<T: Float> {
    pub state: TrainState<T>,
    /// Every completed epoch.
    pub epochs: Vec<EpochRecord>,
    pub result: Result<Outcome, TrainError>,
}

impl Setup {
    /// Checks the test fraction and the number of epochs.
    pub fn check(&self) -> Result<(), SetupError> {
        if !(0.0..1.0).contains(&self.test_fraction) {
            return Err(SetupError::TestFraction(self.test_fraction));
        }
        if self.config.epochs == 0 {
            return Err(SetupError::NoEpochs);
        }
        Ok(())
    }

    /// Checks the settings, loads, splits, scales and builds the model.
    pub fn prepare(&self) -> Result<Prepared, SetupError> {
        self.check()?;
        let model = ModelSpec::parse(&self.model)?;
        let dataset = self.load(&self.dataset)?;
        let (dataset, mut train, mut test) = match &self.test_dataset {
            None => {
                let (train, test) =
                    data::split(&dataset, self.test_fraction, self.stratify, self.seed);
                (dataset, train, test)
            }
            Some(path) => {
                let test = self.load(path)?;
                if test.dim() != dataset.dim()
                    || test.task.classes().is_some() != dataset.task.classes().is_some()
                {
                    return Err(SetupError::TestSetMismatch {
                        file: path.clone(),
                        features: test.dim(),
                        task: test.task,
                        train_features: dataset.dim(),
                        train_task: dataset.task,
                    });
                }
                let task = match (dataset.task, test.task) {
                    (Task::Classification { classes: a }, Task::Classification { classes: b }) => {
                        Task::Classification { classes: a.max(b) }
                    }
                    (task, _) => task,
                };
                let retask = |d: Dataset| Dataset::new(&d.name, d.features, d.targets, task);
                let train = retask(dataset)?;
                (train.clone(), train, retask(test)?)
            }
        };
        if train.is_empty() {
            return Err(SetupError::NoTrainingSamples(dataset.name));
        }
        let scaler = data::Scaler::fit(&train.features, self.scaling);
        scaler.apply(&mut train.features);
        scaler.apply(&mut test.features);
        let net = model.build(dataset.dim(), dataset.task)?;
        Ok(Prepared {
            dataset,
            train,
            test,
            net,
        })
    }

    /// Loads a dataset and applies the task choice.
    fn load(&self, text: &str) -> Result<Dataset, DataError> {
        let dataset = data::resolve(text, &self.load)?;
        let task = match (self.task, Task::infer(&dataset.targets)) {
            (TaskChoice::Auto, _) => return Ok(dataset),
            (TaskChoice::Regression, _) => Task::Regression,
            (TaskChoice::Classification, Task::Regression) => Task::Classification {
                classes: dataset.targets.iter().fold(0.0f64, |m, &t| m.max(t)) as usize + 1,
            },
            (TaskChoice::Classification, inferred) => inferred,
        };
        Dataset::new(&dataset.name, dataset.features, dataset.targets, task)
    }

    /// A fresh state for the optimizer `spec`: weights and shuffles from the
    /// seed, the non-finite policy, the lr scaled if asked, the schedule started.
    pub fn fresh_state<T: Float>(
        &self,
        p: &Prepared,
        spec: &str,
    ) -> Result<TrainState<T>, ConfigError> {
        let mut state = TrainState::new(&p.net, optim::build(spec)?, self.seed)?;
        state.optimizer.set_non_finite(self.non_finite);
        if let Some(reference) = self.scale_lr {
            state.scale_lr(self.config.batch.resolve(p.train.len()), reference as usize)?;
        }
        if let Some((spec, unit)) = &self.schedule {
            state.set_schedule(schedule::build(spec)?, *unit)?;
        }
        Ok(state)
    }

    /// A fresh state per spec, all with the same initial weights and shuffle
    /// order; every spec is checked before any training.
    pub fn fresh_states<T: Float>(
        &self,
        p: &Prepared,
        specs: &[String],
    ) -> Result<Vec<TrainState<T>>, ConfigError> {
        specs.iter().map(|spec| self.fresh_state(p, spec)).collect()
    }

    /// Updates per epoch.
    pub fn steps_per_epoch(&self, p: &Prepared) -> usize {
        let n = p.train.len();
        Batcher::new(
            n,
            self.config.batch.resolve(n).max(1),
            self.config.drop_last,
        )
        .steps_per_epoch()
    }

    /// Trains `states` (from [`Setup::fresh_states`], or one resumed from a
    /// checkpoint) one after the other. `observer(run)` gives run `run` an
    /// observer besides the history kept in [`Finished::epochs`] (several as a
    /// `Vec<&mut dyn Observer<T>>`); `finished(run, observer, finished)` sees
    /// the run end and says whether to go on to the next.
    pub fn train_each<T: Float, O: Observer<T>>(
        &self,
        p: &Prepared,
        states: Vec<TrainState<T>>,
        mut observer: impl FnMut(usize) -> O,
        mut finished: impl FnMut(usize, O, Finished<T>) -> ControlFlow<()>,
    ) {
        for (run, state) in states.into_iter().enumerate() {
            let mut extra = observer(run);
            let done = self.train_one(p, state, &mut extra, None);
            if finished(run, extra, done).is_break() {
                return;
            }
        }
    }

    /// Trains one state to the end: alone, or as one rank of a sharded run
    /// (`dist`, whose [`Distributed::shard`] has cut `state`'s optimizer).
    pub fn train_one<T: Float>(
        &self,
        p: &Prepared,
        mut state: TrainState<T>,
        observer: &mut dyn Observer<T>,
        dist: Option<&Distributed>,
    ) -> Finished<T> {
        let (train_set, test_set) = p.samples::<T>();
        let test = (!test_set.is_empty()).then_some(&test_set);
        let mut history = History::default();
        let observers: &mut [&mut dyn Observer<T>] = &mut [&mut history, observer];
        let result = run(
            &p.net,
            &train_set,
            test,
            &self.config,
            &mut state,
            observers,
            dist,
        );
        Finished {
            state,
            epochs: history.epochs,
            result,
        }
    }
}
