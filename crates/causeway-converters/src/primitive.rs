//! `org.apache.kafka.connect.converters.*`: ByteArrayConverter, BooleanConverter and the fixed-width number
//! converters (big-endian, as Kafka's serializers write them).

use causeway_api::{ConfigDef, ConnectError, Converter, HeaderConverter, Props, Result};
use causeway_data::{Headers, Schema, SchemaAndValue, SchemaRef, SchemaType, Value};

use crate::config;

/// Implements both converter traits by delegating to inherent `serialize` / `deserialize` / `setup` methods,
/// as Apache's `fromConnectHeader` delegates to `fromConnectData`.
macro_rules! both_traits {
    ($ty:ty) => {
        impl Converter for $ty {
            fn configure(&mut self, props: &Props, is_key: bool) -> Result<()> {
                self.setup(Some(props), Some(is_key))
            }

            fn from_connect_data(
                &self,
                _topic: &str,
                _headers: &Headers,
                schema: Option<&SchemaRef>,
                value: &Value,
            ) -> Result<Option<Vec<u8>>> {
                self.serialize(schema, value)
            }

            fn to_connect_data(
                &self,
                _topic: &str,
                _headers: &Headers,
                bytes: Option<&[u8]>,
            ) -> Result<SchemaAndValue> {
                self.deserialize(bytes)
            }

            fn config(&self) -> ConfigDef {
                config::converter_config_def()
            }
        }

        impl HeaderConverter for $ty {
            fn configure(&mut self, props: &Props) -> Result<()> {
                self.setup(Some(props), None)
            }

            fn from_connect_header(
                &self,
                _topic: &str,
                _header_key: &str,
                schema: Option<&SchemaRef>,
                value: &Value,
            ) -> Result<Option<Vec<u8>>> {
                self.serialize(schema, value)
            }

            fn to_connect_header(
                &self,
                _topic: &str,
                _header_key: &str,
                bytes: Option<&[u8]>,
            ) -> Result<SchemaAndValue> {
                self.deserialize(bytes)
            }

            fn config(&self) -> ConfigDef {
                config::converter_config_def()
            }
        }
    };
}

/// Validates `converter.type` the way `NumberConverterConfig` / `BooleanConverterConfig` do.
fn validate_type(props: Option<&Props>, is_key: Option<bool>) -> Result<()> {
    let def = config::converter_config_def();
    let empty = Props::new();
    let props = props.unwrap_or(&empty);
    match is_key {
        Some(is_key) => config::parse_for_data(&def, props, is_key).map(drop),
        None => config::parse_for_header(&def, props).map(drop),
    }
}

/// Passes bytes through unchanged (`org.apache.kafka.connect.converters.ByteArrayConverter`), also a header
/// converter. Only `bytes` schemas and byte values are accepted.
#[derive(Debug, Clone, Default)]
pub struct ByteArrayConverter;

impl ByteArrayConverter {
    /// A new converter (it has no settings).
    pub fn new() -> Self {
        ByteArrayConverter
    }

    fn setup(&mut self, _props: Option<&Props>, _is_key: Option<bool>) -> Result<()> {
        // Apache's configure() ignores its settings entirely.
        Ok(())
    }

    fn serialize(&self, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
        if let Some(s) = schema
            && s.schema_type != SchemaType::Bytes
        {
            return Err(ConnectError::Data(format!(
                "Invalid schema type for ByteArrayConverter: {}",
                s.schema_type
            )));
        }
        match value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            other => Err(ConnectError::Data(format!(
                "ByteArrayConverter is not compatible with objects of type class {}",
                other.type_name()
            ))),
        }
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        Ok(SchemaAndValue::new(
            Some(Schema::optional_bytes()),
            bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
        ))
    }
}

both_traits!(ByteArrayConverter);

/// Writes booleans as one byte, 1 or 0 (`org.apache.kafka.connect.converters.BooleanConverter`), also a
/// header converter. Reads back an optional boolean.
#[derive(Debug, Clone, Default)]
pub struct BooleanConverter;

impl BooleanConverter {
    /// A new converter.
    pub fn new() -> Self {
        BooleanConverter
    }

    fn setup(&mut self, props: Option<&Props>, is_key: Option<bool>) -> Result<()> {
        validate_type(props, is_key)
    }

    fn serialize(&self, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
        if let Some(s) = schema
            && s.schema_type != SchemaType::Boolean
        {
            return Err(ConnectError::Data(format!(
                "Invalid schema type for BooleanConverter: {}",
                s.schema_type
            )));
        }
        match value {
            Value::Null => Ok(None),
            Value::Boolean(b) => Ok(Some(vec![u8::from(*b)])),
            other => Err(ConnectError::Data(format!(
                "BooleanConverter is not compatible with objects of type class {}",
                other.type_name()
            ))),
        }
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let value = match bytes {
            None => Value::Null,
            Some([1]) => Value::Boolean(true),
            Some([0]) => Value::Boolean(false),
            Some([b]) => {
                return Err(ConnectError::Data(format!(
                    "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: {}",
                    *b as i8
                )));
            }
            Some(_) => {
                return Err(ConnectError::Data(
                    "Failed to deserialize boolean: Size of data received by BooleanDeserializer is not 1"
                        .into(),
                ));
            }
        };
        Ok(SchemaAndValue::new(Some(Schema::optional_boolean()), value))
    }
}

both_traits!(BooleanConverter);

/// Declares one fixed-width number converter (Apache's `NumberConverter<T>` subclasses).
macro_rules! number_converter {
    (
        $(#[$doc:meta])*
        $name:ident, $variant:ident, $rust:ty, $type_name:literal, $java_class:literal,
        $schema:ident, $size_error:literal
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default)]
        pub struct $name;

        impl $name {
            /// A new converter.
            pub fn new() -> Self {
                $name
            }

            fn setup(&mut self, props: Option<&Props>, is_key: Option<bool>) -> Result<()> {
                validate_type(props, is_key)
            }

            fn serialize(&self, _schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
                match value {
                    Value::Null => Ok(None),
                    Value::$variant(v) => Ok(Some(v.to_be_bytes().to_vec())),
                    other => Err(ConnectError::Data(format!(
                        concat!(
                            "Failed to serialize to ", $type_name,
                            " (was class {0}): class {0} cannot be cast to class ", $java_class
                        ),
                        other.type_name()
                    ))),
                }
            }

            fn deserialize(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
                let value = match bytes {
                    None => Value::Null,
                    Some(b) => match <[u8; std::mem::size_of::<$rust>()]>::try_from(b) {
                        Ok(arr) => Value::$variant(<$rust>::from_be_bytes(arr)),
                        Err(_) => {
                            return Err(ConnectError::Data(concat!(
                                "Failed to deserialize ", $type_name, ": ", $size_error
                            ).into()));
                        }
                    },
                };
                Ok(SchemaAndValue::new(Some(Schema::$schema()), value))
            }
        }

        both_traits!($name);
    };
}

number_converter!(
    /// Writes `float64` values as 8 big-endian bytes (`org.apache.kafka.connect.converters.DoubleConverter`),
    /// also a header converter. Reads back an optional `float64`.
    DoubleConverter, Float64, f64, "double", "java.lang.Double", optional_float64,
    "Size of data received by Deserializer is not 8"
);
number_converter!(
    /// Writes `float32` values as 4 big-endian bytes (`org.apache.kafka.connect.converters.FloatConverter`),
    /// also a header converter. Reads back an optional `float32`.
    FloatConverter, Float32, f32, "float", "java.lang.Float", optional_float32,
    "Size of data received by Deserializer is not 4"
);
number_converter!(
    /// Writes `int32` values as 4 big-endian bytes (`org.apache.kafka.connect.converters.IntegerConverter`),
    /// also a header converter. Reads back an optional `int32`.
    IntegerConverter, Int32, i32, "integer", "java.lang.Integer", optional_int32,
    "Size of data received by IntegerDeserializer is not 4"
);
number_converter!(
    /// Writes `int64` values as 8 big-endian bytes (`org.apache.kafka.connect.converters.LongConverter`),
    /// also a header converter. Reads back an optional `int64`.
    LongConverter, Int64, i64, "long", "java.lang.Long", optional_int64,
    "Size of data received by LongDeserializer is not 8"
);
number_converter!(
    /// Writes `int16` values as 2 big-endian bytes (`org.apache.kafka.connect.converters.ShortConverter`),
    /// also a header converter. Reads back an optional `int16`.
    ShortConverter, Int16, i16, "short", "java.lang.Short", optional_int16,
    "Size of data received by ShortDeserializer is not 2"
);
