//! Apache Kafka Connect's distributed-mode formats, byte for byte, so a Causeway cluster can share or take
//! over an Apache Connect cluster's internal topics and worker group: the config, offsets and status topic
//! records, the `connect` group protocol's member metadata and assignments, and the assignors that spread
//! connectors and tasks over workers. Pure: no I/O, no clients.
#![warn(missing_docs)]

pub mod assignor;
pub mod config_records;
pub mod config_state;
pub mod offset_records;
pub mod protocol;
pub mod status_records;
