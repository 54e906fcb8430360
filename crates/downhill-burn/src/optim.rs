//! The optimizer adapter: each burn parameter is one tensor of a
//! `downhill_optim::Optimizer<f32>` group, stepped by downhill's own rules.

use crate::Error;
use burn::optim::{Optimizer as BurnOptimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor, TensorData};
use burn_pack::Scalar;
use downhill_optim::{AnyRule, NonFinite, Optimizer, ParamGroup, RuleSet, SavedGroup, SavedState};

/// A downhill rule driving burn parameters.
///
/// The rule's state is kept per parameter (one group per tensor), as burn's
/// own optimizers do. Rules reducing over a whole group therefore reduce over
/// one tensor: prodigy's distance estimate `d` is per tensor. Rules needing a
/// closure (`lbfgs`) or a look-ahead gradient are refused by [`Downhill::new`].
/// The learning rate is burn's (from its `LrScheduler` or a constant), set on
/// the rule before every step. Parameters are stepped in `f32`.
#[derive(Clone, Debug)]
pub struct Downhill {
    rule: AnyRule,
    non_finite: NonFinite,
}

impl Downhill {
    /// Wraps `rule`; refuses rules that burn's per-tensor step cannot drive.
    pub fn new(rule: impl Into<AnyRule>) -> Result<Self, Error> {
        let rule = rule.into();
        if rule.needs_objective() {
            return Err(Error::NeedsObjective(rule.name()));
        }
        Ok(Downhill {
            rule,
            non_finite: NonFinite::default(),
        })
    }

    /// Builds the rule from a spec such as `"adamw:lr=3e-4,weight_decay=0.1"`.
    pub fn from_spec(spec: &str) -> Result<Self, Error> {
        Self::new(downhill_optim::build(spec)?)
    }

    /// What a step does with a NaN or ±∞ in a gradient. burn's step cannot
    /// return an error, so the default ([`NonFinite::Error`]) panics with the
    /// element's index; `Skip` leaves the parameter and its state unchanged.
    pub fn with_non_finite(mut self, policy: NonFinite) -> Self {
        self.non_finite = policy;
        self
    }

    /// The rule (its `lr` is overwritten by burn's at every step).
    pub fn rule(&self) -> &AnyRule {
        &self.rule
    }

    fn optimizer(&self, lr: f64, shape: Vec<usize>) -> Optimizer<f32> {
        let mut rule = self.rule.clone();
        rule.set_lr(lr);
        let mut optimizer = Optimizer::with_groups(rule, vec![ParamGroup::shaped(vec![shape])])
            .unwrap_or_else(|e| panic!("downhill: {e}"));
        optimizer.set_non_finite(self.non_finite);
        optimizer
    }
}

/// One parameter's downhill state as a burn record: the step count, the
/// rule's scalars and buffers in name order, and its extra state.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamState {
    step: u64,
    scalars: Vec<f64>,
    buffers: Vec<Vec<f32>>,
    extra: Vec<f32>,
}

impl ParamState {
    fn from_group(group: SavedGroup<f32>) -> Self {
        ParamState {
            step: group.step,
            scalars: group.scalars.into_values().collect(),
            buffers: group.buffers.into_values().collect(),
            extra: group.extra,
        }
    }

    /// Puts this state into `fresh`, a new optimizer of the same rule and shape.
    fn restore(self, fresh: &mut Optimizer<f32>) {
        let mut saved: SavedState<f32> = fresh.save().unwrap_or_else(|e| panic!("downhill: {e}"));
        let group = &mut saved.groups[0];
        let matches =
            group.scalars.len() == self.scalars.len() && group.buffers.len() == self.buffers.len();
        assert!(
            matches,
            "downhill: the saved state does not belong to rule {}",
            group.rule.name()
        );
        group.step = self.step;
        group.extra = self.extra;
        group
            .scalars
            .values_mut()
            .zip(self.scalars)
            .for_each(|(s, v)| *s = v);
        group
            .buffers
            .values_mut()
            .zip(self.buffers)
            .for_each(|(b, v)| *b = v);
        fresh
            .load(saved)
            .unwrap_or_else(|e| panic!("downhill: {e}"));
    }
}

fn vector(values: &[f32]) -> TensorData {
    TensorData::new(values.to_vec(), [values.len()])
}

fn count(src: &mut StateSource, prefix: &str, leaf: &str) -> Option<usize> {
    match src.take_scalar(prefix, leaf)? {
        Scalar::UInt(n) => usize::try_from(n).ok(),
        _ => None,
    }
}

fn floats(src: &mut StateSource, prefix: &str, leaf: &str) -> Option<Vec<f32>> {
    src.take_tensor(prefix, leaf)?.try_into_vec::<f32>().ok()
}

impl RecordState for ParamState {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_scalar(prefix, "step", Scalar::UInt(self.step));
        out.push_scalar(prefix, "scalars", Scalar::UInt(self.scalars.len() as u64));
        out.push_scalar(prefix, "buffers", Scalar::UInt(self.buffers.len() as u64));
        for (i, value) in self.scalars.iter().enumerate() {
            out.push_scalar(prefix, &format!("scalar.{i}"), Scalar::Float(*value));
        }
        for (i, buffer) in self.buffers.iter().enumerate() {
            out.push_tensor(prefix, &format!("buffer.{i}"), vector(buffer));
        }
        if !self.extra.is_empty() {
            out.push_tensor(prefix, "extra", vector(&self.extra));
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, _device: &Device) -> Option<Self> {
        let step = match src.take_scalar(prefix, "step")? {
            Scalar::UInt(n) => n,
            _ => return None,
        };
        let scalars = (0..count(src, prefix, "scalars")?)
            .map(|i| match src.take_scalar(prefix, &format!("scalar.{i}")) {
                Some(Scalar::Float(v)) => Some(v),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let buffers = (0..count(src, prefix, "buffers")?)
            .map(|i| floats(src, prefix, &format!("buffer.{i}")))
            .collect::<Option<_>>()?;
        let extra = floats(src, prefix, "extra").unwrap_or_default();
        Some(ParamState {
            step,
            scalars,
            buffers,
            extra,
        })
    }
}

impl BurnOptimizer for Downhill {
    type State<const D: usize> = ParamState;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<ParamState>,
    ) -> (Tensor<D>, Option<ParamState>) {
        let device = tensor.device();
        let dtype = tensor.dtype();
        let shape = tensor.dims();
        let mut optimizer = self.optimizer(lr, shape.to_vec());
        if let Some(state) = state {
            state.restore(&mut optimizer);
        }
        let mut params = tensor.into_data_as::<f32>().try_into_vec::<f32>().unwrap();
        let grads = grad.into_data_as::<f32>().try_into_vec::<f32>().unwrap();
        optimizer
            .step(&mut params, &grads)
            .unwrap_or_else(|e| panic!("downhill: {e}"));
        let saved = optimizer.save().unwrap_or_else(|e| panic!("downhill: {e}"));
        let state = ParamState::from_group(saved.groups.into_iter().next().unwrap());
        let updated = Tensor::<D>::from_data(TensorData::new(params, shape), &device).cast(dtype);
        (updated, Some(state))
    }

    fn to_device<const D: usize>(state: ParamState, _device: &Device) -> ParamState {
        state
    }
}
