//! `--surface`, `--start` and `--steps` of `downhill run` and `downhill sweep`.

use crate::error::CliError;
use downhill::surface::{self, Resolved};

/// The largest `--steps` accepted (a run keeps every point in memory).
pub const MAX_STEPS: usize = 10_000_000;

/// Parses `X,Y` into two finite numbers.
pub fn parse_point(text: &str) -> Result<[f64; 2], CliError> {
    let bad = || {
        CliError::new(format!(
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
) -> Result<(Resolved, [f64; 2]), CliError> {
    let surface = surface::resolve(surface)?;
    let start = match start {
        Some(text) => parse_point(text)?,
        None => surface.start,
    };
    if steps > MAX_STEPS {
        return Err(CliError::new(format!(
            "--steps must be at most {MAX_STEPS}, got {steps}"
        )));
    }
    Ok((surface, start))
}
