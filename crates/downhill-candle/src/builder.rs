//! Building an [`Optimizer`]: variables by name, groups by name pattern,
//! schedule, clipping and the non-finite policy.

use crate::glob::matches;
use crate::step::Core;
use crate::{Inner, Optimizer};
use candle_core::{DType, Result, Var};
use candle_nn::VarMap;
use downhill_optim::hyper::Hyper;
use downhill_optim::spec::split_top_level;
use downhill_optim::{build, AnyRule, NonFinite, ParamGroup};
use downhill_schedule::{AnySchedule, Scheduler};

fn error(message: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::Msg(message.to_string())
}

/// Configures an [`Optimizer`] over named variables.
///
/// Each variable goes to the first group whose pattern ([`matches`]) its
/// name fits, else to the default group (group 0, the base rule). Groups
/// that no variable fits are dropped. Variables are ordered by name within
/// each group.
///
/// ```
/// # use candle_core::{DType, Device};
/// # use candle_nn::{VarBuilder, VarMap};
/// # let varmap = VarMap::new();
/// # let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
/// # candle_nn::linear(4, 2, vb.pp("fc")).unwrap();
/// let opt = downhill_candle::Builder::new(&varmap, "adamw:lr=3e-4,weight_decay=0.1")
///     .unwrap()
///     .group("*.bias", "weight_decay=0")
///     .unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(opt.names(), ["fc.weight", "fc.bias"]);
/// ```
pub struct Builder {
    vars: Vec<(String, Var)>,
    rule: AnyRule,
    groups: Vec<(String, AnyRule)>,
    schedule: Option<AnySchedule>,
    clip: Option<f64>,
    non_finite: NonFinite,
    staged: bool,
}

impl Builder {
    /// Every variable of `varmap`, stepped by the rule of `spec`
    /// (`"adamw:lr=3e-4,weight_decay=0.1"`, as [`downhill_optim::build`]).
    pub fn new(varmap: &VarMap, spec: &str) -> Result<Self> {
        let vars: Vec<(String, Var)> = varmap
            .data()
            .lock()
            .map_err(|_| error("the VarMap's lock is poisoned"))?
            .iter()
            .map(|(name, var)| (name.clone(), var.clone()))
            .collect();
        Ok(Self::from_named(vars, build(spec).map_err(error)?))
    }

    /// The given named variables, stepped by `rule`.
    pub fn from_named(
        vars: impl IntoIterator<Item = (String, Var)>,
        rule: impl Into<AnyRule>,
    ) -> Self {
        let mut vars: Vec<(String, Var)> = vars.into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        Builder {
            vars,
            rule: rule.into(),
            groups: Vec::new(),
            schedule: None,
            clip: None,
            non_finite: NonFinite::default(),
            staged: false,
        }
    }

    /// A group of the variables whose names fit `pattern`, with the base
    /// rule's hyperparameters overridden by `overrides` (`"weight_decay=0,lr=0.01"`).
    pub fn group(self, pattern: &str, overrides: &str) -> Result<Self> {
        let mut rule = self.rule.clone();
        for pair in split_top_level(overrides, ',').map_err(error)? {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| error(format!("group override '{pair}' is not key=value")))?;
            rule.set_text(key.trim(), value.trim())
                .map_err(|e| error(format!("group '{pattern}': {e}")))?;
        }
        Ok(self.group_rule(pattern, rule))
    }

    /// A group of the variables whose names fit `pattern`, stepped by its own rule.
    pub fn group_rule(mut self, pattern: &str, rule: impl Into<AnyRule>) -> Self {
        self.groups.push((pattern.to_string(), rule.into()));
        self
    }

    /// Drives every group's lr with `schedule` (from the group's own lr).
    pub fn schedule(mut self, schedule: AnySchedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// Rescales all gradients together by `min(1, max / (‖g‖ + 1e-6))` before
    /// each step (`downhill::train::Clip::GlobalNorm`, PyTorch's `clip_grad_norm_`).
    pub fn clip_global_norm(mut self, max: f64) -> Self {
        self.clip = Some(max);
        self
    }

    /// What a step does with a non-finite gradient (default: refuse it).
    pub fn non_finite(mut self, policy: NonFinite) -> Self {
        self.non_finite = policy;
        self
    }

    /// Steps through host copies written back with `Var::set` even when every
    /// variable is on the CPU: the staged path that variables on CUDA or
    /// Metal always take (same results, bit for bit; slower). For tests and
    /// comparisons; CPU variables are otherwise stepped in place.
    pub fn staged(mut self) -> Self {
        self.staged = true;
        self
    }

    /// Checks the configuration and creates the state.
    pub fn build(self) -> Result<Optimizer> {
        if let Some(max) = self.clip {
            if !(max > 0.0 && max.is_finite()) {
                return Err(error(format!(
                    "clip max norm must be positive and finite, got {max}"
                )));
            }
        }
        for (i, (name, var)) in self.vars.iter().enumerate() {
            if let Some((other, _)) = self.vars[..i].iter().find(|(_, v)| v.id() == var.id()) {
                return Err(error(format!(
                    "variables '{other}' and '{name}' are the same tensor"
                )));
            }
        }
        let mut members: Vec<Vec<(String, Var)>> = vec![Vec::new(); self.groups.len() + 1];
        let mut dtypes = Vec::new();
        let mut staged = self.staged;
        for (name, var) in self.vars {
            staged |= !var.device().is_cpu();
            match var.dtype() {
                DType::F32 | DType::BF16 | DType::F16 | DType::F64 => {
                    dtypes.push(var.dtype() == DType::F64)
                }
                other => {
                    return Err(error(format!(
                        "variable '{name}' has dtype {other:?}; valid: f32, f64, bf16, f16"
                    )))
                }
            }
            let at = self
                .groups
                .iter()
                .position(|(p, _)| matches(p, &name))
                .map_or(0, |g| g + 1);
            members[at].push((name, var));
        }
        let wide = dtypes.first().copied().unwrap_or(false);
        if dtypes.iter().any(|&d| d != wide) {
            return Err(error("f64 variables cannot share an optimizer with f32/bf16/f16 ones; use one optimizer each"));
        }
        let base_rule = self.rule.clone();
        let rules = std::iter::once(self.rule).chain(self.groups.into_iter().map(|(_, r)| r));
        let mut groups = Vec::new();
        let (mut names, mut vars) = (Vec::new(), Vec::new());
        for (rule, members) in rules.zip(members) {
            if members.is_empty() {
                continue;
            }
            let shapes = members.iter().map(|(_, v)| v.dims().to_vec()).collect();
            groups.push((rule, ParamGroup::shaped(shapes)));
            for (name, var) in members {
                names.push(name);
                vars.push(var);
            }
        }
        if groups.is_empty() {
            groups.push((base_rule, ParamGroup::shaped(Vec::new())));
        }
        let base = groups
            .iter()
            .map(|(r, _)| downhill_optim::RuleSet::lr(r))
            .collect::<Vec<_>>();
        let core = if wide {
            let mut opt = downhill_optim::Optimizer::with_rules(groups).map_err(error)?;
            opt.set_non_finite(self.non_finite);
            Inner::F64(Core::new(opt, vars.len(), staged))
        } else {
            let mut opt = downhill_optim::Optimizer::with_rules(groups).map_err(error)?;
            opt.set_non_finite(self.non_finite);
            Inner::F32(Core::new(opt, vars.len(), staged))
        };
        let schedulers = match self.schedule {
            Some(schedule) => base
                .into_iter()
                .map(|lr| Scheduler::new(schedule.clone(), lr).map_err(error))
                .collect::<Result<_>>()?,
            None => Vec::new(),
        };
        Ok(Optimizer {
            names,
            vars,
            core,
            schedulers,
            clip: self.clip,
        })
    }
}
