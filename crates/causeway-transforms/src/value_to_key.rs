//! `ValueToKey`: replaces the key with fields copied from the value.
use causeway_api::config::{ConfigDef, ConfigType, Importance, validators};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, SchemaBuilder, Struct, Value};

use crate::hoist_field::SchemaCache;

const FIELDS_CONFIG: &str = "fields";
const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";
const PURPOSE: &str = "copying fields from value to key";

/// `org.apache.kafka.connect.transforms.ValueToKey`: the new key is a Struct (with a schema) or Map
/// (schemaless) holding the listed fields of the value; the value is unchanged.
#[derive(Default)]
pub struct ValueToKey {
    fields: Vec<String>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl ValueToKey {
    fn apply_schemaless(&self, record: &mut ConnectRecord) -> Result<()> {
        if !matches!(record.value, Value::Map(_)) {
            return Err(ConnectError::data(format!(
                "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                record.value.type_name()
            )));
        }
        let mut key = Value::Map(Vec::with_capacity(self.fields.len()));
        for field in &self.fields {
            let v = record.value.map_get(field).cloned().unwrap_or(Value::Null);
            key.map_insert(field.as_str(), v);
        }
        record.key_schema = None;
        record.key = key;
        Ok(())
    }

    fn apply_with_schema(&mut self, record: &mut ConnectRecord) -> Result<()> {
        let Value::Struct(value) = &record.value else {
            return Err(ConnectError::data(format!(
                "Only Struct objects supported for [{PURPOSE}], found: {}",
                record.value.type_name()
            )));
        };
        let value_schema = value.schema().clone();
        let fields = &self.fields;
        let key_schema = self.cache.get_or_try_insert(&value_schema, || {
            let mut builder = SchemaBuilder::struct_();
            for field in fields {
                let Some(from_value) = value_schema.field(field) else {
                    return Err(ConnectError::data(format!("Field does not exist: {field}")));
                };
                if builder.field_names().any(|n| n == field) {
                    // Java's SchemaBuilder.field throws a SchemaException (a DataException).
                    return Err(ConnectError::data(format!(
                        "Cannot create field because of field name duplication {field}"
                    )));
                }
                builder = builder.field(field.as_str(), from_value.schema.clone());
            }
            Ok(builder.build())
        })?;
        let mut key = Struct::new(key_schema.clone());
        for field in &self.fields {
            let v = if self.replace_null_with_default {
                value.get(field)
            } else {
                value.get_without_default(field)
            };
            key.put(field, v.cloned().unwrap_or(Value::Null))?;
        }
        // Apache also replaces the value schema with the value's own schema (`value.schema()`).
        record.value_schema = Some(value_schema);
        record.key_schema = Some(key_schema);
        record.key = Value::Struct(key);
        Ok(())
    }
}

impl Transformation for ValueToKey {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        self.fields = parsed.list(FIELDS_CONFIG);
        self.replace_null_with_default = parsed
            .boolean(REPLACE_NULL_WITH_DEFAULT_CONFIG)
            .unwrap_or(true);
        self.cache = SchemaCache::default();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if self.fields.is_empty() {
            return Err(ConnectError::config("ValueToKey is not configured"));
        }
        if record.value_schema.is_none() {
            self.apply_schemaless(&mut record)?;
        } else {
            self.apply_with_schema(&mut record)?;
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        crate::with_replace_null_with_default(
            ConfigDef::new()
                .define_required(
                    FIELDS_CONFIG,
                    ConfigType::List,
                    Importance::High,
                    "Field names on the record value to extract as the record key.",
                )
                .with_last(|k| k.validator(validators::non_empty_list())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::map;
    use causeway_data::{Schema, SchemaType};

    fn xform(props: &[(&str, &str)]) -> ValueToKey {
        let mut t = ValueToKey::default();
        let props: Props = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.configure(&props).unwrap();
        t
    }

    #[test]
    fn schemaless() {
        // Apache's ValueToKeyTest.schemaless.
        let mut t = xform(&[("fields", "a,b")]);
        let value = map(vec![("a", 1.into()), ("b", 2.into()), ("c", 3.into())]);
        let out = t
            .apply(ConnectRecord::new("", None, value.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(out.key_schema, None);
        assert_eq!(out.key, map(vec![("a", 1.into()), ("b", 2.into())]));
        assert_eq!(out.value, value);
        // Missing fields give null entries, as Map.get.
        let mut t = xform(&[("fields", "a,z")]);
        let out = t
            .apply(ConnectRecord::new("", None, map(vec![("a", 1.into())])))
            .unwrap()
            .unwrap();
        assert_eq!(out.key, map(vec![("a", 1.into()), ("z", Value::Null)]));
    }

    #[test]
    fn schemaless_non_map_and_tombstone_fail() {
        let mut t = xform(&[("fields", "a")]);
        let err = t
            .apply(ConnectRecord::new("", None, Value::Null))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.to_string(),
            "Only Map objects supported in absence of schema for [copying fields from value to key], found: null"
        );
    }

    #[test]
    fn with_schema() {
        // Apache's ValueToKeyTest.withSchema.
        let mut t = xform(&[("fields", "a,b")]);
        let value_schema = SchemaBuilder::struct_()
            .field("a", Schema::int32())
            .field("b", Schema::int32())
            .field("c", Schema::int32())
            .build();
        let value = Struct::new(value_schema.clone())
            .with("a", 1)
            .unwrap()
            .with("b", 2)
            .unwrap()
            .with("c", 3)
            .unwrap();
        let rec = ConnectRecord::new("", Some(value_schema.clone()), value.clone().into());
        let out = t.apply(rec.clone()).unwrap().unwrap();
        let expected_key_schema = SchemaBuilder::struct_()
            .field("a", Schema::int32())
            .field("b", Schema::int32())
            .build();
        assert_eq!(out.key_schema, Some(expected_key_schema.clone()));
        let expected_key = Struct::new(expected_key_schema)
            .with("a", 1)
            .unwrap()
            .with("b", 2)
            .unwrap();
        assert_eq!(out.key, Value::Struct(expected_key));
        assert_eq!(out.value, Value::Struct(value));
        assert_eq!(out.value_schema, Some(value_schema));
        let again = t.apply(rec).unwrap().unwrap();
        assert!(std::sync::Arc::ptr_eq(
            out.key_schema.as_ref().unwrap(),
            again.key_schema.as_ref().unwrap()
        ));
        assert_eq!(t.cache.len(), 1);
    }

    #[test]
    fn with_schema_errors() {
        // Apache's ValueToKeyTest.nonExistingField.
        let mut t = xform(&[("fields", "not_exist")]);
        let schema = SchemaBuilder::struct_().field("a", Schema::int32()).build();
        let value = Struct::new(schema.clone()).with("a", 1).unwrap();
        let err = t
            .apply(ConnectRecord::new("", Some(schema.clone()), value.into()))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(err.to_string(), "Field does not exist: not_exist");
        // A schema'd tombstone.
        let err = t
            .apply(ConnectRecord::new("", Some(schema), Value::Null))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Only Struct objects supported for [copying fields from value to key], found: null"
        );
    }

    #[test]
    fn replace_null_with_default() {
        let value_schema = SchemaBuilder::struct_()
            .field(
                "a",
                SchemaBuilder::new(SchemaType::Int32)
                    .optional()
                    .default_value(Value::Int32(9))
                    .build(),
            )
            .build();
        let rec = ConnectRecord::new(
            "",
            Some(value_schema.clone()),
            Struct::new(value_schema).into(),
        );
        let mut t = xform(&[("fields", "a")]);
        let out = t.apply(rec.clone()).unwrap().unwrap();
        assert_eq!(
            out.key.as_struct().unwrap().get_without_default("a"),
            Some(&Value::Int32(9))
        );
        let mut t = xform(&[("fields", "a"), ("replace.null.with.default", "false")]);
        let out = t.apply(rec).unwrap().unwrap();
        assert_eq!(
            out.key.as_struct().unwrap().get_without_default("a"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn config_errors() {
        let mut t = ValueToKey::default();
        let err = t.configure(&Props::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"fields\""),
            "{err}"
        );
        let props: Props = [("fields".to_owned(), "".to_owned())].into_iter().collect();
        let err = t.configure(&props).unwrap_err();
        assert!(
            err.to_string()
                .contains("Invalid value [] for configuration fields: Empty list"),
            "{err}"
        );
    }
}
