//! Markers shared by the 2-D and 3-D views, drawn at data coordinates with
//! fixed pixel sizes.

use crate::error::CliError;
use plotters::coord::CoordTranslate;
use plotters::prelude::*;

/// A known minimum: a white five-pointed star with a black outline.
pub fn minimum<DB: super::Backend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
) -> Result<(), CliError>
where
    CT::From: Clone,
{
    let star: Vec<(i32, i32)> = (0..10)
        .map(|k| {
            let r = if k % 2 == 0 { 9.0 } else { 4.0 };
            let a = std::f64::consts::PI * (k as f64 / 5.0 - 0.5);
            ((r * a.cos()).round() as i32, (r * a.sin()).round() as i32)
        })
        .collect();
    let mut outline = star.clone();
    outline.push(star[0]);
    area.draw(&(EmptyElement::at(at.clone()) + Polygon::new(star, WHITE.filled())))?;
    area.draw(&(EmptyElement::at(at) + PathElement::new(outline, BLACK.stroke_width(1))))?;
    Ok(())
}

/// A start point: a hollow ring in the run's colour.
pub fn start<DB: super::Backend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    color: RGBColor,
) -> Result<(), CliError> {
    area.draw(&Circle::new(at, 6, color.stroke_width(2)))?;
    Ok(())
}

/// A current or final point: a filled dot with a black rim.
pub fn head<DB: super::Backend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    color: RGBColor,
) -> Result<(), CliError>
where
    CT::From: Clone,
{
    area.draw(&Circle::new(at.clone(), 5, color.filled()))?;
    area.draw(&Circle::new(at, 5, BLACK.stroke_width(1)))?;
    Ok(())
}

/// Divergence: an ✕ at the last finite point.
pub fn cross<DB: super::Backend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    color: RGBColor,
) -> Result<(), CliError>
where
    CT::From: Clone,
{
    area.draw(&Cross::new(at.clone(), 7, BLACK.stroke_width(5)))?;
    area.draw(&Cross::new(at, 6, color.stroke_width(3)))?;
    Ok(())
}

/// Where a path leaves the drawn domain: a small black-rimmed square.
pub fn exit<DB: super::Backend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    color: RGBColor,
) -> Result<(), CliError>
where
    CT::From: Clone,
{
    area.draw(
        &(EmptyElement::at(at.clone()) + Rectangle::new([(-4, -4), (4, 4)], color.filled())),
    )?;
    area.draw(&(EmptyElement::at(at) + Rectangle::new([(-4, -4), (4, 4)], BLACK.stroke_width(1))))?;
    Ok(())
}

const LEGEND_FONT: u32 = 13;
const LEGEND_LINE: i32 = 17;
/// Swatch, gap and text of an entry start this far apart.
const SWATCH: i32 = 30;

/// The width of the widest entry's text.
fn text_width<DB: super::Backend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, RGBColor)],
    font: &TextStyle,
) -> Result<i32, CliError> {
    let widths = entries
        .iter()
        .map(|(t, _)| area.estimate_text_size(t, font).map(|(w, _)| w as i32))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(widths.into_iter().max().unwrap_or(0))
}

/// One legend entry: a colour swatch and its text, the swatch starting at (x, y − 7).
fn entry<DB: super::Backend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    (x, y): (i32, i32),
    (text, color): &(String, RGBColor),
    font: &TextStyle,
) -> Result<(), CliError> {
    area.draw(&PathElement::new(
        vec![(x, y), (x + 20, y)],
        color.stroke_width(3),
    ))?;
    area.draw(&Text::new(text.clone(), (x + 24, y - 7), font.clone()))?;
    Ok(())
}

/// The legend: a white box with a colour swatch and a line of text per
/// entry, in the corner of `area` that covers the fewest of `occupied` (the
/// backend pixels where data is drawn, see [`along`]); ties go to the top
/// right, then the top left, bottom right and bottom left.
pub fn legend<DB: super::Backend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, RGBColor)],
    occupied: &[(i32, i32)],
) -> Result<(), CliError> {
    if entries.is_empty() {
        return Ok(());
    }
    let font = TextStyle::from((super::FAMILY, LEGEND_FONT).into_font());
    let width = text_width(area, entries, &font)? + SWATCH + 4;
    let height = LEGEND_LINE * entries.len() as i32 + 8;
    let (w, h) = area.dim_in_pixel();
    let (bx, by) = area.get_base_pixel();
    let inside: Vec<(i32, i32)> = occupied.iter().map(|&(x, y)| (x - bx, y - by)).collect();
    let (x0, y0) = emptiest_corner((w as i32, h as i32), (width, height), &inside);
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + width, y0 + height)],
        WHITE.mix(0.88).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + width, y0 + height)],
        BLACK.mix(0.6).stroke_width(1),
    ))?;
    for (k, e) in entries.iter().enumerate() {
        let y = y0 + 4 + LEGEND_LINE * k as i32 + LEGEND_LINE / 2;
        entry(area, (x0 + 6, y), e, &font)?;
    }
    Ok(())
}

/// Where a `size` box goes in an `area`-sized rectangle: the corner (8 px
/// in) whose box covers the fewest `occupied` pixels; ties go to the top
/// right, then the top left, bottom right and bottom left.
fn emptiest_corner(area: (i32, i32), size: (i32, i32), occupied: &[(i32, i32)]) -> (i32, i32) {
    let ((w, h), (bw, bh)) = (area, size);
    let corners = [
        (w - bw - 8, 8),
        (8, 8),
        (w - bw - 8, h - bh - 8),
        (8, h - bh - 8),
    ];
    let pad = 6;
    let covered = |&(x0, y0): &(i32, i32)| {
        let hit = |&&(x, y): &&(i32, i32)| {
            (x0 - pad..=x0 + bw + pad).contains(&x) && (y0 - pad..=y0 + bh + pad).contains(&y)
        };
        occupied.iter().filter(hit).count()
    };
    let best = corners.iter().min_by_key(|c| covered(c));
    best.copied().unwrap_or(corners[0])
}

/// The pixels of a polyline every few pixels along it, for [`legend`] to avoid.
pub fn along(points: &[(i32, i32)]) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = points.first().copied().into_iter().collect();
    for w in points.windows(2) {
        let (dx, dy) = (w[1].0 - w[0].0, w[1].1 - w[0].1);
        let n = (dx.abs().max(dy.abs()) / 4).clamp(1, 2000);
        out.extend((1..=n).map(|k| (w[0].0 + dx * k / n, w[0].1 + dy * k / n)));
    }
    out
}

/// A legend outside every plot: the entries in rows across the top of
/// `area`, each row centred; returns the area below it.
pub fn legend_row<DB: super::Backend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, RGBColor)],
) -> Result<DrawingArea<DB, plotters::coord::Shift>, CliError> {
    if entries.is_empty() {
        return Ok(area.clone());
    }
    let font = TextStyle::from((super::FAMILY, LEGEND_FONT + 1).into_font());
    let (w, _) = area.dim_in_pixel();
    let room = w as i32 - 40;
    let gap = 26;
    let mut rows: Vec<Vec<(&(String, RGBColor), i32)>> = vec![Vec::new()];
    let mut used = 0;
    for e in entries {
        let width = area.estimate_text_size(&e.0, &font)?.0 as i32 + SWATCH - 6;
        let row = rows.last_mut().expect("rows start with one");
        if !row.is_empty() && used + gap + width > room {
            rows.push(Vec::new());
            used = 0;
        }
        let row = rows.last_mut().expect("a row was just pushed");
        used += if row.is_empty() { width } else { gap + width };
        row.push((e, width));
    }
    let line = LEGEND_LINE + 4;
    for (r, row) in rows.iter().enumerate() {
        let total: i32 =
            row.iter().map(|(_, width)| width).sum::<i32>() + gap * (row.len() as i32 - 1);
        let mut x = (w as i32 - total) / 2;
        let y = 6 + line * r as i32 + line / 2;
        for (e, width) in row {
            entry(area, (x, y), e, &font)?;
            x += width + gap;
        }
    }
    Ok(area.split_vertically(12 + line * rows.len() as i32).1)
}

/// A caption line in a white box at the bottom-left of `area` (the step counter).
pub fn counter<DB: super::Backend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
) -> Result<(), CliError> {
    let font = TextStyle::from((super::FAMILY, 15).into_font());
    let (tw, th) = area.estimate_text_size(text, &font)?;
    let (_, h) = area.dim_in_pixel();
    let (x, y) = (8, h as i32 - th as i32 - 14);
    area.draw(&Rectangle::new(
        [(x, y), (x + tw as i32 + 12, y + th as i32 + 8)],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw(&Text::new(text.to_string(), (x + 6, y + 4), font))?;
    Ok(())
}

/// A path `stroke` pixels wide. Consecutive points on the same pixel are
/// merged, and the line is split where it turns back by more than 150°:
/// plotters joins wide lines with miters, which spike at such turns.
pub fn path<DB: super::Backend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    points: &[CT::From],
    color: RGBColor,
    stroke: u32,
) -> Result<(), CliError>
where
    CT::From: Clone,
{
    let mut chunk: Vec<CT::From> = Vec::new();
    let mut px: Vec<(i32, i32)> = Vec::new();
    for p in points {
        let q = area.map_coordinate(p);
        if px.last() == Some(&q) {
            continue;
        }
        if let [.., a, b] = px[..] {
            let (u, v) = ((b.0 - a.0, b.1 - a.1), (q.0 - b.0, q.1 - b.1));
            let dot = (u.0 * v.0 + u.1 * v.1) as f64;
            let norms =
                ((u.0 * u.0 + u.1 * u.1) as f64).sqrt() * ((v.0 * v.0 + v.1 * v.1) as f64).sqrt();
            if dot < -0.866 * norms {
                let last = chunk
                    .last()
                    .cloned()
                    .expect("a chunk holds the points of px");
                area.draw(&PathElement::new(
                    std::mem::take(&mut chunk),
                    color.stroke_width(stroke),
                ))?;
                chunk.push(last);
                px = vec![b];
            }
        }
        chunk.push(p.clone());
        px.push(q);
    }
    if chunk.len() > 1 {
        area.draw(&PathElement::new(chunk, color.stroke_width(stroke)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{along, emptiest_corner};

    #[test]
    fn the_legend_goes_to_the_emptiest_corner() {
        let (area, size) = ((400, 300), (100, 50));
        assert_eq!(emptiest_corner(area, size, &[]), (292, 8));
        // a path through the top right, then through both top corners
        let top_right = along(&[(200, 150), (380, 20)]);
        assert_eq!(emptiest_corner(area, size, &top_right), (8, 8));
        let both = [top_right, along(&[(20, 20), (100, 40)])].concat();
        assert_eq!(emptiest_corner(area, size, &both), (292, 242));
    }

    #[test]
    fn along_fills_long_segments() {
        let points = along(&[(0, 0), (40, 0)]);
        assert_eq!(points.first(), Some(&(0, 0)));
        assert_eq!(points.last(), Some(&(40, 0)));
        assert!(
            points.windows(2).all(|w| w[1].0 - w[0].0 <= 4),
            "{points:?}"
        );
    }
}
