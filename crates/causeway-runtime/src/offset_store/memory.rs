use async_trait::async_trait;
use causeway_api::Result;
use causeway_data::SourceMap;

use super::{OffsetStore, SharedOffsetMap};

/// Offsets kept in memory only (`MemoryOffsetBackingStore`), for tests and ephemeral workers.
#[derive(Default)]
pub struct MemoryOffsetStore {
    map: SharedOffsetMap,
}

impl MemoryOffsetStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl OffsetStore for MemoryOffsetStore {
    async fn get(&self, connector: &str, partition: &SourceMap) -> Result<Option<SourceMap>> {
        self.map.lock().get(connector, partition)
    }

    async fn set(
        &self,
        connector: &str,
        entries: Vec<(SourceMap, Option<SourceMap>)>,
    ) -> Result<()> {
        self.map.lock().set(connector, entries)
    }

    async fn connector_offsets(&self, connector: &str) -> Result<Vec<(SourceMap, SourceMap)>> {
        Ok(self.map.lock().connector_offsets(connector))
    }
}
