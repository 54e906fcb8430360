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
        "sweep.js",
        "text/javascript; charset=utf-8",
        include_str!("static/sweep.js"),
    ),
    (
        "train.js",
        "text/javascript; charset=utf-8",
        include_str!("static/train.js"),
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

pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

pub async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, kind, body)) => ([(header::CONTENT_TYPE, *kind)], *body).into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, format!("no file '{name}'")).into_response(),
    }
}
