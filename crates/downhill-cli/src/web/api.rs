//! The JSON endpoints. Each request type lists its fields exactly (unknown
//! fields are refused) and is checked against the limits here before any work.

use super::{blocking, ApiError, ApiJson};
use crate::commands::run::{json, schedule_step, trajectories, write_csv};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use downhill::hyper::{Check, KeyInfo, Value};
use downhill::lab::{self, Point, Trajectory};
use downhill::optim::{self, Optimizer, RuleSet, OPTIMIZERS};
use downhill::schedule;
use downhill::surface::{self, Landscape, Surface};
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

/// Optimizer names an overlay shows the per-coordinate effective step of.
const ADAPTIVE: [&str; 8] = [
    "adagrad", "rmsprop", "adadelta", "adam", "nadam", "radam", "adamax", "rprop",
];

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
    let resolved = surface::resolve(&req.surface)?;
    let start = check_point("start", req.start.unwrap_or(resolved.start))?;
    check_count(
        "the number of optimizers",
        req.optimizers.len(),
        1,
        MAX_OPTIMIZERS,
    )?;
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
        let mut states: Vec<Vec<State>> = vec![Vec::new(); req.optimizers.len()];
        let mut paths = trajectories(
            landscape,
            start,
            &req.optimizers,
            req.steps + extra,
            req.schedule.as_deref(),
            |run, _, optimizer| {
                if req.overlays {
                    states[run].push(State::of(optimizer));
                }
            },
        )?;
        let mut nexts = Vec::with_capacity(paths.len());
        for path in &mut paths {
            nexts.push(if path.points.len() > req.steps + 1 {
                path.points.pop()
            } else {
                None
            });
            if path.diverged.as_ref().is_some_and(|d| d.step > req.steps) {
                path.diverged = None;
            }
        }
        let runs: Vec<(&str, Trajectory)> = req
            .optimizers
            .iter()
            .map(String::as_str)
            .zip(paths)
            .collect();
        if req.format == RunFormat::Csv {
            let mut text = Vec::new();
            write_csv(&mut text, &runs)?;
            return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response());
        }
        let mut doc = json(&resolved.label, start, req.steps, &runs);
        if req.overlays {
            for (i, (spec, path)) in runs.iter().enumerate() {
                let adaptive = ADAPTIVE.contains(&optim::build(spec)?.name());
                doc["runs"][i]["overlays"] =
                    overlays(landscape, path, nexts[i], &states[i], adaptive);
            }
        }
        Ok(Json(doc).into_response())
    })
    .await
}

/// What an overlay needs of an optimizer's state at one point.
#[derive(Clone, Default)]
struct State {
    /// The velocity in parameter units: NAG's `v`, or −η·b for SGD's momentum buffer `b`.
    velocity: Option<[f64; 2]>,
    /// NAG's momentum μ (the look-ahead point is θ + μ·v).
    lookahead_momentum: Option<f64>,
}

impl State {
    fn of(optimizer: &Optimizer<f64>) -> State {
        let Ok(saved) = optimizer.save() else {
            return State::default();
        };
        let float = |key| match optimizer.get(0, key) {
            Some(Value::Float(v)) => Some(v),
            _ => None,
        };
        let buffers = &saved.groups[0].buffers;
        let pair = |v: &Vec<f64>| [v[0], v[1]];
        if let Some(v) = buffers.get("velocity") {
            State {
                velocity: Some(pair(v)),
                lookahead_momentum: float("momentum"),
            }
        } else if let (Some(b), Some(lr)) = (buffers.get("momentum_buffer"), float("lr")) {
            State {
                velocity: Some([-lr * b[0], -lr * b[1]]),
                lookahead_momentum: None,
            }
        } else {
            State::default()
        }
    }
}

/// Per-point overlay arrays (null where a value does not exist):
/// `gradient` ∇f(θ_k); `step` θ_{k+1} − θ_k (at the last point, toward the
/// `next` point one more update would reach); `velocity` and (NAG)
/// `lookahead` θ_k + μ·v_k from the optimizer's state before update k; for
/// adaptive methods `effective_lr` = −step_i / ∇f_i, the per-coordinate step size.
fn overlays(
    landscape: &dyn Landscape,
    path: &Trajectory,
    next: Option<Point>,
    states: &[State],
    adaptive: bool,
) -> JsonValue {
    let p = &path.points;
    let gradient: Vec<[f64; 2]> = p.iter().map(|q| landscape.gradient(q.x, q.y)).collect();
    let step: Vec<Option<[f64; 2]>> = (0..p.len())
        .map(|k| {
            let n = p
                .get(k + 1)
                .copied()
                .or(next.filter(|_| k + 1 == p.len()))?;
            Some([n.x - p[k].x, n.y - p[k].y])
        })
        .collect();
    let state = |k: usize| states.get(k).cloned().unwrap_or_default();
    let velocity: Vec<Option<[f64; 2]>> = (0..p.len()).map(|k| state(k).velocity).collect();
    let lookahead: Vec<Option<[f64; 2]>> = (0..p.len())
        .map(|k| {
            let s = state(k);
            let (v, mu) = (s.velocity?, s.lookahead_momentum?);
            Some([p[k].x + mu * v[0], p[k].y + mu * v[1]])
        })
        .collect();
    let mut doc = object!({ "gradient": gradient, "step": step });
    if velocity.iter().any(Option::is_some) {
        doc["velocity"] = object!(velocity);
    }
    if lookahead.iter().any(Option::is_some) {
        doc["lookahead"] = object!(lookahead);
    }
    if adaptive {
        let lr: Vec<Option<[f64; 2]>> = step
            .iter()
            .zip(&gradient)
            .map(|(s, g)| s.map(|s| [-s[0] / g[0], -s[1] / g[1]]))
            .collect();
        doc["effective_lr"] = object!(lr);
    }
    doc
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
}

/// `POST /api/sweep`: the final loss of every optimizer at every learning rate
/// (`final_loss[i][j]` for optimizer i and lr j; null with `diverged_at` set
/// when the run diverged).
pub async fn sweep(ApiJson(req): ApiJson<SweepRequest>) -> Result<Json<JsonValue>, ApiError> {
    let resolved = surface::resolve(&req.surface)?;
    let start = check_point("start", req.start.unwrap_or(resolved.start))?;
    check_count(
        "the number of optimizers",
        req.optimizers.len(),
        1,
        MAX_OPTIMIZERS,
    )?;
    check_count("the number of learning rates", req.lrs.len(), 1, MAX_LRS)?;
    check_count("steps", req.steps, 1, MAX_STEPS)?;
    let work = req.optimizers.len() * req.lrs.len() * req.steps;
    if work > MAX_SWEEP_WORK {
        return Err(ApiError::bad(format!(
            "a sweep may take at most {MAX_SWEEP_WORK} updates (optimizers × lrs × steps), this one {work}"
        )));
    }
    let mut rules = Vec::with_capacity(req.optimizers.len());
    for spec in &req.optimizers {
        let base = optim::build(spec)?;
        let mut row = Vec::with_capacity(req.lrs.len());
        for &lr in &req.lrs {
            let mut rule = base.clone();
            let owner = rule.name();
            rule.hyper_mut()
                .set("lr", &Value::Float(lr))
                .and_then(|()| rule.validate())
                .map_err(|e| ApiError::bad(format!("{spec}: {owner}: {e}")))?;
            row.push(rule);
        }
        rules.push(row);
    }
    let schedule = req.schedule.as_deref().map(schedule::build).transpose()?;
    blocking(move || {
        let mut losses = Vec::with_capacity(rules.len());
        let mut diverged = Vec::with_capacity(rules.len());
        for row in rules {
            let mut loss_row = Vec::with_capacity(row.len());
            let mut diverged_row = Vec::with_capacity(row.len());
            for rule in row {
                let mut driver = schedule.clone().map(schedule::Driver::new);
                let path = lab::trajectory::<f64, _>(
                    resolved.landscape.as_ref(),
                    start,
                    rule,
                    req.steps,
                    |reached, o| schedule_step(driver.as_mut(), reached, o),
                )?;
                let end = path.diverged.as_ref().map(|d| d.step);
                loss_row.push(match end {
                    None => path.points.last().map(|p| p.loss),
                    Some(_) => None,
                });
                diverged_row.push(end);
            }
            losses.push(loss_row);
            diverged.push(diverged_row);
        }
        Ok(Json(object!({
            "surface": resolved.label,
            "start": start,
            "steps": req.steps,
            "optimizers": req.optimizers,
            "lrs": req.lrs,
            "final_loss": losses,
            "diverged_at": diverged,
        })))
    })
    .await
}
