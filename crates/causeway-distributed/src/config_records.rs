//! The config topic's records (`KafkaConfigBackingStore`): typed keys and values and their exact bytes in
//! both directions.
//!
//! Keys are plain UTF-8 strings; values are the schemaless JSON Apache's internal converter writes for each
//! record's Connect struct, members in schema field order (see [`crate::offset_records::encode_json`]).
//! Decoding follows the Java consumer callback's checks and tolerances: unknown keys become
//! [`ConfigRecord::Unknown`], malformed values become a [`ConfigRecordError`] the reader logs and skips.
use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value, json};

use crate::offset_records::{JsonDecodeError, decode_json, encode_json, java_class_name};

/// `target-state-<name>`.
pub const TARGET_STATE_PREFIX: &str = "target-state-";
/// `connector-<name>`.
pub const CONNECTOR_PREFIX: &str = "connector-";
/// `task-<name>-<n>`.
pub const TASK_PREFIX: &str = "task-";
/// `commit-<name>`.
pub const COMMIT_TASKS_PREFIX: &str = "commit-";
/// `restart-connector-<name>` (KIP-745).
pub const RESTART_PREFIX: &str = "restart-connector-";
/// `tasks-fencing-<name>`: the task-count record of exactly-once source support (KIP-618).
pub const TASK_COUNT_RECORD_PREFIX: &str = "tasks-fencing-";
/// The single session-key record (KIP-507).
pub const SESSION_KEY_KEY: &str = "session-key";
/// `logger-cluster-<namespace>` (KIP-976).
pub const LOGGER_CLUSTER_PREFIX: &str = "logger-cluster-";

/// A connector or task configuration as stored: `map<string, optional string>`.
pub type ConfigProperties = BTreeMap<String, Option<String>>;

pub use crate::protocol::ConnectorTaskId;

/// The state a connector should be in, as recorded in `target-state-<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetState {
    /// Running (the default when no record exists).
    Started,
    /// Connector and tasks paused.
    Paused,
    /// Connector and tasks shut down (3.5+).
    Stopped,
}

impl TargetState {
    /// The Java enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Started => "STARTED",
            TargetState::Paused => "PAUSED",
            TargetState::Stopped => "STOPPED",
        }
    }

    /// Parses a Java enum name (exact, case-sensitive, like `TargetState.valueOf`).
    pub fn parse(name: &str) -> Option<TargetState> {
        match name {
            "STARTED" => Some(TargetState::Started),
            "PAUSED" => Some(TargetState::Paused),
            "STOPPED" => Some(TargetState::Stopped),
            _ => None,
        }
    }
}

/// The cluster's key for signing internal REST requests.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    /// Raw key bytes (base64 in the record).
    pub key: Vec<u8>,
    /// JCA algorithm name, e.g. `HmacSHA256`.
    pub algorithm: String,
    /// Creation time, ms since the epoch.
    pub creation_timestamp: i64,
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("SessionKey")
            .field("key", &"[hidden]")
            .field("algorithm", &self.algorithm)
            .field("creation_timestamp", &self.creation_timestamp)
            .finish()
    }
}

/// A request to restart a connector and optionally its tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartRequest {
    /// The connector.
    pub connector: String,
    /// Restart only instances whose status is FAILED.
    pub only_failed: bool,
    /// Restart the tasks too.
    pub include_tasks: bool,
}

/// A config-topic key, parsed with the Java callback's prefix order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigKey {
    /// `target-state-<name>`.
    TargetState(String),
    /// `connector-<name>`.
    Connector(String),
    /// `task-<name>-<n>`.
    Task(ConnectorTaskId),
    /// `commit-<name>`.
    TasksCommit(String),
    /// `restart-connector-<name>`.
    Restart(String),
    /// `tasks-fencing-<name>`.
    TaskCount(String),
    /// `session-key`.
    SessionKey,
    /// `logger-cluster-<namespace>`.
    LoggerLevel(String),
    /// A `task-` key whose task id cannot be parsed; Apache ignores the record.
    InvalidTask(String),
    /// Any other key; Apache discards the record.
    Unknown(String),
}

impl ConfigKey {
    /// Classifies a key. Prefixes are tested in Apache's order, so e.g. `connector-x` is never a task.
    pub fn parse(key: &str) -> ConfigKey {
        if let Some(name) = key.strip_prefix(TARGET_STATE_PREFIX) {
            ConfigKey::TargetState(name.to_owned())
        } else if let Some(name) = key.strip_prefix(CONNECTOR_PREFIX) {
            ConfigKey::Connector(name.to_owned())
        } else if key.starts_with(TASK_PREFIX) {
            match parse_task_id(key, 1) {
                Some(id) => ConfigKey::Task(id),
                None => ConfigKey::InvalidTask(key.to_owned()),
            }
        } else if let Some(name) = key.strip_prefix(COMMIT_TASKS_PREFIX) {
            ConfigKey::TasksCommit(name.to_owned())
        } else if let Some(name) = key.strip_prefix(RESTART_PREFIX) {
            ConfigKey::Restart(name.to_owned())
        } else if let Some(name) = key.strip_prefix(TASK_COUNT_RECORD_PREFIX) {
            ConfigKey::TaskCount(name.to_owned())
        } else if key == SESSION_KEY_KEY {
            ConfigKey::SessionKey
        } else if let Some(ns) = key.strip_prefix(LOGGER_CLUSTER_PREFIX) {
            ConfigKey::LoggerLevel(ns.to_owned())
        } else {
            ConfigKey::Unknown(key.to_owned())
        }
    }

    /// The key string (the original text for invalid and unknown keys).
    pub fn to_key_string(&self) -> String {
        match self {
            ConfigKey::TargetState(n) => format!("{TARGET_STATE_PREFIX}{n}"),
            ConfigKey::Connector(n) => format!("{CONNECTOR_PREFIX}{n}"),
            ConfigKey::Task(id) => format!("{TASK_PREFIX}{}-{}", id.connector, id.task),
            ConfigKey::TasksCommit(n) => format!("{COMMIT_TASKS_PREFIX}{n}"),
            ConfigKey::Restart(n) => format!("{RESTART_PREFIX}{n}"),
            ConfigKey::TaskCount(n) => format!("{TASK_COUNT_RECORD_PREFIX}{n}"),
            ConfigKey::SessionKey => SESSION_KEY_KEY.to_owned(),
            ConfigKey::LoggerLevel(ns) => format!("{LOGGER_CLUSTER_PREFIX}{ns}"),
            ConfigKey::InvalidTask(k) | ConfigKey::Unknown(k) => k.clone(),
        }
    }
}

/// Java's `String.split(String)` for a one-character separator: trailing empty strings are removed.
pub(crate) fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// Parses `<prefix parts>-<connector>-<n>` as Apache does: split on `-`, the last part is the task number
/// (`Integer.parseInt`), the parts between the `skip` prefix parts and the last are the connector name.
pub(crate) fn parse_task_id(key: &str, skip: usize) -> Option<ConnectorTaskId> {
    let parts = java_split(key, '-');
    if parts.len() < skip + 2 {
        return None;
    }
    let task = java_parse_int(parts[parts.len() - 1])?;
    let connector = parts[skip..parts.len() - 1].join("-");
    Some(ConnectorTaskId { connector, task })
}

/// `Integer.parseInt` for ASCII digits with an optional sign.
fn java_parse_int(s: &str) -> Option<i32> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A config-topic record.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigRecord {
    /// `connector-<name>`: the connector's raw configuration; `None` is the deletion tombstone.
    ConnectorConfig {
        /// Connector name.
        connector: String,
        /// Properties, or `None` for a tombstone.
        properties: Option<ConfigProperties>,
    },
    /// `task-<name>-<n>`: one task's configuration, applied only once a matching commit is read.
    TaskConfig {
        /// Task id.
        id: ConnectorTaskId,
        /// Properties.
        properties: ConfigProperties,
    },
    /// `commit-<name>`: the connector now has `tasks` tasks whose configs precede this record.
    TasksCommit {
        /// Connector name.
        connector: String,
        /// Task count.
        tasks: i32,
    },
    /// `target-state-<name>`; `None` is the tombstone written on connector deletion.
    TargetState {
        /// Connector name.
        connector: String,
        /// Target state, or `None` for a tombstone.
        state: Option<TargetState>,
    },
    /// `tasks-fencing-<name>`: the number of task producers fenced out (KIP-618).
    TaskCount {
        /// Connector name.
        connector: String,
        /// Task count.
        task_count: i32,
    },
    /// `session-key`.
    SessionKey(SessionKey),
    /// `restart-connector-<name>`.
    Restart(RestartRequest),
    /// `logger-cluster-<namespace>`: a cluster-wide log level.
    LoggerLevel {
        /// Logger namespace.
        namespace: String,
        /// Level name, e.g. `DEBUG`.
        level: String,
    },
    /// A record with an unrecognised key; readers skip it and writers never produce it.
    Unknown {
        /// The key as read.
        key: String,
    },
}

/// Why a config record could not be used. Apache logs these and skips the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigRecordError {
    /// The value bytes are not JSON. Apache drops such a record before counting its offset.
    #[error("Failed to convert config data to Kafka Connect format: {0}")]
    InvalidJson(#[from] JsonDecodeError),
    /// A `task-` key without a parsable task id.
    #[error("Ignoring task configuration because {0} couldn't be parsed as a task config key")]
    InvalidTaskKey(String),
    /// The value does not have the record's shape.
    #[error("{0}")]
    Malformed(String),
}

fn malformed(message: String) -> ConfigRecordError {
    ConfigRecordError::Malformed(message)
}

impl ConfigRecord {
    /// Decodes a consumed record: `value` is `None` for a tombstone.
    pub fn decode(key: &str, value: Option<&[u8]>) -> Result<ConfigRecord, ConfigRecordError> {
        let json = decode_json(value)?;
        ConfigRecord::from_json(ConfigKey::parse(key), &json)
    }

    /// Builds the record from a parsed key and the converter's value (`Value::Null` for a tombstone), with
    /// the Java reader's checks for each kind.
    pub fn from_json(key: ConfigKey, value: &Value) -> Result<ConfigRecord, ConfigRecordError> {
        match key {
            ConfigKey::TargetState(connector) => {
                let state = match value {
                    Value::Null => None,
                    v => Some(decode_target_state(&connector, v)?),
                };
                Ok(ConfigRecord::TargetState { connector, state })
            }
            ConfigKey::Connector(connector) => {
                let properties = match value {
                    Value::Null => None,
                    Value::Object(m) => Some(decode_properties(m, || {
                        format!("config for connector '{connector}'")
                    })?),
                    v => {
                        return Err(malformed(format!(
                            "Ignoring configuration for connector '{connector}' because it is in the wrong format: {}",
                            java_class_name(v)
                        )));
                    }
                };
                Ok(ConfigRecord::ConnectorConfig {
                    connector,
                    properties,
                })
            }
            ConfigKey::Task(id) => {
                let properties = match value {
                    Value::Null => {
                        return Err(malformed(format!(
                            "Ignoring task configuration for task {id} because it is unexpectedly null"
                        )));
                    }
                    Value::Object(m) => decode_properties(m, || format!("config of task {id}"))?,
                    v => {
                        return Err(malformed(format!(
                            "Ignoring task configuration for task {id} because the value is not a Map but is {}",
                            java_class_name(v)
                        )));
                    }
                };
                Ok(ConfigRecord::TaskConfig { id, properties })
            }
            ConfigKey::TasksCommit(connector) => {
                let Value::Object(m) = value else {
                    return Err(malformed(format!(
                        "Ignoring connector tasks configuration commit for connector '{connector}' because it is in the wrong format: {}",
                        java_class_name(value)
                    )));
                };
                let tasks = int_value(m.get("tasks"))?;
                Ok(ConfigRecord::TasksCommit { connector, tasks })
            }
            ConfigKey::Restart(connector) => {
                let Value::Object(m) = value else {
                    return Err(malformed(format!(
                        "Ignoring restart request because the value is not a Map but is {}",
                        java_class_name(value)
                    )));
                };
                // Missing or non-boolean fields default to false, as in Apache.
                let flag = |name: &str| m.get(name).and_then(Value::as_bool).unwrap_or(false);
                Ok(ConfigRecord::Restart(RestartRequest {
                    connector,
                    only_failed: flag("only-failed"),
                    include_tasks: flag("include-tasks"),
                }))
            }
            ConfigKey::TaskCount(connector) => {
                let Value::Object(m) = value else {
                    return Err(malformed(format!(
                        "Ignoring task count record for connector '{connector}' because it is in the wrong format: {}",
                        java_class_name(value)
                    )));
                };
                let task_count = int_value(m.get("task-count"))?;
                Ok(ConfigRecord::TaskCount {
                    connector,
                    task_count,
                })
            }
            ConfigKey::SessionKey => Ok(ConfigRecord::SessionKey(decode_session_key(value)?)),
            ConfigKey::LoggerLevel(namespace) => {
                let m = match value {
                    Value::Null => {
                        return Err(malformed(format!(
                            "Ignoring logging level for namespace {namespace} because it is unexpectedly null"
                        )));
                    }
                    Value::Object(m) => m,
                    v => {
                        return Err(malformed(format!(
                            "Ignoring logging level for namespace {namespace} because the value is not a Map but is {}",
                            java_class_name(v)
                        )));
                    }
                };
                match m.get("level") {
                    Some(Value::String(level)) => Ok(ConfigRecord::LoggerLevel {
                        namespace,
                        level: level.clone(),
                    }),
                    other => Err(malformed(format!(
                        "Invalid data for logging level key 'level' field with namespace {namespace}; should be a String but it is {}",
                        class_of(other)
                    ))),
                }
            }
            ConfigKey::InvalidTask(key) => Err(ConfigRecordError::InvalidTaskKey(key)),
            ConfigKey::Unknown(key) => Ok(ConfigRecord::Unknown { key }),
        }
    }

    /// The record's key.
    pub fn key(&self) -> String {
        match self {
            ConfigRecord::ConnectorConfig { connector, .. } => {
                ConfigKey::Connector(connector.clone()).to_key_string()
            }
            ConfigRecord::TaskConfig { id, .. } => ConfigKey::Task(id.clone()).to_key_string(),
            ConfigRecord::TasksCommit { connector, .. } => {
                ConfigKey::TasksCommit(connector.clone()).to_key_string()
            }
            ConfigRecord::TargetState { connector, .. } => {
                ConfigKey::TargetState(connector.clone()).to_key_string()
            }
            ConfigRecord::TaskCount { connector, .. } => {
                ConfigKey::TaskCount(connector.clone()).to_key_string()
            }
            ConfigRecord::SessionKey(_) => SESSION_KEY_KEY.to_owned(),
            ConfigRecord::Restart(r) => ConfigKey::Restart(r.connector.clone()).to_key_string(),
            ConfigRecord::LoggerLevel { namespace, .. } => {
                ConfigKey::LoggerLevel(namespace.clone()).to_key_string()
            }
            ConfigRecord::Unknown { key } => key.clone(),
        }
    }

    /// The value bytes Apache writes for this record; `None` is a tombstone. [`ConfigRecord::Unknown`]
    /// carries no value and also yields `None`; it must not be written.
    pub fn value_bytes(&self) -> Option<Vec<u8>> {
        let value = match self {
            ConfigRecord::ConnectorConfig { properties, .. } => {
                json!({"properties": properties_json(properties.as_ref()?)})
            }
            ConfigRecord::TaskConfig { properties, .. } => {
                json!({"properties": properties_json(properties)})
            }
            ConfigRecord::TasksCommit { tasks, .. } => json!({"tasks": tasks}),
            ConfigRecord::TargetState { state, .. } => {
                let state = (*state)?;
                // Pre-3.5 workers only know STARTED and PAUSED, so `state` carries PAUSED for STOPPED.
                let v1 = if state == TargetState::Stopped {
                    TargetState::Paused
                } else {
                    state
                };
                json!({"state": v1.as_str(), "state.v2": state.as_str()})
            }
            ConfigRecord::TaskCount { task_count, .. } => json!({"task-count": task_count}),
            ConfigRecord::SessionKey(k) => json!({
                "key": base64_encode(&k.key),
                "algorithm": k.algorithm,
                "creation-timestamp": k.creation_timestamp,
            }),
            ConfigRecord::Restart(r) => json!({
                "include-tasks": r.include_tasks,
                "only-failed": r.only_failed,
            }),
            ConfigRecord::LoggerLevel { level, .. } => json!({"level": level}),
            ConfigRecord::Unknown { .. } => return None,
        };
        Some(encode_json(&value))
    }
}

fn class_of(value: Option<&Value>) -> &'static str {
    value.map_or("null", java_class_name)
}

fn properties_json(properties: &ConfigProperties) -> Value {
    Value::Object(
        properties
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().map_or(Value::Null, Value::String)))
            .collect::<Map<String, Value>>(),
    )
}

/// Reads `{"properties": {...}}`. Apache casts the map unchecked to `Map<String,String>`; non-string,
/// non-null property values are rejected here instead of failing later.
fn decode_properties(
    record: &Map<String, Value>,
    what: impl Fn() -> String,
) -> Result<ConfigProperties, ConfigRecordError> {
    let Some(Value::Object(props)) = record.get("properties") else {
        return Err(malformed(format!(
            "Invalid data for {}: 'properties' field should be a Map but is {}",
            what(),
            class_of(record.get("properties"))
        )));
    };
    let mut out = ConfigProperties::new();
    for (k, v) in props {
        let v = match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => {
                return Err(malformed(format!(
                    "Invalid data for {}: property '{k}' should be a String but is {}",
                    what(),
                    java_class_name(other)
                )));
            }
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

/// Apache's `intValue`: an integral JSON number (read as a Java `Long`) truncated to 32 bits.
fn int_value(value: Option<&Value>) -> Result<i32, ConfigRecordError> {
    match value {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
            let long = n
                .as_i64()
                .or_else(|| n.as_u64().map(|u| u as i64))
                .unwrap_or(0);
            Ok(long as i32)
        }
        _ => Err(malformed(
            "Expected integer value to be either Integer or Long".to_owned(),
        )),
    }
}

/// Java's `Long` view of an integral JSON number (wrapping beyond `i64`, as `BigInteger.longValue` does).
fn long_value(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)),
        _ => None,
    }
}

fn decode_target_state(connector: &str, value: &Value) -> Result<TargetState, ConfigRecordError> {
    let Value::Object(m) = value else {
        return Err(malformed(format!(
            "Ignoring target state for connector '{connector}' because it is in the wrong format: {}",
            java_class_name(value)
        )));
    };
    // Prefer `state.v2`; a non-string there falls back on `state` (records from older workers).
    let name = match m.get("state.v2") {
        Some(Value::String(s)) => s,
        _ => match m.get("state") {
            Some(Value::String(s)) => s,
            other => {
                return Err(malformed(format!(
                    "Invalid data for target state for connector '{connector}': 'state' field should be a String but is {}",
                    class_of(other)
                )));
            }
        },
    };
    TargetState::parse(name).ok_or_else(|| {
        malformed(format!(
            "Invalid target state for connector '{connector}': {name}"
        ))
    })
}

fn decode_session_key(value: &Value) -> Result<SessionKey, ConfigRecordError> {
    let m = match value {
        Value::Null => {
            return Err(malformed(
                "Ignoring session key because it is unexpectedly null".to_owned(),
            ));
        }
        Value::Object(m) => m,
        v => {
            return Err(malformed(format!(
                "Ignoring session key because the value is not a Map but is {}",
                java_class_name(v)
            )));
        }
    };
    let Some(Value::String(encoded)) = m.get("key") else {
        return Err(malformed(format!(
            "Invalid data for session key 'key' field should be a String but is {}",
            class_of(m.get("key"))
        )));
    };
    let key = base64_decode(encoded)
        .map_err(|e| malformed(format!("Invalid data for session key 'key' field: {e}")))?;
    let Some(Value::String(algorithm)) = m.get("algorithm") else {
        return Err(malformed(format!(
            "Invalid data for session key 'algorithm' field should be a String but it is {}",
            class_of(m.get("algorithm"))
        )));
    };
    let Some(creation_timestamp) = m.get("creation-timestamp").and_then(long_value) else {
        return Err(malformed(format!(
            "Invalid data for session key 'creation-timestamp' field should be a long but it is {}",
            class_of(m.get("creation-timestamp"))
        )));
    };
    Ok(SessionKey {
        key,
        algorithm: algorithm.clone(),
        creation_timestamp,
    })
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `java.util.Base64.getEncoder()`: standard alphabet, `=` padding, no line breaks.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64_ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `java.util.Base64.getDecoder()`: standard alphabet; padding optional but, when present, must be
/// complete and last; no whitespace; a dangling single character is an error.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let src = text.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut bits: u32 = 0;
    let mut shift: i32 = 18;
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        i += 1;
        if c == b'=' {
            // `=` ends the data: legal only after 2 chars (then `==`) or 3 chars of a unit.
            if (shift == 6 && (i == src.len() || src[i] != b'=')) || shift == 18 || shift == 12 {
                return Err("Input byte array has wrong 4-byte ending unit".to_owned());
            }
            if shift == 6 {
                i += 1;
            }
            if i < src.len() {
                return Err(format!("Input byte array has incorrect ending byte at {i}"));
            }
            break;
        }
        let Some(v) = BASE64_ALPHABET.iter().position(|&a| a == c) else {
            return Err(format!("Illegal base64 character {c:x}"));
        };
        bits |= (v as u32) << shift;
        shift -= 6;
        if shift < 0 {
            out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]);
            bits = 0;
            shift = 18;
        }
    }
    match shift {
        6 => out.push((bits >> 16) as u8),
        0 => out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8]),
        12 => {
            return Err("Last unit does not have enough valid bits".to_owned());
        }
        _ => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> ConfigProperties {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
            .collect()
    }

    fn roundtrip(record: &ConfigRecord) -> ConfigRecord {
        ConfigRecord::decode(&record.key(), record.value_bytes().as_deref()).unwrap()
    }

    #[test]
    fn connector_config_golden_from_spec() {
        // The spec's example bytes (Java HashMap member order).
        let bytes = br#"{"properties":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/test.txt","topic":"connect-test","name":"local-file-source"}}"#;
        let record = ConfigRecord::decode("connector-local-file-source", Some(bytes)).unwrap();
        let expected = props(&[
            ("connector.class", "FileStreamSource"),
            ("tasks.max", "1"),
            ("file", "/tmp/test.txt"),
            ("topic", "connect-test"),
            ("name", "local-file-source"),
        ]);
        assert_eq!(
            record,
            ConfigRecord::ConnectorConfig {
                connector: "local-file-source".into(),
                properties: Some(expected),
            }
        );
        assert_eq!(record.key(), "connector-local-file-source");
        // We write members in key order.
        assert_eq!(
            record.value_bytes().unwrap(),
            br#"{"properties":{"connector.class":"FileStreamSource","file":"/tmp/test.txt","name":"local-file-source","tasks.max":"1","topic":"connect-test"}}"#
        );
        assert_eq!(roundtrip(&record), record);
    }

    #[test]
    fn connector_tombstone_and_null_property() {
        let record = ConfigRecord::decode("connector-a", None).unwrap();
        assert_eq!(
            record,
            ConfigRecord::ConnectorConfig {
                connector: "a".into(),
                properties: None
            }
        );
        assert_eq!(record.value_bytes(), None);
        // The converter reads the text `null` (and empty bytes) as a null value too.
        assert_eq!(
            ConfigRecord::decode("connector-a", Some(b"null")).unwrap(),
            record
        );
        assert_eq!(
            ConfigRecord::decode("connector-a", Some(b"")).unwrap(),
            record
        );

        let mut p = props(&[("a", "1")]);
        p.insert("b".into(), None);
        let record = ConfigRecord::ConnectorConfig {
            connector: "x".into(),
            properties: Some(p),
        };
        assert_eq!(
            record.value_bytes().unwrap(),
            br#"{"properties":{"a":"1","b":null}}"#
        );
        assert_eq!(roundtrip(&record), record);
    }

    #[test]
    fn task_config_golden_from_spec() {
        let bytes = br#"{"properties":{"task.class":"org.apache.kafka.connect.file.FileStreamSourceTask","file":"/tmp/test.txt","topic":"connect-test","batch.size":"2000"}}"#;
        let record = ConfigRecord::decode("task-local-file-source-0", Some(bytes)).unwrap();
        let ConfigRecord::TaskConfig { id, properties } = &record else {
            panic!("not a task config: {record:?}");
        };
        assert_eq!(id, &ConnectorTaskId::new("local-file-source", 0));
        assert_eq!(properties.len(), 4);
        assert_eq!(record.key(), "task-local-file-source-0");
        assert_eq!(roundtrip(&record), record);
    }

    #[test]
    fn commit_golden() {
        let record = ConfigRecord::TasksCommit {
            connector: "c".into(),
            tasks: 1,
        };
        assert_eq!(record.key(), "commit-c");
        assert_eq!(record.value_bytes().unwrap(), br#"{"tasks":1}"#);
        assert_eq!(roundtrip(&record), record);
        // A double is not an int for Apache.
        assert!(matches!(
            ConfigRecord::decode("commit-c", Some(br#"{"tasks":1.0}"#)),
            Err(ConfigRecordError::Malformed(_))
        ));
        assert!(ConfigRecord::decode("commit-c", Some(br#"{}"#)).is_err());
        assert!(ConfigRecord::decode("commit-c", None).is_err());
    }

    #[test]
    fn target_state_writes_v1_and_v2() {
        let cases = [
            (
                TargetState::Started,
                r#"{"state":"STARTED","state.v2":"STARTED"}"#,
            ),
            (
                TargetState::Paused,
                r#"{"state":"PAUSED","state.v2":"PAUSED"}"#,
            ),
            (
                TargetState::Stopped,
                r#"{"state":"PAUSED","state.v2":"STOPPED"}"#,
            ),
        ];
        for (state, bytes) in cases {
            let record = ConfigRecord::TargetState {
                connector: "c".into(),
                state: Some(state),
            };
            assert_eq!(record.key(), "target-state-c");
            assert_eq!(record.value_bytes().unwrap(), bytes.as_bytes());
            assert_eq!(roundtrip(&record), record);
        }
    }

    #[test]
    fn target_state_reads_v2_then_v1() {
        let decode = |bytes: &str| ConfigRecord::decode("target-state-c", Some(bytes.as_bytes()));
        let state = |s| {
            Ok(ConfigRecord::TargetState {
                connector: "c".into(),
                state: Some(s),
            })
        };
        assert_eq!(decode(r#"{"state":"PAUSED"}"#), state(TargetState::Paused));
        assert_eq!(
            decode(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#),
            state(TargetState::Stopped)
        );
        // Non-string v2 falls back on v1; an unknown v2 name does not.
        assert_eq!(
            decode(r#"{"state":"STARTED","state.v2":5}"#),
            state(TargetState::Started)
        );
        assert_eq!(
            decode(r#"{"state":"STARTED","state.v2":null}"#),
            state(TargetState::Started)
        );
        assert!(decode(r#"{"state":"STARTED","state.v2":"BOGUS"}"#).is_err());
        assert!(decode(r#"{"state":"started"}"#).is_err());
        assert!(decode(r#"{"state.v2":7}"#).is_err());
        assert!(decode(r#""PAUSED""#).is_err());
        assert_eq!(
            ConfigRecord::decode("target-state-c", None),
            Ok(ConfigRecord::TargetState {
                connector: "c".into(),
                state: None
            })
        );
    }

    #[test]
    fn session_key_golden() {
        let key: Vec<u8> = (0u8..32).collect();
        let record = ConfigRecord::SessionKey(SessionKey {
            key: key.clone(),
            algorithm: "HmacSHA256".into(),
            creation_timestamp: 1729800000000,
        });
        assert_eq!(record.key(), "session-key");
        assert_eq!(
            String::from_utf8(record.value_bytes().unwrap()).unwrap(),
            r#"{"key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","algorithm":"HmacSHA256","creation-timestamp":1729800000000}"#
        );
        assert_eq!(roundtrip(&record), record);
        // The timestamp must be integral (a Java Long).
        assert!(
            ConfigRecord::decode(
                "session-key",
                Some(br#"{"key":"AAAA","algorithm":"HmacSHA256","creation-timestamp":1.5}"#)
            )
            .is_err()
        );
        assert!(
            ConfigRecord::decode(
                "session-key",
                Some(br#"{"key":"A","algorithm":"HmacSHA256","creation-timestamp":1}"#)
            )
            .is_err()
        );
        assert!(ConfigRecord::decode("session-key", None).is_err());
        assert!(!format!("{record:?}").contains("AAEC"));
    }

    #[test]
    fn restart_golden_and_defaults() {
        let record = ConfigRecord::Restart(RestartRequest {
            connector: "c".into(),
            only_failed: false,
            include_tasks: true,
        });
        assert_eq!(record.key(), "restart-connector-c");
        assert_eq!(
            record.value_bytes().unwrap(),
            br#"{"include-tasks":true,"only-failed":false}"#
        );
        assert_eq!(roundtrip(&record), record);
        assert_eq!(
            ConfigRecord::decode("restart-connector-c", Some(br#"{"only-failed":"yes"}"#)),
            Ok(ConfigRecord::Restart(RestartRequest {
                connector: "c".into(),
                only_failed: false,
                include_tasks: false,
            }))
        );
        assert!(ConfigRecord::decode("restart-connector-c", None).is_err());
    }

    #[test]
    fn task_count_and_logger_golden() {
        let record = ConfigRecord::TaskCount {
            connector: "c".into(),
            task_count: 2,
        };
        assert_eq!(record.key(), "tasks-fencing-c");
        assert_eq!(record.value_bytes().unwrap(), br#"{"task-count":2}"#);
        assert_eq!(roundtrip(&record), record);

        let record = ConfigRecord::LoggerLevel {
            namespace: "org.apache.kafka".into(),
            level: "DEBUG".into(),
        };
        assert_eq!(record.key(), "logger-cluster-org.apache.kafka");
        assert_eq!(record.value_bytes().unwrap(), br#"{"level":"DEBUG"}"#);
        assert_eq!(roundtrip(&record), record);
        assert!(ConfigRecord::decode("logger-cluster-x", Some(br#"{"level":3}"#)).is_err());
    }

    #[test]
    fn key_classification_and_task_ids() {
        assert_eq!(
            ConfigKey::parse("task-my-conn-12"),
            ConfigKey::Task(ConnectorTaskId::new("my-conn", 12))
        );
        // Java's split drops trailing empty parts.
        assert_eq!(
            ConfigKey::parse("task-foo-1-"),
            ConfigKey::Task(ConnectorTaskId::new("foo", 1))
        );
        assert_eq!(
            ConfigKey::parse("task-foo"),
            ConfigKey::InvalidTask("task-foo".into())
        );
        assert_eq!(
            ConfigKey::parse("task-foo-x"),
            ConfigKey::InvalidTask("task-foo-x".into())
        );
        assert_eq!(
            ConfigKey::parse("tasks-fencing-foo"),
            ConfigKey::TaskCount("foo".into())
        );
        assert_eq!(
            ConfigKey::parse("target-state-connector-x"),
            ConfigKey::TargetState("connector-x".into())
        );
        assert_eq!(ConfigKey::parse("session-key"), ConfigKey::SessionKey);
        assert_eq!(
            ConfigKey::parse("session-keys"),
            ConfigKey::Unknown("session-keys".into())
        );
        assert_eq!(
            ConfigRecord::decode("whatever", Some(b"{}")),
            Ok(ConfigRecord::Unknown {
                key: "whatever".into()
            })
        );
        assert!(matches!(
            ConfigRecord::decode("task-foo", Some(b"{}")),
            Err(ConfigRecordError::InvalidTaskKey(_))
        ));
        assert!(matches!(
            ConfigRecord::decode("connector-a", Some(b"{not json")),
            Err(ConfigRecordError::InvalidJson(_))
        ));
    }

    #[test]
    fn malformed_configs_are_errors() {
        for bytes in [
            &br#"[1]"#[..],
            br#"{"properties":"x"}"#,
            br#"{}"#,
            br#"{"properties":{"a":1}}"#,
        ] {
            assert!(
                matches!(
                    ConfigRecord::decode("connector-a", Some(bytes)),
                    Err(ConfigRecordError::Malformed(_))
                ),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert!(ConfigRecord::decode("task-a-0", None).is_err());
    }

    #[test]
    fn base64_matches_java() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(&[0xfb, 0xff]), "+/8=");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zg").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm8").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64_decode("+/8=").unwrap(), vec![0xfb, 0xff]);
        for bad in ["Z", "Zg=", "Z===", "Zg==x", "Zm9v\n", "Zm-v", "Zm9v="] {
            assert!(base64_decode(bad).is_err(), "{bad}");
        }
    }
}
