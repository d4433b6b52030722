//! The Connect runtime: everything between the REST API and the plugins.
//!
//! It owns the [`Worker`](worker) that runs connector and task instances, the task loops
//! (`SourceTaskLoop`, `SinkTaskLoop`), the herders that decide what runs ([`herder::Herder`] and its
//! standalone implementation), the offset, status and config stores, the plugin registry that resolves Apache
//! class names and aliases, and worker configuration. The REST crate talks to it only through
//! [`herder::Herder`] and the entity types in [`herder::entities`].
#![warn(missing_docs)]

pub mod client_overrides;
pub mod connector_config;
pub mod herder;
pub mod metrics;
pub mod offset_store;
pub mod plugins;
pub mod status;
pub mod task;
pub mod topic_creation;
pub mod worker;
pub mod worker_config;

pub use self::herder::standalone::StandaloneHerder;
pub use self::plugins::PluginRegistry;
pub use self::worker::{Worker, WorkerEvent};
pub use self::worker_config::WorkerConfig;
