//! `downhill run`: optimizer paths on a surface as CSV, JSON or a table.

use crate::args::problem::resolve_problem;
use crate::emit::{self, Language, Problem};
use crate::error::CliError;
use crate::output::{number, runs_json, write_runs_csv, write_table, Format};
use crate::plot::args::FigureArgs;
use clap::Args;
use downhill::lab::{self, ParamShape, Run, SEED_OPTIMIZERS};
use downhill::spec::ConfigError;
use downhill::surface::Landscape;
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
    #[arg(long, default_value_t = 100, value_parser = crate::args::number::whole::<0>)]
    steps: usize,
    /// Output format (default: table). With a figure (--plot, --animate,
    /// --curves) the table shows each optimizer's last point only.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Learning-rate schedule spec applied to every optimizer, from its own lr
    /// (see `downhill schedule`).
    #[arg(long)]
    schedule: Option<String>,
    /// How the optimizer holds the point: `2` (a vector) or `1x2` (a 1×2
    /// matrix; rules such as lars treat matrices differently, and muon takes
    /// nothing else).
    #[arg(long, default_value = "2", value_parser = shape_parser())]
    param_shape: ParamShape,
    /// Print a program instead of the paths: a PyTorch script or a Rust
    /// `main.rs` (using the downhill crate) that prints the CSV of
    /// `--format csv` for the same arguments.
    #[arg(long, value_enum, value_name = "LANGUAGE")]
    emit: Option<Language>,
    #[command(flatten)]
    figures: FigureArgs,
}

/// `2` or `1x2`, listed in `--help` and in the error for anything else.
fn shape_parser() -> impl clap::builder::TypedValueParser<Value = ParamShape> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(ParamShape::NAMES)
        .map(|name| name.parse::<ParamShape>().expect("a listed shape"))
}

pub fn run(args: RunArgs) -> Result<(), CliError> {
    args.figures.validate()?;
    let (surface, start) = resolve_problem(&args.surface, args.start.as_deref(), args.steps)?;
    let specs: Vec<String> = if args.optimizers.is_empty() {
        SEED_OPTIMIZERS.iter().map(|s| s.to_string()).collect()
    } else {
        args.optimizers.clone()
    };
    if let Some(language) = args.emit {
        if args.figures.any() || args.format.is_some() {
            return Err(CliError::new(
                "--emit prints a program; it takes no --format, --plot, --animate or --curves",
            ));
        }
        // One update checks what a run would (specs, schedule, shape).
        walk(
            &args,
            surface.landscape.as_ref(),
            start,
            &specs,
            args.steps.min(1),
        )?;
        let problem = Problem {
            surface: args.surface.clone(),
            start,
            specs,
            steps: args.steps,
            schedule: args.schedule.clone(),
            shape: args.param_shape,
        };
        print!("{}", emit::script(language, &problem)?);
        return Ok(());
    }
    let runs = walk(&args, surface.landscape.as_ref(), start, &specs, args.steps)?;
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
    match args.format.unwrap_or(Format::Table) {
        Format::Csv => write_runs_csv(&mut out, &runs)?,
        Format::Json => writeln!(
            out,
            "{}",
            runs_json(&surface.label, start, args.steps, &runs)
        )?,
        Format::Table => {
            let last_only = args.figures.any();
            let rows: Vec<Vec<String>> = runs
                .iter()
                .flat_map(|run| {
                    let points = &run.path.points;
                    let shown = if last_only {
                        &points[points.len().saturating_sub(1)..]
                    } else {
                        &points[..]
                    };
                    shown.iter().map(|p| {
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

/// The paths of `specs` over `steps` updates.
fn walk(
    args: &RunArgs,
    landscape: &dyn Landscape,
    start: [f64; 2],
    specs: &[String],
    steps: usize,
) -> Result<Vec<Run>, CliError> {
    lab::runs(
        landscape,
        start,
        args.param_shape,
        specs,
        steps,
        args.schedule.as_deref(),
        |_, _, _| {},
    )
    .map_err(|e| match e {
        // A rule for matrices only (muon) on the default vector.
        ConfigError::Shape { .. } if args.param_shape == ParamShape::Vector => {
            CliError::new(format!("{e}; run it with --param-shape 1x2"))
        }
        e => e.into(),
    })
}
