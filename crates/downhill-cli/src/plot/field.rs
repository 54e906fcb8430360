//! The surface sampled on a grid, mapped to filled-contour bands.
//!
//! Where the values span a wide range (max/10th-percentile above the shifted
//! minimum exceeds [`LOG_RATIO`], e.g. Rosenbrock) the bands are log-spaced in
//! g = f − f_min + δ, which also handles surfaces with negative values;
//! otherwise they are evenly spaced in f.

use downhill::surface::{Domain, Landscape};
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::RGBColor;

/// Number of filled bands.
pub const BANDS: usize = 16;
/// Spread (max over 10th percentile of f − f_min) above which bands are log-spaced.
pub const LOG_RATIO: f64 = 8.0;

/// How values become heights/band positions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear,
    /// log10(f − min + delta)
    Log {
        min: f64,
        delta: f64,
    },
}

/// The value range of a surface over a domain and the scale that shows it best.
#[derive(Clone, Copy, Debug)]
pub struct Levels {
    pub scale: Scale,
    /// Range of the scaled value over the sampled grid.
    pub lo: f64,
    pub hi: f64,
}

impl Levels {
    /// Samples `n`×`n` points of the domain and picks the scale.
    pub fn of(landscape: &dyn Landscape, domain: &Domain, n: usize) -> Levels {
        let mut values: Vec<f64> = grid(domain, n, n)
            .map(|(x, y)| landscape.value(x, y))
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() {
            return Levels {
                scale: Scale::Linear,
                lo: 0.0,
                hi: 1.0,
            };
        }
        values.sort_by(f64::total_cmp);
        let min = values[0];
        let max = values[values.len() - 1];
        let spread = max - min;
        let q10 = values[values.len() / 10] - min;
        if spread > 0.0 && spread > LOG_RATIO * q10.max(spread * 1e-12) {
            let delta = (values[values.len() / 200] - min).max(spread * 1e-9);
            let scale = Scale::Log { min, delta };
            Levels {
                scale,
                lo: delta.log10(),
                hi: (spread + delta).log10(),
            }
        } else if spread > 0.0 {
            Levels {
                scale: Scale::Linear,
                lo: min,
                hi: max,
            }
        } else {
            Levels {
                scale: Scale::Linear,
                lo: min - 0.5,
                hi: max + 0.5,
            }
        }
    }

    /// The scaled value (height in 3-D, band position in 2-D); NaN stays NaN.
    pub fn scaled(&self, f: f64) -> f64 {
        if f.is_nan() {
            return f;
        }
        match self.scale {
            Scale::Linear => f,
            Scale::Log { min, delta } => (f - min + delta).max(delta * 1e-3).log10(),
        }
    }

    /// The scaled value clamped into [lo, hi].
    pub fn clamped(&self, f: f64) -> f64 {
        let s = self.scaled(f);
        if s.is_nan() {
            self.hi
        } else {
            s.clamp(self.lo, self.hi)
        }
    }

    /// Band index 0..BANDS of a value (`None` for NaN).
    pub fn band(&self, f: f64) -> Option<usize> {
        let s = self.scaled(f);
        if s.is_nan() {
            return None;
        }
        let t = ((s - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        Some(((t * BANDS as f64) as usize).min(BANDS - 1))
    }

    /// How bands and heights are spaced in f, for titles.
    pub fn spacing(&self) -> &'static str {
        match self.scale {
            Scale::Linear => "evenly spaced",
            Scale::Log { .. } => "log-spaced",
        }
    }

    /// The value of f at the scaled value `s` (the inverse of [`Levels::scaled`]),
    /// so that a height axis can be labelled in f.
    pub fn unscaled(&self, s: f64) -> f64 {
        match self.scale {
            Scale::Linear => s,
            Scale::Log { min, delta } => 10f64.powf(s) + min - delta,
        }
    }
}

/// A short human form of a number for labels.
pub fn short(x: f64) -> String {
    if x == 0.0 || (1e-3..1e4).contains(&x.abs()) {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{x:.2e}")
    }
}

/// The fill colour of a band: viridis lightened towards white so paths stand out.
pub fn band_color(band: usize) -> RGBColor {
    let t = band as f64 / (BANDS - 1) as f64;
    let RGBColor(r, g, b) = ViridisRGB::get_color_normalized(t, 0.0, 1.0);
    let light = |c: u8| (c as f64 * 0.4 + 255.0 * 0.6).round() as u8;
    RGBColor(light(r), light(g), light(b))
}

/// The iso-line colour drawn at the edge of a band.
pub fn line_color(band: usize) -> RGBColor {
    let RGBColor(r, g, b) = band_color(band);
    let dark = |c: u8| (c as f64 * 0.8).round() as u8;
    RGBColor(dark(r), dark(g), dark(b))
}

/// Cell centres of an `nx`×`ny` grid over the domain, row by row from the top.
pub fn grid(domain: &Domain, nx: usize, ny: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
    (0..ny).flat_map(move |j| {
        let y = domain.y[1] - (j as f64 + 0.5) / ny as f64 * (domain.y[1] - domain.y[0]);
        (0..nx).map(move |i| {
            (
                domain.x[0] + (i as f64 + 0.5) / nx as f64 * (domain.x[1] - domain.x[0]),
                y,
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use downhill::surface::resolve;

    fn levels(name: &str) -> Levels {
        let s = resolve(name).unwrap();
        Levels::of(s.landscape.as_ref(), &s.domain, 60)
    }

    #[test]
    fn wide_ranges_get_log_bands_and_narrow_ones_linear() {
        assert!(matches!(levels("rosenbrock").scale, Scale::Log { .. }));
        assert!(matches!(levels("beale").scale, Scale::Log { .. }));
        assert_eq!(levels("saddle").scale, Scale::Linear);
    }

    #[test]
    fn log_bands_handle_negative_values() {
        let l = levels("quartic");
        let Scale::Log { min, .. } = l.scale else {
            panic!("quartic spans a wide range")
        };
        assert!(min < 0.0);
        assert_eq!(l.band(-2.6875), Some(0));
        assert_eq!(l.band(1e9), Some(BANDS - 1));
        assert_eq!(l.band(f64::NAN), None);
        assert_eq!(l.spacing(), "log-spaced");
        for f in [-2.6, 0.0, 40.0] {
            assert!((l.unscaled(l.scaled(f)) - f).abs() < 1e-9, "{f}");
        }
    }

    #[test]
    fn bands_grow_with_the_value() {
        let l = levels("sphere");
        let bands: Vec<usize> = [0.0, 0.5, 2.0, 8.0, 30.0]
            .iter()
            .map(|&v| l.band(v).unwrap())
            .collect();
        assert!(
            bands.windows(2).all(|w| w[0] <= w[1]) && bands[0] < bands[4],
            "{bands:?}"
        );
    }
}
