//! Fair races: for each optimizer, the learning rate that does best on one
//! surface by a stated criterion, chosen from a log-spaced grid.
//!
//! Every spec runs once per grid lr (the lr overriding the spec's own, see
//! [`sweep::lr_grid`]). Runs that diverge are never chosen. Among the rest:
//!
//! - `final-loss`: the lowest final loss;
//! - `steps-to=TOL`: the fewest updates until the point is within TOL of a
//!   known minimum ([`Trajectory::steps_to`]); runs that never get there rank
//!   after those that do, by final loss.
//!
//! Ties go to the lower final loss, then to the smaller learning rate. When
//! every lr diverges, the optimizer has no best lr ([`Tuned::best`] is `None`).

use super::sweep::{self, GridPoint, SweepError};
use super::trajectory::Trajectory;
use crate::spec::ConfigError;
use crate::surface::Resolved;
use std::cmp::Ordering;
use std::fmt;
use thiserror::Error;

/// What makes one learning rate better than another.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Criterion {
    /// The lowest loss after the last update.
    FinalLoss,
    /// The fewest updates to come within this distance of a known minimum.
    StepsTo(f64),
}

impl Criterion {
    /// The spellings, as the command line lists them.
    pub const NAMES: [&'static str; 2] = ["final-loss", "steps-to=TOL"];

    /// The first step within the tolerance of one of `minima` (`None` for `final-loss`).
    pub fn steps(&self, path: &Trajectory, minima: &[[f64; 2]]) -> Option<usize> {
        match *self {
            Criterion::FinalLoss => None,
            Criterion::StepsTo(tol) => path.steps_to(minima, tol),
        }
    }

    /// Whether the criterion can be measured on a surface with these
    /// minima (`steps-to` needs at least one).
    pub fn check(&self, minima: &[[f64; 2]]) -> Result<(), TuneError> {
        match self {
            Criterion::StepsTo(_) if minima.is_empty() => Err(TuneError::NoMinima),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Criterion::FinalLoss => write!(f, "final-loss"),
            Criterion::StepsTo(tol) => write!(f, "steps-to={tol:?}"),
        }
    }
}

impl std::str::FromStr for Criterion {
    type Err = TuneError;
    fn from_str(text: &str) -> Result<Self, TuneError> {
        let bad = || TuneError::Criterion(text.to_string());
        match text.split_once('=') {
            None if text == "final-loss" => Ok(Criterion::FinalLoss),
            Some(("steps-to", tol)) => match tol.trim().parse::<f64>() {
                Ok(tol) if tol.is_finite() && tol > 0.0 => Ok(Criterion::StepsTo(tol)),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

/// Why a race could not be set up.
#[derive(Debug, Error)]
pub enum TuneError {
    #[error(transparent)]
    Sweep(#[from] SweepError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("unknown criterion '{0}'; valid: final-loss, steps-to=TOL (TOL a positive number)")]
    Criterion(String),
    #[error("the grid must be LO:HI:N with 0 < LO <= HI finite and N >= 1 (N = 1 only when LO = HI), got {0}")]
    Grid(String),
    #[error("steps-to needs a surface with known minima; this one has none (use final-loss)")]
    NoMinima,
}

/// The grid tried when none is given: 1e-4 … 1 in thirds of a decade.
pub const DEFAULT_GRID: &str = "1e-4:1:13";

/// Parses `LO:HI:N` into [`log_grid`]`(LO, HI, N)`.
pub fn parse_grid(text: &str) -> Result<Vec<f64>, TuneError> {
    let bad = || TuneError::Grid(format!("'{text}'"));
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    let [lo, hi, n] = parts[..] else {
        return Err(bad());
    };
    let number = |t: &str| t.parse::<f64>().map_err(|_| bad());
    log_grid(number(lo)?, number(hi)?, n.parse().map_err(|_| bad())?)
}

/// `n` learning rates from `lo` to `hi` (both included), evenly spaced in log10.
pub fn log_grid(lo: f64, hi: f64, n: usize) -> Result<Vec<f64>, TuneError> {
    let ok = lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi && n >= 1;
    if !ok || (n == 1 && lo != hi) {
        return Err(TuneError::Grid(format!("{lo:?}:{hi:?}:{n}")));
    }
    let (a, b) = (lo.log10(), hi.log10());
    Ok((0..n)
        .map(|i| match i {
            0 => lo,
            i if i + 1 == n => hi,
            i => 10f64.powf(a + (b - a) * i as f64 / (n - 1) as f64),
        })
        .collect())
}

/// One optimizer's race: the run at its best lr (`None` when every lr diverged).
#[derive(Clone, Debug, PartialEq)]
pub struct Tuned {
    /// The spec as given.
    pub optimizer: String,
    pub best: Option<GridPoint>,
    /// The best run's updates to the tolerance (`None` for `final-loss` or when never reached).
    pub steps_to_tolerance: Option<usize>,
}

/// Orders two finished, finite runs: the better first.
fn rank(a: &GridPoint, b: &GridPoint, criterion: Criterion, minima: &[[f64; 2]]) -> Ordering {
    let steps = |p: &GridPoint| criterion.steps(&p.path, minima).unwrap_or(usize::MAX);
    let loss = |p: &GridPoint| p.path.final_loss().unwrap_or(f64::INFINITY);
    steps(a)
        .cmp(&steps(b))
        .then(loss(a).total_cmp(&loss(b)))
        .then(a.lr.total_cmp(&b.lr))
}

/// The best lr of each of `specs` on `surface` from `start` after `steps`
/// updates, in the order of `specs`; `done()` is called as each run ends.
pub fn tune(
    surface: &Resolved,
    start: [f64; 2],
    specs: &[String],
    lrs: &[f64],
    steps: usize,
    criterion: Criterion,
    done: impl Fn() + Sync,
) -> Result<Vec<Tuned>, TuneError> {
    let minima = &surface.minima;
    criterion.check(minima)?;
    let jobs = sweep::lr_grid(specs, lrs)?;
    let landscape = surface.landscape.as_ref();
    let mut points = sweep::run(jobs, landscape, start, steps, None, done)?.into_iter();
    Ok(specs
        .iter()
        .map(|spec| {
            let best = points
                .by_ref()
                .take(lrs.len())
                .filter(|p| p.path.diverged.is_none())
                .min_by(|a, b| rank(a, b, criterion, minima));
            Tuned {
                optimizer: spec.clone(),
                steps_to_tolerance: best.as_ref().and_then(|p| criterion.steps(&p.path, minima)),
                best,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface;

    #[test]
    fn the_default_grid_has_thirds_of_decades() {
        let lrs = log_grid(1e-4, 1.0, 13).unwrap();
        assert_eq!(lrs.len(), 13);
        assert_eq!((lrs[0], lrs[12]), (1e-4, 1.0));
        assert!((lrs[3] - 1e-3).abs() < 1e-18, "{}", lrs[3]);
        assert!((lrs[1] / lrs[0] - 10f64.powf(1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(log_grid(0.5, 0.5, 1).unwrap(), vec![0.5]);
        assert_eq!(parse_grid(DEFAULT_GRID).unwrap(), lrs);
        assert_eq!(parse_grid(" 0.1 : 1 : 2 ").unwrap(), vec![0.1, 1.0]);
        for bad in ["", "0.1:1", "0.1:1:2:3", "a:1:2", "0.1:1:2.5", "0.1:1:-1"] {
            assert!(parse_grid(bad).is_err(), "{bad}");
        }
        for (lo, hi, n) in [(0.0, 1.0, 3), (1.0, 0.1, 3), (0.1, 1.0, 0), (0.1, 1.0, 1)] {
            assert!(log_grid(lo, hi, n).is_err(), "{lo} {hi} {n}");
        }
    }

    #[test]
    fn criteria_parse_and_print() {
        assert_eq!(
            "final-loss".parse::<Criterion>().unwrap(),
            Criterion::FinalLoss
        );
        let c: Criterion = "steps-to=1e-3".parse().unwrap();
        assert_eq!(c, Criterion::StepsTo(1e-3));
        assert_eq!(c.to_string(), "steps-to=0.001");
        for bad in [
            "",
            "loss",
            "steps-to",
            "steps-to=0",
            "steps-to=-1",
            "steps-to=x",
        ] {
            assert!(bad.parse::<Criterion>().is_err(), "{bad}");
        }
    }

    /// On the sphere gd's update is x ← (1 − 2lr)x: lr = 0.5 lands on the
    /// minimum in one step, lr = 1.5 diverges (|1 − 3| = 2 per step).
    #[test]
    fn the_best_lr_wins_and_diverged_runs_are_never_chosen() {
        let sphere = surface::resolve("sphere").unwrap();
        let specs = ["gd".to_string()];
        let run = |lrs: &[f64], criterion| {
            tune(&sphere, [1.0, 1.0], &specs, lrs, 20, criterion, || {})
                .unwrap()
                .remove(0)
        };
        let tuned = run(&[0.1, 0.5, 1e300], Criterion::FinalLoss);
        let best = tuned.best.unwrap();
        assert_eq!((best.lr, best.path.final_loss()), (0.5, Some(0.0)));
        let steps = run(&[0.05, 0.25, 0.5], Criterion::StepsTo(1e-3));
        assert_eq!(
            (steps.best.unwrap().lr, steps.steps_to_tolerance),
            (0.5, Some(1))
        );
        assert_eq!(run(&[1e300], Criterion::FinalLoss).best, None);
    }

    /// lr 0.5 and 0.6 both reach the minimum on the sphere: the tie
    /// (same steps, loss 0) goes to the smaller lr whichever comes first.
    #[test]
    fn ties_go_to_the_smaller_lr() {
        let sphere = surface::resolve("sphere").unwrap();
        let pick = |lrs: &[f64]| {
            tune(
                &sphere,
                [0.0, 0.0],
                &["gd".to_string()],
                lrs,
                5,
                Criterion::FinalLoss,
                || {},
            )
            .unwrap()[0]
                .best
                .as_ref()
                .unwrap()
                .lr
        };
        assert_eq!(pick(&[0.6, 0.5]), 0.5);
        assert_eq!(pick(&[0.5, 0.6]), 0.5);
    }
}
