//! What a trajectory figure shows: a surface over a domain and the runs on it.

use super::field::Levels;
use crate::error::CliError;
use downhill::lab::{Run, Trajectory};
use downhill::surface::{Domain, Landscape, Resolved};
use plotters::coord::Shift;
use plotters::prelude::DrawingArea;
use plotters::style::RGBColor;

/// A surface, the domain to draw and the runs on it.
pub struct Scene<'a> {
    pub surface: &'a Resolved,
    pub domain: Domain,
    pub title: String,
    pub runs: &'a [Run],
    pub levels: Levels,
    /// One colour per run (the palette in order unless [`Scene::with_colors`] set them).
    pub colors: Vec<RGBColor>,
}

impl<'a> Scene<'a> {
    /// A scene over the surface's own domain.
    pub fn new(surface: &'a Resolved, runs: &'a [Run], title: String) -> Scene<'a> {
        Scene::with_domain(surface, surface.domain, runs, title)
    }

    pub fn with_domain(
        surface: &'a Resolved,
        domain: Domain,
        runs: &'a [Run],
        title: String,
    ) -> Scene<'a> {
        let levels = Levels::of(surface.landscape.as_ref(), &domain, 120);
        Scene {
            surface,
            domain,
            title,
            runs,
            levels,
            colors: (0..runs.len()).map(super::color).collect(),
        }
    }

    /// The same scene with these run colours (e.g. one per method, kept
    /// across several figures).
    pub fn with_colors(self, colors: Vec<RGBColor>) -> Scene<'a> {
        Scene { colors, ..self }
    }

    /// The colour of the i-th run.
    pub fn color(&self, i: usize) -> RGBColor {
        self.colors
            .get(i)
            .copied()
            .unwrap_or_else(|| super::color(i))
    }

    /// The legend: each run's text and colour.
    pub fn legend_entries(&self) -> Vec<(String, RGBColor)> {
        let runs = self.runs.iter().enumerate();
        runs.map(|(i, r)| (self.legend(r), self.color(i))).collect()
    }

    pub fn landscape(&self) -> &dyn Landscape {
        self.surface.landscape.as_ref()
    }

    /// The largest step any run reached.
    pub fn last_step(&self) -> usize {
        self.runs
            .iter()
            .filter_map(|r| r.path.points.last())
            .map(|p| p.step)
            .max()
            .unwrap_or(0)
    }

    /// The legend text of a run: its spec and how it ended.
    pub fn legend(&self, run: &Run) -> String {
        let left = first_exit(&run.path, &self.domain);
        match (&run.path.diverged, left) {
            (Some(d), _) => format!("{} — diverged at step {}", run.spec, d.step),
            (None, Some(step)) => format!("{} — left the plot at step {step}", run.spec),
            (None, None) => run.spec.clone(),
        }
    }
}

/// The first step whose point lies outside the domain.
pub fn first_exit(path: &Trajectory, domain: &Domain) -> Option<usize> {
    path.points
        .iter()
        .find(|p| !domain.contains(p.x, p.y))
        .map(|p| p.step)
}

/// A piece of a path inside the domain between steps `from` and `to`:
/// the visible polyline and whether it ends by leaving the domain.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    pub points: Vec<(f64, f64)>,
    /// The point where the path crosses the domain's edge going out.
    pub exit: Option<(f64, f64)>,
}

/// The visible pieces of the segments between steps `from` and `to`
/// (inclusive), clipped to the domain (Liang–Barsky).
pub fn pieces(path: &Trajectory, domain: &Domain, from: usize, to: usize) -> Vec<Piece> {
    let pts: Vec<(f64, f64)> = path
        .points
        .iter()
        .filter(|p| p.step >= from && p.step <= to)
        .map(|p| (p.x, p.y))
        .collect();
    let mut out: Vec<Piece> = Vec::new();
    let mut open = false;
    if pts.len() == 1 && domain.contains(pts[0].0, pts[0].1) {
        out.push(Piece {
            points: vec![pts[0]],
            exit: None,
        });
    }
    for w in pts.windows(2) {
        match clip(w[0], w[1], domain) {
            Some((a, b, entered, exited)) => {
                if !open || entered {
                    out.push(Piece {
                        points: vec![a],
                        exit: None,
                    });
                }
                let piece = out.last_mut().expect("a piece was just pushed");
                piece.points.push(b);
                if exited {
                    piece.exit = Some(b);
                    open = false;
                } else {
                    open = true;
                }
            }
            None => open = false,
        }
    }
    out
}

type Xy = (f64, f64);

/// Clips segment p→q to the domain: the visible part, whether p was outside
/// and whether q is outside.
fn clip(p: Xy, q: Xy, d: &Domain) -> Option<(Xy, Xy, bool, bool)> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (den, num) in [
        (-dx, p.0 - d.x[0]),
        (dx, d.x[1] - p.0),
        (-dy, p.1 - d.y[0]),
        (dy, d.y[1] - p.1),
    ] {
        if den == 0.0 {
            if num < 0.0 {
                return None;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 || !t0.is_finite() || !t1.is_finite() {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            p
        } else if t == 1.0 {
            q
        } else {
            // Far-away points lose precision here: clamp onto the domain so
            // that a diverged path never maps outside the pixel range.
            (
                (p.0 + t * dx).clamp(d.x[0], d.x[1]),
                (p.1 + t * dy).clamp(d.y[0], d.y[1]),
            )
        }
    };
    Some((at(t0), at(t1), t0 > 0.0, t1 < 1.0))
}

/// A trajectory figure drawn in layers, so that an animation can draw the
/// background once and add each frame's new segments.
pub trait Layers {
    fn size(&self) -> (u32, u32);
    /// The scene's last step.
    fn last_step(&self) -> usize;
    /// Title, axes, the surface, known minima and start markers.
    fn background<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        fine: bool,
    ) -> Result<(), CliError>;
    /// The legend (one line per run: its spec and how it ended).
    fn legend<DB: super::Backend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), CliError>;
    /// Path segments between steps `from` and `to`, with exits from the
    /// domain and divergence (✕ at the last finite point) that fall in them.
    fn paths<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        from: usize,
        to: usize,
    ) -> Result<(), CliError>;
    /// Each run's position at step `at` (its last point if it stopped earlier).
    fn heads<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        at: usize,
    ) -> Result<(), CliError>;
    /// The area where the surface is drawn (for the step counter).
    fn plot_area<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<DrawingArea<DB, Shift>, CliError>;
}

/// A still figure: every layer, with end markers.
pub struct StillOf<'a, L: Layers>(pub &'a L);

impl<L: Layers> super::file::Figure for StillOf<'_, L> {
    fn size(&self) -> (u32, u32) {
        self.0.size()
    }
    fn draw<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        fine: bool,
    ) -> Result<(), CliError> {
        self.0.background(area, fine)?;
        self.0.paths(area, 0, self.0.last_step())?;
        self.0.heads(area, self.0.last_step())?;
        self.0.legend(area)
    }
}

/// The point of a run at step `at`, or its last point.
pub fn point_at(path: &Trajectory, at: usize) -> Option<(f64, f64)> {
    let i = path.points.partition_point(|p| p.step <= at);
    path.points.get(i.checked_sub(1)?).map(|p| (p.x, p.y))
}

/// Where a diverged run's ✕ goes: its last finite point, or where it last
/// left the domain if that point is outside (`None` if it never was inside).
pub fn cross_at(path: &Trajectory, domain: &Domain) -> Option<(f64, f64)> {
    let last = path.points.last()?;
    if domain.contains(last.x, last.y) {
        return Some((last.x, last.y));
    }
    pieces(path, domain, 0, last.step)
        .last()
        .and_then(|p| p.exit)
}

/// Whether the run's divergence ✕ belongs to the window `from..=to`.
pub fn ends_in(path: &Trajectory, from: usize, to: usize) -> bool {
    match path.points.last() {
        Some(last) => path.diverged.is_some() && last.step <= to && (last.step > from || from == 0),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use downhill::lab::Point;

    fn path(xy: &[(f64, f64)]) -> Trajectory {
        let points = xy
            .iter()
            .enumerate()
            .map(|(step, &(x, y))| Point {
                step,
                x,
                y,
                loss: 0.0,
            })
            .collect();
        Trajectory {
            points,
            diverged: None,
            evaluation: Vec::new(),
        }
    }

    const D: Domain = Domain {
        x: [-1.0, 1.0],
        y: [-1.0, 1.0],
    };

    #[test]
    fn a_path_inside_is_one_piece() {
        let p = path(&[(0.0, 0.0), (0.5, 0.5), (0.5, -0.5)]);
        assert_eq!(
            pieces(&p, &D, 0, 2),
            vec![Piece {
                points: vec![(0.0, 0.0), (0.5, 0.5), (0.5, -0.5)],
                exit: None
            }]
        );
    }

    #[test]
    fn a_path_that_leaves_and_returns_is_clipped_and_marked() {
        let p = path(&[(0.0, 0.0), (2.0, 0.0), (0.0, 0.5)]);
        let got = pieces(&p, &D, 0, 2);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            Piece {
                points: vec![(0.0, 0.0), (1.0, 0.0)],
                exit: Some((1.0, 0.0))
            }
        );
        assert_eq!(got[1].points[0], (1.0, 0.25));
        assert_eq!(got[1].points[1], (0.0, 0.5));
        assert_eq!(first_exit(&p, &D), Some(1));
    }

    #[test]
    fn a_far_diverged_segment_is_clipped_onto_the_domain() {
        // gd:lr=10 on the sphere: x alternates sign and grows ×19 per step
        let p = path(&[(2.4e61, 2.4e61), (-4.56e62, -4.56e62)]);
        for piece in pieces(&p, &D, 0, 1) {
            for (x, y) in piece.points {
                assert!(D.contains(x, y), "({x}, {y})");
            }
        }
    }

    #[test]
    fn steps_outside_the_window_are_left_out() {
        let p = path(&[(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (0.3, 0.0)]);
        assert_eq!(pieces(&p, &D, 1, 2)[0].points, vec![(0.1, 0.0), (0.2, 0.0)]);
    }
}
