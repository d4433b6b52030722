//! [`KafkaProducer`]: a librdkafka producer whose delivery reports complete [`DeliveryFuture`]s.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use causeway_log::{
    DeliveryFuture, LogError, LogProducer, LogResult, ProducerRecord, RecordMetadata, SendError,
};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, PurgeConfig, ThreadedProducer};
use tokio::sync::oneshot;

use crate::health::{BOOTSTRAP_TIMEOUT, ClientHealth};

type Ack = oneshot::Sender<LogResult<RecordMetadata>>;

/// Routes delivery reports to the waiting [`DeliveryFuture`] and errors to [`ClientHealth`].
pub(crate) struct DeliveryContext {
    health: Arc<ClientHealth>,
}

impl ClientContext for DeliveryContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.health.observe(&error, reason);
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<Ack>;

    fn delivery(&self, result: &DeliveryResult<'_>, ack: Box<Ack>) {
        let outcome = match result {
            Ok(m) => {
                self.health.mark_connected();
                Ok(RecordMetadata {
                    partition: m.partition(),
                    offset: m.offset(),
                    timestamp: m.timestamp().to_millis().unwrap_or(-1),
                })
            }
            Err((e, _)) => Err(self.health.fatal().unwrap_or_else(|| delivery_error(e))),
        };
        let _ = ack.send(outcome);
    }
}

/// Maps a failed delivery to a [`LogError`].
fn delivery_error(e: &KafkaError) -> LogError {
    match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::UnknownTopicOrPartition) | Some(RDKafkaErrorCode::UnknownTopic) => {
            LogError::UnknownTopic(e.to_string())
        }
        Some(RDKafkaErrorCode::UnknownPartition) => LogError::UnknownPartition(e.to_string()),
        Some(RDKafkaErrorCode::TopicAuthorizationFailed)
        | Some(RDKafkaErrorCode::ClusterAuthorizationFailed)
        | Some(RDKafkaErrorCode::Authentication) => LogError::Auth(e.to_string()),
        Some(RDKafkaErrorCode::MessageSizeTooLarge)
        | Some(RDKafkaErrorCode::InvalidRecord)
        | Some(RDKafkaErrorCode::InvalidTopic) => LogError::Invalid(e.to_string()),
        Some(RDKafkaErrorCode::QueueFull) => LogError::Retriable(e.to_string()),
        _ => LogError::Fatal(e.to_string()),
    }
}

/// A producer on a Kafka cluster.
pub struct KafkaProducer {
    inner: Option<ThreadedProducer<DeliveryContext>>,
    health: Arc<ClientHealth>,
}

impl KafkaProducer {
    /// Creates the producer from librdkafka properties and starts checking that the cluster answers.
    pub(crate) fn create(config: &ClientConfig) -> LogResult<KafkaProducer> {
        let health = ClientHealth::new();
        let inner: ThreadedProducer<DeliveryContext> = config
            .create_with_context(DeliveryContext {
                health: health.clone(),
            })
            .map_err(|e| LogError::Invalid(format!("Failed to create producer: {e}")))?;
        watch_bootstrap(inner.clone(), health.clone());
        Ok(KafkaProducer {
            inner: Some(inner),
            health,
        })
    }

    fn inner(&self) -> &ThreadedProducer<DeliveryContext> {
        self.inner.as_ref().expect("present until drop")
    }
}

/// Fails the client if no broker answers a metadata request within [`BOOTSTRAP_TIMEOUT`], and then fails
/// what is queued so tasks waiting on acknowledgements see the reason.
fn watch_bootstrap(producer: ThreadedProducer<DeliveryContext>, health: Arc<ClientHealth>) {
    let spawned = std::thread::Builder::new()
        .name("kafka-bootstrap-check".into())
        .spawn(move || {
            match producer.client().fetch_metadata(None, BOOTSTRAP_TIMEOUT) {
                Ok(_) => health.mark_connected(),
                Err(e) if health.fatal().is_none() && !health.connected() => {
                    health.set_fatal(LogError::Fatal(format!(
                        "Could not reach any broker of bootstrap.servers within {} s: {e}",
                        BOOTSTRAP_TIMEOUT.as_secs()
                    )));
                }
                Err(_) => {}
            }
            if health.fatal().is_some() {
                producer.purge(PurgeConfig::default().queue().inflight());
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "Cannot start the bootstrap check thread");
    }
}

#[async_trait]
impl LogProducer for KafkaProducer {
    fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture, SendError> {
        if let Some(error) = self.health.fatal() {
            self.inner()
                .purge(PurgeConfig::default().queue().inflight());
            return Err(SendError {
                error,
                record: Box::new(record),
            });
        }
        let (tx, ack) = DeliveryFuture::channel();
        let result = {
            let mut base =
                BaseRecord::<[u8], [u8], Box<Ack>>::with_opaque_to(&record.topic, Box::new(tx));
            if let Some(k) = &record.key {
                base = base.key(k.as_ref());
            }
            if let Some(v) = &record.value {
                base = base.payload(v.as_ref());
            }
            if let Some(p) = record.partition {
                base = base.partition(p);
            }
            if let Some(ts) = record.timestamp {
                base = base.timestamp(ts);
            }
            if !record.headers.is_empty() {
                let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
                for (key, value) in &record.headers {
                    headers = headers.insert(Header {
                        key,
                        value: value.as_deref(),
                    });
                }
                base = base.headers(headers);
            }
            self.inner().send(base).map_err(|(e, _)| e)
        };
        match result {
            Ok(()) => Ok(ack),
            Err(e) => {
                let error = match e.rdkafka_error_code() {
                    Some(RDKafkaErrorCode::QueueFull) => {
                        LogError::Retriable(format!("Producer queue is full: {e}"))
                    }
                    _ => delivery_error(&e),
                };
                Err(SendError {
                    error,
                    record: Box::new(record),
                })
            }
        }
    }

    async fn flush(&self, timeout: Duration) -> LogResult<()> {
        let producer = self.inner().clone();
        let result = tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .map_err(|e| LogError::Fatal(format!("flush panicked: {e}")))?;
        if let Some(e) = self.health.fatal() {
            return Err(e);
        }
        result.map_err(|e| match e.rdkafka_error_code() {
            Some(RDKafkaErrorCode::OperationTimedOut) => {
                LogError::Retriable(format!("Flush timed out after {} ms", timeout.as_millis()))
            }
            _ => LogError::Fatal(e.to_string()),
        })
    }
}

impl Drop for KafkaProducer {
    fn drop(&mut self) {
        // Destroying a librdkafka handle waits for its broker threads; keep that off the async workers.
        if let Some(inner) = self.inner.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn_blocking(move || drop(inner));
                }
                Err(_) => drop(inner),
            }
        }
    }
}
