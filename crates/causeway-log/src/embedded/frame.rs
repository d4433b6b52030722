//! The on-disk record frame.
use bytes::Bytes;

use crate::RecordHeader;

/// Bytes before the body: length and CRC32 of the body.
pub(crate) const HEADER_LEN: usize = 8;

/// A decoded record.
pub(crate) struct Frame {
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Bytes>,
    pub(crate) value: Option<Bytes>,
    pub(crate) headers: Vec<RecordHeader>,
}

fn put_opt(buf: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            buf.extend_from_slice(&(b.len() as i32).to_be_bytes());
            buf.extend_from_slice(b);
        }
        None => buf.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// Appends one frame to `buf`.
pub(crate) fn encode(
    buf: &mut Vec<u8>,
    offset: i64,
    timestamp: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[RecordHeader],
) {
    let start = buf.len();
    buf.extend_from_slice(&[0u8; HEADER_LEN]);
    buf.extend_from_slice(&offset.to_be_bytes());
    buf.extend_from_slice(&timestamp.to_be_bytes());
    put_opt(buf, key);
    put_opt(buf, value);
    buf.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    for (k, v) in headers {
        put_opt(buf, Some(k.as_bytes()));
        put_opt(buf, v.as_deref());
    }
    let body_len = buf.len() - start - HEADER_LEN;
    let crc = crc32fast::hash(&buf[start + HEADER_LEN..]);
    buf[start..start + 4].copy_from_slice(&(body_len as u32).to_be_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn opt(&mut self, whole: &Bytes, base: usize) -> Option<Option<Bytes>> {
        let len = self.i32()?;
        if len < 0 {
            return Some(None);
        }
        let start = self.pos;
        self.take(len as usize)?;
        Some(Some(whole.slice(base + start..base + start + len as usize)))
    }
}

/// Checks the frame at the start of `data`: its total length when complete and its CRC matches.
pub(crate) fn check(data: &[u8]) -> Option<usize> {
    let len = u32::from_be_bytes(data.get(0..4)?.try_into().ok()?) as usize;
    let crc = u32::from_be_bytes(data.get(4..8)?.try_into().ok()?);
    let body = data.get(HEADER_LEN..HEADER_LEN + len)?;
    (len >= 28 && crc32fast::hash(body) == crc).then_some(HEADER_LEN + len)
}

/// Decodes the frame starting at `at` in `whole` (already checked). Keys and values share `whole`'s buffer.
pub(crate) fn decode(whole: &Bytes, at: usize) -> Option<(Frame, usize)> {
    let total = check(&whole[at..])?;
    let body_start = at + HEADER_LEN;
    let mut c = Cursor {
        data: &whole[body_start..at + total],
        pos: 0,
    };
    let offset = c.i64()?;
    let timestamp = c.i64()?;
    let key = c.opt(whole, body_start)?;
    let value = c.opt(whole, body_start)?;
    let n = u32::from_be_bytes(c.take(4)?.try_into().ok()?) as usize;
    let mut headers = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let k = c.opt(whole, body_start)?.unwrap_or_default();
        let v = c.opt(whole, body_start)?;
        headers.push((String::from_utf8_lossy(&k).into_owned(), v));
    }
    Some((
        Frame {
            offset,
            timestamp,
            key,
            value,
            headers,
        },
        total,
    ))
}
