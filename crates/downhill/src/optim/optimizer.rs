//! The optimizer: parameter groups, their state, and the step loop.

use super::{with_rule, AnyRule, Bufs, Rule};
use crate::hyper::{KeyError, Value};
use crate::scalar::Scalar;
use crate::spec::ConfigError;
use std::ops::Range;
use thiserror::Error;

/// A parameter group: the sizes of its tensors and the keys it overrides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamGroup {
    pub sizes: Vec<usize>,
    pub overrides: Vec<(String, Value)>,
}

impl ParamGroup {
    /// A group of tensors with the given element counts, using the optimizer's defaults.
    pub fn new(sizes: Vec<usize>) -> Self {
        ParamGroup {
            sizes,
            overrides: Vec::new(),
        }
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
        "{optimizer} takes its gradient at a look-ahead point: use step_with and an objective"
    )]
    NeedsObjective { optimizer: &'static str },
}

/// What a step does with a gradient that holds NaN or ±∞.
///
/// PyTorch lets such values flow into the parameters; `torch.cuda.amp.GradScaler`
/// skips the step instead. Here the caller chooses, and refusing is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NonFinite {
    /// Refuse the step with [`StepError::NonFiniteGradient`]; nothing changes.
    #[default]
    Error,
    /// Skip the step: parameters, state and step count stay as they were.
    Skip,
    /// Replace each non-finite entry with zero and take the step.
    Zero,
}

impl NonFinite {
    /// The policies by name, as the command line spells them.
    pub const NAMES: [(&'static str, NonFinite); 3] = [
        ("error", NonFinite::Error),
        ("skip", NonFinite::Skip),
        ("zero", NonFinite::Zero),
    ];
}

impl std::str::FromStr for NonFinite {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, policy)| policy)
            .ok_or_else(|| {
                format!("unknown non-finite gradient policy '{name}' (valid: error, skip, zero)")
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
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group<T> {
    pub rule: AnyRule,
    pub sizes: Vec<usize>,
    pub offset: usize,
    pub len: usize,
    pub state: GroupState<T>,
}

impl<T: Scalar> Group<T> {
    pub(crate) fn fresh(rule: AnyRule, sizes: Vec<usize>, offset: usize) -> Self {
        let len = sizes.iter().sum();
        let buffers = rule
            .buffers()
            .iter()
            .flat_map(|&(_, init)| std::iter::repeat_n(T::of(init), len))
            .collect();
        let scalars = rule.scalars().iter().map(|&(_, init)| init).collect();
        Group {
            rule,
            sizes,
            offset,
            len,
            state: GroupState {
                step: 0,
                scalars,
                buffers,
            },
        }
    }

    fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// An optimizer over a flat parameter vector, split into groups of tensors.
///
/// ```
/// use downhill::optim::{build, Optimizer};
/// let mut opt = Optimizer::<f64>::new(build("adam:lr=0.1").unwrap(), 2).unwrap();
/// let mut theta = [1.0, -2.0];
/// let grad = [2.0 * theta[0], 2.0 * theta[1]];
/// opt.step(&mut theta, &grad).unwrap();
/// // Adam's first step moves each coordinate by lr against the gradient's sign.
/// assert!((theta[0] - 0.9).abs() < 1e-8 && (theta[1] + 1.9).abs() < 1e-8);
/// ```
#[derive(Clone, Debug)]
pub struct Optimizer<T: Scalar> {
    pub(crate) groups: Vec<Group<T>>,
    pub(crate) len: usize,
    /// Scratch for look-ahead points (empty unless a group needs one).
    point: Vec<T>,
    /// What to do with a non-finite gradient.
    non_finite: NonFinite,
    /// Scratch for a cleaned gradient (used only by [`NonFinite::Zero`] when needed).
    clean: Vec<T>,
}

/// Equal when hyperparameters and state are equal (scratch space is ignored).
impl<T: Scalar> PartialEq for Optimizer<T> {
    fn eq(&self, other: &Self) -> bool {
        self.groups == other.groups
    }
}

impl<T: Scalar> Optimizer<T> {
    /// One group with one tensor of `len` elements.
    pub fn new(rule: AnyRule, len: usize) -> Result<Self, ConfigError> {
        Self::with_groups(rule, vec![ParamGroup::new(vec![len])])
    }

    /// Several groups; each starts from `rule` and applies its overrides.
    pub fn with_groups(rule: AnyRule, groups: Vec<ParamGroup>) -> Result<Self, ConfigError> {
        let owner = rule.name();
        rule.validate().map_err(|e| ConfigError::key(owner, e))?;
        let mut built = Vec::with_capacity(groups.len());
        let mut offset = 0;
        for group in groups {
            let mut group_rule = rule.clone();
            for (key, value) in &group.overrides {
                group_rule
                    .hyper_mut()
                    .set(key, value)
                    .map_err(|e| ConfigError::key(owner, e))?;
            }
            group_rule
                .validate()
                .map_err(|e| ConfigError::key(owner, e))?;
            let g = Group::fresh(group_rule, group.sizes, offset);
            offset += g.len;
            built.push(g);
        }
        Ok(Self::from_groups(built))
    }

    pub(crate) fn from_groups(groups: Vec<Group<T>>) -> Self {
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
            clean: Vec::new(),
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
    pub fn rule(&self, group: usize) -> &AnyRule {
        &self.groups[group].rule
    }

    /// Steps taken by group `group`.
    pub fn steps_taken(&self, group: usize) -> u64 {
        self.groups[group].state.step
    }

    /// A hyperparameter of group `group` (`None` for an unknown key or group).
    pub fn get(&self, group: usize, key: &str) -> Option<Value> {
        self.groups.get(group)?.rule.hyper().get(key)
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

    fn updated_rule(rule: &AnyRule, key: &str, value: &Value) -> Result<AnyRule, ConfigError> {
        let owner = rule.name();
        let mut next = rule.clone();
        next.hyper_mut()
            .set(key, value)
            .map_err(|e| ConfigError::key(owner, e))?;
        next.validate().map_err(|e| ConfigError::key(owner, e))?;
        let names = |r: &AnyRule| {
            (
                r.buffers().iter().map(|b| b.0).collect::<Vec<_>>(),
                r.scalars().len(),
            )
        };
        if names(&next) != names(rule) {
            return Err(ConfigError::key(
                owner,
                KeyError::Frozen {
                    key: key.into(),
                    why: "it changes the optimizer's state buffers",
                },
            ));
        }
        Ok(next)
    }

    /// One update from gradients at the current parameters (PyTorch's `step()`).
    /// Refuses (changing nothing) on wrong lengths; a non-finite gradient is
    /// handled by the [`NonFinite`] policy.
    pub fn step(&mut self, params: &mut [T], grads: &[T]) -> Result<Outcome, StepError> {
        self.refuse_lookahead()?;
        self.check_lengths(params.len(), grads.len())?;
        self.screened_apply(params, grads)
    }

    /// Applies the update unless the policy says otherwise about a non-finite gradient.
    fn screened_apply(&mut self, params: &mut [T], grads: &[T]) -> Result<Outcome, StepError> {
        let Some(index) = first_non_finite(grads) else {
            self.apply(params, grads);
            return Ok(Outcome::Applied);
        };
        let value = grads[index].widen();
        match self.non_finite {
            NonFinite::Error => Err(StepError::NonFiniteGradient { index, value }),
            NonFinite::Skip => Ok(Outcome::Skipped { index, value }),
            NonFinite::Zero => {
                let mut clean = std::mem::take(&mut self.clean);
                let count = zeroed_copy(grads, &mut clean);
                self.apply(params, &clean);
                self.clean = clean;
                Ok(Outcome::Zeroed { count })
            }
        }
    }

    fn refuse_lookahead(&self) -> Result<(), StepError> {
        match self.groups.iter().find(|g| g.rule.needs_lookahead()) {
            Some(group) => Err(StepError::NeedsObjective {
                optimizer: group.rule.name(),
            }),
            None => Ok(()),
        }
    }

    /// One update through an objective that writes the gradient at the point
    /// it is given and returns the loss there (PyTorch's `step(closure)`).
    /// Rules that look ahead (`nag`) evaluate it away from `params`.
    /// Returns the loss the objective reported with what the step did.
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
        let loss = if self.point.is_empty() {
            objective(params, grads)
        } else {
            for group in &mut self.groups {
                let range = group.range();
                let (p, point) = (&params[range.clone()], &mut self.point[range]);
                let len = group.len;
                let bufs = Bufs::over(&mut group.state.buffers, len, 0..len);
                with_rule!(&group.rule, r => if group.rule.needs_lookahead() {
                    r.lookahead(bufs, p, point)
                } else {
                    point.copy_from_slice(p)
                });
            }
            objective(&self.point, grads)
        };
        let outcome = self.screened_apply(params, grads)?;
        Ok(Evaluated { loss, outcome })
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
        let mut base = 0;
        for g in grads {
            if let Some(i) = first_non_finite(g) {
                return self.tensors_with_bad_gradient(params, grads, base + i, g[i].widen());
            }
            base += g.len();
        }
        self.apply_tensors(params, grads);
        Ok(Outcome::Applied)
    }

    /// [`Optimizer::step_tensors`] once a non-finite entry (the first is at
    /// flat `index`) was found: the policy decides. The rare path, so it may allocate.
    fn tensors_with_bad_gradient(
        &mut self,
        params: &mut [&mut [T]],
        grads: &[&[T]],
        index: usize,
        value: f64,
    ) -> Result<Outcome, StepError> {
        match self.non_finite {
            NonFinite::Error => Err(StepError::NonFiniteGradient { index, value }),
            NonFinite::Skip => Ok(Outcome::Skipped { index, value }),
            NonFinite::Zero => {
                let mut cleaned: Vec<Vec<T>> = Vec::with_capacity(grads.len());
                let mut count = 0;
                for g in grads {
                    let mut clean = Vec::new();
                    count += zeroed_copy(g, &mut clean);
                    cleaned.push(clean);
                }
                let views: Vec<&[T]> = cleaned.iter().map(Vec::as_slice).collect();
                self.apply_tensors(params, &views);
                Ok(Outcome::Zeroed { count })
            }
        }
    }

    fn apply_tensors(&mut self, params: &mut [&mut [T]], grads: &[&[T]]) {
        let mut first = 0;
        for group in &mut self.groups {
            let count = group.sizes.len();
            let (p, g) = (
                &mut params[first..first + count],
                &grads[first..first + count],
            );
            with_rule!(&group.rule, r => update_tensors(r, &mut group.state, &group.sizes, p, g));
            first += count;
        }
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

    fn apply(&mut self, params: &mut [T], grads: &[T]) {
        for group in &mut self.groups {
            let range = group.range();
            let (p, g) = (&mut params[range.clone()], &grads[range]);
            with_rule!(&group.rule, r => update_tensors(r, &mut group.state, &[p.len()], &mut [p], &[g]));
        }
    }
}

/// One step of one group whose tensors are `params` (sizes `sizes`, laid out
/// one after another in the group's state buffers).
fn update_tensors<T: Scalar, R: Rule>(
    rule: &R,
    state: &mut GroupState<T>,
    sizes: &[usize],
    params: &mut [&mut [T]],
    grads: &[&[T]],
) {
    state.step += 1;
    let coeffs = rule.begin_step(state.step, &mut state.scalars);
    let len = sizes.iter().sum();
    let mut start = 0;
    for ((p, g), &size) in params.iter_mut().zip(grads).zip(sizes) {
        let bufs = Bufs::over(&mut state.buffers, len, start..start + size);
        apply_split(rule, &coeffs, bufs, p, g);
        start += size;
    }
}

/// Elements per parallel task: large enough that scheduling costs are noise.
pub(crate) const GRAIN: usize = 1 << 15;

/// Applies `rule` to a run of elements, split across rayon's threads when the
/// run is long. Every element gets the same arithmetic either way, so results
/// do not depend on the number of threads.
fn apply_split<T: Scalar, R: Rule>(
    rule: &R,
    coeffs: &R::Coeffs,
    bufs: Bufs<'_, T>,
    p: &mut [T],
    g: &[T],
) {
    if p.len() < 2 * GRAIN || rayon::current_num_threads() == 1 {
        apply_leaf(rule, coeffs, bufs, p, g);
        return;
    }
    let mid = p.len() / 2 / GRAIN * GRAIN;
    let (left, right) = bufs.split_at(mid);
    let (p_left, p_right) = p.split_at_mut(mid);
    let (g_left, g_right) = g.split_at(mid);
    rayon::join(
        || apply_split(rule, coeffs, left, p_left, g_left),
        || apply_split(rule, coeffs, right, p_right, g_right),
    );
}

/// The rule's loop over one run, compiled for AVX2 when the processor has it.
/// Without FMA contraction the arithmetic is the same IEEE operations either
/// way, so the results are bit-identical; only the vector width differs.
fn apply_leaf<T: Scalar, R: Rule>(
    rule: &R,
    coeffs: &R::Coeffs,
    bufs: Bufs<'_, T>,
    p: &mut [T],
    g: &[T],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        return unsafe { apply_avx2(rule, coeffs, bufs, p, g) };
    }
    rule.apply(coeffs, bufs, p, g)
}

/// [`Rule::apply`] inlined into a function compiled with AVX2 enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn apply_avx2<T: Scalar, R: Rule>(
    rule: &R,
    coeffs: &R::Coeffs,
    bufs: Bufs<'_, T>,
    p: &mut [T],
    g: &[T],
) {
    rule.apply(coeffs, bufs, p, g)
}

/// The index of the first NaN or ±∞ in `grads`, found by a vectorised scan.
fn first_non_finite<T: Scalar>(grads: &[T]) -> Option<usize> {
    use rayon::prelude::*;
    let bad = if grads.len() < 2 * GRAIN || rayon::current_num_threads() == 1 {
        has_non_finite(grads)
    } else {
        grads.par_chunks(GRAIN).any(has_non_finite)
    };
    bad.then(|| grads.iter().position(|g| !g.is_finite()))
        .flatten()
}

/// Writes `grads` into `clean` with every non-finite entry replaced by zero;
/// returns how many were replaced.
fn zeroed_copy<T: Scalar>(grads: &[T], clean: &mut Vec<T>) -> usize {
    clean.clear();
    clean.extend(
        grads
            .iter()
            .map(|&g| if g.is_finite() { g } else { T::zero() }),
    );
    grads.iter().filter(|g| !g.is_finite()).count()
}

/// A branch-free OR over the whole run (no early exit, so it vectorises).
fn has_non_finite<T: Scalar>(values: &[T]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        return unsafe { has_non_finite_avx2(values) };
    }
    values.iter().fold(false, |bad, x| bad | !x.is_finite())
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn has_non_finite_avx2<T: Scalar>(values: &[T]) -> bool {
    values.iter().fold(false, |bad, x| bad | !x.is_finite())
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::optim::build;

    /// The AVX2 build of every update loop against the baseline (SSE2) build
    /// of the same loop: bit-identical parameters and state.
    fn compare<T: Scalar>(spec: &str) {
        let rule = build(spec).unwrap();
        let n = 1003;
        let mut plain = Group::<T>::fresh(rule.clone(), vec![n], 0);
        let mut wide = plain.clone();
        let mut p_plain: Vec<T> = (0..n)
            .map(|i| T::of(((i * 37) % 101) as f64 / 50.0 - 1.0))
            .collect();
        let mut p_wide = p_plain.clone();
        for step in 0..5 {
            let g: Vec<T> = (0..n)
                .map(|i| T::of((((i + step) * 13) % 29) as f64 * 1e-2 - 0.14))
                .collect();
            with_rule!(&rule, r => step_both(r, [&mut plain.state, &mut wide.state], [&mut p_plain, &mut p_wide], &g));
        }
        let bits = |v: &[T]| v.iter().map(|x| x.widen().to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p_plain), bits(&p_wide), "{spec} ({})", T::DTYPE);
        assert_eq!(
            bits(&plain.state.buffers),
            bits(&wide.state.buffers),
            "{spec} ({})",
            T::DTYPE
        );
    }

    /// One step of the baseline loop on the first state and of the AVX2 loop on the second.
    fn step_both<T: Scalar, R: Rule>(
        rule: &R,
        states: [&mut GroupState<T>; 2],
        params: [&mut [T]; 2],
        g: &[T],
    ) {
        let n = g.len();
        let [plain, wide] = states;
        let [p_plain, p_wide] = params;
        plain.step += 1;
        let coeffs = rule.begin_step(plain.step, &mut plain.scalars);
        rule.apply(&coeffs, Bufs::over(&mut plain.buffers, n, 0..n), p_plain, g);
        wide.step += 1;
        let coeffs = rule.begin_step(wide.step, &mut wide.scalars);
        // SAFETY: only called after the AVX2 check in the test.
        unsafe {
            apply_avx2(
                rule,
                &coeffs,
                Bufs::over(&mut wide.buffers, n, 0..n),
                p_wide,
                g,
            )
        };
    }

    #[test]
    fn avx2_loops_match_the_baseline_loops() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("this processor has no AVX2: only the baseline loops run here");
            return;
        }
        for spec in [
            "sgd:lr=0.01,momentum=0.9,dampening=0.1,weight_decay=0.01,maximize=true",
            "sgd:lr=0.01,momentum=0.9,nesterov=true",
            "gd:lr=0.1",
            "nag",
            "adagrad:lr=0.1,lr_decay=0.01,weight_decay=0.1",
            "rmsprop:centered=true,momentum=0.5,weight_decay=0.1",
            "rmsprop",
            "adadelta",
            "adam:amsgrad=true,weight_decay=0.1",
            "adamw:beta1=0.6",
            "nadam:decoupled_weight_decay=true,weight_decay=0.1",
            "radam",
            "adamax:weight_decay=0.1",
            "rprop",
            "asgd:t0=2,weight_decay=0.1",
        ] {
            compare::<f32>(spec);
            compare::<f64>(spec);
        }
    }

    #[test]
    fn the_finiteness_scan_finds_every_kind_of_bad_value() {
        let mut values = vec![1.0f32; 5000];
        assert!(!has_non_finite(&values));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            values[4321] = bad;
            assert!(has_non_finite(&values));
        }
    }
}
