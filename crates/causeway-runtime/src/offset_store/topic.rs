use std::sync::Arc;

use async_trait::async_trait;
use causeway_api::{ConnectError, Result};
use causeway_data::SourceMap;
use causeway_log::{InternalTopicLog, LogBackend, TopicRecord};

use super::{OffsetStore, SharedOffsetMap};

/// Offsets in a Kafka topic (`KafkaOffsetBackingStore`), as distributed workers keep them: the topic is read
/// whole at start and followed, so offsets written by any worker — or by Apache Connect — are seen; reads
/// first catch up with the topic, as Apache's do.
pub struct TopicOffsetStore {
    map: SharedOffsetMap,
    log: Arc<dyn InternalTopicLog>,
}

impl TopicOffsetStore {
    /// Opens `topic` (which must exist) and reads it to the end.
    ///
    /// # Errors
    /// When the topic cannot be read.
    pub async fn open(backend: &dyn LogBackend, topic: &str, client_id: &str) -> Result<Self> {
        let map = SharedOffsetMap::default();
        let apply = map.clone();
        let log = backend
            .open_internal_topic(
                topic,
                client_id,
                Box::new(move |r: TopicRecord| match r.key {
                    Some(key) => apply.lock().insert_raw(key, r.value),
                    None => tracing::error!(
                        topic = "offsets",
                        partition = r.partition,
                        offset = r.offset,
                        "Ignoring an offset record without a key."
                    ),
                }),
            )
            .await
            .map_err(|e| {
                ConnectError::fatal(format!("Failed to read offsets topic {topic}: {e}"))
            })?;
        Ok(TopicOffsetStore { map, log })
    }

    async fn catch_up(&self) -> Result<()> {
        self.log.read_to_end().await.map_err(|e| {
            ConnectError::retriable(format!(
                "Failed to read to the end of offsets topic {}: {e}",
                self.log.topic()
            ))
        })
    }
}

#[async_trait]
impl OffsetStore for TopicOffsetStore {
    async fn get(&self, connector: &str, partition: &SourceMap) -> Result<Option<SourceMap>> {
        self.catch_up().await?;
        self.map.lock().get(connector, partition)
    }

    async fn set(
        &self,
        connector: &str,
        entries: Vec<(SourceMap, Option<SourceMap>)>,
    ) -> Result<()> {
        let records = {
            let map = self.map.lock();
            entries
                .into_iter()
                .map(|(p, o)| map.encode(connector, p, o))
                .collect::<Result<Vec<_>>>()?
        };
        // The map changes when the records come back through the reader, so every worker applies the same
        // sequence of writes.
        let sends = records
            .iter()
            .map(|(k, v)| self.log.send(Some(k), v.as_deref()));
        for result in futures::future::join_all(sends).await {
            result.map_err(|e| {
                ConnectError::fatal(format!(
                    "Failed to write offsets to topic {}: {e}",
                    self.log.topic()
                ))
            })?;
        }
        Ok(())
    }

    async fn connector_offsets(&self, connector: &str) -> Result<Vec<(SourceMap, SourceMap)>> {
        self.catch_up().await?;
        Ok(self.map.lock().connector_offsets(connector))
    }
}
