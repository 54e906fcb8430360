//! Output files: the format from the extension, and atomic writes.

use crate::CliError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A still image format, chosen by the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Still {
    Png,
    Svg,
}

impl Still {
    /// `.png` or `.svg` (any case); anything else is an error naming the flag.
    pub fn from_path(flag: &str, path: &Path) -> Result<Still, CliError> {
        match extension(path).as_deref() {
            Some("png") => Ok(Still::Png),
            Some("svg") => Ok(Still::Svg),
            _ => Err(CliError(format!(
                "{flag} '{}' must end in .png or .svg (the extension chooses the format)",
                path.display()
            ))),
        }
    }
}

/// Checks that an animation path ends in `.gif`.
pub fn check_gif(flag: &str, path: &Path) -> Result<(), CliError> {
    match extension(path).as_deref() {
        Some("gif") => Ok(()),
        _ => Err(CliError(format!(
            "{flag} '{}' must end in .gif",
            path.display()
        ))),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Writes a file through a temporary file in the same folder, renamed into
/// place only when `fill` succeeded: no partial file on any error.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let cannot =
        |e: &dyn std::fmt::Display| CliError(format!("cannot write '{}': {e}", path.display()));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".downhill-")
        .tempfile_in(&dir)
        .map_err(|e| cannot(&e))?;
    fill(tmp.as_file_mut())?;
    tmp.as_file_mut().flush().map_err(|e| cannot(&e))?;
    readable(tmp.as_file()).map_err(|e| cannot(&e))?;
    tmp.persist(path).map_err(|e| cannot(&e.error))?;
    Ok(())
}

/// A still figure that can be drawn on any plotters backend.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure on `area`; `fine` is true on a bitmap (draw
    /// per-pixel detail) and false on SVG (keep the element count small).
    fn draw<DB: super::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        fine: bool,
    ) -> Result<(), CliError>;
}

/// Renders `figure` into `path` as PNG or SVG.
pub fn write_figure(path: &Path, kind: Still, figure: &impl Figure) -> Result<(), CliError> {
    super::register_font();
    let (w, h) = figure.size();
    match kind {
        Still::Png => {
            let mut rgb = vec![0u8; (w * h * 3) as usize];
            {
                let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                area.fill(&WHITE)?;
                figure.draw(&area, true)?;
                area.present()?;
            }
            write_atomic(path, |file| {
                let encoder = image::codecs::png::PngEncoder::new(std::io::BufWriter::new(file));
                image::ImageEncoder::write_image(
                    encoder,
                    &rgb,
                    w,
                    h,
                    image::ExtendedColorType::Rgb8,
                )
                .map_err(|e| CliError(format!("cannot write '{}': {e}", path.display())))
            })
        }
        Still::Svg => {
            let mut svg = String::new();
            {
                let area = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                area.fill(&WHITE)?;
                figure.draw(&area, false)?;
                area.present()?;
            }
            write_atomic(path, |file| {
                file.write_all(svg.as_bytes())
                    .map_err(|e| CliError(format!("cannot write '{}': {e}", path.display())))
            })
        }
    }
}

/// Temporary files are created private (0600); a figure is an ordinary file.
#[cfg(unix)]
fn readable(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn readable(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}
