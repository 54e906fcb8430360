//! Phase diagrams: one optimizer on one surface over learning rates × the
//! values of one other numeric key (momentum, beta1, …), each cell measured
//! by a [`Criterion`]: the final loss, or the updates to within a tolerance
//! of a known minimum.
//!
//! The grid is a [`sweep::grid`] of one spec and one swept key, so each cell
//! is exactly the run of its spec with that lr and value written in.

use super::sweep::{self, GridPoint, Job, Param, SweepError};
use super::tune::{Criterion, TuneError};
use crate::spec::ConfigError;
use crate::surface::Resolved;
use thiserror::Error;

/// Why a phase diagram could not be set up.
#[derive(Debug, Error)]
pub enum PhaseError {
    #[error("a phase diagram needs exactly one optimizer, got {0}")]
    Optimizers(usize),
    #[error("a phase diagram needs exactly one swept key besides lr, got {0}")]
    Keys(usize),
    #[error("the learning rates of a phase diagram must be positive and increasing (the lr axis is logarithmic), got {0}")]
    Lrs(String),
    #[error("the values of '{key}' in a phase diagram must be increasing numbers, got {values}")]
    Values { key: String, values: String },
    #[error(transparent)]
    Sweep(#[from] SweepError),
    #[error(transparent)]
    Tune(#[from] TuneError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// One spec over learning rates (columns) × the values of one key (rows).
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// The spec as given.
    pub optimizer: String,
    /// The key and its values as typed (each written into the spec).
    pub param: Param,
    /// The values as numbers (the rows' axis).
    pub values: Vec<f64>,
    pub lrs: Vec<f64>,
}

/// One finished run of a phase diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Index into [`Phase::values`].
    pub row: usize,
    /// Index into [`Phase::lrs`].
    pub column: usize,
    /// The spec this run ran, lr and value written in.
    pub spec: String,
    pub final_loss: Option<f64>,
    /// The first step within the tolerance (`steps-to` only).
    pub steps_to: Option<usize>,
    /// The step at which the run diverged.
    pub diverged: Option<usize>,
}

impl Cell {
    /// The number the cell is coloured by: its final loss or its steps to
    /// the tolerance; `None` when it diverged or never got there.
    pub fn metric(&self, criterion: Criterion) -> Option<f64> {
        match (self.diverged, criterion) {
            (Some(_), _) => None,
            (None, Criterion::FinalLoss) => self.final_loss,
            (None, Criterion::StepsTo(_)) => self.steps_to.map(|s| s as f64),
        }
    }
}

fn increasing(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] < w[1])
}

impl Phase {
    /// Checks the shape of the grid: one spec, one key whose values are
    /// increasing numbers, increasing positive learning rates. The spec and
    /// the key themselves are checked by [`Phase::jobs`].
    pub fn new(optimizers: &[String], params: &[Param], lrs: &[f64]) -> Result<Phase, PhaseError> {
        let [optimizer] = optimizers else {
            return Err(PhaseError::Optimizers(optimizers.len()));
        };
        let [param] = params else {
            return Err(PhaseError::Keys(params.len()));
        };
        if lrs.is_empty() || !lrs.iter().all(|lr| lr.is_finite() && *lr > 0.0) || !increasing(lrs) {
            let text: Vec<String> = lrs.iter().map(|lr| format!("{lr:?}")).collect();
            return Err(PhaseError::Lrs(text.join(",")));
        }
        let values: Option<Vec<f64>> = param
            .values
            .iter()
            .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        match values {
            Some(values) if !values.is_empty() && increasing(&values) => Ok(Phase {
                optimizer: optimizer.clone(),
                param: param.clone(),
                values,
                lrs: lrs.to_vec(),
            }),
            _ => Err(PhaseError::Values {
                key: param.key.clone(),
                values: param.values.join(","),
            }),
        }
    }

    /// The runs, row by row (each value, then each lr): [`sweep::grid`] of
    /// this one spec and key, so its order too.
    pub fn jobs(&self) -> Result<Vec<Job>, SweepError> {
        sweep::grid(
            std::slice::from_ref(&self.optimizer),
            std::slice::from_ref(&self.param),
            &self.lrs,
        )
    }

    /// The cells of the finished runs of [`Phase::jobs`], given in their order.
    pub fn cells(
        &self,
        points: &[GridPoint],
        criterion: Criterion,
        minima: &[[f64; 2]],
    ) -> Result<Vec<Cell>, PhaseError> {
        criterion.check(minima)?;
        let keys = [self.param.key.clone()];
        let n = self.lrs.len();
        points
            .iter()
            .enumerate()
            .map(|(k, p)| {
                Ok(Cell {
                    row: k / n,
                    column: k % n,
                    spec: p.spec(&keys)?,
                    final_loss: p.path.final_loss(),
                    steps_to: criterion.steps(&p.path, minima),
                    diverged: p.path.diverged.as_ref().map(|d| d.step),
                })
            })
            .collect()
    }
}

/// Runs every cell of `phase` on `surface` from `start` for `steps` updates
/// (in parallel; `done()` as each run ends).
pub fn run(
    phase: &Phase,
    surface: &Resolved,
    start: [f64; 2],
    steps: usize,
    criterion: Criterion,
    done: impl Fn() + Sync,
) -> Result<Vec<Cell>, PhaseError> {
    criterion.check(&surface.minima)?;
    let landscape = surface.landscape.as_ref();
    let points = sweep::run(phase.jobs()?, landscape, start, steps, None, done)?;
    phase.cells(&points, criterion, &surface.minima)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{runs, ParamShape};
    use crate::surface;

    fn param(key: &str, values: &[&str]) -> Param {
        Param {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn phase(spec: &str, p: Param, lrs: &[f64]) -> Result<Phase, PhaseError> {
        Phase::new(&[spec.to_string()], &[p], lrs)
    }

    #[test]
    fn each_cell_is_the_run_of_its_spec() {
        let quartic = surface::resolve("quartic").unwrap();
        let grid = phase("momentum", param("momentum", &["0.5", "0.9"]), &[0.01, 0.1]).unwrap();
        let cells = run(
            &grid,
            &quartic,
            [1.0, -0.5],
            60,
            Criterion::FinalLoss,
            || {},
        )
        .unwrap();
        assert_eq!(cells.len(), 4);
        let expected = [
            "momentum:lr=0.01,momentum=0.5",
            "momentum:lr=0.1,momentum=0.5",
            "momentum:lr=0.01,momentum=0.9",
            "momentum:lr=0.1,momentum=0.9",
        ];
        for (cell, spec) in cells.iter().zip(expected) {
            assert_eq!(cell.spec, spec);
            let alone = runs(
                quartic.landscape.as_ref(),
                [1.0, -0.5],
                ParamShape::Vector,
                &[spec.to_string()],
                60,
                None,
                |_, _, _| {},
            )
            .unwrap()
            .remove(0);
            let loss = alone.path.final_loss().unwrap();
            assert_eq!(cell.final_loss.map(f64::to_bits), Some(loss.to_bits()));
            assert_eq!(cell.metric(Criterion::FinalLoss), Some(loss));
        }
        assert_eq!(
            cells.iter().map(|c| (c.row, c.column)).collect::<Vec<_>>(),
            [(0, 0), (0, 1), (1, 0), (1, 1)]
        );
        assert_ne!(cells[0].final_loss, cells[3].final_loss);
    }

    /// gd with weight decay wd on the sphere: x ← (1 − lr(2 + wd))x, so the
    /// distance to the minimum is r0·q^k with q = |1 − lr(2 + wd)| and the
    /// first step within TOL is ⌈ln(TOL/r0) / ln q⌉.
    #[test]
    fn steps_to_the_tolerance_follow_the_closed_form_on_the_sphere() {
        let sphere = surface::resolve("sphere").unwrap();
        let (lrs, wds) = ([0.05, 0.1, 0.2, 1e200], [0.0, 0.5, 1.0]);
        let grid = phase("gd", param("weight_decay", &["0", "0.5", "1"]), &lrs).unwrap();
        let tol = 1e-3;
        let criterion = Criterion::StepsTo(tol);
        let cells = run(&grid, &sphere, [0.6, 0.8], 200, criterion, || {}).unwrap();
        assert_eq!(cells.len(), 12);
        for cell in &cells {
            let (lr, wd) = (lrs[cell.column], wds[cell.row]);
            if lr == 1e200 {
                assert!(cell.diverged.is_some(), "{}", cell.spec);
                assert_eq!(cell.metric(criterion), None);
                continue;
            }
            let q = (1.0 - lr * (2.0 + wd)).abs();
            let expected = ((tol / 1.0f64).ln() / q.ln()).ceil() as usize;
            assert_eq!(cell.steps_to, Some(expected), "{}", cell.spec);
            assert_eq!(cell.metric(criterion), Some(expected as f64));
        }
        assert_eq!(cells[0].steps_to, Some(66), "q = 0.9");
    }

    #[test]
    fn the_grid_must_be_one_spec_one_numeric_key_and_increasing() {
        let m = || param("momentum", &["0.5", "0.9"]);
        let two = Phase::new(&["momentum".into(), "nag".into()], &[m()], &[0.1]);
        assert!(matches!(two, Err(PhaseError::Optimizers(2))));
        let none = Phase::new(&["momentum".into()], &[], &[0.1]);
        assert!(matches!(none, Err(PhaseError::Keys(0))));
        let both = Phase::new(
            &["momentum".into()],
            &[m(), param("dampening", &["0"])],
            &[0.1],
        );
        assert!(matches!(both, Err(PhaseError::Keys(2))));
        for lrs in [&[][..], &[0.0, 0.1], &[0.1, 0.01], &[0.1, 0.1]] {
            let err = phase("momentum", m(), lrs).unwrap_err();
            assert!(matches!(err, PhaseError::Lrs(_)), "{lrs:?}: {err}");
        }
        for values in [&["0.9", "0.5"][..], &["x"], &["nan"], &["0.5", "0.5"]] {
            let err = phase("momentum", param("momentum", values), &[0.1]).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("the values of 'momentum' in a phase diagram must be increasing"),
                "{err}"
            );
        }
        let unused = phase("gd", m(), &[0.1]).unwrap().jobs().unwrap_err();
        assert!(matches!(unused, SweepError::UnusedKey { .. }), "{unused}");
        let saddle = surface::resolve("saddle").unwrap();
        let grid = phase("momentum", m(), &[0.1]).unwrap();
        let no_minima = run(
            &grid,
            &saddle,
            [0.5, 0.0],
            5,
            Criterion::StepsTo(0.1),
            || {},
        );
        assert!(matches!(
            no_minima,
            Err(PhaseError::Tune(TuneError::NoMinima))
        ));
    }
}
