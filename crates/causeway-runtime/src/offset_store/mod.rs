//! Source offset storage (`OffsetBackingStore`): a file (standalone), a Kafka topic (distributed), memory.
//!
//! Keys and values are the bytes Apache writes: key `["<connector>",{partition}]`, value `{offset}`, both
//! compact JSON. Lookups match stored keys by parsed JSON, and writes reuse the stored key bytes of an
//! existing partition (pitfall P1 in `connect-internals.md`), so offsets written by Apache Connect are found
//! and overwritten in place.
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use causeway_api::{ConnectError, OffsetStorageReader, Result};
use causeway_data::SourceMap;
use parking_lot::Mutex;

mod file;
mod java_map;
mod memory;
mod topic;

pub use self::file::FileOffsetStore;
pub use self::memory::MemoryOffsetStore;
pub use self::topic::TopicOffsetStore;

/// Stores committed source offsets per connector and source partition.
#[async_trait]
pub trait OffsetStore: Send + Sync {
    /// The committed offset of one partition.
    async fn get(&self, connector: &str, partition: &SourceMap) -> Result<Option<SourceMap>>;

    /// Writes offsets durably; `None` deletes the partition's offset (a tombstone).
    async fn set(
        &self,
        connector: &str,
        entries: Vec<(SourceMap, Option<SourceMap>)>,
    ) -> Result<()>;

    /// Every partition of a connector with a non-null offset (for `GET /connectors/{c}/offsets`).
    async fn connector_offsets(&self, connector: &str) -> Result<Vec<(SourceMap, SourceMap)>>;
}

/// Canonical text of a JSON value with object keys sorted, used to match keys regardless of member order.
fn canonical(v: &serde_json::Value) -> String {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                serde_json::Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sort(v)))
                        .collect(),
                )
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

/// The offsets map shared by both stores: raw key bytes → raw value bytes, plus an index from
/// (connector, canonical partition) to the stored key bytes.
#[derive(Default)]
pub(crate) struct OffsetMap {
    entries: HashMap<Vec<u8>, Option<Vec<u8>>>,
    index: HashMap<(String, String), Vec<u8>>,
}

impl OffsetMap {
    /// Builds the map from raw entries (e.g. read from a file), ignoring keys that are not
    /// `[string, object|null]` as Apache does (with a warning).
    pub(crate) fn from_entries(raw: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Self {
        let mut map = OffsetMap::default();
        for (k, v) in raw {
            map.insert_raw(k, v);
        }
        map
    }

    fn parse_key(key: &[u8]) -> Option<(String, String)> {
        let v: serde_json::Value = serde_json::from_slice(key).ok()?;
        let arr = v.as_array()?;
        if arr.len() != 2 {
            return None;
        }
        let name = arr[0].as_str()?.to_owned();
        if !(arr[1].is_object() || arr[1].is_null()) {
            return None;
        }
        Some((name, canonical(&arr[1])))
    }

    fn insert_raw(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        match Self::parse_key(&key) {
            Some(idx) => {
                if let Some(old) = self.index.insert(idx, key.clone())
                    && old != key
                {
                    self.entries.remove(&old);
                }
            }
            None => {
                tracing::warn!(key = %String::from_utf8_lossy(&key), "Ignoring offset with an unrecognised key format.")
            }
        }
        self.entries.insert(key, value);
    }

    pub(crate) fn get(&self, connector: &str, partition: &SourceMap) -> Result<Option<SourceMap>> {
        let idx = (
            connector.to_owned(),
            canonical(&serde_json::Value::Object(partition.clone())),
        );
        let Some(key) = self.index.get(&idx) else {
            return Ok(None);
        };
        match self.entries.get(key) {
            Some(Some(bytes)) => {
                let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
                    ConnectError::fatal(format!("Stored offset is not valid JSON: {e}"))
                })?;
                Ok(v.as_object().cloned())
            }
            _ => Ok(None),
        }
    }

    /// The key and value bytes of a write: a known partition keeps its stored key bytes.
    pub(crate) fn encode(
        &self,
        connector: &str,
        partition: SourceMap,
        offset: Option<SourceMap>,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
        let pv = serde_json::Value::Object(partition);
        let key = match self.index.get(&(connector.to_owned(), canonical(&pv))) {
            Some(k) => k.clone(),
            None => serde_json::to_vec(&serde_json::json!([connector, pv]))
                .map_err(|e| ConnectError::fatal(e.to_string()))?,
        };
        let value = offset
            .map(|o| serde_json::to_vec(&o).map_err(|e| ConnectError::fatal(e.to_string())))
            .transpose()?;
        Ok((key, value))
    }

    /// Applies writes. Keys of known partitions keep their stored bytes.
    pub(crate) fn set(
        &mut self,
        connector: &str,
        entries: Vec<(SourceMap, Option<SourceMap>)>,
    ) -> Result<()> {
        for (partition, offset) in entries {
            let (key, value) = self.encode(connector, partition, offset)?;
            self.insert_raw(key, value);
        }
        Ok(())
    }

    pub(crate) fn connector_offsets(&self, connector: &str) -> Vec<(SourceMap, SourceMap)> {
        let mut out = Vec::new();
        for ((name, _), key) in &self.index {
            if name != connector {
                continue;
            }
            let Some(Some(value)) = self.entries.get(key) else {
                continue;
            };
            let partition = serde_json::from_slice::<serde_json::Value>(key)
                .ok()
                .and_then(|v| v.get(1).and_then(|p| p.as_object().cloned()));
            let offset = serde_json::from_slice::<serde_json::Value>(value)
                .ok()
                .and_then(|v| v.as_object().cloned());
            if let (Some(p), Some(o)) = (partition, offset) {
                out.push((p, o));
            }
        }
        out.sort_by_key(|(p, _)| serde_json::Value::Object(p.clone()).to_string());
        out
    }

    pub(crate) fn raw_entries(&self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// A connector-scoped [`OffsetStorageReader`] over an [`OffsetStore`].
pub struct ConnectorOffsetReader {
    connector: String,
    store: Arc<dyn OffsetStore>,
}

impl ConnectorOffsetReader {
    /// Reads offsets of `connector` from `store`.
    pub fn new(connector: impl Into<String>, store: Arc<dyn OffsetStore>) -> Self {
        ConnectorOffsetReader {
            connector: connector.into(),
            store,
        }
    }
}

#[async_trait]
impl OffsetStorageReader for ConnectorOffsetReader {
    async fn offset(&self, partition: &SourceMap) -> Result<Option<SourceMap>> {
        self.store.get(&self.connector, partition).await
    }
}

/// Shared state of the in-process stores.
pub(crate) type SharedOffsetMap = Arc<Mutex<OffsetMap>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: serde_json::Value) -> SourceMap {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn keys_match_regardless_of_member_order_and_keep_stored_bytes() {
        let stored = br#"["src",{"b":1,"a":"x"}]"#.to_vec();
        let mut m = OffsetMap::from_entries(vec![(stored.clone(), Some(br#"{"pos":7}"#.to_vec()))]);
        let p = map(serde_json::json!({"a":"x","b":1}));
        assert_eq!(
            m.get("src", &p).unwrap(),
            Some(map(serde_json::json!({"pos":7})))
        );
        m.set(
            "src",
            vec![(p.clone(), Some(map(serde_json::json!({"pos":9}))))],
        )
        .unwrap();
        let raw = m.raw_entries();
        assert_eq!(raw.len(), 1);
        assert_eq!(raw[0].0, stored);
        assert_eq!(raw[0].1.as_deref(), Some(&br#"{"pos":9}"#[..]));
        assert_eq!(m.get("other", &p).unwrap(), None);
    }

    #[test]
    fn new_keys_use_apache_format_and_tombstones_hide_offsets() {
        let mut m = OffsetMap::default();
        let p = map(serde_json::json!({"filename":"/tmp/test.txt"}));
        m.set(
            "local-file-source",
            vec![(p.clone(), Some(map(serde_json::json!({"position":4096}))))],
        )
        .unwrap();
        let raw = m.raw_entries();
        assert_eq!(
            raw[0].0,
            br#"["local-file-source",{"filename":"/tmp/test.txt"}]"#.to_vec()
        );
        assert_eq!(m.connector_offsets("local-file-source").len(), 1);
        m.set("local-file-source", vec![(p.clone(), None)]).unwrap();
        assert_eq!(m.get("local-file-source", &p).unwrap(), None);
        assert!(m.connector_offsets("local-file-source").is_empty());
        assert_eq!(m.raw_entries()[0].1, None);
    }
}
