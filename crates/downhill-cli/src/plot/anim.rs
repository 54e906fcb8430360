//! GIF animations of trajectory figures: the paths grow step by step with a
//! moving head and a step counter.
//!
//! The background is drawn once; each frame only adds its new segments. Frames
//! use one global palette (the figure's own colours, exact for the path and
//! band colours) and store just the rectangle that changed, with unchanged
//! pixels transparent — a 500-step, 7-run animation stays well under 5 MB.

use super::file::write_atomic;
use super::scene::Layers;
use crate::error::CliError;
use plotters::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// At most this many frames (steps are subsampled evenly).
pub const MAX_FRAMES: usize = 120;
/// Delay between frames, in hundredths of a second.
const DELAY: u16 = 6;
/// How long the last frame stays, in hundredths of a second.
const HOLD: u16 = 250;
/// The palette index that means "unchanged since the previous frame".
const CLEAR: u8 = 255;

/// The steps shown by the frames: 0, …, `last`, at most `MAX_FRAMES` of them.
pub fn frame_steps(last: usize) -> Vec<usize> {
    let n = MAX_FRAMES.min(last + 1);
    if n <= 1 {
        return vec![0];
    }
    let mut steps: Vec<usize> = (0..n)
        .map(|k| ((k * last) as f64 / (n - 1) as f64).round() as usize)
        .collect();
    steps.dedup();
    steps
}

/// Renders the animation of `layers` into `path` (a `.gif`).
pub fn write_gif<L: Layers>(
    path: &Path,
    layers: &L,
    progress: &indicatif::ProgressBar,
) -> Result<(), CliError> {
    super::register_font();
    let (w, h) = layers.size();
    let last = layers.last_step();
    let steps = frame_steps(last);
    let mut canvas = vec![255u8; (w * h * 3) as usize];
    draw(&mut canvas, (w, h), |area| {
        layers.background(area, true)?;
        layers.legend(area)
    })?;
    let frame_of = |canvas: &[u8], at: usize| -> Result<Vec<u8>, CliError> {
        let mut frame = canvas.to_vec();
        draw(&mut frame, (w, h), |area| {
            layers.heads(area, at)?;
            super::marks::counter(&layers.plot_area(area)?, &format!("step {at} / {last}"))
        })?;
        Ok(frame)
    };
    let mut full = canvas.clone();
    draw(&mut full, (w, h), |area| layers.paths(area, 0, last))?;
    let palette = Palette::new(&[&canvas, &frame_of(&full, last)?]);
    progress.inc_length(steps.len() as u64);
    write_atomic(path, |file| {
        let gif_error = |e: gif::EncodingError| {
            CliError::new(format!("cannot write '{}': {e}", path.display()))
        };
        let mut encoder =
            gif::Encoder::new(file, w as u16, h as u16, &palette.rgb).map_err(gif_error)?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(gif_error)?;
        let mut mapper = palette.mapper();
        let mut previous: Option<Vec<u8>> = None;
        let mut shown = 0;
        for (k, &at) in steps.iter().enumerate() {
            draw(&mut canvas, (w, h), |area| layers.paths(area, shown, at))?;
            shown = at;
            let frame = frame_of(&canvas, at)?;
            let delay = if k + 1 == steps.len() { HOLD } else { DELAY };
            let (x0, y0, x1, y1) = match &previous {
                None => (0, 0, w, h),
                Some(prev) => changed(prev, &frame, w, h).unwrap_or((0, 0, 1, 1)),
            };
            let mut indices = Vec::with_capacity(((x1 - x0) * (y1 - y0)) as usize);
            for y in y0..y1 {
                for x in x0..x1 {
                    let o = ((y * w + x) * 3) as usize;
                    let px = [frame[o], frame[o + 1], frame[o + 2]];
                    let same = previous.as_ref().is_some_and(|p| p[o..o + 3] == px);
                    indices.push(if same { CLEAR } else { mapper.index(px) });
                }
            }
            let out = gif::Frame {
                left: x0 as u16,
                top: y0 as u16,
                width: (x1 - x0) as u16,
                height: (y1 - y0) as u16,
                buffer: Cow::Owned(indices),
                delay,
                dispose: gif::DisposalMethod::Keep,
                transparent: Some(CLEAR),
                ..gif::Frame::default()
            };
            encoder.write_frame(&out).map_err(gif_error)?;
            previous = Some(frame);
            progress.inc(1);
        }
        // the trailer, with its error (dropping the encoder would ignore it)
        encoder.into_inner().map_err(gif_error)?;
        Ok(())
    })
}

/// Draws on an RGB buffer with plotters.
fn draw(
    buffer: &mut [u8],
    size: (u32, u32),
    f: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let area = BitMapBackend::with_buffer(buffer, size).into_drawing_area();
    f(&area)?;
    area.present()?;
    Ok(())
}

/// The bounding box `(x0, y0, x1, y1)` (exclusive ends) of the pixels that differ.
fn changed(a: &[u8], b: &[u8], w: u32, h: u32) -> Option<(u32, u32, u32, u32)> {
    let row = (w * 3) as usize;
    let rows: Vec<u32> = (0..h)
        .filter(|&y| a[y as usize * row..][..row] != b[y as usize * row..][..row])
        .collect();
    let (&y0, &y1) = (rows.first()?, rows.last()?);
    let (mut x0, mut x1) = (w, 0);
    for &y in &rows {
        let base = y as usize * row;
        for x in 0..w {
            let o = base + x as usize * 3;
            if a[o..o + 3] != b[o..o + 3] {
                x0 = x0.min(x);
                x1 = x1.max(x + 1);
            }
        }
    }
    Some((x0, y0, x1, y1 + 1))
}

/// A global palette of up to 255 colours (index 255 is transparent).
struct Palette {
    rgb: Vec<u8>,
    colors: Vec<[u8; 3]>,
}

impl Palette {
    /// The path colours, black and white first, then the most frequent
    /// colours of the sample frames.
    fn new(samples: &[&[u8]]) -> Palette {
        let mut colors: Vec<[u8; 3]> = vec![[255, 255, 255], [0, 0, 0]];
        colors.extend(super::path_colors().iter().map(|c| [c.0, c.1, c.2]));
        let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
        for sample in samples {
            for px in sample.chunks_exact(3) {
                *counts.entry([px[0], px[1], px[2]]).or_default() += 1;
            }
        }
        let mut by_count: Vec<([u8; 3], usize)> = counts.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (c, _) in by_count {
            if colors.len() >= CLEAR as usize {
                break;
            }
            if !colors.contains(&c) {
                colors.push(c);
            }
        }
        let mut rgb: Vec<u8> = colors.iter().flatten().copied().collect();
        rgb.resize(256 * 3, 0);
        Palette { rgb, colors }
    }

    fn mapper(&self) -> Mapper<'_> {
        Mapper {
            colors: &self.colors,
            cache: HashMap::new(),
        }
    }
}

/// Maps colours to the nearest palette entry, remembering answers.
struct Mapper<'a> {
    colors: &'a [[u8; 3]],
    cache: HashMap<[u8; 3], u8>,
}

impl Mapper<'_> {
    fn index(&mut self, px: [u8; 3]) -> u8 {
        let colors = self.colors;
        *self.cache.entry(px).or_insert_with(|| {
            let dist = |c: &[u8; 3]| {
                (0..3)
                    .map(|k| (c[k] as i32 - px[k] as i32).pow(2))
                    .sum::<i32>()
            };
            (0..colors.len())
                .min_by_key(|&i| dist(&colors[i]))
                .expect("the palette is not empty") as u8
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_cover_first_and_last_step() {
        assert_eq!(frame_steps(0), vec![0]);
        assert_eq!(frame_steps(3), vec![0, 1, 2, 3]);
        let s = frame_steps(500);
        assert_eq!(s.len(), MAX_FRAMES);
        assert_eq!((s[0], *s.last().unwrap()), (0, 500));
    }

    #[test]
    fn the_changed_box_is_tight() {
        let a = vec![0u8; 4 * 3 * 3];
        let mut b = a.clone();
        b[(4 + 2) * 3] = 9;
        assert_eq!(changed(&a, &b, 4, 3), Some((2, 1, 3, 2)));
        assert_eq!(changed(&a, &a, 4, 3), None);
    }
}
