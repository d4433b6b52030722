//! The embedded log: topics in append-only segment files on local disk, for workers without Kafka.
//!
//! Layout under the log directory:
//! `cluster.id` (random id, kept across restarts), `topics/<topic>/partitions` (partition count),
//! `topics/<topic>/<partition>/<base offset, 20 digits>.log` (segments), `groups/<group>.offsets`.
//!
//! Each record is a frame `[len u32][crc32 u32][body]`; on open, segments are scanned and a torn or corrupt
//! tail (a write cut short by `kill -9` or a crash) is truncated at the last valid frame.
//!
//! # Durability (fsync policy)
//! A record is acknowledged to the producer only after its bytes were handed to the OS with `write(2)`, so
//! every acknowledged record survives a crash or `kill -9` of the worker. Segment files are fsynced in the
//! background every `fsync_interval` (default 1 s), on producer `flush`, and when the log is dropped, so after
//! a power loss at most the last `fsync_interval` of acknowledged records can be lost. Committed consumer-group
//! offsets are fsynced on every commit (written to a temporary file, fsynced, renamed, directory fsynced).
//! Consumers only see records that have been written.

mod frame;
mod group;
mod log;
mod partition;

pub use self::log::{EmbeddedLog, EmbeddedLogOptions};
pub use self::partition::murmur2;
