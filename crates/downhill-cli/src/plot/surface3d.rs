//! The 3-D view: the surface as a shaded mesh (painter's order) with the runs'
//! paths lifted onto it. Heights use the same scale as the contour bands.

use super::field::{band_color, line_color, short, Scale, BANDS};
use super::marks;
use super::scene::{cross_at, ends_in, pieces, point_at, Layers, Scene};
use crate::error::CliError;
use plotters::coord::ranged3d::Cartesian3d;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

const TITLE: i32 = 34;
/// Mesh cells per side.
const MESH: usize = 36;
/// Segments longer than 1/SUBDIVIDE of the domain's diagonal are split so
/// that they follow the surface.
const SUBDIVIDE: f64 = 80.0;

/// A point of the box: (x, height, y).
type P3 = (f64, f64, f64);

/// A mesh cell's corners.
type Quad = [P3; 4];

/// An axis: its name, the box edge that carries its tick labels and how far
/// outside that edge the name goes, in pixels.
type Axis = (&'static str, [P3; 2], f64);

type Chart<'b, DB> =
    ChartContext<'b, DB, Cartesian3d<RangedCoordf64, RangedCoordf64, RangedCoordf64>>;

/// A height tick: f to two significant digits (log-spaced heights give
/// uneven values such as 0.4217).
fn two_digits(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return short(f);
    }
    let digits = (1 - f.abs().log10().floor() as i32).max(0) as usize;
    if digits > 6 || f.abs() >= 1e5 {
        format!("{f:.1e}")
    } else {
        format!("{f:.digits$}")
    }
}

/// A scene drawn as a 3-D surface.
pub struct Surface3d<'a> {
    pub scene: &'a Scene<'a>,
    pub size: (u32, u32),
}

impl<'a> Surface3d<'a> {
    pub fn new(scene: &'a Scene<'a>, size: (u32, u32)) -> Surface3d<'a> {
        Surface3d { scene, size }
    }

    fn chart<'b, DB: super::Backend>(
        &self,
        area: &'b DrawingArea<DB, Shift>,
    ) -> Result<Chart<'b, DB>, CliError> {
        let d = self.scene.domain;
        let l = &self.scene.levels;
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .margin_top(TITLE)
            .build_cartesian_3d(d.x[0]..d.x[1], l.lo..l.hi, d.y[0]..d.y[1])?;
        chart.with_projection(|mut p| {
            p.yaw = 0.65;
            p.pitch = 0.42;
            p.scale = 0.82;
            p.into_matrix()
        });
        Ok(chart)
    }

    /// The three axes.
    fn axes(&self) -> [Axis; 3] {
        let (d, l) = (self.scene.domain, &self.scene.levels);
        [
            ("x", [(d.x[0], l.lo, d.y[1]), (d.x[1], l.lo, d.y[1])], 40.0),
            ("y", [(d.x[1], l.lo, d.y[0]), (d.x[1], l.lo, d.y[1])], 40.0),
            (
                "f(x, y)",
                [(d.x[0], l.lo, d.y[1]), (d.x[0], l.hi, d.y[1])],
                70.0,
            ),
        ]
    }

    /// The pixel `at` (x, height, y) and the unit vector pointing away from
    /// the box's centre there.
    fn outward<DB: super::Backend>(
        &self,
        chart: &Chart<'_, DB>,
        at: (f64, f64, f64),
    ) -> ((i32, i32), (f64, f64)) {
        let (d, l) = (self.scene.domain, &self.scene.levels);
        let mid = |r: [f64; 2]| (r[0] + r[1]) / 2.0;
        let plot = chart.plotting_area();
        let c = plot.map_coordinate(&(mid(d.x), mid([l.lo, l.hi]), mid(d.y)));
        let p = plot.map_coordinate(&at);
        let (dx, dy) = ((p.0 - c.0) as f64, (p.1 - c.1) as f64);
        let len = dx.hypot(dy).max(1.0);
        (p, (dx / len, dy / len))
    }

    /// "x", "y" and "f(x, y)" beside the middle of the edges that carry their
    /// tick labels, pushed away from the box's centre.
    fn axis_names<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        chart: &Chart<'_, DB>,
    ) -> Result<(), CliError> {
        let (bx, by) = area.get_base_pixel();
        let font = super::centered((super::FAMILY, 15).into_font());
        for (name, [a, b], push) in self.axes() {
            let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0, (a.2 + b.2) / 2.0);
            let ((x, y), (ux, uy)) = self.outward(chart, mid);
            let at = (x - bx + (push * ux) as i32, y - by + (push * uy) as i32);
            area.draw(&Text::new(name, at, font.clone()))?;
        }
        Ok(())
    }

    /// The pixels of the tick labels and axis names, for the legend to avoid.
    fn axis_pixels<DB: super::Backend>(&self, chart: &Chart<'_, DB>) -> Vec<(i32, i32)> {
        let mut out = Vec::new();
        for (_, [a, b], push) in self.axes() {
            for k in 0..=24 {
                let t = k as f64 / 24.0;
                let at = (
                    a.0 + t * (b.0 - a.0),
                    a.1 + t * (b.1 - a.1),
                    a.2 + t * (b.2 - a.2),
                );
                let ((x, y), (ux, uy)) = self.outward(chart, at);
                // from the edge out past the name, every 8 px
                let far = (push + 20.0) / 8.0;
                let along = (0..=far as usize).map(|s| 8.0 * s as f64);
                out.extend(along.map(|r| (x + (r * ux) as i32, y + (r * uy) as i32)));
            }
        }
        out
    }

    /// The point on the surface above (x, y).
    fn lift(&self, x: f64, y: f64) -> (f64, f64, f64) {
        (
            x,
            self.scene
                .levels
                .clamped(self.scene.landscape().value(x, y)),
            y,
        )
    }

    /// A 2-D polyline lifted onto the surface, long segments subdivided.
    fn lifted(&self, points: &[(f64, f64)]) -> Vec<(f64, f64, f64)> {
        let d = self.scene.domain;
        let diag = (d.x[1] - d.x[0]).hypot(d.y[1] - d.y[0]);
        let mut out = Vec::with_capacity(points.len());
        for (k, &(x, y)) in points.iter().enumerate() {
            if let Some(&(px, py)) = k.checked_sub(1).map(|j| &points[j]) {
                let n = (((x - px).hypot(y - py) / diag * SUBDIVIDE).ceil() as usize).clamp(1, 40);
                for s in 1..n {
                    let t = s as f64 / n as f64;
                    out.push(self.lift(px + t * (x - px), py + t * (y - py)));
                }
            }
            out.push(self.lift(x, y));
        }
        out
    }
}

impl Layers for Surface3d<'_> {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn last_step(&self) -> usize {
        self.scene.last_step()
    }

    fn background<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        _fine: bool,
    ) -> Result<(), CliError> {
        let (w, _) = area.dim_in_pixel();
        let title = super::centered((super::FAMILY, 17).into_font());
        let text = format!(
            "{}  (height: f, {})",
            self.scene.title,
            self.scene.levels.spacing()
        );
        area.draw(&Text::new(text, (w as i32 / 2, TITLE / 2 + 2), title))?;
        let mut chart = self.chart(area)?;
        let d = self.scene.domain;
        // the x and y axes meet at (x max, y max): y leaves its last label to x
        let y_label = |y: &f64| {
            let near_end = (d.y[1] - y).abs() < 0.04 * (d.y[1] - d.y[0]);
            if near_end {
                String::new()
            } else {
                short(*y)
            }
        };
        let x_label = |x: &f64| short(*x);
        let levels = &self.scene.levels;
        let height_label = |h: &f64| match levels.scale {
            Scale::Linear => short(*h),
            Scale::Log { .. } => two_digits(levels.unscaled(*h)),
        };
        chart
            .configure_axes()
            .label_style((super::FAMILY, 11))
            .light_grid_style(BLACK.mix(0.08))
            .max_light_lines(3)
            .x_formatter(&x_label)
            .y_formatter(&height_label)
            .z_formatter(&y_label)
            .draw()?;
        self.axis_names(area, &chart)?;
        let l = &self.scene.levels;
        let xs: Vec<f64> = (0..=MESH)
            .map(|i| d.x[0] + i as f64 / MESH as f64 * (d.x[1] - d.x[0]))
            .collect();
        let ys: Vec<f64> = (0..=MESH)
            .map(|j| d.y[0] + j as f64 / MESH as f64 * (d.y[1] - d.y[0]))
            .collect();
        let h: Vec<f64> = ys
            .iter()
            .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
            .map(|(x, y)| self.lift(x, y).1)
            .collect();
        let at = |i: usize, j: usize| (xs[i], h[j * (MESH + 1) + i], ys[j]);
        let coord = chart.as_coord_spec();
        let mut quads: Vec<(i32, Quad)> = Vec::with_capacity(MESH * MESH);
        for j in 0..MESH {
            for i in 0..MESH {
                let q = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
                let c = q.iter().fold((0.0, 0.0, 0.0), |a, p| {
                    (a.0 + p.0 / 4.0, a.1 + p.1 / 4.0, a.2 + p.2 / 4.0)
                });
                quads.push((coord.projected_depth(&c.0, &c.1, &c.2), q));
            }
        }
        quads.sort_by_key(|(depth, _)| std::cmp::Reverse(*depth));
        let plot = chart.plotting_area();
        for (_, q) in &quads {
            let mean = q.iter().map(|p| p.1).sum::<f64>() / 4.0;
            let t = ((mean - l.lo) / (l.hi - l.lo)).clamp(0.0, 1.0);
            let band = ((t * BANDS as f64) as usize).min(BANDS - 1);
            plot.draw(&Polygon::new(q.to_vec(), band_color(band).filled()))?;
            let mut outline = q.to_vec();
            outline.push(q[0]);
            plot.draw(&PathElement::new(outline, line_color(band).stroke_width(1)))?;
        }
        for (i, run) in self.scene.runs.iter().enumerate() {
            if let Some(p) = run.path.points.first() {
                if d.contains(p.x, p.y) {
                    marks::start(plot, self.lift(p.x, p.y), self.scene.color(i))?;
                }
            }
        }
        Ok(())
    }

    fn legend<DB: super::Backend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), CliError> {
        let chart = self.chart(area)?;
        let plot = chart.plotting_area();
        let d = self.scene.domain;
        // the surface, sampled densely enough that no legend fits between samples
        let n = 60;
        let mut occupied: Vec<(i32, i32)> = (0..=n)
            .flat_map(|i| (0..=n).map(move |j| (i, j)))
            .map(|(i, j)| {
                let x = d.x[0] + i as f64 / n as f64 * (d.x[1] - d.x[0]);
                let y = d.y[0] + j as f64 / n as f64 * (d.y[1] - d.y[0]);
                plot.map_coordinate(&self.lift(x, y))
            })
            .collect();
        for run in self.scene.runs {
            for piece in pieces(&run.path, &d, 0, self.scene.last_step()) {
                let px: Vec<(i32, i32)> = self
                    .lifted(&piece.points)
                    .iter()
                    .map(|p| plot.map_coordinate(p))
                    .collect();
                occupied.extend(marks::along(&px));
            }
        }
        occupied.extend(self.axis_pixels(&chart));
        marks::legend(
            &area.margin(TITLE, 0, 0, 0),
            &self.scene.legend_entries(),
            &occupied,
        )
    }

    fn paths<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        from: usize,
        to: usize,
    ) -> Result<(), CliError> {
        let chart = self.chart(area)?;
        let plot = chart.plotting_area();
        for (i, run) in self.scene.runs.iter().enumerate() {
            let color = self.scene.color(i);
            for piece in pieces(&run.path, &self.scene.domain, from, to) {
                marks::path(plot, &self.lifted(&piece.points), color, 2)?;
                if let Some((x, y)) = piece.exit {
                    marks::exit(plot, self.lift(x, y), color)?;
                }
            }
            if ends_in(&run.path, from, to) {
                if let Some((x, y)) = cross_at(&run.path, &self.scene.domain) {
                    marks::cross(plot, self.lift(x, y), color)?;
                }
            }
        }
        Ok(())
    }

    fn heads<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        at: usize,
    ) -> Result<(), CliError> {
        let chart = self.chart(area)?;
        let plot = chart.plotting_area();
        for (i, run) in self.scene.runs.iter().enumerate() {
            if let Some((x, y)) = point_at(&run.path, at) {
                if self.scene.domain.contains(x, y) && !ends_in(&run.path, 0, at) {
                    marks::head(plot, self.lift(x, y), self.scene.color(i))?;
                }
            }
        }
        for m in &self.scene.surface.minima {
            if self.scene.domain.contains(m[0], m[1]) {
                marks::minimum(plot, self.lift(m[0], m[1]))?;
            }
        }
        Ok(())
    }

    fn plot_area<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<DrawingArea<DB, Shift>, CliError> {
        Ok(area.margin(TITLE, 0, 0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::two_digits;

    #[test]
    fn height_ticks_keep_two_significant_digits() {
        let got: Vec<String> = [7.259, 0.4217, -2.641, -0.0123, 1234.5, 0.0]
            .iter()
            .map(|&f| two_digits(f))
            .collect();
        assert_eq!(got, ["7.3", "0.42", "-2.6", "-0.012", "1234", "0"]);
    }
}
