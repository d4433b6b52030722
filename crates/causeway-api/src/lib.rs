//! The Causeway plugin SDK, as Apache Kafka's `connect-api` module is for Java.
//!
//! Connector authors depend on this crate (and `causeway-data`, re-exported as [`data`]) and nothing else:
//! the [`Connector`], [`SourceConnector`], [`SinkConnector`], [`SourceTask`] and [`SinkTask`] traits with their
//! contexts, [`Converter`] / [`HeaderConverter`], [`Transformation`] / [`Predicate`], the error type
//! [`ConnectError`], and [`ConfigDef`], whose one declaration per key backs parsing, `config/validate` and the
//! `connector-plugins/{p}/config` listing. A plugin is published as a [`PluginDescriptor`].
#![warn(missing_docs)]

pub mod config;
mod connector;
mod context;
mod converter;
mod error;
mod plugin;
mod transform;

pub use causeway_data as data;

pub use self::config::{
    ConfigDef, ConfigKey, ConfigType, ConfigValue, Importance, ParsedConfig, ParsedValue, Width,
};
pub use self::connector::{Connector, SinkConnector, SinkTask, SourceConnector, SourceTask};
pub use self::context::{
    ConnectorContext, ConnectorContextHandle, OffsetStorageReader, SinkTaskContext,
    SourceTaskContext,
};
pub use self::converter::{Converter, HeaderConverter};
pub use self::error::{ConnectError, Result};
pub use self::plugin::{PluginDescriptor, PluginFactory, PluginType};
pub use self::transform::{Predicate, Transformation};

/// A plugin or connector configuration: string keys to string values, as Connect passes them.
pub type Props = std::collections::BTreeMap<String, String>;

/// The version every built-in Causeway plugin reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
