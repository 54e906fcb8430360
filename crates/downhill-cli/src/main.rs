//! The `downhill` command line. See `downhill --help`.

mod args;
mod commands;
mod emit;
mod error;
#[cfg(feature = "mpi")]
mod mpi_world;
mod output;
mod plot;
mod progress;
mod web;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Gradient-descent optimizers with PyTorch parity, and a lab to watch them work.
#[derive(Parser)]
#[command(name = "downhill", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run optimizers on a surface and print their paths.
    Run(commands::run::RunArgs),
    /// List optimizers (keys, defaults) and surfaces (formula, domain, minima).
    List(commands::list::ListArgs),
    /// Train a model on a dataset (linear, softmax, MLP) with one optimizer.
    Train(commands::train::TrainArgs),
    /// Train with several optimizers from the same weights and shuffles; table and plot.
    Compare(commands::compare::CompareArgs),
    /// Time optimizer steps on large parameter buffers.
    Bench(commands::bench::BenchArgs),
    /// Print the learning rate of each update under a schedule (and plot it).
    Schedule(commands::schedule::ScheduleArgs),
    /// Run a grid of optimizers × learning rates × parameters; write CSV, a panel grid and a heatmap.
    Sweep(commands::sweep::SweepArgs),
    /// The best learning rate of each optimizer on a log grid, then the tuned runs side by side.
    Tune(commands::tune::TuneArgs),
    /// Write the learning notes' five figures and an index.html explaining them.
    Demo(commands::demo::DemoArgs),
    /// Serve the web playground (contours, paths, overlays, sweeps) on a local port.
    Serve(commands::serve::ServeArgs),
}

/// One line of a clap error: its first line, with the valid values, the
/// nearest name and the missing arguments that clap prints on lines of their own.
fn one_line(e: &clap::Error, argv: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue};
    let rendered = e.render().to_string();
    let mut line = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid arguments")
        .trim_end()
        .trim_end_matches(':')
        .to_string();
    let list = |kind| match e.get(kind) {
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        Some(ContextValue::String(v)) => Some(v.clone()),
        _ => None,
    };
    if let Some(missing) = list(ContextKind::InvalidArg)
        .filter(|_| e.kind() == clap::error::ErrorKind::MissingRequiredArgument)
    {
        line = format!("{line}: {missing}");
    }
    if let Some(valid) =
        list(ContextKind::ValidValue).or_else(|| list(ContextKind::ValidSubcommand))
    {
        line = format!("{line}; valid: {valid}");
    }
    let suggested = list(ContextKind::SuggestedSubcommand)
        .or_else(|| list(ContextKind::SuggestedValue))
        .or_else(|| list(ContextKind::SuggestedArg))
        .or_else(|| hyperparameter_flag(e, argv));
    if let Some(s) = suggested {
        line = format!("{line}; did you mean '{s}'?");
    }
    line
}

/// For `run -o adam --lr 0.1`: hyperparameters belong in the optimizer spec
/// (`adam:lr=0.1`), which is what a flag named like a spec key meant.
fn hyperparameter_flag(e: &clap::Error, argv: &[String]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(flag)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let key = flag.strip_prefix("--")?.replace('-', "_");
    let at = argv.iter().position(|a| a == flag)?;
    let value = argv.get(at + 1).filter(|v| !v.starts_with("--"))?;
    let spec = argv
        .windows(2)
        .find(|w| w[0] == "-o" || w[0] == "--optimizer")
        .map(|w| w[1].clone())
        .or_else(|| {
            argv.iter()
                .find_map(|a| a.strip_prefix("--optimizer=").map(str::to_string))
        })?;
    let entry = downhill::optim::Entry::find(spec.split(':').next()?).ok()?;
    entry.keys().iter().any(|k| k.name == key).then(|| {
        let separator = if spec.contains(':') { ',' } else { ':' };
        format!("-o {spec}{separator}{key}={value}")
    })
}

/// Whether this is a rank other than 0 of `mpirun … --distributed`: every
/// rank parses the same arguments, and rank 0 alone reports their errors.
fn other_rank(argv: &[String]) -> bool {
    let rank = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"]
        .iter()
        .find_map(|v| std::env::var(v).ok());
    argv.iter().any(|a| a == "--distributed") && rank.is_some_and(|r| r != "0")
}

fn main() -> ExitCode {
    // `--steps -1` is a bad number, not an unknown flag `-1`
    let command = <Cli as clap::CommandFactory>::command()
        .mut_subcommands(|c| c.allow_negative_numbers(true));
    let argv: Vec<String> = std::env::args().collect();
    let parsed = command
        .try_get_matches_from(&argv)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let names: Vec<String> = <Cli as clap::CommandFactory>::command()
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .collect();
                eprintln!(
                    "error: a subcommand is required; valid: {} (see downhill --help)",
                    names.join(", ")
                );
                return ExitCode::from(2);
            }
            if !other_rank(&argv) {
                eprintln!("{}", one_line(&e, &argv));
            }
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::List(args) => commands::list::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Compare(args) => commands::compare::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Schedule(args) => commands::schedule::run(args),
        Command::Sweep(args) => commands::sweep::run(args),
        Command::Tune(args) => commands::tune::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Serve(args) => commands::serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_closed_stdout() => ExitCode::SUCCESS,
        Err(error::CliError::Reported) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
