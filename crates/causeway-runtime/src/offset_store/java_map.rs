//! The Java-serialised `java.util.HashMap<byte[],byte[]>` that Apache Connect's standalone
//! `FileOffsetBackingStore` keeps in `offset.storage.file.filename` (Java Object Serialization Stream
//! Protocol, version 5; connect-internals.md §3.7).
//!
//! Apache's `save()` copies its offsets into `new HashMap<>()` one `put` at a time and writes that map
//! with `ObjectOutputStream.writeObject`; `load()` reads one object back and treats an `EOFException` as
//! "no offsets". The writer here emits byte for byte what JDK 17 writes for such a map (verified against
//! real `java`), so either runtime can take over the other's file. The reader understands only the part
//! of the grammar such a file can contain and rejects anything else with an error instead of guessing;
//! it never panics, and what it allocates is bounded by the input's size (plus a fixed cap for
//! back-references).

use std::ops::Range;

// Stream header and type codes, named as in `java.io.ObjectStreamConstants`.
const STREAM_MAGIC: u16 = 0xaced;
const STREAM_VERSION: u16 = 5;
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_CLASS: u8 = 0x76;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_RESET: u8 = 0x79;
const TC_BLOCKDATALONG: u8 = 0x7a;
const TC_EXCEPTION: u8 = 0x7b;
const TC_LONGSTRING: u8 = 0x7c;
const TC_PROXYCLASSDESC: u8 = 0x7d;
const TC_ENUM: u8 = 0x7e;
/// The first handle number; every class descriptor, object, array and string gets the next one.
const BASE_WIRE_HANDLE: u32 = 0x7e_0000;
const SC_WRITE_METHOD: u8 = 0x01;
const SC_SERIALIZABLE: u8 = 0x02;
const SC_EXTERNALIZABLE: u8 = 0x04;
const SC_ENUM: u8 = 0x10;

const HASHMAP_CLASS: &str = "java.util.HashMap";
/// `java.util.HashMap.serialVersionUID`; Java refuses a stream whose descriptor carries another one.
const HASHMAP_SUID: u64 = 362_498_820_763_181_265;
const BYTE_ARRAY_CLASS: &str = "[B";
/// The computed serialVersionUID of `byte[]` that `ObjectOutputStream` writes (Java ignores it when reading).
const BYTE_ARRAY_SUID: u64 = 0xacf3_17f8_0608_54e0;
/// `HashMap.DEFAULT_LOAD_FACTOR`, the load factor of Apache's `new HashMap<>()`.
const LOAD_FACTOR: f32 = 0.75;
/// `HashMap.DEFAULT_INITIAL_CAPACITY` and `HashMap.MAXIMUM_CAPACITY`.
const DEFAULT_CAPACITY: u32 = 16;
const MAXIMUM_CAPACITY: u32 = 1 << 30;
/// Handles our writer assigns: 0 = HashMap class descriptor, 1 = the map, 2 = the `[B` descriptor
/// (written with the first key, which is never null), then one per array.
const BYTE_ARRAY_CLASS_HANDLE: u32 = BASE_WIRE_HANDLE + 2;
/// Most bytes the reader will copy out of back-references to earlier arrays. JDK writers only emit such
/// references when the same `byte[]` instance is stored twice (Apache never does); the cap stops a small
/// crafted file from expanding into gigabytes.
const MAX_BACK_REFERENCE_COPY: usize = 64 << 20;

/// One offsets entry: the serialised partition key and the serialised offset (`None` = Java `null`).
type Entry = (Vec<u8>, Option<Vec<u8>>);

/// Table length and `threshold` field of a `new HashMap<>()` after `size` single `put`s, which is what
/// `HashMap.writeObject` serialises (found by sweeping 0..=200 and larger sizes through JDK 17).
///
/// The table is allocated at 16 buckets on the first `put` and doubles whenever `size` exceeds
/// 0.75 × buckets, so: capacity = smallest power of two ≥ 16 with `size` ≤ 0.75 × capacity, threshold =
/// 0.75 × capacity. An empty map has no table yet: `writeObject` reports the default capacity 16 and the
/// `threshold` field is still 0. At `MAXIMUM_CAPACITY` Java stops growing and sets the threshold to
/// `Integer.MAX_VALUE`.
fn capacity_and_threshold(size: usize) -> (u32, u32) {
    if size == 0 {
        return (DEFAULT_CAPACITY, 0);
    }
    let mut capacity = DEFAULT_CAPACITY;
    while capacity < MAXIMUM_CAPACITY && size > capacity as usize / 4 * 3 {
        capacity *= 2;
    }
    if capacity == MAXIMUM_CAPACITY {
        (capacity, i32::MAX as u32)
    } else {
        (capacity, capacity / 4 * 3)
    }
}

fn put_java_utf(out: &mut Vec<u8>, ascii: &str) {
    // Only our ASCII class and field names go through here, for which modified UTF-8 is plain ASCII.
    out.extend_from_slice(&(ascii.len() as u16).to_be_bytes());
    out.extend_from_slice(ascii.as_bytes());
}

/// Java sizes and lengths are `int`s; anything larger cannot be represented in the stream at all.
fn java_int(n: usize, what: &str) -> i32 {
    i32::try_from(n).unwrap_or_else(|_| panic!("{what} of {n} does not fit a Java int"))
}

/// Encodes entries as a Java-serialised `HashMap<byte[],byte[]>` (null values allowed), exactly as JDK 17's
/// `ObjectOutputStream` writes Apache's map when the map iterates in the order given.
///
/// Every key and value is written as a new array, as Apache's distinct `byte[]` instances are.
///
/// # Panics
/// If there are more than `i32::MAX` entries or an array longer than `i32::MAX` bytes, which Java cannot
/// represent.
pub(crate) fn encode_java_byte_map(entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<u8> {
    let payload: usize = entries
        .iter()
        .map(|(k, v)| 16 + k.len() + v.as_ref().map_or(0, Vec::len))
        .sum();
    let mut out = Vec::with_capacity(128 + payload);
    out.extend_from_slice(&STREAM_MAGIC.to_be_bytes());
    out.extend_from_slice(&STREAM_VERSION.to_be_bytes());

    // Handle 0: the HashMap class descriptor; its serialisable fields, primitives sorted by name.
    out.push(TC_OBJECT);
    out.push(TC_CLASSDESC);
    put_java_utf(&mut out, HASHMAP_CLASS);
    out.extend_from_slice(&HASHMAP_SUID.to_be_bytes());
    out.push(SC_WRITE_METHOD | SC_SERIALIZABLE);
    out.extend_from_slice(&2u16.to_be_bytes());
    out.push(b'F');
    put_java_utf(&mut out, "loadFactor");
    out.push(b'I');
    put_java_utf(&mut out, "threshold");
    out.push(TC_ENDBLOCKDATA); // no class annotations
    out.push(TC_NULL); // AbstractMap is not Serializable: no superclass descriptor

    // Handle 1: the map. defaultWriteObject() writes the fields, then HashMap.writeObject() writes the
    // bucket count and size as block data, followed by key, value, key, value, ...
    let size = java_int(entries.len(), "map size");
    let (capacity, threshold) = capacity_and_threshold(entries.len());
    out.extend_from_slice(&LOAD_FACTOR.to_be_bytes());
    out.extend_from_slice(&threshold.to_be_bytes());
    out.push(TC_BLOCKDATA);
    out.push(8);
    out.extend_from_slice(&capacity.to_be_bytes());
    out.extend_from_slice(&size.to_be_bytes());

    let mut byte_array_class_written = false;
    let mut put_array = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.push(TC_ARRAY);
        if byte_array_class_written {
            out.push(TC_REFERENCE);
            out.extend_from_slice(&BYTE_ARRAY_CLASS_HANDLE.to_be_bytes());
        } else {
            out.push(TC_CLASSDESC);
            put_java_utf(out, BYTE_ARRAY_CLASS);
            out.extend_from_slice(&BYTE_ARRAY_SUID.to_be_bytes());
            out.push(SC_SERIALIZABLE);
            out.extend_from_slice(&0u16.to_be_bytes());
            out.push(TC_ENDBLOCKDATA);
            out.push(TC_NULL);
            byte_array_class_written = true;
        }
        out.extend_from_slice(&java_int(bytes.len(), "byte[] length").to_be_bytes());
        out.extend_from_slice(bytes);
    };
    for (key, value) in entries {
        put_array(&mut out, key);
        match value {
            Some(value) => put_array(&mut out, value),
            None => out.push(TC_NULL),
        }
    }
    out.push(TC_ENDBLOCKDATA); // end of HashMap.writeObject's custom data
    out
}

/// Decodes an offsets file written by Apache Connect (or by [`encode_java_byte_map`]) into its entries,
/// in stream order (Java's `HashMap` iteration order when it was written).
///
/// Empty input and input that ends early yield **no entries**: Apache's `load()` treats an
/// `EOFException` as an empty store, so a worker that crashed mid-write starts from scratch rather than
/// refusing to start. (JDK 17 reports the few cut points that fall inside the 8-byte block holding the
/// bucket count and size as `StreamCorruptedException`, which Apache turns into a fatal error; we treat
/// those as truncation too.) Bytes after the map are ignored, as Java reads only one object.
///
/// # Errors
/// When the bytes are a complete stream that is not a `java.util.HashMap` of `byte[]` keys and values
/// (or `null` values), e.g. another class, a foreign serialVersionUID, a `null` key (which Apache would
/// accept but which has no representation here), or a corrupt structure.
pub(crate) fn decode_java_byte_map(
    bytes: &[u8],
) -> Result<Vec<(Vec<u8>, Option<Vec<u8>>)>, String> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = Reader {
        data: bytes,
        pos: 0,
        handles: Vec::new(),
        block_left: 0,
        back_reference_budget: MAX_BACK_REFERENCE_COPY,
    };
    match reader.read_map() {
        Ok(entries) => Ok(entries),
        Err(Fail::Truncated) => Ok(Vec::new()),
        Err(Fail::Invalid(msg)) => Err(format!(
            "not a Java-serialised HashMap<byte[],byte[]> (at byte {}): {msg}",
            reader.pos
        )),
    }
}

/// Why reading stopped: the input ended (treated as an empty store) or it is not what we accept.
enum Fail {
    Truncated,
    Invalid(String),
}

fn invalid<T>(msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Invalid(msg.into()))
}

/// Names a type code for error messages.
fn tc_name(tc: u8) -> String {
    let name = match tc {
        TC_NULL => "TC_NULL",
        TC_REFERENCE => "TC_REFERENCE",
        TC_CLASSDESC => "TC_CLASSDESC",
        TC_OBJECT => "TC_OBJECT",
        TC_STRING => "TC_STRING",
        TC_ARRAY => "TC_ARRAY",
        TC_CLASS => "TC_CLASS",
        TC_BLOCKDATA => "TC_BLOCKDATA",
        TC_ENDBLOCKDATA => "TC_ENDBLOCKDATA",
        TC_RESET => "TC_RESET",
        TC_BLOCKDATALONG => "TC_BLOCKDATALONG",
        TC_EXCEPTION => "TC_EXCEPTION",
        TC_LONGSTRING => "TC_LONGSTRING",
        TC_PROXYCLASSDESC => "TC_PROXYCLASSDESC",
        TC_ENUM => "TC_ENUM",
        _ => return format!("byte {tc:#04x}"),
    };
    format!("{name} ({tc:#04x})")
}

/// A class descriptor as far as we need it.
#[derive(Clone)]
struct ClassDesc {
    name: String,
    serial_version_uid: u64,
    flags: u8,
    /// (type code, field name) in stream order, which is also the order of the field values.
    fields: Vec<(u8, String)>,
}

/// What a wire handle stands for. Handles are numbered in the order Java assigns them, so back-references
/// resolve to the right thing even though we only keep what a byte map can refer to.
enum Handle {
    ClassDesc(ClassDesc),
    /// A `byte[]`, as its position in the input.
    ByteArray(Range<usize>),
    /// The map itself, strings, or a descriptor still being read.
    Other(&'static str),
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    handles: Vec<Handle>,
    /// Unread bytes of the current block-data segment (custom `writeObject` data).
    block_left: usize,
    back_reference_budget: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Fail> {
        let end = self.pos.checked_add(n).ok_or(Fail::Truncated)?;
        let slice = self.data.get(self.pos..end).ok_or(Fail::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Fail> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, Fail> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, Fail> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32, Fail> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, Fail> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, Fail> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A `writeUTF` string (modified UTF-8). Class and field names we accept are ASCII, so a lossy
    /// conversion is only ever visible in error messages.
    fn utf(&mut self) -> Result<String, Fail> {
        let len = usize::from(self.u16()?);
        Ok(String::from_utf8_lossy(self.take(len)?).into_owned())
    }

    fn new_handle(&mut self, handle: Handle) -> usize {
        self.handles.push(handle);
        self.handles.len() - 1
    }

    /// Reads the 4-byte handle after `TC_REFERENCE`.
    fn reference(&mut self) -> Result<&Handle, Fail> {
        let handle = self.u32()?;
        let index = handle.checked_sub(BASE_WIRE_HANDLE).map(|i| i as usize);
        match index.and_then(|i| self.handles.get(i)) {
            Some(h) => Ok(h),
            None => invalid(format!("TC_REFERENCE to unknown handle {handle:#x}")),
        }
    }

    /// The class name of an object or array field in a class descriptor (a string or a reference to one).
    fn type_string(&mut self) -> Result<(), Fail> {
        match self.u8()? {
            TC_STRING => {
                self.utf()?;
            }
            TC_LONGSTRING => {
                let len = usize::try_from(self.u64()?).map_err(|_| Fail::Truncated)?;
                self.take(len)?;
            }
            TC_REFERENCE => {
                return match self.reference()? {
                    Handle::Other("string") => Ok(()),
                    _ => invalid("field type name refers to something that is not a string"),
                };
            }
            tc => return invalid(format!("expected a field type name, found {}", tc_name(tc))),
        }
        // Only a new string takes a handle, not a reference to one.
        self.new_handle(Handle::Other("string"));
        Ok(())
    }

    /// A class descriptor (new or back-referenced) that must describe `expected`. Only descriptors
    /// without a serialisable superclass are accepted, which holds for `HashMap` and `byte[]`.
    fn class_desc(&mut self, expected: &str) -> Result<ClassDesc, Fail> {
        match self.u8()? {
            TC_CLASSDESC => {}
            TC_REFERENCE => {
                return match self.reference()? {
                    Handle::ClassDesc(desc) if desc.name == expected => Ok(desc.clone()),
                    Handle::ClassDesc(desc) => {
                        invalid(format!("expected class {expected}, found {}", desc.name))
                    }
                    _ => invalid(format!(
                        "expected class {expected}, found a reference to a non-class"
                    )),
                };
            }
            TC_NULL => {
                return invalid(format!(
                    "expected class {expected}, found no class (TC_NULL)"
                ));
            }
            tc => return invalid(format!("expected class {expected}, found {}", tc_name(tc))),
        }
        // Java assigns the descriptor's handle before reading its field type strings.
        let handle = self.new_handle(Handle::Other("class descriptor being read"));
        let name = self.utf()?;
        if name != expected {
            return invalid(format!("expected class {expected}, found {name}"));
        }
        let serial_version_uid = self.u64()?;
        let flags = self.u8()?;
        let field_count = self.u16()?;
        let mut fields = Vec::new();
        for _ in 0..field_count {
            let type_code = self.u8()?;
            let field_name = self.utf()?;
            match type_code {
                b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {}
                b'[' | b'L' => self.type_string()?,
                other => {
                    return invalid(format!(
                        "field {field_name} of {name} has bad type code {other:#04x}"
                    ));
                }
            }
            fields.push((type_code, field_name));
        }
        self.skip_class_annotation(&name)?;
        match self.u8()? {
            TC_NULL => {}
            tc => {
                return invalid(format!(
                    "{name} descriptor has a superclass ({}); Java's has none",
                    tc_name(tc)
                ));
            }
        }
        let desc = ClassDesc {
            name,
            serial_version_uid,
            flags,
            fields,
        };
        self.handles[handle] = Handle::ClassDesc(desc.clone());
        Ok(desc)
    }

    /// Skips `ObjectOutputStream.annotateClass` output up to `TC_ENDBLOCKDATA`. The JDK writes nothing
    /// there; other writers (e.g. RMI) put block data or codebase strings, which we step over.
    fn skip_class_annotation(&mut self, class: &str) -> Result<(), Fail> {
        loop {
            match self.u8()? {
                TC_ENDBLOCKDATA => return Ok(()),
                tc @ (TC_BLOCKDATA | TC_BLOCKDATALONG) => {
                    let len = self.block_length(tc)?;
                    self.take(len)?;
                }
                TC_NULL => {}
                TC_STRING => {
                    self.utf()?;
                    self.new_handle(Handle::Other("string"));
                }
                TC_REFERENCE => {
                    self.reference()?;
                }
                tc => {
                    return invalid(format!(
                        "unsupported {} in the class annotation of {class}",
                        tc_name(tc)
                    ));
                }
            }
        }
    }

    /// The length that follows a block-data type code (u8 for `TC_BLOCKDATA`, int for `TC_BLOCKDATALONG`).
    fn block_length(&mut self, tc: u8) -> Result<usize, Fail> {
        match tc {
            TC_BLOCKDATA => Ok(usize::from(self.u8()?)),
            TC_BLOCKDATALONG => match usize::try_from(self.i32()?) {
                Ok(len) => Ok(len),
                Err(_) => invalid("negative TC_BLOCKDATALONG length"),
            },
            tc => invalid(format!("expected block data, found {}", tc_name(tc))),
        }
    }

    /// An `int` from the map's custom data; like Java, it may span block-data segments.
    fn block_i32(&mut self) -> Result<i32, Fail> {
        let mut bytes = [0u8; 4];
        for byte in &mut bytes {
            while self.block_left == 0 {
                let tc = self.u8()?;
                self.block_left = self.block_length(tc)?;
            }
            *byte = self.u8()?;
            self.block_left -= 1;
        }
        Ok(i32::from_be_bytes(bytes))
    }

    /// A map key or value: a new `byte[]`, a back-reference to an earlier one, or `null`.
    fn byte_array_or_null(&mut self) -> Result<Option<Vec<u8>>, Fail> {
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_ARRAY => {
                self.class_desc(BYTE_ARRAY_CLASS)?;
                let Ok(len) = usize::try_from(self.i32()?) else {
                    return invalid("negative array length");
                };
                let start = self.pos;
                let bytes = self.take(len)?.to_vec();
                self.new_handle(Handle::ByteArray(start..start + len));
                Ok(Some(bytes))
            }
            TC_REFERENCE => {
                let range = match self.reference()? {
                    Handle::ByteArray(range) => range.clone(),
                    Handle::ClassDesc(desc) => {
                        return invalid(format!(
                            "expected a byte[], found a reference to class {}",
                            desc.name
                        ));
                    }
                    Handle::Other(what) => {
                        return invalid(format!(
                            "expected a byte[], found a reference to a {what}"
                        ));
                    }
                };
                match self.back_reference_budget.checked_sub(range.len()) {
                    Some(left) => self.back_reference_budget = left,
                    None => return invalid("too many bytes copied through back-references"),
                }
                // The range was taken from this input when the array was read.
                Ok(self.data.get(range).map(<[u8]>::to_vec))
            }
            tc => invalid(format!("expected a byte[] or null, found {}", tc_name(tc))),
        }
    }

    fn read_map(&mut self) -> Result<Vec<Entry>, Fail> {
        let magic = self.u16()?;
        let version = self.u16()?;
        if magic != STREAM_MAGIC || version != STREAM_VERSION {
            return invalid(format!("bad stream header {magic:04x} {version:04x}"));
        }
        // Java honours resets between top-level objects; harmless to accept before the only one.
        let mut tc = self.u8()?;
        while tc == TC_RESET {
            self.handles.clear();
            tc = self.u8()?;
        }
        if tc != TC_OBJECT {
            return invalid(format!("expected a HashMap object, found {}", tc_name(tc)));
        }
        let desc = self.class_desc(HASHMAP_CLASS)?;
        if desc.serial_version_uid != HASHMAP_SUID {
            // Java: InvalidClassException "local class incompatible".
            return invalid(format!(
                "HashMap serialVersionUID {} is not Java's {HASHMAP_SUID}",
                desc.serial_version_uid as i64
            ));
        }
        if desc.flags & (SC_SERIALIZABLE | SC_WRITE_METHOD) != SC_SERIALIZABLE | SC_WRITE_METHOD
            || desc.flags & (SC_EXTERNALIZABLE | SC_ENUM) != 0
        {
            return invalid(format!(
                "unexpected HashMap descriptor flags {:#04x}",
                desc.flags
            ));
        }
        self.new_handle(Handle::Other("HashMap"));

        // defaultReadObject(): the primitive fields. Only loadFactor matters: HashMap.readObject rejects
        // a non-positive or NaN one.
        for (type_code, name) in &desc.fields {
            let width = match type_code {
                b'B' | b'Z' => 1,
                b'C' | b'S' => 2,
                b'I' => 4,
                b'F' => {
                    let value = f32::from_be_bytes(self.array()?);
                    if name == "loadFactor" && (value.is_nan() || value <= 0.0) {
                        return invalid(format!("illegal load factor {value}"));
                    }
                    continue;
                }
                b'D' | b'J' => 8,
                _ => return invalid(format!("unexpected object field {name} in HashMap")),
            };
            self.take(width)?;
        }

        // HashMap.writeObject's custom data: bucket count (ignored by Java), size, then the entries.
        let _buckets = self.block_i32()?;
        let Ok(size) = usize::try_from(self.block_i32()?) else {
            return invalid("negative HashMap size");
        };
        if self.block_left != 0 {
            return invalid("unexpected extra block data before the HashMap entries");
        }
        // Each entry takes at least two bytes, so the input bounds what is worth reserving.
        let mut entries = Vec::with_capacity(size.min(self.data.len() / 2));
        for _ in 0..size {
            let Some(key) = self.byte_array_or_null()? else {
                return invalid("null key (Apache accepts it, but offsets keys are never null)");
            };
            let value = self.byte_array_or_null()?;
            entries.push((key, value));
        }
        // Java skips any further custom data up to the end marker.
        loop {
            match self.u8()? {
                TC_ENDBLOCKDATA => return Ok(entries),
                tc @ (TC_BLOCKDATA | TC_BLOCKDATALONG) => {
                    let len = self.block_length(tc)?;
                    self.take(len)?;
                }
                tc => {
                    return invalid(format!(
                        "unexpected {} after the HashMap entries",
                        tc_name(tc)
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
            .collect()
    }

    fn entry(k: &str, v: Option<&str>) -> Entry {
        (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec()))
    }

    /// The JDK 17 bytes of `{ ["src",{"f":"a"}] -> {"pos":7} }` as annotated in connect-internals.md §3.7.
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
        v.push(TC_ENDBLOCKDATA);
        v
    }

    /// Java-written (JDK 17 `ObjectOutputStream`) golden files. Keys `["c",{"p":i}]`, values `{"o":i}`,
    /// `null` when i % 5 == 0, put into `new HashMap<>()` in order 0..n like Apache's `save()`.
    const JAVA_EMPTY: &str = "aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f724900097468726573686f6c6478703f400000000000007708000000100000000078";
    /// `{ ["src",{"f":"a"}] -> null }`.
    const JAVA_NULL_VALUE: &str = "aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f724900097468726573686f6c6478703f4000000000000c77080000001000000001757200025b42acf317f8060854e00200007870000000115b22737263222c7b2266223a2261227d5d7078";
    const JAVA_3: &str = concat!(
        "aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f",
        "724900097468726573686f6c6478703f4000000000000c77080000001000000003757200025b42acf317f8060854e002",
        "000078700000000d5b2263222c7b2270223a307d5d707571007e00020000000d5b2263222c7b2270223a327d5d757100",
        "7e0002000000077b226f223a327d7571007e00020000000d5b2263222c7b2270223a317d5d7571007e0002000000077b",
        "226f223a317d78",
    );
    const JAVA_20: &str = concat!(
        "aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f",
        "724900097468726573686f6c6478703f4000000000001877080000002000000014757200025b42acf317f8060854e002",
        "000078700000000d5b2263222c7b2270223a397d5d7571007e0002000000077b226f223a397d7571007e00020000000e",
        "5b2263222c7b2270223a31317d5d7571007e0002000000087b226f223a31317d7571007e00020000000d5b2263222c7b",
        "2270223a367d5d7571007e0002000000077b226f223a367d7571007e00020000000e5b2263222c7b2270223a31327d5d",
        "7571007e0002000000087b226f223a31327d7571007e00020000000e5b2263222c7b2270223a31337d5d7571007e0002",
        "000000087b226f223a31337d7571007e00020000000d5b2263222c7b2270223a347d5d7571007e0002000000077b226f",
        "223a347d7571007e00020000000e5b2263222c7b2270223a31367d5d7571007e0002000000087b226f223a31367d7571",
        "007e00020000000d5b2263222c7b2270223a377d5d7571007e0002000000077b226f223a377d7571007e00020000000d",
        "5b2263222c7b2270223a387d5d7571007e0002000000077b226f223a387d7571007e00020000000e5b2263222c7b2270",
        "223a31347d5d7571007e0002000000087b226f223a31347d7571007e00020000000d5b2263222c7b2270223a357d5d70",
        "7571007e00020000000d5b2263222c7b2270223a327d5d7571007e0002000000077b226f223a327d7571007e00020000",
        "000e5b2263222c7b2270223a31387d5d7571007e0002000000087b226f223a31387d7571007e00020000000e5b226322",
        "2c7b2270223a31397d5d7571007e0002000000087b226f223a31397d7571007e00020000000e5b2263222c7b2270223a",
        "31377d5d7571007e0002000000087b226f223a31377d7571007e00020000000e5b2263222c7b2270223a31307d5d7075",
        "71007e00020000000d5b2263222c7b2270223a317d5d7571007e0002000000077b226f223a317d7571007e0002000000",
        "0d5b2263222c7b2270223a307d5d707571007e00020000000d5b2263222c7b2270223a337d5d7571007e000200000007",
        "7b226f223a337d7571007e00020000000e5b2263222c7b2270223a31357d5d7078",
    );
    /// The same `byte[]` instance as key and value of one entry and as value of two entries: Java writes
    /// `TC_REFERENCE`s to array handles 0x7e0004 and 0x7e0006.
    const JAVA_SHARED_ARRAYS: &str = "aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f724900097468726573686f6c6478703f4000000000000c77080000001000000003757200025b42acf317f8060854e002000078700000000d5b2273222c7b2278223a327d5d7571007e00020000000e7b226f223a22736861726564227d7571007e00020000000d5b2273222c7b2278223a337d5d71007e00047571007e00020000000d5b2273222c7b2278223a317d5d71007e000678";
    /// `{ null -> {"o":1} }`: the `[B` descriptor comes with the value, so it is handle 2 anyway.
    const JAVA_NULL_KEY: &str = "aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f724900097468726573686f6c6478703f4000000000000c7708000000100000000170757200025b42acf317f8060854e00200007870000000077b226f223a317d78";
    /// A `LinkedHashMap` (subclass descriptor with HashMap as superclass).
    const JAVA_LINKED: &str = "aced0005737200176a6176612e7574696c2e4c696e6b6564486173684d617034c04e5c106cc0fb0200015a000b6163636573734f72646572787200116a6176612e7574696c2e486173684d61700507dac1c31660d103000246000a6c6f6164466163746f724900097468726573686f6c6478703f4000000000000c77080000001000000001757200025b42acf317f8060854e00200007870000000016b7571007e000300000001767800";

    fn numbered(i: usize) -> Entry {
        (
            format!("[\"c\",{{\"p\":{i}}}]").into_bytes(),
            (!i.is_multiple_of(5)).then(|| format!("{{\"o\":{i}}}").into_bytes()),
        )
    }

    fn sorted(mut entries: Vec<Entry>) -> Vec<Entry> {
        entries.sort();
        entries
    }

    #[test]
    fn encodes_the_spec_example_byte_for_byte() {
        let entries = vec![entry(r#"["src",{"f":"a"}]"#, Some(r#"{"pos":7}"#))];
        assert_eq!(encode_java_byte_map(&entries), spec_example());
        assert_eq!(decode_java_byte_map(&spec_example()).unwrap(), entries);
    }

    #[test]
    fn encodes_empty_and_null_value_maps_like_java() {
        assert_eq!(encode_java_byte_map(&[]), hex(JAVA_EMPTY));
        assert!(decode_java_byte_map(&hex(JAVA_EMPTY)).unwrap().is_empty());
        let null_value = vec![entry(r#"["src",{"f":"a"}]"#, None)];
        assert_eq!(encode_java_byte_map(&null_value), hex(JAVA_NULL_VALUE));
        assert_eq!(
            decode_java_byte_map(&hex(JAVA_NULL_VALUE)).unwrap(),
            null_value
        );
    }

    /// Java's maps decode to the entries Java put in, and re-encoding them in the order Java iterated
    /// reproduces Java's file exactly (capacity/threshold 16/12 for 3 entries, 32/24 for 20).
    #[test]
    fn reads_java_maps_and_reencodes_them_byte_for_byte() {
        for (golden, n) in [(JAVA_3, 3), (JAVA_20, 20)] {
            let java = hex(golden);
            let decoded = decode_java_byte_map(&java).unwrap();
            assert_eq!(
                sorted(decoded.clone()),
                sorted((0..n).map(numbered).collect())
            );
            assert_eq!(encode_java_byte_map(&decoded), java, "{n} entries");
        }
    }

    #[test]
    fn resolves_back_references_to_earlier_arrays() {
        let decoded = decode_java_byte_map(&hex(JAVA_SHARED_ARRAYS)).unwrap();
        let shared = r#"{"o":"shared"}"#;
        assert_eq!(
            decoded,
            vec![
                entry(r#"["s",{"x":2}]"#, Some(shared)),
                entry(r#"["s",{"x":3}]"#, Some(shared)),
                entry(r#"["s",{"x":1}]"#, Some(r#"["s",{"x":1}]"#)),
            ]
        );
    }

    #[test]
    fn rejects_what_is_not_a_byte_map() {
        let err = decode_java_byte_map(&hex(JAVA_NULL_KEY)).unwrap_err();
        assert!(err.contains("null key"), "{err}");
        let err = decode_java_byte_map(&hex(JAVA_LINKED)).unwrap_err();
        assert!(err.contains("java.util.LinkedHashMap"), "{err}");
        assert!(decode_java_byte_map(b"not java at all").is_err());

        let spec = spec_example();
        // Java checks HashMap's serialVersionUID against its own class.
        let mut wrong_uid = spec.clone();
        wrong_uid[0x20] ^= 1;
        assert!(
            decode_java_byte_map(&wrong_uid)
                .unwrap_err()
                .contains("serialVersionUID")
        );

        let mut negative_size = spec.clone();
        negative_size[0x4d] = 0x80;
        assert!(
            decode_java_byte_map(&negative_size)
                .unwrap_err()
                .contains("negative HashMap size")
        );

        let mut negative_len = spec.clone();
        negative_len[0x64] = 0xff;
        assert!(
            decode_java_byte_map(&negative_len)
                .unwrap_err()
                .contains("negative array length")
        );

        let mut string_value = spec.clone();
        let at = spec.len() - 1 - 9 - 4 - 6; // the value's TC_ARRAY
        assert_eq!(string_value[at], TC_ARRAY);
        string_value[at] = TC_STRING;
        assert!(
            decode_java_byte_map(&string_value)
                .unwrap_err()
                .contains("TC_STRING")
        );

        // A value referring back to the map itself (handle 1) is not a byte[].
        let mut self_ref = spec[..spec.len() - 1 - 9 - 4 - 6].to_vec();
        self_ref.extend(hex("71 007e0001 78"));
        assert!(
            decode_java_byte_map(&self_ref)
                .unwrap_err()
                .contains("reference to a HashMap")
        );

        let mut bad_load_factor = spec;
        bad_load_factor[0x3f..0x43].copy_from_slice(&0f32.to_be_bytes());
        assert!(
            decode_java_byte_map(&bad_load_factor)
                .unwrap_err()
                .contains("load factor")
        );
    }

    /// Apache's `load()` treats EOF as an empty store, so any prefix of a valid file reads as empty.
    #[test]
    fn truncated_or_empty_input_is_an_empty_store() {
        assert!(decode_java_byte_map(&[]).unwrap().is_empty());
        for full in [spec_example(), hex(JAVA_3), hex(JAVA_SHARED_ARRAYS)] {
            for cut in 1..full.len() {
                assert_eq!(
                    decode_java_byte_map(&full[..cut]),
                    Ok(Vec::new()),
                    "cut at {cut}"
                );
            }
        }
        // A huge declared array length is truncation, not an allocation.
        let mut huge = spec_example()[..0x64].to_vec();
        huge.extend(hex("7fffffff 00"));
        assert_eq!(decode_java_byte_map(&huge), Ok(Vec::new()));
    }

    #[test]
    fn tolerates_what_java_tolerates() {
        // Trailing bytes after the object: Java reads one object and stops.
        let mut trailing = spec_example();
        trailing.extend_from_slice(b"junk");
        assert_eq!(decode_java_byte_map(&trailing).unwrap().len(), 1);
        // Bucket count and size split over two block-data segments, a TC_RESET before the object and
        // extra custom data after the entries (JDK 17 reads this file too).
        let spec = spec_example();
        let mut odd = spec[..4].to_vec();
        odd.push(TC_RESET);
        odd.extend_from_slice(&spec[4..0x47]);
        odd.extend(hex("7703 000000 7a00000005 10 00000001"));
        odd.extend_from_slice(&spec[0x51..spec.len() - 1]);
        odd.extend(hex("7702 abcd 78"));
        assert_eq!(
            decode_java_byte_map(&odd).unwrap(),
            decode_java_byte_map(&spec).unwrap()
        );
    }

    /// Strings in class descriptors take handles too; a later back-reference must still find the array.
    #[test]
    fn counts_handles_of_field_type_strings() {
        let spec = spec_example();
        let mut bytes = spec[..0x51].to_vec();
        bytes.extend(hex("7572 0002 5b42 acf317f8060854e0 02 0002"));
        bytes.extend(hex("4c 0001 61 74 0012")); // field a, type string = handle 3
        bytes.extend_from_slice(b"Ljava/lang/Object;");
        bytes.extend(hex("4c 0001 62 71 007e0003")); // field b, type string = back-reference to handle 3
        bytes.extend(hex("78 70 00000001 6b")); // key "k" = handle 4
        bytes.extend(hex("71 007e0004 78")); // value = back-reference to the key array
        assert_eq!(
            decode_java_byte_map(&bytes).unwrap(),
            vec![entry("k", Some("k"))]
        );
    }

    #[test]
    fn round_trips_arbitrary_bytes() {
        let mut entries: Vec<Entry> = (0..100).map(numbered).collect();
        entries.push((Vec::new(), Some(Vec::new())));
        entries.push((vec![0xff, 0x00, 0xac, 0xed], Some((0..=255).collect())));
        entries.push((vec![0x70], Some(vec![0x75; 70_000])));
        let bytes = encode_java_byte_map(&entries);
        assert_eq!(decode_java_byte_map(&bytes).unwrap(), entries);
        assert_eq!(bytes[0x43..0x51], hex("000000c0 7708 00000100 00000067"));
    }

    /// Table size and threshold Java serialises after n puts into `new HashMap<>()` (JDK 17 sweep).
    #[test]
    fn capacity_and_threshold_match_java() {
        for (size, capacity, threshold) in [
            (0, 16, 0),
            (1, 16, 12),
            (12, 16, 12),
            (13, 32, 24),
            (24, 32, 24),
            (25, 64, 48),
            (48, 64, 48),
            (49, 128, 96),
            (97, 256, 192),
            (193, 512, 384),
            (385, 1024, 768),
            (768, 1024, 768),
            (769, 2048, 1536),
            (1000, 2048, 1536),
            (3072, 4096, 3072),
            (3073, 8192, 6144),
            (10_000, 16_384, 12_288),
        ] {
            assert_eq!(
                capacity_and_threshold(size),
                (capacity, threshold),
                "size {size}"
            );
        }
        // HashMap.resize() at MAXIMUM_CAPACITY (not checked against Java: 400M entries).
        assert_eq!(capacity_and_threshold(402_653_184), (1 << 29, 402_653_184));
        assert_eq!(
            capacity_and_threshold(402_653_185),
            (1 << 30, i32::MAX as u32)
        );
        assert_eq!(
            capacity_and_threshold(usize::MAX),
            (1 << 30, i32::MAX as u32)
        );
    }

    #[test]
    fn back_reference_amplification_is_refused() {
        // One 1 MiB value, then 100 entries whose values all refer back to it: 100 MiB from ~2 MiB.
        let mut bytes = encode_java_byte_map(&[(b"k".to_vec(), Some(vec![b'x'; 1 << 20]))]);
        bytes.pop();
        bytes[0x4d..0x51].copy_from_slice(&101u32.to_be_bytes());
        for _ in 0..100 {
            bytes.extend(hex("7571007e0002 00000001 6b 71 007e0004"));
        }
        bytes.push(TC_ENDBLOCKDATA);
        let err = decode_java_byte_map(&bytes).unwrap_err();
        assert!(err.contains("back-references"), "{err}");
    }

    /// Random and mutated input must produce `Ok` or `Err`, never a panic or a runaway allocation.
    #[test]
    fn survives_fuzzing() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seeds = [
            spec_example(),
            hex(JAVA_3),
            hex(JAVA_SHARED_ARRAYS),
            hex(JAVA_LINKED),
            hex(JAVA_NULL_KEY),
        ];
        for round in 0..20_000 {
            let mut input = seeds[round % seeds.len()].clone();
            match next() % 4 {
                0 => {
                    let len = (next() % 200) as usize;
                    input = (0..len).map(|_| next() as u8).collect();
                    if next() % 2 == 0 {
                        input.splice(0..0, hex("aced0005 73"));
                    }
                }
                _ => {
                    for _ in 0..=next() % 4 {
                        let at = (next() as usize) % input.len().max(1);
                        match next() % 4 {
                            0 if !input.is_empty() => input[at] = next() as u8,
                            1 if !input.is_empty() => input[at] ^= 1 << (next() % 8),
                            2 => input.insert(at.min(input.len()), next() as u8),
                            _ if !input.is_empty() => {
                                input.remove(at);
                            }
                            _ => {}
                        }
                    }
                }
            }
            let _ = decode_java_byte_map(&input);
        }
    }
}
