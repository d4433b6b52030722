//! The JSON entities of Connect's REST API, field for field (`connect/runtime/.../rest/entities`).
//!
//! Field order follows Apache's serialisation order; `trace` is skipped when absent, `version` when
//! unknown, as Jackson does upstream.
use serde::{Deserialize, Serialize};

use causeway_api::Props;

/// `GET /`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// Worker version.
    pub version: String,
    /// Build commit.
    pub commit: String,
    /// Id of the backing cluster.
    pub kafka_cluster_id: String,
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerStatus {
    /// `healthy`, `starting` or `unhealthy`.
    pub status: String,
    /// Human-readable detail.
    pub message: String,
}

impl WorkerStatus {
    /// The healthy status with Apache's message.
    pub fn healthy() -> Self {
        WorkerStatus {
            status: "healthy".into(),
            message: "Worker has completed startup and is ready to handle requests.".into(),
        }
    }
}

/// Source or sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorType {
    /// A source connector.
    Source,
    /// A sink connector.
    Sink,
    /// The class is missing or could not be loaded.
    Unknown,
}

/// `{"connector": "...", "task": n}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConnectorTaskId {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: i32,
}

impl ConnectorTaskId {
    /// A task id.
    pub fn new(connector: impl Into<String>, task: i32) -> Self {
        ConnectorTaskId {
            connector: connector.into(),
            task,
        }
    }
}

impl std::fmt::Display for ConnectorTaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.connector, self.task)
    }
}

/// A connector's config and tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// Name.
    pub name: String,
    /// Raw stored config.
    pub config: Props,
    /// Current task ids.
    pub tasks: Vec<ConnectorTaskId>,
    /// Source, sink or unknown.
    #[serde(rename = "type")]
    pub connector_type: ConnectorType,
}

/// A task id and its config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Task id.
    pub id: ConnectorTaskId,
    /// Task config.
    pub config: Props,
}

/// Runtime state of a connector or task instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Not yet started or not assigned.
    Unassigned,
    /// Running.
    Running,
    /// Paused by the user.
    Paused,
    /// Stopped by the user (connectors only).
    Stopped,
    /// Failed; see the trace.
    Failed,
    /// Being restarted.
    Restarting,
}

impl State {
    /// The upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Stopped => "STOPPED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
        }
    }
}

/// The connector part of a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorState {
    /// State.
    pub state: State,
    /// `host:port` of the worker reporting it.
    pub worker_id: String,
    /// Failure trace.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub trace: Option<String>,
    /// Plugin version (KIP-891).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
}

/// One task's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskState {
    /// Task number.
    pub id: i32,
    /// State.
    pub state: State,
    /// `host:port` of the worker reporting it.
    pub worker_id: String,
    /// Failure trace.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub trace: Option<String>,
    /// Plugin version (KIP-891).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
}

/// `GET /connectors/{c}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorStateInfo {
    /// Connector name.
    pub name: String,
    /// Connector instance state.
    pub connector: ConnectorState,
    /// Task states sorted by id.
    pub tasks: Vec<TaskState>,
    /// Source, sink or unknown.
    #[serde(rename = "type")]
    pub connector_type: ConnectorType,
}

/// The state a user asked for (persisted; not the runtime state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    /// Running (`RUNNING` in requests).
    Started,
    /// Paused.
    Paused,
    /// Stopped: no tasks.
    Stopped,
}

impl TargetState {
    /// Parses `initial_state` (case-insensitive `RUNNING`, `PAUSED`, `STOPPED`).
    pub fn parse_initial(s: &str) -> Option<TargetState> {
        match s.to_ascii_uppercase().as_str() {
            "RUNNING" => Some(TargetState::Started),
            "PAUSED" => Some(TargetState::Paused),
            "STOPPED" => Some(TargetState::Stopped),
            _ => None,
        }
    }
}

/// A restart with KIP-745 parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartRequest {
    /// Connector name.
    pub connector: String,
    /// Only restart instances that are FAILED.
    pub only_failed: bool,
    /// Also restart tasks.
    pub include_tasks: bool,
}

/// `GET /connector-plugins` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Class name.
    pub class: String,
    /// Plugin type (`sink`, `source`, `converter` …).
    #[serde(rename = "type")]
    pub plugin_type: String,
    /// Version; omitted when undefined.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
}

/// A config key's definition as REST shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigKeyInfo {
    /// Key name (prefixed in sub-config sections).
    pub name: String,
    /// Type name (`STRING` …).
    #[serde(rename = "type")]
    pub config_type: String,
    /// True when there is no default.
    pub required: bool,
    /// Default rendered as text.
    pub default_value: Option<String>,
    /// `HIGH`, `MEDIUM`, `LOW`.
    pub importance: String,
    /// Documentation.
    pub documentation: Option<String>,
    /// Group.
    pub group: Option<String>,
    /// Position within the group (the 4.1+ name).
    pub order_in_group: i32,
    /// Width.
    pub width: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Dependents.
    pub dependents: Vec<String>,
    /// Position within the group (the 4.0 name; both are emitted for clients of either).
    pub order: i32,
}

/// A key's validation outcome as REST shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigValueInfo {
    /// Key name.
    pub name: String,
    /// Value rendered as text.
    pub value: Option<String>,
    /// Recommended values.
    pub recommended_values: Vec<String>,
    /// Errors.
    pub errors: Vec<String>,
    /// Visibility.
    pub visible: bool,
}

/// One entry of a validation result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigInfo {
    /// Definition, or null for values without one.
    pub definition: Option<ConfigKeyInfo>,
    /// Value, or null for definitions without one.
    pub value: Option<ConfigValueInfo>,
}

/// `PUT /connector-plugins/{p}/config/validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigInfos {
    /// The `connector.class` from the request.
    pub name: String,
    /// Total errors.
    pub error_count: usize,
    /// Groups in order, de-duplicated.
    pub groups: Vec<String>,
    /// Entries.
    pub configs: Vec<ConfigInfo>,
}

/// One partition's offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorOffset {
    /// Source partition, or `{kafka_topic, kafka_partition}` for sinks.
    pub partition: Option<serde_json::Map<String, serde_json::Value>>,
    /// Offset, or `{kafka_offset}`; null resets.
    pub offset: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `GET /connectors/{c}/offsets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorOffsets {
    /// Entries.
    pub offsets: Option<Vec<ConnectorOffset>>,
}

/// `{"message": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Text.
    pub message: String,
}
