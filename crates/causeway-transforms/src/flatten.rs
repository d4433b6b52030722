//! `Flatten`: flattens nested Structs (with a schema) or Maps (schemaless) into one level.
use causeway_api::config::{ConfigDef, ConfigType, Importance};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value};

use crate::hoist_field::{SchemaCache, Side};

const DELIMITER_CONFIG: &str = "delimiter";
const DELIMITER_DEFAULT: &str = ".";
const PURPOSE: &str = "flattening";

/// `org.apache.kafka.connect.transforms.Flatten$Key` ([`Flatten::key`]) and `$Value` ([`Flatten::value`]):
/// nested fields become top-level fields named by joining the field names with `delimiter`.
pub struct Flatten {
    side: Side,
    delimiter: String,
    cache: SchemaCache,
}

impl Flatten {
    /// `Flatten$Key`.
    pub fn key() -> Self {
        Self::new(Side::Key)
    }

    /// `Flatten$Value`.
    pub fn value() -> Self {
        Self::new(Side::Value)
    }

    fn new(side: Side) -> Self {
        Flatten {
            side,
            delimiter: DELIMITER_DEFAULT.into(),
            cache: SchemaCache::default(),
        }
    }

    fn field_name(&self, prefix: &str, name: &str) -> String {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}{}{name}", self.delimiter)
        }
    }

    fn flatten_map(
        &self,
        original: &[(Value, Value)],
        prefix: &str,
        out: &mut Value,
    ) -> Result<()> {
        for (key, value) in original {
            let key = match key {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = self.field_name(prefix, &key);
            let inferred = match value {
                Value::Null => {
                    out.map_insert(name, Value::Null);
                    continue;
                }
                // ConnectSchema.schemaType has no type for BigDecimal or java.util.Date.
                Value::Decimal(_) | Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => None,
                v => v.inferred_type(),
            };
            match inferred {
                None => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation was passed a value of type class {} which is not supported by \
Connect's data API",
                        value.type_name()
                    )));
                }
                Some(SchemaType::Map) => {
                    let Value::Map(entries) = value else {
                        unreachable!("inferred from a map")
                    };
                    self.flatten_map(entries, &name, out)?;
                }
                Some(SchemaType::Struct) => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support class {} for record without schemas (for field {name}).",
                        value.type_name()
                    )));
                }
                // Primitives and arrays are copied as they are.
                Some(_) => {
                    out.map_insert(name, value.clone());
                }
            }
        }
        Ok(())
    }

    /// `buildUpdatedSchema`: optionality and defaults of ancestors carry down to the flattened fields.
    fn build_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        builder: &mut SchemaBuilder,
        optional: bool,
        default_from_parent: Option<&Struct>,
    ) -> Result<()> {
        for field in &schema.fields {
            let name = self.field_name(prefix, &field.name);
            let field_optional = optional || field.schema.optional;
            let default = match &field.schema.default_value {
                Some(d) => Some(d.clone()),
                None => default_from_parent
                    .and_then(|p| p.get(&field.name))
                    .filter(|v| !v.is_null())
                    .cloned(),
            };
            match field.schema.schema_type {
                SchemaType::Struct => {
                    let parent = match &default {
                        Some(Value::Struct(s)) => Some(s),
                        _ => None,
                    };
                    self.build_schema(&field.schema, &name, builder, field_optional, parent)?;
                }
                _ => {
                    if builder.field_names().any(|n| n == name) {
                        return Err(ConnectError::data(format!(
                            "Cannot create field because of field name duplication {name}"
                        )));
                    }
                    let converted = convert_field_schema(&field.schema, field_optional, default)?;
                    *builder =
                        std::mem::replace(builder, SchemaBuilder::struct_()).field(name, converted);
                }
            }
        }
        Ok(())
    }

    fn flatten_struct(&self, value: Option<&Struct>, prefix: &str, out: &mut Struct) -> Result<()> {
        // A null optional struct leaves its (optional) flattened fields null.
        let Some(value) = value else {
            return Ok(());
        };
        for field in &value.schema().fields {
            let name = self.field_name(prefix, &field.name);
            let v = value.get(&field.name).unwrap_or(&Value::Null);
            match field.schema.schema_type {
                SchemaType::Struct => self.flatten_struct(v.as_struct(), &name, out)?,
                _ => {
                    out.put(&name, v.clone())?;
                }
            }
        }
        Ok(())
    }
}

/// `convertFieldSchema`: the field's basics (type, name, version, doc, parameters) with the inherited
/// optionality and default.
fn convert_field_schema(
    orig: &Schema,
    optional: bool,
    default: Option<Value>,
) -> Result<SchemaRef> {
    let mut builder = match orig.schema_type {
        SchemaType::Array => SchemaBuilder::array(orig.value_schema.clone().unwrap_or_default()),
        SchemaType::Map => SchemaBuilder::map(
            orig.key_schema.clone().unwrap_or_default(),
            orig.value_schema.clone().unwrap_or_default(),
        ),
        t => SchemaBuilder::new(t),
    }
    .set_name(orig.name.clone())
    .set_version(orig.version)
    .set_doc(orig.doc.clone())
    .parameters(orig.parameters.clone());
    if optional {
        builder = builder.optional();
    }
    if let Some(d) = default {
        builder = builder.try_default_value(d)?;
    }
    Ok(builder.build())
}

impl Transformation for Flatten {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        self.delimiter = parsed
            .string(DELIMITER_CONFIG)
            .unwrap_or(DELIMITER_DEFAULT)
            .to_owned();
        self.cache = SchemaCache::default();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let (schema, value) = self.side.take(&mut record);
        if value.is_null() {
            // Tombstones pass through.
            self.side.put(&mut record, schema, value);
            return Ok(Some(record));
        }
        match schema {
            None => {
                let Value::Map(entries) = &value else {
                    return Err(ConnectError::data(format!(
                        "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                        value.type_name()
                    )));
                };
                let mut out = Value::Map(Vec::new());
                self.flatten_map(entries, "", &mut out)?;
                self.side.put(&mut record, None, out);
            }
            Some(_) => {
                let Value::Struct(value) = value else {
                    return Err(ConnectError::data(format!(
                        "Only Struct objects supported for [{PURPOSE}], found: {}",
                        value.type_name()
                    )));
                };
                let value_schema = value.schema().clone();
                let updated = {
                    let mut cache = std::mem::take(&mut self.cache);
                    let this = &*self;
                    let built = cache.get_or_try_insert(&value_schema, || {
                        let mut builder = SchemaBuilder::struct_()
                            .set_name(value_schema.name.clone())
                            .set_version(value_schema.version)
                            .set_doc(value_schema.doc.clone())
                            .parameters(value_schema.parameters.clone());
                        let default = match &value_schema.default_value {
                            Some(Value::Struct(s)) => Some(s),
                            _ => None,
                        };
                        this.build_schema(
                            &value_schema,
                            "",
                            &mut builder,
                            value_schema.optional,
                            default,
                        )?;
                        Ok(builder.build())
                    });
                    self.cache = cache;
                    built?
                };
                let mut out = Struct::new(updated.clone());
                self.flatten_struct(Some(&value), "", &mut out)?;
                self.side
                    .put(&mut record, Some(updated), Value::Struct(out));
            }
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new().define(
            DELIMITER_CONFIG,
            ConfigType::String,
            DELIMITER_DEFAULT,
            Importance::Medium,
            "Delimiter to insert between field names from the input record when generating field names for the \
output record",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::map;

    fn flatten(mut t: Flatten, p: &[(&str, &str)]) -> Flatten {
        let props: Props = p
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.configure(&props).unwrap();
        t
    }

    fn primitives_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .field("int8", Schema::int8())
            .field("int16", Schema::int16())
            .field("int32", Schema::int32())
            .field("int64", Schema::int64())
            .field("float32", Schema::float32())
            .field("float64", Schema::float64())
            .field("boolean", Schema::boolean())
            .field("string", Schema::string())
            .field("bytes", Schema::bytes())
            .build()
    }

    #[test]
    fn top_level_type_required() {
        // Apache's FlattenTest.topLevelStructRequired / topLevelMapRequired.
        let mut t = flatten(Flatten::value(), &[]);
        let err = t
            .apply(ConnectRecord::new(
                "t",
                Some(Schema::int32()),
                Value::Int32(42),
            ))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.to_string(),
            "Only Struct objects supported for [flattening], found: java.lang.Integer"
        );
        let err = t
            .apply(ConnectRecord::new("t", None, Value::Int32(42)))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Only Map objects supported in absence of schema for [flattening], found: java.lang.Integer"
        );
    }

    #[test]
    fn nested_struct_with_delimiter() {
        // Apache's FlattenTest.testNestedStruct.
        let mut t = flatten(Flatten::value(), &[("delimiter", "#")]);
        let supported = primitives_schema();
        let one = SchemaBuilder::struct_()
            .field("B", supported.clone())
            .build();
        let two = SchemaBuilder::struct_().field("A", one.clone()).build();
        let s = Struct::new(supported)
            .with("int8", Value::Int8(8))
            .unwrap()
            .with("int16", Value::Int16(16))
            .unwrap()
            .with("int32", 32)
            .unwrap()
            .with("int64", 64i64)
            .unwrap()
            .with("float32", Value::Float32(32.0))
            .unwrap()
            .with("float64", 64.0)
            .unwrap()
            .with("boolean", true)
            .unwrap()
            .with("string", "stringy")
            .unwrap()
            .with("bytes", Value::Bytes(b"bytes".to_vec()))
            .unwrap();
        let one_v = Struct::new(one).with("B", s).unwrap();
        let two_v = Struct::new(two.clone()).with("A", one_v).unwrap();
        let rec = ConnectRecord::new("t", Some(two), two_v.into());
        let out = t.apply(rec.clone()).unwrap().unwrap();
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.schema().fields.len(), 9);
        assert_eq!(v.get("A#B#int8"), Some(&Value::Int8(8)));
        assert_eq!(v.get("A#B#int16"), Some(&Value::Int16(16)));
        assert_eq!(v.get("A#B#int32"), Some(&Value::Int32(32)));
        assert_eq!(v.get("A#B#int64"), Some(&Value::Int64(64)));
        assert_eq!(v.get("A#B#float32"), Some(&Value::Float32(32.0)));
        assert_eq!(v.get("A#B#float64"), Some(&Value::Float64(64.0)));
        assert_eq!(v.get("A#B#boolean"), Some(&Value::Boolean(true)));
        assert_eq!(v.get("A#B#string"), Some(&Value::String("stringy".into())));
        assert_eq!(v.get("A#B#bytes"), Some(&Value::Bytes(b"bytes".to_vec())));
        assert_eq!(out.value_schema.as_ref(), Some(v.schema()));
        // Cached.
        let again = t.apply(rec).unwrap().unwrap();
        assert!(std::sync::Arc::ptr_eq(
            out.value_schema.as_ref().unwrap(),
            again.value_schema.as_ref().unwrap()
        ));
        assert_eq!(t.cache.len(), 1);
    }

    #[test]
    fn nested_map_with_delimiter() {
        // Apache's FlattenTest.testNestedMapWithDelimiter.
        let mut t = flatten(Flatten::value(), &[("delimiter", "#")]);
        let supported = map(vec![
            ("int8", Value::Int8(8)),
            ("int64", Value::Int64(64)),
            ("string", "stringy".into()),
            ("bytes", Value::Bytes(b"bytes".to_vec())),
            ("array", Value::Array(vec![1.into(), 2.into()])),
        ]);
        let value = map(vec![
            ("A", map(vec![("B", supported)])),
            ("top", true.into()),
        ]);
        let out = t
            .apply(ConnectRecord::new("t", None, value))
            .unwrap()
            .unwrap();
        assert_eq!(out.value_schema, None);
        assert_eq!(
            out.value,
            map(vec![
                ("A#B#int8", Value::Int8(8)),
                ("A#B#int64", Value::Int64(64)),
                ("A#B#string", "stringy".into()),
                ("A#B#bytes", Value::Bytes(b"bytes".to_vec())),
                ("A#B#array", Value::Array(vec![1.into(), 2.into()])),
                ("top", true.into()),
            ])
        );
    }

    #[test]
    fn schemaless_nulls_and_errors() {
        // Apache's FlattenTest.testOptionalFieldMap and testKey.
        let mut t = flatten(Flatten::key(), &[]);
        let key = map(vec![
            ("B", map(vec![("opt_int32", Value::Null)])),
            ("A", map(vec![("B", 12.into())])),
        ]);
        let out = t
            .apply(ConnectRecord::new("t", None, Value::Null).with_key(None, key))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.key,
            map(vec![("B.opt_int32", Value::Null), ("A.B", 12.into())])
        );
        let s = Struct::new(SchemaBuilder::struct_().build());
        let err = t
            .apply(
                ConnectRecord::new("t", None, Value::Null)
                    .with_key(None, map(vec![("x", s.into())])),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Flatten transformation does not support class org.apache.kafka.connect.data.Struct for \
record without schemas (for field x)."
        );
        let err = t
            .apply(
                ConnectRecord::new("t", None, Value::Null)
                    .with_key(None, map(vec![("d", Value::Date(1))])),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Flatten transformation was passed a value of type class java.util.Date which is not \
supported by Connect's data API"
        );
    }

    #[test]
    fn tombstones_pass_through() {
        let mut t = flatten(Flatten::value(), &[]);
        let s = SchemaBuilder::struct_().optional().build();
        let out = t
            .apply(ConnectRecord::new("t", Some(s.clone()), Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!((out.value_schema, out.value), (Some(s), Value::Null));
        let out = t
            .apply(ConnectRecord::new("t", None, Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, Value::Null);
    }

    #[test]
    fn optional_struct_propagates_optionality() {
        // Apache's FlattenTest.testOptionalStruct / testOptionalNestedStruct / testOptionalFieldStruct.
        let mut t = flatten(Flatten::value(), &[]);
        let inner = SchemaBuilder::struct_()
            .optional()
            .field("req_int32", Schema::int32())
            .field("opt_int32", Schema::optional_int32())
            .build();
        let schema = SchemaBuilder::struct_()
            .field("B", inner.clone())
            .field("C", Schema::string())
            .build();
        let value = Struct::new(schema.clone()).with("C", "c").unwrap();
        let out = t
            .apply(ConnectRecord::new("t", Some(schema.clone()), value.into()))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        let f = |n: &str| s.field(n).unwrap().schema.clone();
        assert!(f("B.req_int32").optional, "optional because B is");
        assert!(f("B.opt_int32").optional);
        assert!(!f("C").optional);
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("B.req_int32"), Some(&Value::Null));
        assert_eq!(v.get("C"), Some(&Value::String("c".into())));
        // A present nested struct with its optional field unset.
        let b = Struct::new(inner).with("req_int32", 5).unwrap();
        let value = Struct::new(schema.clone())
            .with("B", b)
            .unwrap()
            .with("C", "c")
            .unwrap();
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap()
            .unwrap();
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("B.req_int32"), Some(&Value::Int32(5)));
        assert_eq!(v.get("B.opt_int32"), Some(&Value::Null));
    }

    #[test]
    fn defaults_from_parents() {
        // Apache's FlattenTest.testOptionalAndDefaultValuesNested.
        let inner = SchemaBuilder::struct_()
            .optional()
            .field("x", Schema::optional_int32())
            .field(
                "y",
                SchemaBuilder::new(SchemaType::String)
                    .optional()
                    .default_value("own".into())
                    .build(),
            )
            .build();
        let inner_default = Struct::new(inner.clone()).with("x", 7).unwrap();
        let inner = SchemaBuilder::struct_()
            .optional()
            .field("x", Schema::optional_int32())
            .field("y", inner.fields[1].schema.clone())
            .default_value(Value::Struct(inner_default))
            .build();
        let schema = SchemaBuilder::struct_()
            .name("outer")
            .version(2)
            .field("B", inner)
            .build();
        let mut t = flatten(Flatten::value(), &[]);
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(schema.clone()),
                Struct::new(schema).into(),
            ))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(s.name.as_deref(), Some("outer"));
        assert_eq!(s.version, Some(2));
        assert_eq!(
            s.field("B.x").unwrap().schema.default_value,
            Some(Value::Int32(7))
        );
        assert_eq!(
            s.field("B.y").unwrap().schema.default_value,
            Some(Value::String("own".into()))
        );
        // As Java's Struct.getStruct, a null B reads as B's default struct, whose values are copied.
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get_without_default("B.x"), Some(&Value::Int32(7)));
        assert_eq!(
            v.get_without_default("B.y"),
            Some(&Value::String("own".into()))
        );
    }

    #[test]
    fn arrays_maps_logical_and_duplicates_with_schema() {
        let arr = SchemaBuilder::array(Schema::int32()).build();
        let m = SchemaBuilder::map(Schema::string(), Schema::int32()).build();
        let date = causeway_data::logical::date().build();
        let inner = SchemaBuilder::struct_()
            .field("arr", arr.clone())
            .field("m", m.clone())
            .field("d", date.clone())
            .build();
        let schema = SchemaBuilder::struct_().field("s", inner.clone()).build();
        let inner_v = Struct::new(inner)
            .with("arr", Value::Array(vec![1.into()]))
            .unwrap()
            .with("m", map(vec![("k", 1.into())]))
            .unwrap()
            .with("d", Value::Date(3))
            .unwrap();
        let value = Struct::new(schema.clone()).with("s", inner_v).unwrap();
        let mut t = flatten(Flatten::value(), &[("delimiter", "_")]);
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(s.field("s_arr").unwrap().schema, arr);
        assert_eq!(s.field("s_m").unwrap().schema, m);
        assert_eq!(s.field("s_d").unwrap().schema, date);
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("s_d"), Some(&Value::Date(3)));
        assert_eq!(v.get("s_arr"), Some(&Value::Array(vec![1.into()])));
        // "a.b" both nested and literal: Java's SchemaBuilder rejects the duplicate.
        let schema = SchemaBuilder::struct_()
            .field(
                "a",
                SchemaBuilder::struct_().field("b", Schema::int32()).build(),
            )
            .field("a.b", Schema::int32())
            .build();
        let err = flatten(Flatten::value(), &[])
            .apply(ConnectRecord::new(
                "t",
                Some(schema.clone()),
                Struct::new(schema).into(),
            ))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cannot create field because of field name duplication a.b"
        );
    }
}
