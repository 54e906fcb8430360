//! `downhill schedule`: the lr of each update under a schedule, as CSV, JSON,
//! a table, and optionally a plot.

use crate::error::CliError;
use crate::output::{number, write_table, Format};
use crate::plot::file::check_output;
use crate::plot::schedule as figure;
use clap::Args;
use downhill::schedule::{self, Sequence};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
#[command(after_help = schedule_list())]
pub struct ScheduleArgs {
    /// Schedule spec NAME[:key=value,…]; composites list members as
    /// schedulers=[spec;spec],milestones=[m] (quote it: ';' is special to shells).
    spec: String,
    /// Base lr (the optimizer's initial lr); cyclic and onecycle set their own.
    #[arg(long, default_value_t = 0.1, allow_hyphen_values = true)]
    lr: f64,
    /// Number of updates; rows are written for steps 0..N-1.
    #[arg(long, default_value_t = 100, value_parser = crate::args::number::whole_u64::<0>)]
    steps: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Add a momentum column (cyclic and onecycle cycle momentum or Adam's β₁).
    #[arg(long)]
    momentum: bool,
    /// Metric values fed to `plateau` after steps 0, 1, … (comma-separated).
    #[arg(long, allow_hyphen_values = true)]
    metrics: Option<String>,
    /// Also draw lr against step into FILE.png or FILE.svg.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
}

/// The schedule names with their PyTorch classes, for `--help`.
fn schedule_list() -> String {
    let mut text = String::from("Schedules (PyTorch's keyword names in lower case):\n");
    for entry in schedule::SCHEDULES {
        text += &format!(
            "  {:<16} {:<28} {}\n",
            entry.name, entry.pytorch, entry.summary
        );
    }
    text
}

/// The largest `--steps` accepted (every lr is kept in memory).
pub const MAX_STEPS: u64 = 10_000_000;

pub fn run(args: ScheduleArgs) -> Result<(), CliError> {
    if args.steps > MAX_STEPS {
        return Err(CliError::new(format!(
            "--steps must be at most {MAX_STEPS}, got {}",
            args.steps
        )));
    }
    let built = schedule::build(&args.spec)?;
    if let Some(path) = &args.plot {
        check_output("--plot", path)?;
    }
    if args.momentum && !built.cycles_momentum() {
        return Err(CliError::new(format!(
            "--momentum needs a schedule that cycles momentum (cyclic or onecycle with cycle_momentum=true), got '{}'",
            args.spec
        )));
    }
    let metrics = args.metrics.as_deref().map(parse_metrics).transpose()?;
    let sequence = compute(built, args.lr, args.steps, metrics.as_deref())?;
    if let Some(path) = &args.plot {
        figure::write(path, &args.spec, &sequence.lr)?;
    }
    let momenta = if args.momentum {
        sequence.momentum.as_deref()
    } else {
        None
    };
    let cell = |m: Option<f64>| m.map(number).unwrap_or_default();
    let rows: Vec<Vec<String>> = sequence
        .lr
        .iter()
        .enumerate()
        .map(|(k, &lr)| {
            let mut row = vec![k.to_string(), number(lr)];
            if let Some(m) = momenta {
                row.push(cell(m[k]));
            }
            row
        })
        .collect();
    let header: &[&str] = if momenta.is_some() {
        &["step", "lr", "momentum"]
    } else {
        &["step", "lr"]
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            writer.write_record(header)?;
            for row in &rows {
                writer.write_record(row)?;
            }
            writer.flush()?;
        }
        Format::Json => {
            let mut doc = serde_json::json!({
                "schedule": args.spec,
                "base_lr": args.lr,
                "steps": args.steps,
                "lr": sequence.lr,
            });
            if let Some(m) = momenta {
                doc["momentum"] = serde_json::json!(m);
            }
            writeln!(out, "{doc}")?;
        }
        Format::Table => write_table(&mut out, header, &rows)?,
    }
    out.flush()?;
    Ok(())
}

/// The lrs of steps 0..n, feeding `metrics[k]` after step k when given.
fn compute(
    built: schedule::AnySchedule,
    base_lr: f64,
    steps: u64,
    metrics: Option<&[f64]>,
) -> Result<Sequence, CliError> {
    let Some(metrics) = metrics else {
        return Ok(schedule::lrs(&built, base_lr, steps)?);
    };
    let cycles = built.cycles_momentum();
    let mut scheduler = schedule::Scheduler::new(built, base_lr)?;
    let mut sequence = Sequence {
        lr: Vec::new(),
        momentum: cycles.then(Vec::new),
    };
    for k in 0..steps {
        if k > 0 {
            if let Some(&metric) = metrics.get(k as usize - 1) {
                scheduler.observe(metric);
            }
            scheduler.advance()?;
        }
        sequence.lr.push(scheduler.lr());
        if let Some(m) = &mut sequence.momentum {
            m.push(scheduler.momentum());
        }
    }
    Ok(sequence)
}

fn parse_metrics(text: &str) -> Result<Vec<f64>, CliError> {
    text.split(',')
        .map(|item| {
            item.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    CliError::new(format!(
                        "--metrics must be comma-separated finite numbers, got '{}'",
                        item.trim()
                    ))
                })
        })
        .collect()
}
