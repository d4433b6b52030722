//! The one place errors become HTTP responses: `{"error_code":…,"message":…}`, as Apache's
//! `ConnectExceptionMapper` renders them.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use causeway_runtime::herder::HerderError;

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// The router's 404 for unknown paths.
    pub fn no_route() -> Self {
        Self::not_found("HTTP 404 Not Found")
    }
}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        let status =
            StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), error = %e, "Request failed.");
        }
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error_code": self.status.as_u16(), "message": self.message});
        (self.status, axum::Json(body)).into_response()
    }
}
