use std::fmt;

use bigdecimal::BigDecimal;

use crate::{DataError, SchemaRef, SchemaType};

/// A Connect value: what a Java connector would hold as `Object`.
///
/// Logical types have their own variants so transforms and converters need not consult the schema to know
/// a Date from an int. Schemaless data uses `Int64`/`Float64`/`String`/`Boolean`/`Array`/`Map`, as
/// Connect's JsonConverter produces.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value (Java `null`).
    #[default]
    Null,
    /// `int8`.
    Int8(i8),
    /// `int16`.
    Int16(i16),
    /// `int32`.
    Int32(i32),
    /// `int64`.
    Int64(i64),
    /// `float32`.
    Float32(f32),
    /// `float64`.
    Float64(f64),
    /// `boolean`.
    Boolean(bool),
    /// `string`.
    String(String),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// `array`.
    Array(Vec<Value>),
    /// `map`: entries in insertion order (Java keeps whatever map the producer built).
    Map(Vec<(Value, Value)>),
    /// `struct`.
    Struct(Struct),
    /// Logical Decimal (bytes on the wire).
    Decimal(BigDecimal),
    /// Logical Date: days since the Unix epoch (int32 on the wire).
    Date(i32),
    /// Logical Time: milliseconds since midnight (int32 on the wire).
    Time(i32),
    /// Logical Timestamp: milliseconds since the Unix epoch (int64 on the wire).
    Timestamp(i64),
}

impl Value {
    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Java class Connect would report for this value, used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int8(_) => "java.lang.Byte",
            Value::Int16(_) => "java.lang.Short",
            Value::Int32(_) => "java.lang.Integer",
            Value::Int64(_) => "java.lang.Long",
            Value::Float32(_) => "java.lang.Float",
            Value::Float64(_) => "java.lang.Double",
            Value::Boolean(_) => "java.lang.Boolean",
            Value::String(_) => "java.lang.String",
            Value::Bytes(_) => "[B",
            Value::Array(_) => "java.util.ArrayList",
            Value::Map(_) => "java.util.HashMap",
            Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
            Value::Decimal(_) => "java.math.BigDecimal",
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => "java.util.Date",
        }
    }

    /// The schema type this value would have if no schema were given (`ConnectSchema.schemaType`).
    pub fn inferred_type(&self) -> Option<SchemaType> {
        Some(match self {
            Value::Null => return None,
            Value::Int8(_) => SchemaType::Int8,
            Value::Int16(_) => SchemaType::Int16,
            Value::Int32(_) | Value::Date(_) | Value::Time(_) => SchemaType::Int32,
            Value::Int64(_) | Value::Timestamp(_) => SchemaType::Int64,
            Value::Float32(_) => SchemaType::Float32,
            Value::Float64(_) => SchemaType::Float64,
            Value::Boolean(_) => SchemaType::Boolean,
            Value::String(_) => SchemaType::String,
            Value::Bytes(_) | Value::Decimal(_) => SchemaType::Bytes,
            Value::Array(_) => SchemaType::Array,
            Value::Map(_) => SchemaType::Map,
            Value::Struct(_) => SchemaType::Struct,
        })
    }

    /// The string inside a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Any integral value widened to i64.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int8(v) => Some(v.into()),
            Value::Int16(v) => Some(v.into()),
            Value::Int32(v) | Value::Date(v) | Value::Time(v) => Some(v.into()),
            Value::Int64(v) | Value::Timestamp(v) => Some(v),
            _ => None,
        }
    }

    /// The struct inside a [`Value::Struct`].
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a string key in a [`Value::Map`] (schemaless records are maps with string keys).
    pub fn map_get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Inserts or replaces a string key in a [`Value::Map`]; returns false if this is not a map.
    pub fn map_insert(&mut self, key: impl Into<String>, value: Value) -> bool {
        let Value::Map(entries) = self else {
            return false;
        };
        let key = key.into();
        if let Some(slot) = entries.iter_mut().find(|(k, _)| k.as_str() == Some(&key)) {
            slot.1 = value;
        } else {
            entries.push((Value::String(key), value));
        }
        true
    }

    /// Removes a string key from a [`Value::Map`].
    pub fn map_remove(&mut self, key: &str) -> Option<Value> {
        let Value::Map(entries) = self else {
            return None;
        };
        let pos = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
        Some(entries.remove(pos).1)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int32(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float64(v)
    }
}
impl From<Struct> for Value {
    fn from(v: Struct) -> Self {
        Value::Struct(v)
    }
}

/// Renders values the way Java's `toString` would, which is what Connect shows in error messages and what
/// StringConverter writes for non-string values.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Int16(v) => write!(f, "{v}"),
            Value::Int32(v) | Value::Date(v) | Value::Time(v) => write!(f, "{v}"),
            Value::Int64(v) | Value::Timestamp(v) => write!(f, "{v}"),
            Value::Float32(v) => write!(f, "{}", java_float(f64::from(*v))),
            Value::Float64(v) => write!(f, "{}", java_float(*v)),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::String(v) => f.write_str(v),
            Value::Bytes(v) => write!(f, "{v:?}"),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("}")
            }
            Value::Struct(s) => write!(f, "{s}"),
            Value::Decimal(d) => write!(f, "{d}"),
        }
    }
}

/// Java's `Double.toString` for common values: integral values keep a `.0`.
fn java_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        format!("{v}")
    }
}

/// A structured value: a struct schema plus one value per field (`org.apache.kafka.connect.data.Struct`).
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    schema: SchemaRef,
    values: Vec<Value>,
}

impl Struct {
    /// An empty struct of the given schema (every field null).
    ///
    /// # Panics
    /// Never; a non-struct schema yields a struct with no fields and fails [`Struct::validate`].
    pub fn new(schema: SchemaRef) -> Self {
        let values = vec![Value::Null; schema.fields.len()];
        Struct { schema, values }
    }

    /// The struct's schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The value of a field, or its schema default when null (as `Struct.get` does).
    pub fn get(&self, field: &str) -> Option<&Value> {
        let f = self.schema.field(field)?;
        let v = &self.values[f.index];
        if v.is_null() {
            f.schema.default_value.as_ref().or(Some(v))
        } else {
            Some(v)
        }
    }

    /// The stored value of a field without applying defaults (`Struct.getWithoutDefault`).
    pub fn get_without_default(&self, field: &str) -> Option<&Value> {
        let f = self.schema.field(field)?;
        Some(&self.values[f.index])
    }

    /// Value by field position.
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// Sets a field after checking the value against the field's schema.
    ///
    /// # Errors
    /// When the field does not exist or the value does not fit.
    pub fn put(&mut self, field: &str, value: impl Into<Value>) -> Result<&mut Self, DataError> {
        let value = value.into();
        let f = self
            .schema
            .field(field)
            .ok_or_else(|| DataError(format!("{field} is not a valid field name")))?;
        validate_field(f.name.as_str(), &f.schema, &value)?;
        let idx = f.index;
        self.values[idx] = value;
        Ok(self)
    }

    /// Builder-style [`Struct::put`].
    ///
    /// # Errors
    /// As [`Struct::put`].
    pub fn with(mut self, field: &str, value: impl Into<Value>) -> Result<Self, DataError> {
        self.put(field, value)?;
        Ok(self)
    }

    /// Checks every required field is set (`Struct.validate`).
    ///
    /// # Errors
    /// Naming the first missing or mismatched field.
    pub fn validate(&self) -> Result<(), DataError> {
        if self.schema.schema_type != SchemaType::Struct {
            return Err(DataError::new("Struct schema must be of type STRUCT"));
        }
        for f in &self.schema.fields {
            validate_field(&f.name, &f.schema, &self.values[f.index])?;
        }
        Ok(())
    }

    /// Field values in schema order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
}

fn validate_field(name: &str, schema: &crate::Schema, value: &Value) -> Result<(), DataError> {
    schema.validate_value(value).map_err(|e| {
        if value.is_null() {
            DataError(format!(
                "Invalid value: null used for required field: \"{name}\", schema type: {}",
                schema.schema_type
            ))
        } else {
            e
        }
    })
}

impl fmt::Display for Struct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Struct{")?;
        let mut first = true;
        for field in &self.schema.fields {
            let v = &self.values[field.index];
            if v.is_null() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{}={v}", field.name)?;
        }
        f.write_str("}")
    }
}

/// A schema (possibly absent) with its value, as converters return them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaAndValue {
    /// The schema, or `None` for schemaless data.
    pub schema: Option<SchemaRef>,
    /// The value.
    pub value: Value,
}

impl SchemaAndValue {
    /// The null value without a schema (`SchemaAndValue.NULL`).
    pub const NULL: SchemaAndValue = SchemaAndValue {
        schema: None,
        value: Value::Null,
    };

    /// Pairs a schema and a value.
    pub fn new(schema: Option<SchemaRef>, value: Value) -> Self {
        SchemaAndValue { schema, value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Schema, SchemaBuilder};

    #[test]
    fn struct_put_validates_and_defaults_apply() {
        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int32())
            .field(
                "name",
                SchemaBuilder::new(SchemaType::String)
                    .optional()
                    .default_value("anon".into())
                    .build(),
            )
            .build();
        let mut s = Struct::new(schema);
        assert!(s.put("id", "x").is_err());
        s.put("id", 5).unwrap();
        assert_eq!(s.get("name"), Some(&Value::String("anon".into())));
        assert_eq!(s.get_without_default("name"), Some(&Value::Null));
        assert!(s.validate().is_ok());
        assert!(s.put("nope", 1).is_err());
    }

    #[test]
    fn missing_required_field_fails_validation() {
        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int32())
            .build();
        let err = Struct::new(schema).validate().unwrap_err();
        assert!(
            err.0.contains("null used for required field: \"id\""),
            "{err}"
        );
    }
}
