use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::oneshot;

/// A log error, classified by what the caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// Try again later (broker unavailable, leader moving, queue full).
    #[error("{0}")]
    Retriable(String),
    /// The topic does not exist.
    #[error("Topic {0} does not exist")]
    UnknownTopic(String),
    /// The partition does not exist.
    #[error("Partition {0} does not exist")]
    UnknownPartition(String),
    /// Wrong credentials, TLS failure, authorisation denied.
    #[error("{0}")]
    Auth(String),
    /// The request was invalid (bad topic name, record too large …).
    #[error("{0}")]
    Invalid(String),
    /// I/O or anything else.
    #[error("{0}")]
    Fatal(String),
}

impl LogError {
    /// True for [`LogError::Retriable`].
    pub fn is_retriable(&self) -> bool {
        matches!(self, LogError::Retriable(_))
    }
}

impl From<std::io::Error> for LogError {
    fn from(e: std::io::Error) -> Self {
        LogError::Fatal(e.to_string())
    }
}

/// Result with [`LogError`].
pub type LogResult<T> = Result<T, LogError>;

/// A topic and partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// Pairs a topic and partition.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A record header: key and raw value (null allowed).
pub type RecordHeader = (String, Option<Bytes>);

/// A record to append.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProducerRecord {
    /// Destination topic.
    pub topic: String,
    /// Explicit partition; `None` lets the partitioner choose (murmur2 of the key, as Java's client).
    pub partition: Option<i32>,
    /// Key bytes.
    pub key: Option<Bytes>,
    /// Value bytes (`None` is a tombstone).
    pub value: Option<Bytes>,
    /// Timestamp in ms; `None` means "now".
    pub timestamp: Option<i64>,
    /// Headers in order.
    pub headers: Vec<RecordHeader>,
}

/// Where an appended record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Timestamp stored with the record.
    pub timestamp: i64,
}

/// A record read from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerRecord {
    /// Topic, shared by the records of one partition (no allocation per record).
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp in ms.
    pub timestamp: i64,
    /// Key bytes.
    pub key: Option<Bytes>,
    /// Value bytes.
    pub value: Option<Bytes>,
    /// Headers in order.
    pub headers: Vec<RecordHeader>,
}

/// Completes when the log has acknowledged (durably appended) one record.
///
/// # Cancel safety
/// Dropping it does not cancel the append; only the notification is lost.
pub struct DeliveryFuture(oneshot::Receiver<LogResult<RecordMetadata>>);

impl DeliveryFuture {
    /// A future and the sender that completes it.
    pub fn channel() -> (oneshot::Sender<LogResult<RecordMetadata>>, DeliveryFuture) {
        let (tx, rx) = oneshot::channel();
        (tx, DeliveryFuture(rx))
    }

    /// An already-completed future.
    pub fn ready(result: LogResult<RecordMetadata>) -> DeliveryFuture {
        let (tx, fut) = Self::channel();
        let _ = tx.send(result);
        fut
    }
}

impl Future for DeliveryFuture {
    type Output = LogResult<RecordMetadata>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|r| {
            r.unwrap_or_else(|_| Err(LogError::Fatal("producer closed before delivery".into())))
        })
    }
}

/// Error returned by [`LogProducer::send`]: why the record was not queued, and the record itself, so a
/// caller can retry without having cloned it beforehand.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct SendError {
    /// Why the record was not queued.
    pub error: LogError,
    /// The record, given back (boxed so the `Ok` path stays small).
    pub record: Box<ProducerRecord>,
}

impl From<SendError> for LogError {
    fn from(e: SendError) -> Self {
        e.error
    }
}

/// Appends records to the log.
#[async_trait]
pub trait LogProducer: Send + Sync {
    /// Queues a record. Errors here are immediate (unknown topic, queue full) and give the record back; the
    /// returned future reports the outcome of the append itself.
    fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture, SendError>;

    /// Waits until every queued record has been acknowledged or failed.
    async fn flush(&self, timeout: Duration) -> LogResult<()>;
}

/// What a consumer subscribes to.
#[derive(Debug, Clone)]
pub enum Subscription {
    /// A fixed list of topics.
    Topics(Vec<String>),
    /// Every topic whose whole name matches the regex (Java `Pattern.matcher(t).matches()`).
    Pattern(regex::Regex),
}

/// What a poll returned.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsumerEvent {
    /// Records, in offset order per partition.
    Records(Vec<ConsumerRecord>),
    /// Partitions newly assigned to this consumer (the sink task's `open`). Positions start at the group's
    /// committed offset, or the earliest offset when none is committed.
    Assigned(Vec<TopicPartition>),
    /// Partitions taken away from this consumer (the sink task's `close`). Commit before polling again, or
    /// progress on them is lost to the next owner.
    Revoked(Vec<TopicPartition>),
}

/// Consumer settings shared by both backends.
#[derive(Debug, Clone, Default)]
pub struct ConsumerConfig {
    /// Consumer group (`connect-<connector>` for sink tasks).
    pub group_id: String,
    /// Client id, for logs.
    pub client_id: String,
    /// Extra backend properties (`consumer.*` worker settings for Kafka).
    pub properties: HashMap<String, String>,
}

/// Producer settings shared by both backends.
#[derive(Debug, Clone, Default)]
pub struct ProducerConfig {
    /// Client id, for logs.
    pub client_id: String,
    /// Extra backend properties (`producer.*` worker settings for Kafka).
    pub properties: HashMap<String, String>,
}

/// A member of a consumer group.
///
/// Calls come from one task; the consumer is not shared.
#[async_trait]
pub trait LogConsumer: Send {
    /// Subscribes; assignments arrive as [`ConsumerEvent::Assigned`] from later polls.
    async fn subscribe(&mut self, subscription: Subscription) -> LogResult<()>;

    /// The next event, waiting at most `timeout`. `Ok(None)` when nothing happened.
    ///
    /// # Cancel safety
    /// Cancel-safe: an event is either returned or kept for the next poll.
    async fn poll(&mut self, timeout: Duration) -> LogResult<Option<ConsumerEvent>>;

    /// Partitions currently assigned.
    fn assignment(&self) -> Vec<TopicPartition>;

    /// Moves the position of an assigned partition.
    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> LogResult<()>;

    /// The next offset that would be read from an assigned partition.
    fn position(&self, tp: &TopicPartition) -> Option<i64>;

    /// Stops fetching from these partitions (still members of the group).
    fn pause(&mut self, partitions: &[TopicPartition]);

    /// Resumes fetching.
    fn resume(&mut self, partitions: &[TopicPartition]);

    /// Commits offsets (next offset to read) for the group, durably.
    async fn commit(&mut self, offsets: &HashMap<TopicPartition, i64>) -> LogResult<()>;

    /// Committed offsets of the group for these partitions.
    async fn committed(
        &self,
        partitions: &[TopicPartition],
    ) -> LogResult<HashMap<TopicPartition, i64>>;

    /// Leaves the group; assigned partitions go to other members.
    async fn close(&mut self) -> LogResult<()>;
}

/// A topic to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTopic {
    /// Name.
    pub name: String,
    /// Partitions; `None` = backend default (1 for the embedded log).
    pub partitions: Option<i32>,
    /// Replication factor; `None` = backend default. Ignored by the embedded log.
    pub replication_factor: Option<i16>,
    /// Topic configs (`cleanup.policy` …).
    pub configs: HashMap<String, String>,
}

impl NewTopic {
    /// A topic with default settings.
    pub fn new(name: impl Into<String>) -> Self {
        NewTopic {
            name: name.into(),
            partitions: None,
            replication_factor: None,
            configs: HashMap::new(),
        }
    }
}

/// The log a worker runs on: an embedded one or a Kafka cluster.
#[async_trait]
pub trait LogBackend: Send + Sync {
    /// The cluster id (`GET /` shows it as `kafka_cluster_id`).
    fn cluster_id(&self) -> String;

    /// Whether topics are auto-created on first produce (true for the embedded log, whose topics are created
    /// with `default_partitions`).
    fn auto_creates_topics(&self) -> bool;

    /// Creates a topic; `Ok(false)` if it already existed.
    async fn create_topic(&self, topic: NewTopic) -> LogResult<bool>;

    /// As [`LogBackend::create_topic`], with a connector's own admin client settings
    /// (`admin.override.*`, prefix removed). Backends without client settings ignore them.
    async fn create_topic_with(
        &self,
        topic: NewTopic,
        admin_overrides: &HashMap<String, String>,
    ) -> LogResult<bool> {
        let _ = admin_overrides;
        self.create_topic(topic).await
    }

    /// Number of partitions of a topic, or `None` if it does not exist.
    async fn partition_count(&self, topic: &str) -> LogResult<Option<i32>>;

    /// All topic names.
    async fn list_topics(&self) -> LogResult<Vec<String>>;

    /// The offset after the last record of each partition (the high watermark).
    async fn end_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> LogResult<HashMap<TopicPartition, i64>>;

    /// A producer.
    fn producer(&self, config: ProducerConfig) -> LogResult<std::sync::Arc<dyn LogProducer>>;

    /// A consumer in a group.
    fn consumer(&self, config: ConsumerConfig) -> LogResult<Box<dyn LogConsumer>>;

    /// Committed offsets of every partition of a group (for `GET /connectors/{c}/offsets` on sinks).
    async fn group_offsets(&self, group_id: &str) -> LogResult<HashMap<TopicPartition, i64>>;

    /// Sets (`Some`) or deletes (`None`) committed offsets of a group that has no active members.
    async fn alter_group_offsets(
        &self,
        group_id: &str,
        offsets: &HashMap<TopicPartition, Option<i64>>,
    ) -> LogResult<()>;

    /// Deletes a group and its committed offsets; fails if it has active members.
    async fn delete_group(&self, group_id: &str) -> LogResult<()>;

    /// The `cleanup.policy` of an existing topic as its configuration describes it, for the check distributed
    /// workers make on their internal topics. `Ok(None)` when it cannot be told: the topic does not exist,
    /// describing it is not permitted or not supported (Apache then skips the check), or the backend has no
    /// topic configurations.
    async fn topic_cleanup_policy(&self, topic: &str) -> LogResult<Option<String>> {
        let _ = topic;
        Ok(None)
    }

    /// Opens `topic` (which must exist) as an internal topic log: read whole from its beginning by a
    /// background reader that hands every record to `on_record`, and returned once everything already in the
    /// topic was handed over. Distributed workers keep their config, offsets and status topics this way.
    ///
    /// # Errors
    /// Backends that cannot be shared by several workers (the embedded log) refuse.
    async fn open_internal_topic(
        &self,
        topic: &str,
        client_id: &str,
        on_record: TopicRecordCallback,
    ) -> LogResult<Arc<dyn InternalTopicLog>> {
        let _ = (client_id, on_record);
        Err(LogError::Invalid(format!(
            "Topic {topic} cannot be an internal topic of a distributed worker on this log: distributed mode \
             needs a Kafka cluster (set bootstrap.servers)"
        )))
    }
}

/// One record of an internal topic, as handed to its reader's callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRecord {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes (`None` is a tombstone).
    pub value: Option<Vec<u8>>,
    /// Timestamp in ms, if the record has one.
    pub timestamp: Option<i64>,
}

/// Receives an internal topic's records, in order within each partition, on the reader's thread.
pub type TopicRecordCallback = Box<dyn FnMut(TopicRecord) + Send>;

/// A topic read whole and followed, with appends (Apache's `KafkaBasedLog`).
#[async_trait]
pub trait InternalTopicLog: Send + Sync {
    /// The topic.
    fn topic(&self) -> &str;

    /// Completes once every record written before this call was handed to the callback (`readToEnd`).
    async fn read_to_end(&self) -> LogResult<()>;

    /// Appends a record, partitioned by the murmur2 hash of its key as Java's producer does, and waits for
    /// the acknowledgement. Returns its partition and offset.
    async fn send(&self, key: Option<&[u8]>, value: Option<&[u8]>) -> LogResult<(i32, i64)>;
}
