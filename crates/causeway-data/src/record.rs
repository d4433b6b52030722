use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::{Headers, SchemaRef, Value};

/// A source partition or source offset: a JSON object with primitive values, kept in the order the
/// connector built it so the same partition always serialises to the same key bytes.
pub type SourceMap = serde_json::Map<String, serde_json::Value>;

/// A topic and partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// Pairs a topic and a partition.
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

/// What a sink record's timestamp means (`TimestampType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampType {
    /// No timestamp.
    #[default]
    NoTimestampType,
    /// Set by the producer.
    CreateTime,
    /// Set by the broker on append.
    LogAppendTime,
}

/// The fields every Connect record has (`ConnectRecord`): what transforms and converters see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectRecord {
    /// Destination (source) or origin (sink) topic.
    pub topic: String,
    /// Explicit partition, if any.
    pub kafka_partition: Option<i32>,
    /// Key schema.
    pub key_schema: Option<SchemaRef>,
    /// Key.
    pub key: Value,
    /// Value schema.
    pub value_schema: Option<SchemaRef>,
    /// Value.
    pub value: Value,
    /// Timestamp in ms since the epoch.
    pub timestamp: Option<i64>,
    /// Headers.
    pub headers: Headers,
}

impl ConnectRecord {
    /// A record with just a topic and a schema'd value.
    pub fn new(topic: impl Into<String>, value_schema: Option<SchemaRef>, value: Value) -> Self {
        ConnectRecord {
            topic: topic.into(),
            value_schema,
            value,
            ..Default::default()
        }
    }

    /// Replaces the key and its schema.
    pub fn with_key(mut self, key_schema: Option<SchemaRef>, key: Value) -> Self {
        self.key_schema = key_schema;
        self.key = key;
        self
    }

    /// Replaces the timestamp.
    pub fn with_timestamp(mut self, timestamp: Option<i64>) -> Self {
        self.timestamp = timestamp;
        self
    }
}

impl fmt::Display for ConnectRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ConnectRecord{{topic='{}', kafkaPartition={}, key={}, value={}, timestamp={}, headers={:?}}}",
            self.topic,
            self.kafka_partition
                .map_or("null".into(), |p| p.to_string()),
            self.key,
            self.value,
            self.timestamp.map_or("null".into(), |t| t.to_string()),
            self.headers.iter().map(|h| &h.key).collect::<Vec<_>>()
        )
    }
}

/// A record produced by a source task, with where it came from (`SourceRecord`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceRecord {
    /// Where in the source system the record lives (e.g. `{"filename": "/x"}`); shared, since a task's
    /// records mostly come from a few partitions.
    pub source_partition: Option<Arc<SourceMap>>,
    /// How far into that partition this record is (e.g. `{"position": 42}`).
    pub source_offset: Option<SourceMap>,
    /// The record itself.
    pub record: ConnectRecord,
}

impl SourceRecord {
    /// A source record with a value schema and value.
    pub fn new(
        source_partition: Option<SourceMap>,
        source_offset: Option<SourceMap>,
        topic: impl Into<String>,
        value_schema: Option<SchemaRef>,
        value: Value,
    ) -> Self {
        SourceRecord {
            source_partition: source_partition.map(Arc::new),
            source_offset,
            record: ConnectRecord::new(topic, value_schema, value),
        }
    }
}

impl Deref for SourceRecord {
    type Target = ConnectRecord;
    fn deref(&self) -> &ConnectRecord {
        &self.record
    }
}

impl DerefMut for SourceRecord {
    fn deref_mut(&mut self) -> &mut ConnectRecord {
        &mut self.record
    }
}

/// A record delivered to a sink task, with its Kafka coordinates (`SinkRecord`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SinkRecord {
    /// Offset in the partition.
    pub kafka_offset: i64,
    /// Meaning of the timestamp.
    pub timestamp_type: TimestampType,
    /// Topic before any transformation (KIP-793).
    pub original_topic: Arc<str>,
    /// Partition before any transformation.
    pub original_kafka_partition: i32,
    /// Offset before any transformation.
    pub original_kafka_offset: i64,
    /// The record itself (`kafka_partition` is always set for sink records).
    pub record: ConnectRecord,
}

impl Deref for SinkRecord {
    type Target = ConnectRecord;
    fn deref(&self) -> &ConnectRecord {
        &self.record
    }
}

impl DerefMut for SinkRecord {
    fn deref_mut(&mut self) -> &mut ConnectRecord {
        &mut self.record
    }
}
