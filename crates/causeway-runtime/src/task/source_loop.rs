use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use causeway_api::{ConnectError, Props, SourceTask, SourceTaskContext};
use causeway_data::{SourceMap, SourceRecord};
use causeway_log::{DeliveryFuture, LogBackend, LogProducer};
use futures::FutureExt;
use tokio::time::Instant;

use super::{
    ErrorHandler, FailedRecord, RecordConverters, TaskControl, TaskReporter, TopicTracker,
    TransformationChain,
};
use crate::herder::entities::State;
use crate::offset_store::OffsetStore;
use crate::topic_creation::TopicCreation;

/// Records sent but not yet acknowledged, at most this many, before the loop waits for acks.
const MAX_IN_FLIGHT: usize = 200_000;

/// One source partition's records in submission order (Apache's `SubmittedRecords`): an offset becomes
/// committable only when it and every earlier record of the same partition were acknowledged.
/// The queue key of records without a source partition.
static NO_PARTITION: LazyLock<Arc<SourceMap>> = LazyLock::new(|| Arc::new(SourceMap::new()));

struct PartitionQueue {
    partition: Arc<SourceMap>,
    pending: VecDeque<(DeliveryFuture, Option<SourceMap>)>,
    committable: Option<Option<SourceMap>>,
}

#[derive(Default)]
struct SubmittedRecords {
    queues: Vec<PartitionQueue>,
    in_flight: usize,
    /// `errors.tolerance=all`: a record the log refused counts as done (Apache ignores failed sends then).
    tolerate_failed_sends: bool,
    /// Records handed to the log since the loop last took this count (source-record-write).
    sent: usize,
}

/// A record the log refused, after its retries: fatal unless sends are tolerated.
fn failed_send(tolerate: bool, e: &causeway_log::LogError) -> Result<(), ConnectError> {
    if tolerate {
        tracing::error!(error = %e, "Ignoring failed record send: the log refused a record and errors.tolerance=all skips it.");
        Ok(())
    } else {
        Err(ConnectError::fatal(format!(
            "Unrecoverable exception from producer send callback: {e}"
        )))
    }
}

impl SubmittedRecords {
    fn queue_for(&mut self, partition: &Arc<SourceMap>) -> &mut PartitionQueue {
        // Sources usually have few partitions, and consecutive records share one: check the last used first.
        let idx = match self
            .queues
            .iter()
            .rposition(|q| Arc::ptr_eq(&q.partition, partition) || q.partition == *partition)
        {
            Some(i) => i,
            None => {
                self.queues.push(PartitionQueue {
                    partition: partition.clone(),
                    pending: VecDeque::new(),
                    committable: None,
                });
                self.queues.len() - 1
            }
        };
        &mut self.queues[idx]
    }

    fn submit(
        &mut self,
        partition: Option<&Arc<SourceMap>>,
        offset: Option<SourceMap>,
        ack: DeliveryFuture,
    ) {
        self.sent += 1;
        match partition {
            Some(p) => {
                self.queue_for(p).pending.push_back((ack, offset));
                self.in_flight += 1;
            }
            // No partition: nothing to commit, but the ack still matters for failures; await it eagerly
            // by keeping it in a partition-less queue keyed by an empty map.
            None => {
                self.queue_for(&NO_PARTITION).pending.push_back((ack, None));
                self.in_flight += 1;
            }
        }
    }

    /// Marks a record with nothing to send (dropped by a transform or skipped on error) as done.
    fn skip(&mut self, partition: Option<&Arc<SourceMap>>, offset: Option<SourceMap>) {
        if let Some(p) = partition {
            let q = self.queue_for(p);
            if q.pending.is_empty() {
                q.committable = Some(offset);
            } else {
                q.pending.push_back((
                    DeliveryFuture::ready(Ok(causeway_log::RecordMetadata {
                        partition: -1,
                        offset: -1,
                        timestamp: -1,
                    })),
                    offset,
                ));
                self.in_flight += 1;
            }
        }
    }

    /// Folds acknowledged prefixes into committable offsets; returns the first delivery error.
    fn drain(&mut self) -> Result<(), ConnectError> {
        for q in &mut self.queues {
            while let Some((fut, _)) = q.pending.front_mut() {
                // Unconstrained: a oneshot poll spends tokio's cooperative budget, and once it is used
                // up (~128 polls) every further ack reads as pending, so only ~128 acks per drain would
                // ever become committable and committed offsets would fall far behind the data.
                match tokio::task::unconstrained(&mut *fut).now_or_never() {
                    None => break,
                    Some(Ok(_)) => {
                        let (_, offset) = q.pending.pop_front().expect("front exists");
                        q.committable = Some(offset);
                        self.in_flight -= 1;
                    }
                    Some(Err(e)) => {
                        failed_send(self.tolerate_failed_sends, &e)?;
                        let (_, offset) = q.pending.pop_front().expect("front exists");
                        q.committable = Some(offset);
                        self.in_flight -= 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Waits for the oldest outstanding ack, up to `deadline`. Returns false on timeout.
    async fn wait_one(&mut self, deadline: Instant) -> Result<bool, ConnectError> {
        let Some(q) = self.queues.iter_mut().find(|q| !q.pending.is_empty()) else {
            return Ok(true);
        };
        let (fut, _) = q.pending.front_mut().expect("non-empty");
        match tokio::time::timeout_at(deadline, fut).await {
            Err(_) => Ok(false),
            Ok(Ok(meta)) => {
                let (_, offset) = q.pending.pop_front().expect("non-empty");
                q.committable = Some(offset);
                self.in_flight -= 1;
                let _ = meta;
                Ok(true)
            }
            Ok(Err(e)) => {
                failed_send(self.tolerate_failed_sends, &e)?;
                let (_, offset) = q.pending.pop_front().expect("non-empty");
                q.committable = Some(offset);
                self.in_flight -= 1;
                Ok(true)
            }
        }
    }

    /// Takes the offsets that became committable since the last call.
    fn take_committable(&mut self) -> Vec<(SourceMap, Option<SourceMap>)> {
        let mut out = Vec::new();
        for q in &mut self.queues {
            if q.partition.is_empty() {
                q.committable = None;
                continue;
            }
            if let Some(offset) = q.committable.take() {
                out.push((SourceMap::clone(&q.partition), offset));
            }
        }
        self.queues
            .retain(|q| !q.pending.is_empty() || q.committable.is_some());
        out
    }
}

/// Creates the topics a source task writes to, once each, before the first record goes out
/// (`AbstractWorkerSourceTask.maybeCreateTopic`).
pub struct TopicCreator {
    settings: TopicCreation,
    log: Arc<dyn LogBackend>,
    /// The connector's `admin.override.*` settings, prefix removed.
    admin_overrides: HashMap<String, String>,
    known: HashSet<String>,
}

impl TopicCreator {
    /// Creates topics on `log` as `settings` say, with the connector's own admin settings.
    pub fn new(
        settings: TopicCreation,
        log: Arc<dyn LogBackend>,
        admin_overrides: HashMap<String, String>,
    ) -> Self {
        TopicCreator {
            settings,
            log,
            admin_overrides,
            known: HashSet::new(),
        }
    }

    async fn ensure(&mut self, topic: &str) -> Result<(), ConnectError> {
        if self.known.contains(topic) {
            return Ok(());
        }
        let group = self.settings.group_for(topic);
        let new_topic = group.new_topic(topic);
        let describe = format!(
            "{{name={topic}, partitions={}, replicationFactor={}, configs={:?}}}",
            new_topic
                .partitions
                .map_or("default".into(), |p| p.to_string()),
            new_topic
                .replication_factor
                .map_or("default".into(), |r| r.to_string()),
            new_topic.configs
        );
        tracing::info!(topic, group = %group.name, "Creating topic for source connector");
        match self
            .log
            .create_topic_with(new_topic, &self.admin_overrides)
            .await
        {
            Ok(true) => tracing::info!(topic, "Created topic {describe}"),
            Ok(false) => tracing::info!(topic, "Found existing topic '{topic}'"),
            Err(e) => {
                return Err(ConnectError::fatal(format!(
                    "Task failed to create new topic {describe}. Ensure that the task is authorized to create topics or that the topic exists and restart the task: {e}"
                )));
            }
        }
        self.known.insert(topic.to_owned());
        Ok(())
    }
}

/// Runs one source task: poll → transforms → converters → append to the log, and commits offsets every
/// `offset.flush.interval.ms` for records the log acknowledged (`AbstractWorkerSourceTask`).
pub struct SourceTaskLoop {
    /// The task instance.
    pub task: Box<dyn SourceTask>,
    /// Topic creation (KIP-158), when the worker allows it and the connector asks for it.
    pub topic_creation: Option<TopicCreator>,
    /// Task config.
    pub props: Arc<Props>,
    /// The task's context.
    pub context: SourceTaskContext,
    /// Transforms.
    pub chain: TransformationChain,
    /// Converters.
    pub converters: RecordConverters,
    /// Producer.
    pub producer: Arc<dyn LogProducer>,
    /// Offset store.
    pub offsets: Arc<dyn OffsetStore>,
    /// Control.
    pub control: TaskControl,
    /// Status reporting.
    pub reporter: TaskReporter,
    /// Error handling: retries, tolerance and the error log.
    pub errors: ErrorHandler,
    /// `offset.flush.interval.ms`.
    pub flush_interval: Duration,
    /// `offset.flush.timeout.ms`.
    pub flush_timeout: Duration,
}

impl SourceTaskLoop {
    /// Runs until stopped or failed. Always calls the task's `stop` after a successful `start`.
    ///
    /// # Errors
    /// The failure that killed the task.
    pub async fn run(mut self) -> Result<(), ConnectError> {
        let props = self.props.clone();
        self.task.start(self.context.clone(), &props).await?;
        let result = self.execute().await;
        let stop_result = self.task.stop().await;
        self.chain.close();
        result.and(stop_result)
    }

    async fn execute(&mut self) -> Result<(), ConnectError> {
        let connector = self.reporter.id.connector.clone();
        let mut submitted = SubmittedRecords {
            tolerate_failed_sends: self.errors.settings().tolerate_all,
            ..SubmittedRecords::default()
        };
        let mut topics = TopicTracker::default();
        let mut next_commit = Instant::now() + self.flush_interval;
        let mut control = self.control.clone();
        self.reporter.state(State::Running);
        loop {
            if control.stop.is_cancelled() {
                break;
            }
            if control.paused() {
                self.reporter.state(State::Paused);
                // Apache's offset committer keeps running while a task is paused: commit what was sent
                // before the pause instead of leaving it uncommitted until the task resumes or stops.
                self.flush_and_commit(&connector, &mut submitted).await?;
                next_commit = Instant::now() + self.flush_interval;
                if !control.wait_while_paused().await {
                    break;
                }
                self.reporter.state(State::Running);
                continue;
            }
            let poll_started = Instant::now();
            let polled = tokio::select! {
                biased;
                _ = control.stop.cancelled() => break,
                _ = control.target.changed() => continue,
                _ = tokio::time::sleep_until(next_commit) => None,
                r = self.task.poll() => Some(r),
            };
            if let Some(polled) = polled {
                let batch = match polled {
                    Ok(b) => b,
                    Err(e) if e.is_retriable() => {
                        tracing::warn!(task = %self.reporter.id, error = %e, "Retriable error while polling; polling again.");
                        Vec::new()
                    }
                    Err(e) => {
                        return Err(e.context(
                            "Task threw an uncaught and unrecoverable exception during poll",
                        ));
                    }
                };
                if !batch.is_empty() {
                    self.reporter
                        .metrics
                        .record_poll(batch.len(), poll_started.elapsed());
                }
                for record in batch {
                    self.send(record, &mut submitted, &mut topics).await?;
                }
                let written = std::mem::take(&mut submitted.sent);
                if written > 0 {
                    self.reporter.metrics.record_write(written);
                }
                submitted.drain()?;
                while submitted.in_flight > MAX_IN_FLIGHT {
                    submitted
                        .wait_one(Instant::now() + self.flush_timeout)
                        .await?;
                }
            }
            if Instant::now() >= next_commit {
                submitted.drain()?;
                self.commit(&connector, &mut submitted).await;
                next_commit = Instant::now() + self.flush_interval;
            }
        }
        // Final commit.
        self.flush_and_commit(&connector, &mut submitted).await
    }

    /// Waits for outstanding acks within the flush timeout, then commits what is acked.
    async fn flush_and_commit(
        &mut self,
        connector: &str,
        submitted: &mut SubmittedRecords,
    ) -> Result<(), ConnectError> {
        let deadline = Instant::now() + self.flush_timeout;
        while submitted.in_flight > 0 {
            if !submitted.wait_one(deadline).await? {
                tracing::warn!(task = %self.reporter.id, outstanding = submitted.in_flight, "Timed out waiting for records to be acknowledged before committing offsets.");
                break;
            }
        }
        self.commit(connector, submitted).await;
        Ok(())
    }

    async fn send(
        &mut self,
        record: SourceRecord,
        submitted: &mut SubmittedRecords,
        topics: &mut TopicTracker,
    ) -> Result<(), ConnectError> {
        let SourceRecord {
            source_partition,
            source_offset,
            record,
        } = record;
        // The polled record, kept for the error log only when it shows records.
        let settings = self.errors.settings();
        let kept = (settings.log_errors && settings.log_messages).then(|| record.clone());
        let transformed = if self.chain.is_empty() {
            Some(record)
        } else {
            let topic = record.topic.clone();
            let original = FailedRecord::Source {
                partition: source_partition.as_deref(),
                offset: source_offset.as_ref(),
                record: kept.as_ref(),
                topic: &topic,
            };
            if self.errors.retries() {
                let chain = &mut self.chain;
                self.errors
                    .execute(original, || chain.apply(record.clone()))
                    .await?
                    .flatten()
            } else {
                match self.chain.apply(record) {
                    Ok(r) => r,
                    Err(failure) => {
                        self.errors.failed(failure, original)?;
                        None
                    }
                }
            }
        };
        let Some(transformed) = transformed else {
            submitted.skip(source_partition.as_ref(), source_offset);
            return Ok(());
        };
        let original = FailedRecord::Source {
            partition: source_partition.as_deref(),
            offset: source_offset.as_ref(),
            record: kept.as_ref(),
            topic: &transformed.topic,
        };
        let converters = &self.converters;
        let Some(producer_record) = self
            .errors
            .execute(original, || converters.to_producer_record(&transformed))
            .await?
        else {
            submitted.skip(source_partition.as_ref(), source_offset);
            return Ok(());
        };
        if let Some(creator) = &mut self.topic_creation {
            creator.ensure(&producer_record.topic).await?;
        }
        topics.record(&self.reporter, &producer_record.topic);
        let mut backoff = Duration::from_millis(100);
        let mut pending = producer_record;
        let ack = loop {
            match self.producer.send(pending) {
                Ok(ack) => break ack,
                Err(causeway_log::SendError { error, record }) if error.is_retriable() => {
                    if self.control.stop.is_cancelled() {
                        return Ok(());
                    }
                    pending = *record;
                    // Typically the producer's buffer is full (Java's `send` blocks then). An acknowledgement
                    // frees room, so wait for the oldest one rather than sleep: a sleep leaves the broker idle.
                    if submitted.in_flight > 0 {
                        tracing::debug!(task = %self.reporter.id, %error, "Send refused; waiting for an acknowledgement before retrying.");
                        let deadline = Instant::now() + self.flush_timeout;
                        tokio::select! {
                            _ = self.control.stop.cancelled() => return Ok(()),
                            acked = submitted.wait_one(deadline) => { acked?; }
                        }
                        continue;
                    }
                    tracing::warn!(task = %self.reporter.id, %error, "Retriable error sending a record; retrying.");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(causeway_log::SendError { error, record }) => {
                    self.errors.failed_send(&record.topic, &error.to_string())?;
                    submitted.skip(source_partition.as_ref(), source_offset);
                    return Ok(());
                }
            }
        };
        submitted.submit(source_partition.as_ref(), source_offset, ack);
        Ok(())
    }

    async fn commit(&mut self, connector: &str, submitted: &mut SubmittedRecords) {
        let started = Instant::now();
        let entries = submitted.take_committable();
        if entries.is_empty() {
            // Apache counts a commit with nothing to write as a successful one.
            self.reporter
                .metrics
                .record_commit_success(started.elapsed());
            return;
        }
        let n = entries.len();
        match tokio::time::timeout(
            self.flush_timeout,
            self.offsets.set(connector, entries.clone()),
        )
        .await
        {
            Ok(Ok(())) => {
                self.reporter
                    .metrics
                    .record_commit_success(started.elapsed());
                tracing::debug!(task = %self.reporter.id, partitions = n, "Committed source offsets.");
                if let Err(e) = self.task.commit().await {
                    tracing::warn!(task = %self.reporter.id, error = %e, "Task failed to handle commit.");
                }
            }
            Ok(Err(e)) => {
                self.reporter.metrics.record_commit_failure();
                tracing::error!(task = %self.reporter.id, error = %e, "Failed to commit offsets; will retry.");
                Self::restore(submitted, entries);
            }
            Err(_) => {
                self.reporter.metrics.record_commit_failure();
                tracing::error!(task = %self.reporter.id, "Timed out committing offsets; will retry.");
                Self::restore(submitted, entries);
            }
        }
    }

    /// Puts offsets back after a failed commit, unless a newer offset arrived meanwhile (`cancelFlush`).
    fn restore(submitted: &mut SubmittedRecords, entries: Vec<(SourceMap, Option<SourceMap>)>) {
        for (p, o) in entries {
            let q = submitted.queue_for(&Arc::new(p));
            if q.committable.is_none() {
                q.committable = Some(o);
            }
        }
    }
}
