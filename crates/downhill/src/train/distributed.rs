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
//! [`Distributed::gather_state`] puts the whole optimizer back together (for
//! checkpoints), and [`Distributed::shard`] cuts any whole state (fresh or
//! resumed) into shards, so a run can resume on another number of ranks.

use super::observer::{EpochRecord, Observer, StepRecord};
use super::shard_state;
use super::state::{TrainConfig, TrainError, TrainState};
use crate::model::{Float, Network, Workspace};
use crate::optim::{NonFinite, Optimizer, Outcome, RuleSet, SavedState, StepError};
use crate::AnyRule;
use std::cell::Cell;
use std::ops::Range;

/// What a group of ranks must offer: every rank's bytes, in rank order.
pub trait Communicator {
    /// This process's rank, `0..size()`.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn size(&self) -> usize;
    /// Every rank's `local` (lengths may differ), indexed by rank.
    fn all_gather(&self, local: &[u8]) -> Result<Vec<Vec<u8>>, CommError>;
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
    fn all_gather(&self, local: &[u8]) -> Result<Vec<Vec<u8>>, CommError> {
        Ok(vec![local.to_vec()])
    }
}

/// Every rank's `local` numbers, indexed by rank (sent as their exact bits).
pub fn all_gather_f64(comm: &dyn Communicator, local: &[f64]) -> Result<Vec<Vec<f64>>, CommError> {
    let bytes: Vec<u8> = local.iter().flat_map(|v| v.to_le_bytes()).collect();
    Ok(comm
        .all_gather(&bytes)?
        .iter()
        .map(|part| {
            part.chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect()
        })
        .collect())
}

/// Sums `values` element by element over all ranks, adding rank 0's first,
/// so that every rank gets the same bits.
pub fn all_reduce_sum(comm: &dyn Communicator, values: &mut [f64]) -> Result<(), CommError> {
    let parts = all_gather_f64(comm, values)?;
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

/// Whether `rule`'s state stays whole on every rank instead of being
/// sharded: rules that sum over all parameters (prodigy), evaluate the
/// objective themselves (lbfgs), look ahead (nag) or evaluate at a point
/// computed from their whole state (the schedule-free rules). Every rank then
/// steps the whole vector alike, from the same all-reduced gradients.
pub fn replicated(rule: &AnyRule) -> bool {
    rule.group_sums() || rule.needs_objective() || rule.has_evaluation_point()
}

/// Splits tensors of `shapes` among `ranks`. Element-wise rules get equal
/// element ranges (a tensor may be cut; its pieces become vectors); rules
/// that look at whole tensors (per-tensor norms, shapes, factored or
/// orthogonalised matrices) get whole tensors, balanced by element count;
/// [`replicated`] rules give every rank everything.
pub fn shards(rule: &AnyRule, shapes: &[Vec<usize>], ranks: usize) -> Result<Vec<Shard>, String> {
    let name = rule.name();
    let sizes: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
    let total: usize = sizes.iter().sum();
    if replicated(rule) {
        let whole = Shard {
            elements: 0..total,
            shapes: shapes.to_vec(),
        };
        return Ok(vec![whole; ranks]);
    }
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
    /// The model's tensor shapes, and whether its optimizer has one group.
    shapes: Vec<Vec<usize>>,
    one_group: bool,
    /// Every rank holds the whole state ([`replicated`]).
    replicated: bool,
    /// Bytes this rank has sent in collectives.
    sent: Cell<u64>,
}

impl<'a> Distributed<'a> {
    /// Cuts `state`'s whole optimizer (fresh, or resumed from a checkpoint of
    /// any number of ranks) down to this rank's shard of `rule`'s partition;
    /// hyperparameters, learning rate and non-finite policy carry over.
    pub fn shard<T: Float>(
        comm: &'a dyn Communicator,
        net: &Network,
        rule: &AnyRule,
        state: &mut TrainState<T>,
    ) -> Result<Self, TrainError> {
        let shapes = net.tensor_shapes();
        let all = shards(rule, &shapes, comm.size()).map_err(TrainError::Distributed)?;
        let shard = all[comm.rank()].clone();
        if !replicated(rule) {
            let full = state.optimizer.save().map_err(state_error)?;
            let mine =
                shard_state::split(&full, &shapes, &shard).map_err(TrainError::Distributed)?;
            let mut optimizer = Optimizer::from_saved(mine).map_err(state_error)?;
            optimizer.set_non_finite(state.optimizer.non_finite());
            state.optimizer = optimizer;
        }
        Ok(Distributed {
            comm,
            shard,
            one_group: shard_state::one_group(rule, &shapes),
            replicated: replicated(rule),
            shapes,
            sent: Cell::new(0),
        })
    }

    /// `state` with the whole optimizer gathered from every rank's shard (a
    /// collective: every rank calls it). Parameters, counters and the
    /// shuffle stream are already the same on every rank.
    pub fn gather_state<T: Float>(
        &self,
        state: &TrainState<T>,
    ) -> Result<TrainState<T>, TrainError> {
        if self.replicated {
            return Ok(state.clone());
        }
        let mine = state.optimizer.save().map_err(state_error)?;
        let bytes =
            serde_json::to_vec(&mine).map_err(|e| TrainError::Distributed(e.to_string()))?;
        let parts = self
            .all_gather(&bytes)?
            .iter()
            .map(|p| serde_json::from_slice::<SavedState<T>>(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TrainError::Distributed(format!("a rank's optimizer state: {e}")))?;
        let whole = shard_state::merge(parts, &self.shapes, self.one_group)
            .map_err(TrainError::Distributed)?;
        let mut optimizer = Optimizer::from_saved(whole).map_err(state_error)?;
        optimizer.set_non_finite(state.optimizer.non_finite());
        Ok(TrainState {
            optimizer,
            ..state.clone()
        })
    }

    /// Bytes this rank has sent so far (each rank receives what the others send).
    pub fn bytes_sent(&self) -> u64 {
        self.sent.get()
    }

    fn all_gather(&self, local: &[u8]) -> Result<Vec<Vec<u8>>, TrainError> {
        self.sent.set(self.sent.get() + local.len() as u64);
        self.comm.all_gather(local).map_err(comm_error)
    }

    fn all_gather_f64(&self, local: &[f64]) -> Result<Vec<Vec<f64>>, TrainError> {
        self.sent.set(self.sent.get() + 8 * local.len() as u64);
        all_gather_f64(self.comm, local).map_err(comm_error)
    }

    /// This rank's chunks of a global batch of `rows` rows: a contiguous
    /// run of [`chunks`]`(rows)`, the last `len % N` ranks one chunk more.
    fn my_chunks(&self, rows: usize) -> Range<usize> {
        let (n, k, c) = (self.comm.size(), self.comm.rank(), chunks(rows));
        k * c / n..(k + 1) * c / n
    }

    /// The batch's gradient and loss sums over all ranks (the loss last):
    /// this rank sends the sums of the largest
    /// subtrees of the summation tree that its chunks fill (`local`: their
    /// nodes, in order) and adds every rank's subtrees along the same tree.
    fn reduce(&self, local: Vec<Vec<f64>>, rows: usize) -> Result<Vec<f64>, TrainError> {
        let parts = self.all_gather_f64(&local.concat())?;
        let mut nodes = std::collections::HashMap::new();
        let width = local.first().map(Vec::len);
        for (rank, part) in parts.into_iter().enumerate() {
            let ranges = subtrees(0..chunks(rows), self.chunks_of(rank, rows));
            let w = if ranges.is_empty() {
                continue;
            } else {
                part.len() / ranges.len()
            };
            if width.is_some_and(|own| own != w) || part.len() != w * ranges.len() {
                return Err(TrainError::Distributed(format!(
                    "rank {rank} sent {} values for {} subtrees",
                    part.len(),
                    ranges.len()
                )));
            }
            for (range, values) in ranges.into_iter().zip(part.chunks_exact(w)) {
                nodes.insert((range.start, range.end), values.to_vec());
            }
        }
        tree_sum(0..chunks(rows), &mut |r| nodes.remove(&(r.start, r.end))).ok_or_else(|| {
            TrainError::Distributed("a chunk of the batch was summed by no rank".into())
        })
    }

    fn chunks_of(&self, rank: usize, rows: usize) -> Range<usize> {
        let (n, c) = (self.comm.size(), chunks(rows));
        rank * c / n..(rank + 1) * c / n
    }

    /// All-gathers the shards of `params` so that every rank holds the whole vector.
    pub fn gather<T: Float>(&self, params: &mut [T]) -> Result<(), TrainError> {
        if self.replicated {
            return Ok(());
        }
        let mine: Vec<f64> = params[self.shard.elements.clone()]
            .iter()
            .map(|p| p.widen())
            .collect();
        let parts = self.all_gather_f64(&mine)?;
        for (p, v) in params.iter_mut().zip(parts.iter().flatten()) {
            *p = T::of(*v);
        }
        Ok(())
    }
}

impl Distributed<'_> {
    /// The mean gradient (into `grads`) and loss of the global batch `rows`
    /// of `train` at `params`: this rank computes its chunks' sums, the sums
    /// of all ranks are added along the fixed tree and divided by the batch size.
    fn batch_gradient<T: Float>(
        &self,
        net: &Network,
        ws: &mut Workspace<T>,
        train: &super::Samples<T>,
        rows: &[usize],
        params: &[T],
        grads: &mut [T],
    ) -> Result<f64, TrainError> {
        let count = chunks(rows.len());
        let mut leaves = self.my_chunks(rows.len()).map(|c| {
            let mine = &rows[c * rows.len() / count..(c + 1) * rows.len() / count];
            ws.gather(&train.x, &train.y, mine);
            let mean = net.gradient(params, ws, mine.len(), grads);
            let n = mine.len() as f64;
            let mut sums: Vec<f64> = grads.iter().map(|g| g.widen() * n).collect();
            sums.push(mean * n);
            Some(sums)
        });
        let mut local = Vec::new();
        for range in subtrees(0..count, self.my_chunks(rows.len())) {
            local.push(
                tree_sum(range, &mut |r| {
                    if r.len() == 1 {
                        leaves.next().flatten()
                    } else {
                        None
                    }
                })
                .expect("own chunks"),
            );
        }
        let total = self.reduce(local, rows.len())?;
        let n = rows.len() as f64;
        for (g, &s) in grads.iter_mut().zip(&total) {
            *g = T::of(s / n);
        }
        Ok(total[grads.len()] / n)
    }

    /// One update from the global batch `rows` of `train`. Returns the batch
    /// loss and what the optimizer did.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn step<T: Float>(
        &self,
        net: &Network,
        ws: &mut Workspace<T>,
        train: &super::Samples<T>,
        rows: &[usize],
        grads: &mut [T],
        config: &TrainConfig,
        state: &mut TrainState<T>,
    ) -> Result<(f64, Result<Outcome, StepError>), TrainError> {
        if self.replicated {
            return self.step_replicated(net, ws, train, rows, grads, config, state);
        }
        let loss = self.batch_gradient(net, ws, train, rows, &state.params, grads)?;
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

    /// The update of a [`replicated`] rule: the optimizer evaluates the
    /// batch gradient wherever it needs it (each evaluation a collective,
    /// called alike on every rank) and steps the whole vector.
    #[allow(clippy::too_many_arguments)]
    fn step_replicated<T: Float>(
        &self,
        net: &Network,
        ws: &mut Workspace<T>,
        train: &super::Samples<T>,
        rows: &[usize],
        grads: &mut [T],
        config: &TrainConfig,
        state: &mut TrainState<T>,
    ) -> Result<(f64, Result<Outcome, StepError>), TrainError> {
        let sizes = net.tensor_sizes();
        let (mut first_loss, mut failed) = (None, None);
        let stepped = state
            .optimizer
            .step_with(&mut state.params, grads, |point, g| {
                match self.batch_gradient(net, ws, train, rows, point, g) {
                    Ok(loss) => {
                        first_loss.get_or_insert(loss);
                        if let Some(clip) = &config.clip {
                            clip.apply(g, &sizes);
                        }
                        T::of(loss)
                    }
                    Err(e) => {
                        failed.get_or_insert(e);
                        T::of(f64::NAN)
                    }
                }
            });
        if let Some(e) = failed {
            return Err(e);
        }
        Ok((first_loss.unwrap_or(f64::NAN), stepped.map(|s| s.outcome)))
    }
}

/// The number of chunks a global batch of `rows` rows is cut into: the
/// leaves of the summation tree, the same for any number of ranks (so the
/// sums, and the run, are bit for bit the same on 1, 2 or 16 ranks).
pub fn chunks(rows: usize) -> usize {
    rows.min(CHUNKS)
}

/// At most this many chunks per batch: more ranks than chunks leaves some idle.
pub const CHUNKS: usize = 16;

/// The largest subtrees of the summation tree over `tree` that lie inside
/// `part`, in order. A node `lo..hi` with two or more leaves has the
/// children `lo..mid` and `mid..hi`, `mid = lo + (hi − lo) / 2`.
fn subtrees(tree: Range<usize>, part: Range<usize>) -> Vec<Range<usize>> {
    if tree.is_empty() || part.end <= tree.start || tree.end <= part.start {
        return Vec::new();
    }
    if part.start <= tree.start && tree.end <= part.end {
        return vec![tree];
    }
    let mid = tree.start + tree.len() / 2;
    let mut out = subtrees(tree.start..mid, part.clone());
    out.extend(subtrees(mid..tree.end, part));
    out
}

/// The sum over the leaves of `tree`, added along the tree: a node's value
/// is `known(node)` when that is given, else the sum of its children's.
fn tree_sum(
    tree: Range<usize>,
    known: &mut impl FnMut(Range<usize>) -> Option<Vec<f64>>,
) -> Option<Vec<f64>> {
    if let Some(v) = known(tree.clone()) {
        return Some(v);
    }
    if tree.len() < 2 {
        return None;
    }
    let mid = tree.start + tree.len() / 2;
    let mut left = tree_sum(tree.start..mid, known)?;
    let right = tree_sum(mid..tree.end, known)?;
    left.iter_mut().zip(&right).for_each(|(a, b)| *a += b);
    Some(left)
}

fn comm_error(e: CommError) -> TrainError {
    TrainError::Distributed(e.0)
}

fn state_error(e: crate::optim::StateError) -> TrainError {
    TrainError::Distributed(format!("sharding the optimizer state: {e}"))
}

/// Rank 0's observers in a sharded run (nothing on the other ranks). At
/// the end of every epoch and of the run, with `whole_state` every rank
/// first gathers the optimizer state, so that a [`Checkpointer`] sees it
/// whole; then the ranks agree on the outcome, so that a file rank 0 cannot
/// write stops every rank with the same error instead of leaving them waiting.
///
/// [`Checkpointer`]: super::Checkpointer
pub struct Gathered<'d, 'a, O> {
    pub dist: &'d Distributed<'a>,
    pub inner: O,
    pub whole_state: bool,
}

impl<O> Gathered<'_, '_, O> {
    /// `mine`, or the first rank's error when any rank failed.
    fn agree(&self, mine: Result<(), TrainError>) -> Result<(), TrainError> {
        let message = mine
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let all = self.dist.all_gather(message.as_bytes())?;
        match all.iter().find(|m| !m.is_empty()) {
            Some(first) if mine.is_ok() => Err(TrainError::Output(
                String::from_utf8_lossy(first).into_owned(),
            )),
            _ => mine,
        }
    }
}

impl<T: Float, O: Observer<T>> Observer<T> for Gathered<'_, '_, O> {
    fn on_step(&mut self, record: &StepRecord) -> Result<(), TrainError> {
        self.inner.on_step(record)
    }
    fn on_epoch(&mut self, record: &EpochRecord, state: &TrainState<T>) -> Result<(), TrainError> {
        let mine = if self.whole_state {
            let whole = self.dist.gather_state(state)?;
            self.inner.on_epoch(record, &whole)
        } else {
            self.inner.on_epoch(record, state)
        };
        self.agree(mine)
    }
    fn on_end(&mut self, state: &TrainState<T>) -> Result<(), TrainError> {
        let mine = if self.whole_state {
            let whole = self.dist.gather_state(state)?;
            self.inner.on_end(&whole)
        } else {
            self.inner.on_end(state)
        };
        self.agree(mine)
    }
}
