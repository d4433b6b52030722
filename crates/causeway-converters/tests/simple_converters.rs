//! StringConverter, ByteArrayConverter, the number converters, BooleanConverter, SimpleHeaderConverter and
//! plugin registration, against Apache's behaviour.

use std::str::FromStr;

use causeway_api::{ConnectError, Converter, HeaderConverter, PluginFactory, PluginType, Props};
use causeway_converters::{
    BooleanConverter, ByteArrayConverter, DoubleConverter, FloatConverter, IntegerConverter,
    LongConverter, ShortConverter, SimpleHeaderConverter, StringConverter, convert_to_string,
    parse_string, plugins,
};
use causeway_data::{
    BigDecimal, Headers, Schema, SchemaAndValue, SchemaBuilder, SchemaType, Struct, Value, logical,
};

fn props(kv: &[(&str, &str)]) -> Props {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn to_bytes(c: &dyn Converter, v: &Value) -> Option<Vec<u8>> {
    c.from_connect_data("t", &Headers::new(), None, v).unwrap()
}

fn from_bytes(c: &dyn Converter, b: Option<&[u8]>) -> SchemaAndValue {
    c.to_connect_data("t", &Headers::new(), b).unwrap()
}

fn data_err<T: std::fmt::Debug>(r: causeway_api::Result<T>) -> String {
    match r {
        Err(ConnectError::Data(m)) => m,
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn string_converter_writes_java_to_string() {
    let c = StringConverter::new();
    let cases: Vec<(Value, &str)> = vec![
        ("héllo".into(), "héllo"),
        (Value::Int32(5), "5"),
        (Value::Int64(-9), "-9"),
        (Value::Float64(1e10), "1.0E10"),
        (Value::Float64(2.5), "2.5"),
        (Value::Float32(0.1), "0.1"),
        (Value::Boolean(true), "true"),
        (
            Value::Decimal(BigDecimal::from_str("0.0000001").unwrap()),
            "1E-7",
        ),
        (
            Value::Array(vec![Value::Int32(1), "a".into(), Value::Null]),
            "[1, a, null]",
        ),
        (
            Value::Map(vec![
                ("k".into(), Value::Int32(1)),
                ("j".into(), Value::Boolean(false)),
            ]),
            "{k=1, j=false}",
        ),
        (Value::Timestamp(0), "Thu Jan 01 00:00:00 UTC 1970"),
        (Value::Date(18_131), "Fri Aug 23 00:00:00 UTC 2019"),
    ];
    for (v, want) in cases {
        assert_eq!(to_bytes(&c, &v).unwrap(), want.as_bytes(), "{v:?}");
    }
    let schema = SchemaBuilder::struct_()
        .field("a", Schema::int32())
        .field("b", Schema::optional_string())
        .field("c", Schema::float64())
        .build();
    let st = Struct::new(schema)
        .with("a", 1)
        .unwrap()
        .with("c", 1.5)
        .unwrap();
    assert_eq!(
        to_bytes(&c, &Value::Struct(st)).unwrap(),
        b"Struct{a=1,c=1.5}"
    );
    assert_eq!(to_bytes(&c, &Value::Null), None);
    assert_eq!(
        from_bytes(&c, Some("héllo".as_bytes())),
        SchemaAndValue::new(Some(Schema::optional_string()), "héllo".into())
    );
    assert_eq!(
        from_bytes(&c, None),
        SchemaAndValue::new(Some(Schema::optional_string()), Value::Null)
    );
    // Invalid UTF-8 decodes with replacement characters, as new String(bytes, UTF_8) does.
    assert_eq!(from_bytes(&c, Some(b"a\xffb")).value, "a\u{FFFD}b".into());
}

/// Java's `Double.toString` / `Float.toString` for pseudo-random bit patterns and short decimals, as written
/// by a JDK 25 (every JDK since 19 prints the same); StringConverter and JsonConverter render numbers with it.
#[test]
fn numbers_render_like_the_jdk() {
    let c = StringConverter::new();
    let text = |v: Value| String::from_utf8(to_bytes(&c, &v).unwrap()).unwrap();
    let data = include_str!("data/java_number_strings.tsv");
    let mut n = 0;
    for line in data.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        for pair in [0, 4] {
            let d = f64::from_bits(u64::from_str_radix(f[pair], 16).unwrap());
            assert_eq!(text(Value::Float64(d)), f[pair + 1], "{}", f[pair]);
            let x = f32::from_bits(u32::from_str_radix(f[pair + 2], 16).unwrap());
            assert_eq!(text(Value::Float32(x)), f[pair + 3], "{}", f[pair + 2]);
            n += 2;
        }
    }
    assert_eq!(n, 2000);
}

#[test]
fn string_converter_encodings() {
    let mut c = StringConverter::new();
    Converter::configure(
        &mut c,
        &props(&[("converter.encoding", "ISO-8859-1")]),
        false,
    )
    .unwrap();
    assert_eq!(to_bytes(&c, &"é€".into()).unwrap(), b"\xe9?");
    assert_eq!(from_bytes(&c, Some(b"\xe9")).value, "é".into());
    let mut c = StringConverter::new();
    Converter::configure(
        &mut c,
        &props(&[
            ("converter.encoding", "UTF-16"),
            ("key.deserializer.encoding", "UTF-16LE"),
        ]),
        true,
    )
    .unwrap();
    assert_eq!(
        to_bytes(&c, &"a".into()).unwrap(),
        vec![0xFE, 0xFF, 0, b'a']
    );
    assert_eq!(from_bytes(&c, Some(&[b'a', 0])).value, "a".into());
    let mut c = StringConverter::new();
    let err = Converter::configure(
        &mut c,
        &props(&[("converter.encoding", "EBCDIC-XX")]),
        false,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ConnectError::Config("Unsupported encoding EBCDIC-XX".into())
    );
    let mut h = StringConverter::new();
    HeaderConverter::configure(&mut h, &Props::new()).unwrap();
    assert_eq!(
        h.from_connect_header("t", "k", None, &Value::Int8(3))
            .unwrap(),
        Some(b"3".to_vec())
    );
    let names: Vec<String> = StringConverter::config_def()
        .keys()
        .iter()
        .map(|k| k.name.clone())
        .collect();
    assert_eq!(names, ["converter.type", "converter.encoding"]);
}

#[test]
fn byte_array_converter() {
    let c = ByteArrayConverter::new();
    assert_eq!(to_bytes(&c, &Value::Bytes(vec![1, 2])).unwrap(), vec![1, 2]);
    assert_eq!(to_bytes(&c, &Value::Null), None);
    assert_eq!(
        data_err(c.from_connect_data("t", &Headers::new(), None, &"x".into())),
        "ByteArrayConverter is not compatible with objects of type class java.lang.String"
    );
    assert_eq!(
        data_err(c.from_connect_data(
            "t",
            &Headers::new(),
            Some(&Schema::string()),
            &Value::Bytes(vec![])
        )),
        "Invalid schema type for ByteArrayConverter: STRING"
    );
    assert_eq!(
        from_bytes(&c, Some(&[9])),
        SchemaAndValue::new(Some(Schema::optional_bytes()), Value::Bytes(vec![9]))
    );
    assert_eq!(
        from_bytes(&c, None),
        SchemaAndValue::new(Some(Schema::optional_bytes()), Value::Null)
    );
    assert_eq!(
        c.to_connect_header("t", "h", Some(&[7])).unwrap().value,
        Value::Bytes(vec![7])
    );
}

#[test]
fn number_converters_are_big_endian() {
    let cases: Vec<(Box<dyn Converter>, Value, Vec<u8>, SchemaAndValue)> = vec![
        (
            Box::new(DoubleConverter::new()),
            Value::Float64(1.0),
            vec![0x3F, 0xF0, 0, 0, 0, 0, 0, 0],
            SchemaAndValue::new(Some(Schema::optional_float64()), Value::Null),
        ),
        (
            Box::new(FloatConverter::new()),
            Value::Float32(-2.0),
            vec![0xC0, 0, 0, 0],
            SchemaAndValue::new(Some(Schema::optional_float32()), Value::Null),
        ),
        (
            Box::new(IntegerConverter::new()),
            Value::Int32(258),
            vec![0, 0, 1, 2],
            SchemaAndValue::new(Some(Schema::optional_int32()), Value::Null),
        ),
        (
            Box::new(LongConverter::new()),
            Value::Int64(-2),
            vec![0xFF; 7].into_iter().chain([0xFE]).collect(),
            SchemaAndValue::new(Some(Schema::optional_int64()), Value::Null),
        ),
        (
            Box::new(ShortConverter::new()),
            Value::Int16(0x0102),
            vec![1, 2],
            SchemaAndValue::new(Some(Schema::optional_int16()), Value::Null),
        ),
    ];
    for (c, v, bytes, null) in cases {
        assert_eq!(to_bytes(c.as_ref(), &v).unwrap(), bytes);
        let back = from_bytes(c.as_ref(), Some(&bytes));
        assert_eq!(back.value, v);
        assert_eq!(back.schema, null.schema);
        assert_eq!(from_bytes(c.as_ref(), None), null);
        assert_eq!(to_bytes(c.as_ref(), &Value::Null), None);
    }
    assert_eq!(
        data_err(DoubleConverter::new().to_connect_data("t", &Headers::new(), Some(&[1, 2]))),
        "Failed to deserialize double: Size of data received by Deserializer is not 8"
    );
    assert_eq!(
        data_err(LongConverter::new().to_connect_data("t", &Headers::new(), Some(&[1, 2]))),
        "Failed to deserialize long: Size of data received by LongDeserializer is not 8"
    );
    assert_eq!(
        data_err(ShortConverter::new().to_connect_data("t", &Headers::new(), Some(&[1]))),
        "Failed to deserialize short: Size of data received by ShortDeserializer is not 2"
    );
    assert_eq!(
        data_err(IntegerConverter::new().from_connect_data(
            "t",
            &Headers::new(),
            None,
            &"x".into()
        )),
        "Failed to serialize to integer (was class java.lang.String): class java.lang.String cannot be cast to class java.lang.Integer"
    );
    let mut c = IntegerConverter::new();
    assert!(Converter::configure(&mut c, &Props::new(), true).is_ok());
    assert!(HeaderConverter::configure(&mut c, &props(&[("converter.type", "bogus")])).is_err());
}

#[test]
fn boolean_converter() {
    let c = BooleanConverter::new();
    assert_eq!(to_bytes(&c, &Value::Boolean(true)).unwrap(), vec![1]);
    assert_eq!(to_bytes(&c, &Value::Boolean(false)).unwrap(), vec![0]);
    assert_eq!(from_bytes(&c, Some(&[1])).value, Value::Boolean(true));
    assert_eq!(
        from_bytes(&c, Some(&[0])),
        SchemaAndValue::new(Some(Schema::optional_boolean()), Value::Boolean(false))
    );
    assert_eq!(
        data_err(c.to_connect_data("t", &Headers::new(), Some(&[0xFF]))),
        "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: -1"
    );
    assert_eq!(
        data_err(c.to_connect_data("t", &Headers::new(), Some(&[0, 0]))),
        "Failed to deserialize boolean: Size of data received by BooleanDeserializer is not 1"
    );
    assert_eq!(
        data_err(c.from_connect_data("t", &Headers::new(), Some(&Schema::int8()), &Value::Int8(1))),
        "Invalid schema type for BooleanConverter: INT8"
    );
    assert_eq!(
        data_err(c.from_connect_data("t", &Headers::new(), None, &Value::Int8(1))),
        "BooleanConverter is not compatible with objects of type class java.lang.Byte"
    );
}

#[test]
fn simple_header_converter_round_trips() {
    let h = SimpleHeaderConverter::new();
    let write = |v: &Value| {
        String::from_utf8(h.from_connect_header("t", "k", None, v).unwrap().unwrap()).unwrap()
    };
    let read = |s: &str| h.to_connect_header("t", "k", Some(s.as_bytes())).unwrap();
    let st_schema = SchemaBuilder::struct_()
        .field("name", Schema::string())
        .field("n", Schema::optional_int32())
        .build();
    let st = Struct::new(st_schema).with("name", "a\"b").unwrap();
    assert_eq!(write(&Value::Struct(st)), r#"{"name":"a\"b","n":null}"#);
    assert_eq!(write(&Value::Bytes(b"hi".to_vec())), "aGk=");
    assert_eq!(
        write(&Value::Array(vec!["x".into(), Value::Int32(1)])),
        r#"["x",1]"#
    );
    assert_eq!(
        h.from_connect_header("t", "k", None, &Value::Null).unwrap(),
        None
    );

    assert_eq!(
        read("42"),
        SchemaAndValue::new(Some(Schema::int8()), Value::Int8(42))
    );
    assert_eq!(read("70000").value, Value::Int32(70000));
    assert_eq!(
        read("3.25"),
        SchemaAndValue::new(Some(Schema::float32()), Value::Float32(3.25))
    );
    assert_eq!(read("false").value, Value::Boolean(false));
    assert_eq!(read("null"), SchemaAndValue::NULL);
    assert_eq!(
        read(""),
        SchemaAndValue::new(Some(Schema::string()), "".into())
    );
    assert_eq!(read("hello world").value, "hello world".into());
    let arr = read("[1, 2, 3]");
    assert_eq!(
        arr.schema
            .as_ref()
            .unwrap()
            .value_schema
            .as_ref()
            .unwrap()
            .schema_type,
        SchemaType::Int8
    );
    let map = read(r#"{"a":1,"b":2}"#);
    assert_eq!(
        map.value,
        Value::Map(vec![
            ("a".into(), Value::Int8(1)),
            ("b".into(), Value::Int8(2))
        ])
    );
    let ts = read("2019-08-23T14:34:54.346Z");
    assert_eq!(ts.schema, Some(logical::timestamp().build()));
    assert_eq!(
        h.to_connect_header("t", "k", None).unwrap(),
        SchemaAndValue::NULL
    );
    // Text too deeply nested to parse comes back as raw bytes (Apache catches the Throwable).
    let deep = "[".repeat(300) + &"]".repeat(300);
    assert_eq!(
        h.to_connect_header("t", "k", Some(deep.as_bytes()))
            .unwrap(),
        SchemaAndValue::new(Some(Schema::bytes()), Value::Bytes(deep.into_bytes()))
    );
    // Every written value reads back.
    for v in [
        Value::Int64(1 << 40),
        Value::Float64(1.5e300),
        Value::String("plain text".into()),
        Value::Map(vec![(Value::Int16(300), "v".into())]),
        Value::Array(vec![Value::Date(1), Value::Date(2)]),
    ] {
        assert_eq!(read(&write(&v)).value, v);
    }
    assert!(HeaderConverter::config(&h).keys().is_empty());
}

#[test]
fn values_helpers_are_public() {
    assert_eq!(
        convert_to_string(None, &Value::Map(vec![("k".into(), "v".into())])).as_deref(),
        Some(r#"{"k":"v"}"#)
    );
    assert_eq!(
        parse_string("[true]").unwrap().value,
        Value::Array(vec![true.into()])
    );
}

#[test]
fn plugins_register_every_class_once_per_type() {
    let all = plugins();
    assert_eq!(all.len(), 19);
    let both = [
        "org.apache.kafka.connect.json.JsonConverter",
        "org.apache.kafka.connect.storage.StringConverter",
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        "org.apache.kafka.connect.converters.BooleanConverter",
        "org.apache.kafka.connect.converters.DoubleConverter",
        "org.apache.kafka.connect.converters.FloatConverter",
        "org.apache.kafka.connect.converters.IntegerConverter",
        "org.apache.kafka.connect.converters.LongConverter",
        "org.apache.kafka.connect.converters.ShortConverter",
    ];
    for class in both {
        let types: Vec<PluginType> = all
            .iter()
            .filter(|p| p.class_name == class)
            .map(|p| p.plugin_type())
            .collect();
        assert_eq!(
            types,
            [PluginType::Converter, PluginType::HeaderConverter],
            "{class}"
        );
    }
    let simple: Vec<_> = all
        .iter()
        .filter(|p| p.simple_name() == "SimpleHeaderConverter")
        .collect();
    assert_eq!(simple.len(), 1);
    assert_eq!(simple[0].plugin_type(), PluginType::HeaderConverter);
    for p in &all {
        assert_eq!(p.version, causeway_api::VERSION);
        match p.factory {
            PluginFactory::Converter(make) => {
                let mut c = make();
                c.configure(&Props::new(), false).unwrap();
                c.configure(&Props::new(), true).unwrap();
            }
            PluginFactory::HeaderConverter(make) => {
                let mut c = make();
                c.configure(&Props::new()).unwrap();
                assert!(
                    c.from_connect_header("t", "k", None, &Value::Null)
                        .unwrap()
                        .is_none()
                );
            }
            _ => panic!("unexpected plugin type for {}", p.class_name),
        }
    }
}
