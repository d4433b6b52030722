//! A whole topic read from the beginning and followed, with writes to it (Apache's `KafkaBasedLog`): how a
//! distributed worker keeps its view of the config, offsets and status topics.
//!
//! The consumer is assigned every partition (no group) and polled on its own thread; each record goes to the
//! caller's callback in partition order. [`TopicLog::read_to_end`] completes once everything written before
//! the call has been handed to the callback, which is how a worker knows its view is current.
use std::collections::HashMap;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use causeway_log::{InternalTopicLog, LogError, LogResult, ProducerConfig, TopicRecord};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::oneshot;

use crate::backend::KafkaSettings;
use crate::health::{ClientHealth, HealthContext};

/// How long one poll waits before the thread looks at its commands again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Bound on one metadata or watermark request.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

enum Command {
    ReadToEnd(oneshot::Sender<LogResult<()>>),
    Stop,
}

/// A topic read from its beginning by a background thread, with a producer to append to it.
pub struct TopicLog {
    topic: String,
    producer: FutureProducer<HealthContext>,
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl TopicLog {
    /// Starts reading `topic` (which must exist) from the beginning of every partition, handing each record
    /// to `on_record`, and returns once everything in the topic now has been read (`KafkaBasedLog.start`).
    ///
    /// # Errors
    /// Invalid client settings, a topic that does not exist, or a cluster that cannot be read.
    pub async fn start(
        settings: &KafkaSettings,
        topic: &str,
        client_id: &str,
        on_record: impl FnMut(TopicRecord) + Send + 'static,
    ) -> LogResult<TopicLog> {
        let producer_config = settings
            .producer_config(&ProducerConfig {
                client_id: format!("{client_id}-producer"),
                properties: HashMap::new(),
            })
            .map_err(|e| LogError::Invalid(e.to_string()))?;
        let producer: FutureProducer<HealthContext> = producer_config
            .create_with_context(HealthContext {
                health: ClientHealth::new(),
            })
            .map_err(|e| LogError::Fatal(format!("Failed to create producer for {topic}: {e}")))?;
        let consumer_config = settings
            .reader_config(&format!("{client_id}-consumer"))
            .map_err(|e| LogError::Invalid(e.to_string()))?;
        let consumer: BaseConsumer<HealthContext> = consumer_config
            .create_with_context(HealthContext {
                health: ClientHealth::new(),
            })
            .map_err(|e| LogError::Fatal(format!("Failed to create consumer for {topic}: {e}")))?;
        // End offsets are asked on connections of their own: a broker answers one request per connection at
        // a time, so on the reader's connections they would queue behind its long-polling fetches.
        let offsets_client: BaseConsumer<HealthContext> = settings
            .reader_config(&format!("{client_id}-offsets"))
            .map_err(|e| LogError::Invalid(e.to_string()))?
            .create_with_context(HealthContext {
                health: ClientHealth::new(),
            })
            .map_err(|e| LogError::Fatal(format!("Failed to create consumer for {topic}: {e}")))?;

        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let name = topic.to_owned();
        let thread = std::thread::Builder::new()
            .name(format!("topic-log-{topic}"))
            .spawn(move || {
                let reader = match Reader::assign(consumer, offsets_client, &name) {
                    Ok(r) => {
                        let _ = ready_tx.send(Ok(()));
                        r
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                reader.run(rx, on_record);
            })
            .map_err(|e| LogError::Fatal(format!("Cannot start a reader thread: {e}")))?;
        let log = TopicLog {
            topic: topic.to_owned(),
            producer,
            commands: tx,
            thread: Some(thread),
        };
        ready_rx
            .await
            .map_err(|_| LogError::Fatal(format!("The reader of {topic} stopped")))??;
        log.read_to_end().await?;
        Ok(log)
    }

    /// Stops the reader thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn stopped(&self) -> LogError {
        LogError::Fatal(format!("The reader of topic {} stopped", self.topic))
    }
}

#[async_trait]
impl InternalTopicLog for TopicLog {
    fn topic(&self) -> &str {
        &self.topic
    }

    async fn read_to_end(&self) -> LogResult<()> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::ReadToEnd(tx))
            .map_err(|_| self.stopped())?;
        rx.await.map_err(|_| self.stopped())?
    }

    async fn send(&self, key: Option<&[u8]>, value: Option<&[u8]>) -> LogResult<(i32, i64)> {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.topic);
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(v) = value {
            record = record.payload(v);
        }
        self.producer
            .send(record, Duration::from_secs(0))
            .await
            .map(|delivery| (delivery.partition, delivery.offset))
            .map_err(|(e, _)| {
                LogError::Fatal(format!("Failed to write to topic {}: {e}", self.topic))
            })
    }
}

impl Drop for TopicLog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The reader thread's state.
struct Reader {
    consumer: BaseConsumer<HealthContext>,
    offsets_client: BaseConsumer<HealthContext>,
    topic: String,
    partitions: Vec<i32>,
    /// Next offset to hand over, per partition.
    positions: HashMap<i32, i64>,
}

/// A `read_to_end` waiting for the reader to reach the end offsets it saw when it was asked.
struct PendingRead {
    targets: HashMap<i32, i64>,
    reply: oneshot::Sender<LogResult<()>>,
}

impl Reader {
    fn assign(
        consumer: BaseConsumer<HealthContext>,
        offsets_client: BaseConsumer<HealthContext>,
        topic: &str,
    ) -> LogResult<Reader> {
        let metadata = consumer
            .fetch_metadata(Some(topic), METADATA_TIMEOUT)
            .map_err(|e| LogError::Retriable(format!("Cannot describe topic {topic}: {e}")))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if partitions.is_empty() {
            return Err(LogError::UnknownTopic(format!(
                "Topic {topic} does not exist or has no partitions"
            )));
        }
        let mut tpl = TopicPartitionList::new();
        for p in &partitions {
            tpl.add_partition_offset(topic, *p, Offset::Beginning)
                .map_err(|e| LogError::Fatal(e.to_string()))?;
        }
        consumer
            .assign(&tpl)
            .map_err(|e| LogError::Fatal(format!("Cannot assign {topic}: {e}")))?;
        Ok(Reader {
            consumer,
            offsets_client,
            topic: topic.to_owned(),
            positions: partitions.iter().map(|p| (*p, 0)).collect(),
            partitions,
        })
    }

    fn run(mut self, commands: mpsc::Receiver<Command>, mut on_record: impl FnMut(TopicRecord)) {
        let mut pending: Vec<PendingRead> = Vec::new();
        loop {
            loop {
                match commands.try_recv() {
                    Ok(Command::ReadToEnd(reply)) => match self.end_offsets() {
                        Ok(targets) => pending.push(PendingRead { targets, reply }),
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                    },
                    Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => return,
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            // Answer reads that are already satisfied before waiting on a poll.
            pending.retain_mut(|read| !self.try_complete(read));
            match self.consumer.poll(POLL_INTERVAL) {
                Some(Ok(m)) => {
                    self.positions.insert(m.partition(), m.offset() + 1);
                    on_record(TopicRecord {
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        value: m.payload().map(<[u8]>::to_vec),
                        timestamp: m.timestamp().to_millis(),
                    });
                }
                Some(Err(KafkaError::PartitionEOF(_))) | None => {}
                Some(Err(e)) => {
                    tracing::warn!(topic = %self.topic, error = %e, "Error reading an internal topic; retrying.");
                }
            }
        }
    }

    /// The end offset of every partition now. Positions are brought up to the log start first: records below
    /// it were deleted or compacted away and will never be handed over.
    fn end_offsets(&mut self) -> LogResult<HashMap<i32, i64>> {
        // One ListOffsets round trip for every partition (`fetch_watermarks` costs one per partition).
        let query = |offset: Offset| -> LogResult<HashMap<i32, i64>> {
            let mut tpl = TopicPartitionList::new();
            for p in &self.partitions {
                tpl.add_partition_offset(&self.topic, *p, offset)
                    .map_err(|e| LogError::Fatal(e.to_string()))?;
            }
            let answer = self
                .offsets_client
                .offsets_for_times(tpl, METADATA_TIMEOUT)
                .map_err(|e| {
                    LogError::Retriable(format!("Cannot read the offsets of {}: {e}", self.topic))
                })?;
            answer
                .elements()
                .iter()
                .map(|e| match (e.error(), e.offset()) {
                    (Ok(()), Offset::Offset(o)) => Ok((e.partition(), o)),
                    (Err(err), _) => Err(LogError::Retriable(format!(
                        "Cannot read the offsets of {}-{}: {err}",
                        self.topic,
                        e.partition()
                    ))),
                    (Ok(()), other) => Err(LogError::Retriable(format!(
                        "No offset for {}-{}: {other:?}",
                        self.topic,
                        e.partition()
                    ))),
                })
                .collect()
        };
        let ends = query(Offset::End)?;
        let starts = query(Offset::Beginning)?;
        // Records below the log start were deleted or compacted away and will never be handed over.
        for (p, low) in &starts {
            let behind = self.positions.get(p).is_none_or(|pos| pos < low);
            if behind && self.consumer_position(*p).is_none_or(|c| c >= *low) {
                self.positions.insert(*p, *low);
            }
        }
        Ok(ends)
    }

    /// The consumer's own fetch position, which also moves past offsets that hold no record (transaction
    /// markers, compacted gaps).
    fn consumer_position(&self, partition: i32) -> Option<i64> {
        let positions = self.consumer.position().ok()?;
        positions
            .find_partition(&self.topic, partition)
            .and_then(|e| match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            })
    }

    fn try_complete(&self, read: &mut PendingRead) -> bool {
        let done = read.targets.iter().all(|(p, target)| {
            self.positions.get(p).is_some_and(|pos| pos >= target)
                || self.consumer_position(*p).is_some_and(|pos| pos >= *target)
        });
        if done {
            // The sender is taken by value only here; a replaced channel means nobody waits any more.
            let (tx, _) = oneshot::channel();
            let reply = std::mem::replace(&mut read.reply, tx);
            let _ = reply.send(Ok(()));
        }
        done
    }
}
