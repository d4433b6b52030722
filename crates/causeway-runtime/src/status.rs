//! Connector and task status (`StatusBackingStore`) and active-topic tracking (KIP-558), kept in memory
//! for a standalone worker.
use std::collections::{BTreeMap, BTreeSet};

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

/// In-memory status store.
#[derive(Default)]
pub struct StatusStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    connectors: BTreeMap<String, Status>,
    tasks: BTreeMap<ConnectorTaskId, Status>,
    topics: BTreeMap<String, BTreeSet<String>>,
}

impl StatusStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a connector's status.
    pub fn put_connector(&self, name: &str, status: Status) {
        self.inner.lock().connectors.insert(name.to_owned(), status);
    }

    /// Records a task's status.
    pub fn put_task(&self, id: &ConnectorTaskId, status: Status) {
        self.inner.lock().tasks.insert(id.clone(), status);
    }

    /// A connector's status.
    pub fn connector(&self, name: &str) -> Option<Status> {
        self.inner.lock().connectors.get(name).cloned()
    }

    /// A task's status.
    pub fn task(&self, id: &ConnectorTaskId) -> Option<Status> {
        self.inner.lock().tasks.get(id).cloned()
    }

    /// All task statuses of a connector, sorted by task id.
    pub fn tasks_of(&self, connector: &str) -> Vec<(i32, Status)> {
        self.inner
            .lock()
            .tasks
            .iter()
            .filter(|(id, _)| id.connector == connector)
            .map(|(id, s)| (id.task, s.clone()))
            .collect()
    }

    /// Forgets a task.
    pub fn remove_task(&self, id: &ConnectorTaskId) {
        self.inner.lock().tasks.remove(id);
    }

    /// Forgets a connector, its tasks and its topics.
    pub fn remove_connector(&self, name: &str) {
        let mut inner = self.inner.lock();
        inner.connectors.remove(name);
        inner.tasks.retain(|id, _| id.connector != name);
        inner.topics.remove(name);
    }

    /// Records that a connector used a topic; returns true if it is new.
    pub fn add_topic(&self, connector: &str, topic: &str) -> bool {
        let mut inner = self.inner.lock();
        let set = inner.topics.entry(connector.to_owned()).or_default();
        if set.contains(topic) {
            false
        } else {
            set.insert(topic.to_owned());
            true
        }
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

    /// Forgets a connector's topics.
    pub fn reset_topics(&self, connector: &str) {
        self.inner.lock().topics.remove(connector);
    }
}
