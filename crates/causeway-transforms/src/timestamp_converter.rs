//! `TimestampConverter`: converts a timestamp (the whole key or value, or one field of it) between Unix
//! epoch numbers, formatted strings and Connect's logical Date, Time and Timestamp types.
//!
//! It also owns the parsing half of `java.text.SimpleDateFormat` (lenient, UTC, English names), which
//! string inputs need; formatting reuses `timestamp_router::SimpleDateFormat`.
use causeway_api::config::{ConfigDef, ConfigType, Importance, validators};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{
    ConnectRecord, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value, logical,
};
use chrono::{DateTime, Datelike, Months, Utc};

use crate::hoist_field::{SchemaCache, Side};
use crate::timestamp_router::SimpleDateFormat;

const FIELD_CONFIG: &str = "field";
const TARGET_TYPE_CONFIG: &str = "target.type";
const FORMAT_CONFIG: &str = "format";
const UNIX_PRECISION_CONFIG: &str = "unix.precision";
const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";
const PURPOSE: &str = "converting timestamp formats";

const TYPE_STRING: &str = "string";
const TYPE_UNIX: &str = "unix";
const TYPE_DATE: &str = "Date";
const TYPE_TIME: &str = "Time";
const TYPE_TIMESTAMP: &str = "Timestamp";

const PRECISION_SECONDS: &str = "seconds";
const PRECISION_MILLIS: &str = "milliseconds";
const PRECISION_MICROS: &str = "microseconds";
const PRECISION_NANOS: &str = "nanoseconds";

const MILLIS_PER_DAY: i64 = logical::MILLIS_PER_DAY;

/// The representations a timestamp can take (Apache's `TRANSLATORS` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimestampType {
    /// Text in the configured `format`.
    String,
    /// An int64 count of `unix.precision` units since the epoch.
    Unix,
    /// Connect's logical Date (whole days).
    Date,
    /// Connect's logical Time (milliseconds of the day).
    Time,
    /// Connect's logical Timestamp (milliseconds since the epoch).
    Timestamp,
}

impl TimestampType {
    fn from_config(name: &str) -> Option<Self> {
        Some(match name {
            TYPE_STRING => TimestampType::String,
            TYPE_UNIX => TimestampType::Unix,
            TYPE_DATE => TimestampType::Date,
            TYPE_TIME => TimestampType::Time,
            TYPE_TIMESTAMP => TimestampType::Timestamp,
            _ => return None,
        })
    }

    /// `TimestampTranslator.typeSchema`.
    fn schema(self, optional: bool) -> SchemaRef {
        let builder = match self {
            TimestampType::String => SchemaBuilder::new(SchemaType::String),
            TimestampType::Unix => SchemaBuilder::new(SchemaType::Int64),
            TimestampType::Date => logical::date(),
            TimestampType::Time => logical::time(),
            TimestampType::Timestamp => logical::timestamp(),
        };
        builder.set_optional(optional).build()
    }

    /// `timestampTypeFromSchema`: logical names first, then string and int64.
    fn from_schema(schema: &Schema) -> Result<Self> {
        Ok(match (schema.name.as_deref(), schema.schema_type) {
            (Some(logical::TIMESTAMP), _) => TimestampType::Timestamp,
            (Some(logical::DATE), _) => TimestampType::Date,
            (Some(logical::TIME), _) => TimestampType::Time,
            (_, SchemaType::String) => TimestampType::String,
            (_, SchemaType::Int64) => TimestampType::Unix,
            _ => {
                // ConnectSchema.toString().
                let shown = match &schema.name {
                    Some(name) => format!("Schema{{{name}:{}}}", schema.schema_type),
                    None => format!("Schema{{{}}}", schema.schema_type),
                };
                return Err(ConnectError::fatal(format!(
                    "Schema {shown} does not correspond to a known timestamp type format"
                )));
            }
        })
    }

    /// `inferTimestampType`: Date, Time and Timestamp values are all a `java.util.Date` to Apache.
    fn infer(value: &Value) -> Result<Self> {
        match value {
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => Ok(TimestampType::Timestamp),
            Value::Int64(_) => Ok(TimestampType::Unix),
            Value::String(_) => Ok(TimestampType::String),
            other => Err(ConnectError::data(format!(
                "TimestampConverter does not support class {} objects as timestamps",
                other.type_name()
            ))),
        }
    }
}

/// `unix.precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnixPrecision {
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

impl UnixPrecision {
    fn from_config(name: &str) -> Self {
        match name {
            PRECISION_SECONDS => UnixPrecision::Seconds,
            PRECISION_MICROS => UnixPrecision::Microseconds,
            PRECISION_NANOS => UnixPrecision::Nanoseconds,
            _ => UnixPrecision::Milliseconds,
        }
    }

    /// Java's `TimeUnit.X.toMillis`: division truncates toward zero, multiplication saturates.
    fn unix_to_millis(self, value: i64) -> i64 {
        match self {
            UnixPrecision::Seconds => value.saturating_mul(1000),
            UnixPrecision::Milliseconds => value,
            UnixPrecision::Microseconds => value / 1000,
            UnixPrecision::Nanoseconds => value / 1_000_000,
        }
    }

    /// Java's `TimeUnit.MILLISECONDS.toX`.
    fn millis_to_unix(self, millis: i64) -> i64 {
        match self {
            UnixPrecision::Seconds => millis / 1000,
            UnixPrecision::Milliseconds => millis,
            UnixPrecision::Microseconds => millis.saturating_mul(1000),
            UnixPrecision::Nanoseconds => millis.saturating_mul(1_000_000),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// SimpleDateFormat parsing
// ---------------------------------------------------------------------------------------------------------

/// One piece of a compiled `SimpleDateFormat` pattern.
#[derive(Debug, Clone, PartialEq)]
enum PatternToken {
    /// Text that must appear verbatim.
    Literal(Vec<char>),
    /// A pattern letter repeated `count` times.
    Field(char, usize),
}

/// Java's `DateFormatSymbols.patternChars`.
const PATTERN_LETTERS: &str = "GyMdkHmsSEDFwWahKzZYuXL";

/// `SimpleDateFormat.compile`; errors are the `IllegalArgumentException` messages.
fn compile_pattern(pattern: &str) -> std::result::Result<Vec<PatternToken>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut literal = Vec::new();
    let illegal = |c: char| format!("Illegal pattern character '{c}'");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                literal.push('\'');
                i += 2;
                continue;
            }
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
            if !PATTERN_LETTERS.contains(c) {
                return Err(illegal(c));
            }
            let mut count = 1;
            while chars.get(i + count) == Some(&c) {
                count += 1;
            }
            if c == 'X' && count >= 4 {
                // Java checks the next letter before encoding this run.
                if let Some(&next) = chars.get(i + count)
                    && next.is_ascii_alphabetic()
                    && !PATTERN_LETTERS.contains(next)
                {
                    return Err(illegal(next));
                }
                return Err(format!("invalid ISO 8601 format: length={count}"));
            }
            if !literal.is_empty() {
                tokens.push(PatternToken::Literal(std::mem::take(&mut literal)));
            }
            tokens.push(PatternToken::Field(c, count));
            i += count;
        } else {
            literal.push(c);
            i += 1;
        }
    }
    if !literal.is_empty() {
        tokens.push(PatternToken::Literal(literal));
    }
    Ok(tokens)
}

/// `SimpleDateFormat.shouldObeyCount`: a numeric field directly followed by another numeric field reads
/// exactly its letter count of characters (so `yyyyMMdd` splits `20170103`).
fn obeys_count(letter: char, count: usize) -> bool {
    match letter {
        'M' | 'L' => count <= 2,
        'y' | 'd' | 'k' | 'H' | 'm' | 's' | 'S' | 'D' | 'F' | 'w' | 'W' | 'h' | 'K' | 'Y' | 'u' => {
            true
        }
        _ => false,
    }
}

// Calendar field indices, as java.util.Calendar numbers them (WEEK_YEAR is CalendarBuilder's extra one).
const ERA: usize = 0;
const YEAR: usize = 1;
const MONTH: usize = 2;
const WEEK_OF_YEAR: usize = 3;
const WEEK_OF_MONTH: usize = 4;
const DAY_OF_MONTH: usize = 5;
const DAY_OF_YEAR: usize = 6;
const DAY_OF_WEEK: usize = 7;
const DAY_OF_WEEK_IN_MONTH: usize = 8;
const AM_PM: usize = 9;
const HOUR: usize = 10;
const HOUR_OF_DAY: usize = 11;
const MINUTE: usize = 12;
const SECOND: usize = 13;
const MILLISECOND: usize = 14;
const ZONE_OFFSET: usize = 15;
const DST_OFFSET: usize = 16;
const WEEK_YEAR: usize = 17;
const FIELD_COUNT: usize = 18;

const SUNDAY: i64 = 1;
/// The fixed date (days since 0001-12-31 BC, proleptic Gregorian) of 1970-01-01.
const EPOCH_FIXED_DATE: i64 = 719_163;

/// English names, longest match wins (case-insensitive), as `SimpleDateFormat.matchString`.
const ERAS: &[(&str, i32)] = &[
    ("BC", 0),
    ("AD", 1),
    ("Before Christ", 0),
    ("Anno Domini", 1),
];
const MONTHS: &[(&str, i32)] = &[
    ("January", 0),
    ("February", 1),
    ("March", 2),
    ("April", 3),
    ("May", 4),
    ("June", 5),
    ("July", 6),
    ("August", 7),
    ("September", 8),
    ("October", 9),
    ("November", 10),
    ("December", 11),
    ("Jan", 0),
    ("Feb", 1),
    ("Mar", 2),
    ("Apr", 3),
    ("Jun", 5),
    ("Jul", 6),
    ("Aug", 7),
    ("Sep", 8),
    ("Oct", 9),
    ("Nov", 10),
    ("Dec", 11),
];
const WEEKDAYS: &[(&str, i32)] = &[
    ("Sunday", 1),
    ("Monday", 2),
    ("Tuesday", 3),
    ("Wednesday", 4),
    ("Thursday", 5),
    ("Friday", 6),
    ("Saturday", 7),
    ("Sun", 1),
    ("Mon", 2),
    ("Tue", 3),
    ("Wed", 4),
    ("Thu", 5),
    ("Fri", 6),
    ("Sat", 7),
];
const AM_PM_NAMES: &[(&str, i32)] = &[("AM", 0), ("PM", 1)];
/// Zone names this parser knows: those of UTC and GMT, whose offset is zero.
const ZERO_OFFSET_ZONES: &[(&str, i32)] = &[
    ("Coordinated Universal Time", 0),
    ("Greenwich Mean Time", 0),
    ("UTC", 0),
    ("GMT", 0),
];

/// Whether `name` appears at `start` in `text`, ignoring ASCII case (`String.regionMatches(true, …)`).
fn region_matches(text: &[char], start: usize, name: &str) -> bool {
    let mut i = start;
    for n in name.chars() {
        match text.get(i) {
            Some(c) if c.eq_ignore_ascii_case(&n) => i += 1,
            _ => return false,
        }
    }
    true
}

/// The longest name matching at `start`: its value and the end position.
fn match_names(text: &[char], start: usize, names: &[(&str, i32)]) -> Option<(i32, usize)> {
    names
        .iter()
        .filter(|(name, _)| region_matches(text, start, name))
        .max_by_key(|(name, _)| name.len())
        .map(|(name, value)| (*value, start + name.chars().count()))
}

/// `DecimalFormat.parse` as SimpleDateFormat configures it (integers only, no grouping): an optional `-`
/// and ASCII digits, read up to `limit`. The result is `Number.intValue()`: a value that fits a long
/// wraps to 32 bits, a larger one (a double to Java) saturates.
fn parse_integer(text: &[char], pos: usize, limit: usize) -> Option<(i32, usize)> {
    let mut i = pos;
    let negative = i < limit && text.get(i) == Some(&'-');
    if negative {
        i += 1;
    }
    let digits_start = i;
    let mut magnitude: u128 = 0;
    while i < limit {
        let Some(d) = text.get(i).and_then(|c| c.to_digit(10)) else {
            break;
        };
        magnitude = (magnitude * 10 + u128::from(d)).min(u128::from(u64::MAX) * 16);
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    let signed = if negative {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    let value = match i64::try_from(signed) {
        Ok(long) => long as i32,
        Err(_) if negative => i32::MIN,
        Err(_) => i32::MAX,
    };
    Some((value, i))
}

/// Java's `CalendarBuilder`: field values with the order in which they were set, which decides how
/// conflicting fields resolve (`Calendar.selectFields`).
#[derive(Debug, Clone, Default)]
struct CalendarFields {
    stamps: [u32; FIELD_COUNT],
    values: [i32; FIELD_COUNT],
    next_stamp: u32,
    /// A two-digit year equal to the century start's: 100 years later if the date falls before the start.
    ambiguous_year: bool,
}

/// `Calendar.aggregateStamp`: both set, or unset.
fn aggregate(a: u32, b: u32) -> u32 {
    if a == 0 || b == 0 { 0 } else { a.max(b) }
}

/// `BaseCalendar.getDayOfWeekDateOnOrBefore`, with Sunday = 1.
fn day_of_week_on_or_before(fixed_date: i64, day_of_week: i64) -> i64 {
    fixed_date - (fixed_date - (day_of_week - 1)).rem_euclid(7)
}

fn is_leap_year(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

/// `BaseCalendar.getFixedDate` for the proleptic Gregorian calendar (month 1–12).
fn fixed_date_of(year: i64, month: i64, day: i64) -> i64 {
    let prev = year - 1;
    let mut days = day + 365 * prev + prev.div_euclid(4) - prev.div_euclid(100)
        + prev.div_euclid(400)
        + (367 * month - 362).div_euclid(12);
    if month > 2 {
        days -= if is_leap_year(year) { 1 } else { 2 };
    }
    days
}

fn month_length(month0: i64, year: i64) -> i64 {
    match month0 {
        1 if is_leap_year(year) => 29,
        1 => 28,
        3 | 5 | 8 | 10 => 30,
        _ => 31,
    }
}

impl CalendarFields {
    fn set(&mut self, field: usize, value: i32) {
        self.next_stamp += 1;
        self.stamps[field] = self.next_stamp;
        self.values[field] = value;
    }

    /// `CalendarBuilder.set(ISO_DAY_OF_WEEK, …)`: ISO 1–7 (Monday first) to Calendar's Sunday-first
    /// numbering; out-of-range values are kept for the lenient adjustment in [`Self::week_date`].
    fn set_iso_day_of_week(&mut self, iso: i32) {
        let value = match iso {
            7 => 1,
            1..=6 => iso + 1,
            other => other,
        };
        self.set(DAY_OF_WEEK, value);
    }

    fn is_set(&self, field: usize) -> bool {
        self.stamps[field] != 0
    }

    fn get(&self, field: usize) -> i64 {
        i64::from(self.values[field])
    }

    fn add_year(&mut self, years: i32) {
        self.values[YEAR] = self.values[YEAR].wrapping_add(years);
        self.values[WEEK_YEAR] = self.values[WEEK_YEAR].wrapping_add(years);
    }

    /// `CalendarBuilder.establish` + `GregorianCalendar.computeTime` (lenient, UTC): milliseconds since the
    /// epoch, or `None` when out of range.
    fn establish(&self) -> Option<i64> {
        let week_date = self.is_set(WEEK_YEAR) && self.stamps[WEEK_YEAR] > self.stamps[YEAR];
        let date = if week_date {
            self.week_date()
        } else {
            self.fixed_date()?
        };
        let time_of_day = self.time_of_day();
        let fixed = date.checked_add(time_of_day.div_euclid(MILLIS_PER_DAY))?;
        let mut millis = (fixed - EPOCH_FIXED_DATE)
            .checked_mul(MILLIS_PER_DAY)?
            .checked_add(time_of_day.rem_euclid(MILLIS_PER_DAY))?;
        // The zone is UTC, so only a parsed offset moves the instant.
        if self.is_set(ZONE_OFFSET) {
            millis = millis.checked_sub(self.get(ZONE_OFFSET))?;
        }
        if self.is_set(DST_OFFSET) {
            millis = millis.checked_sub(self.get(DST_OFFSET))?;
        }
        Some(millis)
    }

    /// `GregorianCalendar.setWeekDate` as `CalendarBuilder.establish` calls it for a week year (`Y`).
    fn week_date(&self) -> i64 {
        let mut week_of_year = if self.is_set(WEEK_OF_YEAR) {
            self.get(WEEK_OF_YEAR)
        } else {
            1
        };
        let mut day_of_week = if self.is_set(DAY_OF_WEEK) {
            self.get(DAY_OF_WEEK)
        } else {
            SUNDAY
        };
        if !(1..=7).contains(&day_of_week) {
            if day_of_week >= 8 {
                day_of_week -= 1;
                week_of_year += day_of_week / 7;
                day_of_week = day_of_week % 7 + 1;
            } else {
                while day_of_week <= 0 {
                    day_of_week += 7;
                    week_of_year -= 1;
                }
            }
            // CalendarBuilder reads the adjusted value as an ISO day of week.
            day_of_week = if day_of_week == 7 { 1 } else { day_of_week + 1 };
        }
        let mut year = self.get(WEEK_YEAR);
        if self.is_set(ERA) && self.get(ERA) == 0 {
            year = 1 - year;
        }
        // Weeks start on Sunday and one day makes a first week (US locale).
        let jan1 = fixed_date_of(year, 1, 1);
        let mut first_week = day_of_week_on_or_before(jan1 + 6, SUNDAY);
        if first_week - jan1 >= 1 {
            first_week -= 7;
        }
        first_week + (day_of_week - SUNDAY) + 7 * (week_of_year - 1)
    }

    /// `Calendar.selectFields` (date part) + `GregorianCalendar.getFixedDate`.
    fn fixed_date(&self) -> Option<i64> {
        let mut year = if self.is_set(YEAR) {
            self.get(YEAR)
        } else {
            1970
        };
        match if self.is_set(ERA) { self.get(ERA) } else { 1 } {
            0 => year = 1 - year,
            1 => {}
            // GregorianCalendar rejects other eras ("Invalid era") even when lenient.
            _ => return None,
        }
        let st = &self.stamps;
        let dow_stamp = st[DAY_OF_WEEK];
        let month_stamp = st[MONTH];
        let mut dom_stamp = st[DAY_OF_MONTH];
        let mut wom_stamp = aggregate(st[WEEK_OF_MONTH], dow_stamp);
        let mut dowim_stamp = aggregate(st[DAY_OF_WEEK_IN_MONTH], dow_stamp);
        let doy_stamp = st[DAY_OF_YEAR];
        let mut woy_stamp = aggregate(st[WEEK_OF_YEAR], dow_stamp);
        let mut best = dom_stamp
            .max(wom_stamp)
            .max(dowim_stamp)
            .max(doy_stamp)
            .max(woy_stamp);
        if best == 0 {
            wom_stamp = st[WEEK_OF_MONTH];
            dowim_stamp = st[DAY_OF_WEEK_IN_MONTH].max(dow_stamp);
            woy_stamp = st[WEEK_OF_YEAR];
            best = wom_stamp.max(dowim_stamp).max(woy_stamp);
            if best == 0 {
                best = month_stamp;
                dom_stamp = month_stamp;
            }
        }
        let month_based = best == dom_stamp
            || (best == wom_stamp && st[WEEK_OF_MONTH] >= st[WEEK_OF_YEAR])
            || (best == dowim_stamp && st[DAY_OF_WEEK_IN_MONTH] >= st[WEEK_OF_YEAR]);
        let use_dow = dow_stamp != 0;

        let mut month0 = 0;
        if month_based {
            month0 = self.get(MONTH);
            year += month0.div_euclid(12);
            month0 = month0.rem_euclid(12);
        }
        let first = fixed_date_of(year, month0 + 1, 1);
        Some(if month_based {
            if best == dom_stamp {
                if self.is_set(DAY_OF_MONTH) {
                    first + self.get(DAY_OF_MONTH) - 1
                } else {
                    first
                }
            } else {
                let use_wom = if wom_stamp == dowim_stamp {
                    st[WEEK_OF_MONTH] >= st[DAY_OF_WEEK_IN_MONTH]
                } else {
                    best == wom_stamp
                };
                if use_wom {
                    let mut week_start = day_of_week_on_or_before(first + 6, SUNDAY);
                    if week_start - first >= 1 {
                        week_start -= 7;
                    }
                    if use_dow {
                        week_start =
                            day_of_week_on_or_before(week_start + 6, self.get(DAY_OF_WEEK));
                    }
                    week_start + 7 * (self.get(WEEK_OF_MONTH) - 1)
                } else {
                    let day_of_week = if use_dow {
                        self.get(DAY_OF_WEEK)
                    } else {
                        SUNDAY
                    };
                    let dowim = if self.is_set(DAY_OF_WEEK_IN_MONTH) {
                        self.get(DAY_OF_WEEK_IN_MONTH)
                    } else {
                        1
                    };
                    if dowim >= 0 {
                        day_of_week_on_or_before(first + 7 * dowim - 1, day_of_week)
                    } else {
                        let last = month_length(month0, year) + 7 * (dowim + 1);
                        day_of_week_on_or_before(first + last - 1, day_of_week)
                    }
                }
            }
        } else if best == doy_stamp {
            first + self.get(DAY_OF_YEAR) - 1
        } else {
            let mut week_start = day_of_week_on_or_before(first + 6, SUNDAY);
            if week_start - first >= 1 {
                week_start -= 7;
            }
            if use_dow && self.get(DAY_OF_WEEK) != SUNDAY {
                week_start = day_of_week_on_or_before(week_start + 6, self.get(DAY_OF_WEEK));
            }
            week_start + 7 * (self.get(WEEK_OF_YEAR) - 1)
        })
    }

    /// `Calendar.selectFields` (time part) + `GregorianCalendar.computeTime`: milliseconds, possibly
    /// outside one day (lenient).
    fn time_of_day(&self) -> i64 {
        let st = &self.stamps;
        let hour_of_day_stamp = st[HOUR_OF_DAY];
        let hour_stamp = aggregate(st[HOUR], st[AM_PM]);
        let mut best = hour_stamp.max(hour_of_day_stamp);
        if best == 0 {
            best = st[HOUR].max(st[AM_PM]);
        }
        let mut hours = 0;
        if best != 0 {
            if best == hour_of_day_stamp {
                hours = self.get(HOUR_OF_DAY);
            } else {
                hours = self.get(HOUR);
                if st[AM_PM] != 0 {
                    hours += 12 * self.get(AM_PM);
                }
            }
        }
        ((hours * 60 + self.get(MINUTE)) * 60 + self.get(SECOND)) * 1000 + self.get(MILLISECOND)
    }
}

/// A `java.text.SimpleDateFormat` in UTC with English names, as TimestampConverter configures it.
///
/// Parsing follows `SimpleDateFormat.parse(String)`: lenient (`MM` of 13 rolls into the next year), spaces
/// and tabs skipped before each field, abutting numeric fields read by their letter count, trailing text
/// ignored, two-digit `yy` years placed within 80 years before and 20 after the moment it was configured.
/// Every pattern letter Java has is supported, with these limits: time-zone names (`z`, `Z`) parse only
/// for UTC/GMT (`UTC`, `GMT`, `Coordinated Universal Time`, `Greenwich Mean Time`) besides numeric offsets
/// (`+0100`, `GMT+01:00`); only ASCII digits are read; and dates before the Gregorian reform (1582-10-15)
/// use the proleptic Gregorian calendar where Java switches to the Julian one.
#[derive(Debug, Clone)]
struct DatePattern {
    pattern: String,
    tokens: Vec<PatternToken>,
    formatter: SimpleDateFormat,
    /// `defaultCenturyStart`: 80 years before configuration.
    century_start_millis: i64,
    century_start_year: i32,
}

impl DatePattern {
    /// Compiles `pattern` with two-digit years relative to now.
    fn new(pattern: &str) -> std::result::Result<Self, String> {
        let now = Utc::now();
        // Calendar.add(YEAR, -80) keeps the day, clamping 29 February.
        let start = now.checked_sub_months(Months::new(960)).unwrap_or(now);
        Self::with_century_start(pattern, start)
    }

    fn with_century_start(
        pattern: &str,
        century_start: DateTime<Utc>,
    ) -> std::result::Result<Self, String> {
        let tokens = compile_pattern(pattern)?;
        let formatter = SimpleDateFormat::new(pattern)?;
        Ok(DatePattern {
            pattern: pattern.to_owned(),
            tokens,
            formatter,
            century_start_millis: century_start.timestamp_millis(),
            century_start_year: century_start.year(),
        })
    }

    fn format(&self, millis: i64) -> Option<String> {
        self.formatter.format_millis(millis)
    }

    /// `DateFormat.parse(String)`: milliseconds since the epoch, or `None` (Java's `ParseException`).
    fn parse(&self, text: &str) -> Option<i64> {
        let text: Vec<char> = text.chars().collect();
        let mut fields = CalendarFields::default();
        let mut pos = 0;
        for (i, token) in self.tokens.iter().enumerate() {
            match token {
                PatternToken::Literal(expected) => {
                    for c in expected {
                        if text.get(pos) != Some(c) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                PatternToken::Field(letter, count) => {
                    let obey_count = matches!(
                        self.tokens.get(i + 1),
                        Some(PatternToken::Field(next, next_count)) if obeys_count(*next, *next_count)
                    );
                    pos = self.parse_field(&text, pos, *letter, *count, obey_count, &mut fields)?;
                }
            }
        }
        let millis = fields.establish()?;
        if fields.ambiguous_year && millis < self.century_start_millis {
            fields.add_year(100);
            return fields.establish();
        }
        Some(millis)
    }

    /// `SimpleDateFormat.subParse`: reads one field starting at `start`, returning the next position.
    fn parse_field(
        &self,
        text: &[char],
        start: usize,
        letter: char,
        count: usize,
        obey_count: bool,
        fields: &mut CalendarFields,
    ) -> Option<usize> {
        let mut pos = start;
        while matches!(text.get(pos)?, ' ' | '\t') {
            pos += 1;
        }
        let actual_start = pos;
        // An abutting field's count includes the skipped whitespace, as Java's substring(0, start + count).
        let number = |from: usize| {
            let limit = if obey_count {
                let limit = start + count;
                if limit > text.len() {
                    return None;
                }
                limit
            } else {
                text.len()
            };
            parse_integer(text, from, limit)
        };
        // Text fields match at `start`, before the whitespace skip, as Java's matchString calls do.
        let named = |fields: &mut CalendarFields, field: usize, names: &[(&str, i32)]| {
            let (value, end) = match_names(text, start, names)?;
            fields.set(field, value);
            Some(end)
        };
        match letter {
            'G' => named(fields, ERA, ERAS),
            'y' | 'Y' => {
                let (mut value, end) = number(pos)?;
                if count <= 2
                    && end - actual_start == 2
                    && text[actual_start].is_ascii_digit()
                    && text[actual_start + 1].is_ascii_digit()
                {
                    let ambiguous = self.century_start_year % 100;
                    fields.ambiguous_year = value == ambiguous;
                    value += (self.century_start_year / 100) * 100
                        + if value < ambiguous { 100 } else { 0 };
                }
                fields.set(if letter == 'y' { YEAR } else { WEEK_YEAR }, value);
                Some(end)
            }
            'M' | 'L' if count <= 2 => {
                let (value, end) = number(pos)?;
                fields.set(MONTH, value.wrapping_sub(1));
                Some(end)
            }
            'M' | 'L' => named(fields, MONTH, MONTHS),
            'E' => named(fields, DAY_OF_WEEK, WEEKDAYS),
            'a' => named(fields, AM_PM, AM_PM_NAMES),
            'k' => {
                let (value, end) = number(pos)?;
                fields.set(HOUR_OF_DAY, if value == 24 { 0 } else { value });
                Some(end)
            }
            'h' => {
                let (value, end) = number(pos)?;
                fields.set(HOUR, if value == 12 { 0 } else { value });
                Some(end)
            }
            'z' | 'Z' => parse_zone(text, start, pos, fields),
            'X' => {
                let sign = match text.get(pos)? {
                    'Z' => {
                        fields.set(ZONE_OFFSET, 0);
                        fields.set(DST_OFFSET, 0);
                        return Some(pos + 1);
                    }
                    '+' => 1,
                    '-' => -1,
                    _ => return None,
                };
                parse_numeric_zone(text, pos + 1, sign, count, count == 3, fields)
            }
            _ => {
                let (value, end) = number(pos)?;
                match letter {
                    'u' => fields.set_iso_day_of_week(value),
                    other => {
                        let field = match other {
                            'd' => DAY_OF_MONTH,
                            'H' => HOUR_OF_DAY,
                            'm' => MINUTE,
                            's' => SECOND,
                            'S' => MILLISECOND,
                            'D' => DAY_OF_YEAR,
                            'F' => DAY_OF_WEEK_IN_MONTH,
                            'w' => WEEK_OF_YEAR,
                            'W' => WEEK_OF_MONTH,
                            'K' => HOUR,
                            // compile_pattern admits no other letter.
                            _ => return None,
                        };
                        fields.set(field, value);
                    }
                }
                Some(end)
            }
        }
    }
}

/// `z` and `Z`: `+hhmm`/`-hhmm`, `GMT`, `GMT±h:mm`, or a zone name.
fn parse_zone(
    text: &[char],
    start: usize,
    pos: usize,
    fields: &mut CalendarFields,
) -> Option<usize> {
    let c = *text.get(pos)?;
    if c == '+' || c == '-' {
        let sign = if c == '+' { 1 } else { -1 };
        return parse_numeric_zone(text, pos + 1, sign, 0, false, fields);
    }
    if (c == 'G' || c == 'g') && region_matches(text, start, "GMT") {
        let after = start + 3;
        let sign = match text.get(after) {
            Some('+') => 1,
            Some('-') => -1,
            _ => {
                fields.set(ZONE_OFFSET, 0);
                fields.set(DST_OFFSET, 0);
                return Some(after);
            }
        };
        return parse_numeric_zone(text, after + 1, sign, 0, true, fields);
    }
    // A zone with the same standard and daylight names sets no offset field: the format's zone (UTC) applies.
    match_names(text, pos, ZERO_OFFSET_ZONES).map(|(_, end)| end)
}

/// `SimpleDateFormat.subParseNumericZone`: `hh[[:]mm]`; `count` 1 reads hours only; `colon` requires `:`.
fn parse_numeric_zone(
    text: &[char],
    start: usize,
    sign: i32,
    count: usize,
    colon: bool,
    fields: &mut CalendarFields,
) -> Option<usize> {
    let digit = |i: usize| text.get(i).and_then(|c| c.to_digit(10));
    let mut i = start;
    let mut hours = digit(i)?;
    i += 1;
    text.get(i)?;
    match digit(i) {
        Some(d) => {
            hours = hours * 10 + d;
            i += 1;
        }
        // One hour digit only where a colon follows.
        None if count > 0 || !colon => return None,
        None => {}
    }
    if hours > 23 {
        return None;
    }
    let mut minutes = 0;
    if count != 1 {
        if colon {
            if text.get(i)? != &':' {
                return None;
            }
            i += 1;
        }
        minutes = digit(i)? * 10 + digit(i + 1)?;
        i += 2;
        if minutes > 59 {
            return None;
        }
    }
    let offset = (hours * 60 + minutes) as i32 * 60_000 * sign;
    fields.set(ZONE_OFFSET, offset);
    fields.set(DST_OFFSET, 0);
    Some(i)
}

// ---------------------------------------------------------------------------------------------------------
// The transform
// ---------------------------------------------------------------------------------------------------------

/// The parsed configuration.
#[derive(Debug, Clone)]
struct Settings {
    field: String,
    target: TimestampType,
    format: Option<DatePattern>,
    unix_precision: UnixPrecision,
}

fn class_of(value: &Value) -> String {
    format!("class {}", value.type_name())
}

impl Settings {
    /// `TimestampTranslator.toRaw`: the source value as milliseconds since the epoch.
    fn source_millis(&self, source: TimestampType, value: &Value) -> Result<i64> {
        match source {
            TimestampType::String => {
                let Value::String(text) = value else {
                    return Err(ConnectError::data(format!(
                        "Expected string timestamp to be a String, but found {}",
                        class_of(value)
                    )));
                };
                // Apache fails with a NullPointerException here; a clear message is kinder.
                let Some(format) = &self.format else {
                    return Err(ConnectError::data(
                        "TimestampConverter requires format option to be specified when using string timestamps",
                    ));
                };
                format.parse(text).ok_or_else(|| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({text}) does not match pattern ({})",
                        format.pattern
                    ))
                })
            }
            TimestampType::Unix => match value {
                Value::Int64(unix) => Ok(self.unix_precision.unix_to_millis(*unix)),
                other => Err(ConnectError::data(format!(
                    "Expected Unix timestamp to be a Long, but found {}",
                    class_of(other)
                ))),
            },
            TimestampType::Date | TimestampType::Time | TimestampType::Timestamp => match value {
                Value::Date(days) => Ok(i64::from(*days) * MILLIS_PER_DAY),
                Value::Time(millis) => Ok(i64::from(*millis)),
                Value::Timestamp(millis) => Ok(*millis),
                other => {
                    let name = match source {
                        TimestampType::Date => TYPE_DATE,
                        TimestampType::Time => TYPE_TIME,
                        _ => TYPE_TIMESTAMP,
                    };
                    Err(ConnectError::data(format!(
                        "Expected {name} to be a java.util.Date, but found {}",
                        class_of(other)
                    )))
                }
            },
        }
    }

    /// `TimestampTranslator.toType`: milliseconds since the epoch in the target representation (UTC).
    fn target_value(&self, millis: i64) -> Result<Value> {
        Ok(match self.target {
            TimestampType::String => {
                let format = self.format.as_ref().ok_or_else(|| {
                    ConnectError::config("TimestampConverter requires format option to be specified when using string timestamps")
                })?;
                Value::String(format.format(millis).ok_or_else(|| {
                    ConnectError::data(format!(
                        "Timestamp {millis} is out of the range that can be formatted"
                    ))
                })?)
            }
            TimestampType::Unix => Value::Int64(self.unix_precision.millis_to_unix(millis)),
            // Midnight UTC of the same day.
            TimestampType::Date => Value::Date(
                i32::try_from(millis.div_euclid(MILLIS_PER_DAY)).map_err(|_| {
                    ConnectError::data(format!(
                        "Timestamp {millis} is out of the range of a Connect Date"
                    ))
                })?,
            ),
            // The time of day on 1970-01-01 UTC; it always fits an int.
            TimestampType::Time => Value::Time(millis.rem_euclid(MILLIS_PER_DAY) as i32),
            TimestampType::Timestamp => Value::Timestamp(millis),
        })
    }

    /// `convertTimestamp`: null stays null; `source` is inferred from the value when there is no schema.
    fn convert(&self, value: Value, source: Option<TimestampType>) -> Result<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let source = match source {
            Some(s) => s,
            None => TimestampType::infer(&value)?,
        };
        let millis = self.source_millis(source, &value)?;
        self.target_value(millis)
    }
}

/// `org.apache.kafka.connect.transforms.TimestampConverter$Key` ([`TimestampConverter::key`]) and `$Value`
/// ([`TimestampConverter::value`]): converts the whole key or value, or its `field`, between Unix epoch
/// numbers (`unix`, in `unix.precision` units), `format`ted strings and Connect's logical `Date`, `Time` and
/// `Timestamp`, all in UTC.
pub struct TimestampConverter {
    side: Side,
    settings: Option<Settings>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl TimestampConverter {
    /// `TimestampConverter$Key`.
    pub fn key() -> Self {
        Self::new(Side::Key)
    }

    /// `TimestampConverter$Value`.
    pub fn value() -> Self {
        Self::new(Side::Value)
    }

    fn new(side: Side) -> Self {
        TimestampConverter {
            side,
            settings: None,
            replace_null_with_default: true,
            cache: SchemaCache::default(),
        }
    }

    fn apply_schemaless(&self, settings: &Settings, value: Value) -> Result<Value> {
        if value.is_null() || settings.field.is_empty() {
            return settings.convert(value, None);
        }
        if !matches!(value, Value::Map(_)) {
            return Err(ConnectError::data(format!(
                "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        }
        let current = value
            .map_get(&settings.field)
            .cloned()
            .unwrap_or(Value::Null);
        let mut updated = value;
        // HashMap.put: a missing field is added with a null value.
        updated.map_insert(settings.field.as_str(), settings.convert(current, None)?);
        Ok(updated)
    }

    fn apply_with_schema(
        &mut self,
        settings: &Settings,
        schema: SchemaRef,
        value: Value,
    ) -> Result<(SchemaRef, Value)> {
        if settings.field.is_empty() {
            let updated_schema = settings.target.schema(schema.optional);
            let source = TimestampType::from_schema(&schema)?;
            return Ok((updated_schema, settings.convert(value, Some(source))?));
        }
        let value = match value {
            Value::Null => None,
            Value::Struct(s) => Some(s),
            other => {
                return Err(ConnectError::data(format!(
                    "Only Struct objects supported for [{PURPOSE}], found: {}",
                    other.type_name()
                )));
            }
        };
        let replace = self.replace_null_with_default;
        let updated_schema = self
            .cache
            .get_or_try_insert(&schema, || build_schema(settings, replace, &schema))?;
        let updated = match value {
            None => Value::Null,
            Some(s) => Value::Struct(convert_struct(settings, replace, &s, &updated_schema)?),
        };
        Ok((updated_schema, updated))
    }
}

/// The schema with `field` retyped to the target, keeping the other fields, the basics and optionality,
/// and converting a default struct.
fn build_schema(
    settings: &Settings,
    replace_null_with_default: bool,
    schema: &SchemaRef,
) -> Result<SchemaRef> {
    if schema.schema_type != SchemaType::Struct {
        // ConnectSchema.fields().
        return Err(ConnectError::data("Cannot list fields on non-struct type"));
    }
    let mut builder = SchemaBuilder::struct_()
        .set_name(schema.name.clone())
        .set_version(schema.version)
        .set_doc(schema.doc.clone())
        .parameters(schema.parameters.clone());
    for field in &schema.fields {
        let field_schema = if field.name == settings.field {
            settings.target.schema(field.schema.optional)
        } else {
            field.schema.clone()
        };
        builder = builder.field(field.name.clone(), field_schema);
    }
    if schema.optional {
        builder = builder.optional();
    }
    if let Some(Value::Struct(default)) = &schema.default_value {
        let without_default = builder.clone().build();
        let converted = convert_struct(
            settings,
            replace_null_with_default,
            default,
            &without_default,
        )?;
        builder = builder.default_value(Value::Struct(converted));
    }
    Ok(builder.build())
}

/// `applyValueWithSchema`: copies every field into a struct of `updated_schema`, converting `field`.
fn convert_struct(
    settings: &Settings,
    replace_null_with_default: bool,
    value: &Struct,
    updated_schema: &SchemaRef,
) -> Result<Struct> {
    let mut updated = Struct::new(updated_schema.clone());
    for field in &value.schema().fields {
        let current = if replace_null_with_default {
            value.get(&field.name)
        } else {
            value.get_without_default(&field.name)
        }
        .cloned()
        .unwrap_or(Value::Null);
        let new_value = if field.name == settings.field {
            let source = TimestampType::from_schema(&field.schema)?;
            settings.convert(current, Some(source))?
        } else {
            current
        };
        updated.put(&field.name, new_value)?;
    }
    Ok(updated)
}

/// Java's `ConfigException(String name, Object value)`, which Apache calls with the message as the name
/// and the cause as the value: the text users see is this odd composition.
fn invalid_pattern(pattern: &str, reason: &str) -> ConnectError {
    ConnectError::config(format!(
        "Invalid value java.lang.IllegalArgumentException: {reason} for configuration \
TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern}"
    ))
}

impl Transformation for TimestampConverter {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let field = parsed.string(FIELD_CONFIG).unwrap_or_default().to_owned();
        let target_name = parsed.string(TARGET_TYPE_CONFIG).unwrap_or_default();
        let target = TimestampType::from_config(target_name).ok_or_else(|| {
            ConnectError::config(format!("Unsupported timestamp type: {target_name}"))
        })?;
        let pattern = parsed.string(FORMAT_CONFIG).unwrap_or_default();
        let unix_precision =
            UnixPrecision::from_config(parsed.string(UNIX_PRECISION_CONFIG).unwrap_or_default());
        self.replace_null_with_default = parsed
            .boolean(REPLACE_NULL_WITH_DEFAULT_CONFIG)
            .unwrap_or(true);
        self.cache = SchemaCache::default();
        let blank = pattern.trim().is_empty();
        if target == TimestampType::String && blank {
            return Err(ConnectError::config(
                "TimestampConverter requires format option to be specified when using string timestamps",
            ));
        }
        let format = if blank {
            None
        } else {
            Some(DatePattern::new(pattern).map_err(|reason| invalid_pattern(pattern, &reason))?)
        };
        self.settings = Some(Settings {
            field,
            target,
            format,
            unix_precision,
        });
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(settings) = self.settings.clone() else {
            return Err(ConnectError::config("TimestampConverter is not configured"));
        };
        let (schema, value) = self.side.take(&mut record);
        let (schema, value) = match schema {
            None => (None, self.apply_schemaless(&settings, value)?),
            Some(schema) => {
                let (s, v) = self.apply_with_schema(&settings, schema, value)?;
                (Some(s), v)
            }
        };
        self.side.put(&mut record, schema, value);
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        let def = ConfigDef::new()
            .define(
                FIELD_CONFIG,
                ConfigType::String,
                "",
                Importance::High,
                "The field containing the timestamp, or empty if the entire value is a timestamp",
            )
            .define_required(
                TARGET_TYPE_CONFIG,
                ConfigType::String,
                Importance::High,
                "The desired timestamp representation: string, unix, Date, Time, or Timestamp",
            )
            .with_last(|k| {
                k.validator(validators::one_of(&[
                    TYPE_STRING,
                    TYPE_UNIX,
                    TYPE_DATE,
                    TYPE_TIME,
                    TYPE_TIMESTAMP,
                ]))
            })
            .define(
                FORMAT_CONFIG,
                ConfigType::String,
                "",
                Importance::Medium,
                "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when \
type=string or used to parse the input if the input is a string.",
            )
            .define(
                UNIX_PRECISION_CONFIG,
                ConfigType::String,
                PRECISION_MILLIS,
                Importance::Low,
                "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or \
nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.\
Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond \
components.",
            )
            .with_last(|k| {
                k.validator(validators::one_of(&[
                    PRECISION_NANOS,
                    PRECISION_MICROS,
                    PRECISION_MILLIS,
                    PRECISION_SECONDS,
                ]))
            });
        crate::with_replace_null_with_default(def)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::map;
    use chrono::{NaiveDate, TimeZone};

    // Apache's TimestampConverterTest fixtures: 1970-01-02T00:00:01.234Z and its parts.
    const DATE_PLUS_TIME_UNIX: i64 = 86_401_234;
    const DATE_PLUS_TIME_UNIX_MICROS: i64 = DATE_PLUS_TIME_UNIX * 1000 + 123;
    const DATE_PLUS_TIME_UNIX_NANOS: i64 = DATE_PLUS_TIME_UNIX_MICROS * 1000 + 456;
    const DATE_PLUS_TIME_UNIX_SECONDS: i64 = 86_401;
    const STRING_DATE_FMT: &str = "yyyy MM dd HH mm ss SSS z";
    const DATE_PLUS_TIME_STRING: &str = "1970 01 02 00 00 01 234 UTC";
    const DATE_PLUS_TIME: Value = Value::Timestamp(DATE_PLUS_TIME_UNIX);
    const DATE: Value = Value::Date(1);
    const TIME: Value = Value::Time(1234);
    const TARGETS: [&str; 5] = ["string", "unix", "Date", "Time", "Timestamp"];

    fn props(p: &[(&str, &str)]) -> Props {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn converter(mut t: TimestampConverter, p: &[(&str, &str)]) -> TimestampConverter {
        t.configure(&props(p)).unwrap();
        t
    }

    fn config_err(p: &[(&str, &str)]) -> ConnectError {
        let err = TimestampConverter::value()
            .configure(&props(p))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Config(_)), "{err:?}");
        err
    }

    /// Applies a `$Value` converter configured with `p` to a record value.
    fn convert(
        p: &[(&str, &str)],
        schema: Option<SchemaRef>,
        value: Value,
    ) -> Result<(Option<SchemaRef>, Value)> {
        let mut t = converter(TimestampConverter::value(), p);
        let out = t
            .apply(ConnectRecord::new("topic", schema, value))?
            .unwrap();
        Ok((out.value_schema, out.value))
    }

    fn to(target: &str) -> Vec<(&str, &str)> {
        vec![("target.type", target)]
    }

    fn to_string_fmt() -> Vec<(&'static str, &'static str)> {
        vec![("target.type", "string"), ("format", STRING_DATE_FMT)]
    }

    fn millis(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_milli_opt(h, mi, s, ms)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    // --- configuration --------------------------------------------------------------------------------

    #[test]
    fn config_requires_a_valid_target_type() {
        let err = config_err(&[]);
        assert_eq!(
            err.message(),
            "Missing required configuration \"target.type\" which has no default value."
        );
        let err = config_err(&to("invalid"));
        assert_eq!(
            err.message(),
            "Invalid value invalid for configuration target.type: String must be one of: string, unix, \
Date, Time, Timestamp"
        );
        // Target types are case-sensitive, as ValidString.
        config_err(&to("timestamp"));
    }

    #[test]
    fn config_unix_precision() {
        let err = config_err(&[("target.type", "unix"), ("unix.precision", "invalid")]);
        assert_eq!(
            err.message(),
            "Invalid value invalid for configuration unix.precision: String must be one of: \
nanoseconds, microseconds, milliseconds, seconds"
        );
        converter(
            TimestampConverter::value(),
            &[("target.type", "unix"), ("unix.precision", "seconds")],
        );
    }

    #[test]
    fn config_format() {
        let err = config_err(&to("string"));
        assert_eq!(
            err.message(),
            "TimestampConverter requires format option to be specified when using string timestamps"
        );
        let err = config_err(&[("target.type", "string"), ("format", "   ")]);
        assert!(err.message().contains("requires format option"));
        let err = config_err(&[("target.type", "string"), ("format", "bad-format")]);
        assert_eq!(
            err.message(),
            "Invalid value java.lang.IllegalArgumentException: Illegal pattern character 'b' for \
configuration TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: \
bad-format"
        );
        // The pattern is checked whatever the target type.
        let err = config_err(&[("target.type", "Timestamp"), ("format", "yyyy'T")]);
        assert!(
            err.message()
                .contains("IllegalArgumentException: Unterminated quote for configuration"),
            "{err}"
        );
        let err = config_err(&[("target.type", "string"), ("format", "HH:mm XXXX")]);
        assert!(
            err.message()
                .contains("IllegalArgumentException: invalid ISO 8601 format: length=4 for"),
            "{err}"
        );
        let err = config_err(&[("target.type", "string"), ("format", "XXXXq")]);
        assert!(err.message().contains("Illegal pattern character 'q'"));
    }

    #[test]
    fn config_keys_match_apache() {
        let def = TimestampConverter::value().config();
        let names: Vec<&str> = def.keys().iter().map(|k| k.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "field",
                "target.type",
                "format",
                "unix.precision",
                "replace.null.with.default"
            ]
        );
        let values = def.validate(&props(&to("Date")));
        assert!(causeway_api::config::collect_errors(&values).is_empty());
    }

    // --- schemaless: Timestamp to every type -------------------------------------------------------------

    #[test]
    fn schemaless_timestamp_to_each_type() {
        let check = |p: &[(&str, &str)], expected: Value| {
            let (s, v) = convert(p, None, DATE_PLUS_TIME).unwrap();
            assert_eq!(s, None);
            assert_eq!(v, expected, "{p:?}");
        };
        check(&to("Timestamp"), DATE_PLUS_TIME);
        check(&to("Date"), DATE);
        check(&to("Time"), TIME);
        check(&to("unix"), Value::Int64(DATE_PLUS_TIME_UNIX));
        check(
            &to_string_fmt(),
            Value::String(DATE_PLUS_TIME_STRING.into()),
        );
    }

    #[test]
    fn schemaless_each_type_to_timestamp() {
        let check = |p: &[(&str, &str)], input: Value, expected: Value| {
            let (s, v) = convert(p, None, input).unwrap();
            assert_eq!(s, None);
            assert_eq!(v, expected);
        };
        // Coarser sources are unchanged instants.
        check(&to("Timestamp"), DATE, Value::Timestamp(86_400_000));
        check(&to("Timestamp"), TIME, Value::Timestamp(1234));
        check(
            &to("Timestamp"),
            Value::Int64(DATE_PLUS_TIME_UNIX),
            DATE_PLUS_TIME,
        );
        check(
            &[("target.type", "Timestamp"), ("format", STRING_DATE_FMT)],
            DATE_PLUS_TIME_STRING.into(),
            DATE_PLUS_TIME,
        );
    }

    #[test]
    fn schemaless_string_to_unix_precisions() {
        let check = |precision: &str, expected: i64| {
            let (_, v) = convert(
                &[
                    ("target.type", "unix"),
                    ("unix.precision", precision),
                    ("format", STRING_DATE_FMT),
                ],
                None,
                DATE_PLUS_TIME_STRING.into(),
            )
            .unwrap();
            assert_eq!(v, Value::Int64(expected), "{precision}");
        };
        // Sub-millisecond parts are lost through the millisecond pivot, as in Apache.
        check("microseconds", 86_401_234_000);
        check("nanoseconds", 86_401_234_000_000);
        check("seconds", DATE_PLUS_TIME_UNIX_SECONDS);
        check("milliseconds", DATE_PLUS_TIME_UNIX);
    }

    #[test]
    fn schemaless_nulls() {
        for target in TARGETS {
            let p = [("target.type", target), ("format", STRING_DATE_FMT)];
            assert_eq!(convert(&p, None, Value::Null).unwrap(), (None, Value::Null));
            let p = [
                ("target.type", target),
                ("format", STRING_DATE_FMT),
                ("field", "ts"),
            ];
            assert_eq!(convert(&p, None, Value::Null).unwrap(), (None, Value::Null));
            // A null field stays null.
            let (_, v) = convert(&p, None, map(vec![("ts", Value::Null)])).unwrap();
            assert_eq!(v, map(vec![("ts", Value::Null)]));
        }
    }

    #[test]
    fn schemaless_field() {
        let p = [("target.type", "Date"), ("field", "ts")];
        let (s, v) = convert(
            &p,
            None,
            map(vec![("ts", DATE_PLUS_TIME), ("other", "x".into())]),
        )
        .unwrap();
        assert_eq!(s, None);
        assert_eq!(v, map(vec![("ts", DATE), ("other", "x".into())]));
        // A missing field is added as null, as HashMap.put does.
        let (_, v) = convert(&p, None, map(vec![("other", "x".into())])).unwrap();
        assert_eq!(v, map(vec![("other", "x".into()), ("ts", Value::Null)]));
        let err = convert(&p, None, Value::Int64(1)).unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.message(),
            "Only Map objects supported in absence of schema for [converting timestamp formats], found: \
java.lang.Long"
        );
    }

    #[test]
    fn schemaless_unsupported_types() {
        let err = convert(&to("Date"), None, Value::Int32(5)).unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.message(),
            "TimestampConverter does not support class java.lang.Integer objects as timestamps"
        );
        let err = convert(&to("Date"), None, Value::Float64(5.0)).unwrap_err();
        assert!(err.message().contains("class java.lang.Double objects"));
        // A string with no format to parse it: Apache dies with a NullPointerException.
        let err = convert(&to("Date"), None, "2017".into()).unwrap_err();
        assert!(err.message().contains("requires format option"), "{err}");
        let err = convert(
            &[("target.type", "Date"), ("format", "yyyy-MM-dd")],
            None,
            "03/01/2017".into(),
        )
        .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.message(),
            "Could not parse timestamp: value (03/01/2017) does not match pattern (yyyy-MM-dd)"
        );
    }

    #[test]
    fn key_side() {
        let mut t = converter(TimestampConverter::key(), &to("Timestamp"));
        let record = ConnectRecord::new("topic", Some(Schema::string()), "v".into())
            .with_key(None, DATE_PLUS_TIME)
            .with_timestamp(Some(7));
        let out = t.apply(record).unwrap().unwrap();
        assert_eq!(out.key_schema, None);
        assert_eq!(out.key, DATE_PLUS_TIME);
        assert_eq!(out.value_schema, Some(Schema::string()));
        assert_eq!(out.value, Value::String("v".into()));
        assert_eq!(out.timestamp, Some(7));
        // Converting the key leaves the value alone.
        let mut t = converter(TimestampConverter::key(), &to("unix"));
        let record = ConnectRecord::new("topic", None, DATE_PLUS_TIME)
            .with_key(Some(logical::timestamp().build()), DATE_PLUS_TIME);
        let out = t.apply(record).unwrap().unwrap();
        assert_eq!(out.key_schema, Some(Schema::int64()));
        assert_eq!(out.key, Value::Int64(DATE_PLUS_TIME_UNIX));
        assert_eq!(out.value, DATE_PLUS_TIME);
    }

    // --- with schema --------------------------------------------------------------------------------------

    fn timestamp_schema() -> SchemaRef {
        logical::timestamp().build()
    }

    #[test]
    fn with_schema_timestamp_to_each_type() {
        let check = |p: &[(&str, &str)], schema: SchemaRef, expected: Value| {
            let (s, v) = convert(p, Some(timestamp_schema()), DATE_PLUS_TIME).unwrap();
            assert_eq!(s, Some(schema));
            assert_eq!(v, expected);
        };
        check(&to("Timestamp"), timestamp_schema(), DATE_PLUS_TIME);
        check(&to("Date"), logical::date().build(), DATE);
        check(&to("Time"), logical::time().build(), TIME);
        check(
            &to("unix"),
            Schema::int64(),
            Value::Int64(DATE_PLUS_TIME_UNIX),
        );
        check(
            &to_string_fmt(),
            Schema::string(),
            Value::String(DATE_PLUS_TIME_STRING.into()),
        );
    }

    #[test]
    fn with_schema_each_type_to_timestamp() {
        let check = |p: &[(&str, &str)], schema: SchemaRef, input: Value, expected: Value| {
            let (s, v) = convert(p, Some(schema), input).unwrap();
            assert_eq!(s, Some(timestamp_schema()));
            assert_eq!(v, expected);
        };
        check(
            &to("Timestamp"),
            logical::date().build(),
            DATE,
            Value::Timestamp(86_400_000),
        );
        check(
            &to("Timestamp"),
            logical::time().build(),
            TIME,
            Value::Timestamp(1234),
        );
        check(
            &to("Timestamp"),
            Schema::int64(),
            Value::Int64(DATE_PLUS_TIME_UNIX),
            DATE_PLUS_TIME,
        );
        check(
            &[("target.type", "Timestamp"), ("format", STRING_DATE_FMT)],
            Schema::string(),
            DATE_PLUS_TIME_STRING.into(),
            DATE_PLUS_TIME,
        );
    }

    #[test]
    fn with_schema_type_errors() {
        // The schema decides the source type, whatever the value.
        let err = convert(&to("Date"), Some(Schema::int32()), Value::Int32(1)).unwrap_err();
        assert!(matches!(err, ConnectError::Fatal(_)));
        assert_eq!(
            err.message(),
            "Schema Schema{INT32} does not correspond to a known timestamp type format"
        );
        // Even a null value needs a timestamp-like schema.
        let schema = SchemaBuilder::new(SchemaType::Int32)
            .name("my.int")
            .optional()
            .build();
        let err = convert(&to("Date"), Some(schema), Value::Null).unwrap_err();
        assert_eq!(
            err.message(),
            "Schema Schema{my.int:INT32} does not correspond to a known timestamp type format"
        );
        let err = convert(&to("Date"), Some(Schema::int64()), Value::Timestamp(1)).unwrap_err();
        assert_eq!(
            err.message(),
            "Expected Unix timestamp to be a Long, but found class java.util.Date"
        );
        let err = convert(&to("unix"), Some(timestamp_schema()), Value::Int64(1)).unwrap_err();
        assert_eq!(
            err.message(),
            "Expected Timestamp to be a java.util.Date, but found class java.lang.Long"
        );
        let err = convert(&to("unix"), Some(logical::date().build()), Value::Int32(1)).unwrap_err();
        assert_eq!(
            err.message(),
            "Expected Date to be a java.util.Date, but found class java.lang.Integer"
        );
        let err = convert(&to("unix"), Some(logical::time().build()), Value::Int32(1)).unwrap_err();
        assert!(
            err.message()
                .starts_with("Expected Time to be a java.util.Date")
        );
        let err = convert(
            &[("target.type", "unix"), ("format", "yyyy")],
            Some(Schema::string()),
            Value::Int64(1),
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "Expected string timestamp to be a String, but found class java.lang.Long"
        );
    }

    fn optional_date() -> SchemaRef {
        logical::date().optional().build()
    }
    fn optional_time() -> SchemaRef {
        logical::time().optional().build()
    }
    fn optional_timestamp() -> SchemaRef {
        logical::timestamp().optional().build()
    }

    /// Apache's testWithSchemaNull{Value,Field}To*: every optional source schema, per target.
    #[test]
    fn with_schema_nulls() {
        let sources = || {
            [
                Schema::optional_int64(),
                optional_time(),
                optional_date(),
                Schema::optional_string(),
                optional_timestamp(),
            ]
        };
        let expected_for = |target: &str| match target {
            "string" => Schema::optional_string(),
            "unix" => Schema::optional_int64(),
            "Date" => optional_date(),
            "Time" => optional_time(),
            _ => optional_timestamp(),
        };
        for target in TARGETS {
            let expected = expected_for(target);
            for source in sources() {
                // The whole value is null.
                let p = [("target.type", target), ("format", STRING_DATE_FMT)];
                let (s, v) = convert(&p, Some(source.clone()), Value::Null).unwrap();
                assert_eq!(s, Some(expected.clone()), "{target} from {source:?}");
                assert_eq!(v, Value::Null);

                // A null field of a struct, and then a null struct.
                let p = [
                    ("target.type", target),
                    ("format", STRING_DATE_FMT),
                    ("field", "ts"),
                ];
                let struct_schema = SchemaBuilder::struct_()
                    .field("ts", source.clone())
                    .field("other", Schema::string());
                let expected_struct = SchemaBuilder::struct_()
                    .field("ts", expected.clone())
                    .field("other", Schema::string());
                let original = Struct::new(struct_schema.clone().build())
                    .with("other", "test")
                    .unwrap();
                let (s, v) =
                    convert(&p, Some(struct_schema.clone().build()), original.into()).unwrap();
                assert_eq!(s, Some(expected_struct.clone().build()));
                let v = v.as_struct().unwrap().clone();
                assert_eq!(v.get("ts"), Some(&Value::Null));
                assert_eq!(v.get("other"), Some(&Value::String("test".into())));

                let (s, v) =
                    convert(&p, Some(struct_schema.optional().build()), Value::Null).unwrap();
                assert_eq!(s, Some(expected_struct.optional().build()));
                assert_eq!(v, Value::Null);
            }
        }
    }

    fn unix_struct_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("rec")
            .version(2)
            .doc("a record")
            .field("ts", Schema::int64())
            .field("other", Schema::string())
            .build()
    }

    #[test]
    fn with_schema_field() {
        let mut t = converter(
            TimestampConverter::value(),
            &[("target.type", "Timestamp"), ("field", "ts")],
        );
        let schema = unix_struct_schema();
        let value = Struct::new(schema.clone())
            .with("ts", DATE_PLUS_TIME_UNIX)
            .unwrap()
            .with("other", "test")
            .unwrap();
        let record = ConnectRecord::new("topic", Some(schema.clone()), value.into());
        let out = t.apply(record.clone()).unwrap().unwrap();
        let expected = SchemaBuilder::struct_()
            .name("rec")
            .version(2)
            .doc("a record")
            .field("ts", timestamp_schema())
            .field("other", Schema::string())
            .build();
        assert_eq!(out.value_schema, Some(expected));
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("ts"), Some(&DATE_PLUS_TIME));
        assert_eq!(v.get("other"), Some(&Value::String("test".into())));
        // The derived schema is cached.
        let again = t.apply(record).unwrap().unwrap();
        assert!(std::sync::Arc::ptr_eq(
            out.value_schema.as_ref().unwrap(),
            again.value_schema.as_ref().unwrap()
        ));
        assert_eq!(t.cache.len(), 1);
    }

    #[test]
    fn with_schema_field_errors() {
        let p = [("target.type", "Date"), ("field", "ts")];
        let err = convert(&p, Some(Schema::int64()), Value::Int64(1)).unwrap_err();
        assert_eq!(
            err.message(),
            "Only Struct objects supported for [converting timestamp formats], found: java.lang.Long"
        );
        let err = convert(&p, Some(Schema::optional_int64()), Value::Null).unwrap_err();
        assert_eq!(err.message(), "Cannot list fields on non-struct type");
        let schema = SchemaBuilder::struct_()
            .field("ts", Schema::boolean())
            .build();
        let value = Struct::new(schema.clone()).with("ts", true).unwrap();
        let err = convert(&p, Some(schema), value.into()).unwrap_err();
        assert_eq!(
            err.message(),
            "Schema Schema{BOOLEAN} does not correspond to a known timestamp type format"
        );
        // A field the schema lacks: nothing to convert.
        let p = [("target.type", "Date"), ("field", "missing")];
        let schema = unix_struct_schema();
        let value = Struct::new(schema.clone())
            .with("ts", 5i64)
            .unwrap()
            .with("other", "o")
            .unwrap();
        let (s, v) = convert(&p, Some(schema.clone()), value.clone().into()).unwrap();
        assert_eq!(s, Some(schema));
        assert_eq!(v, Value::Struct(value));
    }

    /// Apache's testWithSchemaNullFieldWithDefaultConversion, with both settings of the flag (Apache's test
    /// always configures `false`).
    #[test]
    fn with_schema_field_default_and_replace_null_with_default() {
        let schema = SchemaBuilder::struct_()
            .field(
                "ts",
                SchemaBuilder::new(SchemaType::Int64)
                    .optional()
                    .default_value(Value::Int64(0))
                    .build(),
            )
            .field("other", Schema::string())
            .build();
        let value = Struct::new(schema.clone()).with("other", "test").unwrap();
        let expected_schema = SchemaBuilder::struct_()
            .field("ts", optional_timestamp())
            .field("other", Schema::string())
            .build();
        for (replace, expected) in [("false", Value::Null), ("true", Value::Timestamp(0))] {
            let (s, v) = convert(
                &[
                    ("target.type", "Timestamp"),
                    ("field", "ts"),
                    ("replace.null.with.default", replace),
                ],
                Some(schema.clone()),
                value.clone().into(),
            )
            .unwrap();
            assert_eq!(s, Some(expected_schema.clone()));
            let v = v.as_struct().unwrap();
            assert_eq!(v.get_without_default("ts"), Some(&expected), "{replace}");
            assert_eq!(v.get("other"), Some(&Value::String("test".into())));
        }
    }

    #[test]
    fn with_schema_struct_default_is_converted() {
        let inner = SchemaBuilder::struct_()
            .field("ts", Schema::int64())
            .field("other", Schema::string())
            .build();
        let default = Struct::new(inner.clone())
            .with("ts", DATE_PLUS_TIME_UNIX)
            .unwrap()
            .with("other", "d")
            .unwrap();
        let schema = inner
            .to_builder()
            .optional()
            .default_value(default.into())
            .build();
        let (s, v) = convert(
            &[("target.type", "Date"), ("field", "ts")],
            Some(schema),
            Value::Null,
        )
        .unwrap();
        let s = s.unwrap();
        assert!(s.optional);
        assert_eq!(s.field("ts").unwrap().schema, logical::date().build());
        let Some(Value::Struct(d)) = &s.default_value else {
            panic!("no struct default: {s:?}");
        };
        assert_eq!(d.get("ts"), Some(&DATE));
        assert_eq!(d.get("other"), Some(&Value::String("d".into())));
        assert_eq!(v, Value::Null);
    }

    #[test]
    fn with_schema_unix_precisions() {
        let check = |precision: &str, input: i64, expected: i64| {
            let schema = SchemaBuilder::struct_()
                .field("ts", Schema::int64())
                .build();
            let value = Struct::new(schema.clone()).with("ts", input).unwrap();
            let (s, v) = convert(
                &[
                    ("target.type", "Timestamp"),
                    ("field", "ts"),
                    ("unix.precision", precision),
                ],
                Some(schema),
                value.into(),
            )
            .unwrap();
            let expected_schema = SchemaBuilder::struct_()
                .field("ts", timestamp_schema())
                .build();
            assert_eq!(s, Some(expected_schema));
            assert_eq!(
                v.as_struct().unwrap().get("ts"),
                Some(&Value::Timestamp(expected)),
                "{precision}"
            );
        };
        check(
            "microseconds",
            DATE_PLUS_TIME_UNIX_MICROS,
            DATE_PLUS_TIME_UNIX,
        );
        check(
            "nanoseconds",
            DATE_PLUS_TIME_UNIX_NANOS,
            DATE_PLUS_TIME_UNIX,
        );
        check("seconds", DATE_PLUS_TIME_UNIX_SECONDS, 86_401_000);
    }

    #[test]
    fn unix_precision_arithmetic() {
        // TimeUnit: division truncates toward zero, multiplication saturates.
        assert_eq!(UnixPrecision::Microseconds.unix_to_millis(-1_500), -1);
        assert_eq!(UnixPrecision::Seconds.millis_to_unix(-1_500), -1);
        assert_eq!(UnixPrecision::Seconds.unix_to_millis(i64::MAX), i64::MAX);
        assert_eq!(
            UnixPrecision::Nanoseconds.millis_to_unix(i64::MIN),
            i64::MIN
        );
        let (_, v) = convert(
            &[("target.type", "unix"), ("unix.precision", "nanoseconds")],
            None,
            DATE_PLUS_TIME,
        )
        .unwrap();
        assert_eq!(v, Value::Int64(86_401_234_000_000));
    }

    #[test]
    fn date_and_time_truncate_in_utc() {
        let (_, v) = convert(&to("Date"), None, Value::Timestamp(-1)).unwrap();
        assert_eq!(v, Value::Date(-1));
        let (_, v) = convert(&to("Time"), None, Value::Timestamp(-1)).unwrap();
        assert_eq!(v, Value::Time(86_399_999));
        let (_, v) = convert(&to("Date"), None, Value::Time(5_000)).unwrap();
        assert_eq!(v, Value::Date(0));
        let (_, v) = convert(&to("Time"), None, Value::Date(3)).unwrap();
        assert_eq!(v, Value::Time(0));
        let err = convert(&to("Date"), None, Value::Timestamp(i64::MAX)).unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
    }

    #[test]
    fn string_output_formats() {
        let ts = millis(2017, 1, 3, 6, 30, 1, 864);
        let (_, v) = convert(
            &[
                ("target.type", "string"),
                ("format", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
            ],
            Some(Schema::int64()),
            Value::Int64(ts),
        )
        .unwrap();
        assert_eq!(v, Value::String("2017-01-03T06:30:01.864+0000".into()));
        let (_, v) = convert(
            &[("target.type", "string"), ("format", "EEE, d MMM yyyy")],
            None,
            Value::Date(17_169),
        )
        .unwrap();
        assert_eq!(v, Value::String("Tue, 3 Jan 2017".into()));
    }

    // --- SimpleDateFormat parsing -------------------------------------------------------------------------

    /// A pattern whose two-digit years start at 1946-06-18 (80 years before 2026-06-18).
    fn pattern(p: &str) -> DatePattern {
        DatePattern::with_century_start(p, Utc.with_ymd_and_hms(1946, 6, 18, 0, 0, 0).unwrap())
            .unwrap()
    }

    fn parse(p: &str, text: &str) -> Option<i64> {
        pattern(p).parse(text)
    }

    #[test]
    fn parses_common_patterns() {
        let t = millis(2017, 1, 3, 6, 30, 1, 864);
        assert_eq!(
            parse("yyyy-MM-dd'T'HH:mm:ss.SSSX", "2017-01-03T06:30:01.864Z"),
            Some(t)
        );
        assert_eq!(
            parse(
                "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                "2017-01-03T07:30:01.864+01:00"
            ),
            Some(t)
        );
        assert_eq!(
            parse(
                "yyyy-MM-dd'T'HH:mm:ss.SSSXX",
                "2017-01-03T01:00:01.864-0530"
            ),
            Some(t)
        );
        assert_eq!(
            parse("yyyy-MM-dd HH:mm:ss.SSS X", "2017-01-03 08:30:01.864 +02"),
            Some(t)
        );
        assert_eq!(parse("yyyyMMddHHmmssSSS", "20170103063001864"), Some(t));
        assert_eq!(
            parse(
                "EEE, d MMM yyyy HH:mm:ss.SSS Z",
                "Tue, 3 Jan 2017 06:30:01.864 +0000"
            ),
            Some(t)
        );
        assert_eq!(
            parse(
                "EEEE, MMMM d, yyyy h:mm:ss.SSS a z",
                "tuesday, JANUARY 3, 2017 6:30:01.864 am GMT"
            ),
            Some(t)
        );
        assert_eq!(
            parse(
                "yyyy-MM-dd HH:mm:ss.SSS z",
                "2017-01-03 08:30:01.864 GMT+02:00"
            ),
            Some(t)
        );
        assert_eq!(
            parse(
                "yyyy-MM-dd HH:mm:ss.SSS z",
                "2017-01-03 06:30:01.864 Coordinated Universal Time"
            ),
            Some(t)
        );
        assert_eq!(
            parse(STRING_DATE_FMT, DATE_PLUS_TIME_STRING),
            Some(DATE_PLUS_TIME_UNIX)
        );
    }

    #[test]
    fn parse_is_lenient_like_java() {
        // Out-of-range fields roll over.
        assert_eq!(
            parse("yyyy-MM-dd", "2017-13-01"),
            Some(millis(2018, 1, 1, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("yyyy-MM-dd", "2017-02-30"),
            Some(millis(2017, 3, 2, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("yyyy-MM-dd", "2017-00-00"),
            Some(millis(2016, 11, 30, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("HH:mm", "25:61"),
            Some(millis(1970, 1, 2, 2, 1, 0, 0))
        );
        // Missing fields default to 1970-01-01T00:00:00.000.
        assert_eq!(
            parse("HH:mm", "06:30"),
            Some(millis(1970, 1, 1, 6, 30, 0, 0))
        );
        assert_eq!(parse("MM", "03"), Some(millis(1970, 3, 1, 0, 0, 0, 0)));
        // Unpadded and longer numbers where a delimiter follows.
        assert_eq!(
            parse("yyyy-MM-dd", "2017-1-3"),
            Some(millis(2017, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("d/M/y", "3/1/2017"),
            Some(millis(2017, 1, 3, 0, 0, 0, 0))
        );
        // Trailing text is ignored; spaces before a number are skipped.
        assert_eq!(
            parse("yyyy-MM-dd", "2017-01-03T10:00"),
            Some(millis(2017, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("yyyy-MM-dd", "  2017-01- 3"),
            Some(millis(2017, 1, 3, 0, 0, 0, 0))
        );
        // Negative numbers are read.
        assert_eq!(
            parse("yyyy-MM-dd HH", "2017-01-03 -1"),
            Some(millis(2017, 1, 2, 23, 0, 0, 0))
        );
    }

    #[test]
    fn parse_failures() {
        assert_eq!(parse("yyyy-MM-dd", "2017/01/03"), None);
        assert_eq!(parse("yyyy-MM-dd", "2017-01"), None);
        assert_eq!(parse("yyyy-MM-dd", ""), None);
        assert_eq!(parse("yyyyMMdd", "201701"), None);
        // Only a field followed by another numeric field is held to its count.
        assert_eq!(
            parse("yyyyMMdd", "2017013"),
            Some(millis(2017, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("yyyyMMdd", "2017 13"),
            Some(millis(2017, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(parse("MMM d", "Foo 3"), None);
        assert_eq!(parse("MMM d", " Jan 3"), None, "names do not skip spaces");
        assert_eq!(parse("HH:mm Z", "06:30 +01:00"), None, "Z takes no colon");
        assert_eq!(parse("HH:mm XXX", "06:30 +0100"), None, "XXX needs a colon");
        assert_eq!(parse("HH:mm X", "06:30 +2400"), None, "hours up to 23");
        assert_eq!(
            parse("HH:mm z", "06:30 PST"),
            None,
            "only UTC/GMT zone names"
        );
        assert_eq!(
            parse("HH:mm z", "06:30 GMT+5"),
            None,
            "GMT offsets need minutes"
        );
        assert_eq!(parse("yyyy", "-"), None);
    }

    #[test]
    fn parse_twelve_hour_clock_and_era() {
        assert_eq!(
            parse("h:mm a", "12:05 AM"),
            Some(millis(1970, 1, 1, 0, 5, 0, 0))
        );
        assert_eq!(
            parse("h:mm a", "12:05 PM"),
            Some(millis(1970, 1, 1, 12, 5, 0, 0))
        );
        assert_eq!(
            parse("K:mm a", "11:05 pm"),
            Some(millis(1970, 1, 1, 23, 5, 0, 0))
        );
        assert_eq!(parse("k:mm", "24:05"), Some(millis(1970, 1, 1, 0, 5, 0, 0)));
        // Without AM/PM, h is a morning hour.
        assert_eq!(parse("hh", "07"), Some(millis(1970, 1, 1, 7, 0, 0, 0)));
        // The later of H and h/a wins.
        assert_eq!(
            parse("HH hh a", "01 02 PM"),
            Some(millis(1970, 1, 1, 14, 0, 0, 0))
        );
        assert_eq!(
            parse("hh a HH", "02 PM 01"),
            Some(millis(1970, 1, 1, 1, 0, 0, 0))
        );
        // Year 0 is 1 BC.
        let bc = parse("yyyy-MM-dd G", "0001-01-01 BC").unwrap();
        assert_eq!(bc, millis(0, 1, 1, 0, 0, 0, 0));
        assert_eq!(
            parse("yyyy G", "2017 Anno Domini"),
            Some(millis(2017, 1, 1, 0, 0, 0, 0))
        );
    }

    #[test]
    fn parse_two_digit_years() {
        // Century start 1946-06-18: 00–45 are 20xx, 47–99 are 19xx, 46 depends on the date.
        assert_eq!(
            parse("yy-MM-dd", "17-01-03"),
            Some(millis(2017, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("yy-MM-dd", "99-01-03"),
            Some(millis(1999, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("yy-MM-dd", "46-07-01"),
            Some(millis(1946, 7, 1, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("yy-MM-dd", "46-01-01"),
            Some(millis(2046, 1, 1, 0, 0, 0, 0))
        );
        // Only exactly two digits with yy/y; yyyy takes years literally.
        assert_eq!(
            parse("yy-MM-dd", "2017-01-03"),
            Some(millis(2017, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("yyyy-MM-dd", "17-01-03"),
            Some(millis(17, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(
            parse("y-MM-dd", "7-01-03"),
            Some(millis(7, 1, 3, 0, 0, 0, 0))
        );
    }

    #[test]
    fn parse_week_and_day_fields() {
        // 2017-01-03 is a Tuesday; 2017-01-01 a Sunday, so week 1 of 2017 starts on it (US weeks).
        let jan3 = Some(millis(2017, 1, 3, 0, 0, 0, 0));
        assert_eq!(parse("yyyy D", "2017 3"), jan3);
        assert_eq!(
            parse("yyyy D", "2017 368"),
            Some(millis(2018, 1, 3, 0, 0, 0, 0))
        );
        assert_eq!(parse("yyyy w E", "2017 1 Tue"), jan3);
        assert_eq!(parse("yyyy w u", "2017 1 2"), jan3);
        assert_eq!(parse("YYYY ww u", "2017 01 2"), jan3);
        assert_eq!(parse("yyyy MM W EEE", "2017 01 1 Tue"), jan3);
        assert_eq!(parse("yyyy MM F EEE", "2017 01 1 Tue"), jan3);
        // The last Tuesday of January 2017 (F = -1) is the 31st.
        assert_eq!(
            parse("yyyy MM F EEE", "2017 01 -1 Tue"),
            Some(millis(2017, 1, 31, 0, 0, 0, 0))
        );
        // A week alone means its first day (Sunday).
        assert_eq!(
            parse("yyyy w", "2017 2"),
            Some(millis(2017, 1, 8, 0, 0, 0, 0))
        );
        // A day name alone is its first occurrence in January 1970 (the 1st was a Thursday).
        assert_eq!(parse("EEE", "Mon"), Some(millis(1970, 1, 5, 0, 0, 0, 0)));
        // The most recently parsed combination wins: here day-of-month after day-of-year.
        assert_eq!(parse("yyyy D MM dd", "2017 100 01 03"), jan3);
        assert_eq!(parse("yyyy MM dd D", "2017 05 05 3"), jan3);
        // A week year in which 1 January falls midweek: week 1 of 2016 starts on Sunday 2015-12-27.
        assert_eq!(
            parse("YYYY w E", "2016 1 Mon"),
            Some(millis(2015, 12, 28, 0, 0, 0, 0))
        );
    }

    #[test]
    fn compile_pattern_tokens() {
        assert_eq!(
            compile_pattern("yyyy-MM-dd'T'HH''mm").unwrap(),
            vec![
                PatternToken::Field('y', 4),
                PatternToken::Literal(vec!['-']),
                PatternToken::Field('M', 2),
                PatternToken::Literal(vec!['-']),
                PatternToken::Field('d', 2),
                PatternToken::Literal(vec!['T']),
                PatternToken::Field('H', 2),
                PatternToken::Literal(vec!['\'']),
                PatternToken::Field('m', 2),
            ]
        );
        assert_eq!(
            compile_pattern("'it''s' h").unwrap(),
            vec![
                PatternToken::Literal("it's ".chars().collect()),
                PatternToken::Field('h', 1),
            ]
        );
        assert_eq!(
            compile_pattern("yyyy-bb").unwrap_err(),
            "Illegal pattern character 'b'"
        );
        assert_eq!(compile_pattern("'abc").unwrap_err(), "Unterminated quote");
        assert_eq!(
            compile_pattern("XXXXX").unwrap_err(),
            "invalid ISO 8601 format: length=5"
        );
        assert!(compile_pattern("XXX").is_ok());
    }

    #[test]
    fn integer_parsing_matches_decimal_format() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(parse_integer(&chars("0042x"), 0, 5), Some((42, 4)));
        assert_eq!(parse_integer(&chars("-7"), 0, 2), Some((-7, 2)));
        assert_eq!(parse_integer(&chars("12345"), 0, 2), Some((12, 2)));
        assert_eq!(parse_integer(&chars("+1"), 0, 2), None);
        assert_eq!(parse_integer(&chars("-"), 0, 1), None);
        // Long.intValue() wraps; a value past a long saturates as Double.intValue().
        assert_eq!(parse_integer(&chars("4294967297"), 0, 10), Some((1, 10)));
        assert_eq!(
            parse_integer(&chars("99999999999999999999999"), 0, 23),
            Some((i32::MAX, 23))
        );
    }
}
