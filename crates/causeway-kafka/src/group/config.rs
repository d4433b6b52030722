//! Settings of a worker-group member: bootstrap servers, group timing and the listener's security.

use std::time::Duration;

use super::error::GroupError;

/// Settings of one [`WorkerGroupMember`](super::WorkerGroupMember).
///
/// The defaults are Connect's distributed-worker defaults (`session.timeout.ms` 10000,
/// `heartbeat.interval.ms` 3000, `rebalance.timeout.ms` 60000, `request.timeout.ms` 40000,
/// `retry.backoff.ms` 100, `retry.backoff.max.ms` 1000, `socket.connection.setup.timeout.ms` 10000).
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// `bootstrap.servers`: `host:port` entries, tried in order.
    pub bootstrap: Vec<String>,
    /// `group.id`.
    pub group_id: String,
    /// `client.id` sent in every request header; the broker builds member ids from it.
    pub client_id: String,
    /// `session.timeout.ms`.
    pub session_timeout: Duration,
    /// `rebalance.timeout.ms`: the JoinGroup rebalance timeout.
    pub rebalance_timeout: Duration,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval: Duration,
    /// `request.timeout.ms` for every request but JoinGroup (which waits up to the rebalance timeout).
    pub request_timeout: Duration,
    /// `retry.backoff.ms`: pause before the first retry after a retriable failure.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`: the pause doubles per consecutive failure up to this.
    pub retry_backoff_max: Duration,
    /// `socket.connection.setup.timeout.ms`: bound on TCP connect plus ApiVersions and authentication.
    pub connection_setup_timeout: Duration,
    /// How long [`join`](super::WorkerGroupMember::join) keeps retrying coordinator discovery and retriable
    /// JoinGroup errors before it gives up with [`GroupError::Timeout`]. Apache retries without bound; a bound
    /// lets the herder log and decide.
    pub join_timeout: Duration,
    /// `security.protocol` and its credentials.
    pub security: SecurityProtocol,
}

impl GroupConfig {
    /// Settings with Connect's defaults for the given bootstrap servers (comma-separated, as in
    /// `bootstrap.servers`), group and client id.
    pub fn new(bootstrap: &str, group_id: &str, client_id: &str) -> Self {
        Self {
            bootstrap: bootstrap
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            group_id: group_id.to_owned(),
            client_id: client_id.to_owned(),
            session_timeout: Duration::from_millis(10_000),
            rebalance_timeout: Duration::from_millis(60_000),
            heartbeat_interval: Duration::from_millis(3_000),
            request_timeout: Duration::from_millis(40_000),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            connection_setup_timeout: Duration::from_millis(10_000),
            join_timeout: Duration::from_millis(60_000),
            security: SecurityProtocol::Plaintext,
        }
    }

    /// Checks what can be checked without the network: the bootstrap list is non-empty and every entry is
    /// `host:port` with a valid port, the group id is non-empty, and the heartbeat interval is below the
    /// session timeout (the Java client's `GroupRebalanceConfig`/`ClientUtils` checks).
    pub(crate) fn validate(&self) -> Result<(), GroupError> {
        if self.retry_backoff > self.retry_backoff_max {
            return Err(GroupError::Config(
                "retry.backoff.ms must not exceed retry.backoff.max.ms".to_owned(),
            ));
        }
        if self.bootstrap.is_empty() {
            return Err(GroupError::Config(
                "bootstrap.servers must contain at least one host:port".to_owned(),
            ));
        }
        for entry in &self.bootstrap {
            split_host_port(entry)?;
        }
        if self.group_id.is_empty() {
            return Err(GroupError::Config("group.id must not be empty".to_owned()));
        }
        if self.heartbeat_interval >= self.session_timeout {
            return Err(GroupError::Config(
                "heartbeat.interval.ms must be set lower than session.timeout.ms".to_owned(),
            ));
        }
        for (name, value) in [
            ("session.timeout.ms", self.session_timeout),
            ("rebalance.timeout.ms", self.rebalance_timeout),
        ] {
            if value.as_millis() > i32::MAX as u128 {
                return Err(GroupError::Config(format!(
                    "{name} does not fit a 32-bit millisecond count"
                )));
            }
        }
        Ok(())
    }

    /// The pause before retry number `attempt` (0-based): `retry.backoff.ms` doubled per attempt, capped at
    /// `retry.backoff.max.ms` (the Java client's `ExponentialBackoff`, without its jitter).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        self.retry_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.retry_backoff_max)
    }
}

/// Splits `host:port` (IPv6 hosts in brackets), as `Utils.getHost`/`getPort` do.
pub(crate) fn split_host_port(entry: &str) -> Result<(String, u16), GroupError> {
    let invalid = || GroupError::Config(format!("Invalid url in bootstrap.servers: {entry}"));
    let (host, port) = entry.rsplit_once(':').ok_or_else(invalid)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid());
    }
    let port: u16 = port.parse().map_err(|_| invalid())?;
    Ok((host.to_owned(), port))
}

/// `security.protocol` of the connection to the brokers.
#[derive(Clone)]
pub enum SecurityProtocol {
    /// `PLAINTEXT`.
    Plaintext,
    /// `SASL_PLAINTEXT` with the given mechanism and credentials.
    SaslPlaintext(SaslCredentials),
}

impl std::fmt::Debug for SecurityProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plaintext => f.write_str("PLAINTEXT"),
            Self::SaslPlaintext(c) => write!(f, "SASL_PLAINTEXT({:?})", c),
        }
    }
}

/// `sasl.mechanism` with the username and password of `sasl.jaas.config`.
#[derive(Clone)]
pub struct SaslCredentials {
    /// The mechanism.
    pub mechanism: SaslMechanism,
    /// Username.
    pub username: String,
    /// Password (never printed).
    pub password: String,
}

impl std::fmt::Debug for SaslCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslCredentials")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"[hidden]")
            .finish()
    }
}

/// SASL mechanisms this client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `SCRAM-SHA-256` (RFC 5802/7677).
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
}

impl SaslMechanism {
    /// The mechanism name sent in SaslHandshake.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let config = GroupConfig::new("localhost:9092", "g", "c");
        let pauses: Vec<u128> = (0..6).map(|n| config.backoff(n).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(config.backoff(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn bootstrap_entries_are_host_and_port() {
        assert_eq!(
            split_host_port("broker-1:9092").unwrap(),
            ("broker-1".to_owned(), 9092)
        );
        assert_eq!(
            split_host_port("[::1]:9093").unwrap(),
            ("::1".to_owned(), 9093)
        );
        for bad in ["broker", "broker:", ":9092", "broker:99999", "broker:x"] {
            assert!(split_host_port(bad).is_err(), "{bad}");
        }
        let config = GroupConfig::new(" a:1, b:2 ,", "g", "c");
        assert_eq!(config.bootstrap, ["a:1", "b:2"]);
    }
}
