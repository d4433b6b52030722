//! The predicates Apache ships: `HasHeaderKey`, `RecordIsTombstone`, `TopicNameMatches`.
use causeway_api::config::{ConfigDef, ConfigType, Importance, validators};
use causeway_api::{ConnectError, Predicate, Props, Result};
use causeway_data::{ConnectRecord, Value};

use crate::java_regex;

/// `org.apache.kafka.connect.transforms.predicates.HasHeaderKey`: the record has a header with this name.
#[derive(Default)]
pub struct HasHeaderKey {
    name: String,
}

impl Predicate for HasHeaderKey {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        self.name = parsed.string("name").unwrap_or_default().to_owned();
        Ok(())
    }

    fn test(&self, record: &ConnectRecord) -> bool {
        record.headers.all_with_name(&self.name).next().is_some()
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
            .define_required(
                "name",
                ConfigType::String,
                Importance::Medium,
                "The header name.",
            )
            .with_last(|k| k.validator(std::sync::Arc::new(validators::NonEmptyString)))
    }
}

/// `org.apache.kafka.connect.transforms.predicates.RecordIsTombstone`: the value is null.
#[derive(Default)]
pub struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn configure(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }

    fn test(&self, record: &ConnectRecord) -> bool {
        matches!(record.value, Value::Null)
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}

/// `org.apache.kafka.connect.transforms.predicates.TopicNameMatches`: the whole topic name matches `pattern`.
#[derive(Default)]
pub struct TopicNameMatches {
    pattern: Option<regex::Regex>,
}

impl Predicate for TopicNameMatches {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let pattern = parsed.string("pattern").unwrap_or_default();
        self.pattern = Some(java_regex::whole(pattern).map_err(|e| {
            ConnectError::config(format!(
                "Invalid value {pattern} for configuration pattern: Invalid regex: {e}"
            ))
        })?);
        Ok(())
    }

    fn test(&self, record: &ConnectRecord) -> bool {
        self.pattern
            .as_ref()
            .is_some_and(|p| p.is_match(&record.topic))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
            .define_required(
                "pattern",
                ConfigType::String,
                Importance::Medium,
                "A Java regular expression for matching against the name of a record's topic.",
            )
            .with_last(|k| k.validator(java_regex::validator()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::props;

    #[test]
    fn predicates_test_what_apache_tests() {
        let mut has = HasHeaderKey::default();
        has.configure(&props(&[("name", "trace")])).unwrap();
        let mut r = ConnectRecord::new("orders", None, Value::String("x".into()));
        assert!(!has.test(&r));
        r.headers.add_string("trace", "1");
        assert!(has.test(&r));
        assert!(has.configure(&props(&[("name", "")])).is_err());

        assert!(!RecordIsTombstone.test(&r));
        assert!(RecordIsTombstone.test(&ConnectRecord::new("orders", None, Value::Null)));

        let mut m = TopicNameMatches::default();
        m.configure(&props(&[("pattern", "ord.*")])).unwrap();
        assert!(m.test(&r));
        m.configure(&props(&[("pattern", "ord")])).unwrap();
        assert!(!m.test(&r), "the whole name must match");
        let err = m.configure(&props(&[])).unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"pattern\""),
            "{err}"
        );
    }
}
