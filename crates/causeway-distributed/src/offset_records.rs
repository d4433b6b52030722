//! The offsets topic's record format, and the byte format of Apache's internal converter that all three
//! internal topics share.
//!
//! Apache writes internal values (and offset keys) with `JsonConverter{schemas.enable=false}`, which renders
//! through Jackson: compact, members in map order, non-ASCII raw, control characters as `\u00XX` with
//! upper-case hex, doubles as Java's `Double.toString`. [`encode_json`] reproduces those bytes and
//! [`decode_json`] reads them the way the converter does (empty or `null` content is a null value).
//!
//! Offsets records: key `["<connector>",{<partition>}]`, value `{<offset>}` or a tombstone. Java workers look
//! offsets up by exact key bytes, so [`OffsetKeyIndex`] matches partitions by parsed JSON and hands back
//! the stored key bytes for rewrites (pitfall P1).
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde_json::{Map, Value};

/// A source partition or source offset map, in the order its members were built or read.
pub type OffsetMap = Map<String, Value>;

/// Bytes that are not JSON, as the internal converter rejects them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Converting byte[] to Kafka Connect data failed due to serialization error: {0}")]
pub struct JsonDecodeError(pub String);

/// Serialises a value exactly as Apache's internal `JsonConverter` (schemas disabled) does.
pub fn encode_json(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_json(&mut out, value);
    out.into_bytes()
}

/// Parses internal-converter bytes: absent, empty or whitespace-only bytes and the text `null` all give
/// [`Value::Null`] (Jackson reads empty content as a missing node). Like Jackson's `readTree`, content after
/// the first complete value is ignored.
pub fn decode_json(bytes: Option<&[u8]>) -> Result<Value, JsonDecodeError> {
    let Some(bytes) = bytes else {
        return Ok(Value::Null);
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Null);
    }
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    match values.next() {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(JsonDecodeError(e.to_string())),
        None => Ok(Value::Null),
    }
}

fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else if let Some(f) = n.as_f64() {
                out.push_str(&java_double_to_string(f));
            }
        }
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
    }
}

/// Jackson's default escaping: `"` and `\`, short escapes for `\b \t \n \f \r`, other control characters
/// as `\u00XX` (upper-case hex); `/`, DEL and non-ASCII are written raw.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString` (the shortest-digits algorithm of JDK 19+): plain notation with at least one
/// fractional digit for magnitudes in [1e-3, 1e7), otherwise `d.dddE[-]n`.
fn java_double_to_string(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits as `d[.ddd]e[-]n`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    let magnitude = f.abs();
    if (1e-3..1e7).contains(&magnitude) {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            let (int_part, frac_part) = if digits.len() > int_len {
                (digits[..int_len].to_owned(), digits[int_len..].to_owned())
            } else {
                (
                    format!("{digits}{}", "0".repeat(int_len - digits.len())),
                    "0".to_owned(),
                )
            };
            format!("{sign}{int_part}.{frac_part}")
        } else {
            let zeros = "0".repeat((-exponent - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

/// The Java class name the converter would produce for a JSON value, for log messages.
pub(crate) fn java_class_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_f64() => "java.lang.Double",
        Value::Number(_) => "java.lang.Long",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.HashMap",
    }
}

/// Why a stored offsets key was ignored; the texts are `OffsetUtils.processPartitionKey`'s warnings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffsetKeyError {
    /// A record without key bytes.
    #[error("Ignoring offset partition key with an unexpected null value")]
    NullKey,
    /// Bytes that are not JSON.
    #[error("Ignoring offset partition key with unknown serialization. Expected json. ({0})")]
    UnknownSerialization(String),
    /// JSON that is not an array.
    #[error(
        "Ignoring offset partition key with an unexpected format. Expected type: java.util.List, actual type: {0}"
    )]
    NotList(&'static str),
    /// An array without exactly two elements.
    #[error(
        "Ignoring offset partition key with an unexpected number of elements. Expected: 2, actual: {0}"
    )]
    WrongElementCount(usize),
    /// The connector name is not a string.
    #[error(
        "Ignoring offset partition key with an unexpected format for the first element in the partition key list. Expected type: java.lang.String, actual type: {0}"
    )]
    ConnectorNotString(&'static str),
    /// The partition is neither an object nor null.
    #[error(
        "Ignoring offset partition key with an unexpected format for the second element in the partition key list. Expected type: java.util.Map, actual type: {0}"
    )]
    PartitionNotMap(&'static str),
}

/// The key of an offsets-topic record: a connector name and a source partition (`None` when a source record
/// without partition was committed, serialised as `["<name>",null]`).
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetKey {
    /// The connector (Apache's offset "namespace").
    pub connector: String,
    /// The source partition.
    pub partition: Option<OffsetMap>,
}

impl OffsetKey {
    /// A key for a connector's partition.
    pub fn new(connector: impl Into<String>, partition: Option<OffsetMap>) -> Self {
        OffsetKey {
            connector: connector.into(),
            partition,
        }
    }

    /// Fresh key bytes, members in the partition map's order. To rewrite a partition that already exists
    /// in the topic use [`OffsetKeyIndex::key_bytes_for_write`], which reuses the stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let partition = match &self.partition {
            Some(p) => Value::Object(p.clone()),
            None => Value::Null,
        };
        encode_json(&Value::Array(vec![
            Value::String(self.connector.clone()),
            partition,
        ]))
    }

    /// Parses stored key bytes with `OffsetUtils.processPartitionKey`'s checks.
    pub fn parse(bytes: Option<&[u8]>) -> Result<OffsetKey, OffsetKeyError> {
        let bytes = bytes.ok_or(OffsetKeyError::NullKey)?;
        let value =
            decode_json(Some(bytes)).map_err(|e| OffsetKeyError::UnknownSerialization(e.0))?;
        let Value::Array(mut items) = value else {
            return Err(OffsetKeyError::NotList(java_class_name(&value)));
        };
        if items.len() != 2 {
            return Err(OffsetKeyError::WrongElementCount(items.len()));
        }
        let partition = items.pop().unwrap_or(Value::Null);
        let connector = items.pop().unwrap_or(Value::Null);
        let Value::String(connector) = connector else {
            return Err(OffsetKeyError::ConnectorNotString(java_class_name(
                &connector,
            )));
        };
        let partition = match partition {
            Value::Object(p) => Some(p),
            Value::Null => None,
            other => return Err(OffsetKeyError::PartitionNotMap(java_class_name(&other))),
        };
        Ok(OffsetKey {
            connector,
            partition,
        })
    }
}

/// Why an offset or partition map is not a valid offsets-topic map (`OffsetUtils.validateFormat`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffsetFormatError {
    /// The stored value is not a JSON object.
    #[error("Offsets must be specified as a Map")]
    NotMap,
    /// A member holds an array or object.
    #[error(
        "Offsets may only contain primitive types as values, but field {field} contains {schema_type}"
    )]
    NonPrimitive {
        /// The member name.
        field: String,
        /// `ARRAY` or `MAP`.
        schema_type: &'static str,
    },
    /// The stored value is not JSON.
    #[error(transparent)]
    Json(#[from] JsonDecodeError),
}

/// Checks that every member is null or a primitive (no nested arrays/objects), as Apache does before
/// writing an offset and after reading one.
pub fn validate_format(map: &OffsetMap) -> Result<(), OffsetFormatError> {
    for (field, value) in map {
        let schema_type = match value {
            Value::Array(_) => "ARRAY",
            Value::Object(_) => "MAP",
            _ => continue,
        };
        return Err(OffsetFormatError::NonPrimitive {
            field: field.clone(),
            schema_type,
        });
    }
    Ok(())
}

/// Offset value bytes: compact JSON of the map, or `None` (a tombstone) for a null offset.
pub fn encode_offset_value(offset: Option<&OffsetMap>) -> Option<Vec<u8>> {
    offset.map(|o| encode_json(&Value::Object(o.clone())))
}

/// Reads stored offset value bytes as `OffsetStorageReaderImpl` does: tombstones and `null` are no offset;
/// anything else must be an object of primitives.
pub fn decode_offset_value(bytes: Option<&[u8]>) -> Result<Option<OffsetMap>, OffsetFormatError> {
    match decode_json(bytes)? {
        Value::Null => Ok(None),
        Value::Object(map) => {
            validate_format(&map)?;
            Ok(Some(map))
        }
        _ => Err(OffsetFormatError::NotMap),
    }
}

/// True when two partition (or offset) maps are equal as Java maps parsed from JSON: member order and
/// whitespace do not matter, integers and doubles differ (`1` ≠ `1.0`).
pub fn partitions_match(a: &OffsetMap, b: &OffsetMap) -> bool {
    // serde_json's map equality ignores member order, also with `preserve_order`.
    a == b
}

/// Order-independent text of a partition, used as a hash key.
fn canonical_partition(partition: Option<&OffsetMap>) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(m) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    match partition {
        Some(p) => {
            String::from_utf8_lossy(&encode_json(&sorted(&Value::Object(p.clone())))).into_owned()
        }
        None => "null".to_owned(),
    }
}

#[derive(Debug, Clone)]
struct StoredKey {
    bytes: Vec<u8>,
    partition: Option<OffsetMap>,
    has_offset: bool,
}

/// What the offsets topic holds, indexed by logical partition rather than by key bytes: for every
/// (connector, partition) the most recently read key bytes and whether its latest record is an offset
/// or a tombstone (Apache's `connectorPartitions`).
#[derive(Debug, Clone, Default)]
pub struct OffsetKeyIndex {
    keys: HashMap<(String, String), StoredKey>,
}

impl OffsetKeyIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one consumed offsets-topic record. Keys Apache would ignore are returned as errors (the
    /// caller logs them and moves on); the raw bytes can still be kept by byte-keyed stores.
    pub fn observe(
        &mut self,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> Result<OffsetKey, OffsetKeyError> {
        let parsed = OffsetKey::parse(key)?;
        let bytes = key.map(<[u8]>::to_vec).unwrap_or_default();
        self.keys.insert(
            (
                parsed.connector.clone(),
                canonical_partition(parsed.partition.as_ref()),
            ),
            StoredKey {
                bytes,
                partition: parsed.partition.clone(),
                has_offset: value.is_some(),
            },
        );
        Ok(parsed)
    }

    /// The key bytes last read for this logical partition, if any.
    pub fn stored_key_bytes(
        &self,
        connector: &str,
        partition: Option<&OffsetMap>,
    ) -> Option<&[u8]> {
        self.keys
            .get(&(connector.to_owned(), canonical_partition(partition)))
            .map(|k| k.bytes.as_slice())
    }

    /// The key bytes to write for a partition: the stored bytes when the partition is already in the
    /// topic (so Java workers and compaction see the same key), else fresh bytes in the map's order.
    pub fn key_bytes_for_write(&self, connector: &str, partition: Option<&OffsetMap>) -> Vec<u8> {
        match self.stored_key_bytes(connector, partition) {
            Some(bytes) => bytes.to_vec(),
            None => OffsetKey::new(connector, partition.cloned()).to_bytes(),
        }
    }

    /// The partitions of a connector whose latest record is an offset (not a tombstone), in a stable
    /// order. `["<name>",null]` keys are not partitions and never listed.
    pub fn connector_partitions(&self, connector: &str) -> Vec<OffsetMap> {
        let listed: BTreeMap<&String, &OffsetMap> = self
            .keys
            .iter()
            .filter(|((name, _), stored)| name == connector && stored.has_offset)
            .filter_map(|((_, canonical), stored)| {
                stored.partition.as_ref().map(|p| (canonical, p))
            })
            .collect();
        listed.into_values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> OffsetMap {
        match v {
            Value::Object(m) => m,
            _ => panic!("test map must be an object"),
        }
    }

    #[test]
    fn key_golden_bytes_from_spec() {
        let key = OffsetKey::new(
            "local-file-source",
            Some(map(json!({"filename": "/tmp/test.txt"}))),
        );
        assert_eq!(
            key.to_bytes(),
            br#"["local-file-source",{"filename":"/tmp/test.txt"}]"#
        );
        assert_eq!(OffsetKey::parse(Some(&key.to_bytes())).unwrap(), key);
    }

    #[test]
    fn value_golden_bytes_and_tombstone() {
        let offset = map(json!({"position": 4096}));
        assert_eq!(
            encode_offset_value(Some(&offset)).unwrap(),
            br#"{"position":4096}"#
        );
        assert_eq!(encode_offset_value(None), None);
        assert_eq!(
            decode_offset_value(Some(br#"{"position":4096}"#)).unwrap(),
            Some(offset)
        );
        assert_eq!(decode_offset_value(None).unwrap(), None);
        assert_eq!(decode_offset_value(Some(b"null")).unwrap(), None);
    }

    #[test]
    fn null_partition_key() {
        let key = OffsetKey::new("src", None);
        assert_eq!(key.to_bytes(), br#"["src",null]"#);
        assert_eq!(OffsetKey::parse(Some(br#"["src",null]"#)).unwrap(), key);
    }

    #[test]
    fn member_order_is_preserved() {
        let p = map(json!({"z": 1, "a": "x", "m": true}));
        assert_eq!(
            OffsetKey::new("c", Some(p)).to_bytes(),
            br#"["c",{"z":1,"a":"x","m":true}]"#
        );
    }

    #[test]
    fn jackson_string_escaping() {
        let v = json!("q\"b\\s/\u{1}\u{8}\t\n\u{c}\r\u{1f}\u{7f}é😀");
        assert_eq!(
            String::from_utf8(encode_json(&v)).unwrap(),
            "\"q\\\"b\\\\s/\\u0001\\b\\t\\n\\f\\r\\u001F\u{7f}é😀\""
        );
        assert_eq!(
            String::from_utf8(encode_json(&json!({"\u{1b}k": 1}))).unwrap(),
            "{\"\\u001Bk\":1}"
        );
    }

    #[test]
    fn java_double_rendering() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (100.0, "100.0"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (1.0e10, "1.0E10"),
            (12345678.9, "1.23456789E7"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1.5e-5, "1.5E-5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
        ];
        for (f, expected) in cases {
            assert_eq!(java_double_to_string(*f), *expected, "{f}");
        }
        assert_eq!(encode_json(&json!({"pos": 1.0})), br#"{"pos":1.0}"#);
    }

    #[test]
    fn integers_are_plain() {
        assert_eq!(
            encode_json(&json!([i64::MIN, u64::MAX, 0, -5])),
            format!("[{},{},0,-5]", i64::MIN, u64::MAX).as_bytes()
        );
    }

    #[test]
    fn decode_json_null_and_empty() {
        assert_eq!(decode_json(None).unwrap(), Value::Null);
        assert_eq!(decode_json(Some(b"")).unwrap(), Value::Null);
        assert_eq!(decode_json(Some(b"  \n")).unwrap(), Value::Null);
        assert_eq!(decode_json(Some(b"null")).unwrap(), Value::Null);
        assert!(decode_json(Some(b"i-am-not-json")).is_err());
        assert!(decode_json(Some(&[0u8])).is_err());
        // Jackson's readTree stops after the first value.
        assert_eq!(
            decode_json(Some(br#"{"a":1} trailing"#)).unwrap(),
            json!({"a": 1})
        );
    }

    #[test]
    fn key_parse_errors_match_offset_utils() {
        // OffsetUtilsTest cases.
        assert!(matches!(
            OffsetKey::parse(Some(&[0u8])),
            Err(OffsetKeyError::UnknownSerialization(_))
        ));
        assert!(matches!(
            OffsetKey::parse(Some(b"i-am-not-json")),
            Err(OffsetKeyError::UnknownSerialization(_))
        ));
        assert_eq!(
            OffsetKey::parse(Some(b"")),
            Err(OffsetKeyError::NotList("null"))
        );
        assert_eq!(
            OffsetKey::parse(Some(b"{}")),
            Err(OffsetKeyError::NotList("java.util.HashMap"))
        );
        assert_eq!(
            OffsetKey::parse(Some(br#"[""]"#)),
            Err(OffsetKeyError::WrongElementCount(1))
        );
        assert_eq!(
            OffsetKey::parse(Some(br#"[1,{}]"#)),
            Err(OffsetKeyError::ConnectorNotString("java.lang.Long"))
        );
        assert_eq!(
            OffsetKey::parse(Some(br#"["connector-name",[]]"#)),
            Err(OffsetKeyError::PartitionNotMap("java.util.ArrayList"))
        );
        assert_eq!(OffsetKey::parse(None), Err(OffsetKeyError::NullKey));
        assert!(
            OffsetKeyError::WrongElementCount(1)
                .to_string()
                .contains("Ignoring offset partition key with an unexpected number of elements")
        );
    }

    #[test]
    fn validate_format_rejects_nested_values() {
        assert!(validate_format(&map(json!({"k": 1, "s": "x", "n": null, "b": false}))).is_ok());
        let err = validate_format(&map(json!({"key": []}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Offsets may only contain primitive types as values, but field key contains ARRAY"
        );
        assert!(matches!(
            decode_offset_value(Some(br#"{"k":{"x":1}}"#)),
            Err(OffsetFormatError::NonPrimitive {
                schema_type: "MAP",
                ..
            })
        ));
        assert_eq!(
            decode_offset_value(Some(b"[1]")),
            Err(OffsetFormatError::NotMap)
        );
        assert!(matches!(
            decode_offset_value(Some(b"{oops")),
            Err(OffsetFormatError::Json(_))
        ));
    }

    #[test]
    fn partitions_match_by_parsed_json() {
        let a = map(json!({"a": 1, "b": "x"}));
        let stored = OffsetKey::parse(Some(br#"[ "c" , { "b" : "x" , "a" : 1 } ]"#)).unwrap();
        assert!(partitions_match(&a, stored.partition.as_ref().unwrap()));
        assert!(!partitions_match(
            &map(json!({"a": 1})),
            &map(json!({"a": 1.0}))
        ));
        assert!(!partitions_match(
            &map(json!({"a": 1})),
            &map(json!({"a": "1"}))
        ));
    }

    #[test]
    fn index_reuses_stored_key_bytes() {
        let mut index = OffsetKeyIndex::new();
        let java_bytes: &[u8] = br#"["c",{"b":"x","a":1}]"#;
        index
            .observe(Some(java_bytes), Some(br#"{"pos":1}"#))
            .unwrap();

        // Built in another member order: the stored bytes are reused.
        let mine = map(json!({"a": 1, "b": "x"}));
        assert_eq!(index.key_bytes_for_write("c", Some(&mine)), java_bytes);
        assert_eq!(index.stored_key_bytes("c", Some(&mine)), Some(java_bytes));
        // Unknown partitions and other connectors get fresh bytes.
        let other = map(json!({"a": 2}));
        assert_eq!(
            index.key_bytes_for_write("c", Some(&other)),
            br#"["c",{"a":2}]"#
        );
        assert_eq!(
            index.key_bytes_for_write("d", Some(&mine)),
            br#"["d",{"a":1,"b":"x"}]"#
        );
        assert_eq!(index.connector_partitions("c"), vec![mine.clone()]);

        // A tombstone removes the partition from the listing but keeps its key bytes.
        index.observe(Some(java_bytes), None).unwrap();
        assert!(index.connector_partitions("c").is_empty());
        assert_eq!(index.key_bytes_for_write("c", Some(&mine)), java_bytes);
    }

    #[test]
    fn index_skips_malformed_keys_and_null_partitions() {
        let mut index = OffsetKeyIndex::new();
        assert!(index.observe(Some(b"garbage"), Some(b"{}")).is_err());
        assert!(index.observe(None, Some(b"{}")).is_err());
        let parsed = index.observe(Some(br#"["c",null]"#), None).unwrap();
        assert_eq!(parsed.partition, None);
        assert!(index.connector_partitions("c").is_empty());
        assert_eq!(index.key_bytes_for_write("c", None), br#"["c",null]"#);
    }
}
