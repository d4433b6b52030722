//! `InsertField`: adds record metadata (topic, partition, offset, timestamp) and a static value as fields.
use causeway_api::config::{ConfigDef, ConfigType, Importance};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, Schema, SchemaBuilder, SchemaRef, Struct, Value, logical};

use crate::hoist_field::{SchemaCache, Side};

const TOPIC_FIELD: &str = "topic.field";
const PARTITION_FIELD: &str = "partition.field";
const OFFSET_FIELD: &str = "offset.field";
const TIMESTAMP_FIELD: &str = "timestamp.field";
const STATIC_FIELD: &str = "static.field";
const STATIC_VALUE: &str = "static.value";
const REPLACE_NULL_WITH_DEFAULT: &str = "replace.null.with.default";
const PURPOSE: &str = "field insertion";
const OPTIONALITY_DOC: &str = "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).";

/// A field to insert: its name and whether its schema is optional (`name?`, the default) or required (`name!`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct InsertionSpec {
    name: String,
    optional: bool,
}

impl InsertionSpec {
    fn parse(spec: Option<&str>) -> Option<InsertionSpec> {
        let spec = spec?;
        Some(if let Some(name) = spec.strip_suffix('?') {
            InsertionSpec {
                name: name.to_owned(),
                optional: true,
            }
        } else if let Some(name) = spec.strip_suffix('!') {
            InsertionSpec {
                name: name.to_owned(),
                optional: false,
            }
        } else {
            InsertionSpec {
                name: spec.to_owned(),
                optional: true,
            }
        })
    }
}

/// `org.apache.kafka.connect.transforms.InsertField$Key` and `$Value`: inserts the topic, partition, offset,
/// timestamp and/or a static value as fields of a Struct (with a schema) or Map (schemaless) key or value.
pub struct InsertField {
    side: Side,
    topic_field: Option<InsertionSpec>,
    partition_field: Option<InsertionSpec>,
    offset_field: Option<InsertionSpec>,
    timestamp_field: Option<InsertionSpec>,
    static_field: Option<InsertionSpec>,
    static_value: Option<String>,
    replace_null_with_default: bool,
    configured: bool,
    cache: SchemaCache,
}

impl InsertField {
    /// `InsertField$Key`.
    pub fn key() -> Self {
        Self::new(Side::Key)
    }

    /// `InsertField$Value`.
    pub fn value() -> Self {
        Self::new(Side::Value)
    }

    fn new(side: Side) -> Self {
        InsertField {
            side,
            topic_field: None,
            partition_field: None,
            offset_field: None,
            timestamp_field: None,
            static_field: None,
            static_value: None,
            replace_null_with_default: true,
            configured: false,
            cache: SchemaCache::default(),
        }
    }

    /// Apache's `requireSinkRecord`: a `ConnectRecord` carries no Kafka offset, so offset insertion fails.
    fn offset_error() -> ConnectError {
        ConnectError::data(format!(
            "Only SinkRecord supported for [{PURPOSE}], found: org.apache.kafka.connect.connector.ConnectRecord"
        ))
    }

    fn apply_schemaless(&self, record: &ConnectRecord, value: Value) -> Result<Value> {
        let Value::Map(_) = value else {
            return Err(ConnectError::data(format!(
                "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        };
        let mut updated = value;
        if let Some(f) = &self.topic_field {
            updated.map_insert(f.name.as_str(), Value::String(record.topic.clone()));
        }
        if let (Some(f), Some(p)) = (&self.partition_field, record.kafka_partition) {
            updated.map_insert(f.name.as_str(), Value::Int32(p));
        }
        if self.offset_field.is_some() {
            return Err(Self::offset_error());
        }
        if let (Some(f), Some(ts)) = (&self.timestamp_field, record.timestamp) {
            updated.map_insert(f.name.as_str(), Value::Int64(ts));
        }
        if let (Some(f), Some(v)) = (&self.static_field, &self.static_value) {
            updated.map_insert(f.name.as_str(), Value::String(v.clone()));
        }
        Ok(updated)
    }

    fn make_updated_schema(&self, schema: &SchemaRef) -> Result<SchemaRef> {
        let mut builder = SchemaBuilder::struct_()
            .set_name(schema.name.clone())
            .set_version(schema.version)
            .set_doc(schema.doc.clone())
            .parameters(schema.parameters.clone());
        for field in &schema.fields {
            builder = builder.field(field.name.as_str(), field.schema.clone());
        }
        let inserted = [
            (
                &self.topic_field,
                Schema::optional_string(),
                Schema::string(),
            ),
            (
                &self.partition_field,
                Schema::optional_int32(),
                Schema::int32(),
            ),
            (
                &self.offset_field,
                Schema::optional_int64(),
                Schema::int64(),
            ),
            (
                &self.timestamp_field,
                logical::timestamp().optional().build(),
                logical::timestamp().build(),
            ),
            (
                &self.static_field,
                Schema::optional_string(),
                Schema::string(),
            ),
        ];
        for (spec, optional, required) in inserted {
            let Some(spec) = spec else { continue };
            if builder.field_names().any(|n| n == spec.name) {
                return Err(ConnectError::data(format!(
                    "Cannot create field because of field name duplication {}",
                    spec.name
                )));
            }
            let s = if spec.optional { optional } else { required };
            builder = builder.field(spec.name.as_str(), s);
        }
        Ok(builder.build())
    }

    fn apply_with_schema(
        &mut self,
        record: &ConnectRecord,
        value: Value,
    ) -> Result<(SchemaRef, Value)> {
        let Value::Struct(value) = value else {
            return Err(ConnectError::data(format!(
                "Only Struct objects supported for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        };
        let original = value.schema().clone();
        let mut cache = std::mem::take(&mut self.cache);
        let updated_schema =
            cache.get_or_try_insert(&original, || self.make_updated_schema(&original));
        self.cache = cache;
        let updated_schema = updated_schema?;
        let mut updated = Struct::new(updated_schema.clone());
        for field in &original.fields {
            let v = if self.replace_null_with_default {
                value.get(&field.name)
            } else {
                value.get_without_default(&field.name)
            };
            updated.put(&field.name, v.cloned().unwrap_or(Value::Null))?;
        }
        if let Some(f) = &self.topic_field {
            updated.put(&f.name, Value::String(record.topic.clone()))?;
        }
        if let (Some(f), Some(p)) = (&self.partition_field, record.kafka_partition) {
            updated.put(&f.name, Value::Int32(p))?;
        }
        if self.offset_field.is_some() {
            return Err(Self::offset_error());
        }
        if let (Some(f), Some(ts)) = (&self.timestamp_field, record.timestamp) {
            updated.put(&f.name, Value::Timestamp(ts))?;
        }
        if let (Some(f), Some(v)) = (&self.static_field, &self.static_value) {
            updated.put(&f.name, Value::String(v.clone()))?;
        }
        Ok((updated_schema, Value::Struct(updated)))
    }
}

impl Transformation for InsertField {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        self.topic_field = InsertionSpec::parse(parsed.string(TOPIC_FIELD));
        self.partition_field = InsertionSpec::parse(parsed.string(PARTITION_FIELD));
        self.offset_field = InsertionSpec::parse(parsed.string(OFFSET_FIELD));
        self.timestamp_field = InsertionSpec::parse(parsed.string(TIMESTAMP_FIELD));
        self.static_field = InsertionSpec::parse(parsed.string(STATIC_FIELD));
        self.static_value = parsed.string(STATIC_VALUE).map(str::to_owned);
        self.replace_null_with_default = parsed.boolean(REPLACE_NULL_WITH_DEFAULT).unwrap_or(true);
        if self.topic_field.is_none()
            && self.partition_field.is_none()
            && self.offset_field.is_none()
            && self.timestamp_field.is_none()
            && self.static_field.is_none()
        {
            return Err(ConnectError::config("No field insertion configured"));
        }
        if let (Some(f), None) = (&self.static_field, &self.static_value) {
            return Err(ConnectError::config(format!(
                "Invalid value null for configuration {STATIC_VALUE}: No value specified for static field: {}",
                f.name
            )));
        }
        self.cache = SchemaCache::default();
        self.configured = true;
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if !self.configured {
            return Err(ConnectError::config("InsertField is not configured"));
        }
        let (schema, value) = self.side.take(&mut record);
        if value.is_null() {
            // A tombstone (or null key) passes through unchanged.
            self.side.put(&mut record, schema, value);
            return Ok(Some(record));
        }
        match schema {
            None => {
                let updated = self.apply_schemaless(&record, value)?;
                self.side.put(&mut record, None, updated);
            }
            Some(_) => {
                let (s, v) = self.apply_with_schema(&record, value)?;
                self.side.put(&mut record, Some(s), v);
            }
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        let def = ConfigDef::new()
            .define_null(
                TOPIC_FIELD,
                ConfigType::String,
                Importance::Medium,
                &format!("Field name for Kafka topic. {OPTIONALITY_DOC}"),
            )
            .define_null(
                PARTITION_FIELD,
                ConfigType::String,
                Importance::Medium,
                &format!("Field name for Kafka partition. {OPTIONALITY_DOC}"),
            )
            .define_null(
                OFFSET_FIELD,
                ConfigType::String,
                Importance::Medium,
                &format!("Field name for Kafka offset - only applicable to sink connectors.<br/>{OPTIONALITY_DOC}"),
            )
            .define_null(
                TIMESTAMP_FIELD,
                ConfigType::String,
                Importance::Medium,
                &format!("Field name for record timestamp. {OPTIONALITY_DOC}"),
            )
            .define_null(
                STATIC_FIELD,
                ConfigType::String,
                Importance::Medium,
                &format!("Field name for static data field. {OPTIONALITY_DOC}"),
            )
            .define_null(
                STATIC_VALUE,
                ConfigType::String,
                Importance::Medium,
                "Static field value, if field name configured.",
            );
        crate::with_replace_null_with_default(def)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_data::SchemaType;

    fn xform(mut t: InsertField, props: &[(&str, &str)]) -> InsertField {
        let props: Props = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.configure(&props).unwrap();
        t
    }

    fn configure_err(props: &[(&str, &str)]) -> String {
        let props: Props = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        InsertField::value()
            .configure(&props)
            .unwrap_err()
            .to_string()
    }

    const ALL: &[(&str, &str)] = &[
        ("topic.field", "topic_field!"),
        ("partition.field", "partition_field"),
        ("timestamp.field", "timestamp_field?"),
        ("static.field", "instance_id"),
        ("static.value", "my-instance-id"),
    ];

    #[test]
    fn schemaful_insert_matches_apache_copy_schema_and_insert_configured_fields() {
        let mut t = xform(InsertField::value(), ALL);
        let simple = SchemaBuilder::struct_()
            .name("name")
            .version(1)
            .doc("doc")
            .field("magic", Schema::optional_int64())
            .build();
        let v = Struct::new(simple.clone()).with("magic", 42i64).unwrap();
        let r = ConnectRecord::new("test", Some(simple.clone()), Value::Struct(v))
            .with_timestamp(Some(1_483_425_001_864));
        let mut r = r;
        r.kafka_partition = Some(0);
        let out = t.apply(r.clone()).unwrap().unwrap();
        let s = out.value_schema.clone().unwrap();
        assert_eq!(s.name.as_deref(), Some("name"));
        assert_eq!(s.version, Some(1));
        assert_eq!(s.doc.as_deref(), Some("doc"));
        let f = |n: &str| s.field(n).unwrap().schema.clone();
        assert_eq!(f("magic"), Schema::optional_int64());
        assert_eq!(f("topic_field"), Schema::string());
        assert_eq!(f("partition_field"), Schema::optional_int32());
        assert_eq!(
            f("timestamp_field").name.as_deref(),
            Some(logical::TIMESTAMP)
        );
        assert!(f("timestamp_field").optional);
        assert_eq!(f("instance_id"), Schema::optional_string());
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("magic"), Some(&Value::Int64(42)));
        assert_eq!(v.get("topic_field"), Some(&Value::String("test".into())));
        assert_eq!(v.get("partition_field"), Some(&Value::Int32(0)));
        assert_eq!(
            v.get("timestamp_field"),
            Some(&Value::Timestamp(1_483_425_001_864))
        );
        assert_eq!(
            v.get("instance_id"),
            Some(&Value::String("my-instance-id".into()))
        );
        // Cached: the second record gets the same schema instance.
        let again = t.apply(r).unwrap().unwrap();
        assert!(std::sync::Arc::ptr_eq(
            again.value_schema.as_ref().unwrap(),
            out.value_schema.as_ref().unwrap()
        ));
    }

    #[test]
    fn schemaless_insert() {
        let mut t = xform(InsertField::value(), ALL);
        let mut r = ConnectRecord::new(
            "test",
            None,
            Value::Map(vec![(Value::String("magic".into()), Value::Int64(42))]),
        )
        .with_timestamp(Some(1_483_425_001_864));
        r.kafka_partition = Some(0);
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.value_schema, None);
        assert_eq!(out.value.map_get("magic"), Some(&Value::Int64(42)));
        assert_eq!(
            out.value.map_get("topic_field"),
            Some(&Value::String("test".into()))
        );
        assert_eq!(out.value.map_get("partition_field"), Some(&Value::Int32(0)));
        assert_eq!(
            out.value.map_get("timestamp_field"),
            Some(&Value::Int64(1_483_425_001_864))
        );
        assert_eq!(
            out.value.map_get("instance_id"),
            Some(&Value::String("my-instance-id".into()))
        );
    }

    #[test]
    fn missing_partition_and_timestamp_are_skipped() {
        let mut t = xform(InsertField::value(), ALL);
        let r = ConnectRecord::new("test", None, Value::Map(vec![]));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.value.map_get("partition_field"), None);
        assert_eq!(out.value.map_get("timestamp_field"), None);
        // Schemaful: the optional fields stay null.
        let schema = SchemaBuilder::struct_().build();
        let r = ConnectRecord::new(
            "test",
            Some(schema.clone()),
            Value::Struct(Struct::new(schema)),
        );
        let out = t.apply(r).unwrap().unwrap();
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("partition_field"), Some(&Value::Null));
        assert_eq!(v.get("topic_field"), Some(&Value::String("test".into())));
    }

    #[test]
    fn tombstones_pass_through() {
        let mut t = xform(InsertField::value(), ALL);
        let r = ConnectRecord::new("test", None, Value::Null);
        assert_eq!(t.apply(r.clone()).unwrap().unwrap(), r);
        let schema = SchemaBuilder::struct_().optional().build();
        let r = ConnectRecord::new("test", Some(schema), Value::Null);
        assert_eq!(t.apply(r.clone()).unwrap().unwrap(), r);
    }

    #[test]
    fn key_side() {
        let mut t = xform(InsertField::key(), &[("topic.field", "topic_field")]);
        let r =
            ConnectRecord::new("test", None, Value::Int32(1)).with_key(None, Value::Map(vec![]));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(
            out.key.map_get("topic_field"),
            Some(&Value::String("test".into()))
        );
        assert_eq!(out.value, Value::Int32(1));
    }

    #[test]
    fn wrong_value_types() {
        let mut t = xform(InsertField::value(), ALL);
        let err = t
            .apply(ConnectRecord::new("t", None, Value::Int32(1)))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert!(err.to_string().contains(
            "Only Map objects supported in absence of schema for [field insertion], found: java.lang.Integer"
        ), "{err}");
        let err = t
            .apply(ConnectRecord::new(
                "t",
                Some(Schema::int32()),
                Value::Int32(1),
            ))
            .unwrap_err();
        assert!(
            err.to_string().contains(
                "Only Struct objects supported for [field insertion], found: java.lang.Integer"
            ),
            "{err}"
        );
    }

    #[test]
    fn offset_needs_a_sink_record() {
        let mut t = xform(InsertField::value(), &[("offset.field", "offset")]);
        let err = t
            .apply(ConnectRecord::new("t", None, Value::Map(vec![])))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Only SinkRecord supported for [field insertion]"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_field_name_fails() {
        let mut t = xform(InsertField::value(), &[("topic.field", "a")]);
        let schema = SchemaBuilder::struct_().field("a", Schema::int32()).build();
        let v = Struct::new(schema.clone()).with("a", 1).unwrap();
        let err = t
            .apply(ConnectRecord::new("t", Some(schema), Value::Struct(v)))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Cannot create field because of field name duplication a"),
            "{err}"
        );
    }

    #[test]
    fn replace_null_with_default() {
        let schema = SchemaBuilder::struct_()
            .field(
                "a",
                SchemaBuilder::new(SchemaType::Int32)
                    .optional()
                    .default_value(Value::Int32(7))
                    .build(),
            )
            .build();
        let r = ConnectRecord::new(
            "t",
            Some(schema.clone()),
            Value::Struct(Struct::new(schema)),
        );
        let mut t = xform(InsertField::value(), &[("topic.field", "topic")]);
        let out = t.apply(r.clone()).unwrap().unwrap();
        assert_eq!(
            out.value.as_struct().unwrap().get_without_default("a"),
            Some(&Value::Int32(7))
        );
        let mut t = xform(
            InsertField::value(),
            &[
                ("topic.field", "topic"),
                ("replace.null.with.default", "false"),
            ],
        );
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(
            out.value.as_struct().unwrap().get_without_default("a"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn spec_parsing() {
        assert_eq!(InsertionSpec::parse(None), None);
        let p = |s| InsertionSpec::parse(Some(s)).unwrap();
        assert_eq!((p("a!").name, p("a!").optional), ("a".into(), false));
        assert_eq!((p("a?").name, p("a?").optional), ("a".into(), true));
        assert_eq!((p("a").name, p("a").optional), ("a".into(), true));
    }

    #[test]
    fn config_errors() {
        assert!(configure_err(&[]).contains("No field insertion configured"));
        assert!(
            configure_err(&[("static.field", "s")])
                .contains("No value specified for static field: s")
        );
    }
}
