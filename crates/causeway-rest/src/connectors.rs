//! `/connectors/**` (Apache's `ConnectorsResource`, plus the internal task-config and fencing endpoints).
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use causeway_runtime::herder::entities::{ConnectorTaskId, RestartRequest};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::body;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams, Query};
use crate::router::{AppState, timed};

type ApiResult = Result<Response, ApiError>;

/// Characters a path segment keeps as they are (RFC 3986 `pchar` minus `/`): unreserved, sub-delims,
/// `:` and `@`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// The `Location` of a created connector: absolute, from the request's `Host`
/// (`http://<host>/connectors/<percent-encoded name>`); relative when there is no `Host`.
fn location(headers: &HeaderMap, name: &str) -> Option<HeaderValue> {
    let path = format!("/connectors/{}", utf8_percent_encode(name, PATH_SEGMENT));
    let uri = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if !host.is_empty() => format!("http://{host}{path}"),
        _ => path,
    };
    HeaderValue::from_str(&uri).ok()
}

fn created(headers: &HeaderMap, name: &str, body: impl serde::Serialize) -> Response {
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    if let Some(loc) = location(headers, name) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

/// A `{t}` that is not an int fails JAX-RS's parameter conversion: 404 `HTTP 404 Not Found`.
fn task_id(connector: String, task: &str) -> Result<ConnectorTaskId, ApiError> {
    let task = task.parse::<i32>().map_err(|_| ApiError::no_route())?;
    Ok(ConnectorTaskId::new(connector, task))
}

/// `GET /connectors[?expand=status&expand=info]`.
///
/// With any `expand` parameter the answer is an object keyed by connector name: `status` and `info` add
/// those entities, any other value is ignored (so the connector maps to `{}`), a connector whose status
/// is not found is left out, and an `info` that is not found is `null` — Apache's exact quirks.
pub(crate) async fn list(State(s): State<AppState>, query: Query) -> ApiResult {
    let names = s.herder.connectors().await;
    if !query.contains("expand") {
        return Ok(Json(names).into_response());
    }
    let expansions: Vec<&str> = query.all("expand").collect();
    let mut out = Map::new();
    'connectors: for name in names {
        let mut entry = Map::new();
        for expansion in &expansions {
            match *expansion {
                "status" => match timed(s.herder.connector_status(&name)).await {
                    Ok(status) => {
                        entry.insert("status".into(), to_value(&status)?);
                    }
                    // Not known yet, or deleted meanwhile: Apache leaves the connector out.
                    Err(e) if e.status() == StatusCode::NOT_FOUND => continue 'connectors,
                    Err(e) => return Err(e),
                },
                "info" => {
                    // Deleted meanwhile: Apache's `connectorInfo` answers null.
                    let info = match timed(s.herder.connector_info(&name)).await {
                        Ok(info) => to_value(&info)?,
                        Err(e) if e.status() == StatusCode::NOT_FOUND => Value::Null,
                        Err(e) => return Err(e),
                    };
                    entry.insert("info".into(), info);
                }
                other => {
                    tracing::debug!(target: "causeway_rest", expansion = other, "Ignoring unknown expansion type.");
                }
            }
        }
        out.insert(name, Value::Object(entry));
    }
    Ok(Json(out).into_response())
}

fn to_value(v: &impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))
}

/// `POST /connectors`: 201 + `Location` + ConnectorInfo.
pub(crate) async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let request = body::create_connector_request(body)?;
    let config = body::complete_connector_config(&request.name, request.config)?;
    let result =
        timed(
            s.herder
                .put_connector_config(&request.name, config, false, request.initial_state),
        )
        .await?;
    Ok(created(&headers, &request.name, result.value))
}

/// `GET /connectors/{c}`.
pub(crate) async fn info(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.connector_info(&c)).await?).into_response())
}

/// `DELETE /connectors/{c}`: 204.
pub(crate) async fn delete(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    timed(s.herder.delete_connector(&c)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/config`.
pub(crate) async fn config(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.connector_config(&c)).await?).into_response())
}

/// `PUT /connectors/{c}/config`: 201 + `Location` when created, else 200.
pub(crate) async fn put_config(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let config = body::complete_connector_config(&c, body::connector_config(body)?)?;
    let result = timed(s.herder.put_connector_config(&c, config, true, None)).await?;
    Ok(if result.created {
        created(&headers, &c, result.value)
    } else {
        Json(result.value).into_response()
    })
}

/// `PATCH /connectors/{c}/config`: null values remove keys; 200, never 201.
pub(crate) async fn patch_config(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let patch = body::config_patch(body)?;
    Ok(Json(timed(s.herder.patch_connector_config(&c, patch)).await?).into_response())
}

/// `GET /connectors/{c}/status`.
pub(crate) async fn status(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.connector_status(&c)).await?).into_response())
}

/// `POST /connectors/{c}/restart[?includeTasks=&onlyFailed=]`: without either flag the legacy restart
/// (204); with one, the restart plan (202).
pub(crate) async fn restart(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    query: Query,
) -> ApiResult {
    let include_tasks = query.boolean("includeTasks", false);
    let only_failed = query.boolean("onlyFailed", false);
    if !include_tasks && !only_failed {
        timed(s.herder.restart_connector(&c)).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let plan = timed(s.herder.restart_connector_and_tasks(RestartRequest {
        connector: c,
        only_failed,
        include_tasks,
    }))
    .await?;
    Ok((StatusCode::ACCEPTED, Json(plan)).into_response())
}

/// `PUT /connectors/{c}/pause`: 202.
pub(crate) async fn pause(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    timed(s.herder.pause_connector(&c)).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `PUT /connectors/{c}/resume`: 202.
pub(crate) async fn resume(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    timed(s.herder.resume_connector(&c)).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `PUT /connectors/{c}/stop`: 204.
pub(crate) async fn stop(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    timed(s.herder.stop_connector(&c)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/tasks`.
pub(crate) async fn tasks(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.task_configs(&c)).await?).into_response())
}

/// `POST /connectors/{c}/tasks` (internal): 204.
pub(crate) async fn put_task_configs(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let configs = body::task_configs(body)?;
    timed(s.herder.put_task_configs(&c, configs)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /connectors/{c}/fence` (internal): zombie fencing for exactly-once sources.
pub(crate) async fn fence(PathParams(_c): PathParams<String>) -> ApiResult {
    // The Herder trait has no fencing operation: this is Apache's standalone answer.
    Err(ApiError::internal(
        "Kafka Connect in standalone mode does not support exactly-once source connectors.",
    ))
}

/// `GET /connectors/{c}/tasks/{t}/status`.
pub(crate) async fn task_status(
    State(s): State<AppState>,
    PathParams((c, t)): PathParams<(String, String)>,
) -> ApiResult {
    let id = task_id(c, &t)?;
    Ok(Json(timed(s.herder.task_status(&id)).await?).into_response())
}

/// `POST /connectors/{c}/tasks/{t}/restart`: 204.
pub(crate) async fn restart_task(
    State(s): State<AppState>,
    PathParams((c, t)): PathParams<(String, String)>,
) -> ApiResult {
    let id = task_id(c, &t)?;
    timed(s.herder.restart_task(&id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/topics`: `{"<c>": {"topics": [...]}}`.
pub(crate) async fn topics(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    let topics = timed(s.herder.connector_active_topics(&c)).await?;
    Ok(Json(json!({ c: { "topics": topics } })).into_response())
}

/// `PUT /connectors/{c}/topics/reset`: 202.
pub(crate) async fn reset_topics(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    timed(s.herder.reset_connector_active_topics(&c)).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /connectors/{c}/offsets`.
pub(crate) async fn offsets(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.connector_offsets(&c)).await?).into_response())
}

/// `PATCH /connectors/{c}/offsets`: the body is checked (400 for no offsets) before the connector is
/// looked up, as in Apache's resource.
pub(crate) async fn alter_offsets(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let offsets = body::connector_offsets(body)?;
    Ok(Json(timed(s.herder.alter_connector_offsets(&c, offsets)).await?).into_response())
}

/// `DELETE /connectors/{c}/offsets`.
pub(crate) async fn reset_offsets(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.reset_connector_offsets(&c)).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_absolute_and_encoded() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("worker:8083"));
        let loc = |name| location(&headers, name).unwrap();
        assert_eq!(
            loc("file-sink_1.x~"),
            "http://worker:8083/connectors/file-sink_1.x~"
        );
        assert_eq!(
            loc("a b/c?d#é%"),
            "http://worker:8083/connectors/a%20b%2Fc%3Fd%23%C3%A9%25"
        );
        assert_eq!(location(&HeaderMap::new(), "a").unwrap(), "/connectors/a");
    }
}
