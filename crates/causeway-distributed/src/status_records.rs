//! The status topic's records (`KafkaStatusBackingStore`): connector, task and active-topic status keys and
//! values with their exact bytes, and the store's generation-based conflict rules as pure functions.
//!
//! Values are schemaless JSON in schema field order: `{"state","trace","worker_id","generation"}` and
//! `{"topic":{"name","connector","task","discoverTimestamp"}}`. `DESTROYED` is never serialised; it is
//! written as a tombstone.
use serde_json::{Map, Value, json};

use crate::config_records::{ConnectorTaskId, parse_task_id};
use crate::offset_records::{decode_json, encode_json, java_class_name};

/// `status-connector-<name>`.
pub const CONNECTOR_STATUS_PREFIX: &str = "status-connector-";
/// `status-task-<name>-<n>`.
pub const TASK_STATUS_PREFIX: &str = "status-task-";
/// `status-topic-<topic>:connector-<name>` (KIP-558).
pub const TOPIC_STATUS_PREFIX: &str = "status-topic-";
/// Separates topic and connector in a topic-status key.
pub const TOPIC_STATUS_SEPARATOR: &str = ":connector-";

/// A connector or task state (`AbstractStatus.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusState {
    /// Not assigned to a worker (or not started yet).
    Unassigned,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Failed; `trace` holds the stack trace.
    Failed,
    /// Deleted; written as a tombstone, never as a value.
    Destroyed,
    /// Being restarted.
    Restarting,
    /// Stopped (connectors only).
    Stopped,
}

impl StatusState {
    /// The Java enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusState::Unassigned => "UNASSIGNED",
            StatusState::Running => "RUNNING",
            StatusState::Paused => "PAUSED",
            StatusState::Failed => "FAILED",
            StatusState::Destroyed => "DESTROYED",
            StatusState::Restarting => "RESTARTING",
            StatusState::Stopped => "STOPPED",
        }
    }

    /// Parses a Java enum name (exact, like `State.valueOf`).
    pub fn parse(name: &str) -> Option<StatusState> {
        Some(match name {
            "UNASSIGNED" => StatusState::Unassigned,
            "RUNNING" => StatusState::Running,
            "PAUSED" => StatusState::Paused,
            "FAILED" => StatusState::Failed,
            "DESTROYED" => StatusState::Destroyed,
            "RESTARTING" => StatusState::Restarting,
            "STOPPED" => StatusState::Stopped,
            _ => return None,
        })
    }

    /// Whether Apache writes this state with `putSafe` (subject to [`can_write_safely`]) rather than an
    /// unconditional `put`: UNASSIGNED and FAILED.
    pub fn uses_safe_write(self) -> bool {
        matches!(self, StatusState::Unassigned | StatusState::Failed)
    }
}

/// A connector or task status value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusValue {
    /// The state.
    pub state: StatusState,
    /// Stack trace of a failure, else `None`.
    pub trace: Option<String>,
    /// `host:port` of the writing worker. Apache's reader accepts a missing one; its writer requires it.
    pub worker_id: Option<String>,
    /// The worker-group generation the writer was in.
    pub generation: i32,
}

impl StatusValue {
    /// A status written by `worker_id` in `generation`.
    pub fn new(
        state: StatusState,
        worker_id: impl Into<String>,
        generation: i32,
        trace: Option<String>,
    ) -> Self {
        StatusValue {
            state,
            trace,
            worker_id: Some(worker_id.into()),
            generation,
        }
    }

    /// The value bytes Apache writes: `None` (a tombstone) for DESTROYED.
    pub fn to_value_bytes(&self) -> Result<Option<Vec<u8>>, StatusRecordError> {
        if self.state == StatusState::Destroyed {
            return Ok(None);
        }
        let Some(worker_id) = &self.worker_id else {
            return Err(StatusRecordError::Malformed(
                "Invalid value: null used for required field: \"worker_id\", schema type: STRING"
                    .to_owned(),
            ));
        };
        let value = json!({
            "state": self.state.as_str(),
            "trace": self.trace,
            "worker_id": worker_id,
            "generation": self.generation,
        });
        Ok(Some(encode_json(&value)))
    }

    /// Parses value bytes with the checks of Apache's `parseConnectorStatus`/`parseTaskStatus`:
    /// `state` a known name, `trace`/`worker_id` strings or absent, `generation` an integral number.
    pub fn from_value_bytes(bytes: &[u8]) -> Result<StatusValue, StatusRecordError> {
        let value = decode_json(Some(bytes))?;
        let Value::Object(m) = value else {
            return Err(StatusRecordError::Malformed(format!(
                "Invalid status type {}",
                java_class_name(&value)
            )));
        };
        let state = match m.get("state") {
            Some(Value::String(s)) => StatusState::parse(s).ok_or_else(|| {
                StatusRecordError::Malformed(format!("No enum constant State.{s}"))
            })?,
            other => return Err(field_error("state", "String", other)),
        };
        let trace = optional_string(&m, "trace")?;
        let worker_id = optional_string(&m, "worker_id")?;
        let generation = match m.get("generation").and_then(long_value) {
            Some(g) => g as i32,
            None => return Err(field_error("generation", "Long", m.get("generation"))),
        };
        Ok(StatusValue {
            state,
            trace,
            worker_id,
            generation,
        })
    }
}

/// A KIP-558 active topic: the first task of a connector that used the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicStatus {
    /// Topic name.
    pub topic: String,
    /// Connector name.
    pub connector: String,
    /// The task that first used the topic.
    pub task: i32,
    /// When it was first used, ms since the epoch.
    pub discover_timestamp: i64,
}

impl TopicStatus {
    /// The record key, `status-topic-<topic>:connector-<connector>`.
    pub fn key(&self) -> String {
        StatusKey::Topic {
            topic: self.topic.clone(),
            connector: self.connector.clone(),
        }
        .to_key_string()
    }

    /// The value bytes: `{"topic":{"name":..,"connector":..,"task":..,"discoverTimestamp":..}}`.
    pub fn to_value_bytes(&self) -> Vec<u8> {
        encode_json(&json!({
            "topic": {
                "name": self.topic,
                "connector": self.connector,
                "task": self.task,
                "discoverTimestamp": self.discover_timestamp,
            }
        }))
    }

    /// Parses value bytes as Apache's `parseTopicStatus` does (the key is not cross-checked).
    pub fn from_value_bytes(bytes: &[u8]) -> Result<TopicStatus, StatusRecordError> {
        let value = decode_json(Some(bytes))?;
        let Value::Object(outer) = value else {
            return Err(StatusRecordError::Malformed(format!(
                "Invalid topic status value {}",
                java_class_name(&value)
            )));
        };
        let Some(Value::Object(m)) = outer.get("topic") else {
            return Err(StatusRecordError::Malformed(
                "Invalid topic status value for field topic".to_owned(),
            ));
        };
        let string = |name: &str| match m.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            other => Err(field_error(name, "String", other)),
        };
        let long = |name: &str| {
            m.get(name)
                .and_then(long_value)
                .ok_or_else(|| field_error(name, "Long", m.get(name)))
        };
        Ok(TopicStatus {
            topic: string("name")?,
            connector: string("connector")?,
            task: long("task")? as i32,
            discover_timestamp: long("discoverTimestamp")?,
        })
    }
}

/// A status-topic key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKey {
    /// `status-connector-<name>`.
    Connector(String),
    /// `status-task-<name>-<n>`.
    Task(ConnectorTaskId),
    /// `status-topic-<topic>:connector-<name>`.
    Topic {
        /// Topic name.
        topic: String,
        /// Connector name.
        connector: String,
    },
}

impl StatusKey {
    /// Parses a key with Apache's rules; unusable keys are errors the reader logs and skips.
    pub fn parse(key: &str) -> Result<StatusKey, StatusRecordError> {
        let invalid = |what: &str| StatusRecordError::InvalidKey(format!("{what} {key}"));
        if let Some(name) = key.strip_prefix(CONNECTOR_STATUS_PREFIX) {
            if name.is_empty() {
                return Err(invalid(
                    "Discarding record with invalid connector status key",
                ));
            }
            Ok(StatusKey::Connector(name.to_owned()))
        } else if key.starts_with(TASK_STATUS_PREFIX) {
            parse_task_id(key, 2)
                .map(StatusKey::Task)
                .ok_or_else(|| invalid("Discarding record with invalid task status key"))
        } else if let Some(rest) = key.strip_prefix(TOPIC_STATUS_PREFIX) {
            // Topic = text up to the first ':'; connector = text after the separator's length, which
            // Apache does not check is really ":connector-".
            let Some(colon) = rest.find(':') else {
                return Err(invalid("Discarding record with invalid topic status key"));
            };
            let topic = &rest[..colon];
            if topic.is_empty() {
                return Err(invalid(
                    "Discarding record with invalid topic status key containing empty topic",
                ));
            }
            let Some(connector) = skip_utf16_units(&rest[colon..], TOPIC_STATUS_SEPARATOR.len())
            else {
                return Err(invalid("Discarding record with invalid topic status key"));
            };
            if connector.is_empty() {
                return Err(invalid(
                    "Discarding record with invalid topic status key containing empty connector",
                ));
            }
            Ok(StatusKey::Topic {
                topic: topic.to_owned(),
                connector: connector.to_owned(),
            })
        } else {
            Err(invalid("Discarding record with invalid key"))
        }
    }

    /// The key string.
    pub fn to_key_string(&self) -> String {
        match self {
            StatusKey::Connector(name) => format!("{CONNECTOR_STATUS_PREFIX}{name}"),
            StatusKey::Task(id) => format!("{TASK_STATUS_PREFIX}{}-{}", id.connector, id.task),
            StatusKey::Topic { topic, connector } => {
                format!("{TOPIC_STATUS_PREFIX}{topic}{TOPIC_STATUS_SEPARATOR}{connector}")
            }
        }
    }
}

/// Java `substring(n)` on a string's UTF-16 units; `None` past the end or inside a surrogate pair.
fn skip_utf16_units(s: &str, units: usize) -> Option<&str> {
    let mut skipped = 0;
    for (i, c) in s.char_indices() {
        if skipped == units {
            return Some(&s[i..]);
        }
        skipped += c.len_utf16();
        if skipped > units {
            return None;
        }
    }
    (skipped == units).then_some("")
}

/// A decoded status-topic record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRecord {
    /// A connector's status; `None` is a tombstone (connector and all its task statuses removed).
    Connector {
        /// Connector name.
        connector: String,
        /// Status, or `None` for a tombstone.
        status: Option<StatusValue>,
    },
    /// A task's status; `None` is a tombstone.
    Task {
        /// Task id.
        id: ConnectorTaskId,
        /// Status, or `None` for a tombstone.
        status: Option<StatusValue>,
    },
    /// An active topic; `None` is a tombstone (topic reset).
    Topic {
        /// Topic name (from the key).
        topic: String,
        /// Connector name (from the key).
        connector: String,
        /// Status, or `None` for a tombstone.
        status: Option<TopicStatus>,
    },
}

impl StatusRecord {
    /// Decodes a consumed record (`value` `None` = tombstone). Only absent bytes are tombstones; the
    /// text `null` is a malformed value, as in Apache.
    pub fn decode(key: &str, value: Option<&[u8]>) -> Result<StatusRecord, StatusRecordError> {
        Ok(match StatusKey::parse(key)? {
            StatusKey::Connector(connector) => StatusRecord::Connector {
                connector,
                status: value.map(StatusValue::from_value_bytes).transpose()?,
            },
            StatusKey::Task(id) => StatusRecord::Task {
                id,
                status: value.map(StatusValue::from_value_bytes).transpose()?,
            },
            StatusKey::Topic { topic, connector } => StatusRecord::Topic {
                topic,
                connector,
                status: value.map(TopicStatus::from_value_bytes).transpose()?,
            },
        })
    }

    /// The record's key.
    pub fn key(&self) -> String {
        match self {
            StatusRecord::Connector { connector, .. } => {
                StatusKey::Connector(connector.clone()).to_key_string()
            }
            StatusRecord::Task { id, .. } => StatusKey::Task(id.clone()).to_key_string(),
            StatusRecord::Topic {
                topic, connector, ..
            } => StatusKey::Topic {
                topic: topic.clone(),
                connector: connector.clone(),
            }
            .to_key_string(),
        }
    }

    /// The value bytes; `None` is a tombstone (also for DESTROYED statuses).
    pub fn value_bytes(&self) -> Result<Option<Vec<u8>>, StatusRecordError> {
        match self {
            StatusRecord::Connector { status, .. } | StatusRecord::Task { status, .. } => {
                match status {
                    Some(s) => s.to_value_bytes(),
                    None => Ok(None),
                }
            }
            StatusRecord::Topic { status, .. } => {
                Ok(status.as_ref().map(TopicStatus::to_value_bytes))
            }
        }
    }
}

/// Why a status record could not be used; Apache logs and skips it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusRecordError {
    /// The key is not a usable status key.
    #[error("{0}")]
    InvalidKey(String),
    /// The value bytes are not JSON.
    #[error("Failed to deserialize status: {0}")]
    InvalidJson(#[from] crate::offset_records::JsonDecodeError),
    /// The value does not have the status shape.
    #[error("Failed to deserialize status: {0}")]
    Malformed(String),
}

fn field_error(name: &str, expected: &str, found: Option<&Value>) -> StatusRecordError {
    StatusRecordError::Malformed(format!(
        "field '{name}' should be a {expected} but is {}",
        found.map_or("null", java_class_name)
    ))
}

fn optional_string(
    m: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, StatusRecordError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        other => Err(field_error(name, "String", other)),
    }
}

/// Java's `Long` view of an integral JSON number.
fn long_value(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)),
        _ => None,
    }
}

/// `putSafe`'s rule: a status may overwrite the locally cached one only if there is none, it was written
/// by the same worker, or its generation is not newer than the incoming one.
pub fn can_write_safely(cached: Option<&StatusValue>, incoming: &StatusValue) -> bool {
    match cached {
        None => true,
        Some(cached) => {
            (cached.worker_id.is_some() && cached.worker_id == incoming.worker_id)
                || cached.generation <= incoming.generation
        }
    }
}

/// The reader's rule for task statuses: an UNASSIGNED status is ignored when the cached one is RUNNING at
/// the same or a newer generation (a worker that had not seen the RUNNING write). Everything else applies.
pub fn should_apply_read_task_status(cached: Option<&StatusValue>, incoming: &StatusValue) -> bool {
    !(incoming.state == StatusState::Unassigned
        && cached.is_some_and(|c| {
            c.state == StatusState::Running && c.generation >= incoming.generation
        }))
}

/// Apache's per-key status cache entry: the latest status read or written, a write sequence number and a
/// deleted flag, which together decide whether a failed write is retried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCacheEntry {
    /// The latest known status.
    pub value: Option<StatusValue>,
    sequence: u32,
    deleted: bool,
}

impl StatusCacheEntry {
    /// An empty entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a status read from the topic.
    pub fn put(&mut self, value: StatusValue) {
        self.value = Some(value);
    }

    /// Marks the entry deleted (its connector or task tombstone was read).
    pub fn delete(&mut self) {
        self.deleted = true;
    }

    /// Whether the entry was deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted
    }

    /// Decides a local write: `None` if a safe write is refused, else the write's sequence number.
    pub fn begin_write(&mut self, status: &StatusValue, safe_write: bool) -> Option<u32> {
        if safe_write && !can_write_safely(self.value.as_ref(), status) {
            return None;
        }
        self.sequence = self.sequence.wrapping_add(1);
        Some(self.sequence)
    }

    /// Whether a write that failed with a retriable error should be resent: not if the entry was
    /// deleted, the store's generation moved on, or (for safe writes) a newer write happened or the
    /// cached status no longer allows it.
    pub fn should_retry(
        &self,
        status: &StatusValue,
        sequence: u32,
        safe_write: bool,
        store_generation: i32,
    ) -> bool {
        !(self.deleted
            || status.generation != store_generation
            || (safe_write
                && !(can_write_safely(self.value.as_ref(), status) && self.sequence == sequence)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_status_golden_from_spec() {
        let status = StatusValue::new(StatusState::Running, "10.0.0.5:8083", 7, None);
        let bytes = status.to_value_bytes().unwrap().unwrap();
        assert_eq!(
            bytes,
            br#"{"state":"RUNNING","trace":null,"worker_id":"10.0.0.5:8083","generation":7}"#
        );
        let record = StatusRecord::Connector {
            connector: "local-file-source".into(),
            status: Some(status.clone()),
        };
        assert_eq!(record.key(), "status-connector-local-file-source");
        assert_eq!(
            StatusRecord::decode(&record.key(), Some(&bytes)).unwrap(),
            record
        );
    }

    #[test]
    fn failed_task_status_with_trace() {
        let trace = "org.apache.kafka.connect.errors.ConnectException: boom\n\tat X.y(X.java:1)";
        let status = StatusValue::new(StatusState::Failed, "10.0.0.6:8083", 7, Some(trace.into()));
        let bytes = status.to_value_bytes().unwrap().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"state":"FAILED","trace":"org.apache.kafka.connect.errors.ConnectException: boom\n\tat X.y(X.java:1)","worker_id":"10.0.0.6:8083","generation":7}"#
        );
        let record = StatusRecord::decode("status-task-local-file-source-0", Some(&bytes)).unwrap();
        assert_eq!(
            record,
            StatusRecord::Task {
                id: ConnectorTaskId::new("local-file-source", 0),
                status: Some(status),
            }
        );
        assert_eq!(record.key(), "status-task-local-file-source-0");
    }

    #[test]
    fn destroyed_is_a_tombstone() {
        let status = StatusValue::new(StatusState::Destroyed, "w:1", 3, None);
        assert_eq!(status.to_value_bytes().unwrap(), None);
        assert_eq!(
            StatusRecord::decode("status-connector-c", None).unwrap(),
            StatusRecord::Connector {
                connector: "c".into(),
                status: None
            }
        );
        // Only absent bytes are tombstones.
        assert!(StatusRecord::decode("status-connector-c", Some(b"null")).is_err());
        assert!(StatusRecord::decode("status-connector-c", Some(b"")).is_err());
    }

    #[test]
    fn topic_status_golden_from_spec() {
        let status = TopicStatus {
            topic: "connect-test".into(),
            connector: "local-file-source".into(),
            task: 0,
            discover_timestamp: 1729800000123,
        };
        assert_eq!(
            status.key(),
            "status-topic-connect-test:connector-local-file-source"
        );
        let bytes = status.to_value_bytes();
        assert_eq!(
            bytes,
            br#"{"topic":{"name":"connect-test","connector":"local-file-source","task":0,"discoverTimestamp":1729800000123}}"#
        );
        let record = StatusRecord::decode(&status.key(), Some(&bytes)).unwrap();
        assert_eq!(
            record,
            StatusRecord::Topic {
                topic: "connect-test".into(),
                connector: "local-file-source".into(),
                status: Some(status),
            }
        );
        assert_eq!(record.value_bytes().unwrap(), Some(bytes));
    }

    #[test]
    fn key_parsing_follows_apache() {
        assert_eq!(
            StatusKey::parse("status-task-my-conn-3").unwrap(),
            StatusKey::Task(ConnectorTaskId::new("my-conn", 3))
        );
        assert!(StatusKey::parse("status-task-foo").is_err());
        assert!(StatusKey::parse("status-task-foo-x").is_err());
        assert!(StatusKey::parse("status-connector-").is_err());
        assert!(StatusKey::parse("other").is_err());
        // Topic up to the first ':'; a topic name cannot hold ':' but a connector name can.
        assert_eq!(
            StatusKey::parse("status-topic-t:connector-a:b").unwrap(),
            StatusKey::Topic {
                topic: "t".into(),
                connector: "a:b".into()
            }
        );
        assert!(StatusKey::parse("status-topic-t").is_err());
        assert!(StatusKey::parse("status-topic-:connector-c").is_err());
        assert!(StatusKey::parse("status-topic-t:connector-").is_err());
        assert!(StatusKey::parse("status-topic-t:conn").is_err());
        // Apache does not check the separator text.
        assert_eq!(
            StatusKey::parse("status-topic-t:XXXXXXXXXXabc").unwrap(),
            StatusKey::Topic {
                topic: "t".into(),
                connector: "abc".into()
            }
        );
        assert!(StatusKey::parse("status-topic-t:connécteur-abc").is_ok());
    }

    #[test]
    fn value_parsing_tolerance_and_errors() {
        // Missing trace and worker_id are accepted.
        let v = StatusValue::from_value_bytes(br#"{"state":"PAUSED","generation":2}"#).unwrap();
        assert_eq!(v.worker_id, None);
        assert_eq!(v.trace, None);
        assert!(v.to_value_bytes().is_err());
        for bad in [
            &br#"{"state":"RUNNING","worker_id":"w","generation":2.0}"#[..],
            br#"{"state":"RUNNING","worker_id":"w"}"#,
            br#"{"state":"running","worker_id":"w","generation":1}"#,
            br#"{"worker_id":"w","generation":1}"#,
            br#"{"state":"RUNNING","worker_id":5,"generation":1}"#,
            br#"[1]"#,
            b"{oops",
        ] {
            assert!(
                StatusValue::from_value_bytes(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(
            TopicStatus::from_value_bytes(br#"{"topic":{"name":"t","connector":"c","task":0}}"#)
                .is_err()
        );
        assert!(TopicStatus::from_value_bytes(br#"{"topic":[]}"#).is_err());
    }

    #[test]
    fn safe_write_rule() {
        let incoming = StatusValue::new(StatusState::Failed, "w1", 5, Some("t".into()));
        assert!(can_write_safely(None, &incoming));
        let same_worker_newer = StatusValue::new(StatusState::Running, "w1", 9, None);
        assert!(can_write_safely(Some(&same_worker_newer), &incoming));
        let other_worker_older = StatusValue::new(StatusState::Running, "w2", 5, None);
        assert!(can_write_safely(Some(&other_worker_older), &incoming));
        let other_worker_newer = StatusValue::new(StatusState::Running, "w2", 6, None);
        assert!(!can_write_safely(Some(&other_worker_newer), &incoming));
        assert!(StatusState::Unassigned.uses_safe_write());
        assert!(StatusState::Failed.uses_safe_write());
        assert!(!StatusState::Running.uses_safe_write());
    }

    #[test]
    fn stale_unassigned_is_ignored_on_read() {
        let running = StatusValue::new(StatusState::Running, "w1", 5, None);
        let unassigned_same = StatusValue::new(StatusState::Unassigned, "w2", 5, None);
        let unassigned_newer = StatusValue::new(StatusState::Unassigned, "w2", 6, None);
        assert!(!should_apply_read_task_status(
            Some(&running),
            &unassigned_same
        ));
        assert!(should_apply_read_task_status(
            Some(&running),
            &unassigned_newer
        ));
        assert!(should_apply_read_task_status(None, &unassigned_same));
        let failed = StatusValue::new(StatusState::Failed, "w2", 1, None);
        assert!(should_apply_read_task_status(Some(&running), &failed));
    }

    #[test]
    fn cache_entry_retry_rules() {
        let mut entry = StatusCacheEntry::new();
        let failed = StatusValue::new(StatusState::Failed, "w1", 4, None);
        let seq = entry.begin_write(&failed, true).unwrap();
        assert!(entry.should_retry(&failed, seq, true, 4));
        // The store moved to another generation.
        assert!(!entry.should_retry(&failed, seq, true, 5));
        // A newer local write supersedes the failed one.
        let running = StatusValue::new(StatusState::Running, "w1", 4, None);
        let newer = entry.begin_write(&running, false).unwrap();
        assert!(!entry.should_retry(&failed, seq, true, 4));
        assert!(entry.should_retry(&running, newer, false, 4));
        // Another worker's newer status blocks safe writes.
        entry.put(StatusValue::new(StatusState::Running, "w2", 8, None));
        assert_eq!(entry.begin_write(&failed, true), None);
        assert!(entry.begin_write(&running, false).is_some());
        entry.delete();
        assert!(entry.is_deleted());
        assert!(!entry.should_retry(&running, newer + 1, false, 4));
    }
}
