//! Java's `java.text.SimpleDateFormat` as Apache's `TimestampRouter` and `TimestampConverter` configure it:
//! default (English, US week rules) locale and the UTC time zone.
//!
//! One pattern compiler ([`SimpleDateFormat::new`], Java's `compile` with its `IllegalArgumentException`
//! messages), the formatter ([`SimpleDateFormat::format_millis`], Java's `subFormat`) and the lenient parser
//! ([`SimpleDateFormat::parse_millis`], Java's `subParse` + `CalendarBuilder` + `GregorianCalendar`).
//! Dates use the proleptic Gregorian calendar throughout, where Java switches to the Julian calendar before
//! 1582-10-15, so results for earlier dates differ from Java's.
use chrono::{DateTime, Datelike, Months, Timelike, Utc};

const MILLIS_PER_DAY: i64 = causeway_data::logical::MILLIS_PER_DAY;

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// Text copied verbatim (unquoted non-letters, quoted sections, `''` for a quote).
    Literal(String),
    /// A pattern letter repeated `count` times.
    Field(char, usize),
}

/// Java's `DateFormatSymbols.patternChars`: every letter a pattern may use.
const PATTERN_LETTERS: &str = "GyMdkHmsSEDFwWahKzZYuXL";

/// `SimpleDateFormat.compile`; errors are its `IllegalArgumentException` messages.
fn compile_pattern(pattern: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut literal = String::new();
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
                tokens.push(Token::Literal(std::mem::take(&mut literal)));
            }
            tokens.push(Token::Field(c, count));
            i += count;
        } else {
            literal.push(c);
            i += 1;
        }
    }
    if !literal.is_empty() {
        tokens.push(Token::Literal(literal));
    }
    Ok(tokens)
}

/// A compiled `java.text.SimpleDateFormat` in UTC with English names and US week rules (weeks start on
/// Sunday; the week holding 1 January is week 1).
///
/// Formatting supports every pattern letter. Parsing follows `SimpleDateFormat.parse(String)`: lenient
/// (`MM` of 13 rolls into the next year), spaces and tabs skipped before each field, abutting numeric fields
/// read by their letter count, trailing text ignored, two-digit `yy` years placed within 80 years before and
/// 20 after the moment the format was created. Its limits: time-zone names (`z`, `Z`) parse only for UTC/GMT
/// (`UTC`, `GMT`, `Coordinated Universal Time`, `Greenwich Mean Time`) besides numeric offsets (`+0100`,
/// `GMT+01:00`), and only ASCII digits are read.
#[derive(Debug, Clone)]
pub(crate) struct SimpleDateFormat {
    pattern: String,
    tokens: Vec<Token>,
    /// `defaultCenturyStart`: 80 years before creation.
    century_start_millis: i64,
    century_start_year: i32,
}

impl SimpleDateFormat {
    /// Compiles `pattern`, with two-digit years parsed relative to now; the error is Java's
    /// `IllegalArgumentException` message.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let now = Utc::now();
        // Calendar.add(YEAR, -80) keeps the day, clamping 29 February.
        let start = now.checked_sub_months(Months::new(960)).unwrap_or(now);
        Self::with_century_start(pattern, start)
    }

    /// Compiles `pattern`, with two-digit years parsed within the century from `century_start`.
    pub(crate) fn with_century_start(
        pattern: &str,
        century_start: DateTime<Utc>,
    ) -> Result<Self, String> {
        Ok(SimpleDateFormat {
            pattern: pattern.to_owned(),
            tokens: compile_pattern(pattern)?,
            century_start_millis: century_start.timestamp_millis(),
            century_start_year: century_start.year(),
        })
    }

    /// The pattern as configured.
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// `DateFormat.format(Date)`: milliseconds since the epoch as text; `None` when out of chrono's range.
    pub(crate) fn format_millis(&self, millis: i64) -> Option<String> {
        let t = DateTime::<Utc>::from_timestamp_millis(millis)?;
        let mut out = String::new();
        for token in &self.tokens {
            match token {
                Token::Literal(s) => out.push_str(s),
                Token::Field(letter, count) => format_field(&mut out, &t, *letter, *count),
            }
        }
        Some(out)
    }

    /// `DateFormat.parse(String)`: milliseconds since the epoch, or `None` (Java's `ParseException`).
    pub(crate) fn parse_millis(&self, text: &str) -> Option<i64> {
        let text: Vec<char> = text.chars().collect();
        let mut fields = CalendarFields::default();
        let mut pos = 0;
        for (i, token) in self.tokens.iter().enumerate() {
            match token {
                Token::Literal(expected) => {
                    for c in expected.chars() {
                        if text.get(pos) != Some(&c) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                Token::Field(letter, count) => {
                    let obey_count = matches!(
                        self.tokens.get(i + 1),
                        Some(Token::Field(next, next_count)) if obeys_count(*next, *next_count)
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
        let named = |fields: &mut CalendarFields, field: usize, matched: Option<(i32, usize)>| {
            let (value, end) = matched?;
            fields.set(field, value);
            Some(end)
        };
        match letter {
            'G' => {
                let eras = ERA_NAMES
                    .iter()
                    .zip(0..)
                    .chain(LONG_ERA_NAMES.iter().zip(0..));
                named(
                    fields,
                    ERA,
                    match_names(text, start, eras.map(|(n, v)| (*n, v))),
                )
            }
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
            'M' | 'L' => {
                let months = full_and_short_names(&MONTH_NAMES, 0);
                named(fields, MONTH, match_names(text, start, months))
            }
            // Calendar numbers days from Sunday = 1.
            'E' => {
                let days = full_and_short_names(&WEEKDAY_NAMES, 1);
                named(fields, DAY_OF_WEEK, match_names(text, start, days))
            }
            'a' => {
                let am_pm = AM_PM_NAMES.iter().zip(0..).map(|(n, v)| (*n, v));
                named(fields, AM_PM, match_names(text, start, am_pm))
            }
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

// ---------------------------------------------------------------------------------------------------------
// Names (English, as `DateFormatSymbols` for the default locale)
// ---------------------------------------------------------------------------------------------------------

/// Month names by `Calendar.MONTH` (0 = January); the short forms are their first three letters.
const MONTH_NAMES: [&str; 12] = [
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
/// Day names by `Calendar.DAY_OF_WEEK` − 1 (0 = Sunday); the short forms are their first three letters.
const WEEKDAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
/// Era names by `Calendar.ERA` (0 = BC); the parser also accepts the long forms.
const ERA_NAMES: [&str; 2] = ["BC", "AD"];
const AM_PM_NAMES: [&str; 2] = ["AM", "PM"];

fn short_name(name: &str) -> &str {
    name.get(..3).unwrap_or(name)
}

// ---------------------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------------------

/// `DecimalFormat` caps minimum integer digits at `DOUBLE_INTEGER_DIGITS`; this also bounds the output.
const MAX_PADDED_DIGITS: usize = 309;

/// `SimpleDateFormat.zeroPaddingNumber(value, count, Integer.MAX_VALUE)`: at least `count` digits.
fn pad(out: &mut String, value: i64, count: usize) {
    if value < 0 {
        out.push('-');
    }
    let width = count.min(MAX_PADDED_DIGITS);
    out.push_str(&format!("{:0width$}", value.unsigned_abs()));
}

/// `y`/`Y` with a count of 2: `zeroPaddingNumber(value, 2, 2)`, which keeps the last two digits.
fn pad_two_digits(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:02}", value.unsigned_abs() % 100));
}

/// `E`, `M` and `L` from a count of 3: the short name for 3, the full one from 4.
fn push_name(out: &mut String, full: &str, count: usize) {
    out.push_str(if count >= 4 { full } else { short_name(full) });
}

/// Java's `WEEK_YEAR` and `WEEK_OF_YEAR` for US week rules: weeks start on Sunday and the week holding
/// 1 January is week 1, so the last days of December can be week 1 of the next week year.
fn week_year_and_week(t: &DateTime<Utc>) -> (i64, i64) {
    let ordinal0 = i64::from(t.ordinal0());
    let weekday = i64::from(t.weekday().num_days_from_sunday());
    // Days from the Sunday starting week 1 to 1 January.
    let jan1_offset = (weekday - ordinal0).rem_euclid(7);
    let days_in_year = if t.date_naive().leap_year() { 366 } else { 365 };
    let next_jan1_offset = (jan1_offset + days_in_year).rem_euclid(7);
    if ordinal0 >= days_in_year - next_jan1_offset {
        return (i64::from(t.year()) + 1, 1);
    }
    (i64::from(t.year()), (ordinal0 + jan1_offset) / 7 + 1)
}

/// `SimpleDateFormat.subFormat` for one pattern letter repeated `count` times.
fn format_field(out: &mut String, t: &DateTime<Utc>, letter: char, count: usize) {
    let year = i64::from(t.year());
    match letter {
        'G' => out.push_str(ERA_NAMES[usize::from(year > 0)]),
        'y' | 'Y' => {
            let value = if letter == 'Y' {
                week_year_and_week(t).0
            } else if year <= 0 {
                // The year of era: year 0 is 1 BC.
                1 - year
            } else {
                year
            };
            if count == 2 {
                pad_two_digits(out, value);
            } else {
                pad(out, value, count);
            }
        }
        'M' | 'L' if count >= 3 => push_name(out, MONTH_NAMES[t.month0() as usize], count),
        'M' | 'L' => pad(out, i64::from(t.month()), count),
        'd' => pad(out, i64::from(t.day()), count),
        'D' => pad(out, i64::from(t.ordinal()), count),
        'E' => push_name(
            out,
            WEEKDAY_NAMES[t.weekday().num_days_from_sunday() as usize],
            count,
        ),
        // The ISO day number: 1 is Monday, 7 Sunday.
        'u' => pad(out, i64::from(t.weekday().number_from_monday()), count),
        'F' => pad(out, i64::from(t.day0() / 7 + 1), count),
        'w' => pad(out, week_year_and_week(t).1, count),
        'W' => {
            // The week holding the 1st is week 1.
            let day0 = i64::from(t.day0());
            let weekday = i64::from(t.weekday().num_days_from_sunday());
            let first_offset = (weekday - day0).rem_euclid(7);
            pad(out, (day0 + first_offset) / 7 + 1, count);
        }
        'a' => out.push_str(AM_PM_NAMES[usize::from(t.hour() >= 12)]),
        'H' => pad(out, i64::from(t.hour()), count),
        'k' => pad(
            out,
            i64::from(if t.hour() == 0 { 24 } else { t.hour() }),
            count,
        ),
        'K' => pad(out, i64::from(t.hour() % 12), count),
        'h' => pad(
            out,
            i64::from(if t.hour().is_multiple_of(12) {
                12
            } else {
                t.hour() % 12
            }),
            count,
        ),
        'm' => pad(out, i64::from(t.minute()), count),
        's' => pad(out, i64::from(t.second()), count),
        'S' => pad(out, i64::from(t.timestamp_subsec_millis()), count),
        // UTC's display names; the zone never observes daylight time.
        'z' => out.push_str(if count >= 4 {
            "Coordinated Universal Time"
        } else {
            "UTC"
        }),
        'Z' => out.push_str("+0000"),
        // A zero offset is `Z` for every ISO 8601 width.
        'X' => out.push('Z'),
        // compile_pattern admits no other letter.
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------

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

/// The long era names, which `G` parses besides [`ERA_NAMES`] (`Calendar.getDisplayNames`).
const LONG_ERA_NAMES: [&str; 2] = ["Before Christ", "Anno Domini"];

/// Names with their Calendar values: `names[i]` and its short form are `first + i`.
fn full_and_short_names(
    names: &'static [&'static str],
    first: i32,
) -> impl Iterator<Item = (&'static str, i32)> {
    names
        .iter()
        .zip(first..)
        .flat_map(|(name, value)| [(*name, value), (short_name(name), value)])
}

/// Zone names this parser knows: those of UTC and GMT, whose offset is zero.
const ZERO_OFFSET_ZONES: [(&str, i32); 4] = [
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

/// The longest name matching at `start`, ignoring case (as `SimpleDateFormat.matchString`): its value and
/// the end position.
fn match_names<'a>(
    text: &[char],
    start: usize,
    names: impl IntoIterator<Item = (&'a str, i32)>,
) -> Option<(i32, usize)> {
    names
        .into_iter()
        .filter(|(name, _)| region_matches(text, start, name))
        .max_by_key(|(name, _)| name.len())
        .map(|(name, value)| (value, start + name.chars().count()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn millis(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_milli_opt(h, mi, s, ms)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    /// Expected strings from OpenJDK 17's `SimpleDateFormat` (default locale `en`, whose weeks start on Sunday
    /// with one day enough for the first week, as Locale.US), from `jshell` with:
    ///
    /// ```text
    /// import java.text.*; import java.util.*;
    /// String f(String p, long t) { var s = new SimpleDateFormat(p, Locale.US);
    ///     s.setTimeZone(TimeZone.getTimeZone("UTC")); return s.format(new Date(t)); }
    /// f("u uu uuu E", 1514678400000L)  // and so on for each row
    /// f("y".repeat(400), 1483425001864L).length()  // 309
    /// ```
    const JAVA_FORMATTED: &[(&str, i64, &str)] = &[
        // Tuesday 2017-01-03T06:30:01.864Z
        ("yyyyMMdd", 1_483_425_001_864, "20170103"),
        ("yy.M.d", 1_483_425_001_864, "17.1.3"),
        ("y", 1_483_425_001_864, "2017"),
        ("yyyyy", 1_483_425_001_864, "02017"),
        ("HH:mm:ss.SSS", 1_483_425_001_864, "06:30:01.864"),
        ("S", 1_483_425_001_864, "864"),
        ("SSS", 1_483_425_001_864, "864"),
        ("SSSS", 1_483_425_001_864, "0864"),
        ("hh a, k K", 1_483_425_001_864, "06 AM, 6 6"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_483_425_001_864,
            "Tue Tuesday Jan January Jan January 1 01 3 0003",
        ),
        (
            "G GGGG z zzzz Z ZZZZ X XX XXX",
            1_483_425_001_864,
            "AD AD UTC Coordinated Universal Time +0000 +0000 Z Z Z",
        ),
        ("'week' w W", 1_483_425_001_864, "week 1 1"),
        ("'o''clock' ''", 1_483_425_001_864, "o'clock '"),
        ("u uu uuu E", 1_483_425_001_864, "2 02 002 Tue"),
        (
            "Y YY YYYY w ww W F D",
            1_483_425_001_864,
            "2017 17 2017 1 01 1 1 3",
        ),
        (
            "h hh K KK k kk H a",
            1_483_425_001_864,
            "6 06 6 06 6 06 6 AM",
        ),
        // Sunday 2017-12-31T00:00:00.000Z
        ("yyyyMMdd", 1_514_678_400_000, "20171231"),
        ("yy.M.d", 1_514_678_400_000, "17.12.31"),
        ("hh a, k K", 1_514_678_400_000, "12 AM, 24 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_514_678_400_000,
            "Sun Sunday Dec December Dec December 12 12 365 0365",
        ),
        ("u uu uuu E", 1_514_678_400_000, "7 07 007 Sun"),
        (
            "Y YY YYYY w ww W F D",
            1_514_678_400_000,
            "2018 18 2018 1 01 6 5 365",
        ),
        (
            "h hh K KK k kk H a",
            1_514_678_400_000,
            "12 12 0 00 24 24 0 AM",
        ),
        // Thursday 2015-12-31T00:00:00.000Z
        ("yyyyMMdd", 1_451_520_000_000, "20151231"),
        ("yy.M.d", 1_451_520_000_000, "15.12.31"),
        ("hh a, k K", 1_451_520_000_000, "12 AM, 24 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_451_520_000_000,
            "Thu Thursday Dec December Dec December 12 12 365 0365",
        ),
        ("u uu uuu E", 1_451_520_000_000, "4 04 004 Thu"),
        (
            "Y YY YYYY w ww W F D",
            1_451_520_000_000,
            "2016 16 2016 1 01 5 5 365",
        ),
        (
            "h hh K KK k kk H a",
            1_451_520_000_000,
            "12 12 0 00 24 24 0 AM",
        ),
        // Saturday 2016-12-31T00:00:00.000Z
        ("yyyyMMdd", 1_483_142_400_000, "20161231"),
        ("yy.M.d", 1_483_142_400_000, "16.12.31"),
        ("hh a, k K", 1_483_142_400_000, "12 AM, 24 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_483_142_400_000,
            "Sat Saturday Dec December Dec December 12 12 366 0366",
        ),
        ("u uu uuu E", 1_483_142_400_000, "6 06 006 Sat"),
        (
            "Y YY YYYY w ww W F D",
            1_483_142_400_000,
            "2016 16 2016 53 53 5 5 366",
        ),
        (
            "h hh K KK k kk H a",
            1_483_142_400_000,
            "12 12 0 00 24 24 0 AM",
        ),
        // Sunday 2020-12-27T00:00:00.000Z
        ("yyyyMMdd", 1_609_027_200_000, "20201227"),
        ("yy.M.d", 1_609_027_200_000, "20.12.27"),
        ("hh a, k K", 1_609_027_200_000, "12 AM, 24 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_609_027_200_000,
            "Sun Sunday Dec December Dec December 12 12 362 0362",
        ),
        ("u uu uuu E", 1_609_027_200_000, "7 07 007 Sun"),
        (
            "Y YY YYYY w ww W F D",
            1_609_027_200_000,
            "2021 21 2021 1 01 5 4 362",
        ),
        (
            "h hh K KK k kk H a",
            1_609_027_200_000,
            "12 12 0 00 24 24 0 AM",
        ),
        // Sunday 2017-04-30T00:00:00.000Z
        ("yyyyMMdd", 1_493_510_400_000, "20170430"),
        ("yy.M.d", 1_493_510_400_000, "17.4.30"),
        ("hh a, k K", 1_493_510_400_000, "12 AM, 24 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_493_510_400_000,
            "Sun Sunday Apr April Apr April 4 04 120 0120",
        ),
        ("u uu uuu E", 1_493_510_400_000, "7 07 007 Sun"),
        (
            "Y YY YYYY w ww W F D",
            1_493_510_400_000,
            "2017 17 2017 18 18 6 5 120",
        ),
        (
            "h hh K KK k kk H a",
            1_493_510_400_000,
            "12 12 0 00 24 24 0 AM",
        ),
        // Tuesday 2017-01-31T00:00:00.000Z
        ("yyyyMMdd", 1_485_820_800_000, "20170131"),
        ("yy.M.d", 1_485_820_800_000, "17.1.31"),
        ("hh a, k K", 1_485_820_800_000, "12 AM, 24 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_485_820_800_000,
            "Tue Tuesday Jan January Jan January 1 01 31 0031",
        ),
        ("u uu uuu E", 1_485_820_800_000, "2 02 002 Tue"),
        (
            "Y YY YYYY w ww W F D",
            1_485_820_800_000,
            "2017 17 2017 5 05 5 5 31",
        ),
        (
            "h hh K KK k kk H a",
            1_485_820_800_000,
            "12 12 0 00 24 24 0 AM",
        ),
        // Tuesday 2017-01-03T00:00:00.000Z
        ("yyyyMMdd", 1_483_401_600_000, "20170103"),
        ("yy.M.d", 1_483_401_600_000, "17.1.3"),
        ("hh a, k K", 1_483_401_600_000, "12 AM, 24 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_483_401_600_000,
            "Tue Tuesday Jan January Jan January 1 01 3 0003",
        ),
        ("u uu uuu E", 1_483_401_600_000, "2 02 002 Tue"),
        (
            "Y YY YYYY w ww W F D",
            1_483_401_600_000,
            "2017 17 2017 1 01 1 1 3",
        ),
        (
            "h hh K KK k kk H a",
            1_483_401_600_000,
            "12 12 0 00 24 24 0 AM",
        ),
        // Tuesday 2017-01-03T12:00:00.000Z
        ("yyyyMMdd", 1_483_444_800_000, "20170103"),
        ("yy.M.d", 1_483_444_800_000, "17.1.3"),
        ("hh a, k K", 1_483_444_800_000, "12 PM, 12 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_483_444_800_000,
            "Tue Tuesday Jan January Jan January 1 01 3 0003",
        ),
        ("u uu uuu E", 1_483_444_800_000, "2 02 002 Tue"),
        (
            "Y YY YYYY w ww W F D",
            1_483_444_800_000,
            "2017 17 2017 1 01 1 1 3",
        ),
        (
            "h hh K KK k kk H a",
            1_483_444_800_000,
            "12 12 0 00 12 12 12 PM",
        ),
        // Tuesday 2017-01-03T23:59:59.999Z
        ("yyyyMMdd", 1_483_487_999_999, "20170103"),
        ("yy.M.d", 1_483_487_999_999, "17.1.3"),
        ("hh a, k K", 1_483_487_999_999, "11 PM, 23 11"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            1_483_487_999_999,
            "Tue Tuesday Jan January Jan January 1 01 3 0003",
        ),
        ("u uu uuu E", 1_483_487_999_999, "2 02 002 Tue"),
        (
            "Y YY YYYY w ww W F D",
            1_483_487_999_999,
            "2017 17 2017 1 01 1 1 3",
        ),
        (
            "h hh K KK k kk H a",
            1_483_487_999_999,
            "11 11 11 11 23 23 23 PM",
        ),
        // Wednesday 1969-12-31T23:59:59.999Z
        ("yyyyMMdd", -1, "19691231"),
        ("yy.M.d", -1, "69.12.31"),
        ("hh a, k K", -1, "11 PM, 23 11"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            -1,
            "Wed Wednesday Dec December Dec December 12 12 365 0365",
        ),
        ("u uu uuu E", -1, "3 03 003 Wed"),
        ("Y YY YYYY w ww W F D", -1, "1970 70 1970 1 01 5 5 365"),
        ("h hh K KK k kk H a", -1, "11 11 11 11 23 23 23 PM"),
        // Saturday 10000-01-01T00:00:00.000Z
        ("yyyyMMdd", 253_402_300_800_000, "100000101"),
        ("yy.M.d", 253_402_300_800_000, "00.1.1"),
        ("hh a, k K", 253_402_300_800_000, "12 AM, 24 0"),
        (
            "EEE EEEE MMM MMMM LLL LLLL L LL D DDDD",
            253_402_300_800_000,
            "Sat Saturday Jan January Jan January 1 01 1 0001",
        ),
        ("u uu uuu E", 253_402_300_800_000, "6 06 006 Sat"),
        (
            "Y YY YYYY w ww W F D",
            253_402_300_800_000,
            "10000 00 10000 1 01 1 1 1",
        ),
        (
            "h hh K KK k kk H a",
            253_402_300_800_000,
            "12 12 0 00 24 24 0 AM",
        ),
        ("yyyy/MM/dd-HH", -1, "1969/12/31-23"),
        // Tuesday 2017-01-03T06:30:01.004Z: milliseconds are padded to the count, not scaled.
        ("S", 1_483_425_001_004, "4"),
        ("SS", 1_483_425_001_004, "04"),
        ("SSS", 1_483_425_001_004, "004"),
    ];

    #[test]
    fn formats_like_java() {
        for (pattern, millis, expected) in JAVA_FORMATTED {
            let formatted = SimpleDateFormat::new(pattern)
                .unwrap()
                .format_millis(*millis)
                .unwrap();
            assert_eq!(&formatted, expected, "{pattern} at {millis}");
        }
    }

    #[test]
    fn format_padding_is_capped_like_decimal_format() {
        let format = |p: String| {
            SimpleDateFormat::new(&p)
                .unwrap()
                .format_millis(1_483_425_001_864)
        };
        assert_eq!(format("y".repeat(400)).map(|s| s.len()), Some(309));
        assert_eq!(format("S".repeat(400)).map(|s| s.len()), Some(309));
        // chrono's range ends before Java's.
        assert_eq!(
            SimpleDateFormat::new("y").unwrap().format_millis(i64::MAX),
            None
        );
    }

    #[test]
    fn formatted_text_parses_back() {
        let patterns = [
            "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            "EEE, d MMM yyyy hh:mm:ss.SSS a z",
            "YYYY ww u HH:mm:ss.SSS X",
            "yyyy D k:mm:ss.SSS zzzz",
        ];
        for pattern in patterns {
            let format = SimpleDateFormat::new(pattern).unwrap();
            for (_, millis, _) in JAVA_FORMATTED
                .iter()
                .filter(|(_, m, _)| *m != 253_402_300_800_000)
            {
                let text = format.format_millis(*millis).unwrap();
                assert_eq!(
                    format.parse_millis(&text),
                    Some(*millis),
                    "{pattern}: {text}"
                );
            }
        }
    }

    /// A pattern whose two-digit years start at 1946-06-18 (80 years before 2026-06-18).
    fn pattern(p: &str) -> SimpleDateFormat {
        SimpleDateFormat::with_century_start(p, Utc.with_ymd_and_hms(1946, 6, 18, 0, 0, 0).unwrap())
            .unwrap()
    }

    fn parse(p: &str, text: &str) -> Option<i64> {
        pattern(p).parse_millis(text)
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
            parse("yyyy MM dd HH mm ss SSS z", "1970 01 02 00 00 01 234 UTC"),
            Some(86_401_234),
            "Apache's TimestampConverterTest fixture"
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
                Token::Field('y', 4),
                Token::Literal("-".into()),
                Token::Field('M', 2),
                Token::Literal("-".into()),
                Token::Field('d', 2),
                Token::Literal("T".into()),
                Token::Field('H', 2),
                Token::Literal("'".into()),
                Token::Field('m', 2),
            ]
        );
        assert_eq!(
            compile_pattern("'it''s' h").unwrap(),
            vec![Token::Literal("it's ".into()), Token::Field('h', 1),]
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
