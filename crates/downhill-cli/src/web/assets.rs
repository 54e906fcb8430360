//! The page's files, embedded in the binary.

use super::handler::ApiError;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

const INDEX: &str = include_str!("static/index.html");

/// Every file under `/static/`, with its content type.
const FILES: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("static/style.css"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("static/api.js"),
    ),
    (
        "plot.js",
        "text/javascript; charset=utf-8",
        include_str!("static/plot.js"),
    ),
    (
        "optimizers.js",
        "text/javascript; charset=utf-8",
        include_str!("static/optimizers.js"),
    ),
    (
        "paths.js",
        "text/javascript; charset=utf-8",
        include_str!("static/paths.js"),
    ),
    (
        "frame.js",
        "text/javascript; charset=utf-8",
        include_str!("static/frame.js"),
    ),
    (
        "overlays.js",
        "text/javascript; charset=utf-8",
        include_str!("static/overlays.js"),
    ),
    (
        "presets.js",
        "text/javascript; charset=utf-8",
        include_str!("static/presets.js"),
    ),
    (
        "explain.js",
        "text/javascript; charset=utf-8",
        include_str!("static/explain.js"),
    ),
    (
        "sweep.js",
        "text/javascript; charset=utf-8",
        include_str!("static/sweep.js"),
    ),
    (
        "phase.js",
        "text/javascript; charset=utf-8",
        include_str!("static/phase.js"),
    ),
    (
        "tune.js",
        "text/javascript; charset=utf-8",
        include_str!("static/tune.js"),
    ),
    (
        "train.js",
        "text/javascript; charset=utf-8",
        include_str!("static/train.js"),
    ),
    (
        "view3d.js",
        "text/javascript; charset=utf-8",
        include_str!("static/view3d.js"),
    ),
    (
        "emit.js",
        "text/javascript; charset=utf-8",
        include_str!("static/emit.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("static/app.js"),
    ),
];

/// Every file under `/static/vendor/`: three.js, as `scripts/vendor_three.sh`
/// wrote it (see `static/vendor/VERSION`), and its licence.
const VENDOR: &[(&str, &str, &str)] = &[
    (
        "three.module.min.js",
        "text/javascript; charset=utf-8",
        include_str!("static/vendor/three.module.min.js"),
    ),
    (
        "three.core.min.js",
        "text/javascript; charset=utf-8",
        include_str!("static/vendor/three.core.min.js"),
    ),
    (
        "OrbitControls.js",
        "text/javascript; charset=utf-8",
        include_str!("static/vendor/OrbitControls.js"),
    ),
    (
        "LineSegments2.js",
        "text/javascript; charset=utf-8",
        include_str!("static/vendor/LineSegments2.js"),
    ),
    (
        "LineSegmentsGeometry.js",
        "text/javascript; charset=utf-8",
        include_str!("static/vendor/LineSegmentsGeometry.js"),
    ),
    (
        "LineMaterial.js",
        "text/javascript; charset=utf-8",
        include_str!("static/vendor/LineMaterial.js"),
    ),
    (
        "LICENSE-three",
        "text/plain; charset=utf-8",
        include_str!("static/vendor/LICENSE-three"),
    ),
    (
        "VERSION",
        "text/plain; charset=utf-8",
        include_str!("static/vendor/VERSION"),
    ),
];

pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

pub async fn file(Path(name): Path<String>) -> Response {
    serve(FILES, &name)
}

pub async fn vendor(Path(name): Path<String>) -> Response {
    serve(VENDOR, &name)
}

fn serve(files: &[(&str, &'static str, &'static str)], name: &str) -> Response {
    match files.iter().find(|(file, _, _)| *file == name) {
        Some((_, kind, body)) => ([(header::CONTENT_TYPE, *kind)], *body).into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, format!("no file '{name}'")).into_response(),
    }
}
