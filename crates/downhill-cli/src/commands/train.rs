//! `downhill train`: fit a model to a dataset with one optimizer.
//!
//! With `--format json` the last line of stdout is one JSON object with
//! `train_loss`, `test_loss`, `test_accuracy` (null for regression), `epochs`
//! and `seconds`; the lines before it are the per-epoch records.

use crate::args::setup::{Dtype, SetupArgs};
use crate::error::CliError;
use crate::output::{self, number, write_table, Format};
use crate::plot::file::check_output;
use crate::progress::Progress;
use clap::Args;
use downhill::model::{Evaluation, Float};
use downhill::train::{
    Checkpoint, Checkpointer, EpochRecord, Finished, MetricsFormat, MetricsWriter, Observer,
    Outcome, Prepared, Swa, TrainError, TrainState,
};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    setup: SetupArgs,
    /// Optimizer spec NAME[:key=value,…] (see `downhill list optimizers`).
    #[arg(long, short = 'o', default_value = "adam:lr=0.001")]
    optimizer: String,
    /// Output: a table of epochs, CSV of epochs, or JSON lines ending with a summary object.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Stochastic weight averaging: average the parameters at the end of
    /// epoch START and every later one, and report the averaged model's
    /// test metrics too; with SWA_LR, swalr (cos over 10 epochs) takes the
    /// learning rate there.
    #[arg(long, value_name = "START[,SWA_LR]", value_parser = parse_swa)]
    swa: Option<Swa>,
    /// Write per-epoch metrics to FILE (.csv, or .json/.jsonl for JSON lines; - for standard output, as CSV).
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Write a checkpoint to FILE (atomically) every --checkpoint-every epochs and at the end.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Epochs between checkpoints.
    #[arg(long, default_value_t = 1, value_parser = crate::args::number::whole_u64::<1>)]
    checkpoint_every: u64,
    /// Continue from a checkpoint up to --epochs, bit-identically to an uninterrupted run.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// The settings a checkpoint must share with the run that resumes it.
fn run_identity(args: &TrainArgs) -> serde_json::Value {
    let s = &args.setup;
    serde_json::json!({
        "dataset": s.dataset, "label": s.label, "labels": s.labels, "data_format": s.data_format, "task": s.task, "model": s.model,
        "optimizer": args.optimizer, "batch_size": s.batch_size.to_string(), "drop_last": s.drop_last,
        "seed": s.seed, "test_fraction": s.test_fraction, "test_dataset": s.test_dataset, "stratify": !s.no_stratify, "scale": s.scale,
        "clip": s.clip.map(|c| c.to_string()), "schedule": s.schedule, "schedule_unit": s.schedule_unit, "scale_lr": s.scale_lr, "dtype": s.dtype,
        "swa": args.swa.map(|swa| swa.to_string()),
    })
}

pub fn run(args: TrainArgs) -> Result<(), CliError> {
    if let Some(path) = &args.metrics {
        check_output("--metrics", path)?;
    }
    if let Some(path) = &args.checkpoint {
        check_output("--checkpoint", path)?;
    }
    match args.setup.dtype {
        Dtype::F32 => run_as::<f32>(args),
        Dtype::F64 => run_as::<f64>(args),
    }
}

fn parse_swa(text: &str) -> Result<Swa, String> {
    text.parse()
}

fn run_as<T: Float>(args: TrainArgs) -> Result<(), CliError> {
    let (mut setup, p) = args.setup.prepare()?;
    setup.config.swa = args.swa;
    let identity = run_identity(&args);
    let state: TrainState<T> = match &args.resume {
        Some(path) => {
            let mut state = Checkpoint::load(path, &identity)?.into_state(p.net.param_len())?;
            state.optimizer.set_non_finite(setup.non_finite);
            state
        }
        None => setup.fresh_state(&p, &args.optimizer)?,
    };
    let metrics_format = match &args.metrics {
        Some(path) => Some(MetricsFormat::for_path(path).ok_or_else(|| {
            CliError::new(format!(
                "--metrics {}: use a .csv, .json or .jsonl file name",
                path.display()
            ))
        })?),
        None => None,
    };
    let steps = setup.steps_per_epoch(&p) as u64;
    let epochs = setup.config.epochs;
    if let (Some(path), true) = (&args.resume, state.epoch >= epochs) {
        eprintln!(
            "note: {} already holds {} epochs and --epochs is {epochs}: nothing to train (raise --epochs to continue)",
            path.display(),
            state.epoch
        );
    }
    let mut progress = Progress::new(
        "train",
        steps * epochs as u64,
        state.step,
        epochs,
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
    let mut observers: Vec<&mut dyn Observer<T>> = vec![&mut progress];
    if let Some(m) = metrics.as_mut() {
        observers.push(m);
    }
    if let Some(c) = checkpointer.as_mut() {
        observers.push(c);
    }
    let mut observers = Some(observers);
    let mut finished = None;
    setup.train_each(
        &p,
        vec![state],
        |_| observers.take().expect("one run"),
        |_, _, done| {
            finished = Some(done);
            ControlFlow::Break(())
        },
    );
    let Finished {
        state,
        epochs: records,
        result,
    } = finished.expect("one run");
    progress.finish();
    let outcome = result.map_err(|e| match (&e, &args.checkpoint) {
        (TrainError::NonFiniteLoss { .. } | TrainError::Step { .. }, Some(path))
            if path.exists() =>
        {
            CliError::new(format!(
                "{e}; the last checkpoint {} is kept",
                path.display()
            ))
        }
        _ => CliError::Train(e),
    })?;
    if let Some(m) = metrics {
        m.finish()?;
    }
    output::warn_non_finite(&outcome);
    report(&args, &p, &records, &state, outcome)
}

/// `, test accuracy 0.9722` for classes, `, test loss 0.31` (else `, train
/// loss …`) for regression: the run's final metric for the summary line.
fn final_metric(accuracy: Option<f64>, test_loss: Option<f64>, train_loss: Option<f64>) -> String {
    match (accuracy, test_loss, train_loss) {
        (Some(a), _, _) => format!(", test accuracy {}", number(a)),
        (None, Some(l), _) => format!(", test loss {}", number(l)),
        (None, None, Some(l)) => format!(", train loss {}", number(l)),
        (None, None, None) => String::new(),
    }
}

/// The test-set loss and accuracy of the state's parameters (`None` without a test set).
fn evaluate<T: Float>(p: &Prepared, state: &TrainState<T>) -> Option<Evaluation> {
    let (_, test) = p.samples::<T>();
    (!test.y.is_empty()).then(|| {
        let mut ws = p.net.workspace::<T>(test.y.len());
        p.net
            .evaluate(&state.evaluation_params(), &test.x, &test.y, &mut ws)
    })
}

/// The averaged model's test metrics, once SWA has averaged (`None` before, or without a test set).
fn evaluate_average<T: Float>(p: &Prepared, state: &TrainState<T>) -> Option<Evaluation> {
    let averaged = state.averaged.as_ref()?;
    let (_, test) = p.samples::<T>();
    (!test.y.is_empty()).then(|| {
        let mut ws = p.net.workspace::<T>(test.y.len());
        p.net.evaluate(averaged.values(), &test.x, &test.y, &mut ws)
    })
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
                format!("{:.3}", r.elapsed),
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
        "elapsed",
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
            if !rows.is_empty() {
                write_table(&mut out, &header, &rows)?;
            }
            let metric = match last {
                Some(r) => final_metric(r.accuracy, r.test_loss, Some(r.train_loss)),
                None => {
                    let e = evaluate(p, state);
                    final_metric(e.as_ref().and_then(|e| e.accuracy), e.map(|e| e.loss), None)
                }
            };
            writeln!(
                out,
                "{}: {} samples ({} train, {} test), {} parameters{metric}",
                p.dataset.name,
                p.dataset.len(),
                p.train.len(),
                p.test.len(),
                p.net.param_len()
            )?;
            if let Some(averaged) = &state.averaged {
                let e = evaluate_average(p, state);
                let metric =
                    final_metric(e.as_ref().and_then(|e| e.accuracy), e.map(|e| e.loss), None);
                writeln!(out, "swa: {} epochs averaged{metric}", averaged.count())?;
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
            let mut summary = serde_json::json!({
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
                "skipped_updates": outcome.skipped_updates,
                "zeroed_values": outcome.zeroed_values,
                "train_samples": p.train.len(),
                "test_samples": p.test.len(),
                "parameters": p.net.param_len(),
            });
            if let Some(averaged) = &state.averaged {
                let e = evaluate_average(p, state);
                summary["swa"] = serde_json::json!({
                    "epochs_averaged": averaged.count(),
                    "test_loss": e.map(|e| e.loss),
                    "test_accuracy": e.and_then(|e| e.accuracy),
                });
            }
            writeln!(out, "{summary}")?;
        }
    }
    out.flush()?;
    Ok(())
}
