//! `downhill run`: optimizer paths on a surface as CSV, JSON or a table.

use crate::output::{number, write_table, Format};
use crate::CliError;
use clap::Args;
use downhill::lab::{self, Point, Trajectory};
use downhill::optim::{self, Optimizer};
use downhill::schedule;
use downhill::spec::ConfigError;
use downhill::surface::{self, Landscape};
use serde_json::Value;
use std::io::Write;

/// The learning notes' seven optimizers, used when no `--optimizer` is given.
pub const SEED_OPTIMIZERS: [&str; 7] = [
    "gd:lr=0.01",
    "momentum:lr=0.01",
    "nag:lr=0.01",
    "adagrad:lr=0.01",
    "rmsprop:lr=0.01",
    "adadelta",
    "adam:lr=0.01",
];

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
    figures: crate::plot::args::FigureArgs,
}

/// The largest `--steps` accepted (a run keeps every point in memory).
pub const MAX_STEPS: usize = 10_000_000;

/// Parses `X,Y` into two finite numbers.
pub fn parse_point(text: &str) -> Result<[f64; 2], CliError> {
    let bad = || {
        CliError(format!(
            "--start must be two finite numbers X,Y, got '{text}'"
        ))
    };
    let (x, y) = text.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !(x.is_finite() && y.is_finite()) {
        return Err(bad());
    }
    Ok([x, y])
}

/// Resolves `--surface`, `--start` (default: the surface's own start) and checks `--steps`.
pub fn resolve_problem(
    surface: &str,
    start: Option<&str>,
    steps: usize,
) -> Result<(surface::Resolved, [f64; 2]), CliError> {
    let surface = surface::resolve(surface)?;
    let start = match start {
        Some(text) => parse_point(text)?,
        None => surface.start,
    };
    if steps > MAX_STEPS {
        return Err(CliError(format!(
            "--steps must be at most {MAX_STEPS}, got {steps}"
        )));
    }
    Ok((surface, start))
}

pub fn run(args: RunArgs) -> Result<(), CliError> {
    args.figures.validate()?;
    let (surface, start) = resolve_problem(&args.surface, args.start.as_deref(), args.steps)?;
    let specs: Vec<String> = if args.optimizers.is_empty() {
        SEED_OPTIMIZERS.iter().map(|s| s.to_string()).collect()
    } else {
        args.optimizers.clone()
    };
    let paths = trajectories(
        surface.landscape.as_ref(),
        start,
        &specs,
        args.steps,
        args.schedule.as_deref(),
        |_, _, _| {},
    )?;
    for (spec, path) in specs.iter().zip(&paths) {
        if let Some(d) = &path.diverged {
            eprintln!(
                "warning: {spec} diverged at step {} ({}); its output stops at step {}",
                d.step,
                d.reason,
                d.step.saturating_sub(1)
            );
        }
    }
    let runs: Vec<(&str, Trajectory)> = specs.iter().map(String::as_str).zip(paths).collect();
    let figure_runs: Vec<_> = runs
        .iter()
        .map(|(spec, path)| crate::plot::scene::Run {
            spec: spec.to_string(),
            path: path.clone(),
        })
        .collect();
    args.figures.render(&surface, &figure_runs, args.steps)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Csv => write_csv(&mut out, &runs)?,
        Format::Json => {
            let doc = json(&surface.label, start, args.steps, &runs);
            writeln!(out, "{doc}")?;
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = runs
                .iter()
                .flat_map(|(spec, path)| {
                    path.points.iter().map(move |p| {
                        vec![
                            spec.to_string(),
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

/// The paths of every spec from `start`, in f64: what `downhill run` prints and
/// `POST /api/run` returns. Specs and the schedule are all checked before any
/// step is taken. `observe(run, reached, optimizer)` sees each optimizer at
/// each point reached before the next update (after the schedule has set the
/// learning rate), in the state it holds there.
pub fn trajectories<F>(
    landscape: &dyn Landscape,
    start: [f64; 2],
    specs: &[String],
    steps: usize,
    schedule: Option<&str>,
    mut observe: F,
) -> Result<Vec<Trajectory>, CliError>
where
    F: FnMut(usize, &Point, &Optimizer<f64>),
{
    let rules = specs
        .iter()
        .map(|s| optim::build(s))
        .collect::<Result<Vec<_>, _>>()?;
    let schedule = schedule.map(schedule::build).transpose()?;
    let mut paths = Vec::with_capacity(rules.len());
    for (run, rule) in rules.into_iter().enumerate() {
        let mut driver = schedule.clone().map(schedule::Driver::new);
        paths.push(lab::trajectory::<f64, _>(
            landscape,
            start,
            rule,
            steps,
            |reached, optimizer| {
                schedule_step(driver.as_mut(), reached, optimizer)?;
                observe(run, reached, optimizer);
                Ok(())
            },
        )?);
    }
    Ok(paths)
}

/// What a schedule does before each update of a run: a plateau schedule is fed
/// the loss after each update (its metric), then the learning rate is set.
pub fn schedule_step(
    driver: Option<&mut schedule::Driver>,
    reached: &Point,
    optimizer: &mut Optimizer<f64>,
) -> Result<(), ConfigError> {
    match driver {
        Some(driver) => {
            if reached.step > 0 {
                driver.observe(reached.loss);
            }
            driver.before_step(optimizer)
        }
        None => Ok(()),
    }
}

/// The JSON document of `downhill run --format json`: surface label, start,
/// steps and one entry per run with its `[x, y, loss]` points and divergence.
pub fn json(label: &str, start: [f64; 2], steps: usize, runs: &[(&str, Trajectory)]) -> Value {
    serde_json::json!({
        "surface": label,
        "start": start,
        "steps": steps,
        "runs": runs.iter().map(|(spec, path)| serde_json::json!({
            "optimizer": spec,
            "points": path.points.iter().map(|p| [p.x, p.y, p.loss]).collect::<Vec<_>>(),
            "diverged": path.diverged,
        })).collect::<Vec<_>>(),
    })
}

/// Writes `downhill run --format csv`: `optimizer,step,x,y,loss`.
pub fn write_csv(out: &mut impl Write, runs: &[(&str, Trajectory)]) -> Result<(), CliError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["optimizer", "step", "x", "y", "loss"])?;
    for (spec, path) in runs {
        for p in &path.points {
            writer.write_record([
                spec.to_string(),
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
