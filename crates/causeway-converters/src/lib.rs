//! Kafka Connect's converters, as Apache Kafka ships them, byte-compatible on the wire.
//!
//! This crate owns the translation between Connect data ([`causeway_data::Value`] under an optional
//! [`causeway_data::Schema`]) and record bytes: [`JsonConverter`] (with its `{"schema":…,"payload":…}`
//! envelope, also the internal topics' format when schemaless), [`StringConverter`], [`ByteArrayConverter`],
//! the fixed-width [`DoubleConverter`], [`FloatConverter`], [`IntegerConverter`], [`LongConverter`],
//! [`ShortConverter`] and [`BooleanConverter`], and the default header converter [`SimpleHeaderConverter`]
//! with the `Values` text format it relies on ([`convert_to_string`], [`parse_string`]). Output matches what
//! the Java classes write for the same data, byte for byte; [`plugins`] registers every class under its
//! Apache name.
#![warn(missing_docs)]

mod config;
mod jackson;
mod java_fmt;
mod json;
mod primitive;
mod simple_header;
mod string;
mod values;

use causeway_api::{Converter, HeaderConverter, PluginDescriptor, PluginFactory, VERSION};

pub use self::json::JsonConverter;
pub use self::primitive::{
    BooleanConverter, ByteArrayConverter, DoubleConverter, FloatConverter, IntegerConverter,
    LongConverter, ShortConverter,
};
pub use self::simple_header::SimpleHeaderConverter;
pub use self::string::StringConverter;
pub use self::values::{convert_to_string, parse_string};

/// Every converter and header converter this crate provides, under its Apache class name. A class that is
/// both (all but `SimpleHeaderConverter`) is listed twice, once per plugin type.
pub fn plugins() -> Vec<PluginDescriptor> {
    fn both(
        class_name: &'static str,
        converter: fn() -> Box<dyn Converter>,
        header: fn() -> Box<dyn HeaderConverter>,
    ) -> [PluginDescriptor; 2] {
        [
            PluginDescriptor {
                class_name,
                version: VERSION,
                factory: PluginFactory::Converter(converter),
            },
            PluginDescriptor {
                class_name,
                version: VERSION,
                factory: PluginFactory::HeaderConverter(header),
            },
        ]
    }
    let mut out = Vec::with_capacity(19);
    out.extend(both(
        "org.apache.kafka.connect.json.JsonConverter",
        || Box::new(JsonConverter::new()),
        || Box::new(JsonConverter::new()),
    ));
    out.extend(both(
        "org.apache.kafka.connect.storage.StringConverter",
        || Box::new(StringConverter::new()),
        || Box::new(StringConverter::new()),
    ));
    out.extend(both(
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        || Box::new(ByteArrayConverter::new()),
        || Box::new(ByteArrayConverter::new()),
    ));
    out.extend(both(
        "org.apache.kafka.connect.converters.BooleanConverter",
        || Box::new(BooleanConverter::new()),
        || Box::new(BooleanConverter::new()),
    ));
    out.extend(both(
        "org.apache.kafka.connect.converters.DoubleConverter",
        || Box::new(DoubleConverter::new()),
        || Box::new(DoubleConverter::new()),
    ));
    out.extend(both(
        "org.apache.kafka.connect.converters.FloatConverter",
        || Box::new(FloatConverter::new()),
        || Box::new(FloatConverter::new()),
    ));
    out.extend(both(
        "org.apache.kafka.connect.converters.IntegerConverter",
        || Box::new(IntegerConverter::new()),
        || Box::new(IntegerConverter::new()),
    ));
    out.extend(both(
        "org.apache.kafka.connect.converters.LongConverter",
        || Box::new(LongConverter::new()),
        || Box::new(LongConverter::new()),
    ));
    out.extend(both(
        "org.apache.kafka.connect.converters.ShortConverter",
        || Box::new(ShortConverter::new()),
        || Box::new(ShortConverter::new()),
    ));
    out.push(PluginDescriptor {
        class_name: "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        version: VERSION,
        factory: PluginFactory::HeaderConverter(|| Box::new(SimpleHeaderConverter::new())),
    });
    out
}
