//! Data, model and batching options shared by `downhill train` and `downhill compare`.

use crate::CliError;
use clap::Args;
use downhill::data::{
    self, BatchSize, Batcher, Dataset, FileFormat, LabelColumn, LoadOptions, Scaling, Task,
};
use downhill::model::{Float, ModelSpec, Network};
use downhill::optim;
use downhill::schedule;
use downhill::train::{self, ScheduleUnit, TrainConfig, TrainState};

/// Data, model and batching settings shared by `train` and `compare`.
#[derive(Args, Clone, Debug)]
pub struct Setup {
    /// A bundled dataset (iris, digits, diabetes), a generator spec
    /// (linear|blobs|moons|spirals[:n=…,noise=…,seed=…]) or a file (.csv, .csv.gz, .libsvm, MNIST idx).
    #[arg(long)]
    pub dataset: String,
    /// CSV label column: a name or a 0-based index (default: the last column).
    #[arg(long)]
    pub label: Option<String>,
    /// Labels file of an MNIST idx images file (default: derived from its name).
    #[arg(long)]
    pub labels: Option<String>,
    /// Format of a dataset file (default: from its name).
    #[arg(long, value_enum)]
    pub data_format: Option<DataFormat>,
    /// Task of a file's targets (auto: whole numbers with at most 100 values are classes).
    #[arg(long, value_enum, default_value_t = TaskArg::Auto)]
    pub task: TaskArg,
    /// Model spec: linear, softmax (logistic), mlp[:hidden=[128,64],activation=relu|tanh|sigmoid,init=he|xavier|torch|zeros].
    #[arg(long, default_value = "mlp:hidden=[128]")]
    pub model: String,
    /// Epochs (passes over the training set).
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Samples per update: full (batch gradient descent), N (mini-batch) or 1 (SGD).
    #[arg(long, default_value = "32")]
    pub batch_size: BatchSize,
    /// Skip the last, shorter batch of each epoch.
    #[arg(long)]
    pub drop_last: bool,
    /// Seed of the split, the initial weights and the shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fraction of samples held out for testing (0 for none).
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// A separate test set (same forms as --dataset); no split then.
    #[arg(long)]
    pub test_dataset: Option<String>,
    /// Split without keeping the class proportions (stratified by default for classes).
    #[arg(long)]
    pub no_stratify: bool,
    /// Feature scaling, fitted on the training set: standard (z-score), minmax ([0, 1]) or none.
    #[arg(long, value_enum, default_value_t = ScaleArg::Standard)]
    pub scale: ScaleArg,
    /// Gradient clipping: value:C (each component to [−C, C]), norm:M (each tensor's
    /// L2 norm to M) or global-norm:M (all gradients' joint L2 norm to M, as clip_grad_norm_).
    #[arg(long)]
    pub clip: Option<train::Clip>,
    /// Learning-rate schedule spec (see `downhill list schedules`), starting from the optimizer's lr.
    #[arg(long)]
    pub schedule: Option<String>,
    /// When the schedule advances: every epoch, or every update (step).
    #[arg(long, value_enum, default_value_t = Unit::Epoch)]
    pub schedule_unit: Unit,
    /// Linear scaling rule: multiply the optimizer's lr by batch size / REF_BATCH.
    #[arg(long, value_name = "REF_BATCH", value_parser = clap::value_parser!(u64).range(1..))]
    pub scale_lr: Option<u64>,
    /// Stop after N epochs without a lower test loss (train loss without a test set).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub patience: Option<u64>,
    /// Element type of parameters and arithmetic.
    #[arg(long, value_enum, default_value_t = Dtype::F32)]
    pub dtype: Dtype,
    /// A non-finite gradient: stop with an error, skip the update, zero the bad entries, or let it flow into the parameters unchecked (error, skip, zero, propagate).
    #[arg(long, value_name = "POLICY", default_value = "error")]
    pub on_non_finite: optim::NonFinite,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskArg {
    Auto,
    Classification,
    Regression,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    Csv,
    Libsvm,
    Idx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Epoch,
    Step,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleArg {
    Standard,
    Minmax,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    F32,
    F64,
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
    pub fn samples<T: Float>(&self) -> (train::Samples<T>, train::Samples<T>) {
        (
            train::Samples::of(&self.train),
            train::Samples::of(&self.test),
        )
    }
}

impl Setup {
    /// Loads, splits, scales and builds the model; checks the settings.
    pub fn prepare(&self) -> Result<Prepared, CliError> {
        if !(0.0..1.0).contains(&self.test_fraction) {
            return Err(CliError(format!(
                "--test-fraction must be in [0, 1), got {}",
                self.test_fraction
            )));
        }
        if self.epochs == 0 {
            return Err(CliError("--epochs must be at least 1, got 0".into()));
        }
        self.check_file_options()?;
        let model = ModelSpec::parse(&self.model)?;
        let dataset = self.load(&self.dataset)?;
        let (dataset, mut train, mut test) = match &self.test_dataset {
            None => {
                let (train, test) =
                    data::split(&dataset, self.test_fraction, !self.no_stratify, self.seed);
                (dataset, train, test)
            }
            Some(path) => {
                let test = self.load(path)?;
                if test.dim() != dataset.dim()
                    || test.task.classes().is_some() != dataset.task.classes().is_some()
                {
                    return Err(CliError(format!(
                        "{path}: {} features and {:?}, but the training set has {} and {:?}",
                        test.dim(),
                        test.task,
                        dataset.dim(),
                        dataset.task
                    )));
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
            return Err(CliError(format!(
                "{}: no training samples left after the split",
                dataset.name
            )));
        }
        let scaling = match self.scale {
            ScaleArg::Standard => Scaling::Standard,
            ScaleArg::Minmax => Scaling::MinMax,
            ScaleArg::None => Scaling::None,
        };
        let scaler = data::Scaler::fit(&train.features, scaling);
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

    /// Refuses --label, --labels and --data-format when no dataset is a file:
    /// they would be ignored silently.
    fn check_file_options(&self) -> Result<(), CliError> {
        let is_file = |text: &str| {
            let head = text.split(':').next().unwrap_or("");
            !data::BUNDLED.iter().any(|b| b.name == text) && !data::GENERATORS.contains(&head)
        };
        if is_file(&self.dataset) || self.test_dataset.as_deref().is_some_and(is_file) {
            return Ok(());
        }
        let given = [
            ("--label", self.label.is_some()),
            ("--labels", self.labels.is_some()),
            ("--data-format", self.data_format.is_some()),
        ];
        match given.iter().find(|(_, set)| *set) {
            Some((flag, _)) => Err(CliError(format!(
                "{flag} applies to a dataset file only; '{}' is a bundled dataset or a generator",
                self.dataset
            ))),
            None => Ok(()),
        }
    }

    /// Loads a dataset and applies `--task`.
    fn load(&self, text: &str) -> Result<Dataset, CliError> {
        let options = LoadOptions {
            label: self
                .label
                .as_deref()
                .map_or(LabelColumn::Last, LabelColumn::parse),
            idx_labels: self.labels.clone(),
            format: self.data_format.map(|f| match f {
                DataFormat::Csv => FileFormat::Csv,
                DataFormat::Libsvm => FileFormat::Libsvm,
                DataFormat::Idx => FileFormat::Idx,
            }),
        };
        let dataset = data::resolve(text, &options)?;
        let task = match (self.task, Task::infer(&dataset.targets)) {
            (TaskArg::Auto, _) => return Ok(dataset),
            (TaskArg::Regression, _) => Task::Regression,
            (TaskArg::Classification, Task::Regression) => Task::Classification {
                classes: dataset.targets.iter().fold(0.0f64, |m, &t| m.max(t)) as usize + 1,
            },
            (TaskArg::Classification, inferred) => inferred,
        };
        Ok(Dataset::new(
            &dataset.name,
            dataset.features,
            dataset.targets,
            task,
        )?)
    }

    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch: self.batch_size,
            drop_last: self.drop_last,
            clip: self.clip,
            patience: self.patience.map(|p| p as usize),
        }
    }

    /// A fresh state: weights and shuffles from the seed, lr scaled if asked.
    pub fn fresh_state<T: Float>(
        &self,
        p: &Prepared,
        spec: &str,
    ) -> Result<TrainState<T>, CliError> {
        let mut state = TrainState::new(&p.net, optim::build(spec)?, self.seed)?;
        state.optimizer.set_non_finite(self.on_non_finite);
        if let Some(reference) = self.scale_lr {
            state.scale_lr(self.batch_size.resolve(p.train.len()), reference as usize)?;
        }
        if let Some(spec) = &self.schedule {
            let unit = match self.schedule_unit {
                Unit::Epoch => ScheduleUnit::Epoch,
                Unit::Step => ScheduleUnit::Step,
            };
            state.set_schedule(schedule::build(spec)?, unit)?;
        }
        Ok(state)
    }

    /// Updates per epoch.
    pub fn steps_per_epoch(&self, p: &Prepared) -> usize {
        Batcher::new(
            p.train.len(),
            self.batch_size.resolve(p.train.len()).max(1),
            self.drop_last,
        )
        .steps_per_epoch()
    }
}
