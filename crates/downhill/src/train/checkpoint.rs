//! Checkpoints: model parameters, optimizer state, RNG state and progress in
//! one versioned JSON document, written atomically (temporary file in the
//! same folder, fsync, rename, fsync of the folder) so a crash never leaves a
//! half-written file, and sealed with a CRC-32 of the document
//! ([`crate::file`]) so a damaged one is refused. Version 1 files (before
//! checksums) are refused.

use super::observer::{EpochRecord, Observer};
use super::state::{LrSchedule, TrainError, TrainState};
use crate::file::{seal, unseal, write_atomic};
use crate::model::Float;
use crate::optim::{Averaged, Optimizer, SavedState};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` field of every checkpoint.
pub const FORMAT: &str = "downhill-checkpoint";
/// The version this build writes and reads (2: sealed with a checksum).
pub const VERSION: u32 = 2;

/// The position of a ChaCha8 stream: seed, stream number and word position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RngState {
    pub seed: String,
    pub stream: u64,
    /// A `u128` in decimal.
    pub word_pos: String,
}

impl RngState {
    pub fn of(rng: &ChaCha8Rng) -> RngState {
        let seed = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
        RngState {
            seed,
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    pub fn restore(&self) -> Result<ChaCha8Rng, String> {
        let bytes: Vec<u8> = (0..self.seed.len())
            .step_by(2)
            .map(|i| {
                self.seed
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<_>>()
            .ok_or("rng seed is not hexadecimal")?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| "rng seed must be 32 bytes")?;
        let word_pos: u128 = self
            .word_pos
            .parse()
            .map_err(|_| "rng word_pos is not a whole number")?;
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(word_pos);
        Ok(rng)
    }
}

/// Everything needed to continue a run bit for bit.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint<T> {
    pub format: String,
    pub version: u32,
    pub dtype: String,
    /// Settings that must match on resume (model, dataset, batch size…), chosen by the caller.
    pub run: serde_json::Value,
    /// Epochs completed.
    pub epoch: usize,
    /// Updates completed.
    pub step: u64,
    /// Training seconds so far.
    pub seconds: f64,
    pub best_loss: Option<f64>,
    pub stale_epochs: usize,
    pub rng: RngState,
    pub params: Vec<T>,
    pub optimizer: SavedState<T>,
    /// The learning-rate schedule and its state, if any.
    pub schedule: Option<LrSchedule>,
    /// The stochastic weight average, once SWA has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averaged: Option<Averaged<T>>,
}

impl<T: Float> Checkpoint<T> {
    pub fn of(state: &TrainState<T>, run: &serde_json::Value) -> Result<Self, TrainError> {
        Ok(Checkpoint {
            format: FORMAT.into(),
            version: VERSION,
            dtype: T::DTYPE.into(),
            run: run.clone(),
            epoch: state.epoch,
            step: state.step,
            seconds: state.seconds,
            best_loss: state.best_loss,
            stale_epochs: state.stale_epochs,
            rng: RngState::of(&state.rng),
            params: state.params.clone(),
            optimizer: state
                .optimizer
                .save()
                .map_err(|e| TrainError::Checkpoint(e.to_string()))?,
            schedule: state.schedule.clone(),
            averaged: state.averaged.clone(),
        })
    }

    /// Reads a checkpoint file and checks its checksum, format, version,
    /// dtype and run settings. Errors name the file.
    pub fn load(path: &Path, run: &serde_json::Value) -> Result<Self, TrainError> {
        let file = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| TrainError::Checkpoint(format!("{file}: {e}")))?;
        Self::parse(&text, run).map_err(|m| TrainError::Checkpoint(format!("{file}: {m}")))
    }

    /// Parses the text of a checkpoint file (see [`Checkpoint::load`]).
    pub fn parse(text: &str, run: &serde_json::Value) -> Result<Self, String> {
        Self::parse_content(
            unseal(text, FORMAT, VERSION).map_err(|e| e.to_string())?,
            run,
        )
    }

    /// Parses the document inside a sealed checkpoint file (its `content`).
    pub fn parse_content(content: &str, run: &serde_json::Value) -> Result<Self, String> {
        let probe: serde_json::Value =
            serde_json::from_str(content).map_err(|e| format!("not JSON ({e})"))?;
        if probe.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(format!(
                "not a downhill checkpoint (format is not '{FORMAT}')"
            ));
        }
        if probe.get("version").and_then(|v| v.as_u64()) != Some(u64::from(VERSION)) {
            return Err(format!("checkpoint version is not {VERSION}"));
        }
        if probe.get("dtype").and_then(|v| v.as_str()) != Some(T::DTYPE) {
            return Err(format!("checkpoint does not hold {} values", T::DTYPE));
        }
        let ck: Checkpoint<T> = serde_json::from_value(probe).map_err(|e| e.to_string())?;
        if &ck.run != run {
            return Err(format!(
                "it was written by a different run: {}",
                run_difference(&ck.run, run)
            ));
        }
        Ok(ck)
    }

    /// The sealed file text of this checkpoint.
    pub fn to_file_text(&self) -> Result<String, TrainError> {
        let content =
            serde_json::to_string(self).map_err(|e| TrainError::Checkpoint(e.to_string()))?;
        Ok(seal(FORMAT, VERSION, &content))
    }

    /// The training state to continue from; `params_len` must match the model.
    pub fn into_state(self, params_len: usize) -> Result<TrainState<T>, TrainError> {
        if self.params.len() != params_len {
            return Err(TrainError::Checkpoint(format!(
                "checkpoint holds {} parameters, the model has {params_len}",
                self.params.len()
            )));
        }
        let optimizer = Optimizer::from_saved(self.optimizer)
            .map_err(|e| TrainError::Checkpoint(e.to_string()))?;
        if optimizer.len() != params_len {
            return Err(TrainError::Checkpoint(
                "optimizer state does not match the model".into(),
            ));
        }
        Ok(TrainState {
            params: self.params,
            optimizer,
            rng: self.rng.restore().map_err(TrainError::Checkpoint)?,
            epoch: self.epoch,
            step: self.step,
            seconds: self.seconds,
            best_loss: self.best_loss,
            stale_epochs: self.stale_epochs,
            schedule: self.schedule,
            averaged: self.averaged,
        })
    }
}

/// An observer that writes a checkpoint every `every` epochs and at the end.
pub struct Checkpointer {
    pub path: PathBuf,
    pub every: usize,
    pub run: serde_json::Value,
    written: Option<usize>,
}

impl Checkpointer {
    pub fn new(path: PathBuf, every: usize, run: serde_json::Value) -> Self {
        Checkpointer {
            path,
            every: every.max(1),
            run,
            written: None,
        }
    }

    fn write<T: Float>(&mut self, state: &TrainState<T>) -> Result<(), TrainError> {
        let text = Checkpoint::of(state, &self.run)?.to_file_text()?;
        write_atomic(&self.path, text.as_bytes())
            .map_err(|e| TrainError::Checkpoint(format!("{}: {e}", self.path.display())))?;
        self.written = Some(state.epoch);
        Ok(())
    }
}

impl<T: Float> Observer<T> for Checkpointer {
    fn on_epoch(&mut self, record: &EpochRecord, state: &TrainState<T>) -> Result<(), TrainError> {
        if record.epoch.is_multiple_of(self.every) {
            self.write(state)?;
        }
        Ok(())
    }

    fn on_end(&mut self, state: &TrainState<T>) -> Result<(), TrainError> {
        if self.written != Some(state.epoch) {
            self.write(state)?;
        }
        Ok(())
    }
}

/// The settings in which the checkpoint's run (`saved`) and this one differ,
/// as `key: saved → now` pairs (at most three, then a count).
fn run_difference(saved: &serde_json::Value, now: &serde_json::Value) -> String {
    let empty = serde_json::Map::new();
    let saved = saved.as_object().unwrap_or(&empty);
    let now = now.as_object().unwrap_or(&empty);
    let null = serde_json::Value::Null;
    let mut keys: Vec<&String> = saved.keys().chain(now.keys()).collect();
    keys.sort();
    keys.dedup();
    let differing: Vec<String> = keys
        .into_iter()
        .filter_map(|key| {
            let (a, b) = (
                saved.get(key).unwrap_or(&null),
                now.get(key).unwrap_or(&null),
            );
            (a != b).then(|| format!("{key} was {a}, this run has {b}"))
        })
        .collect();
    match differing.len() {
        0..=3 => differing.join("; "),
        n => format!("{}; and {} more", differing[..3].join("; "), n - 3),
    }
}
