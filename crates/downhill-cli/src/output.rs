//! Output formats shared by the subcommands and the web API.

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
