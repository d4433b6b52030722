//! `GET /metrics` on a running worker, on the embedded log and on the broker: a FileStreamSource → topic →
//! FileStreamSink pipeline's counters equal the records it moved, a tolerant JSON sink's error counters
//! equal the poison records it met (each also sent to its dead letter queue), the worker counts its
//! connectors and tasks, and a deleted connector's series disappear.
mod common;

use std::collections::BTreeMap;

use common::*;

const LINES: usize = 120;
/// Lines (0-based) that are not JSON.
const POISON: [usize; 3] = [7, 50, 111];

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_the_records_a_pipeline_moves_embedded() {
    metrics_count_the_records_a_pipeline_moves(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_the_records_a_pipeline_moves_on_kafka() {
    metrics_count_the_records_a_pipeline_moves(Backend::Kafka).await;
}

/// One sample of a scrape: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the Prometheus text format (comments skipped, label values unescaped).
fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line.find(['{', ' ']).expect("metric name");
        let name = line[..name_end].to_owned();
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices();
            let mut key = String::new();
            let end = loop {
                let (i, c) = chars.next().expect("unterminated labels");
                match c {
                    '}' => break i,
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                        let mut value = String::new();
                        loop {
                            match chars.next().expect("unterminated label value").1 {
                                '"' => break,
                                '\\' => match chars.next().expect("escape").1 {
                                    'n' => value.push('\n'),
                                    other => value.push(other),
                                },
                                other => value.push(other),
                            }
                        }
                        labels.insert(std::mem::take(&mut key), value);
                    }
                    other => key.push(other),
                }
            };
            rest = &body[end + 1..];
        }
        let value = match rest.trim() {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|e| panic!("value of {line:?}: {e}")),
        };
        out.push(Sample {
            name,
            labels,
            value,
        });
    }
    out
}

/// A parsed scrape.
struct Scrape {
    text: String,
    samples: Vec<Sample>,
}

impl Scrape {
    async fn take(rest: &Rest) -> Scrape {
        let r = rest.get("/metrics").await;
        expect_status(&r, 200, "GET /metrics");
        assert_eq!(
            r.headers.get("content-type").map(String::as_str),
            Some("text/plain; version=0.0.4; charset=utf-8"),
            "content type"
        );
        Scrape {
            samples: parse(&r.text),
            text: r.text,
        }
    }

    /// The value of the one series of `name` whose labels include `labels`.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert!(
            matching.len() <= 1,
            "several series of {name} match {labels:?}: {matching:?}"
        );
        matching.first().map(|s| s.value)
    }

    fn task(&self, name: &str, connector: &str) -> Option<f64> {
        self.get(name, &[("connector", connector), ("task", "0")])
    }

    /// Every series whose labels mention `connector`.
    fn of_connector(&self, connector: &str) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| s.labels.get("connector").map(String::as_str) == Some(connector))
            .collect()
    }
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

async fn metrics_count_the_records_a_pipeline_moves(backend: Backend) {
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("in.txt");
    std::fs::write(&input, input_lines().join("\n") + "\n").unwrap();
    let topic = backend.topic("metered");
    let dlq = backend.topic("metered-dlq");
    let source = "src";
    let plain = backend.topic("plain");
    let plain = plain.as_str();
    let tolerant = backend.topic("tolerant");
    let tolerant = tolerant.as_str();
    let worker = backend.start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;

    // Before any connector: the worker group is there, with zero counts and no connector series.
    let scrape = Scrape::take(rest).await;
    assert_eq!(
        scrape.get("kafka_connect_connect_worker_metrics_connector_count", &[]),
        Some(0.0),
        "{}",
        scrape.text
    );
    assert_eq!(
        scrape.get("kafka_connect_connect_worker_metrics_task_count", &[]),
        Some(0.0)
    );

    let r = rest
        .put(
            &format!("/connectors/{source}/config"),
            source_config(&input, &topic),
        )
        .await;
    expect_status(&r, 201, "source");
    let plain_out = dir.join("plain.txt");
    let r = rest
        .put(
            &format!("/connectors/{plain}/config"),
            sink_config(&plain_out, &topic),
        )
        .await;
    expect_status(&r, 201, "plain sink");
    // A JSON sink that skips what it cannot read and sends it to a dead letter queue.
    let tolerant_out = dir.join("tolerant.txt");
    let mut sink = sink_config(&tolerant_out, &topic);
    sink["value.converter"] = json!("org.apache.kafka.connect.json.JsonConverter");
    sink["value.converter.schemas.enable"] = json!("false");
    sink["errors.tolerance"] = json!("all");
    sink["errors.log.enable"] = json!("true");
    sink["errors.deadletterqueue.topic.name"] = json!(dlq);
    sink["errors.deadletterqueue.topic.replication.factor"] = json!("1");
    let r = rest
        .put(&format!("/connectors/{tolerant}/config"), sink)
        .await;
    expect_status(&r, 201, "tolerant sink");

    wait_lines_or_dump(&worker, &plain_out, LINES, DATA_TIMEOUT).await;
    let good = LINES - POISON.len();
    wait_lines_or_dump(&worker, &tolerant_out, good, DATA_TIMEOUT).await;

    // The counters catch up with the files (a sink's send count is recorded once `put` returned).
    let n = LINES as f64;
    let p = POISON.len() as f64;
    let expected: Vec<(&str, &str, f64)> = vec![
        (
            "kafka_connect_source_task_metrics_source_record_poll_total",
            source,
            n,
        ),
        (
            "kafka_connect_source_task_metrics_source_record_write_total",
            source,
            n,
        ),
        (
            "kafka_connect_sink_task_metrics_sink_record_read_total",
            plain,
            n,
        ),
        (
            "kafka_connect_sink_task_metrics_sink_record_send_total",
            plain,
            n,
        ),
        (
            "kafka_connect_sink_task_metrics_sink_record_read_total",
            tolerant,
            n,
        ),
        (
            "kafka_connect_sink_task_metrics_sink_record_send_total",
            tolerant,
            n - p,
        ),
        (
            "kafka_connect_task_error_metrics_total_record_failures_total",
            tolerant,
            p,
        ),
        (
            "kafka_connect_task_error_metrics_total_record_errors_total",
            tolerant,
            p,
        ),
        (
            "kafka_connect_task_error_metrics_total_records_skipped_total",
            tolerant,
            p,
        ),
        (
            "kafka_connect_task_error_metrics_total_errors_logged_total",
            tolerant,
            p,
        ),
        (
            "kafka_connect_task_error_metrics_deadletterqueue_produce_requests_total",
            tolerant,
            p,
        ),
        (
            "kafka_connect_task_error_metrics_deadletterqueue_produce_failures_total",
            tolerant,
            0.0,
        ),
        (
            "kafka_connect_task_error_metrics_total_retries_total",
            tolerant,
            0.0,
        ),
        (
            "kafka_connect_task_error_metrics_total_record_failures_total",
            plain,
            0.0,
        ),
        (
            "kafka_connect_task_error_metrics_total_record_failures_total",
            source,
            0.0,
        ),
    ];
    let scrape = wait_for("metrics to count every record", DATA_TIMEOUT, || async {
        let scrape = Scrape::take(rest).await;
        expected
            .iter()
            .all(|(name, connector, value)| scrape.task(name, connector) == Some(*value))
            .then_some(scrape)
    })
    .await;
    let text = &scrape.text;

    // Worker level.
    let worker_metric = |name: &str| {
        scrape
            .get(&format!("kafka_connect_connect_worker_metrics_{name}"), &[])
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };
    assert_eq!(worker_metric("connector_count"), 3.0);
    assert_eq!(worker_metric("task_count"), 3.0);
    assert_eq!(worker_metric("connector_startup_attempts_total"), 3.0);
    assert_eq!(worker_metric("connector_startup_success_total"), 3.0);
    assert_eq!(worker_metric("connector_startup_failure_total"), 0.0);
    assert_eq!(worker_metric("task_startup_attempts_total"), 3.0);
    assert_eq!(worker_metric("task_startup_success_total"), 3.0);
    assert_eq!(worker_metric("task_startup_failure_total"), 0.0);
    assert_eq!(worker_metric("task_startup_success_percentage"), 1.0);

    for connector in [source, plain, tolerant] {
        assert_eq!(
            scrape.get(
                "kafka_connect_connector_metrics_status",
                &[("connector", connector), ("state", "running")]
            ),
            Some(1.0),
            "{connector} status:\n{text}"
        );
        assert_eq!(
            scrape.get(
                "kafka_connect_connector_task_metrics_status",
                &[
                    ("connector", connector),
                    ("task", "0"),
                    ("state", "running")
                ]
            ),
            Some(1.0),
            "{connector} task status:\n{text}"
        );
        assert_eq!(
            scrape.get(
                "kafka_connect_connect_worker_metrics_connector_running_task_count",
                &[("connector", connector)]
            ),
            Some(1.0)
        );
        // One status series per object: the current state only.
        assert_eq!(
            scrape
                .of_connector(connector)
                .iter()
                .filter(|s| s.name == "kafka_connect_connector_task_metrics_status")
                .count(),
            1
        );
    }

    // Rates and batch statistics are live gauges over the last window.
    let gauge = |name: &str, connector: &str| {
        scrape
            .task(name, connector)
            .unwrap_or_else(|| panic!("{name} of {connector} missing:\n{text}"))
    };
    assert!(
        gauge(
            "kafka_connect_source_task_metrics_source_record_poll_rate",
            source
        ) > 0.0
    );
    assert!(
        gauge(
            "kafka_connect_source_task_metrics_source_record_write_rate",
            source
        ) > 0.0
    );
    assert!(
        gauge(
            "kafka_connect_sink_task_metrics_sink_record_read_rate",
            plain
        ) > 0.0
    );
    assert!(
        gauge(
            "kafka_connect_sink_task_metrics_sink_record_send_rate",
            plain
        ) > 0.0
    );
    assert!(
        gauge(
            "kafka_connect_source_task_metrics_poll_batch_max_time_ms",
            source
        ) >= 0.0
    );
    assert!(
        gauge(
            "kafka_connect_sink_task_metrics_put_batch_avg_time_ms",
            plain
        ) >= 0.0
    );
    let batch_max = gauge("kafka_connect_connector_task_metrics_batch_size_max", plain);
    assert!((1.0..=n).contains(&batch_max), "batch-size-max {batch_max}");
    // A source task has no sink-task series, and the reverse.
    assert_eq!(
        scrape.task(
            "kafka_connect_sink_task_metrics_sink_record_read_total",
            source
        ),
        None
    );
    assert_eq!(
        scrape.task(
            "kafka_connect_source_task_metrics_source_record_poll_total",
            plain
        ),
        None
    );

    // Offsets commit every second in these workers: commits succeed and are counted.
    let scrape = wait_for(
        "a sink offset commit to be counted",
        STATE_TIMEOUT,
        || async {
            let scrape = Scrape::take(rest).await;
            (scrape
                .task(
                    "kafka_connect_sink_task_metrics_offset_commit_completion_total",
                    plain,
                )
                .is_some_and(|v| v >= 1.0))
            .then_some(scrape)
        },
    )
    .await;
    assert_eq!(
        scrape.task(
            "kafka_connect_connector_task_metrics_offset_commit_success_percentage",
            plain
        ),
        Some(1.0),
        "{}",
        scrape.text
    );
    assert!(
        scrape
            .task(
                "kafka_connect_connector_task_metrics_offset_commit_max_time_ms",
                plain
            )
            .is_some_and(|v| v >= 0.0)
    );

    // Deleting a connector removes its connector, task and per-connector worker series.
    let r = rest.delete(&format!("/connectors/{tolerant}")).await;
    expect_status(&r, 204, "delete tolerant sink");
    let scrape = wait_for(
        "the deleted connector's series to go",
        STATE_TIMEOUT,
        || async {
            let scrape = Scrape::take(rest).await;
            scrape.of_connector(tolerant).is_empty().then_some(scrape)
        },
    )
    .await;
    assert_eq!(
        scrape.get("kafka_connect_connect_worker_metrics_connector_count", &[]),
        Some(2.0)
    );
    assert_eq!(
        scrape.get("kafka_connect_connect_worker_metrics_task_count", &[]),
        Some(2.0)
    );
    // The others are untouched.
    assert_eq!(
        scrape.task(
            "kafka_connect_sink_task_metrics_sink_record_send_total",
            plain
        ),
        Some(n)
    );
    assert!(!scrape.text.contains(tolerant), "{}", scrape.text);
}

#[test]
fn the_parser_reads_labels_escapes_and_special_values() {
    let samples = parse(
        "# HELP a_total x\n# TYPE a_total counter\na_total 3\nb{connector=\"x\\\"y\",task=\"0\"} NaN\nc{a=\"1 2\"} 1.5\n",
    );
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].name, "a_total");
    assert_eq!(samples[0].value, 3.0);
    assert_eq!(samples[1].labels["connector"], "x\"y");
    assert!(samples[1].value.is_nan());
    assert_eq!(samples[2].labels["a"], "1 2");
    assert_eq!(samples[2].value, 1.5);
}
