//! The Java-serialised `java.util.HashMap<byte[],byte[]>` that Apache's `FileOffsetBackingStore` keeps in
//! `offset.storage.file.filename` (Java Object Serialization Stream Protocol, version 5).
//!
//! The writer emits exactly what JDK 17's `ObjectOutputStream` writes for such a map; the reader understands
//! the part of the grammar such a file uses (class descriptors, arrays, nulls, back-references) and rejects
//! anything else with an error rather than guessing.

const STREAM_MAGIC: [u8; 2] = [0xac, 0xed];
const STREAM_VERSION: [u8; 2] = [0x00, 0x05];
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_BLOCKDATALONG: u8 = 0x7a;
const BASE_WIRE_HANDLE: u32 = 0x7e_0000;
const SC_WRITE_METHOD: u8 = 0x01;
const SC_SERIALIZABLE: u8 = 0x02;

const HASHMAP_CLASS: &str = "java.util.HashMap";
const HASHMAP_SUID: u64 = 362_498_820_763_181_265;
const BYTE_ARRAY_CLASS: &str = "[B";
const BYTE_ARRAY_SUID: u64 = 0xacf3_17f8_0608_54e0;

fn put_utf(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// HashMap's table size after inserting `size` entries one by one into `new HashMap<>()`, and the
/// `threshold` field it serialises (0 while the table was never allocated).
fn capacity_and_threshold(size: usize) -> (u32, u32) {
    if size == 0 {
        return (16, 0);
    }
    let mut cap: u32 = 16;
    while size as f64 > f64::from(cap) * 0.75 {
        cap *= 2;
    }
    (cap, cap / 4 * 3)
}

/// Encodes entries as a Java-serialised `HashMap<byte[],byte[]>` (null values allowed).
pub(crate) fn encode_java_byte_map(entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        64 + entries
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len) + 12)
            .sum::<usize>(),
    );
    out.extend_from_slice(&STREAM_MAGIC);
    out.extend_from_slice(&STREAM_VERSION);
    out.push(TC_OBJECT);
    out.push(TC_CLASSDESC);
    put_utf(&mut out, HASHMAP_CLASS);
    out.extend_from_slice(&HASHMAP_SUID.to_be_bytes());
    out.push(SC_WRITE_METHOD | SC_SERIALIZABLE);
    out.extend_from_slice(&2u16.to_be_bytes());
    out.push(b'F');
    put_utf(&mut out, "loadFactor");
    out.push(b'I');
    put_utf(&mut out, "threshold");
    out.push(TC_ENDBLOCKDATA);
    out.push(TC_NULL);
    let (capacity, threshold) = capacity_and_threshold(entries.len());
    out.extend_from_slice(&0.75f32.to_be_bytes());
    out.extend_from_slice(&threshold.to_be_bytes());
    out.push(TC_BLOCKDATA);
    out.push(8);
    out.extend_from_slice(&capacity.to_be_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    // Handles: 0 = HashMap class, 1 = the map, 2 = the `[B` class (written with the first array).
    let mut byte_array_class_written = false;
    let mut put_array = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.push(TC_ARRAY);
        if byte_array_class_written {
            out.push(TC_REFERENCE);
            out.extend_from_slice(&(BASE_WIRE_HANDLE + 2).to_be_bytes());
        } else {
            out.push(TC_CLASSDESC);
            put_utf(out, BYTE_ARRAY_CLASS);
            out.extend_from_slice(&BYTE_ARRAY_SUID.to_be_bytes());
            out.push(SC_SERIALIZABLE);
            out.extend_from_slice(&0u16.to_be_bytes());
            out.push(TC_ENDBLOCKDATA);
            out.push(TC_NULL);
            byte_array_class_written = true;
        }
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    for (k, v) in entries {
        put_array(&mut out, k);
        match v {
            Some(v) => put_array(&mut out, v),
            None => out.push(TC_NULL),
        }
    }
    out.push(TC_ENDBLOCKDATA);
    out
}

/// What a stream handle refers to.
enum Handle {
    Class { name: String },
    Array(Vec<u8>),
    Other,
}

/// Reading past the end: Apache treats a truncated file as empty.
struct Eof;

enum ReadError {
    Eof,
    Invalid(String),
}

impl From<Eof> for ReadError {
    fn from(_: Eof) -> Self {
        ReadError::Eof
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    handles: Vec<Handle>,
}

fn invalid(msg: impl Into<String>) -> ReadError {
    ReadError::Invalid(msg.into())
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Eof> {
        let end = self.pos.checked_add(n).ok_or(Eof)?;
        let s = self.data.get(self.pos..end).ok_or(Eof)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, Eof> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Eof> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Eof> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn utf(&mut self) -> Result<String, ReadError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| invalid("invalid modified UTF-8 string"))
    }
    fn handle(&mut self, h: Handle) -> usize {
        self.handles.push(h);
        self.handles.len() - 1
    }
    fn reference(&mut self) -> Result<usize, ReadError> {
        let h = self.u32()?;
        let idx = h
            .checked_sub(BASE_WIRE_HANDLE)
            .ok_or_else(|| invalid("bad handle"))? as usize;
        if idx >= self.handles.len() {
            return Err(invalid(format!("unknown handle {h:#x}")));
        }
        Ok(idx)
    }

    /// Skips class annotations up to TC_ENDBLOCKDATA (block data only; objects there are not expected).
    fn skip_annotation(&mut self) -> Result<(), ReadError> {
        loop {
            match self.u8()? {
                TC_ENDBLOCKDATA => return Ok(()),
                TC_BLOCKDATA => {
                    let n = self.u8()? as usize;
                    self.take(n)?;
                }
                TC_BLOCKDATALONG => {
                    let n = self.u32()? as usize;
                    self.take(n)?;
                }
                other => {
                    return Err(invalid(format!(
                        "unexpected class annotation content {other:#x}"
                    )));
                }
            }
        }
    }

    /// A class descriptor (new, reference or null); returns its handle and field type codes.
    fn class_desc(&mut self) -> Result<Option<(usize, Vec<u8>)>, ReadError> {
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_REFERENCE => {
                let idx = self.reference()?;
                match &self.handles[idx] {
                    Handle::Class { .. } => Ok(Some((idx, Vec::new()))),
                    _ => Err(invalid("reference is not a class descriptor")),
                }
            }
            TC_CLASSDESC => {
                let name = self.utf()?;
                self.take(8)?; // serialVersionUID
                let _flags = self.u8()?;
                let nfields = self.u16()?;
                let mut types = Vec::new();
                for _ in 0..nfields {
                    let t = self.u8()?;
                    self.utf()?;
                    if t == b'[' || t == b'L' {
                        match self.u8()? {
                            TC_STRING => {
                                let s = self.utf()?;
                                let _ = self.handle(Handle::Other);
                                let _ = s;
                            }
                            TC_REFERENCE => {
                                self.reference()?;
                            }
                            other => {
                                return Err(invalid(format!(
                                    "unexpected field class name tag {other:#x}"
                                )));
                            }
                        }
                    }
                    types.push(t);
                }
                let idx = self.handle(Handle::Class { name });
                self.skip_annotation()?;
                if self.class_desc()?.is_some() {
                    return Err(invalid("unexpected serializable superclass"));
                }
                Ok(Some((idx, types)))
            }
            other => Err(invalid(format!(
                "expected a class descriptor, found {other:#x}"
            ))),
        }
    }

    /// A map key or value: a byte array, a back-reference to one, or null.
    fn byte_array(&mut self) -> Result<Option<Vec<u8>>, ReadError> {
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_REFERENCE => {
                let idx = self.reference()?;
                match &self.handles[idx] {
                    Handle::Array(b) => Ok(Some(b.clone())),
                    _ => Err(invalid("reference is not a byte array")),
                }
            }
            TC_ARRAY => {
                let (class, _) = self
                    .class_desc()?
                    .ok_or_else(|| invalid("array without class"))?;
                match &self.handles[class] {
                    Handle::Class { name } if name == BYTE_ARRAY_CLASS => {}
                    _ => return Err(invalid("array is not a byte[]")),
                }
                let idx = self.handle(Handle::Other);
                let n = self.u32()? as usize;
                let bytes = self.take(n)?.to_vec();
                self.handles[idx] = Handle::Array(bytes.clone());
                Ok(Some(bytes))
            }
            other => Err(invalid(format!(
                "expected a byte[] or null, found {other:#x}"
            ))),
        }
    }

    fn map(&mut self) -> Result<Vec<(Vec<u8>, Option<Vec<u8>>)>, ReadError> {
        if self.take(2)? != STREAM_MAGIC || self.take(2)? != STREAM_VERSION {
            return Err(invalid("not a Java serialization stream"));
        }
        if self.u8()? != TC_OBJECT {
            return Err(invalid("expected an object"));
        }
        let (class, fields) = self
            .class_desc()?
            .ok_or_else(|| invalid("object without class"))?;
        match &self.handles[class] {
            Handle::Class { name } if name == HASHMAP_CLASS => {}
            Handle::Class { name } => {
                return Err(invalid(format!("expected java.util.HashMap, found {name}")));
            }
            _ => return Err(invalid("bad class handle")),
        }
        self.handle(Handle::Other);
        for t in fields {
            let width = match t {
                b'B' | b'Z' => 1,
                b'C' | b'S' => 2,
                b'F' | b'I' => 4,
                b'D' | b'J' => 8,
                _ => return Err(invalid("unexpected object field in HashMap")),
            };
            self.take(width)?;
        }
        let size = match self.u8()? {
            TC_BLOCKDATA => {
                let n = self.u8()? as usize;
                let b = self.take(n)?;
                if n < 8 {
                    return Err(invalid("short HashMap block data"));
                }
                u32::from_be_bytes([b[4], b[5], b[6], b[7]])
            }
            other => {
                return Err(invalid(format!(
                    "expected HashMap block data, found {other:#x}"
                )));
            }
        };
        let mut entries = Vec::with_capacity((size as usize).min(1 << 16));
        for _ in 0..size {
            let k = self.byte_array()?.ok_or_else(|| invalid("null key"))?;
            let v = self.byte_array()?;
            entries.push((k, v));
        }
        if self.u8()? != TC_ENDBLOCKDATA {
            return Err(invalid("missing end of HashMap data"));
        }
        Ok(entries)
    }
}

/// Decodes an offsets file. Empty or truncated input yields no entries, as Apache treats EOF as an empty store.
///
/// # Errors
/// When the bytes are not a Java-serialised `HashMap<byte[],byte[]>`.
pub(crate) fn decode_java_byte_map(
    bytes: &[u8],
) -> Result<Vec<(Vec<u8>, Option<Vec<u8>>)>, String> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader {
        data: bytes,
        pos: 0,
        handles: Vec::new(),
    };
    match r.map() {
        Ok(entries) => Ok(entries),
        Err(ReadError::Eof) => {
            tracing::warn!(
                "Offsets file is truncated; starting with no offsets, as Apache Connect does."
            );
            Ok(Vec::new())
        }
        Err(ReadError::Invalid(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The exact JDK 17 bytes of `{ ["src",{"f":"a"}] -> {"pos":7} }` from connect-internals.md §3.7.
    fn spec_example() -> Vec<u8> {
        let mut v = hex("aced0005 7372 0011");
        v.extend_from_slice(b"java.util.HashMap");
        v.extend(hex("0507dac1c31660d1 03 0002 46 000a"));
        v.extend_from_slice(b"loadFactor");
        v.extend(hex("49 0009"));
        v.extend_from_slice(b"threshold");
        v.extend(hex(
            "78 70 3f400000 0000000c 7708 00000010 00000001 7572 0002",
        ));
        v.extend_from_slice(b"[B");
        v.extend(hex("acf317f8060854e0 02 0000 78 70 00000011"));
        v.extend_from_slice(br#"["src",{"f":"a"}]"#);
        v.extend(hex("7571 007e0002 00000009"));
        v.extend_from_slice(br#"{"pos":7}"#);
        v.push(0x78);
        v
    }

    /// A 20-entry map (every fifth value null) written by JDK 17's `ObjectOutputStream`.
    const JAVA_WRITTEN_20: &str = concat!(
        "aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f",
        "724900097468726573686f6c6478703f4000000000001877080000002000000014757200025b42acf317f8060854e002",
        "000078700000000d5b2263222c7b2270223a357d5d707571007e00020000000d5b2263222c7b2270223a317d5d757100",
        "7e0002000000077b226f223a317d7571007e00020000000e5b2263222c7b2270223a31397d5d7571007e000200000008",
        "7b226f223a31397d7571007e00020000000d5b2263222c7b2270223a367d5d7571007e0002000000077b226f223a367d",
        "7571007e00020000000e5b2263222c7b2270223a31307d5d707571007e00020000000e5b2263222c7b2270223a31327d",
        "5d7571007e0002000000087b226f223a31327d7571007e00020000000e5b2263222c7b2270223a31387d5d7571007e00",
        "02000000087b226f223a31387d7571007e00020000000d5b2263222c7b2270223a327d5d7571007e0002000000077b22",
        "6f223a327d7571007e00020000000d5b2263222c7b2270223a347d5d7571007e0002000000077b226f223a347d757100",
        "7e00020000000e5b2263222c7b2270223a31377d5d7571007e0002000000087b226f223a31377d7571007e0002000000",
        "0e5b2263222c7b2270223a31347d5d7571007e0002000000087b226f223a31347d7571007e00020000000e5b2263222c",
        "7b2270223a31337d5d7571007e0002000000087b226f223a31337d7571007e00020000000d5b2263222c7b2270223a38",
        "7d5d7571007e0002000000077b226f223a387d7571007e00020000000d5b2263222c7b2270223a337d5d7571007e0002",
        "000000077b226f223a337d7571007e00020000000d5b2263222c7b2270223a377d5d7571007e0002000000077b226f22",
        "3a377d7571007e00020000000d5b2263222c7b2270223a307d5d707571007e00020000000d5b2263222c7b2270223a39",
        "7d5d7571007e0002000000077b226f223a397d7571007e00020000000e5b2263222c7b2270223a31357d5d707571007e",
        "00020000000e5b2263222c7b2270223a31367d5d7571007e0002000000087b226f223a31367d7571007e00020000000e",
        "5b2263222c7b2270223a31317d5d7571007e0002000000087b226f223a31317d78",
    );

    #[test]
    fn reads_a_map_written_by_java() {
        let entries = decode_java_byte_map(&hex(JAVA_WRITTEN_20)).unwrap();
        assert_eq!(entries.len(), 20);
        for (k, v) in &entries {
            let k = String::from_utf8(k.clone()).unwrap();
            let i: usize = k
                .trim_start_matches("[\"c\",{\"p\":")
                .trim_end_matches("}]")
                .parse()
                .unwrap();
            let want = (i % 5 != 0).then(|| format!("{{\"o\":{i}}}").into_bytes());
            assert_eq!(v, &want, "{k}");
        }
        // Java grew the table to 32 buckets (threshold 24) for 20 entries; so do we.
        let ours = encode_java_byte_map(&entries);
        assert_eq!(ours[0x3f..0x4f], hex(JAVA_WRITTEN_20)[0x3f..0x4f]);
    }

    #[test]
    fn encodes_the_spec_example_byte_for_byte() {
        let entries = vec![(
            br#"["src",{"f":"a"}]"#.to_vec(),
            Some(br#"{"pos":7}"#.to_vec()),
        )];
        assert_eq!(encode_java_byte_map(&entries), spec_example());
        assert_eq!(decode_java_byte_map(&spec_example()).unwrap(), entries);
    }

    #[test]
    fn round_trips_many_entries_with_nulls() {
        let entries: Vec<_> = (0..40)
            .map(|i| {
                (
                    format!("[\"c\",{{\"p\":{i}}}]").into_bytes(),
                    (i % 7 != 0).then(|| format!("{{\"o\":{i}}}").into_bytes()),
                )
            })
            .collect();
        let bytes = encode_java_byte_map(&entries);
        // 40 entries: the table grew to 64 buckets, threshold 48.
        assert_eq!(decode_java_byte_map(&bytes).unwrap(), entries);
        assert_eq!(capacity_and_threshold(40), (64, 48));
        assert_eq!(capacity_and_threshold(12), (16, 12));
        assert_eq!(capacity_and_threshold(13), (32, 24));
    }

    #[test]
    fn truncated_or_empty_is_empty_and_garbage_is_an_error() {
        assert!(decode_java_byte_map(&[]).unwrap().is_empty());
        let full = spec_example();
        for cut in 1..full.len() {
            assert!(
                decode_java_byte_map(&full[..cut]).unwrap().is_empty(),
                "cut at {cut}"
            );
        }
        assert!(decode_java_byte_map(b"not java at all").is_err());
        let mut bad = full.clone();
        bad[7] = b'X';
        let _ = decode_java_byte_map(&bad);
    }
}
