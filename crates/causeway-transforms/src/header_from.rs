//! `HeaderFrom`: moves or copies fields of the record key or value into headers.
use causeway_api::config::{ConfigDef, ConfigType, Importance, validators};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, Schema, SchemaBuilder, SchemaRef, Struct, Value};

/// How many rebuilt schemas `move` remembers (Apache's `LRUCache<>(16)`).
const CACHE_SIZE: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Move,
    Copy,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Move => "move",
            Operation::Copy => "copy",
        }
    }
}

/// `org.apache.kafka.connect.transforms.HeaderFrom$Key` ([`HeaderFrom::key`]) and `$Value`
/// ([`HeaderFrom::value`]).
pub struct HeaderFrom {
    on_key: bool,
    fields: Vec<String>,
    headers: Vec<String>,
    operation: Option<Operation>,
    replace_null_with_default: bool,
    /// Original schema → schema without the moved fields, most recently used last.
    move_schema_cache: Vec<(SchemaRef, SchemaRef)>,
}

impl HeaderFrom {
    fn new(on_key: bool) -> Self {
        HeaderFrom {
            on_key,
            fields: Vec::new(),
            headers: Vec::new(),
            operation: None,
            replace_null_with_default: true,
            move_schema_cache: Vec::new(),
        }
    }

    /// `HeaderFrom$Key`: works on the record key.
    pub fn key() -> Self {
        Self::new(true)
    }

    /// `HeaderFrom$Value`: works on the record value.
    pub fn value() -> Self {
        Self::new(false)
    }

    fn move_schema(&mut self, schema: &SchemaRef) -> SchemaRef {
        if let Some(pos) = self.move_schema_cache.iter().position(|(k, _)| k == schema) {
            let entry = self.move_schema_cache.remove(pos);
            let out = entry.1.clone();
            self.move_schema_cache.push(entry);
            return out;
        }
        // `SchemaUtil.copySchemaBasics`: name, version, doc and parameters (not optionality or default).
        let mut builder = SchemaBuilder::struct_()
            .set_name(schema.name.clone())
            .set_version(schema.version)
            .set_doc(schema.doc.clone());
        if schema.parameters.is_some() {
            builder = builder.parameters(schema.parameters.clone());
        }
        for f in &schema.fields {
            if !self.fields.contains(&f.name) {
                builder = builder.field(f.name.clone(), f.schema.clone());
            }
        }
        let built = builder.build();
        if self.move_schema_cache.len() >= CACHE_SIZE {
            self.move_schema_cache.remove(0);
        }
        self.move_schema_cache.push((schema.clone(), built.clone()));
        built
    }

    fn field_value(&self, value: &Struct, name: &str) -> Value {
        let v = if self.replace_null_with_default {
            value.get(name)
        } else {
            value.get_without_default(name)
        };
        v.cloned().unwrap_or(Value::Null)
    }

    fn apply_with_schema(
        &mut self,
        record: &mut ConnectRecord,
        operation: Operation,
        schema: SchemaRef,
        value: Value,
    ) -> Result<(Option<SchemaRef>, Value)> {
        let purpose = format!("header {}", operation.name());
        let Value::Struct(value) = value else {
            return Err(ConnectError::data(format!(
                "Only Struct objects supported for [{purpose}], found: {}",
                value.type_name()
            )));
        };
        let (updated_schema, updated_value) = match operation {
            Operation::Move => {
                let moved = self.move_schema(&schema);
                let mut updated = Struct::new(moved.clone());
                for f in &moved.fields {
                    updated.put(&f.name, self.field_value(&value, &f.name))?;
                }
                (moved, updated)
            }
            Operation::Copy => (schema.clone(), value.clone()),
        };
        for (field, header) in self.fields.iter().zip(&self.headers) {
            let Some(field_schema) = schema.field(field).map(|f| f.schema.clone()) else {
                // Apache dereferences a null `Field` here (NullPointerException).
                return Err(ConnectError::data(format!(
                    "{field} is not a valid field name"
                )));
            };
            let field_value = self.field_value(&value, field);
            check_schema_matches(&field_schema, &field_value)?;
            record
                .headers
                .add(header.clone(), Some(field_schema), field_value);
        }
        Ok((Some(updated_schema), Value::Struct(updated_value)))
    }

    fn apply_schemaless(
        &self,
        record: &mut ConnectRecord,
        operation: Operation,
        value: Value,
    ) -> Result<(Option<SchemaRef>, Value)> {
        let purpose = format!("header {}", operation.name());
        if !matches!(value, Value::Map(_)) {
            return Err(ConnectError::data(format!(
                "Only Map objects supported in absence of schema for [{purpose}], found: {}",
                value.type_name()
            )));
        }
        let mut updated = value.clone();
        for (field, header) in self.fields.iter().zip(&self.headers) {
            let field_value = value.map_get(field).cloned().unwrap_or(Value::Null);
            if operation == Operation::Move {
                updated.map_remove(field);
            }
            record.headers.add(header.clone(), None, field_value);
        }
        Ok((None, updated))
    }
}

/// `ConnectHeaders.checkSchemaMatches`, which `Headers.add(key, value, schema)` runs.
fn check_schema_matches(schema: &Schema, value: &Value) -> Result<()> {
    if value.is_null() {
        if !schema.optional {
            let name = schema
                .name
                .as_deref()
                .map(|n| format!("{n}:"))
                .unwrap_or_default();
            return Err(ConnectError::data(format!(
                "A null value requires an optional schema but was Schema{{{name}{}}}",
                schema.schema_type
            )));
        }
        return Ok(());
    }
    schema.validate_value(value)?;
    Ok(())
}

impl Transformation for HeaderFrom {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let fields = parsed.list("fields");
        let headers = parsed.list("headers");
        if fields.len() != headers.len() {
            return Err(ConnectError::config(
                "'fields' config must have the same number of elements as 'headers' config.",
            ));
        }
        self.operation = Some(match parsed.string("operation") {
            Some("move") => Operation::Move,
            _ => Operation::Copy,
        });
        self.fields = fields;
        self.headers = headers;
        self.replace_null_with_default =
            parsed.boolean("replace.null.with.default").unwrap_or(true);
        self.move_schema_cache.clear();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(operation) = self.operation else {
            return Err(ConnectError::config("HeaderFrom is not configured"));
        };
        let (schema, value) = if self.on_key {
            (record.key_schema.take(), std::mem::take(&mut record.key))
        } else {
            (
                record.value_schema.take(),
                std::mem::take(&mut record.value),
            )
        };
        let (schema, value) = match schema {
            Some(schema) => self.apply_with_schema(&mut record, operation, schema, value)?,
            None => self.apply_schemaless(&mut record, operation, value)?,
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
        crate::with_replace_null_with_default(ConfigDef::new()
            .define_required(
                "fields",
                ConfigType::List,
                Importance::High,
                "Field names in the record whose values are to be copied or moved to headers.",
            )
            .with_last(|k| k.validator(validators::non_empty_list()))
            .define_required(
                "headers",
                ConfigType::List,
                Importance::High,
                "Header names, in the same order as the field names listed in the fields configuration property.",
            )
            .with_last(|k| k.validator(validators::non_empty_list()))
            .define_required(
                "operation",
                ConfigType::String,
                Importance::High,
                "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), \
                 or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value).",
            )
            .with_last(|k| k.validator(validators::one_of(&["move", "copy"]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::props;
    use causeway_data::SchemaType;

    fn configured(mut t: HeaderFrom, fields: &str, headers: &str, op: &str) -> HeaderFrom {
        t.configure(&props(&[
            ("fields", fields),
            ("headers", headers),
            ("operation", op),
        ]))
        .unwrap();
        t
    }

    fn schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("Rec")
            .version(3)
            .doc("a record")
            .field("id", Schema::int32())
            .field("ts", Schema::int64())
            .field("name", Schema::optional_string())
            .build()
    }

    fn value() -> Struct {
        Struct::new(schema())
            .with("id", 1)
            .unwrap()
            .with("ts", 1_700_000_000_000_i64)
            .unwrap()
            .with("name", "a")
            .unwrap()
    }

    fn header<'a>(r: &'a ConnectRecord, key: &str) -> &'a causeway_data::Header {
        r.headers.last_with_name(key).unwrap()
    }

    #[test]
    fn apache_example_move_with_schema() {
        // Docs: fields=id,ts headers=record_id,timestamp operation=move.
        let mut t = configured(HeaderFrom::value(), "id,ts", "record_id,timestamp", "move");
        let mut rec = ConnectRecord::new("t", Some(schema()), value().into());
        rec.headers.add_string("old", "x");
        let out = t.apply(rec).unwrap().unwrap();
        let s = out.value_schema.clone().unwrap();
        assert_eq!(s.fields.len(), 1);
        assert_eq!(s.fields[0].name, "name");
        assert_eq!(s.name.as_deref(), Some("Rec"));
        assert_eq!(s.version, Some(3));
        assert_eq!(s.doc.as_deref(), Some("a record"));
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.schema(), &s);
        assert_eq!(v.get("name"), Some(&Value::String("a".into())));
        let keys: Vec<&str> = out.headers.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, vec!["old", "record_id", "timestamp"]);
        assert_eq!(header(&out, "record_id").schema, Some(Schema::int32()));
        assert_eq!(header(&out, "record_id").value, Value::Int32(1));
        assert_eq!(header(&out, "timestamp").schema, Some(Schema::int64()));
        assert_eq!(
            header(&out, "timestamp").value,
            Value::Int64(1_700_000_000_000)
        );

        // The moved schema is cached: the same Arc comes back for the same input schema.
        let again = t
            .apply(ConnectRecord::new("t", Some(schema()), value().into()))
            .unwrap()
            .unwrap();
        assert!(std::sync::Arc::ptr_eq(
            &again.value_schema.unwrap(),
            &out.value_schema.unwrap()
        ));
    }

    #[test]
    fn copy_with_schema_keeps_the_value() {
        let mut t = configured(HeaderFrom::value(), "id,name", "h_id,h_name", "copy");
        let out = t
            .apply(ConnectRecord::new("t", Some(schema()), value().into()))
            .unwrap()
            .unwrap();
        assert_eq!(out.value_schema, Some(schema()));
        assert_eq!(out.value, Value::Struct(value()));
        assert_eq!(header(&out, "h_id").value, Value::Int32(1));
        assert_eq!(
            header(&out, "h_name").schema,
            Some(Schema::optional_string())
        );
    }

    #[test]
    fn key_variant_works_on_the_key() {
        let mut t = configured(HeaderFrom::key(), "id", "kid", "move");
        let rec = ConnectRecord::new("t", Some(Schema::string()), "v".into())
            .with_key(Some(schema()), value().into());
        let out = t.apply(rec).unwrap().unwrap();
        assert_eq!(out.value, Value::String("v".into()));
        assert_eq!(out.value_schema, Some(Schema::string()));
        let k = out.key.as_struct().unwrap();
        assert!(k.schema().field("id").is_none());
        assert_eq!(header(&out, "kid").value, Value::Int32(1));
    }

    #[test]
    fn schemaless_move_and_copy() {
        let map = || {
            Value::Map(vec![
                ("id".into(), Value::Int64(1)),
                ("ts".into(), Value::Int64(2)),
                ("other".into(), Value::Boolean(true)),
            ])
        };
        let mut t = configured(HeaderFrom::value(), "id,missing", "h1,h2", "move");
        let out = t
            .apply(ConnectRecord::new("t", None, map()))
            .unwrap()
            .unwrap();
        assert_eq!(out.value_schema, None);
        assert_eq!(
            out.value,
            Value::Map(vec![
                ("ts".into(), Value::Int64(2)),
                ("other".into(), Value::Boolean(true)),
            ])
        );
        assert_eq!(header(&out, "h1").schema, None);
        assert_eq!(header(&out, "h1").value, Value::Int64(1));
        assert_eq!(
            header(&out, "h2").value,
            Value::Null,
            "absent field: null header"
        );

        let mut t = configured(HeaderFrom::value(), "id", "h1", "copy");
        let out = t
            .apply(ConnectRecord::new("t", None, map()))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, map());
        assert_eq!(header(&out, "h1").value, Value::Int64(1));
    }

    #[test]
    fn wrong_or_null_values_are_data_errors() {
        let mut t = configured(HeaderFrom::value(), "id", "h", "move");
        let err = t
            .apply(ConnectRecord::new("t", None, Value::Null))
            .unwrap_err();
        assert_eq!(
            err,
            ConnectError::data(
                "Only Map objects supported in absence of schema for [header move], found: null"
            )
        );
        let mut t = configured(HeaderFrom::value(), "id", "h", "copy");
        let err = t
            .apply(ConnectRecord::new("t", Some(schema()), Value::Null))
            .unwrap_err();
        assert_eq!(
            err,
            ConnectError::data("Only Struct objects supported for [header copy], found: null")
        );
        let err = t
            .apply(ConnectRecord::new("t", Some(Schema::string()), "s".into()))
            .unwrap_err();
        assert_eq!(
            err,
            ConnectError::data(
                "Only Struct objects supported for [header copy], found: java.lang.String"
            )
        );
        let mut t = configured(HeaderFrom::value(), "nope", "h", "copy");
        let err = t
            .apply(ConnectRecord::new("t", Some(schema()), value().into()))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)), "{err}");
    }

    #[test]
    fn replace_null_with_default() {
        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int32())
            .field(
                "opt",
                SchemaBuilder::new(SchemaType::Int32)
                    .optional()
                    .default_value(Value::Int32(7))
                    .build(),
            )
            .build();
        let v = Struct::new(schema.clone()).with("id", 1).unwrap();
        let mut t = configured(HeaderFrom::value(), "opt", "h", "copy");
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(schema.clone()),
                v.clone().into(),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(header(&out, "h").value, Value::Int32(7));

        let mut t = HeaderFrom::value();
        t.configure(&props(&[
            ("fields", "opt"),
            ("headers", "h"),
            ("operation", "copy"),
            ("replace.null.with.default", "false"),
        ]))
        .unwrap();
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), v.into()))
            .unwrap()
            .unwrap();
        assert_eq!(header(&out, "h").value, Value::Null);
    }

    #[test]
    fn config_errors() {
        let mut t = HeaderFrom::value();
        let err = t
            .configure(&props(&[
                ("fields", "a,b"),
                ("headers", "h"),
                ("operation", "move"),
            ]))
            .unwrap_err();
        assert_eq!(
            err,
            ConnectError::config(
                "'fields' config must have the same number of elements as 'headers' config."
            )
        );
        let err = t
            .configure(&props(&[
                ("fields", "a"),
                ("headers", "h"),
                ("operation", "rename"),
            ]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value rename for configuration operation: String must be one of: move, copy"
        );
        let err = t
            .configure(&props(&[
                ("fields", ""),
                ("headers", "h"),
                ("operation", "move"),
            ]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value [] for configuration fields: Empty list"
        );
        let err = t
            .configure(&props(&[("fields", "a"), ("operation", "move")]))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"headers\""),
            "{err}"
        );
        assert!(t.apply(ConnectRecord::default()).is_err(), "unconfigured");
    }
}
