//! Datasets: features and targets, loaders (CSV, MNIST IDX, LIBSVM), bundled
//! real datasets, synthetic generators, seeded splits, scaling and batching.
//!
//! [`resolve`] turns a `--dataset` argument into a [`Dataset`]: a bundled name
//! (`iris`, `digits`, `diabetes`), a generator spec (`moons:n=500,noise=0.2`)
//! or a file path.

mod batch;
mod bundled;
mod idx;
mod libsvm;
mod prepare;
mod synthetic;
mod tabular;

pub use batch::{BatchSize, Batcher};
pub use bundled::{bundled, BUNDLED};
pub use idx::{labels_path_for, load_idx, parse_idx};
pub use libsvm::{load_libsvm, parse_libsvm};
pub use prepare::{split, Scaler, Scaling};
pub use synthetic::{generate, GENERATORS};
pub use tabular::{load_csv, parse_csv, LabelColumn};

use crate::spec::ConfigError;
use ndarray::Array2;
use std::path::Path;
use thiserror::Error;

/// The largest magnitude a data value may have: its square (in losses and
/// in standard scaling) must stay finite in f64 (√f64::MAX ≈ 1.34e154), so
/// `1e150` loads and `1e300` is refused; `1e400` reads as infinity and is refused too.
pub const MAX_MAGNITUDE: f64 = 1e150;
/// The most values (samples × features) a dataset may hold: 2²⁶, 512 MiB of f64
/// (MNIST's training set holds 47 million).
pub const MAX_CELLS: usize = 1 << 26;
/// The most classes a classification dataset may have.
pub const MAX_CLASSES: usize = 10_000;
/// The most bytes a gzip file may decompress to (512 MiB).
pub const MAX_DECOMPRESSED: u64 = 1 << 29;

/// Why `value` cannot be used as data (completing "VALUE …"), or `None` if it can.
pub(crate) fn unusable(value: f64) -> Option<&'static str> {
    if !value.is_finite() {
        Some("is not a finite number")
    } else if value.abs() > MAX_MAGNITUDE {
        Some("is too large (data values must be at most 1e150 in magnitude)")
    } else {
        None
    }
}

/// What the targets are: class indices `0..classes` or real values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Task {
    Classification { classes: usize },
    Regression,
}

impl Task {
    /// Classification when every target is a whole number in `0..1000` and
    /// there are at most 100 distinct values; regression otherwise.
    pub fn infer(targets: &[f64]) -> Task {
        let whole = targets
            .iter()
            .all(|&t| (0.0..1000.0).contains(&t) && t.fract() == 0.0);
        if !whole || targets.is_empty() {
            return Task::Regression;
        }
        let mut seen: Vec<u64> = targets.iter().map(|&t| t as u64).collect();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() > 100 {
            return Task::Regression;
        }
        Task::Classification {
            classes: *seen.last().unwrap_or(&0) as usize + 1,
        }
    }

    /// The number of classes, or `None` for regression.
    pub fn classes(&self) -> Option<usize> {
        match self {
            Task::Classification { classes } => Some(*classes),
            Task::Regression => None,
        }
    }
}

/// Samples as rows of `features` with one target each.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Where it came from (a bundled name, a spec or a file path).
    pub name: String,
    pub features: Array2<f64>,
    pub targets: Vec<f64>,
    pub task: Task,
}

impl Dataset {
    /// Checks shapes, finiteness and (for classification) the labels.
    pub fn new(
        name: &str,
        features: Array2<f64>,
        targets: Vec<f64>,
        task: Task,
    ) -> Result<Self, DataError> {
        let invalid = |message: String| DataError::File {
            file: name.to_string(),
            message,
        };
        if features.nrows() != targets.len() {
            return Err(invalid(format!(
                "{} samples but {} targets",
                features.nrows(),
                targets.len()
            )));
        }
        if features.nrows() == 0 {
            return Err(invalid("no samples".into()));
        }
        if features.ncols() == 0 {
            return Err(invalid("no feature columns".into()));
        }
        if features.len() > MAX_CELLS {
            return Err(invalid(format!(
                "{} × {} values is more than the {MAX_CELLS} supported",
                features.nrows(),
                features.ncols()
            )));
        }
        if let Some((bad, why)) = features
            .iter()
            .chain(&targets)
            .find_map(|&v| unusable(v).map(|why| (v, why)))
        {
            return Err(invalid(format!("value {bad} {why}")));
        }
        if let Task::Classification { classes } = task {
            if classes > MAX_CLASSES {
                return Err(invalid(format!(
                    "{classes} classes is more than the {MAX_CLASSES} supported"
                )));
            }
            if let Some((sample, bad)) = targets
                .iter()
                .enumerate()
                .find(|(_, &t)| t < 0.0 || t.fract() != 0.0 || t >= classes as f64)
            {
                return Err(invalid(format!(
                    "label {bad} of sample {} is not a class index in 0..{classes}",
                    sample + 1
                )));
            }
        }
        Ok(Dataset {
            name: name.to_string(),
            features,
            targets,
            task,
        })
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Number of features per sample.
    pub fn dim(&self) -> usize {
        self.features.ncols()
    }

    /// The samples at `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        Dataset {
            name: self.name.clone(),
            features: self.features.select(ndarray::Axis(0), rows),
            targets: rows.iter().map(|&r| self.targets[r]).collect(),
            task: self.task,
        }
    }
}

/// Why a dataset could not be loaded or built. Messages name the file and,
/// for text formats, the line.
#[derive(Debug, Error)]
pub enum DataError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    At {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("no such file '{0}'")]
    NoSuchFile(String),
    #[error(
        "unknown dataset '{0}'{hint}; valid: a bundled name ({bundled}), a generator spec ({generators}) \
         or a file path (.csv, .csv.gz, .libsvm, .svm, .txt, MNIST idx)",
        bundled = BUNDLED.iter().map(|b| b.name).collect::<Vec<_>>().join(", "),
        generators = GENERATORS.join(", "),
        hint = dataset_hint(.0)
    )]
    Unknown(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// ` (did you mean 'x'?)` for the bundled name or generator nearest to `name`.
fn dataset_hint(name: &str) -> String {
    let valid: Vec<&str> = BUNDLED
        .iter()
        .map(|b| b.name)
        .chain(GENERATORS.iter().copied())
        .collect();
    crate::spec::nearest(name.split(':').next().unwrap_or(name), &valid)
        .map_or(String::new(), |v| format!(" (did you mean '{v}'?)"))
}

/// How a file given to [`resolve`] is read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOptions {
    /// The label column of a CSV file (default: the last).
    pub label: LabelColumn,
    /// The labels file of an IDX images file (default: derived from its name).
    pub idx_labels: Option<String>,
    /// The file format (default: from the file name).
    pub format: Option<FileFormat>,
}

/// A dataset file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Libsvm,
    Idx,
}

impl FileFormat {
    /// `.csv`/`.csv.gz` → CSV, `.libsvm`/`.svm`/`.txt` → LIBSVM, a name containing `idx` → IDX.
    pub fn for_name(name: &str) -> Option<FileFormat> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") || lower.ends_with(".csv.gz") {
            Some(FileFormat::Csv)
        } else if [".libsvm", ".svm", ".txt", ".libsvm.gz", ".svm.gz"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            Some(FileFormat::Libsvm)
        } else if lower.contains("idx") {
            Some(FileFormat::Idx)
        } else {
            None
        }
    }
}

/// Reads the whole file, decompressing gzip (detected by its magic bytes).
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let file = path.display().to_string();
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        file: file.clone(),
        source,
    })?;
    gunzip_if_needed(&file, raw)
}

/// Decompresses `raw` when it starts with the gzip magic bytes `1f 8b`; a
/// cut-short or corrupt stream (checked against its CRC-32 and length
/// trailer) is an error, and so is output beyond [`MAX_DECOMPRESSED`].
pub fn gunzip_if_needed(file: &str, raw: Vec<u8>) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let fail = |message: String| DataError::File {
        file: file.to_string(),
        message,
    };
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| fail(format!("truncated or corrupt gzip data ({e})")))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(fail(format!(
            "gzip data decompresses to more than {MAX_DECOMPRESSED} bytes"
        )));
    }
    Ok(out)
}

/// A bundled name, a generator spec, or a file (format from `options.format`
/// or else from the name, see [`FileFormat::for_name`]).
pub fn resolve(text: &str, options: &LoadOptions) -> Result<Dataset, DataError> {
    if let Some(found) = bundled(text) {
        return found;
    }
    let head = text.split(':').next().unwrap_or("");
    if GENERATORS.contains(&head) {
        return generate(text);
    }
    let path = Path::new(text);
    if !path.exists() {
        let looks_like_path = options.format.is_some()
            || text.contains(['/', '\\'])
            || (text.contains('.') && !text.contains(':'))
            || FileFormat::for_name(text).is_some();
        return Err(if looks_like_path {
            DataError::NoSuchFile(text.to_string())
        } else {
            DataError::Unknown(text.to_string())
        });
    }
    match options.format.or_else(|| FileFormat::for_name(text)) {
        Some(FileFormat::Csv) => load_csv(path, &options.label),
        Some(FileFormat::Libsvm) => load_libsvm(path),
        Some(FileFormat::Idx) => {
            let labels = match &options.idx_labels {
                Some(l) => l.clone(),
            None => labels_path_for(text).ok_or_else(|| DataError::File {
                file: text.to_string(),
                message: "cannot derive the labels file from this name (expected '…images-idx3…'); give it with --labels"
                    .into(),
            })?,
        };
        load_idx(path, Path::new(&labels))
        }
        None => Err(DataError::File {
            file: text.to_string(),
            message: "unknown file format; use a .csv, .csv.gz, .libsvm, .svm or .txt name, an MNIST idx file, or --data-format"
                .into(),
        }),
    }
}
