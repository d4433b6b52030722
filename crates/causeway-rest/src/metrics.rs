//! `GET /metrics`: the worker's Connect metrics in the Prometheus text format. Not a Connect resource
//! (Apache exposes metrics over JMX only), so it is served outside the JSON media-type checks.
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::router::AppState;

/// `GET /metrics`: 200 with a scrape, or 404 when the herder runs no metrics registry.
pub(crate) async fn scrape(State(s): State<AppState>) -> Response {
    match s.herder.metrics() {
        Some(metrics) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                causeway_runtime::metrics::CONTENT_TYPE,
            )],
            metrics.encode(),
        )
            .into_response(),
        None => ApiError::no_route().into_response(),
    }
}
