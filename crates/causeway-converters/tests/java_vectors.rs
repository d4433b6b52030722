//! Cross-checks against what Apache Kafka 4.0.0's own classes produced for the same inputs (run on a JDK, the
//! results stored under `tests/data/`): each line holds an input and Java's outcome, rendered as
//! `schema | value | bytes written back` (or `ERR <class>: <message>`).
//!
//! Rendering: schemas as `type(name)?<items>` with defaults, versions, docs and parameters; values tagged by
//! Java class (`i8:`, `f64:<bits>`, `dec:<unscaled>/<scale>`, `date:<millis>` …); HashMap entries sorted,
//! LinkedHashMap entries in order.

use causeway_api::{ConnectError, Converter, HeaderConverter, Props};
use causeway_converters::{JsonConverter, SimpleHeaderConverter};
use causeway_data::{Headers, Schema, SchemaType, Value};

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
}

fn schema(s: Option<&Schema>, sort: bool) -> String {
    let Some(s) = s else {
        return "null".into();
    };
    let mut out = s.schema_type.name().to_string();
    if let Some(n) = &s.name {
        out += &format!("({n})");
    }
    if s.optional {
        out += "?";
    }
    match s.schema_type {
        SchemaType::Array => out += &format!("<{}>", schema(s.value_schema.as_deref(), sort)),
        SchemaType::Map => {
            out += &format!(
                "<{},{}>",
                schema(s.key_schema.as_deref(), sort),
                schema(s.value_schema.as_deref(), sort)
            )
        }
        SchemaType::Struct => {
            out += "{";
            for f in &s.fields {
                out += &format!("{}:{};", f.name, schema(Some(&f.schema), sort));
            }
            out += "}";
        }
        _ => {}
    }
    if let Some(d) = &s.default_value {
        out += &format!("={}", value(d, sort));
    }
    if let Some(v) = s.version {
        out += &format!("v{v}");
    }
    if let Some(d) = &s.doc {
        out += &format!("doc:{d}");
    }
    if let Some(p) = &s.parameters {
        let kv: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out += &format!("p{{{}}}", kv.join(", "));
    }
    out
}

fn value(v: &Value, sort: bool) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Int8(x) => format!("i8:{x}"),
        Value::Int16(x) => format!("i16:{x}"),
        Value::Int32(x) => format!("i32:{x}"),
        Value::Int64(x) => format!("i64:{x}"),
        Value::Float32(x) => format!("f32:{:x}", x.to_bits()),
        Value::Float64(x) => format!("f64:{:x}", x.to_bits()),
        Value::Boolean(b) => format!("b:{b}"),
        Value::String(s) => format!("s:\"{}\"", esc(s)),
        Value::Bytes(b) => {
            use base64::Engine as _;
            format!(
                "bytes:{}",
                base64::engine::general_purpose::STANDARD.encode(b)
            )
        }
        Value::Decimal(d) => {
            let (u, s) = d.as_bigint_and_exponent();
            format!("dec:{u}/{s}")
        }
        Value::Date(d) => format!("date:{}", i64::from(*d) * 86_400_000),
        Value::Time(t) => format!("date:{t}"),
        Value::Timestamp(t) => format!("date:{t}"),
        Value::Array(items) => {
            let mut s = "[".to_string();
            for i in items {
                s += &value(i, sort);
                s += ",";
            }
            s + "]"
        }
        Value::Map(entries) => {
            let mut e: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}=>{}", value(k, sort), value(v, sort)))
                .collect();
            if sort {
                e.sort();
            }
            format!("{{{}}}", e.join(","))
        }
        Value::Struct(st) => {
            let mut s = "struct{".to_string();
            for f in &st.schema().fields {
                let v = st.get_without_default(&f.name).unwrap_or(&Value::Null);
                s += &format!("{}={};", f.name, value(v, sort));
            }
            s + "}"
        }
    }
}

fn err(e: &ConnectError) -> String {
    format!("ERR {}", esc(e.message()))
}

/// Compares one outcome with Java's; Java's `ERR <Class>: <message>` matches when our message starts with
/// Java's (we append the cause Java keeps in a separate exception).
fn same(java: &str, ours: &str) -> bool {
    let (j, o): (Vec<&str>, Vec<&str>) = (java.split(" | ").collect(), ours.split(" | ").collect());
    j.len() == o.len() && j.iter().zip(&o).all(|(j, o)| same_part(j, o))
}

fn same_part(java: &str, ours: &str) -> bool {
    if java == ours {
        return true;
    }
    match (java.strip_prefix("ERR "), ours.strip_prefix("ERR ")) {
        (Some(j), Some(o)) => {
            let j = j.split_once(": ").map_or(j, |(_, m)| m);
            o.starts_with(j)
        }
        _ => false,
    }
}

fn vectors(data: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    data.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#'))
        .map(|(i, l)| {
            let (input, java) = l.split_once('\t').expect("input<TAB>expected");
            (i + 1, input, java)
        })
}

fn json_reads(data: &str, schemas: bool, deviations: &[&str]) {
    let mut c = JsonConverter::new();
    let mut p = Props::new();
    p.insert("schemas.enable".into(), schemas.to_string());
    Converter::configure(&mut c, &p, false).unwrap();
    let h = Headers::new();
    let mut checked = 0;
    for (line, input, java) in vectors(data) {
        let ours = match c.to_connect_data("t", &h, Some(input.as_bytes())) {
            Ok(sv) => {
                let written = match c.from_connect_data("t", &h, sv.schema.as_ref(), &sv.value) {
                    Ok(Some(w)) => String::from_utf8(w).unwrap(),
                    Ok(None) => "TOMBSTONE".into(),
                    Err(e) => err(&e),
                };
                format!(
                    "{} | {} | {written}",
                    schema(sv.schema.as_deref(), true),
                    value(&sv.value, true)
                )
            }
            Err(e) => err(&e),
        };
        if deviations.contains(&input) {
            assert_ne!(java, ours, "line {line} is no longer a deviation: {input}");
            continue;
        }
        assert!(
            same(java, &ours),
            "line {line}: {input}\n java: {java}\n ours: {ours}"
        );
        checked += 1;
    }
    assert!(checked > 10);
}

#[test]
fn json_converter_reads_like_kafka() {
    json_reads(
        include_str!("data/json_reads.tsv"),
        true,
        // Apache reads a mismatched scalar leniently (here the default "x" becomes 0); we reject it.
        &[r#"{"schema":{"type":"int32","default":"x"},"payload":null}"#],
    );
}

#[test]
fn json_converter_reads_schemaless_like_kafka() {
    json_reads(
        include_str!("data/json_reads_schemaless.tsv"),
        false,
        // A lone surrogate escape: Java strings can hold it, Rust strings cannot (it becomes U+FFFD).
        &[r#""\ud800""#],
    );
}

#[test]
fn simple_header_converter_parses_like_kafka() {
    let c = SimpleHeaderConverter::new();
    let mut checked = 0;
    for (line, input, java) in vectors(include_str!("data/header_values.tsv")) {
        let ours = match c.to_connect_header("t", "k", Some(input.as_bytes())) {
            Ok(sv) if sv.schema.is_none() && sv.value.is_null() => "NULL".to_string(),
            Ok(sv) => {
                let written = match c
                    .from_connect_header("t", "k", sv.schema.as_ref(), &sv.value)
                    .unwrap()
                {
                    Some(w) => esc(&String::from_utf8(w).unwrap()),
                    None => "NULLBYTES".into(),
                };
                format!(
                    "{} | {} | {written}",
                    schema(sv.schema.as_deref(), false),
                    value(&sv.value, false)
                )
            }
            Err(e) => err(&e),
        };
        // A Time value aligned to a Date array stays a 14:34 java.util.Date in Java; a Connect Date value
        // holds whole days only.
        if input == "[14:34:54.346Z, 2019-08-23]" {
            assert_ne!(java, ours);
            continue;
        }
        assert!(
            same(java, &ours),
            "line {line}: {input:?}\n java: {java}\n ours: {ours}"
        );
        checked += 1;
    }
    assert!(checked > 80);
}
