//! [`KafkaConsumer`]: a librdkafka group consumer whose rebalances become [`ConsumerEvent`]s.
//!
//! librdkafka runs rebalance callbacks inside `poll`, on the polling thread, and unassigns revoked
//! partitions as soon as the callback returns. Apache's sink task commits inside `onPartitionsRevoked`,
//! so the revoke callback here hands a [`ConsumerEvent::Revoked`] to the task and *waits* until the task
//! polls again (having committed and closed). Polls therefore run on blocking threads, one at a time,
//! kept across cancelled calls so no event or record is lost.
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use causeway_log::{
    ConsumerEvent, ConsumerRecord, LogConsumer, LogError, LogResult, Subscription, TopicPartition,
};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::health::{BOOTSTRAP_TIMEOUT, ClientHealth};

/// How long a revoke callback waits for the task to commit before letting librdkafka go on.
const REVOKE_WAIT: Duration = Duration::from_secs(300);
/// The longest single wait of a blocking poll; it checks for closing between waits.
const POLL_SLICE: Duration = Duration::from_millis(100);
/// Timeout of synchronous group calls (commit, committed offsets).
const GROUP_CALL_TIMEOUT: Duration = Duration::from_secs(30);

enum GroupEvent {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>, std::sync::mpsc::Sender<()>),
}

/// Turns librdkafka's rebalance callbacks into [`GroupEvent`]s.
pub(crate) struct GroupContext {
    health: Arc<ClientHealth>,
    events: mpsc::UnboundedSender<GroupEvent>,
    /// Bumped on every rebalance, so a batch polled across one can be recognised and discarded.
    epoch: AtomicU64,
    closing: AtomicBool,
}

impl ClientContext for GroupContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.health.observe(&error, reason);
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let tps = to_tps(tpl);
                if tps.is_empty() || self.closing.load(Ordering::SeqCst) {
                    return;
                }
                let (ack_tx, ack_rx) = std::sync::mpsc::channel();
                if self.events.send(GroupEvent::Revoked(tps, ack_tx)).is_ok()
                    && ack_rx.recv_timeout(REVOKE_WAIT).is_err()
                    && !self.closing.load(Ordering::SeqCst)
                {
                    tracing::warn!(
                        "Task did not finish committing revoked partitions in time; letting the rebalance proceed"
                    );
                }
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "Consumer group rebalance failed"),
            Rebalance::Assign(_) => {}
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Rebalance::Assign(tpl) = rebalance {
            self.health.mark_connected();
            let tps = to_tps(tpl);
            if !tps.is_empty() {
                let _ = self.events.send(GroupEvent::Assigned(tps));
            }
        }
    }
}

fn to_tps(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

fn to_tpl<'a>(tps: impl IntoIterator<Item = &'a TopicPartition>) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for tp in tps {
        tpl.add_partition(&tp.topic, tp.partition);
    }
    tpl
}

enum PollOutcome {
    Event(GroupEvent),
    Batch(Result<Batch, tokio::task::JoinError>),
    Idle,
}

/// What one blocking poll produced.
struct Batch {
    records: Vec<ConsumerRecord>,
    error: Option<KafkaError>,
    /// A rebalance happened during the poll: the records were read under the old assignment.
    rebalanced: bool,
}

/// Size of the shared buffers that consumed keys and values are copied into.
const ARENA_CHUNK: usize = 64 * 1024;

/// Copies `data` into the free end of `arena` and returns it as a slice of that shared buffer: the keys and
/// values of a batch cost one allocation per 64 KiB rather than one each. A buffer is freed when the last
/// record sliced from it is dropped.
fn copy_into(arena: &mut BytesMut, data: &[u8]) -> Bytes {
    if arena.capacity() < data.len() {
        arena.reserve(data.len().max(ARENA_CHUNK));
    }
    arena.extend_from_slice(data);
    arena.split().freeze()
}

fn poll_batch(consumer: &BaseConsumer<GroupContext>, timeout: Duration, max: usize) -> Batch {
    let ctx = consumer.context();
    let start_epoch = ctx.epoch.load(Ordering::SeqCst);
    let deadline = Instant::now() + timeout;
    let mut records = Vec::new();
    let mut error = None;
    // Records of one topic share its name.
    let mut last_topic: Option<Arc<str>> = None;
    let mut arena = BytesMut::new();
    loop {
        let wait = if records.is_empty() {
            // In slices, so a consumer closing while a read-ahead poll waits is not held up for long.
            deadline
                .saturating_duration_since(Instant::now())
                .min(POLL_SLICE)
        } else {
            Duration::ZERO
        };
        match consumer.poll(wait) {
            Some(Ok(m)) => {
                ctx.health.mark_connected();
                let headers = m
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| (h.key.to_owned(), h.value.map(Bytes::copy_from_slice)))
                            .collect()
                    })
                    .unwrap_or_default();
                let topic = match &last_topic {
                    Some(t) if **t == *m.topic() => t.clone(),
                    _ => {
                        let t: Arc<str> = m.topic().into();
                        last_topic = Some(t.clone());
                        t
                    }
                };
                if records.is_empty() {
                    // Sized on the first record: polls that find nothing allocate nothing.
                    records.reserve(max.min(1024));
                }
                records.push(ConsumerRecord {
                    topic,
                    partition: m.partition(),
                    offset: m.offset(),
                    timestamp: m.timestamp().to_millis().unwrap_or(-1),
                    key: m.key().map(|k| copy_into(&mut arena, k)),
                    value: m.payload().map(|v| copy_into(&mut arena, v)),
                    headers,
                });
                if records.len() >= max {
                    break;
                }
            }
            Some(Err(e)) => {
                error = Some(e);
                break;
            }
            None => {
                if !records.is_empty()
                    || Instant::now() >= deadline
                    || ctx.closing.load(Ordering::SeqCst)
                {
                    break;
                }
            }
        }
        if ctx.epoch.load(Ordering::SeqCst) != start_epoch {
            break;
        }
    }
    Batch {
        records,
        error,
        rebalanced: ctx.epoch.load(Ordering::SeqCst) != start_epoch,
    }
}

/// A member of a consumer group on a Kafka cluster.
pub struct KafkaConsumer {
    inner: Option<Arc<BaseConsumer<GroupContext>>>,
    health: Arc<ClientHealth>,
    events: mpsc::UnboundedReceiver<GroupEvent>,
    /// Releases a waiting revoke callback; sent on the next poll, once the task has handled the revoke.
    pending_ack: Option<std::sync::mpsc::Sender<()>>,
    in_flight: Option<JoinHandle<Batch>>,
    /// A finished poll held back while the events it produced are handed out.
    finished: Option<Batch>,
    /// Seeks asked for while a poll was running; applied when it returns.
    pending_seeks: HashMap<TopicPartition, i64>,
    revoked_during_poll: HashSet<TopicPartition>,
    /// Partitions paused through [`LogConsumer::pause`]. librdkafka drops a partition's prefetched records on
    /// every pause or resume, even of a partition in that state already, so only real changes reach it.
    paused: HashSet<TopicPartition>,
    assignment: BTreeSet<TopicPartition>,
    positions: HashMap<TopicPartition, i64>,
    max_poll_records: usize,
    /// What was subscribed to, for re-subscribing.
    subscription: Vec<String>,
    /// A subscribed topic was reported missing and nothing has been assigned since.
    topics_missing: bool,
    last_lookup: Option<Instant>,
}

impl KafkaConsumer {
    pub(crate) fn create(config: &ClientConfig, max_poll_records: usize) -> LogResult<Self> {
        let health = ClientHealth::new();
        let (tx, rx) = mpsc::unbounded_channel();
        let context = GroupContext {
            health: health.clone(),
            events: tx,
            epoch: AtomicU64::new(0),
            closing: AtomicBool::new(false),
        };
        let consumer: BaseConsumer<GroupContext> = config
            .create_with_context(context)
            .map_err(|e| LogError::Invalid(format!("Failed to create consumer: {e}")))?;
        let consumer = Arc::new(consumer);
        let probe = consumer.clone();
        let probe_health = health.clone();
        let spawned = std::thread::Builder::new()
            .name("kafka-bootstrap-check".into())
            .spawn(
                move || match probe.fetch_metadata(None, BOOTSTRAP_TIMEOUT) {
                    Ok(_) => probe_health.mark_connected(),
                    Err(e) if !probe_health.connected() => {
                        probe_health.set_fatal(LogError::Fatal(format!(
                            "Could not reach any broker of bootstrap.servers within {} s: {e}",
                            BOOTSTRAP_TIMEOUT.as_secs()
                        )));
                    }
                    Err(_) => {}
                },
            );
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "Cannot start the bootstrap check thread");
        }
        Ok(KafkaConsumer {
            inner: Some(consumer),
            health,
            events: rx,
            pending_ack: None,
            in_flight: None,
            finished: None,
            pending_seeks: HashMap::new(),
            revoked_during_poll: HashSet::new(),
            paused: HashSet::new(),
            assignment: BTreeSet::new(),
            positions: HashMap::new(),
            max_poll_records: max_poll_records.max(1),
            subscription: Vec::new(),
            topics_missing: false,
            last_lookup: None,
        })
    }

    fn inner(&self) -> &Arc<BaseConsumer<GroupContext>> {
        self.inner.as_ref().expect("present until drop")
    }

    fn on_event(&mut self, event: GroupEvent) -> ConsumerEvent {
        match event {
            GroupEvent::Assigned(tps) => {
                self.topics_missing = false;
                for tp in &tps {
                    self.assignment.insert(tp.clone());
                    // A newly assigned partition is fetched (not paused) by librdkafka.
                    self.paused.remove(tp);
                }
                ConsumerEvent::Assigned(tps)
            }
            GroupEvent::Revoked(tps, ack) => {
                for tp in &tps {
                    self.assignment.remove(tp);
                    self.paused.remove(tp);
                    self.positions.remove(tp);
                    self.pending_seeks.remove(tp);
                    self.revoked_during_poll.insert(tp.clone());
                }
                self.pending_ack = Some(ack);
                ConsumerEvent::Revoked(tps)
            }
        }
    }

    fn apply_seek(&self, tp: &TopicPartition, offset: i64) -> LogResult<()> {
        self.inner()
            .seek(
                &tp.topic,
                tp.partition,
                Offset::Offset(offset),
                Duration::ZERO,
            )
            .map_err(|e| LogError::Invalid(format!("Cannot seek {tp} to {offset}: {e}")))
    }

    /// Turns a finished poll into records, dropping what a rebalance or a seek made stale.
    fn on_batch(&mut self, batch: Batch) -> LogResult<Option<ConsumerEvent>> {
        if let Some(e) = &batch.error {
            let reason = e.to_string();
            if self.health.observe(e, &reason) || self.health.fatal().is_some() {
                return Err(self.health.fatal().unwrap_or(LogError::Fatal(reason)));
            }
            if e.rdkafka_error_code() == Some(RDKafkaErrorCode::UnknownTopicOrPartition) {
                self.topics_missing = true;
            }
        }
        let mut records = batch.records;
        if batch.rebalanced {
            // Read under the previous assignment and never handed out: partitions that stayed assigned
            // (cooperative rebalancing) go back to the first of them; revoked ones restart from the
            // committed offset anyway.
            for (tp, offset) in first_offsets(&records) {
                if self.assignment.contains(&tp) && !self.revoked_during_poll.contains(&tp) {
                    self.apply_seek(&tp, offset)?;
                    self.positions.insert(tp, offset);
                }
            }
            records.clear();
        }
        let seeks = std::mem::take(&mut self.pending_seeks);
        if !seeks.is_empty() {
            records.retain(|r| {
                !seeks
                    .keys()
                    .any(|tp| tp.partition == r.partition && *tp.topic == *r.topic)
            });
            for (tp, offset) in &seeks {
                self.apply_seek(tp, *offset)?;
            }
        }
        if records.is_empty() {
            return Ok(None);
        }
        // Linear scans: an assignment is a handful of partitions, and this runs per record.
        records.retain(|r| {
            self.assignment
                .iter()
                .any(|tp| tp.partition == r.partition && *tp.topic == *r.topic)
        });
        if !self.paused.is_empty() {
            // Read ahead before the task paused these partitions: not handed out now, and fetched again
            // from the first of them once resumed.
            let (held, kept): (Vec<ConsumerRecord>, Vec<ConsumerRecord>) =
                records.into_iter().partition(|r| {
                    self.paused
                        .iter()
                        .any(|tp| tp.partition == r.partition && *tp.topic == *r.topic)
                });
            records = kept;
            for (tp, offset) in first_offsets(&held) {
                self.apply_seek(&tp, offset)?;
            }
        }
        let mut last: Option<(usize, i64)> = None;
        for (i, r) in records.iter().enumerate() {
            let next = r.offset + 1;
            match last {
                Some((j, _))
                    if records[j].topic == r.topic && records[j].partition == r.partition =>
                {
                    last = Some((j, next))
                }
                _ => {
                    if let Some((j, off)) = last {
                        self.positions.insert(
                            TopicPartition::new(&*records[j].topic, records[j].partition),
                            off,
                        );
                    }
                    last = Some((i, next));
                }
            }
        }
        if let Some((j, off)) = last {
            self.positions.insert(
                TopicPartition::new(&*records[j].topic, records[j].partition),
                off,
            );
        }
        Ok((!records.is_empty()).then_some(ConsumerEvent::Records(records)))
    }

    /// While a subscribed topic is missing (typically: still being created) and nothing is assigned, looks
    /// it up every two seconds. librdkafka alone notices a topic created after the subscription only at its
    /// periodic metadata refresh (`topic.metadata.refresh.interval.ms`, five minutes), where Java's consumer
    /// retries within its backoff; a lookup refreshes the client's metadata cache, which the group follows.
    fn refresh_missing_topics(&mut self) {
        if !self.topics_missing || !self.assignment.is_empty() || self.subscription.is_empty() {
            return;
        }
        if self
            .last_lookup
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2))
        {
            return;
        }
        self.last_lookup = Some(Instant::now());
        let consumer = self.inner().clone();
        let topics = self.subscription.clone();
        tokio::task::spawn_blocking(move || {
            for t in topics.iter().filter(|t| !t.starts_with('^')) {
                let found = consumer
                    .fetch_metadata(Some(t), Duration::from_secs(5))
                    .is_ok_and(|md| {
                        md.topics()
                            .iter()
                            .any(|m| m.name() == t && m.error().is_none())
                    });
                tracing::debug!(topic = %t, found, "Looked up a missing subscribed topic");
            }
        });
    }

    /// Starts a blocking poll unless one is running.
    fn start_poll(&mut self, timeout: Duration) {
        if self.in_flight.is_some() {
            return;
        }
        self.revoked_during_poll.clear();
        let consumer = self.inner().clone();
        let max = self.max_poll_records;
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            poll_batch(&consumer, timeout, max)
        }));
    }

    /// Turns a finished poll into what `poll` returns. When that is records, the next poll starts at once
    /// and reads ahead while the task handles them: the task's conversions and `put` then overlap with
    /// librdkafka's message handling instead of alternating with it. What the task changes meanwhile
    /// (seeks, pauses, rebalances) is applied to the read-ahead batch in [`Self::on_batch`].
    fn hand_out(&mut self, batch: Batch, timeout: Duration) -> LogResult<Option<ConsumerEvent>> {
        let out = self.on_batch(batch)?;
        if matches!(out, Some(ConsumerEvent::Records(_))) {
            self.start_poll(timeout);
        }
        Ok(out)
    }

    fn release_revoke(&mut self) {
        if let Some(ack) = self.pending_ack.take() {
            let _ = ack.send(());
        }
    }

    fn begin_close(&mut self) {
        if let Some(c) = &self.inner {
            c.context().closing.store(true, Ordering::SeqCst);
        }
        self.release_revoke();
    }
}

/// The first offset of each partition among `records` (read, but not handed out: where to fetch them again).
fn first_offsets(records: &[ConsumerRecord]) -> HashMap<TopicPartition, i64> {
    let mut first = HashMap::new();
    for r in records {
        first
            .entry(TopicPartition::new(&*r.topic, r.partition))
            .or_insert(r.offset);
    }
    first
}

/// The partitions of `tpl` that have a committed offset, with it.
pub(crate) fn committed_offsets(tpl: &TopicPartitionList) -> HashMap<TopicPartition, i64> {
    tpl.elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((TopicPartition::new(e.topic(), e.partition()), o)),
            _ => None,
        })
        .collect()
}

/// Runs a group call again while the coordinator is moving or still loading its offsets (right after a
/// broker starts), for up to [`GROUP_CALL_TIMEOUT`].
pub(crate) fn retry_while_coordinator_loads<T>(
    mut call: impl FnMut() -> Result<T, KafkaError>,
) -> Result<T, KafkaError> {
    let deadline = Instant::now() + GROUP_CALL_TIMEOUT;
    loop {
        match call() {
            Err(e)
                if Instant::now() < deadline
                    && matches!(
                        e.rdkafka_error_code(),
                        Some(
                            RDKafkaErrorCode::NotCoordinator
                                | RDKafkaErrorCode::CoordinatorLoadInProgress
                                | RDKafkaErrorCode::CoordinatorNotAvailable
                        )
                    ) =>
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

fn group_error(e: KafkaError) -> LogError {
    match e.rdkafka_error_code() {
        Some(
            RDKafkaErrorCode::RebalanceInProgress
            | RDKafkaErrorCode::IllegalGeneration
            | RDKafkaErrorCode::UnknownMemberId
            | RDKafkaErrorCode::CoordinatorNotAvailable
            | RDKafkaErrorCode::NotCoordinator
            | RDKafkaErrorCode::CoordinatorLoadInProgress
            | RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::AllBrokersDown
            | RDKafkaErrorCode::BrokerTransportFailure,
        ) => LogError::Retriable(e.to_string()),
        Some(
            RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::Authentication,
        ) => LogError::Auth(e.to_string()),
        _ => LogError::Fatal(e.to_string()),
    }
}

#[async_trait]
impl LogConsumer for KafkaConsumer {
    async fn subscribe(&mut self, subscription: Subscription) -> LogResult<()> {
        let consumer = self.inner().clone();
        let topics: Vec<String> = match subscription {
            Subscription::Topics(t) => t,
            // librdkafka treats a leading '^' as a regex subscription; anchor both ends so the whole name
            // must match, as Java's `Pattern.matcher(t).matches()`.
            Subscription::Pattern(re) => vec![format!("^({})$", re.as_str())],
        };
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&refs)
            .map_err(|e| LogError::Invalid(format!("Cannot subscribe to {topics:?}: {e}")))?;
        self.subscription = topics;
        Ok(())
    }

    async fn poll(&mut self, timeout: Duration) -> LogResult<Option<ConsumerEvent>> {
        self.release_revoke();
        if let Some(e) = self.health.fatal() {
            return Err(e);
        }
        // Events a poll produced come before its records: the records may be stale because of them.
        if let Ok(event) = self.events.try_recv() {
            return Ok(Some(self.on_event(event)));
        }
        if let Some(batch) = self.finished.take() {
            return self.hand_out(batch, timeout);
        }
        self.refresh_missing_topics();
        self.start_poll(timeout);
        let handle = self.in_flight.as_mut().expect("just set");
        let outcome = tokio::select! {
            biased;
            Some(event) = self.events.recv() => PollOutcome::Event(event),
            joined = handle => PollOutcome::Batch(joined),
            _ = tokio::time::sleep(timeout + Duration::from_millis(50)) => PollOutcome::Idle,
        };
        match outcome {
            PollOutcome::Event(event) => Ok(Some(self.on_event(event))),
            PollOutcome::Batch(joined) => {
                self.in_flight = None;
                let batch = joined.map_err(|e| LogError::Fatal(format!("poll panicked: {e}")))?;
                if let Ok(event) = self.events.try_recv() {
                    self.finished = Some(batch);
                    return Ok(Some(self.on_event(event)));
                }
                self.hand_out(batch, timeout)
            }
            PollOutcome::Idle => Ok(None),
        }
    }

    fn assignment(&self) -> Vec<TopicPartition> {
        self.assignment.iter().cloned().collect()
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> LogResult<()> {
        if !self.assignment.contains(tp) {
            return Err(LogError::Invalid(format!(
                "Partition {tp} is not assigned to this consumer"
            )));
        }
        self.positions.insert(tp.clone(), offset);
        if self.in_flight.is_some() || self.finished.is_some() {
            self.pending_seeks.insert(tp.clone(), offset);
            Ok(())
        } else {
            self.apply_seek(tp, offset)
        }
    }

    fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.positions.get(tp).copied()
    }

    fn pause(&mut self, partitions: &[TopicPartition]) {
        let changed: Vec<TopicPartition> = partitions
            .iter()
            .filter(|tp| self.paused.insert((*tp).clone()))
            .cloned()
            .collect();
        if changed.is_empty() {
            return;
        }
        if let Err(e) = self.inner().pause(&to_tpl(&changed)) {
            tracing::debug!(error = %e, "Cannot pause partitions");
        }
    }

    fn resume(&mut self, partitions: &[TopicPartition]) {
        let changed: Vec<TopicPartition> = partitions
            .iter()
            .filter(|tp| self.paused.remove(*tp))
            .cloned()
            .collect();
        if changed.is_empty() {
            return;
        }
        if let Err(e) = self.inner().resume(&to_tpl(&changed)) {
            tracing::debug!(error = %e, "Cannot resume partitions");
        }
    }

    async fn commit(&mut self, offsets: &HashMap<TopicPartition, i64>) -> LogResult<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for (tp, off) in offsets {
            tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*off))
                .map_err(|e| LogError::Invalid(e.to_string()))?;
        }
        let consumer = self.inner().clone();
        tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(|e| LogError::Fatal(format!("commit panicked: {e}")))?
            .map_err(group_error)
    }

    async fn committed(
        &self,
        partitions: &[TopicPartition],
    ) -> LogResult<HashMap<TopicPartition, i64>> {
        let tpl = to_tpl(partitions);
        let consumer = self.inner().clone();
        let result = tokio::task::spawn_blocking(move || {
            consumer.committed_offsets(tpl, GROUP_CALL_TIMEOUT)
        })
        .await
        .map_err(|e| LogError::Fatal(format!("committed panicked: {e}")))?
        .map_err(group_error)?;
        Ok(committed_offsets(&result))
    }

    async fn close(&mut self) -> LogResult<()> {
        self.begin_close();
        if let Some(h) = self.in_flight.take() {
            let _ = h.await;
        }
        if let Some(consumer) = self.inner.take() {
            // Leaving the group waits on the coordinator; keep it off the async workers.
            tokio::task::spawn_blocking(move || {
                consumer.unsubscribe();
                drop(consumer);
            })
            .await
            .map_err(|e| LogError::Fatal(format!("close panicked: {e}")))?;
        }
        self.assignment.clear();
        self.paused.clear();
        Ok(())
    }
}

impl Drop for KafkaConsumer {
    fn drop(&mut self) {
        self.begin_close();
        if let Some(consumer) = self.inner.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn_blocking(move || drop(consumer));
                }
                Err(_) => drop(consumer),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_copies_are_independent_slices_of_shared_buffers() {
        let mut arena = BytesMut::new();
        let small: Vec<Bytes> = (0..2000)
            .map(|i| copy_into(&mut arena, format!("value-{i}").as_bytes()))
            .collect();
        let big = vec![7u8; 3 * ARENA_CHUNK];
        let large = copy_into(&mut arena, &big);
        let after = copy_into(&mut arena, b"after");
        let empty = copy_into(&mut arena, b"");
        for (i, b) in small.iter().enumerate() {
            assert_eq!(&b[..], format!("value-{i}").as_bytes());
        }
        assert_eq!(&large[..], &big[..]);
        assert_eq!(&after[..], b"after");
        assert!(empty.is_empty());
        // Dropping some slices leaves the others intact.
        let mut small = small;
        small.drain(..1000);
        assert_eq!(&small[999][..], b"value-1999");
        assert_eq!(&small[0][..], b"value-1000");
    }
}
