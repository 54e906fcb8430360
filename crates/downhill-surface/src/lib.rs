//! # downhill-surface
//!
//! Two-dimensional test surfaces with exact gradients, plotting domains,
//! default starts and known minima, and formulas typed by a user
//! (`x^4 + 2*x^3 + y^2 - 1`) with exact gradients through dual numbers.
//!
//! ```
//! use downhill_surface::{formula::Formula, Landscape, Surface};
//! // Rosenbrock's valley has its minimum 0 at (1, 1), where the gradient vanishes.
//! assert_eq!(Surface::Rosenbrock.value(1.0, 1.0), 0.0);
//! assert_eq!(Surface::Rosenbrock.gradient(1.0, 1.0), [0.0, 0.0]);
//! // A formula's gradient is exact: ∂/∂x (x²y) = 2xy, ∂/∂y = x².
//! let f = Formula::parse("x^2*y").unwrap();
//! assert_eq!(f.gradient(3.0, 2.0), [12.0, 9.0]);
//! ```

pub mod formula;
mod functions;
mod power;

use formula::{Formula, FormulaError, Problem};
use std::f64::consts::PI;
use std::fmt;

/// A differentiable function of two variables that optimizers can descend.
pub trait Landscape: Send + Sync {
    /// f(x, y).
    fn value(&self, x: f64, y: f64) -> f64;
    /// ∇f(x, y), exact.
    fn gradient(&self, x: f64, y: f64) -> [f64; 2];
}

/// A closed rectangle `[x_min, x_max] × [y_min, y_max]`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Domain {
    pub x: [f64; 2],
    pub y: [f64; 2],
}

impl Domain {
    pub fn contains(&self, x: f64, y: f64) -> bool {
        (self.x[0]..=self.x[1]).contains(&x) && (self.y[0]..=self.y[1]).contains(&y)
    }
}

/// The built-in surfaces. See [`Surface::info`] for formula, domain and minima.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Surface {
    Sphere,
    Anisotropic,
    Saddle,
    Quartic,
    Rosenbrock,
    Beale,
    Booth,
    Himmelblau,
    Rastrigin,
    Ackley,
    GoldsteinPrice,
    StyblinskiTang,
    SixHumpCamel,
    ThreeHumpCamel,
    Matyas,
    Mccormick,
    Easom,
    LeviN13,
    Banana,
}

/// What is known about a surface.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Info {
    pub name: &'static str,
    pub formula: &'static str,
    /// The region plots show.
    pub domain: Domain,
    /// Where runs start unless told otherwise.
    pub start: [f64; 2],
    /// The global minimizers (none for the saddle, which is unbounded below).
    pub minima: &'static [[f64; 2]],
    /// f at the global minimizers.
    pub minimum: Option<f64>,
}

const fn square(lo: f64, hi: f64) -> Domain {
    Domain {
        x: [lo, hi],
        y: [lo, hi],
    }
}

const STYBLINSKI_X: f64 = -2.903534027771177;

impl Surface {
    /// Every surface, in listing order.
    pub const ALL: [Surface; 19] = [
        Surface::Sphere,
        Surface::Anisotropic,
        Surface::Saddle,
        Surface::Quartic,
        Surface::Rosenbrock,
        Surface::Beale,
        Surface::Booth,
        Surface::Himmelblau,
        Surface::Rastrigin,
        Surface::Ackley,
        Surface::GoldsteinPrice,
        Surface::StyblinskiTang,
        Surface::SixHumpCamel,
        Surface::ThreeHumpCamel,
        Surface::Matyas,
        Surface::Mccormick,
        Surface::Easom,
        Surface::LeviN13,
        Surface::Banana,
    ];

    /// Looks a surface up by name (`rosenbrock`, `six-hump-camel`, …).
    pub fn from_name(name: &str) -> Option<Surface> {
        Surface::ALL.into_iter().find(|s| s.info().name == name)
    }

    /// All names, comma-separated (for error messages).
    pub fn names() -> String {
        Surface::ALL
            .iter()
            .map(|s| s.info().name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Formula, domain, default start and minima.
    pub fn info(self) -> Info {
        use Surface::*;
        let (name, formula, domain, start, minima, minimum): (_, _, _, _, &'static [[f64; 2]], _) = match self {
            Sphere => ("sphere", "x^2 + y^2", square(-5.0, 5.0), [-4.0, 3.0], &[[0.0, 0.0]], Some(0.0)),
            Anisotropic => (
                "anisotropic",
                "x^2/20 + y^2",
                Domain { x: [-10.0, 10.0], y: [-5.0, 5.0] },
                [-7.0, 2.0],
                &[[0.0, 0.0]],
                Some(0.0),
            ),
            Saddle => ("saddle", "x^2 - y^2", square(-1.0, 1.0), [0.5, 1e-3], &[], None),
            Quartic => (
                "quartic",
                "x^4 + 2*x^3 + y^2 - 1",
                Domain { x: [-2.5, 1.5], y: [-2.0, 2.0] },
                [1.0, -0.5],
                &[[-1.5, 0.0]],
                Some(-2.6875),
            ),
            Rosenbrock => (
                "rosenbrock",
                "(1 - x)^2 + 100*(y - x^2)^2",
                Domain { x: [-2.0, 2.0], y: [-1.0, 3.0] },
                [-1.2, 1.0],
                &[[1.0, 1.0]],
                Some(0.0),
            ),
            Beale => (
                "beale",
                "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
                square(-4.5, 4.5),
                [1.0, 1.5],
                &[[3.0, 0.5]],
                Some(0.0),
            ),
            Booth => ("booth", "(x + 2*y - 7)^2 + (2*x + y - 5)^2", square(-10.0, 10.0), [-6.0, -4.0], &[[1.0, 3.0]], Some(0.0)),
            Himmelblau => (
                "himmelblau",
                "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
                square(-5.0, 5.0),
                [0.0, 0.0],
                &[
                    [3.0, 2.0],
                    [-2.805118086952745, 3.131312518250573],
                    [-3.779310253377747, -3.2831859912861696],
                    [3.5844283403304917, -1.8481265269644034],
                ],
                Some(0.0),
            ),
            Rastrigin => (
                "rastrigin",
                "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)",
                square(-5.12, 5.12),
                [-4.3, 3.7],
                &[[0.0, 0.0]],
                Some(0.0),
            ),
            Ackley => (
                "ackley",
                "-20*exp(-0.2*sqrt(0.5*(x^2 + y^2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
                square(-5.0, 5.0),
                [-3.5, 4.0],
                &[[0.0, 0.0]],
                Some(0.0),
            ),
            GoldsteinPrice => (
                "goldstein-price",
                "(1 + (x + y + 1)^2*(19 - 14*x + 3*x^2 - 14*y + 6*x*y + 3*y^2)) * (30 + (2*x - 3*y)^2*(18 - 32*x + 12*x^2 + 48*y - 36*x*y + 27*y^2))",
                square(-2.0, 2.0),
                [-1.5, 1.5],
                &[[0.0, -1.0]],
                Some(3.0),
            ),
            StyblinskiTang => (
                "styblinski-tang",
                "(x^4 - 16*x^2 + 5*x + y^4 - 16*y^2 + 5*y)/2",
                square(-5.0, 5.0),
                [4.0, -4.5],
                &[[STYBLINSKI_X, STYBLINSKI_X]],
                Some(-78.33233140754282),
            ),
            SixHumpCamel => (
                "six-hump-camel",
                "4*x^2 - 2.1*x^4 + x^6/3 + x*y - 4*y^2 + 4*y^4",
                Domain { x: [-3.0, 3.0], y: [-2.0, 2.0] },
                [-1.5, 1.5],
                &[[0.08984201310031807, -0.7126564030207396], [-0.08984201310031807, 0.7126564030207396]],
                Some(-1.0316284534898774),
            ),
            ThreeHumpCamel => (
                "three-hump-camel",
                "2*x^2 - 1.05*x^4 + x^6/6 + x*y + y^2",
                square(-5.0, 5.0),
                [-2.0, 2.0],
                &[[0.0, 0.0]],
                Some(0.0),
            ),
            Matyas => ("matyas", "0.26*(x^2 + y^2) - 0.48*x*y", square(-10.0, 10.0), [-8.0, 6.0], &[[0.0, 0.0]], Some(0.0)),
            Mccormick => (
                "mccormick",
                "sin(x + y) + (x - y)^2 - 1.5*x + 2.5*y + 1",
                Domain { x: [-1.5, 4.0], y: [-3.0, 4.0] },
                [3.0, 3.0],
                &[[0.5 - PI / 3.0, -0.5 - PI / 3.0]],
                Some(-1.9132229549810362),
            ),
            Easom => (
                "easom",
                "-cos(x)*cos(y)*exp(-((x - pi)^2 + (y - pi)^2))",
                square(PI - 3.0, PI + 3.0),
                [2.2, 2.5],
                &[[PI, PI]],
                Some(-1.0),
            ),
            LeviN13 => (
                "levi-n13",
                "sin(3*pi*x)^2 + (x - 1)^2*(1 + sin(3*pi*y)^2) + (y - 1)^2*(1 + sin(2*pi*y)^2)",
                square(-10.0, 10.0),
                [-4.0, 6.0],
                &[[1.0, 1.0]],
                Some(0.0),
            ),
            Banana => (
                "banana",
                "(1 - x)^2 + 20*(3*y - x^2)^2",
                Domain { x: [-2.0, 2.0], y: [-1.0, 2.0] },
                [-1.5, 1.5],
                &[[1.0, 1.0 / 3.0]],
                Some(0.0),
            ),
        };
        Info {
            name,
            formula,
            domain,
            start,
            minima,
            minimum,
        }
    }
}

/// A surface chosen by the user (by name or by formula), with what plots and
/// runs need to know about it.
pub struct Resolved {
    /// The name, or the formula as typed.
    pub label: String,
    pub landscape: Box<dyn Landscape>,
    pub domain: Domain,
    pub start: [f64; 2],
    pub minima: Vec<[f64; 2]>,
}

/// Why a surface could not be resolved.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SurfaceError {
    #[error(
        "unknown surface '{name}'{hint}; valid: {valid}, or a formula in x and y such as 'x^2 - y^2'"
    )]
    Unknown {
        name: String,
        valid: String,
        /// ` (did you mean 'x'?)` when a surface name is close, else empty.
        hint: String,
    },
    #[error("formula: {0}")]
    Formula(#[from] FormulaError),
}

/// Resolves `--surface` text: a built-in name, else a formula (on
/// [`formula::DEFAULT_DOMAIN`] from [`formula::DEFAULT_START`], no known minima).
///
/// A single word that is neither (`rosenbrok`) is reported as an unknown
/// surface with the valid names rather than as a formula error.
pub fn resolve(text: &str) -> Result<Resolved, SurfaceError> {
    if let Some(surface) = Surface::from_name(text.trim()) {
        let info = surface.info();
        return Ok(Resolved {
            label: info.name.to_string(),
            landscape: Box::new(surface),
            domain: info.domain,
            start: info.start,
            minima: info.minima.to_vec(),
        });
    }
    let formula = Formula::parse(text).map_err(|error| {
        let word = text
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        match error.problem {
            Problem::UnknownName(_) if word => SurfaceError::Unknown {
                name: text.trim().to_string(),
                valid: Surface::names(),
                hint: did_you_mean(text.trim()),
            },
            _ => SurfaceError::Formula(error),
        }
    })?;
    Ok(Resolved {
        label: formula.text().to_string(),
        landscape: Box::new(formula),
        domain: formula::DEFAULT_DOMAIN,
        start: formula::DEFAULT_START,
        minima: Vec::new(),
    })
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.info().name)
    }
}

impl Landscape for Surface {
    fn value(&self, x: f64, y: f64) -> f64 {
        functions::value(*self, x, y)
    }

    fn gradient(&self, x: f64, y: f64) -> [f64; 2] {
        functions::gradient(*self, x, y)
    }
}

/// ` (did you mean 'x'?)` for the surface name nearest to `word` (Jaro–Winkler
/// similarity of at least 0.8), or an empty string.
fn did_you_mean(word: &str) -> String {
    Surface::ALL
        .iter()
        .map(|s| s.info().name)
        .map(|name| (strsim::jaro_winkler(word, name), name))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(String::new(), |(_, name)| {
            format!(" (did you mean '{name}'?)")
        })
}
