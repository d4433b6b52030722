use std::collections::HashMap;

use async_trait::async_trait;
use causeway_data::{SinkRecord, SourceMap, SourceRecord, TopicPartition};

use crate::{
    ConfigDef, ConfigValue, ConnectorContext, Props, Result, SinkTaskContext, SourceTaskContext,
};

/// A connector: validates its configuration and splits the work into task configurations.
///
/// # Lifecycle
/// The worker creates a fresh instance, calls [`Connector::start`], then [`Connector::task_configs`] whenever
/// it needs task configurations (after start and whenever the connector asks through
/// [`ConnectorContext::request_task_reconfiguration`]), and finally [`Connector::stop`]. `validate` and
/// `config` may be called on an instance that was never started, and must not do I/O.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The plugin version.
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    /// The connector's own configuration keys.
    fn config(&self) -> ConfigDef;

    /// Validates a configuration; the default checks each key against [`Connector::config`].
    fn validate(&self, props: &Props) -> Vec<ConfigValue> {
        self.config().validate(props)
    }

    /// Starts the connector with its configuration.
    async fn start(&mut self, ctx: ConnectorContext, props: &Props) -> Result<()>;

    /// Up to `max_tasks` task configurations.
    fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Props>>;

    /// Stops the connector; must be prompt.
    async fn stop(&mut self) -> Result<()>;
}

/// A connector whose tasks read an external system and produce records.
#[async_trait]
pub trait SourceConnector: Connector {
    /// Creates a task instance (Connect's `taskClass()` plus instantiation).
    fn create_task(&self) -> Box<dyn SourceTask>;

    /// Called when a user alters offsets through the REST API (KIP-875), before they are written. Return
    /// `Ok(true)` when the connector accepts them (REST then says they were altered successfully), `Ok(false)`
    /// (the default) when it does not know (REST warns that externally managed offsets may need altering too),
    /// or a [`crate::ConnectError::Config`] to reject them with a 400.
    async fn alter_offsets(
        &self,
        _props: &Props,
        _offsets: &[(SourceMap, Option<SourceMap>)],
    ) -> Result<bool> {
        Ok(false)
    }
}

/// A connector whose tasks consume records and write them to an external system.
#[async_trait]
pub trait SinkConnector: Connector {
    /// Creates a task instance.
    fn create_task(&self) -> Box<dyn SinkTask>;

    /// As [`SourceConnector::alter_offsets`], for consumer-group offsets.
    async fn alter_offsets(
        &self,
        _props: &Props,
        _offsets: &HashMap<TopicPartition, Option<i64>>,
    ) -> Result<bool> {
        Ok(false)
    }
}

/// A source task: polls an external system for records (`SourceTask`).
///
/// # Lifecycle and threading
/// `start` once, then `poll` repeatedly from one task loop, then `stop`. The loop may drop an in-flight
/// `poll` future when the task is paused or stopped, so `poll` must be cancel-safe: records not yet
/// returned must not be lost from the task's own bookkeeping (re-read them from the last committed offset
/// instead). Return regularly (an empty batch is fine) so the loop can commit offsets.
#[async_trait]
pub trait SourceTask: Send {
    /// Starts the task with its configuration.
    async fn start(&mut self, ctx: SourceTaskContext, props: &Props) -> Result<()>;

    /// The next batch of records; empty when none are available right now.
    async fn poll(&mut self) -> Result<Vec<SourceRecord>>;

    /// Offsets up to the last acknowledged record have been committed.
    async fn commit(&mut self) -> Result<()> {
        Ok(())
    }

    /// One record was written to the log (or dropped by a transform).
    async fn commit_record(&mut self, _record: &SourceRecord) -> Result<()> {
        Ok(())
    }

    /// Stops the task and releases its resources.
    async fn stop(&mut self) -> Result<()>;
}

/// A sink task: receives records and writes them out (`SinkTask`).
///
/// # Lifecycle and threading
/// `start`, then `open` for the partitions assigned, any number of `put`/`pre_commit` calls, `close` for
/// revoked partitions, and `stop`. All calls come from one task loop.
#[async_trait]
pub trait SinkTask: Send {
    /// Starts the task with its configuration.
    async fn start(&mut self, ctx: SinkTaskContext, props: &Props) -> Result<()>;

    /// Writes (or buffers) a batch of records. A [`crate::ConnectError::Retriable`] makes the loop redeliver
    /// the same batch later, which is why the batch is lent rather than given.
    async fn put(&mut self, records: &[SinkRecord]) -> Result<()>;

    /// Makes everything `put` so far durable.
    async fn flush(&mut self, _offsets: &HashMap<TopicPartition, i64>) -> Result<()> {
        Ok(())
    }

    /// Before offsets are committed: flush, then return the offsets (next offset to read) safe to commit.
    async fn pre_commit(
        &mut self,
        offsets: HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, i64>> {
        self.flush(&offsets).await?;
        Ok(offsets)
    }

    /// Partitions were assigned to this task.
    async fn open(&mut self, _partitions: &[TopicPartition]) -> Result<()> {
        Ok(())
    }

    /// Partitions were revoked from this task.
    async fn close(&mut self, _partitions: &[TopicPartition]) -> Result<()> {
        Ok(())
    }

    /// Stops the task and releases its resources.
    async fn stop(&mut self) -> Result<()>;
}
