//! The `schedule --plot` figure: lr against step as PNG or SVG (plotters).
//!
//! Text is drawn with DejaVu Sans embedded in the binary, so plotting needs no
//! system font libraries.

use super::file::{write_figure, Figure, Still};
use crate::error::CliError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const SIZE: (u32, u32) = (960, 540);

/// Writes the plot to `path` (.png or .svg) atomically (see [`write_figure`]).
pub fn write(path: &Path, title: &str, lrs: &[f64]) -> Result<(), CliError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let svg = match extension.as_deref() {
        Some("svg") => true,
        Some("png") => false,
        _ => {
            return Err(CliError::new(format!(
                "--plot must name a .png or .svg file, got '{}'",
                path.display()
            )));
        }
    };
    if lrs.is_empty() {
        return Err(CliError::new(
            "--plot needs at least one step (--steps 1 or more)",
        ));
    }
    let kind = if svg { Still::Svg } else { Still::Png };
    write_figure(path, kind, &LrFigure { title, lrs })
}

/// lr against step.
struct LrFigure<'a> {
    title: &'a str,
    lrs: &'a [f64],
}

impl Figure for LrFigure<'_> {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        _fine: bool,
    ) -> Result<(), CliError> {
        draw(area, self.title, self.lrs).map_err(CliError::Draw)
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    lrs: &[f64],
) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let lo = lrs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = lrs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        (hi.abs() * 0.1).max(1e-3)
    };
    let last = (lrs.len() - 1).max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..last, (lo - pad)..(hi + pad))
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("lr")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(|e| fail(&e))?;
    let points = lrs.iter().enumerate().map(|(k, &lr)| (k as f64, lr));
    chart
        .draw_series(LineSeries::new(points, BLUE.stroke_width(2)))
        .map_err(|e| fail(&e))?;
    Ok(())
}

/// An axis label: up to 4 decimals for ordinary sizes, else scientific.
fn tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if (1e-3..1e4).contains(&v.abs()) {
        let text = format!("{v:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.2e}")
    }
}
