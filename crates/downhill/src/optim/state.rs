//! Saving and restoring optimizer state: a versioned JSON document with named fields.
//!
//! Numbers are written in shortest round-trip form and read back exactly, so
//! save → load → continue reproduces an uninterrupted run bit for bit. Files
//! ([`Optimizer::save_file`]) are written atomically and sealed with a CRC-32
//! of the document ([`crate::file`]); version 1 files (before checksums) are refused.

use super::optimizer::Group;
use super::{AnyRule, Optimizer};
use crate::file::{seal, unseal, write_atomic, SealError};
use crate::scalar::Scalar;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// The `format` field of every state document.
pub const FORMAT: &str = "downhill-optimizer-state";
/// The version this build writes and reads (2: files carry a checksum).
pub const VERSION: u32 = 2;

/// A saved optimizer: its groups' hyperparameters, step counts and buffers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedState<T> {
    pub format: String,
    pub version: u32,
    pub dtype: String,
    pub groups: Vec<SavedGroup<T>>,
}

/// One saved parameter group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedGroup<T> {
    pub rule: AnyRule,
    pub sizes: Vec<usize>,
    pub step: u64,
    pub scalars: BTreeMap<String, f64>,
    pub buffers: BTreeMap<String, Vec<T>>,
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
    #[error(transparent)]
    Sealed(#[from] SealError),
    #[error("{file}: {error}")]
    File {
        file: String,
        error: Box<StateError>,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

impl<T: Scalar> Optimizer<T> {
    /// The state as a [`SavedState`]; fails if a buffer holds a non-finite value.
    pub fn save(&self) -> Result<SavedState<T>, StateError> {
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
                Ok(SavedGroup {
                    rule: group.rule.clone(),
                    sizes: group.sizes.clone(),
                    step: group.state.step,
                    scalars,
                    buffers,
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

    /// The state as JSON text.
    pub fn to_json(&self) -> Result<String, StateError> {
        serde_json::to_string(&self.save()?).map_err(|e| StateError::NotFinite(e.to_string()))
    }

    /// Rebuilds an optimizer from saved state, checking every field.
    pub fn from_saved(saved: SavedState<T>) -> Result<Self, StateError> {
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
            let mut group = Group::<T>::fresh(g.rule, g.sizes, offset);
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
        Ok(Optimizer::from_groups(groups))
    }

    /// Rebuilds an optimizer from JSON text written by [`Optimizer::to_json`].
    pub fn from_json(text: &str) -> Result<Self, StateError> {
        let saved: SavedState<T> =
            serde_json::from_str(text).map_err(|e| StateError::Parse(e.to_string()))?;
        Self::from_saved(saved)
    }

    /// Replaces this optimizer's state with a saved one of the same layout
    /// (same algorithm, groups and tensor sizes). On error nothing changes.
    pub fn load(&mut self, saved: SavedState<T>) -> Result<(), StateError> {
        let restored = Self::from_saved(saved)?;
        let layout = |o: &Self| {
            o.groups
                .iter()
                .map(|g| (g.rule.name(), g.sizes.clone()))
                .collect::<Vec<_>>()
        };
        if layout(&restored) != layout(self) {
            return Err(StateError::Mismatch(format!(
                "saved layout {:?} differs from this optimizer's {:?}",
                layout(&restored),
                layout(self)
            )));
        }
        *self = restored;
        Ok(())
    }

    /// Writes the state to `path` atomically, sealed with a checksum.
    pub fn save_file(&self, path: &Path) -> Result<(), StateError> {
        let text = seal(FORMAT, VERSION, &self.to_json()?);
        write_atomic(path, text.as_bytes()).map_err(|source| StateError::Io {
            file: path.display().to_string(),
            source,
        })
    }

    /// Reads an optimizer written by [`Optimizer::save_file`], checking its
    /// checksum, version and every field; errors name the file.
    pub fn read_file(path: &Path) -> Result<Self, StateError> {
        in_file(path, read_saved(path).and_then(Self::from_saved))
    }

    /// Parses the text of a state file (checksum, version, every field).
    pub fn from_file_text(text: &str) -> Result<Self, StateError> {
        parse_file_text(text).and_then(Self::from_saved)
    }

    /// Replaces this optimizer's state with the one in `path` (same layout,
    /// see [`Optimizer::load`]). On error nothing changes.
    pub fn load_file(&mut self, path: &Path) -> Result<(), StateError> {
        in_file(path, read_saved(path).and_then(|saved| self.load(saved)))
    }
}

/// The saved state in a file written by [`Optimizer::save_file`] (checksum and version checked).
fn read_saved<T: Scalar>(path: &Path) -> Result<SavedState<T>, StateError> {
    let text = std::fs::read_to_string(path).map_err(|source| StateError::Io {
        file: path.display().to_string(),
        source,
    })?;
    parse_file_text(&text)
}

/// Parses the text of a state file: checksum, version, then the document.
fn parse_file_text<T: Scalar>(text: &str) -> Result<SavedState<T>, StateError> {
    serde_json::from_str(unseal(text, FORMAT, VERSION)?)
        .map_err(|e| StateError::Parse(e.to_string()))
}

/// Names the file in an error that does not already.
fn in_file<R>(path: &Path, result: Result<R, StateError>) -> Result<R, StateError> {
    result.map_err(|error| match error {
        StateError::Io { .. } => error,
        error => StateError::File {
            file: path.display().to_string(),
            error: Box::new(error),
        },
    })
}
