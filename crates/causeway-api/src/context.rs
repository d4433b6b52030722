use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use causeway_data::{SourceMap, TopicPartition};

use crate::{ConnectError, Props, Result};

/// What the runtime does for a connector that asks for something (`ConnectorContext`).
pub trait ConnectorContextHandle: Send + Sync {
    /// The connector's task configurations changed; call `task_configs` again.
    fn request_task_reconfiguration(&self);
    /// The connector hit an unrecoverable error in a background thread; mark it FAILED.
    fn raise_error(&self, error: ConnectError);
}

/// The connector's handle on the runtime.
#[derive(Clone)]
pub struct ConnectorContext(Arc<dyn ConnectorContextHandle>);

impl ConnectorContext {
    /// Wraps a runtime implementation.
    pub fn new(handle: Arc<dyn ConnectorContextHandle>) -> Self {
        ConnectorContext(handle)
    }

    /// Asks the runtime to regenerate task configurations.
    pub fn request_task_reconfiguration(&self) {
        self.0.request_task_reconfiguration();
    }

    /// Fails the connector with `error`.
    pub fn raise_error(&self, error: ConnectError) {
        self.0.raise_error(error);
    }
}

/// Reads committed source offsets (`OffsetStorageReader`).
#[async_trait]
pub trait OffsetStorageReader: Send + Sync {
    /// The last committed offset of a source partition.
    async fn offset(&self, partition: &SourceMap) -> Result<Option<SourceMap>>;

    /// Offsets of several partitions; missing ones are absent from the result.
    async fn offsets(&self, partitions: &[SourceMap]) -> Result<Vec<(SourceMap, SourceMap)>> {
        let mut out = Vec::new();
        for p in partitions {
            if let Some(o) = self.offset(p).await? {
                out.push((p.clone(), o));
            }
        }
        Ok(out)
    }
}

/// A source task's handle on the runtime (`SourceTaskContext`).
#[derive(Clone)]
pub struct SourceTaskContext {
    offset_reader: Arc<dyn OffsetStorageReader>,
    configs: Arc<Props>,
}

impl SourceTaskContext {
    /// Built by the runtime.
    pub fn new(offset_reader: Arc<dyn OffsetStorageReader>, configs: Arc<Props>) -> Self {
        SourceTaskContext {
            offset_reader,
            configs,
        }
    }

    /// Committed offsets of this connector's source partitions.
    pub fn offset_storage_reader(&self) -> &dyn OffsetStorageReader {
        self.offset_reader.as_ref()
    }

    /// The task's configuration.
    pub fn configs(&self) -> &Props {
        &self.configs
    }
}

/// Requests a sink task has made of the runtime, drained by the sink task loop.
#[derive(Debug, Default)]
pub struct SinkTaskRequests {
    /// Rewinds: partition → next offset to read.
    pub offsets: HashMap<TopicPartition, i64>,
    /// Poll timeout requested by `timeout(ms)`.
    pub timeout_ms: Option<i64>,
    /// Partitions the task wants paused.
    pub paused: BTreeSet<TopicPartition>,
    /// Whether the task asked for an offset commit.
    pub commit_requested: bool,
}

/// A sink task's handle on the runtime (`SinkTaskContext`): rewind, pause/resume partitions, request a commit.
#[derive(Clone)]
pub struct SinkTaskContext {
    requests: Arc<Mutex<SinkTaskRequests>>,
    assignment: Arc<Mutex<BTreeSet<TopicPartition>>>,
    configs: Arc<Props>,
}

impl SinkTaskContext {
    /// Built by the runtime.
    pub fn new(configs: Arc<Props>) -> Self {
        SinkTaskContext {
            requests: Arc::default(),
            assignment: Arc::default(),
            configs,
        }
    }

    /// The task's configuration.
    pub fn configs(&self) -> &Props {
        &self.configs
    }

    /// Rewinds a partition: the next record delivered will be at `offset`.
    pub fn offset(&self, tp: TopicPartition, offset: i64) {
        self.lock().offsets.insert(tp, offset);
    }

    /// Rewinds several partitions.
    pub fn offsets(&self, offsets: HashMap<TopicPartition, i64>) {
        self.lock().offsets.extend(offsets);
    }

    /// Asks the loop to wait at most `timeout_ms` before the next `put` after a retriable error.
    pub fn timeout(&self, timeout_ms: i64) {
        self.lock().timeout_ms = Some(timeout_ms);
    }

    /// Partitions currently assigned to the task.
    pub fn assignment(&self) -> BTreeSet<TopicPartition> {
        self.assignment
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops delivering records from these partitions.
    pub fn pause(&self, partitions: &[TopicPartition]) {
        self.lock().paused.extend(partitions.iter().cloned());
    }

    /// Resumes delivering records from these partitions.
    pub fn resume(&self, partitions: &[TopicPartition]) {
        let mut r = self.lock();
        for p in partitions {
            r.paused.remove(p);
        }
    }

    /// Asks for an offset commit as soon as possible.
    pub fn request_commit(&self) {
        self.lock().commit_requested = true;
    }

    /// Runtime side: the current requests, for the loop to act on.
    pub fn requests(&self) -> std::sync::MutexGuard<'_, SinkTaskRequests> {
        self.lock()
    }

    /// Runtime side: records the current assignment.
    pub fn set_assignment(&self, partitions: BTreeSet<TopicPartition>) {
        *self.assignment.lock().unwrap_or_else(|e| e.into_inner()) = partitions;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SinkTaskRequests> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }
}
