//! `downhill run`: optimizer paths on a surface as CSV, JSON or a table.

use crate::args::problem::resolve_problem;
use crate::error::CliError;
use crate::output::{number, runs_json, write_runs_csv, write_table, Format};
use crate::plot::args::FigureArgs;
use clap::Args;
use downhill::lab::{self, SEED_OPTIMIZERS};
use std::io::Write;

#[derive(Args)]
pub struct RunArgs {
    /// Surface name (see `downhill list surfaces`) or a formula in x and y, e.g. "x^4 + 2*x^3 + y^2 - 1".
    #[arg(long, default_value = "quartic")]
    surface: String,
    /// Start point X,Y (default: the surface's own start).
    #[arg(long, allow_hyphen_values = true)]
    start: Option<String>,
    /// Optimizer spec NAME[:key=value,…]; repeat for several (default: the notes' seven).
    #[arg(long = "optimizer", short = 'o')]
    optimizers: Vec<String>,
    /// Number of updates; rows are written for steps 0..=N.
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Output format (default: a table).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Learning-rate schedule spec applied to every optimizer, from its own lr
    /// (see `downhill schedule`).
    #[arg(long)]
    schedule: Option<String>,
    #[command(flatten)]
    figures: FigureArgs,
}

pub fn run(args: RunArgs) -> Result<(), CliError> {
    args.figures.validate()?;
    let (surface, start) = resolve_problem(&args.surface, args.start.as_deref(), args.steps)?;
    let specs: Vec<String> = if args.optimizers.is_empty() {
        SEED_OPTIMIZERS.iter().map(|s| s.to_string()).collect()
    } else {
        args.optimizers.clone()
    };
    let runs = lab::runs(
        surface.landscape.as_ref(),
        start,
        &specs,
        args.steps,
        args.schedule.as_deref(),
        |_, _, _| {},
    )?;
    for run in &runs {
        if let Some(d) = &run.path.diverged {
            eprintln!(
                "warning: {} diverged at step {} ({}); its output stops at step {}",
                run.spec,
                d.step,
                d.reason,
                d.step.saturating_sub(1)
            );
        }
    }
    args.figures.render(&surface, &runs, args.steps)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Csv => write_runs_csv(&mut out, &runs)?,
        Format::Json => writeln!(
            out,
            "{}",
            runs_json(&surface.label, start, args.steps, &runs)
        )?,
        Format::Table => {
            let rows: Vec<Vec<String>> = runs
                .iter()
                .flat_map(|run| {
                    run.path.points.iter().map(|p| {
                        vec![
                            run.spec.clone(),
                            p.step.to_string(),
                            number(p.x),
                            number(p.y),
                            number(p.loss),
                        ]
                    })
                })
                .collect();
            write_table(&mut out, &["optimizer", "step", "x", "y", "loss"], &rows)?;
        }
    }
    out.flush()?;
    Ok(())
}
