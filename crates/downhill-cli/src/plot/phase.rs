//! The phase diagram: one optimizer's runs over learning rates (columns, on a
//! log axis) × the values of one key (rows, one per value), each cell
//! coloured by the final loss or the steps to a tolerance, with a colour bar;
//! diverged runs are crossed out.

use super::field::short;
use super::file::Figure;
use crate::error::CliError;
use downhill::lab::phase::{Cell, Phase};
use downhill::lab::tune::Criterion;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A phase diagram ready to draw.
pub struct PhaseDiagram<'a> {
    pub title: &'a str,
    pub phase: &'a Phase,
    pub cells: &'a [Cell],
    pub criterion: Criterion,
    pub steps: usize,
}

/// Margins around the cells: left (row labels), top (titles), right (colour bar), bottom (lr axis).
const LEFT: i32 = 120;
const TOP: i32 = 70;
const RIGHT: i32 = 170;
const BOTTOM: i32 = 80;
const DIVERGED: RGBColor = RGBColor(190, 60, 60);
const EMPTY: RGBColor = RGBColor(225, 225, 225);

/// The cell edges along a log axis: geometric midpoints between neighbours,
/// the outer edges as far out as the nearest inner one (a lone value spans
/// a decade).
pub fn log_edges(lrs: &[f64]) -> Vec<f64> {
    let logs: Vec<f64> = lrs.iter().map(|v| v.log10()).collect();
    let n = logs.len();
    let half = |i: usize| match n {
        1 => 0.5,
        _ => (logs[i.min(n - 2) + 1] - logs[i.min(n - 2)]) / 2.0,
    };
    let mut edges = vec![logs[0] - half(0)];
    edges.extend(logs.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    edges.push(logs[n - 1] + half(n - 1));
    edges
}

/// How the colours map: `t` in [0, 1] from a metric value (log when the
/// values are positive and span more than two decades).
struct Colours {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Colours {
    fn of(values: &[f64]) -> Colours {
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let log = min > 0.0 && max / min > 100.0;
        let scale = |v: f64| if log { v.log10() } else { v };
        Colours {
            lo: scale(min),
            hi: scale(max),
            log,
        }
    }

    fn t(&self, v: f64) -> f64 {
        let s = if self.log { v.log10() } else { v };
        if self.hi > self.lo {
            ((s - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
        } else {
            0.5
        }
    }

    fn value(&self, t: f64) -> f64 {
        let s = self.lo + t * (self.hi - self.lo);
        if self.log {
            10f64.powf(s)
        } else {
            s
        }
    }
}

fn viridis(t: f64) -> RGBColor {
    ViridisRGB::get_color_normalized(t, 0.0, 1.0)
}

impl PhaseDiagram<'_> {
    fn cell_height(&self) -> i32 {
        (260 / self.phase.values.len() as i32).clamp(28, 60)
    }

    fn plot_size(&self) -> (i32, i32) {
        let w = (self.phase.lrs.len() as i32 * 80).clamp(480, 1000);
        (w, self.cell_height() * self.phase.values.len() as i32)
    }

    fn what(&self) -> String {
        match self.criterion {
            Criterion::FinalLoss => format!("final loss after {} steps", self.steps),
            Criterion::StepsTo(tol) => {
                format!("steps to within {} of a minimum", short(tol))
            }
        }
    }
}

impl Figure for PhaseDiagram<'_> {
    fn size(&self) -> (u32, u32) {
        let (w, h) = self.plot_size();
        (
            (LEFT + w + RIGHT) as u32,
            (TOP + h + BOTTOM).max(360) as u32,
        )
    }

    fn draw<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        _fine: bool,
    ) -> Result<(), CliError> {
        let (pw, ph) = self.plot_size();
        let (w, _) = area.dim_in_pixel();
        let center = super::centered((super::FAMILY, 14).into_font());
        let font = |size: i32, h: HPos| {
            TextStyle::from((super::FAMILY, size).into_font()).pos(Pos::new(h, VPos::Center))
        };
        let key = &self.phase.param.key;
        area.draw(&Text::new(
            self.title.to_string(),
            (w as i32 / 2, 18),
            super::centered((super::FAMILY, 18).into_font()),
        ))?;
        area.draw(&Text::new(
            format!(
                "{}: {} × lr (darker = lower)",
                self.phase.optimizer,
                self.what()
            ),
            (w as i32 / 2, 44),
            center.clone(),
        ))?;
        let edges = log_edges(&self.phase.lrs);
        let (e0, e1) = (edges[0], edges[edges.len() - 1]);
        let x = |log: f64| LEFT + ((log - e0) / (e1 - e0) * pw as f64).round() as i32;
        let ch = self.cell_height();
        // Row 0 (the smallest value) at the bottom.
        let y = |row: usize| TOP + ph - ch * (row as i32 + 1);
        let values: Vec<f64> = self
            .cells
            .iter()
            .filter_map(|c| c.metric(self.criterion))
            .filter(|v| v.is_finite())
            .collect();
        let colours = Colours::of(&values);
        for cell in self.cells {
            let rect = [
                (x(edges[cell.column]) + 1, y(cell.row) + 1),
                (x(edges[cell.column + 1]) - 1, y(cell.row) + ch - 1),
            ];
            let mid = ((rect[0].0 + rect[1].0) / 2, (rect[0].1 + rect[1].1) / 2);
            let wide = rect[1].0 - rect[0].0 >= 52;
            match (cell.diverged, cell.metric(self.criterion)) {
                (Some(_), _) => {
                    area.draw(&Rectangle::new(rect, EMPTY.filled()))?;
                    for (a, b) in [
                        (rect[0], rect[1]),
                        ((rect[0].0, rect[1].1), (rect[1].0, rect[0].1)),
                    ] {
                        area.draw(&PathElement::new(vec![a, b], DIVERGED.stroke_width(2)))?;
                    }
                }
                (None, Some(v)) if v.is_finite() => {
                    let t = colours.t(v);
                    area.draw(&Rectangle::new(rect, viridis(t).filled()))?;
                    if wide {
                        let ink = if t < 0.6 { WHITE } else { BLACK };
                        area.draw(&Text::new(short(v), mid, center.clone().color(&ink)))?;
                    }
                }
                _ => {
                    area.draw(&Rectangle::new(rect, EMPTY.filled()))?;
                    if wide {
                        area.draw(&Text::new("never".to_string(), mid, center.clone()))?;
                    }
                }
            }
        }
        // Axes: the key's values on the left, the learning rates below.
        for (row, v) in self.phase.param.values.iter().enumerate() {
            let at = (LEFT - 8, y(row) + ch / 2);
            area.draw(&Text::new(v.clone(), at, font(13, HPos::Right)))?;
        }
        area.draw(&Text::new(
            key.clone(),
            (LEFT - 8, TOP - 12),
            font(14, HPos::Right),
        ))?;
        let every = self.phase.lrs.len().div_ceil(12);
        for lr in self.phase.lrs.iter().step_by(every) {
            let at = x(lr.log10());
            let base = TOP + ph;
            area.draw(&PathElement::new(vec![(at, base), (at, base + 5)], BLACK))?;
            area.draw(&Text::new(short(*lr), (at, base + 16), center.clone()))?;
        }
        area.draw(&Text::new(
            "lr (log scale)".to_string(),
            (LEFT + pw / 2, TOP + ph + 44),
            center.clone(),
        ))?;
        // The colour bar and what the grey cells mean.
        let (bx, bw) = (LEFT + pw + 30, 18);
        let bar_h = ph.max(160);
        if !values.is_empty() {
            for k in 0..bar_h {
                let t = 1.0 - k as f64 / (bar_h - 1).max(1) as f64;
                area.draw(&Rectangle::new(
                    [(bx, TOP + k), (bx + bw, TOP + k + 1)],
                    viridis(t).filled(),
                ))?;
            }
            area.draw(&Rectangle::new(
                [(bx, TOP), (bx + bw, TOP + bar_h)],
                BLACK.stroke_width(1),
            ))?;
            // One value (every coloured cell alike) gets one label, not three equal ones.
            let ticks: &[f64] = if colours.value(0.0) == colours.value(1.0) {
                &[0.5]
            } else {
                &[0.0, 0.5, 1.0]
            };
            for &t in ticks {
                let at = TOP + ((1.0 - t) * (bar_h - 1) as f64).round() as i32;
                let label = short(colours.value(t));
                area.draw(&Text::new(label, (bx + bw + 6, at), font(12, HPos::Left)))?;
            }
            let scale = if colours.log {
                "log colour scale"
            } else {
                "linear colour scale"
            };
            area.draw(&Text::new(
                scale.to_string(),
                (bx, TOP - 12),
                font(12, HPos::Left),
            ))?;
        }
        let key_y = TOP + bar_h + 20;
        let swatch = [(bx, key_y - 7), (bx + bw, key_y + 7)];
        area.draw(&Rectangle::new(swatch, EMPTY.filled()))?;
        area.draw(&PathElement::new(
            vec![swatch[0], swatch[1]],
            DIVERGED.stroke_width(2),
        ))?;
        area.draw(&Text::new(
            "diverged".to_string(),
            (bx + bw + 6, key_y),
            font(12, HPos::Left),
        ))?;
        if matches!(self.criterion, Criterion::StepsTo(_)) {
            let y2 = key_y + 22;
            area.draw(&Rectangle::new(
                [(bx, y2 - 7), (bx + bw, y2 + 7)],
                EMPTY.filled(),
            ))?;
            area.draw(&Text::new(
                format!("never, in {} steps", self.steps),
                (bx + bw + 6, y2),
                font(12, HPos::Left),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_edges_are_geometric_midpoints() {
        let edges = log_edges(&[0.001, 0.01, 0.1]);
        let expected = [-3.5, -2.5, -1.5, -0.5];
        assert_eq!(edges.len(), 4);
        for (e, x) in edges.iter().zip(expected) {
            assert!((e - x).abs() < 1e-12, "{edges:?}");
        }
        assert_eq!(log_edges(&[1.0]), vec![-0.5, 0.5]);
    }

    #[test]
    fn colours_go_log_over_two_decades() {
        let c = Colours::of(&[1e-4, 1e-2, 1.0]);
        assert!(c.log);
        assert!((c.t(1e-2) - 0.5).abs() < 1e-12);
        assert!((c.value(0.5) - 1e-2).abs() < 1e-15);
        let linear = Colours::of(&[-2.0, 0.0, 2.0]);
        assert!(!linear.log);
        assert_eq!(linear.t(0.0), 0.5);
    }
}
