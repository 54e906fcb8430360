//! The request of `POST /api/train`, checked against the limits here and
//! turned into the library's training setup.

use crate::web::handler::ApiError;
use downhill::data::{BatchSize, LoadOptions, Scaling, BUNDLED, GENERATORS};
use downhill::model::ModelSpec;
use downhill::spec::Spec;
use downhill::train::{ScheduleUnit, Setup, TaskChoice, TrainConfig};
use serde::Deserialize;
use serde_json::Value as JsonValue;

/// The most epochs one job may ask for.
pub const MAX_EPOCHS: usize = 200;
/// The most optimizers in one job.
pub const MAX_TRAIN_OPTIMIZERS: usize = 8;
/// The most samples a synthetic generator may draw.
pub const MAX_SAMPLES: u64 = 5_000;
/// The most features (linear, blobs) and classes (blobs, spirals) of a generator.
pub const MAX_FEATURES: u64 = 100;
pub const MAX_CLASSES: u64 = 50;
/// The most hidden layers and units per layer of a model.
pub const MAX_LAYERS: usize = 4;
pub const MAX_UNITS: u64 = 512;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    /// A bundled dataset or a generator spec (no files).
    dataset: String,
    model: String,
    pub optimizers: Vec<String>,
    epochs: usize,
    /// A number or `"full"` (default 32, as `downhill train`).
    batch_size: Option<JsonValue>,
    #[serde(default)]
    seed: u64,
    schedule: Option<String>,
    /// `epoch` (default) or `step`.
    schedule_unit: Option<String>,
    test_fraction: Option<f64>,
    /// `f32` (default) or `f64`.
    dtype: Option<String>,
    /// A non-finite gradient: `error` (default), `skip`, `zero` or `propagate`.
    on_non_finite: Option<String>,
}

fn within_limit(what: &str, value: u64, max: u64) -> Result<(), ApiError> {
    if value <= max {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "{what} may be at most {max}, got {value}"
        )))
    }
}

/// A bundled name, or a generator spec whose sizes are within the limits.
fn check_dataset(text: &str) -> Result<(), ApiError> {
    if BUNDLED.iter().any(|b| b.name == text) {
        return Ok(());
    }
    let spec = Spec::parse(text)?;
    if !GENERATORS.contains(&spec.name.as_str()) {
        let mut valid: Vec<&str> = BUNDLED.iter().map(|b| b.name).collect();
        valid.extend(GENERATORS);
        return Err(ApiError::bad(format!(
            "unknown dataset '{}'; valid: {} (generators take keys, e.g. moons:n=500,noise=0.2)",
            spec.name,
            valid.join(", ")
        )));
    }
    for (key, value) in &spec.args {
        let max = match key.as_str() {
            "n" => MAX_SAMPLES,
            "features" => MAX_FEATURES,
            "classes" => MAX_CLASSES,
            _ => continue,
        };
        if let Ok(v) = value.trim().parse::<u64>() {
            within_limit(&format!("{} {key}", spec.name), v, max)?;
        }
    }
    Ok(())
}

fn check_model(text: &str) -> Result<(), ApiError> {
    let model = ModelSpec::parse(text)?;
    let hidden = &model.config.hidden;
    if model.name == "mlp" {
        within_limit(
            "the number of hidden layers",
            hidden.len() as u64,
            MAX_LAYERS as u64,
        )?;
        for &h in hidden {
            within_limit("units per hidden layer", h, MAX_UNITS)?;
        }
    }
    Ok(())
}

/// The element type a job computes in.
#[derive(Clone, Copy)]
pub enum Dtype {
    F32,
    F64,
}

impl TrainRequest {
    /// The `downhill compare` settings of this request, checked against the
    /// limits, and the element type.
    pub fn setup(&self) -> Result<(Setup, Dtype), ApiError> {
        check_dataset(&self.dataset)?;
        check_model(&self.model)?;
        let n = self.optimizers.len();
        if !(1..=MAX_TRAIN_OPTIMIZERS).contains(&n) {
            return Err(ApiError::bad(format!(
                "the number of optimizers must be between 1 and {MAX_TRAIN_OPTIMIZERS}, got {n}"
            )));
        }
        if !(1..=MAX_EPOCHS).contains(&self.epochs) {
            return Err(ApiError::bad(format!(
                "epochs must be between 1 and {MAX_EPOCHS}, got {}",
                self.epochs
            )));
        }
        let batch_size = match &self.batch_size {
            None => BatchSize::Size(32),
            Some(JsonValue::String(s)) => s.parse().map_err(ApiError::bad)?,
            Some(JsonValue::Number(n)) => n.to_string().parse().map_err(ApiError::bad)?,
            Some(other) => {
                return Err(ApiError::bad(format!(
                    "batch_size must be 'full' or a whole number ≥ 1, got {other}"
                )))
            }
        };
        let schedule_unit = match self.schedule_unit.as_deref() {
            None | Some("epoch") => ScheduleUnit::Epoch,
            Some("step") => ScheduleUnit::Step,
            Some(other) => {
                return Err(ApiError::bad(format!(
                    "schedule_unit must be 'epoch' or 'step', got '{other}'"
                )))
            }
        };
        let dtype = match self.dtype.as_deref() {
            None | Some("f32") => Dtype::F32,
            Some("f64") => Dtype::F64,
            Some(other) => {
                return Err(ApiError::bad(format!(
                    "dtype must be 'f32' or 'f64', got '{other}'"
                )))
            }
        };
        let on_non_finite = self
            .on_non_finite
            .as_deref()
            .unwrap_or("error")
            .parse()
            .map_err(ApiError::bad)?;
        let schedule = self.schedule.clone().filter(|s| !s.trim().is_empty());
        let setup = Setup {
            dataset: self.dataset.clone(),
            test_dataset: None,
            load: LoadOptions::default(),
            task: TaskChoice::Auto,
            model: self.model.clone(),
            test_fraction: self.test_fraction.unwrap_or(0.2),
            stratify: true,
            scaling: Scaling::Standard,
            seed: self.seed,
            config: TrainConfig {
                epochs: self.epochs,
                batch: batch_size,
                drop_last: false,
                clip: None,
                patience: None,
                swa: None,
            },
            schedule: schedule.map(|spec| (spec, schedule_unit)),
            scale_lr: None,
            non_finite: on_non_finite,
        };
        Ok((setup, dtype))
    }
}
