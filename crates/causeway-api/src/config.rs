//! Configuration definitions (`ConfigDef`): declare each key once, then parse, validate and describe.
//!
//! Parsing and error texts follow `org.apache.kafka.common.config.ConfigDef`, because users and scripts see
//! them verbatim in `config/validate` responses and 400 errors.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::{ConnectError, Props};

/// The type of a configuration key (`ConfigDef.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    /// `true`/`false`, case-insensitive.
    Boolean,
    /// Trimmed string.
    String,
    /// 32-bit integer.
    Int,
    /// 16-bit integer.
    Short,
    /// 64-bit integer.
    Long,
    /// 64-bit float.
    Double,
    /// Comma-separated list.
    List,
    /// A class name (for us: a plugin class name or alias).
    Class,
    /// A secret, never shown back.
    Password,
}

impl ConfigType {
    /// The upper-case name used in REST responses.
    pub fn name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Short => "SHORT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Class => "CLASS",
            ConfigType::Password => "PASSWORD",
        }
    }
}

/// How important a key is (`ConfigDef.Importance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

impl Importance {
    /// The upper-case name used in REST responses.
    pub fn name(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// The display width hint of a key (`ConfigDef.Width`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// No hint.
    None,
    /// Short.
    Short,
    /// Medium.
    Medium,
    /// Long.
    Long,
}

impl Width {
    /// The upper-case name used in REST responses.
    pub fn name(self) -> &'static str {
        match self {
            Width::None => "NONE",
            Width::Short => "SHORT",
            Width::Medium => "MEDIUM",
            Width::Long => "LONG",
        }
    }
}

/// A parsed configuration value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedValue {
    /// BOOLEAN.
    Boolean(bool),
    /// STRING.
    String(String),
    /// INT.
    Int(i32),
    /// SHORT.
    Short(i16),
    /// LONG.
    Long(i64),
    /// DOUBLE.
    Double(f64),
    /// LIST.
    List(Vec<String>),
    /// CLASS.
    Class(String),
    /// PASSWORD.
    Password(String),
}

impl ParsedValue {
    /// Renders the value back to text as `ConfigDef.convertToString` does (lists joined with `,`,
    /// passwords hidden).
    pub fn to_config_string(&self) -> String {
        match self {
            ParsedValue::Boolean(b) => b.to_string(),
            ParsedValue::String(s) | ParsedValue::Class(s) => s.clone(),
            ParsedValue::Int(v) => v.to_string(),
            ParsedValue::Short(v) => v.to_string(),
            ParsedValue::Long(v) => v.to_string(),
            ParsedValue::Double(v) => {
                if v.fract() == 0.0 && v.is_finite() {
                    format!("{v:.1}")
                } else {
                    v.to_string()
                }
            }
            ParsedValue::List(l) => l.join(","),
            ParsedValue::Password(_) => "[hidden]".into(),
        }
    }

    /// The value as a number, for range checks.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            ParsedValue::Int(v) => Some(v.into()),
            ParsedValue::Short(v) => Some(v.into()),
            ParsedValue::Long(v) => Some(v as f64),
            ParsedValue::Double(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a string slice (STRING, CLASS, PASSWORD).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParsedValue::String(s) | ParsedValue::Class(s) | ParsedValue::Password(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for ParsedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParsedValue::List(l) => write!(f, "[{}]", l.join(", ")),
            ParsedValue::Password(_) => f.write_str("[hidden]"),
            other => f.write_str(&other.to_config_string()),
        }
    }
}

/// Parses a raw string as the given type (`ConfigDef.parseType`).
///
/// # Errors
/// The message of Connect's `ConfigException(name, value, reason)`.
pub fn parse_type(name: &str, raw: &str, ty: ConfigType) -> Result<ParsedValue, String> {
    let trimmed = raw.trim();
    let invalid = |reason: &str| format!("Invalid value {raw} for configuration {name}: {reason}");
    Ok(match ty {
        ConfigType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => ParsedValue::Boolean(true),
            "false" => ParsedValue::Boolean(false),
            _ => return Err(invalid("Expected value to be either true or false")),
        },
        ConfigType::String => ParsedValue::String(trimmed.to_owned()),
        ConfigType::Int => ParsedValue::Int(
            trimmed
                .parse()
                .map_err(|_| invalid("Not a number of type INT"))?,
        ),
        ConfigType::Short => ParsedValue::Short(
            trimmed
                .parse()
                .map_err(|_| invalid("Not a number of type SHORT"))?,
        ),
        ConfigType::Long => ParsedValue::Long(
            trimmed
                .parse()
                .map_err(|_| invalid("Not a number of type LONG"))?,
        ),
        ConfigType::Double => ParsedValue::Double(
            trimmed
                .parse()
                .map_err(|_| invalid("Not a number of type DOUBLE"))?,
        ),
        ConfigType::List => ParsedValue::List(if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split(',').map(|s| s.trim().to_owned()).collect()
        }),
        ConfigType::Class => ParsedValue::Class(trimmed.to_owned()),
        ConfigType::Password => ParsedValue::Password(raw.to_owned()),
    })
}

/// Checks a parsed value (`ConfigDef.Validator`).
pub trait Validator: Send + Sync {
    /// Returns the reason the value is invalid, or `Ok`. The caller builds
    /// `Invalid value <v> for configuration <name>: <reason>` from it unless the reason starts with
    /// `!`, in which case the remainder is the full message.
    fn ensure_valid(&self, name: &str, value: Option<&ParsedValue>) -> Result<(), String>;
    /// A short description for documentation (`[1,...]`, `[a, b]`).
    fn describe(&self) -> String {
        String::new()
    }
}

/// Supplies recommended values and visibility (`ConfigDef.Recommender`).
pub trait Recommender: Send + Sync {
    /// Recommended values given the other parsed values.
    fn valid_values(
        &self,
        name: &str,
        parsed: &HashMap<String, Option<ParsedValue>>,
    ) -> Vec<ParsedValue>;
    /// Whether the key is relevant given the other parsed values.
    fn visible(&self, _name: &str, _parsed: &HashMap<String, Option<ParsedValue>>) -> bool {
        true
    }
}

/// Common validators, as `ConfigDef.Range`, `ValidString`, `NonEmptyString` and friends.
pub mod validators {
    use super::*;

    /// A numeric range (`Range.atLeast` / `Range.between`).
    pub struct Range {
        min: Option<f64>,
        max: Option<f64>,
    }

    /// At least `min` (`Range.atLeast`).
    pub fn at_least(min: f64) -> Arc<dyn Validator> {
        Arc::new(Range {
            min: Some(min),
            max: None,
        })
    }

    /// Between `min` and `max` inclusive (`Range.between`).
    pub fn between(min: f64, max: f64) -> Arc<dyn Validator> {
        Arc::new(Range {
            min: Some(min),
            max: Some(max),
        })
    }

    fn num(v: f64) -> String {
        if v.fract() == 0.0 {
            format!("{}", v as i64)
        } else {
            v.to_string()
        }
    }

    impl Validator for Range {
        fn ensure_valid(&self, _name: &str, value: Option<&ParsedValue>) -> Result<(), String> {
            let Some(n) = value.and_then(ParsedValue::as_f64) else {
                return Err("Value must be non-null".into());
            };
            match (self.min, self.max) {
                (Some(min), None) if n < min => Err(format!("Value must be at least {}", num(min))),
                (Some(min), Some(_)) if n < min => {
                    Err(format!("Value must be no less than {}", num(min)))
                }
                (_, Some(max)) if n > max => {
                    Err(format!("Value must be no more than {}", num(max)))
                }
                _ => Ok(()),
            }
        }
        fn describe(&self) -> String {
            match (self.min, self.max) {
                (Some(min), None) => format!("[{},...]", num(min)),
                (Some(min), Some(max)) => format!("[{},...,{}]", num(min), num(max)),
                (None, Some(max)) => format!("[...,{}]", num(max)),
                (None, None) => "[...]".into(),
            }
        }
    }

    /// One of a fixed set of strings (`ValidString.in`, or case-insensitive `CaseInsensitiveValidString`).
    pub struct OneOf {
        allowed: Vec<String>,
        case_insensitive: bool,
    }

    /// Exactly one of `allowed`.
    pub fn one_of(allowed: &[&str]) -> Arc<dyn Validator> {
        Arc::new(OneOf {
            allowed: allowed.iter().map(|s| s.to_string()).collect(),
            case_insensitive: false,
        })
    }

    /// A list with at least one element (`NonEmptyListValidator`).
    pub fn non_empty_list() -> Arc<dyn Validator> {
        from_fn("non-empty list", |name, v| match v {
            Some(ParsedValue::List(items)) if items.is_empty() => Err(format!(
                "!Invalid value [] for configuration {name}: Empty list"
            )),
            _ => Ok(()),
        })
    }

    /// One of `allowed`, ignoring case.
    pub fn one_of_ignore_case(allowed: &[&str]) -> Arc<dyn Validator> {
        Arc::new(OneOf {
            allowed: allowed.iter().map(|s| s.to_string()).collect(),
            case_insensitive: true,
        })
    }

    impl Validator for OneOf {
        fn ensure_valid(&self, _name: &str, value: Option<&ParsedValue>) -> Result<(), String> {
            let s = value.and_then(ParsedValue::as_str).unwrap_or("");
            let ok = self.allowed.iter().any(|a| {
                if self.case_insensitive {
                    a.eq_ignore_ascii_case(s)
                } else {
                    a == s
                }
            });
            if ok {
                Ok(())
            } else if self.case_insensitive {
                Err(format!(
                    "String must be one of (case insensitive): {}",
                    self.allowed.join(", ")
                ))
            } else {
                Err(format!(
                    "String must be one of: {}",
                    self.allowed.join(", ")
                ))
            }
        }
        fn describe(&self) -> String {
            format!("[{}]", self.allowed.join(", "))
        }
    }

    /// A non-empty string (`NonEmptyString`).
    pub struct NonEmptyString;

    impl Validator for NonEmptyString {
        fn ensure_valid(&self, _name: &str, value: Option<&ParsedValue>) -> Result<(), String> {
            match value.and_then(ParsedValue::as_str) {
                Some(s) if !s.is_empty() => Ok(()),
                _ => Err("String must be non-empty".into()),
            }
        }
        fn describe(&self) -> String {
            "non-empty string".into()
        }
    }

    /// A non-empty string without ISO control characters (`NonEmptyStringWithoutControlChars`), used
    /// for connector names.
    pub struct NonEmptyStringWithoutControlChars;

    impl Validator for NonEmptyStringWithoutControlChars {
        fn ensure_valid(&self, _name: &str, value: Option<&ParsedValue>) -> Result<(), String> {
            let Some(s) = value.and_then(ParsedValue::as_str) else {
                return Ok(());
            };
            if s.is_empty() {
                return Err("String may not be empty".into());
            }
            let codes: Vec<String> = s
                .chars()
                .filter(|c| c.is_control())
                .map(|c| (c as u32).to_string())
                .collect();
            if codes.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "String may not contain control sequences but had the following ASCII chars: {}",
                    codes.join(", ")
                ))
            }
        }
        fn describe(&self) -> String {
            "non-empty string without ISO control characters".into()
        }
    }

    /// A validator from a closure.
    pub struct FnValidator<F>(pub F, pub String);

    impl<F> Validator for FnValidator<F>
    where
        F: Fn(&str, Option<&ParsedValue>) -> Result<(), String> + Send + Sync,
    {
        fn ensure_valid(&self, name: &str, value: Option<&ParsedValue>) -> Result<(), String> {
            (self.0)(name, value)
        }
        fn describe(&self) -> String {
            self.1.clone()
        }
    }

    /// Wraps a closure as a validator with a description.
    pub fn from_fn<F>(describe: &str, f: F) -> Arc<dyn Validator>
    where
        F: Fn(&str, Option<&ParsedValue>) -> Result<(), String> + Send + Sync + 'static,
    {
        Arc::new(FnValidator(f, describe.to_owned()))
    }
}

/// The default of a key.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// No default: the key is required.
    Required,
    /// The default is null.
    Null,
    /// A parsed default.
    Value(ParsedValue),
}

/// One declared key (`ConfigDef.ConfigKey`).
#[derive(Clone)]
pub struct ConfigKey {
    /// Key name.
    pub name: String,
    /// Type.
    pub config_type: ConfigType,
    /// Default.
    pub default: DefaultValue,
    /// Optional validator.
    pub validator: Option<Arc<dyn Validator>>,
    /// Importance.
    pub importance: Importance,
    /// Documentation.
    pub documentation: Option<String>,
    /// Group.
    pub group: Option<String>,
    /// Position within the group (`-1` when unset).
    pub order_in_group: i32,
    /// Width.
    pub width: Width,
    /// Display name (defaults to the key name).
    pub display_name: String,
    /// Keys whose visibility or recommendations depend on this one.
    pub dependents: Vec<String>,
    /// Optional recommender.
    pub recommender: Option<Arc<dyn Recommender>>,
    /// Hidden from documentation listings (Connect's internal keys).
    pub internal: bool,
}

impl fmt::Debug for ConfigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigKey")
            .field("name", &self.name)
            .field("type", &self.config_type)
            .field("default", &self.default)
            .finish_non_exhaustive()
    }
}

impl ConfigKey {
    /// True if the key has no default.
    pub fn required(&self) -> bool {
        self.default == DefaultValue::Required
    }

    /// The default rendered as REST shows it (`null` when required or null).
    pub fn default_string(&self) -> Option<String> {
        match &self.default {
            DefaultValue::Value(v) => Some(v.to_config_string()),
            _ => None,
        }
    }

    /// Sets the group and the position within it.
    pub fn in_group(mut self, group: impl Into<String>, order: i32) -> Self {
        self.group = Some(group.into());
        self.order_in_group = order;
        self
    }

    /// Sets the width.
    pub fn width(mut self, width: Width) -> Self {
        self.width = width;
        self
    }

    /// Sets the display name.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = name.into();
        self
    }

    /// Sets the validator.
    pub fn validator(mut self, v: Arc<dyn Validator>) -> Self {
        self.validator = Some(v);
        self
    }

    /// Sets the recommender.
    pub fn recommender(mut self, r: Arc<dyn Recommender>) -> Self {
        self.recommender = Some(r);
        self
    }

    /// Sets the dependents.
    pub fn dependents(mut self, deps: &[&str]) -> Self {
        self.dependents = deps.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Sets the documentation.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.documentation = Some(doc.into());
        self
    }

    /// Marks the key internal.
    pub fn internal(mut self) -> Self {
        self.internal = true;
        self
    }
}

/// A key's validation outcome (`ConfigValue`), as `config/validate` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValue {
    /// Key name.
    pub name: String,
    /// The parsed value rendered as text, or `None`.
    pub value: Option<String>,
    /// Recommended values rendered as text.
    pub recommended_values: Vec<String>,
    /// Error messages.
    pub errors: Vec<String>,
    /// Whether the key is relevant.
    pub visible: bool,
}

impl ConfigValue {
    /// An entry with a value and no errors.
    pub fn new(name: impl Into<String>, value: Option<String>) -> Self {
        ConfigValue {
            name: name.into(),
            value,
            recommended_values: Vec::new(),
            errors: Vec::new(),
            visible: true,
        }
    }

    /// Adds an error.
    pub fn add_error(&mut self, msg: impl Into<String>) {
        self.errors.push(msg.into());
    }
}

/// A set of key declarations (`ConfigDef`), in definition order.
#[derive(Clone, Default, Debug)]
pub struct ConfigDef {
    keys: Vec<ConfigKey>,
}

impl ConfigDef {
    /// An empty definition.
    pub fn new() -> Self {
        ConfigDef::default()
    }

    /// Declares a key with a default given as text (parsed now; use [`ConfigDef::define_required`] for keys
    /// without default and [`ConfigDef::define_null`] for null defaults).
    ///
    /// # Panics
    /// If the default does not parse as `ty`: that is a bug in the plugin's definition.
    pub fn define(
        self,
        name: &str,
        ty: ConfigType,
        default: &str,
        importance: Importance,
        doc: &str,
    ) -> Self {
        let parsed =
            parse_type(name, default, ty).unwrap_or_else(|e| panic!("bad default for {name}: {e}"));
        self.define_key(ConfigKey {
            default: DefaultValue::Value(parsed),
            ..Self::key(name, ty, importance, doc)
        })
    }

    /// Declares a key that has no default (required).
    pub fn define_required(
        self,
        name: &str,
        ty: ConfigType,
        importance: Importance,
        doc: &str,
    ) -> Self {
        self.define_key(Self::key(name, ty, importance, doc))
    }

    /// Declares a key whose default is null.
    pub fn define_null(
        self,
        name: &str,
        ty: ConfigType,
        importance: Importance,
        doc: &str,
    ) -> Self {
        self.define_key(ConfigKey {
            default: DefaultValue::Null,
            ..Self::key(name, ty, importance, doc)
        })
    }

    /// A fresh required key, to be customised and passed to [`ConfigDef::define_key`].
    pub fn key(name: &str, ty: ConfigType, importance: Importance, doc: &str) -> ConfigKey {
        ConfigKey {
            name: name.to_owned(),
            config_type: ty,
            default: DefaultValue::Required,
            validator: None,
            importance,
            documentation: Some(doc.to_owned()),
            group: None,
            order_in_group: -1,
            width: Width::None,
            display_name: name.to_owned(),
            dependents: Vec::new(),
            recommender: None,
            internal: false,
        }
    }

    /// Adds (or replaces) a fully specified key.
    pub fn define_key(mut self, key: ConfigKey) -> Self {
        if let Some(slot) = self.keys.iter_mut().find(|k| k.name == key.name) {
            *slot = key;
        } else {
            self.keys.push(key);
        }
        self
    }

    /// Modifies the last declared key (set group, width, validator …).
    pub fn with_last(mut self, f: impl FnOnce(ConfigKey) -> ConfigKey) -> Self {
        if let Some(last) = self.keys.pop() {
            self.keys.push(f(last));
        }
        self
    }

    /// Appends every key of `other` not already declared here.
    pub fn merge(mut self, other: &ConfigDef) -> Self {
        for k in &other.keys {
            if self.find(&k.name).is_none() {
                self.keys.push(k.clone());
            }
        }
        self
    }

    /// Keys in definition order.
    pub fn keys(&self) -> &[ConfigKey] {
        &self.keys
    }

    /// Looks up a key.
    pub fn find(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Group names in first-seen order.
    pub fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for k in &self.keys {
            if let Some(g) = &k.group
                && !groups.contains(g)
            {
                groups.push(g.clone());
            }
        }
        groups
    }

    fn parse_one(&self, key: &ConfigKey, props: &Props) -> Result<Option<ParsedValue>, String> {
        let value = match props.get(&key.name) {
            Some(raw) => Some(parse_type(&key.name, raw, key.config_type)?),
            None => match &key.default {
                DefaultValue::Required => {
                    return Err(format!(
                        "Missing required configuration \"{}\" which has no default value.",
                        key.name
                    ));
                }
                DefaultValue::Null => None,
                DefaultValue::Value(v) => Some(v.clone()),
            },
        };
        if let Some(v) = &key.validator {
            v.ensure_valid(&key.name, value.as_ref())
                .map_err(|reason| match reason.strip_prefix('!') {
                    Some(full) => full.to_owned(),
                    None => {
                        let shown = match (&value, props.get(&key.name)) {
                            (Some(ParsedValue::Password(_)), _) => "[hidden]".to_owned(),
                            (_, Some(raw)) => raw.clone(),
                            (Some(v), None) => v.to_config_string(),
                            (None, None) => "null".to_owned(),
                        };
                        format!(
                            "Invalid value {shown} for configuration {}: {reason}",
                            key.name
                        )
                    }
                })?;
        }
        Ok(value)
    }

    /// Parses every declared key (`ConfigDef.parse`), keeping the originals for unknown keys.
    ///
    /// # Errors
    /// [`ConnectError::Config`] with the first problem, worded as Connect words it.
    pub fn parse(&self, props: &Props) -> Result<ParsedConfig, ConnectError> {
        let mut values = HashMap::new();
        for key in &self.keys {
            let v = self.parse_one(key, props).map_err(ConnectError::Config)?;
            values.insert(key.name.clone(), v);
        }
        Ok(ParsedConfig {
            values,
            originals: props.clone(),
        })
    }

    /// Validates every declared key (`ConfigDef.validate`): one [`ConfigValue`] per key, in definition order,
    /// with errors, recommended values and visibility.
    pub fn validate(&self, props: &Props) -> Vec<ConfigValue> {
        let mut parsed: HashMap<String, Option<ParsedValue>> = HashMap::new();
        let mut out: Vec<ConfigValue> = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            let mut cv = ConfigValue::new(&key.name, None);
            match self.parse_one(key, props) {
                Ok(v) => {
                    cv.value = v.as_ref().map(ParsedValue::to_config_string);
                    parsed.insert(key.name.clone(), v);
                }
                Err(e) => {
                    cv.value = props.get(&key.name).map(|raw| {
                        if key.config_type == ConfigType::Password {
                            "[hidden]".to_owned()
                        } else {
                            raw.clone()
                        }
                    });
                    cv.add_error(e);
                }
            }
            out.push(cv);
        }
        for (key, cv) in self.keys.iter().zip(out.iter_mut()) {
            if let Some(r) = &key.recommender {
                cv.recommended_values = r
                    .valid_values(&key.name, &parsed)
                    .iter()
                    .map(ParsedValue::to_config_string)
                    .collect();
                cv.visible = r.visible(&key.name, &parsed);
            }
        }
        out
    }
}

/// The result of [`ConfigDef::parse`]: typed values plus the original strings.
#[derive(Debug, Clone, Default)]
pub struct ParsedConfig {
    values: HashMap<String, Option<ParsedValue>>,
    originals: Props,
}

impl ParsedConfig {
    /// The parsed value of a declared key.
    pub fn get(&self, name: &str) -> Option<&ParsedValue> {
        self.values.get(name).and_then(Option::as_ref)
    }

    /// A STRING/CLASS/PASSWORD key's value.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(ParsedValue::as_str)
    }

    /// An INT key's value.
    pub fn int(&self, name: &str) -> Option<i32> {
        match self.get(name)? {
            ParsedValue::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// A LONG key's value.
    pub fn long(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            ParsedValue::Long(v) => Some(*v),
            ParsedValue::Int(v) => Some((*v).into()),
            _ => None,
        }
    }

    /// A DOUBLE key's value.
    pub fn double(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(ParsedValue::as_f64)
    }

    /// A BOOLEAN key's value.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            ParsedValue::Boolean(v) => Some(*v),
            _ => None,
        }
    }

    /// A LIST key's value (empty when null).
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(ParsedValue::List(l)) => l.clone(),
            _ => Vec::new(),
        }
    }

    /// The original properties.
    pub fn originals(&self) -> &Props {
        &self.originals
    }

    /// Original properties starting with `prefix`, with the prefix stripped (`originalsWithPrefix`).
    pub fn originals_with_prefix(&self, prefix: &str) -> Props {
        self.originals
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_owned(), v.clone())))
            .collect()
    }

    /// Original keys not declared in `def` (`AbstractConfig.unused`, roughly): logged, never rejected.
    pub fn unknown_keys<'a>(&'a self, def: &'a ConfigDef) -> impl Iterator<Item = &'a str> + 'a {
        self.originals
            .keys()
            .filter(|k| def.find(k).is_none())
            .map(String::as_str)
    }
}

/// Collects the error messages of validation results into one list (for 400 responses).
pub fn collect_errors(values: &[ConfigValue]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.errors.iter().cloned())
        .collect()
}

/// Groups values by name, for looking up one key's result.
pub fn by_name(values: &[ConfigValue]) -> BTreeMap<&str, &ConfigValue> {
    values.iter().map(|v| (v.name.as_str(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::validators::*;
    use super::*;

    fn props(kv: &[(&str, &str)]) -> Props {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define_required("file", ConfigType::String, Importance::High, "File.")
            .define(
                "batch.size",
                ConfigType::Int,
                "2000",
                Importance::Low,
                "Batch.",
            )
            .with_last(|k| k.validator(at_least(1.0)))
            .define("topics", ConfigType::List, "", Importance::High, "Topics.")
            .define_null("secret", ConfigType::Password, Importance::Low, "Secret.")
    }

    #[test]
    fn parse_applies_defaults_and_types() {
        let c = def()
            .parse(&props(&[("file", " /tmp/x "), ("topics", "a, b ,c")]))
            .unwrap();
        assert_eq!(c.string("file"), Some("/tmp/x"));
        assert_eq!(c.int("batch.size"), Some(2000));
        assert_eq!(c.list("topics"), vec!["a", "b", "c"]);
        assert_eq!(c.get("secret"), None);
    }

    #[test]
    fn errors_are_worded_like_connect() {
        let err = def().parse(&props(&[])).unwrap_err();
        assert_eq!(
            err.message(),
            "Missing required configuration \"file\" which has no default value."
        );
        let err = def()
            .parse(&props(&[("file", "f"), ("batch.size", "x")]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Invalid value x for configuration batch.size: Not a number of type INT"
        );
        let err = def()
            .parse(&props(&[("file", "f"), ("batch.size", "0")]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Invalid value 0 for configuration batch.size: Value must be at least 1"
        );
    }

    #[test]
    fn validate_reports_each_key_and_hides_passwords() {
        let vals = def().validate(&props(&[("secret", "s3cr3t"), ("batch.size", "-1")]));
        let by = by_name(&vals);
        assert_eq!(by["file"].errors.len(), 1);
        assert_eq!(by["batch.size"].value.as_deref(), Some("-1"));
        assert_eq!(by["secret"].value.as_deref(), Some("[hidden]"));
        assert!(by["topics"].errors.is_empty());
        assert_eq!(collect_errors(&vals).len(), 2);
    }

    #[test]
    fn name_validator_reports_control_chars() {
        let v = NonEmptyStringWithoutControlChars;
        assert_eq!(
            v.ensure_valid("name", Some(&ParsedValue::String("a\tb".into())))
                .unwrap_err(),
            "String may not contain control sequences but had the following ASCII chars: 9"
        );
        assert_eq!(
            v.ensure_valid("name", Some(&ParsedValue::String(String::new())))
                .unwrap_err(),
            "String may not be empty"
        );
    }
}
