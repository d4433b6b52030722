//! `ReplaceField`: filters (include/exclude) and renames the fields of a Struct or Map key or value.
use std::collections::HashMap;

use causeway_api::config::{ConfigDef, ConfigType, Importance, ParsedValue, validators};
use causeway_api::{ConnectError, Props, Result, Transformation};
use causeway_data::{ConnectRecord, SchemaBuilder, SchemaRef, Struct, Value};

use crate::hoist_field::{SchemaCache, Side};

const EXCLUDE: &str = "exclude";
const INCLUDE: &str = "include";
const RENAMES: &str = "renames";
const REPLACE_NULL_WITH_DEFAULT: &str = "replace.null.with.default";
const PURPOSE: &str = "field replacement";

/// Java's `String.split(":")`: splits on every colon and drops trailing empty strings.
fn java_split_colon(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(':').collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts == [""] && !s.is_empty() {
        // Java: ":".split(":") is an empty array.
        parts.clear();
    }
    parts
}

/// Parses `old:new` pairs; the error is Apache's `ConfigException(renames, mappings, …)` message.
fn parse_rename_mappings(
    mappings: &[String],
) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for mapping in mappings {
        let parts = java_split_colon(mapping);
        if parts.len() != 2 {
            return Err(format!(
                "Invalid value [{}] for configuration {RENAMES}: Invalid rename mapping: {mapping}",
                mappings.join(", ")
            ));
        }
        out.retain(|(from, _)| from != parts[0]);
        out.push((parts[0].to_owned(), parts[1].to_owned()));
    }
    Ok(out)
}

/// `org.apache.kafka.connect.transforms.ReplaceField$Key` and `$Value`: drops fields (`exclude`), keeps only some
/// (`include`) and renames others (`renames`), on a Struct (with a schema) or Map (schemaless).
pub struct ReplaceField {
    side: Side,
    exclude: Vec<String>,
    include: Vec<String>,
    renames: HashMap<String, String>,
    reverse_renames: HashMap<String, String>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl ReplaceField {
    /// `ReplaceField$Key`.
    pub fn key() -> Self {
        Self::new(Side::Key)
    }

    /// `ReplaceField$Value`.
    pub fn value() -> Self {
        Self::new(Side::Value)
    }

    fn new(side: Side) -> Self {
        ReplaceField {
            side,
            exclude: Vec::new(),
            include: Vec::new(),
            renames: HashMap::new(),
            reverse_renames: HashMap::new(),
            replace_null_with_default: true,
            cache: SchemaCache::default(),
        }
    }

    fn filter(&self, name: &str) -> bool {
        !self.exclude.iter().any(|e| e == name)
            && (self.include.is_empty() || self.include.iter().any(|i| i == name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }

    fn reverse_renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.reverse_renames.get(name).map_or(name, String::as_str)
    }

    fn apply_schemaless(&self, value: Value) -> Result<Value> {
        let Value::Map(entries) = value else {
            return Err(ConnectError::data(format!(
                "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        };
        let mut updated = Value::Map(Vec::with_capacity(entries.len()));
        for (k, v) in entries {
            match k {
                Value::String(name) => {
                    if self.filter(&name) {
                        updated.map_insert(self.renamed(&name), v);
                    }
                }
                // Apache's map is `Map<String, Object>`; keep non-string keys when nothing is included by name.
                other => {
                    if self.include.is_empty()
                        && let Value::Map(m) = &mut updated
                    {
                        m.push((other, v));
                    }
                }
            }
        }
        Ok(updated)
    }

    fn make_updated_schema(&self, schema: &SchemaRef) -> Result<SchemaRef> {
        let mut builder = SchemaBuilder::struct_()
            .set_name(schema.name.clone())
            .set_version(schema.version)
            .set_doc(schema.doc.clone())
            .parameters(schema.parameters.clone());
        for field in &schema.fields {
            if self.filter(&field.name) {
                let name = self.renamed(&field.name);
                if builder.field_names().any(|n| n == name) {
                    return Err(ConnectError::data(format!(
                        "Cannot create field because of field name duplication {name}"
                    )));
                }
                builder = builder.field(name, field.schema.clone());
            }
        }
        Ok(builder.build())
    }

    fn apply_with_schema(&mut self, value: Value) -> Result<(SchemaRef, Value)> {
        let Value::Struct(value) = value else {
            return Err(ConnectError::data(format!(
                "Only Struct objects supported for [{PURPOSE}], found: {}",
                value.type_name()
            )));
        };
        let original = value.schema().clone();
        let mut cache = std::mem::take(&mut self.cache);
        let updated_schema =
            cache.get_or_try_insert(&original, || self.make_updated_schema(&original));
        self.cache = cache;
        let updated_schema = updated_schema?;
        let mut updated = Struct::new(updated_schema.clone());
        for field in &updated_schema.fields {
            let from = self.reverse_renamed(&field.name);
            let v = if self.replace_null_with_default {
                value.get(from)
            } else {
                value.get_without_default(from)
            };
            updated.put(&field.name, v.cloned().unwrap_or(Value::Null))?;
        }
        Ok((updated_schema, Value::Struct(updated)))
    }
}

impl Transformation for ReplaceField {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        self.exclude = parsed.list(EXCLUDE);
        self.include = parsed.list(INCLUDE);
        let renames = parse_rename_mappings(&parsed.list(RENAMES)).map_err(ConnectError::config)?;
        self.reverse_renames = renames
            .iter()
            .map(|(from, to)| (to.clone(), from.clone()))
            .collect();
        self.renames = renames.into_iter().collect();
        self.replace_null_with_default = parsed.boolean(REPLACE_NULL_WITH_DEFAULT).unwrap_or(true);
        self.cache = SchemaCache::default();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let (schema, value) = self.side.take(&mut record);
        if value.is_null() {
            self.side.put(&mut record, schema, value);
            return Ok(Some(record));
        }
        match schema {
            None => {
                let updated = self.apply_schemaless(value)?;
                self.side.put(&mut record, None, updated);
            }
            Some(_) => {
                let (s, v) = self.apply_with_schema(value)?;
                self.side.put(&mut record, Some(s), v);
            }
        }
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        let def = ConfigDef::new()
            .define(
                EXCLUDE,
                ConfigType::List,
                "",
                Importance::Medium,
                "Fields to exclude. This takes precedence over the fields to include.",
            )
            .define(
                INCLUDE,
                ConfigType::List,
                "",
                Importance::Medium,
                "Fields to include. If specified, only these fields will be used.",
            )
            .define(
                RENAMES,
                ConfigType::List,
                "",
                Importance::Medium,
                "Field rename mappings.",
            )
            .with_last(|k| {
                k.validator(validators::from_fn(
                    "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>",
                    |_, v| match v {
                        Some(ParsedValue::List(items)) => parse_rename_mappings(items)
                            .map(|_| ())
                            .map_err(|e| format!("!{e}")),
                        _ => Ok(()),
                    },
                ))
            });
        crate::with_replace_null_with_default(def)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::map;
    use crate::test_support::props;
    use causeway_data::{Schema, SchemaType};

    fn xform(mut t: ReplaceField, p: &[(&str, &str)]) -> ReplaceField {
        t.configure(&props(p)).unwrap();
        t
    }

    #[test]
    fn schemaless_exclude_include_rename() {
        // Apache's ReplaceFieldTest.schemaless.
        let mut t = xform(
            ReplaceField::value(),
            &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
        );
        let value = map(vec![
            ("dont", Value::String("whatever".into())),
            ("abc", Value::Int32(42)),
            ("foo", Value::Boolean(true)),
            ("etc", Value::String("etc".into())),
        ]);
        let out = t
            .apply(ConnectRecord::new("test", None, value))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value,
            map(vec![
                ("xyz", Value::Int32(42)),
                ("bar", Value::Boolean(true)),
                ("etc", Value::String("etc".into())),
            ])
        );
    }

    #[test]
    fn schemaless_include() {
        let mut t = xform(ReplaceField::value(), &[("include", "abc,foo")]);
        let value = map(vec![
            ("dont", Value::String("whatever".into())),
            ("abc", Value::Int32(42)),
            ("foo", Value::Boolean(true)),
        ]);
        let out = t
            .apply(ConnectRecord::new("test", None, value))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value,
            map(vec![
                ("abc", Value::Int32(42)),
                ("foo", Value::Boolean(true))
            ])
        );
    }

    #[test]
    fn schemaful_include_and_rename() {
        // Apache's ReplaceFieldTest.withSchema.
        let mut t = xform(
            ReplaceField::value(),
            &[("include", "abc,foo"), ("renames", "abc:xyz,foo:bar")],
        );
        let schema = SchemaBuilder::struct_()
            .name("n")
            .version(3)
            .field("dont", Schema::string())
            .field("abc", Schema::int32())
            .field("foo", Schema::boolean())
            .field("etc", Schema::string())
            .build();
        let v = Struct::new(schema.clone())
            .with("dont", "whatever")
            .unwrap()
            .with("abc", 42)
            .unwrap()
            .with("foo", true)
            .unwrap()
            .with("etc", "etc")
            .unwrap();
        let r = ConnectRecord::new("test", Some(schema), Value::Struct(v));
        let out = t.apply(r.clone()).unwrap().unwrap();
        let s = out.value_schema.clone().unwrap();
        assert_eq!(s.name.as_deref(), Some("n"));
        assert_eq!(s.version, Some(3));
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["xyz", "bar"]);
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("xyz"), Some(&Value::Int32(42)));
        assert_eq!(v.get("bar"), Some(&Value::Boolean(true)));
        let again = t.apply(r).unwrap().unwrap();
        assert!(std::sync::Arc::ptr_eq(
            again.value_schema.as_ref().unwrap(),
            &s
        ));
    }

    #[test]
    fn exclude_takes_precedence_over_include() {
        let mut t = xform(ReplaceField::key(), &[("include", "a,b"), ("exclude", "b")]);
        let r = ConnectRecord::new("t", None, Value::Int32(1)).with_key(
            None,
            map(vec![("a", Value::Int32(1)), ("b", Value::Int32(2))]),
        );
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.key, map(vec![("a", Value::Int32(1))]));
        assert_eq!(out.value, Value::Int32(1));
    }

    #[test]
    fn tombstones_pass_through() {
        let mut t = xform(ReplaceField::value(), &[("exclude", "a")]);
        let r = ConnectRecord::new("t", None, Value::Null);
        assert_eq!(t.apply(r.clone()).unwrap().unwrap(), r);
        let s = SchemaBuilder::struct_().optional().build();
        let r = ConnectRecord::new("t", Some(s), Value::Null);
        assert_eq!(t.apply(r.clone()).unwrap().unwrap(), r);
    }

    #[test]
    fn wrong_types() {
        let mut t = xform(ReplaceField::value(), &[("exclude", "a")]);
        let err = t
            .apply(ConnectRecord::new("t", None, Value::String("x".into())))
            .unwrap_err();
        assert!(err.to_string().contains(
            "Only Map objects supported in absence of schema for [field replacement], found: java.lang.String"
        ), "{err}");
        let err = t
            .apply(ConnectRecord::new(
                "t",
                Some(Schema::string()),
                Value::String("x".into()),
            ))
            .unwrap_err();
        assert!(
            err.to_string().contains(
                "Only Struct objects supported for [field replacement], found: java.lang.String"
            ),
            "{err}"
        );
    }

    #[test]
    fn invalid_rename_mapping() {
        for bad in ["foo", "foo:bar:baz", "foo:"] {
            let err = ReplaceField::value()
                .configure(&props(&[("renames", &format!("a:b,{bad}"))]))
                .unwrap_err();
            assert!(matches!(err, ConnectError::Config(_)));
            assert!(
                err.to_string().contains(&format!(
                    "Invalid value [a:b, {bad}] for configuration renames: Invalid rename mapping: {bad}"
                )),
                "{err}"
            );
        }
        // Java's split drops trailing empty strings: "a:b:" is the pair a -> b.
        let t = xform(ReplaceField::value(), &[("renames", "a:b:")]);
        assert_eq!(t.renamed("a"), "b");
    }

    #[test]
    fn rename_onto_existing_field_fails() {
        let mut t = xform(ReplaceField::value(), &[("renames", "a:b")]);
        let schema = SchemaBuilder::struct_()
            .field("a", Schema::int32())
            .field("b", Schema::int32())
            .build();
        let v = Struct::new(schema.clone())
            .with("a", 1)
            .unwrap()
            .with("b", 2)
            .unwrap();
        let err = t
            .apply(ConnectRecord::new("t", Some(schema), Value::Struct(v)))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Cannot create field because of field name duplication b"),
            "{err}"
        );
    }

    #[test]
    fn replace_null_with_default() {
        let schema = SchemaBuilder::struct_()
            .field(
                "a",
                SchemaBuilder::new(SchemaType::Int32)
                    .optional()
                    .default_value(Value::Int32(7))
                    .build(),
            )
            .build();
        let r = ConnectRecord::new(
            "t",
            Some(schema.clone()),
            Value::Struct(Struct::new(schema)),
        );
        let mut t = xform(ReplaceField::value(), &[("renames", "a:b")]);
        let out = t.apply(r.clone()).unwrap().unwrap();
        assert_eq!(
            out.value.as_struct().unwrap().get_without_default("b"),
            Some(&Value::Int32(7))
        );
        let mut t = xform(
            ReplaceField::value(),
            &[("renames", "a:b"), ("replace.null.with.default", "false")],
        );
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(
            out.value.as_struct().unwrap().get_without_default("b"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn defaults_are_empty_lists() {
        let def = ReplaceField::value().config();
        for k in ["exclude", "include", "renames"] {
            assert_eq!(def.find(k).unwrap().default_string().as_deref(), Some(""));
        }
        assert!(def.find("blacklist").is_none(), "removed in Apache 4.0");
    }
}
