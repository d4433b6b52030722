use causeway_data::{Headers, SchemaAndValue, SchemaRef, Value};

use crate::{ConfigDef, Props, Result};

/// Turns Connect data into bytes and back (`Converter`).
///
/// One instance serves either keys or values of one task, chosen by `is_key` at configure time. Methods are
/// called from the task loop only; implementations are CPU-bound and must not block.
pub trait Converter: Send + Sync {
    /// Applies the converter's settings (the `key.converter.`/`value.converter.` prefixed keys, stripped).
    fn configure(&mut self, props: &Props, is_key: bool) -> Result<()>;

    /// Serialises a value; `None` is a null (tombstone) payload.
    #[allow(clippy::wrong_self_convention)] // Apache's name, kept so Connect users recognise it.
    fn from_connect_data(
        &self,
        topic: &str,
        headers: &Headers,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>>;

    /// Deserialises bytes; `None` input is a null payload.
    fn to_connect_data(
        &self,
        topic: &str,
        headers: &Headers,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue>;

    /// The converter's configuration keys.
    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}

/// Turns header values into bytes and back (`HeaderConverter`).
pub trait HeaderConverter: Send + Sync {
    /// Applies the converter's settings (`header.converter.` prefixed keys, stripped).
    fn configure(&mut self, props: &Props) -> Result<()>;

    /// Serialises one header value.
    #[allow(clippy::wrong_self_convention)] // Apache's name, kept so Connect users recognise it.
    fn from_connect_header(
        &self,
        topic: &str,
        header_key: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>>;

    /// Deserialises one header value.
    fn to_connect_header(
        &self,
        topic: &str,
        header_key: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue>;

    /// The converter's configuration keys.
    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}
