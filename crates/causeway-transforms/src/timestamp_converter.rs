//! `TimestampConverter`: converts a timestamp (the whole key or value, or one field of it) between Unix
//! epoch numbers, formatted strings and Connect's logical Date, Time and Timestamp types.
//!
//! String timestamps are formatted and parsed with [`SimpleDateFormat`].
use causeway_api::config::{ConfigDef, ConfigType, Importance, validators};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{
    ConnectRecord, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value, logical,
};

use crate::hoist_field::{SchemaCache, Side};
use crate::java_date_format::SimpleDateFormat;

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
// The transform
// ---------------------------------------------------------------------------------------------------------

/// The parsed configuration.
#[derive(Debug, Clone)]
struct Settings {
    field: String,
    target: TimestampType,
    format: Option<SimpleDateFormat>,
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
                format.parse_millis(text).ok_or_else(|| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({text}) does not match pattern ({})",
                        format.pattern()
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
                Value::String(format.format_millis(millis).ok_or_else(|| {
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
            Some(
                SimpleDateFormat::new(pattern)
                    .map_err(|reason| invalid_pattern(pattern, &reason))?,
            )
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
    use crate::test_support::props;
    use chrono::NaiveDate;

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
}
