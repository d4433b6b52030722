//! The standalone herder: connector configs in memory, everything runs on this worker
//! (`StandaloneHerder` with a `MemoryConfigBackingStore`).
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use causeway_api::{ConnectError, Props};
use tokio::sync::{Mutex, mpsc};

use super::entities::*;
use super::signature::InternalRequestSignature;
use super::{Created, Herder, HerderError, HerderResult, offsets, shared};
use crate::connector_config::{NAME_CONFIG, TASKS_MAX_CONFIG, TASKS_MAX_ENFORCE_CONFIG};
use crate::worker::{Worker, WorkerEvent};

#[derive(Default)]
struct HerderState {
    configs: BTreeMap<String, Props>,
    targets: HashMap<String, TargetState>,
    task_configs: HashMap<String, Vec<Props>>,
}

/// Runs every connector on the local [`Worker`]; configs live in memory and come from the command line
/// or the REST API.
pub struct StandaloneHerder {
    worker: Arc<Worker>,
    state: Mutex<HerderState>,
    server_info: ServerInfo,
}

/// Apache's wording for pause, resume and stop of an unknown connector.
fn unknown_connector(name: &str) -> HerderError {
    HerderError::NotFound(format!("Unknown connector {name}"))
}

impl HerderState {
    /// `Ok` when the connector exists, else the given not-found error (Apache words it per endpoint).
    fn require(&self, name: &str, not_found: fn(&str) -> HerderError) -> HerderResult<()> {
        if self.configs.contains_key(name) {
            Ok(())
        } else {
            Err(not_found(name))
        }
    }
}

fn connector_not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

fn internal(e: ConnectError) -> HerderError {
    HerderError::Internal(e.message().to_owned())
}

impl StandaloneHerder {
    /// Creates the herder and starts handling requests from connectors (`events`).
    pub fn start(
        worker: Arc<Worker>,
        server_info: ServerInfo,
        mut events: mpsc::UnboundedReceiver<WorkerEvent>,
    ) -> Arc<Self> {
        let herder = Arc::new(StandaloneHerder {
            worker,
            state: Mutex::default(),
            server_info,
        });
        let weak: Weak<StandaloneHerder> = Arc::downgrade(&herder);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let Some(h) = weak.upgrade() else { break };
                match event {
                    WorkerEvent::ReconfigurationRequested(name) => {
                        let mut state = h.state.lock().await;
                        if state.targets.get(&name) == Some(&TargetState::Started) {
                            h.update_connector_tasks(&mut state, &name).await;
                        }
                    }
                }
            }
        });
        herder
    }

    /// The worker.
    pub fn worker(&self) -> &Arc<Worker> {
        &self.worker
    }

    /// Stops every task (committing offsets) and connector: graceful worker shutdown.
    pub async fn stop(&self) {
        let _state = self.state.lock().await;
        self.worker.stop_all().await;
    }

    fn connector_info_locked(
        &self,
        state: &HerderState,
        name: &str,
    ) -> HerderResult<ConnectorInfo> {
        let config = state
            .configs
            .get(name)
            .ok_or_else(|| connector_not_found(name))?;
        let tasks = (0..state.task_configs.get(name).map_or(0, Vec::len))
            .map(|i| ConnectorTaskId::new(name, i as i32))
            .collect();
        Ok(ConnectorInfo {
            name: name.to_owned(),
            config: config.clone(),
            tasks,
            connector_type: self.worker.connector_type(config),
        })
    }

    /// Validates and returns Apache's 400 on errors.
    fn validate_or_reject(&self, config: &Props) -> HerderResult<()> {
        shared::validate_or_reject(&self.worker, config)
    }

    fn tasks_max(config: &Props) -> usize {
        config
            .get(TASKS_MAX_CONFIG)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .max(1)
    }

    /// Stops a connector's tasks and forgets their statuses.
    async fn stop_tasks(&self, state: &mut HerderState, name: &str) {
        let ids = self.worker.task_ids(name);
        self.worker.stop_tasks(&ids).await;
        for id in ids {
            self.worker.status().remove_task(&id);
        }
        if let Some(configs) = state.task_configs.get(name) {
            for i in 0..configs.len() {
                self.worker
                    .status()
                    .remove_task(&ConnectorTaskId::new(name, i as i32));
            }
        }
    }

    fn start_tasks(&self, state: &HerderState, name: &str) {
        let (Some(config), Some(tasks)) = (state.configs.get(name), state.task_configs.get(name))
        else {
            return;
        };
        let target = state
            .targets
            .get(name)
            .copied()
            .unwrap_or(TargetState::Started);
        for (i, tc) in tasks.iter().enumerate() {
            let id = ConnectorTaskId::new(name, i as i32);
            if let Err(e) = self
                .worker
                .start_task(id.clone(), config, tc.clone(), target)
            {
                tracing::error!(task = %id, error = %e, "Failed to start task.");
            }
        }
    }

    /// Regenerates task configs; restarts the tasks if they changed (`updateConnectorTasks`).
    async fn update_connector_tasks(&self, state: &mut HerderState, name: &str) {
        if !self.worker.connector_running(name) {
            return;
        }
        let Some(config) = state.configs.get(name).cloned() else {
            return;
        };
        let max = Self::tasks_max(&config);
        let new_configs = match self.worker.connector_task_configs(name, max).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(connector = %name, error = %e, "Failed to generate task configs.");
                self.worker.connector_failed(name, &e);
                return;
            }
        };
        let enforce = config
            .get(TASKS_MAX_ENFORCE_CONFIG)
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
        if enforce && new_configs.len() > max {
            let e = ConnectError::fatal(format!(
                "The connector {name} has generated {} tasks, which is greater than {max}, the maximum number of tasks it is configured to create. This behaviour should be considered a bug and is disallowed. If necessary, it can be permitted by reconfiguring the connector with '{TASKS_MAX_ENFORCE_CONFIG}' set to false; however, this option will be removed in a future release of Kafka Connect.",
                new_configs.len()
            ));
            self.stop_tasks(state, name).await;
            state.task_configs.remove(name);
            self.worker.connector_failed(name, &e);
            return;
        }
        let running = self.worker.task_ids(name).len();
        if state.task_configs.get(name) == Some(&new_configs) && running == new_configs.len() {
            return;
        }
        self.stop_tasks(state, name).await;
        state.task_configs.insert(name.to_owned(), new_configs);
        self.start_tasks(state, name);
    }

    /// Starts a connector per its target state and, when started, its tasks.
    async fn start_connector(
        &self,
        state: &mut HerderState,
        name: &str,
    ) -> Result<(), ConnectError> {
        let config = state.configs.get(name).cloned().unwrap_or_default();
        let target = state
            .targets
            .get(name)
            .copied()
            .unwrap_or(TargetState::Started);
        self.worker.start_connector(name, &config, target).await?;
        if target == TargetState::Started {
            self.update_connector_tasks(state, name).await;
        } else if target == TargetState::Paused && state.task_configs.contains_key(name) {
            self.start_tasks(state, name);
        }
        Ok(())
    }

    async fn remove_connector(&self, state: &mut HerderState, name: &str) {
        self.stop_tasks(state, name).await;
        self.worker.stop_connector(name).await;
        state.configs.remove(name);
        state.targets.remove(name);
        state.task_configs.remove(name);
        self.worker.status().remove_connector(name);
    }

    fn status_info(&self, state: &HerderState, name: &str) -> HerderResult<ConnectorStateInfo> {
        shared::connector_status(&self.worker, name, state.configs.get(name))
    }

    fn require_stopped(state: &HerderState, name: &str) -> HerderResult<()> {
        state.require(name, connector_not_found)?;
        let stopped = state.targets.get(name) == Some(&TargetState::Stopped)
            && state.task_configs.get(name).is_none_or(Vec::is_empty);
        if !stopped {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Herder for StandaloneHerder {
    fn server_info(&self) -> ServerInfo {
        self.server_info.clone()
    }

    async fn health(&self) -> HerderResult<WorkerStatus> {
        let _guard = self.state.lock().await;
        Ok(WorkerStatus::healthy())
    }

    async fn connectors(&self) -> Vec<String> {
        self.state.lock().await.configs.keys().cloned().collect()
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let state = self.state.lock().await;
        self.connector_info_locked(&state, name)
    }

    async fn connector_config(&self, name: &str) -> HerderResult<Props> {
        let state = self.state.lock().await;
        state
            .configs
            .get(name)
            .cloned()
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
        let mut state = self.state.lock().await;
        let exists = state.configs.contains_key(name);
        if exists && !allow_replace {
            return Err(HerderError::Conflict(format!(
                "Connector {name} already exists"
            )));
        }
        if exists {
            self.stop_tasks(&mut state, name).await;
            self.worker.stop_connector(name).await;
            state.task_configs.remove(name);
        } else {
            state.targets.insert(
                name.to_owned(),
                initial_state.unwrap_or(TargetState::Started),
            );
        }
        state.configs.insert(name.to_owned(), config);
        if let Err(e) = self.start_connector(&mut state, name).await {
            tracing::warn!(connector = %name, error = %e, "Connector stored but failed to start; see its status.");
        }
        let info = self.connector_info_locked(&state, name)?;
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
        let current = {
            let state = self.state.lock().await;
            state
                .configs
                .get(name)
                .cloned()
                .ok_or_else(|| connector_not_found(name))?
        };
        let mut merged = current;
        shared::apply_patch(&mut merged, patch);
        self.put_connector_config(name, merged, true, None)
            .await
            .map(|c| c.value)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        let mut state = self.state.lock().await;
        state.require(name, connector_not_found)?;
        self.remove_connector(&mut state, name).await;
        tracing::info!(connector = %name, "Connector deleted.");
        Ok(())
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let state = self.state.lock().await;
        self.status_info(&state, name)
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        shared::task_status(&self.worker, id)
    }

    async fn restart_connector(&self, name: &str) -> HerderResult<()> {
        let mut state = self.state.lock().await;
        state.require(name, connector_not_found)?;
        self.worker.stop_connector(name).await;
        self.start_connector(&mut state, name)
            .await
            .map_err(internal)
    }

    async fn restart_connector_and_tasks(
        &self,
        request: RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        let name = request.connector.as_str();
        let mut state = self.state.lock().await;
        if !state.configs.contains_key(name) {
            // Apache's StandaloneHerder.restartConnectorAndTasks wording (the legacy restart says
            // "Connector <c> not found").
            return Err(HerderError::NotFound(format!("Unknown connector: {name}")));
        }
        let mut plan = self
            .status_info(&state, name)
            .map_err(|_| HerderError::NotFound(format!("Status for connector {name} not found")))?;
        let restart_connector = !request.only_failed || plan.connector.state == State::Failed;
        if restart_connector {
            plan.connector.state = State::Restarting;
        }
        let mut restart_tasks = Vec::new();
        if request.include_tasks {
            for t in &mut plan.tasks {
                if !request.only_failed || t.state == State::Failed {
                    t.state = State::Restarting;
                    restart_tasks.push(ConnectorTaskId::new(name, t.id));
                }
            }
        }
        if restart_connector {
            self.worker.stop_connector(name).await;
            let config = state.configs.get(name).cloned().unwrap_or_default();
            let target = state
                .targets
                .get(name)
                .copied()
                .unwrap_or(TargetState::Started);
            if let Err(e) = self.worker.start_connector(name, &config, target).await {
                tracing::warn!(connector = %name, error = %e, "Connector failed on restart.");
            }
        }
        if !restart_tasks.is_empty() {
            self.worker.stop_tasks(&restart_tasks).await;
            let config = state.configs.get(name).cloned().unwrap_or_default();
            let target = state
                .targets
                .get(name)
                .copied()
                .unwrap_or(TargetState::Started);
            let task_configs = state.task_configs.get(name).cloned().unwrap_or_default();
            for id in &restart_tasks {
                if let Some(tc) = task_configs.get(id.task as usize)
                    && let Err(e) = self
                        .worker
                        .start_task(id.clone(), &config, tc.clone(), target)
                {
                    tracing::error!(task = %id, error = %e, "Failed to restart task.");
                }
            }
        } else if restart_connector && state.targets.get(name) == Some(&TargetState::Started) {
            self.update_connector_tasks(&mut state, name).await;
        }
        Ok(plan)
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        let state = self.state.lock().await;
        let config = state
            .configs
            .get(&id.connector)
            .ok_or_else(|| connector_not_found(&id.connector))?;
        let task_config = state
            .task_configs
            .get(&id.connector)
            .and_then(|t| t.get(id.task as usize))
            .ok_or_else(|| HerderError::NotFound(format!("Task {id} not found")))?;
        self.worker.stop_tasks(std::slice::from_ref(id)).await;
        let target = state
            .targets
            .get(&id.connector)
            .copied()
            .unwrap_or(TargetState::Started);
        self.worker
            .start_task(id.clone(), config, task_config.clone(), target)
            .map_err(|_| HerderError::Internal(format!("Failed to start task: {id}")))
    }

    async fn pause_connector(&self, name: &str) -> HerderResult<()> {
        let mut state = self.state.lock().await;
        state.require(name, unknown_connector)?;
        state.targets.insert(name.to_owned(), TargetState::Paused);
        let _ = self
            .worker
            .transition_connector(name, TargetState::Paused)
            .await;
        for id in self.worker.task_ids(name) {
            self.worker.set_task_target(&id, TargetState::Paused);
        }
        Ok(())
    }

    async fn resume_connector(&self, name: &str) -> HerderResult<()> {
        let mut state = self.state.lock().await;
        state.require(name, unknown_connector)?;
        state.targets.insert(name.to_owned(), TargetState::Started);
        if self
            .worker
            .transition_connector(name, TargetState::Started)
            .await
            .is_ok()
        {
            for id in self.worker.task_ids(name) {
                self.worker.set_task_target(&id, TargetState::Started);
            }
            self.update_connector_tasks(&mut state, name).await;
        }
        Ok(())
    }

    async fn stop_connector(&self, name: &str) -> HerderResult<()> {
        let mut state = self.state.lock().await;
        state.require(name, unknown_connector)?;
        state.targets.insert(name.to_owned(), TargetState::Stopped);
        self.stop_tasks(&mut state, name).await;
        state.task_configs.insert(name.to_owned(), Vec::new());
        let _ = self
            .worker
            .transition_connector(name, TargetState::Stopped)
            .await;
        Ok(())
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let state = self.state.lock().await;
        state.require(name, connector_not_found)?;
        Ok(state
            .task_configs
            .get(name)
            .map(|tasks| {
                tasks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| TaskInfo {
                        id: ConnectorTaskId::new(name, i as i32),
                        config: c.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn put_task_configs(
        &self,
        _name: &str,
        _configs: Vec<Props>,
        _signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()> {
        Err(HerderError::Internal(
            "Kafka Connect in standalone mode does not support externally setting task configurations.".into(),
        ))
    }

    async fn fence_zombies(
        &self,
        _name: &str,
        _signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()> {
        Err(HerderError::Internal(
            "Kafka Connect in standalone mode does not support exactly-once source connectors."
                .into(),
        ))
    }

    async fn connector_active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        shared::active_topics(&self.worker, name)
    }

    async fn reset_connector_active_topics(&self, name: &str) -> HerderResult<()> {
        shared::reset_active_topics(&self.worker, name)
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        let config = {
            let state = self.state.lock().await;
            state
                .configs
                .get(name)
                .cloned()
                .ok_or_else(|| connector_not_found(name))?
        };
        offsets::connector_offsets(&self.worker, name, &config).await
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message> {
        let state = self.state.lock().await;
        Self::require_stopped(&state, name)?;
        let config = state.configs.get(name).cloned().unwrap_or_default();
        offsets::alter_connector_offsets(&self.worker, name, &config, offsets).await
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        let state = self.state.lock().await;
        Self::require_stopped(&state, name)?;
        let config = state.configs.get(name).cloned().unwrap_or_default();
        offsets::reset_connector_offsets(&self.worker, name, &config).await
    }

    fn connector_plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        self.worker.plugins().plugin_infos(connectors_only)
    }

    fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        shared::plugin_config(&self.worker, plugin)
    }

    async fn validate_connector_config(&self, config: Props) -> HerderResult<ConfigInfos> {
        shared::validate(&self.worker, &config)
    }

    fn metrics(&self) -> Option<Arc<crate::metrics::ConnectMetrics>> {
        Some(self.worker.metrics().clone())
    }
}
