//! `org.apache.kafka.connect.json.JsonConverter`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use causeway_api::config::validators;
use causeway_api::{
    ConfigDef, ConfigType, ConnectError, Converter, HeaderConverter, Importance, ParsedConfig,
    Props, Result, Width,
};
use causeway_data::{
    Headers, Schema, SchemaAndValue, SchemaBuilder, SchemaRef, SchemaType, Struct, Value, logical,
};

use crate::config::{self, Lru};
use crate::jackson::{self, Json};
use crate::java_fmt::{self, MILLIS_PER_DAY};

const SCHEMAS_ENABLE_CONFIG: &str = "schemas.enable";
const SCHEMAS_ENABLE_DOC: &str = "Include schemas within each of the serialized values and keys.";
const SCHEMAS_CACHE_SIZE_CONFIG: &str = "schemas.cache.size";
const SCHEMAS_CACHE_SIZE_DOC: &str =
    "The maximum number of schemas that can be cached in this converter instance.";
const DECIMAL_FORMAT_CONFIG: &str = "decimal.format";
const DECIMAL_FORMAT_DOC: &str = "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'";
const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";
const REPLACE_NULL_WITH_DEFAULT_DOC: &str = "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.";

/// Deepest schema nesting read from JSON. Jackson already caps documents at 1000 levels; schemas are capped
/// lower so that converting one never exhausts a thread's stack.
const MAX_SCHEMA_DEPTH: usize = 500;

const ENVELOPE_ERROR: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

/// How Decimal values are written (`decimal.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecimalFormat {
    /// The unscaled value's two's-complement bytes, base64-encoded (`"A/8="`).
    Base64,
    /// A JSON number (`10.23`).
    Numeric,
}

/// Kafka Connect's JSON converter (`org.apache.kafka.connect.json.JsonConverter`), also a header converter.
///
/// With `schemas.enable=true` (the default) every value travels in an envelope,
/// `{"schema":{...},"payload":...}`, whose schema JSON has exactly Apache's member order; without, values are
/// plain JSON and are read back schemaless (objects as maps, integers as `int64`, other numbers as `float64`).
/// Output is byte-identical to Java's: compact, Jackson's string escaping, Java's float rendering.
///
/// A new instance behaves as one configured with defaults; [`Converter::configure`] applies
/// `schemas.enable`, `schemas.cache.size`, `decimal.format` and `replace.null.with.default`.
#[derive(Debug)]
pub struct JsonConverter {
    schemas_enabled: bool,
    decimal_format: DecimalFormat,
    replace_null_with_default: bool,
    /// Schema (by identity) → its JSON, as `fromConnectSchemaCache`.
    from_connect_cache: Mutex<Lru<usize, (SchemaRef, Arc<[u8]>)>>,
    /// Schema JSON text → schema, as `toConnectSchemaCache`.
    to_connect_cache: Mutex<Lru<Vec<u8>, Option<SchemaRef>>>,
}

impl Default for JsonConverter {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn data<T>(msg: impl Into<String>) -> Result<T> {
    Err(ConnectError::Data(msg.into()))
}

/// The Java class name Connect would print for a value (`value.getClass()`).
fn class_of(v: &Value) -> String {
    format!("class {}", v.type_name())
}

impl JsonConverter {
    /// A converter with Apache's defaults: schemas enabled, BASE64 decimals, nulls replaced by defaults,
    /// 1000 cached schemas.
    pub fn new() -> Self {
        JsonConverter {
            schemas_enabled: true,
            decimal_format: DecimalFormat::Base64,
            replace_null_with_default: true,
            from_connect_cache: Mutex::new(Lru::new(1000)),
            to_connect_cache: Mutex::new(Lru::new(1000)),
        }
    }

    /// A converter with schemas disabled and other settings at their defaults: the configuration Connect uses
    /// for its internal topics (config, offsets, status).
    pub fn schemaless() -> Self {
        JsonConverter {
            schemas_enabled: false,
            ..Self::new()
        }
    }

    /// `JsonConverterConfig.configDef()`: `converter.type` plus the Schemas and Serialization groups.
    pub fn config_def() -> ConfigDef {
        config::converter_config_def()
            .define(
                SCHEMAS_ENABLE_CONFIG,
                ConfigType::Boolean,
                "true",
                Importance::High,
                SCHEMAS_ENABLE_DOC,
            )
            .with_last(|k| {
                k.in_group("Schemas", 0)
                    .width(Width::Medium)
                    .display_name("Enable Schemas")
            })
            .define(
                SCHEMAS_CACHE_SIZE_CONFIG,
                ConfigType::Int,
                "1000",
                Importance::High,
                SCHEMAS_CACHE_SIZE_DOC,
            )
            .with_last(|k| {
                k.in_group("Schemas", 1)
                    .width(Width::Medium)
                    .display_name("Schema Cache Size")
            })
            .define(
                DECIMAL_FORMAT_CONFIG,
                ConfigType::String,
                "BASE64",
                Importance::Low,
                DECIMAL_FORMAT_DOC,
            )
            .with_last(|k| {
                k.validator(validators::one_of_ignore_case(&["BASE64", "NUMERIC"]))
                    .in_group("Serialization", 0)
                    .width(Width::Medium)
                    .display_name("Decimal Format")
            })
            .define(
                REPLACE_NULL_WITH_DEFAULT_CONFIG,
                ConfigType::Boolean,
                "true",
                Importance::Low,
                REPLACE_NULL_WITH_DEFAULT_DOC,
            )
            .with_last(|k| {
                k.in_group("Serialization", 1)
                    .width(Width::Medium)
                    .display_name("Replace null with default")
            })
    }

    fn apply(&mut self, cfg: &ParsedConfig) {
        self.schemas_enabled = cfg.boolean(SCHEMAS_ENABLE_CONFIG).unwrap_or(true);
        self.decimal_format = match cfg.string(DECIMAL_FORMAT_CONFIG) {
            Some(s) if s.eq_ignore_ascii_case("NUMERIC") => DecimalFormat::Numeric,
            _ => DecimalFormat::Base64,
        };
        self.replace_null_with_default = cfg
            .boolean(REPLACE_NULL_WITH_DEFAULT_CONFIG)
            .unwrap_or(true);
        let size = cfg.int(SCHEMAS_CACHE_SIZE_CONFIG).unwrap_or(1000);
        self.from_connect_cache = Mutex::new(Lru::new(size));
        self.to_connect_cache = Mutex::new(Lru::new(size));
    }

    /// `fromConnectData`.
    fn serialize(&self, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
        if schema.is_none() && value.is_null() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(128);
        if self.schemas_enabled {
            out.extend_from_slice(b"{\"schema\":");
            match schema {
                Some(s) => out.extend_from_slice(&self.schema_json_cached(s)?),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"payload\":");
            self.write_value(schema.map(|s| &**s), value, &mut out)?;
            out.push(b'}');
        } else {
            self.write_value(schema.map(|s| &**s), value, &mut out)?;
        }
        Ok(Some(out))
    }

    /// `toConnectData`.
    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::NULL);
        };
        if self.schemas_enabled
            && let Some((schema, payload)) =
                jackson::parse_known_envelope(bytes, |text| lock(&self.to_connect_cache).get(text))
        {
            let value = self.to_connect(schema.as_ref(), Some(&payload))?;
            return Ok(SchemaAndValue::new(schema, value));
        }
        let doc = jackson::parse(bytes).map_err(|e| {
            ConnectError::Data(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        })?;
        if !self.schemas_enabled {
            let value = self.to_connect(None, doc.root.as_ref())?;
            return Ok(SchemaAndValue::new(None, value));
        }
        let root = doc.root.as_ref();
        let is_pair = matches!(root, Some(Json::Object(members)) if members.len() == 2);
        let (Some(schema_node), Some(payload), true) = (
            root.and_then(|r| r.get("schema")),
            root.and_then(|r| r.get("payload")),
            is_pair,
        ) else {
            return data(ENVELOPE_ERROR);
        };
        let span = doc
            .root_member_spans
            .iter()
            .rev()
            .find(|(k, _)| k == "schema")
            .map(|(_, r)| r.clone());
        let schema = match span.and_then(|r| bytes.get(r)) {
            Some(text) => {
                let cached = lock(&self.to_connect_cache).get(text);
                match cached {
                    Some(s) => s,
                    None => {
                        let s = self.as_connect_schema(schema_node)?;
                        lock(&self.to_connect_cache).put(text.to_vec(), s.clone());
                        s
                    }
                }
            }
            None => self.as_connect_schema(schema_node)?,
        };
        let value = self.to_connect(schema.as_ref(), Some(payload))?;
        Ok(SchemaAndValue::new(schema, value))
    }

    // ---------------------------------------------------------------------------------------------
    // Connect → JSON
    // ---------------------------------------------------------------------------------------------

    fn schema_json_cached(&self, schema: &SchemaRef) -> Result<Arc<[u8]>> {
        let key = Arc::as_ptr(schema) as usize;
        if let Some((cached_schema, json)) = lock(&self.from_connect_cache).get(&key)
            && Arc::ptr_eq(&cached_schema, schema)
        {
            return Ok(json);
        }
        let mut out = Vec::with_capacity(64);
        self.write_schema(schema, None, &mut out)?;
        let json: Arc<[u8]> = out.into();
        lock(&self.from_connect_cache).put(key, (schema.clone(), json.clone()));
        Ok(json)
    }

    /// `asJsonSchema`: type, type-specific members, optional, name, version, doc, parameters, default — and
    /// for struct fields a trailing `"field"`.
    fn write_schema(&self, schema: &Schema, field: Option<&str>, out: &mut Vec<u8>) -> Result<()> {
        let type_name = match schema.schema_type {
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            t => t.name(),
        };
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(type_name.as_bytes());
        out.push(b'"');
        match schema.schema_type {
            SchemaType::Array => {
                out.extend_from_slice(b",\"items\":");
                self.write_optional_schema(schema.value_schema.as_deref(), out)?;
            }
            SchemaType::Map => {
                out.extend_from_slice(b",\"keys\":");
                self.write_optional_schema(schema.key_schema.as_deref(), out)?;
                out.extend_from_slice(b",\"values\":");
                self.write_optional_schema(schema.value_schema.as_deref(), out)?;
            }
            SchemaType::Struct => {
                out.extend_from_slice(b",\"fields\":[");
                for (i, f) in schema.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_schema(&f.schema, Some(&f.name), out)?;
                }
                out.push(b']');
            }
            _ => {}
        }
        out.extend_from_slice(b",\"optional\":");
        out.extend_from_slice(if schema.optional { b"true" } else { b"false" });
        if let Some(name) = &schema.name {
            out.extend_from_slice(b",\"name\":");
            jackson::write_str(out, name);
        }
        if let Some(version) = schema.version {
            out.extend_from_slice(b",\"version\":");
            jackson::write_int(out, version);
        }
        if let Some(doc) = &schema.doc {
            out.extend_from_slice(b",\"doc\":");
            jackson::write_str(out, doc);
        }
        if let Some(params) = &schema.parameters {
            out.extend_from_slice(b",\"parameters\":{");
            for (i, (k, v)) in dedup_pairs(params).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                jackson::write_str(out, k);
                out.push(b':');
                jackson::write_str(out, v);
            }
            out.push(b'}');
        }
        if let Some(default) = schema.default_value.as_ref().filter(|d| !d.is_null()) {
            out.extend_from_slice(b",\"default\":");
            self.write_value(Some(schema), default, out)?;
        }
        if let Some(name) = field {
            out.extend_from_slice(b",\"field\":");
            jackson::write_str(out, name);
        }
        out.push(b'}');
        Ok(())
    }

    fn write_optional_schema(&self, schema: Option<&Schema>, out: &mut Vec<u8>) -> Result<()> {
        match schema {
            Some(s) => self.write_schema(s, None, out),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    /// `convertToJson`: a value under an optional schema. Java's `null` result is written as JSON `null`.
    ///
    /// Recursion goes through this function, [`Self::write_map`] and [`Self::write_struct`]; everything else
    /// is done by non-recursive helpers so deeply nested values use little stack.
    fn write_value(&self, schema: Option<&Schema>, value: &Value, out: &mut Vec<u8>) -> Result<()> {
        if value.is_null() {
            return self.write_null(schema, out);
        }
        if let Some(s) = schema
            && let Some(name) = s.name.as_deref()
            && self.write_logical(s, name, value, out)?
        {
            return Ok(());
        }
        match (schema_type_of(schema, value)?, value) {
            (SchemaType::Array, Value::Array(items)) => {
                let elem = schema.and_then(|s| s.value_schema.as_deref());
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_value(elem, item, out)?;
                }
                out.push(b']');
                Ok(())
            }
            (SchemaType::Map, Value::Map(entries)) => self.write_map(schema, entries, out),
            (SchemaType::Struct, Value::Struct(st)) => self.write_struct(schema, st, out),
            (schema_type, value) => write_scalar(schema_type, value, out),
        }
    }

    /// A null value: the schema default (when `replace.null.with.default`), JSON null when optional or
    /// schemaless, else an error.
    #[inline(never)]
    fn write_null(&self, schema: Option<&Schema>, out: &mut Vec<u8>) -> Result<()> {
        let Some(schema) = schema else {
            out.extend_from_slice(b"null");
            return Ok(());
        };
        if self.replace_null_with_default
            && let Some(default) = schema.default_value.as_ref().filter(|d| !d.is_null())
        {
            return self.write_value(Some(schema), default, out);
        }
        if schema.optional {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        data("Conversion error: null value for field that is required and has no default value")
    }

    fn write_struct(&self, schema: Option<&Schema>, st: &Struct, out: &mut Vec<u8>) -> Result<()> {
        let Some(schema) = schema.filter(|s| st.schema().as_ref() == *s) else {
            return data("Mismatching schema.");
        };
        out.push(b'{');
        for (i, field) in schema.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            jackson::write_str(out, &field.name);
            out.push(b':');
            let v = st.get_index(field.index).unwrap_or(&Value::Null);
            self.write_value(Some(&field.schema), v, out)?;
        }
        out.push(b'}');
        Ok(())
    }

    /// Writes a logical-type value if `name` is one of Connect's logical types; `Ok(false)` otherwise.
    fn write_logical(
        &self,
        schema: &Schema,
        name: &str,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool> {
        match name {
            logical::DECIMAL => {
                let Value::Decimal(d) = value else {
                    return data(format!(
                        "Invalid type for Decimal, expected BigDecimal but was {}",
                        class_of(value)
                    ));
                };
                match self.decimal_format {
                    DecimalFormat::Numeric => {
                        out.extend_from_slice(java_fmt::bigdecimal_to_string(d).as_bytes());
                    }
                    DecimalFormat::Base64 => {
                        let bytes = logical::decimal_to_bytes(schema, d)?;
                        jackson::write_base64(out, &bytes);
                    }
                }
            }
            logical::DATE => {
                let Some(millis) = java_fmt::temporal_millis(value) else {
                    return data(format!(
                        "Invalid type for Date, expected Date but was {}",
                        class_of(value)
                    ));
                };
                if millis.rem_euclid(MILLIS_PER_DAY) != 0 {
                    return data(
                        "Kafka Connect Date type should not have any time fields set to non-zero values.",
                    );
                }
                jackson::write_int(out, (millis / MILLIS_PER_DAY) as i32);
            }
            logical::TIME => {
                let Some(millis) = java_fmt::temporal_millis(value) else {
                    return data(format!(
                        "Invalid type for Time, expected Date but was {}",
                        class_of(value)
                    ));
                };
                if !(0..=MILLIS_PER_DAY).contains(&millis) {
                    return data(
                        "Kafka Connect Time type should not have any date fields set to non-zero values.",
                    );
                }
                jackson::write_int(out, millis as i32);
            }
            logical::TIMESTAMP => {
                let Some(millis) = java_fmt::temporal_millis(value) else {
                    return data(format!(
                        "Invalid type for Timestamp, expected Date but was {}",
                        class_of(value)
                    ));
                };
                jackson::write_int(out, millis);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn write_map(
        &self,
        schema: Option<&Schema>,
        entries: &[(Value, Value)],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let key_schema = schema.and_then(|s| s.key_schema.as_deref());
        let value_schema = schema.and_then(|s| s.value_schema.as_deref());
        let object_mode = match schema {
            None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
            Some(_) => key_schema.is_some_and(|k| k.schema_type == SchemaType::String),
        };
        if !object_mode {
            out.push(b'[');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                self.write_value(key_schema, k, out)?;
                out.push(b',');
                self.write_value(value_schema, v, out)?;
                out.push(b']');
            }
            out.push(b']');
            return Ok(());
        }
        let (keys, order) = self.object_keys(key_schema, entries)?;
        out.push(b'{');
        for (n, &i) in order.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            jackson::write_str(out, &keys[i]);
            out.push(b':');
            self.write_value(value_schema, &entries[i].1, out)?;
        }
        out.push(b'}');
        Ok(())
    }

    /// Object-mode map keys (the `asText()` of each converted key) and the entry order: a JSON object holds
    /// each key once, at its first position with its last value, as Jackson's `ObjectNode.set` leaves it.
    #[inline(never)]
    fn object_keys(
        &self,
        key_schema: Option<&Schema>,
        entries: &[(Value, Value)],
    ) -> Result<(Vec<String>, Vec<usize>)> {
        let mut keys = Vec::with_capacity(entries.len());
        for (k, _) in entries {
            keys.push(match k {
                Value::String(s) => s.clone(),
                _ => {
                    let mut buf = Vec::new();
                    self.write_value(key_schema, k, &mut buf)?;
                    jackson::parse(&buf)
                        .ok()
                        .and_then(|d| d.root)
                        .map_or_else(String::new, |j| j.as_text())
                }
            });
        }
        let mut seen = HashSet::with_capacity(keys.len());
        let order = if keys.iter().all(|k| seen.insert(k.as_str())) {
            (0..keys.len()).collect()
        } else {
            let mut order: Vec<usize> = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                match order.iter().position(|&j| keys[j] == *k) {
                    Some(p) => order[p] = i,
                    None => order.push(i),
                }
            }
            order
        };
        Ok((keys, order))
    }

    // ---------------------------------------------------------------------------------------------
    // JSON → Connect
    // ---------------------------------------------------------------------------------------------

    /// `asConnectSchema`.
    ///
    /// Recursion goes through this function and [`Self::schema_builder`] only; everything else lives in
    /// non-recursive helpers so deeply nested schemas use little stack.
    fn as_connect_schema(&self, json: &Json) -> Result<Option<SchemaRef>> {
        self.as_connect_schema_at(json, 0)
    }

    fn as_connect_schema_at(&self, json: &Json, depth: usize) -> Result<Option<SchemaRef>> {
        if *json == Json::Null {
            return Ok(None);
        }
        if depth > MAX_SCHEMA_DEPTH {
            return data(format!(
                "Schema nesting depth exceeds the maximum allowed ({MAX_SCHEMA_DEPTH})"
            ));
        }
        let builder = self.schema_builder(json, depth)?;
        self.finish_schema(json, builder).map(Some)
    }

    /// The type-specific part of `asConnectSchema`: a builder of the right type, with items, keys and values,
    /// or fields.
    fn schema_builder(&self, json: &Json, depth: usize) -> Result<SchemaBuilder> {
        let Some(type_name) = json.get("type").and_then(Json::text_value) else {
            return data("Schema must contain 'type' field");
        };
        Ok(match type_name {
            "boolean" => SchemaBuilder::new(SchemaType::Boolean),
            "int8" => SchemaBuilder::new(SchemaType::Int8),
            "int16" => SchemaBuilder::new(SchemaType::Int16),
            "int32" => SchemaBuilder::new(SchemaType::Int32),
            "int64" => SchemaBuilder::new(SchemaType::Int64),
            "float" => SchemaBuilder::new(SchemaType::Float32),
            "double" => SchemaBuilder::new(SchemaType::Float64),
            "bytes" => SchemaBuilder::new(SchemaType::Bytes),
            "string" => SchemaBuilder::new(SchemaType::String),
            "array" => {
                let items = match json.get("items") {
                    None | Some(Json::Null) => {
                        return data("Array schema did not specify the element type");
                    }
                    Some(items) => items,
                };
                let Some(elem) = self.as_connect_schema_at(items, depth + 1)? else {
                    return data("valueSchema cannot be null.");
                };
                SchemaBuilder::array(elem)
            }
            "map" => {
                let Some(keys) = json.get("keys") else {
                    return data("Map schema did not specify the key type");
                };
                let Some(values) = json.get("values") else {
                    return data("Map schema did not specify the value type");
                };
                let keys = self.as_connect_schema_at(keys, depth + 1)?;
                let values = self.as_connect_schema_at(values, depth + 1)?;
                match (keys, values) {
                    (None, _) => return data("keySchema cannot be null."),
                    (_, None) => return data("valueSchema cannot be null."),
                    (Some(k), Some(v)) => SchemaBuilder::map(k, v),
                }
            }
            "struct" => {
                let Some(Json::Array(fields)) = json.get("fields") else {
                    return data("Struct schema's \"fields\" argument is not an array.");
                };
                let mut builder = SchemaBuilder::struct_();
                for field in fields {
                    let Some(name) = field.get("field").and_then(Json::text_value) else {
                        return data("Struct schema's field name not specified properly");
                    };
                    let Some(field_schema) = self.as_connect_schema_at(field, depth + 1)? else {
                        return field_error("fieldSchema for field ", name, " cannot be null.");
                    };
                    if builder.field_names().any(|n| n == name) {
                        return field_error(
                            "Cannot create field because of field name duplication ",
                            name,
                            "",
                        );
                    }
                    builder = builder.field(name, field_schema);
                }
                builder
            }
            other => return field_error("Unknown schema type: ", other, ""),
        })
    }

    /// The common part of `asConnectSchema`: optional, name, version, doc, parameters and default.
    #[inline(never)]
    fn finish_schema(&self, json: &Json, mut builder: SchemaBuilder) -> Result<SchemaRef> {
        builder = builder.set_optional(matches!(json.get("optional"), Some(Json::Bool(true))));
        if let Some(name) = json.get("name").and_then(Json::text_value) {
            builder = builder.name(name);
        }
        if let Some(Json::Number(n)) = json.get("version")
            && n.is_integral()
        {
            builder = builder.version(n.int_value());
        }
        if let Some(doc) = json.get("doc").and_then(Json::text_value) {
            builder = builder.doc(doc);
        }
        if let Some(Json::Object(params)) = json.get("parameters") {
            for (k, v) in params {
                let Some(v) = v.text_value() else {
                    return data("Schema parameters must have string values.");
                };
                builder = builder.parameter(k.clone(), v);
            }
        }
        if let Some(default_node) = json.get("default") {
            let without_default = builder.clone().build();
            let default = self.to_connect(Some(&without_default), Some(default_node))?;
            if !default.is_null() {
                if builder.schema_type() == SchemaType::Struct {
                    // Java validates a struct default against the SchemaBuilder itself, which never equals
                    // the struct's schema, so struct defaults are always rejected.
                    return data("Invalid default value");
                }
                builder = builder
                    .try_default_value(default)
                    .map_err(|_| ConnectError::Data("Invalid default value".into()))?;
            }
        }
        Ok(builder.build())
    }

    /// `convertToConnect`: a JSON node (`None` for a missing one) under an optional schema.
    ///
    /// Recursion goes through this function, [`Self::map_to_connect`] and [`Self::struct_to_connect`];
    /// scalars, logical types and nulls are converted by non-recursive helpers.
    fn to_connect(&self, schema: Option<&SchemaRef>, json: Option<&Json>) -> Result<Value> {
        let Some(schema) = schema else {
            return Ok(json_to_value(json));
        };
        let json = match json {
            None | Some(Json::Null) => return self.null_to_connect(schema),
            Some(j) => j,
        };
        if let Some(name) = schema.name.as_deref()
            && let Some(v) = self.logical_to_connect(schema, name, json)?
        {
            return Ok(v);
        }
        match schema.schema_type {
            SchemaType::Array => {
                let Json::Array(items) = json else {
                    return mismatch(schema, json, "array");
                };
                let elem = schema.value_schema.as_ref();
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.to_connect(elem, Some(item))?);
                }
                Ok(Value::Array(out))
            }
            SchemaType::Map => self.map_to_connect(schema, json),
            SchemaType::Struct => self.struct_to_connect(schema, json),
            _ => scalar_to_connect(schema, json),
        }
    }

    /// A null or missing node: the default (when `replace.null.with.default`), null when optional, else an
    /// error.
    #[inline(never)]
    fn null_to_connect(&self, schema: &Schema) -> Result<Value> {
        if self.replace_null_with_default
            && let Some(d) = schema.default_value.as_ref().filter(|d| !d.is_null())
        {
            return Ok(d.clone());
        }
        if schema.optional {
            return Ok(Value::Null);
        }
        data(format!(
            "Invalid null value for required {} field",
            schema.schema_type
        ))
    }

    fn struct_to_connect(&self, schema: &SchemaRef, json: &Json) -> Result<Value> {
        if !matches!(json, Json::Object(_)) {
            return field_error(
                "Structs should be encoded as JSON objects, but found ",
                json.node_type(),
                "",
            );
        }
        let mut st = Struct::new(schema.clone());
        for field in &schema.fields {
            let v = self.to_connect(Some(&field.schema), json.get(&field.name))?;
            st.put(&field.name, v)?;
        }
        Ok(Value::Struct(st))
    }

    fn map_to_connect(&self, schema: &SchemaRef, json: &Json) -> Result<Value> {
        let key_schema = schema.key_schema.as_ref();
        let value_schema = schema.value_schema.as_ref();
        let mut entries: Vec<(Value, Value)> = Vec::new();
        if key_schema.is_none_or(|k| k.schema_type == SchemaType::String) {
            let Json::Object(members) = json else {
                return data(format!(
                    "Maps with string fields should be encoded as JSON objects, but found {}",
                    json.node_type()
                ));
            };
            for (k, v) in members {
                entries.push((
                    Value::String(k.clone()),
                    self.to_connect(value_schema, Some(v))?,
                ));
            }
            return Ok(Value::Map(entries));
        }
        let Json::Array(pairs) = json else {
            return data(format!(
                "Maps with non-string fields should be encoded as JSON array of tuples, but found {}",
                json.node_type()
            ));
        };
        for pair in pairs {
            let Json::Array(kv) = pair else {
                return data(format!(
                    "Found invalid map entry instead of array tuple: {}",
                    pair.node_type()
                ));
            };
            if kv.len() != 2 {
                return data(format!(
                    "Found invalid map entry, expected length 2 but found :{}",
                    kv.len()
                ));
            }
            let k = self.to_connect(key_schema, Some(&kv[0]))?;
            let v = self.to_connect(value_schema, Some(&kv[1]))?;
            // A Java HashMap: a repeated key keeps one entry, with the last value.
            match entries.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = v,
                None => entries.push((k, v)),
            }
        }
        Ok(Value::Map(entries))
    }

    fn logical_to_connect(
        &self,
        schema: &Schema,
        name: &str,
        json: &Json,
    ) -> Result<Option<Value>> {
        Ok(Some(match name {
            logical::DECIMAL => match json {
                Json::Number(n) => Value::Decimal(n.decimal()),
                Json::String(s) => {
                    let invalid = || ConnectError::Data("Invalid bytes for Decimal field".into());
                    let bytes = jackson::decode_base64(s).map_err(|_| invalid())?;
                    if bytes.is_empty() {
                        // `new BigInteger(new byte[0])` throws.
                        return Err(invalid());
                    }
                    Value::Decimal(
                        logical::decimal_from_bytes(schema, &bytes).map_err(|_| invalid())?,
                    )
                }
                other => {
                    return data(format!(
                        "Invalid type for Decimal, underlying representation should be numeric or bytes but was {}",
                        other.node_type()
                    ));
                }
            },
            logical::DATE => match json.number().filter(|n| n.is_int()) {
                Some(n) => Value::Date(n.int_value()),
                None => {
                    return data(format!(
                        "Invalid type for Date, underlying representation should be integer but was {}",
                        json.node_type()
                    ));
                }
            },
            logical::TIME => match json.number().filter(|n| n.is_int()) {
                Some(n) => {
                    let ms = n.int_value();
                    if ms < 0 || i64::from(ms) > MILLIS_PER_DAY {
                        return data(
                            "Time values must use number of milliseconds greater than 0 and less than 86400000",
                        );
                    }
                    Value::Time(ms)
                }
                None => {
                    return data(format!(
                        "Invalid type for Time, underlying representation should be integer but was {}",
                        json.node_type()
                    ));
                }
            },
            logical::TIMESTAMP => match json.number().filter(|n| n.is_integral()) {
                Some(n) => Value::Timestamp(n.long_value()),
                None => {
                    return data(format!(
                        "Invalid type for Timestamp, underlying representation should be integral but was {}",
                        json.node_type()
                    ));
                }
            },
            _ => return Ok(None),
        }))
    }
}

/// The schema type a value is written as: the schema's, or for schemaless values the one Connect infers
/// (`ConnectSchema.schemaType`), which logical values do not have.
#[inline(never)]
fn schema_type_of(schema: Option<&Schema>, value: &Value) -> Result<SchemaType> {
    match schema {
        Some(s) => Ok(s.schema_type),
        None => match value {
            Value::Decimal(_) | Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => {
                data(format!(
                    "Java class {} does not have corresponding schema type.",
                    class_of(value)
                ))
            }
            other => Ok(other.inferred_type().unwrap_or(SchemaType::String)),
        },
    }
}

/// Writes a primitive value, or reports Java's `ClassCastException` message when it does not match.
#[inline(never)]
fn write_scalar(schema_type: SchemaType, value: &Value, out: &mut Vec<u8>) -> Result<()> {
    match (schema_type, value) {
        (SchemaType::Int8, Value::Int8(v)) => jackson::write_int(out, *v),
        (SchemaType::Int16, Value::Int16(v)) => jackson::write_int(out, *v),
        (SchemaType::Int32, Value::Int32(v)) => jackson::write_int(out, *v),
        (SchemaType::Int64, Value::Int64(v)) => jackson::write_int(out, *v),
        (SchemaType::Float32, Value::Float32(v)) => jackson::write_f32(out, *v),
        (SchemaType::Float64, Value::Float64(v)) => jackson::write_f64(out, *v),
        (SchemaType::Boolean, Value::Boolean(v)) => {
            out.extend_from_slice(if *v { b"true" } else { b"false" })
        }
        (SchemaType::String, Value::String(v)) => jackson::write_str(out, v),
        (SchemaType::Bytes, Value::Bytes(v)) => jackson::write_base64(out, v),
        (SchemaType::Bytes, other) => {
            return data(format!("Invalid type for bytes type: {}", class_of(other)));
        }
        (schema_type, other) => {
            return data(format!(
                "Invalid type for {schema_type}: {}",
                class_of(other)
            ));
        }
    }
    Ok(())
}

/// A data error `"{prefix}{name}{suffix}"`, built out of line so recursive callers keep small frames.
#[cold]
#[inline(never)]
fn field_error<T>(prefix: &str, name: &str, suffix: &str) -> Result<T> {
    Err(ConnectError::Data(format!("{prefix}{name}{suffix}")))
}

/// The error for a payload node of the wrong JSON kind.
///
/// Apache reads a mismatched scalar leniently (Jackson's accessors give 0, false or null, and an array
/// schema iterates whatever node it gets); Causeway rejects it instead of inventing a value.
#[cold]
#[inline(never)]
fn mismatch<T>(schema: &Schema, json: &Json, expected: &str) -> Result<T> {
    Err(ConnectError::Data(format!(
        "Invalid value for {} schema: expected a JSON {expected} but found {}",
        schema.schema_type,
        json.node_type()
    )))
}

/// A scalar node under a primitive schema (`TO_CONNECT_CONVERTERS` for the non-container types).
#[inline(never)]
fn scalar_to_connect(schema: &Schema, json: &Json) -> Result<Value> {
    let number = json.number();
    Ok(match (schema.schema_type, json, number) {
        (SchemaType::Boolean, Json::Bool(b), _) => Value::Boolean(*b),
        (SchemaType::Boolean, _, _) => return mismatch(schema, json, "boolean"),
        (SchemaType::Int8, _, Some(n)) => Value::Int8(n.int_value() as i8),
        (SchemaType::Int16, _, Some(n)) => Value::Int16(n.int_value() as i16),
        (SchemaType::Int32, _, Some(n)) => Value::Int32(n.int_value()),
        (SchemaType::Int64, _, Some(n)) => Value::Int64(n.long_value()),
        (SchemaType::Float32, _, Some(n)) => Value::Float32(n.float_value()),
        (SchemaType::Float64, _, Some(n)) => Value::Float64(n.double_value()),
        (
            SchemaType::Int8
            | SchemaType::Int16
            | SchemaType::Int32
            | SchemaType::Int64
            | SchemaType::Float32
            | SchemaType::Float64,
            _,
            None,
        ) => return mismatch(schema, json, "number"),
        (SchemaType::String, Json::String(s), _) => Value::String(s.clone()),
        (SchemaType::Bytes, Json::String(s), _) => Value::Bytes(
            jackson::decode_base64(s)
                .map_err(|e| ConnectError::Data(format!("Invalid bytes field: {e}")))?,
        ),
        (SchemaType::String | SchemaType::Bytes, _, _) => return mismatch(schema, json, "string"),
        (SchemaType::Array, _, _) => return mismatch(schema, json, "array"),
        (SchemaType::Map, _, _) => return mismatch(schema, json, "object"),
        (SchemaType::Struct, _, _) => return mismatch(schema, json, "object"),
    })
}

/// `convertToConnect` without a schema: objects become maps, integers `int64`, other numbers `float64`.
///
/// Iterative, so documents nested as deeply as the parser allows convert on any thread's stack.
fn json_to_value(json: Option<&Json>) -> Value {
    enum Frame<'a> {
        Array(std::slice::Iter<'a, Json>, Vec<Value>),
        Object(
            std::slice::Iter<'a, (String, Json)>,
            Vec<(Value, Value)>,
            String,
        ),
    }
    fn scalar(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Boolean(*b),
            Json::Number(n) if n.is_integral() => Value::Int64(n.long_value()),
            Json::Number(n) => Value::Float64(n.double_value()),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(_) | Json::Object(_) => Value::Null,
        }
    }
    let Some(mut current) = json else {
        return Value::Null;
    };
    let mut stack: Vec<Frame<'_>> = Vec::new();
    loop {
        let mut done = match current {
            Json::Array(items) => {
                stack.push(Frame::Array(items.iter(), Vec::with_capacity(items.len())));
                None
            }
            Json::Object(members) => {
                stack.push(Frame::Object(
                    members.iter(),
                    Vec::with_capacity(members.len()),
                    String::new(),
                ));
                None
            }
            other => Some(scalar(other)),
        };
        // Hand finished values to their parents until some container has another child to descend into.
        loop {
            let Some(top) = stack.last_mut() else {
                return done.unwrap_or(Value::Null);
            };
            let next = match top {
                Frame::Array(iter, acc) => {
                    if let Some(v) = done.take() {
                        acc.push(v);
                    }
                    iter.next()
                }
                Frame::Object(iter, acc, key) => {
                    if let Some(v) = done.take() {
                        acc.push((Value::String(std::mem::take(key)), v));
                    }
                    iter.next().map(|(k, v)| {
                        *key = k.clone();
                        v
                    })
                }
            };
            match next {
                Some(child) => {
                    current = child;
                    break;
                }
                None => {
                    done = Some(match stack.pop() {
                        Some(Frame::Array(_, acc)) => Value::Array(acc),
                        Some(Frame::Object(_, acc, _)) => Value::Map(acc),
                        None => Value::Null,
                    });
                }
            }
        }
    }
}

/// Parameters as a Java map would hold them: one entry per key, first position, last value.
fn dedup_pairs(params: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(params.len());
    for (k, v) in params {
        match out.iter_mut().find(|(ek, _)| *ek == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

impl Converter for JsonConverter {
    fn configure(&mut self, props: &Props, is_key: bool) -> Result<()> {
        let cfg = config::parse_for_data(&Self::config_def(), props, is_key)?;
        self.apply(&cfg);
        Ok(())
    }

    fn from_connect_data(
        &self,
        _topic: &str,
        _headers: &Headers,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        self.serialize(schema, value)
    }

    fn to_connect_data(
        &self,
        _topic: &str,
        _headers: &Headers,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        self.deserialize(bytes)
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

impl HeaderConverter for JsonConverter {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = config::parse_for_header(&Self::config_def(), props)?;
        self.apply(&cfg);
        Ok(())
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        self.serialize(schema, value)
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        self.deserialize(bytes)
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_cache_is_bounded_and_reused() {
        let c = JsonConverter::new();
        let s = Schema::boolean();
        let a = c.serialize(Some(&s), &Value::Boolean(true)).unwrap();
        let b = c.serialize(Some(&s), &Value::Boolean(false)).unwrap();
        assert_eq!(lock(&c.from_connect_cache).len(), 1);
        assert_eq!(
            a.unwrap(),
            br#"{"schema":{"type":"boolean","optional":false},"payload":true}"#
        );
        assert_eq!(
            b.unwrap(),
            br#"{"schema":{"type":"boolean","optional":false},"payload":false}"#
        );
        let doc = br#"{"schema":{"type":"int32"},"payload":5}"#;
        c.deserialize(Some(doc)).unwrap();
        c.deserialize(Some(doc)).unwrap();
        assert_eq!(lock(&c.to_connect_cache).len(), 1);
    }

    #[test]
    fn a_cached_schema_reads_like_a_fresh_one() {
        let schema = r#"{"type":"struct","fields":[{"field":"id","type":"int64"},{"field":"s","type":"string","optional":true}],"optional":false,"name":"r"}"#;
        let fresh = || JsonConverter::new();
        let warm = JsonConverter::new();
        warm.deserialize(Some(
            format!(r#"{{"schema":{schema},"payload":{{"id":0}}}}"#).as_bytes(),
        ))
        .unwrap();
        for payload in [r#"{"id":7,"s":"x"}"#, r#"{"id":8}"#, "null"] {
            let doc = format!(r#"{{"schema":{schema},"payload":{payload}}}"#);
            let a = fresh().deserialize(Some(doc.as_bytes()));
            let b = warm.deserialize(Some(doc.as_bytes()));
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{payload}");
        }
        // Errors in the payload are Jackson's, whether or not the schema is cached.
        let bad = format!(r#"{{"schema":{schema},"payload":{{"id":7,}}}}"#);
        let a = fresh()
            .deserialize(Some(bad.as_bytes()))
            .unwrap_err()
            .to_string();
        let b = warm
            .deserialize(Some(bad.as_bytes()))
            .unwrap_err()
            .to_string();
        assert_eq!(a, b);
        assert!(
            a.contains("was expecting double-quote to start field name"),
            "{a}"
        );
    }
}
