//! The small converters: String, ByteArray, numbers, Boolean, and SimpleHeaderConverter.
use causeway_api::{
    ConfigDef, ConfigType, ConnectError, Converter, HeaderConverter, Importance, Props, Result,
};
use causeway_data::{Headers, Schema, SchemaAndValue, SchemaRef, SchemaType, Value};

fn data_err(msg: impl Into<String>) -> ConnectError {
    ConnectError::Data(msg.into())
}

/// Implements `Converter` and `HeaderConverter` for a type with `to_bytes`/`from_bytes`.
macro_rules! converter_and_header {
    ($ty:ty) => {
        impl Converter for $ty {
            fn configure(&mut self, props: &Props, _is_key: bool) -> Result<()> {
                self.apply(props)
            }
            fn from_connect_data(
                &self,
                _t: &str,
                _h: &Headers,
                schema: Option<&SchemaRef>,
                value: &Value,
            ) -> Result<Option<Vec<u8>>> {
                self.to_bytes(schema, value)
            }
            fn to_connect_data(
                &self,
                _t: &str,
                _h: &Headers,
                bytes: Option<&[u8]>,
            ) -> Result<SchemaAndValue> {
                self.from_bytes(bytes)
            }
            fn config(&self) -> ConfigDef {
                Self::def()
            }
        }
        impl HeaderConverter for $ty {
            fn configure(&mut self, props: &Props) -> Result<()> {
                self.apply(props)
            }
            fn from_connect_header(
                &self,
                _t: &str,
                _k: &str,
                schema: Option<&SchemaRef>,
                value: &Value,
            ) -> Result<Option<Vec<u8>>> {
                self.to_bytes(schema, value)
            }
            fn to_connect_header(
                &self,
                _t: &str,
                _k: &str,
                bytes: Option<&[u8]>,
            ) -> Result<SchemaAndValue> {
                self.from_bytes(bytes)
            }
            fn config(&self) -> ConfigDef {
                Self::def()
            }
        }
    };
}

/// `org.apache.kafka.connect.storage.StringConverter`: any value as its string form, UTF-8.
#[derive(Default)]
pub struct StringConverter;

impl StringConverter {
    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(
                "converter.encoding",
                ConfigType::String,
                "UTF8",
                Importance::High,
                "The name of the Java character set to use for encoding strings as byte arrays.",
            )
            .define(
                "converter.type",
                ConfigType::String,
                "key",
                Importance::Low,
                "How this converter will be used.",
            )
    }

    fn apply(&mut self, props: &Props) -> Result<()> {
        let enc = props
            .get("converter.encoding")
            .map(|s| s.trim().to_ascii_uppercase());
        match enc.as_deref() {
            None | Some("UTF8") | Some("UTF-8") => Ok(()),
            Some(other) => Err(ConnectError::config(format!(
                "Unsupported encoding {other}: Causeway's StringConverter supports UTF-8 only"
            ))),
        }
    }

    fn to_bytes(&self, _schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
        Ok(match value {
            Value::Null => None,
            Value::String(s) => Some(s.as_bytes().to_vec()),
            other => Some(other.to_string().into_bytes()),
        })
    }

    fn from_bytes(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let value = match bytes {
            None => Value::Null,
            Some(b) => Value::String(
                String::from_utf8(b.to_vec())
                    .map_err(|e| data_err(format!("Failed to deserialize string: {e}")))?,
            ),
        };
        Ok(SchemaAndValue::new(Some(Schema::optional_string()), value))
    }
}
converter_and_header!(StringConverter);

/// `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes through unchanged.
#[derive(Default)]
pub struct ByteArrayConverter;

impl ByteArrayConverter {
    fn def() -> ConfigDef {
        ConfigDef::new()
    }

    fn apply(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }

    fn to_bytes(&self, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
        if let Some(s) = schema
            && s.schema_type != SchemaType::Bytes
        {
            return Err(data_err(format!(
                "Invalid schema type for ByteArrayConverter: {}",
                s.schema_type
            )));
        }
        match value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            other => Err(data_err(format!(
                "ByteArrayConverter is not compatible with objects of type {}",
                other.type_name()
            ))),
        }
    }

    fn from_bytes(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        Ok(SchemaAndValue::new(
            Some(Schema::optional_bytes()),
            bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
        ))
    }
}
converter_and_header!(ByteArrayConverter);

macro_rules! number_converter {
    ($name:ident, $class:literal, $variant:ident, $rust:ty, $schema:ident, $label:literal) => {
        #[doc = concat!("`org.apache.kafka.connect.converters.", $class, "`: big-endian ", $label, ", as Kafka's serializers.")]
        #[derive(Default)]
        pub struct $name;

        impl $name {
            fn def() -> ConfigDef {
                ConfigDef::new()
            }

            fn apply(&mut self, _props: &Props) -> Result<()> {
                Ok(())
            }

            fn to_bytes(&self, _schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
                match value {
                    Value::Null => Ok(None),
                    Value::$variant(v) => Ok(Some(v.to_be_bytes().to_vec())),
                    other => Err(data_err(format!(
                        "Failed to serialize to {} (was class {})",
                        $label,
                        other.type_name()
                    ))),
                }
            }

            fn from_bytes(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
                let value = match bytes {
                    None => Value::Null,
                    Some(b) => {
                        let arr: [u8; std::mem::size_of::<$rust>()] = b.try_into().map_err(|_| {
                            data_err(format!(
                                "Failed to deserialize {}: Size of data received is not {}",
                                $label,
                                std::mem::size_of::<$rust>()
                            ))
                        })?;
                        Value::$variant(<$rust>::from_be_bytes(arr))
                    }
                };
                Ok(SchemaAndValue::new(Some(Schema::$schema()), value))
            }
        }
        converter_and_header!($name);
    };
}

number_converter!(
    DoubleConverter,
    "DoubleConverter",
    Float64,
    f64,
    optional_float64,
    "FLOAT64"
);
number_converter!(
    FloatConverter,
    "FloatConverter",
    Float32,
    f32,
    optional_float32,
    "FLOAT32"
);
number_converter!(
    IntegerConverter,
    "IntegerConverter",
    Int32,
    i32,
    optional_int32,
    "INT32"
);
number_converter!(
    LongConverter,
    "LongConverter",
    Int64,
    i64,
    optional_int64,
    "INT64"
);
number_converter!(
    ShortConverter,
    "ShortConverter",
    Int16,
    i16,
    optional_int16,
    "INT16"
);

/// `org.apache.kafka.connect.converters.BooleanConverter`: one byte, 1 for true and 0 for false.
#[derive(Default)]
pub struct BooleanConverter;

impl BooleanConverter {
    fn def() -> ConfigDef {
        ConfigDef::new()
    }

    fn apply(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }

    fn to_bytes(&self, _schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
        match value {
            Value::Null => Ok(None),
            Value::Boolean(b) => Ok(Some(vec![u8::from(*b)])),
            other => Err(data_err(format!(
                "Failed to serialize to BOOLEAN (was class {})",
                other.type_name()
            ))),
        }
    }

    fn from_bytes(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let value = match bytes {
            None => Value::Null,
            Some([b]) => Value::Boolean(*b != 0),
            Some(_) => {
                return Err(data_err(
                    "Failed to deserialize BOOLEAN: Size of data received is not 1",
                ));
            }
        };
        Ok(SchemaAndValue::new(Some(Schema::optional_boolean()), value))
    }
}
converter_and_header!(BooleanConverter);

/// `org.apache.kafka.connect.storage.SimpleHeaderConverter`: header values as text, with the schema
/// inferred when reading (`Values.parseString`: booleans, the smallest fitting integer type, floats, else
/// a string).
#[derive(Default)]
pub struct SimpleHeaderConverter;

impl HeaderConverter for SimpleHeaderConverter {
    fn configure(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }

    fn from_connect_header(
        &self,
        _t: &str,
        _k: &str,
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        Ok(match value {
            Value::Null => None,
            Value::String(s) => Some(s.as_bytes().to_vec()),
            other => Some(other.to_string().into_bytes()),
        })
    }

    fn to_connect_header(
        &self,
        _t: &str,
        _k: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::NULL);
        };
        let text = String::from_utf8_lossy(bytes).into_owned();
        Ok(parse_string(text))
    }
}

/// Infers a schema and value from header text, as Connect's `Values.parseString` does for scalars.
fn parse_string(text: String) -> SchemaAndValue {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
        return SchemaAndValue::new(
            Some(Schema::boolean()),
            Value::Boolean(t.eq_ignore_ascii_case("true")),
        );
    }
    if !t.is_empty() && t == text {
        if let Ok(i) = t.parse::<i64>() {
            return if let Ok(v) = i8::try_from(i) {
                SchemaAndValue::new(Some(Schema::int8()), Value::Int8(v))
            } else if let Ok(v) = i16::try_from(i) {
                SchemaAndValue::new(Some(Schema::int16()), Value::Int16(v))
            } else if let Ok(v) = i32::try_from(i) {
                SchemaAndValue::new(Some(Schema::int32()), Value::Int32(v))
            } else {
                SchemaAndValue::new(Some(Schema::int64()), Value::Int64(i))
            };
        }
        if t.contains(['.', 'e', 'E'])
            && t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
            && let Ok(f) = t.parse::<f64>()
        {
            return SchemaAndValue::new(Some(Schema::float64()), Value::Float64(f));
        }
    }
    SchemaAndValue::new(Some(Schema::string()), Value::String(text))
}
