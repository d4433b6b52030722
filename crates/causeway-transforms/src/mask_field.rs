//! `MaskField`: replaces fields with a type-appropriate "zero" value, or with a configured replacement.
use std::str::FromStr;

use causeway_api::config::{ConfigDef, ConfigType, Importance, ParsedValue, validators};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{BigDecimal, ConnectRecord, Struct, Value};

use crate::hoist_field::Side;

const FIELDS_CONFIG: &str = "fields";
const REPLACEMENT_CONFIG: &str = "replacement";
const PURPOSE: &str = "mask fields";

/// `org.apache.kafka.connect.transforms.MaskField$Key` and `$Value`: masks the listed fields of a Struct (with a
/// schema) or Map (schemaless) with the null value of their type (`0`, `false`, `""`, empty list/map, epoch …),
/// or with `replacement` converted to the field's type (numbers and strings only).
pub struct MaskField {
    side: Side,
    fields: Vec<String>,
    replacement: Option<String>,
}

impl MaskField {
    /// `MaskField$Key`.
    pub fn key() -> Self {
        Self::new(Side::Key)
    }

    /// `MaskField$Value`.
    pub fn value() -> Self {
        Self::new(Side::Value)
    }

    fn new(side: Side) -> Self {
        MaskField {
            side,
            fields: Vec::new(),
            replacement: None,
        }
    }

    fn masked(&self, value: &Value) -> Result<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match &self.replacement {
            None => mask_with_null_value(value),
            Some(r) => mask_with_custom_replacement(value, r),
        }
    }

    fn apply_schemaless(&self, value: Value) -> Result<Value> {
        let Value::Map(_) = value else {
            return Err(ConnectError::data(format!(
                "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        };
        let mut updated = value;
        for field in &self.fields {
            // As Apache: a listed field missing from the map is added with a null value.
            let masked = self.masked(updated.map_get(field).unwrap_or(&Value::Null))?;
            updated.map_insert(field.as_str(), masked);
        }
        Ok(updated)
    }

    fn apply_with_schema(&self, value: Value) -> Result<Value> {
        let Value::Struct(value) = value else {
            return Err(ConnectError::data(format!(
                "Only Struct objects supported for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        };
        let schema = value.schema().clone();
        let mut updated = Struct::new(schema.clone());
        for field in &schema.fields {
            let orig = value.get(&field.name).cloned().unwrap_or(Value::Null);
            let v = if self.fields.contains(&field.name) {
                self.masked(&orig)?
            } else {
                orig
            };
            updated.put(&field.name, v)?;
        }
        Ok(Value::Struct(updated))
    }
}

/// The "null value" of a value's type (Apache's `PRIMITIVE_VALUE_MAPPING`, plus empty List / Map).
fn mask_with_null_value(value: &Value) -> Result<Value> {
    Ok(match value {
        Value::Boolean(_) => Value::Boolean(false),
        Value::Int8(_) => Value::Int8(0),
        Value::Int16(_) => Value::Int16(0),
        Value::Int32(_) => Value::Int32(0),
        Value::Int64(_) => Value::Int64(0),
        Value::Float32(_) => Value::Float32(0.0),
        Value::Float64(_) => Value::Float64(0.0),
        Value::Decimal(_) => Value::Decimal(BigDecimal::from(0)),
        Value::Date(_) => Value::Date(0),
        Value::Time(_) => Value::Time(0),
        Value::Timestamp(_) => Value::Timestamp(0),
        Value::String(_) => Value::String(String::new()),
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Map(_) => Value::Map(Vec::new()),
        other => {
            return Err(ConnectError::data(format!(
                "Cannot mask value of type: class {}",
                other.type_name()
            )));
        }
    })
}

/// The replacement converted to the value's type (Apache's `REPLACEMENT_MAPPING_FUNC`).
fn mask_with_custom_replacement(value: &Value, replacement: &str) -> Result<Value> {
    let not_a_number = || {
        ConnectError::data(format!(
            "Unable to convert {replacement} (class java.lang.String) to number"
        ))
    };
    // Java's `Number.longValue()` of the parsed number: integral part, low 64 bits.
    let as_long = || -> Result<i64> {
        if let Ok(v) = replacement.parse::<i64>() {
            return Ok(v);
        }
        let d = BigDecimal::from_str(replacement).map_err(|_| not_a_number())?;
        let text = d.with_scale(0).to_string();
        let v = text.parse::<i128>().map_err(|_| not_a_number())?;
        Ok(v as i64)
    };
    let as_double = || -> Result<f64> {
        if let Ok(v) = replacement.parse::<f64>()
            && BigDecimal::from_str(replacement).is_ok()
        {
            return Ok(v);
        }
        Err(not_a_number())
    };
    Ok(match value {
        Value::Int8(_) => Value::Int8(as_long()? as i8),
        Value::Int16(_) => Value::Int16(as_long()? as i16),
        Value::Int32(_) => Value::Int32(as_long()? as i32),
        Value::Int64(_) => Value::Int64(as_long()?),
        Value::Float32(_) => Value::Float32(as_double()? as f32),
        Value::Float64(_) => Value::Float64(as_double()?),
        Value::String(_) => Value::String(replacement.to_owned()),
        Value::Decimal(_) => {
            Value::Decimal(BigDecimal::from_str(replacement).map_err(|_| not_a_number())?)
        }
        other => {
            return Err(ConnectError::data(format!(
                "Cannot mask value of type class {} with custom replacement.",
                other.type_name()
            )));
        }
    })
}

impl Transformation for MaskField {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let mut fields = Vec::new();
        for f in parsed.list(FIELDS_CONFIG) {
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
        self.fields = fields;
        self.replacement = parsed.string(REPLACEMENT_CONFIG).map(str::to_owned);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if self.fields.is_empty() {
            return Err(ConnectError::config("MaskField is not configured"));
        }
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let updated = self.apply_schemaless(value)?;
                self.side.put(&mut record, None, updated);
            }
            Some(schema) => {
                let updated = self.apply_with_schema(value)?;
                self.side.put(&mut record, Some(schema), updated);
            }
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
            .define_required(
                FIELDS_CONFIG,
                ConfigType::List,
                Importance::High,
                "Names of fields to mask.",
            )
            .with_last(|k| k.validator(validators::non_empty_list()))
            .define_null(
                REPLACEMENT_CONFIG,
                ConfigType::String,
                Importance::Low,
                "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string \
values only).",
            )
            .with_last(|k| {
                k.validator(validators::from_fn("non-empty string", |_, v| match v {
                    Some(ParsedValue::String(s)) if s.is_empty() => {
                        Err("String must be non-empty".to_owned())
                    }
                    _ => Ok(()),
                }))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::props;
    use causeway_data::{Schema, SchemaBuilder, SchemaRef, logical};

    fn xform(side: MaskField, p: &[(&str, &str)]) -> MaskField {
        let mut t = side;
        t.configure(&props(p)).unwrap();
        t
    }

    fn samples() -> Vec<(&'static str, SchemaRef, Value, Value)> {
        vec![
            ("magic", Schema::int32(), Value::Int32(42), Value::Int32(0)),
            (
                "bool",
                Schema::boolean(),
                Value::Boolean(true),
                Value::Boolean(false),
            ),
            ("byte", Schema::int8(), Value::Int8(42), Value::Int8(0)),
            ("short", Schema::int16(), Value::Int16(42), Value::Int16(0)),
            ("int", Schema::int32(), Value::Int32(42), Value::Int32(0)),
            ("long", Schema::int64(), Value::Int64(42), Value::Int64(0)),
            (
                "float",
                Schema::float32(),
                Value::Float32(42.0),
                Value::Float32(0.0),
            ),
            (
                "double",
                Schema::float64(),
                Value::Float64(42.0),
                Value::Float64(0.0),
            ),
            (
                "string",
                Schema::string(),
                Value::String("55.121.20.20".into()),
                Value::String(String::new()),
            ),
            (
                "date",
                logical::date().build(),
                Value::Date(17000),
                Value::Date(0),
            ),
            (
                "decimal",
                logical::decimal(0).build(),
                Value::Decimal(BigDecimal::from(42)),
                Value::Decimal(BigDecimal::from(0)),
            ),
            (
                "array",
                SchemaBuilder::array(Schema::int32()).build(),
                Value::Array(vec![Value::Int32(1), Value::Int32(2)]),
                Value::Array(vec![]),
            ),
            (
                "map",
                SchemaBuilder::map(Schema::string(), Schema::string()).build(),
                Value::Map(vec![(Value::String("k".into()), Value::String("v".into()))]),
                Value::Map(vec![]),
            ),
        ]
    }

    #[test]
    fn schemaless_masks_with_null_values() {
        let s = samples();
        let names: Vec<&str> = s.iter().map(|x| x.0).filter(|n| *n != "magic").collect();
        let mut t = xform(MaskField::value(), &[("fields", &names.join(","))]);
        let value = Value::Map(
            s.iter()
                .map(|(n, _, v, _)| (Value::String((*n).into()), v.clone()))
                .collect(),
        );
        let out = t
            .apply(ConnectRecord::new("t", None, value))
            .unwrap()
            .unwrap();
        for (name, _, orig, zero) in &s {
            let expected = if *name == "magic" { orig } else { zero };
            assert_eq!(out.value.map_get(name), Some(expected), "{name}");
        }
    }

    #[test]
    fn schemaful_masks_with_null_values() {
        let s = samples();
        let names: Vec<&str> = s.iter().map(|x| x.0).filter(|n| *n != "magic").collect();
        let mut t = xform(MaskField::key(), &[("fields", &names.join(","))]);
        let mut b = SchemaBuilder::struct_();
        for (n, schema, _, _) in &s {
            b = b.field(*n, schema.clone());
        }
        let schema = b.build();
        let mut v = Struct::new(schema.clone());
        for (n, _, val, _) in &s {
            v.put(n, val.clone()).unwrap();
        }
        let r = ConnectRecord::new("t", None, Value::Int32(9))
            .with_key(Some(schema.clone()), Value::Struct(v));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.key_schema, Some(schema));
        assert_eq!(out.value, Value::Int32(9));
        let k = out.key.as_struct().unwrap();
        for (name, _, orig, zero) in &s {
            let expected = if *name == "magic" { orig } else { zero };
            assert_eq!(k.get(name), Some(expected), "{name}");
        }
    }

    #[test]
    fn custom_replacements() {
        let cases = [
            (Value::Int8(42), "123", Value::Int8(123)),
            (Value::Int16(42), "123", Value::Int16(123)),
            (Value::Int32(42), "123", Value::Int32(123)),
            (Value::Int64(42), "-123", Value::Int64(-123)),
            (Value::Int32(42), "1.9", Value::Int32(1)),
            (Value::Float32(42.0), "123.5", Value::Float32(123.5)),
            (Value::Float64(42.0), "123", Value::Float64(123.0)),
            (
                Value::String("x".into()),
                "***",
                Value::String("***".into()),
            ),
            (
                Value::Decimal(BigDecimal::from(42)),
                "12.5",
                Value::Decimal(BigDecimal::from_str("12.5").unwrap()),
            ),
        ];
        for (orig, repl, expected) in cases {
            let mut t = xform(
                MaskField::value(),
                &[("fields", "f"), ("replacement", repl)],
            );
            let value = Value::Map(vec![(Value::String("f".into()), orig.clone())]);
            let out = t
                .apply(ConnectRecord::new("t", None, value))
                .unwrap()
                .unwrap();
            assert_eq!(out.value.map_get("f"), Some(&expected), "{orig:?} / {repl}");
        }
    }

    #[test]
    fn replacement_errors() {
        let mut t = xform(
            MaskField::value(),
            &[("fields", "f"), ("replacement", "foo")],
        );
        let apply = |t: &mut MaskField, v: Value| {
            t.apply(ConnectRecord::new(
                "t",
                None,
                Value::Map(vec![(Value::String("f".into()), v)]),
            ))
            .unwrap_err()
            .to_string()
        };
        let err = apply(&mut t, Value::Int32(1));
        assert!(
            err.contains("Unable to convert foo (class java.lang.String) to number"),
            "{err}"
        );
        let err = apply(&mut t, Value::Boolean(true));
        assert!(
            err.contains(
                "Cannot mask value of type class java.lang.Boolean with custom replacement."
            ),
            "{err}"
        );
        let err = apply(&mut t, Value::Date(3));
        assert!(
            err.contains("Cannot mask value of type class java.util.Date with custom replacement."),
            "{err}"
        );
    }

    #[test]
    fn unmaskable_types() {
        let mut t = xform(MaskField::value(), &[("fields", "f")]);
        let err = t
            .apply(ConnectRecord::new(
                "t",
                None,
                Value::Map(vec![(Value::String("f".into()), Value::Bytes(vec![1]))]),
            ))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert!(
            err.to_string()
                .contains("Cannot mask value of type: class [B"),
            "{err}"
        );
        let inner = SchemaBuilder::struct_().field("x", Schema::int32()).build();
        let schema = SchemaBuilder::struct_().field("f", inner.clone()).build();
        let v = Struct::new(schema.clone())
            .with("f", Struct::new(inner).with("x", 1).unwrap())
            .unwrap();
        let err = t
            .apply(ConnectRecord::new("t", Some(schema), Value::Struct(v)))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Cannot mask value of type: class org.apache.kafka.connect.data.Struct"),
            "{err}"
        );
    }

    #[test]
    fn nulls_and_missing_fields() {
        let mut t = xform(MaskField::value(), &[("fields", "a,missing")]);
        let out = t
            .apply(ConnectRecord::new(
                "t",
                None,
                Value::Map(vec![(Value::String("a".into()), Value::Null)]),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.value.map_get("a"), Some(&Value::Null));
        assert_eq!(
            out.value.map_get("missing"),
            Some(&Value::Null),
            "added, as Apache"
        );
        let schema = SchemaBuilder::struct_()
            .field("a", Schema::optional_int32())
            .build();
        let r = ConnectRecord::new(
            "t",
            Some(schema.clone()),
            Value::Struct(Struct::new(schema)),
        );
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.value.as_struct().unwrap().get("a"), Some(&Value::Null));
    }

    #[test]
    fn tombstones_are_rejected_as_apache() {
        // Apache's MaskField has no tombstone check: requireMap / requireStruct fail on null.
        let mut t = xform(MaskField::value(), &[("fields", "a")]);
        let err = t
            .apply(ConnectRecord::new("t", None, Value::Null))
            .unwrap_err();
        assert!(
            err.to_string().contains(
                "Only Map objects supported in absence of schema for [mask fields], found: null"
            ),
            "{err}"
        );
        let s = SchemaBuilder::struct_().optional().build();
        let err = t
            .apply(ConnectRecord::new("t", Some(s), Value::Null))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Only Struct objects supported for [mask fields], found: null"),
            "{err}"
        );
    }

    #[test]
    fn config_validation() {
        let err = MaskField::value().configure(&props(&[])).unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"fields\""),
            "{err}"
        );
        let err = MaskField::value()
            .configure(&props(&[("fields", "")]))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Invalid value [] for configuration fields: Empty list"),
            "{err}"
        );
        let err = MaskField::value()
            .configure(&props(&[("fields", "a"), ("replacement", "")]))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Invalid value  for configuration replacement: String must be non-empty"),
            "{err}"
        );
    }
}
