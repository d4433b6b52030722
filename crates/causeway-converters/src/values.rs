//! Connect's `Values.convertToString` and `Values.parseString` (`org.apache.kafka.connect.data.Values`), which
//! `SimpleHeaderConverter` uses to write header values as text and to infer a schema when reading them back.
//!
//! The parser is a faithful port, quirks included: it tokenises on `: , { } [ ] "`, tries temporal literals
//! (`yyyy-MM-dd`, `HH:mm:ss.SSS'Z'`, and both joined with `T`) before numbers, gives integers the smallest
//! integer type that holds them, other numbers `float32` when they fit (else `float64`, else Decimal), and
//! falls back to the whole input as a string when an array or map does not parse.

use std::sync::Arc;

use base64::Engine as _;
use bigdecimal::BigDecimal;
use bigdecimal::num_bigint::BigInt;
use causeway_api::{ConnectError, Result};
use causeway_data::{Schema, SchemaAndValue, SchemaBuilder, SchemaRef, SchemaType, Value, logical};

use crate::java_fmt::{self, MILLIS_PER_DAY};

/// Deepest array/map nesting parsed; deeper input is treated as Java treats a `StackOverflowError`.
const MAX_DEPTH: usize = 256;

/// Renders a value as `Values.convertToString` does; `None` for null.
///
/// Strings, numbers and booleans print as themselves, byte arrays as base64, dates as ISO-8601 UTC text
/// (`yyyy-MM-dd`, `HH:mm:ss.SSS'Z'` or both joined with `T`, chosen by the value), and arrays, maps and
/// structs as JSON-like text whose embedded strings are quoted with `\` and `"` escaped.
pub fn convert_to_string(_schema: Option<&SchemaRef>, value: &Value) -> Option<String> {
    if value.is_null() {
        return None;
    }
    let mut sb = String::new();
    append(&mut sb, value, false);
    Some(sb)
}

fn append(sb: &mut String, value: &Value, embedded: bool) {
    match value {
        Value::Null => sb.push_str("null"),
        Value::Int8(_)
        | Value::Int16(_)
        | Value::Int32(_)
        | Value::Int64(_)
        | Value::Float32(_)
        | Value::Float64(_)
        | Value::Decimal(_)
        | Value::Boolean(_) => sb.push_str(&java_fmt::object_to_string(value)),
        Value::String(s) => {
            if embedded {
                sb.push('"');
                sb.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
                sb.push('"');
            } else {
                sb.push_str(s);
            }
        }
        Value::Bytes(b) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(b);
            if embedded {
                sb.push('"');
                sb.push_str(&encoded);
                sb.push('"');
            } else {
                sb.push_str(&encoded);
            }
        }
        Value::Array(items) => {
            sb.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    sb.push(',');
                }
                append(sb, item, true);
            }
            sb.push(']');
        }
        Value::Map(entries) => {
            sb.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    sb.push(',');
                }
                append(sb, k, true);
                sb.push(':');
                append(sb, v, true);
            }
            sb.push('}');
        }
        Value::Struct(st) => {
            sb.push('{');
            for (i, field) in st.schema().fields.iter().enumerate() {
                if i > 0 {
                    sb.push(',');
                }
                append(sb, &Value::String(field.name.clone()), true);
                sb.push(':');
                append(sb, st.get(&field.name).unwrap_or(&Value::Null), true);
            }
            sb.push('}');
        }
        Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => {
            sb.push_str(&format_date(java_fmt::temporal_millis(value).unwrap_or(0)));
        }
    }
}

/// `Values.dateFormatFor(value).format(value)` in UTC.
fn format_date(millis: i64) -> String {
    let c = java_fmt::civil(millis);
    let time = format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        c.hour, c.minute, c.second, c.millis
    );
    // SimpleDateFormat prints the era year: year 0 is 1 BC.
    let year = if c.year <= 0 { 1 - c.year } else { c.year };
    let date = format!("{year:04}-{:02}-{:02}", c.month, c.day);
    if millis < MILLIS_PER_DAY {
        time
    } else if millis % MILLIS_PER_DAY == 0 {
        date
    } else {
        format!("{date}T{time}")
    }
}

/// Parses text as `Values.parseString` does, inferring the schema: `null` → null, `true`/`false` → boolean,
/// integers → the smallest of int8/int16/int32/int64, other numbers → float32/float64/Decimal, ISO-8601 dates
/// and times → Date/Time/Timestamp, `[..]` → array, `{..}` → map, anything else → the whole text as a string.
///
/// # Errors
/// [`ConnectError::Data`] only when the text nests arrays or maps too deeply to parse.
pub fn parse_string(value: &str) -> Result<SchemaAndValue> {
    match parse_string_inner(value) {
        Ok(Some(p)) => Ok(SchemaAndValue::new(Some(p.schema), p.value)),
        Ok(None) => Ok(SchemaAndValue::NULL),
        Err(Fail::Data(msg)) => Err(ConnectError::Data(msg)),
        Err(Fail::Fatal(msg)) => Err(ConnectError::Data(msg)),
    }
}

/// Why parsing stopped: `Data` is a `DataException` (callers fall back to a string); `Fatal` anything else.
#[derive(Debug)]
pub(crate) enum Fail {
    Data(String),
    Fatal(String),
}

type Parse<T> = std::result::Result<T, Fail>;

/// A parsed value with its (never absent) schema.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub(crate) schema: SchemaRef,
    pub(crate) value: Value,
}

fn parsed(schema: SchemaRef, value: Value) -> Option<Parsed> {
    Some(Parsed { schema, value })
}

pub(crate) fn parse_string_inner(value: &str) -> Parse<Option<Parsed>> {
    if value.is_empty() {
        return Ok(parsed(Schema::string(), Value::String(String::new())));
    }
    let mut parser = ValueParser {
        p: Tokenizer::new(value),
    };
    parser.parse(false, 0)
}

/// Java's `String.trim()`: strips every char <= U+0020 from both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `Utils.isBlank`.
fn is_blank(s: &str) -> bool {
    java_trim(s).is_empty()
}

/// `Values.Parser`: splits on the delimiters `: , { } [ ] "` unless backslash-escaped.
struct Tokenizer {
    chars: Vec<char>,
    idx: usize,
    next_token: Option<String>,
    previous_token: Option<String>,
}

impl Tokenizer {
    fn new(s: &str) -> Self {
        Tokenizer {
            chars: s.chars().collect(),
            idx: 0,
            next_token: None,
            previous_token: None,
        }
    }

    fn original(&self) -> String {
        self.chars.iter().collect()
    }

    fn substring(&self, start: usize, end: usize) -> String {
        self.chars[start..end].iter().collect()
    }

    fn mark(&self) -> usize {
        self.idx - self.next_token.as_ref().map_or(0, |t| t.chars().count())
    }

    fn rewind_to(&mut self, position: usize) {
        self.idx = position;
        self.next_token = None;
        self.previous_token = None;
    }

    fn has_next(&self) -> bool {
        self.next_token.is_some() || self.can_consume_next_token()
    }

    fn can_consume_next_token(&self) -> bool {
        self.idx < self.chars.len()
    }

    fn next(&mut self) -> String {
        let token = match self.next_token.take() {
            Some(t) => t,
            None => self.consume_next_token(),
        };
        self.previous_token = Some(token.clone());
        token
    }

    fn next_n(&mut self, n: usize) -> Option<String> {
        let current = self.mark();
        let start = self.mark();
        for _ in 0..n {
            if !self.has_next() {
                self.rewind_to(start);
                return None;
            }
            self.next();
        }
        Some(self.substring(current, self.idx))
    }

    fn consume_next_token(&mut self) -> String {
        let mut escaped = false;
        let start = self.idx;
        while self.idx < self.chars.len() {
            match self.chars[self.idx] {
                '\\' => escaped = !escaped,
                ':' | ',' | '{' | '}' | '[' | ']' | '"' => {
                    if !escaped {
                        if start < self.idx {
                            return self.substring(start, self.idx);
                        }
                        self.idx += 1;
                        return self.substring(start, start + 1);
                    }
                    escaped = false;
                }
                _ => escaped = false,
            }
            self.idx += 1;
        }
        self.substring(start, self.idx)
    }

    fn can_consume(&mut self, expected: &str) -> bool {
        if self.is_next(expected) {
            self.next_token = None;
            return true;
        }
        false
    }

    fn is_next(&mut self, expected: &str) -> bool {
        if self.next_token.is_none() {
            if !self.has_next() {
                return false;
            }
            self.next_token = Some(self.consume_next_token());
        }
        while self.next_token.as_deref().is_some_and(is_blank) && self.can_consume_next_token() {
            self.next_token = Some(self.consume_next_token());
        }
        self.next_token
            .as_deref()
            .is_some_and(|t| java_trim(t) == expected)
    }
}

/// `Values.ValueParser`.
struct ValueParser {
    p: Tokenizer,
}

impl ValueParser {
    fn can_parse_single_token_literal(&mut self, embedded: bool, literal: &str) -> bool {
        let start = self.p.mark();
        if self.p.can_consume(literal) && (embedded || !self.p.has_next()) {
            return true;
        }
        self.p.rewind_to(start);
        false
    }

    fn parse(&mut self, embedded: bool, depth: usize) -> Parse<Option<Parsed>> {
        if !self.p.has_next() {
            return Ok(None);
        }
        if embedded && self.p.can_consume("\"") {
            return Ok(Some(self.parse_quoted_string()));
        }
        if self.can_parse_single_token_literal(embedded, "null") {
            return Ok(None);
        }
        if self.can_parse_single_token_literal(embedded, "true") {
            return Ok(parsed(Schema::boolean(), Value::Boolean(true)));
        }
        if self.can_parse_single_token_literal(embedded, "false") {
            return Ok(parsed(Schema::boolean(), Value::Boolean(false)));
        }
        let start = self.p.mark();
        let attempt = if self.p.can_consume("[") {
            Some(self.parse_array(depth + 1))
        } else if self.p.can_consume("{") {
            Some(self.parse_map(depth + 1))
        } else {
            None
        };
        match attempt {
            Some(Ok(v)) => return Ok(v),
            Some(Err(Fail::Data(_))) => self.p.rewind_to(start),
            Some(Err(fatal)) => return Err(fatal),
            None => {}
        }
        let token = self.p.next();
        if is_blank(&token) {
            return Ok(parsed(Schema::string(), Value::String(token)));
        }
        self.parse_next_token(embedded, java_trim(&token))
    }

    fn parse_next_token(&mut self, embedded: bool, token: &str) -> Parse<Option<Parsed>> {
        let first = token.chars().next().unwrap_or(' ');
        let first_is_digit = first.is_ascii_digit();
        if first_is_digit && let Some(t) = self.parse_multiple_tokens_as_temporal(token) {
            return Ok(Some(t));
        }
        if (first_is_digit || first == '+' || first == '-')
            && let Some(n) = parse_as_number(token)
        {
            return Ok(Some(n));
        }
        if embedded {
            return Err(Fail::Data("Failed to parse embedded value".into()));
        }
        Ok(parsed(Schema::string(), Value::String(self.p.original())))
    }

    fn parse_quoted_string(&mut self) -> Parsed {
        let mut sb = String::new();
        while self.p.has_next() {
            if self.p.can_consume("\"") {
                break;
            }
            sb.push_str(&self.p.next());
        }
        parse_as_temporal(&sb).unwrap_or(Parsed {
            schema: Schema::string(),
            value: Value::String(sb),
        })
    }

    fn parse_array(&mut self, depth: usize) -> Parse<Option<Parsed>> {
        if depth > MAX_DEPTH {
            return Err(Fail::Fatal("Values nested too deeply to parse".into()));
        }
        let mut result: Vec<Value> = Vec::new();
        let mut element_schema = SchemaMerger::default();
        while self.p.has_next() {
            if self.p.can_consume("]") {
                let list_schema = match element_schema.common() {
                    Some(common) => {
                        let list_schema = SchemaBuilder::array(common.clone()).build();
                        result = result
                            .into_iter()
                            .map(|v| convert_to(&common, v))
                            .collect::<Parse<_>>()?;
                        list_schema
                    }
                    // Every value is null.
                    None => SchemaBuilder::new(SchemaType::Array).build(),
                };
                return Ok(parsed(list_schema, Value::Array(result)));
            }
            if self.p.can_consume(",") {
                return Err(Fail::Data(format!(
                    "Unable to parse an empty array element: {}",
                    self.p.original()
                )));
            }
            let element = self.parse(true, depth)?;
            element_schema.merge(element.as_ref());
            result.push(element.map_or(Value::Null, |e| e.value));
            let current = self.p.mark();
            if self.p.can_consume("]") {
                self.p.rewind_to(current);
            } else if !self.p.can_consume(",") {
                return Err(Fail::Data("Array elements missing ',' delimiter".into()));
            }
        }
        if self.p.previous_token.as_deref() == Some(",") {
            return Err(Fail::Data(format!(
                "Array is missing element after ',': {}",
                self.p.original()
            )));
        }
        Err(Fail::Data(format!(
            "Array is missing terminating ']': {}",
            self.p.original()
        )))
    }

    fn parse_map(&mut self, depth: usize) -> Parse<Option<Parsed>> {
        if depth > MAX_DEPTH {
            return Err(Fail::Fatal("Values nested too deeply to parse".into()));
        }
        let mut result: Vec<(Value, Value)> = Vec::new();
        let mut key_schema = SchemaMerger::default();
        let mut value_schema = SchemaMerger::default();
        while self.p.has_next() {
            if self.p.can_consume("}") {
                let (map_schema, entries) = match (key_schema.common(), value_schema.common()) {
                    (Some(k), Some(v)) => {
                        let mut aligned = Vec::with_capacity(result.len());
                        for (key, value) in result {
                            let key = convert_to(&k, key)?;
                            let value = convert_to(&v, value)?;
                            put(&mut aligned, key, value);
                        }
                        (SchemaBuilder::map(k, v).build(), aligned)
                    }
                    (Some(k), None) => {
                        let mut aligned = Vec::with_capacity(result.len());
                        for (key, value) in result {
                            put(&mut aligned, convert_to(&k, key)?, value);
                        }
                        let mut schema = (*SchemaBuilder::new(SchemaType::Map).build()).clone();
                        schema.key_schema = Some(k);
                        (Arc::new(schema), aligned)
                    }
                    _ => (SchemaBuilder::new(SchemaType::Map).build(), result),
                };
                return Ok(parsed(map_schema, Value::Map(entries)));
            }
            if self.p.can_consume(",") {
                return Err(Fail::Data(format!(
                    "Unable to parse a map entry with no key or value: {}",
                    self.p.original()
                )));
            }
            let key = self.parse(true, depth)?;
            let Some(key) = key.filter(|k| !k.value.is_null()) else {
                return Err(Fail::Data(format!(
                    "Map entry may not have a null key: {}",
                    self.p.original()
                )));
            };
            if !self.p.can_consume(":") {
                return Err(Fail::Data(format!(
                    "Map entry is missing ':' at {} in {}",
                    self.p.idx,
                    self.p.original()
                )));
            }
            let value = self.parse(true, depth)?;
            let entry_value = value.as_ref().map_or(Value::Null, |v| v.value.clone());
            put(&mut result, key.value.clone(), entry_value);
            self.p.can_consume(",");
            key_schema.merge(Some(&key));
            value_schema.merge(value.as_ref());
        }
        if self.p.previous_token.as_deref() == Some(",") {
            return Err(Fail::Data(format!(
                "Map is missing element after ',': {}",
                self.p.original()
            )));
        }
        Err(Fail::Data(format!(
            "Map is missing terminating '}}': {}",
            self.p.original()
        )))
    }

    fn parse_multiple_tokens_as_temporal(&mut self, token: &str) -> Option<Parsed> {
        // Time and timestamp literals are split into 5 tokens on their unescaped colons.
        let position = self.p.mark();
        if let Some(remainder) = self.p.next_n(4)
            && let Some(t) = parse_as_temporal(&format!("{token}{remainder}"))
        {
            return Some(t);
        }
        self.p.rewind_to(position);
        parse_as_temporal(token)
    }
}

/// `LinkedHashMap.put`: a repeated key keeps its position and takes the new value.
fn put(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => entries.push((key, value)),
    }
}

/// `Values.SchemaMerger`: the schema common to every value seen, if any.
#[derive(Default)]
struct SchemaMerger {
    common: Option<SchemaRef>,
    incompatible: bool,
}

impl SchemaMerger {
    fn merge(&mut self, latest: Option<&Parsed>) {
        let Some(latest) = latest else { return };
        if self.incompatible {
            return;
        }
        self.common = match self.common.take() {
            None => Some(latest.schema.clone()),
            Some(previous) => {
                let merged = merge_schemas(&previous, &latest.schema);
                self.incompatible = merged.is_none();
                merged
            }
        };
    }

    fn common(&self) -> Option<SchemaRef> {
        self.common.clone()
    }
}

fn rank(t: SchemaType) -> Option<u8> {
    Some(match t {
        SchemaType::Int8 => 0,
        SchemaType::Int16 => 1,
        SchemaType::Int32 => 2,
        SchemaType::Int64 => 3,
        SchemaType::Float32 => 4,
        SchemaType::Float64 => 5,
        _ => return None,
    })
}

/// `Values.mergeSchemas`: numeric types widen (int8 < int16 < int32 < int64 < float32 < float64); equal types
/// keep the newer schema; anything else has no common schema.
fn merge_schemas(previous: &SchemaRef, new: &SchemaRef) -> Option<SchemaRef> {
    if previous.schema_type != new.schema_type {
        let (p, n) = (rank(previous.schema_type)?, rank(new.schema_type)?);
        return Some(if n > p { new.clone() } else { previous.clone() });
    }
    if previous.optional == new.optional {
        return Some(if previous.optional {
            previous.clone()
        } else {
            new.clone()
        });
    }
    if previous != new {
        return None;
    }
    Some(previous.clone())
}

/// `Values.convertTo(toSchema, null, value)`, for the schemas the parser can infer.
fn convert_to(to: &Schema, value: Value) -> Parse<Value> {
    if value.is_null() {
        if to.optional {
            return Ok(Value::Null);
        }
        return Err(Fail::Data(
            "Unable to convert a null value to a schema that requires a value".into(),
        ));
    }
    let name = to.name.as_deref();
    Ok(match to.schema_type {
        SchemaType::Bytes if name == Some(logical::DECIMAL) => match value {
            Value::Decimal(d) => Value::Decimal(d),
            Value::Bytes(b) => {
                Value::Decimal(logical::decimal_from_bytes(to, &b).map_err(|e| Fail::Data(e.0))?)
            }
            Value::String(s) => match parse_java_bigdecimal(&s) {
                Some(d) => Value::Decimal(d),
                None => {
                    return Err(Fail::Fatal(format!(
                        "Character array is not a valid decimal number: {s}"
                    )));
                }
            },
            other if other_is_number(&other) => {
                // BigDecimal.valueOf(double): the decimal of Double.toString.
                let d = java_fmt::double_to_string(as_double(&other)?);
                Value::Decimal(parse_java_bigdecimal(&d).unwrap_or_default())
            }
            other => return Err(unable(&other, to)),
        },
        SchemaType::Bytes => match value {
            Value::Bytes(b) => Value::Bytes(b),
            Value::Decimal(d) => {
                Value::Bytes(logical::decimal_to_bytes(to, &d).map_err(|e| Fail::Data(e.0))?)
            }
            other => return Err(unable(&other, to)),
        },
        SchemaType::String => Value::String(convert_to_string(None, &value).unwrap_or_default()),
        SchemaType::Boolean => match value {
            Value::Boolean(b) => Value::Boolean(b),
            Value::String(s) => match parse_string_inner(&s)? {
                Some(Parsed {
                    value: Value::Boolean(b),
                    ..
                }) => Value::Boolean(b),
                _ => Value::Boolean(as_long(&Value::String(s))? != 0),
            },
            other => Value::Boolean(as_long(&other)? != 0),
        },
        SchemaType::Int8 => match value {
            Value::Int8(v) => Value::Int8(v),
            other => Value::Int8(as_long(&other)? as i8),
        },
        SchemaType::Int16 => match value {
            Value::Int16(v) => Value::Int16(v),
            other => Value::Int16(as_long(&other)? as i16),
        },
        SchemaType::Int32 if name == Some(logical::DATE) => {
            let value = reparse(value)?;
            match java_fmt::temporal_millis(&value) {
                Some(ms) => Value::Date(ms.div_euclid(MILLIS_PER_DAY) as i32),
                None => Value::Date(as_long(&value)? as i32),
            }
        }
        SchemaType::Int32 if name == Some(logical::TIME) => {
            let value = reparse(value)?;
            match java_fmt::temporal_millis(&value) {
                Some(ms) => Value::Time(ms as i32),
                None => {
                    let ms = as_long(&value)? as i32;
                    if ms < 0 || i64::from(ms) > MILLIS_PER_DAY {
                        return Err(Fail::Data(
                            "Time values must use number of milliseconds greater than 0 and less than 86400000"
                                .into(),
                        ));
                    }
                    Value::Time(ms)
                }
            }
        }
        SchemaType::Int32 => match value {
            Value::Int32(v) => Value::Int32(v),
            other => Value::Int32(as_long(&other)? as i32),
        },
        SchemaType::Int64 if name == Some(logical::TIMESTAMP) => {
            let value = reparse(value)?;
            match java_fmt::temporal_millis(&value) {
                Some(ms) => Value::Timestamp(ms),
                None => Value::Timestamp(as_long(&value)?),
            }
        }
        SchemaType::Int64 => match value {
            Value::Int64(v) => Value::Int64(v),
            other => Value::Int64(as_long(&other)?),
        },
        SchemaType::Float32 => match value {
            Value::Float32(v) => Value::Float32(v),
            other => Value::Float32(as_double(&other)? as f32),
        },
        SchemaType::Float64 => match value {
            Value::Float64(v) => Value::Float64(v),
            other => Value::Float64(as_double(&other)?),
        },
        SchemaType::Array => match reparse(value)? {
            v @ Value::Array(_) => v,
            other => return Err(unable(&other, to)),
        },
        SchemaType::Map => match reparse(value)? {
            v @ Value::Map(_) => v,
            other => return Err(unable(&other, to)),
        },
        SchemaType::Struct => match value {
            v @ Value::Struct(_) => v,
            other => return Err(unable(&other, to)),
        },
    })
}

/// A string value is parsed first by the temporal, array and map conversions.
fn reparse(value: Value) -> Parse<Value> {
    match value {
        Value::String(s) => Ok(parse_string_inner(&s)?.map_or(Value::Null, |p| p.value)),
        other => Ok(other),
    }
}

fn other_is_number(v: &Value) -> bool {
    matches!(
        v,
        Value::Int8(_)
            | Value::Int16(_)
            | Value::Int32(_)
            | Value::Int64(_)
            | Value::Float32(_)
            | Value::Float64(_)
    )
}

fn unable(value: &Value, to: &Schema) -> Fail {
    Fail::Data(format!(
        "Unable to convert {} (class {}) to {:?}",
        java_fmt::object_to_string(value),
        value.type_name(),
        to.schema_type
    ))
}

/// `Values.asLong(value, null, null)`.
fn as_long(value: &Value) -> Parse<i64> {
    Ok(match value {
        Value::Int8(v) => (*v).into(),
        Value::Int16(v) => (*v).into(),
        Value::Int32(v) => (*v).into(),
        Value::Int64(v) => *v,
        Value::Float32(v) => *v as i64,
        Value::Float64(v) => *v as i64,
        Value::Decimal(d) => java_fmt::bigdecimal_low_i64(d),
        Value::String(s) => match parse_java_bigdecimal(s) {
            Some(d) => java_fmt::bigdecimal_low_i64(&d),
            None => {
                return Err(Fail::Data(format!(
                    "Unable to convert {s} (class java.lang.String) to a number"
                )));
            }
        },
        other => {
            return Err(Fail::Data(format!(
                "Unable to convert {} (class {}) to a number",
                java_fmt::object_to_string(other),
                other.type_name()
            )));
        }
    })
}

/// `Values.asDouble(value, null, null)`.
fn as_double(value: &Value) -> Parse<f64> {
    Ok(match value {
        Value::Int8(v) => (*v).into(),
        Value::Int16(v) => (*v).into(),
        Value::Int32(v) => (*v).into(),
        Value::Int64(v) => *v as f64,
        Value::Float32(v) => (*v).into(),
        Value::Float64(v) => *v,
        Value::Decimal(d) => java_fmt::bigdecimal_to_f64(d),
        Value::String(s) => match parse_java_bigdecimal(s) {
            Some(d) => java_fmt::bigdecimal_to_f64(&d),
            None => as_long(value)? as f64,
        },
        other => as_long(other)? as f64,
    })
}

/// `new BigDecimal(String)`: optional sign, digits with at most one `.`, optional exponent; the scale must fit
/// an `int`. `None` where Java throws `NumberFormatException`.
fn parse_java_bigdecimal(s: &str) -> Option<BigDecimal> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let exp: i64 = match exp {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let v: i64 = e.strip_prefix('+').unwrap_or(e).parse().ok()?;
            i32::try_from(v).ok()?;
            v
        }
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

/// `ValueParser.parseAsNumber`; `None` where Java's `BigDecimal` constructor rejects the token.
fn parse_as_number(token: &str) -> Option<Parsed> {
    let decimal = parse_java_bigdecimal(token)?;
    if let Some(exact) = parse_as_exact_decimal(&decimal) {
        return Some(exact);
    }
    let (_, scale) = decimal.as_bigint_and_exponent();
    let f = java_fmt::bigdecimal_to_f32(&decimal);
    let d = java_fmt::bigdecimal_to_f64(&decimal);
    if f.is_finite() && scale != 0 {
        return parsed(Schema::float32(), Value::Float32(f));
    }
    if d.is_finite() && scale != 0 {
        return parsed(Schema::float64(), Value::Float64(d));
    }
    parsed(
        logical::decimal(scale as i32).build(),
        Value::Decimal(decimal),
    )
}

/// `ValueParser.parseAsExactDecimal`: an integral value within `long` range, as the smallest integer type.
fn parse_as_exact_decimal(decimal: &BigDecimal) -> Option<Parsed> {
    let (unscaled, scale) = decimal.as_bigint_and_exponent();
    let zero = BigInt::from(0u8);
    let integral: BigInt = if unscaled == zero {
        zero
    } else if scale <= 0 {
        let digits = unscaled.magnitude().to_string().len() as i64;
        if digits - scale > 19 {
            return None;
        }
        unscaled * BigInt::from(10u8).pow((-scale) as u32)
    } else {
        let digits = unscaled.magnitude().to_string().len() as i64;
        if scale > digits {
            return None;
        }
        let divisor = BigInt::from(10u8).pow(scale as u32);
        if &unscaled % &divisor != zero {
            return None;
        }
        unscaled / divisor
    };
    let v: i64 = i64::try_from(&integral).ok()?;
    Some(if let Ok(b) = i8::try_from(v) {
        Parsed {
            schema: Schema::int8(),
            value: Value::Int8(b),
        }
    } else if let Ok(s) = i16::try_from(v) {
        Parsed {
            schema: Schema::int16(),
            value: Value::Int16(s),
        }
    } else if let Ok(i) = i32::try_from(v) {
        Parsed {
            schema: Schema::int32(),
            value: Value::Int32(i),
        }
    } else {
        Parsed {
            schema: Schema::int64(),
            value: Value::Int64(v),
        }
    })
}

#[derive(Clone, Copy)]
enum Temporal {
    Date,
    Time,
    Timestamp,
}

/// `ValueParser.parseAsTemporal`: picks the pattern by length (10, 13 or 24 UTF-16 units) after unescaping
/// `\:`.
fn parse_as_temporal(token: &str) -> Option<Parsed> {
    let token = token.replace("\\:", ":");
    let kind = match token.encode_utf16().count() {
        13 => Temporal::Time,
        24 => Temporal::Timestamp,
        10 => Temporal::Date,
        _ => return None,
    };
    let millis = lenient_parse(&token, kind)?;
    Some(match kind {
        Temporal::Date => Parsed {
            schema: logical::date().build(),
            value: Value::Date(millis.div_euclid(MILLIS_PER_DAY) as i32),
        },
        Temporal::Time => Parsed {
            schema: logical::time().build(),
            value: Value::Time(millis as i32),
        },
        Temporal::Timestamp => Parsed {
            schema: logical::timestamp().build(),
            value: Value::Timestamp(millis),
        },
    })
}

#[derive(Clone, Copy)]
enum Field {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Milli,
}

enum Elem {
    Num(Field),
    Lit(char),
}

/// A lenient `SimpleDateFormat.parse(text, pos)` (UTC) for `yyyy-MM-dd`, `HH:mm:ss.SSS'Z'` and their
/// `T`-joined combination: numeric fields take an optional `-` and any run of digits after skipped spaces,
/// out-of-range fields roll over, and text after the pattern is ignored.
fn lenient_parse(token: &str, kind: Temporal) -> Option<i64> {
    use Elem::{Lit, Num};
    const DATE: [Elem; 5] = [
        Num(Field::Year),
        Lit('-'),
        Num(Field::Month),
        Lit('-'),
        Num(Field::Day),
    ];
    const TIME: [Elem; 8] = [
        Num(Field::Hour),
        Lit(':'),
        Num(Field::Minute),
        Lit(':'),
        Num(Field::Second),
        Lit('.'),
        Num(Field::Milli),
        Lit('Z'),
    ];
    let pattern: Vec<&Elem> = match kind {
        Temporal::Date => DATE.iter().collect(),
        Temporal::Time => TIME.iter().collect(),
        Temporal::Timestamp => DATE
            .iter()
            .chain(std::iter::once(&Lit('T')))
            .chain(TIME.iter())
            .collect(),
    };
    let chars: Vec<char> = token.chars().collect();
    let mut pos = 0;
    let (mut year, mut month, mut day) = (1970i64, 1i64, 1i64);
    let (mut hour, mut minute, mut second, mut milli) = (0i64, 0i64, 0i64, 0i64);
    for elem in pattern {
        match elem {
            Lit(c) => {
                if chars.get(pos) != Some(c) {
                    return None;
                }
                pos += 1;
            }
            Num(field) => {
                while matches!(chars.get(pos), Some(' ' | '\t')) {
                    pos += 1;
                }
                let neg = chars.get(pos) == Some(&'-');
                if neg {
                    pos += 1;
                }
                let start = pos;
                let mut v: i64 = 0;
                while let Some(d) = chars.get(pos).and_then(|c| c.to_digit(10)) {
                    v = v.saturating_mul(10).saturating_add(i64::from(d));
                    pos += 1;
                }
                if pos == start {
                    return None;
                }
                // DecimalFormat yields a Long; the calendar takes its intValue().
                let v = i64::from((if neg { -v } else { v }) as i32);
                match field {
                    Field::Year => year = v,
                    Field::Month => month = v,
                    Field::Day => day = v,
                    Field::Hour => hour = v,
                    Field::Minute => minute = v,
                    Field::Second => second = v,
                    Field::Milli => milli = v,
                }
            }
        }
    }
    let month0 = month - 1;
    let year = year + month0.div_euclid(12);
    let days = java_fmt::days_from_civil(year, month0.rem_euclid(12) + 1, 1) + (day - 1);
    Some(days * MILLIS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SchemaAndValue {
        parse_string(s).unwrap()
    }

    fn ty(sv: &SchemaAndValue) -> Option<SchemaType> {
        sv.schema.as_ref().map(|s| s.schema_type)
    }

    #[test]
    fn tokenizer_splits_like_java() {
        fn tokens(s: &str) -> Vec<String> {
            let mut t = Tokenizer::new(s);
            let mut out = Vec::new();
            while t.has_next() {
                out.push(t.next());
            }
            out
        }
        assert_eq!(tokens("a{bc}d"), ["a", "{", "bc", "}", "d"]);
        assert_eq!(tokens("a { b c } d"), ["a ", "{", " b c ", "}", " d"]);
        assert_eq!(
            tokens("\"simple\" string"),
            ["\"", "simple", "\"", " string"]
        );
        assert_eq!(tokens("si\\:mple"), ["si\\:mple"]);
        assert_eq!(tokens("si\\\\:mple"), ["si\\\\", ":", "mple"]);
        let mut t = Tokenizer::new("a:b:c:d:e:f:g:h");
        assert_eq!(t.next_n(5).as_deref(), Some("a:b:c"));
        assert_eq!(t.next(), ":");
        assert_eq!(t.next(), "d");
        assert_eq!(t.next(), ":");
        assert_eq!(t.next_n(8), None);
        assert_eq!(t.next(), "e");
    }

    #[test]
    fn scalars_parse_like_values_test() {
        assert_eq!(
            p(""),
            SchemaAndValue::new(Some(Schema::string()), "".into())
        );
        assert_eq!(p("null"), SchemaAndValue::NULL);
        assert_eq!(p("  null  "), SchemaAndValue::NULL);
        assert_eq!(
            p(" true "),
            SchemaAndValue::new(Some(Schema::boolean()), true.into())
        );
        assert_eq!(p("true}").value, Value::String("true}".into()));
        assert_eq!(p("false]").value, Value::String("false]".into()));
        assert_eq!(p("null=").value, Value::String("null=".into()));
        assert_eq!(
            p("1.0"),
            SchemaAndValue::new(Some(Schema::int8()), Value::Int8(1))
        );
        assert_eq!(
            p("1.1"),
            SchemaAndValue::new(Some(Schema::float32()), Value::Float32(1.1))
        );
        assert_eq!(
            p("300.0"),
            SchemaAndValue::new(Some(Schema::int16()), Value::Int16(300))
        );
        assert_eq!(p("300.01").value, Value::Float32(300.01));
        assert_eq!(p("66000.0").value, Value::Int32(66000));
        assert_eq!(p("66000.0008").value, Value::Float32(66000.0008));
        assert_eq!(p("5000000000").value, Value::Int64(5_000_000_000));
        assert_eq!(p("-128").value, Value::Int8(-128));
        assert_eq!(ty(&p("1e400")), Some(SchemaType::Bytes));
        assert_eq!(p("1.5e300").value, Value::Float64(1.5e300));
        assert_eq!(ty(&p("12345678901234567890")), Some(SchemaType::Bytes));
        assert_eq!(
            p("simple string").value,
            Value::String("simple string".into())
        );
        assert_eq!(p("1:2").value, Value::Int8(1));
        let odd = String::from_utf8(vec![0xEF, 0xBF, 0xBF]).unwrap();
        assert_eq!(p(&odd).value, Value::String(odd.clone()));
    }

    #[test]
    fn temporals_parse_like_values_test() {
        let ts = p("2019-08-23T14:34:54.346Z");
        assert_eq!(ts.schema.unwrap().name.as_deref(), Some(logical::TIMESTAMP));
        assert_eq!(ts.value, Value::Timestamp(1_566_570_894_346));
        let esc = p("2019-08-23T14\\:34\\:54.346Z");
        assert_eq!(esc.value, Value::Timestamp(1_566_570_894_346));
        assert_eq!(p("2019-08-23").value, Value::Date(18_131));
        assert_eq!(p("14:34:54.346Z").value, Value::Time(52_494_346));
        assert_eq!(p("14\\:34\\:54.346Z").value, Value::Time(52_494_346));
        let arr =
            p("[2019-08-23T14:34:54.346Z,2019-01-23T15:12:34.567Z,   2019-04-23T19:12:34.567Z]");
        let schema = arr.schema.unwrap();
        assert_eq!(
            schema.value_schema.as_ref().unwrap().name.as_deref(),
            Some(logical::TIMESTAMP)
        );
        let map = p("{\"k1\":\"14:34:54.346Z\"}");
        assert_eq!(
            map.value,
            Value::Map(vec![("k1".into(), Value::Time(52_494_346))])
        );
        let map = p("{\"k1\":14:34:54.346Z}");
        assert_eq!(
            map.value,
            Value::Map(vec![("k1".into(), Value::Time(52_494_346))])
        );
        // Lenient rollover: month 13 is January of the next year.
        assert_eq!(
            p("2019-13-01").value,
            Value::Date(java_fmt::days_from_civil(2020, 1, 1) as i32)
        );
    }

    #[test]
    fn containers_parse_like_values_test() {
        let a = p("[true, false]");
        assert_eq!(a.value, Value::Array(vec![true.into(), false.into()]));
        assert_eq!(
            a.schema.unwrap().value_schema.as_ref().unwrap().schema_type,
            SchemaType::Boolean
        );
        let m = p("{true: false, false: true}");
        assert_eq!(ty(&m), Some(SchemaType::Map));
        assert_eq!(p("{6:9 4:20}").value, Value::String("{6:9 4:20}".into()));
        assert_eq!(p("[0 1 2]").value, Value::String("[0 1 2]".into()));
        assert_eq!(p("{}").value, Value::Map(vec![]));
        assert_eq!(p("[]").value, Value::Array(vec![]));
        assert_eq!(p("{null: 3}").value, Value::String("{null: 3}".into()));
        assert_eq!(p("{foo: 3}").value, Value::String("{foo: 3}".into()));
        assert_eq!(p("[foo]").value, Value::String("[foo]".into()));
        let m = p("{3: null}");
        assert_eq!(m.value, Value::Map(vec![(Value::Int8(3), Value::Null)]));
        let s = m.schema.unwrap();
        assert_eq!(s.key_schema.as_ref().unwrap().schema_type, SchemaType::Int8);
        assert!(s.value_schema.is_none());
        assert_eq!(p("[null]").value, Value::Array(vec![Value::Null]));
        assert_eq!(p("[1, null]").value, Value::String("[1, null]".into()));
        assert_eq!(p("[null, 1]").value, Value::String("[null, 1]".into()));
        assert_eq!(
            p("[1, 2, 3,,,]").value,
            Value::String("[1, 2, 3,,,]".into())
        );
        let mixed = p("[1, 2, 300, \"four\"]");
        assert!(mixed.schema.unwrap().value_schema.is_none());
        assert_eq!(
            mixed.value,
            Value::Array(vec![
                Value::Int8(1),
                Value::Int8(2),
                Value::Int16(300),
                "four".into()
            ])
        );
        let widened = p("[1, 300, 70000]");
        assert_eq!(
            widened.value,
            Value::Array(vec![
                Value::Int32(1),
                Value::Int32(300),
                Value::Int32(70000)
            ])
        );
        let m = p("{1:1, 2:1, 300:300, 4:\"four\"}");
        assert_eq!(
            m.value,
            Value::Map(vec![
                (Value::Int16(1), Value::Int8(1)),
                (Value::Int16(2), Value::Int8(1)),
                (Value::Int16(300), Value::Int16(300)),
                (Value::Int16(4), "four".into()),
            ])
        );
        assert_eq!(
            ty(&p("[[]]")).zip(
                p("[[]]")
                    .schema
                    .unwrap()
                    .value_schema
                    .as_ref()
                    .map(|s| s.schema_type)
            ),
            Some((SchemaType::Array, SchemaType::Array))
        );
        assert_eq!(ty(&p("{\"a\":{}}")), Some(SchemaType::Map));
        let deep = "[".repeat(2000) + &"]".repeat(2000);
        assert!(parse_string(&deep).is_err());
    }

    #[test]
    fn values_render_like_convert_to_string() {
        let s = |v: Value| convert_to_string(None, &v).unwrap();
        assert_eq!(s("three\"blind\\\"mice".into()), "three\"blind\\\"mice");
        assert_eq!(
            s(Value::Array(vec!["three\"blind\\\"mice".into()])),
            "[\"three\\\"blind\\\\\\\"mice\"]"
        );
        assert_eq!(s(Value::Float64(1.0)), "1.0");
        assert_eq!(s(Value::Bytes(b"test".to_vec())), "dGVzdA==");
        assert_eq!(
            s(Value::Map(vec![
                ("a".into(), Value::Int32(1)),
                ("b".into(), Value::Null)
            ])),
            "{\"a\":1,\"b\":null}"
        );
        assert_eq!(s(Value::Date(18_131)), "2019-08-23");
        assert_eq!(s(Value::Time(52_494_346)), "14:34:54.346Z");
        assert_eq!(
            s(Value::Timestamp(1_566_570_894_346)),
            "2019-08-23T14:34:54.346Z"
        );
        assert_eq!(s(Value::Timestamp(0)), "00:00:00.000Z");
        assert_eq!(convert_to_string(None, &Value::Null), None);
    }

    #[test]
    fn round_trips_through_text() {
        let values = [
            Value::Int8(1),
            Value::Int16(300),
            Value::Int32(1_234_567_890),
            Value::Int64(5_000_000_000),
            Value::Boolean(true),
            Value::String("simple".into()),
            Value::Array(vec!["foo".into(), "bar".into()]),
            Value::Map(vec![
                ("foo".into(), Value::Int32(1_234_567_890)),
                ("bar".into(), Value::Int32(-987_654_321)),
            ]),
            Value::Date(18_131),
            Value::Time(52_494_346),
            Value::Timestamp(1_566_570_894_346),
        ];
        for v in values {
            let text = convert_to_string(None, &v).unwrap();
            assert_eq!(p(&text).value, v, "{text}");
        }
    }
}
