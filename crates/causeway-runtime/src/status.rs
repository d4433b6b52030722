//! Connector and task status (`StatusBackingStore`) and active-topic tracking (KIP-558), kept in memory.
//!
//! A standalone worker uses it alone. A distributed worker attaches a [`StatusPublisher`] that sends every
//! local change to the status topic (Apache's `put`/`putSafe` rules, stamped with the group generation) and
//! feeds records read back from the topic in through the `apply_*` methods.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::herder::entities::{ConnectorTaskId, State};

/// The status of one connector or task instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Runtime state.
    pub state: State,
    /// Worker that reported it.
    pub worker_id: String,
    /// Failure trace, for FAILED.
    pub trace: Option<String>,
}

/// A local status change for the status topic. `None` statuses are deletions (tombstones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    /// A connector's status, or its deletion.
    Connector {
        /// Connector name.
        name: String,
        /// The status, or `None` for DESTROYED.
        status: Option<Status>,
        /// The group generation it was written in.
        generation: i32,
    },
    /// A task's status, or its deletion.
    Task {
        /// Task id.
        id: ConnectorTaskId,
        /// The status, or `None` for DESTROYED.
        status: Option<Status>,
        /// The group generation it was written in.
        generation: i32,
    },
    /// A topic a connector's task used first (KIP-558).
    TopicUsed {
        /// Connector name.
        connector: String,
        /// Topic name.
        topic: String,
        /// The task that used it.
        task: i32,
        /// When, ms since the epoch.
        discover_timestamp: i64,
    },
    /// A connector's active topic was reset.
    TopicReset {
        /// Connector name.
        connector: String,
        /// Topic name.
        topic: String,
    },
}

/// Receives a [`StatusStore`]'s local changes (the status topic's writer in distributed mode).
pub trait StatusPublisher: Send + Sync {
    /// The worker-group generation to stamp on a local write now.
    fn generation(&self) -> i32;

    /// Takes one change. Called with the store's lock held, so changes arrive in the order they were made:
    /// it must only queue, never block or do I/O.
    fn publish(&self, change: StatusChange);
}

/// In-memory status store.
#[derive(Default)]
pub struct StatusStore {
    inner: Mutex<Inner>,
}

/// A status with the group generation it was written in (0 without a publisher).
#[derive(Debug, Clone)]
struct Entry {
    status: Status,
    generation: i32,
}

#[derive(Default)]
struct Inner {
    connectors: BTreeMap<String, Entry>,
    tasks: BTreeMap<ConnectorTaskId, Entry>,
    topics: BTreeMap<String, BTreeSet<String>>,
    publisher: Option<Arc<dyn StatusPublisher>>,
}

/// Apache's `putSafe` test (`CacheEntry.canWriteSafely`): UNASSIGNED and FAILED may only replace a status of
/// the same worker or of an older or equal generation; other states always write.
fn may_write(cached: Option<&Entry>, status: &Status, generation: i32) -> bool {
    let safe_write = matches!(status.state, State::Unassigned | State::Failed);
    !safe_write
        || cached
            .is_none_or(|c| c.status.worker_id == status.worker_id || c.generation <= generation)
}

impl StatusStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches the publisher that takes every later local change.
    pub fn set_publisher(&self, publisher: Arc<dyn StatusPublisher>) {
        self.inner.lock().publisher = Some(publisher);
    }

    /// Detaches the publisher; later changes stay local.
    pub fn clear_publisher(&self) {
        self.inner.lock().publisher = None;
    }

    /// Records a connector's status. With a publisher, UNASSIGNED and FAILED follow Apache's `putSafe`:
    /// they are dropped when a newer generation's status of another worker is cached.
    pub fn put_connector(&self, name: &str, status: Status) {
        let mut inner = self.inner.lock();
        let Some(publisher) = inner.publisher.clone() else {
            inner.connectors.insert(
                name.to_owned(),
                Entry {
                    status,
                    generation: 0,
                },
            );
            return;
        };
        let generation = publisher.generation();
        if !may_write(inner.connectors.get(name), &status, generation) {
            return;
        }
        inner.connectors.insert(
            name.to_owned(),
            Entry {
                status: status.clone(),
                generation,
            },
        );
        publisher.publish(StatusChange::Connector {
            name: name.to_owned(),
            status: Some(status),
            generation,
        });
    }

    /// Records a task's status; with a publisher, as [`StatusStore::put_connector`].
    pub fn put_task(&self, id: &ConnectorTaskId, status: Status) {
        let mut inner = self.inner.lock();
        let Some(publisher) = inner.publisher.clone() else {
            inner.tasks.insert(
                id.clone(),
                Entry {
                    status,
                    generation: 0,
                },
            );
            return;
        };
        let generation = publisher.generation();
        if !may_write(inner.tasks.get(id), &status, generation) {
            return;
        }
        inner.tasks.insert(
            id.clone(),
            Entry {
                status: status.clone(),
                generation,
            },
        );
        publisher.publish(StatusChange::Task {
            id: id.clone(),
            status: Some(status),
            generation,
        });
    }

    /// A connector's status.
    pub fn connector(&self, name: &str) -> Option<Status> {
        self.inner
            .lock()
            .connectors
            .get(name)
            .map(|e| e.status.clone())
    }

    /// A connector's status and the generation it was written in.
    pub fn connector_with_generation(&self, name: &str) -> Option<(Status, i32)> {
        self.inner
            .lock()
            .connectors
            .get(name)
            .map(|e| (e.status.clone(), e.generation))
    }

    /// A task's status.
    pub fn task(&self, id: &ConnectorTaskId) -> Option<Status> {
        self.inner.lock().tasks.get(id).map(|e| e.status.clone())
    }

    /// A task's status and the generation it was written in.
    pub fn task_with_generation(&self, id: &ConnectorTaskId) -> Option<(Status, i32)> {
        self.inner
            .lock()
            .tasks
            .get(id)
            .map(|e| (e.status.clone(), e.generation))
    }

    /// Every connector with a status, sorted.
    pub fn connector_names(&self) -> Vec<String> {
        self.inner.lock().connectors.keys().cloned().collect()
    }

    /// All task statuses of a connector, sorted by task id.
    pub fn tasks_of(&self, connector: &str) -> Vec<(i32, Status)> {
        self.inner
            .lock()
            .tasks
            .iter()
            .filter(|(id, _)| id.connector == connector)
            .map(|(id, e)| (id.task, e.status.clone()))
            .collect()
    }

    /// Forgets a task; with a publisher, its status is deleted for every worker (Apache's DESTROYED).
    pub fn remove_task(&self, id: &ConnectorTaskId) {
        let mut inner = self.inner.lock();
        inner.tasks.remove(id);
        if let Some(publisher) = &inner.publisher {
            publisher.publish(StatusChange::Task {
                id: id.clone(),
                status: None,
                generation: publisher.generation(),
            });
        }
    }

    /// Forgets a connector, its tasks and its topics; with a publisher, the task statuses and then the
    /// connector's are deleted for every worker (Apache's `onDeletion`). Topic records stay in the topic, as
    /// in Apache.
    pub fn remove_connector(&self, name: &str) {
        let mut inner = self.inner.lock();
        inner.connectors.remove(name);
        let tasks: Vec<ConnectorTaskId> = inner
            .tasks
            .keys()
            .filter(|id| id.connector == name)
            .cloned()
            .collect();
        inner.tasks.retain(|id, _| id.connector != name);
        inner.topics.remove(name);
        if let Some(publisher) = &inner.publisher {
            let generation = publisher.generation();
            for id in tasks {
                publisher.publish(StatusChange::Task {
                    id,
                    status: None,
                    generation,
                });
            }
            publisher.publish(StatusChange::Connector {
                name: name.to_owned(),
                status: None,
                generation,
            });
        }
    }

    /// Records that a task used a topic; returns true if it is new to the connector, and then, with a
    /// publisher, publishes it (Apache writes a topic record only for the first task to use the topic).
    pub fn add_task_topic(&self, id: &ConnectorTaskId, topic: &str) -> bool {
        let mut inner = self.inner.lock();
        let set = inner.topics.entry(id.connector.clone()).or_default();
        if !set.insert(topic.to_owned()) {
            return false;
        }
        if let Some(publisher) = &inner.publisher {
            let discover_timestamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            publisher.publish(StatusChange::TopicUsed {
                connector: id.connector.clone(),
                topic: topic.to_owned(),
                task: id.task,
                discover_timestamp,
            });
        }
        true
    }

    /// The topics a connector used, sorted.
    pub fn topics(&self, connector: &str) -> Vec<String> {
        self.inner
            .lock()
            .topics
            .get(connector)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets a connector's topics; with a publisher, each is deleted for every worker.
    pub fn reset_topics(&self, connector: &str) {
        let mut inner = self.inner.lock();
        let topics = inner.topics.remove(connector).unwrap_or_default();
        if let Some(publisher) = &inner.publisher {
            for topic in topics {
                publisher.publish(StatusChange::TopicReset {
                    connector: connector.to_owned(),
                    topic,
                });
            }
        }
    }

    /// Applies a connector status read from the status topic (any worker's): it replaces the cached one;
    /// `None` (a tombstone) removes the connector and its task statuses. Never published.
    pub fn apply_connector_record(&self, name: &str, record: Option<(Status, i32)>) {
        let mut inner = self.inner.lock();
        match record {
            Some((status, generation)) => {
                inner
                    .connectors
                    .insert(name.to_owned(), Entry { status, generation });
            }
            None => {
                inner.connectors.remove(name);
                inner.tasks.retain(|id, _| id.connector != name);
            }
        }
    }

    /// Applies a task status read from the status topic: it replaces the cached one, except that an
    /// UNASSIGNED does not replace a RUNNING of the same or a newer generation (Apache's reader); `None`
    /// removes the task. Never published.
    pub fn apply_task_record(&self, id: &ConnectorTaskId, record: Option<(Status, i32)>) {
        let mut inner = self.inner.lock();
        match record {
            Some((status, generation)) => {
                let stale = status.state == State::Unassigned
                    && inner.tasks.get(id).is_some_and(|c| {
                        c.status.state == State::Running && c.generation >= generation
                    });
                if !stale {
                    inner.tasks.insert(id.clone(), Entry { status, generation });
                }
            }
            None => {
                inner.tasks.remove(id);
            }
        }
    }

    /// Applies an active-topic record read from the status topic: `false` (a tombstone) removes it. Never
    /// published.
    pub fn apply_topic_record(&self, connector: &str, topic: &str, present: bool) {
        let mut inner = self.inner.lock();
        if present {
            inner
                .topics
                .entry(connector.to_owned())
                .or_default()
                .insert(topic.to_owned());
        } else if let Some(set) = inner.topics.get_mut(connector) {
            set.remove(topic);
            if set.is_empty() {
                inner.topics.remove(connector);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI32, Ordering};

    use super::*;

    #[derive(Default)]
    struct Recorder {
        generation: AtomicI32,
        changes: Mutex<Vec<StatusChange>>,
    }

    impl StatusPublisher for Recorder {
        fn generation(&self) -> i32 {
            self.generation.load(Ordering::SeqCst)
        }
        fn publish(&self, change: StatusChange) {
            self.changes.lock().push(change);
        }
    }

    fn status(state: State, worker: &str) -> Status {
        Status {
            state,
            worker_id: worker.into(),
            trace: None,
        }
    }

    #[test]
    fn without_publisher_every_put_applies() {
        let store = StatusStore::new();
        store.put_connector("c", status(State::Running, "w2"));
        store.put_connector("c", status(State::Unassigned, "w1"));
        assert_eq!(store.connector("c"), Some(status(State::Unassigned, "w1")));
    }

    #[test]
    fn publisher_gets_changes_with_put_safe_rules() {
        let store = StatusStore::new();
        let recorder = Arc::new(Recorder::default());
        recorder.generation.store(4, Ordering::SeqCst);
        store.set_publisher(recorder.clone());
        let id = ConnectorTaskId::new("c", 0);

        // Another worker's RUNNING at generation 5 was read from the topic.
        store.apply_task_record(&id, Some((status(State::Running, "w2"), 5)));
        // An UNASSIGNED of generation 4 from this worker is not safe to write.
        store.put_task(&id, status(State::Unassigned, "w1"));
        assert_eq!(store.task(&id), Some(status(State::Running, "w2")));
        assert!(recorder.changes.lock().is_empty());
        // RUNNING always writes.
        store.put_task(&id, status(State::Running, "w1"));
        assert_eq!(
            store.task_with_generation(&id),
            Some((status(State::Running, "w1"), 4))
        );
        // Now the cached one is ours: FAILED writes.
        store.put_task(&id, status(State::Failed, "w1"));
        assert_eq!(store.task(&id).map(|s| s.state), Some(State::Failed));

        store.remove_connector("c");
        let changes = recorder.changes.lock().clone();
        assert_eq!(changes.len(), 4, "{changes:?}");
        assert!(matches!(
            &changes[2],
            StatusChange::Task {
                status: None,
                generation: 4,
                ..
            }
        ));
        assert!(matches!(
            &changes[3],
            StatusChange::Connector { status: None, .. }
        ));
    }

    #[test]
    fn reader_keeps_running_over_stale_unassigned() {
        let store = StatusStore::new();
        let id = ConnectorTaskId::new("c", 1);
        store.apply_task_record(&id, Some((status(State::Running, "w2"), 7)));
        store.apply_task_record(&id, Some((status(State::Unassigned, "w1"), 7)));
        assert_eq!(store.task(&id).map(|s| s.state), Some(State::Running));
        store.apply_task_record(&id, Some((status(State::Unassigned, "w1"), 8)));
        assert_eq!(store.task(&id).map(|s| s.state), Some(State::Unassigned));
        // Connector records always overwrite; a connector tombstone drops its tasks.
        store.apply_connector_record("c", Some((status(State::Running, "w1"), 1)));
        store.apply_connector_record("c", None);
        assert_eq!(store.connector("c"), None);
        assert_eq!(store.task(&id), None);
    }

    #[test]
    fn topics_are_published_once_and_reset() {
        let store = StatusStore::new();
        let recorder = Arc::new(Recorder::default());
        store.set_publisher(recorder.clone());
        let id = ConnectorTaskId::new("c", 2);
        assert!(store.add_task_topic(&id, "t"));
        assert!(!store.add_task_topic(&ConnectorTaskId::new("c", 0), "t"));
        store.reset_topics("c");
        assert!(store.topics("c").is_empty());
        let changes = recorder.changes.lock().clone();
        assert!(matches!(
            &changes[..],
            [
                StatusChange::TopicUsed { task: 2, .. },
                StatusChange::TopicReset { .. }
            ]
        ));
        store.apply_topic_record("c", "u", true);
        assert_eq!(store.topics("c"), vec!["u"]);
        store.apply_topic_record("c", "u", false);
        assert!(store.topics("c").is_empty());
    }
}
