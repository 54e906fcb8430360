//! Observers: what the training loop reports to (progress bars, metric files,
//! checkpoints, histories for plots).

use super::state::{TrainError, TrainState};
use crate::file::AtomicFile;
use crate::model::Float;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One update.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepRecord {
    /// 0-based epoch the update belongs to.
    pub epoch: usize,
    /// Updates completed, this one included.
    pub step: u64,
    /// The batch loss before the update.
    pub loss: f64,
}

/// One finished epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EpochRecord {
    /// Epochs completed (1 after the first).
    pub epoch: usize,
    /// Mean of the epoch's batch losses, weighted by batch size.
    pub train_loss: f64,
    /// Mean loss on the test set (`None` without one).
    pub test_loss: Option<f64>,
    /// Fraction of the test set classified correctly (`None` for regression or without a test set).
    pub accuracy: Option<f64>,
    /// Learning rate of the epoch's last update (group 0).
    pub lr: f64,
    /// Seconds this epoch took (evaluation included).
    pub seconds: f64,
    /// Training seconds since the start of the run, this epoch included.
    pub elapsed: f64,
}

/// Receives records from the training loop; an error stops training.
pub trait Observer<T: Float> {
    fn on_step(&mut self, _record: &StepRecord) -> Result<(), TrainError> {
        Ok(())
    }
    fn on_epoch(&mut self, record: &EpochRecord, state: &TrainState<T>) -> Result<(), TrainError>;
    /// After the last epoch (or an early stop).
    fn on_end(&mut self, _state: &TrainState<T>) -> Result<(), TrainError> {
        Ok(())
    }
}

/// Several observers as one, called in order.
impl<T: Float> Observer<T> for Vec<&mut dyn Observer<T>> {
    fn on_step(&mut self, record: &StepRecord) -> Result<(), TrainError> {
        self.iter_mut().try_for_each(|o| o.on_step(record))
    }
    fn on_epoch(&mut self, record: &EpochRecord, state: &TrainState<T>) -> Result<(), TrainError> {
        self.iter_mut().try_for_each(|o| o.on_epoch(record, state))
    }
    fn on_end(&mut self, state: &TrainState<T>) -> Result<(), TrainError> {
        self.iter_mut().try_for_each(|o| o.on_end(state))
    }
}

/// Keeps every epoch record.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub epochs: Vec<EpochRecord>,
}

impl<T: Float> Observer<T> for History {
    fn on_epoch(&mut self, record: &EpochRecord, _state: &TrainState<T>) -> Result<(), TrainError> {
        self.epochs.push(*record);
        Ok(())
    }
}

/// Metric file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsFormat {
    /// Header `epoch,train_loss,test_loss,accuracy,lr,seconds,elapsed`; empty cells for missing values.
    Csv,
    /// One JSON object per line (`null` for missing values).
    JsonLines,
}

impl MetricsFormat {
    /// `.csv` → CSV, `.json`/`.jsonl`/`.ndjson` → JSON lines; `-` (standard output) → CSV.
    pub fn for_path(path: &Path) -> Option<MetricsFormat> {
        if path == Path::new("-") {
            return Some(MetricsFormat::Csv);
        }
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(MetricsFormat::Csv),
            "json" | "jsonl" | "ndjson" => Some(MetricsFormat::JsonLines),
            _ => None,
        }
    }
}

/// Streams epoch records to the temporary file of an [`AtomicFile`] (flushed
/// each epoch); [`MetricsWriter::finish`] puts it in place, and dropping it
/// unfinished removes it.
pub struct MetricsWriter {
    path: PathBuf,
    format: MetricsFormat,
    out: AtomicFile,
}

impl MetricsWriter {
    pub fn create(path: &Path, format: MetricsFormat) -> Result<Self, TrainError> {
        let io = |e: std::io::Error| TrainError::Output(format!("{}: {e}", path.display()));
        let mut out = AtomicFile::create(path).map_err(io)?;
        if format == MetricsFormat::Csv {
            writeln!(
                out,
                "epoch,train_loss,test_loss,accuracy,lr,seconds,elapsed"
            )
            .map_err(io)?;
        }
        Ok(MetricsWriter {
            path: path.to_path_buf(),
            format,
            out,
        })
    }

    /// Flushes, fsyncs and renames the file into place.
    pub fn finish(self) -> Result<(), TrainError> {
        let path = self.path;
        self.out
            .commit()
            .map_err(|e| TrainError::Output(format!("{}: {e}", path.display())))
    }
}

/// Shortest round-trip text of a number, empty for none.
fn cell(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v:?}"))
}

impl<T: Float> Observer<T> for MetricsWriter {
    fn on_epoch(&mut self, r: &EpochRecord, _state: &TrainState<T>) -> Result<(), TrainError> {
        let line = match self.format {
            MetricsFormat::Csv => format!(
                "{},{},{},{},{},{},{}",
                r.epoch,
                cell(Some(r.train_loss)),
                cell(r.test_loss),
                cell(r.accuracy),
                cell(Some(r.lr)),
                cell(Some(r.seconds)),
                cell(Some(r.elapsed))
            ),
            MetricsFormat::JsonLines => {
                serde_json::to_string(r).map_err(|e| TrainError::Output(e.to_string()))?
            }
        };
        // Flushed per epoch so a killed run's temporary file shows the epochs it completed.
        writeln!(self.out, "{line}")
            .and_then(|()| self.out.flush())
            .map_err(|e| TrainError::Output(format!("{}: {e}", self.path.display())))
    }
}
