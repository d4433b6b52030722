//! `TimestampRouter`: rewrites the topic from the original topic and the record timestamp.
use causeway_api::config::{ConfigDef, ConfigType, Importance};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::ConnectRecord;
use chrono::{DateTime, Datelike, Timelike, Utc};

const TOPIC_FORMAT: &str = "topic.format";
const TIMESTAMP_FORMAT: &str = "timestamp.format";

/// One piece of a parsed `java.text.SimpleDateFormat` pattern.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// Literal text (unquoted punctuation or a quoted section).
    Literal(String),
    /// A pattern letter repeated `count` times.
    Field(char, usize),
}

/// A `java.text.SimpleDateFormat` in the UTC time zone and English locale, for formatting only.
///
/// Supports the letters `G y Y u M L d D E F w W a H k K h m s S z Z X` and quoted literals (`'...'`, with
/// `''` for a single quote); other ASCII letters are rejected as Java does ("Illegal pattern character").
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimpleDateFormat {
    tokens: Vec<Token>,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl SimpleDateFormat {
    /// Parses a pattern; the error is Java's `IllegalArgumentException` message.
    pub(crate) fn new(pattern: &str) -> std::result::Result<Self, String> {
        let mut tokens: Vec<Token> = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let flush = |literal: &mut String, tokens: &mut Vec<Token>| {
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(literal)));
            }
        };
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                // A quoted section, in which '' is a quote.
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Unterminated quote".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            literal.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            literal.push(other);
                            i += 1;
                        }
                    }
                }
            } else if c.is_ascii_alphabetic() {
                if !"GyYuMLdDEFwWaHkKhmsSzZX".contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                let mut count = 1;
                while chars.get(i + count) == Some(&c) {
                    count += 1;
                }
                flush(&mut literal, &mut tokens);
                tokens.push(Token::Field(c, count));
                i += count;
            } else {
                literal.push(c);
                i += 1;
            }
        }
        flush(&mut literal, &mut tokens);
        Ok(SimpleDateFormat { tokens })
    }

    /// Formats milliseconds since the epoch in UTC; `None` when out of chrono's range.
    pub(crate) fn format_millis(&self, millis: i64) -> Option<String> {
        let t = DateTime::<Utc>::from_timestamp_millis(millis)?;
        let mut out = String::new();
        for token in &self.tokens {
            match token {
                Token::Literal(s) => out.push_str(s),
                Token::Field(c, n) => format_field(&mut out, &t, *c, *n),
            }
        }
        Some(out)
    }
}

fn pad(out: &mut String, value: i64, width: usize) {
    if value < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", value.unsigned_abs()));
}

fn text(out: &mut String, full: &str, count: usize) {
    if count >= 4 {
        out.push_str(full);
    } else {
        out.push_str(&full[..3]);
    }
}

fn format_field(out: &mut String, t: &DateTime<Utc>, c: char, n: usize) {
    // SimpleDateFormat prints the year of era: year 0 is 1 BC.
    let year_of_era = i64::from(if t.year() <= 0 {
        1 - t.year()
    } else {
        t.year()
    });
    match c {
        'G' => out.push_str(if t.year() <= 0 { "BC" } else { "AD" }),
        'y' | 'Y' | 'u' => {
            let year = match c {
                'Y' => i64::from(t.iso_week().year()),
                'u' => i64::from(t.year()),
                _ => year_of_era,
            };
            if n == 2 {
                pad(out, year.rem_euclid(100), 2);
            } else {
                pad(out, year, n);
            }
        }
        'M' | 'L' => {
            if n >= 3 {
                text(out, MONTHS[t.month0() as usize], n);
            } else {
                pad(out, i64::from(t.month()), n);
            }
        }
        'd' => pad(out, i64::from(t.day()), n),
        'D' => pad(out, i64::from(t.ordinal()), n),
        'E' => text(out, DAYS[t.weekday().num_days_from_monday() as usize], n),
        'F' => pad(out, i64::from((t.day() - 1) / 7 + 1), n),
        // Week of year and week of month as in the US locale (weeks start on Sunday, one day is enough).
        'w' => {
            let jan1 = t.with_ordinal(1).unwrap_or(*t);
            let offset = i64::from(jan1.weekday().num_days_from_sunday());
            pad(out, (i64::from(t.ordinal0()) + offset) / 7 + 1, n);
        }
        'W' => {
            let first = t.with_day(1).unwrap_or(*t);
            let offset = i64::from(first.weekday().num_days_from_sunday());
            pad(out, (i64::from(t.day0()) + offset) / 7 + 1, n);
        }
        'a' => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
        'H' => pad(out, i64::from(t.hour()), n),
        'k' => pad(out, i64::from(if t.hour() == 0 { 24 } else { t.hour() }), n),
        'K' => pad(out, i64::from(t.hour() % 12), n),
        'h' => pad(
            out,
            i64::from(if t.hour().is_multiple_of(12) {
                12
            } else {
                t.hour() % 12
            }),
            n,
        ),
        'm' => pad(out, i64::from(t.minute()), n),
        's' => pad(out, i64::from(t.second()), n),
        'S' => pad(out, i64::from(t.timestamp_subsec_millis()), n),
        'z' => out.push_str(if n >= 4 {
            "Coordinated Universal Time"
        } else {
            "UTC"
        }),
        'Z' => out.push_str("+0000"),
        'X' => out.push('Z'),
        _ => {}
    }
}

/// `org.apache.kafka.connect.transforms.TimestampRouter`: the new topic is `topic.format` with `${topic}`
/// replaced by the original topic and `${timestamp}` by the record timestamp formatted with
/// `timestamp.format` (a `java.text.SimpleDateFormat` pattern, in UTC).
pub struct TimestampRouter {
    topic_format: String,
    timestamp_format: SimpleDateFormat,
}

impl Default for TimestampRouter {
    fn default() -> Self {
        TimestampRouter {
            topic_format: "${topic}-${timestamp}".into(),
            timestamp_format: SimpleDateFormat::new("yyyyMMdd").expect("valid default pattern"),
        }
    }
}

impl Transformation for TimestampRouter {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let pattern = parsed.string(TIMESTAMP_FORMAT).unwrap_or("yyyyMMdd");
        // Java only fails on a bad pattern when the first record is formatted; failing early is kinder.
        self.timestamp_format = SimpleDateFormat::new(pattern).map_err(|e| {
            ConnectError::config(format!(
                "Invalid value {pattern} for configuration {TIMESTAMP_FORMAT}: {e}"
            ))
        })?;
        self.topic_format = parsed
            .string(TOPIC_FORMAT)
            .unwrap_or("${topic}-${timestamp}")
            .to_owned();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(timestamp) = record.timestamp else {
            return Err(ConnectError::data(format!(
                "Timestamp missing on record: {record}"
            )));
        };
        let formatted = self
            .timestamp_format
            .format_millis(timestamp)
            .ok_or_else(|| {
                ConnectError::data(format!("Timestamp out of range on record: {record}"))
            })?;
        // As Apache: ${topic} first, then ${timestamp} in the result.
        record.topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &formatted);
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                TOPIC_FORMAT,
                ConfigType::String,
                "${topic}-${timestamp}",
                Importance::High,
                "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as \
placeholders for the topic and timestamp, respectively.",
            )
            .define(
                TIMESTAMP_FORMAT,
                ConfigType::String,
                "yyyyMMdd",
                Importance::High,
                "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.",
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_data::{Schema, Value};

    fn router(props: &[(&str, &str)]) -> TimestampRouter {
        let mut t = TimestampRouter::default();
        let props: Props = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.configure(&props).unwrap();
        t
    }

    fn fmt(pattern: &str, millis: i64) -> String {
        SimpleDateFormat::new(pattern)
            .unwrap()
            .format_millis(millis)
            .unwrap()
    }

    #[test]
    fn defaults() {
        // Apache's TimestampRouterTest.defaultConfiguration: 1483425001864 is 2017-01-03T06:30:01.864Z.
        let mut t = router(&[]);
        let r = ConnectRecord::new("test", Some(Schema::string()), "v".into())
            .with_key(None, Value::Int32(1))
            .with_timestamp(Some(1_483_425_001_864));
        let out = t.apply(r.clone()).unwrap().unwrap();
        assert_eq!(out.topic, "test-20170103");
        assert_eq!(out.key, r.key);
        assert_eq!(out.value, r.value);
        assert_eq!(out.timestamp, r.timestamp);
    }

    #[test]
    fn custom_formats() {
        let mut t = router(&[
            ("topic.format", "logs_${timestamp}_${topic}_${topic}"),
            ("timestamp.format", "yyyy-MM-dd'T'HH:mm:ss.SSS"),
        ]);
        let r = ConnectRecord::new("a", None, Value::Null).with_timestamp(Some(1_483_425_001_864));
        assert_eq!(
            t.apply(r).unwrap().unwrap().topic,
            "logs_2017-01-03T06:30:01.864_a_a"
        );
        // A topic containing "${timestamp}" is itself substituted, as with Apache's two replaceAll calls.
        let mut t = router(&[("topic.format", "${topic}")]);
        let r = ConnectRecord::new("x-${timestamp}", None, Value::Null).with_timestamp(Some(0));
        assert_eq!(t.apply(r).unwrap().unwrap().topic, "x-19700101");
    }

    #[test]
    fn missing_timestamp() {
        let mut t = router(&[]);
        let r = ConnectRecord::new("test", None, Value::Null);
        let err = t.apply(r).unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.to_string(),
            "Timestamp missing on record: ConnectRecord{topic='test', kafkaPartition=null, key=null, \
value=null, timestamp=null, headers=[]}"
        );
    }

    #[test]
    fn simple_date_format_letters() {
        let t = 1_483_425_001_864; // Tuesday 2017-01-03 06:30:01.864 UTC
        assert_eq!(fmt("yyyyMMdd", t), "20170103");
        assert_eq!(fmt("yy.M.d", t), "17.1.3");
        assert_eq!(fmt("y", t), "2017");
        assert_eq!(fmt("yyyyy", t), "02017");
        assert_eq!(fmt("HH:mm:ss.SSS", t), "06:30:01.864");
        assert_eq!(fmt("S", 1_483_425_001_004), "4");
        assert_eq!(fmt("SSS", 1_483_425_001_004), "004");
        assert_eq!(fmt("hh a, k K", t), "06 AM, 6 6");
        assert_eq!(fmt("h a k", 1_483_401_600_000), "12 AM 24");
        assert_eq!(fmt("EEE EEEE MMM MMMM D", t), "Tue Tuesday Jan January 3");
        assert_eq!(fmt("G z Z X", t), "AD UTC +0000 Z");
        assert_eq!(fmt("'week' w W", t), "week 1 1");
        assert_eq!(fmt("'o''clock' ''", t), "o'clock '");
        assert_eq!(fmt("yyyy/MM/dd-HH", -1), "1969/12/31-23");
    }

    #[test]
    fn bad_patterns() {
        assert_eq!(
            SimpleDateFormat::new("yyyyq").unwrap_err(),
            "Illegal pattern character 'q'"
        );
        assert_eq!(
            SimpleDateFormat::new("yyyy'abc").unwrap_err(),
            "Unterminated quote"
        );
        let mut t = TimestampRouter::default();
        let props: Props = [("timestamp.format".to_owned(), "bad".to_owned())]
            .into_iter()
            .collect();
        let err = t.configure(&props).unwrap_err();
        assert!(matches!(err, ConnectError::Config(_)));
        assert!(
            err.to_string()
                .contains("Invalid value bad for configuration timestamp.format: Illegal pattern character 'b'"),
            "{err}"
        );
    }
}
