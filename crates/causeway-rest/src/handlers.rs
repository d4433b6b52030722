//! Route table and handlers (`RootResource`, `ConnectorsResource`, `ConnectorPluginsResource`,
//! `LoggingResource`).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use causeway_runtime::herder::entities::{
    ConnectorOffsets, ConnectorTaskId, RestartRequest, TargetState,
};
use causeway_runtime::herder::{Herder, HerderError};
use serde_json::{Value, json};

use crate::body::{JsonBody, config_map, nullable_config_map, query_bool, query_pairs};
use crate::error::ApiError;
use crate::loggers::{LevelError, LoggerLevels};

/// Herder-backed requests wait at most this long (Apache's fixed 90 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
/// `/health` waits at most this long.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) herder: Arc<dyn Herder>,
    pub(crate) loggers: Option<LoggerLevels>,
}

type ApiResult = Result<Response, ApiError>;

async fn timed<T>(
    fut: impl std::future::Future<Output = Result<T, HerderError>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, fut).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(_) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Request timed out",
        )),
    }
}

fn ok_json<T: serde::Serialize>(status: StatusCode, v: &T) -> Response {
    (status, Json(v)).into_response()
}

fn no_content(status: StatusCode) -> Response {
    status.into_response()
}

fn task_id(c: &str, t: &str) -> Result<ConnectorTaskId, ApiError> {
    let task = t.parse::<i32>().map_err(|_| ApiError::no_route())?;
    Ok(ConnectorTaskId::new(c, task))
}

pub(crate) fn routes(state: AppState) -> Router {
    let admin = state.loggers.is_some();
    let mut r = Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/connectors", get(list_connectors).post(create_connector))
        .route(
            "/connectors/{c}",
            get(get_connector).delete(delete_connector),
        )
        .route(
            "/connectors/{c}/config",
            get(get_config).put(put_config).patch(patch_config),
        )
        .route("/connectors/{c}/status", get(connector_status))
        .route("/connectors/{c}/restart", post(restart_connector))
        .route("/connectors/{c}/pause", put(pause))
        .route("/connectors/{c}/resume", put(resume))
        .route("/connectors/{c}/stop", put(stop))
        .route(
            "/connectors/{c}/tasks",
            get(task_configs).post(put_task_configs),
        )
        .route("/connectors/{c}/tasks/{t}/status", get(task_status))
        .route("/connectors/{c}/tasks/{t}/restart", post(restart_task))
        .route("/connectors/{c}/topics", get(topics))
        .route("/connectors/{c}/topics/reset", put(reset_topics))
        .route(
            "/connectors/{c}/offsets",
            get(get_offsets).patch(alter_offsets).delete(reset_offsets),
        )
        .route("/connectors/{c}/fence", put(fence))
        .route("/connector-plugins", get(list_plugins))
        .route("/connector-plugins/{p}/config", get(plugin_config))
        .route("/connector-plugins/{p}/config/validate", put(validate));
    if admin {
        r = r
            .route("/admin/loggers", get(list_loggers))
            .route("/admin/loggers/{name}", get(get_logger).put(set_logger));
    }
    r.fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "HTTP 405 Method Not Allowed",
            )
        })
        .with_state(state)
}

async fn root(State(s): State<AppState>) -> Response {
    ok_json(StatusCode::OK, &s.herder.server_info())
}

async fn health(State(s): State<AppState>) -> Response {
    match tokio::time::timeout(HEALTH_TIMEOUT, s.herder.health()).await {
        Ok(Ok(status)) => ok_json(StatusCode::OK, &status),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(_) => ok_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"status": "unhealthy", "message": "Worker was unable to handle this request and may be unable to handle other requests."}),
        ),
    }
}

async fn list_connectors(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let pairs = query_pairs(q.as_deref());
    let expands: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "expand")
        .map(|(_, v)| v.as_str())
        .collect();
    let names = s.herder.connectors().await;
    if expands.is_empty() && !pairs.iter().any(|(k, _)| k == "expand") {
        return Ok(ok_json(StatusCode::OK, &names));
    }
    let mut out = serde_json::Map::new();
    for name in names {
        let mut entry = serde_json::Map::new();
        if expands.contains(&"status") {
            match s.herder.connector_status(&name).await {
                Ok(st) => {
                    entry.insert(
                        "status".into(),
                        serde_json::to_value(st).unwrap_or(Value::Null),
                    );
                }
                // A connector without a status yet (or deleted meanwhile) is left out, as Apache does.
                Err(HerderError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if expands.contains(&"info") {
            let info = s.herder.connector_info(&name).await.ok();
            entry.insert(
                "info".into(),
                serde_json::to_value(info).unwrap_or(Value::Null),
            );
        }
        out.insert(name, Value::Object(entry));
    }
    Ok(ok_json(StatusCode::OK, &out))
}

fn location(headers: &HeaderMap, name: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let encoded =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!("http://{host}/connectors/{encoded}")
}

fn created(headers: &HeaderMap, name: &str, body: &impl serde::Serialize) -> Response {
    let mut resp = ok_json(StatusCode::CREATED, body);
    if let Ok(v) = header::HeaderValue::from_str(&location(headers, name)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn name_mismatch(config_name: &str, name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Connector name configuration ({config_name}) doesn't match connector name in the URL ({name})"
    ))
}

async fn create_connector(
    State(s): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let body = body.ok_or_else(|| ApiError::bad_request("Request body is missing"))?;
    let obj = body.as_object().ok_or_else(|| {
        ApiError::bad_request("Request body must be a JSON object with 'name' and 'config'")
    })?;
    if let Some(k) = obj
        .keys()
        .find(|k| !["name", "config", "initial_state"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "Unrecognized field \"{k}\" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable"
        )));
    }
    let name = match obj.get("name") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(n)) => n.trim().to_owned(),
        Some(_) => return Err(ApiError::bad_request("Connector 'name' must be a string")),
    };
    let config = match obj.get("config") {
        Some(c @ Value::Object(_)) => config_map(c)?,
        _ => {
            return Err(ApiError::bad_request(
                "Connector 'config' must be provided as a JSON object",
            ));
        }
    };
    let initial_state = match obj.get("initial_state") {
        None | Some(Value::Null) => None,
        Some(Value::String(st)) => Some(TargetState::parse_initial(st).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid initial_state '{st}': must be one of RUNNING, PAUSED, STOPPED"
            ))
        })?),
        Some(_) => return Err(ApiError::bad_request("'initial_state' must be a string")),
    };
    let mut config = config;
    match config.get("name") {
        Some(n) if *n != name => return Err(name_mismatch(n, &name)),
        Some(_) => {}
        None => {
            config.insert("name".into(), name.clone());
        }
    }
    let created_info = timed(
        s.herder
            .put_connector_config(&name, config, false, initial_state),
    )
    .await?;
    Ok(created(&headers, &name, &created_info.value))
}

async fn get_connector(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.connector_info(&c)).await?,
    ))
}

async fn delete_connector(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    timed(s.herder.delete_connector(&c)).await?;
    Ok(no_content(StatusCode::NO_CONTENT))
}

async fn get_config(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.connector_config(&c)).await?,
    ))
}

async fn put_config(
    State(s): State<AppState>,
    Path(c): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let body = body.ok_or_else(|| ApiError::bad_request("Request body is missing"))?;
    let mut config = config_map(&body)?;
    match config.get("name") {
        Some(n) if *n != c => return Err(name_mismatch(n, &c)),
        Some(_) => {}
        None => {
            config.insert("name".into(), c.clone());
        }
    }
    let result = timed(s.herder.put_connector_config(&c, config, true, None)).await?;
    Ok(if result.created {
        created(&headers, &c, &result.value)
    } else {
        ok_json(StatusCode::OK, &result.value)
    })
}

async fn patch_config(
    State(s): State<AppState>,
    Path(c): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let body = body.ok_or_else(|| ApiError::bad_request("Request body is missing"))?;
    let patch: BTreeMap<String, Option<String>> = nullable_config_map(&body)?;
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.patch_connector_config(&c, patch)).await?,
    ))
}

async fn connector_status(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.connector_status(&c)).await?,
    ))
}

async fn restart_connector(
    State(s): State<AppState>,
    Path(c): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(q.as_deref());
    let include_tasks = query_bool(&pairs, "includeTasks", false);
    let only_failed = query_bool(&pairs, "onlyFailed", false);
    if !include_tasks && !only_failed {
        timed(s.herder.restart_connector(&c)).await?;
        return Ok(no_content(StatusCode::NO_CONTENT));
    }
    let plan = timed(s.herder.restart_connector_and_tasks(RestartRequest {
        connector: c,
        only_failed,
        include_tasks,
    }))
    .await?;
    Ok(ok_json(StatusCode::ACCEPTED, &plan))
}

async fn pause(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    timed(s.herder.pause_connector(&c)).await?;
    Ok(no_content(StatusCode::ACCEPTED))
}

async fn resume(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    timed(s.herder.resume_connector(&c)).await?;
    Ok(no_content(StatusCode::ACCEPTED))
}

async fn stop(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    timed(s.herder.stop_connector(&c)).await?;
    Ok(no_content(StatusCode::NO_CONTENT))
}

async fn task_configs(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.task_configs(&c)).await?,
    ))
}

async fn put_task_configs(
    State(s): State<AppState>,
    Path(c): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let configs = body
        .as_ref()
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ApiError::bad_request("Request body must be a JSON array of task configurations")
        })?
        .iter()
        .map(config_map)
        .collect::<Result<Vec<_>, _>>()?;
    timed(s.herder.put_task_configs(&c, configs)).await?;
    Ok(no_content(StatusCode::NO_CONTENT))
}

async fn task_status(State(s): State<AppState>, Path((c, t)): Path<(String, String)>) -> ApiResult {
    let id = task_id(&c, &t)?;
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.task_status(&id)).await?,
    ))
}

async fn restart_task(
    State(s): State<AppState>,
    Path((c, t)): Path<(String, String)>,
) -> ApiResult {
    let id = task_id(&c, &t)?;
    timed(s.herder.restart_task(&id)).await?;
    Ok(no_content(StatusCode::NO_CONTENT))
}

async fn topics(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    let topics = timed(s.herder.connector_active_topics(&c)).await?;
    Ok(ok_json(StatusCode::OK, &json!({ c: {"topics": topics} })))
}

async fn reset_topics(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    timed(s.herder.reset_connector_active_topics(&c)).await?;
    Ok(no_content(StatusCode::ACCEPTED))
}

async fn get_offsets(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.connector_offsets(&c)).await?,
    ))
}

async fn alter_offsets(
    State(s): State<AppState>,
    Path(c): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let body = body.ok_or_else(|| ApiError::bad_request("Request body is missing"))?;
    let offsets: ConnectorOffsets = serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid offsets request body: {e}")))?;
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.alter_connector_offsets(&c, offsets)).await?,
    ))
}

async fn reset_offsets(State(s): State<AppState>, Path(c): Path<String>) -> ApiResult {
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.reset_connector_offsets(&c)).await?,
    ))
}

async fn fence(Path(_c): Path<String>) -> ApiResult {
    Err(ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Kafka Connect in standalone mode does not support exactly-once source connectors.",
    ))
}

async fn list_plugins(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let pairs = query_pairs(q.as_deref());
    let connectors_only = query_bool(&pairs, "connectorsOnly", true);
    Ok(ok_json(
        StatusCode::OK,
        &s.herder.connector_plugins(connectors_only),
    ))
}

async fn plugin_config(
    State(s): State<AppState>,
    Path(p): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(q.as_deref());
    if let Some((_, v)) = pairs.iter().find(|(k, _)| k == "version") {
        let ok = v == "latest"
            || v.is_empty()
            || v.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
            || ((v.starts_with('[') || v.starts_with('('))
                && (v.ends_with(']') || v.ends_with(')')));
        if !ok {
            return Err(ApiError::bad_request(format!(
                "Invalid version specification: {v}"
            )));
        }
    }
    Ok(ok_json(
        StatusCode::OK,
        &s.herder.connector_plugin_config(&p)?,
    ))
}

/// Apache's `{p}` consistency check: strip a trailing `Connector` from both, then the body class must end
/// with the path's.
fn strip_connector(s: &str) -> &str {
    if s.len() > "Connector".len() {
        s.strip_suffix("Connector").unwrap_or(s)
    } else {
        s
    }
}

async fn validate(
    State(s): State<AppState>,
    Path(p): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let body = body.ok_or_else(|| ApiError::bad_request("Request body is missing"))?;
    let config = config_map(&body)?;
    if let Some(class) = config.get("connector.class")
        && !strip_connector(class).ends_with(strip_connector(&p))
    {
        return Err(ApiError::bad_request(format!(
            "Included connector type {class} does not match request type {p}"
        )));
    }
    Ok(ok_json(
        StatusCode::OK,
        &timed(s.herder.validate_connector_config(config)).await?,
    ))
}

fn loggers(s: &AppState) -> Result<&LoggerLevels, ApiError> {
    s.loggers.as_ref().ok_or_else(ApiError::no_route)
}

async fn list_loggers(State(s): State<AppState>) -> ApiResult {
    Ok(ok_json(StatusCode::OK, &loggers(&s)?.all()))
}

async fn get_logger(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let l = loggers(&s)?
        .get(&name)
        .ok_or_else(|| ApiError::not_found(format!("Logger {name} not found.")))?;
    Ok(ok_json(StatusCode::OK, &l))
}

async fn set_logger(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let levels = loggers(&s)?;
    let level = body
        .as_ref()
        .and_then(|b| b.get("level"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::bad_request("Desired 'level' parameter was not specified in request.")
        })?;
    let pairs = query_pairs(q.as_deref());
    let scope = pairs
        .iter()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.to_ascii_lowercase());
    let affected = levels.set(&name, level).map_err(|e| match e {
        LevelError::InvalidLevel(l) => ApiError::not_found(format!("invalid log level '{l}'.")),
        LevelError::Apply(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e),
    })?;
    if scope.as_deref() == Some("cluster") {
        return Ok(no_content(StatusCode::NO_CONTENT));
    }
    Ok(ok_json(StatusCode::OK, &affected))
}
