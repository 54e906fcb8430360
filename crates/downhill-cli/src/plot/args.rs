//! The figure flags shared by `downhill run` (and reused by `demo`).

use super::anim::write_gif;
use super::contour::Contour;
use super::curves::Curves;
use super::file::{check_gif, check_output, write_figure, Still};
use super::scene::{Scene, StillOf};
use super::surface3d::Surface3d;
use crate::error::CliError;
use crate::progress;
use clap::{Args, ValueEnum};
use downhill::lab::Run;
use downhill::surface::Resolved;
use std::path::{Path, PathBuf};

/// 2-D contours or a 3-D surface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum View {
    #[value(name = "2d")]
    TwoD,
    #[value(name = "3d")]
    ThreeD,
}

/// Size of a trajectory figure in pixels.
pub const FIGURE: (u32, u32) = (900, 720);
/// Size of an animation frame in pixels.
pub const FRAME: (u32, u32) = (720, 580);
/// Size of a curves figure in pixels.
pub const CURVES: (u32, u32) = (1100, 820);

#[derive(Args)]
pub struct FigureArgs {
    /// Draw the paths on the surface into FILE (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Animate the paths step by step into FILE (.gif).
    #[arg(long, value_name = "FILE")]
    pub animate: Option<PathBuf>,
    /// The view of --plot and --animate: 2d contours (the default) or a 3d surface.
    #[arg(long, value_enum)]
    pub view: Option<View>,
    /// Draw loss, x(t), y(t) and the distance to the nearest minimum against the step into FILE (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub curves: Option<PathBuf>,
}

impl FigureArgs {
    /// Whether any figure is requested.
    pub fn any(&self) -> bool {
        self.plot.is_some() || self.animate.is_some() || self.curves.is_some()
    }

    /// Checks the file extensions before anything is computed.
    pub fn validate(&self) -> Result<(), CliError> {
        if let (Some(view), None, None) = (self.view, &self.plot, &self.animate) {
            let name = view
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string());
            return Err(CliError::new(format!(
                "--view {name} applies to the figures of --plot and --animate; give one of them"
            )));
        }
        if let Some(p) = &self.plot {
            Still::from_path("--plot", p)?;
        }
        if let Some(p) = &self.curves {
            Still::from_path("--curves", p)?;
        }
        if let Some(p) = &self.animate {
            check_gif("--animate", p)?;
        }
        for (flag, path) in [
            ("--plot", &self.plot),
            ("--curves", &self.curves),
            ("--animate", &self.animate),
        ] {
            if let Some(path) = path {
                check_output(flag, path)?;
            }
        }
        Ok(())
    }

    /// Writes every requested figure of `runs` on `surface`.
    pub fn render(&self, surface: &Resolved, runs: &[Run], steps: usize) -> Result<(), CliError> {
        let title = format!("{} — {} steps", surface.label, steps);
        let scene = Scene::new(surface, runs, title);
        if let Some(p) = &self.plot {
            plot(p, &scene, self.view.unwrap_or(View::TwoD))?;
        }
        if let Some(p) = &self.animate {
            animate(p, &scene, self.view.unwrap_or(View::TwoD))?;
        }
        if let Some(p) = &self.curves {
            write_figure(
                p,
                Still::from_path("--curves", p)?,
                &Curves::new(&scene, CURVES),
            )?;
        }
        Ok(())
    }
}

/// Writes a still trajectory figure in the given view.
pub fn plot(path: &Path, scene: &Scene, view: View) -> Result<(), CliError> {
    let kind = Still::from_path("--plot", path)?;
    match view {
        View::TwoD => write_figure(path, kind, &StillOf(&Contour::new(scene, FIGURE))),
        View::ThreeD => write_figure(path, kind, &StillOf(&Surface3d::new(scene, FIGURE))),
    }
}

/// Writes an animation in the given view, with a progress bar on stderr.
pub fn animate(path: &Path, scene: &Scene, view: View) -> Result<(), CliError> {
    let bar = progress::bar("frames");
    let done = match view {
        View::TwoD => write_gif(path, &Contour::new(scene, FRAME), &bar),
        View::ThreeD => write_gif(path, &Surface3d::new(scene, FRAME), &bar),
    };
    bar.finish_and_clear();
    done
}
