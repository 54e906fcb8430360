//! `downhill tune`: the best learning rate of each optimizer on a log grid,
//! by a stated criterion, then the tuned runs side by side.

use crate::args::problem::resolve_problem;
use crate::error::CliError;
use crate::output::{number, tune_json, tuned_runs, write_table, Format, TuneRow};
use crate::plot::args::FigureArgs;
use crate::progress;
use clap::Args;
use downhill::lab::tune::{self, Criterion};
use std::io::Write;

#[derive(Args)]
pub struct TuneArgs {
    /// Surface name (see `downhill list surfaces`) or a formula in x and y.
    #[arg(long, default_value = "quartic")]
    surface: String,
    /// Start point X,Y (default: the surface's own start).
    #[arg(long, allow_hyphen_values = true)]
    start: Option<String>,
    /// Optimizer spec NAME[:key=value,…]; repeat for several. Its lr is replaced by each grid lr.
    #[arg(long = "optimizer", short = 'o', required = true)]
    optimizers: Vec<String>,
    /// Number of updates per run.
    #[arg(long, default_value_t = 100, value_parser = crate::args::number::whole::<0>)]
    steps: usize,
    /// What makes an lr best: `final-loss` (lowest loss after the last
    /// update) or `steps-to=TOL` (fewest updates to within TOL of a known
    /// minimum). Diverged runs are never chosen; ties go to the lower final
    /// loss, then the smaller lr.
    #[arg(long, default_value = "final-loss")]
    criterion: String,
    /// The learning rates tried: LO:HI:N, N values evenly spaced in log10 from LO to HI.
    #[arg(long, default_value = tune::DEFAULT_GRID)]
    grid: String,
    /// Output format; json prints one object on the last line.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    figures: FigureArgs,
}

pub fn run(args: TuneArgs) -> Result<(), CliError> {
    args.figures.validate()?;
    let criterion: Criterion = args.criterion.parse()?;
    let lrs = tune::parse_grid(&args.grid)?;
    let (surface, start) = resolve_problem(&args.surface, args.start.as_deref(), args.steps)?;
    let bar = progress::bar("runs");
    bar.inc_length((args.optimizers.len() * lrs.len()) as u64);
    let tuned = tune::tune(
        &surface,
        start,
        &args.optimizers,
        &lrs,
        args.steps,
        criterion,
        || bar.inc(1),
    )?;
    bar.finish_and_clear();
    for t in tuned.iter().filter(|t| t.best.is_none()) {
        eprintln!(
            "warning: {} diverged at every lr of the grid; it has no best lr",
            t.optimizer
        );
    }
    args.figures
        .render(&surface, &tuned_runs(&tuned), args.steps)?;
    let rows: Vec<TuneRow> = tuned.iter().map(TuneRow::of).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let text = |v: Option<String>| v.unwrap_or_default();
    match args.format {
        Format::Json => writeln!(out, "{}", tune_json(criterion, &tuned))?,
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            writer.write_record(["optimizer", "lr", "final_loss", "steps_to_tolerance"])?;
            for r in &rows {
                writer.write_record([
                    r.optimizer.to_string(),
                    text(r.lr.map(number)),
                    text(r.final_loss.map(number)),
                    text(r.steps_to_tolerance.map(|s| s.to_string())),
                ])?;
            }
            writer.flush()?;
        }
        Format::Table => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let none = |v: Option<String>| v.unwrap_or_else(|| "-".into());
                    vec![
                        r.optimizer.to_string(),
                        none(r.lr.map(number)),
                        none(r.final_loss.map(number)),
                        none(r.steps_to_tolerance.map(|s| s.to_string())),
                    ]
                })
                .collect();
            writeln!(out, "criterion: {criterion}")?;
            write_table(
                &mut out,
                &["optimizer", "best lr", "final loss", "steps to tolerance"],
                &table,
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
