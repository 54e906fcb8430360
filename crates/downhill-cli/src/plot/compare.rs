//! The `compare --plot` figure: loss and accuracy against epoch and against
//! wall time, one line per optimizer (plotters; PNG or SVG by extension).

use super::file::{write_figure, Figure, Still};
use crate::error::CliError;
use downhill::train::EpochRecord;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One optimizer's epochs, labelled with its spec.
pub struct Run {
    pub spec: String,
    pub epochs: Vec<EpochRecord>,
}

/// Refuses a plot path whose extension is not `.png` or `.svg` (before any training).
pub fn check_path(path: &Path) -> Result<(), CliError> {
    match extension(path).as_deref() {
        Some("png" | "svg") => Ok(()),
        _ => Err(CliError::new(format!(
            "--plot {}: use a .png or .svg file name",
            path.display()
        ))),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The four panels (two without accuracy) under one title.
struct Panels<'a> {
    title: String,
    runs: &'a [Run],
}

impl Figure for Panels<'_> {
    fn size(&self) -> (u32, u32) {
        (1400, 1000)
    }

    fn draw<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        _fine: bool,
    ) -> Result<(), CliError> {
        panels(area, &self.title, self.runs).map_err(CliError::Draw)
    }
}

/// Draws the figure and writes it atomically (see [`write_figure`]).
pub fn draw(path: &Path, dataset: &str, model: &str, runs: &[Run]) -> Result<(), CliError> {
    let kind = match extension(path).as_deref() {
        Some("svg") => Still::Svg,
        _ => Still::Png,
    };
    let title = format!("{dataset} · {model}");
    write_figure(path, kind, &Panels { title, runs })
}

fn panels<DB: super::Backend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    runs: &[Run],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(title, ("sans-serif", 28))
        .map_err(|e| e.to_string())?;
    let entries: Vec<(String, RGBColor)> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.spec.clone(), super::color(i)))
        .collect();
    let root = super::marks::legend_row(&root, &entries).map_err(|e| e.to_string())?;
    let has_accuracy = runs
        .iter()
        .any(|r| r.epochs.iter().any(|e| e.accuracy.is_some()));
    let has_test = runs
        .iter()
        .any(|r| r.epochs.iter().any(|e| e.test_loss.is_some()));
    let loss_label = if has_test { "test loss" } else { "train loss" };
    let loss = |e: &EpochRecord| e.test_loss.unwrap_or(e.train_loss);
    let areas = root.split_evenly((if has_accuracy { 2 } else { 1 }, 2));
    let by_epoch = |e: &EpochRecord| e.epoch as f64;
    let by_time = |e: &EpochRecord| e.elapsed;
    panel(&areas[0], runs, "epoch", loss_label, &by_epoch, &loss)?;
    panel(&areas[1], runs, "seconds", loss_label, &by_time, &loss)?;
    if has_accuracy {
        let accuracy = |e: &EpochRecord| e.accuracy.unwrap_or(f64::NAN);
        panel(
            &areas[2],
            runs,
            "epoch",
            "test accuracy",
            &by_epoch,
            &accuracy,
        )?;
        panel(
            &areas[3],
            runs,
            "seconds",
            "test accuracy",
            &by_time,
            &accuracy,
        )?;
    }
    Ok(())
}

type Field<'a> = &'a dyn Fn(&EpochRecord) -> f64;

fn panel<DB: super::Backend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[Run],
    x_label: &str,
    y_label: &str,
    x: Field,
    y: Field,
) -> Result<(), String> {
    let points: Vec<(f64, f64)> = runs
        .iter()
        .flat_map(|r| r.epochs.iter().map(|e| (x(e), y(e))))
        .filter(|p| p.1.is_finite())
        .collect();
    let (x_max, y_lo, y_hi) = points.iter().fold(
        (0.0f64, f64::INFINITY, f64::NEG_INFINITY),
        |(a, b, c), p| (a.max(p.0), b.min(p.1), c.max(p.1)),
    );
    let (y_lo, y_hi) = if y_lo.is_finite() {
        (y_lo, y_hi)
    } else {
        (0.0, 1.0)
    };
    let pad = ((y_hi - y_lo) * 0.05).max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max.max(1e-9), (y_lo - pad)..(y_hi + pad))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, run) in runs.iter().enumerate() {
        let color = super::color(i);
        let line: Vec<(f64, f64)> = run
            .epochs
            .iter()
            .map(|e| (x(e), y(e)))
            .filter(|p| p.1.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(2)))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
