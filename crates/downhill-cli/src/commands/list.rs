//! `downhill list`: the optimizers, schedules and surfaces this build knows.

use crate::error::CliError;
use crate::output::number;
use clap::{Args, ValueEnum};
use downhill::hyper::KeyInfo;
use downhill::optim::OPTIMIZERS;
use downhill::schedule::SCHEDULES;
use downhill::surface::Surface;
use std::io::Write;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum What {
    Optimizers,
    Schedules,
    Surfaces,
}

#[derive(Args)]
pub struct ListArgs {
    /// What to list (default: everything).
    what: Option<What>,
}

/// Writes one section of the listing.
type Section = fn(&mut dyn Write) -> std::io::Result<()>;

pub fn run(args: ListArgs) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let sections: &[(What, Section)] = &[
        (What::Optimizers, optimizers),
        (What::Schedules, schedules),
        (What::Surfaces, surfaces),
    ];
    let mut first = true;
    for (what, write) in sections {
        if args.what.is_none_or(|w| w == *what) {
            if !first {
                writeln!(out)?;
            }
            first = false;
            write(&mut out)?;
        }
    }
    Ok(())
}

/// One key line: name, default, range and doc.
fn key_line(out: &mut dyn Write, key: &KeyInfo, required: bool) -> std::io::Result<()> {
    let value = if required {
        "required".to_string()
    } else {
        key.value.to_string()
    };
    writeln!(
        out,
        "    {:<26} = {:<8} {} — {}",
        key.name, value, key.check, key.doc
    )
}

fn optimizers(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Optimizers (spec: NAME[:key=value,...]):")?;
    for entry in OPTIMIZERS {
        writeln!(out, "\n  {:<9} {}", entry.name, entry.summary)?;
        for key in entry.keys() {
            key_line(out, &key, false)?;
        }
    }
    Ok(())
}

fn schedules(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Schedules (--schedule NAME[:key=value,...]; see `downhill schedule --help`):"
    )?;
    for entry in SCHEDULES {
        writeln!(
            out,
            "\n  {:<16} {} ({})",
            entry.name, entry.summary, entry.pytorch
        )?;
        for key in entry.keys() {
            key_line(out, &key, entry.required.contains(&key.name))?;
        }
    }
    Ok(())
}

fn surfaces(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Surfaces (--surface NAME, or a formula in x and y such as 'x^2 - y^2'):"
    )?;
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
    Ok(())
}
