//! What a client learned about its connection: the first unrecoverable error (rejected login, TLS
//! failure, a bootstrap that never answered), so the task using it fails with that reason instead of
//! waiting forever on a client that keeps retrying.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use causeway_log::LogError;
use parking_lot::Mutex;
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// How long a new client may go without reaching any broker before it is declared unusable. A client
/// that connected once and then loses the cluster keeps retrying instead (the cluster is restarting).
pub const BOOTSTRAP_TIMEOUT: Duration = Duration::from_secs(15);

/// Shared between a client's callbacks and the wrapper that hands its errors to tasks.
#[derive(Debug, Default)]
pub(crate) struct ClientHealth {
    fatal: Mutex<Option<LogError>>,
    connected: AtomicBool,
}

impl ClientHealth {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(ClientHealth::default())
    }

    /// The unrecoverable error, if one happened.
    pub(crate) fn fatal(&self) -> Option<LogError> {
        self.fatal.lock().clone()
    }

    /// Records an unrecoverable error; the first one wins. Returns true if this call recorded it.
    pub(crate) fn set_fatal(&self, error: LogError) -> bool {
        let mut slot = self.fatal.lock();
        if slot.is_none() {
            tracing::error!(%error, "Kafka client failed");
            *slot = Some(error);
            true
        } else {
            false
        }
    }

    pub(crate) fn mark_connected(&self) {
        self.connected.store(true, Ordering::Relaxed);
    }

    pub(crate) fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Classifies an error reported by librdkafka; returns true if it made the client unusable.
    pub(crate) fn observe(&self, error: &KafkaError, reason: &str) -> bool {
        match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::Authentication)
            | Some(RDKafkaErrorCode::SaslAuthenticationFailed) => {
                self.set_fatal(LogError::Auth(format!("Authentication failed: {reason}")))
            }
            Some(RDKafkaErrorCode::SSL) => {
                self.set_fatal(LogError::Auth(format!("SSL handshake failed: {reason}")))
            }
            Some(RDKafkaErrorCode::Fatal) => self.set_fatal(LogError::Fatal(format!(
                "Fatal Kafka client error: {reason}"
            ))),
            Some(RDKafkaErrorCode::AllBrokersDown)
            | Some(RDKafkaErrorCode::BrokerTransportFailure)
                if !self.connected() =>
            {
                tracing::warn!(%reason, "Cannot reach the Kafka cluster yet");
                false
            }
            _ => {
                tracing::warn!(%error, %reason, "Kafka client error (retrying)");
                false
            }
        }
    }
}

/// The client context every Causeway client uses: errors go to [`ClientHealth`], logs to `tracing`.
#[derive(Clone)]
pub(crate) struct HealthContext {
    pub(crate) health: Arc<ClientHealth>,
}

impl ClientContext for HealthContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.health.observe(&error, reason);
    }
}

/// Plain consumers (no group, hence no rebalances) use it too.
impl rdkafka::consumer::ConsumerContext for HealthContext {}

/// Lets a short-lived `BaseProducer` serve as a connection probe: polling it delivers the errors that an
/// admin client (whose main queue nobody polls) would never report.
impl rdkafka::producer::ProducerContext for HealthContext {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &rdkafka::producer::DeliveryResult<'_>, _: ()) {}
}
