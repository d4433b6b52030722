//! `HoistField`: wraps the key or value in a single-field Struct (with a schema) or Map (without).
use std::sync::Arc;

use causeway_api::config::{ConfigDef, ConfigType, Importance};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, SchemaBuilder, SchemaRef, Struct, Value};

/// Which side of the record a transform works on (Apache's `$Key` / `$Value` inner classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Key,
    Value,
}

impl Side {
    /// The operating schema and value, taken out of the record.
    pub(crate) fn take(self, record: &mut ConnectRecord) -> (Option<SchemaRef>, Value) {
        match self {
            Side::Key => (record.key_schema.take(), std::mem::take(&mut record.key)),
            Side::Value => (
                record.value_schema.take(),
                std::mem::take(&mut record.value),
            ),
        }
    }

    /// Puts the updated schema and value back.
    pub(crate) fn put(self, record: &mut ConnectRecord, schema: Option<SchemaRef>, value: Value) {
        match self {
            Side::Key => {
                record.key_schema = schema;
                record.key = value;
            }
            Side::Value => {
                record.value_schema = schema;
                record.value = value;
            }
        }
    }
}

/// A small least-recently-used cache from an input schema to the schema derived from it, as Apache's
/// `SynchronizedCache<>(new LRUCache<>(16))`. Schemas compare structurally, as Java's `Schema.equals`.
pub(crate) struct SchemaCache {
    entries: Vec<(SchemaRef, SchemaRef)>,
    capacity: usize,
}

impl Default for SchemaCache {
    fn default() -> Self {
        SchemaCache {
            entries: Vec::new(),
            capacity: 16,
        }
    }
}

impl SchemaCache {
    /// The cached schema for `key`, refreshing its recency.
    pub(crate) fn get(&mut self, key: &SchemaRef) -> Option<SchemaRef> {
        let pos = self
            .entries
            .iter()
            .position(|(k, _)| Arc::ptr_eq(k, key) || **k == **key)?;
        let entry = self.entries.remove(pos);
        let found = entry.1.clone();
        self.entries.push(entry);
        Some(found)
    }

    /// Stores a derived schema, evicting the least recently used entry when full.
    pub(crate) fn put(&mut self, key: SchemaRef, value: SchemaRef) {
        self.entries.retain(|(k, _)| **k != *key);
        if self.entries.len() >= self.capacity {
            self.entries.remove(0);
        }
        self.entries.push((key, value));
    }

    /// Looks up `key`, building and storing the derived schema on a miss.
    pub(crate) fn get_or_try_insert(
        &mut self,
        key: &SchemaRef,
        build: impl FnOnce() -> Result<SchemaRef>,
    ) -> Result<SchemaRef> {
        if let Some(found) = self.get(key) {
            return Ok(found);
        }
        let built = build()?;
        self.put(key.clone(), built.clone());
        Ok(built)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// `org.apache.kafka.connect.transforms.HoistField$Key` and `$Value`: wraps the key or value in a Struct
/// with a single field (when it has a schema) or a Map with a single entry (when schemaless).
pub struct HoistField {
    side: Side,
    field_name: Option<String>,
    cache: SchemaCache,
}

impl HoistField {
    /// `HoistField$Key`.
    pub fn key() -> Self {
        Self::new(Side::Key)
    }

    /// `HoistField$Value`.
    pub fn value() -> Self {
        Self::new(Side::Value)
    }

    fn new(side: Side) -> Self {
        HoistField {
            side,
            field_name: None,
            cache: SchemaCache::default(),
        }
    }
}

impl Transformation for HoistField {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        self.field_name = Some(parsed.string("field").unwrap_or_default().to_owned());
        self.cache = SchemaCache::default();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(field) = self.field_name.clone() else {
            return Err(ConnectError::config("HoistField is not configured"));
        };
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let map = Value::Map(vec![(Value::String(field), value)]);
                self.side.put(&mut record, None, map);
            }
            Some(schema) => {
                let updated = self.cache.get_or_try_insert(&schema, || {
                    Ok(SchemaBuilder::struct_()
                        .field(field.as_str(), schema.clone())
                        .build())
                })?;
                let mut s = Struct::new(updated.clone());
                s.put(&field, value)?;
                self.side.put(&mut record, Some(updated), Value::Struct(s));
            }
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new().define_required(
            "field",
            ConfigType::String,
            Importance::Medium,
            "Field name for the single field that will be created in the resulting Struct or Map.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_data::Schema;

    fn hoist(mut t: HoistField, field: &str) -> HoistField {
        let props: Props = [("field".to_owned(), field.to_owned())]
            .into_iter()
            .collect();
        t.configure(&props).unwrap();
        t
    }

    #[test]
    fn schemaless_key_becomes_a_single_entry_map() {
        // Apache's HoistFieldTest.schemaless.
        let mut t = hoist(HoistField::key(), "magic");
        let r = ConnectRecord::new("test", None, Value::Null).with_key(None, Value::Int32(42));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.key_schema, None);
        assert_eq!(
            out.key,
            Value::Map(vec![(Value::String("magic".into()), Value::Int32(42))])
        );
        assert_eq!(out.value, Value::Null, "the value is untouched");
    }

    #[test]
    fn schemaful_key_becomes_a_single_field_struct() {
        // Apache's HoistFieldTest.withSchema.
        let mut t = hoist(HoistField::key(), "magic");
        let r = ConnectRecord::new("test", None, Value::Null)
            .with_key(Some(Schema::int32()), Value::Int32(42));
        let out = t.apply(r).unwrap().unwrap();
        let schema = out.key_schema.clone().unwrap();
        assert_eq!(schema.schema_type, causeway_data::SchemaType::Struct);
        assert_eq!(schema.fields.len(), 1);
        assert_eq!(schema.fields[0].name, "magic");
        assert_eq!(schema.fields[0].schema, Schema::int32());
        let s = out.key.as_struct().unwrap();
        assert_eq!(s.get("magic"), Some(&Value::Int32(42)));
        assert_eq!(s.schema(), &schema);
    }

    #[test]
    fn value_side_and_schema_cache() {
        let mut t = hoist(HoistField::value(), "line");
        let r = ConnectRecord::new("t", Some(Schema::string()), "hello".into())
            .with_key(Some(Schema::string()), "k".into());
        let first = t.apply(r.clone()).unwrap().unwrap();
        let second = t.apply(r).unwrap().unwrap();
        assert_eq!(first.key, Value::String("k".into()), "the key is untouched");
        assert!(Arc::ptr_eq(
            first.value_schema.as_ref().unwrap(),
            second.value_schema.as_ref().unwrap()
        ));
        assert_eq!(t.cache.len(), 1);
        assert_eq!(
            first.value.as_struct().unwrap().get("line"),
            Some(&Value::String("hello".into()))
        );
    }

    #[test]
    fn null_values() {
        // Schemaless: a tombstone becomes {field=null}, as Collections.singletonMap(field, null).
        let mut t = hoist(HoistField::value(), "f");
        let out = t
            .apply(ConnectRecord::new("t", None, Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value,
            Value::Map(vec![(Value::String("f".into()), Value::Null)])
        );
        // Optional schema: a struct with a null field.
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(Schema::optional_string()),
                Value::Null,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.value.as_struct().unwrap().get("f"), Some(&Value::Null));
        // Required schema: Struct.put fails with a DataException.
        let err = t
            .apply(ConnectRecord::new("t", Some(Schema::string()), Value::Null))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)), "{err:?}");
        assert!(
            err.to_string().contains(
                "Invalid value: null used for required field: \"f\", schema type: STRING"
            ),
            "{err}"
        );
    }

    #[test]
    fn field_is_required() {
        let mut t = HoistField::value();
        let err = t.configure(&Props::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"field\""),
            "{err}"
        );
    }

    #[test]
    fn cache_evicts_least_recently_used() {
        let mut c = SchemaCache::default();
        let key = |i: i32| {
            SchemaBuilder::struct_()
                .field("x", Schema::int32())
                .version(i)
                .build()
        };
        for i in 0..16 {
            c.put(key(i), Schema::int32());
        }
        assert!(c.get(&key(0)).is_some(), "refreshes 0");
        c.put(key(16), Schema::int32());
        assert_eq!(c.len(), 16);
        assert!(c.get(&key(0)).is_some());
        assert!(c.get(&key(1)).is_none(), "1 was least recently used");
    }
}
