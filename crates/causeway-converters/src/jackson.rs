//! A JSON tree, reader and writer that behave as Jackson does inside Kafka's `JsonConverter`.
//!
//! Connect reads JSON with `ObjectMapper.readTree` (leading zeros allowed, floats kept as exact `BigDecimal`,
//! trailing content ignored, Jackson 2.15+ stream limits) and writes it compactly with Jackson's escaping and
//! Java's number rendering. serde_json differs on all of these points, hence this module.

use std::collections::HashMap;
use std::fmt::Write as _;

use base64::Engine as _;
use bigdecimal::BigDecimal;
use bigdecimal::num_bigint::BigInt;

use crate::java_fmt;

/// Jackson's `StreamReadConstraints` defaults.
const MAX_NESTING_DEPTH: usize = 1000;
const MAX_NUMBER_LENGTH: usize = 1000;
const MAX_STRING_LENGTH: usize = 20_000_000;

/// A parsed JSON value (Jackson's `JsonNode`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, kept as its text.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; keys are unique, in first-seen order (a repeated key keeps its first position and its last
    /// value, as Jackson's `ObjectNode` does).
    Object(Vec<(String, Json)>),
}

/// How Jackson classified a number: `IntNode`, `LongNode`, `BigIntegerNode` or (floats) `DecimalNode`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NumKind {
    Int(i32),
    Long(i64),
    BigInt,
    Decimal,
}

/// A JSON number as written, plus Jackson's node kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Number {
    text: Box<str>,
    kind: NumKind,
}

impl Number {
    /// The exact value (`decimalValue()`): integers have scale 0, floats keep their written scale.
    pub(crate) fn decimal(&self) -> BigDecimal {
        parse_json_decimal(&self.text).unwrap_or_default()
    }

    fn bigint(&self) -> BigInt {
        self.text.parse().unwrap_or_default()
    }

    /// True for an integer that fits 32 bits (`isInt()`).
    pub(crate) fn is_int(&self) -> bool {
        matches!(self.kind, NumKind::Int(_))
    }

    /// True for any integer (`isIntegralNumber()`).
    pub(crate) fn is_integral(&self) -> bool {
        !matches!(self.kind, NumKind::Decimal)
    }

    /// `longValue()`: the low 64 bits of the integer part.
    pub(crate) fn long_value(&self) -> i64 {
        match self.kind {
            NumKind::Int(v) => v.into(),
            NumKind::Long(v) => v,
            NumKind::BigInt => java_fmt::bigint_low_i64(&self.bigint()),
            NumKind::Decimal => java_fmt::bigdecimal_low_i64(&self.decimal()),
        }
    }

    /// `intValue()`: the low 32 bits of the integer part.
    pub(crate) fn int_value(&self) -> i32 {
        match self.kind {
            NumKind::Int(v) => v,
            _ => self.long_value() as i32,
        }
    }

    /// `doubleValue()`.
    pub(crate) fn double_value(&self) -> f64 {
        let v: f64 = self.text.parse().unwrap_or(0.0);
        if v == 0.0 { 0.0 } else { v }
    }

    /// `floatValue()`.
    pub(crate) fn float_value(&self) -> f32 {
        let v: f32 = self.text.parse().unwrap_or(0.0);
        if v == 0.0 { 0.0 } else { v }
    }

    /// The number as written (`asText()` for Jackson's number nodes, modulo normalisation).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

impl Json {
    /// Jackson's `getNodeType()` name, used in error messages.
    pub(crate) fn node_type(&self) -> &'static str {
        match self {
            Json::Null => "NULL",
            Json::Bool(_) => "BOOLEAN",
            Json::Number(_) => "NUMBER",
            Json::String(_) => "STRING",
            Json::Array(_) => "ARRAY",
            Json::Object(_) => "OBJECT",
        }
    }

    /// Member of an object (`get(String)`); `None` for other nodes.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `textValue()`: the string of a string node.
    pub(crate) fn text_value(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// `asText()`: strings unquoted, numbers and booleans as text, `null` as `"null"`, containers empty.
    pub(crate) fn as_text(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.text().to_owned(),
            Json::String(s) => s.clone(),
            Json::Array(_) | Json::Object(_) => String::new(),
        }
    }

    /// The number of a number node.
    pub(crate) fn number(&self) -> Option<&Number> {
        match self {
            Json::Number(n) => Some(n),
            _ => None,
        }
    }
}

/// A parsed document: the root (`None` for empty input, Jackson's `MissingNode`) and the byte ranges of the
/// root object's member values (used to cache schemas by their text).
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) root: Option<Json>,
    pub(crate) root_member_spans: Vec<(String, std::ops::Range<usize>)>,
}

/// Parses bytes as `ObjectMapper.readTree` does.
///
/// # Errors
/// A Jackson-style description of the first syntax error.
pub(crate) fn parse(input: &[u8]) -> Result<Document, String> {
    let mut p = Reader {
        s: input,
        pos: 0,
        spans: Vec::new(),
    };
    if p.s.starts_with(&[0xEF, 0xBB, 0xBF]) {
        p.pos = 3;
    }
    p.skip_ws();
    if p.pos >= p.s.len() {
        return Ok(Document {
            root: None,
            root_member_spans: Vec::new(),
        });
    }
    let root = p.value(0)?;
    if let Json::Number(_) = root
        && let Some(&b) = p.s.get(p.pos)
        && !matches!(b, b' ' | b'\t' | b'\n' | b'\r')
    {
        return Err(p.error(&format!(
            "Expected space separating root-level values; found {}",
            describe(b)
        )));
    }
    Ok(Document {
        root: Some(root),
        root_member_spans: p.spans,
    })
}

/// Reads a `{"schema": S, "payload": P}` envelope without building S's tree, when S's exact text is one that
/// `known` recognises (text that parsed before, so it is valid and ends where its brackets close). Anything
/// else — another layout, an unknown schema, a syntax error — gives `None`, and the caller parses the whole
/// document with [`parse`], which also produces Jackson's error messages.
pub(crate) fn parse_known_envelope<T>(
    input: &[u8],
    known: impl FnOnce(&[u8]) -> Option<T>,
) -> Option<(T, Json)> {
    let mut p = Reader {
        s: input,
        pos: 0,
        spans: Vec::new(),
    };
    p.skip_ws();
    p.expect(b"{")?;
    p.member_name(b"\"schema\"")?;
    if p.peek() != Some(b'{') {
        return None;
    }
    let start = p.pos;
    let end = closing_bracket(input, start)?;
    let schema = known(&input[start..end])?;
    p.pos = end;
    p.skip_ws();
    p.expect(b",")?;
    p.member_name(b"\"payload\"")?;
    // Depth 1: a member of the root object, as in a full parse.
    let payload = p.value(1).ok()?;
    p.skip_ws();
    p.expect(b"}")?;
    Some((schema, payload))
}

/// Where the object or array opening at `start` ends (one past its closing bracket), matching brackets outside
/// strings. Only meaningful for valid JSON.
fn closing_bracket(s: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = start;
    while let Some(&b) = s.get(i) {
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("'{}' (code {b})", b as char)
    } else {
        format!("(CTRL-CHAR, code {b})")
    }
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    spans: Vec<(String, std::ops::Range<usize>)>,
}

impl Reader<'_> {
    #[cold]
    #[inline(never)]
    fn error(&self, msg: &str) -> String {
        let upto = &self.s[..self.pos.min(self.s.len())];
        let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
        let col = upto.len() - upto.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        format!("{msg}\n at [Source: (byte[]); line: {line}, column: {col}]")
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// Consumes `token` if the input continues with it.
    fn expect(&mut self, token: &[u8]) -> Option<()> {
        let rest = self.s.get(self.pos..)?;
        rest.starts_with(token).then(|| self.pos += token.len())
    }

    /// Consumes `"name" :` (exactly this quoted name) with the whitespace around it.
    fn member_name(&mut self, quoted: &[u8]) -> Option<()> {
        self.skip_ws();
        self.expect(quoted)?;
        self.skip_ws();
        self.expect(b":")?;
        self.skip_ws();
        Some(())
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => {
                self.pos += 1;
                Ok(Json::String(self.string()?))
            }
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            found => Err(self.unexpected(
                found,
                "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            )),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, String> {
        let end = self.pos + word.len();
        let ident_follows =
            |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
        if self.s.get(self.pos..end) == Some(word.as_bytes())
            && !self.s.get(end).is_some_and(|b| ident_follows(*b))
        {
            self.pos = end;
            return Ok(v);
        }
        let mut token_end = self.pos;
        while self.s.get(token_end).is_some_and(|b| ident_follows(*b)) {
            token_end += 1;
        }
        let token = String::from_utf8_lossy(&self.s[self.pos..token_end.max(self.pos + 1)]);
        Err(self.error(&format!(
            "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        )))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if self.digits() == 0 {
            return Err(self.error(
                "Unexpected character: expected digit (0-9) to follow minus sign, for valid numeric value",
            ));
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            if self.digits() == 0 {
                return Err(
                    self.error("Unexpected character: Decimal point not followed by a digit")
                );
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            float = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(
                    self.error("Unexpected character: Exponent indicator not followed by a digit")
                );
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("0");
        if text.len() > MAX_NUMBER_LENGTH {
            return Err(self.error(&format!(
                "Number value length ({}) exceeds the maximum allowed ({MAX_NUMBER_LENGTH}, from `StreamReadConstraints.getMaxNumberLength()`)",
                text.len()
            )));
        }
        let kind = if float {
            if parse_json_decimal(text).is_none() {
                return Err(self.error(&format!("Malformed numeric value ('{text}')")));
            }
            NumKind::Decimal
        } else if let Ok(v) = text.parse::<i32>() {
            NumKind::Int(v)
        } else if let Ok(v) = text.parse::<i64>() {
            NumKind::Long(v)
        } else {
            NumKind::BigInt
        };
        Ok(Json::Number(Number {
            text: text.into(),
            kind,
        }))
    }

    /// Reads a string body; the opening quote is consumed.
    fn string(&mut self) -> Result<String, String> {
        let mut buf: Vec<u8> = Vec::new();
        let mut run_start = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error(
                    "Unexpected end-of-input: was expecting closing quote for a string value",
                ));
            };
            match b {
                b'"' => {
                    buf.extend_from_slice(&self.s[run_start..self.pos]);
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    buf.extend_from_slice(&self.s[run_start..self.pos]);
                    self.pos += 1;
                    self.escape(&mut buf)?;
                    run_start = self.pos;
                }
                0..=0x1F => {
                    return Err(self.error(&format!(
                        "Illegal unquoted character ({}): has to be escaped using backslash to be included in string value",
                        describe(b)
                    )));
                }
                _ => self.pos += 1,
            }
        }
        let s = String::from_utf8(buf).map_err(|e| {
            let bad = e
                .as_bytes()
                .get(e.utf8_error().valid_up_to())
                .copied()
                .unwrap_or(0);
            self.error(&format!("Invalid UTF-8 start byte 0x{bad:x}"))
        })?;
        let chars = s.encode_utf16().count();
        if chars > MAX_STRING_LENGTH {
            return Err(self.error(&format!(
                "String value length ({chars}) exceeds the maximum allowed ({MAX_STRING_LENGTH}, from `StreamReadConstraints.getMaxStringLength()`)"
            )));
        }
        Ok(s)
    }

    fn hex4(&mut self) -> Result<u16, String> {
        let mut v: u16 = 0;
        for _ in 0..4 {
            let Some(b) = self.peek() else {
                return Err(self.error("Unexpected end-of-input in character escape sequence"));
            };
            let d = (b as char).to_digit(16).ok_or_else(|| {
                self.error(&format!(
                    "Unexpected character ({}): expected a hex-digit for character escape sequence",
                    describe(b)
                ))
            })?;
            v = (v << 4) | d as u16;
            self.pos += 1;
        }
        Ok(v)
    }

    fn escape(&mut self, buf: &mut Vec<u8>) -> Result<(), String> {
        let Some(b) = self.peek() else {
            return Err(self.error("Unexpected end-of-input in character escape sequence"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                if (0xD800..0xDC00).contains(&unit)
                    && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                {
                    let save = self.pos;
                    self.pos += 2;
                    let low = self.hex4()?;
                    if (0xDC00..0xE000).contains(&low) {
                        let cp = 0x10000
                            + ((u32::from(unit) - 0xD800) << 10)
                            + (u32::from(low) - 0xDC00);
                        char::from_u32(cp).unwrap_or('\u{FFFD}')
                    } else {
                        // A lone high surrogate (Java keeps it; Rust strings cannot).
                        self.pos = save;
                        '\u{FFFD}'
                    }
                } else {
                    char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}')
                }
            }
            other => {
                return Err(self.error(&format!(
                    "Unrecognized character escape {}",
                    describe(other)
                )));
            }
        };
        let mut tmp = [0u8; 4];
        buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn too_deep(&self, depth: usize) -> String {
        self.error(&format!(
            "Document nesting depth ({depth}) exceeds the maximum allowed ({MAX_NESTING_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)"
        ))
    }

    /// "Unexpected character (…): {expecting}" or "Unexpected end-of-input: {expecting}".
    #[cold]
    #[inline(never)]
    fn unexpected(&self, found: Option<u8>, expecting: &str) -> String {
        match found {
            Some(b) => self.error(&format!(
                "Unexpected character ({}): {expecting}",
                describe(b)
            )),
            None => self.error(&format!("Unexpected end-of-input: {expecting}")),
        }
    }

    // The container readers recurse through `value`; they keep their frames small (no inline formatting) so
    // that Jackson's 1000 levels fit comfortably in a thread's stack.

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_NESTING_DEPTH {
            return Err(self.too_deep(depth));
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                other => {
                    return Err(
                        self.unexpected(other, "was expecting comma to separate Array entries")
                    );
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_NESTING_DEPTH {
            return Err(self.too_deep(depth));
        }
        self.pos += 1;
        let mut members: Vec<(String, Json)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            let key = self.field_name()?;
            let start = self.pos;
            let v = self.value(depth)?;
            if depth == 1 {
                self.spans.push((key.clone(), start..self.pos));
            }
            insert_member(&mut members, &mut index, key, v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                other => {
                    return Err(
                        self.unexpected(other, "was expecting comma to separate Object entries")
                    );
                }
            }
        }
    }

    /// Reads `"name" :` and the whitespace after it.
    #[inline(never)]
    fn field_name(&mut self) -> Result<String, String> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => self.pos += 1,
            other => {
                return Err(
                    self.unexpected(other, "was expecting double-quote to start field name")
                );
            }
        }
        let key = self.string()?;
        self.skip_ws();
        match self.peek() {
            Some(b':') => self.pos += 1,
            other => {
                return Err(self.unexpected(
                    other,
                    "was expecting a colon to separate field name and value",
                ));
            }
        }
        self.skip_ws();
        Ok(key)
    }
}

/// Adds an object member as Jackson's `ObjectNode` does: a repeated key keeps its first position and takes the
/// new value.
#[inline(never)]
fn insert_member(
    members: &mut Vec<(String, Json)>,
    index: &mut HashMap<String, usize>,
    key: String,
    v: Json,
) {
    let existing = if members.len() < 8 {
        members.iter().position(|(k, _)| *k == key)
    } else {
        if index.len() < members.len() {
            for (i, (k, _)) in members.iter().enumerate().skip(index.len()) {
                index.insert(k.clone(), i);
            }
        }
        index.get(&key).copied()
    };
    match existing {
        Some(i) => members[i].1 = v,
        None => members.push((key, v)),
    }
}

/// Parses a JSON number (leading zeros allowed) into an exact decimal; `None` when the scale does not fit a
/// Java `int` (Java's `BigDecimal` rejects it).
fn parse_json_decimal(text: &str) -> Option<BigDecimal> {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exp: i64 = if exp.is_empty() {
        0
    } else {
        let e = exp.strip_prefix('+').unwrap_or(exp);
        e.parse().ok().filter(|v: &i64| i32::try_from(*v).is_ok())?
    };
    let scale = frac_part.len() as i64 - exp;
    i32::try_from(scale).ok()?;
    let mut digits = String::with_capacity(int_part.len() + frac_part.len() + 1);
    if neg {
        digits.push('-');
    }
    digits.push_str(int_part);
    digits.push_str(frac_part);
    let unscaled: BigInt = digits.parse().ok()?;
    Some(BigDecimal::new(unscaled, scale))
}

/// Decodes base64 as Jackson's default variant does (`MIME_NO_LINEFEEDS`, padding required): whitespace is
/// skipped before each quartet, unused trailing bits are ignored, and padded quartets may be followed by more.
pub(crate) fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.as_bytes();
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut i = 0;
    let invalid = |c: u8, idx: usize| {
        format!(
            "Illegal character '{}' (code 0x{c:x}) in base64 content at position {idx}",
            c as char
        )
    };
    let eof = || {
        "Unexpected end of base64-encoded String: base64 variant 'MIME-NO-LINEFEEDS' expects padding (one or more '=' characters) at the end".to_owned()
    };
    loop {
        let c = loop {
            match s.get(i) {
                None => return Ok(out),
                Some(&c) if c <= b' ' => i += 1,
                Some(&c) => break c,
            }
        };
        i += 1;
        let mut data = val(c).ok_or_else(|| invalid(c, 0))?;
        let c = *s.get(i).ok_or_else(eof)?;
        i += 1;
        data = (data << 6) | val(c).ok_or_else(|| invalid(c, 1))?;
        let c = *s.get(i).ok_or_else(eof)?;
        i += 1;
        match val(c) {
            None if c == b'=' => {
                let c = *s.get(i).ok_or_else(eof)?;
                i += 1;
                if c != b'=' {
                    return Err(invalid(c, 3));
                }
                out.push((data >> 4) as u8);
                continue;
            }
            None => return Err(invalid(c, 2)),
            Some(bits) => data = (data << 6) | bits,
        }
        let c = *s.get(i).ok_or_else(eof)?;
        i += 1;
        match val(c) {
            None if c == b'=' => {
                let v = data >> 2;
                out.push((v >> 8) as u8);
                out.push(v as u8);
            }
            None => return Err(invalid(c, 3)),
            Some(bits) => {
                let v = (data << 6) | bits;
                out.push((v >> 16) as u8);
                out.push((v >> 8) as u8);
                out.push(v as u8);
            }
        }
    }
}

/// Writes a JSON string literal with Jackson's escaping: `"` and `\` escaped, control characters as `\b \t \n
/// \f \r` or `\u00XX` (upper-case hex), everything else (including non-ASCII) raw.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0xF0 {
            // Outside the BMP: Jackson writes the UTF-16 surrogate pair as two escapes.
            out.extend_from_slice(&bytes[run..i]);
            let c = s[i..].chars().next().unwrap_or('\u{FFFD}');
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.extend_from_slice(b"\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((*unit >> shift) & 0xF) as usize]);
                }
            }
            run = i + c.len_utf8();
            continue;
        }
        if i < run {
            continue;
        }
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0A => b"\\n",
            0x0C => b"\\f",
            0x0D => b"\\r",
            0..=0x1F => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xF) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Writes bytes as a base64 JSON string (standard alphabet, padded, no line feeds).
pub(crate) fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .as_bytes(),
    );
    out.push(b'"');
}

/// Writes a double as Jackson does: Java's `Double.toString`, non-finite values as quoted strings.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    let s = java_fmt::double_to_string(v);
    if v.is_finite() {
        out.extend_from_slice(s.as_bytes());
    } else {
        write_str(out, &s);
    }
}

/// Writes a float as Jackson does: Java's `Float.toString`, non-finite values as quoted strings.
pub(crate) fn write_f32(out: &mut Vec<u8>, v: f32) {
    let s = java_fmt::float_to_string(v);
    if v.is_finite() {
        out.extend_from_slice(s.as_bytes());
    } else {
        write_str(out, &s);
    }
}

/// Writes an integer.
pub(crate) fn write_int(out: &mut Vec<u8>, v: impl Into<i64>) {
    let mut s = String::new();
    let _ = write!(s, "{}", v.into());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(s: &str) -> Json {
        parse(s.as_bytes()).unwrap().root.unwrap()
    }

    /// The envelope fast path with `schema` as the only known schema text.
    fn known_envelope(doc: &str, schema: &str) -> Option<Json> {
        parse_known_envelope(doc.as_bytes(), |text| {
            (text == schema.as_bytes()).then_some(())
        })
        .map(|((), payload)| payload)
    }

    #[test]
    fn known_envelopes_skip_the_schema_and_parse_the_payload() {
        let schema =
            r#"{"type":"struct","fields":[{"field":"t","type":"string","doc":"a \"}{[\\"}]}"#;
        let doc = format!(r#" {{ "schema" : {schema} , "payload" : {{"t":"x}}"}} }} trailing"#);
        assert_eq!(
            known_envelope(&doc, schema),
            Some(root(r#"{"t":"x}"}"#)),
            "brackets and escaped quotes inside strings do not end the schema"
        );
    }

    #[test]
    fn other_layouts_and_errors_fall_back_to_a_full_parse() {
        let schema = r#"{"type":"int32"}"#;
        for doc in [
            r#"{"schema":{"type":"int64"},"payload":1}"#,
            r#"{"payload":1,"schema":{"type":"int32"}}"#,
            r#"{"schema":{"type":"int32"},"payload":1,"extra":2}"#,
            r#"{"schema":{"type":"int32"},"schema":{"type":"int32"}}"#,
            r#"{"sch\u0065ma":{"type":"int32"},"payload":1}"#,
            r#"{"schema":{"type":"int32"},"payload":01x}"#,
            r#"{"schema":{"type":"int32"},"payload":"open"#,
            r#"{"schema":{"type":"int32"}"#,
            r#"{"schema":{"type":"int32""#,
            "\u{feff}{\"schema\":{\"type\":\"int32\"},\"payload\":1}",
        ] {
            assert_eq!(known_envelope(doc, schema), None, "{doc}");
        }
        assert_eq!(
            known_envelope(r#"{"schema":{"type":"int32"},"payload":1}"#, schema),
            Some(root("1"))
        );
    }

    #[test]
    fn numbers_are_classified_like_jackson() {
        let Json::Array(items) = root("[1, 0012, -0, 2147483648, 9223372036854775808, 1.50, 1e2]")
        else {
            panic!()
        };
        let n: Vec<&Number> = items.iter().map(|j| j.number().unwrap()).collect();
        assert!(n[0].is_int());
        assert_eq!(n[1].int_value(), 12);
        assert_eq!(n[2].int_value(), 0);
        assert!(!n[3].is_int() && n[3].is_integral());
        assert_eq!(n[3].int_value(), i32::MIN);
        assert_eq!(n[4].long_value(), i64::MIN);
        assert!(!n[5].is_integral());
        assert_eq!(n[5].decimal().as_bigint_and_exponent(), (150.into(), 2));
        assert_eq!(n[6].double_value(), 100.0);
        assert_eq!(n[6].decimal().as_bigint_and_exponent(), (1.into(), -2));
    }

    #[test]
    fn objects_keep_first_position_and_last_value() {
        assert_eq!(
            root(r#"{"a":1,"b":2,"a":3}"#),
            Json::Object(vec![("a".into(), root("3")), ("b".into(), root("2")),])
        );
    }

    #[test]
    fn strings_unescape() {
        assert_eq!(
            root(r#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#),
            Json::String("a\"\\/\u{8}\u{c}\n\r\té😀".into())
        );
    }

    #[test]
    fn trailing_content_is_ignored_but_root_numbers_need_a_separator() {
        assert_eq!(root("{} garbage"), Json::Object(vec![]));
        assert_eq!(root("1 2"), root("1"));
        assert!(parse(b"1x").is_err());
        assert!(parse(b"truex").is_err());
        assert!(parse(b"").unwrap().root.is_none());
        assert!(parse(b"  \n").unwrap().root.is_none());
    }

    #[test]
    fn malformed_documents_fail() {
        for bad in [
            "{",
            "[1,]",
            "{\"a\"}",
            "{a:1}",
            "[1 2]",
            "\"abc",
            "01.",
            "-",
            "1e",
            "nul",
            "[\"\u{1}\"]",
            "\"\\x\"",
            "'a'",
            "{\"a\":1,}",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(b"\"\xff\"").is_err());
        let deep = "[".repeat(1001) + &"]".repeat(1001);
        assert!(
            parse(deep.as_bytes())
                .unwrap_err()
                .contains("nesting depth")
        );
        let ok = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn strings_escape_like_jackson() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c/\u{1}\u{1f}\n\té\u{7f}😀€");
        assert_eq!(
            out,
            "\"a\\\"b\\\\c/\\u0001\\u001F\\n\\té\u{7f}\\uD83D\\uDE00€\"".as_bytes()
        );
    }

    #[test]
    fn base64_decodes_like_jackson() {
        assert_eq!(decode_base64("A/8=").unwrap(), vec![0x03, 0xff]);
        assert_eq!(decode_base64("AJw=").unwrap(), vec![0x00, 0x9c]);
        assert_eq!(decode_base64(" dGVzdA==").unwrap(), b"test");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("AA==AA==").unwrap(), vec![0, 0]);
        assert!(decode_base64("AJw").is_err());
        assert!(decode_base64("A!==").is_err());
    }
}
