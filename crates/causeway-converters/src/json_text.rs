//! A JSON tree and a compact writer that renders numbers and escapes the way Jackson does, so our output is
//! byte-identical to Java's JsonConverter.
use std::fmt::Write;

/// A JSON value whose numbers keep their Java type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Int(i64),
    F32(f32),
    F64(f64),
    /// A decimal written as a plain JSON number (`decimal.format=NUMERIC`).
    Decimal(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub(crate) fn obj(fields: Vec<(&str, Json)>) -> Json {
        Json::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

/// Java's `Double.toString` / `Float.toString`: plain notation in [1e-3, 1e7), else `1.0E10` style.
fn java_float(v: f64, shortest: String) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        if shortest.contains('.') || shortest.contains('e') {
            shortest
        } else {
            format!("{shortest}.0")
        }
    } else {
        // `shortest` is Rust's `{:e}`: `1e10`, `-1.5e-5`.
        let (mant, exp) = shortest.split_once('e').unwrap_or((&shortest, "0"));
        let mant = if mant.contains('.') {
            mant.to_owned()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

pub(crate) fn write(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Json::F32(f) => out.push_str(&java_float(
            f64::from(*f),
            if f.abs() >= 1e7 || (f.abs() < 1e-3 && *f != 0.0) {
                format!("{f:e}")
            } else {
                format!("{f}")
            },
        )),
        Json::F64(f) => out.push_str(&java_float(
            *f,
            if f.abs() >= 1e7 || (f.abs() < 1e-3 && *f != 0.0) {
                format!("{f:e}")
            } else {
                format!("{f}")
            },
        )),
        Json::Decimal(d) => out.push_str(d),
        Json::Str(s) => write_str(out, s),
        Json::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Json::Obj(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write(out, v);
            }
            out.push('}');
        }
    }
}

pub(crate) fn to_string(v: &Json) -> String {
    let mut s = String::new();
    write(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_escapes_match_jackson() {
        let v = Json::Arr(vec![
            Json::F64(1.0),
            Json::F64(1e10),
            Json::F64(0.5),
            Json::F64(1.5e-5),
            Json::F32(2.5),
            Json::Int(-3),
            Json::Str("a\"b\\c\u{1}/é".into()),
        ]);
        assert_eq!(
            to_string(&v),
            r#"[1.0,1.0E10,0.5,1.5E-5,2.5,-3,"a\"b\\c\u0001/é"]"#
        );
    }
}
