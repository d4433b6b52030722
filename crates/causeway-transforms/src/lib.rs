//! Apache Kafka Connect's single message transforms and predicates, registered under their Java class names
//! (`org.apache.kafka.connect.transforms.RegexRouter` …) with Apache's config keys, defaults and messages.
//!
//! So far: the predicates (`HasHeaderKey`, `RecordIsTombstone`, `TopicNameMatches`) and the transforms
//! `DropHeaders`, `ExtractField`, `Filter`, `HeaderFrom`, `HoistField`, `InsertHeader`, `RegexRouter`,
//! `SetSchemaMetadata` and `ValueToKey`.
#![warn(missing_docs)]

mod drop_headers;
mod extract_field;
mod filter;
mod header_from;
mod hoist_field;
mod insert_header;
mod java_regex;
mod predicates;
mod regex_router;
mod set_schema_metadata;
mod value_to_key;

use causeway_api::{PluginDescriptor, PluginFactory, VERSION};

pub use self::drop_headers::DropHeaders;
pub use self::extract_field::ExtractField;
pub use self::filter::Filter;
pub use self::header_from::HeaderFrom;
pub use self::hoist_field::HoistField;
pub use self::insert_header::InsertHeader;
pub use self::predicates::{HasHeaderKey, RecordIsTombstone, TopicNameMatches};
pub use self::regex_router::RegexRouter;
pub use self::set_schema_metadata::SetSchemaMetadata;
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
