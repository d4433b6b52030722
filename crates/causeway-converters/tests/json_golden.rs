//! JsonConverter against the exact bytes Apache's JsonConverter writes, and the inputs of Apache's
//! JsonConverterTest for reading.
//!
//! Expected strings follow `JsonConverter.asJsonSchema` / `convertToJson` member order (type, items | keys,
//! values | fields, optional, name, version, doc, parameters, default, and `field` last on struct fields) and
//! Jackson's compact output.

use std::str::FromStr;

use causeway_api::{ConnectError, Converter, HeaderConverter, Props};
use causeway_converters::JsonConverter;
use causeway_data::{
    BigDecimal, Headers, Schema, SchemaAndValue, SchemaBuilder, SchemaRef, SchemaType, Struct,
    Value, logical,
};

fn props(kv: &[(&str, &str)]) -> Props {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn conv(kv: &[(&str, &str)]) -> JsonConverter {
    let mut c = JsonConverter::new();
    Converter::configure(&mut c, &props(kv), false).unwrap();
    c
}

fn write(c: &JsonConverter, schema: Option<&SchemaRef>, v: &Value) -> String {
    let bytes = c
        .from_connect_data("t", &Headers::new(), schema, v)
        .unwrap()
        .expect("not a tombstone");
    String::from_utf8(bytes).unwrap()
}

fn write_err(c: &JsonConverter, schema: Option<&SchemaRef>, v: &Value) -> String {
    match c.from_connect_data("t", &Headers::new(), schema, v) {
        Err(ConnectError::Data(m)) => m,
        other => panic!("expected a data error, got {other:?}"),
    }
}

fn read(c: &JsonConverter, s: &str) -> SchemaAndValue {
    c.to_connect_data("t", &Headers::new(), Some(s.as_bytes()))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn read_err(c: &JsonConverter, s: &[u8]) -> String {
    match c.to_connect_data("t", &Headers::new(), Some(s)) {
        Err(ConnectError::Data(m)) => m,
        other => panic!("expected a data error, got {other:?}"),
    }
}

fn dec(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap()
}

/// Decimal equality including scale (Java's `BigDecimal.equals`).
fn assert_decimal(v: &Value, want: &str) {
    let Value::Decimal(d) = v else {
        panic!("not a decimal: {v:?}")
    };
    assert_eq!(
        d.as_bigint_and_exponent(),
        dec(want).as_bigint_and_exponent(),
        "{d} vs {want}"
    );
}

// ------------------------------------------------------------------------------------------------
// Connect → JSON, exact bytes
// ------------------------------------------------------------------------------------------------

#[test]
fn every_primitive_type_with_envelope() {
    let c = JsonConverter::new();
    let cases: Vec<(SchemaRef, Value, &str)> = vec![
        (
            Schema::int8(),
            Value::Int8(-12),
            r#"{"schema":{"type":"int8","optional":false},"payload":-12}"#,
        ),
        (
            Schema::int16(),
            Value::Int16(300),
            r#"{"schema":{"type":"int16","optional":false},"payload":300}"#,
        ),
        (
            Schema::int32(),
            Value::Int32(i32::MIN),
            r#"{"schema":{"type":"int32","optional":false},"payload":-2147483648}"#,
        ),
        (
            Schema::int64(),
            Value::Int64(4_398_046_511_104),
            r#"{"schema":{"type":"int64","optional":false},"payload":4398046511104}"#,
        ),
        (
            Schema::float32(),
            Value::Float32(12.34),
            r#"{"schema":{"type":"float","optional":false},"payload":12.34}"#,
        ),
        (
            Schema::float64(),
            Value::Float64(1e10),
            r#"{"schema":{"type":"double","optional":false},"payload":1.0E10}"#,
        ),
        (
            Schema::float64(),
            Value::Float64(0.0001),
            r#"{"schema":{"type":"double","optional":false},"payload":1.0E-4}"#,
        ),
        (
            Schema::float64(),
            Value::Float64(f64::NAN),
            r#"{"schema":{"type":"double","optional":false},"payload":"NaN"}"#,
        ),
        (
            Schema::optional_boolean(),
            Value::Boolean(false),
            r#"{"schema":{"type":"boolean","optional":true},"payload":false}"#,
        ),
        (
            Schema::string(),
            Value::String("tab\t \"q\" back\\ \u{1} \u{7f} é 😀 /</".into()),
            // Jackson escapes characters outside the BMP as their UTF-16 surrogates.
            "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"tab\\t \\\"q\\\" back\\\\ \\u0001 \u{7f} é \\uD83D\\uDE00 /</\"}",
        ),
        (
            Schema::bytes(),
            Value::Bytes(b"test-string".to_vec()),
            r#"{"schema":{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="}"#,
        ),
    ];
    for (schema, value, want) in cases {
        assert_eq!(write(&c, Some(&schema), &value), want);
    }
}

#[test]
fn struct_schema_member_order_is_apaches() {
    let c = JsonConverter::new();
    let schema = SchemaBuilder::struct_()
        .name("com.example.Order")
        .version(2)
        .doc("an order")
        .parameter("a", "b")
        .field("id", Schema::int64())
        .field(
            "name",
            SchemaBuilder::new(SchemaType::String)
                .optional()
                .default_value("anon".into())
                .build(),
        )
        .field("tags", SchemaBuilder::array(Schema::string()).build())
        .field(
            "attrs",
            SchemaBuilder::map(Schema::string(), Schema::int32())
                .optional()
                .build(),
        )
        .field("amount", logical::decimal(2).build())
        .field("when", logical::timestamp().build())
        .build();
    let value = Struct::new(schema.clone())
        .with("id", 7i64)
        .unwrap()
        .with("tags", Value::Array(vec!["x".into(), "y".into()]))
        .unwrap()
        .with(
            "attrs",
            Value::Map(vec![
                ("k2".into(), Value::Int32(2)),
                ("k1".into(), Value::Int32(1)),
            ]),
        )
        .unwrap()
        .with("amount", Value::Decimal(dec("10.23")))
        .unwrap()
        .with("when", Value::Timestamp(1_566_570_894_346))
        .unwrap();
    assert_eq!(
        write(&c, Some(&schema), &Value::Struct(value)),
        concat!(
            r#"{"schema":{"type":"struct","fields":["#,
            r#"{"type":"int64","optional":false,"field":"id"},"#,
            r#"{"type":"string","optional":true,"default":"anon","field":"name"},"#,
            r#"{"type":"array","items":{"type":"string","optional":false},"optional":false,"field":"tags"},"#,
            r#"{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":true,"field":"attrs"},"#,
            r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"amount"},"#,
            r#"{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"when"}"#,
            r#"],"optional":false,"name":"com.example.Order","version":2,"doc":"an order","parameters":{"a":"b"}},"#,
            r#""payload":{"id":7,"name":"anon","tags":["x","y"],"attrs":{"k2":2,"k1":1},"amount":"A/8=","when":1566570894346}}"#,
        )
    );
}

#[test]
fn decimals_base64_and_numeric() {
    let base64 = JsonConverter::new();
    let numeric = conv(&[("decimal.format", "numeric")]);
    let s2 = logical::decimal(2).build();
    // 10.23 at scale 2: unscaled 1023 = 03 ff.
    assert_eq!(
        write(&base64, Some(&s2), &Value::Decimal(dec("10.23"))),
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"A/8="}"#
    );
    // 1.56 (JsonConverterTest.decimalToJson): 00 9c.
    assert!(
        write(&base64, Some(&s2), &Value::Decimal(dec("1.56"))).ends_with(r#""payload":"AJw="}"#)
    );
    // -1.00: unscaled -100 = 9c.
    assert!(
        write(&base64, Some(&s2), &Value::Decimal(dec("-1.00"))).ends_with(r#""payload":"nA=="}"#)
    );
    assert_eq!(
        write(&numeric, Some(&s2), &Value::Decimal(dec("10.23"))),
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":10.23}"#
    );
    let s4 = logical::decimal(4).build();
    assert!(
        write(&numeric, Some(&s4), &Value::Decimal(dec("1.5600")))
            .ends_with(r#""payload":1.5600}"#)
    );
    let s7 = logical::decimal(7).build();
    assert!(
        write(&numeric, Some(&s7), &Value::Decimal(dec("0.0000001")))
            .ends_with(r#""payload":1E-7}"#)
    );
    // A default is written with the schema's own format.
    let with_default = logical::decimal(2)
        .optional()
        .default_value(Value::Decimal(dec("1.00")))
        .build();
    assert_eq!(
        write(&base64, Some(&with_default), &Value::Null),
        r#"{"schema":{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"default":"ZA=="},"payload":"ZA=="}"#
    );
    // Scale mismatch (BASE64 only) and schemaless decimals are errors.
    assert!(
        write_err(&base64, Some(&s2), &Value::Decimal(dec("1.5"))).contains("mismatching scale")
    );
    assert_eq!(
        write_err(&base64, None, &Value::Decimal(dec("1.5"))),
        "Java class class java.math.BigDecimal does not have corresponding schema type."
    );
}

#[test]
fn dates_times_timestamps() {
    let c = JsonConverter::new();
    let cases: Vec<(SchemaRef, Value, &str)> = vec![
        (
            logical::date().build(),
            Value::Date(10_000),
            r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}"#,
        ),
        (
            logical::time().build(),
            Value::Time(14_400_000),
            r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}"#,
        ),
        (
            logical::timestamp().build(),
            Value::Timestamp(4_000_000_000),
            r#"{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}"#,
        ),
        // Any java.util.Date is accepted when it fits the logical type.
        (
            logical::date().build(),
            Value::Timestamp(86_400_000 * 3),
            r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":3}"#,
        ),
    ];
    for (schema, value, want) in cases {
        assert_eq!(write(&c, Some(&schema), &value), want);
    }
    assert_eq!(
        write_err(&c, Some(&logical::date().build()), &Value::Timestamp(1)),
        "Kafka Connect Date type should not have any time fields set to non-zero values."
    );
    assert_eq!(
        write_err(&c, Some(&logical::time().build()), &Value::Time(-1)),
        "Kafka Connect Time type should not have any date fields set to non-zero values."
    );
    assert_eq!(
        write_err(&c, Some(&logical::date().build()), &Value::Int32(3)),
        "Invalid type for Date, expected Date but was class java.lang.Integer"
    );
    assert_eq!(
        write_err(&c, None, &Value::Date(1)),
        "Java class class java.util.Date does not have corresponding schema type."
    );
}

#[test]
fn maps_with_non_string_keys_are_pair_arrays() {
    let c = JsonConverter::new();
    let schema = SchemaBuilder::map(Schema::int32(), Schema::int32()).build();
    let v = Value::Map(vec![
        (Value::Int32(1), Value::Int32(12)),
        (Value::Int32(2), Value::Int32(15)),
    ]);
    assert_eq!(
        write(&c, Some(&schema), &v),
        r#"{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":[[1,12],[2,15]]}"#
    );
    // Schemaless: any non-string key switches to pairs, keys keep their own JSON types.
    let mixed = Value::Map(vec![
        ("string".into(), Value::Int32(12)),
        (Value::Int32(52), "string".into()),
        (Value::Boolean(false), Value::Boolean(true)),
    ]);
    assert_eq!(
        write(&c, None, &mixed),
        r#"{"schema":null,"payload":[["string",12],[52,"string"],[false,true]]}"#
    );
    let strings = Value::Map(vec![
        ("key1".into(), Value::Int32(12)),
        ("key2".into(), "string".into()),
        ("key3".into(), Value::Boolean(true)),
    ]);
    assert_eq!(
        write(&c, None, &strings),
        r#"{"schema":null,"payload":{"key1":12,"key2":"string","key3":true}}"#
    );
}

#[test]
fn nulls_defaults_and_tombstones() {
    let replace = JsonConverter::new();
    let keep = conv(&[("replace.null.with.default", "false")]);
    let field = SchemaBuilder::new(SchemaType::String)
        .optional()
        .default_value("default".into())
        .build();
    let st = SchemaBuilder::struct_()
        .field("field1", field.clone())
        .build();
    let empty = Value::Struct(Struct::new(st.clone()));
    // JsonConverterTest.serializeFieldNullToDefault / serializeFieldNullToNull, in Java's byte order.
    assert_eq!(
        write(&replace, Some(&st), &empty),
        r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"default":"default","field":"field1"}],"optional":false},"payload":{"field1":"default"}}"#
    );
    assert_eq!(
        write(&keep, Some(&st), &empty),
        r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"default":"default","field":"field1"}],"optional":false},"payload":{"field1":null}}"#
    );
    // serializeNullToDefault / serializeNullToNull.
    assert_eq!(
        write(&replace, Some(&field), &Value::Null),
        r#"{"schema":{"type":"string","optional":true,"default":"default"},"payload":"default"}"#
    );
    assert_eq!(
        write(&keep, Some(&field), &Value::Null),
        r#"{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}"#
    );
    // An optional field without default is written as null, not omitted.
    let opt = SchemaBuilder::struct_()
        .field("a", Schema::int32())
        .field("b", Schema::optional_string())
        .build();
    let v = Value::Struct(Struct::new(opt.clone()).with("a", 1).unwrap());
    assert!(write(&replace, Some(&opt), &v).ends_with(r#""payload":{"a":1,"b":null}}"#));
    // Null schema and null value: a tombstone, with or without schemas.
    let schemaless = JsonConverter::schemaless();
    for c in [&replace, &schemaless] {
        assert_eq!(
            c.from_connect_data("t", &Headers::new(), None, &Value::Null)
                .unwrap(),
            None
        );
    }
    // An optional schema with a null value is the JSON text null.
    assert_eq!(
        schemaless
            .from_connect_data(
                "t",
                &Headers::new(),
                Some(&Schema::optional_string()),
                &Value::Null
            )
            .unwrap()
            .unwrap(),
        b"null"
    );
    assert_eq!(
        write(&replace, Some(&Schema::optional_string()), &Value::Null),
        r#"{"schema":{"type":"string","optional":true},"payload":null}"#
    );
    assert_eq!(
        write_err(&replace, Some(&Schema::string()), &Value::Null),
        "Conversion error: null value for field that is required and has no default value"
    );
}

#[test]
fn schemaless_output_and_schema_defaults() {
    let c = JsonConverter::schemaless();
    // A struct under a schema is an object in field order even without the envelope (spec §1.1).
    let st = SchemaBuilder::struct_()
        .field("b", Schema::int32())
        .field("a", Schema::optional_string())
        .build();
    let v = Value::Struct(Struct::new(st.clone()).with("b", 2).unwrap());
    assert_eq!(write(&c, Some(&st), &v), r#"{"b":2,"a":null}"#);
    let nested = Value::Array(vec![
        Value::Int64(1),
        Value::Null,
        Value::Float32(0.1),
        Value::Float64(-0.0),
        Value::Bytes(vec![0xff]),
        Value::Array(vec![]),
        Value::Map(vec![]),
    ]);
    assert_eq!(
        write(&c, None, &nested),
        r#"[1,null,0.1,-0.0,"/w==",[],{}]"#
    );
    assert_eq!(write_err(&c, None, &v), "Mismatching schema.");
    // Object keys: escaped like strings; a null key under an optional string schema is "null".
    let keys = Value::Map(vec![
        ("😀".into(), Value::Int32(1)),
        ("\u{0}".into(), Value::Int32(2)),
    ]);
    assert_eq!(write(&c, None, &keys), r#"{"\uD83D\uDE00":1,"\u0000":2}"#);
    let opt_key = SchemaBuilder::map(Schema::optional_string(), Schema::int32()).build();
    let null_key = Value::Map(vec![
        (Value::Null, Value::Int32(1)),
        ("a".into(), Value::Int32(2)),
    ]);
    assert_eq!(write(&c, Some(&opt_key), &null_key), r#"{"null":1,"a":2}"#);
    let float_key = SchemaBuilder::map(Schema::float64(), Schema::int32()).build();
    let fk = Value::Map(vec![(Value::Float64(1.5), Value::Int32(1))]);
    assert_eq!(write(&c, Some(&float_key), &fk), "[[1.5,1]]");
    // Defaults appear in the schema, converted with the schema itself.
    let env = JsonConverter::new();
    let arr = SchemaBuilder::array(Schema::int32())
        .default_value(Value::Array(vec![Value::Int32(1), Value::Int32(2)]))
        .build();
    assert_eq!(
        write(&env, Some(&arr), &Value::Array(vec![])),
        r#"{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false,"default":[1,2]},"payload":[]}"#
    );
    let bytes_default = SchemaBuilder::new(SchemaType::Bytes)
        .optional()
        .default_value(Value::Bytes(b"hi".to_vec()))
        .build();
    assert_eq!(
        write(&env, Some(&bytes_default), &Value::Bytes(vec![])),
        r#"{"schema":{"type":"bytes","optional":true,"default":"aGk="},"payload":""}"#
    );
}

#[test]
fn type_mismatches_on_write_are_data_errors() {
    let c = JsonConverter::new();
    assert_eq!(
        write_err(&c, Some(&Schema::float64()), &Value::Boolean(true)),
        "Invalid type for FLOAT64: class java.lang.Boolean"
    );
    assert_eq!(
        write_err(&c, Some(&Schema::int32()), &Value::Int64(1)),
        "Invalid type for INT32: class java.lang.Long"
    );
    assert_eq!(
        write_err(&c, Some(&Schema::bytes()), &Value::String("x".into())),
        "Invalid type for bytes type: class java.lang.String"
    );
    let other = SchemaBuilder::struct_().field("x", Schema::int32()).build();
    let st = SchemaBuilder::struct_().field("y", Schema::int32()).build();
    let v = Value::Struct(Struct::new(st).with("y", 1).unwrap());
    assert_eq!(write_err(&c, Some(&other), &v), "Mismatching schema.");
    let arr = SchemaBuilder::array(Schema::string()).build();
    assert_eq!(
        write_err(&c, Some(&arr), &Value::Array(vec![Value::Int32(1)])),
        "Invalid type for STRING: class java.lang.Integer"
    );
}

#[test]
fn header_path_delegates_to_data_path() {
    let mut c = JsonConverter::new();
    HeaderConverter::configure(&mut c, &Props::new()).unwrap();
    let bytes = c
        .from_connect_header("t", "h", Some(&Schema::string()), &"test-string".into())
        .unwrap()
        .unwrap();
    assert_eq!(
        bytes,
        br#"{"schema":{"type":"string","optional":false},"payload":"test-string"}"#
    );
    assert_eq!(
        c.to_connect_header(
            "t",
            "h",
            Some(br#"{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }"#)
        )
        .unwrap(),
        SchemaAndValue::new(Some(Schema::string()), "foo-bar-baz".into())
    );
}

// ------------------------------------------------------------------------------------------------
// JSON → Connect (inputs from JsonConverterTest)
// ------------------------------------------------------------------------------------------------

#[test]
fn primitives_to_connect() {
    let c = JsonConverter::new();
    let sv = |s| read(&c, s);
    assert_eq!(
        sv(r#"{ "schema": { "type": "boolean" }, "payload": true }"#),
        SchemaAndValue::new(Some(Schema::boolean()), true.into())
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "boolean", "optional": true }, "payload": null }"#),
        SchemaAndValue::new(Some(Schema::optional_boolean()), Value::Null)
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "boolean", "default": true }, "payload": null }"#),
        SchemaAndValue::new(
            Some(
                SchemaBuilder::new(SchemaType::Boolean)
                    .default_value(true.into())
                    .build()
            ),
            true.into()
        )
    );
    assert_eq!(
        sv(
            r#"{ "schema": { "type": "boolean", "optional": false, "name": "bool", "version": 2, "doc": "the documentation", "parameters": { "foo": "bar" }}, "payload": true }"#
        ),
        SchemaAndValue::new(
            Some(
                SchemaBuilder::new(SchemaType::Boolean)
                    .name("bool")
                    .version(2)
                    .doc("the documentation")
                    .parameter("foo", "bar")
                    .build()
            ),
            true.into()
        )
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "int8" }, "payload": 12 }"#).value,
        Value::Int8(12)
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "int16" }, "payload": 000123 }"#).value,
        Value::Int16(123)
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "int32" }, "payload": 000012345 }"#).value,
        Value::Int32(12345)
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "int64" }, "payload": 4398046511104 }"#).value,
        Value::Int64(4_398_046_511_104)
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "float" }, "payload": 12.34 }"#).value,
        Value::Float32(12.34)
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "double" }, "payload": 12.34 }"#).value,
        Value::Float64(12.34)
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }"#).value,
        "foo-bar-baz".into()
    );
    assert_eq!(
        sv(r#"{ "schema": { "type": "bytes" }, "payload": "dGVzdC1zdHJpbmc=" }"#).value,
        Value::Bytes(b"test-string".to_vec())
    );
}

#[test]
fn containers_to_connect() {
    let c = JsonConverter::new();
    assert_eq!(
        read(
            &c,
            r#"{ "schema": { "type": "array", "items": { "type" : "int32" } }, "payload": [1, 2, 3] }"#
        ),
        SchemaAndValue::new(
            Some(SchemaBuilder::array(Schema::int32()).build()),
            Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)])
        )
    );
    assert_eq!(
        read(&c, r#"{ "schema": { "type": "map", "keys": { "type" : "string" }, "values": { "type" : "int32" } }, "payload": { "key1": 12, "key2": 15} }"#).value,
        Value::Map(vec![("key1".into(), Value::Int32(12)), ("key2".into(), Value::Int32(15))])
    );
    assert_eq!(
        read(&c, r#"{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }"#).value,
        Value::Map(vec![(Value::Int32(1), Value::Int32(12)), (Value::Int32(2), Value::Int32(15))])
    );
    let sv = read(
        &c,
        r#"{ "schema": { "type": "struct", "fields": [{ "field": "field1", "type": "boolean" }, { "field": "field2", "type": "string" }] }, "payload": { "field1": true, "field2": "string" } }"#,
    );
    let schema = SchemaBuilder::struct_()
        .field("field1", Schema::boolean())
        .field("field2", Schema::string())
        .build();
    let want = Struct::new(schema.clone())
        .with("field1", true)
        .unwrap()
        .with("field2", "string")
        .unwrap();
    assert_eq!(sv, SchemaAndValue::new(Some(schema), Value::Struct(want)));
    // A missing optional field reads as null.
    let sv = read(
        &c,
        r#"{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, {  "field": "required", "type": "string" }] }, "payload": { "required": "required" } }"#,
    );
    let st = sv.value.as_struct().unwrap();
    assert_eq!(st.get("optional"), Some(&Value::Null));
    assert_eq!(st.get("required"), Some(&"required".into()));
}

#[test]
fn logical_types_to_connect() {
    let c = JsonConverter::new();
    let d = read(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": "AJw=" }"#,
    );
    assert_eq!(d.schema, Some(logical::decimal(2).build()));
    assert_decimal(&d.value, "1.56");
    let d = read(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": 1.56 }"#,
    );
    assert_decimal(&d.value, "1.56");
    let d = read(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "4" } }, "payload": 1.5600 }"#,
    );
    assert_decimal(&d.value, "1.5600");
    let d = read(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "17" } }, "payload": 1.23456789123456789 }"#,
    );
    assert_decimal(&d.value, "1.23456789123456789");
    let d = read(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "optional": true, "default": "AJw=", "parameters": { "scale": "2" } }, "payload": null }"#,
    );
    assert_decimal(&d.value, "1.56");
    assert_decimal(d.schema.unwrap().default_value.as_ref().unwrap(), "1.56");
    assert_eq!(
        read(
            &c,
            r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1 }, "payload": 10000 }"#
        ),
        SchemaAndValue::new(Some(logical::date().build()), Value::Date(10_000))
    );
    assert_eq!(
        read(&c, r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1, "default": 0 }, "payload": null }"#).value,
        Value::Date(0)
    );
    assert_eq!(
        read(
            &c,
            r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1 }, "payload": 14400000 }"#
        ),
        SchemaAndValue::new(Some(logical::time().build()), Value::Time(14_400_000))
    );
    assert_eq!(
        read(
            &c,
            r#"{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1 }, "payload": 4000000000 }"#
        ),
        SchemaAndValue::new(
            Some(logical::timestamp().build()),
            Value::Timestamp(4_000_000_000)
        )
    );
    assert_eq!(
        read(&c, r#"{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1,  "optional": true, "default": 42 }, "payload": null }"#).value,
        Value::Timestamp(42)
    );
    assert_eq!(
        read_err(&c, br#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1 }, "payload": 1.5 }"#),
        "Invalid type for Date, underlying representation should be integer but was NUMBER"
    );
    assert_eq!(
        read_err(&c, br#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1 }, "payload": 86400001 }"#),
        "Time values must use number of milliseconds greater than 0 and less than 86400000"
    );
    assert_eq!(
        read_err(&c, br#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "parameters": { "scale": "2" } }, "payload": "!!" }"#),
        "Invalid bytes for Decimal field"
    );
    assert_eq!(
        read_err(&c, br#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "parameters": { "scale": "2" } }, "payload": true }"#),
        "Invalid type for Decimal, underlying representation should be numeric or bytes but was BOOLEAN"
    );
}

#[test]
fn schemaless_to_connect() {
    let env = JsonConverter::new();
    assert_eq!(
        read(&env, r#"{ "schema": null, "payload": null }"#),
        SchemaAndValue::NULL
    );
    assert_eq!(
        read(&env, r#"{ "schema": null, "payload": true }"#),
        SchemaAndValue::new(None, true.into())
    );
    assert_eq!(
        read(&env, r#"{ "schema": null, "payload": 12 }"#).value,
        Value::Int64(12)
    );
    assert_eq!(
        read(&env, r#"{ "schema": null, "payload": 12.24 }"#).value,
        Value::Float64(12.24)
    );
    assert_eq!(
        read(&env, r#"{ "schema": null, "payload": [1, "2", 3] }"#).value,
        Value::Array(vec![Value::Int64(1), "2".into(), Value::Int64(3)])
    );
    assert_eq!(
        read(
            &env,
            r#"{ "schema": null, "payload": { "field1": 1, "field2": 2} }"#
        )
        .value,
        Value::Map(vec![
            ("field1".into(), Value::Int64(1)),
            ("field2".into(), Value::Int64(2))
        ])
    );
    let plain = JsonConverter::schemaless();
    assert_eq!(read(&plain, "true"), SchemaAndValue::new(None, true.into()));
    assert_eq!(read(&plain, ""), SchemaAndValue::NULL);
    assert_eq!(read(&plain, "null"), SchemaAndValue::NULL);
    assert_eq!(
        read(&plain, r#"{ "a": "", "b": null}"#).value,
        Value::Map(vec![("a".into(), "".into()), ("b".into(), Value::Null)])
    );
    for c in [&env, &plain] {
        assert_eq!(
            c.to_connect_data("t", &Headers::new(), None).unwrap(),
            SchemaAndValue::NULL
        );
    }
    // Round trip of an internal-topic style value: integers stay int64, floats float64.
    let text = r#"{"offset":{"pos":12345678901},"ratio":0.5,"list":[1,2],"s":"x"}"#;
    let v = read(&plain, text).value;
    assert_eq!(write(&plain, None, &v), text);
}

#[test]
fn null_payloads_and_defaults_to_connect() {
    let replace = JsonConverter::new();
    let keep = conv(&[("replace.null.with.default", "false")]);
    let doc = r#"{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}"#;
    assert_eq!(read(&replace, doc).value, "default".into());
    assert_eq!(read(&keep, doc).value, Value::Null);
    let doc = r#"{"schema":{"type":"struct","fields":[{"field":"field1","type":"string","optional":true,"default":"default"}],"optional":false},"payload":{"field1":null}}"#;
    let field = SchemaBuilder::new(SchemaType::String)
        .optional()
        .default_value("default".into())
        .build();
    let st = SchemaBuilder::struct_().field("field1", field).build();
    assert_eq!(
        read(&replace, doc).value,
        Value::Struct(Struct::new(st.clone()).with("field1", "default").unwrap())
    );
    assert_eq!(read(&keep, doc).value, Value::Struct(Struct::new(st)));
    assert_eq!(
        read_err(&replace, br#"{"schema":{"type":"int32"},"payload":null}"#),
        "Invalid null value for required INT32 field"
    );
}

#[test]
fn write_then_read_round_trips() {
    let c = JsonConverter::new();
    let inner = SchemaBuilder::struct_()
        .name("inner")
        .field("f", Schema::optional_float32())
        .build();
    let schema = SchemaBuilder::struct_()
        .field("i8", Schema::int8())
        .field("i16", Schema::int16())
        .field("bytes", Schema::bytes())
        .field("inner", inner.clone())
        .field(
            "m",
            SchemaBuilder::map(
                Schema::int64(),
                SchemaBuilder::array(Schema::boolean()).build(),
            )
            .build(),
        )
        .field("d", logical::decimal(3).optional().build())
        .field("date", logical::date().build())
        .field("time", logical::time().build())
        .build();
    let v = Value::Struct(
        Struct::new(schema.clone())
            .with("i8", Value::Int8(-1))
            .unwrap()
            .with("i16", Value::Int16(-300))
            .unwrap()
            .with("bytes", Value::Bytes(vec![0, 1, 2, 255]))
            .unwrap()
            .with(
                "inner",
                Value::Struct(Struct::new(inner).with("f", Value::Float32(0.1)).unwrap()),
            )
            .unwrap()
            .with(
                "m",
                Value::Map(vec![(
                    Value::Int64(-5),
                    Value::Array(vec![true.into(), false.into()]),
                )]),
            )
            .unwrap()
            .with("d", Value::Decimal(dec("-12345678901234567890.123")))
            .unwrap()
            .with("date", Value::Date(-1))
            .unwrap()
            .with("time", Value::Time(86_399_999))
            .unwrap(),
    );
    let text = write(&c, Some(&schema), &v);
    let back = read(&c, &text);
    assert_eq!(back.schema.as_ref(), Some(&schema));
    assert_eq!(back.value, v);
    // Writing what was read gives the same bytes.
    assert_eq!(write(&c, back.schema.as_ref(), &back.value), text);
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

#[test]
fn malformed_input_and_envelope_errors() {
    let c = JsonConverter::new();
    let envelope = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";
    for bad in [
        &b"{not json"[..],
        b"{\"schema\":",
        b"[1,",
        b"\"\\q\"",
        b"\xff",
    ] {
        let m = read_err(&c, bad);
        assert!(
            m.starts_with(
                "Converting byte[] to Kafka Connect data failed due to serialization error: "
            ),
            "{m}"
        );
    }
    for bad in [
        &br#"{"payload":1}"#[..],
        br#"{"schema":null}"#,
        br#"{"schema":null,"payload":1,"extra":2}"#,
        br#"[1,2]"#,
        br#"42"#,
        b"",
    ] {
        assert_eq!(read_err(&c, bad), envelope);
    }
    let cases: &[(&[u8], &str)] = &[
        (br#"{"schema":{},"payload":1}"#, "Schema must contain 'type' field"),
        (br#"{"schema":{"type":"foo"},"payload":1}"#, "Unknown schema type: foo"),
        (
            br#"{"schema":{"type":"array"},"payload":[]}"#,
            "Array schema did not specify the element type",
        ),
        (
            br#"{"schema":{"type":"map","values":{"type":"int8"}},"payload":{}}"#,
            "Map schema did not specify the key type",
        ),
        (
            br#"{"schema":{"type":"struct","fields":{}},"payload":{}}"#,
            "Struct schema's \"fields\" argument is not an array.",
        ),
        (
            br#"{"schema":{"type":"struct","fields":[{"type":"int8"}]},"payload":{}}"#,
            "Struct schema's field name not specified properly",
        ),
        (
            br#"{"schema":{"type":"struct","fields":[{"type":"int8","field":"a"},{"type":"int8","field":"a"}]},"payload":{}}"#,
            "Cannot create field because of field name duplication a",
        ),
        (
            br#"{"schema":{"type":"int8","parameters":{"a":1}},"payload":1}"#,
            "Schema parameters must have string values.",
        ),
        (
            br#"{"schema":{"type":"struct","fields":[]},"payload":"x"}"#,
            "Structs should be encoded as JSON objects, but found STRING",
        ),
        (
            br#"{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":{}}"#,
            "Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT",
        ),
        (
            br#"{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int8"}},"payload":[]}"#,
            "Maps with string fields should be encoded as JSON objects, but found ARRAY",
        ),
        (
            br#"{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":[[1]]}"#,
            "Found invalid map entry, expected length 2 but found :1",
        ),
        (
            br#"{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":[1]}"#,
            "Found invalid map entry instead of array tuple: NUMBER",
        ),
        (
            br#"{"schema":{"type":"struct","fields":[{"type":"string","field":"s"}]},"payload":{}}"#,
            "Invalid null value for required STRING field",
        ),
        (
            br#"{"schema":{"type":"int32","default":"x"},"payload":null}"#,
            "Invalid value for INT32 schema: expected a JSON number but found STRING",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            read_err(&c, input),
            *want,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn mismatched_payloads_are_data_errors() {
    let c = JsonConverter::new();
    for (schema, payload) in [
        ("int32", r#""x""#),
        ("int64", "true"),
        ("float", "[]"),
        ("boolean", "1"),
        ("string", "5"),
        ("bytes", "{}"),
    ] {
        let doc = format!(r#"{{"schema":{{"type":"{schema}"}},"payload":{payload}}}"#);
        let m = read_err(&c, doc.as_bytes());
        assert!(m.starts_with("Invalid value for "), "{m}");
    }
    let arr = r#"{"schema":{"type":"array","items":{"type":"int8"}},"payload":{"a":1}}"#;
    assert_eq!(
        read_err(&c, arr.as_bytes()),
        "Invalid value for ARRAY schema: expected a JSON array but found OBJECT"
    );
    // Numbers convert between numeric types as Java's narrowing casts do.
    let doc = r#"{"schema":{"type":"int8"},"payload":300}"#;
    assert_eq!(read(&c, doc).value, Value::Int8(44));
    let doc = r#"{"schema":{"type":"int32"},"payload":1.9}"#;
    assert_eq!(read(&c, doc).value, Value::Int32(1));
}

#[test]
fn hostile_input_never_panics() {
    let c = JsonConverter::new();
    let plain = JsonConverter::schemaless();
    let deep = "[".repeat(5000);
    assert!(read_err(&plain, deep.as_bytes()).contains("nesting depth"));
    // Jackson's limit is 1000 levels; documents that deep convert and write back on a 2 MiB stack.
    let on_small_stack = |f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    };
    on_small_stack(Box::new(|| {
        let plain = JsonConverter::schemaless();
        for doc in [
            "[".repeat(1000) + &"]".repeat(1000),
            "{\"a\":".repeat(1000) + "1" + &"}".repeat(1000),
        ] {
            let v = plain
                .to_connect_data("t", &Headers::new(), Some(doc.as_bytes()))
                .unwrap();
            let back = plain
                .from_connect_data("t", &Headers::new(), None, &v.value)
                .unwrap()
                .unwrap();
            assert_eq!(back, doc.as_bytes());
        }
        // Schemas nest at most 500 levels.
        let env = JsonConverter::new();
        for (depth, ok) in [(500, true), (501, false)] {
            let schema = "{\"type\":\"array\",\"items\":".repeat(depth)
                + "{\"type\":\"int8\"}"
                + &"}".repeat(depth);
            let doc = format!("{{\"schema\":{schema},\"payload\":[]}}");
            let r = env.to_connect_data("t", &Headers::new(), Some(doc.as_bytes()));
            assert_eq!(r.is_ok(), ok, "{depth}: {r:?}");
        }
    }));
    let long_number = "1".repeat(1001);
    assert!(read_err(&plain, long_number.as_bytes()).contains("Number value length"));
    // Pseudo-random bytes and mutations of a valid document.
    let seed_doc = br#"{"schema":{"type":"struct","fields":[{"type":"map","keys":{"type":"int32"},"values":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"field":"m"}]},"payload":{"m":[[1,"A/8="]]}}"#;
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let mut doc = seed_doc.to_vec();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % doc.len();
            let alphabet = b"{}[]\":,0123456789-.eE\\ntfAZ/+=x\xff";
            doc[i] = alphabet[(next() as usize) % alphabet.len()];
        }
        let _ = c.to_connect_data("t", &Headers::new(), Some(&doc));
        let _ = plain.to_connect_data("t", &Headers::new(), Some(&doc));
        let len = (next() % 64) as usize;
        let random: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let _ = c.to_connect_data("t", &Headers::new(), Some(&random));
    }
}

// ------------------------------------------------------------------------------------------------
// Configuration
// ------------------------------------------------------------------------------------------------

#[test]
fn config_def_lists_apaches_keys() {
    let def = JsonConverter::config_def();
    let names: Vec<&str> = def.keys().iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "converter.type",
            "schemas.enable",
            "schemas.cache.size",
            "decimal.format",
            "replace.null.with.default"
        ]
    );
    let k = def.find("schemas.enable").unwrap();
    assert_eq!(k.group.as_deref(), Some("Schemas"));
    assert_eq!(k.display_name, "Enable Schemas");
    assert_eq!(k.default_string().as_deref(), Some("true"));
    let k = def.find("decimal.format").unwrap();
    assert_eq!(k.group.as_deref(), Some("Serialization"));
    assert_eq!(k.order_in_group, 0);
    assert_eq!(k.default_string().as_deref(), Some("BASE64"));
    assert!(def.find("converter.type").unwrap().required());
    assert_eq!(
        Converter::config(&JsonConverter::new()).keys().len(),
        def.keys().len()
    );
}

#[test]
fn bad_settings_are_config_errors() {
    for kv in [
        [("decimal.format", "HEX")],
        [("schemas.enable", "maybe")],
        [("schemas.cache.size", "many")],
    ] {
        let mut c = JsonConverter::new();
        let err = Converter::configure(&mut c, &props(&kv), true).unwrap_err();
        assert!(matches!(err, ConnectError::Config(_)), "{err:?}");
    }
    let mut c = JsonConverter::new();
    let err =
        HeaderConverter::configure(&mut c, &props(&[("converter.type", "nope")])).unwrap_err();
    assert!(matches!(err, ConnectError::Config(_)));
    // schemas.cache.size=0 disables caching but still works.
    let c = conv(&[("schemas.cache.size", "0")]);
    let s = Schema::int32();
    assert_eq!(
        write(&c, Some(&s), &Value::Int32(1)),
        r#"{"schema":{"type":"int32","optional":false},"payload":1}"#
    );
    assert_eq!(
        write(&c, Some(&s), &Value::Int32(1)),
        write(&c, Some(&s), &Value::Int32(1))
    );
}
