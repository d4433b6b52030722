//! The one place errors become HTTP responses: `{"error_code":…,"message":…}` with
//! `Content-Type: application/json`, as Apache's `ConnectExceptionMapper` renders them.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use causeway_runtime::herder::HerderError;

/// An error answer: the HTTP status and the message of Apache's `ErrorMessage` body.
///
/// Every handler, extractor and fallback returns this type, so every error has the same shape:
/// `{"error_code": <status>, "message": "<text>"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    /// The body's `error_code`: the status, except for an error relayed from another worker, which keeps
    /// that worker's code (Apache's `ConnectRestException(status, errorCode, message)`).
    error_code: u16,
    message: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_code: status.as_u16(),
            message: message.into(),
        }
    }

    /// The same error with another `error_code` in its body.
    pub fn with_error_code(mut self, error_code: u16) -> Self {
        self.error_code = error_code;
        self
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 Internal Server Error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The router's 404 (`HTTP 404 Not Found`): unknown path, or a path parameter that does not convert.
    pub fn no_route() -> Self {
        Self::not_found("HTTP 404 Not Found")
    }

    /// The router's 405 (`HTTP 405 Method Not Allowed`).
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "HTTP 405 Method Not Allowed",
        )
    }

    /// The router's 415 for a body that is not declared JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "HTTP 415 Unsupported Media Type",
        )
    }

    /// The router's 406 for an `Accept` header that excludes JSON.
    pub fn not_acceptable() -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "HTTP 406 Not Acceptable")
    }

    /// 500 `Request timed out`, Apache's answer when the herder does not complete in time.
    pub fn timed_out() -> Self {
        Self::internal("Request timed out")
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body's `error_code` (normally the status).
    pub fn error_code(&self) -> u16 {
        self.error_code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        let status =
            StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, e.to_string())
    }
}

#[derive(serde::Serialize)]
struct ErrorMessage<'a> {
    error_code: u16,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            // Logged once, here: the client only sees the message.
            tracing::warn!(
                target: "causeway_rest",
                status = self.status.as_u16(),
                message = %self.message,
                "Request failed."
            );
        }
        let body = ErrorMessage {
            error_code: self.error_code,
            message: &self.message,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn herder_errors_keep_their_status_and_text() {
        let e = ApiError::from(HerderError::Conflict("Connector a already exists".into()));
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(e.message(), "Connector a already exists");
        let e = ApiError::from(HerderError::Unavailable("starting".into()));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
