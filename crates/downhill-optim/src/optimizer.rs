//! The optimizer: parameter groups, their state, and the step loop.

use super::engine::{first_non_finite, UpdateGroup};
use super::gradient::{Raw, Zeroing};
use super::{AnyRule, Bufs, ObjectiveRun, Rule, RuleSet, Visit};
use crate::hyper::{KeyError, Value};
use crate::scalar::Scalar;
use crate::spec::ConfigError;
use std::ops::Range;
use thiserror::Error;

/// A parameter group: the sizes of its tensors, optionally their shapes,
/// and the keys it overrides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamGroup {
    pub sizes: Vec<usize>,
    /// One shape per tensor (row-major; its product is the tensor's size), or
    /// empty: every tensor is a vector of its size. Only rules whose update
    /// depends on the tensor ([`Rule::PER_TENSOR`]) look at shapes.
    pub shapes: Vec<Vec<usize>>,
    pub overrides: Vec<(String, Value)>,
}

impl ParamGroup {
    /// A group of tensors with the given element counts (vectors), using the optimizer's defaults.
    pub fn new(sizes: Vec<usize>) -> Self {
        ParamGroup {
            sizes,
            shapes: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// A group of tensors with the given shapes (`vec![vec![out, in], vec![out]]`).
    pub fn shaped(shapes: Vec<Vec<usize>>) -> Self {
        ParamGroup {
            sizes: shapes.iter().map(|s| s.iter().product()).collect(),
            shapes,
            overrides: Vec::new(),
        }
    }

    /// Every tensor's shape: the given ones, or one vector per size; an error
    /// if shapes are given that do not match the sizes.
    pub(crate) fn resolved_shapes(&self) -> Result<Vec<Vec<usize>>, String> {
        if self.shapes.is_empty() {
            return Ok(self.sizes.iter().map(|&n| vec![n]).collect());
        }
        if self.shapes.len() != self.sizes.len() {
            return Err(format!(
                "{} shapes for {} tensors",
                self.shapes.len(),
                self.sizes.len()
            ));
        }
        for (index, (shape, &size)) in self.shapes.iter().zip(&self.sizes).enumerate() {
            if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(size) {
                return Err(format!(
                    "tensor {index} has shape {shape:?}, which does not hold its {size} elements"
                ));
            }
        }
        Ok(self.shapes.clone())
    }

    /// Overrides one hyperparameter for this group (e.g. `("lr", Value::Float(0.1))`).
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.overrides.push((key.to_string(), value));
        self
    }
}

/// Why a step was refused. Nothing is changed when a step fails.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum StepError {
    #[error("{what} have {got} elements, the optimizer was built for {expected}")]
    Length {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what}: expected {expected} tensors, got {got}")]
    TensorCount {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what}: tensor {index} has {got} elements, expected {expected}")]
    TensorLength {
        what: &'static str,
        index: usize,
        expected: usize,
        got: usize,
    },
    #[error("gradient element {index} is {value} (not finite); the step was not applied")]
    NonFiniteGradient { index: usize, value: f64 },
    #[error(
        "{optimizer} evaluates the objective itself (at a look-ahead point or in a line search): use step_with and an objective"
    )]
    NeedsObjective { optimizer: &'static str },
    #[error("{optimizer} does not take sparse gradients (sparse_adam does)")]
    NotSparse { optimizer: &'static str },
    #[error("sparse gradient: {0}")]
    Sparse(String),
    #[error(
        "{what}: array {index} (shape {shape:?}, strides {strides:?}) is not contiguous in standard (row-major) layout; step its owner, or a `.as_standard_layout()` copy and write it back"
    )]
    NotContiguous {
        what: &'static str,
        index: usize,
        shape: Vec<usize>,
        strides: Vec<isize>,
    },
}

/// What a step does with a gradient that holds NaN or ±∞.
///
/// PyTorch lets such values flow into the parameters; `torch.cuda.amp.GradScaler`
/// skips the step instead. Here the caller chooses, and refusing is the default.
/// `Error` and `Skip` read the whole gradient once before writing anything (so
/// that a refused or skipped step changes nothing): one extra read of 4 bytes
/// (f32) or 8 bytes (f64) per parameter. `Zero` and `Propagate` take one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NonFinite {
    /// Refuse the step with [`StepError::NonFiniteGradient`]; nothing changes.
    #[default]
    Error,
    /// Skip the step: parameters, state and step count stay as they were.
    Skip,
    /// Replace each non-finite entry with zero and take the step.
    Zero,
    /// Take the step without looking (PyTorch's behaviour): NaN and ±∞ flow
    /// into the parameters and state. No scan, so the fastest step; for
    /// gradients already known to be finite.
    Propagate,
}

impl NonFinite {
    /// The policies by name, as the command line spells them.
    pub const NAMES: [(&'static str, NonFinite); 4] = [
        ("error", NonFinite::Error),
        ("skip", NonFinite::Skip),
        ("zero", NonFinite::Zero),
        ("propagate", NonFinite::Propagate),
    ];

    /// The policy's name, as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            NonFinite::Error => "error",
            NonFinite::Skip => "skip",
            NonFinite::Zero => "zero",
            NonFinite::Propagate => "propagate",
        }
    }
}

impl std::str::FromStr for NonFinite {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, policy)| policy)
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::NAMES.iter().map(|&(n, _)| n).collect();
                format!(
                    "unknown non-finite gradient policy '{name}' (valid: {})",
                    valid.join(", ")
                )
            })
    }
}

/// What a successful step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// The update was applied to every parameter.
    Applied,
    /// The gradient was not finite and the step was skipped ([`NonFinite::Skip`]);
    /// `index` and `value` describe the first bad entry.
    Skipped { index: usize, value: f64 },
    /// `count` non-finite entries were replaced with zero before the update ([`NonFinite::Zero`]).
    Zeroed { count: usize },
}

/// A step taken through an objective: the loss it reported and what the step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluated<T> {
    pub loss: T,
    pub outcome: Outcome,
}

/// The state of one group: step count, named scalars and buffers (buffer-major).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GroupState<T> {
    pub step: u64,
    pub scalars: Vec<f64>,
    pub buffers: Vec<T>,
    /// State beyond the per-element buffers, laid out by the rule ([`Rule::extra_len`](crate::Rule::extra_len)).
    pub extra: Vec<T>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group<T, R = AnyRule> {
    pub rule: R,
    pub sizes: Vec<usize>,
    /// One shape per tensor (vectors unless the group was given shapes).
    pub shapes: Vec<Vec<usize>>,
    pub offset: usize,
    pub len: usize,
    pub state: GroupState<T>,
}

impl<T: Scalar, R: RuleSet> Group<T, R> {
    pub(crate) fn fresh(
        rule: R,
        sizes: Vec<usize>,
        shapes: Vec<Vec<usize>>,
        offset: usize,
    ) -> Self {
        let len = sizes.iter().sum();
        let buffers = rule
            .buffers()
            .iter()
            .flat_map(|&(_, init)| std::iter::repeat_n(T::of(init), len))
            .collect();
        let scalars = rule.scalars().iter().map(|&(_, init)| init).collect();
        let extra = vec![T::zero(); rule.extra_len(&shapes)];
        Group {
            rule,
            sizes,
            shapes,
            offset,
            len,
            state: GroupState {
                step: 0,
                scalars,
                buffers,
                extra,
            },
        }
    }

    fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// An optimizer over a flat parameter vector, split into groups of tensors.
///
/// `R` is the rule: [`AnyRule`] (any built-in rule, chosen by spec) unless a
/// program fixes one, built-in or its own (see [`Rule`]).
///
/// ```
/// use downhill_optim::{build, Optimizer};
/// let mut opt = Optimizer::<f64>::new(build("adam:lr=0.1").unwrap(), 2).unwrap();
/// let mut theta = [1.0, -2.0];
/// let grad = [2.0 * theta[0], 2.0 * theta[1]];
/// opt.step(&mut theta, &grad).unwrap();
/// // Adam's first step moves each coordinate by lr against the gradient's sign.
/// assert!((theta[0] - 0.9).abs() < 1e-8 && (theta[1] + 1.9).abs() < 1e-8);
/// ```
#[derive(Clone, Debug)]
pub struct Optimizer<T: Scalar, R: RuleSet = AnyRule> {
    pub(crate) groups: Vec<Group<T, R>>,
    pub(crate) len: usize,
    /// Scratch for look-ahead points (empty unless a group needs one).
    point: Vec<T>,
    /// What to do with a non-finite gradient.
    non_finite: NonFinite,
}

/// Equal when hyperparameters and state are equal (scratch space is ignored).
impl<T: Scalar, R: RuleSet> PartialEq for Optimizer<T, R> {
    fn eq(&self, other: &Self) -> bool {
        self.groups == other.groups
    }
}

impl<T: Scalar, R: RuleSet> Optimizer<T, R> {
    /// One group with one tensor of `len` elements.
    pub fn new(rule: impl Into<R>, len: usize) -> Result<Self, ConfigError> {
        Self::with_groups(rule, vec![ParamGroup::new(vec![len])])
    }

    /// Several groups; each starts from `rule` and applies its overrides.
    pub fn with_groups(rule: impl Into<R>, groups: Vec<ParamGroup>) -> Result<Self, ConfigError> {
        let rule = rule.into();
        Self::with_rules(groups.into_iter().map(|g| (rule.clone(), g)).collect())
    }

    /// Several groups, each with its own rule (and its overrides): Muon for
    /// the weight matrices and AdamW for the rest, say. The groups' tensors
    /// follow one another in the flat parameter vector, in order.
    pub fn with_rules(groups: Vec<(R, ParamGroup)>) -> Result<Self, ConfigError> {
        let mut built = Vec::with_capacity(groups.len());
        let mut offset = 0;
        for (index, (rule, group)) in groups.into_iter().enumerate() {
            let owner = rule.name();
            rule.validate().map_err(|e| ConfigError::key(owner, e))?;
            let shape_error = |message| ConfigError::Shape {
                group: index,
                message,
            };
            let shapes = group.resolved_shapes().map_err(shape_error)?;
            let mut group_rule = rule;
            for (key, value) in &group.overrides {
                group_rule
                    .set(key, value)
                    .map_err(|e| ConfigError::key(owner, e))?;
            }
            group_rule
                .validate()
                .map_err(|e| ConfigError::key(owner, e))?;
            for shape in &shapes {
                group_rule.check_shape(shape).map_err(shape_error)?;
            }
            let g = Group::fresh(group_rule, group.sizes, shapes, offset);
            offset += g.len;
            built.push(g);
        }
        if let Some((owner, message)) = Self::group_count_error(&built) {
            return Err(ConfigError::key(owner, KeyError::Constraint(message)));
        }
        Ok(Self::from_groups(built))
    }

    /// Why these groups cannot be stepped together: a rule that evaluates
    /// the objective itself (L-BFGS) takes exactly one group, as PyTorch's.
    /// Returns the rule's name with the message.
    pub(crate) fn group_count_error(groups: &[Group<T, R>]) -> Option<(&'static str, String)> {
        let rule = &groups.iter().find(|g| g.rule.drives_objective())?.rule;
        (groups.len() != 1).then(|| {
            (
                rule.name(),
                format!(
                    "{} doesn't support per-parameter options (parameter groups): give one group, not {}",
                    rule.name(),
                    groups.len()
                ),
            )
        })
    }

    pub(crate) fn from_groups(groups: Vec<Group<T, R>>) -> Self {
        let len = groups.iter().map(|g| g.len).sum();
        let point = if groups.iter().any(|g| g.rule.needs_lookahead()) {
            vec![T::zero(); len]
        } else {
            Vec::new()
        };
        Optimizer {
            groups,
            len,
            point,
            non_finite: NonFinite::default(),
        }
    }

    /// Total number of parameters.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of parameter groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// The rule (hyperparameters) of group `group`.
    pub fn rule(&self, group: usize) -> &R {
        &self.groups[group].rule
    }

    /// Steps taken by group `group`.
    pub fn steps_taken(&self, group: usize) -> u64 {
        self.groups[group].state.step
    }

    /// A hyperparameter of group `group` (`None` for an unknown key or group).
    pub fn get(&self, group: usize, key: &str) -> Option<Value> {
        self.groups.get(group)?.rule.get(key)
    }

    /// The learning rate of group `group`.
    pub fn lr(&self, group: usize) -> f64 {
        self.groups[group].rule.lr()
    }

    /// Sets the learning rate of group `group`: a finite number ≥ 0, else an
    /// error and nothing changes.
    pub fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), ConfigError> {
        let rule = &mut self.groups[group].rule;
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(ConfigError::key(
                rule.name(),
                KeyError::out_of_range("lr", &Value::Float(lr), &crate::hyper::Check::NON_NEGATIVE),
            ));
        }
        rule.set_lr(lr);
        Ok(())
    }

    /// The momentum (or β₁ for the Adam family) of group `group`, if its rule has one.
    pub fn momentum(&self, group: usize) -> Option<f64> {
        self.groups[group].rule.momentum()
    }

    /// Sets the momentum (or β₁) of group `group`, checked like a spec; a
    /// value that would change the state buffers (momentum 0 ↔ > 0 in SGD) is
    /// refused. On error nothing changes.
    pub fn set_momentum(&mut self, group: usize, momentum: f64) -> Result<(), ConfigError> {
        self.groups[group].rule = Self::with_momentum(&self.groups[group].rule, momentum)?;
        Ok(())
    }

    /// Sets the lr of every group (what a schedule does). On error nothing changes.
    pub fn set_lr_all(&mut self, lr: f64) -> Result<(), ConfigError> {
        for group in 0..self.groups.len() {
            self.set_lr(group, lr)?;
        }
        Ok(())
    }

    /// Sets the momentum (or β₁) of every group, as [`Optimizer::set_momentum`].
    /// On error nothing changes.
    pub fn set_momentum_all(&mut self, momentum: f64) -> Result<(), ConfigError> {
        let updated = self
            .groups
            .iter()
            .map(|g| Self::with_momentum(&g.rule, momentum))
            .collect::<Result<Vec<_>, _>>()?;
        for (group, rule) in self.groups.iter_mut().zip(updated) {
            group.rule = rule;
        }
        Ok(())
    }

    fn with_momentum(rule: &R, momentum: f64) -> Result<R, ConfigError> {
        let owner = rule.name();
        if rule.momentum().is_none() {
            return Err(ConfigError::key(
                owner,
                KeyError::Constraint(format!("{owner} has no momentum or beta1 to set")),
            ));
        }
        let mut next = rule.clone();
        next.set_momentum(momentum);
        Self::check_update(rule, &next, "momentum")?;
        Ok(next)
    }

    /// State buffer `name` (e.g. `exp_avg`) of group `group`, one value per
    /// parameter of the group; `None` if the group's rule keeps no such buffer.
    pub fn buffer(&self, group: usize, name: &str) -> Option<&[T]> {
        let g = self.groups.get(group)?;
        let b = g.rule.buffers().iter().position(|(n, _)| *n == name)?;
        Some(&g.state.buffers[b * g.len..(b + 1) * g.len])
    }

    /// The extra state of group `group` ([`Rule::extra_len`](crate::Rule::extra_len):
    /// Adafactor's factored moments, L-BFGS's history), in the rule's layout.
    pub fn extra(&self, group: usize) -> Option<&[T]> {
        self.groups.get(group).map(|g| &g.state.extra[..])
    }

    /// What steps do with a non-finite gradient ([`NonFinite::Error`] unless set).
    pub fn non_finite(&self) -> NonFinite {
        self.non_finite
    }

    /// Chooses what steps do with a non-finite gradient. Not part of the saved state.
    pub fn set_non_finite(&mut self, policy: NonFinite) {
        self.non_finite = policy;
    }

    /// Sets a hyperparameter in every group (what a schedule does with `lr`).
    /// Checked like a spec; keys that would change the state layout are refused.
    /// On error nothing changes.
    pub fn set_all(&mut self, key: &str, value: &Value) -> Result<(), ConfigError> {
        let updated = self
            .groups
            .iter()
            .map(|g| Self::updated_rule(&g.rule, key, value))
            .collect::<Result<Vec<_>, _>>()?;
        for (group, rule) in self.groups.iter_mut().zip(updated) {
            group.rule = rule;
        }
        Ok(())
    }

    /// Sets a hyperparameter of one group.
    pub fn set(&mut self, group: usize, key: &str, value: &Value) -> Result<(), ConfigError> {
        let rule = Self::updated_rule(&self.groups[group].rule, key, value)?;
        self.groups[group].rule = rule;
        Ok(())
    }

    fn updated_rule(rule: &R, key: &str, value: &Value) -> Result<R, ConfigError> {
        let mut next = rule.clone();
        next.set(key, value)
            .map_err(|e| ConfigError::key(rule.name(), e))?;
        Self::check_update(rule, &next, key)?;
        Ok(next)
    }

    /// Checks a changed rule: every range, and the same state layout as before.
    fn check_update(rule: &R, next: &R, key: &str) -> Result<(), ConfigError> {
        let owner = rule.name();
        next.validate().map_err(|e| ConfigError::key(owner, e))?;
        // The extra state's length for a one-element probe tensor changes
        // with the keys that size it (L-BFGS's history_size).
        let names = |r: &R| {
            (
                r.buffers().iter().map(|b| b.0).collect::<Vec<_>>(),
                r.scalars().len(),
                r.extra_len(&[vec![1]]),
            )
        };
        if names(next) != names(rule) {
            return Err(ConfigError::key(
                owner,
                KeyError::Frozen {
                    key: key.into(),
                    why: "it changes the optimizer's state buffers",
                },
            ));
        }
        Ok(())
    }

    /// One update from gradients at the current parameters (PyTorch's `step()`).
    /// Refuses (changing nothing) on wrong lengths; a non-finite gradient is
    /// handled by the [`NonFinite`] policy.
    pub fn step(&mut self, params: &mut [T], grads: &[T]) -> Result<Outcome, StepError> {
        self.refuse_lookahead()?;
        self.check_lengths(params.len(), grads.len())?;
        self.guarded_flat(params, grads)
    }

    /// Updates under the [`NonFinite`] policy: `Error` and `Skip` scan the
    /// gradient first (`first_bad` gives the first bad entry's flat index and
    /// value) and update only a clean one; `Zero` updates in one pass reading
    /// bad entries as zero; `Propagate` updates without looking.
    /// `update(opt, zero_bad)` returns how many entries were read as zero.
    fn guarded(
        &mut self,
        first_bad: impl FnOnce() -> Option<(usize, f64)>,
        update: impl FnOnce(&mut Self, bool) -> usize,
    ) -> Result<Outcome, StepError> {
        let refuse = match self.non_finite {
            NonFinite::Propagate => {
                update(self, false);
                return Ok(Outcome::Applied);
            }
            NonFinite::Zero => {
                return Ok(match update(self, true) {
                    0 => Outcome::Applied,
                    count => Outcome::Zeroed { count },
                });
            }
            NonFinite::Error => true,
            NonFinite::Skip => false,
        };
        match first_bad() {
            None => {
                update(self, false);
                Ok(Outcome::Applied)
            }
            Some((index, value)) if refuse => Err(StepError::NonFiniteGradient { index, value }),
            Some((index, value)) => Ok(Outcome::Skipped { index, value }),
        }
    }

    /// Applies the update to a flat parameter vector (the group ranges of it).
    fn guarded_flat(&mut self, params: &mut [T], grads: &[T]) -> Result<Outcome, StepError> {
        let first_bad = || first_non_finite(&[grads]);
        self.guarded(first_bad, |opt, zero_bad| {
            let mut zeroed = 0;
            for group in &mut opt.groups {
                let range = group.range();
                let (p, g) = (&mut params[range.clone()], &grads[range]);
                zeroed += group.rule.visit(UpdateGroup {
                    state: &mut group.state,
                    params: &mut [p],
                    grads: &[g],
                    shapes: &group.shapes,
                    zero_bad,
                });
            }
            zeroed
        })
    }

    fn refuse_lookahead(&self) -> Result<(), StepError> {
        match self.groups.iter().find(|g| g.rule.needs_objective()) {
            Some(group) => Err(StepError::NeedsObjective {
                optimizer: group.rule.name(),
            }),
            None => Ok(()),
        }
    }

    /// One update through an objective that writes the gradient at the point
    /// it is given and returns the loss there (PyTorch's `step(closure)`).
    /// Rules that look ahead (`nag`) evaluate it away from `params`; rules
    /// that evaluate it themselves (`lbfgs`) call it as often as they need,
    /// and the [`NonFinite`] policy applies to every gradient it writes.
    /// Returns the loss the objective reported (its first, for `lbfgs`) with
    /// what the step did.
    pub fn step_with<F>(
        &mut self,
        params: &mut [T],
        grads: &mut [T],
        mut objective: F,
    ) -> Result<Evaluated<T>, StepError>
    where
        F: FnMut(&[T], &mut [T]) -> T,
    {
        self.check_lengths(params.len(), grads.len())?;
        if self.groups.iter().any(|g| g.rule.drives_objective()) {
            return self.step_driven(params, grads, objective);
        }
        let loss = if self.point.is_empty() {
            objective(params, grads)
        } else {
            for group in &mut self.groups {
                let range = group.range();
                let (p, point) = (&params[range.clone()], &mut self.point[range]);
                let len = group.len;
                let bufs = Bufs::over(&mut group.state.buffers, len, 0..len);
                group.rule.visit(Lookahead { bufs, p, point });
            }
            objective(&self.point, grads)
        };
        let outcome = self.guarded_flat(params, grads)?;
        Ok(Evaluated { loss, outcome })
    }

    /// A step of a rule that evaluates the objective itself, on its one
    /// group, with the [`NonFinite`] policy applied to every gradient.
    fn step_driven(
        &mut self,
        params: &mut [T],
        grads: &mut [T],
        mut objective: impl FnMut(&[T], &mut [T]) -> T,
    ) -> Result<Evaluated<T>, StepError> {
        let policy = self.non_finite;
        let (mut first_loss, mut bad, mut zeroed) = (None, None, 0);
        let guarded = |point: &[T], g: &mut [T]| -> Option<T> {
            let loss = objective(point, g);
            first_loss.get_or_insert(loss);
            match policy {
                NonFinite::Propagate => {}
                NonFinite::Zero => {
                    for x in g.iter_mut().filter(|x| !x.is_finite()) {
                        *x = T::zero();
                        zeroed += 1;
                    }
                }
                NonFinite::Error | NonFinite::Skip => {
                    bad = first_non_finite(&[&*g]);
                    if bad.is_some() {
                        return None;
                    }
                }
            }
            Some(loss)
        };
        let group = &mut self.groups[0];
        let run = ObjectiveRun {
            p: params,
            grad: grads,
            scalars: &mut group.state.scalars,
            extra: &mut group.state.extra,
            undo: matches!(policy, NonFinite::Error | NonFinite::Skip),
        };
        let ran = group.rule.visit(Driven {
            run,
            objective: guarded,
        });
        match (ran, bad) {
            (Some(loss), _) => {
                group.state.step += 1;
                let outcome = match zeroed {
                    0 => Outcome::Applied,
                    count => Outcome::Zeroed { count },
                };
                Ok(Evaluated { loss, outcome })
            }
            (None, Some((index, value))) if policy == NonFinite::Skip => Ok(Evaluated {
                loss: first_loss.unwrap_or_else(T::nan),
                outcome: Outcome::Skipped { index, value },
            }),
            (None, bad) => {
                let (index, value) = bad.unwrap_or((0, f64::NAN));
                Err(StepError::NonFiniteGradient { index, value })
            }
        }
    }

    /// One update of separately stored tensors, in group order.
    pub fn step_tensors(
        &mut self,
        params: &mut [&mut [T]],
        grads: &[&[T]],
    ) -> Result<Outcome, StepError> {
        self.refuse_lookahead()?;
        // Checked without collecting anything: a step allocates nothing.
        let count = self.groups.iter().map(|g| g.sizes.len()).sum::<usize>();
        for (what, got) in [("parameters", params.len()), ("gradients", grads.len())] {
            if got != count {
                return Err(StepError::TensorCount {
                    what,
                    expected: count,
                    got,
                });
            }
        }
        for (index, ((p, g), expected)) in params
            .iter()
            .zip(grads)
            .zip(self.groups.iter().flat_map(|g| g.sizes.iter().copied()))
            .enumerate()
        {
            for (what, got) in [("parameters", p.len()), ("gradients", g.len())] {
                if got != expected {
                    return Err(StepError::TensorLength {
                        what,
                        index,
                        expected,
                        got,
                    });
                }
            }
        }
        let first_bad = || first_non_finite(grads);
        self.guarded(first_bad, |opt, zero_bad| {
            let mut zeroed = 0;
            let mut first = 0;
            for group in &mut opt.groups {
                let count = group.sizes.len();
                let (p, g) = (
                    &mut params[first..first + count],
                    &grads[first..first + count],
                );
                zeroed += group.rule.visit(UpdateGroup {
                    state: &mut group.state,
                    params: p,
                    grads: g,
                    shapes: &group.shapes,
                    zero_bad,
                });
                first += count;
            }
            zeroed
        })
    }

    /// One update from a sparse gradient (PyTorch's `SparseAdam` with a
    /// sparse `grad`): the parameters are rows of `row_len` entries, and
    /// `values[k·row_len..(k+1)·row_len]` is the gradient of row `indices[k]`.
    /// Repeated rows are summed first (PyTorch's `coalesce`, in order); only
    /// the rows present are updated, their state included; the step count
    /// advances even when no row is present. Only for rules that take sparse
    /// gradients (`sparse_adam`) and one parameter group. Refuses, changing
    /// nothing, on a row out of range or lengths that do not fit; a
    /// non-finite value is handled by the [`NonFinite`] policy.
    pub fn step_sparse(
        &mut self,
        params: &mut [T],
        row_len: usize,
        indices: &[usize],
        values: &[T],
    ) -> Result<Outcome, StepError> {
        let [group] = &mut self.groups[..] else {
            return Err(StepError::Sparse(format!(
                "the optimizer has {} parameter groups; sparse steps take one",
                self.groups.len()
            )));
        };
        if !group.rule.takes_sparse() {
            return Err(StepError::NotSparse {
                optimizer: group.rule.name(),
            });
        }
        let len = group.len;
        if params.len() != len {
            return Err(StepError::Length {
                what: "parameters",
                expected: len,
                got: params.len(),
            });
        }
        if row_len == 0 || len % row_len != 0 {
            return Err(StepError::Sparse(format!(
                "rows of {row_len} entries do not divide the {len} parameters"
            )));
        }
        if values.len() != indices.len() * row_len {
            return Err(StepError::Sparse(format!(
                "{} values for {} rows of {row_len}",
                values.len(),
                indices.len()
            )));
        }
        let rows = len / row_len;
        if let Some(&bad) = indices.iter().find(|&&r| r >= rows) {
            return Err(StepError::Sparse(format!(
                "row {bad} is out of range (the parameters hold {rows} rows)"
            )));
        }
        // Coalesce: rows in increasing order, repeats summed in their order.
        let mut order: Vec<usize> = (0..indices.len()).collect();
        order.sort_by_key(|&k| indices[k]);
        let mut rows_present: Vec<usize> = Vec::new();
        let mut summed: Vec<T> = Vec::with_capacity(values.len());
        for k in order {
            let row = &values[k * row_len..(k + 1) * row_len];
            if rows_present.last() == Some(&indices[k]) {
                let at = summed.len() - row_len;
                for (s, &v) in summed[at..].iter_mut().zip(row) {
                    *s = *s + v;
                }
            } else {
                rows_present.push(indices[k]);
                summed.extend_from_slice(row);
            }
        }
        let first_bad = || first_non_finite(&[&summed[..]]);
        let (rows_present, summed) = (&rows_present, &summed);
        self.guarded(first_bad, |opt, zero_bad| {
            let group = &mut opt.groups[0];
            group.rule.visit(SparseStep {
                state: &mut group.state,
                len,
                row_len,
                rows: rows_present,
                values: summed,
                params,
                zero_bad,
            })
        })
    }

    /// Writes into `x` the point at which a model with parameters `params`
    /// is evaluated: Schedule-Free's x = lerp(y, z, 1 − 1/β) (the reference
    /// package's `eval()`, without changing the parameters), `params` itself
    /// for every other rule. Both must have [`Optimizer::len`] elements.
    pub fn evaluation_point(&self, params: &[T], x: &mut [T]) -> Result<(), StepError> {
        for (what, got) in [("parameters", params.len()), ("evaluation points", x.len())] {
            if got != self.len {
                return Err(StepError::Length {
                    what,
                    expected: self.len,
                    got,
                });
            }
        }
        for group in &self.groups {
            let range = group.range();
            let buffers: Vec<&[T]> = group.state.buffers.chunks(group.len.max(1)).collect();
            group.rule.visit(Evaluation {
                step: group.state.step,
                buffers: &buffers,
                p: &params[range.clone()],
                x: &mut x[range],
            });
        }
        Ok(())
    }

    fn check_lengths(&self, params: usize, grads: usize) -> Result<(), StepError> {
        for (what, got) in [("parameters", params), ("gradients", grads)] {
            if got != self.len {
                return Err(StepError::Length {
                    what,
                    expected: self.len,
                    got,
                });
            }
        }
        Ok(())
    }
}

/// One sparse step of a group ([`Optimizer::step_sparse`]): the rule over
/// each present row, with that row's state.
struct SparseStep<'a, T> {
    state: &'a mut GroupState<T>,
    len: usize,
    row_len: usize,
    rows: &'a [usize],
    values: &'a [T],
    params: &'a mut [T],
    zero_bad: bool,
}

impl<T: Scalar> Visit for SparseStep<'_, T> {
    type Output = usize;
    fn visit<R: Rule>(self, rule: &R) -> usize {
        let SparseStep {
            state,
            len,
            row_len,
            rows,
            values,
            params,
            zero_bad,
        } = self;
        state.step += 1;
        let coeffs = rule.begin_step(state.step, &mut state.scalars);
        let mut zeroed = 0;
        for (&row, g) in rows.iter().zip(values.chunks(row_len.max(1))) {
            let range = row * row_len..(row + 1) * row_len;
            let bufs = Bufs::over(&mut state.buffers, len, range.clone());
            let p = &mut params[range];
            if zero_bad {
                let mut read = Zeroing::new(g);
                rule.apply(&coeffs, bufs, p, &mut read);
                zeroed += g.iter().filter(|x| !x.is_finite()).count();
            } else {
                rule.apply(&coeffs, bufs, p, &mut Raw(g));
            }
        }
        zeroed
    }
}

/// One step of a rule that evaluates the objective itself ([`Rule::step_objective`]).
struct Driven<'a, T, F> {
    run: ObjectiveRun<'a, T>,
    objective: F,
}

impl<T: Scalar, F: FnMut(&[T], &mut [T]) -> Option<T>> Visit for Driven<'_, T, F> {
    type Output = Option<T>;
    fn visit<R: Rule>(self, rule: &R) -> Option<T> {
        rule.step_objective(self.run, self.objective)
    }
}

/// Writes a group's evaluation point ([`Rule::evaluation_point`]).
struct Evaluation<'a, T> {
    step: u64,
    buffers: &'a [&'a [T]],
    p: &'a [T],
    x: &'a mut [T],
}

impl<T: Scalar> Visit for Evaluation<'_, T> {
    type Output = ();
    fn visit<R: Rule>(self, rule: &R) {
        if !self.p.is_empty() {
            rule.evaluation_point(self.step, self.buffers, self.p, self.x)
        }
    }
}

/// Writes a group's look-ahead point ([`Rule::lookahead`]; its parameters for
/// rules without one).
struct Lookahead<'a, T> {
    bufs: Bufs<'a, T>,
    p: &'a [T],
    point: &'a mut [T],
}

impl<T: Scalar> Visit for Lookahead<'_, T> {
    type Output = ();
    fn visit<R: Rule>(self, rule: &R) {
        if R::LOOKAHEAD {
            rule.lookahead(self.bufs, self.p, self.point)
        } else {
            self.point.copy_from_slice(self.p)
        }
    }
}
