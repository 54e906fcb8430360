//! Line panels against the step: loss, x(t), y(t) and the distance to the
//! nearest known minimum (log-scaled where every value is positive).

use super::file::Figure;
use super::marks;
use super::scene::Scene;
use crate::error::CliError;
use downhill::lab::Point;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line of a panel.
pub struct Line {
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// The run diverged after its last point: an ✕ marks it.
    pub diverged: bool,
}

/// How a panel's values are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear,
    /// log10 (values that are not positive are left out), ticks as powers.
    Log,
    /// sign(v)·log10(1 + |v|): linear near 0, logarithmic far out, so one
    /// runaway run (10¹⁰⁵) leaves the bounded ones readable.
    Symlog,
}

/// Beyond this magnitude a panel switches from linear to symlog.
const RUNAWAY: f64 = 1e4;

impl Scale {
    /// Linear, or symlog when some value runs away beyond [`RUNAWAY`].
    pub fn fit(lines: &[Line]) -> Scale {
        let far = lines
            .iter()
            .flat_map(|l| &l.points)
            .any(|p| p.1.abs() > RUNAWAY);
        if far {
            Scale::Symlog
        } else {
            Scale::Linear
        }
    }

    /// The title's note, e.g. ` (symlog)`.
    pub fn note(self) -> &'static str {
        match self {
            Scale::Linear => "",
            Scale::Log => " (log scale)",
            Scale::Symlog => " (symlog scale)",
        }
    }

    fn map(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log => v.log10(),
            Scale::Symlog => v.signum() * v.abs().ln_1p() / std::f64::consts::LN_10,
        }
    }

    fn unmap(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log => 10f64.powf(v),
            Scale::Symlog => v.signum() * (v.abs() * std::f64::consts::LN_10).exp_m1(),
        }
    }
}

/// A titled panel of lines drawn in `scale`; a diverged line ends in an ✕.
pub fn panel<DB: super::Backend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    lines: &[Line],
    scale: Scale,
) -> Result<(), CliError> {
    let map = |y: f64| scale.map(y);
    let shown: Vec<Vec<(f64, f64)>> = lines
        .iter()
        .map(|l| {
            l.points
                .iter()
                .map(|&(x, y)| (x, map(y)))
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect()
        })
        .collect();
    let all = shown.iter().flatten();
    let x_max = all.clone().map(|p| p.0).fold(1.0f64, f64::max);
    let (mut lo, mut hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    if !(lo.is_finite() && hi.is_finite()) {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo <= hi.abs().max(1.0) * 1e-12 {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .caption(title, (super::FAMILY, 15))
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, (lo - pad)..(hi + pad))?;
    let span = hi - lo;
    let y_fmt = |v: &f64| match (scale, v.abs() < span * 1e-9) {
        (Scale::Log, _) => format!("{:.0e}", scale.unmap(*v)),
        (_, true) => "0".to_string(),
        (Scale::Symlog, false) => tick(round_to_3(scale.unmap(*v))),
        (Scale::Linear, false) => tick(*v),
    };
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.05))
        .x_desc(x_desc)
        .label_style((super::FAMILY, 11))
        .axis_desc_style((super::FAMILY, 12))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&y_fmt)
        .draw()?;
    for (line, pts) in lines.iter().zip(shown) {
        let end = pts.last().copied().filter(|_| line.diverged);
        chart.draw_series(std::iter::once(PathElement::new(
            pts,
            line.color.stroke_width(2),
        )))?;
        if let Some(end) = end {
            marks::cross(chart.plotting_area(), end, line.color)?;
        }
    }
    Ok(())
}

/// `v` to 3 significant digits (symlog ticks fall between round numbers).
fn round_to_3(v: f64) -> f64 {
    format!("{v:.2e}").parse().unwrap_or(v)
}

/// A tick label: plain for ordinary magnitudes, scientific otherwise.
fn tick(v: f64) -> String {
    if v == 0.0 || (1e-3..1e5).contains(&v.abs()) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.1e}")
    }
}

/// The curves figure of a scene: four panels and a legend.
pub struct Curves<'a> {
    scene: &'a Scene<'a>,
    size: (u32, u32),
}

impl<'a> Curves<'a> {
    pub fn new(scene: &'a Scene<'a>, size: (u32, u32)) -> Curves<'a> {
        Curves { scene, size }
    }

    fn lines(&self, y: impl Fn(&Point) -> Option<f64>) -> Vec<Line> {
        self.scene
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| Line {
                color: self.scene.color(i),
                diverged: r.path.diverged.is_some(),
                points: r
                    .path
                    .points
                    .iter()
                    .filter_map(|p| y(p).map(|v| (p.step as f64, v)))
                    .collect(),
            })
            .collect()
    }
}

/// The distance from (x, y) to the nearest of `minima`.
pub fn nearest(minima: &[[f64; 2]], x: f64, y: f64) -> Option<f64> {
    minima
        .iter()
        .map(|m| (x - m[0]).hypot(y - m[1]))
        .min_by(f64::total_cmp)
}

impl Figure for Curves<'_> {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        _fine: bool,
    ) -> Result<(), CliError> {
        let body = area.titled(&self.scene.title, (super::FAMILY, 18))?;
        let body = marks::legend_row(&body, &self.scene.legend_entries())?;
        let panels = body.split_evenly((2, 2));
        let losses: Vec<f64> = self
            .scene
            .runs
            .iter()
            .flat_map(|r| r.path.points.iter().map(|p| p.loss))
            .collect();
        let positive = !losses.is_empty() && losses.iter().all(|&l| l > 0.0);
        let loss = self.lines(|p| Some(p.loss));
        let loss_scale = if positive {
            Scale::Log
        } else {
            Scale::fit(&loss)
        };
        panel(
            &panels[0],
            &format!("f(x, y){}", loss_scale.note()),
            "step",
            &loss,
            loss_scale,
        )?;
        for (area, name, lines) in [
            (&panels[1], "x(t)", self.lines(|p| Some(p.x))),
            (&panels[2], "y(t)", self.lines(|p| Some(p.y))),
        ] {
            let scale = Scale::fit(&lines);
            panel(
                area,
                &format!("{name}{}", scale.note()),
                "step",
                &lines,
                scale,
            )?;
        }
        let minima = &self.scene.surface.minima;
        if minima.is_empty() {
            panel(
                &panels[3],
                "distance to the nearest minimum: none known",
                "step",
                &[],
                Scale::Linear,
            )?;
        } else {
            let lines = self.lines(|p| nearest(minima, p.x, p.y));
            panel(
                &panels[3],
                "distance to the nearest known minimum (log scale)",
                "step",
                &lines,
                Scale::Log,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlog_is_odd_invertible_and_chosen_for_runaways() {
        for v in [0.0, 1e-3, 0.5, 9.0, -9.0, 1e105, -1e210] {
            let back = Scale::Symlog.unmap(Scale::Symlog.map(v));
            assert!((back - v).abs() <= v.abs() * 1e-12, "{v} -> {back}");
        }
        assert_eq!(Scale::Symlog.map(9.0), 1.0);
        assert_eq!(Scale::Symlog.map(-99.0), -2.0);
        let line = |top: f64| Line {
            color: BLACK,
            points: vec![(0.0, 0.5), (1.0, top)],
            diverged: false,
        };
        assert_eq!(Scale::fit(&[line(2.0)]), Scale::Linear);
        assert_eq!(Scale::fit(&[line(2.0), line(-1e105)]), Scale::Symlog);
        assert_eq!(round_to_3(123456.0), 123000.0);
    }
}
