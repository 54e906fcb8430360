//! The `downhill` command line. See `downhill --help`.

mod args;
mod commands;
mod error;
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
    /// Write the learning notes' five figures and an index.html explaining them.
    Demo(commands::demo::DemoArgs),
    /// Serve the web playground (contours, paths, overlays, sweeps) on a local port.
    Serve(commands::serve::ServeArgs),
}

/// One line of a clap error: its first line, followed by the indented list
/// under it when it ends in ':' (the missing required arguments).
fn first_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let first = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .trim_end();
    match first.strip_suffix(':') {
        Some(head) => {
            let listed: Vec<&str> = lines
                .take_while(|l| l.starts_with(' '))
                .map(str::trim)
                .collect();
            format!("{head}: {}", listed.join(", "))
        }
        None => first.to_string(),
    }
}

fn main() -> ExitCode {
    // `--steps -1` is a bad number, not an unknown flag `-1`
    let command = <Cli as clap::CommandFactory>::command()
        .mut_subcommands(|c| c.allow_negative_numbers(true));
    let parsed = command
        .try_get_matches()
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
            eprintln!("{}", first_line(&e.render().to_string()));
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
        Command::Demo(args) => commands::demo::run(args),
        Command::Serve(args) => commands::serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_closed_stdout() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
