//! Splitting a byte stream into lines the way Apache's `FileStreamSourceTask.extractLine` does: `\n`, `\r`
//! and `\r\n` each end a line, and a `\r` that is the last byte read so far ends nothing until the next byte
//! shows whether a `\n` follows.

/// A growable read buffer that hands out complete lines and tracks the stream position after each one.
pub(crate) struct LineBuffer {
    buf: Vec<u8>,
    /// First byte not yet returned as part of a line.
    start: usize,
    /// End of the bytes read so far.
    end: usize,
    /// Bytes in `start..scanned` are known to hold no line terminator.
    scanned: usize,
    /// Stream position of `buf[start]`.
    position: u64,
}

impl LineBuffer {
    /// An empty buffer of `capacity` bytes whose first byte will be at stream position `position`.
    pub(crate) fn new(capacity: usize, position: u64) -> Self {
        LineBuffer {
            buf: vec![0; capacity.max(16)],
            start: 0,
            end: 0,
            scanned: 0,
            position,
        }
    }

    /// The stream position after the last line returned.
    #[cfg(test)]
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// The buffer's current size (it doubles when one line does not fit).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The next complete line (without its terminator) and the stream position just after the terminator.
    pub(crate) fn next_line(&mut self) -> Option<(&[u8], u64)> {
        let Some(i) = find_eol(&self.buf[self.scanned..self.end]) else {
            self.scanned = self.end;
            return None;
        };
        let at = self.scanned + i;
        let next = if self.buf[at] == b'\n' {
            at + 1
        } else if at + 1 >= self.end {
            // A `\r` with nothing after it yet: it may be the first half of `\r\n`.
            self.scanned = at;
            return None;
        } else if self.buf[at + 1] == b'\n' {
            at + 2
        } else {
            at + 1
        };
        let line_start = self.start;
        self.position += (next - line_start) as u64;
        self.start = next;
        self.scanned = next;
        Some((&self.buf[line_start..at], self.position))
    }

    /// Free space to read more bytes into, after moving the unterminated tail to the front and, when a single
    /// line fills the whole buffer, doubling it. Report what was read with [`LineBuffer::filled`].
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        let cap = self.buf.len();
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.scanned = 0;
        } else if self.start > 0 && cap - self.end < cap / 2 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        if self.end == cap {
            let grown = cap * 2;
            tracing::info!("Increased buffer from {cap} to {grown}.");
            self.buf.resize(grown, 0);
        }
        &mut self.buf[self.end..]
    }

    /// Marks `n` bytes of [`LineBuffer::spare`] as read.
    pub(crate) fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.buf.len());
    }

    /// Appends bytes read elsewhere.
    pub(crate) fn extend(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let spare = self.spare();
            let n = spare.len().min(data.len());
            spare[..n].copy_from_slice(&data[..n]);
            self.filled(n);
            data = &data[n..];
        }
    }
}

/// Decodes a line as UTF-8, replacing malformed sequences as Java's `InputStreamReader` does.
pub(crate) fn decode(line: &[u8]) -> String {
    match std::str::from_utf8(line) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(line).into_owned(),
    }
}

/// Index of the first `\n` or `\r`, testing eight bytes at a time.
fn find_eol(data: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LF: u64 = LO * b'\n' as u64;
    const CR: u64 = LO * b'\r' as u64;
    let is_eol = |b: &u8| *b == b'\n' || *b == b'\r';
    let mut chunks = data.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let (lf, cr) = (w ^ LF, w ^ CR);
        // Non-zero exactly when some byte of `lf` or `cr` is zero, i.e. some byte is `\n` or `\r`.
        if ((lf.wrapping_sub(LO) & !lf) | (cr.wrapping_sub(LO) & !cr)) & HI != 0 {
            return chunk.iter().position(is_eol).map(|i| offset + i);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(is_eol)
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(buf: &mut LineBuffer) -> Vec<(String, u64)> {
        std::iter::from_fn(|| buf.next_line().map(|(l, p)| (decode(l), p))).collect()
    }

    #[test]
    fn finds_terminators_anywhere() {
        for len in 0..40 {
            for at in 0..len {
                for t in [b'\n', b'\r'] {
                    let mut v = vec![b'x'; len];
                    v[at] = t;
                    assert_eq!(find_eol(&v), Some(at), "len {len} at {at}");
                }
            }
            assert_eq!(find_eol(&vec![b'x'; len]), None);
        }
        // Bytes next to the terminator values must not match.
        assert_eq!(
            find_eol(&[0x0b, 0x0c, 0x0e, 0x09, 0x8a, 0x8d, 0, 0xff, 1]),
            None
        );
    }

    #[test]
    fn splits_like_apache() {
        // The sequence of Apache's FileStreamSourceTaskTest.testNormalLifecycle.
        let mut b = LineBuffer::new(16, 0);
        b.extend(b"partial line");
        assert!(lines(&mut b).is_empty());
        b.extend(b" finished\n");
        assert_eq!(lines(&mut b), [("partial line finished".into(), 22)]);
        b.extend(b"line1\rline2\r\nline3\nline4\n\r");
        assert_eq!(
            lines(&mut b),
            [
                ("line1".into(), 28),
                ("line2".into(), 35),
                ("line3".into(), 41),
                ("line4".into(), 47)
            ]
        );
        // The trailing `\r` ends an empty line once a byte other than `\n` follows.
        b.extend(b"subsequent text");
        assert_eq!(lines(&mut b), [(String::new(), 48)]);
        assert_eq!(b.position(), 48);
    }

    #[test]
    fn crlf_split_across_reads_is_one_terminator() {
        let mut b = LineBuffer::new(16, 100);
        b.extend(b"a\r");
        assert!(lines(&mut b).is_empty());
        b.extend(b"\nb\n");
        assert_eq!(lines(&mut b), [("a".into(), 103), ("b".into(), 105)]);
    }

    #[test]
    fn grows_for_long_lines_and_compacts() {
        let mut b = LineBuffer::new(16, 0);
        let long = "y".repeat(100);
        for _ in 0..3 {
            b.extend(format!("{long}\nshort\n").as_bytes());
            let got = lines(&mut b);
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].0, long);
            assert_eq!(got[1].0, "short");
        }
        assert_eq!(b.capacity(), 128);
        assert_eq!(b.position(), 3 * 107);
    }

    #[test]
    fn malformed_utf8_is_replaced() {
        assert_eq!(decode(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(decode("é".as_bytes()), "é");
    }
}
