//! `org.apache.kafka.connect.json.JsonConverter`.
use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bigdecimal::BigDecimal;
use causeway_api::config::validators::{at_least, one_of_ignore_case};
use causeway_api::{
    ConfigDef, ConfigType, ConnectError, Converter, HeaderConverter, Importance, Props, Result,
    Width,
};
use causeway_data::{
    Headers, Schema, SchemaAndValue, SchemaBuilder, SchemaRef, SchemaType, Struct, Value, logical,
};
use parking_lot::Mutex;

use crate::json_text::{self, Json};

/// `schemas.enable`.
pub(crate) const SCHEMAS_ENABLE_CONFIG: &str = "schemas.enable";
/// `schemas.cache.size`.
pub(crate) const SCHEMAS_CACHE_SIZE_CONFIG: &str = "schemas.cache.size";
/// `decimal.format`.
pub(crate) const DECIMAL_FORMAT_CONFIG: &str = "decimal.format";
/// `replace.null.with.default`.
pub(crate) const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";

fn data_err(msg: impl Into<String>) -> ConnectError {
    ConnectError::Data(msg.into())
}

/// Converts between Connect data and JSON, with or without the `{"schema":…,"payload":…}` envelope.
pub struct JsonConverter {
    schemas_enable: bool,
    decimal_numeric: bool,
    replace_null_with_default: bool,
    cache_size: usize,
    /// Parsed envelope schemas by their JSON text, so equal schemas share one `Arc` (as Apache's cache does).
    to_connect_cache: Mutex<HashMap<String, SchemaRef>>,
}

impl Default for JsonConverter {
    fn default() -> Self {
        JsonConverter {
            schemas_enable: true,
            decimal_numeric: false,
            replace_null_with_default: true,
            cache_size: 1000,
            to_connect_cache: Mutex::default(),
        }
    }
}

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(SCHEMAS_ENABLE_CONFIG, ConfigType::Boolean, "true", Importance::High,
            "Include schemas within each of the serialized values and keys.")
        .with_last(|k| k.in_group("Schemas", 0).width(Width::Medium).display_name("Enable Schemas"))
        .define(SCHEMAS_CACHE_SIZE_CONFIG, ConfigType::Int, "1000", Importance::High,
            "The maximum number of schemas that can be cached in this converter instance.")
        .with_last(|k| k.validator(at_least(0.0)).in_group("Schemas", 1).width(Width::Medium).display_name("Schema Cache Size"))
        .define(DECIMAL_FORMAT_CONFIG, ConfigType::String, "BASE64", Importance::Low,
            "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'")
        .with_last(|k| k.validator(one_of_ignore_case(&["BASE64", "NUMERIC"])).in_group("Serialization", 0).width(Width::Medium).display_name("Decimal Format"))
        .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigType::Boolean, "true", Importance::Low,
            "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.")
        .with_last(|k| k.in_group("Serialization", 1).width(Width::Medium).display_name("Replace null with default"))
        .define("converter.type", ConfigType::String, "key", Importance::Low,
            "How this converter will be used.")
        .with_last(|k| k.validator(one_of_ignore_case(&["key", "value", "header"])))
}

fn type_name(t: SchemaType) -> &'static str {
    match t {
        SchemaType::Float32 => "float",
        SchemaType::Float64 => "double",
        other => other.name(),
    }
}

impl JsonConverter {
    fn apply(&mut self, props: &Props) -> Result<()> {
        let parsed = config_def().parse(props)?;
        self.schemas_enable = parsed.boolean(SCHEMAS_ENABLE_CONFIG).unwrap_or(true);
        self.decimal_numeric = parsed
            .string(DECIMAL_FORMAT_CONFIG)
            .is_some_and(|f| f.eq_ignore_ascii_case("NUMERIC"));
        self.replace_null_with_default = parsed
            .boolean(REPLACE_NULL_WITH_DEFAULT_CONFIG)
            .unwrap_or(true);
        self.cache_size = parsed.int(SCHEMAS_CACHE_SIZE_CONFIG).unwrap_or(1000).max(0) as usize;
        Ok(())
    }

    /// The JSON form of a schema (`asJsonSchema`).
    fn as_json_schema(&self, schema: &Schema) -> Result<Json> {
        let mut fields: Vec<(&str, Json)> =
            vec![("type", Json::Str(type_name(schema.schema_type).into()))];
        match schema.schema_type {
            SchemaType::Array => {
                let items = schema
                    .value_schema
                    .as_ref()
                    .ok_or_else(|| data_err("Array schema has no items"))?;
                fields.push(("items", self.as_json_schema(items)?));
            }
            SchemaType::Map => {
                let (k, v) = match (&schema.key_schema, &schema.value_schema) {
                    (Some(k), Some(v)) => (k, v),
                    _ => return Err(data_err("Map schema has no key or value schema")),
                };
                fields.push(("keys", self.as_json_schema(k)?));
                fields.push(("values", self.as_json_schema(v)?));
            }
            SchemaType::Struct => {
                let mut fs = Vec::new();
                for f in &schema.fields {
                    let Json::Obj(mut o) = self.as_json_schema(&f.schema)? else {
                        unreachable!()
                    };
                    o.push(("field".into(), Json::Str(f.name.clone())));
                    fs.push(Json::Obj(o));
                }
                fields.push(("fields", Json::Arr(fs)));
            }
            _ => {}
        }
        fields.push(("optional", Json::Bool(schema.optional)));
        if let Some(n) = &schema.name {
            fields.push(("name", Json::Str(n.clone())));
        }
        if let Some(v) = schema.version {
            fields.push(("version", Json::Int(v.into())));
        }
        if let Some(d) = &schema.doc {
            fields.push(("doc", Json::Str(d.clone())));
        }
        if let Some(p) = &schema.parameters {
            fields.push((
                "parameters",
                Json::Obj(
                    p.iter()
                        .map(|(k, v)| (k.clone(), Json::Str(v.clone())))
                        .collect(),
                ),
            ));
        }
        if let Some(d) = &schema.default_value {
            fields.push(("default", self.to_json(Some(schema), d)?));
        }
        Ok(Json::obj(fields))
    }

    fn decimal_json(&self, schema: Option<&Schema>, d: &BigDecimal) -> Result<Json> {
        if self.decimal_numeric {
            return Ok(Json::Decimal(d.to_string()));
        }
        let bytes = match schema {
            Some(s) => logical::decimal_to_bytes(s, d)?,
            None => d.as_bigint_and_exponent().0.to_signed_bytes_be(),
        };
        Ok(Json::Str(B64.encode(bytes)))
    }

    /// Connect data to JSON (`convertToJson`).
    fn to_json(&self, schema: Option<&Schema>, value: &Value) -> Result<Json> {
        if value.is_null() {
            return match schema {
                None => Ok(Json::Null),
                Some(s) => {
                    if self.replace_null_with_default
                        && let Some(d) = &s.default_value
                    {
                        return self.to_json(Some(s), d);
                    }
                    if s.optional {
                        Ok(Json::Null)
                    } else {
                        Err(data_err(
                            "Conversion error: null value for field that is required and has no default value",
                        ))
                    }
                }
            };
        }
        let mismatch = |s: &Schema| {
            data_err(format!(
                "Invalid type for {}: {}",
                s.schema_type,
                value.type_name()
            ))
        };
        Ok(match (schema, value) {
            (_, Value::Int8(v)) => Json::Int((*v).into()),
            (_, Value::Int16(v)) => Json::Int((*v).into()),
            (_, Value::Int32(v)) | (_, Value::Date(v)) | (_, Value::Time(v)) => {
                Json::Int((*v).into())
            }
            (_, Value::Int64(v)) | (_, Value::Timestamp(v)) => Json::Int(*v),
            (_, Value::Float32(v)) => Json::F32(*v),
            (_, Value::Float64(v)) => Json::F64(*v),
            (_, Value::Boolean(v)) => Json::Bool(*v),
            (_, Value::String(v)) => Json::Str(v.clone()),
            (_, Value::Bytes(v)) => Json::Str(B64.encode(v)),
            (s, Value::Decimal(d)) => self.decimal_json(s, d)?,
            (s, Value::Array(items)) => {
                let elem = match s {
                    Some(s) if s.schema_type == SchemaType::Array => s.value_schema.as_deref(),
                    Some(s) => return Err(mismatch(s)),
                    None => None,
                };
                Json::Arr(
                    items
                        .iter()
                        .map(|i| self.to_json(elem, i))
                        .collect::<Result<_>>()?,
                )
            }
            (s, Value::Map(entries)) => {
                let (ks, vs) = match s {
                    Some(s) if s.schema_type == SchemaType::Map => {
                        (s.key_schema.as_deref(), s.value_schema.as_deref())
                    }
                    Some(s) => return Err(mismatch(s)),
                    None => (None, None),
                };
                let string_keys = match ks {
                    Some(k) => k.schema_type == SchemaType::String,
                    None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
                };
                if string_keys {
                    Json::Obj(
                        entries
                            .iter()
                            .map(|(k, v)| {
                                Ok((
                                    k.as_str().unwrap_or_default().to_owned(),
                                    self.to_json(vs, v)?,
                                ))
                            })
                            .collect::<Result<_>>()?,
                    )
                } else {
                    Json::Arr(
                        entries
                            .iter()
                            .map(|(k, v)| {
                                Ok(Json::Arr(vec![self.to_json(ks, k)?, self.to_json(vs, v)?]))
                            })
                            .collect::<Result<_>>()?,
                    )
                }
            }
            (s, Value::Struct(st)) => {
                if let Some(s) = s
                    && (s.schema_type != SchemaType::Struct || st.schema().as_ref() != s)
                {
                    return Err(data_err("Mismatching schema."));
                }
                let mut fields = Vec::with_capacity(st.schema().fields.len());
                for f in &st.schema().fields {
                    let v = if self.replace_null_with_default {
                        st.get(&f.name)
                    } else {
                        st.get_without_default(&f.name)
                    };
                    fields.push((
                        f.name.clone(),
                        self.to_json(Some(&f.schema), v.unwrap_or(&Value::Null))?,
                    ));
                }
                Json::Obj(fields)
            }
            (_, Value::Null) => Json::Null,
        })
    }

    /// The Connect schema of a JSON schema (`asConnectSchema`).
    fn as_connect_schema(&self, json: &serde_json::Value) -> Result<Option<SchemaRef>> {
        if json.is_null() {
            return Ok(None);
        }
        let key = json.to_string();
        if let Some(s) = self.to_connect_cache.lock().get(&key) {
            return Ok(Some(s.clone()));
        }
        let schema = self.parse_schema(json)?;
        let mut cache = self.to_connect_cache.lock();
        if cache.len() >= self.cache_size {
            cache.clear();
        }
        if self.cache_size > 0 {
            cache.insert(key, schema.clone());
        }
        Ok(Some(schema))
    }

    fn parse_schema(&self, json: &serde_json::Value) -> Result<SchemaRef> {
        let obj = json
            .as_object()
            .ok_or_else(|| data_err("Schema must be a JSON object"))?;
        let ty = obj
            .get("type")
            .and_then(|t| t.as_str())
            .ok_or_else(|| data_err("Schema must contain 'type' field"))?;
        let mut b = match ty {
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
                let items = obj
                    .get("items")
                    .ok_or_else(|| data_err("Array schema did not specify the element type"))?;
                SchemaBuilder::array(self.parse_schema(items)?)
            }
            "map" => {
                let k = obj
                    .get("keys")
                    .ok_or_else(|| data_err("Map schema did not specify the key type"))?;
                let v = obj
                    .get("values")
                    .ok_or_else(|| data_err("Map schema did not specify the value type"))?;
                SchemaBuilder::map(self.parse_schema(k)?, self.parse_schema(v)?)
            }
            "struct" => {
                let fields = obj
                    .get("fields")
                    .and_then(|f| f.as_array())
                    .ok_or_else(|| {
                        data_err("Struct schema's \"fields\" argument is not an array.")
                    })?;
                let mut b = SchemaBuilder::struct_();
                for f in fields {
                    let name = f.get("field").and_then(|n| n.as_str()).ok_or_else(|| {
                        data_err("Struct schema's field name not specified properly")
                    })?;
                    b = b.field(name, self.parse_schema(f)?);
                }
                b
            }
            other => return Err(data_err(format!("Unknown schema type: {other}"))),
        };
        if obj
            .get("optional")
            .and_then(|o| o.as_bool())
            .unwrap_or(false)
        {
            b = b.optional();
        }
        if let Some(n) = obj.get("name").and_then(|n| n.as_str()) {
            b = b.name(n);
        }
        if let Some(v) = obj.get("version") {
            let v = v
                .as_i64()
                .ok_or_else(|| data_err("Schema version must be an integer"))?;
            b = b.version(v as i32);
        }
        if let Some(d) = obj.get("doc").and_then(|d| d.as_str()) {
            b = b.doc(d);
        }
        if let Some(p) = obj.get("parameters") {
            let p = p
                .as_object()
                .ok_or_else(|| data_err("Schema parameters must be a JSON object"))?;
            for (k, v) in p {
                b = b.parameter(
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                );
            }
        }
        if let Some(d) = obj.get("default").filter(|d| !d.is_null()) {
            let partial = b.clone().build();
            let dv = self.to_connect(Some(&partial), d)?;
            b = b.default_value(dv);
        }
        Ok(b.build())
    }

    /// JSON to Connect data (`convertToConnect`).
    fn to_connect(&self, schema: Option<&SchemaRef>, json: &serde_json::Value) -> Result<Value> {
        use serde_json::Value as J;
        let Some(schema) = schema else {
            return Ok(infer(json));
        };
        if json.is_null() {
            if self.replace_null_with_default
                && let Some(d) = &schema.default_value
            {
                return Ok(d.clone());
            }
            if schema.optional {
                return Ok(Value::Null);
            }
            return Err(data_err(format!(
                "Invalid null value for required {} field",
                schema.schema_type
            )));
        }
        let bad = || {
            data_err(format!(
                "Invalid JSON for {} schema: {}",
                type_name(schema.schema_type),
                json
            ))
        };
        let name = schema.name.as_deref();
        Ok(match schema.schema_type {
            SchemaType::Boolean => Value::Boolean(json.as_bool().ok_or_else(bad)?),
            SchemaType::Int8 => Value::Int8(json.as_i64().ok_or_else(bad)? as i8),
            SchemaType::Int16 => Value::Int16(json.as_i64().ok_or_else(bad)? as i16),
            SchemaType::Int32 => {
                let v = json.as_i64().ok_or_else(bad)? as i32;
                match name {
                    Some(logical::DATE) => Value::Date(v),
                    Some(logical::TIME) => Value::Time(v),
                    _ => Value::Int32(v),
                }
            }
            SchemaType::Int64 => {
                let v = json.as_i64().ok_or_else(bad)?;
                if name == Some(logical::TIMESTAMP) {
                    Value::Timestamp(v)
                } else {
                    Value::Int64(v)
                }
            }
            SchemaType::Float32 => Value::Float32(json.as_f64().ok_or_else(bad)? as f32),
            SchemaType::Float64 => Value::Float64(json.as_f64().ok_or_else(bad)?),
            SchemaType::String => Value::String(json.as_str().ok_or_else(bad)?.to_owned()),
            SchemaType::Bytes => {
                if name == Some(logical::DECIMAL) {
                    // Readers accept a number or base64 text whatever decimal.format says.
                    match json {
                        J::Number(n) => {
                            let d: BigDecimal = n.to_string().parse().map_err(|_| bad())?;
                            let scale = logical::decimal_scale(schema)?;
                            Value::Decimal(d.with_scale(scale.into()))
                        }
                        J::String(s) => {
                            let bytes = B64.decode(s).map_err(|_| bad())?;
                            Value::Decimal(logical::decimal_from_bytes(schema, &bytes)?)
                        }
                        _ => return Err(bad()),
                    }
                } else {
                    let s = json.as_str().ok_or_else(bad)?;
                    Value::Bytes(B64.decode(s).map_err(|_| bad())?)
                }
            }
            SchemaType::Array => {
                let elem = schema.value_schema.as_ref();
                Value::Array(
                    json.as_array()
                        .ok_or_else(bad)?
                        .iter()
                        .map(|i| self.to_connect(elem, i))
                        .collect::<Result<_>>()?,
                )
            }
            SchemaType::Map => {
                let (ks, vs) = (schema.key_schema.as_ref(), schema.value_schema.as_ref());
                if ks.is_some_and(|k| k.schema_type == SchemaType::String) {
                    Value::Map(
                        json.as_object()
                            .ok_or_else(bad)?
                            .iter()
                            .map(|(k, v)| Ok((Value::String(k.clone()), self.to_connect(vs, v)?)))
                            .collect::<Result<_>>()?,
                    )
                } else {
                    let mut entries = Vec::new();
                    for pair in json.as_array().ok_or_else(bad)? {
                        let pair = pair.as_array().filter(|p| p.len() == 2).ok_or_else(|| {
                            data_err("Found invalid map entry instead of array tuple: expected a 2-element array")
                        })?;
                        entries.push((
                            self.to_connect(ks, &pair[0])?,
                            self.to_connect(vs, &pair[1])?,
                        ));
                    }
                    Value::Map(entries)
                }
            }
            SchemaType::Struct => {
                let obj = json.as_object().ok_or_else(bad)?;
                let mut s = Struct::new(schema.clone());
                for f in &schema.fields {
                    let v =
                        self.to_connect(Some(&f.schema), obj.get(&f.name).unwrap_or(&J::Null))?;
                    s.put(&f.name, v)?;
                }
                Value::Struct(s)
            }
        })
    }

    fn serialize(&self, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Vec<u8>>> {
        if schema.is_none() && value.is_null() {
            return Ok(None);
        }
        let payload = self.to_json(schema.map(|s| s.as_ref()), value)?;
        let out = if self.schemas_enable {
            let schema_json = match schema {
                Some(s) => self.as_json_schema(s)?,
                None => Json::Null,
            };
            Json::obj(vec![("schema", schema_json), ("payload", payload)])
        } else {
            payload
        };
        Ok(Some(json_text::to_string(&out).into_bytes()))
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::NULL);
        };
        let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            data_err(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        })?;
        if !self.schemas_enable {
            return Ok(SchemaAndValue::new(None, self.to_connect(None, &json)?));
        }
        let envelope = json
            .as_object()
            .filter(|o| o.len() == 2 && o.contains_key("schema") && o.contains_key("payload"))
            .ok_or_else(|| data_err("JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration."))?;
        let schema = self.as_connect_schema(&envelope["schema"])?;
        let value = self.to_connect(schema.as_ref(), &envelope["payload"])?;
        Ok(SchemaAndValue::new(schema, value))
    }
}

/// Schemaless JSON to Connect data: objects become maps, integers `Int64`, other numbers `Float64`.
fn infer(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int64(i),
            None => Value::Float64(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(a) => Value::Array(a.iter().map(infer).collect()),
        J::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::String(k.clone()), infer(v)))
                .collect(),
        ),
    }
}

impl Converter for JsonConverter {
    fn configure(&mut self, props: &Props, _is_key: bool) -> Result<()> {
        self.apply(props)
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
        config_def()
    }
}

impl HeaderConverter for JsonConverter {
    fn configure(&mut self, props: &Props) -> Result<()> {
        self.apply(props)
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        self.serialize(schema, value)
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        self.deserialize(bytes)
    }

    fn config(&self) -> ConfigDef {
        config_def()
    }
}
