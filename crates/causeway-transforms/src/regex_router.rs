//! `RegexRouter`: renames the topic when the whole name matches `regex`.
use causeway_api::config::{ConfigDef, ConfigType, Importance};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::ConnectRecord;

use crate::java_regex;

/// `org.apache.kafka.connect.transforms.RegexRouter`.
#[derive(Default)]
pub struct RegexRouter {
    whole: Option<regex::Regex>,
    first: Option<regex::Regex>,
    replacement: String,
}

impl Transformation for RegexRouter {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let pattern = parsed.string("regex").unwrap_or_default();
        let whole = java_regex::whole(pattern).map_err(|e| {
            ConnectError::config(format!(
                "Invalid value {pattern} for configuration regex: Invalid regex: {e}"
            ))
        })?;
        self.whole = Some(whole);
        self.first = regex::Regex::new(pattern).ok();
        self.replacement =
            java_regex::replacement(parsed.string("replacement").unwrap_or_default());
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let (Some(whole), Some(first)) = (&self.whole, &self.first) else {
            return Err(ConnectError::config("RegexRouter is not configured"));
        };
        if whole.is_match(&record.topic) {
            // Java: `matcher.matches()`, then `replaceFirst`, which searches again from the start.
            record.topic = first
                .replacen(&record.topic, 1, self.replacement.as_str())
                .into_owned();
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
            .define_required(
                "regex",
                ConfigType::String,
                Importance::High,
                "Regular expression to use for matching.",
            )
            .with_last(|k| k.validator(java_regex::validator()))
            .define_required(
                "replacement",
                ConfigType::String,
                Importance::High,
                "Replacement string.",
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_data::Value;

    fn router(regex: &str, replacement: &str) -> RegexRouter {
        let mut r = RegexRouter::default();
        let props: Props = [("regex", regex), ("replacement", replacement)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        r.configure(&props).unwrap();
        r
    }

    fn topic_after(r: &mut RegexRouter, topic: &str) -> String {
        r.apply(ConnectRecord::new(topic, None, Value::Null))
            .unwrap()
            .unwrap()
            .topic
    }

    #[test]
    fn apache_examples() {
        // The seed's addTopicPrefix and Apache's docs.
        let mut r = router("(.*)", "mysql-debezium-$1");
        assert_eq!(
            topic_after(&mut r, "inventory.customers"),
            "mysql-debezium-inventory.customers"
        );
        let mut r = router("(.*)-(\\d\\d\\d\\d\\d\\d\\d\\d)", "$2-$1");
        assert_eq!(topic_after(&mut r, "orders-20250101"), "20250101-orders");
        assert_eq!(
            topic_after(&mut r, "orders"),
            "orders",
            "no whole match, no change"
        );
        let mut r = router("a|ab", "X");
        assert_eq!(
            topic_after(&mut r, "ab"),
            "Xb",
            "replaceFirst's leftmost match, as Java"
        );
    }

    #[test]
    fn missing_keys_and_bad_regex_are_config_errors() {
        let mut r = RegexRouter::default();
        let err = r.configure(&Props::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"regex\""),
            "{err}"
        );
        let props: Props = [("regex", "a(b"), ("replacement", "x")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let err = r.configure(&props).unwrap_err();
        assert!(
            err.to_string()
                .contains("Invalid value a(b for configuration regex"),
            "{err}"
        );
    }
}
