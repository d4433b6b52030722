//! Distributed mode (`DistributedHerder`): workers share connector configs, target states, task configs,
//! statuses and source offsets through the internal topics, in Apache's formats, and split the work through
//! the `connect` worker group.
mod config_store;
mod herder;
mod internal_topics;
mod status_store;

pub use self::config_store::*;
pub use self::herder::{DistributedHerder, DistributedHerderParts};
pub use self::internal_topics::*;
pub use self::status_store::StatusTopicStore;
