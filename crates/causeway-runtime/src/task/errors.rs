//! Connect's error handling for task loops (KIP-298, `RetryWithToleranceOperator`): retries with backoff on
//! retriable errors, `errors.tolerance`, the error log, and the sink dead letter queue with its
//! `__connect.errors.*` context headers.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use causeway_api::{ConnectError, Props};
use causeway_data::{ConnectRecord, SourceMap, TopicPartition as DataTp};
use causeway_log::{
    ConsumerRecord, DeliveryFuture, LogBackend, LogProducer, NewTopic, ProducerRecord,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::herder::entities::ConnectorTaskId;
use crate::metrics::TaskMetrics;

/// Where in a task loop an operation failed (`Stage` in Apache's error handling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `SourceTask.poll`.
    TaskPoll,
    /// `SinkTask.put`.
    TaskPut,
    /// A transformation.
    Transformation,
    /// The key converter.
    KeyConverter,
    /// The value converter.
    ValueConverter,
    /// The header converter.
    HeaderConverter,
    /// Producing to the log.
    KafkaProduce,
    /// Consuming from the log.
    KafkaConsume,
}

impl Stage {
    /// Apache's enum name (`VALUE_CONVERTER` …), used in traces and DLQ headers.
    pub fn name(self) -> &'static str {
        match self {
            Stage::TaskPoll => "TASK_POLL",
            Stage::TaskPut => "TASK_PUT",
            Stage::Transformation => "TRANSFORMATION",
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::KafkaProduce => "KAFKA_PRODUCE",
            Stage::KafkaConsume => "KAFKA_CONSUME",
        }
    }

    /// Converters and transformations tolerate any error; other stages only retriable ones (KIP-298).
    fn tolerates(self, error: &ConnectError) -> bool {
        match self {
            Stage::Transformation
            | Stage::KeyConverter
            | Stage::ValueConverter
            | Stage::HeaderConverter => true,
            _ => error.is_retriable(),
        }
    }
}

/// A failed operation: the stage, the class that was executing (a converter or transformation class name)
/// and the error.
#[derive(Debug)]
pub struct Failure {
    /// Stage.
    pub stage: Stage,
    /// Executing class (`org.apache.kafka.connect.json.JsonConverter` …).
    pub class: String,
    /// What went wrong.
    pub error: ConnectError,
}

impl Failure {
    /// A failure of `class` in `stage`.
    pub fn new(stage: Stage, class: impl Into<String>, error: ConnectError) -> Self {
        Failure {
            stage,
            class: class.into(),
            error,
        }
    }
}

/// The record a failure concerns (Apache's `ProcessingContext.original`).
#[derive(Clone, Copy)]
pub enum FailedRecord<'a> {
    /// A sink task's record as consumed: raw bytes, which is what goes to the dead letter queue.
    Consumed(&'a ConsumerRecord),
    /// A source task's record as polled (shown in the error log when messages are included).
    Source {
        /// Source partition.
        partition: Option<&'a SourceMap>,
        /// Source offset.
        offset: Option<&'a SourceMap>,
        /// The record before transformation, when kept for the log.
        record: Option<&'a ConnectRecord>,
        /// Topic the record was polled for.
        topic: &'a str,
    },
}

impl FailedRecord<'_> {
    /// Where the record came from, for a task failure trace.
    fn location(&self) -> String {
        match self {
            FailedRecord::Consumed(r) => format!(
                "topic '{}', partition {}, offset {}",
                r.topic, r.partition, r.offset
            ),
            FailedRecord::Source {
                topic, partition, ..
            } => match partition {
                Some(p) => format!(
                    "source record for topic '{topic}' from source partition {}",
                    serde_json::Value::Object((*p).clone())
                ),
                None => format!("source record for topic '{topic}'"),
            },
        }
    }

    /// Apache's `LogReporter` description of the record (`errors.log.include.messages`).
    fn describe(&self) -> String {
        match self {
            FailedRecord::Consumed(r) => {
                let mut s = format!(
                    ", where consumed record is {{topic='{}', partition={}, offset={}",
                    r.topic, r.partition, r.offset
                );
                if r.timestamp >= 0 {
                    s.push_str(&format!(
                        ", timestamp={}, timestampType=CreateTime",
                        r.timestamp
                    ));
                }
                s.push('}');
                s
            }
            FailedRecord::Source {
                partition,
                offset,
                record,
                topic,
            } => {
                let map = |m: &Option<&SourceMap>| {
                    m.map_or("null".to_owned(), |m| {
                        serde_json::Value::Object(m.clone()).to_string()
                    })
                };
                let record = record.map_or_else(
                    || format!("ConnectRecord{{topic='{topic}'}}"),
                    ToString::to_string,
                );
                format!(
                    ", where source record is = SourceRecord{{sourcePartition={}, sourceOffset={}}} {record}",
                    map(partition),
                    map(offset)
                )
            }
        }
    }
}

/// The connector's `errors.*` settings.
#[derive(Debug, Clone)]
pub struct ErrorSettings {
    /// `errors.retry.timeout` in ms; 0 = no retries, -1 = retry forever.
    pub retry_timeout_ms: i64,
    /// `errors.retry.delay.max.ms`.
    pub max_delay: Duration,
    /// `errors.tolerance=all`.
    pub tolerate_all: bool,
    /// `errors.log.enable`.
    pub log_errors: bool,
    /// `errors.log.include.messages`.
    pub log_messages: bool,
    /// `errors.deadletterqueue.topic.name`, trimmed; empty = no DLQ.
    pub dlq_topic: String,
    /// `errors.deadletterqueue.topic.replication.factor`.
    pub dlq_replication_factor: i16,
    /// `errors.deadletterqueue.context.headers.enable`.
    pub dlq_context_headers: bool,
}

impl Default for ErrorSettings {
    fn default() -> Self {
        ErrorSettings {
            retry_timeout_ms: 0,
            max_delay: Duration::from_millis(60_000),
            tolerate_all: false,
            log_errors: false,
            log_messages: false,
            dlq_topic: String::new(),
            dlq_replication_factor: 3,
            dlq_context_headers: false,
        }
    }
}

impl ErrorSettings {
    /// Reads the `errors.*` keys of a (validated) connector config.
    pub fn from_props(props: &Props) -> Self {
        let flag = |k: &str| {
            props
                .get(k)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        };
        let number = |k: &str| props.get(k).and_then(|v| v.trim().parse::<i64>().ok());
        let defaults = ErrorSettings::default();
        ErrorSettings {
            retry_timeout_ms: number("errors.retry.timeout").unwrap_or(0),
            max_delay: number("errors.retry.delay.max.ms").map_or(defaults.max_delay, |ms| {
                Duration::from_millis(ms.max(0) as u64)
            }),
            tolerate_all: props
                .get("errors.tolerance")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("all")),
            log_errors: flag("errors.log.enable"),
            log_messages: flag("errors.log.include.messages"),
            dlq_topic: props
                .get("errors.deadletterqueue.topic.name")
                .map(|t| t.trim().to_owned())
                .unwrap_or_default(),
            dlq_replication_factor: number("errors.deadletterqueue.topic.replication.factor")
                .and_then(|n| i16::try_from(n).ok())
                .unwrap_or(defaults.dlq_replication_factor),
            dlq_context_headers: flag("errors.deadletterqueue.context.headers.enable"),
        }
    }

    /// Backoff before retry number `attempt` (1-based): `300 ms << (attempt - 1)`, or a random delay below
    /// the maximum once that grows past it, never beyond `deadline`.
    fn backoff(&self, attempt: u32, now: Instant, deadline: Option<Instant>) -> Duration {
        const MIN_DELAY_MS: u64 = 300;
        let max = self.max_delay.as_millis() as u64;
        let mut delay = MIN_DELAY_MS
            .checked_shl(attempt.saturating_sub(1))
            .filter(|d| *d >= MIN_DELAY_MS)
            .unwrap_or(u64::MAX);
        if delay > max {
            delay = if max == 0 {
                0
            } else {
                rand::random_range(0..max)
            };
        }
        let delay = Duration::from_millis(delay);
        match deadline {
            Some(d) => delay.min(d.saturating_duration_since(now)),
            None => delay,
        }
    }
}

/// A sink task's dead letter queue: failed records go there raw, with their headers and, when enabled,
/// the `__connect.errors.*` context headers (`DeadLetterQueueReporter`).
pub struct DeadLetterQueue {
    topic: String,
    replication_factor: i16,
    context_headers: bool,
    producer: Arc<dyn LogProducer>,
    log: Arc<dyn LogBackend>,
    admin_overrides: HashMap<String, String>,
    /// Sends not yet acknowledged, per source partition, awaited before that partition's offsets commit.
    pending: HashMap<DataTp, Vec<DeliveryFuture>>,
    /// Where produce requests and failures are counted (set by [`ErrorHandler::with_metrics`]).
    metrics: Option<TaskMetrics>,
}

/// Apache's header names.
const HEADER_PREFIX: &str = "__connect.errors.";

impl DeadLetterQueue {
    /// A DLQ writing to `settings.dlq_topic` with `producer`.
    pub fn new(
        settings: &ErrorSettings,
        producer: Arc<dyn LogProducer>,
        log: Arc<dyn LogBackend>,
        admin_overrides: HashMap<String, String>,
    ) -> Self {
        DeadLetterQueue {
            topic: settings.dlq_topic.clone(),
            replication_factor: settings.dlq_replication_factor,
            context_headers: settings.dlq_context_headers,
            producer,
            log,
            admin_overrides,
            pending: HashMap::new(),
            metrics: None,
        }
    }

    /// Creates the topic (one partition) when it does not exist, as the task starts.
    ///
    /// # Errors
    /// When the topic cannot be created.
    pub async fn create_topic(&self) -> Result<(), ConnectError> {
        let topic = NewTopic {
            name: self.topic.clone(),
            partitions: Some(1),
            replication_factor: Some(self.replication_factor),
            configs: HashMap::new(),
        };
        let exists = self
            .log
            .partition_count(&self.topic)
            .await
            .map_err(|e| self.init_error(&e))?
            .is_some();
        if !exists {
            tracing::info!(topic = %self.topic, "Dead letter queue topic doesn't exist. Will attempt to create topic.");
            self.log
                .create_topic_with(topic, &self.admin_overrides)
                .await
                .map_err(|e| self.init_error(&e))?;
        }
        Ok(())
    }

    fn init_error(&self, e: &dyn std::fmt::Display) -> ConnectError {
        ConnectError::fatal(format!(
            "Could not initialize dead letter queue with topic={}: {e}",
            self.topic
        ))
    }

    fn report(&mut self, task: &ConnectorTaskId, failure: &Failure, original: &ConsumerRecord) {
        if let Some(m) = &self.metrics {
            m.record_dlq_produce_request();
        }
        let mut headers = original.headers.clone();
        if self.context_headers {
            let mut add = |name: &str, value: String| {
                headers.push((format!("{HEADER_PREFIX}{name}"), Some(Bytes::from(value))));
            };
            add("topic", original.topic.to_string());
            add("partition", original.partition.to_string());
            add("offset", original.offset.to_string());
            add("connector.name", task.connector.clone());
            add("task.id", task.task.to_string());
            add("stage", failure.stage.name().to_owned());
            add("class.name", failure.class.clone());
            add(
                "exception.class.name",
                failure.error.class_name().to_owned(),
            );
            add("exception.message", failure.error.message().to_owned());
            add("exception.stacktrace", super::trace_of(&failure.error));
        }
        let record = ProducerRecord {
            topic: self.topic.clone(),
            partition: None,
            key: original.key.clone(),
            value: original.value.clone(),
            timestamp: (original.timestamp >= 0).then_some(original.timestamp),
            headers,
        };
        match self.producer.send(record) {
            Ok(ack) => self
                .pending
                .entry(DataTp::new(&*original.topic, original.partition))
                .or_default()
                .push(ack),
            Err(e) => {
                if let Some(m) = &self.metrics {
                    m.record_dlq_produce_failure();
                }
                tracing::error!(topic = %self.topic, error = %e.error, "Could not produce message to dead letter queue.")
            }
        }
    }

    /// Waits for the DLQ sends of these partitions (all when `None`); failures are logged, as Apache does.
    pub async fn await_sends(&mut self, only: Option<&[DataTp]>) {
        let keys: Vec<DataTp> = match only {
            Some(tps) => tps
                .iter()
                .filter(|tp| self.pending.contains_key(tp))
                .cloned()
                .collect(),
            None => self.pending.keys().cloned().collect(),
        };
        for tp in keys {
            for ack in self.pending.remove(&tp).unwrap_or_default() {
                if let Err(e) = ack.await {
                    if let Some(m) = &self.metrics {
                        m.record_dlq_produce_failure();
                    }
                    tracing::error!(topic = %self.topic, error = %e, "Could not produce message to dead letter queue.");
                }
            }
        }
    }

    /// Flushes outstanding sends before the task stops.
    pub async fn close(&mut self) {
        self.await_sends(None).await;
    }
}

/// Runs a task's conversions and transformations under the connector's error settings
/// (`RetryWithToleranceOperator` with its log and DLQ reporters).
pub struct ErrorHandler {
    task: ConnectorTaskId,
    settings: ErrorSettings,
    dlq: Option<DeadLetterQueue>,
    stop: CancellationToken,
    failures: u64,
    /// Source tasks: failed sends already logged, so a tolerated send failure is logged once.
    logged_sends: HashSet<String>,
    /// The task's `task-error-metrics`.
    metrics: TaskMetrics,
}

impl ErrorHandler {
    /// A handler for one task; `stop` ends retry waits when the task stops.
    pub fn new(
        task: ConnectorTaskId,
        settings: ErrorSettings,
        dlq: Option<DeadLetterQueue>,
        stop: CancellationToken,
    ) -> Self {
        ErrorHandler {
            metrics: TaskMetrics::detached(task.clone()),
            task,
            settings,
            dlq,
            stop,
            failures: 0,
            logged_sends: HashSet::new(),
        }
    }

    /// Counts into the task's `task-error-metrics` (and the dead letter queue's) from now on.
    pub fn with_metrics(mut self, metrics: TaskMetrics) -> Self {
        if let Some(dlq) = &mut self.dlq {
            dlq.metrics = Some(metrics.clone());
        }
        self.metrics = metrics;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &ErrorSettings {
        &self.settings
    }

    /// Whether retriable failures are retried (`errors.retry.timeout` ≠ 0), so callers keep a copy of the
    /// input to retry with.
    pub fn retries(&self) -> bool {
        self.settings.retry_timeout_ms != 0
    }

    /// The dead letter queue, if the connector has one.
    pub fn dlq(&mut self) -> Option<&mut DeadLetterQueue> {
        self.dlq.as_mut()
    }

    /// How many records failed so far.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Runs `op`, retrying retriable failures with backoff until `errors.retry.timeout`; a failure that
    /// remains is reported and then either skipped (`Ok(None)`) or fatal.
    ///
    /// # Errors
    /// When the failure is not tolerated: the task must fail with this error.
    pub async fn execute<T>(
        &mut self,
        original: FailedRecord<'_>,
        mut op: impl FnMut() -> Result<T, Failure>,
    ) -> Result<Option<T>, ConnectError> {
        // The clock is read only once something failed: this runs for every record.
        let mut failure = match op() {
            Ok(v) => return Ok(Some(v)),
            Err(f) => f,
        };
        let start = Instant::now();
        let deadline = u64::try_from(self.settings.retry_timeout_ms)
            .ok()
            .map(|ms| start + Duration::from_millis(ms));
        let mut attempt = 1u32;
        loop {
            let now = Instant::now();
            let may_retry = failure.error.is_retriable()
                && self.settings.retry_timeout_ms != 0
                && deadline.is_none_or(|d| now < d)
                && !self.stop.is_cancelled();
            if !may_retry {
                self.failed(failure, original)?;
                return Ok(None);
            }
            // This attempt failed and will be retried: Connect counts both.
            self.metrics.record_failure();
            let delay = self.settings.backoff(attempt, now, deadline);
            tracing::debug!(task = %self.task, stage = failure.stage.name(), attempt, ?delay, error = %failure.error, "Retrying after a retriable error.");
            tokio::select! {
                _ = self.stop.cancelled() => {}
                _ = tokio::time::sleep(delay) => {}
            }
            self.metrics.record_retry();
            attempt = attempt.saturating_add(1);
            failure = match op() {
                Ok(v) => return Ok(Some(v)),
                Err(f) => f,
            };
        }
    }

    /// Reports a failure (error log, dead letter queue) and decides: `Ok(())` skips the record.
    ///
    /// # Errors
    /// When the failure is not tolerated. Apache's messages: "Tolerance exceeded in error handler", or
    /// "Unhandled exception in error handler" for errors no tolerance covers.
    pub fn failed(
        &mut self,
        failure: Failure,
        original: FailedRecord<'_>,
    ) -> Result<(), ConnectError> {
        self.failures += 1;
        self.metrics.record_failure();
        self.metrics.record_error();
        self.report(&failure, original);
        let tolerable = failure.stage.tolerates(&failure.error);
        if tolerable && self.settings.tolerate_all {
            self.metrics.record_skipped();
            return Ok(());
        }
        let head = if tolerable {
            "Tolerance exceeded in error handler"
        } else {
            "Unhandled exception in error handler"
        };
        Err(ConnectError::fatal(format!(
            "{head}\nCaused by: {}: {}\n\tat stage {} with class {} while processing {}",
            failure.error.class_name(),
            failure.error.message(),
            failure.stage.name(),
            failure.class,
            original.location()
        )))
    }

    /// A source record the log refused: with `errors.tolerance=all` it is logged and skipped (Apache
    /// ignores failed sends then); otherwise the task fails.
    ///
    /// # Errors
    /// The task failure when sends are not tolerated.
    pub fn failed_send(&mut self, topic: &str, error: &str) -> Result<(), ConnectError> {
        // Apache's `executeFailed`: a failure, logged when the error log is on, an error only when fatal.
        self.metrics.record_failure();
        if self.settings.log_errors {
            self.metrics.record_error_logged();
        }
        if self.settings.tolerate_all {
            self.failures += 1;
            if self.logged_sends.insert(error.to_owned()) {
                tracing::error!(task = %self.task, topic, error, "Ignoring failed record send: the log refused a record; errors.tolerance=all skips it.");
            }
            return Ok(());
        }
        self.metrics.record_error();
        Err(ConnectError::fatal(format!(
            "Unrecoverable exception from producer send callback: failed to send a record to topic '{topic}': {error}"
        )))
    }

    fn report(&mut self, failure: &Failure, original: FailedRecord<'_>) {
        if self.settings.log_errors {
            self.metrics.record_error_logged();
            let detail = if self.settings.log_messages {
                original.describe()
            } else {
                String::new()
            };
            tracing::error!(
                error = %format!("{}: {}", failure.error.class_name(), failure.error.message()),
                "Error encountered in task {}. Executing stage '{}' with class '{}'{detail}.",
                self.task,
                failure.stage.name(),
                failure.class,
            );
        }
        if let (Some(dlq), FailedRecord::Consumed(record)) = (self.dlq.as_mut(), original) {
            dlq.report(&self.task, failure, record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> ErrorSettings {
        ErrorSettings::from_props(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn handler(pairs: &[(&str, &str)]) -> ErrorHandler {
        ErrorHandler::new(
            ConnectorTaskId::new("c", 0),
            settings(pairs),
            None,
            CancellationToken::new(),
        )
    }

    fn consumed() -> ConsumerRecord {
        ConsumerRecord {
            topic: "t".into(),
            partition: 2,
            offset: 7,
            timestamp: 1000,
            key: None,
            value: Some(Bytes::from_static(b"{")),
            headers: vec![],
        }
    }

    #[test]
    fn reads_apache_keys_and_defaults() {
        let s = settings(&[]);
        assert_eq!(s.retry_timeout_ms, 0);
        assert_eq!(s.max_delay, Duration::from_secs(60));
        assert!(!s.tolerate_all && !s.log_errors && !s.log_messages);
        assert_eq!(s.dlq_replication_factor, 3);
        let s = settings(&[
            ("errors.retry.timeout", "-1"),
            ("errors.retry.delay.max.ms", "1000"),
            ("errors.tolerance", "ALL"),
            ("errors.deadletterqueue.topic.name", " dlq "),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ]);
        assert_eq!(s.retry_timeout_ms, -1);
        assert_eq!(s.max_delay, Duration::from_secs(1));
        assert!(s.tolerate_all && s.dlq_context_headers);
        assert_eq!(s.dlq_topic, "dlq");
        assert_eq!(s.dlq_replication_factor, 1);
    }

    #[test]
    fn backoff_doubles_from_300ms_then_randomises_below_the_maximum() {
        let s = settings(&[("errors.retry.delay.max.ms", "1000")]);
        let now = Instant::now();
        assert_eq!(s.backoff(1, now, None), Duration::from_millis(300));
        assert_eq!(s.backoff(2, now, None), Duration::from_millis(600));
        assert!(s.backoff(3, now, None) < Duration::from_millis(1000));
        assert!(s.backoff(80, now, None) < Duration::from_millis(1000));
        // Never past the deadline.
        assert_eq!(
            s.backoff(2, now, Some(now + Duration::from_millis(50))),
            Duration::from_millis(50)
        );
    }

    #[tokio::test]
    async fn tolerance_none_fails_with_stage_class_and_record() {
        let mut h = handler(&[]);
        let r = consumed();
        let err = h
            .execute(FailedRecord::Consumed(&r), || -> Result<(), Failure> {
                Err(Failure::new(
                    Stage::ValueConverter,
                    "org.apache.kafka.connect.json.JsonConverter",
                    ConnectError::data("bad json"),
                ))
            })
            .await
            .unwrap_err();
        let msg = err.message();
        assert!(
            msg.starts_with("Tolerance exceeded in error handler"),
            "{msg}"
        );
        assert!(msg.contains("org.apache.kafka.connect.errors.DataException: bad json"));
        assert!(msg.contains(
            "stage VALUE_CONVERTER with class org.apache.kafka.connect.json.JsonConverter"
        ));
        assert!(msg.contains("topic 't', partition 2, offset 7"));
        assert_eq!(h.failures(), 1);
    }

    #[tokio::test]
    async fn tolerance_all_skips_converter_failures_but_not_fatal_put_errors() {
        let mut h = handler(&[("errors.tolerance", "all")]);
        let r = consumed();
        let out = h
            .execute(FailedRecord::Consumed(&r), || -> Result<(), Failure> {
                Err(Failure::new(
                    Stage::Transformation,
                    "X",
                    ConnectError::fatal("boom"),
                ))
            })
            .await
            .unwrap();
        assert_eq!(out, None);
        let err = h
            .failed(
                Failure::new(Stage::TaskPut, "SinkTask", ConnectError::fatal("down")),
                FailedRecord::Consumed(&r),
            )
            .unwrap_err();
        assert!(
            err.message()
                .starts_with("Unhandled exception in error handler")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retriable_errors_are_retried_until_they_succeed() {
        let mut h = handler(&[("errors.retry.timeout", "10000")]);
        let r = consumed();
        let mut calls = 0;
        let out = h
            .execute(FailedRecord::Consumed(&r), || {
                calls += 1;
                if calls < 4 {
                    Err(Failure::new(
                        Stage::KeyConverter,
                        "K",
                        ConnectError::retriable("registry unavailable"),
                    ))
                } else {
                    Ok(calls)
                }
            })
            .await
            .unwrap();
        assert_eq!(out, Some(4));
        assert_eq!(h.failures(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_the_deadline_and_the_failure_counts() {
        let mut h = handler(&[
            ("errors.retry.timeout", "1000"),
            ("errors.tolerance", "all"),
        ]);
        let r = consumed();
        let start = Instant::now();
        let mut calls = 0;
        let out = h
            .execute(FailedRecord::Consumed(&r), || -> Result<(), Failure> {
                calls += 1;
                Err(Failure::new(
                    Stage::KeyConverter,
                    "K",
                    ConnectError::retriable("still down"),
                ))
            })
            .await
            .unwrap();
        assert_eq!(out, None);
        // 300 + 600 ms, then the last 100 ms up to the deadline.
        assert_eq!(calls, 4);
        assert!(start.elapsed() >= Duration::from_millis(1000));
        assert_eq!(h.failures(), 1);
    }

    #[tokio::test]
    async fn without_retry_timeout_retriable_errors_fail_at_once() {
        let mut h = handler(&[]);
        let r = consumed();
        let mut calls = 0;
        let err = h
            .execute(FailedRecord::Consumed(&r), || -> Result<(), Failure> {
                calls += 1;
                Err(Failure::new(
                    Stage::KeyConverter,
                    "K",
                    ConnectError::retriable("down"),
                ))
            })
            .await
            .unwrap_err();
        assert_eq!(calls, 1);
        assert!(err.message().contains("RetriableException: down"));
    }

    #[test]
    fn log_descriptions_match_apache_log_reporter() {
        let r = consumed();
        assert_eq!(
            FailedRecord::Consumed(&r).describe(),
            ", where consumed record is {topic='t', partition=2, offset=7, timestamp=1000, timestampType=CreateTime}"
        );
        let mut untimed = consumed();
        untimed.timestamp = -1;
        assert_eq!(
            FailedRecord::Consumed(&untimed).describe(),
            ", where consumed record is {topic='t', partition=2, offset=7}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn task_error_metrics_count_failures_retries_errors_and_skips() {
        let metrics = crate::metrics::ConnectMetrics::new(
            crate::metrics::MetricsSettings::default(),
            Arc::new(crate::status::StatusStore::new()),
        );
        let id = ConnectorTaskId::new("c", 0);
        let mut h = handler(&[
            ("errors.retry.timeout", "1000"),
            ("errors.tolerance", "all"),
            ("errors.log.enable", "true"),
        ])
        .with_metrics(metrics.add_task(&id, crate::herder::entities::ConnectorType::Sink));
        let r = consumed();
        // Four attempts within the retry timeout, then the record is skipped.
        h.execute(FailedRecord::Consumed(&r), || -> Result<(), Failure> {
            Err(Failure::new(
                Stage::KeyConverter,
                "K",
                ConnectError::retriable("still down"),
            ))
        })
        .await
        .unwrap();
        // A failure that is not retriable: one attempt, skipped.
        h.failed(
            Failure::new(Stage::ValueConverter, "V", ConnectError::data("bad")),
            FailedRecord::Consumed(&r),
        )
        .unwrap();
        // Not tolerated at any level: counted as an error, not skipped.
        h.failed(
            Failure::new(Stage::TaskPut, "SinkTask", ConnectError::fatal("down")),
            FailedRecord::Consumed(&r),
        )
        .unwrap_err();
        let text = metrics.encode();
        for (name, n) in [
            ("total_record_failures", 6),
            ("total_retries", 3),
            ("total_record_errors", 3),
            ("total_records_skipped", 2),
            ("total_errors_logged", 3),
            ("deadletterqueue_produce_requests", 0),
        ] {
            let line = format!(
                "kafka_connect_task_error_metrics_{name}_total{{connector=\"c\",task=\"0\"}} {n}\n"
            );
            assert!(text.contains(&line), "{line} missing in\n{text}");
        }
    }

    #[test]
    fn failed_sends_are_skipped_only_when_tolerated() {
        let mut h = handler(&[("errors.tolerance", "all")]);
        assert!(h.failed_send("t", "too large").is_ok());
        let mut h = handler(&[]);
        let err = h.failed_send("t", "too large").unwrap_err();
        assert!(
            err.message()
                .starts_with("Unrecoverable exception from producer send callback")
        );
    }
}
