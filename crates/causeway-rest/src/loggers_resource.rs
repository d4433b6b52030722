//! `/admin/loggers/**` (Apache's `LoggingResource`).
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::body;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams, Query};
use crate::loggers::{LevelError, LoggerLevels};
use crate::router::AppState;

type ApiResult = Result<Response, ApiError>;

fn levels(s: &AppState) -> Result<&LoggerLevels, ApiError> {
    // The routes exist only when the levels do.
    s.loggers.as_ref().ok_or_else(ApiError::no_route)
}

/// `GET /admin/loggers`: every configured logger and `root`, sorted.
pub(crate) async fn list(State(s): State<AppState>) -> ApiResult {
    Ok(Json(levels(&s)?.all()).into_response())
}

/// `GET /admin/loggers/{logger}`.
pub(crate) async fn get(
    State(s): State<AppState>,
    PathParams(logger): PathParams<String>,
) -> ApiResult {
    let level = levels(&s)?
        .get(&logger)
        .ok_or_else(|| ApiError::not_found(format!("Logger {logger} not found.")))?;
    Ok(Json(level).into_response())
}

/// `PUT /admin/loggers/{logger}[?scope=worker|cluster]` with `{"level": "DEBUG"}`: 200 with the affected
/// loggers, or 204 for `scope=cluster` (a standalone worker is the whole cluster). Any other scope is
/// `worker`, as Apache.
pub(crate) async fn set(
    State(s): State<AppState>,
    PathParams(namespace): PathParams<String>,
    query: Query,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let levels = levels(&s)?;
    let level = body::logger_level(body)?;
    let cluster = match query.first("scope") {
        None => false,
        Some(scope) if scope.eq_ignore_ascii_case("worker") => false,
        Some(scope) if scope.eq_ignore_ascii_case("cluster") => true,
        Some(scope) => {
            tracing::warn!(
                target: "causeway_rest",
                scope,
                "Received invalid scope in request to adjust logging level; will default to worker."
            );
            false
        }
    };
    let affected = levels.set(&namespace, &level).map_err(|e| match e {
        LevelError::InvalidLevel(_) => ApiError::not_found(e.to_string()),
        LevelError::Apply(_) => ApiError::internal(e.to_string()),
    })?;
    if cluster {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(affected).into_response())
}
