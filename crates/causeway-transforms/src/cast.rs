//! `Cast`: casts fields, or the whole key or value, to another primitive type.
use causeway_api::config::{ConfigDef, ConfigType, Importance, ParsedValue, validators};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{
    BigDecimal, ConnectRecord, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value, logical,
};

use crate::hoist_field::{SchemaCache, Side};

const SPEC_CONFIG: &str = "spec";
const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";
const PURPOSE: &str = "cast types";
const SUPPORTED_INPUT: &str =
    "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]";
const SUPPORTED_OUTPUT: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]";

/// The parsed `spec`: per-field casts (in spec order, later duplicates win) or one whole-value cast.
#[derive(Debug, Clone, Default, PartialEq)]
struct Casts {
    fields: Vec<(String, SchemaType)>,
    whole: Option<SchemaType>,
}

impl Casts {
    fn get(&self, field: &str) -> Option<SchemaType> {
        self.fields
            .iter()
            .rev()
            .find(|(name, _)| name == field)
            .map(|(_, t)| *t)
    }
}

fn is_output_type(t: SchemaType) -> bool {
    t.is_primitive() && t != SchemaType::Bytes
}

/// `Cast.parseFieldTypes`; errors are ConfigException messages.
fn parse_field_types(mappings: &[String]) -> std::result::Result<Casts, String> {
    let mut casts = Casts::default();
    for mapping in mappings {
        // Java's String.split(":") drops trailing empty strings.
        let mut parts: Vec<&str> = mapping.split(':').collect();
        while parts.last() == Some(&"") {
            parts.pop();
        }
        if parts.len() > 2 {
            // Apache reports this against ReplaceField's `renames` key, with its rename wording.
            return Err(format!(
                "Invalid value [{}] for configuration renames: Invalid rename mapping: {mapping}",
                mappings.join(", ")
            ));
        }
        let valid_output = |t: SchemaType| {
            if is_output_type(t) {
                Ok(t)
            } else {
                Err(format!(
                    "Cast transformation does not support casting to {t}; supported types are {SUPPORTED_OUTPUT}"
                ))
            }
        };
        match parts.as_slice() {
            [whole] => {
                let name = whole.trim().to_uppercase();
                let t = SchemaType::from_name(&name)
                    .filter(|_| name.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .ok_or_else(|| {
                        format!("No enum constant org.apache.kafka.connect.data.Schema.Type.{name}")
                    })?;
                casts.whole = Some(valid_output(t)?);
            }
            [field, ty] => {
                let t = SchemaType::from_name(ty.trim())
                    .ok_or_else(|| format!("Invalid type found in casting spec: {}", ty.trim()))?;
                casts
                    .fields
                    .push((field.trim().to_owned(), valid_output(t)?));
            }
            // ":" splits to nothing; Java fails with an ArrayIndexOutOfBoundsException here.
            _ => return Err(format!("Invalid cast mapping: {mapping}")),
        }
    }
    if casts.whole.is_some() && mappings.len() > 1 {
        return Err(
            "Cast transformations that specify a type to cast the entire value to \
may ony specify a single cast in their spec"
                .into(),
        );
    }
    Ok(casts)
}

/// A numeric view of a value, for Java's `Number.xxxValue()` conversions.
enum Num {
    Int(i64),
    F32(f32),
    F64(f64),
    Dec(BigDecimal),
}

impl Num {
    fn of(value: &Value) -> Option<Num> {
        Some(match value {
            Value::Float32(v) => Num::F32(*v),
            Value::Float64(v) => Num::F64(*v),
            Value::Decimal(d) => Num::Dec(d.clone()),
            other => Num::Int(other.as_i64()?),
        })
    }

    /// `intValue()`: Java's narrowing conversions (saturating for floats, NaN → 0).
    fn int(&self) -> i32 {
        match self {
            Num::Int(v) => *v as i32,
            Num::F32(v) => *v as i32,
            Num::F64(v) => *v as i32,
            Num::Dec(_) => self.long() as i32,
        }
    }

    /// `longValue()`: for BigDecimal, the low 64 bits of the integer part.
    fn long(&self) -> i64 {
        match self {
            Num::Int(v) => *v,
            Num::F32(v) => *v as i64,
            Num::F64(v) => *v as i64,
            Num::Dec(d) => {
                let (int, _) = d.with_scale(0).as_bigint_and_exponent();
                let bytes = int.to_signed_bytes_le();
                let fill = if bytes.last().is_some_and(|b| b & 0x80 != 0) {
                    0xff
                } else {
                    0
                };
                let mut low = [fill; 8];
                for (slot, b) in low.iter_mut().zip(&bytes) {
                    *slot = *b;
                }
                i64::from_le_bytes(low)
            }
        }
    }

    fn float(&self) -> f32 {
        match self {
            Num::Int(v) => *v as f32,
            Num::F32(v) => *v,
            Num::F64(v) => *v as f32,
            Num::Dec(d) => d.to_string().parse().unwrap_or(0.0),
        }
    }

    fn double(&self) -> f64 {
        match self {
            Num::Int(v) => *v as f64,
            Num::F32(v) => f64::from(*v),
            Num::F64(v) => *v,
            Num::Dec(d) => d.to_string().parse().unwrap_or(0.0),
        }
    }
}

/// Java's `Float.parseFloat`/`Double.parseDouble` for decimal text (hexadecimal floats are not accepted).
fn parse_java_float(s: &str) -> Option<f64> {
    let s = s.trim_matches(|c: char| c <= ' ');
    let (sign, body) = match s.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    match body {
        "NaN" => return Some(f64::NAN),
        "Infinity" => return Some(sign * f64::INFINITY),
        _ => {}
    }
    let body = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !digits(e) {
            return None;
        }
    }
    body.parse::<f64>().ok().map(|v| sign * v)
}

fn unexpected(value: &Value) -> ConnectError {
    ConnectError::data(format!(
        "Unexpected type in Cast transformation: class {}",
        value.type_name()
    ))
}

fn out_of_range(value: &Value) -> ConnectError {
    ConnectError::data(format!(
        "Value ({value}) was out of range for requested data type"
    ))
}

/// `Cast.castValueToType`.
fn cast_value(schema: Option<&Schema>, value: &Value, target: SchemaType) -> Result<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let inferred = match schema {
        Some(s) => Some(s.schema_type),
        // ConnectSchema.schemaType(value.getClass()): no type for BigDecimal or java.util.Date.
        None if matches!(
            value,
            Value::Decimal(_) | Value::Date(_) | Value::Time(_) | Value::Timestamp(_)
        ) =>
        {
            None
        }
        None => value.inferred_type(),
    };
    let Some(inferred) = inferred else {
        return Err(ConnectError::data(format!(
            "Cast transformation was passed a value of type class {} which is not supported by Connect's data API",
            value.type_name()
        )));
    };
    if !inferred.is_primitive() {
        return Err(ConnectError::data(format!(
            "Cast transformation does not support casting from {inferred}; supported types are {SUPPORTED_INPUT}"
        )));
    }
    // Date/Time/Timestamp encode to their int representation (days, ms of day, ms) for numeric targets;
    // the Value variants already hold exactly that. Strings keep the date rendering.
    if target == SchemaType::String {
        return Ok(Value::String(
            causeway_converters::convert_to_string(None, value).unwrap_or_default(),
        ));
    }
    if let Value::Boolean(b) = value {
        let n = i64::from(*b);
        return Ok(match target {
            SchemaType::Int8 => Value::Int8(n as i8),
            SchemaType::Int16 => Value::Int16(n as i16),
            SchemaType::Int32 => Value::Int32(n as i32),
            SchemaType::Int64 => Value::Int64(n),
            SchemaType::Float32 => Value::Float32(n as f32),
            SchemaType::Float64 => Value::Float64(n as f64),
            _ => Value::Boolean(*b),
        });
    }
    if let Value::String(s) = value {
        let bad = || out_of_range(value);
        return Ok(match target {
            SchemaType::Int8 => Value::Int8(s.parse().map_err(|_| bad())?),
            SchemaType::Int16 => Value::Int16(s.parse().map_err(|_| bad())?),
            SchemaType::Int32 => Value::Int32(s.parse().map_err(|_| bad())?),
            SchemaType::Int64 => Value::Int64(s.parse().map_err(|_| bad())?),
            SchemaType::Float32 => Value::Float32(parse_java_float(s).ok_or_else(bad)? as f32),
            SchemaType::Float64 => Value::Float64(parse_java_float(s).ok_or_else(bad)?),
            _ => Value::Boolean(s.eq_ignore_ascii_case("true")),
        });
    }
    let num = Num::of(value).ok_or_else(|| unexpected(value))?;
    Ok(match target {
        SchemaType::Int8 => Value::Int8(num.int() as i8),
        SchemaType::Int16 => Value::Int16(num.int() as i16),
        SchemaType::Int32 => Value::Int32(num.int()),
        SchemaType::Int64 => Value::Int64(num.long()),
        SchemaType::Float32 => Value::Float32(num.float()),
        SchemaType::Float64 => Value::Float64(num.double()),
        SchemaType::Boolean => Value::Boolean(num.long() != 0),
        other => {
            return Err(ConnectError::data(format!(
                "{other} is not supported in the Cast transformation."
            )));
        }
    })
}

/// `SchemaUtil.copySchemaBasics`: name, version, doc and parameters.
fn copy_basics(from: &Schema, builder: SchemaBuilder) -> SchemaBuilder {
    builder
        .set_name(from.name.clone())
        .set_version(from.version)
        .set_doc(from.doc.clone())
        .parameters(from.parameters.clone())
}

/// `org.apache.kafka.connect.transforms.Cast$Key` ([`Cast::key`]) and `$Value` ([`Cast::value`]): casts
/// the fields named in `spec` (of a Struct or a schemaless Map), or the whole key or value, to int8, int16,
/// int32, int64, float32, float64, boolean or string.
pub struct Cast {
    side: Side,
    casts: Option<Casts>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl Cast {
    /// `Cast$Key`.
    pub fn key() -> Self {
        Self::new(Side::Key)
    }

    /// `Cast$Value`.
    pub fn value() -> Self {
        Self::new(Side::Value)
    }

    fn new(side: Side) -> Self {
        Cast {
            side,
            casts: None,
            replace_null_with_default: true,
            cache: SchemaCache::default(),
        }
    }

    fn build_schema(casts: &Casts, schema: &Schema) -> Result<SchemaRef> {
        let mut builder = match casts.whole {
            Some(t) => {
                let b = SchemaBuilder::new(t);
                // Apache copies the logical name too, which would leave e.g. an int32 named Date holding a
                // plain integer; a cast result is a plain primitive, so logical schemas keep only their doc.
                if logical::is_logical(schema) {
                    b.set_doc(schema.doc.clone())
                } else {
                    copy_basics(schema, b)
                }
            }
            None => {
                let mut b = copy_basics(schema, SchemaBuilder::struct_());
                for field in &schema.fields {
                    match casts.get(&field.name) {
                        Some(t) => {
                            let mut fb = SchemaBuilder::new(t);
                            if field.schema.optional {
                                fb = fb.optional();
                            }
                            if let Some(default) = &field.schema.default_value {
                                let cast = cast_value(Some(&field.schema), default, t)?;
                                fb = fb.try_default_value(cast)?;
                            }
                            b = b.field(field.name.clone(), fb.build());
                        }
                        None => b = b.field(field.name.clone(), field.schema.clone()),
                    }
                }
                b
            }
        };
        if schema.optional {
            builder = builder.optional();
        }
        if let Some(default) = &schema.default_value {
            let t = builder.schema_type();
            builder = builder.try_default_value(cast_value(Some(schema), default, t)?)?;
        }
        Ok(builder.build())
    }

    fn apply_schemaless(&self, casts: &Casts, value: Value) -> Result<Value> {
        if let Some(t) = casts.whole {
            return cast_value(None, &value, t);
        }
        if !matches!(value, Value::Map(_)) {
            return Err(ConnectError::data(format!(
                "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        }
        let mut updated = value.clone();
        for (field, t) in &casts.fields {
            let orig = value.map_get(field).unwrap_or(&Value::Null);
            // HashMap.put: a missing field becomes an entry with a null value.
            updated.map_insert(field.as_str(), cast_value(None, orig, *t)?);
        }
        Ok(updated)
    }

    fn apply_with_schema(
        &mut self,
        casts: &Casts,
        schema: SchemaRef,
        value: Value,
    ) -> Result<(SchemaRef, Value)> {
        let updated_schema = self
            .cache
            .get_or_try_insert(&schema, || Self::build_schema(casts, &schema))?;
        if let Some(t) = casts.whole {
            let cast = cast_value(Some(&schema), &value, t)?;
            return Ok((updated_schema, cast));
        }
        let Value::Struct(value) = value else {
            return Err(ConnectError::data(format!(
                "Only Struct objects supported for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        };
        let mut updated = Struct::new(updated_schema.clone());
        for field in &value.schema().fields {
            let orig = if self.replace_null_with_default {
                value.get(&field.name)
            } else {
                value.get_without_default(&field.name)
            }
            .cloned()
            .unwrap_or(Value::Null);
            let new = match casts.get(&field.name) {
                Some(t) => cast_value(Some(&field.schema), &orig, t)?,
                None => orig,
            };
            updated.put(&field.name, new)?;
        }
        Ok((updated_schema, Value::Struct(updated)))
    }
}

impl Transformation for Cast {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let casts = parse_field_types(&parsed.list(SPEC_CONFIG)).map_err(ConnectError::config)?;
        self.casts = Some(casts);
        self.replace_null_with_default = parsed
            .boolean(REPLACE_NULL_WITH_DEFAULT_CONFIG)
            .unwrap_or(true);
        self.cache = SchemaCache::default();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(casts) = self.casts.clone() else {
            return Err(ConnectError::config("Cast is not configured"));
        };
        let (schema, value) = self.side.take(&mut record);
        if value.is_null() {
            self.side.put(&mut record, schema, value);
            return Ok(Some(record));
        }
        let (schema, value) = match schema {
            None => (None, self.apply_schemaless(&casts, value)?),
            Some(schema) => {
                let (s, v) = self.apply_with_schema(&casts, schema, value)?;
                (Some(s), v)
            }
        };
        self.side.put(&mut record, schema, value);
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        let def = ConfigDef::new()
            .define_required(
                SPEC_CONFIG,
                ConfigType::List,
                Importance::High,
                "List of fields and the type to cast them to of the form field1:type,field2:type to cast \
fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, \
float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
            )
            .with_last(|k| {
                k.validator(validators::from_fn(
                    "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>",
                    |_, v| match v {
                        Some(ParsedValue::List(items)) if !items.is_empty() => {
                            parse_field_types(items).map(|_| ()).map_err(|e| format!("!{e}"))
                        }
                        _ => Err("!Must specify at least one field to cast.".into()),
                    },
                ))
            });
        crate::with_replace_null_with_default(def)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::map;
    use crate::test_support::props;
    use std::str::FromStr;

    fn cast(mut t: Cast, p: &[(&str, &str)]) -> Cast {
        t.configure(&props(p)).unwrap();
        t
    }

    fn config_err(spec: &str) -> String {
        let err = Cast::value()
            .configure(&props(&[("spec", spec)]))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Config(_)), "{err:?}");
        err.to_string()
    }

    fn whole_value(
        spec: &str,
        schema: Option<SchemaRef>,
        value: Value,
    ) -> Result<(Option<SchemaRef>, Value)> {
        let mut t = cast(Cast::value(), &[("spec", spec)]);
        let out = t
            .apply(ConnectRecord::new("topic", schema, value))?
            .unwrap();
        Ok((out.value_schema, out.value))
    }

    #[test]
    fn config_errors() {
        let err = Cast::value().configure(&Props::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"spec\""),
            "{err}"
        );
        assert!(config_err("").contains("Must specify at least one field to cast."));
        assert!(
            config_err("foo:faketype").contains("Invalid type found in casting spec: faketype")
        );
        assert!(config_err("foo:array").contains(
            "Cast transformation does not support casting to ARRAY; supported types are \
[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"
        ));
        assert!(config_err("bytes").contains("does not support casting to BYTES"));
        assert!(
            config_err("faketype")
                .contains("No enum constant org.apache.kafka.connect.data.Schema.Type.FAKETYPE")
        );
        assert!(config_err("foo:int8,int32").contains(
            "Cast transformations that specify a type to cast the entire value to may ony specify a \
single cast in their spec"
        ));
        assert!(config_err("a:b:c").contains(
            "Invalid value [a:b:c] for configuration renames: Invalid rename mapping: a:b:c"
        ));
        // Type names are case-insensitive and trimmed.
        cast(Cast::value(), &[("spec", " a : INT8 , b:Float64 ")]);
        cast(Cast::key(), &[("spec", "String")]);
    }

    #[test]
    fn whole_key_with_schema() {
        // Apache's CastTest.castWholeRecordKeyWithSchema.
        let mut t = cast(Cast::key(), &[("spec", "int8")]);
        let r = ConnectRecord::new("topic", None, Value::Null)
            .with_key(Some(Schema::int32()), Value::Int32(42));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.key_schema.unwrap().schema_type, SchemaType::Int8);
        assert_eq!(out.key, Value::Int8(42));
        assert_eq!(out.value, Value::Null);
    }

    #[test]
    fn whole_value_with_schema() {
        let i = || Some(Schema::int32());
        let check = |spec: &str, expected_type: SchemaType, expected: Value| {
            let (s, v) = whole_value(spec, i(), Value::Int32(42)).unwrap();
            assert_eq!(s.unwrap().schema_type, expected_type);
            assert_eq!(v, expected);
        };
        check("int8", SchemaType::Int8, Value::Int8(42));
        check("int16", SchemaType::Int16, Value::Int16(42));
        check("int32", SchemaType::Int32, Value::Int32(42));
        check("int64", SchemaType::Int64, Value::Int64(42));
        check("float32", SchemaType::Float32, Value::Float32(42.0));
        check("float64", SchemaType::Float64, Value::Float64(42.0));
        check("boolean", SchemaType::Boolean, Value::Boolean(true));
        check("string", SchemaType::String, Value::String("42".into()));
        // Booleans, strings and floats as sources.
        let (_, v) = whole_value("int32", Some(Schema::boolean()), Value::Boolean(true)).unwrap();
        assert_eq!(v, Value::Int32(1));
        let (_, v) = whole_value("float64", Some(Schema::string()), "-1.5e3".into()).unwrap();
        assert_eq!(v, Value::Float64(-1500.0));
        let (_, v) = whole_value("boolean", Some(Schema::string()), "TRUE".into()).unwrap();
        assert_eq!(v, Value::Boolean(true));
        let (_, v) = whole_value("boolean", Some(Schema::string()), "yes".into()).unwrap();
        assert_eq!(v, Value::Boolean(false));
        let (_, v) = whole_value("int8", Some(Schema::float64()), Value::Float64(300.7)).unwrap();
        assert_eq!(v, Value::Int8(44), "(byte)(int)300.7");
        let (_, v) =
            whole_value("int32", Some(Schema::float64()), Value::Float64(f64::NAN)).unwrap();
        assert_eq!(v, Value::Int32(0));
        let (_, v) = whole_value("int16", Some(Schema::int64()), Value::Int64(65_537)).unwrap();
        assert_eq!(v, Value::Int16(1));
        let (_, v) = whole_value("boolean", Some(Schema::float32()), Value::Float32(0.5)).unwrap();
        assert_eq!(v, Value::Boolean(false), "longValue() of 0.5 is 0");
        let (_, v) = whole_value("string", Some(Schema::float32()), Value::Float32(1.1)).unwrap();
        assert_eq!(v, Value::String("1.1".into()));
        let (_, v) = whole_value("string", Some(Schema::float64()), Value::Float64(1e10)).unwrap();
        assert_eq!(v, Value::String("1.0E10".into()));
    }

    #[test]
    fn whole_value_schema_keeps_basics_optional_and_default() {
        // Apache's CastTest.castWholeRecordDefaultValue and copySchemaBasics.
        let schema = SchemaBuilder::new(SchemaType::Int32)
            .optional()
            .name("my.int")
            .version(3)
            .doc("d")
            .default_value(Value::Int32(42))
            .build();
        let (s, v) = whole_value("int8", Some(schema), Value::Int32(1)).unwrap();
        let s = s.unwrap();
        assert_eq!(s.schema_type, SchemaType::Int8);
        assert!(s.optional);
        assert_eq!(s.default_value, Some(Value::Int8(42)));
        assert_eq!(s.name.as_deref(), Some("my.int"));
        assert_eq!(s.version, Some(3));
        assert_eq!(s.doc.as_deref(), Some("d"));
        assert_eq!(v, Value::Int8(1));
    }

    #[test]
    fn string_parse_errors() {
        let err = whole_value("int8", Some(Schema::string()), "300".into()).unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.to_string(),
            "Value (300) was out of range for requested data type"
        );
        let err = whole_value("float32", Some(Schema::string()), "inf".into()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Value (inf) was out of range for requested data type"
        );
        let (_, v) = whole_value("float32", Some(Schema::string()), " 2.5f ".into()).unwrap();
        assert_eq!(v, Value::Float32(2.5));
        let (_, v) = whole_value("float64", Some(Schema::string()), "-Infinity".into()).unwrap();
        assert_eq!(v, Value::Float64(f64::NEG_INFINITY));
        let (_, v) = whole_value("int64", Some(Schema::string()), "+12".into()).unwrap();
        assert_eq!(v, Value::Int64(12));
    }

    #[test]
    fn bytes_only_cast_to_string() {
        let (s, v) = whole_value(
            "string",
            Some(Schema::bytes()),
            Value::Bytes(vec![0x03, 0xff]),
        )
        .unwrap();
        assert_eq!(s.unwrap().schema_type, SchemaType::String);
        assert_eq!(v, Value::String("A/8=".into()));
        let err = whole_value("int32", Some(Schema::bytes()), Value::Bytes(vec![1])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unexpected type in Cast transformation: class [B"
        );
    }

    #[test]
    fn unsupported_inputs() {
        // Apache's CastTest.castWholeRecordValueSchemalessUnsupportedType.
        let err = whole_value("int8", None, Value::Array(vec!["foo".into()])).unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.to_string(),
            "Cast transformation does not support casting from ARRAY; supported types are \
[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"
        );
        let err = whole_value("int8", None, Value::Timestamp(0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cast transformation was passed a value of type class java.util.Date which is not \
supported by Connect's data API"
        );
    }

    #[test]
    fn whole_value_schemaless() {
        // Apache's CastTest.castWholeRecordValueSchemaless*.
        let (s, v) = whole_value("int16", None, Value::Int64(42)).unwrap();
        assert_eq!(s, None);
        assert_eq!(v, Value::Int16(42));
        let (_, v) = whole_value("string", None, Value::Boolean(false)).unwrap();
        assert_eq!(v, Value::String("false".into()));
        // Nulls pass through untouched, with or without schema.
        let (s, v) = whole_value("int8", None, Value::Null).unwrap();
        assert_eq!((s, v), (None, Value::Null));
        let (s, v) = whole_value("int8", Some(Schema::optional_int32()), Value::Null).unwrap();
        assert_eq!((s, v), (Some(Schema::optional_int32()), Value::Null));
    }

    #[test]
    fn logical_types() {
        // Apache's CastTest.castLogicalToPrimitive / castLogicalToString.
        let date = logical::date().build();
        let time = logical::time().build();
        let ts = logical::timestamp().build();
        let (s, v) = whole_value("int32", Some(date.clone()), Value::Date(1)).unwrap();
        assert_eq!(v, Value::Int32(1));
        let s = s.unwrap();
        assert_eq!(s.name, None, "a cast result is not a logical Date");
        let (_, v) = whole_value("int64", Some(time.clone()), Value::Time(4_000)).unwrap();
        assert_eq!(v, Value::Int64(4_000));
        let (_, v) = whole_value("float64", Some(ts.clone()), Value::Timestamp(1_500)).unwrap();
        assert_eq!(v, Value::Float64(1500.0));
        let (_, v) = whole_value("string", Some(date), Value::Date(1)).unwrap();
        assert_eq!(v, Value::String("1970-01-02".into()));
        let (_, v) = whole_value("string", Some(time), Value::Time(4_000)).unwrap();
        assert_eq!(v, Value::String("00:00:04.000Z".into()));
        let (_, v) = whole_value("string", Some(ts), Value::Timestamp(86_400_001)).unwrap();
        assert_eq!(v, Value::String("1970-01-02T00:00:00.001Z".into()));
    }

    #[test]
    fn decimals() {
        let schema = logical::decimal(2).build();
        let d = || Value::Decimal(BigDecimal::from_str("-1234.56").unwrap());
        let (_, v) = whole_value("string", Some(schema.clone()), d()).unwrap();
        assert_eq!(v, Value::String("-1234.56".into()));
        let (_, v) = whole_value("int32", Some(schema.clone()), d()).unwrap();
        assert_eq!(v, Value::Int32(-1234));
        let (_, v) = whole_value("int8", Some(schema.clone()), d()).unwrap();
        assert_eq!(v, Value::Int8(46), "(byte) -1234");
        let (_, v) = whole_value("float64", Some(schema.clone()), d()).unwrap();
        assert_eq!(v, Value::Float64(-1234.56));
        let big = Value::Decimal(BigDecimal::from_str("18446744073709551617.99").unwrap());
        let (_, v) = whole_value("int64", Some(schema.clone()), big).unwrap();
        assert_eq!(v, Value::Int64(1), "low 64 bits of 2^64 + 1");
        let zero = Value::Decimal(BigDecimal::from_str("0.50").unwrap());
        let (_, v) = whole_value("boolean", Some(schema), zero).unwrap();
        assert_eq!(v, Value::Boolean(false));
    }

    fn fields_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("rec")
            .field("int8", Schema::int8())
            .field("int16", Schema::int16())
            .field("int32", Schema::int32())
            .field("int64", Schema::int64())
            .field("float32", Schema::float32())
            .field("float64", Schema::float64())
            .field("boolean", Schema::boolean())
            .field("string", Schema::string())
            .field("bigdecimal", logical::decimal(0).build())
            .field("date", logical::date().build())
            .field("optional", Schema::optional_float32())
            .field("timestamp", logical::timestamp().build())
            .build()
    }

    #[test]
    fn fields_with_schema() {
        // Apache's CastTest.castFieldsWithSchema.
        let mut t = cast(
            Cast::value(),
            &[(
                "spec",
                "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,\
boolean:int8,string:int32,bigdecimal:string,date:string,optional:int32,timestamp:int64",
            )],
        );
        let schema = fields_schema();
        let value = Struct::new(schema.clone())
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
            .with("float64", -64.0)
            .unwrap()
            .with("boolean", true)
            .unwrap()
            .with("string", "42")
            .unwrap()
            .with("bigdecimal", Value::Decimal(BigDecimal::from(42)))
            .unwrap()
            .with("date", Value::Date(0))
            .unwrap()
            .with("timestamp", Value::Timestamp(0))
            .unwrap();
        let rec = ConnectRecord::new("topic", Some(schema.clone()), value.into());
        let out = t.apply(rec.clone()).unwrap().unwrap();
        let s = out.value_schema.clone().unwrap();
        assert_eq!(s.name.as_deref(), Some("rec"));
        let ty = |f: &str| s.field(f).unwrap().schema.schema_type;
        assert_eq!(ty("int8"), SchemaType::Int16);
        assert_eq!(ty("int16"), SchemaType::Int32);
        assert_eq!(ty("int32"), SchemaType::Int64);
        assert_eq!(ty("int64"), SchemaType::Boolean);
        assert_eq!(ty("float32"), SchemaType::Float64);
        assert_eq!(ty("float64"), SchemaType::Boolean);
        assert_eq!(ty("boolean"), SchemaType::Int8);
        assert_eq!(ty("string"), SchemaType::Int32);
        assert_eq!(ty("bigdecimal"), SchemaType::String);
        assert_eq!(ty("date"), SchemaType::String);
        assert_eq!(ty("optional"), SchemaType::Int32);
        assert!(s.field("optional").unwrap().schema.optional);
        assert_eq!(ty("timestamp"), SchemaType::Int64);
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("int8"), Some(&Value::Int16(8)));
        assert_eq!(v.get("int16"), Some(&Value::Int32(16)));
        assert_eq!(v.get("int32"), Some(&Value::Int64(32)));
        assert_eq!(v.get("int64"), Some(&Value::Boolean(true)));
        assert_eq!(v.get("float32"), Some(&Value::Float64(32.0)));
        assert_eq!(v.get("float64"), Some(&Value::Boolean(true)));
        assert_eq!(v.get("boolean"), Some(&Value::Int8(1)));
        assert_eq!(v.get("string"), Some(&Value::Int32(42)));
        assert_eq!(v.get("bigdecimal"), Some(&Value::String("42".into())));
        assert_eq!(v.get("date"), Some(&Value::String("00:00:00.000Z".into())));
        assert_eq!(v.get("optional"), Some(&Value::Null));
        assert_eq!(v.get("timestamp"), Some(&Value::Int64(0)));
        // The rebuilt schema is cached.
        let again = t.apply(rec).unwrap().unwrap();
        assert!(std::sync::Arc::ptr_eq(
            out.value_schema.as_ref().unwrap(),
            again.value_schema.as_ref().unwrap()
        ));
        assert_eq!(t.cache.len(), 1);
    }

    #[test]
    fn field_defaults_and_replace_null_with_default() {
        // Apache's CastTest.castFieldWithDefaultValueRecordWithSchema.
        let schema = SchemaBuilder::struct_()
            .field(
                "a",
                SchemaBuilder::new(SchemaType::Int32)
                    .optional()
                    .default_value(Value::Int32(12))
                    .build(),
            )
            .field("b", Schema::optional_string())
            .build();
        let rec = ConnectRecord::new("t", Some(schema.clone()), Struct::new(schema).into());
        let mut t = cast(Cast::value(), &[("spec", "a:string")]);
        let out = t.apply(rec.clone()).unwrap().unwrap();
        let a_schema = out.value_schema.unwrap().field("a").unwrap().schema.clone();
        assert!(a_schema.optional);
        assert_eq!(a_schema.default_value, Some(Value::String("12".into())));
        assert_eq!(
            out.value.as_struct().unwrap().get_without_default("a"),
            Some(&Value::String("12".into()))
        );
        let mut t = cast(
            Cast::value(),
            &[("spec", "a:string"), ("replace.null.with.default", "false")],
        );
        let out = t.apply(rec).unwrap().unwrap();
        assert_eq!(
            out.value.as_struct().unwrap().get_without_default("a"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn fields_schemaless() {
        // Apache's CastTest.castFieldsSchemaless.
        let mut t = cast(
            Cast::value(),
            &[(
                "spec",
                "int8:int16,int16:int32,string:int32,boolean:string,missing:int8",
            )],
        );
        let value = map(vec![
            ("int8", Value::Int8(8)),
            ("int16", Value::Int16(16)),
            ("string", "42".into()),
            ("boolean", true.into()),
            ("other", "untouched".into()),
        ]);
        let out = t
            .apply(ConnectRecord::new("t", None, value))
            .unwrap()
            .unwrap();
        assert_eq!(out.value_schema, None);
        assert_eq!(
            out.value,
            map(vec![
                ("int8", Value::Int16(8)),
                ("int16", Value::Int32(16)),
                ("string", Value::Int32(42)),
                ("boolean", "true".into()),
                ("other", "untouched".into()),
                ("missing", Value::Null),
            ])
        );
    }

    #[test]
    fn wrong_container_types() {
        let mut t = cast(Cast::value(), &[("spec", "a:int8")]);
        let err = t
            .apply(ConnectRecord::new("t", None, Value::Int32(1)))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Only Map objects supported in absence of schema for [cast types], found: java.lang.Integer"
        );
        let err = t
            .apply(ConnectRecord::new(
                "t",
                Some(Schema::int32()),
                Value::Int32(1),
            ))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Only Struct objects supported for [cast types], found: java.lang.Integer"
        );
    }
}
