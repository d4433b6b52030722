//! The embedded log: topics in append-only segment files on local disk, for workers without Kafka.
//!
//! # Layout
//! Under the log directory:
//! - `.lock`: held exclusively (`flock`) while a log instance has the directory open;
//! - `cluster.id`: a random 22-character URL-safe base64 id, generated on first open and kept across
//!   restarts;
//! - `topics/<topic>/topic.meta`: JSON `{"partitions": n, "configs": {…}}`;
//! - `topics/<topic>/<partition>/<base offset, 20 digits>.log`: append-only segments, a new one started when
//!   the active one would grow past `segment_bytes`; next to each rolled-over segment a `.index` file keeps
//!   its sparse index so it need not be scanned on open;
//! - `groups/<group>.offsets`: committed offsets of a consumer group, JSON (the group id is percent-encoded
//!   in the file name: bytes other than `[A-Za-z0-9._-]` become `%XX`).
//!
//! Topic names follow Kafka's rules (`[a-zA-Z0-9._-]`, at most 249 characters, not `.` or `..`), so they are
//! safe as directory names.
//!
//! # Records
//! Each record is a frame `[body length u32][crc32 of body u32][body]` whose body holds the offset,
//! timestamp, key, value and headers (nulls preserved). On open, every partition's active segment (and any
//! rolled-over segment without an intact `.index` file) is scanned frame by frame, and a torn or corrupt tail
//! (a write cut short by a crash) is truncated at the last valid frame, with a warning; appends continue at
//! the next offset. Memory holds a sparse index (8 bytes per 8 KiB of log), never segment contents; a read
//! fetches at most about 1 MiB of one partition at a time, and every record read is checked against its
//! CRC.
//!
//! # Durability (fsync policy)
//! - A record is acknowledged (its delivery future completes) only after its bytes have been handed to the
//!   operating system with `write(2)`; consumers see a record only once it has been written. Every
//!   acknowledged record therefore survives a crash or `kill -9` of the worker process.
//! - Segment data is fsynced by a background thread every `fsync_interval` (default 1 s), on every producer
//!   `flush` (which first waits for all queued records to be acknowledged), and when the log is closed (its
//!   last handle dropped). A segment that is rolled over is fsynced in the background as soon as its last
//!   records are written. After an operating-system crash or power loss, at most the records acknowledged
//!   since the last completed fsync (normally the last `fsync_interval`) can be lost. With
//!   `fsync_interval: None` there is no periodic fsync, and durability against power loss rests on
//!   flushes, roll-overs and closing.
//! - Committed consumer-group offsets are fsynced on every commit: written to a temporary file that is
//!   fsynced, renamed over the old file, and the directory fsynced. Topic metadata and the cluster id are
//!   written the same way. Should a power loss leave a committed offset past the end of its partition,
//!   consumers of the group continue from the partition's new end, with a warning.
//!
//! # Consumer groups
//! Groups are coordinated in process. Members of a group share the partitions of the topics they subscribe
//! to (range assignment over members in join order). When membership, a subscription or the set of topics
//! changes, each member learns on its next poll which partitions it loses ([`crate::ConsumerEvent::Revoked`])
//! and then which it gains ([`crate::ConsumerEvent::Assigned`]). A revoked partition is handed to its new
//! owner only after the old owner has polled again (having had the chance to commit), so no partition is
//! ever consumed by two members at once. Positions start at the group's committed offset, or at the start of
//! the partition.

mod background;
mod consumer;
mod frame;
mod group;
mod log;
mod murmur;
mod partition;
mod segment;

pub use self::log::{EmbeddedLog, EmbeddedLogOptions};
pub use self::murmur::murmur2;
