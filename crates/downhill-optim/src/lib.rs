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
mod adagrad;
mod adam;
mod adamax;
mod adan;
mod ademamix;
mod adopt;
mod asgd;
mod bufs;
mod engine;
mod gradient;
mod lion;
mod nadam;
mod nag;
pub mod ops;
mod optimizer;
mod radam;
mod registry;
mod rmsprop;
mod rprop;
mod sgd;
pub mod state;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adan::Adan;
pub use ademamix::Ademamix;
pub use adopt::{Adopt, ADOPT_CLIPS};
pub use asgd::Asgd;
pub use bufs::Bufs;
pub use gradient::Gradient;
pub use lion::Lion;
pub use nadam::Nadam;
pub use nag::Nag;
pub use optimizer::{Evaluated, NonFinite, Optimizer, Outcome, ParamGroup, StepError};
pub use radam::Radam;
pub use registry::{build, Entry, OPTIMIZERS};
pub use rmsprop::Rmsprop;
pub use rprop::Rprop;
pub use scalar::Scalar;
pub use sgd::Sgd;
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
    /// elements) with their gradient `g`, state buffers `bufs` of the same run.
    fn apply<T: Scalar, G: Gradient<T>>(
        &self,
        coeffs: &Self::Coeffs,
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &mut G,
    );

    /// Writes the point at which the next gradient is wanted (only when `LOOKAHEAD`).
    fn lookahead<T: Scalar>(&self, _bufs: Bufs<'_, T>, p: &[T], point: &mut [T]) {
        point.copy_from_slice(p);
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
        #[serde(rename_all = "lowercase")]
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
    Sgd, Adagrad, Rmsprop, Adadelta, Adam, Nadam, Radam, Adamax, Rprop, Asgd, Nag, Lion, Adopt,
    Ademamix, Adan
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
