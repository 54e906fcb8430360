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
    all_gather_f64, Checkpoint, Checkpointer, Communicator, Distributed, EpochRecord, Finished,
    Gathered, MetricsFormat, MetricsWriter, Observer, Outcome, Prepared, Setup, Swa, TrainError,
    TrainState,
};
use std::io::Write;
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
    /// One rank of a data-parallel run under `mpirun -np N` (ZeRO stage 1:
    /// each rank holds and steps 1/N of the optimizer state); needs a build
    /// with `--features mpi`. Rank 0 prints, writes metrics and checkpoints.
    #[arg(long)]
    distributed: bool,
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
    if args.distributed {
        return distributed(args);
    }
    match args.setup.dtype {
        Dtype::F32 => run_as::<f32>(&args, None),
        Dtype::F64 => run_as::<f64>(&args, None),
    }
}

#[cfg(not(feature = "mpi"))]
fn distributed(_: TrainArgs) -> Result<(), CliError> {
    Err(CliError::new(
        "--distributed needs downhill built with MPI (cargo build --release -p downhill-cli --features mpi) and started by mpirun",
    ))
}

/// One rank of `mpirun -np N downhill train … --distributed`.
#[cfg(feature = "mpi")]
fn distributed(args: TrainArgs) -> Result<(), CliError> {
    let world = crate::mpi_world::World::init(args.checkpoint.as_deref())?;
    let result = match args.setup.dtype {
        Dtype::F32 => run_as::<f32>(&args, Some(&world)),
        Dtype::F64 => run_as::<f64>(&args, Some(&world)),
    };
    world.finish(result)
}

fn parse_swa(text: &str) -> Result<Swa, String> {
    text.parse()
}

/// What a run starts from: the setup, the prepared data, the state (fresh
/// or resumed) and the metrics file, made before the first update.
struct Start<T: Float> {
    setup: Setup,
    p: Prepared,
    state: TrainState<T>,
    metrics: Option<MetricsWriter>,
}

/// Prepares the run; only a `writer` (rank 0 of a distributed run) checks
/// and creates the output files.
fn start<T: Float>(args: &TrainArgs, writer: bool) -> Result<Start<T>, CliError> {
    if writer {
        if let Some(path) = &args.metrics {
            check_output("--metrics", path)?;
        }
        if let Some(path) = &args.checkpoint {
            check_output("--checkpoint", path)?;
        }
    }
    let (mut setup, p) = args.setup.prepare()?;
    setup.config.swa = args.swa;
    let state: TrainState<T> = match &args.resume {
        Some(path) => {
            let mut state =
                Checkpoint::load(path, &run_identity(args))?.into_state(p.net.param_len())?;
            state.optimizer.set_non_finite(setup.non_finite);
            state
        }
        None => setup.fresh_state(&p, &args.optimizer)?,
    };
    let metrics = match &args.metrics {
        Some(path) => {
            let format = MetricsFormat::for_path(path).ok_or_else(|| {
                CliError::new(format!(
                    "--metrics {}: use a .csv, .json or .jsonl file name",
                    path.display()
                ))
            })?;
            writer
                .then(|| MetricsWriter::create(path, format))
                .transpose()?
        }
        None => None,
    };
    Ok(Start {
        setup,
        p,
        state,
        metrics,
    })
}

/// Every rank's preparation: an error on any rank stops them all before
/// the first update, and rank 0 reports the first (naming its rank).
fn agree<X>(comm: &dyn Communicator, mine: Result<X, CliError>) -> Result<X, CliError> {
    let message = mine
        .as_ref()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let all = comm
        .all_gather(message.as_bytes())
        .map_err(|e| CliError::new(e.to_string()))?;
    match all.iter().enumerate().find(|(_, m)| !m.is_empty()) {
        None => mine,
        Some(_) if comm.rank() != 0 => Err(CliError::Reported),
        Some((0, _)) => mine,
        Some((k, m)) => Err(CliError::new(format!(
            "rank {k}: {}",
            String::from_utf8_lossy(m)
        ))),
    }
}

/// Trains alone (`comm` none) or as one rank of a sharded run.
fn run_as<T: Float>(args: &TrainArgs, comm: Option<&dyn Communicator>) -> Result<(), CliError> {
    let root = comm.is_none_or(|c| c.rank() == 0);
    let Start {
        setup,
        p,
        mut state,
        metrics,
    } = match comm {
        Some(c) => agree(c, start::<T>(args, root))?,
        None => start::<T>(args, true)?,
    };
    let dist = match comm {
        Some(c) => {
            let rule = state.optimizer.rule(0).clone();
            Some(Distributed::shard(c, &p.net, &rule, &mut state)?)
        }
        None => None,
    };
    let steps = setup.steps_per_epoch(&p) as u64;
    let epochs = setup.config.epochs;
    if let (Some(path), true, true) = (&args.resume, state.epoch >= epochs, root) {
        eprintln!(
            "note: {} already holds {} epochs and --epochs is {epochs}: nothing to train (raise --epochs to continue)",
            path.display(),
            state.epoch
        );
    }
    let first_step = state.step;
    let mut progress = Progress::new(
        "train",
        steps * epochs as u64,
        state.step,
        epochs,
        args.quiet || !root,
    );
    let mut metrics = metrics;
    let mut checkpointer =
        args.checkpoint.clone().filter(|_| root).map(|path| {
            Checkpointer::new(path, args.checkpoint_every as usize, run_identity(args))
        });
    let mut observers: Vec<&mut dyn Observer<T>> = Vec::new();
    if root {
        observers.push(&mut progress);
    }
    if let Some(m) = metrics.as_mut() {
        observers.push(m);
    }
    if let Some(c) = checkpointer.as_mut() {
        observers.push(c);
    }
    let finished = match &dist {
        // Every rank gathers the whole state for rank 0's checkpoints, and
        // agrees with the others on whether rank 0's files were written.
        Some(dist) => {
            let mut gathered = Gathered {
                dist,
                inner: observers,
                whole_state: args.checkpoint.is_some(),
            };
            setup.train_one(&p, state, &mut gathered, Some(dist))
        }
        None => setup.train_one(&p, state, &mut observers, None),
    };
    let Finished {
        state,
        epochs: records,
        result,
    } = finished;
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
    let sharding = match &dist {
        Some(dist) => Some(sharding_report(dist, &state, state.step - first_step)?),
        None => None,
    };
    if !root {
        return Ok(());
    }
    if let Some(m) = metrics {
        m.finish()?;
    }
    output::warn_non_finite(&outcome);
    report(args, &p, &records, &state, outcome, sharding)
}

/// What a sharded run measured, for the JSON summary: per rank, the
/// parameters it steps, the bytes of optimizer state it holds and the bytes
/// it sent per update (each rank receives what all the others send).
fn sharding_report<T: Float>(
    dist: &Distributed,
    state: &TrainState<T>,
    steps: u64,
) -> Result<serde_json::Value, CliError> {
    let saved = state
        .optimizer
        .save()
        .map_err(|e| CliError::new(format!("--distributed: {e}")))?;
    let values: usize = saved
        .groups
        .iter()
        .map(|g| g.buffers.values().map(Vec::len).sum::<usize>() + g.extra.len())
        .sum();
    let mine = [
        dist.shard.elements.len() as f64,
        (values * std::mem::size_of::<T>()) as f64,
        dist.bytes_sent() as f64 / steps.max(1) as f64,
    ];
    let all = all_gather_f64(dist.comm, &mine).map_err(|e| CliError::new(e.to_string()))?;
    let column = |i: usize| all.iter().map(|r| r[i]).collect::<Vec<_>>();
    let whole = |i: usize| all.iter().map(|r| r[i] as u64).collect::<Vec<_>>();
    Ok(serde_json::json!({
        "ranks": all.len(),
        "parameters_per_rank": whole(0),
        "optimizer_state_bytes_per_rank": whole(1),
        "bytes_sent_per_update_per_rank": column(2),
    }))
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
    sharding: Option<serde_json::Value>,
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
            if let Some(sharding) = sharding {
                summary["distributed"] = sharding;
            }
            writeln!(out, "{summary}")?;
        }
    }
    out.flush()?;
    Ok(())
}
