//! The status topic store (Apache's `KafkaStatusBackingStore`): backs the worker's in-memory
//! [`StatusStore`] with the status topic. Local changes are queued by a [`StatusPublisher`] and written in
//! order by one writer task, stamped with the worker-group generation; records read back from the topic,
//! whichever worker wrote them, update the [`StatusStore`] with Apache's reader rules.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Duration;

use causeway_api::ConnectError;
use causeway_distributed::status_records::{StatusRecord, StatusState, StatusValue, TopicStatus};
use causeway_log::{InternalTopicLog, LogBackend, TopicRecord};
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::herder::entities::{ConnectorTaskId, State};
use crate::status::{Status, StatusChange, StatusPublisher, StatusStore};

/// Pause before a retriable write failure is retried.
const RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// A runtime state as stored.
fn state_to_record(state: State) -> StatusState {
    match state {
        State::Unassigned => StatusState::Unassigned,
        State::Running => StatusState::Running,
        State::Paused => StatusState::Paused,
        State::Stopped => StatusState::Stopped,
        State::Failed => StatusState::Failed,
        State::Restarting => StatusState::Restarting,
    }
}

/// A stored status as the runtime's; `None` for DESTROYED, which only a tombstone should carry.
fn status_from_record(value: StatusValue) -> Option<(Status, i32)> {
    let state = match value.state {
        StatusState::Unassigned => State::Unassigned,
        StatusState::Running => State::Running,
        StatusState::Paused => State::Paused,
        StatusState::Stopped => State::Stopped,
        StatusState::Failed => State::Failed,
        StatusState::Restarting => State::Restarting,
        StatusState::Destroyed => return None,
    };
    Some((
        Status {
            state,
            // Apache's reader accepts a missing worker id.
            worker_id: value.worker_id.unwrap_or_default(),
            trace: value.trace,
        },
        value.generation,
    ))
}

enum Command {
    Write(Write),
    Flush(oneshot::Sender<()>),
    Stop,
}

struct Write {
    key: String,
    value: Option<Vec<u8>>,
    sequence: u64,
    /// The generation a connector or task status was written in; topic records have none.
    generation: Option<i32>,
}

/// Turns [`StatusChange`]s into status-topic records for the writer task.
struct TopicPublisher {
    generation: Arc<AtomicI32>,
    commands: mpsc::UnboundedSender<Command>,
    next_sequence: AtomicU64,
    /// The newest sequence queued per key: a retry of an older write is abandoned.
    latest: Mutex<HashMap<String, u64>>,
}

impl TopicPublisher {
    fn queue(&self, key: String, value: Option<Vec<u8>>, generation: Option<i32>) {
        let sequence = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        self.latest.lock().insert(key.clone(), sequence);
        let _ = self.commands.send(Command::Write(Write {
            key,
            value,
            sequence,
            generation,
        }));
    }

    /// Whether a failed write should still be retried: no newer write of the key was queued and the
    /// worker is still in the generation it was written in.
    fn still_current(&self, write: &Write) -> bool {
        self.latest.lock().get(&write.key) == Some(&write.sequence)
            && write
                .generation
                .is_none_or(|g| g == self.generation.load(Ordering::SeqCst))
    }

    fn status_record(&self, record: StatusRecord, generation: i32) {
        let key = record.key();
        match record.value_bytes() {
            Ok(value) => self.queue(key, value, Some(generation)),
            Err(e) => tracing::error!(%key, error = %e, "Failed to write status update"),
        }
    }
}

impl StatusPublisher for TopicPublisher {
    fn generation(&self) -> i32 {
        self.generation.load(Ordering::SeqCst)
    }

    fn publish(&self, change: StatusChange) {
        let value = |status: Option<Status>, generation: i32| {
            status.map(|s| {
                StatusValue::new(state_to_record(s.state), s.worker_id, generation, s.trace)
            })
        };
        match change {
            StatusChange::Connector {
                name,
                status,
                generation,
            } => self.status_record(
                StatusRecord::Connector {
                    connector: name,
                    status: value(status, generation),
                },
                generation,
            ),
            StatusChange::Task {
                id,
                status,
                generation,
            } => self.status_record(
                StatusRecord::Task {
                    id: causeway_distributed::config_records::ConnectorTaskId::new(
                        id.connector,
                        id.task,
                    ),
                    status: value(status, generation),
                },
                generation,
            ),
            StatusChange::TopicUsed {
                connector,
                topic,
                task,
                discover_timestamp,
            } => {
                let status = TopicStatus {
                    topic,
                    connector,
                    task,
                    discover_timestamp,
                };
                self.queue(status.key(), Some(status.to_value_bytes()), None);
            }
            StatusChange::TopicReset { connector, topic } => {
                let record = StatusRecord::Topic {
                    topic,
                    connector,
                    status: None,
                };
                self.queue(record.key(), None, None);
            }
        }
    }
}

/// The status topic behind a worker's [`StatusStore`].
pub struct StatusTopicStore {
    log: Arc<dyn InternalTopicLog>,
    status: Arc<StatusStore>,
    publisher: Arc<TopicPublisher>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl StatusTopicStore {
    /// Opens the status topic (which must exist), reads it to the end into `status`, then attaches itself
    /// as `status`'s publisher: later local changes are written to the topic, stamped with `generation`
    /// (the worker-group generation, kept current by the herder).
    ///
    /// # Errors
    /// When the topic cannot be read.
    pub async fn open(
        log: &dyn LogBackend,
        topic: &str,
        client_id: &str,
        status: Arc<StatusStore>,
        generation: Arc<AtomicI32>,
    ) -> Result<Arc<Self>, ConnectError> {
        if topic.trim().is_empty() {
            return Err(ConnectError::config(
                "Must specify topic for connector status.",
            ));
        }
        let apply = status.clone();
        let topic_log = log
            .open_internal_topic(
                topic,
                client_id,
                Box::new(move |r: TopicRecord| apply_record(&apply, r)),
            )
            .await
            .map_err(|e| {
                ConnectError::fatal(format!("Failed to read status topic {topic}: {e}"))
            })?;
        let (tx, rx) = mpsc::unbounded_channel();
        let publisher = Arc::new(TopicPublisher {
            generation,
            commands: tx,
            next_sequence: AtomicU64::new(0),
            latest: Mutex::new(HashMap::new()),
        });
        let writer = tokio::spawn(run_writer(topic_log.clone(), rx, publisher.clone()));
        status.set_publisher(publisher.clone());
        Ok(Arc::new(StatusTopicStore {
            log: topic_log,
            status,
            publisher,
            writer: Mutex::new(Some(writer)),
        }))
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        self.log.topic()
    }

    /// The status store this topic backs.
    pub fn status(&self) -> &Arc<StatusStore> {
        &self.status
    }

    /// Waits until every status record written before the call has been read back.
    ///
    /// # Errors
    /// When the topic cannot be read.
    pub async fn read_to_end(&self) -> Result<(), ConnectError> {
        self.log.read_to_end().await.map_err(|e| {
            ConnectError::fatal(format!(
                "Failed to read to the end of status topic {}: {e}",
                self.log.topic()
            ))
        })
    }

    /// Waits until every change queued before the call has been written (or given up on).
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.publisher.commands.send(Command::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Detaches from the status store, writes what is queued and stops the writer.
    pub async fn stop(&self) {
        self.status.clear_publisher();
        self.flush().await;
        let _ = self.publisher.commands.send(Command::Stop);
        let writer = self.writer.lock().take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
    }
}

impl Drop for StatusTopicStore {
    fn drop(&mut self) {
        if self.writer.get_mut().is_some() {
            self.status.clear_publisher();
            let _ = self.publisher.commands.send(Command::Stop);
        }
    }
}

/// Writes queued records one at a time, in order; a retriable failure is retried while still current
/// (Apache's send callback), anything else is logged.
async fn run_writer(
    log: Arc<dyn InternalTopicLog>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    publisher: Arc<TopicPublisher>,
) {
    while let Some(command) = commands.recv().await {
        let write = match command {
            Command::Write(write) => write,
            Command::Flush(reply) => {
                let _ = reply.send(());
                continue;
            }
            Command::Stop => break,
        };
        loop {
            match log
                .send(Some(write.key.as_bytes()), write.value.as_deref())
                .await
            {
                Ok(_) => break,
                Err(e) if e.is_retriable() && publisher.still_current(&write) => {
                    tracing::debug!(key = %write.key, error = %e, "Retrying status update.");
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
                Err(e) => {
                    tracing::error!(key = %write.key, error = %e, "Failed to write status update");
                    break;
                }
            }
        }
    }
}

/// The reader thread's callback (`KafkaStatusBackingStore.read`).
fn apply_record(status: &StatusStore, record: TopicRecord) {
    let Some(key) = record.key.as_deref() else {
        tracing::warn!(
            offset = record.offset,
            "Discarding record with invalid key null"
        );
        return;
    };
    let key = String::from_utf8_lossy(key);
    let decoded = match StatusRecord::decode(&key, record.value.as_deref()) {
        Ok(decoded) => decoded,
        Err(e) => {
            tracing::warn!(%key, "{e}");
            return;
        }
    };
    match decoded {
        StatusRecord::Connector {
            connector,
            status: value,
        } => {
            status.apply_connector_record(&connector, value.and_then(status_from_record));
        }
        StatusRecord::Task { id, status: value } => {
            let id = ConnectorTaskId::new(id.connector, id.task);
            status.apply_task_record(&id, value.and_then(status_from_record));
        }
        StatusRecord::Topic {
            topic,
            connector,
            status: value,
        } => status.apply_topic_record(&connector, &topic, value.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, value: Option<&[u8]>) -> TopicRecord {
        TopicRecord {
            partition: 0,
            offset: 0,
            key: Some(key.as_bytes().to_vec()),
            value: value.map(<[u8]>::to_vec),
            timestamp: None,
        }
    }

    #[test]
    fn records_update_the_status_store() {
        let store = StatusStore::new();
        apply_record(
            &store,
            record(
                "status-connector-c",
                Some(br#"{"state":"RUNNING","trace":null,"worker_id":"10.0.0.5:8083","generation":7}"#),
            ),
        );
        assert_eq!(
            store.connector_with_generation("c"),
            Some((
                Status {
                    state: State::Running,
                    worker_id: "10.0.0.5:8083".into(),
                    trace: None
                },
                7
            ))
        );
        let id = ConnectorTaskId::new("my-conn", 3);
        apply_record(
            &store,
            record(
                "status-task-my-conn-3",
                Some(br#"{"state":"FAILED","trace":"boom","worker_id":"w","generation":2}"#),
            ),
        );
        assert_eq!(store.task(&id).and_then(|s| s.trace), Some("boom".into()));
        apply_record(&store, record("status-task-my-conn-3", None));
        assert_eq!(store.task(&id), None);
        apply_record(
            &store,
            record(
                "status-topic-t1:connector-c",
                Some(br#"{"topic":{"name":"t1","connector":"c","task":0,"discoverTimestamp":5}}"#),
            ),
        );
        assert_eq!(store.topics("c"), vec!["t1"]);
        // Malformed values and keys are skipped.
        apply_record(&store, record("status-connector-c", Some(b"{")));
        apply_record(&store, record("bogus", Some(b"{}")));
        assert_eq!(store.connector("c").map(|s| s.state), Some(State::Running));
        apply_record(&store, record("status-connector-c", None));
        assert_eq!(store.connector("c"), None);
    }
}
