//! Data, model and batching options shared by `downhill train` and `downhill compare`.

use crate::error::CliError;
use clap::Args;
use downhill::data::{self, BatchSize, FileFormat, LabelColumn, LoadOptions, Scaling};
use downhill::optim;
use downhill::train::{self, Prepared, ScheduleUnit, Setup, TaskChoice, TrainConfig};

/// Data, model and batching settings shared by `train` and `compare`.
#[derive(Args, Clone, Debug)]
pub struct SetupArgs {
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
    #[arg(long, default_value_t = 10, value_parser = crate::args::number::whole::<0>)]
    pub epochs: usize,
    /// Samples per update: full (batch gradient descent), N (mini-batch) or 1 (SGD).
    #[arg(long, default_value = "32")]
    pub batch_size: BatchSize,
    /// Skip the last, shorter batch of each epoch.
    #[arg(long)]
    pub drop_last: bool,
    /// Seed of the split, the initial weights and the shuffles.
    #[arg(long, default_value_t = 0, value_parser = crate::args::number::whole_u64::<0>)]
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
    #[arg(long, value_name = "REF_BATCH", value_parser = crate::args::number::whole_u64::<1>)]
    pub scale_lr: Option<u64>,
    /// Stop after N epochs without a lower test loss (train loss without a test set).
    #[arg(long, value_parser = crate::args::number::whole_u64::<1>)]
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

impl SetupArgs {
    /// The library's setup of these options.
    fn setup(&self) -> Setup {
        Setup {
            dataset: self.dataset.clone(),
            test_dataset: self.test_dataset.clone(),
            load: LoadOptions {
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
            },
            task: match self.task {
                TaskArg::Auto => TaskChoice::Auto,
                TaskArg::Classification => TaskChoice::Classification,
                TaskArg::Regression => TaskChoice::Regression,
            },
            model: self.model.clone(),
            test_fraction: self.test_fraction,
            stratify: !self.no_stratify,
            scaling: match self.scale {
                ScaleArg::Standard => Scaling::Standard,
                ScaleArg::Minmax => Scaling::MinMax,
                ScaleArg::None => Scaling::None,
            },
            seed: self.seed,
            config: TrainConfig {
                epochs: self.epochs,
                batch: self.batch_size,
                drop_last: self.drop_last,
                clip: self.clip,
                patience: self.patience.map(|p| p as usize),
                swa: None,
            },
            schedule: self.schedule.clone().map(|spec| {
                let unit = match self.schedule_unit {
                    Unit::Epoch => ScheduleUnit::Epoch,
                    Unit::Step => ScheduleUnit::Step,
                };
                (spec, unit)
            }),
            scale_lr: self.scale_lr,
            non_finite: self.on_non_finite,
        }
    }

    /// Checks the options, then loads, splits, scales and builds the model.
    pub fn prepare(&self) -> Result<(Setup, Prepared), CliError> {
        let setup = self.setup();
        setup.check()?;
        self.check_file_options()?;
        let prepared = setup.prepare()?;
        Ok((setup, prepared))
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
            Some((flag, _)) => Err(CliError::new(format!(
                "{flag} applies to a dataset file only; '{}' is a bundled dataset or a generator",
                self.dataset
            ))),
            None => Ok(()),
        }
    }
}
