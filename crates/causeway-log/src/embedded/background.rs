//! The background threads of an embedded log: the writer (`write(2)` of buffered records) and the syncer
//! (periodic fsync, sealing rolled-over segments).
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::partition::Partition;
use super::segment::{self, Extent, SegmentFile};

/// A rolled-over segment to make durable: fsync it, write its index file, fsync the directory (which also
/// makes the new segment's directory entry durable).
pub(crate) struct SealJob {
    pub(crate) file: Arc<SegmentFile>,
    pub(crate) dir: PathBuf,
    pub(crate) base: i64,
    pub(crate) extent: Extent,
}

impl SealJob {
    fn run(self) -> std::io::Result<()> {
        self.file.file.sync_data()?;
        let path = segment::index_path(&self.dir, self.base);
        let tmp = path.with_extension("index.tmp");
        std::fs::write(&tmp, segment::encode_index(self.base, &self.extent))?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

#[derive(Default)]
struct WriterQueue {
    partitions: Vec<Arc<Partition>>,
    stop: bool,
}

#[derive(Default)]
struct SyncerState {
    wake: bool,
    stop: bool,
}

/// State shared by the background threads, the partitions and the log.
pub(crate) struct Background {
    queue: Mutex<WriterQueue>,
    queue_cv: Condvar,
    unsynced: Mutex<Vec<Arc<SegmentFile>>>,
    seals: Mutex<Vec<SealJob>>,
    syncer: Mutex<SyncerState>,
    syncer_cv: Condvar,
    /// Held while fsyncing, so a flush waits for a background sync in progress.
    sync_lock: Mutex<()>,
    fsync_interval: Option<Duration>,
    /// Signalled when records became visible, topics appeared or group membership changed.
    pub(crate) data: tokio::sync::Notify,
}

impl Background {
    pub(crate) fn new(fsync_interval: Option<Duration>) -> Background {
        Background {
            queue: Mutex::new(WriterQueue::default()),
            queue_cv: Condvar::new(),
            unsynced: Mutex::new(Vec::new()),
            seals: Mutex::new(Vec::new()),
            syncer: Mutex::new(SyncerState::default()),
            syncer_cv: Condvar::new(),
            sync_lock: Mutex::new(()),
            fsync_interval: fsync_interval.filter(|d| !d.is_zero()),
            data: tokio::sync::Notify::new(),
        }
    }

    /// Starts the writer and syncer threads.
    pub(crate) fn start(self: &Arc<Self>) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
        let writer = {
            let bg = self.clone();
            std::thread::Builder::new()
                .name("causeway-log-writer".into())
                .spawn(move || bg.writer_loop())?
        };
        let bg = self.clone();
        let syncer = std::thread::Builder::new()
            .name("causeway-log-syncer".into())
            .spawn(move || bg.syncer_loop());
        match syncer {
            Ok(syncer) => Ok(vec![writer, syncer]),
            Err(e) => {
                self.stop();
                let _ = writer.join();
                Err(e)
            }
        }
    }

    /// Asks both threads to finish (the writer drains its queue first).
    pub(crate) fn stop(&self) {
        self.queue.lock().stop = true;
        self.queue_cv.notify_all();
        self.syncer.lock().stop = true;
        self.syncer_cv.notify_all();
    }

    /// Queues a partition with buffered records for the writer.
    pub(crate) fn schedule(&self, partition: Arc<Partition>) {
        self.queue.lock().partitions.push(partition);
        self.queue_cv.notify_one();
    }

    /// Notes that a segment file has data not yet fsynced.
    pub(crate) fn mark_dirty(&self, file: &Arc<SegmentFile>) {
        if !file.dirty.swap(true, Ordering::SeqCst) {
            self.unsynced.lock().push(file.clone());
        }
    }

    /// Queues a rolled-over segment for sealing.
    pub(crate) fn seal(&self, job: SealJob) {
        self.seals.lock().push(job);
        self.syncer.lock().wake = true;
        self.syncer_cv.notify_one();
    }

    /// Seals rolled-over segments and, when `data` is set, fsyncs every segment written since its last fsync.
    /// Returns the first fsync error.
    pub(crate) fn sync_now(&self, data: bool) -> std::io::Result<()> {
        let _sync = self.sync_lock.lock();
        let mut result = Ok(());
        let seals = std::mem::take(&mut *self.seals.lock());
        for job in seals {
            let file = job.file.clone();
            if let Err(e) = job.run() {
                tracing::warn!(segment = %file.path.display(), error = %e, "Failed to seal an embedded log segment.");
                if result.is_ok() {
                    result = Err(e);
                }
            } else {
                // Fsynced for good (nothing is appended to a sealed segment): stop tracking it.
                file.dirty.store(false, Ordering::SeqCst);
                self.unsynced.lock().retain(|f| !Arc::ptr_eq(f, &file));
            }
        }
        if data {
            let files = std::mem::take(&mut *self.unsynced.lock());
            for f in files {
                f.dirty.store(false, Ordering::SeqCst);
                if let Err(e) = f.file.sync_data() {
                    tracing::warn!(segment = %f.path.display(), error = %e, "Failed to fsync an embedded log segment.");
                    if result.is_ok() {
                        result = Err(e);
                    }
                }
            }
        }
        result
    }

    fn writer_loop(&self) {
        loop {
            let partitions = {
                let mut q = self.queue.lock();
                while q.partitions.is_empty() && !q.stop {
                    self.queue_cv.wait(&mut q);
                }
                if q.partitions.is_empty() {
                    return;
                }
                std::mem::take(&mut q.partitions)
            };
            let mut any = false;
            for p in partitions {
                any |= p.write(self);
            }
            if any {
                self.data.notify_waiters();
            }
        }
    }

    fn syncer_loop(&self) {
        loop {
            {
                let mut s = self.syncer.lock();
                if !s.wake && !s.stop {
                    match self.fsync_interval {
                        Some(d) => {
                            self.syncer_cv.wait_for(&mut s, d);
                        }
                        None => self.syncer_cv.wait(&mut s),
                    }
                }
                if s.stop {
                    return;
                }
                s.wake = false;
            }
            let _ = self.sync_now(self.fsync_interval.is_some());
        }
    }
}
