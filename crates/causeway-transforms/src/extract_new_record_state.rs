//! Debezium's `io.debezium.transforms.ExtractNewRecordState` (the "unwrap" SMT): replaces a Debezium change
//! event envelope (`before`, `after`, `source`, `op`, `ts_ms`, `transaction`) by its new row state, handles
//! deletes, tombstones and truncates, copies envelope metadata into fields or headers, routes by a row field
//! and drops fields named in a header. Config keys, defaults and error texts follow Debezium 3.x; the
//! deprecated `drop.tombstones` / `delete.handling.mode` pair is still honoured as Debezium 2.x–3.1 did.
use std::sync::Arc;

use causeway_api::config::{
    ConfigDef, ConfigKey, ConfigType, DefaultValue, Importance, ParsedValue, Width, validators,
};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{
    ConnectRecord, Field, Headers, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value,
};

use crate::insert_field::InsertField;
use crate::replace_field::ReplaceField;

const HANDLE_TOMBSTONE_DELETES: &str = "delete.tombstone.handling.mode";
const DROP_TOMBSTONES: &str = "drop.tombstones";
const HANDLE_DELETES: &str = "delete.handling.mode";
const ROUTE_BY_FIELD: &str = "route.by.field";
const ADD_FIELDS_PREFIX: &str = "add.fields.prefix";
const ADD_FIELDS: &str = "add.fields";
const ADD_HEADERS_PREFIX: &str = "add.headers.prefix";
const ADD_HEADERS: &str = "add.headers";
const REPLACE_NULL_WITH_DEFAULT: &str = "replace.null.with.default";
const DROP_FIELDS_HEADER: &str = "drop.fields.header.name";
const DROP_FIELDS_FROM_KEY: &str = "drop.fields.from.key";
const DROP_FIELDS_KEEP_SCHEMA_COMPATIBLE: &str = "drop.fields.keep.schema.compatible";

/// The field `rewrite` adds, holding `"true"` for deletes and `"false"` otherwise.
const DELETED_FIELD: &str = "__deleted";
const METADATA_FIELD_PREFIX: &str = "__";
const ENVELOPE_SCHEMA_NAME_SUFFIX: &str = ".Envelope";
const BEFORE: &str = "before";
const AFTER: &str = "after";
const OPERATION: &str = "op";
const DELETE_OPERATION_CODE: &str = "d";
const PURPOSE: &str = "source field insertion";
const EXTRACT_PURPOSE: &str = "field extraction";
const SCHEMA_CACHE_SIZE: usize = 64;

/// `delete.tombstone.handling.mode` values. The message lists them in the order Debezium prints them (the
/// iteration order of the Java `HashSet` it builds them into).
const DELETE_TOMBSTONE_MODES: [&str; 5] = [
    "drop",
    "tombstone",
    "rewrite",
    "rewrite-with-tombstone",
    "delete-to-tombstone",
];
const DELETE_TOMBSTONE_MODES_MESSAGE: &str =
    "Value must be one of drop, tombstone, rewrite-with-tombstone, rewrite, delete-to-tombstone";
/// The deprecated `delete.handling.mode` values, and Debezium's message for them.
const LEGACY_DELETE_MODES: [&str; 3] = ["drop", "rewrite", "none"];
const LEGACY_DELETE_MODES_MESSAGE: &str = "Value must be one of drop, none, rewrite";

/// What happens to a tombstone (a record whose value is null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TombstoneAction {
    Drop,
    Keep,
}

/// What happens to a delete event (an envelope with a null `after` and a non-null `before`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteAction {
    /// The event is dropped.
    Drop,
    /// Value null, value schema the `after` schema (`tombstone`, legacy `none`).
    NullValue,
    /// Value and value schema null (`delete-to-tombstone`).
    NullValueAndSchema,
    /// The `before` state plus `__deleted="true"`; other events get `__deleted="false"`.
    Rewrite,
}

/// How deletes and tombstones are handled: Debezium's `DefaultDeleteHandlingStrategy` modes and its legacy
/// `drop.tombstones` × `delete.handling.mode` combinations (some of which no new mode expresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DeleteHandling {
    tombstones: TombstoneAction,
    deletes: DeleteAction,
}

impl DeleteHandling {
    /// A `delete.tombstone.handling.mode` value, matched case-insensitively as Debezium does.
    fn from_mode(mode: &str) -> Option<Self> {
        let (tombstones, deletes) = match mode.trim().to_ascii_lowercase().as_str() {
            "drop" => (TombstoneAction::Drop, DeleteAction::Drop),
            "tombstone" => (TombstoneAction::Drop, DeleteAction::NullValue),
            "rewrite" => (TombstoneAction::Drop, DeleteAction::Rewrite),
            "rewrite-with-tombstone" => (TombstoneAction::Keep, DeleteAction::Rewrite),
            "delete-to-tombstone" => (TombstoneAction::Drop, DeleteAction::NullValueAndSchema),
            _ => return None,
        };
        Some(DeleteHandling {
            tombstones,
            deletes,
        })
    }

    /// The deprecated `drop.tombstones` and `delete.handling.mode` pair (`LegacyDeleteHandlingStrategy`).
    fn legacy(drop_tombstones: bool, delete_mode: &str) -> Option<Self> {
        let deletes = match delete_mode.trim().to_ascii_lowercase().as_str() {
            "drop" => DeleteAction::Drop,
            "none" => DeleteAction::NullValue,
            "rewrite" => DeleteAction::Rewrite,
            _ => return None,
        };
        Some(DeleteHandling {
            tombstones: if drop_tombstones {
                TombstoneAction::Drop
            } else {
                TombstoneAction::Keep
            },
            deletes,
        })
    }

    fn rewrite(self) -> bool {
        self.deletes == DeleteAction::Rewrite
    }
}

/// Java's `String.split`: trailing empty strings are removed (so `"."` split on `.` has no parts).
fn java_split(s: &str, separator: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(separator).collect();
    if parts.len() > 1 {
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
    }
    parts
}

/// `SchemaUtil.copySchemaBasics(Schema)`: type (with array/map element schemas), name, version, doc and
/// parameters, but neither fields, optionality nor default.
fn copy_schema_basics(schema: &Schema) -> SchemaBuilder {
    let builder = match (schema.schema_type, &schema.key_schema, &schema.value_schema) {
        (SchemaType::Array, _, Some(items)) => SchemaBuilder::array(items.clone()),
        (SchemaType::Map, Some(keys), Some(values)) => {
            SchemaBuilder::map(keys.clone(), values.clone())
        }
        (ty, _, _) => SchemaBuilder::new(ty),
    };
    copy_struct_basics(schema, builder)
}

fn copy_struct_basics(schema: &Schema, builder: SchemaBuilder) -> SchemaBuilder {
    builder
        .set_name(schema.name.clone())
        .set_version(schema.version)
        .set_doc(schema.doc.clone())
        .parameters(schema.parameters.clone())
}

/// An envelope field to copy into the unwrapped value or the headers (`FieldReference`): `op`, `ts_ms`,
/// `source.ts_ms`, `transaction.id`, optionally renamed with `:alias`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldReference {
    /// The envelope struct holding the field (`source`, `transaction`), or `None` for top-level fields.
    struct_name: Option<String>,
    /// The simple field name.
    field: String,
    /// The outgoing field or header name, prefix included.
    new_field: String,
}

impl FieldReference {
    fn parse(prefix: &str, spec: &str) -> Result<Self> {
        let unexpected = || ConnectError::config(format!("Unexpected field name: {spec}"));
        let parts = java_split(spec, ':');
        let path = parts.first().copied().unwrap_or("");
        let splits = java_split(path, '.');
        let (struct_name, field) = match splits.as_slice() {
            [] => return Err(unexpected()),
            [field] => (Self::determine_struct(field), (*field).to_owned()),
            [parent, field, ..] => (Some((*parent).to_owned()), (*field).to_owned()),
        };
        let new_field = match parts.as_slice() {
            [] | [_] => match &struct_name {
                Some(parent) if splits.len() > 1 => format!("{prefix}{parent}_{field}"),
                _ => format!("{prefix}{field}"),
            },
            [_, alias] => format!("{prefix}{alias}"),
            _ => return Err(unexpected()),
        };
        Ok(FieldReference {
            struct_name,
            field,
            new_field,
        })
    }

    /// The struct hosting an unqualified field: transaction keys live in `transaction`, `op` and the
    /// `ts_*` fields at the top level, anything else in `source`.
    fn determine_struct(field: &str) -> Option<String> {
        match field {
            "id" | "data_collection_order" | "total_order" => Some("transaction".to_owned()),
            "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
            // MongoDB's envelope.
            "updateDescription" => Some("updateDescription".to_owned()),
            _ => Some("source".to_owned()),
        }
    }

    /// References from a comma-separated list.
    fn from_list(prefix: &str, specs: &[String]) -> Result<Vec<Self>> {
        specs
            .iter()
            .map(|s| Self::parse(prefix, s.trim()))
            .collect()
    }

    /// The field's schema in the envelope: in its struct, else (a field another SMT added) at the top level.
    /// Debezium throws a NullPointerException when the named struct is missing; this falls back instead.
    fn schema_field<'a>(&self, envelope_schema: &'a Schema) -> Option<&'a Field> {
        let parent = match &self.struct_name {
            Some(name) => envelope_schema.field(name).map(|f| &*f.schema),
            None => Some(envelope_schema),
        };
        parent
            .and_then(|p| p.field(&self.field))
            .or_else(|| envelope_schema.field(&self.field))
    }

    /// The schema of the added field or header: the source field's basics, made optional.
    fn added_schema(&self, envelope_schema: &Schema) -> Option<SchemaRef> {
        self.schema_field(envelope_schema)
            .map(|f| copy_schema_basics(&f.schema).optional().build())
    }

    /// The field's raw value (no schema defaults); null when its struct is null (e.g. no transaction).
    fn value(&self, envelope: &Struct) -> Value {
        let parent = match &self.struct_name {
            Some(name) if envelope.schema().field(name).is_some() => {
                match envelope.get_without_default(name) {
                    Some(Value::Struct(s)) => s,
                    _ => return Value::Null,
                }
            }
            _ => envelope,
        };
        let holder = if parent.schema().field(&self.field).is_some() {
            parent
        } else {
            envelope
        };
        holder
            .get_without_default(&self.field)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// A bounded least-recently-used cache of unwrapped value schemas with the added fields, keyed by the
/// unwrapped schema, the operation (as Debezium keys it) and the envelope schema the added fields come from.
struct AddedFieldsSchemaCache {
    entries: Vec<(CacheKey, SchemaRef)>,
}

struct CacheKey {
    value_schema: SchemaRef,
    operation: Option<String>,
    envelope_schema: SchemaRef,
}

impl CacheKey {
    fn matches(&self, other: &CacheKey) -> bool {
        let same = |a: &SchemaRef, b: &SchemaRef| Arc::ptr_eq(a, b) || **a == **b;
        self.operation == other.operation
            && same(&self.value_schema, &other.value_schema)
            && same(&self.envelope_schema, &other.envelope_schema)
    }
}

impl AddedFieldsSchemaCache {
    fn new() -> Self {
        AddedFieldsSchemaCache {
            entries: Vec::new(),
        }
    }

    fn get_or_try_insert(
        &mut self,
        key: CacheKey,
        build: impl FnOnce() -> Result<SchemaRef>,
    ) -> Result<SchemaRef> {
        if let Some(pos) = self.entries.iter().position(|(k, _)| k.matches(&key)) {
            let entry = self.entries.remove(pos);
            let found = entry.1.clone();
            self.entries.push(entry);
            return Ok(found);
        }
        let built = build()?;
        if self.entries.len() >= SCHEMA_CACHE_SIZE {
            self.entries.remove(0);
        }
        self.entries.push((key, built.clone()));
        Ok(built)
    }
}

/// Debezium's `io.debezium.transforms.ExtractNewRecordState`: unwraps Debezium change events to the row's new
/// state. Records that are not envelopes (schema change events, heartbeats, schemaless values) pass through.
pub struct ExtractNewRecordState {
    configured: bool,
    handling: DeleteHandling,
    route_by_field: Option<String>,
    additional_fields: Vec<FieldReference>,
    additional_headers: Vec<FieldReference>,
    drop_fields_header_name: Option<String>,
    drop_fields_from_key: bool,
    drop_fields_keep_schema_compatible: bool,
    /// `InsertField$Value` adding `__deleted="true"` to rewritten deletes.
    removed_delegate: InsertField,
    /// `InsertField$Value` adding `__deleted="false"` to other rewritten events.
    updated_delegate: InsertField,
    cache: AddedFieldsSchemaCache,
}

impl Default for ExtractNewRecordState {
    fn default() -> Self {
        ExtractNewRecordState {
            configured: false,
            handling: DeleteHandling {
                tombstones: TombstoneAction::Drop,
                deletes: DeleteAction::NullValue,
            },
            route_by_field: None,
            additional_fields: Vec::new(),
            additional_headers: Vec::new(),
            drop_fields_header_name: None,
            drop_fields_from_key: false,
            drop_fields_keep_schema_compatible: true,
            removed_delegate: InsertField::value(),
            updated_delegate: InsertField::value(),
            cache: AddedFieldsSchemaCache::new(),
        }
    }
}

/// A configured `InsertField$Value` adding the static `__deleted` field (`ConnectRecordUtil.insertStaticValueDelegate`).
fn deleted_field_delegate(value: &str, replace_null_with_default: bool) -> Result<InsertField> {
    let mut delegate = InsertField::value();
    let props: Props = [
        ("static.field", DELETED_FIELD),
        ("static.value", value),
        (
            REPLACE_NULL_WITH_DEFAULT,
            if replace_null_with_default {
                "true"
            } else {
                "false"
            },
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    delegate.configure(&props)?;
    Ok(delegate)
}

/// Whether the value schema names a Debezium envelope (`SmtManager.isValidEnvelope`).
fn is_envelope(schema: Option<&SchemaRef>) -> bool {
    schema
        .and_then(|s| s.name.as_deref())
        .is_some_and(|n| n.ends_with(ENVELOPE_SCHEMA_NAME_SUFFIX))
}

/// `ExtractField$Value` on one envelope field: its schema and value (schema defaults applied).
fn extract(envelope: &Struct, field: &str) -> Result<(SchemaRef, Value)> {
    let Some(f) = envelope.schema().field(field) else {
        return Err(ConnectError::data(format!("Unknown field: {field}")));
    };
    let value = envelope.get(field).cloned().unwrap_or(Value::Null);
    Ok((f.schema.clone(), value))
}

/// `Struct.getString`: the raw value of a STRING field.
fn get_string(s: &Struct, field: &str) -> Result<Option<String>> {
    let Some(f) = s.schema().field(field) else {
        return Err(ConnectError::data(format!(
            "{field} is not a valid field name"
        )));
    };
    if f.schema.schema_type != SchemaType::String {
        return Err(ConnectError::data(format!(
            "Field '{field}' is not of type STRING"
        )));
    }
    Ok(s.get_without_default(field)
        .and_then(Value::as_str)
        .map(str::to_owned))
}

/// `Requirements.requireStruct`.
fn require_struct<'a>(value: &'a Value, purpose: &str) -> Result<&'a Struct> {
    match value {
        Value::Struct(s) => Ok(s),
        other => Err(ConnectError::data(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            other.type_name()
        ))),
    }
}

/// Sets the topic unless the new name is null or blank (`setTopic`).
fn set_topic(record: &mut ConnectRecord, topic: Option<String>) {
    if let Some(topic) = topic.filter(|t| !t.trim().is_empty()) {
        record.topic = topic;
    }
}

impl ExtractNewRecordState {
    /// The headers `add.headers` asks for. A tombstone only gets the operation header, set to `d`.
    fn make_headers(&self, envelope: Option<&Struct>) -> Headers {
        let mut headers = Headers::new();
        for reference in &self.additional_headers {
            let Some(envelope) = envelope else {
                if reference.field == OPERATION {
                    headers.add_string(reference.new_field.clone(), DELETE_OPERATION_CODE);
                }
                continue;
            };
            if let Some(schema) = reference.added_schema(envelope.schema()) {
                headers.add(
                    reference.new_field.clone(),
                    Some(schema),
                    reference.value(envelope),
                );
            }
        }
        headers
    }

    /// Copies the unwrapped value into a schema extended with the `add.fields` fields and fills them in.
    fn add_fields(
        &mut self,
        envelope: &Struct,
        mut record: ConnectRecord,
    ) -> Result<ConnectRecord> {
        let value = require_struct(&record.value, PURPOSE)?;
        let envelope_schema = envelope.schema();
        let key = CacheKey {
            value_schema: value.schema().clone(),
            operation: envelope
                .get_without_default(OPERATION)
                .and_then(Value::as_str)
                .map(str::to_owned),
            envelope_schema: envelope_schema.clone(),
        };
        let references = &self.additional_fields;
        let updated_schema = self.cache.get_or_try_insert(key, || {
            make_updated_schema(references, value.schema(), envelope_schema)
        })?;
        let mut updated = Struct::new(updated_schema.clone());
        for field in &value.schema().fields {
            // Raw values: defaults must not replace nulls here.
            let v = value.get_without_default(&field.name).cloned();
            updated.put(&field.name, v.unwrap_or(Value::Null))?;
        }
        for reference in references {
            if reference.schema_field(envelope_schema).is_some() {
                updated.put(&reference.new_field, reference.value(envelope))?;
            }
        }
        record.value_schema = Some(updated_schema);
        record.value = Value::Struct(updated);
        Ok(record)
    }

    /// Removes the fields listed in the `drop.fields.header.name` header from the value (and the key when
    /// `drop.fields.from.key`), keeping required fields when `drop.fields.keep.schema.compatible`.
    fn drop_fields(&self, record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(header_name) = &self.drop_fields_header_name else {
            return Ok(Some(record));
        };
        // Debezium reads the first header with that name.
        let Some(header) = record.headers.iter().find(|h| &h.key == header_name) else {
            return Ok(Some(record));
        };
        let names: Vec<String> = match &header.value {
            Value::Null => return Ok(Some(record)),
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            other => {
                return Err(ConnectError::data(format!(
                    "Header '{header_name}' must hold a list of field names, found: {}",
                    other.type_name()
                )));
            }
        };
        if names.is_empty() {
            return Ok(Some(record));
        }
        let mut record = record;
        if self.drop_fields_from_key && !record.key.is_null() {
            let key_fields = self.fields_to_drop(record.key_schema.as_ref(), &names);
            if !key_fields.is_empty() {
                let Some(r) = exclude_fields(ReplaceField::key(), &key_fields, record)? else {
                    return Ok(None);
                };
                record = r;
            }
        }
        let value_fields = self.fields_to_drop(record.value_schema.as_ref(), &names);
        if value_fields.is_empty() {
            return Ok(Some(record));
        }
        exclude_fields(ReplaceField::value(), &value_fields, record)
    }

    fn fields_to_drop(&self, schema: Option<&SchemaRef>, names: &[String]) -> Vec<String> {
        if !self.drop_fields_keep_schema_compatible {
            return names.to_vec();
        }
        // Debezium fails with a NullPointerException without a schema; nothing is dropped here.
        schema
            .map(|s| {
                s.fields
                    .iter()
                    .filter(|f| f.schema.optional && names.contains(&f.name))
                    .map(|f| f.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn handle_delete(
        &mut self,
        envelope: &Struct,
        mut record: ConnectRecord,
        after_schema: SchemaRef,
        before: (SchemaRef, Value),
    ) -> Result<Option<ConnectRecord>> {
        let mut record = match self.handling.deletes {
            DeleteAction::Drop => return Ok(None),
            DeleteAction::NullValue => {
                record.value_schema = Some(after_schema);
                record
            }
            DeleteAction::NullValueAndSchema => {
                record.value_schema = None;
                record
            }
            DeleteAction::Rewrite => {
                let (before_schema, before_value) = before;
                let is_struct = matches!(before_value, Value::Struct(_));
                record.value_schema = Some(before_schema);
                record.value = before_value;
                if is_struct {
                    let Some(r) = self.removed_delegate.apply(record)? else {
                        return Ok(None);
                    };
                    r
                } else {
                    record
                }
            }
        };
        if let Some(route) = &self.route_by_field {
            let before = match envelope.schema().field(BEFORE) {
                None => {
                    return Err(ConnectError::data(format!(
                        "{BEFORE} is not a valid field name"
                    )));
                }
                Some(f) if f.schema.schema_type != SchemaType::Struct => {
                    return Err(ConnectError::data(format!(
                        "Field '{BEFORE}' is not of type STRUCT"
                    )));
                }
                Some(_) => envelope.get_without_default(BEFORE),
            };
            if let Some(Value::Struct(before)) = before {
                set_topic(&mut record, get_string(before, route)?);
            }
        }
        let Some(mut record) = self.drop_fields(record)? else {
            return Ok(None);
        };
        if !record.value.is_null() {
            record = self.add_fields(envelope, record)?;
        }
        Ok(Some(record))
    }

    fn handle_change(
        &mut self,
        envelope: &Struct,
        mut record: ConnectRecord,
        after: (SchemaRef, Value),
    ) -> Result<Option<ConnectRecord>> {
        let (after_schema, after_value) = after;
        let is_struct = matches!(after_value, Value::Struct(_));
        record.value_schema = Some(after_schema);
        record.value = after_value;
        if self.handling.rewrite() && is_struct {
            let Some(r) = self.updated_delegate.apply(record)? else {
                return Ok(None);
            };
            record = r;
        }
        if let Some(route) = &self.route_by_field {
            let value = require_struct(
                &record.value,
                "Read record to set topic routing for CREATE / UPDATE",
            )?;
            let topic = get_string(value, route)?;
            set_topic(&mut record, topic);
        }
        let record = self.add_fields(envelope, record)?;
        self.drop_fields(record)
    }
}

/// Runs a one-off `ReplaceField` with `exclude` set to `fields`, as Debezium does for dropped fields.
fn exclude_fields(
    mut delegate: ReplaceField,
    fields: &[String],
    record: ConnectRecord,
) -> Result<Option<ConnectRecord>> {
    let props: Props = [("exclude".to_owned(), fields.join(","))]
        .into_iter()
        .collect();
    delegate.configure(&props)?;
    delegate.apply(record)
}

/// The unwrapped schema plus the `add.fields` fields found in the envelope.
fn make_updated_schema(
    references: &[FieldReference],
    schema: &Schema,
    envelope_schema: &Schema,
) -> Result<SchemaRef> {
    let mut builder = copy_struct_basics(schema, SchemaBuilder::struct_());
    for field in &schema.fields {
        builder = builder.field(field.name.as_str(), field.schema.clone());
    }
    for reference in references {
        let Some(added) = reference.added_schema(envelope_schema) else {
            continue;
        };
        if builder.field_names().any(|n| n == reference.new_field) {
            return Err(ConnectError::data(format!(
                "Cannot create field because of field name duplication {}",
                reference.new_field
            )));
        }
        builder = builder.field(reference.new_field.as_str(), added);
    }
    Ok(builder.build())
}

/// A key declared as Debezium's `Field.group(config, null, …)` declares it: no group, order 1.
fn debezium_key(
    name: &str,
    ty: ConfigType,
    default: DefaultValue,
    importance: Importance,
    width: Width,
    display_name: &str,
    doc: &str,
) -> ConfigKey {
    let mut key = ConfigDef::key(name, ty, importance, doc)
        .width(width)
        .display_name(display_name);
    key.default = default;
    key.order_in_group = 1;
    key
}

fn string_default(s: &str) -> DefaultValue {
    DefaultValue::Value(ParsedValue::String(s.to_owned()))
}

impl Transformation for ExtractNewRecordState {
    fn configure(&mut self, props: &Props) -> Result<()> {
        // Debezium logs each problem and throws "Unable to validate config."; the problem is kept here.
        let parsed = self.config().parse(props).map_err(|e| {
            ConnectError::config(format!("Unable to validate config. {}", e.message()))
        })?;
        let fields_prefix = parsed.string(ADD_FIELDS_PREFIX).unwrap_or_default();
        let headers_prefix = parsed.string(ADD_HEADERS_PREFIX).unwrap_or_default();
        let additional_fields = FieldReference::from_list(fields_prefix, &parsed.list(ADD_FIELDS))?;
        let additional_headers =
            FieldReference::from_list(headers_prefix, &parsed.list(ADD_HEADERS))?;

        // The new key wins when set. Otherwise the deprecated pair applies if either of them (or a blank new
        // key) is given, as Debezium up to 3.1 did; with none of them, Debezium 3.2+'s default `tombstone`.
        let mode = props
            .get(HANDLE_TOMBSTONE_DELETES)
            .map(|m| m.trim())
            .filter(|m| !m.is_empty());
        let legacy_requested = props.contains_key(HANDLE_TOMBSTONE_DELETES)
            || props.contains_key(DROP_TOMBSTONES)
            || props.contains_key(HANDLE_DELETES);
        let handling = match mode {
            Some(mode) => DeleteHandling::from_mode(mode),
            None if legacy_requested => DeleteHandling::legacy(
                parsed.boolean(DROP_TOMBSTONES).unwrap_or(true),
                parsed.string(HANDLE_DELETES).unwrap_or("drop"),
            ),
            None => DeleteHandling::from_mode("tombstone"),
        }
        .ok_or_else(|| ConnectError::config("Unable to validate config."))?;

        // Read raw as Debezium's Configuration.getBoolean does: anything but true/false means the default.
        let replace_null_with_default = props
            .get(REPLACE_NULL_WITH_DEFAULT)
            .map(|v| v.trim().to_ascii_lowercase())
            .is_none_or(|v| v != "false");

        self.removed_delegate = deleted_field_delegate("true", replace_null_with_default)?;
        self.updated_delegate = deleted_field_delegate("false", replace_null_with_default)?;
        self.handling = handling;
        self.route_by_field = parsed
            .string(ROUTE_BY_FIELD)
            .filter(|f| !f.is_empty())
            .map(str::to_owned);
        self.additional_fields = additional_fields;
        self.additional_headers = additional_headers;
        self.drop_fields_header_name = parsed
            .string(DROP_FIELDS_HEADER)
            .filter(|h| !h.trim().is_empty())
            .map(str::to_owned);
        self.drop_fields_from_key = parsed.boolean(DROP_FIELDS_FROM_KEY).unwrap_or(false);
        self.drop_fields_keep_schema_compatible = parsed
            .boolean(DROP_FIELDS_KEEP_SCHEMA_COMPATIBLE)
            .unwrap_or(true);
        self.cache = AddedFieldsSchemaCache::new();
        self.configured = true;
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if !self.configured {
            return Err(ConnectError::config(
                "ExtractNewRecordState is not configured",
            ));
        }
        let is_tombstone = record.value.is_null();
        let is_envelope = is_envelope(record.value_schema.as_ref());

        if (is_envelope || is_tombstone) && !self.additional_headers.is_empty() {
            // A non-Struct envelope value gets no headers; the extraction below rejects it.
            let envelope = record.value.as_struct();
            if is_tombstone || envelope.is_some() {
                let headers = self.make_headers(envelope);
                for h in headers {
                    record.headers.add(h.key, h.schema, h.value);
                }
            }
        }

        if is_tombstone {
            return Ok(match self.handling.tombstones {
                TombstoneAction::Drop => None,
                TombstoneAction::Keep => Some(record),
            });
        }
        if !is_envelope {
            return Ok(Some(record));
        }

        let envelope = match std::mem::take(&mut record.value) {
            Value::Struct(s) => s,
            other => {
                return Err(ConnectError::data(format!(
                    "Only Struct objects supported for [{EXTRACT_PURPOSE}], found: {}",
                    other.type_name()
                )));
            }
        };
        let after = extract(&envelope, AFTER)?;
        if !after.1.is_null() {
            return self.handle_change(&envelope, record, after);
        }
        let before = extract(&envelope, BEFORE)?;
        if before.1.is_null() {
            // A truncate event (neither state): dropped.
            return Ok(None);
        }
        self.handle_delete(&envelope, record, after.0, before)
    }

    fn config(&self) -> ConfigDef {
        let enum_validator = |allowed: &'static [&'static str], message: &'static str, blank_ok| {
            validators::from_fn(&format!("[{}]", allowed.join(", ")), move |_, v| {
                let s = v.and_then(ParsedValue::as_str).map(str::trim);
                match s {
                    Some("") if blank_ok => Ok(()),
                    Some(s) if allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) => Ok(()),
                    None if blank_ok => Ok(()),
                    _ => Err(message.to_owned()),
                }
            })
        };
        ConfigDef::new()
            .define_key(
                debezium_key(
                    HANDLE_TOMBSTONE_DELETES,
                    ConfigType::String,
                    string_default("tombstone"),
                    Importance::Medium,
                    Width::Medium,
                    "Handle delete and tombstone records",
                    "How to handle delete records. Options are: \
                     drop - Remove the delete event and tombstone from the stream.\
                     tombstone (default) - For each delete event, leave only a tombstone in the stream.\
                     rewrite - Remove tombstone from the record, and add a `__deleted` field with the value `true`.\
                     rewrite-with-tombstone - Retain tombstone in record and add a `__deleted` field with the value `true`.\
                     delete-to-tombstone - Convert delete events to tombstone events and drop tombstone events.",
                )
                .validator(enum_validator(
                    &DELETE_TOMBSTONE_MODES,
                    DELETE_TOMBSTONE_MODES_MESSAGE,
                    true,
                )),
            )
            .define_key(debezium_key(
                DROP_TOMBSTONES,
                ConfigType::Boolean,
                DefaultValue::Value(ParsedValue::Boolean(true)),
                Importance::Low,
                Width::Short,
                "Drop tombstones",
                "Debezium by default generates a tombstone record to enable Kafka compaction after \
                 a delete record was generated. This record is usually filtered out to avoid duplicates \
                 as a delete record is converted to a tombstone record, too\
                 Note: This option is scheduled for removal in a future release, use \"delete.tombstone.handling.mode\" instead",
            ))
            .define_key(
                debezium_key(
                    HANDLE_DELETES,
                    ConfigType::String,
                    string_default("drop"),
                    Importance::Medium,
                    Width::Medium,
                    "Handle delete records",
                    "How to handle delete records. Options are: \
                     none - records are passed,\
                     drop - records are removed (the default),\
                     rewrite - __deleted field is added to records.\
                     Note: This option is scheduled for removal in a future release, use \"delete.tombstone.handling.mode\" instead",
                )
                .validator(enum_validator(
                    &LEGACY_DELETE_MODES,
                    LEGACY_DELETE_MODES_MESSAGE,
                    false,
                )),
            )
            .define_key(debezium_key(
                ROUTE_BY_FIELD,
                ConfigType::String,
                string_default(""),
                Importance::Low,
                Width::Long,
                "Route by field name",
                "The column which determines how the events will be routed, the value will replace the topic name.",
            ))
            .define_key(debezium_key(
                ADD_FIELDS_PREFIX,
                ConfigType::String,
                string_default(METADATA_FIELD_PREFIX),
                Importance::Low,
                Width::Short,
                "Field prefix to be added to each field.",
                "Adds this prefix to each field listed.",
            ))
            .define_key(debezium_key(
                ADD_FIELDS,
                ConfigType::List,
                DefaultValue::Value(ParsedValue::List(Vec::new())),
                Importance::Low,
                Width::Long,
                "Adds the specified field(s) to the message if they exist.",
                "Adds each field listed, prefixed with __ (or __<struct>_ if the struct is specified). \
                 Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. \
                 Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP.\
                 Please note that the new field name is case-sensitive.",
            ))
            .define_key(debezium_key(
                ADD_HEADERS_PREFIX,
                ConfigType::String,
                string_default(METADATA_FIELD_PREFIX),
                Importance::Low,
                Width::Short,
                "Header prefix to be added to each header.",
                "Adds this prefix listed to each header.",
            ))
            .define_key(debezium_key(
                ADD_HEADERS,
                ConfigType::List,
                DefaultValue::Value(ParsedValue::List(Vec::new())),
                Importance::Low,
                Width::Long,
                "Adds the specified fields to the header if they exist.",
                "Adds each field listed to the header,  __ (or __<struct>_ if the struct is specified). \
                 Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. \
                 Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP.\
                 Please note that the new field name is case-sensitive.",
            ))
            .define_key(debezium_key(
                DROP_FIELDS_HEADER,
                ConfigType::String,
                DefaultValue::Null,
                Importance::Low,
                Width::Short,
                "Specifies a header that contains a list of field names to be removed",
                "Specifies the name of a header that contains a list of fields to be removed from the event value.",
            ))
            .define_key(debezium_key(
                DROP_FIELDS_FROM_KEY,
                ConfigType::Boolean,
                DefaultValue::Value(ParsedValue::Boolean(false)),
                Importance::Low,
                Width::Short,
                "Specifies whether the fields to be dropped should also be omitted from the key",
                "Specifies whether to apply the drop fields behavior to the event key as well as the value. \
                 Default behavior is to only remove fields from the event value, not the key.",
            ))
            .define_key(debezium_key(
                DROP_FIELDS_KEEP_SCHEMA_COMPATIBLE,
                ConfigType::Boolean,
                DefaultValue::Value(ParsedValue::Boolean(true)),
                Importance::Low,
                Width::Short,
                "Specifies if fields are dropped, will the event's schemas be compatible",
                "Controls the output event's schema compatibility when using the drop fields feature. \
                 `true`: dropped fields are removed if the schema indicates its optional leaving the schemas unchanged, \
                 `false`: dropped fields are removed from the key/value schemas, regardless of optionality.",
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::props;
    use causeway_api::config::collect_errors;

    const TOPIC: &str = "dbserver1.inventory.customers";

    fn unwrap_with(kv: &[(&str, &str)]) -> ExtractNewRecordState {
        let mut t = ExtractNewRecordState::default();
        t.configure(&props(kv)).unwrap();
        t
    }

    fn key_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Key")
            .field("id", Schema::int32())
            .build()
    }

    fn row_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Value")
            .optional()
            .field("id", Schema::int32())
            .field("first_name", Schema::string())
            .field("last_name", Schema::string())
            .field(
                "email",
                SchemaBuilder::new(SchemaType::String)
                    .optional()
                    .default_value("nobody@example.com".into())
                    .build(),
            )
            .build()
    }

    fn source_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("io.debezium.connector.mysql.Source")
            .field("version", Schema::string())
            .field("connector", Schema::string())
            .field("name", Schema::string())
            .field("ts_ms", Schema::int64())
            .field("db", Schema::string())
            .field("table", Schema::optional_string())
            .field("lsn", Schema::optional_int32())
            .build()
    }

    fn transaction_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("event.block")
            .version(1)
            .optional()
            .field("id", Schema::string())
            .field("total_order", Schema::int64())
            .field("data_collection_order", Schema::int64())
            .build()
    }

    fn envelope_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Envelope")
            .version(1)
            .field("before", row_schema())
            .field("after", row_schema())
            .field("source", source_schema())
            .field("op", Schema::string())
            .field("ts_ms", Schema::optional_int64())
            .field("transaction", transaction_schema())
            .build()
    }

    fn row(id: i32, first: &str, email: Option<&str>) -> Value {
        let mut s = Struct::new(row_schema());
        s.put("id", id).unwrap();
        s.put("first_name", first).unwrap();
        s.put("last_name", "Kretchmar").unwrap();
        s.put("email", email.map_or(Value::Null, Value::from))
            .unwrap();
        Value::Struct(s)
    }

    fn source() -> Value {
        let mut s = Struct::new(source_schema());
        s.put("version", "3.1.2.Final").unwrap();
        s.put("connector", "mysql").unwrap();
        s.put("name", "dbserver1").unwrap();
        s.put("ts_ms", 1_588_252_618_953_i64).unwrap();
        s.put("db", "inventory").unwrap();
        s.put("table", "customers").unwrap();
        s.put("lsn", 1234).unwrap();
        Value::Struct(s)
    }

    fn transaction() -> Value {
        let mut s = Struct::new(transaction_schema());
        s.put("id", "571").unwrap();
        s.put("total_order", 42_i64).unwrap();
        s.put("data_collection_order", 42_i64).unwrap();
        Value::Struct(s)
    }

    /// A Debezium change event for customer 1001.
    fn event(op: &str, before: Value, after: Value, tx: Value) -> ConnectRecord {
        let mut env = Struct::new(envelope_schema());
        env.put("before", before).unwrap();
        env.put("after", after).unwrap();
        env.put("source", source()).unwrap();
        env.put("op", op).unwrap();
        env.put("ts_ms", 1_710_032_523_000_i64).unwrap();
        env.put("transaction", tx).unwrap();
        let mut key = Struct::new(key_schema());
        key.put("id", 1001).unwrap();
        ConnectRecord::new(TOPIC, Some(envelope_schema()), Value::Struct(env))
            .with_key(Some(key_schema()), Value::Struct(key))
    }

    fn create() -> ConnectRecord {
        event(
            "c",
            Value::Null,
            row(1001, "Sally", Some("sally@example.com")),
            Value::Null,
        )
    }

    fn update() -> ConnectRecord {
        event(
            "u",
            row(1001, "Sally", Some("sally@example.com")),
            row(1001, "Sal", Some("sal@example.com")),
            transaction(),
        )
    }

    fn delete() -> ConnectRecord {
        event(
            "d",
            row(1001, "Sally", Some("sally@example.com")),
            Value::Null,
            Value::Null,
        )
    }

    fn tombstone() -> ConnectRecord {
        let mut key = Struct::new(key_schema());
        key.put("id", 1001).unwrap();
        ConnectRecord::new(TOPIC, None, Value::Null)
            .with_key(Some(key_schema()), Value::Struct(key))
    }

    fn field<'a>(r: &'a ConnectRecord, name: &str) -> &'a Value {
        r.value
            .as_struct()
            .and_then(|s| s.get_without_default(name))
            .unwrap_or_else(|| panic!("no field {name} in {:?}", r.value))
    }

    fn header<'a>(r: &'a ConnectRecord, name: &str) -> Option<&'a Value> {
        r.headers.last_with_name(name).map(|h| &h.value)
    }

    #[test]
    fn create_update_and_read_become_the_after_state() {
        let mut t = unwrap_with(&[]);
        for (op, record) in [
            ("c", create()),
            ("u", update()),
            (
                "r",
                event("r", Value::Null, row(1001, "Sal", None), Value::Null),
            ),
        ] {
            let key = record.key.clone();
            let out = t.apply(record).unwrap().unwrap();
            assert_eq!(out.topic, TOPIC, "{op}");
            assert_eq!(out.key, key, "the key is untouched ({op})");
            let schema = out.value_schema.clone().unwrap();
            assert_eq!(
                schema.name.as_deref(),
                Some("dbserver1.inventory.customers.Value")
            );
            let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(names, ["id", "first_name", "last_name", "email"]);
            // Debezium rebuilds the schema with SchemaBuilder.struct(): required, like its copies.
            assert!(!schema.optional);
            assert_eq!(field(&out, "id"), &Value::Int32(1001));
        }
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(field(&out, "first_name"), &Value::String("Sal".into()));
        // A null column stays null though its schema has a default (DBZ-5166).
        let out = t
            .apply(event("r", Value::Null, row(1001, "Sal", None), Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(field(&out, "email"), &Value::Null);
    }

    #[test]
    fn record_headers_are_kept() {
        // ExtractNewRecordStateTest.testUnwrapPropagatesRecordHeaders.
        let mut t = unwrap_with(&[]);
        let mut r = create();
        r.headers
            .add_string("application/debezium-test-header", "keep me");
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.headers.len(), 1);
        assert_eq!(
            header(&out, "application/debezium-test-header"),
            Some(&Value::String("keep me".into()))
        );
    }

    #[test]
    fn default_mode_is_tombstone() {
        let mut t = unwrap_with(&[]);
        assert_eq!(
            t.apply(tombstone()).unwrap(),
            None,
            "tombstones are dropped"
        );
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(out.value, Value::Null);
        assert_eq!(
            out.value_schema,
            Some(row_schema()),
            "the `after` schema stays"
        );
        assert!(out.key.as_struct().is_some());
    }

    #[test]
    fn delete_and_tombstone_under_each_mode() {
        // drop: both go.
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, "drop")]);
        assert_eq!(t.apply(delete()).unwrap(), None);
        assert_eq!(t.apply(tombstone()).unwrap(), None);

        // tombstone: the delete becomes a null value, the tombstone goes.
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, "tombstone")]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(
            (out.value_schema.is_some(), out.value.is_null()),
            (true, true)
        );
        assert_eq!(t.apply(tombstone()).unwrap(), None);

        // rewrite: the delete becomes the before state with __deleted=true, the tombstone goes.
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, "rewrite")]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, "first_name"), &Value::String("Sally".into()));
        assert_eq!(field(&out, DELETED_FIELD), &Value::String("true".into()));
        let deleted = out
            .value_schema
            .as_ref()
            .unwrap()
            .field(DELETED_FIELD)
            .unwrap();
        assert_eq!(deleted.schema, Schema::optional_string());
        assert_eq!(t.apply(tombstone()).unwrap(), None);
        let out = t.apply(create()).unwrap().unwrap();
        assert_eq!(field(&out, DELETED_FIELD), &Value::String("false".into()));

        // rewrite-with-tombstone: as rewrite, and the tombstone stays.
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, "rewrite-with-tombstone")]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, DELETED_FIELD), &Value::String("true".into()));
        assert_eq!(t.apply(tombstone()).unwrap(), Some(tombstone()));

        // delete-to-tombstone: the delete loses value and schema, the tombstone goes.
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, "delete-to-tombstone")]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!((out.value_schema, out.value), (None, Value::Null));
        assert!(out.key.as_struct().is_some());
        assert_eq!(t.apply(tombstone()).unwrap(), None);

        // Modes are matched ignoring case, as Debezium's parse does.
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, " Rewrite ")]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, DELETED_FIELD), &Value::String("true".into()));
    }

    #[test]
    fn legacy_keys_map_as_debezium_did() {
        // drop.tombstones=false alone: legacy with delete.handling.mode=drop.
        let mut t = unwrap_with(&[(DROP_TOMBSTONES, "false")]);
        assert_eq!(t.apply(tombstone()).unwrap(), Some(tombstone()));
        assert_eq!(t.apply(delete()).unwrap(), None);

        // delete.handling.mode=none: the delete keeps a null value; tombstones dropped by default.
        let mut t = unwrap_with(&[(HANDLE_DELETES, "none")]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(
            (out.value_schema, out.value),
            (Some(row_schema()), Value::Null)
        );
        assert_eq!(t.apply(tombstone()).unwrap(), None);

        // rewrite, with and without tombstones.
        let mut t = unwrap_with(&[(HANDLE_DELETES, "rewrite")]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, DELETED_FIELD), &Value::String("true".into()));
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(field(&out, DELETED_FIELD), &Value::String("false".into()));
        assert_eq!(t.apply(tombstone()).unwrap(), None);
        let mut t = unwrap_with(&[(HANDLE_DELETES, "rewrite"), (DROP_TOMBSTONES, "false")]);
        assert_eq!(t.apply(tombstone()).unwrap(), Some(tombstone()));

        // The new key takes precedence over both.
        let mut t = unwrap_with(&[
            (HANDLE_TOMBSTONE_DELETES, "drop"),
            (HANDLE_DELETES, "rewrite"),
            (DROP_TOMBSTONES, "false"),
        ]);
        assert_eq!(t.apply(delete()).unwrap(), None);
        assert_eq!(t.apply(tombstone()).unwrap(), None);

        // A blank new key falls back to the legacy pair and its defaults (drop both).
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, " ")]);
        assert_eq!(t.apply(delete()).unwrap(), None);
    }

    #[test]
    fn truncate_events_are_dropped() {
        // ExtractNewRecordStateTest.testTruncateDroppedByDefault.
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, "rewrite")]);
        assert_eq!(
            t.apply(event("t", Value::Null, Value::Null, Value::Null))
                .unwrap(),
            None
        );
    }

    #[test]
    fn add_fields_from_envelope_source_and_transaction() {
        let mut t = unwrap_with(&[(
            ADD_FIELDS,
            "op,table,source.ts_ms,ts_ms, lsn,transaction.id,id",
        )]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(field(&out, "__op"), &Value::String("u".into()));
        assert_eq!(field(&out, "__table"), &Value::String("customers".into()));
        assert_eq!(
            field(&out, "__source_ts_ms"),
            &Value::Int64(1_588_252_618_953)
        );
        assert_eq!(field(&out, "__ts_ms"), &Value::Int64(1_710_032_523_000));
        assert_eq!(field(&out, "__lsn"), &Value::Int32(1234));
        assert_eq!(
            field(&out, "__transaction_id"),
            &Value::String("571".into())
        );
        assert_eq!(
            field(&out, "__id"),
            &Value::String("571".into()),
            "`id` is the transaction's"
        );
        assert_eq!(field(&out, "id"), &Value::Int32(1001));
        let schema = out.value_schema.clone().unwrap();
        for (name, ty) in [
            ("__op", SchemaType::String),
            ("__table", SchemaType::String),
            ("__source_ts_ms", SchemaType::Int64),
            ("__ts_ms", SchemaType::Int64),
        ] {
            let f = schema.field(name).unwrap();
            assert!(f.schema.optional, "{name} is optional");
            assert_eq!(f.schema.schema_type, ty);
        }
        assert_eq!(schema.fields.len(), 4 + 7);

        // No transaction (e.g. snapshot): the field exists and is null.
        let out = t.apply(create()).unwrap().unwrap();
        assert_eq!(field(&out, "__transaction_id"), &Value::Null);
        assert_eq!(field(&out, "__op"), &Value::String("c".into()));
    }

    #[test]
    fn add_fields_prefix_and_renames() {
        // testAddFields (prefix) and testNewFieldAndHeaderMapping (renames).
        let mut t = unwrap_with(&[(ADD_FIELDS, "op , lsn,id"), (ADD_FIELDS_PREFIX, "prefix.")]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(field(&out, "prefix.op"), &Value::String("u".into()));
        assert_eq!(field(&out, "prefix.lsn"), &Value::Int32(1234));
        assert_eq!(field(&out, "prefix.id"), &Value::String("571".into()));

        let mut t = unwrap_with(&[
            (
                ADD_FIELDS,
                "notExisting,op:OP, source.ts_ms:EVENT_TS, transaction.total_order:TOTAL_ORDER",
            ),
            (ADD_FIELDS_PREFIX, ""),
        ]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(field(&out, "OP"), &Value::String("u".into()));
        assert_eq!(field(&out, "EVENT_TS"), &Value::Int64(1_588_252_618_953));
        assert_eq!(field(&out, "TOTAL_ORDER"), &Value::Int64(42));
        let schema = out.value_schema.unwrap();
        assert!(
            schema.field("notExisting").is_none(),
            "missing fields are skipped"
        );
        assert_eq!(schema.fields.len(), 4 + 3);
    }

    #[test]
    fn add_fields_on_rewritten_deletes() {
        // testAddFieldsHandleDeleteRewrite / testAddFieldsSpecifyStructHandleDeleteRewrite.
        let mut t = unwrap_with(&[
            (HANDLE_TOMBSTONE_DELETES, "rewrite"),
            (ADD_FIELDS, "op,source.lsn"),
        ]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, DELETED_FIELD), &Value::String("true".into()));
        assert_eq!(field(&out, "__op"), &Value::String("d".into()));
        assert_eq!(field(&out, "__source_lsn"), &Value::Int32(1234));
        // A null-valued delete gets no fields.
        let mut t = unwrap_with(&[(ADD_FIELDS, "op")]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(
            (out.value_schema, out.value),
            (Some(row_schema()), Value::Null)
        );
    }

    #[test]
    fn add_fields_name_clash_is_a_data_error() {
        let mut t = unwrap_with(&[(ADD_FIELDS, "op,ts_ms:op")]);
        let err = t.apply(create()).unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)), "{err:?}");
        assert_eq!(
            err.message(),
            "Cannot create field because of field name duplication __op"
        );
    }

    #[test]
    fn add_headers() {
        // testAddHeaders, testAddHeadersSpecifyStruct, testAddHeadersForMissingOptionalField.
        let mut t = unwrap_with(&[(ADD_HEADERS, "op,source.ts_ms,transaction.id")]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(out.headers.len(), 3);
        assert_eq!(header(&out, "__op"), Some(&Value::String("u".into())));
        assert_eq!(
            header(&out, "__source_ts_ms"),
            Some(&Value::Int64(1_588_252_618_953))
        );
        assert_eq!(
            header(&out, "__transaction_id"),
            Some(&Value::String("571".into()))
        );
        let h = out.headers.last_with_name("__source_ts_ms").unwrap();
        assert_eq!(h.schema, Some(Schema::optional_int64()));
        assert!(
            out.value_schema.unwrap().field("__op").is_none(),
            "headers only"
        );

        let out = t.apply(create()).unwrap().unwrap();
        assert_eq!(out.headers.len(), 3);
        assert_eq!(header(&out, "__transaction_id"), Some(&Value::Null));

        let mut t = unwrap_with(&[
            (ADD_HEADERS, "op,source.lsn:LSN"),
            (ADD_HEADERS_PREFIX, "prefix."),
        ]);
        let out = t.apply(update()).unwrap().unwrap();
        assert_eq!(header(&out, "prefix.op"), Some(&Value::String("u".into())));
        assert_eq!(header(&out, "prefix.LSN"), Some(&Value::Int32(1234)));
    }

    #[test]
    fn add_headers_on_deletes_and_tombstones() {
        // testAddHeadersHandleDeleteRewriteAndTombstone.
        let mut t = unwrap_with(&[
            (HANDLE_TOMBSTONE_DELETES, "rewrite-with-tombstone"),
            (ADD_HEADERS, "op,source.lsn"),
        ]);
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field(&out, DELETED_FIELD), &Value::String("true".into()));
        assert_eq!(header(&out, "__op"), Some(&Value::String("d".into())));
        assert_eq!(header(&out, "__source_lsn"), Some(&Value::Int32(1234)));
        let out = t.apply(tombstone()).unwrap().unwrap();
        assert_eq!(out.value, Value::Null);
        assert_eq!(out.headers.len(), 1, "a tombstone only gets the operation");
        assert_eq!(header(&out, "__op"), Some(&Value::String("d".into())));
    }

    #[test]
    fn route_by_field() {
        // testAddTopicRoutingField, testUpdateTopicRoutingField, testDeleteTopicRoutingField.
        let mut t = unwrap_with(&[(ROUTE_BY_FIELD, "first_name")]);
        assert_eq!(t.apply(create()).unwrap().unwrap().topic, "Sally");
        assert_eq!(t.apply(update()).unwrap().unwrap().topic, "Sal");
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(out.topic, "Sally", "deletes route by the before state");
        assert_eq!(out.value, Value::Null);

        // A null or blank value keeps the topic.
        let mut t = unwrap_with(&[(ROUTE_BY_FIELD, "email")]);
        let out = t
            .apply(event("c", Value::Null, row(1, "A", None), Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(out.topic, TOPIC);

        let mut t = unwrap_with(&[(ROUTE_BY_FIELD, "id")]);
        let err = t.apply(create()).unwrap_err();
        assert_eq!(err.message(), "Field 'id' is not of type STRING");
        let mut t = unwrap_with(&[(ROUTE_BY_FIELD, "nope")]);
        let err = t.apply(create()).unwrap_err();
        assert_eq!(err.message(), "nope is not a valid field name");
    }

    #[test]
    fn non_envelopes_pass_through() {
        // testIgnoreUnknownRecord, testSchemaChangeEventWithOperationHeader, testAddHeadersForNonEnvelopeRecord.
        let mut t = unwrap_with(&[(ADD_HEADERS, "op,source.lsn"), (ADD_FIELDS, "op")]);
        let heartbeat_schema = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.Heartbeat")
            .field("ts_ms", Schema::int64())
            .build();
        let heartbeat = Struct::new(heartbeat_schema.clone())
            .with("ts_ms", 1_i64)
            .unwrap();
        let unnamed = SchemaBuilder::struct_().field("id", Schema::int8()).build();
        let records = [
            ConnectRecord::new("hb", Some(heartbeat_schema), Value::Struct(heartbeat)),
            ConnectRecord::new(
                "dummy",
                Some(unnamed.clone()),
                Value::Struct(Struct::new(unnamed).with("id", Value::Int8(1)).unwrap()),
            ),
            ConnectRecord::new("schemaless", None, Value::String("plain".into())),
            ConnectRecord::new(
                "map",
                None,
                Value::Map(vec![(
                    Value::String("op".into()),
                    Value::String("c".into()),
                )]),
            ),
        ];
        for r in records {
            assert_eq!(t.apply(r.clone()).unwrap(), Some(r));
        }
    }

    #[test]
    fn schemas_are_cached_per_input_schema_and_operation() {
        let mut t = unwrap_with(&[(ADD_FIELDS, "op,source.ts_ms")]);
        let first = t.apply(create()).unwrap().unwrap();
        let second = t.apply(create()).unwrap().unwrap();
        assert!(Arc::ptr_eq(
            first.value_schema.as_ref().unwrap(),
            second.value_schema.as_ref().unwrap()
        ));
        assert_eq!(t.cache.entries.len(), 1);
        t.apply(update()).unwrap().unwrap();
        assert_eq!(
            t.cache.entries.len(),
            2,
            "keyed by operation too, as Debezium does"
        );

        // A new column (DBZ-6901) yields a new schema.
        let wider_row = row_schema()
            .to_builder()
            .field("started_at", Schema::optional_int64())
            .build();
        let wider_envelope = envelope_schema()
            .to_builder()
            .field("before", wider_row.clone())
            .field("after", wider_row.clone())
            .build();
        let mut after = Struct::new(wider_row);
        after.put("id", 1).unwrap();
        after.put("first_name", "A").unwrap();
        after.put("last_name", "B").unwrap();
        after.put("started_at", 1_694_587_158_123_i64).unwrap();
        let mut env = Struct::new(wider_envelope.clone());
        env.put("after", after).unwrap();
        env.put("source", source()).unwrap();
        env.put("op", "c").unwrap();
        let out = t
            .apply(ConnectRecord::new(
                TOPIC,
                Some(wider_envelope),
                Value::Struct(env),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(field(&out, "started_at"), &Value::Int64(1_694_587_158_123));
        assert_eq!(field(&out, "__op"), &Value::String("c".into()));
        assert_eq!(t.cache.entries.len(), 3);
    }

    #[test]
    fn replace_null_with_default_applies_to_rewrites() {
        // testUnwrapCreateRecordRewriteWithOptionalDefaultValue(AndNullReplaceWithDefault), DBZ-7094.
        let created = || event("c", Value::Null, row(1, "A", None), Value::Null);
        let mut t = unwrap_with(&[(HANDLE_TOMBSTONE_DELETES, "rewrite")]);
        let out = t.apply(created()).unwrap().unwrap();
        assert_eq!(
            field(&out, "email"),
            &Value::String("nobody@example.com".into())
        );
        let mut t = unwrap_with(&[
            (HANDLE_TOMBSTONE_DELETES, "rewrite"),
            (REPLACE_NULL_WITH_DEFAULT, "false"),
        ]);
        let out = t.apply(created()).unwrap().unwrap();
        assert_eq!(field(&out, "email"), &Value::Null);
    }

    fn with_drop_header(mut r: ConnectRecord, names: &[&str]) -> ConnectRecord {
        let schema = SchemaBuilder::array(Schema::optional_string())
            .optional()
            .name("drop-fields")
            .build();
        let names = names.iter().map(|n| Value::String((*n).into())).collect();
        r.headers
            .add("drop-fields", Some(schema), Value::Array(names));
        r
    }

    fn field_names(schema: &Option<SchemaRef>) -> Vec<String> {
        schema
            .as_ref()
            .map(|s| s.fields.iter().map(|f| f.name.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn drop_fields_named_in_a_header() {
        // dropFieldsFromValue(AndKey)With(out)SchemaCompatibility, DBZ-5283.
        let names = ["id", "email"];
        let mut t = unwrap_with(&[(DROP_FIELDS_HEADER, "drop-fields")]);
        let out = t
            .apply(with_drop_header(update(), &names))
            .unwrap()
            .unwrap();
        assert_eq!(
            field_names(&out.value_schema),
            ["id", "first_name", "last_name"],
            "only optional fields go"
        );
        assert_eq!(field_names(&out.key_schema), ["id"]);

        let mut t = unwrap_with(&[
            (DROP_FIELDS_HEADER, "drop-fields"),
            (DROP_FIELDS_KEEP_SCHEMA_COMPATIBLE, "false"),
        ]);
        let out = t
            .apply(with_drop_header(update(), &names))
            .unwrap()
            .unwrap();
        assert_eq!(field_names(&out.value_schema), ["first_name", "last_name"]);
        assert_eq!(
            field_names(&out.key_schema),
            ["id"],
            "the key is kept by default"
        );

        let mut t = unwrap_with(&[
            (DROP_FIELDS_HEADER, "drop-fields"),
            (DROP_FIELDS_KEEP_SCHEMA_COMPATIBLE, "false"),
            (DROP_FIELDS_FROM_KEY, "true"),
        ]);
        let out = t
            .apply(with_drop_header(update(), &names))
            .unwrap()
            .unwrap();
        assert!(field_names(&out.key_schema).is_empty());
        assert_eq!(
            out.key,
            Value::Struct(Struct::new(out.key_schema.clone().unwrap()))
        );

        // Rewritten deletes drop too, before the added fields are inserted.
        let mut t = unwrap_with(&[
            (DROP_FIELDS_HEADER, "drop-fields"),
            (HANDLE_TOMBSTONE_DELETES, "rewrite"),
            (ADD_FIELDS, "op"),
        ]);
        let out = t
            .apply(with_drop_header(delete(), &names))
            .unwrap()
            .unwrap();
        assert_eq!(
            field_names(&out.value_schema),
            ["id", "first_name", "last_name", DELETED_FIELD, "__op"]
        );
        // Without the header nothing changes.
        let out = t.apply(delete()).unwrap().unwrap();
        assert_eq!(field_names(&out.value_schema).len(), 6);
    }

    #[test]
    fn malformed_envelopes_are_data_errors() {
        let no_after = SchemaBuilder::struct_()
            .name("x.Envelope")
            .field("op", Schema::string())
            .build();
        let mut t = unwrap_with(&[]);
        let r = ConnectRecord::new(
            "t",
            Some(no_after.clone()),
            Value::Struct(Struct::new(no_after.clone()).with("op", "c").unwrap()),
        );
        let err = t.apply(r).unwrap_err();
        assert_eq!(err.message(), "Unknown field: after");
        let err = t
            .apply(ConnectRecord::new(
                "t",
                Some(no_after),
                Value::String("x".into()),
            ))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Only Struct objects supported for [field extraction], found: java.lang.String"
        );
    }

    #[test]
    fn config_validation() {
        // shouldRejectInvalidEnumValueForDeleteHandlingMode.
        let mut t = ExtractNewRecordState::default();
        let err = t
            .configure(&props(&[(HANDLE_TOMBSTONE_DELETES, "jbsdfkjsd")]))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Config(_)));
        assert_eq!(
            err.message(),
            "Unable to validate config. Invalid value jbsdfkjsd for configuration \
             delete.tombstone.handling.mode: Value must be one of drop, tombstone, \
             rewrite-with-tombstone, rewrite, delete-to-tombstone"
        );
        let errors = collect_errors(&t.config().validate(&props(&[(HANDLE_DELETES, "keep")])));
        assert_eq!(
            errors,
            [
                "Invalid value keep for configuration delete.handling.mode: Value must be one of drop, none, rewrite"
            ]
        );
        let err = t.configure(&props(&[(ADD_FIELDS, "op:a:b")])).unwrap_err();
        assert_eq!(err.message(), "Unexpected field name: op:a:b");
        assert!(t.apply(create()).is_err(), "still unconfigured");

        let def = t.config();
        let mode = def.find(HANDLE_TOMBSTONE_DELETES).unwrap();
        assert_eq!(mode.default_string().as_deref(), Some("tombstone"));
        assert_eq!(
            def.find(DROP_TOMBSTONES)
                .unwrap()
                .default_string()
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            def.find(HANDLE_DELETES)
                .unwrap()
                .default_string()
                .as_deref(),
            Some("drop")
        );
        assert_eq!(
            def.find(ADD_FIELDS_PREFIX)
                .unwrap()
                .default_string()
                .as_deref(),
            Some("__")
        );
        assert_eq!(
            def.find(ADD_HEADERS_PREFIX)
                .unwrap()
                .default_string()
                .as_deref(),
            Some("__")
        );
        assert_eq!(def.find(DROP_FIELDS_HEADER).unwrap().default_string(), None);
        assert!(
            def.find(REPLACE_NULL_WITH_DEFAULT).is_none(),
            "read raw, as Debezium does"
        );
    }

    #[test]
    fn field_reference_parsing() {
        let r = FieldReference::parse("__", "source.ts_ms").unwrap();
        assert_eq!(
            (
                r.struct_name.as_deref(),
                r.field.as_str(),
                r.new_field.as_str()
            ),
            (Some("source"), "ts_ms", "__source_ts_ms")
        );
        let r = FieldReference::parse("__", "ts_us").unwrap();
        assert_eq!((r.struct_name, r.new_field.as_str()), (None, "__ts_us"));
        let r = FieldReference::parse("__", "total_order").unwrap();
        assert_eq!(
            (r.struct_name.as_deref(), r.new_field.as_str()),
            (Some("transaction"), "__total_order")
        );
        let r = FieldReference::parse("", "source.ts_ms:EVENT_TS").unwrap();
        assert_eq!(r.new_field, "EVENT_TS");
        // Java's split drops the trailing empty alias.
        let r = FieldReference::parse("__", "op:").unwrap();
        assert_eq!(r.new_field, "__op");
        assert!(FieldReference::parse("__", ".").is_err());
    }
}
