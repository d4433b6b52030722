//! [`EmbeddedLog`]: the directory, topics, producers and the [`LogBackend`] implementation.
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::background::Background;
use super::consumer::EmbeddedConsumer;
use super::frame;
use super::group::{self, Group};
use super::murmur::partition_for_key;
use super::partition::Partition;
use crate::{
    ConsumerConfig, DeliveryFuture, LogBackend, LogConsumer, LogError, LogProducer, LogResult,
    NewTopic, ProducerConfig, ProducerRecord, SendError, TopicPartition,
};

/// Most partitions a topic may have.
const MAX_PARTITIONS: i32 = 10_000;
/// Smallest and largest accepted `segment_bytes`.
const SEGMENT_BYTES_RANGE: (u64, u64) = (1024, 1 << 30);
/// Unwritten bytes in one partition above which `send` writes them itself instead of leaving it to the
/// background writer (backpressure when the disk cannot keep up).
const MAX_BACKLOG_BYTES: usize = 16 * 1024 * 1024;

/// Settings of an [`EmbeddedLog`].
#[derive(Debug, Clone)]
pub struct EmbeddedLogOptions {
    /// Partitions of topics created on first use or without an explicit count (default 1).
    pub default_partitions: i32,
    /// Size at which a segment file is closed and a new one started (default 64 MiB; kept within
    /// 1 KiB ..= 1 GiB).
    pub segment_bytes: u64,
    /// How often segment data is fsynced in the background (default 1 s). `None` never fsyncs in the
    /// background; producer flushes, segment roll-over and closing the log still do.
    pub fsync_interval: Option<Duration>,
    /// Largest record accepted, as encoded on disk (default 64 MiB, at most 1 GiB). Larger records fail
    /// `send` with [`LogError::Invalid`].
    pub max_record_bytes: usize,
}

impl Default for EmbeddedLogOptions {
    fn default() -> Self {
        EmbeddedLogOptions {
            default_partitions: 1,
            segment_bytes: 64 * 1024 * 1024,
            fsync_interval: Some(Duration::from_secs(1)),
            max_record_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `topics/<topic>/topic.meta`.
#[derive(Serialize, Deserialize)]
struct TopicMeta {
    partitions: i32,
    #[serde(default)]
    configs: BTreeMap<String, String>,
}

pub(crate) struct Topic {
    pub(crate) partitions: Vec<Arc<Partition>>,
}

/// State shared by the log, its producers and its consumers.
pub(crate) struct Shared {
    dir: PathBuf,
    options: EmbeddedLogOptions,
    cluster_id: String,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    /// Bumped whenever a topic is created.
    pub(crate) topics_version: AtomicU64,
    /// Serialises topic creation (which does file I/O outside the `topics` lock).
    create_lock: Mutex<()>,
    groups: Mutex<HashMap<String, Group>>,
    next_member: AtomicU64,
    pub(crate) bg: Arc<Background>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Holds the directory for the life of the log.
    _dir_lock: DirLock,
}

/// The embedded, file-backed log (see the [module docs](super) for layout and durability).
///
/// Opening a directory takes an exclusive lock on `<dir>/.lock`, released when the log and every producer
/// and consumer made from it have been dropped. Dropping the last of them writes and fsyncs whatever is
/// still buffered.
pub struct EmbeddedLog {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EmbeddedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedLog")
            .field("dir", &self.shared.dir)
            .field("cluster_id", &self.shared.cluster_id)
            .finish_non_exhaustive()
    }
}

/// Kafka's topic name rules: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub(crate) fn validate_topic_name(name: &str) -> LogResult<()> {
    if name.is_empty() {
        return Err(LogError::Invalid(
            "Topic name is illegal, it can't be empty".into(),
        ));
    }
    if name == "." || name == ".." {
        return Err(LogError::Invalid(
            "Topic name cannot be \".\" or \"..\"".into(),
        ));
    }
    if name.len() > 249 {
        return Err(LogError::Invalid(format!(
            "Topic name is illegal, it can't be longer than 249 characters, topic name: {name}"
        )));
    }
    if !name
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-')
    {
        return Err(LogError::Invalid(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        )));
    }
    Ok(())
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn new_cluster_id() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn valid_cluster_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Directories opened by a log in this process (canonical paths).
static OPEN_DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Exclusive use of a log directory: an entry in [`OPEN_DIRS`] against other instances in this process, and
/// an `flock` on `<dir>/.lock` against other processes.
struct DirLock {
    key: PathBuf,
    file: File,
}

impl DirLock {
    fn acquire(dir: &Path) -> LogResult<DirLock> {
        let in_use = || {
            LogError::Fatal(format!(
                "The embedded log directory {} is in use by another process or log instance",
                dir.display()
            ))
        };
        let key = dir.canonicalize()?;
        {
            let mut open = OPEN_DIRS.lock().unwrap_or_else(|e| e.into_inner());
            if open.contains(&key) {
                return Err(in_use());
            }
            open.push(key.clone());
        }
        let release = |key: &PathBuf| {
            OPEN_DIRS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|k| k != key);
        };
        let file = match File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))
        {
            Ok(f) => f,
            Err(e) => {
                release(&key);
                return Err(e.into());
            }
        };
        // A lock released by this process can linger for a moment in a child being spawned (it shares the
        // open file until `exec`), so retry briefly before giving up.
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    release(&key);
                    return Err(in_use());
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "Cannot lock the embedded log directory; continuing without a lock.");
                    break;
                }
            }
        }
        Ok(DirLock { key, file })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
        OPEN_DIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k| k != &self.key);
    }
}

/// Numbers of the partition directories of a topic, when they are exactly `0..n`.
fn partition_dirs(topic_dir: &Path) -> Option<i32> {
    let mut nums: Vec<i32> = std::fs::read_dir(topic_dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    nums.sort_unstable();
    let n = nums.len() as i32;
    (n > 0 && nums.iter().copied().eq(0..n)).then_some(n)
}

impl EmbeddedLog {
    /// Opens (recovering) or creates a log in `dir`.
    ///
    /// Recovery scans the active segment of every partition (and any sealed segment without an intact index
    /// file) and truncates a torn or corrupt tail at the last valid record.
    ///
    /// # Errors
    /// When the directory cannot be created or read, or another log instance has it open.
    pub fn open(dir: impl AsRef<Path>, options: EmbeddedLogOptions) -> LogResult<Arc<EmbeddedLog>> {
        let mut options = options;
        if options.default_partitions <= 0 || options.default_partitions > MAX_PARTITIONS {
            return Err(LogError::Invalid(format!(
                "default_partitions must be between 1 and {MAX_PARTITIONS}, not {}",
                options.default_partitions
            )));
        }
        options.segment_bytes = options
            .segment_bytes
            .clamp(SEGMENT_BYTES_RANGE.0, SEGMENT_BYTES_RANGE.1);
        options.max_record_bytes = options
            .max_record_bytes
            .min(frame::HEADER_LEN + frame::MAX_BODY_LEN);
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(dir.join("topics"))?;
        std::fs::create_dir_all(dir.join("groups"))?;
        let dir_lock = DirLock::acquire(&dir)?;
        let id_path = dir.join("cluster.id");
        let cluster_id = match std::fs::read_to_string(&id_path) {
            Ok(s) if valid_cluster_id(s.trim()) => s.trim().to_owned(),
            other => {
                if other.is_ok() {
                    tracing::warn!(file = %id_path.display(), "The embedded log's cluster id file is damaged; generating a new id.");
                }
                let id = new_cluster_id();
                group::write_atomic(&id_path, id.as_bytes())?;
                id
            }
        };
        let mut topics = BTreeMap::new();
        for entry in std::fs::read_dir(dir.join("topics"))? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if validate_topic_name(&name).is_err() || !entry.path().is_dir() {
                continue;
            }
            let tdir = entry.path();
            let meta_path = tdir.join("topic.meta");
            let meta = std::fs::read(&meta_path)
                .ok()
                .and_then(|d| serde_json::from_slice::<TopicMeta>(&d).ok())
                .filter(|m| (1..=MAX_PARTITIONS).contains(&m.partitions));
            let count = match meta {
                Some(m) => m.partitions,
                None => match partition_dirs(&tdir) {
                    Some(n) => {
                        tracing::warn!(topic = %name, partitions = n, "Topic metadata of the embedded log is missing or damaged; rebuilding it from the partition directories.");
                        let meta = TopicMeta {
                            partitions: n,
                            configs: BTreeMap::new(),
                        };
                        let json = serde_json::to_vec_pretty(&meta).unwrap_or_default();
                        group::write_atomic(&meta_path, &json)?;
                        n
                    }
                    None => {
                        tracing::warn!(topic = %name, "Ignoring an embedded log topic directory without metadata.");
                        continue;
                    }
                },
            };
            let partitions = (0..count)
                .map(|p| {
                    Partition::open(tdir.join(p.to_string()), &name, p, options.segment_bytes)
                        .map(Arc::new)
                })
                .collect::<LogResult<Vec<_>>>()?;
            topics.insert(name, Arc::new(Topic { partitions }));
        }
        let bg = Arc::new(Background::new(options.fsync_interval));
        let threads = bg
            .start()
            .map_err(|e| LogError::Fatal(format!("Cannot start the embedded log threads: {e}")))?;
        tracing::debug!(dir = %dir.display(), topics = topics.len(), "Opened the embedded log.");
        Ok(Arc::new(EmbeddedLog {
            shared: Arc::new(Shared {
                dir,
                options,
                cluster_id,
                topics: RwLock::new(topics),
                topics_version: AtomicU64::new(0),
                create_lock: Mutex::new(()),
                groups: Mutex::new(HashMap::new()),
                next_member: AtomicU64::new(1),
                bg,
                threads: Mutex::new(threads),
                _dir_lock: dir_lock,
            }),
        }))
    }

    /// The directory the log lives in.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Writes every buffered record and fsyncs all segment data, as a producer flush does.
    ///
    /// # Errors
    /// When a write or fsync fails.
    pub fn sync(&self) -> LogResult<()> {
        self.shared.flush_all()
    }
}

impl Shared {
    pub(crate) fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().get(name).cloned()
    }

    pub(crate) fn partition(&self, tp: &TopicPartition) -> Option<Arc<Partition>> {
        let topic = self.topic(&tp.topic)?;
        let i = usize::try_from(tp.partition).ok()?;
        topic.partitions.get(i).cloned()
    }

    fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.topics
            .read()
            .values()
            .flat_map(|t| t.partitions.iter().cloned())
            .collect()
    }

    /// Writes every buffered record, then fsyncs all unsynced segment data.
    fn flush_all(&self) -> LogResult<()> {
        let mut any = false;
        for p in self.all_partitions() {
            any |= p.write(&self.bg);
        }
        if any {
            self.bg.data.notify_waiters();
        }
        self.bg
            .sync_now(true)
            .map_err(|e| LogError::Fatal(format!("Failed to fsync the embedded log: {e}")))
    }

    fn create(
        &self,
        name: &str,
        partitions: i32,
        configs: &HashMap<String, String>,
    ) -> LogResult<(Arc<Topic>, bool)> {
        validate_topic_name(name)?;
        if let Some(t) = self.topic(name) {
            return Ok((t, false));
        }
        if partitions <= 0 || partitions > MAX_PARTITIONS {
            return Err(LogError::Invalid(format!(
                "Number of partitions must be between 1 and {MAX_PARTITIONS} (topic {name}, {partitions} requested)"
            )));
        }
        let _creating = self.create_lock.lock();
        if let Some(t) = self.topic(name) {
            return Ok((t, false));
        }
        let normalized = name.replace('.', "_");
        if let Some(other) = self
            .topics
            .read()
            .keys()
            .find(|t| t.replace('.', "_") == normalized)
        {
            return Err(LogError::Invalid(format!(
                "Topic '{name}' collides with existing topic: {other}"
            )));
        }
        let topics_dir = self.dir.join("topics");
        let tdir = topics_dir.join(name);
        std::fs::create_dir_all(&tdir)?;
        let parts = (0..partitions)
            .map(|p| {
                Partition::open(
                    tdir.join(p.to_string()),
                    name,
                    p,
                    self.options.segment_bytes,
                )
                .map(Arc::new)
            })
            .collect::<LogResult<Vec<_>>>()?;
        let meta = TopicMeta {
            partitions,
            configs: configs
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| LogError::Fatal(format!("Cannot encode topic metadata: {e}")))?;
        group::write_atomic(&tdir.join("topic.meta"), &json)?;
        fsync_dir(&topics_dir)?;
        let topic = Arc::new(Topic { partitions: parts });
        self.topics.write().insert(name.to_owned(), topic.clone());
        self.topics_version.fetch_add(1, Ordering::SeqCst);
        tracing::info!(
            topic = name,
            partitions,
            "Created a topic in the embedded log."
        );
        self.bg.data.notify_waiters();
        Ok((topic, true))
    }

    pub(crate) fn topic_or_create(&self, name: &str) -> LogResult<Arc<Topic>> {
        match self.topic(name) {
            Some(t) => Ok(t),
            None => Ok(self
                .create(name, self.options.default_partitions, &HashMap::new())?
                .0),
        }
    }

    /// Partition counts of every topic.
    pub(crate) fn topic_counts(&self) -> BTreeMap<String, i32> {
        self.topics
            .read()
            .iter()
            .map(|(k, t)| (k.clone(), t.partitions.len() as i32))
            .collect()
    }

    pub(crate) fn next_member_id(&self) -> u64 {
        self.next_member.fetch_add(1, Ordering::SeqCst)
    }

    fn group_path(&self, group: &str) -> PathBuf {
        self.dir.join("groups").join(group::group_file_name(group))
    }

    /// Runs `f` on a group, loading its committed offsets on first use.
    pub(crate) fn with_group<T>(&self, group: &str, f: impl FnOnce(&mut Group) -> T) -> T {
        let mut groups = self.groups.lock();
        let g = groups
            .entry(group.to_owned())
            .or_insert_with(|| Group::new(group::load_offsets(&self.group_path(group), group)));
        f(g)
    }

    /// Durably replaces a group's committed offsets with `update(current)`, unless `update` refuses. Writes of
    /// one group are serialised; the in-memory offsets change only once the file is written.
    pub(crate) async fn update_offsets(
        &self,
        group: &str,
        update: impl FnOnce(&Group) -> LogResult<HashMap<TopicPartition, i64>>,
    ) -> LogResult<()> {
        let lock = self.with_group(group, |g| g.write_lock.clone());
        let _writing = lock.lock().await;
        let next = self.with_group(group, |g| update(g))?;
        let path = self.group_path(group);
        let data = (!next.is_empty()).then(|| group::render_offsets(group, &next));
        tokio::task::spawn_blocking(move || match data {
            Some(data) => group::write_atomic(&path, &data),
            None => group::remove_durably(&path),
        })
        .await
        .map_err(|e| LogError::Fatal(format!("Offset commit task failed: {e}")))?
        .map_err(|e| {
            LogError::Fatal(format!(
                "Failed to write committed offsets of group {group}: {e}"
            ))
        })?;
        self.with_group(group, |g| g.committed = next);
        Ok(())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.bg.stop();
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
        if let Err(e) = self.flush_all() {
            tracing::error!(dir = %self.dir.display(), error = %e, "Failed to flush the embedded log on close.");
        }
    }
}

struct EmbeddedProducer {
    shared: Arc<Shared>,
    round_robin: AtomicUsize,
}

impl EmbeddedProducer {
    fn append(&self, record: &ProducerRecord) -> LogResult<DeliveryFuture> {
        let timestamp = match record.timestamp {
            Some(t) if t < 0 => {
                return Err(LogError::Invalid(format!(
                    "Invalid timestamp: {t}. Timestamp should always be non-negative or null."
                )));
            }
            Some(t) => t,
            None => now_ms(),
        };
        let frame_len = frame::encoded_len(
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        );
        let max = self.shared.options.max_record_bytes;
        if frame_len > max {
            return Err(LogError::Invalid(format!(
                "The message is {frame_len} bytes when serialized which is larger than {max}, the largest record the embedded log accepts."
            )));
        }
        let topic = self.shared.topic_or_create(&record.topic)?;
        let n = topic.partitions.len();
        let index = match (record.partition, &record.key) {
            (Some(p), _) => match usize::try_from(p) {
                Ok(i) if i < n => i,
                _ => {
                    return Err(LogError::UnknownPartition(format!("{}-{p}", record.topic)));
                }
            },
            (None, Some(key)) => partition_for_key(key, n),
            (None, None) => self.round_robin.fetch_add(1, Ordering::Relaxed) % n.max(1),
        };
        let Some(partition) = topic.partitions.get(index) else {
            return Err(LogError::UnknownPartition(format!(
                "{}-{index}",
                record.topic
            )));
        };
        let (tx, fut) = DeliveryFuture::channel();
        let appended = partition.append(record, timestamp, frame_len, tx)?;
        if appended.backlog >= MAX_BACKLOG_BYTES {
            partition.write(&self.shared.bg);
            self.shared.bg.data.notify_waiters();
        } else if appended.schedule {
            self.shared.bg.schedule(partition.clone());
        }
        Ok(fut)
    }
}

#[async_trait]
impl LogProducer for EmbeddedProducer {
    fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture, SendError> {
        self.append(&record).map_err(|error| SendError {
            error,
            record: Box::new(record),
        })
    }

    async fn flush(&self, timeout: Duration) -> LogResult<()> {
        let shared = self.shared.clone();
        let work = tokio::task::spawn_blocking(move || shared.flush_all());
        match tokio::time::timeout(timeout, work).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(LogError::Fatal(format!("Flush task failed: {e}"))),
            Err(_) => Err(LogError::Retriable(format!(
                "Timed out after {timeout:?} flushing the embedded log"
            ))),
        }
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
        Ok(self
            .shared
            .create(&topic.name, partitions, &topic.configs)?
            .1)
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
        let mut out = HashMap::with_capacity(partitions.len());
        for tp in partitions {
            let topic = self
                .shared
                .topic(&tp.topic)
                .ok_or_else(|| LogError::UnknownTopic(tp.topic.clone()))?;
            let p = usize::try_from(tp.partition)
                .ok()
                .and_then(|i| topic.partitions.get(i))
                .ok_or_else(|| LogError::UnknownPartition(tp.to_string()))?;
            out.insert(tp.clone(), p.end_offset());
        }
        Ok(out)
    }

    fn producer(&self, _config: ProducerConfig) -> LogResult<Arc<dyn LogProducer>> {
        Ok(Arc::new(EmbeddedProducer {
            shared: self.shared.clone(),
            round_robin: AtomicUsize::new(rand::random::<u16>() as usize),
        }))
    }

    fn consumer(&self, config: ConsumerConfig) -> LogResult<Box<dyn LogConsumer>> {
        Ok(Box::new(EmbeddedConsumer::new(
            self.shared.clone(),
            config,
        )?))
    }

    async fn group_offsets(&self, group_id: &str) -> LogResult<HashMap<TopicPartition, i64>> {
        Ok(self.shared.with_group(group_id, |g| g.committed.clone()))
    }

    async fn alter_group_offsets(
        &self,
        group_id: &str,
        offsets: &HashMap<TopicPartition, Option<i64>>,
    ) -> LogResult<()> {
        if let Some((tp, Some(o))) = offsets.iter().find(|(_, o)| o.is_some_and(|o| o < 0)) {
            return Err(LogError::Invalid(format!(
                "Offset {o} for partition {tp} must not be negative"
            )));
        }
        self.shared
            .update_offsets(group_id, |g| {
                if !g.members.is_empty() {
                    return Err(active_members(group_id));
                }
                let mut next = g.committed.clone();
                for (tp, o) in offsets {
                    match o {
                        Some(o) => next.insert(tp.clone(), *o),
                        None => next.remove(tp),
                    };
                }
                Ok(next)
            })
            .await
    }

    async fn delete_group(&self, group_id: &str) -> LogResult<()> {
        self.shared
            .update_offsets(group_id, |g| {
                if g.members.is_empty() {
                    Ok(HashMap::new())
                } else {
                    Err(active_members(group_id))
                }
            })
            .await
    }
}

fn active_members(group_id: &str) -> LogError {
    LogError::Invalid(format!(
        "The consumer group {group_id} has active members; stop them first"
    ))
}
