use std::fmt;
use std::sync::{Arc, LazyLock};

use crate::{DataError, Value};

/// A shared, immutable schema. Schemas are compared structurally.
pub type SchemaRef = Arc<Schema>;

/// The physical types of Connect's type system (`Schema.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    /// 8-bit signed integer.
    Int8,
    /// 16-bit signed integer.
    Int16,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// 32-bit IEEE 754 float.
    Float32,
    /// 64-bit IEEE 754 float.
    Float64,
    /// Boolean.
    Boolean,
    /// UTF-8 string.
    String,
    /// Arbitrary bytes.
    Bytes,
    /// Ordered list of values of one schema.
    Array,
    /// Map from key schema to value schema.
    Map,
    /// Named fields, each with its own schema.
    Struct,
}

impl SchemaType {
    /// The name Connect uses in lower case (`int8`, `struct`, ...), as in `Schema.Type.getName()`.
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "int8",
            SchemaType::Int16 => "int16",
            SchemaType::Int32 => "int32",
            SchemaType::Int64 => "int64",
            SchemaType::Float32 => "float32",
            SchemaType::Float64 => "float64",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            SchemaType::Struct => "struct",
        }
    }

    /// Parses a type name as Connect prints it (`INT32` or `int32`, case-insensitive).
    pub fn from_name(name: &str) -> Option<SchemaType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "int8" => SchemaType::Int8,
            "int16" => SchemaType::Int16,
            "int32" => SchemaType::Int32,
            "int64" => SchemaType::Int64,
            "float32" => SchemaType::Float32,
            "float64" => SchemaType::Float64,
            "boolean" => SchemaType::Boolean,
            "string" => SchemaType::String,
            "bytes" => SchemaType::Bytes,
            "array" => SchemaType::Array,
            "map" => SchemaType::Map,
            "struct" => SchemaType::Struct,
            _ => return None,
        })
    }

    /// True for every type except array, map and struct.
    pub fn is_primitive(self) -> bool {
        !matches!(
            self,
            SchemaType::Array | SchemaType::Map | SchemaType::Struct
        )
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name().to_ascii_uppercase())
    }
}

/// One field of a struct schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Position in the struct.
    pub index: usize,
    /// The field's schema.
    pub schema: SchemaRef,
}

/// A Connect schema: a type plus optionality, default, name, version, doc and parameters.
///
/// Build one with [`SchemaBuilder`] or the shorthand constructors ([`Schema::int32`], [`Schema::optional_string`] …).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Physical type.
    pub schema_type: SchemaType,
    /// Whether null is a valid value.
    pub optional: bool,
    /// Default value, used when a value is missing.
    pub default_value: Option<Value>,
    /// Schema name (logical type name, or a record name).
    pub name: Option<String>,
    /// Schema version.
    pub version: Option<i32>,
    /// Documentation.
    pub doc: Option<String>,
    /// Parameters in insertion order (Connect keeps a `LinkedHashMap`).
    pub parameters: Option<Vec<(String, String)>>,
    /// Fields, for structs.
    pub fields: Vec<Field>,
    /// Key schema, for maps.
    pub key_schema: Option<SchemaRef>,
    /// Value schema, for maps and arrays.
    pub value_schema: Option<SchemaRef>,
}

// Shared, not built per call: converters hand one of these to every record (Connect's
// `Schema.OPTIONAL_STRING_SCHEMA` constants).
macro_rules! primitive_ctors {
    ($($req:ident, $opt:ident => $ty:ident;)*) => {
        $(
            #[doc = concat!("A required `", stringify!($req), "` schema.")]
            pub fn $req() -> SchemaRef {
                static SCHEMA: LazyLock<SchemaRef> =
                    LazyLock::new(|| SchemaBuilder::new(SchemaType::$ty).build());
                SCHEMA.clone()
            }
            #[doc = concat!("An optional `", stringify!($req), "` schema.")]
            pub fn $opt() -> SchemaRef {
                static SCHEMA: LazyLock<SchemaRef> =
                    LazyLock::new(|| SchemaBuilder::new(SchemaType::$ty).optional().build());
                SCHEMA.clone()
            }
        )*
    };
}

impl Schema {
    primitive_ctors! {
        int8, optional_int8 => Int8;
        int16, optional_int16 => Int16;
        int32, optional_int32 => Int32;
        int64, optional_int64 => Int64;
        float32, optional_float32 => Float32;
        float64, optional_float64 => Float64;
        boolean, optional_boolean => Boolean;
        string, optional_string => String;
        bytes, optional_bytes => Bytes;
    }

    /// Looks up a struct field by name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Looks up a parameter.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .as_ref()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A builder initialised with this schema's attributes (Connect's `SchemaUtil.copySchemaBasics`
    /// plus fields, map and array element schemas).
    pub fn to_builder(&self) -> SchemaBuilder {
        SchemaBuilder {
            schema: self.clone(),
        }
    }

    /// Checks `value` against this schema the way `ConnectSchema.validateValue` does.
    ///
    /// # Errors
    /// A [`DataError`] naming the mismatch.
    pub fn validate_value(&self, value: &Value) -> Result<(), DataError> {
        validate(None, self, value)
    }
}

fn validate(field: Option<&str>, schema: &Schema, value: &Value) -> Result<(), DataError> {
    let where_ = || match field {
        Some(f) => format!(" for field: \"{f}\""),
        None => String::new(),
    };
    if value.is_null() {
        if schema.optional || schema.default_value.is_some() {
            return Ok(());
        }
        return Err(DataError(format!(
            "Invalid value: null used for required field: \"{}\", schema type: {}",
            field.unwrap_or("null"),
            schema.schema_type
        )));
    }
    let ok = match (schema.schema_type, value) {
        (SchemaType::Int8, Value::Int8(_))
        | (SchemaType::Int16, Value::Int16(_))
        | (SchemaType::Float32, Value::Float32(_))
        | (SchemaType::Float64, Value::Float64(_))
        | (SchemaType::Boolean, Value::Boolean(_))
        | (SchemaType::String, Value::String(_))
        | (SchemaType::Bytes, Value::Bytes(_)) => true,
        (SchemaType::Int32, Value::Int32(_)) => {
            schema.name.is_none() || !logical::is_logical(schema)
        }
        (SchemaType::Int32, Value::Date(_)) => schema.name.as_deref() == Some(logical::DATE),
        (SchemaType::Int32, Value::Time(_)) => schema.name.as_deref() == Some(logical::TIME),
        (SchemaType::Int64, Value::Int64(_)) => schema.name.as_deref() != Some(logical::TIMESTAMP),
        (SchemaType::Int64, Value::Timestamp(_)) => {
            schema.name.as_deref() == Some(logical::TIMESTAMP)
        }
        (SchemaType::Bytes, Value::Decimal(_)) => schema.name.as_deref() == Some(logical::DECIMAL),
        (SchemaType::Array, Value::Array(items)) => {
            let elem = schema
                .value_schema
                .as_ref()
                .ok_or_else(|| DataError::new("Array schema has no value schema"))?;
            for item in items {
                validate(field, elem, item)?;
            }
            true
        }
        (SchemaType::Map, Value::Map(entries)) => {
            let (ks, vs) = match (&schema.key_schema, &schema.value_schema) {
                (Some(k), Some(v)) => (k, v),
                _ => return Err(DataError::new("Map schema has no key or value schema")),
            };
            for (k, v) in entries {
                validate(field, ks, k)?;
                validate(field, vs, v)?;
            }
            true
        }
        (SchemaType::Struct, Value::Struct(s)) => {
            if s.schema().as_ref() != schema {
                return Err(DataError(format!(
                    "Struct schemas do not match{}.",
                    where_()
                )));
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(DataError(format!(
            "Invalid Java object for schema with type {}: {}{}",
            schema.schema_type,
            value.type_name(),
            where_()
        )))
    }
}

/// Builds a [`Schema`] step by step, as Connect's `SchemaBuilder`.
#[derive(Debug, Clone)]
pub struct SchemaBuilder {
    schema: Schema,
}

impl SchemaBuilder {
    /// Starts a schema of the given type: required, no name, no default.
    pub fn new(schema_type: SchemaType) -> Self {
        SchemaBuilder {
            schema: Schema {
                schema_type,
                optional: false,
                default_value: None,
                name: None,
                version: None,
                doc: None,
                parameters: None,
                fields: Vec::new(),
                key_schema: None,
                value_schema: None,
            },
        }
    }

    /// Starts a struct schema.
    pub fn struct_() -> Self {
        Self::new(SchemaType::Struct)
    }

    /// Starts an array schema of `items`.
    pub fn array(items: SchemaRef) -> Self {
        let mut b = Self::new(SchemaType::Array);
        b.schema.value_schema = Some(items);
        b
    }

    /// Starts a map schema.
    pub fn map(keys: SchemaRef, values: SchemaRef) -> Self {
        let mut b = Self::new(SchemaType::Map);
        b.schema.key_schema = Some(keys);
        b.schema.value_schema = Some(values);
        b
    }

    /// Marks the schema optional.
    pub fn optional(mut self) -> Self {
        self.schema.optional = true;
        self
    }

    /// Marks the schema required.
    pub fn required(mut self) -> Self {
        self.schema.optional = false;
        self
    }

    /// Sets the optional flag.
    pub fn set_optional(mut self, optional: bool) -> Self {
        self.schema.optional = optional;
        self
    }

    /// Sets the schema name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.schema.name = Some(name.into());
        self
    }

    /// Sets or clears the schema name.
    pub fn set_name(mut self, name: Option<String>) -> Self {
        self.schema.name = name;
        self
    }

    /// Sets the version.
    pub fn version(mut self, version: i32) -> Self {
        self.schema.version = Some(version);
        self
    }

    /// Sets or clears the version.
    pub fn set_version(mut self, version: Option<i32>) -> Self {
        self.schema.version = version;
        self
    }

    /// Sets the documentation.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.schema.doc = Some(doc.into());
        self
    }

    /// Sets or clears the documentation.
    pub fn set_doc(mut self, doc: Option<String>) -> Self {
        self.schema.doc = doc;
        self
    }

    /// Sets the default value (not validated here; see [`SchemaBuilder::try_default_value`]).
    pub fn default_value(mut self, value: Value) -> Self {
        self.schema.default_value = if value.is_null() { None } else { Some(value) };
        self
    }

    /// Sets the default value after checking it against the schema built so far.
    ///
    /// # Errors
    /// When the value does not match the schema.
    pub fn try_default_value(mut self, value: Value) -> Result<Self, DataError> {
        self.schema.validate_value(&value)?;
        self.schema.default_value = if value.is_null() { None } else { Some(value) };
        Ok(self)
    }

    /// Adds a parameter.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        let params = self.schema.parameters.get_or_insert_with(Vec::new);
        if let Some(slot) = params.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            params.push((key, value));
        }
        self
    }

    /// Replaces all parameters.
    pub fn parameters(mut self, params: Option<Vec<(String, String)>>) -> Self {
        self.schema.parameters = params;
        self
    }

    /// Adds a struct field; replaces a field of the same name.
    pub fn field(mut self, name: impl Into<String>, schema: SchemaRef) -> Self {
        let name = name.into();
        if let Some(existing) = self.schema.fields.iter_mut().find(|f| f.name == name) {
            existing.schema = schema;
        } else {
            let index = self.schema.fields.len();
            self.schema.fields.push(Field {
                name,
                index,
                schema,
            });
        }
        self
    }

    /// Names of the fields added so far.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.schema.fields.iter().map(|f| f.name.as_str())
    }

    /// The schema type being built.
    pub fn schema_type(&self) -> SchemaType {
        self.schema.schema_type
    }

    /// Finishes the schema.
    pub fn build(self) -> SchemaRef {
        Arc::new(self.schema)
    }
}

/// Connect's logical types: names, schemas and value conversions.
pub mod logical {
    use super::*;
    use bigdecimal::BigDecimal;

    /// `org.apache.kafka.connect.data.Decimal`.
    pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
    /// `org.apache.kafka.connect.data.Date`.
    pub const DATE: &str = "org.apache.kafka.connect.data.Date";
    /// `org.apache.kafka.connect.data.Time`.
    pub const TIME: &str = "org.apache.kafka.connect.data.Time";
    /// `org.apache.kafka.connect.data.Timestamp`.
    pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
    /// The parameter holding a Decimal's scale.
    pub const SCALE_FIELD: &str = "scale";
    /// Milliseconds in a day, for Date conversions.
    pub const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

    /// True when the schema names one of the four logical types on its matching physical type.
    pub fn is_logical(schema: &Schema) -> bool {
        matches!(
            (schema.name.as_deref(), schema.schema_type),
            (Some(DECIMAL), SchemaType::Bytes)
                | (Some(DATE), SchemaType::Int32)
                | (Some(TIME), SchemaType::Int32)
                | (Some(TIMESTAMP), SchemaType::Int64)
        )
    }

    /// A Decimal builder with the given scale (`Decimal.builder(scale)`).
    pub fn decimal(scale: i32) -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Bytes)
            .name(DECIMAL)
            .version(1)
            .parameter(SCALE_FIELD, scale.to_string())
    }

    /// A Date builder (`Date.builder()`).
    pub fn date() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int32).name(DATE).version(1)
    }

    /// A Time builder (`Time.builder()`).
    pub fn time() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int32).name(TIME).version(1)
    }

    /// A Timestamp builder (`Timestamp.builder()`).
    pub fn timestamp() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int64)
            .name(TIMESTAMP)
            .version(1)
    }

    /// The scale of a Decimal schema.
    ///
    /// # Errors
    /// When the `scale` parameter is missing or not an integer.
    pub fn decimal_scale(schema: &Schema) -> Result<i32, DataError> {
        schema
            .parameter(SCALE_FIELD)
            .ok_or_else(|| DataError::new("Invalid Decimal schema: scale parameter not found."))?
            .parse()
            .map_err(|_| {
                DataError::new("Invalid Decimal schema: scale parameter is not an integer.")
            })
    }

    /// Encodes a decimal as the big-endian two's-complement unscaled value (`Decimal.fromLogical`).
    ///
    /// # Errors
    /// When the value's scale differs from the schema's.
    pub fn decimal_to_bytes(schema: &Schema, value: &BigDecimal) -> Result<Vec<u8>, DataError> {
        let scale = decimal_scale(schema)?;
        let (unscaled, value_scale) = value.as_bigint_and_exponent();
        if value_scale != i64::from(scale) {
            return Err(DataError(format!(
                "Decimal value has mismatching scale for given Decimal schema. Schema has scale {scale}, value has scale {value_scale}."
            )));
        }
        Ok(unscaled.to_signed_bytes_be())
    }

    /// Decodes the unscaled bytes of a Decimal (`Decimal.toLogical`).
    ///
    /// # Errors
    /// When the schema has no valid scale.
    pub fn decimal_from_bytes(schema: &Schema, bytes: &[u8]) -> Result<BigDecimal, DataError> {
        let scale = decimal_scale(schema)?;
        let unscaled = bigdecimal::num_bigint::BigInt::from_signed_bytes_be(bytes);
        Ok(BigDecimal::new(unscaled, i64::from(scale)))
    }
}

impl Default for Schema {
    fn default() -> Self {
        SchemaBuilder::new(SchemaType::Struct).schema
    }
}
