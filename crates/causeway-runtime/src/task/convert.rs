use bytes::Bytes;
use causeway_api::{Converter, HeaderConverter};
use causeway_data::{ConnectRecord, Headers, SinkRecord, TimestampType};
use causeway_log::{ConsumerRecord, ProducerRecord};

use super::{Failure, Stage};

/// The key, value and header converters of one task.
pub struct RecordConverters {
    /// Key converter.
    pub key: Box<dyn Converter>,
    /// Value converter.
    pub value: Box<dyn Converter>,
    /// Header converter.
    pub header: Box<dyn HeaderConverter>,
    /// Class names of the key, value and header converters, reported with their failures.
    pub classes: [&'static str; 3],
}

impl RecordConverters {
    /// Serialises a (transformed) source record for the log.
    ///
    /// # Errors
    /// The failing stage, converter class and error.
    pub fn to_producer_record(&self, r: &ConnectRecord) -> Result<ProducerRecord, Failure> {
        let mut headers = Vec::with_capacity(r.headers.len());
        for h in &r.headers {
            let bytes = self
                .header
                .from_connect_header(&r.topic, &h.key, h.schema.as_ref(), &h.value)
                .map_err(|e| Failure::new(Stage::HeaderConverter, self.classes[2], e))?;
            headers.push((h.key.clone(), bytes.map(Bytes::from)));
        }
        let key = self
            .key
            .from_connect_data(&r.topic, &r.headers, r.key_schema.as_ref(), &r.key)
            .map_err(|e| Failure::new(Stage::KeyConverter, self.classes[0], e))?;
        let value = self
            .value
            .from_connect_data(&r.topic, &r.headers, r.value_schema.as_ref(), &r.value)
            .map_err(|e| Failure::new(Stage::ValueConverter, self.classes[1], e))?;
        Ok(ProducerRecord {
            topic: r.topic.clone(),
            partition: r.kafka_partition,
            key: key.map(Bytes::from),
            value: value.map(Bytes::from),
            timestamp: r.timestamp,
            headers,
        })
    }

    /// Deserialises a consumed record into a sink record.
    ///
    /// # Errors
    /// The failing stage, converter class and error.
    pub fn to_sink_record(&self, r: &ConsumerRecord) -> Result<SinkRecord, Failure> {
        let mut headers = Headers::new();
        for (k, v) in &r.headers {
            let sv = self
                .header
                .to_connect_header(&r.topic, k, v.as_deref())
                .map_err(|e| Failure::new(Stage::HeaderConverter, self.classes[2], e))?;
            headers.add(k.clone(), sv.schema, sv.value);
        }
        let key = self
            .key
            .to_connect_data(&r.topic, &headers, r.key.as_deref())
            .map_err(|e| Failure::new(Stage::KeyConverter, self.classes[0], e))?;
        let value = self
            .value
            .to_connect_data(&r.topic, &headers, r.value.as_deref())
            .map_err(|e| Failure::new(Stage::ValueConverter, self.classes[1], e))?;
        let timestamp = (r.timestamp >= 0).then_some(r.timestamp);
        Ok(SinkRecord {
            kafka_offset: r.offset,
            timestamp_type: if timestamp.is_some() {
                TimestampType::CreateTime
            } else {
                TimestampType::NoTimestampType
            },
            original_topic: r.topic.clone(),
            original_kafka_partition: r.partition,
            original_kafka_offset: r.offset,
            record: ConnectRecord {
                topic: r.topic.to_string(),
                kafka_partition: Some(r.partition),
                key_schema: key.schema,
                key: key.value,
                value_schema: value.schema,
                value: value.value,
                timestamp,
                headers,
            },
        })
    }
}
