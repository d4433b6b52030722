//! Kafka Connect's data API, as `org.apache.kafka.connect.data` and `connect.connector` define it.
//!
//! This crate owns the in-memory shape of records as they travel between connectors, transforms and
//! converters: [`Schema`] (every Connect type plus the logical types Decimal, Date, Time and Timestamp),
//! [`Value`], [`Struct`], [`Headers`], and the records [`ConnectRecord`], [`SourceRecord`] and
//! [`SinkRecord`]. It is pure: no I/O, no async, no Kafka. Plugin authors reach it through `causeway-api`.
#![warn(missing_docs)]

mod error;
mod header;
mod record;
mod schema;
mod value;

pub use self::error::DataError;
pub use self::header::{Header, Headers};
pub use self::record::{
    ConnectRecord, SinkRecord, SourceMap, SourceRecord, TimestampType, TopicPartition,
};
pub use self::schema::{Field, Schema, SchemaBuilder, SchemaRef, SchemaType, logical};
pub use self::value::{SchemaAndValue, Struct, Value};
pub use bigdecimal::BigDecimal;
