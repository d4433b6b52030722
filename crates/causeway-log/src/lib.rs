//! The log that records travel through, behind one trait with two implementations.
//!
//! [`LogBackend`] is what the runtime sees: producers ([`LogProducer`]), group consumers ([`LogConsumer`])
//! with committed offsets per consumer group, and topic admin (create, describe, end offsets). The
//! [`embedded`] backend keeps topics in segment files on local disk so a worker runs with no Kafka at all;
//! the Kafka backend (librdkafka) implements the same trait. Task loops never know which one they have.
#![warn(missing_docs)]

pub mod embedded;
mod types;

pub use self::types::*;
