//! Output files: the format from the extension, checks before any work, and
//! atomic writes through [`downhill::file::AtomicFile`].

use crate::error::CliError;
use downhill::file::AtomicFile;
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
            _ => Err(CliError::new(format!(
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
        _ => Err(CliError::new(format!(
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

/// The folder a file is written into (`.` for a bare name).
fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// An I/O error's text without the temporary file's path that tempfile adds.
fn reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.split_once(" at path ") {
        Some((head, _)) => head.to_string(),
        None => text,
    }
}

/// Checks, before any work, that `path` can be written: `-` (standard
/// output); a FIFO, device or other non-regular file (written in place); or a
/// path — through symbolic links — whose folder exists and takes a new file
/// and which is not a folder. Creates nothing.
pub fn check_output(flag: &str, path: &Path) -> Result<(), CliError> {
    let refuse = |why: String| {
        Err(CliError::new(format!(
            "cannot write {flag} '{}': {why}",
            path.display()
        )))
    };
    if path == Path::new("-") {
        return Ok(());
    }
    if path.as_os_str().is_empty() || path.file_name().is_none() {
        return refuse("not a file name".into());
    }
    let path = &match downhill::file::follow_links(path) {
        Ok(target) => target,
        Err(e) => return refuse(e.to_string()),
    };
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return Ok(());
    }
    let dir = folder(path);
    if !dir.is_dir() {
        return refuse(format!("the folder '{}' does not exist", dir.display()));
    }
    if path.is_dir() {
        return refuse("is a folder".into());
    }
    match tempfile::Builder::new()
        .prefix(".downhill-")
        .tempfile_in(&dir)
    {
        Ok(_) => Ok(()),
        Err(e) => refuse(format!(
            "cannot write in '{}': {}",
            dir.display(),
            reason(&e)
        )),
    }
}

/// Writes a file atomically: `fill` writes (buffered) into the temporary file
/// of an [`AtomicFile`], which is put in place only when `fill` and the final
/// flush (its errors included), fsync and rename succeed. On any error the
/// temporary file is removed and a file already at `path` is left as it was.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let cannot =
        |e: std::io::Error| CliError::new(format!("cannot write '{}': {e}", path.display()));
    let mut file = AtomicFile::create(path).map_err(cannot)?;
    fill(&mut file)?;
    file.commit().map_err(cannot)
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
                let encoder = image::codecs::png::PngEncoder::new(file);
                image::ImageEncoder::write_image(
                    encoder,
                    &rgb,
                    w,
                    h,
                    image::ExtendedColorType::Rgb8,
                )
                .map_err(|e| CliError::new(format!("cannot write '{}': {e}", path.display())))
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
                    .map_err(|e| CliError::new(format!("cannot write '{}': {e}", path.display())))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_fill_that_fails_half_way_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").unwrap();
        let result = write_atomic(&path, |w| {
            w.write_all(&vec![b'x'; 100_000]).unwrap();
            Err(CliError::new("diverged"))
        });
        assert_eq!(result.unwrap_err().to_string(), "diverged");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(names(dir.path()), ["out.csv"]);
    }

    #[test]
    fn a_complete_fill_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, |w| w.write_all(b"new").map_err(CliError::from)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(names(dir.path()), ["out.csv"]);
    }

    #[test]
    fn outputs_are_checked_without_creating_anything() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no").join("x.png");
        let err = check_output("--plot", &missing).unwrap_err().to_string();
        assert!(err.ends_with("does not exist"), "{err}");
        let err = check_output("--plot", dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("is a folder"), "{err}");
        check_output("--plot", &dir.path().join("x.png")).unwrap();
        assert!(names(dir.path()).is_empty());
    }
}
