//! `POST /api/train`: `downhill compare` as a stream of server-sent events.
//!
//! The request is checked (the limits of [`request`], then the dataset, model and every
//! optimizer are built) before the stream starts, so a bad one is a 400. The
//! runs then train one after the other on a thread of their own with the
//! library's loop, each from the same initial weights and shuffle order, and
//! the events are `start`, one `epoch` per epoch per optimizer, `failed` for a
//! run that diverged, `error` when the time limit ends the job, and `summary`.
//! A client that goes away stops its job at the next update.

mod request;

use super::handler::{blocking, ApiError, ApiJson};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use downhill::model::Float;
use downhill::train::{
    EpochRecord, Finished, Observer, Prepared, Setup, StepRecord, TrainError, TrainState,
};
use request::{Dtype, TrainRequest};
use serde_json::{json as object, Value as JsonValue};
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The most parameters of a model.
pub const MAX_PARAMETERS: usize = 200_000;
/// How long one job may train, all its optimizers together.
pub const TRAIN_TIME_LIMIT: Duration = Duration::from_secs(60);
/// The most jobs training at once; more are answered 503.
pub const MAX_JOBS: usize = 4;

/// Events buffered for a slow reader before the job waits for it.
const BUFFER: usize = 64;

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
