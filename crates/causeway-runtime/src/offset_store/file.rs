use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use causeway_api::{ConnectError, Result};
use causeway_data::SourceMap;
use parking_lot::Mutex;

use super::java_map::{decode_java_byte_map, encode_java_byte_map};
use super::{OffsetMap, OffsetStore, SharedOffsetMap};

/// Offsets in `offset.storage.file.filename`, in the Java-serialised `HashMap<byte[],byte[]>` format Apache's
/// `FileOffsetBackingStore` uses, so a standalone worker can switch between Apache Connect and Causeway and
/// keep its source offsets.
///
/// The whole file is rewritten after every `set` (as Apache does), but atomically: written to a temporary
/// file, fsynced, then renamed over the old one, so a crash leaves either the old or the new offsets.
pub struct FileOffsetStore {
    path: PathBuf,
    map: SharedOffsetMap,
    /// Serialises file writes so a slow write cannot be overtaken by a later one.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl FileOffsetStore {
    /// Loads the file (missing or empty means no offsets).
    ///
    /// # Errors
    /// When the file exists but cannot be read or is not a Java-serialised byte map.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let raw = match std::fs::read(&path) {
            Ok(bytes) => decode_java_byte_map(&bytes).map_err(|e| {
                ConnectError::fatal(format!(
                    "Failed to read offsets from {}: {e}",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(ConnectError::fatal(format!(
                    "Failed to read offsets from {}: {e}",
                    path.display()
                )));
            }
        };
        tracing::info!(path = %path.display(), entries = raw.len(), "Loaded source offsets.");
        Ok(FileOffsetStore {
            path,
            map: Arc::new(Mutex::new(OffsetMap::from_entries(raw))),
            write_lock: Arc::default(),
        })
    }

    fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }
}

#[async_trait]
impl OffsetStore for FileOffsetStore {
    async fn get(&self, connector: &str, partition: &SourceMap) -> Result<Option<SourceMap>> {
        self.map.lock().get(connector, partition)
    }

    async fn set(
        &self,
        connector: &str,
        entries: Vec<(SourceMap, Option<SourceMap>)>,
    ) -> Result<()> {
        let _guard = self.write_lock.lock().await;
        let bytes = {
            let mut map = self.map.lock();
            map.set(connector, entries)?;
            encode_java_byte_map(&map.raw_entries())
        };
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || Self::write_file(&path, &bytes))
            .await
            .map_err(|e| ConnectError::fatal(e.to_string()))?
            .map_err(|e| ConnectError::fatal(format!("Failed to write offsets to file: {e}")))
    }

    async fn connector_offsets(&self, connector: &str) -> Result<Vec<(SourceMap, SourceMap)>> {
        Ok(self.map.lock().connector_offsets(connector))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn offsets_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connect.offsets");
        let p = serde_json::json!({"filename":"/tmp/in.txt"})
            .as_object()
            .unwrap()
            .clone();
        let o = serde_json::json!({"position":42})
            .as_object()
            .unwrap()
            .clone();
        {
            let store = FileOffsetStore::open(&path).unwrap();
            store
                .set("src", vec![(p.clone(), Some(o.clone()))])
                .await
                .unwrap();
        }
        let store = FileOffsetStore::open(&path).unwrap();
        assert_eq!(store.get("src", &p).await.unwrap(), Some(o));
        assert_eq!(
            &std::fs::read(&path).unwrap()[..4],
            &[0xac, 0xed, 0x00, 0x05]
        );
    }
}
