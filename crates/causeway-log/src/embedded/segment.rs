//! Segment files: the sparse in-memory index, the recovery scan and the index files of sealed segments.
use std::fs::{File, OpenOptions};
use std::io::{BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::frame;

/// A sparse index entry is kept at least every this many bytes of a segment.
pub(crate) const INDEX_INTERVAL_BYTES: u64 = 8192;
/// Largest segment the index can describe (positions are kept as `u32`). Writers stay far below it: segments
/// roll at `segment_bytes` (at most 1 GiB) and a record is at most 1 GiB.
const MAX_SEGMENT_LEN: u64 = u32::MAX as u64;

/// An open segment file.
pub(crate) struct SegmentFile {
    pub(crate) path: PathBuf,
    pub(crate) file: File,
    /// Written to since its last fsync (it is then in the background's unsynced list).
    pub(crate) dirty: AtomicBool,
}

impl SegmentFile {
    /// Opens (creating) a segment for appending and reading.
    pub(crate) fn open_append(path: PathBuf) -> std::io::Result<Arc<SegmentFile>> {
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        Ok(Arc::new(SegmentFile {
            path,
            file,
            dirty: AtomicBool::new(false),
        }))
    }
}

/// Where a record starts in its segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub(crate) offset: i64,
    pub(crate) pos: u64,
}

/// A compact index entry: offset relative to the segment's base, and file position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    rel: u32,
    pos: u32,
}

/// What is known about a segment's records.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Extent {
    /// Records in the segment (offsets `base .. base + count`).
    pub(crate) count: i64,
    /// Bytes of those records.
    pub(crate) len: u64,
    /// Sparse index: the first record, then a record at least every [`INDEX_INTERVAL_BYTES`] (8 bytes per
    /// entry, about 1 MiB of memory per GiB of log).
    index: Vec<Entry>,
}

impl Extent {
    /// Whether a record of `frame_len` bytes still fits (the index keeps positions as `u32`).
    pub(crate) fn fits(&self, frame_len: u64) -> bool {
        self.len + frame_len <= MAX_SEGMENT_LEN
    }

    /// Accounts for a record of `frame_len` bytes appended at the end (callers check [`Extent::fits`]).
    pub(crate) fn push(&mut self, frame_len: u64) {
        let pos = self.len;
        if self
            .index
            .last()
            .is_none_or(|e| pos - u64::from(e.pos) >= INDEX_INTERVAL_BYTES)
        {
            self.index.push(Entry {
                rel: self.count as u32,
                pos: pos as u32,
            });
        }
        self.count += 1;
        self.len += frame_len;
    }

    fn entry(base: i64, e: Entry) -> IndexEntry {
        IndexEntry {
            offset: base + i64::from(e.rel),
            pos: u64::from(e.pos),
        }
    }

    /// Every index entry, with absolute offsets.
    #[cfg(test)]
    pub(crate) fn entries(&self, base: i64) -> impl Iterator<Item = IndexEntry> + '_ {
        self.index.iter().map(move |e| Self::entry(base, *e))
    }

    /// The last index entry at or before `offset` (the first entry if none is).
    pub(crate) fn floor(&self, base: i64, offset: i64) -> Option<IndexEntry> {
        let i = self
            .index
            .partition_point(|e| base + i64::from(e.rel) <= offset);
        self.index
            .get(i.saturating_sub(1))
            .map(|e| Self::entry(base, *e))
    }

    /// A file position at or after the end of record `offset - 1`: the first indexed record at or after
    /// `offset`, else `fallback`.
    pub(crate) fn ceil_pos(&self, base: i64, offset: i64, fallback: u64) -> u64 {
        let i = self
            .index
            .partition_point(|e| base + i64::from(e.rel) < offset);
        self.index
            .get(i)
            .map_or(fallback, |e| u64::from(e.pos).min(fallback))
    }

    /// Keeps only the first `keep` records, which end at byte `len`.
    pub(crate) fn truncate(&mut self, keep: i64, len: u64) {
        self.count = keep.clamp(0, self.count);
        self.len = len;
        let count = self.count;
        self.index
            .retain(|e| i64::from(e.rel) < count && u64::from(e.pos) < len);
    }
}

/// One segment of a partition.
pub(crate) struct Segment {
    /// Offset of its first record (also its file name).
    pub(crate) base: i64,
    pub(crate) path: PathBuf,
    /// The append handle while the segment is active (sealed segments are opened per read).
    pub(crate) file: Option<Arc<SegmentFile>>,
    /// Records and bytes appended, including those still buffered.
    pub(crate) extent: Extent,
    /// Bytes handed to the OS.
    pub(crate) written: u64,
}

impl Segment {
    /// The offset after its last appended record.
    pub(crate) fn end(&self) -> i64 {
        self.base + self.extent.count
    }
}

/// `<dir>/<base, 20 digits>.log`.
pub(crate) fn segment_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

/// `<dir>/<base, 20 digits>.index`.
pub(crate) fn index_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.index"))
}

/// Reads a segment frame by frame (never all at once) and returns the extent of its valid prefix: frames
/// that are complete, pass their CRC and structure check, and carry the offsets `base, base + 1, …`.
pub(crate) fn scan(path: &Path, base: i64) -> std::io::Result<(Extent, u64)> {
    let file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut extent = Extent::default();
    let mut header = [0u8; frame::HEADER_LEN];
    let mut body = Vec::new();
    loop {
        match reader.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        let Some((len, crc)) = frame::parse_header(&header) else {
            break;
        };
        let total = (frame::HEADER_LEN + len) as u64;
        if extent.len + total > file_len || !extent.fits(total) {
            break;
        }
        body.resize(len, 0);
        match reader.read_exact(&mut body) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        if crc32fast::hash(&body) != crc || frame::validate_body(&body) != Some(base + extent.count)
        {
            break;
        }
        extent.push(total);
    }
    Ok((extent, file_len))
}

const INDEX_MAGIC: &[u8; 4] = b"CWIX";
const INDEX_VERSION: u8 = 1;

/// Serialises the extent of a sealed segment: `"CWIX" 1 base count len n (relative offset: u32, position: u32)*
/// crc32`, big-endian.
pub(crate) fn encode_index(base: i64, extent: &Extent) -> Vec<u8> {
    let mut out = Vec::with_capacity(33 + extent.index.len() * 16 + 4);
    out.extend_from_slice(INDEX_MAGIC);
    out.push(INDEX_VERSION);
    out.extend_from_slice(&base.to_be_bytes());
    out.extend_from_slice(&extent.count.to_be_bytes());
    out.extend_from_slice(&extent.len.to_be_bytes());
    out.extend_from_slice(&(extent.index.len() as u32).to_be_bytes());
    for e in &extent.index {
        out.extend_from_slice(&e.rel.to_be_bytes());
        out.extend_from_slice(&e.pos.to_be_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The extent stored in an index file, if the file is intact, belongs to `base` and describes a segment of
/// exactly `file_len` bytes.
pub(crate) fn decode_index(data: &[u8], base: i64, file_len: u64) -> Option<Extent> {
    let (body, crc) = data.split_at_checked(data.len().checked_sub(4)?)?;
    if crc32fast::hash(body) != u32::from_be_bytes(crc.try_into().ok()?) {
        return None;
    }
    let (head, rest) = body.split_at_checked(33)?;
    if &head[0..4] != INDEX_MAGIC || head[4] != INDEX_VERSION {
        return None;
    }
    let be64 = |b: &[u8]| -> Option<u64> { Some(u64::from_be_bytes(b.try_into().ok()?)) };
    if be64(&head[5..13])? as i64 != base {
        return None;
    }
    let count = be64(&head[13..21])? as i64;
    let len = be64(&head[21..29])?;
    let n = u32::from_be_bytes(head[29..33].try_into().ok()?) as usize;
    if len != file_len || len > MAX_SEGMENT_LEN || count < 0 || rest.len() != n.checked_mul(8)? {
        return None;
    }
    let be32 = |b: &[u8]| -> Option<u32> { Some(u32::from_be_bytes(b.try_into().ok()?)) };
    let mut index: Vec<Entry> = Vec::with_capacity(n);
    for e in rest.chunks_exact(8) {
        let entry = Entry {
            rel: be32(&e[0..4])?,
            pos: be32(&e[4..8])?,
        };
        let ordered = index
            .last()
            .is_none_or(|p| p.rel < entry.rel && p.pos < entry.pos);
        if !ordered || i64::from(entry.rel) >= count || u64::from(entry.pos) >= len {
            return None;
        }
        index.push(entry);
    }
    let starts_right = match index.first() {
        Some(e) => e.rel == 0 && e.pos == 0,
        None => count == 0,
    };
    starts_right.then_some(Extent { count, len, index })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_index_is_sparse_and_index_files_round_trip() {
        let mut x = Extent::default();
        for _ in 0..1000 {
            x.push(100);
        }
        assert_eq!(x.count, 1000);
        assert_eq!(x.len, 100_000);
        assert!(x.index.len() < 15, "{} entries", x.index.len());
        let first = IndexEntry {
            offset: 100,
            pos: 0,
        };
        assert_eq!(x.floor(100, 100), Some(first));
        assert_eq!(x.floor(100, 50), Some(first));
        let f = x.floor(100, 650).unwrap();
        assert!(f.offset <= 650 && 650 - f.offset <= 82, "{f:?}");
        assert_eq!(f.pos, (f.offset - 100) as u64 * 100);
        assert!(x.ceil_pos(100, 651, x.len) >= (651 - 100) * 100);
        assert_eq!(x.ceil_pos(100, 2000, x.len), x.len);
        assert!(
            x.entries(100)
                .all(|e| e.pos == (e.offset - 100) as u64 * 100)
        );
        let bytes = encode_index(100, &x);
        assert_eq!(decode_index(&bytes, 100, x.len), Some(x.clone()));
        assert_eq!(decode_index(&bytes, 100, x.len + 1), None);
        assert_eq!(decode_index(&bytes, 0, x.len), None);
        let mut bad = bytes.clone();
        bad[40] ^= 1;
        assert_eq!(decode_index(&bad, 100, x.len), None);
        assert_eq!(decode_index(&bytes[..10], 100, x.len), None);
        assert_eq!(decode_index(&[], 100, x.len), None);
        let mut y = x.clone();
        y.truncate(500, 50_000);
        assert_eq!((y.count, y.len), (500, 50_000));
        assert!(y.entries(100).all(|e| e.offset < 600 && e.pos < 50_000));
        assert!(x.fits(1000) && !x.fits(u64::from(u32::MAX)));
    }
}
