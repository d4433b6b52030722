//! `org.apache.kafka.connect.storage.SimpleHeaderConverter`.

use causeway_api::{ConfigDef, HeaderConverter, Props, Result};
use causeway_data::{Schema, SchemaAndValue, SchemaRef, Value};

use crate::values;

/// The default header converter (`org.apache.kafka.connect.storage.SimpleHeaderConverter`).
///
/// Writes header values as text with `Values.convertToString` (see [`crate::convert_to_string`]) and reads
/// them back with `Values.parseString` (see [`crate::parse_string`]), inferring the schema. Text that cannot
/// be parsed at all comes back as the raw bytes under a `bytes` schema, as in Apache.
#[derive(Debug, Clone, Default)]
pub struct SimpleHeaderConverter;

impl SimpleHeaderConverter {
    /// A new converter (it has no settings).
    pub fn new() -> Self {
        SimpleHeaderConverter
    }
}

impl HeaderConverter for SimpleHeaderConverter {
    fn configure(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        Ok(values::convert_to_string(schema, value).map(String::into_bytes))
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::NULL);
        };
        let text = String::from_utf8_lossy(bytes);
        Ok(match values::parse_string_inner(&text) {
            Ok(Some(p)) => SchemaAndValue::new(Some(p.schema), p.value),
            Ok(None) => SchemaAndValue::NULL,
            // Apache logs a warning and falls back to the raw bytes.
            Err(_) => SchemaAndValue::new(Some(Schema::bytes()), Value::Bytes(bytes.to_vec())),
        })
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}
