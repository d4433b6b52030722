//! Protocol-test support: an in-memory [`Herder`] and helpers to drive the router with `oneshot`.
//!
//! `InMemoryHerder` exists only to test the HTTP layer (routing, status codes, bodies, error shapes); it is
//! not a model of Connect. Behavioural tests belong against the real standalone herder.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use causeway_api::Props;
use causeway_rest::{LoggerLevels, RestConfig};
use causeway_runtime::herder::entities::*;
use causeway_runtime::herder::signature::InternalRequestSignature;
use causeway_runtime::herder::{Created, Herder, HerderError, HerderResult};
use serde_json::{Value, json};
use tower::ServiceExt;

pub(crate) const WORKER_ID: &str = "127.0.0.1:8083";
pub(crate) const SINK_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
pub(crate) const SOURCE_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// One connector as the fake keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    pub(crate) config: Props,
    pub(crate) target: TargetState,
    pub(crate) tasks: usize,
    /// False until a status was "written" (Apache: 404 `No status found` right after creation).
    pub(crate) has_status: bool,
    pub(crate) connector_failed: bool,
    pub(crate) failed_tasks: BTreeSet<i32>,
    pub(crate) topics: Vec<String>,
    pub(crate) offsets: Vec<ConnectorOffset>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) connectors: BTreeMap<String, Connector>,
    /// Herder calls, as `method name` strings, for dispatch assertions.
    pub(crate) calls: Vec<String>,
    /// When true every async call (except `connectors`) never completes: timeout tests.
    pub(crate) hang: bool,
}

/// A map-backed [`Herder`] for protocol tests only.
#[derive(Default)]
pub(crate) struct InMemoryHerder {
    state: Mutex<Inner>,
}

fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

fn connector_type(config: &Props) -> ConnectorType {
    match config.get("connector.class").map(String::as_str) {
        Some(c) if c.contains("Sink") => ConnectorType::Sink,
        Some(c) if c.contains("Source") => ConnectorType::Source,
        _ => ConnectorType::Unknown,
    }
}

fn tasks_max(config: &Props) -> usize {
    config
        .get("tasks.max")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn java_map(config: &Props) -> String {
    let entries: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", entries.join(", "))
}

pub(crate) fn key_info(name: &str) -> ConfigKeyInfo {
    ConfigKeyInfo {
        name: name.into(),
        config_type: "STRING".into(),
        required: true,
        default_value: None,
        importance: "HIGH".into(),
        documentation: Some(format!("The {name}.")),
        group: Some("Common".into()),
        order_in_group: 1,
        width: "MEDIUM".into(),
        display_name: Some(name.into()),
        dependents: vec![],
        order: 1,
    }
}

impl InMemoryHerder {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, Inner> {
        self.state.lock().unwrap()
    }

    /// Adds a running connector with `tasks` tasks and a status.
    pub(crate) fn add(&self, name: &str, class: &str, tasks: usize) {
        let mut config = Props::new();
        config.insert("name".into(), name.into());
        config.insert("connector.class".into(), class.into());
        config.insert("tasks.max".into(), tasks.to_string());
        self.state().connectors.insert(
            name.into(),
            Connector {
                config,
                target: TargetState::Started,
                tasks,
                has_status: true,
                connector_failed: false,
                failed_tasks: BTreeSet::new(),
                topics: vec![],
                offsets: vec![],
            },
        );
    }

    pub(crate) fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    fn record(&self, call: String) {
        self.state().calls.push(call);
    }

    async fn maybe_hang(&self) {
        let hang = self.state().hang;
        if hang {
            std::future::pending::<()>().await;
        }
    }

    fn get(&self, name: &str) -> HerderResult<Connector> {
        self.state()
            .connectors
            .get(name)
            .cloned()
            .ok_or_else(|| not_found(name))
    }

    fn info_of(name: &str, c: &Connector) -> ConnectorInfo {
        ConnectorInfo {
            name: name.into(),
            config: c.config.clone(),
            tasks: (0..c.tasks)
                .map(|t| ConnectorTaskId::new(name, t as i32))
                .collect(),
            connector_type: connector_type(&c.config),
        }
    }

    fn status_of(name: &str, c: &Connector) -> ConnectorStateInfo {
        let state = match c.target {
            _ if c.connector_failed => State::Failed,
            TargetState::Started => State::Running,
            TargetState::Paused => State::Paused,
            TargetState::Stopped => State::Stopped,
        };
        ConnectorStateInfo {
            name: name.into(),
            connector: ConnectorState {
                state,
                worker_id: WORKER_ID.into(),
                trace: c
                    .connector_failed
                    .then(|| "java.lang.RuntimeException: boom".into()),
                version: None,
            },
            tasks: (0..c.tasks as i32)
                .map(|id| {
                    let failed = c.failed_tasks.contains(&id);
                    TaskState {
                        id,
                        state: if failed { State::Failed } else { state },
                        worker_id: WORKER_ID.into(),
                        trace: failed.then(|| "java.lang.RuntimeException: task".into()),
                        version: None,
                    }
                })
                .collect(),
            connector_type: connector_type(&c.config),
        }
    }

    fn set_target(&self, name: &str, target: TargetState) -> HerderResult<()> {
        let mut state = self.state();
        let c = state
            .connectors
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown connector {name}")))?;
        c.target = target;
        c.tasks = match target {
            TargetState::Started => tasks_max(&c.config),
            TargetState::Paused => c.tasks,
            TargetState::Stopped => 0,
        };
        Ok(())
    }
}

#[async_trait]
impl Herder for InMemoryHerder {
    fn server_info(&self) -> ServerInfo {
        ServerInfo {
            version: "4.1.0".into(),
            commit: "0123456789abcdef".into(),
            kafka_cluster_id: "MkU3OEVBNTcwNTJENDM2Qg".into(),
        }
    }

    async fn health(&self) -> HerderResult<WorkerStatus> {
        self.maybe_hang().await;
        Ok(WorkerStatus::healthy())
    }

    async fn connectors(&self) -> Vec<String> {
        self.state().connectors.keys().cloned().collect()
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        self.maybe_hang().await;
        Ok(Self::info_of(name, &self.get(name)?))
    }

    async fn connector_config(&self, name: &str) -> HerderResult<Props> {
        self.maybe_hang().await;
        Ok(self.get(name)?.config)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: Props,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        self.maybe_hang().await;
        self.record(format!(
            "put_connector_config {name} {allow_replace} {initial_state:?}"
        ));
        if !config.contains_key("connector.class") {
            return Err(HerderError::BadRequest(format!(
                "Connector config {} contains no connector type",
                java_map(&config)
            )));
        }
        let mut state = self.state();
        let existing = state.connectors.get(name).cloned();
        if existing.is_some() && !allow_replace {
            return Err(HerderError::Conflict(format!(
                "Connector {name} already exists"
            )));
        }
        let target = existing
            .as_ref()
            .map(|c| c.target)
            .or(initial_state)
            .unwrap_or(TargetState::Started);
        let connector = Connector {
            tasks: if target == TargetState::Started {
                tasks_max(&config)
            } else {
                0
            },
            config,
            target,
            has_status: true,
            connector_failed: false,
            failed_tasks: BTreeSet::new(),
            topics: vec![],
            offsets: vec![],
        };
        let info = Self::info_of(name, &connector);
        state.connectors.insert(name.into(), connector);
        Ok(Created {
            created: existing.is_none(),
            value: info,
        })
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<ConnectorInfo> {
        self.maybe_hang().await;
        let mut state = self.state();
        let c = state
            .connectors
            .get_mut(name)
            .ok_or_else(|| not_found(name))?;
        for (k, v) in patch {
            match v {
                Some(v) => c.config.insert(k, v),
                None => c.config.remove(&k),
            };
        }
        Ok(Self::info_of(name, c))
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        self.maybe_hang().await;
        self.state()
            .connectors
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| not_found(name))
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        self.maybe_hang().await;
        match self.state().connectors.get(name) {
            Some(c) if c.has_status => Ok(Self::status_of(name, c)),
            _ => Err(HerderError::NotFound(format!(
                "No status found for connector {name}"
            ))),
        }
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        self.maybe_hang().await;
        let missing = || HerderError::NotFound(format!("No status found for task {id}"));
        let c = self.get(&id.connector).map_err(|_| missing())?;
        Self::status_of(&id.connector, &c)
            .tasks
            .into_iter()
            .find(|t| t.id == id.task)
            .ok_or_else(missing)
    }

    async fn restart_connector(&self, name: &str) -> HerderResult<()> {
        self.maybe_hang().await;
        self.get(name)?;
        self.record(format!("restart_connector {name}"));
        Ok(())
    }

    async fn restart_connector_and_tasks(
        &self,
        request: RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        self.maybe_hang().await;
        let c = self.get(&request.connector)?;
        self.record(format!(
            "restart_connector_and_tasks {} include_tasks={} only_failed={}",
            request.connector, request.include_tasks, request.only_failed
        ));
        let mut plan = Self::status_of(&request.connector, &c);
        if !request.only_failed || plan.connector.state == State::Failed {
            plan.connector.state = State::Restarting;
        }
        if request.include_tasks {
            for t in &mut plan.tasks {
                if !request.only_failed || t.state == State::Failed {
                    t.state = State::Restarting;
                }
            }
        }
        Ok(plan)
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        self.maybe_hang().await;
        let c = self.get(&id.connector)?;
        if id.task < 0 || id.task as usize >= c.tasks {
            return Err(HerderError::NotFound(format!("Task {id} not found")));
        }
        self.record(format!("restart_task {id}"));
        Ok(())
    }

    async fn pause_connector(&self, name: &str) -> HerderResult<()> {
        self.maybe_hang().await;
        self.set_target(name, TargetState::Paused)
    }

    async fn resume_connector(&self, name: &str) -> HerderResult<()> {
        self.maybe_hang().await;
        self.set_target(name, TargetState::Started)
    }

    async fn stop_connector(&self, name: &str) -> HerderResult<()> {
        self.maybe_hang().await;
        self.set_target(name, TargetState::Stopped)
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        self.maybe_hang().await;
        let c = self.get(name)?;
        Ok((0..c.tasks as i32)
            .map(|t| TaskInfo {
                id: ConnectorTaskId::new(name, t),
                config: [("task.class".to_string(), "FileStreamSinkTask".to_string())].into(),
            })
            .collect())
    }

    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Props>,
        _signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()> {
        self.maybe_hang().await;
        self.record(format!("put_task_configs {name} {}", configs.len()));
        Err(HerderError::Internal(
            "Kafka Connect in standalone mode does not support externally setting task configurations."
                .into(),
        ))
    }

    async fn fence_zombies(
        &self,
        name: &str,
        _signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()> {
        self.maybe_hang().await;
        self.record(format!("fence_zombies {name}"));
        Err(HerderError::Internal(
            "Kafka Connect in standalone mode does not support exactly-once source connectors."
                .into(),
        ))
    }

    async fn connector_active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        self.maybe_hang().await;
        Ok(self
            .state()
            .connectors
            .get(name)
            .map(|c| c.topics.clone())
            .unwrap_or_default())
    }

    async fn reset_connector_active_topics(&self, name: &str) -> HerderResult<()> {
        self.maybe_hang().await;
        if let Some(c) = self.state().connectors.get_mut(name) {
            c.topics.clear();
        }
        Ok(())
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        self.maybe_hang().await;
        Ok(ConnectorOffsets {
            offsets: Some(self.get(name)?.offsets),
        })
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message> {
        self.maybe_hang().await;
        let mut state = self.state();
        let c = state
            .connectors
            .get_mut(name)
            .ok_or_else(|| not_found(name))?;
        if c.target != TargetState::Stopped {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        c.offsets = offsets.offsets.unwrap_or_default();
        Ok(Message {
            message: "The offsets for this connector have been altered successfully".into(),
        })
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        self.maybe_hang().await;
        let mut state = self.state();
        let c = state
            .connectors
            .get_mut(name)
            .ok_or_else(|| not_found(name))?;
        c.offsets.clear();
        Ok(Message {
            message: "The offsets for this connector have been reset successfully".into(),
        })
    }

    fn connector_plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        let plugin = |class: &str, t: &str, v: Option<&str>| PluginInfo {
            class: class.into(),
            plugin_type: t.into(),
            version: v.map(Into::into),
        };
        let mut all = vec![
            plugin(SINK_CLASS, "sink", Some("4.1.0")),
            plugin(SOURCE_CLASS, "source", Some("4.1.0")),
        ];
        if !connectors_only {
            all.push(plugin(
                "org.apache.kafka.connect.storage.StringConverter",
                "converter",
                None,
            ));
        }
        all
    }

    fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        match plugin {
            SINK_CLASS | "FileStreamSinkConnector" | "FileStreamSink" => {
                Ok(vec![key_info("file"), key_info("topics")])
            }
            _ => Err(HerderError::NotFound(format!("Unknown plugin {plugin}."))),
        }
    }

    async fn validate_connector_config(&self, config: Props) -> HerderResult<ConfigInfos> {
        self.maybe_hang().await;
        let Some(class) = config.get("connector.class") else {
            return Err(HerderError::BadRequest(format!(
                "Connector config {} contains no connector type",
                java_map(&config)
            )));
        };
        let configs = config
            .iter()
            .map(|(k, v)| ConfigInfo {
                definition: Some(key_info(k)),
                value: Some(ConfigValueInfo {
                    name: k.clone(),
                    value: Some(v.clone()),
                    recommended_values: vec![],
                    errors: vec![],
                    visible: true,
                }),
            })
            .collect();
        Ok(ConfigInfos {
            name: class.clone(),
            error_count: 0,
            groups: vec!["Common".into()],
            configs,
        })
    }
}

/// The config the tests use unless they say otherwise: admin endpoints on, no CORS, no header rules.
pub(crate) fn config() -> RestConfig {
    RestConfig {
        admin_enabled: true,
        ..Default::default()
    }
}

/// The router over `herder` with in-memory logger levels starting at `info`.
pub(crate) fn app(herder: &Arc<InMemoryHerder>) -> Router {
    app_with(herder, config())
}

pub(crate) fn app_with(herder: &Arc<InMemoryHerder>, config: RestConfig) -> Router {
    let loggers = LoggerLevels::new("info,causeway_runtime=warn", |_| Ok(()));
    causeway_rest::router(herder.clone(), config, Some(loggers))
}

/// A response, body collected.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an error reply: status, JSON content type and `{"error_code","message"}` body.
    #[track_caller]
    pub(crate) fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(
            self.json(),
            json!({"error_code": status, "message": message})
        );
    }

    /// Asserts a reply with no body.
    #[track_caller]
    pub(crate) fn assert_empty(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert!(self.body.is_empty(), "unexpected body: {}", self.text());
    }
}

pub(crate) async fn send(app: &Router, req: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// A request without a body.
pub(crate) fn empty(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "localhost:8083")
        .body(Body::empty())
        .unwrap()
}

/// A request with a body and content type (and the `Content-Length` a real client sends).
pub(crate) fn with_body(
    method: Method,
    uri: &str,
    content_type: &str,
    body: &str,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "localhost:8083")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// A JSON request.
pub(crate) fn json(method: Method, uri: &str, body: &str) -> Request<Body> {
    with_body(method, uri, "application/json", body)
}

pub(crate) async fn get(app: &Router, uri: &str) -> Reply {
    send(app, empty(Method::GET, uri)).await
}
