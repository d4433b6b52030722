//! The worker-group membership client of distributed mode: Connect's classic-protocol group membership
//! (protocol type `connect`, opaque subprotocol metadata and assignments) spoken directly over the Kafka
//! wire protocol, because librdkafka fixes the protocol type to `consumer`.
//!
//! - [`config`]: [`GroupConfig`] and the listener security ([`SecurityProtocol`], SASL PLAIN/SCRAM).
//! - `connection`: one broker connection — framing, correlation ids, ApiVersions, SASL.
//! - `member`: [`WorkerGroupMember`] — FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup.
//! - [`error`]: [`GroupError`], naming broker error codes as Apache does.

pub mod config;
mod connection;
pub mod error;
mod member;
mod sasl;

pub use config::{GroupConfig, SaslCredentials, SaslMechanism, SecurityProtocol};
pub use error::{BrokerErrorCode, GroupError, RejoinReason};
pub use member::{
    CONNECT_PROTOCOL_TYPE, GroupStatus, JoinOutcome, JoinedMember, WorkerGroupMember,
};
