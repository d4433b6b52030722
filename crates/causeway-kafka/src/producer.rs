//! [`KafkaProducer`]: a librdkafka producer whose delivery reports complete [`DeliveryFuture`]s.
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

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
    inner: Option<Arc<ThreadedProducer<DeliveryContext>>>,
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
        let inner = Arc::new(inner);
        watch_health(Arc::downgrade(&inner), health.clone());
        Ok(KafkaProducer {
            inner: Some(inner),
            health,
        })
    }

    fn inner(&self) -> &Arc<ThreadedProducer<DeliveryContext>> {
        self.inner.as_ref().expect("present until drop")
    }
}

/// Watches a producer for as long as it lives: fails it if no broker answers within [`BOOTSTRAP_TIMEOUT`],
/// and once it has failed (that, or a rejected login seen by the error callback) fails what is queued, so a
/// task waiting on acknowledgements learns the reason at once.
fn watch_health(producer: Weak<ThreadedProducer<DeliveryContext>>, health: Arc<ClientHealth>) {
    let started = Instant::now();
    let spawned = std::thread::Builder::new()
        .name("kafka-producer-health".into())
        .spawn(move || {
            loop {
                let Some(p) = producer.upgrade() else { return };
                if health.fatal().is_some() {
                    p.purge(PurgeConfig::default().queue().inflight());
                    return;
                }
                if !health.connected() {
                    match p.client().fetch_metadata(None, Duration::from_millis(250)) {
                        Ok(_) => health.mark_connected(),
                        Err(e) if started.elapsed() >= BOOTSTRAP_TIMEOUT => {
                            health.set_fatal(LogError::Fatal(format!(
                                "Could not reach any broker of bootstrap.servers within {} s: {e}",
                                BOOTSTRAP_TIMEOUT.as_secs()
                            )));
                        }
                        Err(_) => {}
                    }
                } else {
                    drop(p);
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "Cannot start the producer health thread");
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
