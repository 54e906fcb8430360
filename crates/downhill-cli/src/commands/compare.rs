//! `downhill compare`: several optimizers on one dataset and model, each from
//! the same initial weights and with the same shuffle order.

use super::compare_plot;
use super::progress::Progress;
use super::setup::{Dtype, Setup};
use crate::output::{number, write_table, Format};
use crate::CliError;
use clap::Args;
use downhill::model::Float;
use downhill::train::{self, EpochRecord, History};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    setup: Setup,
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

/// One optimizer's run.
pub struct Run {
    pub spec: String,
    pub epochs: Vec<EpochRecord>,
}

pub fn run(args: CompareArgs) -> Result<(), CliError> {
    if let Some(path) = &args.plot {
        compare_plot::check_path(path)?;
        crate::plot::file::check_output("--plot", path)?;
    }
    match args.setup.dtype {
        Dtype::F32 => run_as::<f32>(args),
        Dtype::F64 => run_as::<f64>(args),
    }
}

fn run_as<T: Float>(args: CompareArgs) -> Result<(), CliError> {
    let setup = &args.setup;
    let p = setup.prepare()?;
    let states = args
        .optimizers
        .iter()
        .map(|spec| setup.fresh_state::<T>(&p, spec))
        .collect::<Result<Vec<_>, _>>()?;
    let (train_set, test_set) = p.samples::<T>();
    let test = (!test_set.is_empty()).then_some(&test_set);
    let steps = (setup.steps_per_epoch(&p) * setup.epochs) as u64;
    let mut runs = Vec::with_capacity(states.len());
    for (spec, mut state) in args.optimizers.iter().zip(states) {
        let mut history = History::default();
        let mut progress = Progress::new(spec, steps, 0, setup.epochs, args.quiet);
        let result = train::train(
            &p.net,
            &train_set,
            test,
            &setup.config(),
            &mut state,
            &mut [&mut history, &mut progress],
        );
        progress.finish();
        let outcome = result.map_err(|e| CliError(format!("{spec}: {e}")))?;
        super::train::warn_non_finite(&outcome);
        runs.push(Run {
            spec: spec.clone(),
            epochs: history.epochs,
        });
    }
    if let Some(path) = &args.plot {
        compare_plot::draw(path, &p.dataset.name, &setup.model, &runs)?;
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
                        last.and_then(|e| e.accuracy)
                            .map_or(String::new(), |a| format!("{:.2}%", 100.0 * a)),
                        last.map_or(String::new(), |e| format!("{:.3}", e.seconds)),
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
