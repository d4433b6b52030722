//! `SetSchemaMetadata`: sets the name and/or version of the key or value schema.
use causeway_api::config::{ConfigDef, ConfigType, Importance};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, SchemaRef, Struct, Value};

/// `org.apache.kafka.connect.transforms.SetSchemaMetadata$Key` ([`SetSchemaMetadata::key`]) and `$Value`
/// ([`SetSchemaMetadata::value`]).
pub struct SetSchemaMetadata {
    on_key: bool,
    configured: bool,
    schema_name: Option<String>,
    schema_version: Option<i32>,
    replace_null_with_default: bool,
}

impl SetSchemaMetadata {
    fn new(on_key: bool) -> Self {
        SetSchemaMetadata {
            on_key,
            configured: false,
            schema_name: None,
            schema_version: None,
            replace_null_with_default: true,
        }
    }

    /// `SetSchemaMetadata$Key`: works on the key schema.
    pub fn key() -> Self {
        Self::new(true)
    }

    /// `SetSchemaMetadata$Value`: works on the value schema.
    pub fn value() -> Self {
        Self::new(false)
    }

    /// `updateSchemaIn`: a struct is re-bound to the renamed schema; anything else is returned as is.
    fn update_schema_in(&self, value: Value, updated: &SchemaRef) -> Result<Value> {
        let Value::Struct(orig) = value else {
            return Ok(value);
        };
        let mut out = Struct::new(updated.clone());
        for f in &updated.fields {
            let v = if self.replace_null_with_default {
                orig.get(&f.name)
            } else {
                orig.get_without_default(&f.name)
            };
            out.put(&f.name, v.cloned().unwrap_or(Value::Null))?;
        }
        Ok(Value::Struct(out))
    }
}

impl Transformation for SetSchemaMetadata {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let name = parsed.string("schema.name").map(str::to_owned);
        let version = parsed.int("schema.version");
        if name.is_none() && version.is_none() {
            return Err(ConnectError::config(
                "Neither schema name nor version configured",
            ));
        }
        self.schema_name = name;
        self.schema_version = version;
        self.replace_null_with_default =
            parsed.boolean("replace.null.with.default").unwrap_or(true);
        self.configured = true;
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if !self.configured {
            return Err(ConnectError::config("SetSchemaMetadata is not configured"));
        }
        let (schema, value) = if self.on_key {
            (record.key_schema.take(), std::mem::take(&mut record.key))
        } else {
            (
                record.value_schema.take(),
                std::mem::take(&mut record.value),
            )
        };
        let (schema, value) = match schema {
            // A schemaless tombstone passes through untouched.
            None if value.is_null() => (None, value),
            None => {
                return Err(ConnectError::data(
                    "Schema required for [updating schema metadata]",
                ));
            }
            Some(schema) => {
                let updated = schema
                    .to_builder()
                    .set_name(self.schema_name.clone().or_else(|| schema.name.clone()))
                    .set_version(self.schema_version.or(schema.version))
                    .build();
                let value = self.update_schema_in(value, &updated)?;
                (Some(updated), value)
            }
        };
        if self.on_key {
            record.key_schema = schema;
            record.key = value;
        } else {
            record.value_schema = schema;
            record.value = value;
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        crate::with_replace_null_with_default(
            ConfigDef::new()
                .define_null(
                    "schema.name",
                    ConfigType::String,
                    Importance::High,
                    "Schema name to set.",
                )
                .define_null(
                    "schema.version",
                    ConfigType::Int,
                    Importance::High,
                    "Schema version to set.",
                ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::props;
    use causeway_data::{Schema, SchemaBuilder, SchemaType};

    fn configured(mut t: SetSchemaMetadata, pairs: &[(&str, &str)]) -> SetSchemaMetadata {
        t.configure(&props(pairs)).unwrap();
        t
    }

    #[test]
    fn apache_example_name_and_version_on_value() {
        // Apache's test: schema.name=foo, schema.version=42.
        let mut t = configured(
            SetSchemaMetadata::value(),
            &[("schema.name", "foo"), ("schema.version", "42")],
        );
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(SchemaBuilder::struct_().build()),
                Value::Struct(Struct::new(SchemaBuilder::struct_().build())),
            ))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(s.name.as_deref(), Some("foo"));
        assert_eq!(s.version, Some(42));
        assert_eq!(out.value.as_struct().unwrap().schema(), &s);
    }

    #[test]
    fn only_the_configured_metadata_changes() {
        let schema = SchemaBuilder::struct_()
            .name("old")
            .version(1)
            .doc("d")
            .parameter("p", "v")
            .optional()
            .field("a", Schema::int32())
            .field(
                "b",
                SchemaBuilder::new(SchemaType::String)
                    .optional()
                    .default_value("dflt".into())
                    .build(),
            )
            .build();
        let value = Struct::new(schema.clone()).with("a", 5).unwrap();

        let mut t = configured(SetSchemaMetadata::value(), &[("schema.version", "2")]);
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(schema.clone()),
                value.clone().into(),
            ))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(s.name.as_deref(), Some("old"));
        assert_eq!(s.version, Some(2));
        assert_eq!(s.doc.as_deref(), Some("d"));
        assert_eq!(s.parameter("p"), Some("v"));
        assert!(s.optional);
        assert_eq!(s.fields, schema.fields);
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.schema(), &s);
        assert_eq!(v.get("a"), Some(&Value::Int32(5)));
        // Default applied when re-binding (replace.null.with.default=true).
        assert_eq!(
            v.get_without_default("b"),
            Some(&Value::String("dflt".into()))
        );

        let mut t = configured(
            SetSchemaMetadata::value(),
            &[
                ("schema.name", "new"),
                ("replace.null.with.default", "false"),
            ],
        );
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(s.name.as_deref(), Some("new"));
        assert_eq!(s.version, Some(1));
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get_without_default("b"), Some(&Value::Null));
    }

    #[test]
    fn key_variant_and_non_struct_values() {
        let mut t = configured(SetSchemaMetadata::key(), &[("schema.name", "k")]);
        let rec = ConnectRecord::new("t", Some(Schema::string()), "v".into())
            .with_key(Some(Schema::int64()), Value::Int64(3));
        let out = t.apply(rec).unwrap().unwrap();
        let ks = out.key_schema.unwrap();
        assert_eq!(ks.name.as_deref(), Some("k"));
        assert_eq!(ks.schema_type, SchemaType::Int64);
        assert_eq!(out.key, Value::Int64(3));
        assert_eq!(out.value_schema, Some(Schema::string()), "value untouched");

        // Arrays and maps keep their element schemas.
        let mut t = configured(SetSchemaMetadata::value(), &[("schema.name", "arr")]);
        let arr = SchemaBuilder::array(Schema::int32()).build();
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(arr),
                Value::Array(vec![Value::Int32(1)]),
            ))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(s.name.as_deref(), Some("arr"));
        assert_eq!(s.value_schema, Some(Schema::int32()));
    }

    #[test]
    fn null_values() {
        let mut t = configured(SetSchemaMetadata::value(), &[("schema.name", "n")]);
        // Schemaless tombstone: unchanged.
        let out = t
            .apply(ConnectRecord::new("t", None, Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(out.value_schema, None);
        assert_eq!(out.value, Value::Null);
        // Null value with an (optional) schema: schema renamed, value stays null.
        let schema = SchemaBuilder::struct_()
            .optional()
            .field("a", Schema::int32())
            .build();
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(out.value_schema.unwrap().name.as_deref(), Some("n"));
        assert_eq!(out.value, Value::Null);
    }

    #[test]
    fn schemaless_value_is_a_data_error() {
        let mut t = configured(SetSchemaMetadata::value(), &[("schema.name", "n")]);
        let err = t
            .apply(ConnectRecord::new(
                "t",
                None,
                Value::Map(vec![("a".into(), Value::Int64(1))]),
            ))
            .unwrap_err();
        assert_eq!(
            err,
            ConnectError::data("Schema required for [updating schema metadata]")
        );
        assert_eq!(
            err.class_name(),
            "org.apache.kafka.connect.errors.DataException"
        );
    }

    #[test]
    fn config_errors() {
        let mut t = SetSchemaMetadata::value();
        let err = t.configure(&Props::new()).unwrap_err();
        assert_eq!(
            err,
            ConnectError::config("Neither schema name nor version configured")
        );
        let err = t.configure(&props(&[("schema.version", "x")])).unwrap_err();
        assert!(matches!(err, ConnectError::Config(_)), "{err}");
        assert!(
            t.apply(ConnectRecord::default()).is_err(),
            "unconfigured transform refuses records"
        );
    }
}
