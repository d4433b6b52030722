//! Java's text renderings of values: `Double.toString`, `Float.toString`, `BigDecimal.toString`,
//! `java.util.Date.toString` (in UTC) and `Object.toString` of Connect values.
//!
//! Converters write these strings onto the wire, so they must match the JDK character for character.

use bigdecimal::BigDecimal;
use bigdecimal::num_bigint::{BigInt, Sign};
use causeway_data::Value;

/// Milliseconds in a day.
pub(crate) const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// Java's `Double.toString` (JDK 19+ shortest-decimal algorithm).
pub(crate) fn double_to_string(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let (neg, digits, exp) = shortest(
        &format!("{v:e}"),
        |p| format!("{v:.p$e}"),
        |s| s.parse::<f64>().is_ok_and(|back| back == v),
    );
    layout(neg, &digits, exp)
}

/// Java's `Float.toString` (JDK 19+ shortest-decimal algorithm).
pub(crate) fn float_to_string(v: f32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let (neg, digits, exp) = shortest(
        &format!("{v:e}"),
        |p| format!("{v:.p$e}"),
        |s| s.parse::<f32>().is_ok_and(|back| back == v),
    );
    layout(neg, &digits, exp)
}

/// The digits Java's `toString` picks (JDK 19+, Raffaello Giulietti's algorithm): the shortest decimal that
/// rounds back to the value; when that has one digit, two-digit decimals compete too; the closest wins, and a
/// tie goes to the even last digit.
///
/// `sci` is Rust's shortest `{:e}` rendering, `fixed(p)` the exact rendering with `p` fractional digits, and
/// `round_trips` tells whether a decimal string parses back to the value.
fn shortest(
    sci: &str,
    fixed: impl Fn(usize) -> String,
    round_trips: impl Fn(&str) -> bool,
) -> (bool, String, i32) {
    let (neg, mut digits, mut exp) = split_sci(sci);
    let sign = if neg { "-" } else { "" };
    let render = |d: &str, e: i32| format!("{sign}{}.{}e{e}", &d[..1], &d[1..]);
    if digits.len() == 1 {
        let (_, d2, e2) = split_sci(&fixed(1));
        if !d2.ends_with('0') && round_trips(&render(&d2, e2)) {
            digits = d2;
            exp = e2;
        }
    }
    // A tie: the value lies exactly halfway between two decimals of this length. Rust's shortest may pick
    // either; Java picks the one with an even last digit.
    let n = digits.len();
    let (_, longer, longer_exp) = split_sci(&fixed(n));
    if longer.ends_with('5') && n <= 17 {
        let (_, exact, _) = split_sci(&fixed(n + 800));
        if exact[n + 1..].bytes().all(|b| b == b'0') {
            let lower: u64 = longer[..n].parse().unwrap_or(0);
            let candidates = [(lower, longer_exp), (lower + 1, longer_exp)];
            for (mantissa, e) in candidates {
                let mut d = format!("{mantissa:0n$}");
                let mut e = e;
                if d.len() > n {
                    // 99…9 + 1 carried into a new digit.
                    d.truncate(n);
                    e += 1;
                }
                if mantissa % 2 == 0 && round_trips(&render(&d, e)) {
                    let trimmed = d.trim_end_matches('0');
                    return (
                        neg,
                        if trimmed.is_empty() {
                            "0".into()
                        } else {
                            trimmed.into()
                        },
                        e,
                    );
                }
            }
        }
    }
    (neg, digits, exp)
}

/// Splits Rust's `{:e}` rendering (`-1.2345e-7`) into sign, significant digits and decimal exponent.
fn split_sci(s: &str) -> (bool, String, i32) {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (neg, digits, exp.parse().unwrap_or(0))
}

/// Lays out `d.ddd × 10^exp` as `Double.toString` does: plain for 1e-3 <= |v| < 1e7, else `d.dddE±n`.
fn layout(neg: bool, digits: &str, exp: i32) -> String {
    let mut s = String::with_capacity(digits.len() + 8);
    if neg {
        s.push('-');
    }
    if (-3..7).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                s.push_str(digits);
                s.extend(std::iter::repeat_n('0', int_len - digits.len()));
                s.push_str(".0");
            } else {
                s.push_str(&digits[..int_len]);
                s.push('.');
                s.push_str(&digits[int_len..]);
            }
        } else {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            s.push_str(digits);
        }
    } else {
        s.push_str(&digits[..1]);
        s.push('.');
        if digits.len() > 1 {
            s.push_str(&digits[1..]);
        } else {
            s.push('0');
        }
        s.push('E');
        s.push_str(&exp.to_string());
    }
    s
}

/// Java's `BigDecimal.toString` (scientific notation when the scale is negative or the adjusted exponent is
/// below -6).
pub(crate) fn bigdecimal_to_string(d: &BigDecimal) -> String {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    let neg = unscaled.sign() == Sign::Minus;
    let coeff = unscaled.magnitude().to_string();
    let mut s = String::with_capacity(coeff.len() + 8);
    if neg {
        s.push('-');
    }
    if scale == 0 {
        s.push_str(&coeff);
        return s;
    }
    let len = coeff.len() as i64;
    let adjusted = -scale + (len - 1);
    if scale > 0 && adjusted >= -6 {
        let scale = scale as usize;
        if coeff.len() > scale {
            let point = coeff.len() - scale;
            s.push_str(&coeff[..point]);
            s.push('.');
            s.push_str(&coeff[point..]);
        } else {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', scale - coeff.len()));
            s.push_str(&coeff);
        }
    } else {
        s.push_str(&coeff[..1]);
        if coeff.len() > 1 {
            s.push('.');
            s.push_str(&coeff[1..]);
        }
        if adjusted != 0 {
            s.push('E');
            if adjusted > 0 {
                s.push('+');
            }
            s.push_str(&adjusted.to_string());
        }
    }
    s
}

/// The value of a parsed decimal as `f64`, rounded correctly (`BigDecimal.doubleValue`). Java's BigDecimal has
/// no negative zero, so neither does this.
pub(crate) fn bigdecimal_to_f64(d: &BigDecimal) -> f64 {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    let v: f64 = format!("{unscaled}e{}", -scale).parse().unwrap_or(0.0);
    if v == 0.0 { 0.0 } else { v }
}

/// The value of a parsed decimal as `f32` (`BigDecimal.floatValue`).
pub(crate) fn bigdecimal_to_f32(d: &BigDecimal) -> f32 {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    let v: f32 = format!("{unscaled}e{}", -scale).parse().unwrap_or(0.0);
    if v == 0.0 { 0.0 } else { v }
}

/// The low 64 bits of the integer part of a decimal (`BigDecimal.longValue`), computed without materialising
/// huge powers of ten.
pub(crate) fn bigdecimal_low_i64(d: &BigDecimal) -> i64 {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    if scale <= 0 {
        if scale < -64 {
            // 10^64 is a multiple of 2^64, so the low 64 bits are zero.
            return 0;
        }
        let v = unscaled * BigInt::from(10u8).pow((-scale) as u32);
        bigint_low_i64(&v)
    } else {
        let digits = unscaled.magnitude().to_string();
        if scale as usize >= digits.len() {
            return 0;
        }
        let truncated = BigInt::from(10u8).pow(scale as u32);
        bigint_low_i64(&(unscaled / truncated))
    }
}

/// The low 64 bits of a big integer in two's complement (`BigInteger.longValue`).
pub(crate) fn bigint_low_i64(v: &BigInt) -> i64 {
    let low = v.magnitude().iter_u64_digits().next().unwrap_or(0);
    if v.sign() == Sign::Minus {
        low.wrapping_neg() as i64
    } else {
        low as i64
    }
}

/// Days since the epoch for a proleptic Gregorian date (month 1..=12).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date (year, month 1..=12, day 1..=31) of a day count since the epoch.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Broken-down UTC fields of an epoch-millisecond instant.
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: i64,
    pub(crate) day: i64,
    pub(crate) hour: i64,
    pub(crate) minute: i64,
    pub(crate) second: i64,
    pub(crate) millis: i64,
    pub(crate) weekday: usize,
}

/// Splits epoch milliseconds into UTC calendar fields.
pub(crate) fn civil(millis: i64) -> Civil {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let ms = millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: ms / 3_600_000,
        minute: ms / 60_000 % 60,
        second: ms / 1000 % 60,
        millis: ms % 1000,
        weekday: (days + 4).rem_euclid(7) as usize,
    }
}

/// `java.util.Date.toString()` for a JVM whose default time zone is UTC: `Thu Jan 01 00:00:00 UTC 1970`.
pub(crate) fn date_to_string(millis: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil(millis);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[c.weekday],
        MONTHS[(c.month - 1) as usize],
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.year
    )
}

/// Epoch milliseconds of a logical temporal value (what `java.util.Date.getTime()` would return).
pub(crate) fn temporal_millis(v: &Value) -> Option<i64> {
    match *v {
        Value::Date(days) => Some(i64::from(days) * MILLIS_PER_DAY),
        Value::Time(ms) => Some(i64::from(ms)),
        Value::Timestamp(ms) => Some(ms),
        _ => None,
    }
}

/// `java.util.Arrays.hashCode(byte[])`, used to render byte arrays deterministically.
fn bytes_hash(bytes: &[u8]) -> i32 {
    bytes.iter().fold(1i32, |h, b| {
        h.wrapping_mul(31).wrapping_add(i32::from(*b as i8))
    })
}

/// Java's `String.valueOf(Object)` for a Connect value, as `StringConverter` writes it.
///
/// Byte arrays print as `[B@` plus a hash, like Java's identity rendering (Java's hash is an identity hash and
/// so not reproducible; ours is the content hash).
pub(crate) fn object_to_string(v: &Value) -> String {
    let mut s = String::new();
    append_object(&mut s, v);
    s
}

fn append_object(s: &mut String, v: &Value) {
    match v {
        Value::Null => s.push_str("null"),
        Value::Int8(x) => s.push_str(&x.to_string()),
        Value::Int16(x) => s.push_str(&x.to_string()),
        Value::Int32(x) => s.push_str(&x.to_string()),
        Value::Int64(x) => s.push_str(&x.to_string()),
        Value::Float32(x) => s.push_str(&float_to_string(*x)),
        Value::Float64(x) => s.push_str(&double_to_string(*x)),
        Value::Boolean(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::String(x) => s.push_str(x),
        Value::Bytes(b) => s.push_str(&format!("[B@{:x}", bytes_hash(b) as u32)),
        Value::Array(items) => {
            s.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                append_object(s, item);
            }
            s.push(']');
        }
        Value::Map(entries) => {
            s.push('{');
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                append_object(s, k);
                s.push('=');
                append_object(s, val);
            }
            s.push('}');
        }
        Value::Struct(st) => {
            s.push_str("Struct{");
            let mut first = true;
            for field in &st.schema().fields {
                let val = st.get_index(field.index).unwrap_or(&Value::Null);
                if val.is_null() {
                    continue;
                }
                if !first {
                    s.push(',');
                }
                first = false;
                s.push_str(&field.name);
                s.push('=');
                append_object(s, val);
            }
            s.push('}');
        }
        Value::Decimal(d) => s.push_str(&bigdecimal_to_string(d)),
        Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => {
            s.push_str(&date_to_string(temporal_millis(v).unwrap_or(0)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn doubles_render_like_java() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (12.34, "12.34"),
            (100.0, "100.0"),
            (1e7, "1.0E7"),
            (9_999_999.0, "9999999.0"),
            (1e10, "1.0E10"),
            (1.0e-3, "0.001"),
            (1.0e-4, "1.0E-4"),
            (123_456_789.0, "1.23456789E8"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (4.9e-324, "4.9E-324"),
            (1e23, "1.0E23"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            (2.0 / 3.0, "0.6666666666666666"),
        ];
        for (v, want) in cases {
            assert_eq!(double_to_string(*v), *want, "{v:e}");
        }
    }

    #[test]
    fn floats_render_like_java() {
        let cases: &[(f32, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (12.34, "12.34"),
            (1.1, "1.1"),
            (3.4028235e38, "3.4028235E38"),
            (1.4e-45, "1.4E-45"),
            (1e7, "1.0E7"),
            (66000.0008, "66000.0"),
            // Exact ties (359427.125, -1383257.25): Java takes the even last digit.
            (f32::from_bits(0x48af_8064), "359427.12"),
            (f32::from_bits(0xc9a8_daca), "-1383257.2"),
        ];
        for (v, want) in cases {
            assert_eq!(float_to_string(*v), *want, "{v:e}");
        }
    }

    #[test]
    fn bigdecimals_render_like_java() {
        let cases = [
            ("10.23", "10.23"),
            ("1.5600", "1.5600"),
            ("-0.001", "-0.001"),
            ("0.0000001", "1E-7"),
            ("0.000001", "0.000001"),
            ("123", "123"),
            ("1E+2", "1E+2"),
            ("-1.23E+5", "-1.23E+5"),
            ("0E+3", "0E+3"),
            ("0.00", "0.00"),
        ];
        for (input, want) in cases {
            let d = BigDecimal::from_str(input).unwrap();
            assert_eq!(bigdecimal_to_string(&d), want, "{input}");
        }
    }

    #[test]
    fn low_bits_of_big_numbers_wrap_like_java() {
        let d = BigDecimal::from_str("18446744073709551617").unwrap(); // 2^64 + 1
        assert_eq!(bigdecimal_low_i64(&d), 1);
        let d = BigDecimal::from_str("-9.9").unwrap();
        assert_eq!(bigdecimal_low_i64(&d), -9);
        let d = BigDecimal::from_str("1e400").unwrap();
        assert_eq!(bigdecimal_low_i64(&d), 0);
        let d = BigDecimal::from_str("1e-400").unwrap();
        assert_eq!(bigdecimal_low_i64(&d), 0);
    }

    #[test]
    fn calendar_round_trips() {
        for days in [-800_000i64, -1, 0, 1, 10_000, 18_131, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2019, 8, 23), 18_131);
        assert_eq!(date_to_string(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            date_to_string(1_566_570_894_346),
            "Fri Aug 23 14:34:54 UTC 2019"
        );
    }

    #[test]
    fn object_to_string_matches_java_collections() {
        let v = Value::Array(vec![
            Value::Int32(1),
            Value::Null,
            Value::Map(vec![(Value::String("a".into()), Value::Float32(1.5))]),
        ]);
        assert_eq!(object_to_string(&v), "[1, null, {a=1.5}]");
        assert_eq!(object_to_string(&Value::Float64(1e10)), "1.0E10");
        assert_eq!(object_to_string(&Value::Bytes(vec![])), "[B@1");
    }
}
