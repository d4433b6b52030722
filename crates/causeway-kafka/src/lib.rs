//! The Kafka log backend: librdkafka producers, group consumers and admin behind
//! [`causeway_log::LogBackend`], so the same task loops that run on the embedded log run on a Kafka cluster.
//!
//! [`KafkaLog`] owns the worker's client settings in layers (top-level security keys, then `producer.*`,
//! `consumer.*`, `admin.*`, then per-connector overrides) and [`client_config`] translates the Java client
//! keys users write into librdkafka's. Errors that no retry can fix (a rejected login, a TLS failure, a
//! bootstrap that never answers) surface as errors from the clients instead of endless retries.
#![warn(missing_docs)]

mod backend;
pub mod client_config;
mod consumer;
pub mod group;
mod health;
mod producer;
mod topic_log;

pub use backend::{KafkaLog, KafkaSettings};
pub use consumer::KafkaConsumer;
pub use health::BOOTSTRAP_TIMEOUT;
pub use producer::KafkaProducer;
pub use topic_log::TopicLog;
