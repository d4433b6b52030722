//! Transforms and predicates in real pipelines, on the embedded log and on the broker: a source renames its
//! topic with RegexRouter; a sink drops records with Filter under a predicate, and their offsets still commit.
mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn regex_router_and_predicated_filter_embedded() {
    regex_router_and_predicated_filter(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn regex_router_and_predicated_filter_on_kafka() {
    regex_router_and_predicated_filter(Backend::Kafka).await;
}

async fn regex_router_and_predicated_filter(backend: Backend) {
    const LINES: usize = 200;
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("in.txt");
    write_lines(&input, 0, LINES, 20);
    let topic = backend.topic("raw");
    let routed = format!("mysql-debezium-{topic}");
    let keep = backend.topic("keep");
    let drop_all = backend.topic("dropall");
    let worker = backend.start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;

    let mut source = source_config(&input, &topic);
    source["transforms"] = json!("addTopicPrefix,tag");
    source["transforms.tag.type"] = json!("InsertHeader");
    source["transforms.tag.header"] = json!("MessageSource");
    source["transforms.tag.value.literal"] = json!("file-source");
    source["transforms.addTopicPrefix.type"] =
        json!("org.apache.kafka.connect.transforms.RegexRouter");
    source["transforms.addTopicPrefix.regex"] = json!("(.*)");
    source["transforms.addTopicPrefix.replacement"] = json!("mysql-debezium-$1");
    expect_status(
        &rest.put("/connectors/src/config", source).await,
        201,
        "source",
    );

    // One sink keeps everything (the filter's predicate never matches the routed topic)...
    let kept = dir.join("kept.txt");
    let mut sink = sink_config(&kept, &routed);
    sink["transforms"] = json!("skip");
    sink["transforms.skip.type"] = json!("Filter");
    sink["transforms.skip.predicate"] = json!("isRaw");
    sink["predicates"] = json!("isRaw");
    sink["predicates.isRaw.type"] = json!("TopicNameMatches");
    sink["predicates.isRaw.pattern"] = json!(topic.replace('.', "\\."));
    expect_status(
        &rest.put(&format!("/connectors/{keep}/config"), sink).await,
        201,
        "keeping sink",
    );

    // ...the other drops everything (negated predicate), yet commits its offsets.
    let dropped = dir.join("dropped.txt");
    let mut sink = sink_config(&dropped, &routed);
    sink["transforms"] = json!("skip");
    sink["transforms.skip.type"] = json!("org.apache.kafka.connect.transforms.Filter");
    sink["transforms.skip.predicate"] = json!("isRaw");
    sink["transforms.skip.negate"] = json!("true");
    sink["predicates"] = json!("isRaw");
    sink["predicates.isRaw.type"] =
        json!("org.apache.kafka.connect.transforms.predicates.TopicNameMatches");
    sink["predicates.isRaw.pattern"] = json!(topic.replace('.', "\\."));
    expect_status(
        &rest
            .put(&format!("/connectors/{drop_all}/config"), sink)
            .await,
        201,
        "dropping sink",
    );

    let lines = wait_lines_or_dump(&worker, &kept, LINES, DATA_TIMEOUT).await;
    assert_eq!(lines, read_lines(&input));
    let r = rest.get("/connectors/src/topics").await;
    assert_eq!(
        r.body,
        json!({"src": {"topics": [routed.clone()]}}),
        "the source wrote to the routed topic only"
    );
    wait_for(
        "dropping sink committed past every record",
        STATE_TIMEOUT,
        || async {
            let r = rest.get(&format!("/connectors/{drop_all}/offsets")).await;
            (r.body["offsets"][0]["offset"]["kafka_offset"] == LINES).then_some(())
        },
    )
    .await;
    assert!(
        read_lines(&dropped).is_empty(),
        "every record was filtered out"
    );

    if backend.is_kafka() {
        // Read back by an independent client: routed topic, values and the inserted header, byte for byte.
        let records = backend.read_topic(&routed, LINES, DATA_TIMEOUT).await;
        let expected = read_lines(&input);
        assert_eq!(records.len(), LINES);
        for (r, line) in records.iter().zip(&expected) {
            assert_eq!(r.value.as_deref(), Some(line.as_bytes()));
            assert_eq!(
                r.headers,
                vec![("MessageSource".to_owned(), Some(b"file-source".to_vec()))]
            );
        }
    }

    // Every transform and predicate is listed with its type.
    let plugins = rest
        .get("/connector-plugins?connectorsOnly=false")
        .await
        .body;
    for (class, ty) in [
        (
            "org.apache.kafka.connect.transforms.HoistField$Value",
            "transformation",
        ),
        (
            "org.apache.kafka.connect.transforms.InsertHeader",
            "transformation",
        ),
        (
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            "predicate",
        ),
    ] {
        assert!(
            plugins
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["class"] == class && p["type"] == ty),
            "{class} listed as {ty}: {plugins}"
        );
    }

    // Validation knows the transforms' own keys.
    let mut bad = sink_config(&dropped, &routed);
    bad["name"] = json!("bad");
    bad["transforms"] = json!("route");
    bad["transforms.route.type"] = json!("RegexRouter");
    let r = rest
        .put("/connector-plugins/FileStreamSink/config/validate", bad)
        .await;
    expect_status(&r, 200, "validate");
    let errors: Vec<String> = r.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["value"]["errors"].as_array().cloned().unwrap_or_default())
        .map(|e| e.as_str().unwrap().to_owned())
        .collect();
    assert!(
        errors.contains(&"Missing required configuration \"transforms.route.regex\" which has no default value.".to_owned()),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn schemaful_chain_hoists_and_inserts_fields_embedded() {
    schemaful_chain_hoists_and_inserts_fields(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn schemaful_chain_hoists_and_inserts_fields_on_kafka() {
    schemaful_chain_hoists_and_inserts_fields(Backend::Kafka).await;
}

/// A source's String values become Structs (HoistField), gain a static field (InsertField) and a cast-free
/// rename (ReplaceField), and leave as schemaless JSON; the sink writes that JSON as text.
async fn schemaful_chain_hoists_and_inserts_fields(backend: Backend) {
    const LINES: usize = 50;
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("in.txt");
    write_lines(&input, 0, LINES, 16);
    let topic = backend.topic("structs");
    let snk = backend.topic("snk");
    let worker = backend.start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;

    let mut source = source_config(&input, &topic);
    source["value.converter"] = json!("org.apache.kafka.connect.json.JsonConverter");
    source["value.converter.schemas.enable"] = json!("false");
    source["transforms"] = json!("hoist,origin,rename");
    source["transforms.hoist.type"] = json!("org.apache.kafka.connect.transforms.HoistField$Value");
    source["transforms.hoist.field"] = json!("line");
    source["transforms.origin.type"] =
        json!("org.apache.kafka.connect.transforms.InsertField$Value");
    source["transforms.origin.static.field"] = json!("origin");
    source["transforms.origin.static.value"] = json!("file");
    source["transforms.rename.type"] =
        json!("org.apache.kafka.connect.transforms.ReplaceField$Value");
    source["transforms.rename.renames"] = json!("line:text");
    expect_status(
        &rest.put("/connectors/src/config", source).await,
        201,
        "source",
    );
    let output = dir.join("out.txt");
    expect_status(
        &rest
            .put(
                &format!("/connectors/{snk}/config"),
                sink_config(&output, &topic),
            )
            .await,
        201,
        "sink",
    );
    let lines = wait_lines_or_dump(&worker, &output, LINES, DATA_TIMEOUT).await;
    let expected: Vec<String> = read_lines(&input)
        .iter()
        .map(|l| json!({"text": l, "origin": "file"}).to_string())
        .collect();
    assert_eq!(lines, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn debezium_unwrap_and_topic_prefix_embedded() {
    debezium_unwrap_and_topic_prefix(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn debezium_unwrap_and_topic_prefix_on_kafka() {
    debezium_unwrap_and_topic_prefix(Backend::Kafka).await;
}

/// A Debezium change event as Debezium's MySQL connector and JsonConverter (schemas on) write it.
fn debezium_event(op: &str, before: Value, after: Value, table_ts: i64) -> String {
    let row = |field: &str| {
        json!({"type": "struct", "optional": true, "name": "dbserver1.inventory.customers.Value",
               "field": field, "fields": [
                   {"type": "int32", "optional": false, "field": "id"},
                   {"type": "string", "optional": false, "field": "first_name"},
                   {"type": "string", "optional": false, "field": "email"}]})
    };
    json!({
        "schema": {"type": "struct", "optional": false, "name": "dbserver1.inventory.customers.Envelope",
                   "version": 1, "fields": [
            row("before"),
            row("after"),
            {"type": "struct", "optional": false, "name": "io.debezium.connector.mysql.Source",
             "field": "source", "fields": [
                {"type": "string", "optional": false, "field": "version"},
                {"type": "string", "optional": false, "field": "connector"},
                {"type": "string", "optional": false, "field": "name"},
                {"type": "int64", "optional": false, "field": "ts_ms"},
                {"type": "string", "optional": true, "field": "db"},
                {"type": "string", "optional": true, "field": "table"}]},
            {"type": "string", "optional": false, "field": "op"},
            {"type": "int64", "optional": true, "field": "ts_ms"}]},
        "payload": {
            "before": before,
            "after": after,
            "source": {"version": "2.7.0.Final", "connector": "mysql", "name": "dbserver1",
                       "ts_ms": table_ts, "db": "inventory", "table": "customers"},
            "op": op,
            "ts_ms": table_ts + 5
        }
    })
    .to_string()
}

/// The seed's chain `transforms=unwrap,addTopicPrefix` (Debezium's ExtractNewRecordState, then RegexRouter)
/// on Debezium-shaped change events read from a topic: each record becomes the flat row, on topic
/// `mysql-debezium-<original>`. A third transform writes the record's topic into the row so the file sink
/// shows it, and a fourth turns the source timestamp into text. Debezium's rewrite adds `__deleted` before the `add.fields` fields.
async fn debezium_unwrap_and_topic_prefix(backend: Backend) {
    let tmp = temp_dir();
    let dir = tmp.path();
    let sally = json!({"id": 1001, "first_name": "Sally", "email": "sally@example.com"});
    let sally2 = json!({"id": 1001, "first_name": "Sally", "email": "sally@example.org"});
    let events = [
        debezium_event("c", Value::Null, sally.clone(), 1000),
        debezium_event("u", sally.clone(), sally2.clone(), 2000),
        debezium_event("d", sally2.clone(), Value::Null, 3000),
    ];
    let input = dir.join("events.json");
    std::fs::write(&input, events.join("\n") + "\n").unwrap();
    let topic = backend.topic("dbserver1.inventory.customers");
    let snk = backend.topic("unwrapped");
    let worker = backend.start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;

    // The events go into the topic as they are.
    expect_status(
        &rest
            .put("/connectors/src/config", source_config(&input, &topic))
            .await,
        201,
        "source",
    );
    let output = dir.join("rows.txt");
    let mut sink = sink_config(&output, &topic);
    sink["value.converter"] = json!("org.apache.kafka.connect.json.JsonConverter");
    sink["value.converter.schemas.enable"] = json!("true");
    sink["transforms"] = json!("unwrap,addTopicPrefix,topicField,sourceTime");
    sink["transforms.unwrap.type"] = json!("io.debezium.transforms.ExtractNewRecordState");
    sink["transforms.unwrap.add.fields"] = json!("op,source.ts_ms");
    sink["transforms.unwrap.delete.tombstone.handling.mode"] = json!("rewrite");
    sink["transforms.addTopicPrefix.type"] =
        json!("org.apache.kafka.connect.transforms.RegexRouter");
    sink["transforms.addTopicPrefix.regex"] = json!("(.*)");
    sink["transforms.addTopicPrefix.replacement"] = json!("mysql-debezium-$1");
    sink["transforms.topicField.type"] =
        json!("org.apache.kafka.connect.transforms.InsertField$Value");
    sink["transforms.topicField.topic.field"] = json!("topic");
    sink["transforms.sourceTime.type"] =
        json!("org.apache.kafka.connect.transforms.TimestampConverter$Value");
    sink["transforms.sourceTime.field"] = json!("__source_ts_ms");
    sink["transforms.sourceTime.target.type"] = json!("string");
    sink["transforms.sourceTime.format"] = json!("yyyy-MM-dd'T'HH:mm:ss.SSSX");
    expect_status(
        &rest.put(&format!("/connectors/{snk}/config"), sink).await,
        201,
        "sink",
    );

    let rows = wait_lines_or_dump(&worker, &output, 3, DATA_TIMEOUT).await;
    let routed = format!("mysql-debezium-{topic}");
    assert_eq!(
        rows,
        vec![
            format!(
                "Struct{{id=1001,first_name=Sally,email=sally@example.com,__deleted=false,__op=c,__source_ts_ms=1970-01-01T00:00:01.000Z,topic={routed}}}"
            ),
            format!(
                "Struct{{id=1001,first_name=Sally,email=sally@example.org,__deleted=false,__op=u,__source_ts_ms=1970-01-01T00:00:02.000Z,topic={routed}}}"
            ),
            format!(
                "Struct{{id=1001,first_name=Sally,email=sally@example.org,__deleted=true,__op=d,__source_ts_ms=1970-01-01T00:00:03.000Z,topic={routed}}}"
            ),
        ]
    );
}
