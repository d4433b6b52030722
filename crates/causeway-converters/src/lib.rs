//! Connect's converters, registered under Apache's class names: [`JsonConverter`] (with or without the
//! `{"schema","payload"}` envelope), [`StringConverter`], [`ByteArrayConverter`], the number converters,
//! [`BooleanConverter`] and [`SimpleHeaderConverter`]. Depend on it to register its [`plugins`].
#![warn(missing_docs)]

mod json;
mod json_text;
mod simple;

pub use self::json::JsonConverter;
pub use self::simple::{
    BooleanConverter, ByteArrayConverter, DoubleConverter, FloatConverter, IntegerConverter,
    LongConverter, ShortConverter, SimpleHeaderConverter, StringConverter,
};

use causeway_api::{PluginDescriptor, PluginFactory, VERSION};

macro_rules! both {
    ($class:literal, $ty:ty) => {
        [
            PluginDescriptor {
                class_name: $class,
                version: VERSION,
                factory: PluginFactory::Converter(|| Box::new(<$ty>::default())),
            },
            PluginDescriptor {
                class_name: $class,
                version: VERSION,
                factory: PluginFactory::HeaderConverter(|| Box::new(<$ty>::default())),
            },
        ]
    };
}

/// Every converter of this crate, once per type it implements (as Apache lists them).
pub fn plugins() -> Vec<PluginDescriptor> {
    let mut v = Vec::new();
    v.extend(both!(
        "org.apache.kafka.connect.json.JsonConverter",
        JsonConverter
    ));
    v.extend(both!(
        "org.apache.kafka.connect.storage.StringConverter",
        StringConverter
    ));
    v.extend(both!(
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        ByteArrayConverter
    ));
    v.extend(both!(
        "org.apache.kafka.connect.converters.DoubleConverter",
        DoubleConverter
    ));
    v.extend(both!(
        "org.apache.kafka.connect.converters.FloatConverter",
        FloatConverter
    ));
    v.extend(both!(
        "org.apache.kafka.connect.converters.IntegerConverter",
        IntegerConverter
    ));
    v.extend(both!(
        "org.apache.kafka.connect.converters.LongConverter",
        LongConverter
    ));
    v.extend(both!(
        "org.apache.kafka.connect.converters.ShortConverter",
        ShortConverter
    ));
    v.extend(both!(
        "org.apache.kafka.connect.converters.BooleanConverter",
        BooleanConverter
    ));
    v.push(PluginDescriptor {
        class_name: "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        version: VERSION,
        factory: PluginFactory::HeaderConverter(|| Box::new(SimpleHeaderConverter::default())),
    });
    v
}
