//! The on-disk record frame.
//!
//! A frame is `[body length: u32][crc32 of the body: u32][body]`, big-endian, and the body is
//! `[format: u8 = 1][offset: i64][timestamp: i64][key][value][header count: u32][header key, header value]*`
//! where key, value and each header field are `[length: i32][bytes]`, length -1 meaning null.
use bytes::Bytes;

use crate::RecordHeader;

/// Bytes before the body: its length and its CRC32.
pub(crate) const HEADER_LEN: usize = 8;
/// The only body format so far.
const FORMAT_V1: u8 = 1;
/// Body bytes of a record with null key and value and no headers.
const MIN_BODY_LEN: usize = 1 + 8 + 8 + 4 + 4 + 4;
/// Largest body accepted anywhere (1 GiB); larger lengths mean a corrupt frame.
pub(crate) const MAX_BODY_LEN: usize = 1 << 30;

/// A decoded record.
pub(crate) struct Frame {
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Bytes>,
    pub(crate) value: Option<Bytes>,
    pub(crate) headers: Vec<RecordHeader>,
}

/// Size of the frame [`encode`] would write, header included.
pub(crate) fn encoded_len(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[RecordHeader],
) -> usize {
    let headers: usize = headers
        .iter()
        .map(|(k, v)| 8 + k.len() + v.as_ref().map_or(0, |v| v.len()))
        .sum();
    HEADER_LEN + MIN_BODY_LEN + key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len) + headers
}

fn put_opt(buf: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            // Callers keep frames below MAX_BODY_LEN, so the length fits an i32.
            buf.extend_from_slice(&(b.len() as i32).to_be_bytes());
            buf.extend_from_slice(b);
        }
        None => buf.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// Appends one frame to `buf`. The caller has checked that [`encoded_len`] is at most
/// `HEADER_LEN + MAX_BODY_LEN`.
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
    buf.push(FORMAT_V1);
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

/// Body length and CRC from a frame header, when the length is plausible.
pub(crate) fn parse_header(header: &[u8]) -> Option<(usize, u32)> {
    let len = u32::from_be_bytes(header.get(0..4)?.try_into().ok()?) as usize;
    let crc = u32::from_be_bytes(header.get(4..8)?.try_into().ok()?);
    (MIN_BODY_LEN..=MAX_BODY_LEN)
        .contains(&len)
        .then_some((len, crc))
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
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    /// A nullable field: its range in `data`, or `None` inside for null.
    fn opt(&mut self) -> Option<Option<(usize, usize)>> {
        let len = self.i32()?;
        if len < 0 {
            return (len == -1).then_some(None);
        }
        let start = self.pos;
        self.take(len as usize)?;
        Some(Some((start, self.pos)))
    }
}

/// Checks a body's structure (the CRC is checked separately) and returns the record's offset.
pub(crate) fn validate_body(body: &[u8]) -> Option<i64> {
    let mut c = Cursor { data: body, pos: 0 };
    if c.u8()? != FORMAT_V1 {
        return None;
    }
    let offset = c.i64()?;
    c.i64()?;
    c.opt()?;
    c.opt()?;
    let n = c.u32()?;
    for _ in 0..n {
        c.opt()??;
        c.opt()?;
    }
    (c.pos == body.len()).then_some(offset)
}

/// The frame at `at` in `chunk`, when complete: `Ok(Some((frame, total length)))`. `Ok(None)` means the
/// chunk ends inside the frame; `Err(())` means the bytes are not a valid frame. Keys and values share
/// `chunk`'s buffer.
pub(crate) fn decode(chunk: &Bytes, at: usize) -> Result<Option<(Frame, usize)>, ()> {
    let rest = chunk.get(at..).ok_or(())?;
    let Some(header) = rest.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let (len, crc) = parse_header(header).ok_or(())?;
    let Some(body) = rest.get(HEADER_LEN..HEADER_LEN + len) else {
        return Ok(None);
    };
    if crc32fast::hash(body) != crc {
        return Err(());
    }
    let body_start = at + HEADER_LEN;
    let slice = |(s, e): (usize, usize)| chunk.slice(body_start + s..body_start + e);
    let mut c = Cursor { data: body, pos: 0 };
    let parsed = (|| {
        if c.u8()? != FORMAT_V1 {
            return None;
        }
        let offset = c.i64()?;
        let timestamp = c.i64()?;
        let key = c.opt()?.map(slice);
        let value = c.opt()?.map(slice);
        let n = c.u32()? as usize;
        let mut headers = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let (s, e) = c.opt()??;
            let name = String::from_utf8_lossy(&body[s..e]).into_owned();
            let v = c.opt()?.map(slice);
            headers.push((name, v));
        }
        (c.pos == body.len()).then_some(Frame {
            offset,
            timestamp,
            key,
            value,
            headers,
        })
    })();
    parsed.map(|f| Some((f, HEADER_LEN + len))).ok_or(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_reject_damage() {
        let headers = vec![
            ("a".to_owned(), Some(Bytes::from_static(b"1"))),
            ("b".to_owned(), None),
        ];
        let mut buf = Vec::new();
        encode(&mut buf, 7, 42, None, Some(b"value"), &headers);
        assert_eq!(buf.len(), encoded_len(None, Some(b"value"), &headers));
        encode(&mut buf, 8, 43, Some(b"k"), None, &[]);
        let chunk = Bytes::from(buf.clone());
        let (f, n) = decode(&chunk, 0).unwrap().unwrap();
        assert_eq!((f.offset, f.timestamp), (7, 42));
        assert_eq!(f.key, None);
        assert_eq!(f.value.as_deref(), Some(&b"value"[..]));
        assert_eq!(f.headers, headers);
        assert_eq!(validate_body(&buf[HEADER_LEN..n]), Some(7));
        let (g, m) = decode(&chunk, n).unwrap().unwrap();
        assert_eq!(
            (g.offset, g.key.as_deref(), g.value),
            (8, Some(&b"k"[..]), None)
        );
        assert_eq!(n + m, buf.len());
        // Truncated: incomplete, not an error.
        assert!(decode(&chunk.slice(..n - 1), 0).unwrap().is_none());
        assert!(decode(&chunk.slice(..3), 0).unwrap().is_none());
        // A flipped bit fails the CRC.
        let mut bad = buf.clone();
        bad[HEADER_LEN + 3] ^= 1;
        assert!(decode(&Bytes::from(bad), 0).is_err());
        // Garbage length.
        assert!(decode(&Bytes::from_static(&[0xff; 16]), 0).is_err());
    }
}
