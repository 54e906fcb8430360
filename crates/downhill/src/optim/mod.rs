//! Optimizers: validated hyperparameters, explicit state, and one update rule each.
//!
//! An [`Optimizer`] owns the state of a flat parameter vector split into
//! parameter groups (each with its own hyperparameters, as PyTorch's
//! `param_groups`). Each algorithm is a [`Rule`]: a hyperparameter struct with a
//! per-step scalar part ([`Rule::begin_step`]) and an elementwise part
//! ([`Rule::apply`]), in PyTorch's operation order.

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod asgd;
mod bufs;
mod engine;
mod nadam;
mod nag;
pub(crate) mod ops;
mod optimizer;
mod radam;
mod registry;
mod rmsprop;
mod rprop;
mod sgd;
mod state;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use asgd::Asgd;
pub use bufs::Bufs;
pub use nadam::Nadam;
pub use nag::Nag;
pub use optimizer::{Evaluated, NonFinite, Optimizer, Outcome, ParamGroup, StepError};
pub use radam::Radam;
pub use registry::{build, Entry, OPTIMIZERS};
pub use rmsprop::Rmsprop;
pub use rprop::Rprop;
pub use sgd::Sgd;
pub use state::{SavedGroup, SavedState, StateError};

use crate::hyper::{Hyper, KeyError};
use crate::scalar::Scalar;
use std::fmt::Debug;

/// One optimization algorithm: hyperparameters plus its update.
pub trait Rule: Hyper + Clone + Debug + PartialEq + Send + Sync {
    /// Scalars computed once per step for a whole group (bias corrections, η_t…).
    type Coeffs: Copy + Send + Sync;
    /// The algorithm's name in state files.
    const NAME: &'static str;
    /// Whether the gradient is taken at a look-ahead point ([`Rule::lookahead`]).
    const LOOKAHEAD: bool = false;

    /// Checks that involve several keys (each key's own range is checked already).
    fn constraints(&self) -> Result<(), KeyError> {
        Ok(())
    }

    /// The per-element state buffers with their initial values.
    fn buffers(&self) -> Vec<(&'static str, f64)>;

    /// The per-group scalar state with initial values.
    fn scalars(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Starts step `step` (1 for the first): updates the scalar state and
    /// returns the coefficients [`Rule::apply`] uses.
    fn begin_step(&self, step: u64, scalars: &mut [f64]) -> Self::Coeffs;

    /// The elementwise update of parameters `p` with gradients `g`, each entry
    /// read through an [`ops::Reader`]: with `CLEAN`, NaN and ±∞ count as zero
    /// and the result says whether there were any (always `false` without).
    fn apply<T: Scalar, const CLEAN: bool>(
        &self,
        coeffs: &Self::Coeffs,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &[T],
    ) -> bool;

    /// Writes the point at which the next gradient is wanted (only when `LOOKAHEAD`).
    fn lookahead<T: Scalar>(&self, _bufs: Bufs<'_, T>, p: &[T], point: &mut [T]) {
        point.copy_from_slice(p);
    }
}

/// Any of the built-in rules, chosen at run time (by spec or from a state file).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnyRule {
    Sgd(Sgd),
    Adagrad(Adagrad),
    Rmsprop(Rmsprop),
    Adadelta(Adadelta),
    Adam(Adam),
    Nadam(Nadam),
    Radam(Radam),
    Adamax(Adamax),
    Rprop(Rprop),
    Asgd(Asgd),
    Nag(Nag),
}

/// Runs `$body` with `$rule` bound to the concrete rule inside an [`AnyRule`].
macro_rules! with_rule {
    ($any:expr, $rule:ident => $body:expr) => {
        match $any {
            AnyRule::Sgd($rule) => $body,
            AnyRule::Adagrad($rule) => $body,
            AnyRule::Rmsprop($rule) => $body,
            AnyRule::Adadelta($rule) => $body,
            AnyRule::Adam($rule) => $body,
            AnyRule::Nadam($rule) => $body,
            AnyRule::Radam($rule) => $body,
            AnyRule::Adamax($rule) => $body,
            AnyRule::Rprop($rule) => $body,
            AnyRule::Asgd($rule) => $body,
            AnyRule::Nag($rule) => $body,
        }
    };
}
pub(crate) use with_rule;

impl AnyRule {
    /// The algorithm's name (`adamw` is `adam` with decoupled decay).
    pub fn name(&self) -> &'static str {
        fn name_of<R: Rule>(_: &R) -> &'static str {
            R::NAME
        }
        with_rule!(self, r => name_of(r))
    }

    pub fn hyper(&self) -> &dyn Hyper {
        with_rule!(self, r => r)
    }

    pub fn hyper_mut(&mut self) -> &mut dyn Hyper {
        with_rule!(self, r => r)
    }

    /// Checks every key's range and the cross-key constraints.
    pub fn validate(&self) -> Result<(), KeyError> {
        with_rule!(self, r => {
            r.check_ranges()?;
            r.constraints()
        })
    }

    pub fn buffers(&self) -> Vec<(&'static str, f64)> {
        with_rule!(self, r => r.buffers())
    }

    pub fn scalars(&self) -> Vec<(&'static str, f64)> {
        with_rule!(self, r => r.scalars())
    }

    /// Bytes one step must read and write per parameter with `elem`-byte
    /// elements: parameter and gradient read, parameter written, and every
    /// state buffer read and written.
    pub fn bytes_per_param(&self, elem: usize) -> usize {
        (3 + 2 * self.buffers().len()) * elem
    }

    /// Whether the rule wants the gradient at a look-ahead point (needs an objective).
    pub fn needs_lookahead(&self) -> bool {
        fn lookahead_of<R: Rule>(_: &R) -> bool {
            R::LOOKAHEAD
        }
        with_rule!(self, r => lookahead_of(r))
    }
}
