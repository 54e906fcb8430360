//! `downhill list`: the optimizers and surfaces this build knows.

use crate::error::CliError;
use crate::output::number;
use clap::{Args, ValueEnum};
use downhill::optim::OPTIMIZERS;
use downhill::surface::Surface;
use std::io::Write;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum What {
    Optimizers,
    Surfaces,
}

#[derive(Args)]
pub struct ListArgs {
    /// What to list (default: both).
    what: Option<What>,
}

pub fn run(args: ListArgs) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.what != Some(What::Surfaces) {
        writeln!(out, "Optimizers (spec: NAME[:key=value,...]):")?;
        for entry in OPTIMIZERS {
            writeln!(out, "\n  {:<9} {}", entry.name, entry.summary)?;
            for key in entry.keys() {
                writeln!(
                    out,
                    "    {:<26} = {:<8} {} — {}",
                    key.name,
                    key.value.to_string(),
                    key.check,
                    key.doc
                )?;
            }
        }
    }
    if args.what.is_none() {
        writeln!(out)?;
    }
    if args.what != Some(What::Optimizers) {
        writeln!(out, "Surfaces (--surface NAME):")?;
        for surface in Surface::ALL {
            let info = surface.info();
            let minima: Vec<String> = info
                .minima
                .iter()
                .map(|m| format!("({}, {})", number(m[0]), number(m[1])))
                .collect();
            writeln!(out, "\n  {:<17} f = {}", info.name, info.formula)?;
            writeln!(
                out,
                "    domain x ∈ [{}, {}], y ∈ [{}, {}]; start ({}, {})",
                number(info.domain.x[0]),
                number(info.domain.x[1]),
                number(info.domain.y[0]),
                number(info.domain.y[1]),
                number(info.start[0]),
                number(info.start[1])
            )?;
            match info.minimum {
                Some(f) => writeln!(
                    out,
                    "    global minima {} with f = {}",
                    minima.join(", "),
                    number(f)
                )?,
                None => writeln!(out, "    no minimum (unbounded below)")?,
            }
        }
    }
    Ok(())
}
