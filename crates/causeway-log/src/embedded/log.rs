//! [`EmbeddedLog`]: topics, the background writer, producers and group consumers.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::{Condvar, Mutex, RwLock};

use super::group::{Group, Member, write_atomic};
use super::partition::{Partition, murmur2};
use crate::{
    ConsumerConfig, ConsumerEvent, ConsumerRecord, DeliveryFuture, LogBackend, LogConsumer,
    LogError, LogProducer, LogResult, NewTopic, ProducerConfig, ProducerRecord, Subscription,
    TopicPartition,
};

/// Most records one consumer poll returns.
const MAX_POLL_RECORDS: usize = 4096;

/// Settings of an [`EmbeddedLog`].
#[derive(Debug, Clone)]
pub struct EmbeddedLogOptions {
    /// Partitions of topics created on first use (default 1).
    pub default_partitions: i32,
    /// Size at which a segment file is closed and a new one started (default 64 MiB).
    pub segment_bytes: u64,
    /// How often written segments are fsynced; `None` leaves it to the OS (default 1 s).
    pub fsync_interval: Option<Duration>,
}

impl Default for EmbeddedLogOptions {
    fn default() -> Self {
        EmbeddedLogOptions {
            default_partitions: 1,
            segment_bytes: 64 * 1024 * 1024,
            fsync_interval: Some(Duration::from_secs(1)),
        }
    }
}

struct Topic {
    partitions: Vec<Arc<Partition>>,
}

struct Shared {
    dir: PathBuf,
    options: EmbeddedLogOptions,
    cluster_id: String,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    topics_version: AtomicU64,
    groups: Mutex<HashMap<String, Group>>,
    group_writes: tokio::sync::Mutex<()>,
    next_member: AtomicU64,
    /// Signalled when new records became visible or group membership changed.
    data: tokio::sync::Notify,
    /// Wakes the background writer.
    wake: (Mutex<bool>, Condvar),
}

/// The embedded, file-backed log (see the module docs for layout and durability).
pub struct EmbeddedLog {
    shared: Arc<Shared>,
}

fn validate_topic_name(name: &str) -> LogResult<()> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(LogError::Invalid(format!(
            "Topic name \"{name}\" is illegal"
        )));
    }
    if name.len() > 249 {
        return Err(LogError::Invalid(format!(
            "Topic name is illegal, it can't be longer than 249 characters, topic name: {name}"
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
    {
        return Err(LogError::Invalid(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        )));
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn new_cluster_id() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl EmbeddedLog {
    /// Opens (recovering) or creates a log in `dir`.
    ///
    /// # Errors
    /// When the directory cannot be created or read.
    pub fn open(dir: impl AsRef<Path>, options: EmbeddedLogOptions) -> LogResult<Arc<EmbeddedLog>> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(dir.join("topics"))?;
        std::fs::create_dir_all(dir.join("groups"))?;
        let id_path = dir.join("cluster.id");
        let cluster_id = match std::fs::read_to_string(&id_path) {
            Ok(s) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => {
                let id = new_cluster_id();
                write_atomic(&id_path, &id)?;
                id
            }
        };
        let mut topics = BTreeMap::new();
        for entry in std::fs::read_dir(dir.join("topics"))? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if validate_topic_name(&name).is_err() {
                continue;
            }
            let count: i32 = std::fs::read_to_string(entry.path().join("partitions"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            if count <= 0 {
                continue;
            }
            let partitions = (0..count)
                .map(|p| {
                    Partition::open(entry.path().join(p.to_string()), p, options.segment_bytes)
                        .map(Arc::new)
                })
                .collect::<LogResult<Vec<_>>>()?;
            topics.insert(name, Arc::new(Topic { partitions }));
        }
        let shared = Arc::new(Shared {
            dir,
            options,
            cluster_id,
            topics: RwLock::new(topics),
            topics_version: AtomicU64::new(0),
            groups: Mutex::new(HashMap::new()),
            group_writes: tokio::sync::Mutex::new(()),
            next_member: AtomicU64::new(1),
            data: tokio::sync::Notify::new(),
            wake: (Mutex::new(false), Condvar::new()),
        });
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("embedded-log-writer".into())
            .spawn(move || writer_loop(weak))
            .map_err(|e| LogError::Fatal(format!("Cannot start the embedded log writer: {e}")))?;
        Ok(Arc::new(EmbeddedLog { shared }))
    }
}

/// Writes buffered records as soon as the writer is woken, and fsyncs every `fsync_interval`.
fn writer_loop(shared: Weak<Shared>) {
    let mut last_sync = Instant::now();
    loop {
        let Some(s) = shared.upgrade() else { return };
        {
            let mut woken = s.wake.0.lock();
            if !*woken {
                s.wake.1.wait_for(&mut woken, Duration::from_millis(100));
            }
            *woken = false;
        }
        if s.write_all() {
            s.data.notify_waiters();
        }
        if let Some(interval) = s.options.fsync_interval
            && last_sync.elapsed() >= interval
        {
            s.sync_all();
            last_sync = Instant::now();
        }
    }
}

impl Shared {
    fn partitions(&self) -> Vec<Arc<Partition>> {
        self.topics
            .read()
            .values()
            .flat_map(|t| t.partitions.iter().cloned())
            .collect()
    }

    fn write_all(&self) -> bool {
        let mut any = false;
        for p in self.partitions() {
            any |= p.write();
        }
        any
    }

    fn sync_all(&self) {
        for p in self.partitions() {
            p.sync();
        }
    }

    fn wake_writer(&self) {
        let mut w = self.wake.0.lock();
        if !*w {
            *w = true;
            self.wake.1.notify_one();
        }
    }

    fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().get(name).cloned()
    }

    fn create(&self, name: &str, partitions: i32) -> LogResult<(Arc<Topic>, bool)> {
        validate_topic_name(name)?;
        if partitions <= 0 {
            return Err(LogError::Invalid(format!(
                "Number of partitions must be larger than 0 (topic {name})"
            )));
        }
        let mut topics = self.topics.write();
        if let Some(t) = topics.get(name) {
            return Ok((t.clone(), false));
        }
        let tdir = self.dir.join("topics").join(name);
        std::fs::create_dir_all(&tdir)?;
        let parts = (0..partitions)
            .map(|p| {
                Partition::open(tdir.join(p.to_string()), p, self.options.segment_bytes)
                    .map(Arc::new)
            })
            .collect::<LogResult<Vec<_>>>()?;
        write_atomic(&tdir.join("partitions"), &partitions.to_string())?;
        let topic = Arc::new(Topic { partitions: parts });
        topics.insert(name.to_owned(), topic.clone());
        drop(topics);
        self.topics_version.fetch_add(1, Ordering::SeqCst);
        tracing::info!(
            topic = name,
            partitions,
            "Created topic in the embedded log."
        );
        self.data.notify_waiters();
        Ok((topic, true))
    }

    fn topic_or_create(&self, name: &str) -> LogResult<Arc<Topic>> {
        match self.topic(name) {
            Some(t) => Ok(t),
            None => Ok(self.create(name, self.options.default_partitions)?.0),
        }
    }

    fn topic_counts(&self) -> BTreeMap<String, i32> {
        self.topics
            .read()
            .iter()
            .map(|(k, t)| (k.clone(), t.partitions.len() as i32))
            .collect()
    }

    fn group_path(&self, group: &str) -> PathBuf {
        // Group ids are free text: hex-encode them for a safe file name.
        let enc: String = group.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join("groups").join(format!("{enc}.offsets"))
    }

    fn with_group<T>(&self, group: &str, f: impl FnOnce(&mut Group) -> T) -> T {
        let mut groups = self.groups.lock();
        let g = groups
            .entry(group.to_owned())
            .or_insert_with(|| Group::load(self.group_path(group)));
        f(g)
    }

    async fn persist_group(&self, group: &str) -> LogResult<()> {
        let _serial = self.group_writes.lock().await;
        let (path, text) = self.with_group(group, |g| (self.group_path(group), g.render_text()));
        tokio::task::spawn_blocking(move || write_atomic(&path, &text))
            .await
            .map_err(|e| LogError::Fatal(e.to_string()))?
    }
}

impl Group {
    fn render_text(&self) -> String {
        let mut lines: Vec<String> = self
            .committed
            .iter()
            .map(|(tp, o)| format!("{o} {} {}", tp.partition, tp.topic))
            .collect();
        lines.sort();
        lines.join("\n") + "\n"
    }
}

impl Drop for EmbeddedLog {
    fn drop(&mut self) {
        self.shared.write_all();
        self.shared.sync_all();
    }
}

struct EmbeddedProducer {
    shared: Arc<Shared>,
    round_robin: AtomicUsize,
}

#[async_trait]
impl LogProducer for EmbeddedProducer {
    fn send(&self, record: ProducerRecord) -> LogResult<DeliveryFuture> {
        let topic = self.shared.topic_or_create(&record.topic)?;
        let n = topic.partitions.len();
        let index = match (record.partition, &record.key) {
            (Some(p), _) => {
                if p < 0 || p as usize >= n {
                    return Err(LogError::UnknownPartition(format!("{}-{p}", record.topic)));
                }
                p as usize
            }
            (None, Some(key)) => ((murmur2(key) & 0x7fff_ffff) as usize) % n,
            (None, None) => self.round_robin.fetch_add(1, Ordering::Relaxed) % n,
        };
        let partition = &topic.partitions[index];
        let (tx, fut) = DeliveryFuture::channel();
        let timestamp = record.timestamp.filter(|t| *t >= 0).unwrap_or_else(now_ms);
        if partition.append(&record, timestamp, tx) {
            partition.write();
            self.shared.data.notify_waiters();
        } else {
            self.shared.wake_writer();
        }
        Ok(fut)
    }

    async fn flush(&self, timeout: Duration) -> LogResult<()> {
        let shared = self.shared.clone();
        let work = tokio::task::spawn_blocking(move || {
            if shared.write_all() {
                shared.data.notify_waiters();
            }
            shared.sync_all();
        });
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| LogError::Retriable("Timed out flushing the embedded log".into()))?
            .map_err(|e| LogError::Fatal(e.to_string()))
    }
}

struct EmbeddedConsumer {
    shared: Arc<Shared>,
    group: String,
    member: u64,
    joined: bool,
    positions: HashMap<TopicPartition, i64>,
    paused: HashSet<TopicPartition>,
    /// Rotates which partition is read first, for fairness.
    cursor: usize,
}

impl EmbeddedConsumer {
    /// Membership step: hand out revocations first, then new partitions.
    fn membership_event(&mut self) -> Option<ConsumerEvent> {
        let version = self.shared.topics_version.load(Ordering::SeqCst);
        let counts = self.shared.topic_counts();
        let member = self.member;
        let (event, released) = self.shared.with_group(&self.group, |g| {
            if g.topics_version != version {
                g.rebalance(&counts, version);
            }
            let m = g.members.get_mut(&member)?;
            let released = !m.releasing.is_empty();
            m.releasing.clear();
            let revoke: Vec<TopicPartition> = m.owned.difference(&m.target).cloned().collect();
            if !revoke.is_empty() {
                for tp in &revoke {
                    m.owned.remove(tp);
                }
                m.releasing = revoke.iter().cloned().collect();
                return Some((ConsumerEvent::Revoked(revoke), released));
            }
            let wanted: Vec<TopicPartition> = m.target.difference(&m.owned).cloned().collect();
            let free: Vec<TopicPartition> =
                wanted.into_iter().filter(|tp| !g.is_owned(tp)).collect();
            if free.is_empty() {
                return if released {
                    Some((ConsumerEvent::Records(Vec::new()), true))
                } else {
                    None
                };
            }
            let m = g.members.get_mut(&member)?;
            m.owned.extend(free.iter().cloned());
            Some((ConsumerEvent::Assigned(free), released))
        })?;
        if released {
            self.shared.data.notify_waiters();
        }
        match event {
            ConsumerEvent::Revoked(tps) => {
                for tp in &tps {
                    self.positions.remove(tp);
                    self.paused.remove(tp);
                }
                Some(ConsumerEvent::Revoked(tps))
            }
            ConsumerEvent::Assigned(tps) => {
                let committed = self.shared.with_group(&self.group, |g| g.committed.clone());
                for tp in &tps {
                    self.positions
                        .insert(tp.clone(), committed.get(tp).copied().unwrap_or(0));
                }
                Some(ConsumerEvent::Assigned(tps))
            }
            ConsumerEvent::Records(_) => None,
        }
    }

    fn read(&mut self) -> LogResult<Vec<ConsumerRecord>> {
        let mut owned: Vec<TopicPartition> = self
            .positions
            .keys()
            .filter(|tp| !self.paused.contains(tp))
            .cloned()
            .collect();
        if owned.is_empty() {
            return Ok(Vec::new());
        }
        owned.sort();
        self.cursor = self.cursor.wrapping_add(1);
        let start = self.cursor % owned.len();
        let mut out = Vec::new();
        for i in 0..owned.len() {
            if out.len() >= MAX_POLL_RECORDS {
                break;
            }
            let tp = &owned[(start + i) % owned.len()];
            let Some(topic) = self.shared.topic(&tp.topic) else {
                continue;
            };
            let Some(partition) = topic.partitions.get(tp.partition as usize) else {
                continue;
            };
            let pos = self.positions[tp];
            let records = partition.read(&tp.topic, pos, MAX_POLL_RECORDS - out.len())?;
            if let Some(last) = records.last() {
                self.positions.insert(tp.clone(), last.offset + 1);
            }
            out.extend(records);
        }
        Ok(out)
    }

    fn leave(&mut self) {
        if !self.joined {
            return;
        }
        self.joined = false;
        let member = self.member;
        self.shared.with_group(&self.group, |g| {
            g.members.remove(&member);
            g.topics_version = u64::MAX;
        });
        self.positions.clear();
        self.shared.data.notify_waiters();
    }
}

impl Drop for EmbeddedConsumer {
    fn drop(&mut self) {
        self.leave();
    }
}

#[async_trait]
impl LogConsumer for EmbeddedConsumer {
    async fn subscribe(&mut self, subscription: Subscription) -> LogResult<()> {
        if let Subscription::Topics(topics) = &subscription {
            for t in topics {
                self.shared.topic_or_create(t)?;
            }
        }
        let member = self.member;
        self.shared.with_group(&self.group, |g| {
            g.members
                .entry(member)
                .or_insert_with(Member::default)
                .subscription = Some(subscription);
            g.topics_version = u64::MAX;
        });
        self.joined = true;
        self.shared.data.notify_waiters();
        Ok(())
    }

    async fn poll(&mut self, timeout: Duration) -> LogResult<Option<ConsumerEvent>> {
        let deadline = tokio::time::Instant::now() + timeout;
        let shared = self.shared.clone();
        loop {
            let notified = shared.data.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.joined
                && let Some(e) = self.membership_event()
            {
                return Ok(Some(e));
            }
            let records = self.read()?;
            if !records.is_empty() {
                return Ok(Some(ConsumerEvent::Records(records)));
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(None);
            }
        }
    }

    fn assignment(&self) -> Vec<TopicPartition> {
        let mut v: Vec<TopicPartition> = self.positions.keys().cloned().collect();
        v.sort();
        v
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> LogResult<()> {
        match self.positions.get_mut(tp) {
            Some(p) => {
                *p = offset.max(0);
                Ok(())
            }
            None => Err(LogError::Invalid(format!(
                "No current assignment for partition {tp}"
            ))),
        }
    }

    fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.positions.get(tp).copied()
    }

    fn pause(&mut self, partitions: &[TopicPartition]) {
        self.paused.extend(partitions.iter().cloned());
    }

    fn resume(&mut self, partitions: &[TopicPartition]) {
        for p in partitions {
            self.paused.remove(p);
        }
    }

    async fn commit(&mut self, offsets: &HashMap<TopicPartition, i64>) -> LogResult<()> {
        self.shared.with_group(&self.group, |g| {
            for (tp, o) in offsets {
                g.committed.insert(tp.clone(), *o);
            }
        });
        self.shared.persist_group(&self.group).await
    }

    async fn committed(
        &self,
        partitions: &[TopicPartition],
    ) -> LogResult<HashMap<TopicPartition, i64>> {
        Ok(self.shared.with_group(&self.group, |g| {
            partitions
                .iter()
                .filter_map(|tp| g.committed.get(tp).map(|o| (tp.clone(), *o)))
                .collect()
        }))
    }

    async fn close(&mut self) -> LogResult<()> {
        self.leave();
        Ok(())
    }
}

#[async_trait]
impl LogBackend for EmbeddedLog {
    fn cluster_id(&self) -> String {
        self.shared.cluster_id.clone()
    }

    fn auto_creates_topics(&self) -> bool {
        true
    }

    async fn create_topic(&self, topic: NewTopic) -> LogResult<bool> {
        let partitions = topic
            .partitions
            .unwrap_or(self.shared.options.default_partitions);
        Ok(self.shared.create(&topic.name, partitions)?.1)
    }

    async fn partition_count(&self, topic: &str) -> LogResult<Option<i32>> {
        Ok(self.shared.topic(topic).map(|t| t.partitions.len() as i32))
    }

    async fn list_topics(&self) -> LogResult<Vec<String>> {
        Ok(self.shared.topics.read().keys().cloned().collect())
    }

    async fn end_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> LogResult<HashMap<TopicPartition, i64>> {
        let mut out = HashMap::new();
        for tp in partitions {
            let topic = self
                .shared
                .topic(&tp.topic)
                .ok_or_else(|| LogError::UnknownTopic(tp.topic.clone()))?;
            let p = topic
                .partitions
                .get(tp.partition as usize)
                .ok_or_else(|| LogError::UnknownPartition(tp.to_string()))?;
            out.insert(tp.clone(), p.end_offset());
        }
        Ok(out)
    }

    fn producer(&self, _config: ProducerConfig) -> LogResult<Arc<dyn LogProducer>> {
        Ok(Arc::new(EmbeddedProducer {
            shared: self.shared.clone(),
            round_robin: AtomicUsize::new(0),
        }))
    }

    fn consumer(&self, config: ConsumerConfig) -> LogResult<Box<dyn LogConsumer>> {
        Ok(Box::new(EmbeddedConsumer {
            shared: self.shared.clone(),
            group: config.group_id,
            member: self.shared.next_member.fetch_add(1, Ordering::SeqCst),
            joined: false,
            positions: HashMap::new(),
            paused: HashSet::new(),
            cursor: 0,
        }))
    }

    async fn group_offsets(&self, group_id: &str) -> LogResult<HashMap<TopicPartition, i64>> {
        Ok(self.shared.with_group(group_id, |g| g.committed.clone()))
    }

    async fn alter_group_offsets(
        &self,
        group_id: &str,
        offsets: &HashMap<TopicPartition, Option<i64>>,
    ) -> LogResult<()> {
        self.shared.with_group(group_id, |g| {
            if !g.members.is_empty() {
                return Err(LogError::Invalid(format!(
                    "Group {group_id} has active members"
                )));
            }
            for (tp, o) in offsets {
                match o {
                    Some(o) => g.committed.insert(tp.clone(), *o),
                    None => g.committed.remove(tp),
                };
            }
            Ok(())
        })?;
        self.shared.persist_group(group_id).await
    }

    async fn delete_group(&self, group_id: &str) -> LogResult<()> {
        self.shared.with_group(group_id, |g| {
            if !g.members.is_empty() {
                return Err(LogError::Invalid(format!(
                    "Group {group_id} has active members"
                )));
            }
            g.committed.clear();
            Ok(())
        })?;
        self.shared.persist_group(group_id).await
    }
}
