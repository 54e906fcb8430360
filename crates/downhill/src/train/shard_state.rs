//! A sharded run's optimizer state, cut into ranks' shards and put back
//! together: what lets a checkpoint hold the whole state (written by rank 0)
//! and be resumed on any number of ranks.
//!
//! Every per-element buffer follows the flat parameter vector, so a shard's
//! buffers are the slice of its element range, and the whole buffer is the
//! shards' slices in rank order. Extra state (Adafactor's factors) is laid
//! out tensor by tensor; its rules are sharded by whole tensors, so the
//! same holds for it. When the model's tensors need different rules (Muon for
//! matrices, AdamW for the rest), each tensor is its own group and a shard is
//! a run of whole groups.

use super::distributed::Shard;
use crate::model::Float;
use crate::optim::{RuleSet, SavedGroup, SavedState};
use crate::AnyRule;

/// Whether `rule` takes every tensor of `shapes` in one group (else each
/// tensor is a group, and those it cannot take get AdamW).
pub(super) fn one_group(rule: &AnyRule, shapes: &[Vec<usize>]) -> bool {
    shapes.iter().all(|s| rule.check_shape(s).is_ok())
}

/// The tensors `elements` covers, `first..end`, if it starts and ends on
/// tensor boundaries.
fn whole_tensors(shapes: &[Vec<usize>], shard: &Shard) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    let (mut first, mut end) = (None, None);
    for (t, shape) in shapes.iter().enumerate() {
        if start == shard.elements.start {
            first.get_or_insert(t);
        }
        start += shape.iter().product::<usize>();
        if start == shard.elements.end {
            end = Some(t + 1);
        }
    }
    if shard.elements.is_empty() {
        return Some(0..0);
    }
    Some(first?..end?)
}

/// Rank `shard`'s part of the whole state `full` of a model with tensors `shapes`.
pub(super) fn split<T: Float>(
    full: &SavedState<T>,
    shapes: &[Vec<usize>],
    shard: &Shard,
) -> Result<SavedState<T>, String> {
    let tensors = whole_tensors(shapes, shard);
    let groups = match full.groups.as_slice() {
        [g] => {
            let range = shard.elements.clone();
            let extra = if g.extra.is_empty() {
                Vec::new()
            } else {
                let t = tensors.ok_or("extra state of a tensor cut in two")?;
                let start = g.rule.extra_len(&shapes[..t.start]);
                g.extra[start..start + g.rule.extra_len(&shapes[t])].to_vec()
            };
            let vectors = shard.shapes.iter().all(|s| s.len() == 1);
            vec![SavedGroup {
                rule: g.rule.clone(),
                sizes: shard.shapes.iter().map(|s| s.iter().product()).collect(),
                shapes: if vectors {
                    Vec::new()
                } else {
                    shard.shapes.clone()
                },
                step: g.step,
                scalars: g.scalars.clone(),
                buffers: g
                    .buffers
                    .iter()
                    .map(|(name, values)| (name.clone(), values[range.clone()].to_vec()))
                    .collect(),
                extra,
            }]
        }
        groups if groups.len() == shapes.len() => {
            let t = tensors.ok_or("a shard that cuts a tensor of a per-tensor group")?;
            groups[t].to_vec()
        }
        groups => {
            return Err(format!(
                "{} optimizer groups for {} tensors",
                groups.len(),
                shapes.len()
            ))
        }
    };
    Ok(SavedState {
        groups,
        ..full.clone_header()
    })
}

/// The whole state of a model with tensors `shapes` from every rank's part, in rank order.
pub(super) fn merge<T: Float>(
    parts: Vec<SavedState<T>>,
    shapes: &[Vec<usize>],
    one_group: bool,
) -> Result<SavedState<T>, String> {
    let header = parts.first().ok_or("no ranks")?.clone_header();
    let mut groups: Vec<SavedGroup<T>> = parts.into_iter().flat_map(|p| p.groups).collect();
    if one_group {
        let mut merged = groups.first().ok_or("no groups")?.clone();
        for g in &groups[1..] {
            if (g.step, &g.scalars) != (merged.step, &merged.scalars) {
                return Err("the ranks' step counts or scalars differ".into());
            }
            for (name, values) in &g.buffers {
                let all = merged
                    .buffers
                    .get_mut(name)
                    .ok_or_else(|| format!("buffer '{name}' on one rank only"))?;
                all.extend_from_slice(values);
            }
            merged.extra.extend_from_slice(&g.extra);
        }
        merged.sizes = shapes.iter().map(|s| s.iter().product()).collect();
        merged.shapes = if shapes.iter().all(|s| s.len() == 1) {
            Vec::new()
        } else {
            shapes.to_vec()
        };
        groups = vec![merged];
    }
    Ok(SavedState { groups, ..header })
}

/// The fields of a state other than its groups.
trait Header {
    fn clone_header(&self) -> Self;
}

impl<T: Clone> Header for SavedState<T> {
    fn clone_header(&self) -> Self {
        SavedState {
            format: self.format.clone(),
            version: self.version,
            dtype: self.dtype.clone(),
            groups: Vec::new(),
        }
    }
}
