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

/// The legend: a white box in the top-right corner of `area` with a
/// colour swatch and a line of text per entry.
pub fn legend<DB: super::Backend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, RGBColor)],
) -> Result<(), CliError> {
    if entries.is_empty() {
        return Ok(());
    }
    let font = TextStyle::from((super::FAMILY, 13).into_font());
    let line = 17;
    let width = entries
        .iter()
        .map(|(t, _)| area.estimate_text_size(t, &font).map(|(w, _)| w as i32))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .max()
        .unwrap_or(0)
        + 34;
    let (w, _) = area.dim_in_pixel();
    let x0 = w as i32 - width - 8;
    let y0 = 8;
    let height = line * entries.len() as i32 + 8;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + width, y0 + height)],
        WHITE.mix(0.88).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + width, y0 + height)],
        BLACK.mix(0.6).stroke_width(1),
    ))?;
    for (k, (text, color)) in entries.iter().enumerate() {
        let y = y0 + 4 + line * k as i32 + line / 2;
        area.draw(&PathElement::new(
            vec![(x0 + 6, y), (x0 + 26, y)],
            color.stroke_width(3),
        ))?;
        area.draw(&Text::new(text.clone(), (x0 + 30, y - 7), font.clone()))?;
    }
    Ok(())
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
