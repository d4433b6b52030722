//! `InsertHeader`: adds one header, with a literal value, to every record.
use causeway_api::config::{ConfigDef, ConfigType, Importance};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, SchemaAndValue};

/// `org.apache.kafka.connect.transforms.InsertHeader`.
///
/// The literal is parsed once, at configure time, with `Values.parseString`, so `42` becomes an `INT8`
/// header, `true` a `BOOLEAN`, `[1,2]` an array and anything unparseable a `STRING` — as the
/// SimpleHeaderConverter would infer it.
#[derive(Default)]
pub struct InsertHeader {
    header: Option<String>,
    literal: SchemaAndValue,
}

impl Transformation for InsertHeader {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let header = parsed.string("header").unwrap_or_default().to_owned();
        let raw = parsed.string("value.literal").unwrap_or_default();
        self.literal = causeway_converters::parse_string(raw)?;
        self.header = Some(header);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(header) = &self.header else {
            return Err(ConnectError::config("InsertHeader is not configured"));
        };
        // Always appended, even when a header of that name exists already.
        record.headers.add(
            header.clone(),
            self.literal.schema.clone(),
            self.literal.value.clone(),
        );
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        // Apache validates both keys with `NonNullValidator`, which a required key always passes.
        ConfigDef::new()
            .define_required(
                "header",
                ConfigType::String,
                Importance::High,
                "The name of the header.",
            )
            .define_required(
                "value.literal",
                ConfigType::String,
                Importance::High,
                "The literal value that is to be set as the header value on all records.",
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::props;
    use causeway_data::{Schema, SchemaType, Value};

    fn inserter(header: &str, literal: &str) -> InsertHeader {
        let mut t = InsertHeader::default();
        t.configure(&props(&[("header", header), ("value.literal", literal)]))
            .unwrap();
        t
    }

    fn record() -> ConnectRecord {
        let mut r = ConnectRecord::new("topic", Some(Schema::string()), "v".into())
            .with_key(Some(Schema::string()), "k".into())
            .with_timestamp(Some(1234));
        r.headers.add_string("existing", "x");
        r
    }

    #[test]
    fn apache_example_string_literal_is_appended() {
        // Apache's docs: header=MessageSource, value.literal=mysql-debezium.
        let mut t = inserter("MessageSource", "mysql-debezium");
        let out = t.apply(record()).unwrap().unwrap();
        let keys: Vec<&str> = out.headers.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, vec!["existing", "MessageSource"]);
        let h = out.headers.last_with_name("MessageSource").unwrap();
        assert_eq!(h.schema, Some(Schema::string()));
        assert_eq!(h.value, Value::String("mysql-debezium".into()));
        // The rest of the record is untouched.
        let before = record();
        assert_eq!(out.topic, before.topic);
        assert_eq!(out.key, before.key);
        assert_eq!(out.value, before.value);
        assert_eq!(out.value_schema, before.value_schema);
        assert_eq!(out.timestamp, Some(1234));
    }

    #[test]
    fn existing_header_of_the_same_name_is_kept() {
        let mut t = inserter("existing", "y");
        let out = t.apply(record()).unwrap().unwrap();
        let values: Vec<&Value> = out
            .headers
            .all_with_name("existing")
            .map(|h| &h.value)
            .collect();
        assert_eq!(
            values,
            vec![&Value::String("x".into()), &Value::String("y".into())]
        );
    }

    #[test]
    fn literal_types_are_inferred_like_values_parse_string() {
        let mut t = inserter("h", "42");
        let out = t.apply(record()).unwrap().unwrap();
        let h = out.headers.last_with_name("h").unwrap();
        assert_eq!(h.schema.as_ref().unwrap().schema_type, SchemaType::Int8);
        assert_eq!(h.value, Value::Int8(42));

        let mut t = inserter("h", "true");
        let h = t.apply(record()).unwrap().unwrap();
        let h = h.headers.last_with_name("h").unwrap();
        assert_eq!(h.schema.as_ref().unwrap().schema_type, SchemaType::Boolean);
        assert_eq!(h.value, Value::Boolean(true));

        let mut t = inserter("h", "[1,2,3]");
        let h = t.apply(record()).unwrap().unwrap();
        let h = h.headers.last_with_name("h").unwrap();
        assert_eq!(h.schema.as_ref().unwrap().schema_type, SchemaType::Array);

        // The empty string stays an empty STRING.
        let mut t = inserter("h", "");
        let h = t.apply(record()).unwrap().unwrap();
        let h = h.headers.last_with_name("h").unwrap();
        assert_eq!(h.schema, Some(Schema::string()));
        assert_eq!(h.value, Value::String(String::new()));
    }

    #[test]
    fn tombstones_get_the_header_too() {
        let mut t = inserter("h", "x");
        let out = t
            .apply(ConnectRecord::new("t", None, Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, Value::Null);
        assert_eq!(out.headers.len(), 1);
    }

    #[test]
    fn both_keys_are_required() {
        let mut t = InsertHeader::default();
        let err = t.configure(&props(&[("header", "h")])).unwrap_err();
        assert!(matches!(err, ConnectError::Config(_)));
        assert!(
            err.to_string()
                .contains("Missing required configuration \"value.literal\""),
            "{err}"
        );
        let err = t.configure(&props(&[("value.literal", "v")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"header\""),
            "{err}"
        );
        assert!(t.apply(record()).is_err(), "unconfigured");
    }
}
