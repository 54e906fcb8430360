//! The 2-D view: filled contours of the surface with the runs' paths on top.

use super::field::{band_color, grid, line_color};
use super::marks;
use super::scene::{cross_at, ends_in, pieces, point_at, Layers, Scene};
use crate::error::CliError;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Pixels reserved above the chart for the title.
const TITLE: i32 = 34;

type Chart<'b, DB> = ChartContext<'b, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Filled contours of a scene, its minima, and one path per run.
pub struct Contour<'a> {
    pub scene: &'a Scene<'a>,
    pub size: (u32, u32),
    /// Title font size in pixels.
    pub font_size: u32,
}

impl<'a> Contour<'a> {
    pub fn new(scene: &'a Scene<'a>, size: (u32, u32)) -> Contour<'a> {
        Contour {
            scene,
            size,
            font_size: 17,
        }
    }

    fn chart<'b, DB: super::Backend>(
        &self,
        area: &'b DrawingArea<DB, Shift>,
    ) -> Result<Chart<'b, DB>, CliError> {
        let d = self.scene.domain;
        Ok(ChartBuilder::on(area)
            .margin(10)
            .margin_top(TITLE)
            .x_label_area_size(34)
            .y_label_area_size(50)
            .build_cartesian_2d(d.x[0]..d.x[1], d.y[0]..d.y[1])?)
    }

    /// Fills the plotting area band by band, merging equal runs of a row into
    /// one rectangle; on bitmaps a darker pixel marks each band edge.
    fn fill<DB: super::Backend>(
        &self,
        plot: &DrawingArea<DB, Shift>,
        fine: bool,
    ) -> Result<(), CliError> {
        let (w, h) = plot.dim_in_pixel();
        let cell = if fine { 1 } else { 3 };
        let (nx, ny) = (w.div_ceil(cell) as usize, h.div_ceil(cell) as usize);
        let f = self.scene.landscape();
        let levels = &self.scene.levels;
        let bands: Vec<Option<usize>> = grid(&self.scene.domain, nx, ny)
            .map(|(x, y)| levels.band(f.value(x, y)))
            .collect();
        let at = |i: usize, j: usize| bands[j * nx + i];
        let color = |i: usize, j: usize| match at(i, j) {
            None => RGBColor(200, 200, 200),
            Some(b) => {
                let edge = (i + 1 < nx && at(i + 1, j) != Some(b))
                    || (j + 1 < ny && at(i, j + 1) != Some(b));
                if fine && edge {
                    line_color(b)
                } else {
                    band_color(b)
                }
            }
        };
        let c = cell as i32;
        for j in 0..ny {
            let mut i0 = 0;
            while i0 < nx {
                let col = color(i0, j);
                let mut i1 = i0 + 1;
                while i1 < nx && color(i1, j) == col {
                    i1 += 1;
                }
                let (x0, y0) = (i0 as i32 * c, j as i32 * c);
                let (x1, y1) = (i1 as i32 * c, (j as i32 + 1) * c);
                plot.draw(&Rectangle::new([(x0, y0), (x1, y1)], col.filled()))?;
                i0 = i1;
            }
        }
        Ok(())
    }
}

impl Layers for Contour<'_> {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn last_step(&self) -> usize {
        self.scene.last_step()
    }

    fn background<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        fine: bool,
    ) -> Result<(), CliError> {
        let (w, _) = area.dim_in_pixel();
        let title = super::centered((super::FAMILY, self.font_size).into_font());
        let text = format!(
            "{}  (contours of f, {})",
            self.scene.title,
            self.scene.levels.spacing()
        );
        area.draw(&Text::new(text, (w as i32 / 2, TITLE / 2 + 2), title))?;
        let mut chart = self.chart(area)?;
        self.fill(&chart.plotting_area().strip_coord_spec(), fine)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x")
            .y_desc("y")
            .label_style((super::FAMILY, 12))
            .axis_desc_style((super::FAMILY, 14))
            .draw()?;
        let plot = chart.plotting_area();
        for (i, run) in self.scene.runs.iter().enumerate() {
            if let Some(p) = run.path.points.first() {
                if self.scene.domain.contains(p.x, p.y) {
                    marks::start(plot, (p.x, p.y), self.scene.color(i))?;
                }
            }
        }
        Ok(())
    }

    fn legend<DB: super::Backend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), CliError> {
        let chart = self.chart(area)?;
        let plot = chart.plotting_area();
        let d = &self.scene.domain;
        let mut occupied: Vec<(i32, i32)> = Vec::new();
        for run in self.scene.runs {
            for piece in pieces(&run.path, d, 0, self.scene.last_step()) {
                let px: Vec<(i32, i32)> = piece
                    .points
                    .iter()
                    .map(|p| plot.map_coordinate(p))
                    .collect();
                occupied.extend(marks::along(&px));
            }
        }
        let minima = self.scene.surface.minima.iter().map(|m| (m[0], m[1]));
        occupied.extend(minima.map(|p| plot.map_coordinate(&p)));
        marks::legend(
            &plot.strip_coord_spec(),
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
            // Schedule-Free's evaluation point x: a thin line beside its iterate y.
            let shown = run.path.evaluation.iter().take(to + 1).skip(from);
            let evaluation: Vec<(f64, f64)> = shown
                .filter(|x| self.scene.domain.contains(x[0], x[1]))
                .map(|x| (x[0], x[1]))
                .collect();
            marks::path(plot, &evaluation, color, 1)?;
            for piece in pieces(&run.path, &self.scene.domain, from, to) {
                marks::path(plot, &piece.points, color, 2)?;
                if let Some(e) = piece.exit {
                    marks::exit(plot, e, color)?;
                }
            }
            if ends_in(&run.path, from, to) {
                if let Some((x, y)) = cross_at(&run.path, &self.scene.domain) {
                    marks::cross(plot, (x, y), color)?;
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
                    marks::head(plot, (x, y), self.scene.color(i))?;
                }
            }
        }
        for m in &self.scene.surface.minima {
            if self.scene.domain.contains(m[0], m[1]) {
                marks::minimum(plot, (m[0], m[1]))?;
            }
        }
        Ok(())
    }

    fn plot_area<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<DrawingArea<DB, Shift>, CliError> {
        Ok(self.chart(area)?.plotting_area().strip_coord_spec())
    }
}
