//! `GET /` and `GET /health` (Apache's `RootResource`).
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use causeway_runtime::herder::entities::WorkerStatus;

use crate::HEALTH_CHECK_TIMEOUT;
use crate::error::ApiError;
use crate::router::AppState;

/// `GET /`: version, commit and Kafka cluster id.
pub(crate) async fn server_info(State(s): State<AppState>) -> Response {
    Json(s.herder.server_info()).into_response()
}

/// `GET /health`: 200 `healthy`, 503 `starting`, 500 `unhealthy` — always a `WorkerStatus` body, except
/// when the herder fails the check with an error of its own.
pub(crate) async fn health(State(s): State<AppState>) -> Response {
    match tokio::time::timeout(HEALTH_CHECK_TIMEOUT, s.herder.health()).await {
        Ok(Ok(status)) => {
            let code = match status.status.as_str() {
                "starting" => StatusCode::SERVICE_UNAVAILABLE,
                "unhealthy" => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::OK,
            };
            (code, Json(status)).into_response()
        }
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(WorkerStatus {
                status: "unhealthy".into(),
                message: "Worker was unable to handle this request and may be unable to handle other requests.".into(),
            }),
        )
            .into_response(),
    }
}
