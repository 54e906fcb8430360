//! The JSON endpoints. Each request type lists its fields exactly (unknown
//! fields are refused) and is checked against the limits here before any work.

use super::handler::{blocking, ApiError, ApiJson};
use crate::emit;
use crate::output::{runs_json, tune_json, tuned_runs, write_runs_csv};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use downhill::hyper::{Check, KeyInfo, Value};
use downhill::lab::tune::{self, Criterion};
use downhill::lab::{self, overlay, sweep};
use downhill::optim::{self, OPTIMIZERS};
use downhill::schedule;
use downhill::surface::{self, Surface};
use serde::Deserialize;
use serde_json::{json as object, Value as JsonValue};

/// The most updates a run or sweep may ask for.
pub const MAX_STEPS: usize = 20_000;
/// The most optimizers in one run or sweep.
pub const MAX_OPTIMIZERS: usize = 16;
/// The most grid points along one side.
pub const MAX_GRID: usize = 400;
/// The most points in one `/api/gradient` request.
pub const MAX_POINTS: usize = 4096;
/// The most learning rates in one sweep.
pub const MAX_LRS: usize = 64;
/// The most optimizer updates one sweep may take (optimizers × lrs × steps).
pub const MAX_SWEEP_WORK: usize = 2_000_000;
/// The most points (optimizers × (steps + 1)) a run with overlays may return.
pub const MAX_OVERLAY_POINTS: usize = 200_000;

/// `GET /api/limits`: the limits above, so the page can say when a request
/// would pass one instead of being refused.
pub async fn limits() -> Json<JsonValue> {
    Json(object!({
        "max_steps": MAX_STEPS,
        "max_optimizers": MAX_OPTIMIZERS,
        "max_grid": MAX_GRID,
        "max_points": MAX_POINTS,
        "max_lrs": MAX_LRS,
        "max_sweep_work": MAX_SWEEP_WORK,
        "max_overlay_points": MAX_OVERLAY_POINTS,
    }))
}

fn surface_json(
    label: &str,
    domain: surface::Domain,
    start: [f64; 2],
    minima: &[[f64; 2]],
) -> JsonValue {
    object!({
        "name": label,
        "domain": { "x": domain.x, "y": domain.y },
        "start": start,
        "minima": minima,
    })
}

/// `GET /api/surfaces`: every built-in surface with formula, domain, start and minima.
pub async fn surfaces() -> Json<JsonValue> {
    Json(
        Surface::ALL
            .iter()
            .map(|s| {
                let info = s.info();
                let mut doc = surface_json(info.name, info.domain, info.start, info.minima);
                doc["formula"] = info.formula.into();
                doc["minimum"] = info.minimum.into();
                doc
            })
            .collect(),
    )
}

fn key_json(key: &KeyInfo) -> JsonValue {
    let kind = match key.value {
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Text(_) => "text",
        Value::List(_) => "list",
        Value::Numbers(_) => "numbers",
    };
    let mut doc = object!({
        "name": key.name,
        "type": kind,
        "default": key.value,
        "range": key.check.to_string(),
        "doc": key.doc,
    });
    match key.check {
        Check::Range {
            lo,
            lo_open,
            hi,
            hi_open,
        } => {
            doc["min"] = lo.into();
            doc["min_open"] = lo_open.into();
            doc["max"] = hi.into();
            doc["max_open"] = hi_open.into();
        }
        Check::OneOf(words) => doc["one_of"] = words.into(),
        Check::Any => {}
    }
    doc
}

/// `GET /api/optimizers`: every optimizer name with its keys (type, default, range, doc).
pub async fn optimizers() -> Json<JsonValue> {
    Json(
        OPTIMIZERS
            .iter()
            .map(|entry| {
                object!({
                    "name": entry.name,
                    "summary": entry.summary,
                    "keys": entry.keys().iter().map(key_json).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurfaceRequest {
    surface: String,
}

/// `POST /api/surface`: resolves a name or formula (formula errors carry their column).
pub async fn surface(ApiJson(req): ApiJson<SurfaceRequest>) -> Result<Json<JsonValue>, ApiError> {
    let s = surface::resolve(&req.surface)?;
    Ok(Json(surface_json(&s.label, s.domain, s.start, &s.minima)))
}

/// The surface, the start (its default unless given) and a checked number of
/// optimizers: what every request that walks optimizers over a surface checks first.
fn surface_and_start(
    text: &str,
    start: Option<[f64; 2]>,
    optimizers: usize,
) -> Result<(surface::Resolved, [f64; 2]), ApiError> {
    let resolved = surface::resolve(text)?;
    let start = check_point("start", start.unwrap_or(resolved.start))?;
    check_count("the number of optimizers", optimizers, 1, MAX_OPTIMIZERS)?;
    Ok((resolved, start))
}

fn check_point(what: &str, p: [f64; 2]) -> Result<[f64; 2], ApiError> {
    if p.iter().all(|v| v.is_finite()) {
        Ok(p)
    } else {
        Err(ApiError::bad(format!("{what} must be two finite numbers")))
    }
}

fn check_count(what: &str, n: usize, lo: usize, hi: usize) -> Result<(), ApiError> {
    if (lo..=hi).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "{what} must be between {lo} and {hi}, got {n}"
        )))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    surface: String,
    /// Default: the surface's own start.
    start: Option<[f64; 2]>,
    optimizers: Vec<String>,
    steps: usize,
    schedule: Option<String>,
    /// Also return, per point, the gradient, the update, and where the
    /// optimizer has them its velocity, look-ahead point and effective step.
    #[serde(default)]
    overlays: bool,
    /// `json` (default) or `csv`: the columns of `downhill run --format csv`.
    #[serde(default)]
    format: RunFormat,
    /// `"2"` (default) or `"1x2"`: how the optimizers hold the point.
    #[serde(default, deserialize_with = "param_shape")]
    param_shape: lab::ParamShape,
}

fn param_shape<'de, D: serde::Deserializer<'de>>(d: D) -> Result<lab::ParamShape, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

#[derive(Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum RunFormat {
    #[default]
    Json,
    Csv,
}

/// `POST /api/run`: `downhill run --format json` (or `csv`) as an endpoint,
/// plus overlays on request.
pub async fn run(ApiJson(req): ApiJson<RunRequest>) -> Result<Response, ApiError> {
    let (resolved, start) = surface_and_start(&req.surface, req.start, req.optimizers.len())?;
    check_count("steps", req.steps, 0, MAX_STEPS)?;
    if req.overlays && req.optimizers.len() * (req.steps + 1) > MAX_OVERLAY_POINTS {
        return Err(ApiError::bad(format!(
            "overlays are limited to {MAX_OVERLAY_POINTS} points (optimizers × (steps + 1))"
        )));
    }
    blocking(move || {
        let landscape = resolved.landscape.as_ref();
        // Overlays at the last point need the state before one more update:
        // run it, then drop what it added (earlier points are unaffected).
        let extra = usize::from(req.overlays);
        let mut states: Vec<Vec<overlay::State>> = vec![Vec::new(); req.optimizers.len()];
        let mut runs = lab::runs(
            landscape,
            start,
            req.param_shape,
            &req.optimizers,
            req.steps + extra,
            req.schedule.as_deref(),
            |run, _, optimizer| {
                if req.overlays {
                    states[run].push(overlay::State::of(optimizer));
                }
            },
        )?;
        let mut nexts = Vec::with_capacity(runs.len());
        for path in runs.iter_mut().map(|run| &mut run.path) {
            nexts.push(if path.points.len() > req.steps + 1 {
                path.points.pop()
            } else {
                None
            });
            if path.diverged.as_ref().is_some_and(|d| d.step > req.steps) {
                path.diverged = None;
            }
        }
        if req.format == RunFormat::Csv {
            let mut text = Vec::new();
            write_runs_csv(&mut text, &runs).map_err(|e| ApiError::bad(e.to_string()))?;
            return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response());
        }
        let mut doc = runs_json(&resolved.label, start, req.steps, &runs);
        if req.overlays {
            for (i, run) in runs.iter().enumerate() {
                let adaptive = overlay::is_adaptive(&optim::build(&run.spec)?);
                let overlays =
                    overlay::overlays(landscape, &run.path, nexts[i], &states[i], adaptive);
                doc["runs"][i]["overlays"] = object!(overlays);
            }
        }
        Ok(Json(doc).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    surface: String,
    start: Option<[f64; 2]>,
    optimizer: String,
    /// The update to explain: 1 moves θ₀ to θ₁.
    step: usize,
    schedule: Option<String>,
    #[serde(default, deserialize_with = "param_shape")]
    param_shape: lab::ParamShape,
}

/// `POST /api/explain`: update `step` of one optimizer, as `/api/run` runs it:
/// the rule's equations with their values (`lines`, null for a rule without a
/// description), every symbol's value, the state before and after, the summary.
pub async fn explain(ApiJson(req): ApiJson<ExplainRequest>) -> Result<Json<JsonValue>, ApiError> {
    let (resolved, start) = surface_and_start(&req.surface, req.start, 1)?;
    check_count("step", req.step, 1, MAX_STEPS)?;
    let entry = optim::Entry::find(&downhill::Spec::parse(&req.optimizer)?.name)?;
    blocking(move || {
        let explained = lab::explain::explain(
            resolved.landscape.as_ref(),
            start,
            req.param_shape,
            &req.optimizer,
            req.schedule.as_deref(),
            req.step,
        )
        .map_err(|e| ApiError::bad(e.to_string()))?;
        let mut doc = object!(explained);
        doc["summary"] = entry.summary.into();
        Ok(Json(doc))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRequest {
    surface: String,
    x: [f64; 2],
    y: [f64; 2],
    n: usize,
}

/// `POST /api/grid`: f on an n×n grid, `values[j·n + i] = f(x_i, y_j)` with
/// x_i = x₀ + i·(x₁ − x₀)/(n − 1) (likewise y_j); null where f is not finite.
pub async fn grid(ApiJson(req): ApiJson<GridRequest>) -> Result<Json<JsonValue>, ApiError> {
    let resolved = surface::resolve(&req.surface)?;
    check_count("n", req.n, 2, MAX_GRID)?;
    for (name, [lo, hi]) in [("x", req.x), ("y", req.y)] {
        if !(lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite()) {
            return Err(ApiError::bad(format!(
                "{name} must be two finite numbers [lo, hi] with lo < hi"
            )));
        }
    }
    blocking(move || {
        let n = req.n;
        let at = |[lo, hi]: [f64; 2], i: usize| lo + (hi - lo) * i as f64 / (n - 1) as f64;
        let values: Vec<f64> = (0..n * n)
            .map(|k| resolved.landscape.value(at(req.x, k % n), at(req.y, k / n)))
            .collect();
        Ok(Json(
            object!({ "n": n, "x": req.x, "y": req.y, "values": values }),
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradientRequest {
    surface: String,
    points: Vec<[f64; 2]>,
}

/// `POST /api/gradient`: f and its exact gradient at each point.
pub async fn gradient(ApiJson(req): ApiJson<GradientRequest>) -> Result<Json<JsonValue>, ApiError> {
    let resolved = surface::resolve(&req.surface)?;
    check_count("the number of points", req.points.len(), 1, MAX_POINTS)?;
    for p in &req.points {
        check_point("each point", *p)?;
    }
    let land = resolved.landscape.as_ref();
    let values: Vec<f64> = req.points.iter().map(|p| land.value(p[0], p[1])).collect();
    let gradients: Vec<[f64; 2]> = req
        .points
        .iter()
        .map(|p| land.gradient(p[0], p[1]))
        .collect();
    Ok(Json(object!({ "values": values, "gradients": gradients })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRequest {
    surface: String,
    start: Option<[f64; 2]>,
    optimizers: Vec<String>,
    lrs: Vec<f64>,
    steps: usize,
    schedule: Option<String>,
    /// Another swept key, as `downhill sweep --param`: each optimizer that
    /// has it gives one row per value.
    param: Option<SweepParam>,
    /// `final-loss` (the default) or `steps-to=TOL`, which adds `steps_to_tolerance`.
    criterion: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepParam {
    key: String,
    values: Vec<String>,
}

/// `POST /api/sweep`: the final loss of every optimizer (× value of `param`,
/// one row each, `values[i]` null for an optimizer without the key) at every
/// learning rate (`final_loss[i][j]` for row i and lr j; null with
/// `diverged_at` set when the run diverged); `specs[i][j]` is the spec that
/// run ran, lr and value written in.
pub async fn sweep(ApiJson(req): ApiJson<SweepRequest>) -> Result<Json<JsonValue>, ApiError> {
    let (resolved, start) = surface_and_start(&req.surface, req.start, req.optimizers.len())?;
    check_count("the number of learning rates", req.lrs.len(), 1, MAX_LRS)?;
    check_count("steps", req.steps, 1, MAX_STEPS)?;
    let values = req.param.as_ref().map_or(1, |p| p.values.len());
    check_count("the number of values", values, 1, MAX_LRS)?;
    let work = req.optimizers.len() * values * req.lrs.len() * req.steps;
    if work > MAX_SWEEP_WORK {
        let what = match req.param {
            Some(_) => "optimizers × values × lrs × steps",
            None => "optimizers × lrs × steps",
        };
        return Err(ApiError::bad(format!(
            "a sweep may take at most {MAX_SWEEP_WORK} updates ({what}), this one {work}"
        )));
    }
    let criterion: Criterion = req.criterion.as_deref().unwrap_or("final-loss").parse()?;
    criterion.check(&resolved.minima)?;
    let params: Vec<sweep::Param> = match &req.param {
        Some(p) if p.key == "lr" => {
            return Err(ApiError::bad(
                "param.key may be any key but lr (lrs sweeps it)",
            ))
        }
        Some(p) => vec![sweep::Param {
            key: p.key.clone(),
            values: p.values.clone(),
        }],
        None => Vec::new(),
    };
    let jobs = match params.is_empty() {
        true => sweep::lr_grid(&req.optimizers, &req.lrs)?,
        false => sweep::grid(&req.optimizers, &params, &req.lrs)?,
    };
    let schedule = req.schedule.as_deref().map(schedule::build).transpose()?;
    blocking(move || {
        let landscape = resolved.landscape.as_ref();
        let points = sweep::run(jobs, landscape, start, req.steps, schedule.as_ref(), || {})?;
        let rows: Vec<&[sweep::GridPoint]> = points.chunks(req.lrs.len()).collect();
        let keys: Vec<String> = params.iter().map(|p| p.key.clone()).collect();
        let specs = rows
            .iter()
            .map(|row| row.iter().map(|p| p.spec(&keys)).collect())
            .collect::<Result<Vec<Vec<String>>, _>>()?;
        let losses: Vec<Vec<Option<f64>>> = rows
            .iter()
            .map(|row| row.iter().map(|p| p.path.final_loss()).collect())
            .collect();
        let diverged: Vec<Vec<Option<usize>>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|p| p.path.diverged.as_ref().map(|d| d.step))
                    .collect()
            })
            .collect();
        let mut answer = object!({
            "surface": resolved.label,
            "start": start,
            "steps": req.steps,
            "optimizers": req.optimizers,
            "lrs": req.lrs,
            "final_loss": losses,
            "diverged_at": diverged,
            "specs": specs,
        });
        if let Some(p) = &req.param {
            answer["key"] = p.key.clone().into();
            answer["values"] = rows.iter().map(|row| row[0].params[0].clone()).collect();
        }
        if let Criterion::StepsTo(_) = criterion {
            answer["criterion"] = criterion.to_string().into();
            let steps: Vec<Vec<Option<usize>>> = rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|p| criterion.steps(&p.path, &resolved.minima))
                        .collect()
                })
                .collect();
            answer["steps_to_tolerance"] = object!(steps);
        }
        Ok(Json(answer))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuneRequest {
    surface: String,
    start: Option<[f64; 2]>,
    optimizers: Vec<String>,
    steps: usize,
    /// `final-loss` (the default) or `steps-to=TOL`.
    criterion: Option<String>,
    /// `LO:HI:N` (default `1e-4:1:13`).
    grid: Option<String>,
}

/// `POST /api/tune`: `downhill tune`'s JSON (criterion and the best lr of
/// each optimizer) plus the tuned runs' paths, as `/api/run` returns them.
pub async fn tune(ApiJson(req): ApiJson<TuneRequest>) -> Result<Json<JsonValue>, ApiError> {
    let (resolved, start) = surface_and_start(&req.surface, req.start, req.optimizers.len())?;
    check_count("steps", req.steps, 1, MAX_STEPS)?;
    let criterion: Criterion = req.criterion.as_deref().unwrap_or("final-loss").parse()?;
    let lrs = tune::parse_grid(req.grid.as_deref().unwrap_or(tune::DEFAULT_GRID))?;
    check_count("the number of learning rates", lrs.len(), 1, MAX_LRS)?;
    let work = req.optimizers.len() * lrs.len() * req.steps;
    if work > MAX_SWEEP_WORK {
        return Err(ApiError::bad(format!(
            "a tune may take at most {MAX_SWEEP_WORK} updates (optimizers × lrs × steps), this one {work}"
        )));
    }
    blocking(move || {
        let tuned = tune::tune(
            &resolved,
            start,
            &req.optimizers,
            &lrs,
            req.steps,
            criterion,
            || {},
        )?;
        let mut answer = tune_json(criterion, &tuned);
        let runs = runs_json(&resolved.label, start, req.steps, &tuned_runs(&tuned));
        answer["runs"] = runs["runs"].clone();
        Ok(Json(answer))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmitRequest {
    /// `pytorch` or `rust`.
    language: emit::Language,
    surface: String,
    start: Option<[f64; 2]>,
    optimizers: Vec<String>,
    steps: usize,
    schedule: Option<String>,
    #[serde(default, deserialize_with = "param_shape")]
    param_shape: lab::ParamShape,
}

/// `POST /api/emit`: `downhill run … --emit LANGUAGE` as a download, the
/// program that prints what `/api/run` with `"format": "csv"` returns.
pub async fn emit(ApiJson(req): ApiJson<EmitRequest>) -> Result<Response, ApiError> {
    let (resolved, start) = surface_and_start(&req.surface, req.start, req.optimizers.len())?;
    check_count("steps", req.steps, 0, MAX_STEPS)?;
    blocking(move || {
        // One update checks what a run would (specs, schedule, shape).
        let landscape = resolved.landscape.as_ref();
        let (specs, schedule) = (&req.optimizers, req.schedule.as_deref());
        lab::runs(
            landscape,
            start,
            req.param_shape,
            specs,
            req.steps.min(1),
            schedule,
            |_, _, _| {},
        )?;
        let problem = emit::Problem {
            surface: req.surface,
            start,
            specs: req.optimizers,
            steps: req.steps,
            schedule: req.schedule,
            shape: req.param_shape,
        };
        let text =
            emit::script(req.language, &problem).map_err(|e| ApiError::bad(e.to_string()))?;
        let disposition = format!("attachment; filename=\"{}\"", req.language.file_name());
        let headers = [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ];
        Ok((headers, text).into_response())
    })
    .await
}
