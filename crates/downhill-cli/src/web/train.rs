//! `POST /api/train`: `downhill compare` as a stream of server-sent events.
//!
//! The request is checked (limits below, then the dataset, model and every
//! optimizer are built) before the stream starts, so a bad one is a 400. The
//! runs then train one after the other on a thread of their own with the
//! library's loop, each from the same initial weights and shuffle order, and
//! the events are `start`, one `epoch` per epoch per optimizer, `failed` for a
//! run that diverged, `error` when the time limit ends the job, and `summary`.
//! A client that goes away stops its job at the next update.

use super::{blocking, ApiError, ApiJson};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use downhill::data::{BatchSize, LoadOptions, Scaling, BUNDLED, GENERATORS};
use downhill::model::{Float, ModelSpec};
use downhill::spec::Spec;
use downhill::train::{
    EpochRecord, Finished, Observer, Prepared, ScheduleUnit, Setup, StepRecord, TaskChoice,
    TrainConfig, TrainError, TrainState,
};
use serde::Deserialize;
use serde_json::{json as object, Value as JsonValue};
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The most epochs one job may ask for.
pub const MAX_EPOCHS: usize = 200;
/// The most optimizers in one job.
pub const MAX_TRAIN_OPTIMIZERS: usize = 8;
/// The most samples a synthetic generator may draw.
pub const MAX_SAMPLES: u64 = 5_000;
/// The most features (linear, blobs) and classes (blobs, spirals) of a generator.
pub const MAX_FEATURES: u64 = 100;
pub const MAX_CLASSES: u64 = 50;
/// The most hidden layers, units per layer, and parameters of a model.
pub const MAX_LAYERS: usize = 4;
pub const MAX_UNITS: u64 = 512;
pub const MAX_PARAMETERS: usize = 200_000;
/// How long one job may train, all its optimizers together.
pub const TRAIN_TIME_LIMIT: Duration = Duration::from_secs(60);
/// The most jobs training at once; more are answered 503.
pub const MAX_JOBS: usize = 4;

/// Events buffered for a slow reader before the job waits for it.
const BUFFER: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    /// A bundled dataset or a generator spec (no files).
    dataset: String,
    model: String,
    optimizers: Vec<String>,
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
enum Dtype {
    F32,
    F64,
}

impl TrainRequest {
    /// The `downhill compare` settings of this request, checked against the
    /// limits, and the element type.
    fn setup(&self) -> Result<(Setup, Dtype), ApiError> {
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
            },
            schedule: schedule.map(|spec| (spec, schedule_unit)),
            scale_lr: None,
            non_finite: on_non_finite,
        };
        Ok((setup, dtype))
    }
}

static JOBS: AtomicUsize = AtomicUsize::new(0);

/// One of the [`MAX_JOBS`] places for a training job, freed when dropped.
struct Slot;

impl Slot {
    fn take() -> Result<Slot, ApiError> {
        if JOBS.fetch_add(1, Ordering::SeqCst) >= MAX_JOBS {
            JOBS.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{MAX_JOBS} training jobs are running already; try again when one ends"),
            ));
        }
        Ok(Slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        JOBS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `POST /api/train`: checks the request, then streams the job's events.
pub async fn train(ApiJson(req): ApiJson<TrainRequest>) -> Result<Response, ApiError> {
    let (setup, dtype) = req.setup()?;
    let slot = Slot::take()?;
    let specs = req.optimizers;
    let events = blocking(move || match dtype {
        Dtype::F32 => start::<f32>(setup, specs, slot),
        Dtype::F64 => start::<f64>(setup, specs, slot),
    })
    .await?;
    let stream = futures_util::stream::unfold(events, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn event(name: &str, data: JsonValue) -> Event {
    Event::default().event(name).data(data.to_string())
}

/// Prepares the data, model and states (errors are 400s), then starts the job's thread.
fn start<T: Float>(
    setup: Setup,
    specs: Vec<String>,
    slot: Slot,
) -> Result<mpsc::Receiver<Event>, ApiError> {
    let p = setup.prepare()?;
    let parameters = p.net.param_len();
    if parameters > MAX_PARAMETERS {
        return Err(ApiError::bad(format!(
            "the model has {parameters} parameters; at most {MAX_PARAMETERS} are allowed here"
        )));
    }
    let states = setup.fresh_states::<T>(&p, &specs)?;
    let (tx, rx) = mpsc::channel(BUFFER);
    std::thread::spawn(move || {
        let _slot = slot;
        run_job(&setup, &p, &specs, states, &tx);
    });
    Ok(rx)
}

/// Streams epochs to the client and ends the job when it leaves or time is up.
struct Streamer {
    tx: mpsc::Sender<Event>,
    run: usize,
    spec: String,
    deadline: Instant,
    /// Why the whole job stops (a disconnect or the time limit), if it does.
    stop: Option<Stop>,
}

#[derive(Clone, Copy, PartialEq)]
enum Stop {
    Disconnected,
    TimeUp,
}

impl Streamer {
    fn send(&mut self, e: Event) -> Result<(), TrainError> {
        self.tx.blocking_send(e).map_err(|_| {
            self.stop = Some(Stop::Disconnected);
            TrainError::Output("the client disconnected".into())
        })
    }
}

impl<T: Float> Observer<T> for Streamer {
    fn on_step(&mut self, _record: &StepRecord) -> Result<(), TrainError> {
        if self.tx.is_closed() {
            self.stop = Some(Stop::Disconnected);
            return Err(TrainError::Output("the client disconnected".into()));
        }
        if Instant::now() > self.deadline {
            self.stop = Some(Stop::TimeUp);
            return Err(TrainError::Output("time is up".into()));
        }
        Ok(())
    }

    fn on_epoch(&mut self, r: &EpochRecord, _state: &TrainState<T>) -> Result<(), TrainError> {
        let mut doc = serde_json::to_value(r).map_err(|e| TrainError::Output(e.to_string()))?;
        doc["run"] = self.run.into();
        doc["optimizer"] = self.spec.clone().into();
        self.send(event("epoch", doc))
    }
}

fn run_job<T: Float>(
    setup: &Setup,
    p: &Prepared,
    specs: &[String],
    states: Vec<TrainState<T>>,
    tx: &mpsc::Sender<Event>,
) {
    let start = object!({
        "dataset": p.dataset.name,
        "model": setup.model,
        "optimizers": specs,
        "epochs": setup.config.epochs,
        "classes": p.dataset.task.classes(),
        "train_samples": p.train.len(),
        "test_samples": p.test.len(),
        "parameters": p.net.param_len(),
        "steps_per_epoch": setup.steps_per_epoch(p),
    });
    if tx.blocking_send(event("start", start)).is_err() {
        return;
    }
    let deadline = Instant::now() + TRAIN_TIME_LIMIT;
    let mut runs = Vec::with_capacity(specs.len());
    let mut finished = true;
    setup.train_each(
        p,
        states,
        |run| Streamer {
            tx: tx.clone(),
            run,
            spec: specs[run].clone(),
            deadline,
            stop: None,
        },
        |run, streamer, done| match streamer.stop {
            Some(Stop::Disconnected) => {
                finished = false;
                ControlFlow::Break(())
            }
            Some(Stop::TimeUp) => {
                let message = format!(
                    "training took longer than {} s and was stopped; ask for fewer epochs, a smaller model or dataset",
                    TRAIN_TIME_LIMIT.as_secs()
                );
                let _ = tx.blocking_send(event("error", object!({ "error": message })));
                finished = false;
                ControlFlow::Break(())
            }
            None => match summary(run, &specs[run], done, tx) {
                Some(summary) => {
                    runs.push(summary);
                    ControlFlow::Continue(())
                }
                None => {
                    finished = false;
                    ControlFlow::Break(())
                }
            },
        },
    );
    if finished {
        let summary = object!({
            "dataset": p.dataset.name,
            "model": setup.model,
            "runs": runs,
        });
        let _ = tx.blocking_send(event("summary", summary));
    }
}

/// The summary of a run that ended by itself, after a `failed` event if it
/// failed; `None` when the client has gone.
fn summary<T: Float>(
    run: usize,
    spec: &str,
    done: Finished<T>,
    tx: &mpsc::Sender<Event>,
) -> Option<JsonValue> {
    let last = done.epochs.last();
    let mut summary = object!({
        "optimizer": spec,
        "train_loss": last.map(|r| r.train_loss),
        "test_loss": last.and_then(|r| r.test_loss),
        "test_accuracy": last.and_then(|r| r.accuracy),
        "epochs": done.state.epoch,
        "steps": done.state.step,
        "seconds": done.state.seconds,
    });
    if let Err(e) = done.result {
        summary["error"] = e.to_string().into();
        let failed = object!({ "run": run, "optimizer": spec, "error": e.to_string() });
        tx.blocking_send(event("failed", failed)).ok()?;
    }
    Some(summary)
}
