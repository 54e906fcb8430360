//! Optimizer state as JSON text and as files: sealed with a CRC-32 and written
//! atomically ([`crate::file`]); version 1 files (before checksums) are refused.
//!
//! ```
//! use downhill::optim::{build, Optimizer};
//! use downhill::StateFiles;
//! let mut opt = Optimizer::<f64>::new(build("adam:lr=0.1").unwrap(), 2).unwrap();
//! opt.step(&mut [1.0, 2.0], &[0.5, -0.5]).unwrap();
//! let back = Optimizer::<f64>::from_json(&opt.to_json().unwrap()).unwrap();
//! assert_eq!(back, opt);
//! ```

use crate::file::{seal, unseal, write_atomic, SealError};
use crate::optim::{Optimizer, RuleSet, SavedState, StateError};
use crate::scalar::Scalar;
use std::path::Path;
use thiserror::Error;

/// The `format` field of every state file.
pub use crate::optim::state::{FORMAT, VERSION};

/// Why a state could not be read or written as text or as a file.
#[derive(Debug, Error)]
pub enum StateFileError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Sealed(#[from] SealError),
    #[error("{file}: {error}")]
    File {
        file: String,
        error: Box<StateFileError>,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// JSON text and sealed files for [`Optimizer`] state.
pub trait StateFiles: Sized {
    /// The state as JSON text; fails if a buffer holds a non-finite value.
    fn to_json(&self) -> Result<String, StateFileError>;
    /// Rebuilds an optimizer from JSON text written by [`StateFiles::to_json`].
    fn from_json(text: &str) -> Result<Self, StateFileError>;
    /// Writes the state to `path` atomically, sealed with a checksum.
    fn save_file(&self, path: &Path) -> Result<(), StateFileError>;
    /// Reads an optimizer written by [`StateFiles::save_file`], checking its
    /// checksum, version and every field; errors name the file.
    fn read_file(path: &Path) -> Result<Self, StateFileError>;
    /// Parses the text of a state file (checksum, version, every field).
    fn from_file_text(text: &str) -> Result<Self, StateFileError>;
    /// Replaces this optimizer's state with the one in `path` (same layout,
    /// see [`Optimizer::load`]). On error nothing changes.
    fn load_file(&mut self, path: &Path) -> Result<(), StateFileError>;
}

impl<T: Scalar, R: RuleSet> StateFiles for Optimizer<T, R> {
    fn to_json(&self) -> Result<String, StateFileError> {
        serde_json::to_string(&self.save()?)
            .map_err(|e| StateError::NotFinite(e.to_string()).into())
    }

    fn from_json(text: &str) -> Result<Self, StateFileError> {
        let saved: SavedState<T, R> =
            serde_json::from_str(text).map_err(|e| StateError::Parse(e.to_string()))?;
        Ok(Self::from_saved(saved)?)
    }

    fn save_file(&self, path: &Path) -> Result<(), StateFileError> {
        let text = seal(FORMAT, VERSION, &self.to_json()?);
        write_atomic(path, text.as_bytes()).map_err(|source| StateFileError::Io {
            file: path.display().to_string(),
            source,
        })
    }

    fn read_file(path: &Path) -> Result<Self, StateFileError> {
        in_file(
            path,
            read_saved(path).and_then(|saved| Ok(Self::from_saved(saved)?)),
        )
    }

    fn from_file_text(text: &str) -> Result<Self, StateFileError> {
        Ok(Self::from_saved(parse_file_text(text)?)?)
    }

    fn load_file(&mut self, path: &Path) -> Result<(), StateFileError> {
        in_file(
            path,
            read_saved(path).and_then(|saved| Ok(self.load(saved)?)),
        )
    }
}

/// The saved state in a file written by [`StateFiles::save_file`] (checksum and version checked).
fn read_saved<T: Scalar, R: RuleSet>(path: &Path) -> Result<SavedState<T, R>, StateFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| StateFileError::Io {
        file: path.display().to_string(),
        source,
    })?;
    parse_file_text(&text)
}

/// Parses the text of a state file: checksum, version, then the document.
fn parse_file_text<T: Scalar, R: RuleSet>(text: &str) -> Result<SavedState<T, R>, StateFileError> {
    Ok(serde_json::from_str(unseal(text, FORMAT, VERSION)?)
        .map_err(|e| StateError::Parse(e.to_string()))?)
}

/// Names the file in an error that does not already.
fn in_file<V>(path: &Path, result: Result<V, StateFileError>) -> Result<V, StateFileError> {
    result.map_err(|error| match error {
        StateFileError::Io { .. } => error,
        error => StateFileError::File {
            file: path.display().to_string(),
            error: Box::new(error),
        },
    })
}
