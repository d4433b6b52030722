use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use causeway_api::Props;
use causeway_distributed::assignor::{
    ConfigSnapshot, ConnectAssignor, EagerAssignor, GroupMember, IncrementalCooperativeAssignor,
    LeaderState, RebalanceContext,
};
use causeway_distributed::config_records::{
    ConfigProperties, ConnectorTaskId as WireTaskId, SessionKey, TargetState as WireTargetState,
};
use causeway_distributed::config_state::{ClusterConfigState, ConfigEvent};
use causeway_distributed::protocol::{
    ConnectProtocolCompatibility, ExtendedAssignment, ExtendedWorkerState, decode_assignment,
    decode_assignment_v0, decode_metadata, join_group_protocols,
};
use causeway_kafka::group::{GroupStatus, WorkerGroupMember};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ConfigTopicStore, DistributedConfig};
use crate::connector_config::{NAME_CONFIG, TASKS_MAX_CONFIG};
use crate::herder::entities::*;
use crate::herder::{Created, Herder, HerderError, HerderResult, shared};
use crate::worker::{Worker, WorkerEvent};

/// How long a herder write waits for the config topic (Apache's `READ_WRITE_TOTAL_TIMEOUT_MS`).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause before retrying a failed rebalance.
const REJOIN_BACKOFF: Duration = Duration::from_millis(500);
/// How long a write request waits for a rebalance in progress to end.
const REBALANCE_WAIT: Duration = Duration::from_secs(30);
/// First and longest pause before publishing task configs again (Apache's `reconfigureConnectorTasksWithRetry`
/// backs off from 250 ms).
const RECONFIGURE_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(250), Duration::from_secs(10));

/// Wall-clock milliseconds since the epoch (assignor time, session key timestamps).
fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn props_of(config: &ConfigProperties) -> Props {
    config
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
        .collect()
}

fn target_of(state: WireTargetState) -> TargetState {
    match state {
        WireTargetState::Started => TargetState::Started,
        WireTargetState::Paused => TargetState::Paused,
        WireTargetState::Stopped => TargetState::Stopped,
    }
}

fn task_id(id: &WireTaskId) -> ConnectorTaskId {
    ConnectorTaskId::new(id.connector.clone(), id.task)
}

fn wire_task_id(id: &ConnectorTaskId) -> WireTaskId {
    WireTaskId::new(id.connector.clone(), id.task)
}

fn connector_not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

/// What the assignors see of a config snapshot: each connector's live task count.
fn assignor_snapshot(snapshot: &ClusterConfigState) -> ConfigSnapshot {
    ConfigSnapshot {
        offset: snapshot.offset,
        task_counts: snapshot
            .connectors()
            .map(|c| (c.to_owned(), snapshot.tasks(c).len() as u32))
            .collect(),
    }
}

/// This worker's place in the group after the last rebalance.
#[derive(Default)]
struct View {
    member_id: String,
    generation: i32,
    leader_url: Option<String>,
    is_leader: bool,
    /// Between JoinGroup and the end of the assignment's application.
    rebalancing: bool,
    /// The full assignment (merged across incremental rounds).
    assignment: Option<ExtendedAssignment>,
    /// Who runs what, known to the leader.
    leader_state: Option<LeaderState>,
    session_key: Option<SessionKey>,
}

struct Inner {
    worker: Arc<Worker>,
    config: DistributedConfig,
    configs: Arc<ConfigTopicStore>,
    server_info: ServerInfo,
    /// This worker's advertised REST URL (`http://host:port/`).
    url: String,
    view: Mutex<View>,
    /// True between rebalances (the view is complete); requests needing the leader wait for it.
    stable: tokio::sync::watch::Sender<bool>,
    generation: Arc<std::sync::atomic::AtomicI32>,
    rejoin: Notify,
    stop: CancellationToken,
    stopped: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// The distributed herder (`DistributedHerder`): configs, target states and task configs live in the config
/// topic; the `connect` worker group decides which worker runs which connector and task; writes are executed
/// by the group's leader (followers answer [`HerderError::NotLeader`] and the REST layer forwards).
pub struct DistributedHerder {
    inner: Arc<Inner>,
}

/// What the herder needs to start.
pub struct DistributedHerderParts {
    /// The worker that runs this member's connectors and tasks.
    pub worker: Arc<Worker>,
    /// Distributed settings.
    pub config: DistributedConfig,
    /// The config topic, read to its end.
    pub configs: Arc<ConfigTopicStore>,
    /// Events from the config topic after startup.
    pub config_events: mpsc::UnboundedReceiver<ConfigEvent>,
    /// Requests from running connectors.
    pub worker_events: mpsc::UnboundedReceiver<WorkerEvent>,
    /// Group membership, not joined yet.
    pub member: WorkerGroupMember,
    /// `GET /`.
    pub server_info: ServerInfo,
    /// This worker's advertised REST URL.
    pub url: String,
    /// The group generation statuses are written with (shared with the status store).
    pub generation: Arc<std::sync::atomic::AtomicI32>,
}

impl DistributedHerder {
    /// Starts the herder's group loop: join the group, run what is assigned, follow the config topic.
    pub fn start(parts: DistributedHerderParts) -> Arc<Self> {
        let inner = Arc::new(Inner {
            worker: parts.worker,
            config: parts.config,
            configs: parts.configs,
            server_info: parts.server_info,
            url: parts.url,
            view: Mutex::new(View {
                generation: -1,
                ..View::default()
            }),
            stable: tokio::sync::watch::Sender::new(false),
            generation: parts.generation,
            rejoin: Notify::new(),
            stop: CancellationToken::new(),
            stopped: tokio::sync::Mutex::new(None),
        });
        let protocol = inner.config.connect_protocol;
        let assignor: Box<dyn ConnectAssignor + Send> =
            if protocol == ConnectProtocolCompatibility::Eager {
                Box::new(EagerAssignor)
            } else {
                Box::new(IncrementalCooperativeAssignor::new(
                    i32::try_from(inner.config.scheduled_rebalance_max_delay.as_millis())
                        .unwrap_or(i32::MAX),
                ))
            };
        let group = GroupLoop {
            inner: inner.clone(),
            member: parts.member,
            assignor,
            config_events: parts.config_events,
            worker_events: parts.worker_events,
            last_completed_generation: -1,
            rejoin_at: None,
            need_join: true,
            assigned_topology: BTreeMap::new(),
            reconfigure_retries: BTreeMap::new(),
            key_check_not_before: None,
            reconfigure_results: mpsc::unbounded_channel(),
        };
        let handle = tokio::spawn(group.run());
        if let Ok(mut slot) = inner.stopped.try_lock() {
            *slot = Some(handle);
        }
        Arc::new(DistributedHerder { inner })
    }

    /// The worker.
    pub fn worker(&self) -> &Arc<Worker> {
        &self.inner.worker
    }

    /// Leaves the group and stops every connector and task (committing offsets).
    pub async fn stop(&self) {
        self.inner.stop.cancel();
        if let Some(handle) = self.inner.stopped.lock().await.take() {
            let _ = handle.await;
        }
    }

    /// `Err(NotLeader)` unless this worker leads the group.
    /// A request that arrives during a rebalance waits for it to end, as Apache queues requests behind its
    /// herder thread's rebalance.
    async fn require_leader(&self) -> HerderResult<()> {
        let mut stable = self.inner.stable.subscribe();
        let waited = tokio::time::timeout(REBALANCE_WAIT, stable.wait_for(|s| *s)).await;
        let view = self.inner.view.lock();
        if waited.is_err() || view.rebalancing || view.assignment.is_none() {
            return Err(HerderError::RebalanceNeeded(
                "Request cannot be completed because a rebalance is expected".into(),
            ));
        }
        if view.is_leader {
            return Ok(());
        }
        Err(HerderError::NotLeader {
            leader_url: view.leader_url.clone(),
        })
    }

    fn snapshot(&self) -> ClusterConfigState {
        self.inner.configs.snapshot()
    }

    fn connector_info_of(
        &self,
        snapshot: &ClusterConfigState,
        name: &str,
    ) -> HerderResult<ConnectorInfo> {
        let config = snapshot
            .connector_config(name)
            .map(props_of)
            .ok_or_else(|| connector_not_found(name))?;
        Ok(ConnectorInfo {
            name: name.to_owned(),
            connector_type: self.inner.worker.connector_type(&config),
            config,
            tasks: snapshot.tasks(name).iter().map(task_id).collect(),
        })
    }

    fn validate_or_reject(&self, config: &Props) -> HerderResult<()> {
        shared::validate_or_reject(&self.inner.worker, config)
    }

    async fn write<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, causeway_api::ConnectError>>,
    ) -> HerderResult<T> {
        match tokio::time::timeout(WRITE_TIMEOUT, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(HerderError::Internal(format!(
                "Failed to {what}: {}",
                e.message()
            ))),
            Err(_) => Err(HerderError::Internal(format!(
                "Failed to {what}: timed out writing to the config topic"
            ))),
        }
    }

    fn status_info(&self, name: &str, config: Option<&Props>) -> HerderResult<ConnectorStateInfo> {
        shared::connector_status(&self.inner.worker, name, config)
    }
}

/// A connector's task configs as sent to the leader, and how that went.
type PublishOutcome = (String, Result<(), String>);

/// The group loop (Apache's `DistributedHerder.tick`): membership, assignment, config changes.
struct GroupLoop {
    inner: Arc<Inner>,
    member: WorkerGroupMember,
    assignor: Box<dyn ConnectAssignor + Send>,
    config_events: mpsc::UnboundedReceiver<ConfigEvent>,
    worker_events: mpsc::UnboundedReceiver<WorkerEvent>,
    last_completed_generation: i32,
    /// A scheduled rebalance (the assignment's `delay`).
    rejoin_at: Option<Instant>,
    need_join: bool,
    /// Leader only: each connector's task count when the group was last assigned.
    assigned_topology: BTreeMap<String, u32>,
    /// Connectors whose task configs must be published again: when, and the backoff used.
    reconfigure_retries: BTreeMap<String, (Instant, Duration)>,
    /// Earliest next session-key check (after a rotation attempt).
    key_check_not_before: Option<Instant>,
    /// Outcomes of task configs sent to the leader.
    reconfigure_results: (
        mpsc::UnboundedSender<PublishOutcome>,
        mpsc::UnboundedReceiver<PublishOutcome>,
    ),
}

impl GroupLoop {
    async fn run(mut self) {
        let mut status = self.member.status();
        loop {
            if self.inner.stop.is_cancelled() {
                break;
            }
            if self.need_join {
                match self.rebalance().await {
                    Ok(()) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "Rebalance failed; rejoining.");
                        self.need_join = true;
                        tokio::select! {
                            _ = self.inner.stop.cancelled() => break,
                            _ = tokio::time::sleep(REJOIN_BACKOFF) => {}
                        }
                    }
                }
                continue;
            }
            let rejoin_at = self.rejoin_at;
            let retry_at = self.reconfigure_retries.values().map(|(at, _)| *at).min();
            let key_expiry = self.session_key_expiry();
            tokio::select! {
                Some((name, result)) = self.reconfigure_results.1.recv() => self.reconfigured(&name, result),
                _ = async {
                    match key_expiry {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => self.ensure_session_key().await,
                _ = async {
                    match retry_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {
                    let now = Instant::now();
                    let due: Vec<String> = self
                        .reconfigure_retries
                        .iter()
                        .filter(|(_, (at, _))| *at <= now)
                        .map(|(n, _)| n.clone())
                        .collect();
                    for name in due {
                        if let Some(entry) = self.reconfigure_retries.get_mut(&name) {
                            // Keep the backoff; push the deadline out until the outcome is known.
                            entry.0 = now + RECONFIGURE_BACKOFF.1;
                        }
                        self.reconfigure(&name).await;
                    }
                }
                _ = self.inner.stop.cancelled() => break,
                changed = status.changed() => {
                    if changed.is_err() {
                        self.need_join = true;
                        continue;
                    }
                    let s = status.borrow_and_update().clone();
                    match s {
                        GroupStatus::Stable { .. } => {}
                        GroupStatus::CoordinatorUnreachable => {
                            tracing::warn!("Lost contact with the group coordinator; rejoining once it is back.");
                        }
                        other => {
                            tracing::info!(status = ?other, "Rebalance needed.");
                            self.need_join = true;
                        }
                    }
                }
                Some(event) = self.config_events.recv() => self.on_config_event(event).await,
                Some(event) = self.worker_events.recv() => match event {
                    WorkerEvent::ReconfigurationRequested(name) => self.reconfigure(&name).await,
                },
                _ = self.inner.rejoin.notified() => self.need_join = true,
                _ = async {
                    match rejoin_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {
                    self.rejoin_at = None;
                    self.need_join = true;
                }
            }
        }
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        self.inner.worker.stop_all().await;
        if let Err(e) = self.member.leave().await {
            tracing::warn!(error = %e, "Failed to leave the worker group.");
        }
    }

    fn mode(&self) -> ConnectProtocolCompatibility {
        self.inner.config.connect_protocol
    }

    /// One JoinGroup/SyncGroup round and the application of its assignment.
    async fn rebalance(&mut self) -> Result<(), String> {
        self.need_join = false;
        let current = self.inner.view.lock().assignment.clone();
        self.inner.view.lock().rebalancing = true;
        self.inner.stable.send_replace(false);
        let state = ExtendedWorkerState {
            url: self.inner.url.clone(),
            config_offset: self.inner.configs.offset(),
            allocation: current.clone(),
        };
        let protocols = join_group_protocols(self.mode(), &state)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|p| (p.name.to_owned(), Bytes::from(p.metadata)))
            .collect();
        let joined = self
            .member
            .join(protocols)
            .await
            .map_err(|e| e.to_string())?;
        let protocol = ConnectProtocolCompatibility::from_protocol(&joined.protocol_name)
            .map_err(|e| e.to_string())?;
        let mut leader_state = None;
        let assignments: Vec<(String, Bytes)> = if joined.is_leader() {
            if let Err(e) = self.inner.configs.read_to_end().await {
                tracing::warn!(error = %e, "Leader could not catch up with the config topic.");
            }
            let members = joined
                .members
                .iter()
                .map(|m| {
                    decode_metadata(&m.metadata)
                        .map(|state| GroupMember {
                            member_id: m.member_id.clone(),
                            state,
                        })
                        .map_err(|e| format!("Bad metadata from member {}: {e}", m.member_id))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let snapshot = assignor_snapshot(&self.inner.configs.snapshot());
            let now_ms = epoch_ms();
            let context = RebalanceContext {
                leader_id: &joined.member_id,
                protocol: &joined.protocol_name,
                members: &members,
                snapshot: &snapshot,
                last_completed_generation_id: self.last_completed_generation,
                generation_id: joined.generation_id,
                now_ms,
            };
            let configs = self.inner.configs.clone();
            let mut fresh = || assignor_snapshot(&configs.snapshot());
            let result = if protocol == ConnectProtocolCompatibility::Eager {
                EagerAssignor.perform_assignment(&context, &mut fresh)
            } else {
                self.assignor.perform_assignment(&context, &mut fresh)
            }
            .map_err(|e| e.to_string())?;
            self.assigned_topology = result
                .refreshed_snapshot
                .as_ref()
                .unwrap_or(&snapshot)
                .task_counts
                .clone();
            leader_state = result.leader_state.clone();
            result
                .encode()
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|(m, b)| (m, Bytes::from(b)))
                .collect()
        } else {
            Vec::new()
        };
        let own = self
            .member
            .sync(assignments)
            .await
            .map_err(|e| e.to_string())?;
        let assignment = if protocol == ConnectProtocolCompatibility::Eager {
            decode_assignment_v0(&own)
        } else {
            decode_assignment(&own)
        }
        .map_err(|e| format!("Bad assignment: {e}"))?;
        if assignment.failed() {
            tracing::info!(
                leader_offset = assignment.config_offset,
                "Assignment failed because this worker's config is behind the leader's; catching up and rejoining."
            );
            let _ = self.inner.configs.read_to_end().await;
            self.need_join = true;
            return Ok(());
        }
        self.apply(
            assignment,
            current,
            protocol,
            &joined.member_id,
            joined.generation_id,
            leader_state,
        )
        .await;
        Ok(())
    }

    async fn apply(
        &mut self,
        assignment: ExtendedAssignment,
        previous: Option<ExtendedAssignment>,
        protocol: ConnectProtocolCompatibility,
        member_id: &str,
        generation: i32,
        leader_state: Option<LeaderState>,
    ) {
        let worker = self.inner.worker.clone();
        let eager = protocol == ConnectProtocolCompatibility::Eager;
        // Revocations: everything under the eager protocol, the listed items otherwise.
        let (revoked_connectors, revoked_tasks): (Vec<String>, Vec<ConnectorTaskId>) = if eager {
            previous.as_ref().map_or((Vec::new(), Vec::new()), |p| {
                (p.connectors.clone(), p.tasks.iter().map(task_id).collect())
            })
        } else {
            (
                assignment.revoked_connectors.clone(),
                assignment.revoked_tasks.iter().map(task_id).collect(),
            )
        };
        if !revoked_tasks.is_empty() {
            tracing::info!(tasks = ?revoked_tasks, "Stopping revoked tasks.");
            worker.stop_tasks(&revoked_tasks).await;
        }
        for c in &revoked_connectors {
            worker.stop_connector(c).await;
        }
        let full = if eager {
            assignment.clone()
        } else {
            assignment.merged_with_previous(previous.as_ref())
        };
        self.last_completed_generation = generation;
        self.inner
            .generation
            .store(generation, std::sync::atomic::Ordering::Relaxed);
        {
            let mut view = self.inner.view.lock();
            view.member_id = member_id.to_owned();
            view.generation = generation;
            view.leader_url = Some(assignment.leader_url.clone()).filter(|u| !u.is_empty());
            view.is_leader = assignment.leader == member_id;
            view.assignment = Some(full.clone());
            view.leader_state = leader_state;
            view.session_key = self.inner.configs.snapshot().session_key;
        }
        tracing::info!(
            generation,
            leader = %assignment.leader,
            connectors = ?full.connectors,
            tasks = full.tasks.len(),
            delay_ms = assignment.delay,
            "Joined the worker group."
        );
        if assignment.delay > 0 {
            self.rejoin_at =
                Some(Instant::now() + Duration::from_millis(assignment.delay.max(0) as u64));
        }
        // A member that gave something up rejoins at once so the leader can hand it out (KIP-415).
        if !eager && (!revoked_connectors.is_empty() || !revoked_tasks.is_empty()) {
            self.need_join = true;
        }
        // Run what was assigned, with configs at least as new as the leader's when it assigned.
        if let Err(e) = tokio::time::timeout(
            self.inner.config.worker_sync_timeout,
            self.inner.configs.read_to_end(),
        )
        .await
        {
            tracing::warn!(error = %e, "Config topic catch-up timed out; starting with the configs read so far.");
        }
        for c in &full.connectors {
            if !worker.connector_running(c) {
                self.start_connector(c).await;
            }
        }
        let running: BTreeSet<ConnectorTaskId> = full
            .tasks
            .iter()
            .map(task_id)
            .filter(|id| worker.task_ids(&id.connector).contains(id))
            .collect();
        let snapshot = self.inner.configs.snapshot();
        for id in full.tasks.iter().map(task_id) {
            if !running.contains(&id) {
                self.start_task(&snapshot, &id);
            }
        }
        self.inner.view.lock().rebalancing = false;
        self.inner.stable.send_replace(true);
        if self.inner.view.lock().is_leader && protocol == ConnectProtocolCompatibility::Sessioned {
            self.ensure_session_key().await;
        }
    }

    fn assigned_connector(&self, name: &str) -> bool {
        self.inner
            .view
            .lock()
            .assignment
            .as_ref()
            .is_some_and(|a| a.connectors.iter().any(|c| c == name))
    }

    fn assigned_tasks(&self, name: &str) -> Vec<ConnectorTaskId> {
        self.inner
            .view
            .lock()
            .assignment
            .as_ref()
            .map(|a| {
                a.tasks
                    .iter()
                    .filter(|t| t.connector == name)
                    .map(task_id)
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn start_connector(&mut self, name: &str) {
        let snapshot = self.inner.configs.snapshot();
        let Some(config) = snapshot.connector_config(name).map(props_of) else {
            return;
        };
        let target = snapshot
            .target_state(name)
            .map_or(TargetState::Started, target_of);
        if let Err(e) = self
            .inner
            .worker
            .start_connector(name, &config, target)
            .await
        {
            tracing::warn!(connector = %name, error = %e, "Connector failed to start; see its status.");
            return;
        }
        if target == TargetState::Started {
            self.reconfigure(name).await;
        }
    }

    fn start_task(&self, snapshot: &ClusterConfigState, id: &ConnectorTaskId) {
        let (Some(config), Some(task_config)) = (
            snapshot.connector_config(&id.connector).map(props_of),
            snapshot.task_config(&wire_task_id(id)).map(props_of),
        ) else {
            tracing::warn!(task = %id, "No config for an assigned task; it will start once its config is read.");
            return;
        };
        let target = snapshot
            .target_state(&id.connector)
            .map_or(TargetState::Started, target_of);
        if let Err(e) = self
            .inner
            .worker
            .start_task(id.clone(), &config, task_config, target)
        {
            tracing::error!(task = %id, error = %e, "Failed to start task.");
        }
    }

    /// Regenerates the task configs of a connector running here and publishes them if they changed
    /// (`reconfigureConnector`): the leader writes them, a follower sends them to the leader.
    async fn reconfigure(&mut self, name: &str) {
        let worker = self.inner.worker.clone();
        if !worker.connector_running(name) {
            self.reconfigure_retries.remove(name);
            return;
        }
        let snapshot = self.inner.configs.snapshot();
        let Some(config) = snapshot.connector_config(name).map(props_of) else {
            return;
        };
        if snapshot
            .target_state(name)
            .map_or(TargetState::Started, target_of)
            != TargetState::Started
        {
            return;
        }
        let max = config
            .get(TASKS_MAX_CONFIG)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let generated = match worker.connector_task_configs(name, max).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(connector = %name, error = %e, "Failed to generate task configs.");
                worker.connector_failed(name, &e);
                return;
            }
        };
        let current: Vec<Props> = snapshot
            .tasks(name)
            .iter()
            .filter_map(|t| snapshot.task_config(t).map(props_of))
            .collect();
        let applied_with = snapshot.applied_connector_config(name).map(props_of);
        if current == generated && applied_with.as_ref() == Some(&config) {
            self.reconfigure_retries.remove(name);
            return;
        }
        let (is_leader, leader_url, key) = {
            let view = self.inner.view.lock();
            (
                view.is_leader,
                view.leader_url.clone(),
                view.session_key.clone(),
            )
        };
        if is_leader {
            let result = self
                .inner
                .configs
                .put_task_configs(name, &generated)
                .await
                .map_err(|e| e.message().to_owned());
            self.reconfigured(name, result);
        } else if let Some(url) = leader_url {
            // Off the group loop: the leader may be waiting for this worker to rejoin before it answers.
            let results = self.reconfigure_results.0.clone();
            let algorithm = self.inner.config.inter_worker_signature_algorithm.clone();
            let name = name.to_owned();
            tokio::spawn(async move {
                let result = crate::herder::signature::post_task_configs_to_leader(
                    &url,
                    &name,
                    &generated,
                    key.as_ref().map(|k| k.key.as_slice()),
                    &algorithm,
                )
                .await
                .map_err(|e| e.to_string());
                let _ = results.send((name, result));
            });
        } else {
            self.reconfigured(name, Err("no known leader".to_owned()));
        }
    }

    /// Records how publishing task configs went; a failure is retried with backoff.
    fn reconfigured(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.reconfigure_retries.remove(name);
            }
            Err(e) => {
                let backoff = self
                    .reconfigure_retries
                    .get(name)
                    .map_or(RECONFIGURE_BACKOFF.0, |(_, b)| {
                        (*b * 2).min(RECONFIGURE_BACKOFF.1)
                    });
                tracing::warn!(connector = %name, error = %e, retry_in = ?backoff, "Failed to publish task configs; retrying.");
                self.reconfigure_retries
                    .insert(name.to_owned(), (Instant::now() + backoff, backoff));
            }
        }
    }

    /// Leader under `sessioned`: when the current session key expires (`inter.worker.key.ttl.ms`).
    fn session_key_expiry(&self) -> Option<Instant> {
        if self.inner.config.connect_protocol != ConnectProtocolCompatibility::Sessioned
            || !self.inner.view.lock().is_leader
        {
            return None;
        }
        let created = self
            .inner
            .configs
            .snapshot()
            .session_key?
            .creation_timestamp;
        let now = epoch_ms();
        let ttl =
            i64::try_from(self.inner.config.inter_worker_key_ttl.as_millis()).unwrap_or(i64::MAX);
        let left = created.saturating_add(ttl).saturating_sub(now).max(0);
        let expiry = Instant::now() + Duration::from_millis(left as u64);
        // After a failed rotation, try again a little later rather than at once.
        Some(self.key_check_not_before.map_or(expiry, |t| t.max(expiry)))
    }

    /// Leader: (re)writes the session key when there is none or it expired (KIP-507).
    async fn ensure_session_key(&mut self) {
        self.key_check_not_before = Some(Instant::now() + REJOIN_BACKOFF * 10);
        let snapshot = self.inner.configs.snapshot();
        let now = epoch_ms();
        let ttl =
            i64::try_from(self.inner.config.inter_worker_key_ttl.as_millis()).unwrap_or(i64::MAX);
        let fresh = snapshot.session_key.as_ref().is_some_and(|k| {
            k.algorithm == self.inner.config.inter_worker_key_generation_algorithm
                && k.creation_timestamp.saturating_add(ttl) > now
        });
        if fresh {
            return;
        }
        let key = SessionKey {
            key: (0..self.inner.config.session_key_length())
                .map(|_| rand::random::<u8>())
                .collect(),
            algorithm: self
                .inner
                .config
                .inter_worker_key_generation_algorithm
                .clone(),
            creation_timestamp: now,
        };
        if let Err(e) = self.inner.configs.put_session_key(key).await {
            tracing::warn!(error = %e, "Failed to write a new session key.");
        }
    }

    /// Leader: the group must rebalance when connectors or task counts changed since the last assignment.
    fn topology_changed(&self) -> bool {
        if !self.inner.view.lock().is_leader {
            return false;
        }
        assignor_snapshot(&self.inner.configs.snapshot()).task_counts != self.assigned_topology
    }

    async fn on_config_event(&mut self, event: ConfigEvent) {
        let worker = self.inner.worker.clone();
        match event {
            ConfigEvent::ConnectorConfigUpdated(name) => {
                if self.assigned_connector(&name) {
                    worker.stop_connector(&name).await;
                    self.start_connector(&name).await;
                }
            }
            ConfigEvent::ConnectorConfigRemoved(name) => {
                let ids = worker.task_ids(&name);
                worker.stop_tasks(&ids).await;
                worker.stop_connector(&name).await;
                worker.status().remove_connector(&name);
            }
            ConfigEvent::TargetStateChanged(name) => {
                let target = self
                    .inner
                    .configs
                    .snapshot()
                    .target_state(&name)
                    .map_or(TargetState::Started, target_of);
                if self.assigned_connector(&name) {
                    let _ = worker.transition_connector(&name, target).await;
                }
                for id in worker.task_ids(&name) {
                    worker.set_task_target(&id, target);
                }
                if target == TargetState::Started {
                    self.reconfigure(&name).await;
                }
            }
            ConfigEvent::TaskConfigsCommitted { connector, .. } => {
                // Tasks of the connector that run here restart with their new configs.
                let running = worker.task_ids(&connector);
                if !running.is_empty() {
                    worker.stop_tasks(&running).await;
                    let snapshot = self.inner.configs.snapshot();
                    for id in self.assigned_tasks(&connector) {
                        self.start_task(&snapshot, &id);
                    }
                }
            }
            ConfigEvent::SessionKeyUpdated(key) => {
                self.inner.view.lock().session_key = Some(key);
            }
            ConfigEvent::RestartRequested(request) => {
                self.restart(
                    &request.connector,
                    request.only_failed,
                    request.include_tasks,
                )
                .await
            }
            ConfigEvent::LoggerLevelUpdated { .. } | ConfigEvent::Skipped { .. } => {}
        }
        if self.topology_changed() {
            self.need_join = true;
        }
    }

    /// Restarts what this worker runs of a connector (KIP-745 restart request).
    async fn restart(&mut self, name: &str, only_failed: bool, include_tasks: bool) {
        let worker = self.inner.worker.clone();
        let failed = |s: Option<crate::status::Status>| s.is_some_and(|s| s.state == State::Failed);
        if self.assigned_connector(name)
            && (!only_failed || failed(worker.status().connector(name)))
        {
            worker.stop_connector(name).await;
            self.start_connector(name).await;
        }
        if include_tasks {
            let ids: Vec<ConnectorTaskId> = self
                .assigned_tasks(name)
                .into_iter()
                .filter(|id| !only_failed || failed(worker.status().task(id)))
                .collect();
            worker.stop_tasks(&ids).await;
            let snapshot = self.inner.configs.snapshot();
            for id in &ids {
                self.start_task(&snapshot, id);
            }
        }
    }
}

#[async_trait]
impl Herder for DistributedHerder {
    fn server_info(&self) -> ServerInfo {
        self.inner.server_info.clone()
    }

    async fn health(&self) -> HerderResult<WorkerStatus> {
        if self.inner.view.lock().assignment.is_none() {
            return Err(HerderError::Unavailable(
                "Worker is still starting up.".into(),
            ));
        }
        Ok(WorkerStatus::healthy())
    }

    async fn connectors(&self) -> Vec<String> {
        self.snapshot().connectors().map(str::to_owned).collect()
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        self.connector_info_of(&self.snapshot(), name)
    }

    async fn connector_config(&self, name: &str) -> HerderResult<Props> {
        self.snapshot()
            .connector_config(name)
            .map(props_of)
            .ok_or_else(|| connector_not_found(name))
    }

    async fn put_connector_config(
        &self,
        name: &str,
        mut config: Props,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        config
            .entry(NAME_CONFIG.to_owned())
            .or_insert_with(|| name.to_owned());
        self.validate_or_reject(&config)?;
        self.require_leader().await?;
        let exists = self.snapshot().contains(name);
        if exists && !allow_replace {
            return Err(HerderError::Conflict(format!(
                "Connector {name} already exists"
            )));
        }
        let initial = if exists { None } else { initial_state };
        let configs = self.inner.configs.clone();
        self.write(
            "write connector configuration",
            configs.put_connector_config(name, &config, initial),
        )
        .await?;
        let info = self.connector_info_of(&self.snapshot(), name)?;
        Ok(Created {
            created: !exists,
            value: info,
        })
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<ConnectorInfo> {
        let mut merged = self.connector_config(name).await?;
        shared::apply_patch(&mut merged, patch);
        self.put_connector_config(name, merged, true, None)
            .await
            .map(|c| c.value)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        self.require_leader().await?;
        if !self.snapshot().contains(name) {
            return Err(connector_not_found(name));
        }
        let configs = self.inner.configs.clone();
        self.write("delete connector", configs.remove_connector(name))
            .await
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let config = self.snapshot().connector_config(name).map(props_of);
        self.status_info(name, config.as_ref())
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        shared::task_status(&self.inner.worker, id)
    }

    async fn restart_connector(&self, name: &str) -> HerderResult<()> {
        self.require_leader().await?;
        if !self.snapshot().contains(name) {
            return Err(connector_not_found(name));
        }
        let configs = self.inner.configs.clone();
        self.write(
            "write restart request",
            configs.put_restart_request(name, false, false),
        )
        .await
    }

    async fn restart_connector_and_tasks(
        &self,
        request: RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        self.require_leader().await?;
        let name = request.connector.clone();
        let config = self
            .snapshot()
            .connector_config(&name)
            .map(props_of)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown connector: {name}")))?;
        let mut plan = self
            .status_info(&name, Some(&config))
            .map_err(|_| HerderError::NotFound(format!("Status for connector {name} not found")))?;
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
        let configs = self.inner.configs.clone();
        self.write(
            "write restart request",
            configs.put_restart_request(&name, request.only_failed, request.include_tasks),
        )
        .await?;
        Ok(plan)
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        let snapshot = self.snapshot();
        if !snapshot.contains(&id.connector) {
            return Err(connector_not_found(&id.connector));
        }
        let (here, leader_owner) = {
            let view = self.inner.view.lock();
            let here = view.assignment.as_ref().is_some_and(|a| {
                a.tasks
                    .iter()
                    .any(|t| t.connector == id.connector && t.task == id.task)
            });
            let owner = view
                .leader_state
                .as_ref()
                .and_then(|s| s.task_owner_url(&wire_task_id(id)).map(str::to_owned));
            (here, owner)
        };
        if here {
            let (Some(config), Some(task_config)) = (
                snapshot.connector_config(&id.connector).map(props_of),
                snapshot.task_config(&wire_task_id(id)).map(props_of),
            ) else {
                return Err(HerderError::NotFound(format!("Task {id} not found")));
            };
            let target = snapshot
                .target_state(&id.connector)
                .map_or(TargetState::Started, target_of);
            let worker = &self.inner.worker;
            worker.stop_tasks(std::slice::from_ref(id)).await;
            return worker
                .start_task(id.clone(), &config, task_config, target)
                .map_err(|_| HerderError::Internal(format!("Failed to start task: {id}")));
        }
        self.require_leader().await?;
        match leader_owner {
            Some(url) => Err(HerderError::NotLeader {
                leader_url: Some(url),
            }),
            None => Err(HerderError::NotFound(format!("Task {id} not found"))),
        }
    }

    async fn pause_connector(&self, name: &str) -> HerderResult<()> {
        if !self.snapshot().contains(name) {
            return Err(HerderError::NotFound(format!("Unknown connector {name}")));
        }
        let configs = self.inner.configs.clone();
        self.write(
            "pause connector",
            configs.put_target_state(name, TargetState::Paused),
        )
        .await
    }

    async fn resume_connector(&self, name: &str) -> HerderResult<()> {
        if !self.snapshot().contains(name) {
            return Err(HerderError::NotFound(format!("Unknown connector {name}")));
        }
        let configs = self.inner.configs.clone();
        self.write(
            "resume connector",
            configs.put_target_state(name, TargetState::Started),
        )
        .await
    }

    async fn stop_connector(&self, name: &str) -> HerderResult<()> {
        self.require_leader().await?;
        if !self.snapshot().contains(name) {
            return Err(HerderError::NotFound(format!("Unknown connector {name}")));
        }
        let configs = self.inner.configs.clone();
        self.write("stop connector", configs.stop_connector(name))
            .await
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let snapshot = self.snapshot();
        if !snapshot.contains(name) {
            return Err(connector_not_found(name));
        }
        Ok(snapshot
            .tasks(name)
            .iter()
            .map(|t| TaskInfo {
                id: task_id(t),
                config: snapshot.task_config(t).map(props_of).unwrap_or_default(),
            })
            .collect())
    }

    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Props>,
        signature: Option<crate::herder::signature::InternalRequestSignature>,
    ) -> HerderResult<()> {
        // Apache checks the signature before leadership, so a badly signed request is refused anywhere.
        self.check_signature(signature.as_ref())?;
        self.require_leader().await?;
        if !self.snapshot().contains(name) {
            return Err(connector_not_found(name));
        }
        let store = self.inner.configs.clone();
        self.write(
            "write task configurations",
            store.put_task_configs(name, &configs),
        )
        .await
    }

    async fn fence_zombies(
        &self,
        name: &str,
        signature: Option<crate::herder::signature::InternalRequestSignature>,
    ) -> HerderResult<()> {
        self.check_signature(signature.as_ref())?;
        self.require_leader().await?;
        if !self.snapshot().contains(name) {
            return Err(connector_not_found(name));
        }
        // Without exactly-once source support (only `disabled` is accepted) there are no transactional
        // producers to fence, as in Apache with `exactly.once.source.support=disabled`.
        Err(HerderError::BadRequest(format!(
            "Exactly-once source support is not enabled on this cluster; connector {name} has nothing to fence"
        )))
    }

    async fn connector_active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        shared::active_topics(&self.inner.worker, name)
    }

    async fn reset_connector_active_topics(&self, name: &str) -> HerderResult<()> {
        shared::reset_active_topics(&self.inner.worker, name)
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        let config = self.connector_config(name).await?;
        crate::herder::offsets::connector_offsets(&self.inner.worker, name, &config).await
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message> {
        self.require_leader().await?;
        let config = self.require_stopped(name)?;
        crate::herder::offsets::alter_connector_offsets(&self.inner.worker, name, &config, offsets)
            .await
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        self.require_leader().await?;
        let config = self.require_stopped(name)?;
        crate::herder::offsets::reset_connector_offsets(&self.inner.worker, name, &config).await
    }

    fn connector_plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        self.inner.worker.plugins().plugin_infos(connectors_only)
    }

    fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        shared::plugin_config(&self.inner.worker, plugin)
    }

    async fn validate_connector_config(&self, config: Props) -> HerderResult<ConfigInfos> {
        shared::validate(&self.inner.worker, &config)
    }

    fn metrics(&self) -> Option<Arc<crate::metrics::ConnectMetrics>> {
        Some(self.inner.worker.metrics().clone())
    }
}

impl DistributedHerder {
    /// KIP-507: under the `sessioned` protocol, internal requests must carry a valid signature.
    fn check_signature(
        &self,
        signature: Option<&crate::herder::signature::InternalRequestSignature>,
    ) -> HerderResult<()> {
        if self.inner.config.connect_protocol != ConnectProtocolCompatibility::Sessioned {
            return Ok(());
        }
        let key = self.inner.view.lock().session_key.clone();
        crate::herder::signature::check_internal_request(
            signature,
            key.as_ref().map(|k| k.key.as_slice()),
            &self.inner.config.inter_worker_verification_algorithms,
        )
    }

    /// The connector's config, if it is STOPPED with no tasks (offsets may only change then).
    fn require_stopped(&self, name: &str) -> HerderResult<Props> {
        let snapshot = self.snapshot();
        let config = snapshot
            .connector_config(name)
            .map(props_of)
            .ok_or_else(|| connector_not_found(name))?;
        let stopped = snapshot.target_state(name).map(target_of) == Some(TargetState::Stopped)
            && snapshot.tasks(name).is_empty();
        if !stopped {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(config)
    }
}
