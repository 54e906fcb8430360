//! Figures: optimizer runs as filled contours, 3-D surfaces, GIF animations and
//! coordinate/loss curves; the sweep's panel grid, heatmap and phase diagram; the schedule's
//! lr curve; `compare`'s training curves.
//!
//! Everything is drawn with `plotters` on an in-memory backend and written
//! atomically (temporary file in the target folder, then rename), so a failed
//! render never leaves a partial file. Text uses the embedded DejaVu Sans.

pub mod anim;
pub mod args;
pub mod compare;
pub mod contour;
pub mod curves;
pub mod field;
pub mod file;
pub mod marks;
pub mod phase;
pub mod scene;
pub mod schedule;
pub mod surface3d;
pub mod sweep;

use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontStyle, RGBColor, TextStyle};
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");

/// The font family every figure uses.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font with plotters (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [
            FontStyle::Normal,
            FontStyle::Bold,
            FontStyle::Italic,
            FontStyle::Oblique,
        ] {
            let registered = plotters::style::register_font(FAMILY, style, FONT);
            assert!(registered.is_ok(), "the embedded DejaVu Sans font parses");
        }
    });
}

/// Path colours: Tableau 10, distinct on light backgrounds and in print.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
];

/// The colour of the i-th optimizer.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Every path colour (for the GIF palette).
pub fn path_colors() -> &'static [RGBColor] {
    &PALETTE
}

/// A text style centred on its position (titles).
pub fn centered(font: FontDesc<'_>) -> TextStyle<'_> {
    TextStyle::from(font).pos(Pos::new(HPos::Center, VPos::Center))
}

/// A plotters backend whose errors convert into [`crate::error::CliError`].
pub trait Backend: plotters::prelude::DrawingBackend<ErrorType: 'static> {}

impl<T: plotters::prelude::DrawingBackend<ErrorType: 'static>> Backend for T {}
