//! The config topic store (Apache's `KafkaConfigBackingStore`): reads the config topic whole and follows
//! it through a [`ConfigReader`], reports what changed after startup as [`ConfigEvent`]s, and writes
//! connector configs, task configs, target states, session keys and restart requests with Apache's record
//! sequences, each bounded by 30 s in total.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use causeway_api::{ConnectError, Props};
use causeway_distributed::config_records::{
    self as records, ConfigProperties, ConfigRecord, RestartRequest, SessionKey,
};
use causeway_distributed::config_state::{ClusterConfigState, ConfigEvent, ConfigReader};
use causeway_log::{InternalTopicLog, LogBackend, LogError, TopicRecord};
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::internal_topics::check_config_topic_partitions;
use crate::herder::entities::{ConnectorTaskId, TargetState};

/// `READ_WRITE_TOTAL_TIMEOUT_MS`: the bound on one write sequence, read-backs included.
pub const READ_WRITE_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

/// The runtime's target state as stored.
pub fn target_state_to_record(state: TargetState) -> records::TargetState {
    match state {
        TargetState::Started => records::TargetState::Started,
        TargetState::Paused => records::TargetState::Paused,
        TargetState::Stopped => records::TargetState::Stopped,
    }
}

/// A stored target state as the runtime's.
pub fn target_state_from_record(state: records::TargetState) -> TargetState {
    match state {
        records::TargetState::Started => TargetState::Started,
        records::TargetState::Paused => TargetState::Paused,
        records::TargetState::Stopped => TargetState::Stopped,
    }
}

/// A stored task id as the runtime's.
pub fn task_id_from_record(id: &records::ConnectorTaskId) -> ConnectorTaskId {
    ConnectorTaskId::new(id.connector.clone(), id.task)
}

/// Properties as stored (every value present).
pub fn props_to_record(props: &Props) -> ConfigProperties {
    props
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect()
}

/// Stored properties as the runtime's; null values (never written by Connect) are left out.
pub fn props_from_record(props: &ConfigProperties) -> Props {
    props
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
        .collect()
}

struct ReaderState {
    reader: ConfigReader,
    events: mpsc::UnboundedSender<ConfigEvent>,
}

/// The config topic, read and written as Apache's workers do.
pub struct ConfigTopicStore {
    log: Arc<dyn InternalTopicLog>,
    state: Arc<Mutex<ReaderState>>,
}

/// Which step of a write failed: the message Apache's `ConnectException` carries.
struct Step(&'static str);

impl ConfigTopicStore {
    /// Opens the config topic (which must exist and have one partition), reads it to the end and starts
    /// following it. Events are sent for records read after this returns; what was already in the topic
    /// is in [`ConfigTopicStore::snapshot`].
    ///
    /// # Errors
    /// Apache's error for a config topic with several partitions, or when the topic cannot be read.
    pub async fn open(
        log: &dyn LogBackend,
        topic: &str,
        client_id: &str,
    ) -> Result<(Arc<Self>, mpsc::UnboundedReceiver<ConfigEvent>), ConnectError> {
        if topic.trim().is_empty() {
            return Err(ConnectError::config(
                "Must specify topic for connector configuration.",
            ));
        }
        check_config_topic_partitions(log, topic).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(Mutex::new(ReaderState {
            reader: ConfigReader::new(),
            events: tx,
        }));
        let apply = state.clone();
        let topic_log = log
            .open_internal_topic(
                topic,
                client_id,
                Box::new(move |r: TopicRecord| apply_record(&apply, r)),
            )
            .await
            .map_err(|e| {
                ConnectError::fatal(format!("Failed to read config topic {topic}: {e}"))
            })?;
        state.lock().reader.mark_started();
        tracing::info!(topic, "Started KafkaConfigBackingStore");
        Ok((
            Arc::new(ConfigTopicStore {
                log: topic_log,
                state,
            }),
            rx,
        ))
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        self.log.topic()
    }

    /// A copy of everything read so far.
    pub fn snapshot(&self) -> ClusterConfigState {
        self.state.lock().reader.snapshot().clone()
    }

    /// The offset after the last record read ([`causeway_distributed::config_state::NO_OFFSET`] before
    /// any); what this worker puts in its group metadata.
    pub fn offset(&self) -> i64 {
        self.state.lock().reader.snapshot().offset
    }

    /// Waits until every record written before the call has been read (Apache's `refresh`, without its
    /// timeout: bound it with `tokio::time::timeout`, e.g. with `worker.sync.timeout.ms`).
    ///
    /// # Errors
    /// When the topic cannot be read.
    pub async fn read_to_end(&self) -> Result<(), ConnectError> {
        self.log.read_to_end().await.map_err(|e| {
            tracing::error!(error = %e, "Error trying to read to end of config log");
            ConnectError::fatal("Error trying to read to end of config log")
        })
    }

    /// Writes a connector's config, preceded by its target state when one is given (a create request
    /// with `initial_state`), and waits until it is read back (`putConnectorConfig`).
    ///
    /// # Errors
    /// Apache's "Error writing connector configuration to Kafka".
    pub async fn put_connector_config(
        &self,
        connector: &str,
        properties: &Props,
        initial_target: Option<TargetState>,
    ) -> Result<(), ConnectError> {
        let step = Step("Error writing connector configuration to Kafka");
        self.bounded(&step, async {
            if let Some(state) = initial_target {
                self.send_record(&ConfigRecord::TargetState {
                    connector: connector.to_owned(),
                    state: Some(target_state_to_record(state)),
                })
                .await?;
            }
            self.send_record(&ConfigRecord::ConnectorConfig {
                connector: connector.to_owned(),
                properties: Some(props_to_record(properties)),
            })
            .await?;
            self.log.read_to_end().await
        })
        .await
    }

    /// Deletes a connector: tombstones for `connector-<name>` then `target-state-<name>`, read back
    /// (`removeConnectorConfig`).
    ///
    /// # Errors
    /// Apache's "Error removing connector configuration from Kafka".
    pub async fn remove_connector(&self, connector: &str) -> Result<(), ConnectError> {
        let step = Step("Error removing connector configuration from Kafka");
        self.bounded(&step, async {
            self.send_record(&ConfigRecord::ConnectorConfig {
                connector: connector.to_owned(),
                properties: None,
            })
            .await?;
            self.send_record(&ConfigRecord::TargetState {
                connector: connector.to_owned(),
                state: None,
            })
            .await?;
            self.log.read_to_end().await
        })
        .await
    }

    /// Writes a connector's task configs and the commit that applies them (`putTaskConfigs`): read to the
    /// end, `task-<name>-<i>` records, read to the end (when there are tasks, so they are durable before
    /// the commit), `commit-<name>`, read to the end.
    ///
    /// # Errors
    /// Apache's "Error writing root configuration to Kafka" for the reads and the commit, "Error writing
    /// task configurations to Kafka" for the task records.
    pub async fn put_task_configs(
        &self,
        connector: &str,
        configs: &[Props],
    ) -> Result<(), ConnectError> {
        let deadline = tokio::time::Instant::now() + READ_WRITE_TOTAL_TIMEOUT;
        let root = Step("Error writing root configuration to Kafka");
        let tasks = Step("Error writing task configurations to Kafka");
        self.until(deadline, &root, self.log.read_to_end()).await?;
        let task_count = i32::try_from(configs.len()).map_err(|_| {
            ConnectError::config(format!("Too many task configurations for {connector}"))
        })?;
        self.until(deadline, &tasks, async {
            for (task, config) in (0..task_count).zip(configs) {
                self.send_record(&ConfigRecord::TaskConfig {
                    id: records::ConnectorTaskId::new(connector, task),
                    properties: props_to_record(config),
                })
                .await?;
            }
            Ok(())
        })
        .await?;
        self.until(deadline, &root, async {
            if task_count > 0 {
                self.log.read_to_end().await?;
            }
            self.send_record(&ConfigRecord::TasksCommit {
                connector: connector.to_owned(),
                tasks: task_count,
            })
            .await?;
            self.log.read_to_end().await
        })
        .await
    }

    /// Writes a target state (`putTargetState`): any worker may, and it is not read back.
    ///
    /// # Errors
    /// Apache's "Error writing target state to Kafka".
    pub async fn put_target_state(
        &self,
        connector: &str,
        state: TargetState,
    ) -> Result<(), ConnectError> {
        let step = Step("Error writing target state to Kafka");
        self.bounded(
            &step,
            self.send_record(&ConfigRecord::TargetState {
                connector: connector.to_owned(),
                state: Some(target_state_to_record(state)),
            }),
        )
        .await
    }

    /// Stops a connector as the leader does: an empty task set (`commit-<name>` `{"tasks":0}`), then
    /// target state STOPPED.
    ///
    /// # Errors
    /// As [`ConfigTopicStore::put_task_configs`] and [`ConfigTopicStore::put_target_state`].
    pub async fn stop_connector(&self, connector: &str) -> Result<(), ConnectError> {
        self.put_task_configs(connector, &[]).await?;
        self.put_target_state(connector, TargetState::Stopped).await
    }

    /// Writes a new session key and waits until it is read back (`putSessionKey`).
    ///
    /// # Errors
    /// Apache's "Error writing session key to Kafka".
    pub async fn put_session_key(&self, key: SessionKey) -> Result<(), ConnectError> {
        let step = Step("Error writing session key to Kafka");
        self.bounded(&step, async {
            self.send_record(&ConfigRecord::SessionKey(key)).await?;
            self.log.read_to_end().await
        })
        .await
    }

    /// Writes a restart request and waits until it is read back (`putRestartRequest`).
    ///
    /// # Errors
    /// Apache's "Error writing restart request for {…} to Kafka".
    pub async fn put_restart_request(
        &self,
        connector: &str,
        only_failed: bool,
        include_tasks: bool,
    ) -> Result<(), ConnectError> {
        let text = format!(
            "Error writing restart request for {{connectorName='{connector}', onlyFailed={only_failed}, includeTasks={include_tasks}}} to Kafka"
        );
        let result = tokio::time::timeout(READ_WRITE_TOTAL_TIMEOUT, async {
            self.send_record(&ConfigRecord::Restart(RestartRequest {
                connector: connector.to_owned(),
                only_failed,
                include_tasks,
            }))
            .await?;
            self.log.read_to_end().await
        })
        .await;
        finish(result, &text)
    }

    async fn send_record(&self, record: &ConfigRecord) -> Result<(), LogError> {
        let value = record.value_bytes();
        self.log
            .send(Some(record.key().as_bytes()), value.as_deref())
            .await
            .map(|_| ())
    }

    async fn bounded(
        &self,
        step: &Step,
        work: impl Future<Output = Result<(), LogError>>,
    ) -> Result<(), ConnectError> {
        finish(
            tokio::time::timeout(READ_WRITE_TOTAL_TIMEOUT, work).await,
            step.0,
        )
    }

    async fn until(
        &self,
        deadline: tokio::time::Instant,
        step: &Step,
        work: impl Future<Output = Result<(), LogError>>,
    ) -> Result<(), ConnectError> {
        finish(tokio::time::timeout_at(deadline, work).await, step.0)
    }
}

/// Maps a bounded write's outcome to Apache's exception text; the cause goes to the log, as Apache logs it.
fn finish(
    result: Result<Result<(), LogError>, tokio::time::error::Elapsed>,
    text: &str,
) -> Result<(), ConnectError> {
    let cause = match result {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!(
            "Timed out after {} ms",
            READ_WRITE_TOTAL_TIMEOUT.as_millis()
        ),
    };
    tracing::error!(%cause, "{text}");
    Err(ConnectError::fatal(text))
}

/// The reader thread's callback: applies one record and forwards its events.
fn apply_record(state: &Mutex<ReaderState>, record: TopicRecord) {
    // Keys are read with Java's `StringDeserializer`: malformed UTF-8 becomes replacement characters.
    let key = record
        .key
        .as_deref()
        .map(|k| String::from_utf8_lossy(k).into_owned());
    let mut state = state.lock();
    let events = state
        .reader
        .apply(record.offset, key.as_deref(), record.value.as_deref());
    for event in events {
        match event {
            ConfigEvent::Skipped { key, reason } => {
                tracing::error!(topic = "config", offset = record.offset, %key, "{reason}");
            }
            event => {
                // A closed receiver means the herder is gone; the snapshot still follows the topic.
                let _ = state.events.send(event);
            }
        }
    }
}
