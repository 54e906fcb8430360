//! Data-parallel training with the optimizer state sharded across ranks
//! (ZeRO stage 1), written against a small [`Communicator`].
//!
//! Every rank draws the same shuffle, takes its contiguous slice of each
//! global mini-batch and computes the sum of its samples' gradients. The
//! sums are all-gathered and added in rank order (the same order on every
//! rank), then divided by the global batch size. Clipping and the
//! non-finite check see that whole gradient, so every rank decides alike.
//! Each rank steps only its [`Shard`] of the parameters with an optimizer
//! holding state for that shard alone; the updated shards are all-gathered.

use super::state::{TrainConfig, TrainError, TrainState};
use crate::model::{Float, Network, Workspace};
use crate::optim::{NonFinite, Optimizer, Outcome, ParamGroup, RuleSet, StepError};
use crate::AnyRule;
use std::ops::Range;

/// What a group of ranks must offer: every rank's buffer, in rank order.
pub trait Communicator {
    /// This process's rank, `0..size()`.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn size(&self) -> usize;
    /// Every rank's `local` (lengths may differ), indexed by rank.
    fn all_gather(&self, local: &[f64]) -> Result<Vec<Vec<f64>>, CommError>;
}

/// A failed collective (a rank died, the transport broke).
#[derive(Debug, thiserror::Error)]
#[error("communication failed: {0}")]
pub struct CommError(pub String);

/// The single process: a group of one.
pub struct Solo;

impl Communicator for Solo {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_gather(&self, local: &[f64]) -> Result<Vec<Vec<f64>>, CommError> {
        Ok(vec![local.to_vec()])
    }
}

/// Sums `values` element by element over all ranks, adding rank 0's first,
/// so that every rank gets the same bits.
pub fn all_reduce_sum(comm: &dyn Communicator, values: &mut [f64]) -> Result<(), CommError> {
    let parts = comm.all_gather(values)?;
    for (i, v) in values.iter_mut().enumerate() {
        *v = parts[1..].iter().fold(parts[0][i], |acc, p| acc + p[i]);
    }
    Ok(())
}

/// The part of the flat parameter vector one rank's optimizer owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Flat element range.
    pub elements: Range<usize>,
    /// The shapes of the (pieces of) tensors in `elements`, in order.
    pub shapes: Vec<Vec<usize>>,
}

/// Splits tensors of `shapes` among `ranks`. Element-wise rules get equal
/// element ranges (a tensor may be cut; its pieces become vectors); rules
/// that look at whole tensors (per-tensor norms, shapes, factored or
/// orthogonalised matrices) get whole tensors, balanced by element count.
/// Rules with state over the whole group or an objective of their own are
/// refused.
pub fn shards(rule: &AnyRule, shapes: &[Vec<usize>], ranks: usize) -> Result<Vec<Shard>, String> {
    let name = rule.name();
    if rule.group_sums() || rule.needs_objective() || rule.needs_lookahead() {
        return Err(format!(
            "{name} sums over all parameters or evaluates the objective itself, so its state cannot be sharded; \
             --distributed takes the element-wise rules and the per-tensor ones (lamb, lars, adafactor, muon), \
             not lbfgs or prodigy"
        ));
    }
    if rule.has_evaluation_point() {
        return Err(format!(
            "{name} evaluates at a point computed from its whole state; --distributed does not shard it"
        ));
    }
    let sizes: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
    let total: usize = sizes.iter().sum();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(sizes.iter().scan(0, |acc, &n| {
            *acc += n;
            Some(*acc)
        }))
        .collect();
    if rule.per_tensor() || rule.whole_tensor() {
        if shapes.len() < ranks {
            return Err(format!(
                "{name} steps whole tensors and the model has {} tensors, fewer than the {ranks} ranks",
                shapes.len()
            ));
        }
        // Boundary k: the first tensor starting at or after k/N of the elements,
        // but leaving at least one tensor for each later rank.
        let mut bounds = vec![0];
        for k in 1..ranks {
            let prev = bounds[k - 1] + 1;
            let t = (prev..shapes.len())
                .find(|&t| starts[t] * ranks >= k * total)
                .unwrap_or(shapes.len())
                .min(shapes.len() - (ranks - k));
            bounds.push(t.max(prev));
        }
        bounds.push(shapes.len());
        return Ok(bounds
            .windows(2)
            .map(|b| Shard {
                elements: starts[b[0]]..starts[b[1]],
                shapes: shapes[b[0]..b[1]].to_vec(),
            })
            .collect());
    }
    Ok((0..ranks)
        .map(|k| {
            let (lo, hi) = (k * total / ranks, (k + 1) * total / ranks);
            let shapes = (0..sizes.len())
                .filter_map(|t| {
                    let (a, b) = (starts[t].max(lo), starts[t + 1].min(hi));
                    (a < b).then(|| vec![b - a])
                })
                .collect();
            Shard {
                elements: lo..hi,
                shapes,
            }
        })
        .collect())
}

/// One rank's part in a distributed run.
pub struct Distributed<'a> {
    pub comm: &'a dyn Communicator,
    pub shard: Shard,
}

impl<'a> Distributed<'a> {
    /// Shards `state`'s optimizer for this rank: a fresh optimizer of `rule`
    /// over this rank's shard, with the state's lr, non-finite policy and
    /// schedule applied.
    pub fn shard<T: Float>(
        comm: &'a dyn Communicator,
        net: &Network,
        rule: AnyRule,
        state: &mut TrainState<T>,
    ) -> Result<Self, TrainError> {
        let all =
            shards(&rule, &net.tensor_shapes(), comm.size()).map_err(TrainError::Distributed)?;
        let shard = all[comm.rank()].clone();
        let mut optimizer = if shard.shapes.is_empty() {
            Optimizer::with_groups(rule, vec![ParamGroup::new(Vec::new())])?
        } else {
            super::state::optimizer_for(&shard.shapes, rule)?
        };
        optimizer.set_lr_all(state.lr())?;
        optimizer.set_non_finite(state.optimizer.non_finite());
        if let Some(s) = &state.schedule {
            s.scheduler.apply(&mut optimizer)?;
        }
        state.optimizer = optimizer;
        Ok(Distributed { comm, shard })
    }

    /// This rank's rows of a global batch: a contiguous slice, the first
    /// `len % N` ranks one row more.
    pub fn rows<'r>(&self, rows: &'r [usize]) -> &'r [usize] {
        let (n, k) = (self.comm.size(), self.comm.rank());
        &rows[k * rows.len() / n..(k + 1) * rows.len() / n]
    }

    /// Sums `grads` (this rank's gradient sum) and `loss` (its loss sum)
    /// over all ranks in rank order and divides both by `global` rows.
    pub fn reduce<T: Float>(
        &self,
        grads: &mut [T],
        loss: f64,
        global: usize,
    ) -> Result<f64, TrainError> {
        let mut buf: Vec<f64> = grads.iter().map(|g| g.widen()).collect();
        buf.push(loss);
        all_reduce_sum(self.comm, &mut buf).map_err(comm_error)?;
        let n = global as f64;
        for (g, &s) in grads.iter_mut().zip(&buf) {
            *g = T::of(s / n);
        }
        Ok(buf[grads.len()] / n)
    }

    /// All-gathers the shards of `params` so that every rank holds the whole vector.
    pub fn gather<T: Float>(&self, params: &mut [T]) -> Result<(), TrainError> {
        let mine: Vec<f64> = params[self.shard.elements.clone()]
            .iter()
            .map(|p| p.widen())
            .collect();
        let parts = self.comm.all_gather(&mine).map_err(comm_error)?;
        for (p, v) in params.iter_mut().zip(parts.iter().flatten()) {
            *p = T::of(*v);
        }
        Ok(())
    }
}

impl Distributed<'_> {
    /// One update from this rank's `local` rows (gathered in `ws`) of a
    /// batch of `global` rows: the batch loss and what the optimizer did.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn step<T: Float>(
        &self,
        net: &Network,
        ws: &mut Workspace<T>,
        local: usize,
        global: usize,
        grads: &mut [T],
        config: &TrainConfig,
        state: &mut TrainState<T>,
    ) -> Result<(f64, Result<Outcome, StepError>), TrainError> {
        let loss_sum = if local == 0 {
            grads.iter_mut().for_each(|g| *g = T::zero());
            0.0
        } else {
            let mean = net.gradient(&state.params, ws, local, grads);
            let n = T::of(local as f64);
            grads.iter_mut().for_each(|g| *g = *g * n);
            mean * local as f64
        };
        let loss = self.reduce(grads, loss_sum, global)?;
        if let Some(clip) = &config.clip {
            clip.apply(grads, &net.tensor_sizes());
        }
        let bad = grads
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.widen().is_finite());
        let first = bad.clone().next().map(|(i, g)| (i, g.widen()));
        let range = self.shard.elements.clone();
        let outcome = match (first, state.optimizer.non_finite()) {
            (Some((index, value)), NonFinite::Error) => {
                return Ok((loss, Err(StepError::NonFiniteGradient { index, value })))
            }
            (Some((index, value)), NonFinite::Skip) => Outcome::Skipped { index, value },
            (first, policy) => {
                let mine = state
                    .optimizer
                    .step(&mut state.params[range.clone()], &grads[range]);
                if let Err(e) = mine {
                    return Ok((loss, Err(e)));
                }
                match (first, policy) {
                    (Some(_), NonFinite::Zero) => Outcome::Zeroed { count: bad.count() },
                    _ => Outcome::Applied,
                }
            }
        };
        self.gather(&mut state.params)?;
        Ok((loss, Ok(outcome)))
    }
}

fn comm_error(e: CommError) -> TrainError {
    TrainError::Distributed(e.0)
}
