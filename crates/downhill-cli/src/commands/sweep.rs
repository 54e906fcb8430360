//! `downhill sweep`: every optimizer × learning rate × parameter value on one
//! surface, one CSV row per grid point, with optional panel-grid, heatmap
//! and phase-diagram figures.

use crate::args::problem::resolve_problem;
use crate::error::CliError;
use crate::output::number;
use crate::plot::file::{check_output, write_atomic, write_figure, Still};
use crate::plot::phase::PhaseDiagram;
use crate::plot::sweep::{Cell, Heatmap, PanelGrid};
use crate::progress;
use clap::Args;
use downhill::lab::phase::{Phase, PhaseError};
use downhill::lab::sweep::{self, GridPoint, Param};
use downhill::lab::tune::Criterion;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct SweepArgs {
    /// Surface name (see `downhill list surfaces`) or a formula in x and y, e.g. "x^2 - y^2".
    #[arg(long, default_value = "quartic")]
    surface: String,
    /// Start point X,Y (default: the surface's own start).
    #[arg(long, allow_hyphen_values = true)]
    start: Option<String>,
    /// Optimizer spec NAME[:key=value,…]; repeat for several.
    #[arg(long = "optimizer", short = 'o', required = true)]
    optimizers: Vec<String>,
    /// Learning rates, comma-separated (e.g. 0.001,0.01,0.1); each overrides the spec's lr.
    #[arg(long, required = true, allow_hyphen_values = true)]
    lr: String,
    /// Another swept key, KEY=V1,V2,…; applies to the optimizers that have KEY. Repeatable.
    #[arg(long = "param", value_name = "KEY=V1,V2")]
    params: Vec<String>,
    /// Number of updates per run.
    #[arg(long, default_value_t = 100, value_parser = crate::args::number::whole::<0>)]
    steps: usize,
    /// Distance to a known minimum that counts as reached.
    #[arg(long, default_value_t = 1e-3)]
    eps: f64,
    /// Write the results here as CSV, one row per grid point (`-`: standard
    /// output, where they go when neither --plot nor --grid is given).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Heatmap of the final loss (optimizer × lr, divergence marked), .png or .svg.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Panel grid: rows = lr, columns = x(t), y(t), f(t), one line per optimizer; .png or .svg.
    #[arg(long, value_name = "FILE")]
    grid: Option<PathBuf>,
    /// Phase diagram of one optimizer: lr (columns, log axis) × the values of
    /// the one --param key (rows), coloured by --metric, divergence crossed
    /// out; .png or .svg. Needs exactly one --optimizer and one --param.
    #[arg(long, value_name = "FILE")]
    phase: Option<PathBuf>,
    /// What colours the --phase cells: `final-loss` or `steps-to=TOL`
    /// (updates until within TOL of a known minimum).
    #[arg(long, value_name = "METRIC")]
    metric: Option<String>,
}

/// A phase-diagram error, naming the option it is about.
fn phase_error(e: PhaseError) -> CliError {
    match e {
        PhaseError::Sweep(e) => e.into(),
        PhaseError::Config(e) => e.into(),
        e @ PhaseError::Tune(_) => CliError::new(format!("--metric: {e}")),
        e => CliError::new(format!("--phase: {e}")),
    }
}

/// Parses `0.001,0.01,0.1` into non-negative finite numbers.
fn parse_lrs(text: &str) -> Result<Vec<f64>, CliError> {
    let bad = || {
        CliError::new(format!(
            "--lr must be comma-separated non-negative numbers (e.g. 0.001,0.01,0.1), got '{text}'"
        ))
    };
    text.split(',')
        .map(|part| match part.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(bad()),
        })
        .collect()
}

/// Parses `KEY=V1,V2,…` (any key but `lr`).
fn parse_param(text: &str) -> Result<Param, CliError> {
    let bad = || {
        CliError::new(format!(
            "--param must be KEY=V1,V2,… (e.g. momentum=0.5,0.9), got '{text}'"
        ))
    };
    let (key, values) = text.split_once('=').ok_or_else(bad)?;
    let key = key.trim();
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if key.is_empty() || key == "lr" || values.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(Param {
        key: key.to_string(),
        values,
    })
}

pub fn run(args: SweepArgs) -> Result<(), CliError> {
    let plot_kind = args
        .plot
        .as_deref()
        .map(|p| Still::from_path("--plot", p))
        .transpose()?;
    let grid_kind = args
        .grid
        .as_deref()
        .map(|p| Still::from_path("--grid", p))
        .transpose()?;
    let phase_kind = args
        .phase
        .as_deref()
        .map(|p| Still::from_path("--phase", p))
        .transpose()?;
    let figures = args.plot.is_some() || args.grid.is_some() || args.phase.is_some();
    let csv = args
        .csv
        .clone()
        .or_else(|| (!figures).then(|| PathBuf::from("-")));
    for (flag, path) in [
        ("--csv", &csv),
        ("--plot", &args.plot),
        ("--grid", &args.grid),
        ("--phase", &args.phase),
    ] {
        if let Some(path) = path {
            check_output(flag, path)?;
        }
    }
    let (surface, start) = resolve_problem(&args.surface, args.start.as_deref(), args.steps)?;
    if !(args.eps.is_finite() && args.eps > 0.0) {
        return Err(CliError::new(format!(
            "--eps must be a positive number, got {}",
            args.eps
        )));
    }
    let lrs = parse_lrs(&args.lr)?;
    let params = args
        .params
        .iter()
        .map(|p| parse_param(p))
        .collect::<Result<Vec<_>, _>>()?;
    let criterion = match (&args.metric, &args.phase) {
        (Some(_), None) => {
            return Err(CliError::new(
                "--metric colours the --phase figure; give --phase FILE too",
            ))
        }
        (Some(text), Some(_)) => text
            .parse::<Criterion>()
            .map_err(|e| CliError::new(format!("--metric: {e}")))?,
        (None, _) => Criterion::FinalLoss,
    };
    let phase = match &args.phase {
        Some(_) => {
            criterion
                .check(&surface.minima)
                .map_err(|e| phase_error(e.into()))?;
            Some(Phase::new(&args.optimizers, &params, &lrs).map_err(phase_error)?)
        }
        None => None,
    };
    let jobs = sweep::grid(&args.optimizers, &params, &lrs)?;
    let bar = progress::bar("runs");
    bar.inc_length(jobs.len() as u64);
    let points = sweep::run(
        jobs,
        surface.landscape.as_ref(),
        start,
        args.steps,
        None,
        || bar.inc(1),
    )?;
    bar.finish_and_clear();
    let keys: Vec<String> = params.iter().map(|p| p.key.clone()).collect();
    if let Some(path) = &csv {
        write_csv(path, args.eps, &surface.minima, &keys, &points)?;
    }
    let title = format!(
        "{} from ({}, {}) — {} steps",
        surface.label,
        number(start[0]),
        number(start[1]),
        args.steps
    );
    if let (Some(path), Some(kind)) = (&args.grid, grid_kind) {
        write_figure(
            path,
            kind,
            &PanelGrid {
                title: &title,
                keys: &keys,
                points: &points,
                lrs: &lrs,
            },
        )?;
    }
    if let (Some(path), Some(kind), Some(phase)) = (&args.phase, phase_kind, &phase) {
        // One spec and one key: the sweep's points are the phase grid's runs.
        let cells = phase
            .cells(&points, criterion, &surface.minima)
            .map_err(phase_error)?;
        write_figure(
            path,
            kind,
            &PhaseDiagram {
                title: &title,
                phase,
                cells: &cells,
                criterion,
                steps: args.steps,
            },
        )?;
    }
    if let (Some(path), Some(kind)) = (&args.plot, plot_kind) {
        let cells: Vec<Cell> = points
            .iter()
            .map(|p| Cell {
                row: p.variant(&keys),
                lr: p.lr,
                loss: p.path.points.last().map(|q| q.loss),
                diverged: p.path.diverged.as_ref().map(|d| d.step),
            })
            .collect();
        write_figure(
            path,
            kind,
            &Heatmap {
                title: &title,
                cells: &cells,
                lrs: &lrs,
            },
        )?;
    }
    Ok(())
}

/// Writes the `--csv` file: one row per grid point.
fn write_csv(
    path: &Path,
    eps: f64,
    minima: &[[f64; 2]],
    keys: &[String],
    points: &[GridPoint],
) -> Result<(), CliError> {
    let mut header = vec!["optimizer".to_string(), "lr".to_string()];
    header.extend(keys.iter().cloned());
    header.extend(
        [
            "final_step",
            "final_x",
            "final_y",
            "final_loss",
            "steps_to_eps",
            "diverged",
        ]
        .map(String::from),
    );
    write_atomic(path, |file| {
        let mut writer = csv::Writer::from_writer(file);
        writer.write_record(&header)?;
        for p in points {
            let mut row = vec![p.optimizer.clone(), number(p.lr)];
            row.extend(p.params.iter().map(|v| v.clone().unwrap_or_default()));
            match p.path.points.last() {
                Some(last) => {
                    row.extend([
                        last.step.to_string(),
                        number(last.x),
                        number(last.y),
                        number(last.loss),
                    ]);
                }
                None => row.extend(["", "", "", ""].map(String::from)),
            }
            row.push(
                p.path
                    .steps_to(minima, eps)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            );
            row.push(p.path.diverged.is_some().to_string());
            writer.write_record(&row)?;
        }
        writer.flush()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_lists() {
        assert_eq!(
            parse_lrs("0.001, 0.01,0.1").unwrap(),
            vec![0.001, 0.01, 0.1]
        );
        for bad in ["", "0.1,", "x", "-1", "inf", "0.1;0.2"] {
            assert!(parse_lrs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parameter_lists() {
        let p = parse_param("momentum=0.5, 0.9").unwrap();
        assert_eq!((p.key.as_str(), p.values.len()), ("momentum", 2));
        for bad in ["momentum", "lr=0.1", "=0.1", "momentum=0.5,"] {
            assert!(parse_param(bad).is_err(), "{bad}");
        }
    }
}
