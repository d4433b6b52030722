//! `TimestampRouter`: rewrites the topic from the original topic and the record timestamp.
use causeway_api::config::{ConfigDef, ConfigType, Importance};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::ConnectRecord;

use crate::java_date_format::SimpleDateFormat;

const TOPIC_FORMAT: &str = "topic.format";
const TIMESTAMP_FORMAT: &str = "timestamp.format";

/// `org.apache.kafka.connect.transforms.TimestampRouter`: the new topic is `topic.format` with `${topic}`
/// replaced by the original topic and `${timestamp}` by the record timestamp formatted with
/// `timestamp.format` (a `java.text.SimpleDateFormat` pattern, in UTC).
pub struct TimestampRouter {
    topic_format: String,
    timestamp_format: SimpleDateFormat,
}

impl Default for TimestampRouter {
    fn default() -> Self {
        TimestampRouter {
            topic_format: "${topic}-${timestamp}".into(),
            timestamp_format: SimpleDateFormat::new("yyyyMMdd").expect("valid default pattern"),
        }
    }
}

impl Transformation for TimestampRouter {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let pattern = parsed.string(TIMESTAMP_FORMAT).unwrap_or("yyyyMMdd");
        // Java only fails on a bad pattern when the first record is formatted; failing early is kinder.
        self.timestamp_format = SimpleDateFormat::new(pattern).map_err(|e| {
            ConnectError::config(format!(
                "Invalid value {pattern} for configuration {TIMESTAMP_FORMAT}: {e}"
            ))
        })?;
        self.topic_format = parsed
            .string(TOPIC_FORMAT)
            .unwrap_or("${topic}-${timestamp}")
            .to_owned();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(timestamp) = record.timestamp else {
            return Err(ConnectError::data(format!(
                "Timestamp missing on record: {record}"
            )));
        };
        let formatted = self
            .timestamp_format
            .format_millis(timestamp)
            .ok_or_else(|| {
                ConnectError::data(format!("Timestamp out of range on record: {record}"))
            })?;
        // As Apache: ${topic} first, then ${timestamp} in the result.
        record.topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &formatted);
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                TOPIC_FORMAT,
                ConfigType::String,
                "${topic}-${timestamp}",
                Importance::High,
                "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as \
placeholders for the topic and timestamp, respectively.",
            )
            .define(
                TIMESTAMP_FORMAT,
                ConfigType::String,
                "yyyyMMdd",
                Importance::High,
                "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.",
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_data::{Schema, Value};

    fn router(props: &[(&str, &str)]) -> TimestampRouter {
        let mut t = TimestampRouter::default();
        let props: Props = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.configure(&props).unwrap();
        t
    }

    #[test]
    fn defaults() {
        // Apache's TimestampRouterTest.defaultConfiguration: 1483425001864 is 2017-01-03T06:30:01.864Z.
        let mut t = router(&[]);
        let r = ConnectRecord::new("test", Some(Schema::string()), "v".into())
            .with_key(None, Value::Int32(1))
            .with_timestamp(Some(1_483_425_001_864));
        let out = t.apply(r.clone()).unwrap().unwrap();
        assert_eq!(out.topic, "test-20170103");
        assert_eq!(out.key, r.key);
        assert_eq!(out.value, r.value);
        assert_eq!(out.timestamp, r.timestamp);
    }

    #[test]
    fn custom_formats() {
        let mut t = router(&[
            ("topic.format", "logs_${timestamp}_${topic}_${topic}"),
            ("timestamp.format", "yyyy-MM-dd'T'HH:mm:ss.SSS"),
        ]);
        let r = ConnectRecord::new("a", None, Value::Null).with_timestamp(Some(1_483_425_001_864));
        assert_eq!(
            t.apply(r).unwrap().unwrap().topic,
            "logs_2017-01-03T06:30:01.864_a_a"
        );
        // A topic containing "${timestamp}" is itself substituted, as with Apache's two replaceAll calls.
        let mut t = router(&[("topic.format", "${topic}")]);
        let r = ConnectRecord::new("x-${timestamp}", None, Value::Null).with_timestamp(Some(0));
        assert_eq!(t.apply(r).unwrap().unwrap().topic, "x-19700101");
    }

    #[test]
    fn missing_timestamp() {
        let mut t = router(&[]);
        let r = ConnectRecord::new("test", None, Value::Null);
        let err = t.apply(r).unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.to_string(),
            "Timestamp missing on record: ConnectRecord{topic='test', kafkaPartition=null, key=null, \
value=null, timestamp=null, headers=[]}"
        );
    }

    #[test]
    fn bad_patterns() {
        assert_eq!(
            SimpleDateFormat::new("yyyyq").unwrap_err(),
            "Illegal pattern character 'q'"
        );
        assert_eq!(
            SimpleDateFormat::new("yyyy'abc").unwrap_err(),
            "Unterminated quote"
        );
        let mut t = TimestampRouter::default();
        let props: Props = [("timestamp.format".to_owned(), "bad".to_owned())]
            .into_iter()
            .collect();
        let err = t.configure(&props).unwrap_err();
        assert!(matches!(err, ConnectError::Config(_)));
        assert!(
            err.to_string()
                .contains("Invalid value bad for configuration timestamp.format: Illegal pattern character 'b'"),
            "{err}"
        );
    }
}
