//! Saving and restoring optimizer state as plain serde types with named fields.
//!
//! [`Optimizer::save`] gives a [`SavedState`] that any serde format can write;
//! [`Optimizer::from_saved`] and [`Optimizer::load`] check every field before
//! using it. Written with shortest round-trip numbers (as `serde_json` does),
//! save → load → continue reproduces an uninterrupted run bit for bit. This
//! crate does no I/O: the `downhill` crate writes sealed, atomic state files.

use super::optimizer::Group;
use super::{AnyRule, Optimizer, RuleSet};
use crate::scalar::Scalar;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// The `format` field of every state document.
pub const FORMAT: &str = "downhill-optimizer-state";
/// The version this build writes and reads (2: files carry a checksum).
pub const VERSION: u32 = 2;

/// A saved optimizer: its groups' hyperparameters, step counts and buffers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedState<T, R = AnyRule> {
    pub format: String,
    pub version: u32,
    pub dtype: String,
    pub groups: Vec<SavedGroup<T, R>>,
}

/// One saved parameter group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedGroup<T, R = AnyRule> {
    pub rule: R,
    pub sizes: Vec<usize>,
    /// The tensors' shapes when not all are vectors (else empty, and not written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shapes: Vec<Vec<usize>>,
    pub step: u64,
    pub scalars: BTreeMap<String, f64>,
    pub buffers: BTreeMap<String, Vec<T>>,
    /// State beyond the per-element buffers, in the rule's layout (not
    /// written when the rule keeps none).
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<T>,
}

/// Why a state could not be saved or restored.
#[derive(Debug, Error)]
pub enum StateError {
    #[error("not a readable optimizer state: {0}")]
    Parse(String),
    #[error("not an optimizer state (format '{0}', expected '{FORMAT}')")]
    Format(String),
    #[error("optimizer state version {0} is not supported (this build reads version {VERSION})")]
    Version(u32),
    #[error("optimizer state holds {found} values, expected {expected}")]
    Dtype {
        found: String,
        expected: &'static str,
    },
    #[error("optimizer state does not match: {0}")]
    Mismatch(String),
    #[error("cannot save optimizer state: {0}")]
    NotFinite(String),
}

impl<T: Scalar, R: RuleSet> Optimizer<T, R> {
    /// The state as a [`SavedState`]; fails if a buffer holds a non-finite value.
    pub fn save(&self) -> Result<SavedState<T, R>, StateError> {
        let groups = self
            .groups
            .iter()
            .enumerate()
            .map(|(index, group)| {
                let buffer_names = group.rule.buffers();
                let mut buffers = BTreeMap::new();
                for (b, (name, _)) in buffer_names.iter().enumerate() {
                    let values = group.state.buffers[b * group.len..(b + 1) * group.len].to_vec();
                    if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
                        return Err(StateError::NotFinite(format!(
                            "group {index} buffer '{name}' holds {bad}"
                        )));
                    }
                    buffers.insert(name.to_string(), values);
                }
                let scalars = group
                    .rule
                    .scalars()
                    .iter()
                    .zip(&group.state.scalars)
                    .map(|((name, _), v)| (name.to_string(), *v))
                    .collect();
                if let Some(bad) = group.state.extra.iter().find(|v| !v.is_finite()) {
                    return Err(StateError::NotFinite(format!(
                        "group {index} extra state holds {bad}"
                    )));
                }
                let vectors = group.shapes.iter().all(|s| s.len() == 1);
                Ok(SavedGroup {
                    rule: group.rule.clone(),
                    sizes: group.sizes.clone(),
                    shapes: if vectors {
                        Vec::new()
                    } else {
                        group.shapes.clone()
                    },
                    step: group.state.step,
                    scalars,
                    buffers,
                    extra: group.state.extra.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SavedState {
            format: FORMAT.into(),
            version: VERSION,
            dtype: T::DTYPE.into(),
            groups,
        })
    }

    /// Rebuilds an optimizer from saved state, checking every field.
    pub fn from_saved(saved: SavedState<T, R>) -> Result<Self, StateError> {
        if saved.format != FORMAT {
            return Err(StateError::Format(saved.format));
        }
        if saved.version != VERSION {
            return Err(StateError::Version(saved.version));
        }
        if saved.dtype != T::DTYPE {
            return Err(StateError::Dtype {
                found: saved.dtype,
                expected: T::DTYPE,
            });
        }
        let mut groups = Vec::with_capacity(saved.groups.len());
        let mut offset = 0;
        for (index, g) in saved.groups.into_iter().enumerate() {
            let mismatch = |msg: String| StateError::Mismatch(format!("group {index}: {msg}"));
            g.rule
                .validate()
                .map_err(|e| mismatch(format!("{}: {e}", g.rule.name())))?;
            let len = g
                .sizes
                .iter()
                .try_fold(offset, |a: usize, &b| a.checked_add(b))
                .map(|end| end - offset)
                .ok_or_else(|| {
                    mismatch("the tensor sizes add up past the largest vector".into())
                })?;
            // Names and lengths are checked before allocating anything sized by the file.
            let mut expected: Vec<&str> = g.rule.buffers().iter().map(|b| b.0).collect();
            let found: Vec<&str> = g.buffers.keys().map(String::as_str).collect();
            expected.sort_unstable();
            if expected != found {
                return Err(mismatch(format!(
                    "buffers {found:?}, expected {expected:?}"
                )));
            }
            if let Some((name, values)) = g.buffers.iter().find(|(_, values)| values.len() != len) {
                return Err(mismatch(format!(
                    "buffer '{name}' has {} values, expected {len}",
                    values.len()
                )));
            }
            let shapes = crate::ParamGroup {
                sizes: g.sizes.clone(),
                shapes: g.shapes,
                overrides: Vec::new(),
            }
            .resolved_shapes()
            .map_err(mismatch)?;
            for shape in &shapes {
                g.rule.check_shape(shape).map_err(mismatch)?;
            }
            let extra_len = g.rule.extra_len(&shapes);
            if g.extra.len() != extra_len {
                return Err(mismatch(format!(
                    "extra state has {} values, expected {extra_len}",
                    g.extra.len()
                )));
            }
            let mut group = Group::<T, R>::fresh(g.rule, g.sizes, shapes, offset);
            group.state.extra = g.extra;
            let expected: Vec<&str> = group.rule.buffers().iter().map(|b| b.0).collect();
            for (b, name) in expected.iter().enumerate() {
                let values = &g.buffers[*name];
                group.state.buffers[b * group.len..(b + 1) * group.len].copy_from_slice(values);
            }
            let scalar_names: Vec<&str> = group.rule.scalars().iter().map(|s| s.0).collect();
            if scalar_names.len() != g.scalars.len()
                || scalar_names.iter().any(|n| !g.scalars.contains_key(*n))
            {
                return Err(mismatch(format!(
                    "scalars {:?}, expected {scalar_names:?}",
                    g.scalars.keys().collect::<Vec<_>>()
                )));
            }
            group.state.scalars = scalar_names.iter().map(|n| g.scalars[*n]).collect();
            group.state.step = g.step;
            offset += group.len;
            groups.push(group);
        }
        if let Some((_, message)) = Optimizer::group_count_error(&groups) {
            return Err(StateError::Mismatch(message));
        }
        Ok(Optimizer::from_groups(groups))
    }

    /// Replaces this optimizer's state with a saved one of the same layout
    /// (same algorithm, groups and tensor sizes), keeping its [`NonFinite`]
    /// policy (a setting of the caller, not saved state). On error nothing changes.
    ///
    /// [`NonFinite`]: crate::NonFinite
    pub fn load(&mut self, saved: SavedState<T, R>) -> Result<(), StateError> {
        let restored = Self::from_saved(saved)?;
        let layout = |o: &Self| {
            o.groups
                .iter()
                .map(|g| (g.rule.name(), g.shapes.clone()))
                .collect::<Vec<_>>()
        };
        if layout(&restored) != layout(self) {
            return Err(StateError::Mismatch(format!(
                "saved layout {:?} differs from this optimizer's {:?}",
                layout(&restored),
                layout(self)
            )));
        }
        let policy = self.non_finite();
        *self = restored;
        self.set_non_finite(policy);
        Ok(())
    }
}
