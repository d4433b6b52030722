//! `/connectors/**` (Apache's `ConnectorsResource`, plus the internal task-config and fencing endpoints of
//! `InternalClusterResource`).
//!
//! The endpoints Apache runs through `completeOrForwardRequest` (create, PUT/PATCH config, delete,
//! restart, stop, task restart, offsets PATCH/DELETE, task configs, fence) go through
//! [`complete_or_forward`]: when the herder says another worker must serve them, they are forwarded there.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use causeway_runtime::herder::entities::{ConnectorTaskId, RestartRequest, TargetState};
use causeway_runtime::herder::signature::{
    InternalRequestSignature, SIGNATURE_ALGORITHM_HEADER, SIGNATURE_HEADER, base64_encode,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::body;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams, Query, RawBody};
use crate::forward::{Completed, ForwardRequest, Relayed, complete_or_forward, segment};
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
    with_location(
        (StatusCode::CREATED, Json(body)).into_response(),
        headers,
        name,
    )
}

fn with_location(mut resp: Response, headers: &HeaderMap, name: &str) -> Response {
    if let Some(loc) = location(headers, name) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

/// `status` with this worker's result or the relayed body of the worker the request was forwarded to (no
/// body when that worker answered 204).
fn entity<T: serde::Serialize>(status: StatusCode, completed: Completed<T>) -> Response {
    match completed {
        Completed::Here(value) => (status, Json(value)).into_response(),
        Completed::Forwarded(relayed) => relayed_entity(status, relayed),
    }
}

fn relayed_entity(status: StatusCode, relayed: Relayed) -> Response {
    match relayed.body {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    }
}

/// `/connectors/<encoded c>` plus `rest`: the path of a forwarded request.
fn connector_path(c: &str, rest: &str) -> String {
    format!("/connectors/{}{rest}", segment(c))
}

/// `initial_state` as the request entity names it.
fn initial_state_name(state: TargetState) -> &'static str {
    match state {
        TargetState::Started => "RUNNING",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
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

/// `POST /connectors[?forward=]`: 201 + `Location` + ConnectorInfo (also when forwarded).
pub(crate) async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    query: Query,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let request = body::create_connector_request(body)?;
    let config = body::complete_connector_config(&request.name, request.config)?;
    let forward =
        ForwardRequest::new(Method::POST, "/connectors".into(), &headers, &query).json(&json!({
            "name": request.name,
            "config": config,
            "initial_state": request.initial_state.map(initial_state_name),
        }))?;
    let call = s
        .herder
        .put_connector_config(&request.name, config, false, request.initial_state);
    let completed = complete_or_forward(call, forward).await?;
    Ok(match completed {
        Completed::Here(result) => created(&headers, &request.name, result.value),
        Completed::Forwarded(relayed) => with_location(
            relayed_entity(StatusCode::CREATED, relayed),
            &headers,
            &request.name,
        ),
    })
}

/// `GET /connectors/{c}`.
pub(crate) async fn info(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.connector_info(&c)).await?).into_response())
}

/// `DELETE /connectors/{c}[?forward=]`: 204.
pub(crate) async fn delete(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
) -> ApiResult {
    let forward = ForwardRequest::new(Method::DELETE, connector_path(&c, ""), &headers, &query);
    complete_or_forward(s.herder.delete_connector(&c), forward).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/config`.
pub(crate) async fn config(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.connector_config(&c)).await?).into_response())
}

/// `PUT /connectors/{c}/config[?forward=]`: 201 + `Location` when created (when forwarded: when the
/// other worker answered 201), else 200.
pub(crate) async fn put_config(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let config = body::complete_connector_config(&c, body::connector_config(body)?)?;
    let forward = ForwardRequest::new(Method::PUT, connector_path(&c, "/config"), &headers, &query)
        .json(&config)?;
    let completed = complete_or_forward(
        s.herder.put_connector_config(&c, config, true, None),
        forward,
    )
    .await?;
    Ok(match completed {
        Completed::Here(result) if result.created => created(&headers, &c, result.value),
        Completed::Here(result) => Json(result.value).into_response(),
        Completed::Forwarded(relayed) if relayed.status == StatusCode::CREATED => {
            with_location(relayed_entity(StatusCode::CREATED, relayed), &headers, &c)
        }
        Completed::Forwarded(relayed) => relayed_entity(StatusCode::OK, relayed),
    })
}

/// `PATCH /connectors/{c}/config[?forward=]`: null values remove keys; 200, never 201.
pub(crate) async fn patch_config(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let patch = body::config_patch(body)?;
    let forward = ForwardRequest::new(
        Method::PATCH,
        connector_path(&c, "/config"),
        &headers,
        &query,
    )
    .json(&patch)?;
    let completed =
        complete_or_forward(s.herder.patch_connector_config(&c, patch), forward).await?;
    Ok(entity(StatusCode::OK, completed))
}

/// `GET /connectors/{c}/status`.
pub(crate) async fn status(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.connector_status(&c)).await?).into_response())
}

/// `POST /connectors/{c}/restart[?includeTasks=&onlyFailed=&forward=]`: without either flag the legacy
/// restart (204); with one, the restart plan (202). A forwarded plan request carries both flags.
pub(crate) async fn restart(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
) -> ApiResult {
    let include_tasks = query.boolean("includeTasks", false);
    let only_failed = query.boolean("onlyFailed", false);
    let forward = ForwardRequest::new(
        Method::POST,
        connector_path(&c, "/restart"),
        &headers,
        &query,
    );
    if !include_tasks && !only_failed {
        complete_or_forward(s.herder.restart_connector(&c), forward).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let forward = forward
        .param("includeTasks", include_tasks.to_string())
        .param("onlyFailed", only_failed.to_string());
    let call = s.herder.restart_connector_and_tasks(RestartRequest {
        connector: c,
        only_failed,
        include_tasks,
    });
    let completed = complete_or_forward(call, forward).await?;
    Ok(entity(StatusCode::ACCEPTED, completed))
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

/// `PUT /connectors/{c}/stop[?forward=]`: 204.
pub(crate) async fn stop(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
) -> ApiResult {
    let forward = ForwardRequest::new(Method::PUT, connector_path(&c, "/stop"), &headers, &query);
    complete_or_forward(s.herder.stop_connector(&c), forward).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/tasks`.
pub(crate) async fn tasks(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
) -> ApiResult {
    Ok(Json(timed(s.herder.task_configs(&c)).await?).into_response())
}

/// The KIP-507 signature of an internal request over its exact body bytes: `None` unless both headers are
/// present; 400 for an unknown algorithm or a signature that is not base64 (before the herder is asked, as
/// Apache's `InternalRequestSignature.fromHeaders`).
fn request_signature(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<InternalRequestSignature>, ApiError> {
    // JAX-RS `getHeaderString`: repeated headers joined with `,`; header bytes read as ISO-8859-1.
    let joined = |name: &str| {
        let mut values = headers.get_all(name).iter();
        let mut bytes = values.next()?.as_bytes().to_vec();
        for value in values {
            bytes.push(b',');
            bytes.extend_from_slice(value.as_bytes());
        }
        Some(bytes)
    };
    let algorithm = joined(SIGNATURE_ALGORITHM_HEADER)
        .map(|bytes| bytes.iter().map(|&b| char::from(b)).collect::<String>());
    let signature = joined(SIGNATURE_HEADER);
    InternalRequestSignature::from_headers(algorithm.as_deref(), signature.as_deref(), body)
        .map_err(ApiError::from)
}

/// `POST /connectors/{c}/tasks[?forward=]` (internal): 204. The herder checks the signature; a forwarded
/// request is re-serialized and unsigned, as Apache's.
pub(crate) async fn put_task_configs(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
    RawBody(raw): RawBody,
) -> ApiResult {
    let configs = body::task_configs(JsonBody::from_bytes(&raw)?.0)?;
    let signature = request_signature(&headers, &raw)?;
    let forward = ForwardRequest::new(Method::POST, connector_path(&c, "/tasks"), &headers, &query)
        .json(&configs)?;
    complete_or_forward(s.herder.put_task_configs(&c, configs, signature), forward).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /connectors/{c}/fence[?forward=]` (internal): zombie fencing for exactly-once sources; 204.
pub(crate) async fn fence(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
    RawBody(raw): RawBody,
) -> ApiResult {
    let signature = request_signature(&headers, &raw)?;
    // Apache forwards the raw `byte[]` entity, which its JSON serializer writes as a base64 string (`""` for
    // the usual empty body).
    let forward = ForwardRequest::new(Method::PUT, connector_path(&c, "/fence"), &headers, &query)
        .json(&base64_encode(&raw))?;
    complete_or_forward(s.herder.fence_zombies(&c, signature), forward).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/tasks/{t}/status`.
pub(crate) async fn task_status(
    State(s): State<AppState>,
    PathParams((c, t)): PathParams<(String, String)>,
) -> ApiResult {
    let id = task_id(c, &t)?;
    Ok(Json(timed(s.herder.task_status(&id)).await?).into_response())
}

/// `POST /connectors/{c}/tasks/{t}/restart[?forward=]`: 204.
pub(crate) async fn restart_task(
    State(s): State<AppState>,
    PathParams((c, t)): PathParams<(String, String)>,
    headers: HeaderMap,
    query: Query,
) -> ApiResult {
    let id = task_id(c, &t)?;
    let path = connector_path(&id.connector, &format!("/tasks/{}/restart", id.task));
    let forward = ForwardRequest::new(Method::POST, path, &headers, &query);
    complete_or_forward(s.herder.restart_task(&id), forward).await?;
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

/// `PATCH /connectors/{c}/offsets[?forward=]`: the body is checked (400 for no offsets) before the
/// connector is looked up, as in Apache's resource.
pub(crate) async fn alter_offsets(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let offsets = body::connector_offsets(body)?;
    let forward = ForwardRequest::new(
        Method::PATCH,
        connector_path(&c, "/offsets"),
        &headers,
        &query,
    )
    .json(&offsets)?;
    let completed =
        complete_or_forward(s.herder.alter_connector_offsets(&c, offsets), forward).await?;
    Ok(entity(StatusCode::OK, completed))
}

/// `DELETE /connectors/{c}/offsets[?forward=]`.
pub(crate) async fn reset_offsets(
    State(s): State<AppState>,
    PathParams(c): PathParams<String>,
    headers: HeaderMap,
    query: Query,
) -> ApiResult {
    let forward = ForwardRequest::new(
        Method::DELETE,
        connector_path(&c, "/offsets"),
        &headers,
        &query,
    );
    let completed = complete_or_forward(s.herder.reset_connector_offsets(&c), forward).await?;
    Ok(entity(StatusCode::OK, completed))
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
