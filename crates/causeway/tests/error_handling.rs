//! Connect's error handling in real pipelines, on the embedded log and on the broker: a sink that meets
//! records its converter cannot read sends them to the dead letter queue with `__connect.errors.*` headers
//! and delivers every other record (`errors.tolerance=all`), and fails with a trace naming the stage and the
//! record under `errors.tolerance=none`.
mod common;

use common::*;

const LINES: usize = 30;
/// Lines (0-based) that are not JSON.
const POISON: [usize; 2] = [9, 19];

#[tokio::test(flavor = "multi_thread")]
async fn poison_records_go_to_the_dead_letter_queue_embedded() {
    poison_records_go_to_the_dead_letter_queue(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_records_go_to_the_dead_letter_queue_on_kafka() {
    poison_records_go_to_the_dead_letter_queue(Backend::Kafka).await;
}

fn input_lines() -> Vec<String> {
    (0..LINES)
        .map(|i| {
            if POISON.contains(&i) {
                format!("not json {{ {i}")
            } else {
                format!("{{\"n\":{i}}}")
            }
        })
        .collect()
}

/// A sink reading `topic` with JsonConverter (no schemas), so the poison lines fail in VALUE_CONVERTER.
fn json_sink(output: &std::path::Path, topic: &str) -> Value {
    let mut sink = sink_config(output, topic);
    sink["value.converter"] = json!("org.apache.kafka.connect.json.JsonConverter");
    sink["value.converter.schemas.enable"] = json!("false");
    sink
}

async fn poison_records_go_to_the_dead_letter_queue(backend: Backend) {
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("in.txt");
    let lines = input_lines();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let topic = backend.topic("mixed");
    let dlq = backend.topic("mixed-dlq");
    let tolerant = backend.topic("tolerant");
    let strict = backend.topic("strict");
    let dlq_reader = backend.topic("dlqreader");
    if backend.is_kafka() {
        // One partition, so the poison records' offsets are their line numbers.
        let cluster = backend.cluster().await;
        let t = topic.clone();
        tokio::task::spawn_blocking(move || cluster.create_topic(&t, 1))
            .await
            .unwrap();
    }
    let worker = backend.start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;

    // The source writes the lines as they are (StringConverter).
    let r = rest
        .put("/connectors/src/config", source_config(&input, &topic))
        .await;
    expect_status(&r, 201, "source");

    // Tolerant sink with a DLQ and context headers.
    let delivered = dir.join("delivered.txt");
    let mut sink = json_sink(&delivered, &topic);
    sink["errors.tolerance"] = json!("all");
    sink["errors.log.enable"] = json!("true");
    sink["errors.log.include.messages"] = json!("true");
    sink["errors.deadletterqueue.topic.name"] = json!(dlq);
    sink["errors.deadletterqueue.topic.replication.factor"] = json!("1");
    sink["errors.deadletterqueue.context.headers.enable"] = json!("true");
    let r = rest
        .put(&format!("/connectors/{tolerant}/config"), sink)
        .await;
    expect_status(&r, 201, "tolerant sink");

    // Strict sink: the default errors.tolerance=none.
    let strict_out = dir.join("strict.txt");
    let r = rest
        .put(
            &format!("/connectors/{strict}/config"),
            json_sink(&strict_out, &topic),
        )
        .await;
    expect_status(&r, 201, "strict sink");

    // Every good record arrives, in order (FileStreamSink writes a JSON object as Java's Map.toString).
    let expected: Vec<String> = (0..LINES)
        .filter(|i| !POISON.contains(i))
        .map(|i| format!("{{n={i}}}"))
        .collect();
    let got = wait_lines_or_dump(&worker, &delivered, expected.len(), DATA_TIMEOUT).await;
    assert_eq!(got, expected);

    // Offsets commit past the poison records too.
    wait_for(
        "tolerant sink committed every record",
        STATE_TIMEOUT,
        || async {
            let r = rest.get(&format!("/connectors/{tolerant}/offsets")).await;
            (r.body["offsets"][0]["offset"]["kafka_offset"] == LINES).then_some(())
        },
    )
    .await;
    let status = rest
        .get(&format!("/connectors/{tolerant}/status"))
        .await
        .body;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");

    // The DLQ holds exactly the poison records, raw: read it back with a plain sink.
    let dlq_out = dir.join("dlq.txt");
    let r = rest
        .put(
            &format!("/connectors/{dlq_reader}/config"),
            sink_config(&dlq_out, &dlq),
        )
        .await;
    expect_status(&r, 201, "dlq reader");
    let got = wait_lines_or_dump(&worker, &dlq_out, POISON.len(), DATA_TIMEOUT).await;
    let poison: Vec<String> = POISON.iter().map(|i| lines[*i].clone()).collect();
    assert_eq!(got, poison);

    // The error log names the stage, the converter and the record.
    let log = worker.log();
    assert!(
        log.contains(&format!(
            "Error encountered in task {tolerant}-0. Executing stage 'VALUE_CONVERTER' with class \
             'org.apache.kafka.connect.json.JsonConverter', where consumed record is {{topic='{topic}', \
             partition=0, offset=9"
        )),
        "error log line missing: {}",
        log_tail(&log, 40)
    );

    // The strict sink failed on the first poison record, and says where.
    let status = wait_for("strict sink task FAILED", STATE_TIMEOUT, || async {
        let r = rest.get(&format!("/connectors/{strict}/status")).await;
        (r.body["tasks"][0]["state"] == "FAILED").then_some(r.body)
    })
    .await;
    let trace = status["tasks"][0]["trace"].as_str().unwrap_or_default();
    for needle in [
        "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler",
        "org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error",
        "stage VALUE_CONVERTER with class org.apache.kafka.connect.json.JsonConverter",
        &format!("topic '{topic}', partition 0, offset 9"),
    ] {
        assert!(trace.contains(needle), "trace lacks {needle:?}: {trace}");
    }
    // Nothing at or after the poison record reached the task (records converted in the same batch before
    // it are not put either, as in Apache, since the batch fails as a whole).
    let strict_lines = read_lines(&strict_out);
    assert!(
        strict_lines.len() <= 9 && expected.starts_with(&strict_lines),
        "the strict sink stopped at the poison record: {strict_lines:?}"
    );

    if backend.is_kafka() {
        // Headers exactly as Apache's DeadLetterQueueReporter writes them, read by an independent client.
        let records = backend.read_topic(&dlq, POISON.len(), DATA_TIMEOUT).await;
        assert_eq!(records.len(), POISON.len());
        for (record, line) in records.iter().zip(POISON) {
            assert_eq!(record.value_str().as_deref(), Some(lines[line].as_str()));
            let header = |name: &str| {
                record
                    .headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.clone())
                    .map(|v| String::from_utf8(v).unwrap())
                    .unwrap_or_else(|| panic!("header {name} missing: {:?}", record.headers))
            };
            assert_eq!(header("__connect.errors.topic"), topic);
            assert_eq!(header("__connect.errors.partition"), "0");
            assert_eq!(header("__connect.errors.offset"), line.to_string());
            assert_eq!(header("__connect.errors.connector.name"), tolerant);
            assert_eq!(header("__connect.errors.task.id"), "0");
            assert_eq!(header("__connect.errors.stage"), "VALUE_CONVERTER");
            assert_eq!(
                header("__connect.errors.class.name"),
                "org.apache.kafka.connect.json.JsonConverter"
            );
            assert_eq!(
                header("__connect.errors.exception.class.name"),
                "org.apache.kafka.connect.errors.DataException"
            );
            assert!(
                header("__connect.errors.exception.message").starts_with(
                    "Converting byte[] to Kafka Connect data failed due to serialization error"
                ),
                "{:?}",
                record.headers
            );
            assert!(
                header("__connect.errors.exception.stacktrace")
                    .starts_with("org.apache.kafka.connect.errors.DataException: "),
            );
            assert!(record.timestamp.is_some(), "the original timestamp is kept");
        }
        assert_eq!(backend.topic_partitions(&dlq).await, Some(1));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dlq_topic_may_not_be_a_consumed_topic() {
    let tmp = temp_dir();
    let worker = start_worker(&tmp.path().join("worker")).await;
    let mut sink = sink_config(&tmp.path().join("out.txt"), "a,b");
    sink["errors.deadletterqueue.topic.name"] = json!("b");
    let r = worker
        .rest
        .put("/connector-plugins/FileStreamSink/config/validate", {
            sink["name"] = json!("s");
            sink
        })
        .await;
    expect_status(&r, 200, "validate");
    let errors: Vec<String> = r.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["value"]["name"] == "errors.deadletterqueue.topic.name")
        .flat_map(|c| c["value"]["errors"].as_array().cloned().unwrap_or_default())
        .map(|e| e.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        errors,
        vec![
            "The DLQ topic 'b' may not be included in the list of topics ('topics=a,b') consumed by the connector"
        ]
    );
}
