//! Errors of the worker-group client, naming broker error codes as Apache's `Errors` enum does.

use std::time::Duration;

use kafka_protocol::error::ResponseError;

/// A Kafka protocol error code returned by a broker, shown by its Apache name (`MEMBER_ID_REQUIRED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerErrorCode(pub i16);

impl BrokerErrorCode {
    /// `MEMBER_ID_REQUIRED`.
    pub const MEMBER_ID_REQUIRED: Self = Self(79);
    /// `UNKNOWN_MEMBER_ID`.
    pub const UNKNOWN_MEMBER_ID: Self = Self(25);
    /// `ILLEGAL_GENERATION`.
    pub const ILLEGAL_GENERATION: Self = Self(22);
    /// `REBALANCE_IN_PROGRESS`.
    pub const REBALANCE_IN_PROGRESS: Self = Self(27);
    /// `COORDINATOR_NOT_AVAILABLE`.
    pub const COORDINATOR_NOT_AVAILABLE: Self = Self(15);
    /// `NOT_COORDINATOR`.
    pub const NOT_COORDINATOR: Self = Self(16);
    /// `COORDINATOR_LOAD_IN_PROGRESS`.
    pub const COORDINATOR_LOAD_IN_PROGRESS: Self = Self(14);
    /// `INCONSISTENT_GROUP_PROTOCOL`.
    pub const INCONSISTENT_GROUP_PROTOCOL: Self = Self(23);
    /// `UNSUPPORTED_VERSION`.
    pub const UNSUPPORTED_VERSION: Self = Self(35);
    /// `UNSUPPORTED_SASL_MECHANISM`.
    pub const UNSUPPORTED_SASL_MECHANISM: Self = Self(33);

    /// The numeric code.
    pub fn code(self) -> i16 {
        self.0
    }

    /// Apache's name of the code (`Errors.name()`), `UNKNOWN_SERVER_ERROR` for codes this client does not know
    /// (as `Errors.forCode` maps them), `NONE` for 0.
    pub fn name(self) -> String {
        match ResponseError::try_from_code(self.0) {
            None => "NONE".to_owned(),
            Some(ResponseError::Unknown(_)) => "UNKNOWN_SERVER_ERROR".to_owned(),
            Some(known) => screaming_snake(&known.to_string()),
        }
    }

    /// Whether Apache marks the error retriable.
    pub fn is_retriable(self) -> bool {
        ResponseError::try_from_code(self.0).is_some_and(|e| e.is_retriable())
    }
}

impl std::fmt::Display for BrokerErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// `MemberIdRequired` → `MEMBER_ID_REQUIRED` (kafka-protocol names its variants after Apache's in camel case).
fn screaming_snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Why the member has to join the group again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejoinReason {
    /// The coordinator answered `REBALANCE_IN_PROGRESS`: another member joined, left or was evicted.
    RebalanceInProgress,
    /// `ILLEGAL_GENERATION`: the group moved on to a newer generation; the member id stays valid.
    IllegalGeneration,
    /// `UNKNOWN_MEMBER_ID`: the coordinator no longer knows the member (evicted); a new member id is needed.
    UnknownMemberId,
    /// The coordinator moved or could not be reached while completing the rebalance.
    CoordinatorUnavailable(String),
}

impl std::fmt::Display for RejoinReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RebalanceInProgress => f.write_str("REBALANCE_IN_PROGRESS"),
            Self::IllegalGeneration => f.write_str("ILLEGAL_GENERATION"),
            Self::UnknownMemberId => f.write_str("UNKNOWN_MEMBER_ID"),
            Self::CoordinatorUnavailable(why) => write!(f, "coordinator unavailable: {why}"),
        }
    }
}

/// Errors of [`WorkerGroupMember`](super::WorkerGroupMember).
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// The configuration is unusable.
    #[error("invalid group member configuration: {0}")]
    Config(String),
    /// No bootstrap entry resolved to an address (Apache's `ClientUtils` message).
    #[error("No resolvable bootstrap urls given in bootstrap.servers: {0}")]
    NoResolvableBootstrap(String),
    /// A TCP connection could not be opened.
    #[error("cannot connect to broker {broker}: {source}")]
    Connect {
        /// `host:port`.
        broker: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// Connecting, ApiVersions and authentication did not finish in `socket.connection.setup.timeout.ms`.
    #[error("connection setup to broker {broker} timed out after {timeout:?}")]
    ConnectTimeout {
        /// `host:port`.
        broker: String,
        /// The bound that passed.
        timeout: Duration,
    },
    /// A request got no response in time; the connection was closed, as the Java client does.
    #[error("{api} request to broker {broker} timed out after {timeout:?}")]
    RequestTimeout {
        /// API name.
        api: &'static str,
        /// `host:port`.
        broker: String,
        /// The bound that passed.
        timeout: Duration,
    },
    /// The connection broke.
    #[error("connection to broker {broker} lost: {reason}")]
    Disconnected {
        /// `host:port`.
        broker: String,
        /// What happened.
        reason: String,
    },
    /// A response could not be decoded or did not fit the request.
    #[error("malformed {api} response from broker {broker}: {detail}")]
    Protocol {
        /// API name.
        api: &'static str,
        /// `host:port`.
        broker: String,
        /// What was wrong.
        detail: String,
    },
    /// The broker supports no version of an API that this client also supports.
    #[error("broker {broker} does not support a usable version of {api}")]
    UnsupportedApi {
        /// API name.
        api: &'static str,
        /// `host:port`.
        broker: String,
    },
    /// A request failed with a broker error code that is not retried.
    #[error("{api} failed: {code}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Broker {
        /// API name.
        api: &'static str,
        /// The code.
        code: BrokerErrorCode,
        /// The broker's error message, if it sent one.
        message: Option<String>,
    },
    /// SASL authentication was rejected.
    #[error("SASL authentication with {mechanism} failed: {code}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Authentication {
        /// Mechanism name.
        mechanism: &'static str,
        /// The broker's code (`SASL_AUTHENTICATION_FAILED`, `UNSUPPORTED_SASL_MECHANISM`, ...).
        code: BrokerErrorCode,
        /// The broker's message, or what the client found wrong in the exchange.
        message: Option<String>,
    },
    /// The rebalance did not complete; call [`join`](super::WorkerGroupMember::join) again.
    #[error("rebalance did not complete, the member must rejoin the group: {0}")]
    RejoinNeeded(RejoinReason),
    /// An operation was called in a state that does not allow it (e.g. sync before join).
    #[error("invalid group member state: {0}")]
    InvalidState(&'static str),
    /// Retriable failures went on for longer than the operation's bound.
    #[error("{operation} did not complete within {timeout:?}; last error: {last}")]
    Timeout {
        /// What was attempted.
        operation: &'static str,
        /// The bound.
        timeout: Duration,
        /// The last retriable failure.
        last: Box<GroupError>,
    },
}

impl GroupError {
    /// Failures worth retrying after a backoff (network trouble, a coordinator that moved or is loading).
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::Connect { .. }
            | Self::ConnectTimeout { .. }
            | Self::RequestTimeout { .. }
            | Self::Disconnected { .. }
            | Self::RejoinNeeded(_) => true,
            Self::Broker { code, .. } => code.is_retriable(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_codes_are_named_as_apache_names_them() {
        assert_eq!(BrokerErrorCode(79).name(), "MEMBER_ID_REQUIRED");
        assert_eq!(BrokerErrorCode(16).name(), "NOT_COORDINATOR");
        assert_eq!(BrokerErrorCode(14).name(), "COORDINATOR_LOAD_IN_PROGRESS");
        assert_eq!(BrokerErrorCode(58).name(), "SASL_AUTHENTICATION_FAILED");
        assert_eq!(BrokerErrorCode(-1).name(), "UNKNOWN_SERVER_ERROR");
        assert_eq!(BrokerErrorCode(0).name(), "NONE");
        assert_eq!(BrokerErrorCode(30_000).name(), "UNKNOWN_SERVER_ERROR");
    }
}
