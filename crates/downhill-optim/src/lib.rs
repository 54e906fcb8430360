//! # downhill-optim
//!
//! Gradient-descent optimizers numerically identical to PyTorch's `torch.optim`
//! (same defaults, formulas and operation order), with validated
//! hyperparameters, explicit state and one update rule each. No I/O; its only
//! dependencies are serde, thiserror, num-traits and (feature `parallel`, on
//! by default) rayon.
//!
//! An [`Optimizer`] owns the state of a flat parameter vector split into
//! parameter groups (each with its own hyperparameters, as PyTorch's
//! `param_groups`). Each algorithm is a [`Rule`]: a hyperparameter struct with a
//! per-step scalar part ([`Rule::begin_step`]) and an elementwise part
//! ([`Rule::apply`]), in PyTorch's operation order. The step engine runs the
//! elementwise part over every tensor, across threads, and applies the
//! [`NonFinite`] policy for every rule.
//!
//! ```
//! use downhill_optim::{build, Optimizer};
//! // Minimise f(θ) = θ₀² + 10·θ₁² with Adam.
//! let mut opt = Optimizer::<f32>::new(build("adam:lr=0.05").unwrap(), 2).unwrap();
//! let mut theta = [3.0f32, -2.0];
//! for _ in 0..500 {
//!     let grad = [2.0 * theta[0], 20.0 * theta[1]];
//!     opt.step(&mut theta, &grad).unwrap();
//! }
//! assert!(theta[0].abs() < 1e-2 && theta[1].abs() < 1e-2);
//! // The learning rate is typed, per group (what a schedule changes).
//! opt.set_lr(0, 0.01).unwrap();
//! assert_eq!(opt.lr(0), 0.01);
//! ```
//!
//! Your own update rule runs through the same engine (threads, groups, state
//! save/load, the non-finite policies): see [`Rule`].

pub mod hyper;
pub mod scalar;
pub mod spec;

mod adadelta;
mod adafactor;
mod adagrad;
mod adam;
mod adamax;
mod adan;
mod ademamix;
mod adopt;
#[cfg(feature = "ndarray")]
mod array;
mod asgd;
mod averaged;
mod bufs;
mod engine;
pub mod explain;
mod gradient;
mod lamb;
mod lars;
mod lbfgs;
mod lion;
mod muon;
mod nadam;
mod nag;
pub mod ops;
mod optimizer;
mod prodigy;
mod radam;
mod registry;
mod rmsprop;
mod rprop;
mod schedulefree;
mod sgd;
mod sparse_adam;
pub mod state;

pub use adadelta::Adadelta;
pub use adafactor::{Adafactor, AdafactorStep};
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adan::Adan;
pub use ademamix::Ademamix;
pub use adopt::{Adopt, ADOPT_CLIPS};
pub use asgd::Asgd;
pub use averaged::{Averaged, Averaging};
pub use bufs::Bufs;
pub use gradient::Gradient;
pub use lamb::{Lamb, LambStep};
pub use lars::{Lars, LarsStep};
pub use lbfgs::{Lbfgs, LINE_SEARCHES};
pub use lion::Lion;
pub use muon::{newton_schulz, Muon, MUON_ADJUSTMENTS};
pub use nadam::Nadam;
pub use nag::Nag;
pub use optimizer::{Evaluated, NonFinite, Optimizer, Outcome, ParamGroup, StepError};
pub use prodigy::{Prodigy, ProdigyStep};
pub use radam::Radam;
pub use registry::{build, Entry, OPTIMIZERS};
pub use rmsprop::Rmsprop;
pub use rprop::Rprop;
pub use scalar::Scalar;
pub use schedulefree::{ScheduleFreeStep, SchedulefreeAdamw, SchedulefreeSgd};
pub use sgd::Sgd;
pub use sparse_adam::{SparseAdam, SparseAdamStep};
pub use spec::ConfigError;
pub use state::{SavedGroup, SavedState, StateError};

use crate::hyper::{Hyper, KeyError, KeyInfo, Value};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

/// One optimization algorithm: hyperparameters plus its update.
///
/// A rule is a hyperparameter struct (usually declared with
/// [`hyperparams!`], which gives it key-by-name access for specs and groups)
/// with a per-step scalar part and an elementwise part. (The macro derives
/// serde's traits: a crate that uses it depends on `serde` with `derive`.) The engine calls
/// [`Rule::begin_step`] once per group and step, then [`Rule::apply`] on runs
/// of elements (possibly on several threads at once); the gradient is read
/// through a [`Gradient`], which applies the optimizer's [`NonFinite`] policy,
/// so no rule can forget it.
///
/// A rule defined outside this crate, sign-SGD (θ ← θ − η·sign(g)):
///
/// ```
/// use downhill_optim::{hyperparams, hyper::Check, Bufs, Gradient, Optimizer, Rule, Scalar};
///
/// hyperparams! {
///     /// Sign-SGD: θ ← θ − η·sign(g) (Bernstein et al., ICML 2018).
///     pub struct SignSgd {
///         /// learning rate η
///         lr: f64 = 0.01, Check::NON_NEGATIVE;
///     }
/// }
///
/// impl Rule for SignSgd {
///     type Coeffs = ();
///     const NAME: &'static str = "signsgd";
///     fn buffers(&self) -> Vec<(&'static str, f64)> { vec![] }
///     fn lr(&self) -> f64 { self.lr }
///     fn set_lr(&mut self, lr: f64) { self.lr = lr }
///     fn begin_step(&self, _step: u64, _scalars: &mut [f64]) {}
///     fn apply<T: Scalar, G: Gradient<T>>(&self, _: &(), _: Bufs<'_, T>, p: &mut [T], g: &mut G) {
///         let step = T::of(self.lr);
///         for (p, g) in p.iter_mut().zip(g.values()) {
///             *p = *p - step * if g == T::zero() { g } else { g.signum() };
///         }
///     }
/// }
///
/// let mut opt = Optimizer::<f64, SignSgd>::new(SignSgd { lr: 0.5 }, 2).unwrap();
/// let mut theta = [1.0, -1.0];
/// opt.step(&mut theta, &[3.0, -0.1]).unwrap();
/// assert_eq!(theta, [0.5, -0.5]);
/// ```
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

    /// The learning rate η (what schedules read).
    fn lr(&self) -> f64;

    /// Sets the learning rate (what schedules write); the optimizer checks the value.
    fn set_lr(&mut self, lr: f64);

    /// The momentum a cyclic schedule cycles: `momentum`, or β₁ for the Adam
    /// family (PyTorch's `cycle_momentum`); `None` for rules without one.
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Sets what [`Rule::momentum`] reads; the optimizer checks the result.
    fn set_momentum(&mut self, _momentum: f64) {}

    /// Starts step `step` (1 for the first): updates the scalar state and
    /// returns the coefficients [`Rule::apply`] uses.
    fn begin_step(&self, step: u64, scalars: &mut [f64]) -> Self::Coeffs;

    /// The elementwise update of parameters `p` (one run of a group's
    /// elements) with their gradient `g`, state buffers `bufs` of the same
    /// run. Every rule implements it but a `WHOLE_TENSOR` one, which the
    /// engine steps through [`Rule::step_tensor`] instead.
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        _coeffs: &Self::Coeffs,
        _bufs: Bufs<'_, T>,
        _p: &mut [T],
        _g: &mut G,
    ) {
        debug_assert!(Self::WHOLE_TENSOR, "{} implements no update", Self::NAME);
    }

    /// Writes the point at which the next gradient is wanted (only when `LOOKAHEAD`).
    fn lookahead<T: Scalar>(&self, _bufs: Bufs<'_, T>, p: &[T], point: &mut [T]) {
        point.copy_from_slice(p);
    }

    /// Whether the rule takes sparse gradients ([`Optimizer::step_sparse`]:
    /// only the rows present are updated, state included).
    const SPARSE: bool = false;

    /// Whether a model should be evaluated somewhere other than at the
    /// parameters ([`Rule::evaluation_point`]; Schedule-Free's x).
    const EVALUATION_POINT: bool = false;

    /// Writes the point at which a model is evaluated for the parameters `p`
    /// of one run, after `step` steps, with the run's state `buffers` (in
    /// declaration order): `p` itself unless `EVALUATION_POINT`.
    fn evaluation_point<T: Scalar>(&self, _step: u64, _buffers: &[&[T]], p: &[T], x: &mut [T]) {
        x.copy_from_slice(p);
    }

    /// Whether the update of an element depends on its tensor: its shape
    /// (LARS treats vectors and matrices differently) or sums over all of its
    /// elements (LAMB's and LARS's norms, [`Rule::TENSOR_SUMS`]). Such rules
    /// are stepped tensor by tensor, each with its own coefficients from
    /// [`Rule::tensor_coeffs`]; the others over runs that may span tensors.
    const PER_TENSOR: bool = false;

    /// How many sums over each tensor [`Rule::sum`] computes before the update
    /// (at most [`MAX_TENSOR_SUMS`]; only with `PER_TENSOR`).
    const TENSOR_SUMS: usize = 0;

    /// How many sums over the whole group [`Rule::sum`] computes before the
    /// update (at most [`MAX_TENSOR_SUMS`]; not with `PER_TENSOR`): the engine
    /// runs `sum` over every tensor of the group (in an order fixed by
    /// position), then [`Rule::group_coeffs`], then `apply` over the group.
    const GROUP_SUMS: usize = 0;

    /// The first pass over a run of one tensor of `shape` (only when
    /// `TENSOR_SUMS > 0` or `GROUP_SUMS > 0`): adds each element's squares or
    /// products to `squares` (sum `k`, element `i` of the run:
    /// [`ops::Squares::add`], [`ops::Squares::add_product`]; the element's
    /// place in its tensor: [`ops::Squares::index_in_tensor`]); may update the
    /// parameters and state first (LAMB's decay and moments). Mark it
    /// `#[inline(always)]`, as `apply`: the engine compiles both into its
    /// AVX2 and FMA loops.
    fn sum<T: Scalar, G: Gradient<T>>(
        &self,
        _coeffs: &Self::Coeffs,
        _shape: &[usize],
        _bufs: Bufs<'_, T>,
        _p: &mut [T],
        _g: &mut G,
        _squares: &mut ops::Squares,
    ) {
    }

    /// Checks that the rule can step a tensor of `shape` (Muon takes matrices
    /// only); the error says what shapes are valid.
    fn check_shape(&self, _shape: &[usize]) -> Result<(), String> {
        Ok(())
    }

    /// Whether the rule updates each tensor as a whole ([`Rule::step_tensor`])
    /// rather than element by element: Adafactor's factored second moment,
    /// Muon's orthogonalised matrices. Such rules are stepped tensor by
    /// tensor, each tensor on one thread.
    const WHOLE_TENSOR: bool = false;

    /// How many values of state the rule keeps for a group of tensors of
    /// `shapes` besides its per-element buffers, laid out by the rule and
    /// zero at first (Adafactor's m + n row and column moments of an m×n
    /// matrix; L-BFGS's history). For a `WHOLE_TENSOR` rule the group's
    /// length is the sum of its tensors' lengths, and each tensor gets its own
    /// part, in order.
    fn extra_len(&self, _shapes: &[Vec<usize>]) -> usize {
        0
    }

    /// The update of one whole tensor (only when `WHOLE_TENSOR`): its
    /// parameters, shape, per-element buffers and part of the extra state;
    /// read each gradient entry once.
    fn step_tensor<T: Scalar, G: Gradient<T>>(
        &self,
        _coeffs: &Self::Coeffs,
        _tensor: WholeTensor<'_, T>,
        _g: &mut G,
    ) {
    }

    /// The coefficients [`Rule::apply`] gets for one tensor, from the step's
    /// and the tensor's shape and sums (only with `PER_TENSOR`; computed in
    /// `T` where the reference computes in the tensor's dtype).
    fn tensor_coeffs<T: Scalar>(&self, coeffs: &Self::Coeffs, _tensor: Tensor<'_>) -> Self::Coeffs {
        *coeffs
    }

    /// The coefficients [`Rule::apply`] gets for the whole group, from the
    /// step's and the finished [`Rule::sum`]s over the group (only with
    /// `GROUP_SUMS`); may update the scalar state (Prodigy's d).
    fn group_coeffs(
        &self,
        coeffs: &Self::Coeffs,
        _sums: &[f64],
        _scalars: &mut [f64],
    ) -> Self::Coeffs {
        *coeffs
    }

    /// Whether the rule evaluates the objective itself, as often as it
    /// needs, in one step ([`Rule::step_objective`]: L-BFGS's inner
    /// iterations and line search). Such a rule takes one parameter group and
    /// steps only through [`Optimizer::step_with`].
    const NEEDS_OBJECTIVE: bool = false;

    /// One whole step of a group through `objective` (only when
    /// `NEEDS_OBJECTIVE`), which writes the gradient at a point and returns
    /// the loss there, or `None` when the step must stop (a non-finite
    /// gradient under [`NonFinite::Error`] or [`NonFinite::Skip`]). Returns
    /// the loss of the first evaluation, or `None` once the objective stopped
    /// the step: then, when `run.undo` is set, parameters and state must be as
    /// they were before the step.
    fn step_objective<T: Scalar, F: FnMut(&[T], &mut [T]) -> Option<T>>(
        &self,
        _run: ObjectiveRun<'_, T>,
        _objective: F,
    ) -> Option<T> {
        None
    }
}

/// Writes a rule's [`Rule::lr`] and [`Rule::set_lr`] over its field `lr`
/// (`rates!(lr)`), and with a second field also [`Rule::momentum`] and
/// [`Rule::set_momentum`] over it (`rates!(lr, beta1)`): inside `impl Rule`.
#[macro_export]
macro_rules! rates {
    ($lr:ident) => {
        fn lr(&self) -> f64 {
            self.$lr
        }

        fn set_lr(&mut self, lr: f64) {
            self.$lr = lr;
        }
    };
    ($lr:ident, $momentum:ident) => {
        $crate::rates!($lr);

        fn momentum(&self) -> Option<f64> {
            Some(self.$momentum)
        }

        fn set_momentum(&mut self, momentum: f64) {
            self.$momentum = momentum;
        }
    };
}

/// The most sums over a tensor or a group a rule may ask for
/// ([`Rule::TENSOR_SUMS`], [`Rule::GROUP_SUMS`]).
pub const MAX_TENSOR_SUMS: usize = 4;

/// One tensor as [`Rule::tensor_coeffs`] sees it: its shape (a flat vector
/// of `n` elements is `[n]`) and the finished [`Rule::sum`]s over all of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tensor<'a> {
    pub shape: &'a [usize],
    pub sums: &'a [f64],
}

/// One tensor as [`Rule::step_tensor`] updates it.
pub struct WholeTensor<'a, T> {
    /// The tensor's shape (a flat vector of `n` elements is `[n]`).
    pub shape: &'a [usize],
    /// The parameters, in row-major order.
    pub p: &'a mut [T],
    /// The per-element state buffers of these elements.
    pub bufs: Bufs<'a, T>,
    /// This tensor's part of the extra state ([`Rule::extra_len`]).
    pub extra: &'a mut [T],
}

/// One parameter group as [`Rule::step_objective`] steps it.
pub struct ObjectiveRun<'a, T> {
    /// The parameters.
    pub p: &'a mut [T],
    /// A buffer as long as `p` for gradients.
    pub grad: &'a mut [T],
    /// The group's scalar state ([`Rule::scalars`]).
    pub scalars: &'a mut [f64],
    /// The group's extra state ([`Rule::extra_len`]).
    pub extra: &'a mut [T],
    /// Whether a stopped step must leave `p`, `scalars` and `extra` as they were.
    pub undo: bool,
}

impl Tensor<'_> {
    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
}

/// Something that runs code on a concrete [`Rule`]: how an [`Optimizer`] over
/// a set of rules chosen at run time (such as [`AnyRule`]) reaches the typed
/// update loop of the one it holds.
pub trait Visit {
    type Output;
    fn visit<R: Rule>(self, rule: &R) -> Self::Output;
}

/// The rules an [`Optimizer`] can hold: any one [`Rule`] (serialisable), or a
/// set of them chosen at run time such as [`AnyRule`].
pub trait RuleSet:
    Hyper + Clone + Debug + PartialEq + Send + Sync + Serialize + DeserializeOwned
{
    /// The algorithm's name (`adamw` is `adam` with decoupled decay).
    fn name(&self) -> &'static str;
    /// Runs `visitor` on the concrete rule.
    fn visit<V: Visit>(&self, visitor: V) -> V::Output;
    /// The learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate (unchecked; [`Optimizer::set_lr`] checks).
    fn set_lr(&mut self, lr: f64);
    /// The momentum or β₁ a cyclic schedule cycles, if the rule has one.
    fn momentum(&self) -> Option<f64>;
    /// Sets what [`RuleSet::momentum`] reads (unchecked).
    fn set_momentum(&mut self, momentum: f64);

    /// Checks every key's range and the cross-key constraints.
    fn validate(&self) -> Result<(), KeyError> {
        struct Validate;
        impl Visit for Validate {
            type Output = Result<(), KeyError>;
            fn visit<R: Rule>(self, rule: &R) -> Self::Output {
                rule.check_ranges()?;
                rule.constraints()
            }
        }
        self.visit(Validate)
    }

    /// The per-element state buffers with their initial values.
    fn buffers(&self) -> Vec<(&'static str, f64)> {
        struct Buffers;
        impl Visit for Buffers {
            type Output = Vec<(&'static str, f64)>;
            fn visit<R: Rule>(self, rule: &R) -> Self::Output {
                rule.buffers()
            }
        }
        self.visit(Buffers)
    }

    /// The per-group scalar state with initial values.
    fn scalars(&self) -> Vec<(&'static str, f64)> {
        struct Scalars;
        impl Visit for Scalars {
            type Output = Vec<(&'static str, f64)>;
            fn visit<R: Rule>(self, rule: &R) -> Self::Output {
                rule.scalars()
            }
        }
        self.visit(Scalars)
    }

    /// Whether the rule wants the gradient at a look-ahead point (needs an objective).
    fn needs_lookahead(&self) -> bool {
        struct Lookahead;
        impl Visit for Lookahead {
            type Output = bool;
            fn visit<R: Rule>(self, _: &R) -> bool {
                R::LOOKAHEAD
            }
        }
        self.visit(Lookahead)
    }

    /// Whether a step needs an objective: the rule looks ahead or evaluates
    /// the objective itself ([`Rule::NEEDS_OBJECTIVE`]).
    fn needs_objective(&self) -> bool {
        self.needs_lookahead() || self.drives_objective()
    }

    /// Whether the rule evaluates the objective itself ([`Rule::NEEDS_OBJECTIVE`]).
    fn drives_objective(&self) -> bool {
        struct Drives;
        impl Visit for Drives {
            type Output = bool;
            fn visit<R: Rule>(self, _: &R) -> bool {
                R::NEEDS_OBJECTIVE
            }
        }
        self.visit(Drives)
    }

    /// Whether the rule takes sparse gradients ([`Rule::SPARSE`]).
    fn takes_sparse(&self) -> bool {
        struct Sparse;
        impl Visit for Sparse {
            type Output = bool;
            fn visit<R: Rule>(self, _: &R) -> bool {
                R::SPARSE
            }
        }
        self.visit(Sparse)
    }

    /// Whether models are evaluated away from the parameters ([`Rule::EVALUATION_POINT`]).
    fn has_evaluation_point(&self) -> bool {
        struct Evaluation;
        impl Visit for Evaluation {
            type Output = bool;
            fn visit<R: Rule>(self, _: &R) -> bool {
                R::EVALUATION_POINT
            }
        }
        self.visit(Evaluation)
    }

    /// Whether the update depends on the tensor ([`Rule::PER_TENSOR`] or
    /// [`Rule::WHOLE_TENSOR`]): its shape or sums over it, so that a
    /// non-finite gradient entry reaches the whole tensor under
    /// [`NonFinite::Propagate`].
    fn per_tensor(&self) -> bool {
        struct PerTensor;
        impl Visit for PerTensor {
            type Output = bool;
            fn visit<R: Rule>(self, _: &R) -> bool {
                R::PER_TENSOR || R::WHOLE_TENSOR
            }
        }
        self.visit(PerTensor)
    }

    /// Checks that the rule can step a tensor of `shape` ([`Rule::check_shape`]).
    fn check_shape(&self, shape: &[usize]) -> Result<(), String> {
        struct CheckShape<'a>(&'a [usize]);
        impl Visit for CheckShape<'_> {
            type Output = Result<(), String>;
            fn visit<R: Rule>(self, rule: &R) -> Self::Output {
                rule.check_shape(self.0)
            }
        }
        self.visit(CheckShape(shape))
    }

    /// Whether each tensor is updated as a whole ([`Rule::WHOLE_TENSOR`]).
    fn whole_tensor(&self) -> bool {
        struct Whole;
        impl Visit for Whole {
            type Output = bool;
            fn visit<R: Rule>(self, _: &R) -> bool {
                R::WHOLE_TENSOR
            }
        }
        self.visit(Whole)
    }

    /// The length of the extra state for tensors of `shapes` ([`Rule::extra_len`]).
    fn extra_len(&self, shapes: &[Vec<usize>]) -> usize {
        struct Extra<'a>(&'a [Vec<usize>]);
        impl Visit for Extra<'_> {
            type Output = usize;
            fn visit<R: Rule>(self, rule: &R) -> usize {
                rule.extra_len(self.0)
            }
        }
        self.visit(Extra(shapes))
    }

    /// Whether the update depends on sums over the whole group
    /// ([`Rule::GROUP_SUMS`]), so that a non-finite gradient entry reaches
    /// the whole group under [`NonFinite::Propagate`].
    fn group_sums(&self) -> bool {
        struct GroupSums;
        impl Visit for GroupSums {
            type Output = bool;
            fn visit<R: Rule>(self, _: &R) -> bool {
                R::GROUP_SUMS > 0
            }
        }
        self.visit(GroupSums)
    }

    /// Bytes one step must read and write per parameter with `elem`-byte
    /// elements: parameter and gradient read, parameter written, and every
    /// state buffer read and written.
    fn bytes_per_param(&self, elem: usize) -> usize {
        (3 + 2 * self.buffers().len()) * elem
    }
}

impl<R: Rule + Serialize + DeserializeOwned> RuleSet for R {
    fn name(&self) -> &'static str {
        R::NAME
    }
    fn visit<V: Visit>(&self, visitor: V) -> V::Output {
        visitor.visit(self)
    }
    fn lr(&self) -> f64 {
        Rule::lr(self)
    }
    fn set_lr(&mut self, lr: f64) {
        Rule::set_lr(self, lr)
    }
    fn momentum(&self) -> Option<f64> {
        Rule::momentum(self)
    }
    fn set_momentum(&mut self, momentum: f64) {
        Rule::set_momentum(self, momentum)
    }
}

/// Declares [`AnyRule`] over the built-in rules, with `From` for each and the
/// dispatch every [`RuleSet`] method goes through.
macro_rules! any_rule {
    ($($variant:ident),* $(,)?) => {
        /// Any of the built-in rules, chosen at run time (by spec or from a state file).
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum AnyRule {
            $($variant($variant),)*
        }

        $(impl From<$variant> for AnyRule {
            fn from(rule: $variant) -> Self {
                AnyRule::$variant(rule)
            }
        })*

        impl AnyRule {
            /// The rule's hyperparameters, by key.
            pub fn hyper(&self) -> &dyn Hyper {
                match self {
                    $(AnyRule::$variant(r) => r,)*
                }
            }

            /// The rule's hyperparameters, by key, to change.
            pub fn hyper_mut(&mut self) -> &mut dyn Hyper {
                match self {
                    $(AnyRule::$variant(r) => r,)*
                }
            }
        }

        impl RuleSet for AnyRule {
            fn name(&self) -> &'static str {
                match self {
                    $(AnyRule::$variant(r) => RuleSet::name(r),)*
                }
            }
            fn visit<V: Visit>(&self, visitor: V) -> V::Output {
                match self {
                    $(AnyRule::$variant(r) => visitor.visit(r),)*
                }
            }
            fn lr(&self) -> f64 {
                match self {
                    $(AnyRule::$variant(r) => Rule::lr(r),)*
                }
            }
            fn set_lr(&mut self, lr: f64) {
                match self {
                    $(AnyRule::$variant(r) => Rule::set_lr(r, lr),)*
                }
            }
            fn momentum(&self) -> Option<f64> {
                match self {
                    $(AnyRule::$variant(r) => Rule::momentum(r),)*
                }
            }
            fn set_momentum(&mut self, momentum: f64) {
                match self {
                    $(AnyRule::$variant(r) => Rule::set_momentum(r, momentum),)*
                }
            }
        }
    };
}

any_rule!(
    Sgd,
    Adagrad,
    Rmsprop,
    Adadelta,
    Adam,
    Nadam,
    Radam,
    Adamax,
    Rprop,
    Asgd,
    Nag,
    Lion,
    Adopt,
    Ademamix,
    Adan,
    Lamb,
    Lars,
    Prodigy,
    SchedulefreeSgd,
    SchedulefreeAdamw,
    SparseAdam,
    Muon,
    Adafactor,
    Lbfgs,
);

impl Hyper for AnyRule {
    fn keys(&self) -> Vec<KeyInfo> {
        self.hyper().keys()
    }
    fn get(&self, key: &str) -> Option<Value> {
        self.hyper().get(key)
    }
    fn set(&mut self, key: &str, value: &Value) -> Result<(), KeyError> {
        self.hyper_mut().set(key, value)
    }
    fn set_text(&mut self, key: &str, raw: &str) -> Result<(), KeyError> {
        self.hyper_mut().set_text(key, raw)
    }
    fn check_ranges(&self) -> Result<(), KeyError> {
        self.hyper().check_ranges()
    }
}
