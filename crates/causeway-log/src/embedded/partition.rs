//! One partition: its segments, its write buffer and the acknowledgements waiting on it.
//!
//! Appends encode the frame into the partition's buffer under a short lock. The background writer (or a
//! flush) takes the buffer, writes it with `write(2)` outside that lock, then moves the visible end forward
//! and completes the acknowledgements. A write lock keeps one writer per partition at a time, so batches
//! reach the file in offset order.
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::background::{Background, SealJob};
use super::frame;
use super::segment::{self, Extent, Segment, SegmentFile};
use crate::{ConsumerRecord, LogError, LogResult, ProducerRecord, RecordMetadata};

type Ack = oneshot::Sender<LogResult<RecordMetadata>>;

/// Most bytes one read of one partition fetches (more only when a single record is larger).
const MAX_FETCH_BYTES: u64 = 1024 * 1024;
/// Largest write buffer kept for reuse.
const MAX_SPARE_BYTES: usize = 4 * 1024 * 1024;

/// Encoded records bound for one segment, with their acknowledgements.
struct Batch {
    file: Arc<SegmentFile>,
    /// Base offset of the segment.
    base: i64,
    bytes: Vec<u8>,
    acks: Vec<(Ack, RecordMetadata)>,
    /// The offset after the batch's last record.
    end: i64,
    /// The segment was rolled over: this is its last batch.
    seal: bool,
}

struct Inner {
    /// Never empty; the last one is the active segment.
    segments: Vec<Segment>,
    /// Offset the next appended record gets.
    next_offset: i64,
    /// Records below this offset have been written and may be read.
    visible_end: i64,
    /// Encoded records for the active segment, not yet written.
    buf: Vec<u8>,
    acks: Vec<(Ack, RecordMetadata)>,
    /// Unwritten batches of segments rolled over since the last write, oldest first.
    sealed: Vec<Batch>,
    sealed_bytes: usize,
    /// The partition is in the background writer's queue.
    scheduled: bool,
    /// An empty buffer to reuse.
    spare: Vec<u8>,
}

impl Inner {
    fn segment_mut(&mut self, base: i64) -> Option<&mut Segment> {
        let i = self.segments.partition_point(|s| s.base < base);
        self.segments.get_mut(i).filter(|s| s.base == base)
    }
}

/// What an append did.
pub(crate) struct Appended {
    /// The partition must be handed to the background writer (it was not queued yet).
    pub(crate) schedule: bool,
    /// Bytes waiting to be written.
    pub(crate) backlog: usize,
}

/// What a read found.
#[derive(Default)]
pub(crate) struct Fetch {
    pub(crate) records: Vec<ConsumerRecord>,
    /// The requested offset is outside the log: the position to continue from.
    pub(crate) reset_to: Option<i64>,
}

/// A partition of a topic.
pub(crate) struct Partition {
    pub(crate) topic: Arc<str>,
    pub(crate) index: i32,
    dir: PathBuf,
    segment_bytes: u64,
    inner: Mutex<Inner>,
    /// Held while writing, so batches reach the file in order.
    write_lock: Mutex<()>,
}

fn read_at(file: &File, pos: u64, len: u64) -> std::io::Result<Bytes> {
    let mut data = vec![0u8; len as usize];
    file.read_exact_at(&mut data, pos)?;
    Ok(Bytes::from(data))
}

/// Makes a new file's directory entry durable.
fn sync_dir(dir: &Path) {
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(dir = %dir.display(), error = %e, "Failed to fsync an embedded log directory.");
    }
}

impl Partition {
    /// Opens (recovering) or creates the partition in `dir`.
    ///
    /// Sealed segments with an intact index file are trusted; the others and the active segment are scanned
    /// and a torn or corrupt tail is truncated at the last valid frame.
    pub(crate) fn open(
        dir: PathBuf,
        topic: &str,
        index: i32,
        segment_bytes: u64,
    ) -> LogResult<Partition> {
        std::fs::create_dir_all(&dir)?;
        let mut bases: Vec<i64> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let digits = name.strip_suffix(".log")?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.parse::<i64>().ok()
            })
            .collect();
        bases.sort_unstable();
        let mut segments: Vec<Segment> = Vec::new();
        let mut first_empty_base = None;
        let last = bases.len().saturating_sub(1);
        for (i, &base) in bases.iter().enumerate() {
            let path = segment::segment_path(&dir, base);
            let idx_path = segment::index_path(&dir, base);
            let file_len = std::fs::metadata(&path)?.len();
            let indexed = if i == last {
                None
            } else {
                std::fs::read(&idx_path)
                    .ok()
                    .and_then(|d| segment::decode_index(&d, base, file_len))
            };
            let extent = match indexed {
                Some(x) => x,
                None => {
                    let (x, len) = segment::scan(&path, base)?;
                    if x.len < len {
                        tracing::warn!(
                            segment = %path.display(),
                            valid_bytes = x.len,
                            dropped_bytes = len - x.len,
                            "Truncating a torn or corrupt tail of an embedded log segment."
                        );
                        let f = std::fs::OpenOptions::new().write(true).open(&path)?;
                        f.set_len(x.len)?;
                        f.sync_all()?;
                    }
                    if i != last && x.count > 0 {
                        // Best effort: the next open can skip the scan.
                        let _ = std::fs::write(&idx_path, segment::encode_index(base, &x));
                    }
                    x
                }
            };
            if let Some(prev) = segments.last()
                && base < prev.end()
            {
                let aside = path.with_extension("log.overlap");
                tracing::warn!(
                    segment = %path.display(),
                    moved_to = %aside.display(),
                    "Moving aside an embedded log segment that overlaps the previous one."
                );
                std::fs::rename(&path, &aside)?;
                let _ = std::fs::remove_file(&idx_path);
                continue;
            }
            if extent.count == 0 {
                let keep = i == last && segments.last().is_none_or(|p| p.end() == base);
                if !keep {
                    first_empty_base.get_or_insert(base);
                    std::fs::remove_file(&path)?;
                    let _ = std::fs::remove_file(&idx_path);
                    continue;
                }
            }
            segments.push(Segment {
                base,
                path,
                file: None,
                written: extent.len,
                extent,
            });
        }
        if segments.is_empty() {
            let base = first_empty_base.unwrap_or(0);
            segments.push(Segment {
                base,
                path: segment::segment_path(&dir, base),
                file: None,
                extent: Extent::default(),
                written: 0,
            });
        }
        let Some(active) = segments.last_mut() else {
            return Err(LogError::Fatal("no active segment".into()));
        };
        let created = !active.path.exists();
        active.file = Some(SegmentFile::open_append(active.path.clone())?);
        if created {
            sync_dir(&dir);
        }
        let next_offset = active.end();
        Ok(Partition {
            topic: topic.into(),
            index,
            dir,
            segment_bytes,
            inner: Mutex::new(Inner {
                segments,
                next_offset,
                visible_end: next_offset,
                buf: Vec::new(),
                acks: Vec::new(),
                sealed: Vec::new(),
                sealed_bytes: 0,
                scheduled: false,
                spare: Vec::new(),
            }),
            write_lock: Mutex::new(()),
        })
    }

    /// Starts a new segment at the next offset; the current buffer becomes the old segment's last batch.
    fn roll(&self, inner: &mut Inner) -> LogResult<()> {
        let base = inner.next_offset;
        let path = segment::segment_path(&self.dir, base);
        let file = SegmentFile::open_append(path.clone())?;
        let Some(old) = inner.segments.last_mut() else {
            return Err(LogError::Fatal("no active segment".into()));
        };
        let Some(old_file) = old.file.take() else {
            return Err(LogError::Fatal(format!(
                "Segment {} of the embedded log is not open",
                old.path.display()
            )));
        };
        let old_base = old.base;
        let spare = std::mem::take(&mut inner.spare);
        let bytes = std::mem::replace(&mut inner.buf, spare);
        inner.sealed_bytes += bytes.len();
        let acks = std::mem::take(&mut inner.acks);
        inner.sealed.push(Batch {
            file: old_file,
            base: old_base,
            bytes,
            acks,
            end: base,
            seal: true,
        });
        inner.segments.push(Segment {
            base,
            path,
            file: Some(file),
            extent: Extent::default(),
            written: 0,
        });
        Ok(())
    }

    /// Encodes a record (of `frame_len` bytes, see [`frame::encoded_len`]) into the write buffer. It is
    /// written, becomes visible and `ack` completes at the next [`Partition::write`].
    pub(crate) fn append(
        &self,
        record: &ProducerRecord,
        timestamp: i64,
        frame_len: usize,
        ack: Ack,
    ) -> LogResult<Appended> {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        let Some(active) = inner.segments.last_mut() else {
            return Err(LogError::Fatal("no active segment".into()));
        };
        if active.file.is_none() {
            active.file = Some(SegmentFile::open_append(active.path.clone())?);
        }
        let frame_len64 = frame_len as u64;
        if active.extent.count > 0
            && (active.extent.len + frame_len64 > self.segment_bytes
                || !active.extent.fits(frame_len64))
        {
            self.roll(inner)?;
        }
        let offset = inner.next_offset;
        let Some(active) = inner.segments.last_mut() else {
            return Err(LogError::Fatal("no active segment".into()));
        };
        active.extent.push(frame_len64);
        inner.next_offset += 1;
        if inner.buf.capacity() == 0 {
            inner.buf.reserve(64 * 1024);
        }
        frame::encode(
            &mut inner.buf,
            offset,
            timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        );
        inner.acks.push((
            ack,
            RecordMetadata {
                partition: self.index,
                offset,
                timestamp,
            },
        ));
        let schedule = !inner.scheduled;
        inner.scheduled = true;
        Ok(Appended {
            schedule,
            backlog: inner.buf.len() + inner.sealed_bytes,
        })
    }

    /// Writes everything buffered to the segment files, makes it visible and completes the acks. Returns
    /// whether anything was written (or failed).
    pub(crate) fn write(&self, bg: &Background) -> bool {
        let _writer = self.write_lock.lock();
        let batches = {
            let mut guard = self.inner.lock();
            let inner = &mut *guard;
            inner.scheduled = false;
            let mut batches = std::mem::take(&mut inner.sealed);
            inner.sealed_bytes = 0;
            if !inner.acks.is_empty() {
                let file = inner.segments.last().and_then(|s| s.file.clone());
                let base = inner.segments.last().map_or(0, |s| s.base);
                match file {
                    Some(file) => {
                        let spare = std::mem::take(&mut inner.spare);
                        batches.push(Batch {
                            file,
                            base,
                            bytes: std::mem::replace(&mut inner.buf, spare),
                            acks: std::mem::take(&mut inner.acks),
                            end: inner.next_offset,
                            seal: false,
                        });
                    }
                    None => tracing::error!(
                        topic = %self.topic,
                        partition = self.index,
                        "The active embedded log segment is not open."
                    ),
                }
            }
            batches
        };
        if batches.is_empty() {
            return false;
        }
        let mut iter = batches.into_iter();
        while let Some(batch) = iter.next() {
            let result = if batch.bytes.is_empty() {
                Ok(())
            } else {
                (&batch.file.file).write_all(&batch.bytes)
            };
            if let Err(e) = result {
                self.rewind(batch, iter, &e);
                return true;
            }
            let Batch {
                file,
                base,
                mut bytes,
                acks,
                end,
                seal,
            } = batch;
            let written = bytes.len();
            let seal_job = {
                let mut inner = self.inner.lock();
                let mut job = None;
                if let Some(seg) = inner.segment_mut(base) {
                    seg.written += written as u64;
                    if seal {
                        job = Some(SealJob {
                            file: file.clone(),
                            dir: self.dir.clone(),
                            base,
                            extent: seg.extent.clone(),
                        });
                    }
                }
                inner.visible_end = inner.visible_end.max(end);
                if inner.spare.capacity() == 0 && bytes.capacity() <= MAX_SPARE_BYTES {
                    bytes.clear();
                    inner.spare = bytes;
                }
                job
            };
            if written > 0 {
                bg.mark_dirty(&file);
            }
            if let Some(job) = seal_job {
                bg.seal(job);
            }
            for (ack, meta) in acks {
                let _ = ack.send(Ok(meta));
            }
        }
        true
    }

    /// After a failed write: fails every unwritten record and rewinds the partition to what was written, so
    /// offsets stay dense and later appends can succeed.
    fn rewind(&self, failed: Batch, rest: impl Iterator<Item = Batch>, error: &std::io::Error) {
        let message = format!(
            "Failed to append to the embedded log partition {}-{}: {error}",
            self.topic, self.index
        );
        tracing::error!(
            topic = %self.topic,
            partition = self.index,
            error = %error,
            "Failed to append to the embedded log; failing the unwritten records."
        );
        let mut acks = failed.acks;
        for b in rest {
            acks.extend(b.acks);
        }
        {
            let mut guard = self.inner.lock();
            let inner = &mut *guard;
            for b in std::mem::take(&mut inner.sealed) {
                acks.extend(b.acks);
            }
            inner.sealed_bytes = 0;
            acks.append(&mut inner.acks);
            inner.buf.clear();
            inner.scheduled = false;
            let keep = inner.visible_end;
            while inner.segments.len() > 1 && inner.segments.last().is_some_and(|s| s.base > keep) {
                if let Some(s) = inner.segments.pop() {
                    let _ = std::fs::remove_file(&s.path);
                }
            }
            if let Some(seg) = inner.segments.last_mut() {
                let written = seg.written;
                seg.extent.truncate(keep - seg.base, written);
                if seg.file.is_none() {
                    match SegmentFile::open_append(seg.path.clone()) {
                        Ok(f) => seg.file = Some(f),
                        Err(e) => tracing::error!(
                            segment = %seg.path.display(),
                            error = %e,
                            "Cannot reopen an embedded log segment."
                        ),
                    }
                }
                if let Some(f) = &seg.file {
                    let _ = f.file.set_len(written);
                }
            }
            inner.next_offset = keep;
        }
        for (ack, _) in acks {
            let _ = ack.send(Err(LogError::Fatal(message.clone())));
        }
    }

    /// Offset after the last visible (written) record.
    pub(crate) fn end_offset(&self) -> i64 {
        self.inner.lock().visible_end
    }

    /// Offset of the first record.
    pub(crate) fn start_offset(&self) -> i64 {
        self.inner.lock().segments.first().map_or(0, |s| s.base)
    }

    /// Reads up to `max` visible records from `offset` on, at most about [`MAX_FETCH_BYTES`] of them, from one
    /// segment. Reads never load more than that into memory.
    pub(crate) fn read(&self, offset: i64, max: usize) -> LogResult<Fetch> {
        if max == 0 {
            return Ok(Fetch::default());
        }
        let (handle, path, entry, from, to, end_pos) = {
            let inner = self.inner.lock();
            let start = inner.segments.first().map_or(0, |s| s.base);
            if offset < start {
                return Ok(Fetch {
                    records: Vec::new(),
                    reset_to: Some(start),
                });
            }
            if offset > inner.next_offset {
                return Ok(Fetch {
                    records: Vec::new(),
                    reset_to: Some(inner.visible_end),
                });
            }
            if offset >= inner.visible_end {
                return Ok(Fetch::default());
            }
            let i = inner
                .segments
                .partition_point(|s| s.base <= offset)
                .saturating_sub(1);
            let Some(mut seg) = inner.segments.get(i) else {
                return Ok(Fetch::default());
            };
            let mut from = offset;
            if from >= seg.end() {
                // A gap left by a corrupt segment: continue with the next one.
                match inner.segments.get(i + 1) {
                    Some(next) => {
                        seg = next;
                        from = next.base;
                    }
                    None => return Ok(Fetch::default()),
                }
            }
            let to = seg.end().min(inner.visible_end);
            if from >= to {
                return Ok(Fetch::default());
            }
            let Some(entry) = seg.extent.floor(seg.base, from) else {
                return Ok(Fetch::default());
            };
            let limit = from.saturating_add(max as i64);
            let end_pos = seg.extent.ceil_pos(seg.base, limit, seg.written);
            (seg.file.clone(), seg.path.clone(), entry, from, to, end_pos)
        };
        let opened;
        let file = match &handle {
            Some(f) => &f.file,
            None => {
                opened = File::open(&path)?;
                &opened
            }
        };
        let corrupt = |offset: i64, pos: u64| {
            LogError::Fatal(format!(
                "Corrupt record in embedded log partition {}-{} at offset {offset} (segment {}, position {pos})",
                self.topic,
                self.index,
                path.display()
            ))
        };
        let mut records = Vec::new();
        let mut pos = entry.pos;
        let mut expected = entry.offset;
        while records.is_empty() && pos < end_pos && expected < to {
            let mut chunk = read_at(file, pos, (end_pos - pos).min(MAX_FETCH_BYTES))?;
            if matches!(frame::decode(&chunk, 0), Ok(None)) {
                // A single record larger than the chunk: read exactly that frame.
                let len = frame::parse_header(&chunk)
                    .or_else(|| frame::parse_header(&read_at(file, pos, 8).ok()?))
                    .map(|(len, _)| (frame::HEADER_LEN + len) as u64)
                    .filter(|len| pos + len <= end_pos)
                    .ok_or_else(|| corrupt(expected, pos))?;
                chunk = read_at(file, pos, len)?;
            }
            let mut at = 0;
            while at < chunk.len() && records.len() < max && expected < to {
                let (f, n) = match frame::decode(&chunk, at) {
                    Ok(Some(x)) => x,
                    Ok(None) => break,
                    Err(()) => return Err(corrupt(expected, pos + at as u64)),
                };
                if f.offset != expected {
                    return Err(corrupt(expected, pos + at as u64));
                }
                expected += 1;
                at += n;
                if f.offset >= from {
                    records.push(ConsumerRecord {
                        topic: self.topic.clone(),
                        partition: self.index,
                        offset: f.offset,
                        timestamp: f.timestamp,
                        key: f.key,
                        value: f.value,
                        headers: f.headers,
                    });
                }
            }
            if at == 0 {
                return Err(corrupt(expected, pos));
            }
            pos += at as u64;
        }
        Ok(Fetch {
            records,
            reset_to: None,
        })
    }
}
