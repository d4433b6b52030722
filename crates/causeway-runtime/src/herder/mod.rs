//! Herders: the authority on connector configs, target states and task assignment.
//!
//! The REST layer drives a [`Herder`]; the standalone herder runs everything in this process.
use std::collections::BTreeMap;

use async_trait::async_trait;
use causeway_api::Props;

pub mod distributed;
pub mod entities;
pub mod offsets;
pub mod rest_client;
pub mod shared;
pub mod signature;
pub mod standalone;

use self::entities::*;
use self::signature::InternalRequestSignature;

/// Errors a herder returns, each mapping to one HTTP status (as Apache's `ConnectExceptionMapper`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HerderError {
    /// 400: the request is invalid (validation errors, name mismatch …).
    #[error("{0}")]
    BadRequest(String),
    /// 403: forbidden by worker configuration (topic tracking disabled …).
    #[error("{0}")]
    Forbidden(String),
    /// 404: the connector, task or plugin does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 409: the connector already exists, or a conflicting operation is in progress.
    #[error("{0}")]
    Conflict(String),
    /// 500: anything else (the connector failed to start, storage failed …).
    #[error("{0}")]
    Internal(String),
    /// 503: the worker cannot answer yet.
    #[error("{0}")]
    Unavailable(String),
    /// This worker cannot execute the request; `leader_url` is the worker that can (the leader, or for a
    /// restart the owner of the connector/task), `None` when none is known. Apache's `NotLeaderException` /
    /// `NotAssignedException`: the REST layer forwards write requests to `leader_url`, or answers 409 (see
    /// `connect-rest-api.md` §1.6); on endpoints that never forward it is a plain 500.
    #[error("Cannot complete request on this worker; it must be handled by {}", leader_url.as_deref().unwrap_or("an unknown leader"))]
    NotLeader {
        /// The advertised REST URL of the worker that can serve the request.
        leader_url: Option<String>,
    },
    /// The worker knows its config view is stale (a rebalance is pending). Apache's
    /// `RebalanceNeededException`: write endpoints answer 409 `Cannot complete request momentarily due to
    /// stale configuration …`; read endpoints a 500 with this message (typically `Request cannot be
    /// completed because a rebalance is expected`).
    #[error("{0}")]
    RebalanceNeeded(String),
}

impl HerderError {
    /// The HTTP status code.
    pub fn status_code(&self) -> u16 {
        match self {
            HerderError::BadRequest(_) => 400,
            HerderError::Forbidden(_) => 403,
            HerderError::NotFound(_) => 404,
            HerderError::Conflict(_) => 409,
            HerderError::Internal(_) => 500,
            HerderError::Unavailable(_) => 503,
            // Apache's exception mapper renders these as 500 where nothing translated them.
            HerderError::NotLeader { .. } | HerderError::RebalanceNeeded(_) => 500,
        }
    }

    /// The error for a status another worker answered with (Apache's relayed `ConnectRestException`):
    /// 400, 403, 404, 409 and 503 keep their kind, anything else is 500.
    pub fn from_status(status: u16, message: String) -> HerderError {
        match status {
            400 => HerderError::BadRequest(message),
            403 => HerderError::Forbidden(message),
            404 => HerderError::NotFound(message),
            409 => HerderError::Conflict(message),
            503 => HerderError::Unavailable(message),
            _ => HerderError::Internal(message),
        }
    }
}

/// Result with [`HerderError`].
pub type HerderResult<T> = Result<T, HerderError>;

/// What a create-or-update returned: the connector and whether it was newly created (201 vs 200).
#[derive(Debug, Clone, PartialEq)]
pub struct Created<T> {
    /// True when the connector did not exist before.
    pub created: bool,
    /// The result.
    pub value: T,
}

/// The operations the REST API needs, one method per endpoint family (Apache's `Herder` interface, with
/// `async fn` in place of callbacks).
///
/// Error texts are part of the contract: scripts grep for them, so implementations use Apache's wording
/// (see `shared/spec/connect-rest-api.md`).
#[async_trait]
pub trait Herder: Send + Sync + 'static {
    /// `GET /`.
    fn server_info(&self) -> ServerInfo;

    /// `GET /health`: `Ok` once the worker has started and can serve requests.
    async fn health(&self) -> HerderResult<WorkerStatus>;

    /// Names of all connectors.
    async fn connectors(&self) -> Vec<String>;

    /// `GET /connectors/{c}`.
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo>;

    /// `GET /connectors/{c}/config`: the raw stored config.
    async fn connector_config(&self, name: &str) -> HerderResult<Props>;

    /// `POST /connectors` (`allow_replace = false`) and `PUT /connectors/{c}/config` (`true`).
    ///
    /// `config` already contains `name`. `initial_state` applies only on creation.
    async fn put_connector_config(
        &self,
        name: &str,
        config: Props,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> HerderResult<Created<ConnectorInfo>>;

    /// `PATCH /connectors/{c}/config`: `None` values remove keys.
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<ConnectorInfo>;

    /// `DELETE /connectors/{c}`.
    async fn delete_connector(&self, name: &str) -> HerderResult<()>;

    /// `GET /connectors/{c}/status`.
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo>;

    /// `GET /connectors/{c}/tasks/{t}/status`.
    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState>;

    /// `POST /connectors/{c}/restart` without parameters: restart the connector instance only.
    async fn restart_connector(&self, name: &str) -> HerderResult<()>;

    /// `POST /connectors/{c}/restart?includeTasks=..&onlyFailed=..`: returns the restart plan.
    async fn restart_connector_and_tasks(
        &self,
        request: RestartRequest,
    ) -> HerderResult<ConnectorStateInfo>;

    /// `POST /connectors/{c}/tasks/{t}/restart`.
    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()>;

    /// `PUT /connectors/{c}/pause`.
    async fn pause_connector(&self, name: &str) -> HerderResult<()>;

    /// `PUT /connectors/{c}/resume`.
    async fn resume_connector(&self, name: &str) -> HerderResult<()>;

    /// `PUT /connectors/{c}/stop`.
    async fn stop_connector(&self, name: &str) -> HerderResult<()>;

    /// `GET /connectors/{c}/tasks`.
    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>>;

    /// `POST /connectors/{c}/tasks` (internal, distributed only): new task configs from the worker running
    /// the connector. `signature` is the request's KIP-507 signature (`None` when unsigned), parsed over the
    /// exact body bytes; checking it is the herder's job (see [`signature::check_internal_request`]).
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Props>,
        signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()>;

    /// `PUT /connectors/{c}/fence` (internal, distributed only): fence the transactional producers of the
    /// connector's previous task generations before exactly-once source tasks start. `signature` as for
    /// [`Herder::put_task_configs`] (over the, normally empty, request body).
    async fn fence_zombies(
        &self,
        name: &str,
        signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()>;

    /// `GET /connectors/{c}/topics`: the topics the connector used (sorted).
    async fn connector_active_topics(&self, name: &str) -> HerderResult<Vec<String>>;

    /// `PUT /connectors/{c}/topics/reset`.
    async fn reset_connector_active_topics(&self, name: &str) -> HerderResult<()>;

    /// `GET /connectors/{c}/offsets`.
    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets>;

    /// `PATCH /connectors/{c}/offsets`.
    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message>;

    /// `DELETE /connectors/{c}/offsets`.
    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message>;

    /// `GET /connector-plugins?connectorsOnly=..`, in Apache's order.
    fn connector_plugins(&self, connectors_only: bool) -> Vec<PluginInfo>;

    /// `GET /connector-plugins/{p}/config`.
    fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>>;

    /// `PUT /connector-plugins/{p}/config/validate` (the `{p}` consistency check is the caller's).
    async fn validate_connector_config(&self, config: Props) -> HerderResult<ConfigInfos>;

    /// `GET /metrics`: the local worker's metrics registry, if this herder runs one.
    fn metrics(&self) -> Option<std::sync::Arc<crate::metrics::ConnectMetrics>> {
        None
    }
}
