//! [`WorkerGroupMember`]: coordinator discovery, JoinGroup/SyncGroup/LeaveGroup and the background
//! heartbeat, following Apache's `AbstractCoordinator` error handling.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::find_coordinator_request::FindCoordinatorRequest;
use kafka_protocol::messages::join_group_request::{JoinGroupRequest, JoinGroupRequestProtocol};
use kafka_protocol::messages::leave_group_request::{LeaveGroupRequest, MemberIdentity};
use kafka_protocol::messages::sync_group_request::{SyncGroupRequest, SyncGroupRequestAssignment};
use kafka_protocol::messages::{GroupId, HeartbeatRequest};
use kafka_protocol::protocol::StrBytes;
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::config::{GroupConfig, split_host_port};
use super::connection::{BrokerConnection, ConnectSettings};
use super::error::{BrokerErrorCode, GroupError, RejoinReason};

/// The group protocol type of Connect workers (`ConnectProtocol`'s `connect`).
pub const CONNECT_PROTOCOL_TYPE: &str = "connect";
/// `JoinGroupRequest.UNKNOWN_GENERATION_ID` / `OffsetCommitRequest.DEFAULT_GENERATION_ID`.
const NO_GENERATION: i32 = -1;
/// `AbstractCoordinator.JOIN_GROUP_TIMEOUT_LAPSE`: slack on top of the rebalance timeout for JoinGroup.
const JOIN_GROUP_TIMEOUT_LAPSE: Duration = Duration::from_secs(5);
/// LeaveGroup reason Apache sends when the member closes.
const LEAVE_REASON: &str = "the consumer is being closed";

/// What the herder learns from the background heartbeat, through [`WorkerGroupMember::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupStatus {
    /// Not a settled member: before the first sync, during a join, after leaving.
    Unjoined,
    /// The last sync completed and heartbeats succeed.
    Stable {
        /// The generation the member synced.
        generation_id: i32,
    },
    /// The member has to call [`WorkerGroupMember::join`] again.
    RejoinNeeded(RejoinReason),
    /// No heartbeat has reached the coordinator for `heartbeat.interval.ms` (Connect's coordinator-discovery
    /// timeout): the herder should stop its assignment, as `WorkerCoordinator.poll` revokes it. Goes back to
    /// `Stable` once a heartbeat succeeds again.
    CoordinatorUnreachable,
    /// The heartbeat hit an error no retry fixes (a rejected SASL login, a broker without a usable API
    /// version, an undecodable response); heartbeats have stopped.
    Failed(String),
}

/// The result of a successful JoinGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOutcome {
    /// The new generation.
    pub generation_id: i32,
    /// This member's id (assigned by the coordinator).
    pub member_id: String,
    /// The leader's member id.
    pub leader_id: String,
    /// The subprotocol the coordinator chose.
    pub protocol_name: String,
    /// Every member with its metadata for the chosen protocol, in the coordinator's order; empty unless this
    /// member is the leader.
    pub members: Vec<JoinedMember>,
}

impl JoinOutcome {
    /// Whether this member leads the generation and must compute the assignments.
    pub fn is_leader(&self) -> bool {
        self.member_id == self.leader_id
    }
}

/// A member of the generation as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// The member's metadata bytes for the chosen protocol, as it sent them.
    pub metadata: Bytes,
}

/// Where the member is in the rebalance protocol (`AbstractCoordinator.MemberState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Unjoined,
    CompletingRebalance,
    Stable,
}

/// Membership shared by the member and its heartbeat task.
#[derive(Debug)]
struct Membership {
    coordinator: Option<Arc<BrokerConnection>>,
    member_id: String,
    generation_id: i32,
    protocol_name: Option<String>,
    phase: Phase,
    /// Why the heartbeat reset the generation, so a later sync can say.
    reset_reason: Option<RejoinReason>,
}

impl Membership {
    /// `resetStateOnResponseError`: drop the generation, and the member id unless it stays valid.
    fn reset(&mut self, reason: RejoinReason, keep_member_id: bool) {
        self.generation_id = NO_GENERATION;
        self.protocol_name = None;
        self.phase = Phase::Unjoined;
        if !keep_member_id {
            self.member_id.clear();
        }
        self.reset_reason = Some(reason);
    }
}

struct Shared {
    config: GroupConfig,
    settings: ConnectSettings,
    group_id: GroupId,
    state: Mutex<Membership>,
    /// Cached connection to a bootstrap broker, for FindCoordinator.
    bootstrap_connection: tokio::sync::Mutex<Option<Arc<BrokerConnection>>>,
    status: watch::Sender<GroupStatus>,
}

impl Shared {
    /// The coordinator connection, discovered (FindCoordinator) if unknown or broken.
    async fn coordinator(&self) -> Result<Arc<BrokerConnection>, GroupError> {
        if let Some(connection) = self.state.lock().coordinator.clone()
            && !connection.is_closed()
        {
            return Ok(connection);
        }
        let connection = self.discover_coordinator().await?;
        tracing::info!(
            group = %self.config.group_id,
            coordinator = connection.broker(),
            "Discovered group coordinator"
        );
        self.state.lock().coordinator = Some(connection.clone());
        Ok(connection)
    }

    async fn discover_coordinator(&self) -> Result<Arc<BrokerConnection>, GroupError> {
        let broker = self.any_broker().await?;
        let version = broker.version_of::<FindCoordinatorRequest>()?;
        let mut request = FindCoordinatorRequest::default();
        // Key type 0 is GROUP; v4+ batches keys.
        request.key_type = 0;
        if version >= 4 {
            request.coordinator_keys = vec![self.group_id.0.clone()];
        } else {
            request.key = self.group_id.0.clone();
        }
        let result = broker.request(&request, self.config.request_timeout).await;
        let (response, version) = match result {
            Ok(answer) => answer,
            Err(e) => {
                broker.close("FindCoordinator failed");
                return Err(e);
            }
        };
        let (code, message, host, port) = if version >= 4 {
            let [coordinator] = response.coordinators.as_slice() else {
                return Err(GroupError::Protocol {
                    api: "FindCoordinator",
                    broker: broker.broker().to_owned(),
                    detail: format!(
                        "Group coordinator lookup failed: Invalid response containing {} coordinators instead of one",
                        response.coordinators.len()
                    ),
                });
            };
            (
                coordinator.error_code,
                coordinator.error_message.clone(),
                coordinator.host.clone(),
                coordinator.port,
            )
        } else {
            (
                response.error_code,
                response.error_message.clone(),
                response.host.clone(),
                response.port,
            )
        };
        if code != 0 {
            return Err(GroupError::Broker {
                api: "FindCoordinator",
                code: BrokerErrorCode(code),
                message: message.map(|m| m.to_string()),
            });
        }
        let address = if host.contains(':') {
            format!("[{}]:{port}", host.as_str())
        } else {
            format!("{}:{port}", host.as_str())
        };
        BrokerConnection::connect(&address, &self.settings).await
    }

    /// A connection to any bootstrap broker, tried in configured order.
    async fn any_broker(&self) -> Result<Arc<BrokerConnection>, GroupError> {
        let mut cached = self.bootstrap_connection.lock().await;
        if let Some(connection) = cached.as_ref()
            && !connection.is_closed()
        {
            return Ok(connection.clone());
        }
        let mut resolvable = false;
        let mut last_error = None;
        for entry in &self.config.bootstrap {
            let (host, port) = split_host_port(entry)?;
            if tokio::net::lookup_host((host.as_str(), port))
                .await
                .is_err()
            {
                tracing::warn!(bootstrap = %entry, "Couldn't resolve server from bootstrap.servers");
                continue;
            }
            resolvable = true;
            match BrokerConnection::connect(entry, &self.settings).await {
                Ok(connection) => {
                    *cached = Some(connection.clone());
                    return Ok(connection);
                }
                Err(e) if e.is_retriable() => {
                    tracing::warn!(bootstrap = %entry, error = %e, "Bootstrap broker unavailable");
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        if !resolvable {
            return Err(GroupError::NoResolvableBootstrap(
                self.config.bootstrap.join(","),
            ));
        }
        Err(last_error.unwrap_or_else(|| GroupError::Config("no bootstrap servers".to_owned())))
    }

    /// `markCoordinatorUnknown`: forget `connection` if it is still the coordinator, and close it.
    fn mark_coordinator_unknown(&self, connection: &Arc<BrokerConnection>, cause: &str) {
        let mut state = self.state.lock();
        if state
            .coordinator
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, connection))
        {
            tracing::info!(
                group = %self.config.group_id,
                coordinator = connection.broker(),
                cause,
                "Group coordinator is unavailable or invalid, will attempt rediscovery"
            );
            state.coordinator = None;
        }
        drop(state);
        connection.close(cause);
    }

    fn set_status(&self, status: GroupStatus) {
        self.status.send_replace(status);
    }
}

/// A Connect worker's membership in its worker group (Apache's `WorkerGroupMember` plus the protocol half of
/// `WorkerCoordinator`/`AbstractCoordinator`), speaking the classic group protocol with protocol type
/// `connect` and caller-supplied subprotocols whose metadata and assignments are opaque bytes.
///
/// Call [`join`](Self::join), then [`sync`](Self::sync) (the leader with every member's assignment, followers
/// with none); a background task then heartbeats every `heartbeat.interval.ms` and reports through
/// [`status`](Self::status) when the herder must join again. [`leave`](Self::leave) on shutdown.
pub struct WorkerGroupMember {
    shared: Arc<Shared>,
    heartbeat: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for WorkerGroupMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("WorkerGroupMember")
            .field("group_id", &self.shared.config.group_id)
            .field("member_id", &state.member_id)
            .field("generation_id", &state.generation_id)
            .field("phase", &state.phase)
            .finish()
    }
}

impl Drop for WorkerGroupMember {
    fn drop(&mut self) {
        if let Some(task) = self.heartbeat.take() {
            task.abort();
        }
        if let Some(connection) = self.shared.state.lock().coordinator.take() {
            connection.close("member dropped");
        }
    }
}

impl WorkerGroupMember {
    /// A member for `config`; nothing is contacted until [`join`](Self::join).
    pub fn new(config: GroupConfig) -> Result<Self, GroupError> {
        config.validate()?;
        let settings = ConnectSettings {
            client_id: config.client_id.clone(),
            security: config.security.clone(),
            setup_timeout: config.connection_setup_timeout,
        };
        let group_id = GroupId(StrBytes::from_string(config.group_id.clone()));
        let (status, _) = watch::channel(GroupStatus::Unjoined);
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                settings,
                group_id,
                state: Mutex::new(Membership {
                    coordinator: None,
                    member_id: String::new(),
                    generation_id: NO_GENERATION,
                    protocol_name: None,
                    phase: Phase::Unjoined,
                    reset_reason: None,
                }),
                bootstrap_connection: tokio::sync::Mutex::new(None),
                status,
            }),
            heartbeat: None,
        })
    }

    /// The member id the coordinator gave this member (empty before the first join).
    pub fn member_id(&self) -> String {
        self.shared.state.lock().member_id.clone()
    }

    /// The current generation, `-1` when there is none.
    pub fn generation(&self) -> i32 {
        self.shared.state.lock().generation_id
    }

    /// The coordinator's choice of subprotocol in the current generation.
    pub fn protocol_name(&self) -> Option<String> {
        self.shared.state.lock().protocol_name.clone()
    }

    /// The heartbeat's view of the membership; `changed()` wakes the herder when a rebalance is needed.
    pub fn status(&self) -> watch::Receiver<GroupStatus> {
        self.shared.status.subscribe()
    }

    /// Whether the heartbeat found that the member must join again.
    pub fn rejoin_needed(&self) -> bool {
        matches!(*self.shared.status.borrow(), GroupStatus::RejoinNeeded(_))
    }

    /// The group's configuration.
    pub fn config(&self) -> &GroupConfig {
        &self.shared.config
    }

    /// Joins (or rejoins) the group offering `protocols` (subprotocol name and metadata, in preference
    /// order). Returns once the coordinator has formed the generation; the leader gets every member's
    /// metadata. Retries coordinator discovery and retriable errors for up to `join_timeout`.
    pub async fn join(
        &mut self,
        protocols: Vec<(String, Bytes)>,
    ) -> Result<JoinOutcome, GroupError> {
        if protocols.is_empty() {
            return Err(GroupError::Config(
                "at least one group subprotocol is required".to_owned(),
            ));
        }
        self.stop_heartbeat().await;
        {
            let mut state = self.shared.state.lock();
            state.phase = Phase::Unjoined;
            state.reset_reason = None;
        }
        self.shared.set_status(GroupStatus::Unjoined);
        let config = &self.shared.config;
        let protocols: Vec<JoinGroupRequestProtocol> = protocols
            .into_iter()
            .map(|(name, metadata)| {
                let mut protocol = JoinGroupRequestProtocol::default();
                protocol.name = StrBytes::from_string(name);
                protocol.metadata = metadata;
                protocol
            })
            .collect();
        let join_request_timeout = config
            .request_timeout
            .max(config.rebalance_timeout + JOIN_GROUP_TIMEOUT_LAPSE);
        let deadline = Instant::now() + config.join_timeout;
        let mut last_error: Option<GroupError> = None;
        let mut backoff = false;
        let mut failures = 0u32;
        loop {
            if Instant::now() >= deadline
                && let Some(last) = last_error.take()
            {
                return Err(GroupError::Timeout {
                    operation: "joining the group",
                    timeout: config.join_timeout,
                    last: Box::new(last),
                });
            }
            if backoff {
                tokio::time::sleep(config.backoff(failures)).await;
                failures += 1;
            }
            backoff = true;
            let coordinator = match self.shared.coordinator().await {
                Ok(c) => c,
                Err(e) if e.is_retriable() => {
                    tracing::debug!(group = %config.group_id, error = %e, "Coordinator discovery failed");
                    last_error = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let member_id = self.shared.state.lock().member_id.clone();
            let mut request = JoinGroupRequest::default();
            request.group_id = self.shared.group_id.clone();
            request.session_timeout_ms = millis(config.session_timeout);
            request.rebalance_timeout_ms = millis(config.rebalance_timeout);
            request.member_id = StrBytes::from_string(member_id.clone());
            request.group_instance_id = None;
            request.protocol_type = StrBytes::from_static_str(CONNECT_PROTOCOL_TYPE);
            request.protocols = protocols.clone();
            tracing::info!(group = %config.group_id, member_id, "(Re-)joining group");
            let response = match coordinator.request(&request, join_request_timeout).await {
                Ok((response, _)) => response,
                Err(e) => {
                    self.shared
                        .mark_coordinator_unknown(&coordinator, &e.to_string());
                    if e.is_retriable() {
                        last_error = Some(e);
                        continue;
                    }
                    return Err(e);
                }
            };
            let code = BrokerErrorCode(response.error_code);
            let broker_error = || GroupError::Broker {
                api: "JoinGroup",
                code,
                message: None,
            };
            match code {
                BrokerErrorCode(0) => {}
                BrokerErrorCode::MEMBER_ID_REQUIRED => {
                    // KIP-394: the coordinator hands out the id; join again with it at once.
                    self.shared.state.lock().member_id = response.member_id.to_string();
                    backoff = false;
                    last_error = Some(broker_error());
                    continue;
                }
                BrokerErrorCode::UNKNOWN_MEMBER_ID => {
                    let mut state = self.shared.state.lock();
                    if state.member_id == member_id {
                        state.reset(RejoinReason::UnknownMemberId, false);
                    }
                    backoff = false;
                    last_error = Some(broker_error());
                    continue;
                }
                BrokerErrorCode::REBALANCE_IN_PROGRESS | BrokerErrorCode::ILLEGAL_GENERATION => {
                    backoff = false;
                    last_error = Some(broker_error());
                    continue;
                }
                BrokerErrorCode::COORDINATOR_NOT_AVAILABLE | BrokerErrorCode::NOT_COORDINATOR => {
                    self.shared
                        .mark_coordinator_unknown(&coordinator, &format!("error response {code}"));
                    last_error = Some(broker_error());
                    continue;
                }
                BrokerErrorCode::COORDINATOR_LOAD_IN_PROGRESS => {
                    // The coordinator is right but still loading the group: back off and ask it again.
                    last_error = Some(broker_error());
                    continue;
                }
                _ => {
                    tracing::error!(group = %config.group_id, error = %code, "JoinGroup failed");
                    return Err(broker_error());
                }
            }
            if let Some(protocol_type) = &response.protocol_type
                && protocol_type.as_str() != CONNECT_PROTOCOL_TYPE
            {
                return Err(GroupError::Broker {
                    api: "JoinGroup",
                    code: BrokerErrorCode::INCONSISTENT_GROUP_PROTOCOL,
                    message: Some(format!(
                        "received protocol type {} but expected {CONNECT_PROTOCOL_TYPE}",
                        protocol_type.as_str()
                    )),
                });
            }
            let outcome = JoinOutcome {
                generation_id: response.generation_id,
                member_id: response.member_id.to_string(),
                leader_id: response.leader.to_string(),
                protocol_name: response
                    .protocol_name
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                members: response
                    .members
                    .iter()
                    .map(|m| JoinedMember {
                        member_id: m.member_id.to_string(),
                        metadata: m.metadata.clone(),
                    })
                    .collect(),
            };
            {
                let mut state = self.shared.state.lock();
                state.member_id = outcome.member_id.clone();
                state.generation_id = outcome.generation_id;
                state.protocol_name = Some(outcome.protocol_name.clone());
                state.phase = Phase::CompletingRebalance;
                state.reset_reason = None;
            }
            tracing::info!(
                group = %config.group_id,
                generation = outcome.generation_id,
                member_id = %outcome.member_id,
                protocol = %outcome.protocol_name,
                leader = outcome.is_leader(),
                "Successfully joined group"
            );
            // Heartbeats run from here on, as Apache enables its heartbeat thread on COMPLETING_REBALANCE:
            // the coordinator expects them while the leader computes the assignment.
            self.start_heartbeat(outcome.generation_id, outcome.member_id.clone());
            return Ok(outcome);
        }
    }

    /// Completes the rebalance started by [`join`](Self::join): the leader passes every member's
    /// assignment, followers an empty list. Returns this member's own assignment bytes. A
    /// [`GroupError::RejoinNeeded`] means the generation moved on and `join` must be called again.
    pub async fn sync(&mut self, assignments: Vec<(String, Bytes)>) -> Result<Bytes, GroupError> {
        let (coordinator, generation_id, member_id, protocol_name) = {
            let state = self.shared.state.lock();
            if state.phase != Phase::CompletingRebalance {
                return Err(match &state.reset_reason {
                    Some(reason) => GroupError::RejoinNeeded(reason.clone()),
                    None => GroupError::InvalidState("sync needs a successful join first"),
                });
            }
            (
                state.coordinator.clone(),
                state.generation_id,
                state.member_id.clone(),
                state.protocol_name.clone(),
            )
        };
        let result = self
            .send_sync(
                coordinator,
                generation_id,
                &member_id,
                protocol_name,
                assignments,
            )
            .await;
        if result.is_err() {
            self.stop_heartbeat().await;
            let mut state = self.shared.state.lock();
            if state.phase == Phase::CompletingRebalance {
                state.phase = Phase::Unjoined;
            }
        }
        result
    }

    async fn send_sync(
        &self,
        coordinator: Option<Arc<BrokerConnection>>,
        generation_id: i32,
        member_id: &str,
        protocol_name: Option<String>,
        assignments: Vec<(String, Bytes)>,
    ) -> Result<Bytes, GroupError> {
        let config = &self.shared.config;
        let Some(coordinator) = coordinator.filter(|c| !c.is_closed()) else {
            return Err(GroupError::RejoinNeeded(
                RejoinReason::CoordinatorUnavailable(
                    "coordinator connection lost before SyncGroup".to_owned(),
                ),
            ));
        };
        let mut request = SyncGroupRequest::default();
        request.group_id = self.shared.group_id.clone();
        request.generation_id = generation_id;
        request.member_id = StrBytes::from_string(member_id.to_owned());
        request.group_instance_id = None;
        request.protocol_type = Some(StrBytes::from_static_str(CONNECT_PROTOCOL_TYPE));
        request.protocol_name = protocol_name.clone().map(StrBytes::from_string);
        request.assignments = assignments
            .into_iter()
            .map(|(member_id, assignment)| {
                let mut entry = SyncGroupRequestAssignment::default();
                entry.member_id = StrBytes::from_string(member_id);
                entry.assignment = assignment;
                entry
            })
            .collect();
        let response = match coordinator.request(&request, config.request_timeout).await {
            Ok((response, _)) => response,
            Err(e) => {
                self.shared
                    .mark_coordinator_unknown(&coordinator, &e.to_string());
                if e.is_retriable() {
                    return Err(GroupError::RejoinNeeded(
                        RejoinReason::CoordinatorUnavailable(e.to_string()),
                    ));
                }
                return Err(e);
            }
        };
        let code = BrokerErrorCode(response.error_code);
        match code {
            BrokerErrorCode(0) => {}
            BrokerErrorCode::REBALANCE_IN_PROGRESS => {
                tracing::info!(group = %config.group_id, "SyncGroup failed: The group began another rebalance. Need to re-join the group.");
                return Err(GroupError::RejoinNeeded(RejoinReason::RebalanceInProgress));
            }
            BrokerErrorCode::UNKNOWN_MEMBER_ID | BrokerErrorCode::ILLEGAL_GENERATION => {
                let reason = if code == BrokerErrorCode::UNKNOWN_MEMBER_ID {
                    RejoinReason::UnknownMemberId
                } else {
                    RejoinReason::IllegalGeneration
                };
                let mut state = self.shared.state.lock();
                if state.generation_id == generation_id && state.member_id == member_id {
                    // The member id stays valid on ILLEGAL_GENERATION.
                    state.reset(reason.clone(), code == BrokerErrorCode::ILLEGAL_GENERATION);
                }
                return Err(GroupError::RejoinNeeded(reason));
            }
            BrokerErrorCode::COORDINATOR_NOT_AVAILABLE | BrokerErrorCode::NOT_COORDINATOR => {
                self.shared
                    .mark_coordinator_unknown(&coordinator, &format!("error response {code}"));
                return Err(GroupError::RejoinNeeded(
                    RejoinReason::CoordinatorUnavailable(code.name()),
                ));
            }
            _ => {
                return Err(GroupError::Broker {
                    api: "SyncGroup",
                    code,
                    message: None,
                });
            }
        }
        let inconsistent = |what: &str, got: &str, expected: &str| GroupError::Broker {
            api: "SyncGroup",
            code: BrokerErrorCode::INCONSISTENT_GROUP_PROTOCOL,
            message: Some(format!("received {what} {got} but expected {expected}")),
        };
        if let Some(protocol_type) = &response.protocol_type
            && protocol_type.as_str() != CONNECT_PROTOCOL_TYPE
        {
            return Err(inconsistent(
                "protocol type",
                protocol_type.as_str(),
                CONNECT_PROTOCOL_TYPE,
            ));
        }
        if let (Some(got), Some(expected)) = (&response.protocol_name, &protocol_name)
            && got.as_str() != expected
        {
            return Err(inconsistent("protocol name", got.as_str(), expected));
        }
        {
            let mut state = self.shared.state.lock();
            // The heartbeat may have reset the generation while SyncGroup was in flight.
            if state.phase != Phase::CompletingRebalance || state.generation_id != generation_id {
                return Err(GroupError::RejoinNeeded(
                    state
                        .reset_reason
                        .clone()
                        .unwrap_or(RejoinReason::IllegalGeneration),
                ));
            }
            state.phase = Phase::Stable;
        }
        self.shared
            .set_status(GroupStatus::Stable { generation_id });
        tracing::info!(group = %config.group_id, generation = generation_id, "Successfully synced group");
        Ok(response.assignment)
    }

    /// Leaves the group (LeaveGroup, best effort as in Apache) and forgets member id and generation.
    pub async fn leave(&mut self) -> Result<(), GroupError> {
        self.stop_heartbeat().await;
        let (coordinator, member_id) = {
            let mut state = self.shared.state.lock();
            let snapshot = (
                state.coordinator.clone(),
                std::mem::take(&mut state.member_id),
            );
            state.generation_id = NO_GENERATION;
            state.protocol_name = None;
            state.phase = Phase::Unjoined;
            state.reset_reason = None;
            snapshot
        };
        self.shared.set_status(GroupStatus::Unjoined);
        let Some(coordinator) = coordinator.filter(|c| !c.is_closed()) else {
            return Ok(());
        };
        if member_id.is_empty() {
            return Ok(());
        }
        tracing::info!(
            group = %self.shared.config.group_id,
            member_id,
            coordinator = coordinator.broker(),
            reason = LEAVE_REASON,
            "Member sending LeaveGroup request to coordinator"
        );
        let version = coordinator.version_of::<LeaveGroupRequest>()?;
        let mut request = LeaveGroupRequest::default();
        request.group_id = self.shared.group_id.clone();
        if version >= 3 {
            let mut identity = MemberIdentity::default();
            identity.member_id = StrBytes::from_string(member_id);
            if version >= 5 {
                identity.reason = Some(StrBytes::from_static_str(LEAVE_REASON));
            }
            request.members = vec![identity];
        } else {
            request.member_id = StrBytes::from_string(member_id);
        }
        let (response, _) = coordinator
            .request(&request, self.shared.config.request_timeout)
            .await?;
        // `LeaveGroupResponse.error()`: the top-level error, else the first member's.
        let code = if response.error_code != 0 {
            response.error_code
        } else {
            response
                .members
                .iter()
                .map(|m| m.error_code)
                .find(|c| *c != 0)
                .unwrap_or(0)
        };
        if code != 0 {
            return Err(GroupError::Broker {
                api: "LeaveGroup",
                code: BrokerErrorCode(code),
                message: None,
            });
        }
        Ok(())
    }

    fn start_heartbeat(&mut self, generation_id: i32, member_id: String) {
        let shared = self.shared.clone();
        self.heartbeat = Some(tokio::spawn(heartbeat_loop(
            shared,
            generation_id,
            member_id,
        )));
    }

    async fn stop_heartbeat(&mut self) {
        if let Some(task) = self.heartbeat.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

fn millis(duration: Duration) -> i32 {
    i32::try_from(duration.as_millis()).unwrap_or(i32::MAX)
}

/// Heartbeats every `heartbeat.interval.ms` for one generation (Apache's `HeartbeatThread` and
/// `HeartbeatResponseHandler`). Ends when the generation is reset or the member rejoins.
async fn heartbeat_loop(shared: Arc<Shared>, generation_id: i32, member_id: String) {
    let config = &shared.config;
    let request_timeout = config.request_timeout.min(config.session_timeout);
    let mut last_success = Instant::now();
    let mut failing_since: Option<Instant> = None;
    let mut failures = 0u32;
    let mut next = last_success + config.heartbeat_interval;
    loop {
        tokio::time::sleep_until(next).await;
        let (coordinator, phase) = {
            let state = shared.state.lock();
            if state.generation_id != generation_id
                || state.member_id != member_id
                || state.phase == Phase::Unjoined
            {
                return;
            }
            (state.coordinator.clone(), state.phase)
        };
        let now = Instant::now();
        if now.duration_since(last_success) > config.session_timeout
            && let Some(connection) = &coordinator
        {
            shared.mark_coordinator_unknown(
                connection,
                "session timed out without receiving a heartbeat response",
            );
        }
        let outcome = match shared.coordinator().await {
            Ok(connection) => {
                let mut request = HeartbeatRequest::default();
                request.group_id = shared.group_id.clone();
                request.generation_id = generation_id;
                request.member_id = StrBytes::from_string(member_id.clone());
                request.group_instance_id = None;
                match connection.request(&request, request_timeout).await {
                    Ok((response, _)) => Ok((connection, BrokerErrorCode(response.error_code))),
                    Err(e) => {
                        shared.mark_coordinator_unknown(&connection, &e.to_string());
                        Err(e)
                    }
                }
            }
            Err(e) => Err(e),
        };
        let now = Instant::now();
        match outcome {
            Ok((_, BrokerErrorCode(0))) => {
                last_success = now;
                failing_since = None;
                failures = 0;
                shared.status.send_if_modified(|status| {
                    if *status == GroupStatus::CoordinatorUnreachable {
                        *status = GroupStatus::Stable { generation_id };
                        true
                    } else {
                        false
                    }
                });
                next = now + config.heartbeat_interval;
                continue;
            }
            Ok((_, BrokerErrorCode::REBALANCE_IN_PROGRESS)) => {
                // Heartbeats stay valid during a rebalance and keep the session alive until the rejoin.
                last_success = now;
                failing_since = None;
                failures = 0;
                if phase == Phase::Stable {
                    tracing::info!(group = %config.group_id, "Request joining group due to: group is already rebalancing");
                    shared.set_status(GroupStatus::RejoinNeeded(RejoinReason::RebalanceInProgress));
                }
                next = now + config.heartbeat_interval;
                continue;
            }
            Ok((
                _,
                code @ (BrokerErrorCode::ILLEGAL_GENERATION | BrokerErrorCode::UNKNOWN_MEMBER_ID),
            )) => {
                let reason = if code == BrokerErrorCode::ILLEGAL_GENERATION {
                    RejoinReason::IllegalGeneration
                } else {
                    RejoinReason::UnknownMemberId
                };
                {
                    let mut state = shared.state.lock();
                    if state.generation_id != generation_id || state.member_id != member_id {
                        // A stale generation's answer: ignore it, as Apache does.
                        return;
                    }
                    tracing::info!(group = %config.group_id, generation = generation_id, error = %code, "Attempt to heartbeat failed, resetting generation");
                    state.reset(reason.clone(), code == BrokerErrorCode::ILLEGAL_GENERATION);
                }
                shared.set_status(GroupStatus::RejoinNeeded(reason));
                return;
            }
            Ok((
                connection,
                code @ (BrokerErrorCode::COORDINATOR_NOT_AVAILABLE
                | BrokerErrorCode::NOT_COORDINATOR),
            )) => {
                shared.mark_coordinator_unknown(&connection, &format!("error response {code}"));
            }
            Ok((_, code)) => {
                // Apache's heartbeat thread fails the heartbeat and retries after the backoff (the main
                // thread meets errors such as GROUP_AUTHORIZATION_FAILED on its next request). The
                // coordinator answered, so this does not count towards "unreachable".
                tracing::warn!(group = %config.group_id, error = %code, "Unexpected error in heartbeat response");
                next = now + config.backoff(failures);
                failures += 1;
                continue;
            }
            Err(e) if !e.is_retriable() => {
                // Authentication and configuration failures: Apache's heartbeat thread fails on these too.
                tracing::error!(group = %config.group_id, error = %e, "Heartbeat failed with an error no retry fixes");
                shared.set_status(GroupStatus::Failed(e.to_string()));
                return;
            }
            Err(e) => {
                tracing::debug!(group = %config.group_id, error = %e, "Heartbeat failed");
            }
        }
        // A retriable failure: retry after the backoff; tell the herder once the coordinator has been
        // unreachable for a heartbeat interval.
        let since = *failing_since.get_or_insert(now);
        if now.duration_since(since) >= config.heartbeat_interval {
            shared.status.send_if_modified(|status| {
                if matches!(status, GroupStatus::Stable { .. }) {
                    *status = GroupStatus::CoordinatorUnreachable;
                    true
                } else {
                    false
                }
            });
        }
        next = now + config.backoff(failures);
        failures += 1;
    }
}
