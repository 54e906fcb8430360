//! The sweep's figures: the learning notes' panel grid (rows = learning rate,
//! columns = x(t), y(t), f(t)) and a heatmap of the final loss.

use super::curves::{panel, Line, Scale};
use super::field::short;
use super::file::Figure;
use super::marks;
use crate::error::CliError;
use crate::output::number;
use downhill::lab::sweep::GridPoint;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

/// Row labels in order of first appearance.
fn distinct(labels: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in labels {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// Reads one coordinate of a recorded point.
type Coordinate = fn(&downhill::lab::Point) -> f64;

/// Rows = learning rates; columns = x(t), y(t), f(t); one line per variant.
pub struct PanelGrid<'a> {
    pub title: &'a str,
    pub keys: &'a [String],
    pub points: &'a [GridPoint],
    pub lrs: &'a [f64],
}

impl Figure for PanelGrid<'_> {
    fn size(&self) -> (u32, u32) {
        (1320, 60 + 300 * self.lrs.len() as u32)
    }

    fn draw<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        _fine: bool,
    ) -> Result<(), CliError> {
        let body = area.titled(self.title, (super::FAMILY, 20))?;
        let variants = distinct(self.points.iter().map(|p| p.variant(self.keys)));
        let entries: Vec<(String, RGBColor)> = variants
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), super::color(i)))
            .collect();
        let body = marks::legend_row(&body, &entries)?;
        let panels = body.split_evenly((self.lrs.len(), 3));
        let columns: [(&str, Coordinate); 3] =
            [("x(t)", |p| p.x), ("y(t)", |p| p.y), ("f(t)", |p| p.loss)];
        for (r, &lr) in self.lrs.iter().enumerate() {
            for (c, (name, value)) in columns.iter().enumerate() {
                let lines: Vec<Line> = self
                    .points
                    .iter()
                    .filter(|p| p.lr == lr)
                    .map(|p| {
                        let i = variants
                            .iter()
                            .position(|v| *v == p.variant(self.keys))
                            .unwrap_or(0);
                        Line {
                            color: super::color(i),
                            diverged: p.path.diverged.is_some(),
                            points: p
                                .path
                                .points
                                .iter()
                                .map(|q| (q.step as f64, value(q)))
                                .collect(),
                        }
                    })
                    .collect();
                let scale = Scale::fit(&lines);
                panel(
                    &panels[r * 3 + c],
                    &format!("{name}, lr = {}{}", number(lr), scale.note()),
                    "step",
                    &lines,
                    scale,
                )?;
            }
        }
        Ok(())
    }
}

/// One heatmap cell: a variant at a learning rate.
pub struct Cell {
    pub row: String,
    pub lr: f64,
    /// The loss at the last finite point.
    pub loss: Option<f64>,
    /// The step at which the run diverged.
    pub diverged: Option<usize>,
}

/// Final loss per variant (rows) and learning rate (columns).
pub struct Heatmap<'a> {
    pub title: &'a str,
    pub cells: &'a [Cell],
    pub lrs: &'a [f64],
}

const CELL: (i32, i32) = (130, 40);
const TOP: i32 = 96;

impl Heatmap<'_> {
    fn rows(&self) -> Vec<String> {
        distinct(self.cells.iter().map(|c| c.row.clone()))
    }

    fn label_width(&self) -> i32 {
        self.rows()
            .iter()
            .map(|r| r.chars().count() as i32 * 8)
            .max()
            .unwrap_or(0)
            + 24
    }
}

impl Figure for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        let w = self.label_width() + CELL.0 * self.lrs.len() as i32 + 30;
        let h = TOP + CELL.1 * self.rows().len() as i32 + 50;
        (w.max(560) as u32, h as u32)
    }

    fn draw<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        _fine: bool,
    ) -> Result<(), CliError> {
        let rows = self.rows();
        let finite: Vec<f64> = self
            .cells
            .iter()
            .filter(|c| c.diverged.is_none())
            .filter_map(|c| c.loss)
            .filter(|l| l.is_finite())
            .collect();
        let (min, max) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &l| {
                (a.min(l), b.max(l))
            });
        let log = min > 0.0 && max / min > 100.0;
        let scale = |l: f64| if log { l.log10() } else { l };
        let (lo, hi) = (scale(min), scale(max));
        let font = TextStyle::from((super::FAMILY, 14).into_font());
        let center = super::centered((super::FAMILY, 14).into_font());
        let (w, _) = area.dim_in_pixel();
        area.draw(&Text::new(
            self.title.to_string(),
            (w as i32 / 2, 18),
            super::centered((super::FAMILY, 18).into_font()),
        ))?;
        let what = if log {
            "final loss, colour on a log scale (darker = lower)"
        } else {
            "final loss (darker = lower)"
        };
        area.draw(&Text::new(
            what.to_string(),
            (w as i32 / 2, 44),
            center.clone(),
        ))?;
        let x0 = self.label_width();
        for (c, &lr) in self.lrs.iter().enumerate() {
            let x = x0 + CELL.0 * c as i32 + CELL.0 / 2;
            area.draw(&Text::new(
                format!("lr = {}", number(lr)),
                (x, TOP - 14),
                center.clone(),
            ))?;
        }
        for (r, row) in rows.iter().enumerate() {
            let y = TOP + CELL.1 * r as i32;
            area.draw(&Text::new(
                row.clone(),
                (10, y + CELL.1 / 2 - 8),
                font.clone(),
            ))?;
            for (c, &lr) in self.lrs.iter().enumerate() {
                let Some(cell) = self.cells.iter().find(|k| &k.row == row && k.lr == lr) else {
                    continue;
                };
                let (cx, cy) = (x0 + CELL.0 * c as i32, y);
                let rect = [(cx + 1, cy + 1), (cx + CELL.0 - 1, cy + CELL.1 - 1)];
                let mid = (cx + CELL.0 / 2, cy + CELL.1 / 2);
                match (cell.diverged, cell.loss) {
                    (Some(step), _) => {
                        area.draw(&Rectangle::new(rect, RGBColor(215, 215, 215).filled()))?;
                        area.draw(&PathElement::new(
                            vec![rect[0], rect[1]],
                            RGBColor(190, 60, 60).stroke_width(2),
                        ))?;
                        area.draw(&PathElement::new(
                            vec![(rect[0].0, rect[1].1), (rect[1].0, rect[0].1)],
                            RGBColor(190, 60, 60).stroke_width(2),
                        ))?;
                        area.draw(&Text::new(format!("diverged @{step}"), mid, center.clone()))?;
                    }
                    (None, Some(loss)) => {
                        let t = if hi > lo {
                            ((scale(loss) - lo) / (hi - lo)).clamp(0.0, 1.0)
                        } else {
                            0.5
                        };
                        let RGBColor(r, g, b) = ViridisRGB::get_color_normalized(t, 0.0, 1.0);
                        let light = |v: u8| (v as f64 * 0.55 + 255.0 * 0.45).round() as u8;
                        area.draw(&Rectangle::new(
                            rect,
                            RGBColor(light(r), light(g), light(b)).filled(),
                        ))?;
                        area.draw(&Text::new(short(loss), mid, center.clone()))?;
                    }
                    (None, None) => {
                        area.draw(&Rectangle::new(rect, RGBColor(215, 215, 215).filled()))?;
                        area.draw(&Text::new("no point".to_string(), mid, center.clone()))?;
                    }
                }
            }
        }
        Ok(())
    }
}
