//! `downhill compare`: several optimizers on one dataset and model, each from
//! the same initial weights and with the same shuffle order.

use crate::args::setup::{Dtype, SetupArgs};
use crate::error::CliError;
use crate::output::{self, number, write_table, Format};
use crate::plot::compare::{self as figure, Run};
use crate::plot::file::check_output;
use crate::progress::Progress;
use clap::Args;
use downhill::model::Float;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    setup: SetupArgs,
    /// Optimizer spec NAME[:key=value,…]; repeat for each optimizer to compare.
    #[arg(long = "optimizer", short = 'o', required = true)]
    optimizers: Vec<String>,
    /// Output: a table of final metrics, or CSV / JSON of every epoch of every optimizer.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Plot loss and accuracy against epoch and against wall time (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short = 'q')]
    quiet: bool,
}

pub fn run(args: CompareArgs) -> Result<(), CliError> {
    if let Some(path) = &args.plot {
        figure::check_path(path)?;
        check_output("--plot", path)?;
    }
    match args.setup.dtype {
        Dtype::F32 => run_as::<f32>(args),
        Dtype::F64 => run_as::<f64>(args),
    }
}

fn run_as<T: Float>(args: CompareArgs) -> Result<(), CliError> {
    let (setup, p) = args.setup.prepare()?;
    let states = setup.fresh_states::<T>(&p, &args.optimizers)?;
    let epochs = setup.config.epochs;
    let steps = (setup.steps_per_epoch(&p) * epochs) as u64;
    let mut runs = Vec::with_capacity(states.len());
    let mut failure = None;
    setup.train_each(
        &p,
        states,
        |run| Progress::new(&args.optimizers[run], steps, 0, epochs, args.quiet),
        |run, progress, finished| {
            progress.finish();
            let spec = &args.optimizers[run];
            match finished.result {
                Ok(outcome) => {
                    output::warn_non_finite(&outcome);
                    runs.push(Run {
                        spec: spec.clone(),
                        epochs: finished.epochs,
                    });
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failure = Some(CliError::new(format!("{spec}: {e}")));
                    ControlFlow::Break(())
                }
            }
        },
    );
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(path) = &args.plot {
        figure::draw(path, &p.dataset.name, &setup.model, &runs)?;
    }
    report(&args, &runs)
}

fn report(args: &CompareArgs, runs: &[Run]) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let cell = |x: Option<f64>| x.map_or(String::new(), number);
    match args.format {
        Format::Table => {
            let rows: Vec<Vec<String>> = runs
                .iter()
                .map(|r| {
                    let last = r.epochs.last();
                    vec![
                        r.spec.clone(),
                        last.map_or(0, |e| e.epoch).to_string(),
                        cell(last.map(|e| e.train_loss)),
                        cell(last.and_then(|e| e.test_loss)),
                        cell(last.and_then(|e| e.accuracy)),
                        last.map_or(String::new(), |e| format!("{:.3}", e.elapsed)),
                    ]
                })
                .collect();
            write_table(
                &mut out,
                &[
                    "optimizer",
                    "epochs",
                    "train_loss",
                    "test_loss",
                    "accuracy",
                    "seconds",
                ],
                &rows,
            )?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "optimizer",
                "epoch",
                "train_loss",
                "test_loss",
                "accuracy",
                "lr",
                "seconds",
                "elapsed",
            ])?;
            for r in runs {
                for e in &r.epochs {
                    w.write_record([
                        r.spec.clone(),
                        e.epoch.to_string(),
                        number(e.train_loss),
                        cell(e.test_loss),
                        cell(e.accuracy),
                        number(e.lr),
                        number(e.seconds),
                        number(e.elapsed),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Json => {
            let doc = serde_json::json!({
                "dataset": args.setup.dataset,
                "model": args.setup.model,
                "runs": runs.iter().map(|r| {
                    let last = r.epochs.last();
                    serde_json::json!({
                        "optimizer": r.spec,
                        "train_loss": last.map(|e| e.train_loss),
                        "test_loss": last.and_then(|e| e.test_loss),
                        "test_accuracy": last.and_then(|e| e.accuracy),
                        "epochs": r.epochs,
                    })
                }).collect::<Vec<_>>(),
            });
            writeln!(out, "{doc}")?;
        }
    }
    out.flush()?;
    Ok(())
}
