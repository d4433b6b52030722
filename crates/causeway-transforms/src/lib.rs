//! Apache Kafka Connect's single message transforms and predicates, registered under their Java class names
//! (`org.apache.kafka.connect.transforms.RegexRouter` …) with Apache's config keys, defaults and messages.
//!
//! This first slice holds the predicates (`HasHeaderKey`, `RecordIsTombstone`, `TopicNameMatches`) and the
//! transforms that need no schema work (`Filter`, `RegexRouter`, `DropHeaders`).
#![warn(missing_docs)]

mod drop_headers;
mod filter;
mod java_regex;
mod predicates;
mod regex_router;

use causeway_api::{PluginDescriptor, PluginFactory, VERSION};

pub use self::drop_headers::DropHeaders;
pub use self::filter::Filter;
pub use self::predicates::{HasHeaderKey, RecordIsTombstone, TopicNameMatches};
pub use self::regex_router::RegexRouter;

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
