//! Apache Kafka Connect's single message transforms and predicates, registered under their Java class names
//! (`org.apache.kafka.connect.transforms.RegexRouter` …) with Apache's config keys, defaults and messages.
//!
//! Every transform Apache ships (`Cast`, `DropHeaders`, `ExtractField`, `Filter`, `Flatten`, `HeaderFrom`,
//! `HoistField`, `InsertField`, `InsertHeader`, `MaskField`, `RegexRouter`, `ReplaceField`, `SetSchemaMetadata`,
//! `TimestampConverter`, `TimestampRouter`, `ValueToKey`), its predicates (`HasHeaderKey`, `RecordIsTombstone`,
//! `TopicNameMatches`), and Debezium's `ExtractNewRecordState` (`io.debezium.transforms.ExtractNewRecordState`).
#![warn(missing_docs)]

mod cast;
mod drop_headers;
mod extract_field;
mod extract_new_record_state;
mod filter;
mod flatten;
mod header_from;
mod hoist_field;
mod insert_field;
mod insert_header;
mod java_date_format;
mod java_regex;
mod mask_field;
mod predicates;
mod regex_router;
mod replace_field;
mod set_schema_metadata;
mod timestamp_converter;
mod timestamp_router;
mod value_to_key;

use causeway_api::{PluginDescriptor, PluginFactory, VERSION};

pub use self::cast::Cast;
pub use self::drop_headers::DropHeaders;
pub use self::extract_field::ExtractField;
pub use self::extract_new_record_state::ExtractNewRecordState;
pub use self::filter::Filter;
pub use self::flatten::Flatten;
pub use self::header_from::HeaderFrom;
pub use self::hoist_field::HoistField;
pub use self::insert_field::InsertField;
pub use self::insert_header::InsertHeader;
pub use self::mask_field::MaskField;
pub use self::predicates::{HasHeaderKey, RecordIsTombstone, TopicNameMatches};
pub use self::regex_router::RegexRouter;
pub use self::replace_field::ReplaceField;
pub use self::set_schema_metadata::SetSchemaMetadata;
pub use self::timestamp_converter::TimestampConverter;
pub use self::timestamp_router::TimestampRouter;
pub use self::value_to_key::ValueToKey;

/// Adds `replace.null.with.default` (KIP-1040), which several transforms share.
pub(crate) fn with_replace_null_with_default(
    def: causeway_api::config::ConfigDef,
) -> causeway_api::config::ConfigDef {
    def.define(
        "replace.null.with.default",
        causeway_api::config::ConfigType::Boolean,
        "true",
        causeway_api::config::Importance::Medium,
        "Whether to replace fields that have a default value and that are null to the default value. \
         When set to true, the default value is used, otherwise null is used.",
    )
}

/// Every transform and predicate of this crate.
pub fn plugins() -> Vec<PluginDescriptor> {
    let transform = |class_name, f| PluginDescriptor {
        class_name,
        version: VERSION,
        factory: PluginFactory::Transformation(f),
    };
    let predicate = |class_name, f| PluginDescriptor {
        class_name,
        version: VERSION,
        factory: PluginFactory::Predicate(f),
    };
    vec![
        transform("org.apache.kafka.connect.transforms.Filter", || {
            Box::new(Filter)
        }),
        transform("org.apache.kafka.connect.transforms.RegexRouter", || {
            Box::new(RegexRouter::default())
        }),
        transform("org.apache.kafka.connect.transforms.DropHeaders", || {
            Box::new(DropHeaders::default())
        }),
        transform(
            "org.apache.kafka.connect.transforms.ExtractField$Key",
            || Box::new(ExtractField::key()),
        ),
        transform(
            "org.apache.kafka.connect.transforms.ExtractField$Value",
            || Box::new(ExtractField::value()),
        ),
        transform("org.apache.kafka.connect.transforms.HeaderFrom$Key", || {
            Box::new(HeaderFrom::key())
        }),
        transform(
            "org.apache.kafka.connect.transforms.HeaderFrom$Value",
            || Box::new(HeaderFrom::value()),
        ),
        transform("org.apache.kafka.connect.transforms.HoistField$Key", || {
            Box::new(HoistField::key())
        }),
        transform(
            "org.apache.kafka.connect.transforms.HoistField$Value",
            || Box::new(HoistField::value()),
        ),
        transform("org.apache.kafka.connect.transforms.InsertHeader", || {
            Box::new(InsertHeader::default())
        }),
        transform(
            "org.apache.kafka.connect.transforms.SetSchemaMetadata$Key",
            || Box::new(SetSchemaMetadata::key()),
        ),
        transform(
            "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
            || Box::new(SetSchemaMetadata::value()),
        ),
        transform("org.apache.kafka.connect.transforms.ValueToKey", || {
            Box::new(ValueToKey::default())
        }),
        transform("org.apache.kafka.connect.transforms.Cast$Key", || {
            Box::new(Cast::key())
        }),
        transform("org.apache.kafka.connect.transforms.Cast$Value", || {
            Box::new(Cast::value())
        }),
        transform("org.apache.kafka.connect.transforms.Flatten$Key", || {
            Box::new(Flatten::key())
        }),
        transform("org.apache.kafka.connect.transforms.Flatten$Value", || {
            Box::new(Flatten::value())
        }),
        transform(
            "org.apache.kafka.connect.transforms.InsertField$Key",
            || Box::new(InsertField::key()),
        ),
        transform(
            "org.apache.kafka.connect.transforms.InsertField$Value",
            || Box::new(InsertField::value()),
        ),
        transform("org.apache.kafka.connect.transforms.MaskField$Key", || {
            Box::new(MaskField::key())
        }),
        transform(
            "org.apache.kafka.connect.transforms.MaskField$Value",
            || Box::new(MaskField::value()),
        ),
        transform(
            "org.apache.kafka.connect.transforms.ReplaceField$Key",
            || Box::new(ReplaceField::key()),
        ),
        transform(
            "org.apache.kafka.connect.transforms.ReplaceField$Value",
            || Box::new(ReplaceField::value()),
        ),
        transform(
            "org.apache.kafka.connect.transforms.TimestampRouter",
            || Box::new(TimestampRouter::default()),
        ),
        transform(
            "org.apache.kafka.connect.transforms.TimestampConverter$Key",
            || Box::new(TimestampConverter::key()),
        ),
        transform(
            "org.apache.kafka.connect.transforms.TimestampConverter$Value",
            || Box::new(TimestampConverter::value()),
        ),
        transform("io.debezium.transforms.ExtractNewRecordState", || {
            Box::new(ExtractNewRecordState::default())
        }),
        predicate(
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            || Box::new(HasHeaderKey::default()),
        ),
        predicate(
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            || Box::new(RecordIsTombstone),
        ),
        predicate(
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            || Box::new(TopicNameMatches::default()),
        ),
    ]
}

#[cfg(test)]
mod test_support {
    use causeway_api::Props;
    use causeway_data::Value;

    /// Transform settings from `(key, value)` pairs.
    pub(crate) fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A schemaless record value: a map with string keys, in the given order.
    pub(crate) fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::String(k.into()), v))
                .collect(),
        )
    }
}
