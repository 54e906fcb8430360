//! Output formats shared by the subcommands and the web API.

use downhill::lab::tune::{Criterion, Tuned};
use downhill::lab::Run;
use downhill::train::Outcome;
use serde_json::Value;
use std::io::Write;

/// `--format`: machine-readable CSV or JSON, or an aligned table for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Table,
}

/// A number in shortest round-trip form (`0.1`, `1e-7`, `100.0`).
pub fn number(x: f64) -> String {
    format!("{x:?}")
}

/// Writes rows as a table with right-aligned columns.
pub fn write_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// Writes the CSV of `downhill run --format csv`: `optimizer,step,x,y,loss`.
pub fn write_runs_csv(out: &mut impl Write, runs: &[Run]) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["optimizer", "step", "x", "y", "loss"])?;
    for run in runs {
        for p in &run.path.points {
            writer.write_record([
                run.spec.clone(),
                p.step.to_string(),
                number(p.x),
                number(p.y),
                number(p.loss),
            ])?;
        }
    }
    writer.flush()?;
    Ok(())
}

/// The JSON document of `downhill run --format json`: surface label, start,
/// steps and one entry per run with its `[x, y, loss]` points and divergence.
pub fn runs_json(label: &str, start: [f64; 2], steps: usize, runs: &[Run]) -> Value {
    serde_json::json!({
        "surface": label,
        "start": start,
        "steps": steps,
        "runs": runs.iter().map(|run| {
            let mut entry = serde_json::json!({
                "optimizer": run.spec,
                "points": run.path.points.iter().map(|p| [p.x, p.y, p.loss]).collect::<Vec<_>>(),
                "diverged": run.path.diverged,
            });
            // Schedule-Free: where the model is evaluated, after each point's step.
            if !run.path.evaluation.is_empty() {
                entry["evaluation"] = serde_json::json!(run.path.evaluation);
            }
            entry
        }).collect::<Vec<_>>(),
    })
}

/// One result of `downhill tune`, in the contract's key order.
#[derive(serde::Serialize)]
pub struct TuneRow<'a> {
    pub optimizer: &'a str,
    pub lr: Option<f64>,
    pub final_loss: Option<f64>,
    pub steps_to_tolerance: Option<usize>,
}

impl<'a> TuneRow<'a> {
    pub fn of(t: &'a Tuned) -> Self {
        TuneRow {
            optimizer: &t.optimizer,
            lr: t.best.as_ref().map(|p| p.lr),
            final_loss: t.best.as_ref().and_then(|p| p.path.final_loss()),
            steps_to_tolerance: t.steps_to_tolerance,
        }
    }
}

/// The JSON line of `downhill tune --format json` (and `/api/tune`):
/// `{"criterion","results":[{"optimizer","lr","final_loss","steps_to_tolerance"}]}`,
/// `null` for what a run does not have.
pub fn tune_json(criterion: Criterion, tuned: &[Tuned]) -> Value {
    let rows: Vec<TuneRow> = tuned.iter().map(TuneRow::of).collect();
    serde_json::json!({ "criterion": criterion.to_string(), "results": rows })
}

/// The tuned runs of `downhill tune`, each labelled `SPEC lr=LR` (none for
/// an optimizer that diverged at every lr).
pub fn tuned_runs(tuned: &[Tuned]) -> Vec<Run> {
    tuned
        .iter()
        .filter_map(|t| {
            t.best.as_ref().map(|p| Run {
                spec: format!("{} lr={}", t.optimizer, number(p.lr)),
                path: p.path.clone(),
            })
        })
        .collect()
}

/// One stderr line when the non-finite gradient policy acted during the run.
pub fn warn_non_finite(outcome: &Outcome) {
    if outcome.skipped_updates > 0 {
        eprintln!(
            "warning: {} updates skipped for a non-finite gradient (--on-non-finite skip)",
            outcome.skipped_updates
        );
    }
    if outcome.zeroed_values > 0 {
        eprintln!(
            "warning: {} non-finite gradient entries replaced with zero (--on-non-finite zero)",
            outcome.zeroed_values
        );
    }
}
