//! What every handler shares: the JSON request body, the error answer, and
//! CPU work run off the async threads under a time limit.

use super::conn;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use downhill::lab::sweep::SweepError;
use downhill::lab::tune::TuneError;
use downhill::spec::ConfigError;
use downhill::surface::SurfaceError;
use downhill::train::SetupError;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;
/// How long one request's computation may take before it is answered with 503.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);

/// An error answer: `{"error": message}`, plus the 1-based `column` of a formula error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    column: Option<usize>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            column: None,
        }
    }

    /// A 400 Bad Request.
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some(column) = self.column {
            body["column"] = column.into();
        }
        (self.status, Json(body)).into_response()
    }
}

/// Errors of the library that are the request's fault: a 400 with their message.
macro_rules! bad_request {
    ($($error:ty),*) => {
        $(impl From<$error> for ApiError {
            fn from(e: $error) -> Self {
                ApiError::bad(e.to_string())
            }
        })*
    };
}

bad_request!(ConfigError, SetupError, SweepError, TuneError);

impl From<SurfaceError> for ApiError {
    fn from(e: SurfaceError) -> Self {
        let column = match &e {
            SurfaceError::Formula(f) => Some(f.column),
            SurfaceError::Unknown { .. } => None,
        };
        ApiError {
            column,
            ..ApiError::bad(e.to_string())
        }
    }
}

/// A JSON request body whose rejections (too large, not UTF-8, not JSON, wrong
/// fields) are answered as [`ApiError`]s.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let read = tokio::time::timeout(conn::BODY_TIMEOUT, Bytes::from_request(req, state));
        let bytes = read.await.map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    conn::BODY_TIMEOUT.as_secs()
                ),
            )
        })?;
        let bytes = bytes.map_err(|r| {
            let message = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                format!("the request body is larger than {MAX_BODY} bytes")
            } else {
                r.body_text()
            };
            ApiError::new(r.status(), message)
        })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad(format!("invalid JSON request: {e}")))
    }
}

/// Runs CPU work on the blocking pool, answering 503 if it takes longer than [`TIME_LIMIT`].
pub async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    within(TIME_LIMIT, work).await
}

/// [`blocking`] with a given time limit; a panic in `work` is a 500 answer.
async fn within<T, F>(limit: Duration, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    match tokio::time::timeout(limit, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(result)) => result,
        Ok(Err(failure)) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the computation failed: {failure}"),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the computation took longer than {} s; ask for fewer steps or points",
                limit.as_secs_f64()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_runtime<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn slow_work_is_answered_503_in_time() {
        let started = std::time::Instant::now();
        let result = on_runtime(within(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(400));
            Ok(())
        }));
        let error = result.unwrap_err();
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            error.message.contains("longer than 0.05 s"),
            "{}",
            error.message
        );
        assert!(started.elapsed() < Duration::from_millis(1000));
    }

    #[test]
    fn a_panic_in_work_is_a_500_not_a_crash() {
        let result: Result<(), ApiError> =
            on_runtime(within(Duration::from_secs(5), || panic!("deliberate")));
        assert_eq!(
            result.unwrap_err().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
