use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use causeway_api::{ConnectError, Props, SinkTask, SinkTaskContext};
use causeway_data::{SinkRecord, TopicPartition as DataTp};
use causeway_log::{ConsumerEvent, LogConsumer, Subscription, TopicPartition};
use tokio::time::Instant;

use super::{
    ErrorHandler, FailedRecord, RecordConverters, TaskControl, TaskReporter, TopicTracker,
    TransformationChain,
};
use crate::herder::entities::State;

/// How long one consumer poll may wait, so commits and control changes are handled promptly.
const POLL_TIMEOUT: Duration = Duration::from_millis(500);
/// Backoff before redelivering a batch after a retriable `put` error, unless the task set `timeout`.
const RETRY_BACKOFF: Duration = Duration::from_millis(1000);

fn to_data(tp: &TopicPartition) -> DataTp {
    DataTp::new(tp.topic.clone(), tp.partition)
}

fn to_log(tp: &DataTp) -> TopicPartition {
    TopicPartition::new(tp.topic.clone(), tp.partition)
}

/// Runs one sink task: consume from the connector's group → converters → transforms → put, and commits
/// positions after `flush`/`pre_commit` (`WorkerSinkTask`).
pub struct SinkTaskLoop {
    /// The task instance.
    pub task: Box<dyn SinkTask>,
    /// Task config.
    pub props: Arc<Props>,
    /// The task's context.
    pub context: SinkTaskContext,
    /// Transforms.
    pub chain: TransformationChain,
    /// Converters.
    pub converters: RecordConverters,
    /// Consumer in group `connect-<name>`.
    pub consumer: Box<dyn LogConsumer>,
    /// What to consume.
    pub subscription: Subscription,
    /// Control.
    pub control: TaskControl,
    /// Status reporting.
    pub reporter: TaskReporter,
    /// Error handling: retries, tolerance, error log and dead letter queue.
    pub errors: ErrorHandler,
    /// `offset.flush.interval.ms`.
    pub commit_interval: Duration,
}

/// Offsets consumed (next offset to read) per partition, and what was last committed.
#[derive(Default)]
struct Offsets {
    current: HashMap<DataTp, i64>,
    committed: HashMap<DataTp, i64>,
}

impl SinkTaskLoop {
    /// Runs until stopped or failed; commits and closes partitions on the way out.
    ///
    /// # Errors
    /// The failure that killed the task.
    pub async fn run(mut self) -> Result<(), ConnectError> {
        let props = self.props.clone();
        if let Some(dlq) = self.errors.dlq() {
            dlq.create_topic().await?;
        }
        self.consumer
            .subscribe(self.subscription.clone())
            .await
            .map_err(|e| ConnectError::fatal(format!("Failed to subscribe: {e}")))?;
        self.task.start(self.context.clone(), &props).await?;
        let mut offsets = Offsets::default();
        let result = self.execute(&mut offsets).await;
        if result.is_ok() {
            let assigned: Vec<DataTp> = self.consumer.assignment().iter().map(to_data).collect();
            if let Err(e) = self.commit(&mut offsets).await {
                tracing::warn!(task = %self.reporter.id, error = %e, "Final offset commit failed.");
            }
            if let Err(e) = self.task.close(&assigned).await {
                tracing::warn!(task = %self.reporter.id, error = %e, "Task failed to close partitions.");
            }
        }
        let stop = self.task.stop().await;
        if let Some(dlq) = self.errors.dlq() {
            dlq.close().await;
        }
        if let Err(e) = self.consumer.close().await {
            tracing::warn!(task = %self.reporter.id, error = %e, "Failed to close consumer.");
        }
        self.chain.close();
        result.and(stop)
    }

    async fn execute(&mut self, offsets: &mut Offsets) -> Result<(), ConnectError> {
        let mut control = self.control.clone();
        let mut topics = TopicTracker::default();
        let mut next_commit = Instant::now() + self.commit_interval;
        let mut retry_batch: Option<Vec<SinkRecord>> = None;
        let mut paused_by_task: BTreeSet<DataTp> = BTreeSet::new();
        self.reporter.state(State::Running);
        loop {
            if control.stop.is_cancelled() {
                return Ok(());
            }
            if control.paused() {
                self.reporter.state(State::Paused);
                self.commit(offsets).await?;
                if !control.wait_while_paused().await {
                    return Ok(());
                }
                self.reporter.state(State::Running);
            }
            // Requests the task made through its context.
            let (rewinds, commit_requested, wanted_paused, timeout) = {
                let mut req = self.context.requests();
                (
                    std::mem::take(&mut req.offsets),
                    std::mem::take(&mut req.commit_requested),
                    req.paused.clone(),
                    req.timeout_ms.take(),
                )
            };
            for (tp, off) in rewinds {
                if let Err(e) = self.consumer.seek(&to_log(&tp), off) {
                    tracing::warn!(task = %self.reporter.id, partition = %tp, error = %e, "Cannot rewind partition.");
                } else {
                    offsets.current.insert(tp, off);
                }
            }
            if wanted_paused != paused_by_task {
                let resume: Vec<TopicPartition> = paused_by_task
                    .difference(&wanted_paused)
                    .map(to_log)
                    .collect();
                let pause: Vec<TopicPartition> = wanted_paused
                    .difference(&paused_by_task)
                    .map(to_log)
                    .collect();
                self.consumer.resume(&resume);
                self.consumer.pause(&pause);
                paused_by_task = wanted_paused;
            }
            if commit_requested || Instant::now() >= next_commit {
                self.commit(offsets).await?;
                next_commit = Instant::now() + self.commit_interval;
            }

            if let Some(batch) = retry_batch.take() {
                let wait =
                    timeout.map_or(RETRY_BACKOFF, |ms| Duration::from_millis(ms.max(0) as u64));
                tokio::select! {
                    _ = control.stop.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(wait) => {}
                }
                retry_batch = self.put(batch, offsets).await?;
                continue;
            }

            let event = tokio::select! {
                biased;
                _ = control.stop.cancelled() => return Ok(()),
                _ = control.target.changed() => continue,
                e = self.consumer.poll(POLL_TIMEOUT) => e,
            };
            let event = match event {
                Ok(Some(e)) => e,
                Ok(None) => continue,
                Err(e) if e.is_retriable() => {
                    tracing::warn!(task = %self.reporter.id, error = %e, "Retriable error while consuming.");
                    continue;
                }
                Err(e) => {
                    return Err(ConnectError::fatal(format!(
                        "Failed to consume records: {e}"
                    )));
                }
            };
            match event {
                ConsumerEvent::Assigned(tps) => {
                    let parts: Vec<DataTp> = tps.iter().map(to_data).collect();
                    let committed = self.consumer.committed(&tps).await.map_err(|e| {
                        ConnectError::fatal(format!("Failed to read committed offsets: {e}"))
                    })?;
                    for tp in &tps {
                        let pos = self
                            .consumer
                            .position(tp)
                            .or_else(|| committed.get(tp).copied());
                        if let Some(pos) = pos {
                            offsets.current.insert(to_data(tp), pos);
                        }
                        if let Some(c) = committed.get(tp) {
                            offsets.committed.insert(to_data(tp), *c);
                        }
                    }
                    self.context
                        .set_assignment(self.consumer.assignment().iter().map(to_data).collect());
                    self.task.open(&parts).await?;
                }
                ConsumerEvent::Revoked(tps) => {
                    let parts: Vec<DataTp> = tps.iter().map(to_data).collect();
                    self.commit_partitions(offsets, Some(&parts)).await?;
                    self.task.close(&parts).await?;
                    for p in &parts {
                        offsets.current.remove(p);
                        offsets.committed.remove(p);
                    }
                    self.context
                        .set_assignment(self.consumer.assignment().iter().map(to_data).collect());
                }
                ConsumerEvent::Records(records) => {
                    self.reporter.metrics.record_read(records.len());
                    let mut batch = Vec::with_capacity(records.len());
                    // Next offset per partition, recorded once per run of records from one partition rather
                    // than once per record (a poll returns records grouped by partition).
                    let mut run: Option<(&str, i32, i64)> = None;
                    for r in &records {
                        match &mut run {
                            Some((t, p, next)) if **t == *r.topic && *p == r.partition => {
                                *next = r.offset + 1
                            }
                            _ => {
                                if let Some((t, p, next)) =
                                    run.replace((&r.topic, r.partition, r.offset + 1))
                                {
                                    offsets.current.insert(DataTp::new(t, p), next);
                                }
                            }
                        }
                        topics.record(&self.reporter, &r.topic);
                        let original = FailedRecord::Consumed(r);
                        let converters = &self.converters;
                        let Some(record) = self
                            .errors
                            .execute(original, || converters.to_sink_record(r))
                            .await?
                        else {
                            continue;
                        };
                        let record = if self.chain.is_empty() {
                            Some(record)
                        } else {
                            let SinkRecord {
                                kafka_offset,
                                timestamp_type,
                                original_topic,
                                original_kafka_partition,
                                original_kafka_offset,
                                record,
                            } = record;
                            let transformed = if self.errors.retries() {
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
                            };
                            transformed.map(|record| SinkRecord {
                                kafka_offset,
                                timestamp_type,
                                original_topic,
                                original_kafka_partition,
                                original_kafka_offset,
                                record,
                            })
                        };
                        if let Some(rec) = record {
                            batch.push(rec);
                        }
                    }
                    if let Some((t, p, next)) = run {
                        offsets.current.insert(DataTp::new(t, p), next);
                    }
                    if !batch.is_empty() {
                        retry_batch = self.put(batch, offsets).await?;
                    }
                }
            }
        }
    }

    /// Delivers a batch; returns it back when `put` failed with a retriable error (all partitions paused
    /// until it succeeds).
    async fn put(
        &mut self,
        batch: Vec<SinkRecord>,
        _offsets: &mut Offsets,
    ) -> Result<Option<Vec<SinkRecord>>, ConnectError> {
        let started = Instant::now();
        match self.task.put(&batch).await {
            Ok(()) => {
                self.reporter
                    .metrics
                    .record_put(batch.len(), started.elapsed());
                let assigned = self.consumer.assignment();
                let paused = self.context.requests().paused.clone();
                let resume: Vec<TopicPartition> = assigned
                    .into_iter()
                    .filter(|tp| !paused.contains(&to_data(tp)))
                    .collect();
                self.consumer.resume(&resume);
                Ok(None)
            }
            Err(e) if e.is_retriable() => {
                tracing::warn!(task = %self.reporter.id, error = %e, "Retriable error in put; pausing partitions and redelivering.");
                let assigned = self.consumer.assignment();
                self.consumer.pause(&assigned);
                Ok(Some(batch))
            }
            Err(e) => Err(e.context(
                "Exiting WorkerSinkTask due to unrecoverable exception; task threw an uncaught and unrecoverable exception",
            )),
        }
    }

    async fn commit(&mut self, offsets: &mut Offsets) -> Result<(), ConnectError> {
        self.commit_partitions(offsets, None).await
    }

    /// `preCommit` then commit offsets that moved, for all or some partitions.
    async fn commit_partitions(
        &mut self,
        offsets: &mut Offsets,
        only: Option<&[DataTp]>,
    ) -> Result<(), ConnectError> {
        let started = Instant::now();
        let current: HashMap<DataTp, i64> = offsets
            .current
            .iter()
            .filter(|(tp, _)| only.is_none_or(|o| o.contains(tp)))
            .map(|(tp, o)| (tp.clone(), *o))
            .collect();
        if current.is_empty() {
            // Apache records a commit with nothing to commit as a successful one.
            self.reporter
                .metrics
                .record_commit_success(started.elapsed());
            return Ok(());
        }
        // Records sent to the dead letter queue must be there before their offsets commit.
        if let Some(dlq) = self.errors.dlq() {
            dlq.await_sends(only).await;
        }
        let accepted = match self.task.pre_commit(current.clone()).await {
            Ok(a) => a,
            Err(e) => {
                self.reporter.metrics.record_commit_failure();
                return Err(e);
            }
        };
        let to_commit: HashMap<TopicPartition, i64> = accepted
            .into_iter()
            .filter(|(tp, off)| current.get(tp).is_some_and(|c| off <= c))
            .filter(|(tp, off)| offsets.committed.get(tp) != Some(off))
            .map(|(tp, off)| (to_log(&tp), off))
            .collect();
        if to_commit.is_empty() {
            self.reporter
                .metrics
                .record_commit_success(started.elapsed());
            return Ok(());
        }
        if let Err(e) = self.consumer.commit(&to_commit).await {
            self.reporter.metrics.record_commit_failure();
            return Err(ConnectError::fatal(format!(
                "Failed to commit offsets: {e}"
            )));
        }
        self.reporter
            .metrics
            .record_commit_success(started.elapsed());
        for (tp, off) in to_commit {
            offsets.committed.insert(to_data(&tp), off);
        }
        Ok(())
    }
}
