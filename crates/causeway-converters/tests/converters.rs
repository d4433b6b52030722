//! Converter round trips and golden bytes of what Apache's JsonConverter emits.
use causeway_api::{Converter, HeaderConverter, Props};
use causeway_converters::{
    BooleanConverter, ByteArrayConverter, IntegerConverter, JsonConverter, LongConverter,
    SimpleHeaderConverter, StringConverter, plugins,
};
use causeway_data::{
    BigDecimal, Headers, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value, logical,
};

fn json(schemas: bool, extra: &[(&str, &str)]) -> JsonConverter {
    let mut c = JsonConverter::default();
    let mut p: Props = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    p.insert("schemas.enable".into(), schemas.to_string());
    Converter::configure(&mut c, &p, false).unwrap();
    c
}

fn out(c: &dyn Converter, schema: Option<&SchemaRef>, v: &Value) -> String {
    String::from_utf8(
        c.from_connect_data("t", &Headers::new(), schema, v)
            .unwrap()
            .unwrap(),
    )
    .unwrap()
}

fn read(c: &dyn Converter, s: &str) -> (Option<SchemaRef>, Value) {
    let sv = c
        .to_connect_data("t", &Headers::new(), Some(s.as_bytes()))
        .unwrap();
    (sv.schema, sv.value)
}

#[test]
fn primitives_with_schemas_match_java_bytes() {
    let c = json(true, &[]);
    assert_eq!(
        out(&c, Some(&Schema::boolean()), &Value::Boolean(true)),
        r#"{"schema":{"type":"boolean","optional":false},"payload":true}"#
    );
    assert_eq!(
        out(&c, Some(&Schema::int32()), &Value::Int32(42)),
        r#"{"schema":{"type":"int32","optional":false},"payload":42}"#
    );
    assert_eq!(
        out(&c, Some(&Schema::float64()), &Value::Float64(12.0)),
        r#"{"schema":{"type":"double","optional":false},"payload":12.0}"#
    );
    assert_eq!(
        out(&c, Some(&Schema::float32()), &Value::Float32(1.5)),
        r#"{"schema":{"type":"float","optional":false},"payload":1.5}"#
    );
    assert_eq!(
        out(
            &c,
            Some(&Schema::optional_string()),
            &Value::String("x".into())
        ),
        r#"{"schema":{"type":"string","optional":true},"payload":"x"}"#
    );
    assert_eq!(
        out(
            &c,
            Some(&Schema::bytes()),
            &Value::Bytes(b"\x00\x01".to_vec())
        ),
        r#"{"schema":{"type":"bytes","optional":false},"payload":"AAE="}"#
    );
    assert_eq!(
        out(&c, None, &Value::Int64(5)),
        r#"{"schema":null,"payload":5}"#
    );
    assert_eq!(
        c.from_connect_data("t", &Headers::new(), None, &Value::Null)
            .unwrap(),
        None
    );
}

#[test]
fn struct_with_decimal_matches_spec_example() {
    let c = json(true, &[]);
    let schema = SchemaBuilder::struct_()
        .name("order")
        .field("id", Schema::int32())
        .field("amount", logical::decimal(2).optional().build())
        .build();
    let s = Struct::new(schema.clone())
        .with("id", 1)
        .unwrap()
        .with(
            "amount",
            Value::Decimal("10.23".parse::<BigDecimal>().unwrap()),
        )
        .unwrap();
    let text = out(&c, Some(&schema), &Value::Struct(s.clone()));
    assert_eq!(
        text,
        r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"amount"}],"optional":false,"name":"order"},"payload":{"id":1,"amount":"A/8="}}"#
    );
    let (rs, rv) = read(&c, &text);
    assert_eq!(rs.as_deref(), Some(schema.as_ref()));
    assert_eq!(rv, Value::Struct(s));
    let numeric = json(true, &[("decimal.format", "NUMERIC")]);
    assert!(out(&numeric, Some(&schema), &rv).ends_with(r#""payload":{"id":1,"amount":10.23}}"#));
}

#[test]
fn logical_dates_maps_and_defaults() {
    let c = json(true, &[]);
    let date = logical::date().build();
    assert_eq!(
        out(&c, Some(&date), &Value::Date(19000)),
        r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":19000}"#
    );
    assert_eq!(
        read(&c, &out(&c, Some(&date), &Value::Date(19000))).1,
        Value::Date(19000)
    );
    let ts = logical::timestamp().build();
    assert_eq!(
        read(&c, &out(&c, Some(&ts), &Value::Timestamp(1))).1,
        Value::Timestamp(1)
    );
    let m = SchemaBuilder::map(Schema::int32(), Schema::string()).build();
    let mv = Value::Map(vec![(Value::Int32(1), Value::String("a".into()))]);
    assert_eq!(
        out(&c, Some(&m), &mv),
        r#"{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":false},"optional":false},"payload":[[1,"a"]]}"#
    );
    assert_eq!(read(&c, &out(&c, Some(&m), &mv)).1, mv);
    let with_default = SchemaBuilder::new(SchemaType::Int32)
        .optional()
        .default_value(Value::Int32(7))
        .build();
    assert_eq!(
        out(&c, Some(&with_default), &Value::Null),
        r#"{"schema":{"type":"int32","optional":true,"default":7},"payload":7}"#
    );
    let keep_null = json(true, &[("replace.null.with.default", "false")]);
    assert_eq!(
        out(&keep_null, Some(&with_default), &Value::Null),
        r#"{"schema":{"type":"int32","optional":true,"default":7},"payload":null}"#
    );
}

#[test]
fn schemaless_json_round_trips() {
    let c = json(false, &[]);
    let (s, v) = read(&c, r#"{"a":1,"b":[true,2.5],"c":null}"#);
    assert!(s.is_none());
    assert_eq!(v.map_get("a"), Some(&Value::Int64(1)));
    assert_eq!(out(&c, None, &v), r#"{"a":1,"b":[true,2.5],"c":null}"#);
}

#[test]
fn bad_input_is_a_data_error() {
    let c = json(true, &[]);
    let e = c
        .to_connect_data("t", &Headers::new(), Some(b"{not json"))
        .unwrap_err();
    assert!(matches!(e, causeway_api::ConnectError::Data(_)));
    assert!(
        e.message().starts_with(
            "Converting byte[] to Kafka Connect data failed due to serialization error"
        )
    );
    let e = c
        .to_connect_data("t", &Headers::new(), Some(br#"{"payload":1}"#))
        .unwrap_err();
    assert!(
        e.message()
            .contains("requires \"schema\" and \"payload\" fields")
    );
    let e = c
        .to_connect_data(
            "t",
            &Headers::new(),
            Some(br#"{"schema":{"type":"int32"},"payload":"x"}"#),
        )
        .unwrap_err();
    assert!(matches!(e, causeway_api::ConnectError::Data(_)));
    assert!(
        c.to_connect_data("t", &Headers::new(), None)
            .unwrap()
            .value
            .is_null()
    );
}

#[test]
fn simple_converters_round_trip() {
    let s = StringConverter::new();
    assert_eq!(out(&s, None, &Value::Int32(5)), "5");
    assert_eq!(read(&s, "héllo").1, Value::String("héllo".into()));
    let b = ByteArrayConverter;
    assert!(
        b.from_connect_data("t", &Headers::new(), None, &Value::Int32(1))
            .is_err()
    );
    let i = IntegerConverter;
    let bytes = i
        .from_connect_data("t", &Headers::new(), None, &Value::Int32(258))
        .unwrap()
        .unwrap();
    assert_eq!(bytes, vec![0, 0, 1, 2]);
    assert_eq!(
        i.to_connect_data("t", &Headers::new(), Some(&bytes))
            .unwrap()
            .value,
        Value::Int32(258)
    );
    assert!(
        LongConverter
            .to_connect_data("t", &Headers::new(), Some(&bytes))
            .is_err()
    );
    let bc = BooleanConverter;
    assert_eq!(
        bc.to_connect_data("t", &Headers::new(), Some(&[1]))
            .unwrap()
            .value,
        Value::Boolean(true)
    );
    let h = SimpleHeaderConverter;
    assert_eq!(
        h.to_connect_header("t", "k", Some(b"42")).unwrap().value,
        Value::Int8(42)
    );
    assert_eq!(
        h.to_connect_header("t", "k", Some(b"70000")).unwrap().value,
        Value::Int32(70000)
    );
    assert_eq!(
        h.to_connect_header("t", "k", Some(b"true")).unwrap().value,
        Value::Boolean(true)
    );
    assert_eq!(
        h.to_connect_header("t", "k", Some(b"abc")).unwrap().value,
        Value::String("abc".into())
    );
    assert_eq!(
        h.from_connect_header("t", "k", None, &Value::Int64(9))
            .unwrap(),
        Some(b"9".to_vec())
    );
}

#[test]
fn every_converter_is_registered_under_its_apache_name() {
    let names: Vec<&str> = plugins().iter().map(|p| p.class_name).collect();
    for c in [
        "org.apache.kafka.connect.json.JsonConverter",
        "org.apache.kafka.connect.storage.StringConverter",
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        "org.apache.kafka.connect.converters.LongConverter",
    ] {
        assert!(names.contains(&c), "{c} missing");
    }
}
