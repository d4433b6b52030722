//! `org.apache.kafka.connect.storage.StringConverter` and the Java charsets it can be configured with.

use causeway_api::{
    ConfigDef, ConfigType, ConnectError, Converter, HeaderConverter, Importance, ParsedConfig,
    Props, Result, Width,
};
use causeway_data::{Headers, Schema, SchemaAndValue, SchemaRef, Value};

use crate::config;
use crate::java_fmt;

const ENCODING_CONFIG: &str = "converter.encoding";
const ENCODING_DOC: &str =
    "The name of the Java character set to use for encoding strings as byte arrays.";

/// The Java charsets Causeway supports, by canonical name and aliases (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Latin1,
    Ascii,
    Utf16,
    Utf16Be,
    Utf16Le,
    Windows1252,
}

/// Code points of windows-1252 bytes 0x80..=0x9F (`None` where the charset leaves the byte undefined).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

impl Charset {
    /// `Charset.forName`, for the charsets supported here.
    fn for_name(name: &str) -> Option<Charset> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "utf-8" | "utf8" | "unicode-1-1-utf-8" => Charset::Utf8,
            "iso-8859-1" | "iso8859_1" | "iso_8859_1" | "iso_8859-1" | "iso8859-1" | "8859_1"
            | "latin1" | "l1" | "iso-latin-1" | "ibm819" | "ibm-819" | "cp819" | "819"
            | "csisolatin1" | "iso_8859-1:1987" | "iso-ir-100" => Charset::Latin1,
            "us-ascii" | "ascii" | "us" | "iso646-us" | "ibm367" | "cp367" | "csascii"
            | "default" | "646" | "iso_646.irv:1983" | "ansi_x3.4-1968" | "ansi_x3.4-1986"
            | "iso-ir-6" => Charset::Ascii,
            "utf-16" | "utf_16" | "utf16" | "unicode" => Charset::Utf16,
            "utf-16be" | "utf_16be" | "iso-10646-ucs-2" | "x-utf-16be" | "unicodebigunmarked" => {
                Charset::Utf16Be
            }
            "utf-16le" | "utf_16le" | "x-utf-16le" | "unicodelittleunmarked" => Charset::Utf16Le,
            "windows-1252" | "cp1252" | "cp5348" | "ibm-1252" | "ibm1252" => Charset::Windows1252,
            _ => return None,
        })
    }

    /// `String.getBytes(charset)`: unmappable characters become `?`.
    fn encode(self, s: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => s.as_bytes().to_vec(),
            Charset::Latin1 => s
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
            Charset::Ascii => s
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect(),
            Charset::Windows1252 => s
                .chars()
                .map(|c| {
                    let cp = u32::from(c);
                    if cp < 0x80 || (0xA0..=0xFF).contains(&cp) {
                        cp as u8
                    } else {
                        CP1252_HIGH
                            .iter()
                            .position(|m| *m == Some(c))
                            .map_or(b'?', |i| 0x80 + i as u8)
                    }
                })
                .collect(),
            Charset::Utf16 | Charset::Utf16Be => {
                let mut out = Vec::with_capacity(s.len() * 2 + 2);
                if self == Charset::Utf16 {
                    out.extend_from_slice(&[0xFE, 0xFF]);
                }
                for unit in s.encode_utf16() {
                    out.extend_from_slice(&unit.to_be_bytes());
                }
                out
            }
            Charset::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        }
    }

    /// `new String(bytes, charset)`: malformed input becomes U+FFFD.
    fn decode(self, b: &[u8]) -> String {
        fn utf16(b: &[u8], be: bool) -> String {
            let units = b.chunks(2).map(|c| match c {
                [x, y] if be => Ok(u16::from_be_bytes([*x, *y])),
                [x, y] => Ok(u16::from_le_bytes([*x, *y])),
                _ => Err(()),
            });
            let mut s = String::with_capacity(b.len() / 2);
            let mut pending = Vec::new();
            for u in units {
                match u {
                    Ok(u) => pending.push(u),
                    Err(()) => {
                        s.extend(
                            char::decode_utf16(pending.drain(..)).map(|r| r.unwrap_or('\u{FFFD}')),
                        );
                        s.push('\u{FFFD}');
                    }
                }
            }
            s.extend(char::decode_utf16(pending).map(|r| r.unwrap_or('\u{FFFD}')));
            s
        }
        match self {
            // The validating fast path first: `from_utf8_lossy` walks chunk by chunk even on valid input.
            Charset::Utf8 => match std::str::from_utf8(b) {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(b).into_owned(),
            },
            Charset::Latin1 => b.iter().map(|&x| char::from(x)).collect(),
            Charset::Ascii => b
                .iter()
                .map(|&x| {
                    if x.is_ascii() {
                        char::from(x)
                    } else {
                        '\u{FFFD}'
                    }
                })
                .collect(),
            Charset::Windows1252 => b
                .iter()
                .map(|&x| match x {
                    0x80..=0x9F => CP1252_HIGH[(x - 0x80) as usize].unwrap_or('\u{FFFD}'),
                    _ => char::from(x),
                })
                .collect(),
            Charset::Utf16Be => utf16(b, true),
            Charset::Utf16Le => utf16(b, false),
            Charset::Utf16 => match b {
                [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
                [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
                _ => utf16(b, true),
            },
        }
    }
}

/// Connect's string converter (`org.apache.kafka.connect.storage.StringConverter`), also a header converter.
///
/// Writes any value as its Java `toString()` in the configured charset (`converter.encoding`, UTF-8 by
/// default; `key.serializer.encoding` / `value.serializer.encoding` and the deserializer equivalents override
/// it as they do in Kafka's string serdes). Reads bytes back as an optional string.
///
/// Supported charsets: UTF-8, ISO-8859-1, US-ASCII, UTF-16, UTF-16BE, UTF-16LE and windows-1252, under their
/// Java names and aliases.
#[derive(Debug, Clone)]
pub struct StringConverter {
    serializer: Charset,
    deserializer: Charset,
}

impl Default for StringConverter {
    fn default() -> Self {
        Self::new()
    }
}

impl StringConverter {
    /// A UTF-8 string converter.
    pub fn new() -> Self {
        StringConverter {
            serializer: Charset::Utf8,
            deserializer: Charset::Utf8,
        }
    }

    /// `StringConverterConfig.configDef()`: `converter.type` and `converter.encoding`.
    pub fn config_def() -> ConfigDef {
        config::converter_config_def()
            .define(
                ENCODING_CONFIG,
                ConfigType::String,
                "UTF-8",
                Importance::High,
                ENCODING_DOC,
            )
            .with_last(|k| k.width(Width::Medium).display_name("Encoding"))
    }

    fn apply(&mut self, cfg: &ParsedConfig, is_key: bool) -> Result<()> {
        let encoding = cfg.string(ENCODING_CONFIG).unwrap_or("UTF-8");
        let originals = cfg.originals();
        let pick = |specific: &str| -> Result<Charset> {
            let name = originals.get(specific).map_or(encoding, String::as_str);
            Charset::for_name(name)
                .ok_or_else(|| ConnectError::Config(format!("Unsupported encoding {name}")))
        };
        let side = if is_key { "key" } else { "value" };
        self.serializer = pick(&format!("{side}.serializer.encoding"))?;
        self.deserializer = pick(&format!("{side}.deserializer.encoding"))?;
        Ok(())
    }

    fn serialize(&self, value: &Value) -> Option<Vec<u8>> {
        match value {
            Value::Null => None,
            Value::String(s) => Some(self.serializer.encode(s)),
            other => Some(self.serializer.encode(&java_fmt::object_to_string(other))),
        }
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> SchemaAndValue {
        SchemaAndValue::new(
            Some(Schema::optional_string()),
            bytes.map_or(Value::Null, |b| Value::String(self.deserializer.decode(b))),
        )
    }
}

impl Converter for StringConverter {
    fn configure(&mut self, props: &Props, is_key: bool) -> Result<()> {
        let cfg = config::parse_for_data(&Self::config_def(), props, is_key)?;
        self.apply(&cfg, is_key)
    }

    fn from_connect_data(
        &self,
        _topic: &str,
        _headers: &Headers,
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self.serialize(value))
    }

    fn to_connect_data(
        &self,
        _topic: &str,
        _headers: &Headers,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        Ok(self.deserialize(bytes))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

impl HeaderConverter for StringConverter {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = config::parse_for_header(&Self::config_def(), props)?;
        let is_key = cfg.string(config::TYPE_CONFIG) == Some("key");
        self.apply(&cfg, is_key)
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self.serialize(value))
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        Ok(self.deserialize(bytes))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_round_trip_and_replace_like_java() {
        let s = "héllo €😀";
        for cs in [
            Charset::Utf8,
            Charset::Utf16,
            Charset::Utf16Be,
            Charset::Utf16Le,
        ] {
            assert_eq!(cs.decode(&cs.encode(s)), s, "{cs:?}");
        }
        assert_eq!(Charset::Latin1.encode(s), b"h\xe9llo ??");
        assert_eq!(Charset::Ascii.encode(s), b"h?llo ??");
        assert_eq!(Charset::Windows1252.encode(s), b"h\xe9llo \x80?");
        assert_eq!(Charset::Windows1252.decode(b"\x80\x81"), "€\u{FFFD}");
        assert_eq!(Charset::Utf16.encode("a"), vec![0xFE, 0xFF, 0, b'a']);
        assert_eq!(Charset::Utf16.decode(&[0xFF, 0xFE, b'a', 0]), "a");
        assert_eq!(Charset::Utf8.decode(b"a\xffb"), "a\u{FFFD}b");
        assert_eq!(Charset::Utf16Be.decode(&[0, b'a', 0]), "a\u{FFFD}");
        assert_eq!(Charset::for_name("utf8"), Some(Charset::Utf8));
        assert_eq!(Charset::for_name("ISO-8859-1"), Some(Charset::Latin1));
        assert_eq!(Charset::for_name("nope"), None);
    }
}
