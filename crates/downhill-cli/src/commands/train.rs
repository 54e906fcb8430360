//! `downhill train`: fit a model to a dataset with one optimizer.
//!
//! With `--format json` the last line of stdout is one JSON object with
//! `train_loss`, `test_loss`, `test_accuracy` (null for regression), `epochs`
//! and `seconds`; the lines before it are the per-epoch records.

use crate::output::{number, write_table, Format};
use crate::CliError;
use clap::Args;
use downhill::data::{
    self, BatchSize, Batcher, Dataset, FileFormat, LabelColumn, LoadOptions, Scaling, Task,
};
use downhill::model::{Float, ModelSpec, Network};
use downhill::optim;
use downhill::train::{
    self, Checkpoint, Checkpointer, ConstantLr, EpochRecord, History, MetricsFormat, MetricsWriter,
    Observer, Outcome, Samples, StepRecord, TrainConfig, TrainError, TrainState,
};
use std::io::Write;
use std::path::PathBuf;

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
    /// Linear scaling rule: multiply the optimizer's lr by batch size / REF_BATCH.
    #[arg(long, value_name = "REF_BATCH", value_parser = clap::value_parser!(u64).range(1..))]
    pub scale_lr: Option<u64>,
    /// Stop after N epochs without a lower test loss (train loss without a test set).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub patience: Option<u64>,
    /// Element type of parameters and arithmetic.
    #[arg(long, value_enum, default_value_t = Dtype::F32)]
    pub dtype: Dtype,
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

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    setup: Setup,
    /// Optimizer spec NAME[:key=value,…] (see `downhill list optimizers`).
    #[arg(long, short = 'o', default_value = "adam:lr=0.001")]
    optimizer: String,
    /// Output: a table of epochs, CSV of epochs, or JSON lines ending with a summary object.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write per-epoch metrics to FILE (.csv, or .json/.jsonl for JSON lines).
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Write a checkpoint to FILE (atomically) every --checkpoint-every epochs and at the end.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Epochs between checkpoints.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: u64,
    /// Continue from a checkpoint up to --epochs, bit-identically to an uninterrupted run.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// A dataset split and scaled, with the network that fits it.
pub struct Prepared {
    pub dataset: Dataset,
    pub train: Dataset,
    pub test: Dataset,
    pub net: Network,
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
        if let Some(reference) = self.scale_lr {
            state.scale_lr(self.batch_size.resolve(p.train.len()), reference as usize)?;
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

/// The settings a checkpoint must share with the run that resumes it.
fn run_identity(args: &TrainArgs) -> serde_json::Value {
    let s = &args.setup;
    serde_json::json!({
        "dataset": s.dataset, "label": s.label, "labels": s.labels, "data_format": s.data_format, "task": s.task, "model": s.model,
        "optimizer": args.optimizer, "batch_size": s.batch_size.to_string(), "drop_last": s.drop_last,
        "seed": s.seed, "test_fraction": s.test_fraction, "test_dataset": s.test_dataset, "stratify": !s.no_stratify, "scale": s.scale,
        "clip": s.clip.map(|c| c.to_string()), "scale_lr": s.scale_lr, "dtype": s.dtype,
    })
}

/// A progress bar on stderr (drawn only when stderr is a terminal).
pub struct Progress {
    bar: indicatif::ProgressBar,
    epochs: usize,
}

impl Progress {
    pub fn new(label: &str, total_steps: u64, done: u64, epochs: usize, quiet: bool) -> Self {
        let bar = if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::with_draw_target(
                Some(total_steps),
                indicatif::ProgressDrawTarget::stderr(),
            )
        };
        let style = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
        )
        .expect("valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar.set_position(done);
        Progress { bar, epochs }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl<T: Float> Observer<T> for Progress {
    fn on_step(&mut self, record: &StepRecord) -> Result<(), TrainError> {
        self.bar.set_position(record.step);
        Ok(())
    }

    fn on_epoch(&mut self, r: &EpochRecord, _state: &TrainState<T>) -> Result<(), TrainError> {
        let mut message = format!("epoch {}/{} loss {:.4}", r.epoch, self.epochs, r.train_loss);
        if let Some(a) = r.accuracy {
            message.push_str(&format!(" acc {:.1}%", 100.0 * a));
        }
        self.bar.set_message(message);
        Ok(())
    }
}

pub fn run(args: TrainArgs) -> Result<(), CliError> {
    match args.setup.dtype {
        Dtype::F32 => run_as::<f32>(args),
        Dtype::F64 => run_as::<f64>(args),
    }
}

fn run_as<T: Float>(args: TrainArgs) -> Result<(), CliError> {
    let setup = &args.setup;
    let p = setup.prepare()?;
    let identity = run_identity(&args);
    let mut state: TrainState<T> = match &args.resume {
        Some(path) => Checkpoint::load(path, &identity)?.into_state(p.net.param_len())?,
        None => setup.fresh_state(&p, &args.optimizer)?,
    };
    let metrics_format = match &args.metrics {
        Some(path) => Some(MetricsFormat::for_path(path).ok_or_else(|| {
            CliError(format!(
                "--metrics {}: use a .csv, .json or .jsonl file name",
                path.display()
            ))
        })?),
        None => None,
    };
    let (train_set, test_set) = (Samples::<T>::of(&p.train), Samples::<T>::of(&p.test));
    let mut history = History::default();
    let steps = setup.steps_per_epoch(&p) as u64;
    let mut progress = Progress::new(
        "train",
        steps * setup.epochs as u64,
        state.step,
        setup.epochs,
        args.quiet,
    );
    let mut metrics = match (&args.metrics, metrics_format) {
        (Some(path), Some(format)) => Some(MetricsWriter::create(path, format)?),
        _ => None,
    };
    let mut checkpointer = args
        .checkpoint
        .clone()
        .map(|path| Checkpointer::new(path, args.checkpoint_every as usize, identity.clone()));
    let mut observers: Vec<&mut dyn Observer<T>> = vec![&mut history, &mut progress];
    if let Some(m) = metrics.as_mut() {
        observers.push(m);
    }
    if let Some(c) = checkpointer.as_mut() {
        observers.push(c);
    }
    let test = (!test_set.is_empty()).then_some(&test_set);
    let result = train::train(
        &p.net,
        &train_set,
        test,
        &setup.config(),
        &mut state,
        &mut ConstantLr,
        &mut observers,
    );
    drop(observers);
    progress.finish();
    let outcome = result.map_err(|e| match (&e, &args.checkpoint) {
        (TrainError::NonFiniteLoss { .. } | TrainError::Step { .. }, Some(path))
            if path.exists() =>
        {
            CliError(format!(
                "{e}; the last checkpoint {} is kept",
                path.display()
            ))
        }
        _ => CliError(e.to_string()),
    })?;
    if let Some(m) = metrics {
        m.finish()?;
    }
    report(&args, &p, &history.epochs, &state, outcome)
}

/// Prints the epochs in the chosen format; JSON ends with the summary object.
fn report<T: Float>(
    args: &TrainArgs,
    p: &Prepared,
    epochs: &[EpochRecord],
    state: &TrainState<T>,
    outcome: Outcome,
) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let cell = |x: Option<f64>| x.map_or(String::new(), number);
    let rows: Vec<Vec<String>> = epochs
        .iter()
        .map(|r| {
            vec![
                r.epoch.to_string(),
                number(r.train_loss),
                cell(r.test_loss),
                cell(r.accuracy),
                number(r.lr),
                format!("{:.3}", r.seconds),
            ]
        })
        .collect();
    let header = [
        "epoch",
        "train_loss",
        "test_loss",
        "accuracy",
        "lr",
        "seconds",
    ];
    let last = epochs.last();
    match args.format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(header)?;
            for row in &rows {
                w.write_record(row)?;
            }
            w.flush()?;
        }
        Format::Table => {
            write_table(&mut out, &header, &rows)?;
            if let Some(r) = last {
                let accuracy = r.accuracy.map_or(String::new(), |a| {
                    format!(", test accuracy {:.2}%", 100.0 * a)
                });
                writeln!(
                    out,
                    "{}: {} samples ({} train, {} test), {} parameters{accuracy}",
                    p.dataset.name,
                    p.dataset.len(),
                    p.train.len(),
                    p.test.len(),
                    p.net.param_len()
                )?;
            }
            if outcome.stopped_early {
                writeln!(
                    out,
                    "stopped early after epoch {} (no improvement for {} epochs)",
                    outcome.epochs, state.stale_epochs
                )?;
            }
        }
        Format::Json => {
            for r in epochs {
                writeln!(out, "{}", serde_json::to_string(r)?)?;
            }
            let summary = serde_json::json!({
                "dataset": p.dataset.name,
                "model": args.setup.model,
                "optimizer": args.optimizer,
                "train_loss": last.map(|r| r.train_loss),
                "test_loss": last.and_then(|r| r.test_loss),
                "test_accuracy": last.and_then(|r| r.accuracy),
                "epochs": outcome.epochs,
                "steps": state.step,
                "seconds": state.seconds,
                "stopped_early": outcome.stopped_early,
                "train_samples": p.train.len(),
                "test_samples": p.test.len(),
                "parameters": p.net.param_len(),
            });
            writeln!(out, "{summary}")?;
        }
    }
    out.flush()?;
    Ok(())
}
