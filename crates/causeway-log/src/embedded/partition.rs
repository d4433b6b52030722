//! One partition: its segments, its write buffer and the acknowledgements waiting on it.
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::frame;
use crate::{ConsumerRecord, LogError, LogResult, ProducerRecord, RecordMetadata};

type Ack = oneshot::Sender<LogResult<RecordMetadata>>;

/// Kafka's murmur2 (the Java client's `Utils.murmur2`), so keyed records land where Java would put them.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    match tail.len() {
        3 => {
            h ^= u32::from(tail[2]) << 16;
            h ^= u32::from(tail[1]) << 8;
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(M);
        }
        2 => {
            h ^= u32::from(tail[1]) << 8;
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(M);
        }
        1 => {
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(M);
        }
        _ => {}
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

struct Segment {
    base: i64,
    file: Arc<File>,
    /// File position of each record (record `base + i` starts at `positions[i]`).
    positions: Vec<u64>,
    /// Bytes written to the file.
    len: u64,
}

struct Inner {
    dir: PathBuf,
    segments: Vec<Segment>,
    /// Offset the next appended record gets.
    next_offset: i64,
    /// Records below this offset are written and visible.
    visible_end: i64,
    buf: Vec<u8>,
    acks: Vec<(Ack, RecordMetadata)>,
    dirty_since_sync: bool,
}

/// A partition of a topic.
pub(crate) struct Partition {
    pub(crate) index: i32,
    inner: Mutex<Inner>,
    segment_bytes: u64,
}

fn segment_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

fn open_segment(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
}

/// Scans a segment, returning record positions and the valid length; truncates a torn tail.
fn recover_segment(path: &Path, base: i64) -> std::io::Result<(Vec<u64>, u64)> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    let mut positions = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        match frame::check(&data[pos..]) {
            Some(total) => {
                let offset =
                    i64::from_be_bytes(data[pos + 8..pos + 16].try_into().unwrap_or([0; 8]));
                if offset != base + positions.len() as i64 {
                    break;
                }
                positions.push(pos as u64);
                pos += total;
            }
            None => break,
        }
    }
    if pos < data.len() {
        tracing::warn!(
            segment = %path.display(),
            valid_bytes = pos,
            dropped_bytes = data.len() - pos,
            "Truncating a torn or corrupt tail of an embedded log segment."
        );
        OpenOptions::new()
            .write(true)
            .open(path)?
            .set_len(pos as u64)?;
    }
    Ok((positions, pos as u64))
}

impl Partition {
    /// Opens (recovering) or creates the partition in `dir`.
    pub(crate) fn open(dir: PathBuf, index: i32, segment_bytes: u64) -> LogResult<Partition> {
        std::fs::create_dir_all(&dir)?;
        let mut bases: Vec<i64> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".log")?.parse::<i64>().ok()
            })
            .collect();
        bases.sort_unstable();
        let mut segments = Vec::new();
        let mut next_offset = 0;
        for base in bases {
            let path = segment_path(&dir, base);
            if base != next_offset && !segments.is_empty() {
                tracing::warn!(segment = %path.display(), "Removing an embedded log segment that does not follow the previous one.");
                std::fs::remove_file(&path)?;
                continue;
            }
            let (positions, len) = recover_segment(&path, base)?;
            next_offset = base + positions.len() as i64;
            segments.push(Segment {
                base,
                file: Arc::new(open_segment(&path)?),
                positions,
                len,
            });
        }
        if segments.is_empty() {
            let path = segment_path(&dir, 0);
            segments.push(Segment {
                base: 0,
                file: Arc::new(open_segment(&path)?),
                positions: Vec::new(),
                len: 0,
            });
        }
        Ok(Partition {
            index,
            inner: Mutex::new(Inner {
                dir,
                segments,
                next_offset,
                visible_end: next_offset,
                buf: Vec::with_capacity(256 * 1024),
                acks: Vec::new(),
                dirty_since_sync: false,
            }),
            segment_bytes,
        })
    }

    /// Encodes a record into the write buffer; it becomes durable and visible at the next [`Partition::write`].
    /// Returns true when the buffer is large enough to be written right away.
    pub(crate) fn append(&self, record: &ProducerRecord, timestamp: i64, ack: Ack) -> bool {
        let mut inner = self.inner.lock();
        let offset = inner.next_offset;
        inner.next_offset += 1;
        let seg_len = inner.segments.last().map_or(0, |s| s.len);
        let pos = seg_len + inner.buf.len() as u64;
        inner
            .segments
            .last_mut()
            .expect("a segment")
            .positions
            .push(pos);
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
        inner.buf.len() >= 256 * 1024
    }

    /// Writes the buffer to the segment, makes the records visible and completes their acks. Returns
    /// whether anything was written.
    pub(crate) fn write(&self) -> bool {
        let mut inner = self.inner.lock();
        if inner.buf.is_empty() {
            return false;
        }
        let buf = std::mem::take(&mut inner.buf);
        let acks = std::mem::take(&mut inner.acks);
        let result = {
            let seg = inner.segments.last_mut().expect("a segment");
            let r = (&*seg.file).write_all(&buf);
            if r.is_ok() {
                seg.len += buf.len() as u64;
            }
            r
        };
        match result {
            Ok(()) => {
                inner.visible_end = inner.next_offset;
                inner.dirty_since_sync = true;
                let roll = inner
                    .segments
                    .last()
                    .is_some_and(|s| s.len >= self.segment_bytes);
                if roll {
                    let base = inner.next_offset;
                    let path = segment_path(&inner.dir, base);
                    match open_segment(&path) {
                        Ok(f) => {
                            if let Some(old) = inner.segments.last()
                                && let Err(e) = old.file.sync_data()
                            {
                                tracing::warn!(error = %e, "Failed to sync a full embedded log segment.");
                            }
                            inner.segments.push(Segment {
                                base,
                                file: Arc::new(f),
                                positions: Vec::new(),
                                len: 0,
                            });
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "Cannot roll an embedded log segment; continuing in the current one.")
                        }
                    }
                }
                drop(inner);
                for (ack, meta) in acks {
                    let _ = ack.send(Ok(meta));
                }
            }
            Err(e) => {
                // Undo the offsets of the lost batch so the log stays dense.
                let n = acks.len();
                inner.next_offset -= n as i64;
                let seg = inner.segments.last_mut().expect("a segment");
                let keep = seg.positions.len().saturating_sub(n);
                seg.positions.truncate(keep);
                let len = seg.len;
                let file = seg.file.clone();
                drop(inner);
                let _ = file.set_len(len);
                for (ack, _) in acks {
                    let _ = ack.send(Err(LogError::Fatal(format!(
                        "Failed to append to the embedded log: {e}"
                    ))));
                }
            }
        }
        true
    }

    /// fsyncs the active segment if anything was written since the last sync.
    pub(crate) fn sync(&self) {
        let file = {
            let mut inner = self.inner.lock();
            if !inner.dirty_since_sync {
                return;
            }
            inner.dirty_since_sync = false;
            inner.segments.last().map(|s| s.file.clone())
        };
        if let Some(f) = file
            && let Err(e) = f.sync_data()
        {
            tracing::warn!(error = %e, "Failed to fsync an embedded log segment.");
        }
    }

    /// Offset after the last visible record.
    pub(crate) fn end_offset(&self) -> i64 {
        self.inner.lock().visible_end
    }

    /// Reads up to `max` visible records starting at `offset` (clamped to the log's start).
    pub(crate) fn read(
        &self,
        topic: &str,
        offset: i64,
        max: usize,
    ) -> LogResult<Vec<ConsumerRecord>> {
        let (file, start, end, first_offset) = {
            let inner = self.inner.lock();
            if offset >= inner.visible_end {
                return Ok(Vec::new());
            }
            let offset = offset.max(inner.segments.first().map_or(0, |s| s.base));
            let Some(seg) = inner.segments.iter().rev().find(|s| s.base <= offset) else {
                return Ok(Vec::new());
            };
            let seg_visible =
                (inner.visible_end - seg.base).min(seg.positions.len() as i64) as usize;
            let first = (offset - seg.base) as usize;
            if first >= seg_visible {
                return Ok(Vec::new());
            }
            let last = (first + max).min(seg_visible);
            let start = seg.positions[first];
            let end = if last < seg.positions.len() {
                seg.positions[last]
            } else {
                seg.len
            };
            (seg.file.clone(), start, end, offset)
        };
        let mut data = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut data, start)?;
        let data = Bytes::from(data);
        let mut out = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let Some((f, total)) = frame::decode(&data, at) else {
                return Err(LogError::Fatal(format!(
                    "Corrupt record in embedded log partition {topic}-{} near offset {}",
                    self.index,
                    first_offset + out.len() as i64
                )));
            };
            out.push(ConsumerRecord {
                topic: topic.to_owned(),
                partition: self.index,
                offset: f.offset,
                timestamp: f.timestamp,
                key: f.key,
                value: f.value,
                headers: f.headers,
            });
            at += total;
        }
        Ok(out)
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        self.write();
        self.sync();
    }
}

#[cfg(test)]
mod tests {
    use super::murmur2;

    #[test]
    fn murmur2_matches_java() {
        assert_eq!(murmur2(b"21"), -973_932_308);
        // Keys from connect-internals.md §1.3.
        let k = br#"["local-file-source",{"filename":"/tmp/test.txt"}]"#;
        assert_eq!(murmur2(k) as u32, 0xdc52_257d);
        assert_eq!(
            murmur2(b"status-connector-local-file-source") as u32,
            0xe759_733a
        );
        assert_eq!(
            ((murmur2(b"status-task-local-file-source-0") & 0x7fff_ffff) % 5),
            4
        );
    }
}
