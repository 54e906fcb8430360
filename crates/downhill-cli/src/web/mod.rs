//! The web playground behind `downhill serve`: a JSON API over the lab and the
//! page that uses it. Every asset is embedded; nothing is fetched from elsewhere.
//!
//! Requests are checked against the limits of each endpoint and of [`handler`];
//! a bad one gets status 400 (413 when the body is too large, 408 when it
//! arrives too slowly) and `{"error": "…"}`. Connections are bounded as
//! described in [`conn`]. CPU work runs on tokio's blocking pool under a time
//! limit, so one request cannot stall others. Only the page itself (and
//! programs on this machine) may use the API: see [`guard`].

mod api;
mod assets;
pub mod conn;
pub mod guard;
mod handler;
mod train;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use guard::Guard;
use handler::{ApiError, MAX_BODY};
use std::sync::Arc;

/// The playground's routes: the page, its assets and the API, behind `guard`.
pub fn router(guard: Guard) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/static/{file}", get(assets::file))
        .route("/static/vendor/{file}", get(assets::vendor))
        .route("/api/surfaces", get(api::surfaces))
        .route("/api/optimizers", get(api::optimizers))
        .route("/api/limits", get(api::limits))
        .route("/api/surface", post(api::surface))
        .route("/api/run", post(api::run))
        .route("/api/explain", post(api::explain))
        .route("/api/grid", post(api::grid))
        .route("/api/gradient", post(api::gradient))
        .route("/api/sweep", post(api::sweep))
        .route("/api/tune", post(api::tune))
        .route("/api/emit", post(api::emit))
        .route("/api/train", post(train::train))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page or endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard),
            guard::check,
        ))
}
