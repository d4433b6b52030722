//! The offsets endpoints (KIP-875) for any herder: a source connector's offsets live in the worker's offset
//! store, a sink connector's in its consumer group. The herder checks that the connector exists (and is
//! STOPPED, for changes) and hands over its config.
use std::collections::HashMap;

use causeway_api::{ConnectError, PluginDescriptor, PluginFactory, Props};
use causeway_data::SourceMap;
use causeway_log::TopicPartition;

use super::entities::*;
use super::{HerderError, HerderResult};
use crate::connector_config::CONNECTOR_CLASS_CONFIG;
use crate::worker::Worker;

/// The plugin of a connector config's `connector.class`.
fn connector_plugin(worker: &Worker, config: &Props) -> HerderResult<PluginDescriptor> {
    let class = config
        .get(CONNECTOR_CLASS_CONFIG)
        .map_or("", String::as_str);
    worker
        .plugins()
        .connector(class)
        .copied()
        .map_err(HerderError::BadRequest)
}

/// A connector rejecting offsets is the user's error (400); anything else is ours (500).
fn offsets_error(e: ConnectError) -> HerderError {
    match e {
        ConnectError::Config(m) | ConnectError::Data(m) => HerderError::BadRequest(m),
        other => HerderError::Internal(other.message().to_owned()),
    }
}

fn internal(e: ConnectError) -> HerderError {
    HerderError::Internal(e.message().to_owned())
}

/// A sink connector's consumer group.
fn sink_group(config: &Props, name: &str) -> String {
    config
        .get("consumer.override.group.id")
        .cloned()
        .unwrap_or_else(|| format!("connect-{name}"))
}

/// Asks the connector (a fresh instance, as Apache does) to accept altered source offsets; `true` means it
/// accepted them (Apache then reports a plain success).
async fn connector_alters_source_offsets(
    worker: &Worker,
    config: &Props,
    offsets: &[(SourceMap, Option<SourceMap>)],
) -> HerderResult<bool> {
    let plugin = connector_plugin(worker, config)?;
    let PluginFactory::Source { connector, .. } = plugin.factory else {
        return Ok(false);
    };
    connector()
        .alter_offsets(config, offsets)
        .await
        .map_err(offsets_error)
}

/// As [`connector_alters_source_offsets`], for sink connectors.
async fn connector_alters_sink_offsets(
    worker: &Worker,
    config: &Props,
    offsets: &HashMap<TopicPartition, Option<i64>>,
) -> HerderResult<bool> {
    let plugin = connector_plugin(worker, config)?;
    let PluginFactory::Sink { connector, .. } = plugin.factory else {
        return Ok(false);
    };
    let data: HashMap<causeway_data::TopicPartition, Option<i64>> = offsets
        .iter()
        .map(|(tp, o)| {
            (
                causeway_data::TopicPartition::new(tp.topic.clone(), tp.partition),
                *o,
            )
        })
        .collect();
    connector()
        .alter_offsets(config, &data)
        .await
        .map_err(offsets_error)
}

fn sink_offset_entry(entry: &ConnectorOffset) -> HerderResult<(TopicPartition, Option<i64>)> {
    let partition = entry.partition.as_ref().ok_or_else(|| {
        HerderError::BadRequest(
            "The partition for a sink connector offset cannot be null or missing".into(),
        )
    })?;
    let (Some(topic), Some(part)) = (
        partition.get("kafka_topic"),
        partition.get("kafka_partition"),
    ) else {
        return Err(HerderError::BadRequest(
            "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'".into(),
        ));
    };
    let topic = topic.as_str().ok_or_else(|| {
        HerderError::BadRequest(
            "Kafka topic names must be valid strings and may not be null".into(),
        )
    })?;
    let parse_int = |v: &serde_json::Value| -> Option<i64> {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    };
    if part.is_null() {
        return Err(HerderError::BadRequest(
            "Kafka partitions must be valid numbers and may not be null".into(),
        ));
    }
    let part = parse_int(part).and_then(|p| i32::try_from(p).ok()).ok_or_else(|| {
        HerderError::BadRequest(format!(
            "Failed to parse the following Kafka partition value in the provided offsets: '{}'. Partition values for sink connectors need to be integers.",
            part.as_str().map_or_else(|| part.to_string(), str::to_owned)
        ))
    })?;
    let offset = match &entry.offset {
        None => None,
        Some(o) => {
            let v = o.get("kafka_offset").ok_or_else(|| {
                HerderError::BadRequest(
                    "The offset for a sink connector should either be null or contain the key 'kafka_offset'".into(),
                )
            })?;
            Some(parse_int(v).ok_or_else(|| {
                HerderError::BadRequest(format!(
                    "Failed to parse the following Kafka offset value in the provided offsets: '{}'. Offset values for sink connectors need to be integers.",
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                ))
            })?)
        }
    };
    Ok((TopicPartition::new(topic, part), offset))
}

/// `GET /connectors/{c}/offsets`.
///
/// # Errors
/// When the offsets cannot be read.
pub async fn connector_offsets(
    worker: &Worker,
    name: &str,
    config: &Props,
) -> HerderResult<ConnectorOffsets> {
    let offsets = match worker.connector_type(config) {
        ConnectorType::Sink => {
            let group = sink_group(config, name);
            let mut entries: Vec<_> = worker
                .log()
                .group_offsets(&group)
                .await
                .map_err(|_| {
                    HerderError::Internal(format!(
                        "Failed to retrieve consumer group offsets for sink connector {name}"
                    ))
                })?
                .into_iter()
                .collect();
            entries.sort();
            entries
                    .into_iter()
                    .map(|(tp, off)| ConnectorOffset {
                        partition: Some(
                            serde_json::json!({"kafka_topic": tp.topic, "kafka_partition": tp.partition})
                                .as_object()
                                .cloned()
                                .unwrap_or_default(),
                        ),
                        offset: Some(
                            serde_json::json!({"kafka_offset": off}).as_object().cloned().unwrap_or_default(),
                        ),
                    })
                    .collect()
        }
        _ => worker
            .offsets()
            .connector_offsets(name)
            .await
            .map_err(|_| {
                HerderError::Internal(format!(
                    "Failed to retrieve offsets for source connector {name}"
                ))
            })?
            .into_iter()
            .map(|(p, o)| ConnectorOffset {
                partition: Some(p),
                offset: Some(o),
            })
            .collect(),
    };
    Ok(ConnectorOffsets {
        offsets: Some(offsets),
    })
}

/// `PATCH /connectors/{c}/offsets` for a STOPPED connector.
///
/// # Errors
/// Invalid offsets (400) or a failed write.
pub async fn alter_connector_offsets(
    worker: &Worker,
    name: &str,
    config: &Props,
    offsets: ConnectorOffsets,
) -> HerderResult<Message> {
    let entries = offsets.offsets.filter(|o| !o.is_empty()).ok_or_else(|| {
        HerderError::BadRequest(
            "Partitions / offsets need to be provided for an alter offsets request".into(),
        )
    })?;
    let managed = match worker.connector_type(config) {
        ConnectorType::Sink => {
            let mut alter = HashMap::new();
            for e in &entries {
                let (tp, off) = sink_offset_entry(e)?;
                alter.insert(tp, off);
            }
            let managed = connector_alters_sink_offsets(worker, config, &alter).await?;
            worker
                    .log()
                    .alter_group_offsets(&sink_group(config, name), &alter)
                    .await
                    .map_err(|_| HerderError::Internal(format!("Failed to alter consumer group offsets for connector {name} either because its tasks haven't stopped completely yet or the connector was resumed before the request to alter its offsets could be successfully completed. If the connector is in a stopped state, this operation can be safely retried. If it doesn't eventually succeed, the Connect cluster may need to be restarted to get rid of the zombie sink tasks.")))?;
            managed
        }
        _ => {
            let mut writes = Vec::new();
            for e in entries {
                let partition = e.partition.ok_or_else(|| {
                    HerderError::BadRequest("Source partitions may not be null".into())
                })?;
                writes.push((partition, e.offset));
            }
            let managed = connector_alters_source_offsets(worker, config, &writes).await?;
            worker.offsets().set(name, writes).await.map_err(internal)?;
            managed
        }
    };
    Ok(Message {
        message: if managed {
            "The offsets for this connector have been altered successfully".into()
        } else {
            "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.".into()
        },
    })
}

/// `DELETE /connectors/{c}/offsets` for a STOPPED connector.
///
/// # Errors
/// When the offsets cannot be read or deleted.
pub async fn reset_connector_offsets(
    worker: &Worker,
    name: &str,
    config: &Props,
) -> HerderResult<Message> {
    // As Apache: the connector sees the reset as an alteration to null for every partition.
    let managed = match worker.connector_type(config) {
        ConnectorType::Sink => {
            let group = sink_group(config, name);
            let current = worker.log().group_offsets(&group).await.map_err(|_| {
                HerderError::Internal(format!(
                    "Failed to retrieve consumer group offsets for sink connector {name}"
                ))
            })?;
            let nulls: HashMap<TopicPartition, Option<i64>> =
                current.into_keys().map(|tp| (tp, None)).collect();
            let managed = connector_alters_sink_offsets(worker, config, &nulls).await?;
            worker
                    .log()
                    .delete_group(&group)
                    .await
                    .map_err(|_| HerderError::Internal(format!("Failed to reset consumer group offsets for connector {name} either because its tasks haven't stopped completely yet or the connector was resumed before the request to reset its offsets could be successfully completed. If the connector is in a stopped state, this operation can be safely retried. If it doesn't eventually succeed, the Connect cluster may need to be restarted to get rid of the zombie sink tasks.")))?;
            managed
        }
        _ => {
            let partitions: Vec<_> = worker
                .offsets()
                .connector_offsets(name)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|(p, _)| (p, None))
                .collect();
            let managed = connector_alters_source_offsets(worker, config, &partitions).await?;
            worker
                .offsets()
                .set(name, partitions)
                .await
                .map_err(internal)?;
            managed
        }
    };
    Ok(Message {
        message: if managed {
            "The offsets for this connector have been reset successfully".into()
        } else {
            "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.".into()
        },
    })
}
