//! The worker on a real Apache Kafka broker: secured clusters (SASL PLAIN/SCRAM, SSL), failures that must
//! be loud (wrong password, unreachable cluster), a broker outage mid-stream, topic creation (KIP-158),
//! the client override policy and the cluster id.
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use causeway_testkit::kafka::{KafkaBroker, KafkaCluster, kafka};
use common::*;

fn unique(base: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{base}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn spec(props: &[(&str, &str)]) -> WorkerSpec {
    WorkerSpec {
        props: props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn plain_jaas(user: &str, password: &str) -> String {
    format!(
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"{user}\" password=\"{password}\";"
    )
}

fn scram_jaas(user: &str, password: &str) -> String {
    format!(
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{password}\";"
    )
}

/// A worker on the shared broker's PLAINTEXT listener, in `dir/worker`.
async fn plaintext_worker(cluster: &KafkaCluster, dir: &Path) -> WorkerProcess {
    WorkerProcess::start(
        &bin(),
        &dir.join("worker"),
        &spec(&[("bootstrap.servers", &cluster.bootstrap)]),
    )
    .await
}

/// Runs a file → topic → file pipeline of `lines` lines on a started worker and checks the output.
async fn pipeline_runs(worker: &WorkerProcess, dir: &Path, topic: &str, lines: usize) {
    let input = dir.join(format!("{topic}.in"));
    let output = dir.join(format!("{topic}.out"));
    write_lines(&input, 0, lines, 40);
    let rest = &worker.rest;
    let r = rest
        .put(
            &format!("/connectors/{topic}-sink/config"),
            sink_config(&output, topic),
        )
        .await;
    expect_status(&r, 201, "create sink");
    let r = rest
        .put(
            &format!("/connectors/{topic}-source/config"),
            source_config(&input, topic),
        )
        .await;
    expect_status(&r, 201, "create source");
    let got = wait_lines_or_dump(worker, &output, lines, DATA_TIMEOUT).await;
    assert_eq!(got.len(), lines);
    assert_eq!(
        std::fs::read(&output).unwrap(),
        std::fs::read(&input).unwrap()
    );
}

/// Starts the binary with worker properties expected to be refused; returns (exit code, output, elapsed).
fn run_expecting_failure(dir: &Path, props: &[(&str, &str)]) -> (Option<i32>, String, Duration) {
    std::fs::create_dir_all(dir).unwrap();
    let port = causeway_testkit::free_port();
    let mut all = WorkerProcess::default_props(dir, port);
    all.extend(props.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let text: String = all.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let file = dir.join("worker.properties");
    std::fs::write(&file, text).unwrap();
    let started = Instant::now();
    let out = Command::new(bin())
        .arg("standalone")
        .arg(&file)
        .env("RUST_LOG", "info")
        .output()
        .expect("run causeway");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text, started.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn sasl_plain_and_scram_workers_run_pipelines_and_wrong_passwords_are_refused() {
    let cluster = kafka();
    let Some(sasl) = cluster.sasl_bootstrap.clone() else {
        eprintln!("skipped: no SASL listener (KAFKA_BOOTSTRAP)");
        return;
    };
    let tmp = temp_dir();
    let (pu, pp) = cluster.plain_user.clone();
    let (su, sp) = cluster.scram_user.clone();
    for (mechanism, good, bad) in [
        ("PLAIN", plain_jaas(&pu, &pp), plain_jaas(&pu, "wrong")),
        (
            "SCRAM-SHA-512",
            scram_jaas(&su, &sp),
            scram_jaas(&su, "wrong"),
        ),
    ] {
        // The worker properties a Confluent Cloud user writes (there with SASL_SSL).
        let props = [
            ("bootstrap.servers", sasl.as_str()),
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", mechanism),
            ("sasl.jaas.config", good.as_str()),
        ];
        let dir = tmp.path().join(mechanism);
        let worker = WorkerProcess::start(&bin(), &dir.join("worker"), &spec(&props)).await;
        let topic = unique(&format!("sasl-{}", mechanism.to_ascii_lowercase()));
        pipeline_runs(&worker, &dir, &topic, 500).await;
        let read = cluster.read_all(&topic, 500, DATA_TIMEOUT);
        assert_eq!(read.len(), 500);

        // A connector whose own producer login is wrong: its task FAILS with the reason, within seconds.
        let input = dir.join("bad.in");
        write_lines(&input, 0, 10, 10);
        let mut config = source_config(&input, &unique("never"));
        config["producer.override.sasl.jaas.config"] = json!(bad);
        let r = worker
            .rest
            .put("/connectors/bad-login/config", config)
            .await;
        expect_status(&r, 201, "create connector with a wrong override password");
        let started = Instant::now();
        let trace = wait_for(
            "task FAILED with a trace",
            Duration::from_secs(45),
            || async {
                let s = worker.rest.get("/connectors/bad-login/status").await.body;
                (s["tasks"][0]["state"] == "FAILED")
                    .then(|| s["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
            },
        )
        .await;
        assert!(
            trace.contains("Authentication failed"),
            "{mechanism}: {trace}"
        );
        eprintln!(
            "{mechanism}: task failed {:?} after creation",
            started.elapsed()
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{mechanism}: a rejected login fails the task within seconds, not after the bootstrap timeout"
        );
        drop(worker);

        // A worker with the wrong password does not start, and says why.
        let wrong = [
            ("bootstrap.servers", sasl.as_str()),
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", mechanism),
            ("sasl.jaas.config", bad.as_str()),
        ];
        let (code, out, elapsed) = run_expecting_failure(&dir.join("refused"), &wrong);
        assert_ne!(code, Some(0), "{out}");
        assert!(
            out.contains("Failed to connect to and describe Kafka cluster")
                && out.contains("Authentication failed"),
            "{mechanism}: {out}"
        );
        assert!(
            elapsed < Duration::from_secs(15),
            "{mechanism}: refused after {elapsed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ssl_worker_trusts_the_generated_ca_from_a_pkcs12_truststore() {
    let cluster = kafka();
    let (Some(ssl), Some(p12)) = (
        cluster.ssl_bootstrap.clone(),
        cluster.ca_truststore_p12.clone(),
    ) else {
        eprintln!("skipped: no SSL listener (KAFKA_BOOTSTRAP)");
        return;
    };
    let tmp = temp_dir();
    let p12 = p12.display().to_string();
    let password = cluster.truststore_password.clone().unwrap_or_default();
    let props = [
        ("bootstrap.servers", ssl.as_str()),
        ("security.protocol", "SSL"),
        ("ssl.truststore.location", p12.as_str()),
        ("ssl.truststore.password", password.as_str()),
    ];
    let worker = WorkerProcess::start(&bin(), &tmp.path().join("worker"), &spec(&props)).await;
    let topic = unique("ssl");
    pipeline_runs(&worker, tmp.path(), &topic, 300).await;
    drop(worker);

    // A JKS truststore is named as unsupported, with the way out.
    let jks = tmp.path().join("trust.jks");
    std::fs::write(&jks, [0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]).unwrap();
    let jks = jks.display().to_string();
    let (code, out, _) = run_expecting_failure(
        &tmp.path().join("jks"),
        &[
            ("bootstrap.servers", ssl.as_str()),
            ("security.protocol", "SSL"),
            ("ssl.truststore.location", jks.as_str()),
        ],
    );
    assert_ne!(code, Some(0));
    assert!(
        out.contains("ssl.truststore.location") && out.contains("keytool -importkeystore"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_cluster_stops_the_worker_with_a_clear_error() {
    let tmp = temp_dir();
    let port = causeway_testkit::free_port();
    let bootstrap = format!("127.0.0.1:{port}");
    let (code, out, elapsed) =
        run_expecting_failure(tmp.path(), &[("bootstrap.servers", bootstrap.as_str())]);
    assert_ne!(code, Some(0));
    assert!(
        out.contains("Failed to connect to and describe Kafka cluster"),
        "{out}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn root_reports_the_real_cluster_id_and_topics_reflect_traffic() {
    let cluster = kafka();
    let tmp = temp_dir();
    let worker = plaintext_worker(cluster, tmp.path()).await;
    let id = worker.rest.get("/").await.body["kafka_cluster_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // KRaft cluster ids are 16 random bytes in URL-safe base64: 22 characters.
    assert_eq!(id.len(), 22, "{id}");
    if let Some(formatted) = cluster_id_from_log(cluster) {
        assert_eq!(id, formatted, "the id the broker was formatted with");
    }
    let topic = unique("tracked");
    pipeline_runs(&worker, tmp.path(), &topic, 50).await;
    let r = worker
        .rest
        .get(&format!("/connectors/{topic}-source/topics"))
        .await;
    assert_eq!(
        r.body,
        json!({format!("{topic}-source"): {"topics": [topic.clone()]}})
    );
    let r = worker
        .rest
        .get(&format!("/connectors/{topic}-sink/topics"))
        .await;
    assert_eq!(
        r.body,
        json!({format!("{topic}-sink"): {"topics": [topic]}})
    );
}

/// The cluster id the harness formatted the broker with, when it is a local broker.
fn cluster_id_from_log(cluster: &KafkaCluster) -> Option<String> {
    let dir = cluster.log_file.as_ref()?.parent()?.to_path_buf();
    for entry in walk(&dir) {
        if entry.file_name().is_some_and(|n| n == "meta.properties") {
            let text = std::fs::read_to_string(&entry).ok()?;
            return text
                .lines()
                .find_map(|l| l.strip_prefix("cluster.id=").map(str::to_owned));
        }
    }
    None
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn source_topics_are_created_with_the_matching_group_settings() {
    let cluster = kafka();
    let tmp = temp_dir();
    let worker = plaintext_worker(cluster, tmp.path()).await;
    let topic = unique("created");
    let input = tmp.path().join("in.txt");
    write_lines(&input, 0, 20, 10);
    let mut config = source_config(&input, &topic);
    config["topic.creation.default.replication.factor"] = json!("1");
    config["topic.creation.default.partitions"] = json!("1");
    config["topic.creation.groups"] = json!("wide");
    config["topic.creation.wide.include"] = json!(format!("{topic}|other"));
    config["topic.creation.wide.partitions"] = json!("4");
    config["topic.creation.wide.retention.ms"] = json!("3600000");

    // Validation speaks Apache's words first.
    let mut bad = config.clone();
    bad["topic.creation.default.partitions"] = json!("0");
    let r = worker.rest.put("/connectors/creator/config", bad).await;
    expect_error_prefix(
        &r,
        400,
        "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value 0 for configuration topic.creation.default.partitions: Number of partitions must be positive, or -1 to use the broker's default",
        "invalid partitions",
    );

    let r = worker.rest.put("/connectors/creator/config", config).await;
    expect_status(&r, 201, "create source with topic creation");
    let records = cluster.read_all(&topic, 20, DATA_TIMEOUT);
    assert_eq!(records.len(), 20, "worker log:\n{}", worker.log());
    assert_eq!(
        cluster.topic_partitions(&topic),
        Some(4),
        "the 'wide' group's partitions"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_override_policy_decides_which_client_settings_a_connector_may_change() {
    let cluster = kafka();
    let tmp = temp_dir();
    let worker = WorkerProcess::start(
        &bin(),
        &tmp.path().join("worker"),
        &spec(&[
            ("bootstrap.servers", &cluster.bootstrap),
            ("connector.client.config.override.policy", "Principal"),
        ]),
    )
    .await;
    let input = tmp.path().join("in.txt");
    write_lines(&input, 0, 5, 10);
    let mut config = source_config(&input, &unique("policy"));
    config["producer.override.linger.ms"] = json!("50");
    config["producer.override.security.protocol"] = json!("PLAINTEXT");
    let r = worker
        .rest
        .put("/connectors/overrides/config", config.clone())
        .await;
    expect_error(
        &r,
        400,
        "Connector configuration is invalid and contains the following 1 error(s):\nThe 'Principal' policy does not allow 'linger.ms' to be overridden in the connector configuration.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
        "override forbidden by the policy",
    );
    let mut named = config.clone();
    named["name"] = json!("overrides");
    let r = worker
        .rest
        .put("/connector-plugins/FileStreamSource/config/validate", named)
        .await;
    expect_status(&r, 200, "validate");
    assert_eq!(r.body["error_count"], 1);
    let entry = r.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"]["name"] == "producer.override.linger.ms")
        .expect("override listed");
    assert_eq!(entry["definition"], Value::Null);
    assert_eq!(entry["value"]["value"], "50");

    config
        .as_object_mut()
        .unwrap()
        .remove("producer.override.linger.ms");
    let r = worker
        .rest
        .put("/connectors/overrides/config", config)
        .await;
    expect_status(&r, 201, "identity overrides are allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_outage_of_twenty_seconds_mid_stream_loses_nothing() {
    let mut broker = KafkaBroker::start();
    let bootstrap = broker.cluster().bootstrap.clone();
    let tmp = temp_dir();
    let dir = tmp.path();
    let worker = WorkerProcess::start(
        &bin(),
        &dir.join("worker"),
        &spec(&[("bootstrap.servers", &bootstrap)]),
    )
    .await;
    let input = dir.join("in.txt");
    let output = dir.join("out.txt");
    write_lines(&input, 0, 2_000, 40);
    let rest = &worker.rest;
    expect_status(
        &rest
            .put("/connectors/sink/config", sink_config(&output, "outage"))
            .await,
        201,
        "sink",
    );
    expect_status(
        &rest
            .put("/connectors/source/config", source_config(&input, "outage"))
            .await,
        201,
        "source",
    );
    wait_lines_or_dump(&worker, &output, 2_000, DATA_TIMEOUT).await;

    broker.stop();
    // Lines written while the broker is down must arrive once it is back.
    for chunk in 0..4 {
        append_lines(&input, 2_000 + chunk * 500, 500, 40);
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    broker.restart();
    append_lines(&input, 4_000, 1_000, 40);

    let lines = wait_lines_or_dump(&worker, &output, 5_000, Duration::from_secs(180)).await;
    let expected = read_lines(&input);
    assert_eq!(lines, expected, "every line, once, in order");
    let status = rest.get("/connectors?expand=status").await.body;
    for c in ["source", "sink"] {
        assert_eq!(
            status[c]["status"]["tasks"][0]["state"], "RUNNING",
            "{status}"
        );
    }
}

/// Appends `n` lines numbered from `start` (same format as `write_lines`).
fn append_lines(path: &Path, start: usize, n: usize, width: usize) {
    let tmp = path.with_extension("part");
    write_lines(&tmp, start, n, width);
    let bytes = std::fs::read(&tmp).unwrap();
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(&bytes).unwrap();
    std::fs::remove_file(&tmp).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sink_offsets_can_be_altered_and_reset_through_rest_on_kafka() {
    let cluster = kafka();
    let tmp = temp_dir();
    let topic = unique("alter");
    cluster.create_topic(&topic, 1);
    let values: Vec<String> = (0..10).map(|i| format!("line-{i}")).collect();
    let refs: Vec<(Option<&[u8]>, Option<&[u8]>)> =
        values.iter().map(|v| (None, Some(v.as_bytes()))).collect();
    cluster.produce(&topic, &refs);
    let worker = plaintext_worker(cluster, tmp.path()).await;
    let rest = &worker.rest;
    let output = tmp.path().join("out.txt");
    expect_status(
        &rest
            .put(
                "/connectors/alter-sink/config",
                sink_config(&output, &topic),
            )
            .await,
        201,
        "sink",
    );
    wait_lines_or_dump(&worker, &output, 10, DATA_TIMEOUT).await;
    wait_for("group committed to 10", STATE_TIMEOUT, || async {
        (cluster
            .group_offsets("connect-alter-sink", &[&topic])
            .get(&(topic.clone(), 0))
            == Some(&10))
        .then_some(())
    })
    .await;

    expect_status(
        &rest.put("/connectors/alter-sink/stop", json!({})).await,
        204,
        "stop",
    );
    rest.wait_connector_state("alter-sink", "STOPPED", 0, STATE_TIMEOUT)
        .await;
    let r = rest
        .request(
            "PATCH",
            "/connectors/alter-sink/offsets",
            Some(json!({"offsets": [{
                "partition": {"kafka_topic": topic, "kafka_partition": 0},
                "offset": {"kafka_offset": 7}
            }]})),
        )
        .await;
    expect_status(&r, 200, "alter");
    assert_eq!(
        r.body,
        json!({"message": "The offsets for this connector have been altered successfully"})
    );
    assert_eq!(
        cluster
            .group_offsets("connect-alter-sink", &[&topic])
            .get(&(topic.clone(), 0)),
        Some(&7)
    );
    let r = rest.get("/connectors/alter-sink/offsets").await;
    assert_eq!(
        r.body["offsets"][0]["offset"]["kafka_offset"], 7,
        "{}",
        r.text
    );

    // Resumed, the sink re-reads from offset 7: lines 7, 8, 9 arrive a second time.
    expect_status(
        &rest.put("/connectors/alter-sink/resume", json!({})).await,
        202,
        "resume",
    );
    let lines = wait_lines_or_dump(&worker, &output, 13, DATA_TIMEOUT).await;
    assert_eq!(&lines[10..], &["line-7", "line-8", "line-9"]);

    // A reset deletes the group's offsets.
    expect_status(
        &rest.put("/connectors/alter-sink/stop", json!({})).await,
        204,
        "stop again",
    );
    rest.wait_connector_state("alter-sink", "STOPPED", 0, STATE_TIMEOUT)
        .await;
    let r = rest.delete("/connectors/alter-sink/offsets").await;
    expect_status(&r, 200, "reset");
    assert_eq!(
        r.body,
        json!({"message": "The offsets for this connector have been reset successfully"})
    );
    let r = rest.get("/connectors/alter-sink/offsets").await;
    assert_eq!(r.body, json!({"offsets": []}));
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_whose_cluster_override_is_unreachable_fail_with_a_readable_trace() {
    let cluster = kafka();
    let tmp = temp_dir();
    let worker = plaintext_worker(cluster, tmp.path()).await;
    let nowhere = format!("127.0.0.1:{}", causeway_testkit::free_port());
    let input = tmp.path().join("in.txt");
    write_lines(&input, 0, 10, 10);
    let mut source = source_config(&input, &unique("nowhere"));
    source["producer.override.bootstrap.servers"] = json!(nowhere);
    let mut sink = sink_config(&tmp.path().join("out.txt"), &unique("nowhere"));
    sink["consumer.override.bootstrap.servers"] = json!(nowhere);
    for (name, config) in [("lost-source", source), ("lost-sink", sink)] {
        let r = worker
            .rest
            .put(&format!("/connectors/{name}/config"), config)
            .await;
        expect_status(&r, 201, name);
    }
    for name in ["lost-source", "lost-sink"] {
        let trace = wait_for(
            &format!("{name} task FAILED"),
            Duration::from_secs(45),
            || async {
                let s = worker
                    .rest
                    .get(&format!("/connectors/{name}/status"))
                    .await
                    .body;
                (s["tasks"][0]["state"] == "FAILED")
                    .then(|| s["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
            },
        )
        .await;
        assert!(
            trace.contains("Could not reach any broker of bootstrap.servers"),
            "{name}: {trace}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sink_with_topics_regex_reads_every_matching_topic() {
    let cluster = kafka();
    let tmp = temp_dir();
    let prefix = unique("regex");
    let (a, b, other) = (
        format!("{prefix}-a"),
        format!("{prefix}-b"),
        format!("x{prefix}-c"),
    );
    for (topic, value) in [(&a, "from-a"), (&b, "from-b"), (&other, "not-matched")] {
        cluster.create_topic(topic, 1);
        cluster.produce(topic, &[(None, Some(value.as_bytes()))]);
    }
    let worker = plaintext_worker(cluster, tmp.path()).await;
    let output = tmp.path().join("out.txt");
    let r = worker
        .rest
        .put(
            "/connectors/regex-sink/config",
            json!({
                "connector.class": "FileStreamSink",
                "file": output.display().to_string(),
                "topics.regex": format!("{prefix}-.*"),
            }),
        )
        .await;
    expect_status(&r, 201, "sink with topics.regex");
    let mut lines = wait_lines_or_dump(&worker, &output, 2, DATA_TIMEOUT).await;
    lines.sort();
    assert_eq!(lines, vec!["from-a", "from-b"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        read_lines(&output).len(),
        2,
        "the unmatched topic stays unread"
    );
    let topics = worker.rest.get("/connectors/regex-sink/topics").await.body;
    let mut seen: Vec<String> = topics["regex-sink"]["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    assert_eq!(seen, vec![a, b]);
}

#[tokio::test(flavor = "multi_thread")]
async fn topic_creation_uses_the_connectors_admin_overrides() {
    let cluster = kafka();
    let tmp = temp_dir();
    let worker = plaintext_worker(cluster, tmp.path()).await;
    let input = tmp.path().join("in.txt");
    write_lines(&input, 0, 5, 10);
    let mut config = source_config(&input, &unique("admin-override"));
    config["topic.creation.default.replication.factor"] = json!("1");
    config["topic.creation.default.partitions"] = json!("1");
    // An admin setting Causeway refuses: it must be the connector's admin client that creates the topic.
    config["admin.override.sasl.mechanism"] = json!("GSSAPI");
    let r = worker
        .rest
        .put("/connectors/admin-override/config", config)
        .await;
    expect_status(&r, 201, "create");
    let trace = wait_for("task FAILED", STATE_TIMEOUT, || async {
        let s = worker
            .rest
            .get("/connectors/admin-override/status")
            .await
            .body;
        (s["tasks"][0]["state"] == "FAILED")
            .then(|| s["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
    })
    .await;
    assert!(
        trace.contains("Task failed to create new topic") && trace.contains("GSSAPI"),
        "{trace}"
    );
}
