//! `ExtractField`: replaces the key or value with one of its fields (KIP-821 paths with `field.syntax.version=V2`).
use causeway_api::config::{ConfigDef, ConfigType, Importance, validators};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, Field, Schema, SchemaType, Struct, Value};

use crate::hoist_field::Side;

const FIELD_CONFIG: &str = "field";
const FIELD_SYNTAX_VERSION_CONFIG: &str = "field.syntax.version";
const FIELD_SYNTAX_VERSION_DOC: &str = "Defines the version of the syntax to access fields. \
If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. \
If set to `V2`, the syntax will support accessing nested elements. \
To access nested elements, dotted notation is used. \
If dots are already included in the field name, \
then backtick pairs can be used to wrap field names containing dots. \
E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map \
the following format can be used to access its elements: \"`foo.bar`.baz\".";
const PURPOSE: &str = "field extraction";
const NESTED: &str = "nested field access";
const KEY_CONVERTER_REPLACE_NULL: &str = "key.converter.replace.null.with.default";
const VALUE_CONVERTER_REPLACE_NULL: &str = "value.converter.replace.null.with.default";

/// `org.apache.kafka.connect.transforms.ExtractField$Key` and `$Value`: replaces the key or value with the
/// named field of the Struct (with a schema) or Map (schemaless). Null keys or values pass through as null.
pub struct ExtractField {
    side: Side,
    path: Option<FieldPath>,
    original_path: String,
    replace_null_with_default: bool,
}

impl ExtractField {
    /// `ExtractField$Key`.
    pub fn key() -> Self {
        Self::new(Side::Key)
    }

    /// `ExtractField$Value`.
    pub fn value() -> Self {
        Self::new(Side::Value)
    }

    fn new(side: Side) -> Self {
        ExtractField {
            side,
            path: None,
            original_path: String::new(),
            replace_null_with_default: true,
        }
    }
}

/// Apache's `SingleFieldPath`: one or more steps into nested Structs or Maps.
#[derive(Debug, Clone, PartialEq)]
struct FieldPath {
    steps: Vec<String>,
}

impl FieldPath {
    fn v1(path: &str) -> Self {
        FieldPath {
            steps: vec![path.to_owned()],
        }
    }

    /// `SingleFieldPath.buildFieldPathV2`: dots separate steps; a step wrapped in backticks may contain dots,
    /// and a backslash before a closing backtick followed by a dot escapes it.
    fn v2(path: &str) -> Result<Self> {
        let b = path.as_bytes();
        let len = b.len();
        let mut steps = Vec::new();
        let mut idx = 0usize;
        let incomplete = |backtick_at: usize| {
            // Java reports the position in UTF-16 units.
            let pos = path[..backtick_at].encode_utf16().count();
            ConnectError::config(format!(
                "Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {pos} to escape it"
            ))
        };
        while idx < len {
            if b[idx] != b'`' {
                let start = idx;
                match path[idx..].find('.') {
                    Some(off) => {
                        steps.push(path[start..idx + off].to_owned());
                        idx += off + 1;
                    }
                    None => {
                        steps.push(path[start..].to_owned());
                        break;
                    }
                }
            } else {
                let backtick_at = idx;
                idx += 1;
                let mut field = String::new();
                let mut start = idx;
                loop {
                    idx = match path[idx..].find('`') {
                        Some(off) => idx + off,
                        None => return Err(incomplete(backtick_at)),
                    };
                    let escaped = b[idx - 1] == b'\\';
                    if idx + 1 >= len {
                        if escaped {
                            return Err(incomplete(backtick_at));
                        }
                        field.push_str(&path[start..idx]);
                        steps.push(field);
                        idx += 1;
                        break;
                    }
                    if b[idx + 1] != b'.' {
                        idx += 1;
                        continue;
                    }
                    if escaped {
                        field.push_str(&path[start..idx - 1]);
                        field.push('`');
                        idx += 1;
                        start = idx;
                        continue;
                    }
                    field.push_str(&path[start..idx]);
                    steps.push(field);
                    idx += 2;
                    break;
                }
            }
        }
        if path.ends_with('.') {
            steps.push(String::new());
        }
        if steps.is_empty() {
            // Java would fail later with an IndexOutOfBoundsException; treat "" as the empty field name.
            steps.push(String::new());
        }
        Ok(FieldPath { steps })
    }

    fn split(&self) -> (&[String], &str) {
        let (last, init) = self.steps.split_last().expect("at least one step");
        (init, last)
    }

    /// `SingleFieldPath.fieldFrom`: the field at this path in a struct schema, if any.
    fn field_from<'a>(&self, schema: &'a Schema) -> Result<Option<&'a Field>> {
        let (init, last) = self.split();
        let mut current = schema;
        for step in init {
            match struct_field(current, step)? {
                Some(f) => current = &f.schema,
                None => return Ok(None),
            }
        }
        struct_field(current, last)
    }

    /// `SingleFieldPath.valueFrom(Struct)`, with or without applying field defaults.
    fn value_from_struct(&self, s: &Struct, with_default: bool) -> Result<Value> {
        let get = |s: &Struct, name: &str| {
            if with_default {
                s.get(name).cloned()
            } else {
                s.get_without_default(name).cloned()
            }
        };
        let (init, last) = self.split();
        let mut current = s;
        for step in init {
            if current.schema().field(step).is_none() {
                return Ok(Value::Null);
            }
            match current.get(step) {
                None | Some(Value::Null) => return Ok(Value::Null),
                Some(Value::Struct(inner)) => current = inner,
                Some(other) => {
                    return Err(ConnectError::data(format!(
                        "Only Struct objects supported for [{NESTED}], found: {}",
                        other.type_name()
                    )));
                }
            }
        }
        Ok(get(current, last).unwrap_or(Value::Null))
    }

    /// `SingleFieldPath.valueFrom(Map)`.
    fn value_from_map(&self, map: &Value) -> Result<Value> {
        let (init, last) = self.split();
        let mut current = map;
        for step in init {
            match current.map_get(step) {
                None | Some(Value::Null) => return Ok(Value::Null),
                Some(m @ Value::Map(_)) => current = m,
                Some(other) => {
                    return Err(ConnectError::data(format!(
                        "Only Map objects supported in absence of schema for [{NESTED}], found: {}",
                        other.type_name()
                    )));
                }
            }
        }
        Ok(current.map_get(last).cloned().unwrap_or(Value::Null))
    }
}

/// Java's `Schema.field(name)`, which throws on non-struct schemas.
fn struct_field<'a>(schema: &'a Schema, name: &str) -> Result<Option<&'a Field>> {
    if schema.schema_type != SchemaType::Struct {
        return Err(ConnectError::data(
            "Cannot look up fields on non-struct type",
        ));
    }
    Ok(schema.field(name))
}

impl Transformation for ExtractField {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        let original = parsed.string(FIELD_CONFIG).unwrap_or_default().to_owned();
        let version = parsed
            .string(FIELD_SYNTAX_VERSION_CONFIG)
            .unwrap_or("V1")
            .to_ascii_uppercase();
        self.path = Some(match version.as_str() {
            "V2" => FieldPath::v2(&original)?,
            _ => FieldPath::v1(&original),
        });
        self.original_path = original;
        // Apache reads these raw from the transform's props, not through its ConfigDef; absent means true.
        let key = match self.side {
            Side::Key => KEY_CONVERTER_REPLACE_NULL,
            Side::Value => VALUE_CONVERTER_REPLACE_NULL,
        };
        self.replace_null_with_default = props
            .get(key)
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let Some(path) = &self.path else {
            return Err(ConnectError::config("ExtractField is not configured"));
        };
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let extracted = match &value {
                    Value::Null => Value::Null,
                    Value::Map(_) => path.value_from_map(&value)?,
                    other => {
                        return Err(ConnectError::data(format!(
                            "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                            other.type_name()
                        )));
                    }
                };
                self.side.put(&mut record, None, extracted);
            }
            Some(schema) => {
                let s = match &value {
                    Value::Null => None,
                    Value::Struct(s) => Some(s),
                    other => {
                        return Err(ConnectError::data(format!(
                            "Only Struct objects supported for [{PURPOSE}], found: {}",
                            other.type_name()
                        )));
                    }
                };
                let Some(field) = path.field_from(&schema)? else {
                    // Java: IllegalArgumentException, which the runtime treats like a DataException.
                    return Err(ConnectError::data(format!(
                        "Unknown field: {}",
                        self.original_path
                    )));
                };
                let extracted = match s {
                    None => Value::Null,
                    Some(s) => path.value_from_struct(s, self.replace_null_with_default)?,
                };
                let field_schema = field.schema.clone();
                self.side.put(&mut record, Some(field_schema), extracted);
            }
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
            .define_required(
                FIELD_CONFIG,
                ConfigType::String,
                Importance::Medium,
                "Field name to extract.",
            )
            .define(
                FIELD_SYNTAX_VERSION_CONFIG,
                ConfigType::String,
                "V1",
                Importance::High,
                FIELD_SYNTAX_VERSION_DOC,
            )
            .with_last(|k| k.validator(validators::one_of_ignore_case(&["V1", "V2"])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::map;
    use causeway_data::SchemaBuilder;

    fn extract(mut t: ExtractField, props: &[(&str, &str)]) -> ExtractField {
        let props: Props = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.configure(&props).unwrap();
        t
    }

    #[test]
    fn schemaless_key() {
        // Apache's ExtractFieldTest.schemaless.
        let mut t = extract(ExtractField::key(), &[("field", "magic")]);
        let r = ConnectRecord::new("test", None, Value::Null)
            .with_key(None, map(vec![("magic", Value::Int32(42))]));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.key_schema, None);
        assert_eq!(out.key, Value::Int32(42));
    }

    #[test]
    fn schemaless_missing_field_and_null_and_non_map() {
        let mut t = extract(ExtractField::value(), &[("field", "magic")]);
        let out = t
            .apply(ConnectRecord::new("t", None, map(vec![("x", 1.into())])))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, Value::Null, "absent key: Map.get gives null");
        let out = t
            .apply(ConnectRecord::new("t", None, Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, Value::Null, "tombstones pass through");
        let err = t
            .apply(ConnectRecord::new("t", None, Value::Int32(1)))
            .unwrap_err();
        assert!(matches!(err, ConnectError::Data(_)));
        assert_eq!(
            err.to_string(),
            "Only Map objects supported in absence of schema for [field extraction], found: java.lang.Integer"
        );
    }

    #[test]
    fn schemaful_key() {
        // Apache's ExtractFieldTest.withSchema.
        let mut t = extract(ExtractField::key(), &[("field", "magic")]);
        let schema = SchemaBuilder::struct_()
            .field("magic", Schema::int32())
            .build();
        let key = Struct::new(schema.clone()).with("magic", 42).unwrap();
        let r = ConnectRecord::new("test", None, Value::Null)
            .with_key(Some(schema), Value::Struct(key));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.key_schema, Some(Schema::int32()));
        assert_eq!(out.key, Value::Int32(42));
    }

    #[test]
    fn schemaful_null_unknown_and_non_struct() {
        let mut t = extract(ExtractField::key(), &[("field", "magic")]);
        let schema = SchemaBuilder::struct_()
            .field("magic", Schema::int32())
            .optional()
            .build();
        // Apache's testNullWithSchema: the field's schema, a null value.
        let r = ConnectRecord::new("t", None, Value::Null).with_key(Some(schema), Value::Null);
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.key_schema, Some(Schema::int32()));
        assert_eq!(out.key, Value::Null);

        // Apache's nonExistentFieldWithSchemaShouldFail.
        let mut t = extract(ExtractField::key(), &[("field", "nonexistent")]);
        let schema = SchemaBuilder::struct_()
            .field("magic", Schema::int32())
            .build();
        let key = Struct::new(schema.clone()).with("magic", 42).unwrap();
        let r = ConnectRecord::new("t", None, Value::Null)
            .with_key(Some(schema.clone()), Value::Struct(key));
        let err = t.apply(r).unwrap_err();
        assert_eq!(err.to_string(), "Unknown field: nonexistent");

        let r = ConnectRecord::new("t", None, Value::Null).with_key(Some(schema), "x".into());
        let err = t.apply(r).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Only Struct objects supported for [field extraction], found: java.lang.String"
        );
    }

    #[test]
    fn field_defaults_and_converter_replace_null_flag() {
        let schema = SchemaBuilder::struct_()
            .field(
                "f",
                SchemaBuilder::new(SchemaType::Int32)
                    .optional()
                    .default_value(Value::Int32(7))
                    .build(),
            )
            .build();
        let rec = || {
            ConnectRecord::new(
                "t",
                Some(schema.clone()),
                Value::Struct(Struct::new(schema.clone())),
            )
        };
        let mut t = extract(ExtractField::value(), &[("field", "f")]);
        assert_eq!(t.apply(rec()).unwrap().unwrap().value, Value::Int32(7));
        let mut t = extract(
            ExtractField::value(),
            &[
                ("field", "f"),
                ("value.converter.replace.null.with.default", "false"),
            ],
        );
        assert_eq!(t.apply(rec()).unwrap().unwrap().value, Value::Null);
        // The key-side flag does not affect the value transform.
        let mut t = extract(
            ExtractField::value(),
            &[
                ("field", "f"),
                ("key.converter.replace.null.with.default", "false"),
            ],
        );
        assert_eq!(t.apply(rec()).unwrap().unwrap().value, Value::Int32(7));
    }

    #[test]
    fn v1_treats_dots_literally() {
        let mut t = extract(ExtractField::value(), &[("field", "a.b")]);
        let out = t
            .apply(ConnectRecord::new(
                "t",
                None,
                map(vec![("a.b", 1.into()), ("a", map(vec![("b", 2.into())]))]),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, Value::Int32(1));
    }

    #[test]
    fn v2_nested_paths() {
        // Apache's ExtractFieldTest.schemalessAndNestedPath / withSchemaAndNestedPath.
        let mut t = extract(
            ExtractField::value(),
            &[("field", "magic.foo"), ("field.syntax.version", "v2")],
        );
        let value = map(vec![("magic", map(vec![("foo", Value::Int32(42))]))]);
        let out = t
            .apply(ConnectRecord::new("t", None, value))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, Value::Int32(42));

        let inner = SchemaBuilder::struct_()
            .field("foo", Schema::int32())
            .optional()
            .build();
        let outer = SchemaBuilder::struct_()
            .field("magic", inner.clone())
            .build();
        let v = Struct::new(outer.clone())
            .with("magic", Struct::new(inner.clone()).with("foo", 42).unwrap())
            .unwrap();
        let out = t
            .apply(ConnectRecord::new("t", Some(outer.clone()), v.into()))
            .unwrap()
            .unwrap();
        assert_eq!(out.value_schema, Some(Schema::int32()));
        assert_eq!(out.value, Value::Int32(42));

        // A null intermediate struct gives null.
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(outer.clone()),
                Struct::new(outer).into(),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, Value::Null);

        // A non-map intermediate value fails.
        let err = t
            .apply(ConnectRecord::new(
                "t",
                None,
                map(vec![("magic", 1.into())]),
            ))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Only Map objects supported in absence of schema for [nested field access], found: java.lang.Integer"
        );

        // Missing nested field in a schema.
        let mut t = extract(
            ExtractField::value(),
            &[("field", "magic.nope"), ("field.syntax.version", "V2")],
        );
        let out_schema = SchemaBuilder::struct_().field("magic", inner).build();
        let v = Struct::new(out_schema.clone());
        let err = t
            .apply(ConnectRecord::new("t", Some(out_schema), v.into()))
            .unwrap_err();
        assert_eq!(err.to_string(), "Unknown field: magic.nope");
    }

    #[test]
    fn v2_path_parsing() {
        let steps = |p: &str| FieldPath::v2(p).unwrap().steps;
        assert_eq!(steps("foo"), vec!["foo"]);
        assert_eq!(steps("foo.bar"), vec!["foo", "bar"]);
        assert_eq!(steps("`foo.bar`.baz"), vec!["foo.bar", "baz"]);
        assert_eq!(steps("foo.`bar.baz`"), vec!["foo", "bar.baz"]);
        assert_eq!(steps("foo."), vec!["foo", ""]);
        assert_eq!(steps("`foo\\`.bar`"), vec!["foo`.bar"]);
        assert_eq!(steps("`fo`o`.bar"), vec!["fo`o", "bar"]);
        let err = FieldPath::v2("`foo.bar").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Incomplete backtick pair in path: [`foo.bar], consider adding a backslash before backtick at position 0 to escape it"
        );
        assert!(matches!(err, ConnectError::Config(_)));
        assert!(FieldPath::v2("foo.`bar\\`").is_err());
    }

    #[test]
    fn config_errors() {
        let mut t = ExtractField::value();
        let err = t.configure(&Props::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Missing required configuration \"field\""),
            "{err}"
        );
        let props: Props = [("field", "a"), ("field.syntax.version", "V3")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let err = t.configure(&props).unwrap_err();
        assert!(
            err.to_string()
                .contains("String must be one of (case insensitive): V1, V2"),
            "{err}"
        );
    }
}
