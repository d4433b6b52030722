//! The measured phases, each the same for both workers: a file source into a fresh topic until the end
//! offsets hold every record, a file sink draining a topic until the output file holds every line, the REST
//! status listing under load, and the broker's own ceiling with Apache's ProducerPerformance.

use std::fs;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use causeway_testkit::kafka::KafkaCluster;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::json;

use crate::worker::{Worker, proc_status_mb};

/// Partitions of every topic the bench creates.
pub(crate) const PARTITIONS: i32 = 6;
/// Bytes per input line, the newline included (so each record value has `LINE_BYTES - 1` bytes).
pub(crate) const LINE_BYTES: usize = 100;
/// How long a phase may take before the bench gives up on it.
const PHASE_TIMEOUT: Duration = Duration::from_secs(900);

/// An order-independent digest of lines: their count and the wrapping sum of their FNV-1a hashes, so two
/// files holding the same lines in another interleaving of partitions compare equal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LinesDigest {
    /// Lines seen.
    pub(crate) lines: u64,
    /// Wrapping sum of each line's FNV-1a 64 hash (newline excluded).
    pub(crate) sum: u64,
}

impl LinesDigest {
    fn add(&mut self, line: &[u8]) {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in line {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.lines += 1;
        self.sum = self.sum.wrapping_add(h);
    }
}

/// The `i`-th input line without its newline: `LINE_BYTES - 1` printable bytes.
fn input_line(i: u64) -> String {
    let mut line = format!("line-{i:010}-");
    while line.len() < LINE_BYTES - 1 {
        line.push('x');
    }
    line
}

/// Writes the source input file (`lines` lines of `LINE_BYTES` bytes) and returns the digest of its lines.
pub(crate) fn write_input(path: &Path, lines: u64) -> Result<LinesDigest, String> {
    let file = fs::File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut digest = LinesDigest::default();
    for i in 0..lines {
        let line = input_line(i);
        digest.add(line.as_bytes());
        out.write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    out.flush()
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(digest)
}

/// Creates a fresh topic with [`PARTITIONS`] partitions (the harness panics on failure, which ends the run).
pub(crate) fn create_topic(cluster: &KafkaCluster, topic: &str) {
    cluster.create_topic(topic, PARTITIONS);
}

/// Deletes `topic`, so the broker's disk holds one phase's data at a time (the bench starts the broker with
/// `log.segment.delete.delay.ms=0`, so the files go at once).
pub(crate) fn delete_topic(cluster: &KafkaCluster, topic: &str) -> Result<(), String> {
    let config: ClientConfig = cluster.client_config();
    let admin: AdminClient<DefaultClientContext> = config
        .create()
        .map_err(|e| format!("create admin client: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = runtime
        .block_on(admin.delete_topics(&[topic], &opts))
        .map_err(|e| format!("delete topic {topic}: {e}"))?;
    for r in results {
        if let Err((t, code)) = r {
            return Err(format!("delete topic {t}: {code}"));
        }
    }
    Ok(())
}

/// A client for reading end offsets.
fn offsets_client(cluster: &KafkaCluster) -> Result<BaseConsumer, String> {
    let mut config: ClientConfig = cluster.client_config();
    config.set("group.id", "causeway-bench-offsets");
    config
        .create()
        .map_err(|e| format!("create offsets consumer: {e}"))
}

/// The sum of the topic's end offsets over its partitions.
fn end_offsets_sum(client: &BaseConsumer, topic: &str) -> Result<i64, String> {
    let mut sum = 0;
    for p in 0..PARTITIONS {
        let (_, high) = client
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .map_err(|e| format!("end offsets of {topic}/{p}: {e}"))?;
        sum += high;
    }
    Ok(sum)
}

/// Fails with the first line of the trace if the connector or one of its tasks has FAILED.
fn check_not_failed(worker: &Worker, connector: &str) -> Result<(), String> {
    // A status not yet known is not a failure.
    let Ok(status) = worker.get_json(&format!("/connectors/{connector}/status")) else {
        return Ok(());
    };
    let mut states = vec![&status["connector"]];
    if let Some(tasks) = status["tasks"].as_array() {
        states.extend(tasks);
    }
    for state in states {
        if state["state"] == "FAILED" {
            let trace = state["trace"]
                .as_str()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("");
            return Err(format!("{connector} FAILED: {trace}"));
        }
    }
    Ok(())
}

/// The outcome of a throughput phase.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throughput {
    /// Records per second, from the connector's creation to the last record in place.
    pub(crate) records_per_s: f64,
    /// Seconds the phase took.
    pub(crate) seconds: f64,
}

/// Logs a phase boundary with the machine's uptime in seconds (CLOCK_BOOTTIME, which equals
/// CLOCK_MONOTONIC without suspends), so a `perf record -a -k CLOCK_MONOTONIC` profile of a run can be cut
/// into phases with `perf report --time START,END`.
pub(crate) fn mark(what: &str) {
    let uptime = fs::read_to_string("/proc/uptime").unwrap_or_default();
    let secs = uptime.split_whitespace().next().unwrap_or("?");
    eprintln!("bench/compare:   {what} at uptime {secs}");
}

/// Creates `connector` (a FileStreamSource over `input` into the fresh `topic`, with `extra` config) and
/// waits until the topic's end offsets add up to `records`.
pub(crate) fn source_phase(
    worker: &mut Worker,
    cluster: &KafkaCluster,
    connector: &str,
    topic: &str,
    input: &Path,
    records: u64,
    extra: &[(&str, &str)],
) -> Result<Throughput, String> {
    create_topic(cluster, topic);
    let client = offsets_client(cluster)?;
    let mut config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": input.display().to_string(),
        "topic": topic,
    });
    for (k, v) in extra {
        config[*k] = json!(v);
    }
    timed_pipeline(
        worker,
        "source",
        connector,
        &config,
        records,
        "records",
        || end_offsets_sum(&client, topic).map(|sum| sum.max(0) as u64),
    )
}

/// Creates `connector` from `config`, polls `progress` every 10 ms until it reaches `records` (checking every
/// second that the worker lives and the connector has not failed), deletes the connector and returns the
/// throughput. `kind` and `unit` name the phase and what `progress` counts in logs and errors.
fn timed_pipeline(
    worker: &mut Worker,
    kind: &str,
    connector: &str,
    config: &serde_json::Value,
    records: u64,
    unit: &str,
    mut progress: impl FnMut() -> Result<u64, String>,
) -> Result<Throughput, String> {
    mark(&format!("{kind} {connector} starts"));
    let t0 = Instant::now();
    worker.put_connector(connector, config)?;
    let mut last_check = Instant::now();
    loop {
        let done = progress()?;
        if done >= records {
            break;
        }
        if last_check.elapsed() > Duration::from_secs(1) {
            worker.check_alive()?;
            check_not_failed(worker, connector)?;
            last_check = Instant::now();
        }
        if t0.elapsed() > PHASE_TIMEOUT {
            return Err(format!(
                "{kind} {connector}: {done} of {records} {unit} after {} s",
                PHASE_TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let seconds = t0.elapsed().as_secs_f64();
    mark(&format!("{kind} {connector} ends"));
    worker.delete_connector(connector)?;
    Ok(Throughput {
        records_per_s: records as f64 / seconds,
        seconds,
    })
}

/// Follows a growing file and digests its complete lines.
struct FileTail {
    path: PathBuf,
    pos: u64,
    partial: Vec<u8>,
    digest: LinesDigest,
    buf: Vec<u8>,
}

impl FileTail {
    fn new(path: PathBuf) -> FileTail {
        FileTail {
            path,
            pos: 0,
            partial: Vec::new(),
            digest: LinesDigest::default(),
            buf: vec![0; 1 << 20],
        }
    }

    /// Reads what was appended since the last call.
    fn advance(&mut self) -> Result<(), String> {
        let mut file = match fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("open {}: {e}", self.path.display())),
        };
        file.seek(SeekFrom::Start(self.pos))
            .map_err(|e| format!("seek {}: {e}", self.path.display()))?;
        loop {
            let n = file
                .read(&mut self.buf)
                .map_err(|e| format!("read {}: {e}", self.path.display()))?;
            if n == 0 {
                return Ok(());
            }
            self.pos += n as u64;
            let mut start = 0;
            for i in 0..n {
                if self.buf[i] == b'\n' {
                    if self.partial.is_empty() {
                        self.digest.add(&self.buf[start..i]);
                    } else {
                        self.partial.extend_from_slice(&self.buf[start..i]);
                        self.digest.add(&self.partial);
                        self.partial.clear();
                    }
                    start = i + 1;
                }
            }
            self.partial.extend_from_slice(&self.buf[start..n]);
        }
    }
}

/// Creates `connector` (a FileStreamSink from `topic` into `output`, with `extra` config) and waits until
/// `output` holds `records` lines; returns the throughput and the digest of the output.
pub(crate) fn sink_phase(
    worker: &mut Worker,
    connector: &str,
    topic: &str,
    output: &Path,
    records: u64,
    extra: &[(&str, &str)],
) -> Result<(Throughput, LinesDigest), String> {
    let mut config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "file": output.display().to_string(),
        "topics": topic,
    });
    for (k, v) in extra {
        config[*k] = json!(v);
    }
    let mut tail = FileTail::new(output.to_path_buf());
    let throughput = timed_pipeline(worker, "sink", connector, &config, records, "lines", || {
        tail.advance()?;
        Ok(tail.digest.lines)
    })?;
    Ok((throughput, tail.digest))
}

/// The JSON-with-schema envelope of structured record `i`, and the line FileStreamSink writes for it
/// (Apache's `Struct.toString()`).
fn json_struct_record(i: u64) -> (String, String) {
    let text = format!("line-{i:010}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    let flag = i.is_multiple_of(2);
    let envelope = json!({
        "schema": {
            "type": "struct",
            "fields": [
                {"type": "int64", "optional": false, "field": "id"},
                {"type": "string", "optional": false, "field": "text"},
                {"type": "boolean", "optional": false, "field": "even"},
            ],
            "optional": false,
            "name": "bench.Line",
        },
        "payload": {"id": i, "text": text, "even": flag},
    });
    let line = format!("Struct{{id={i},text={text},even={flag}}}");
    (envelope.to_string(), line)
}

/// Produces `records` JSON-with-schema struct records into the fresh `topic` (acks=all) and returns the
/// digest of the lines a FileStreamSink should write for them.
pub(crate) fn produce_json_structs(
    cluster: &KafkaCluster,
    topic: &str,
    records: u64,
) -> Result<LinesDigest, String> {
    create_topic(cluster, topic);
    let mut config: ClientConfig = cluster.client_config();
    config
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000");
    let producer: BaseProducer = config
        .create()
        .map_err(|e| format!("create producer: {e}"))?;
    let mut digest = LinesDigest::default();
    for i in 0..records {
        let (value, line) = json_struct_record(i);
        digest.add(line.as_bytes());
        // No key: the JSON converters of the sink read a null key as null.
        let mut record: BaseRecord<'_, (), String> = BaseRecord::to(topic).payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((
                    rdkafka::error::KafkaError::MessageProduction(
                        rdkafka::types::RDKafkaErrorCode::QueueFull,
                    ),
                    back,
                )) => {
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
                Err((e, _)) => return Err(format!("produce to {topic}: {e}")),
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer
        .flush(Duration::from_secs(300))
        .map_err(|e| format!("flush producer: {e}"))?;
    let client = offsets_client(cluster)?;
    let sum = end_offsets_sum(&client, topic)?;
    if sum != records as i64 {
        return Err(format!("{topic} holds {sum} records, expected {records}"));
    }
    Ok(digest)
}

/// The REST figures: latency of the status listing under load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RestFigures {
    /// Median latency, ms.
    pub(crate) p50_ms: f64,
    /// 99th percentile latency, ms.
    pub(crate) p99_ms: f64,
    /// Requests answered per second.
    pub(crate) requests_per_s: f64,
}

/// Creates `count` FileStreamSource connectors (each on an empty file), waits until all of them and their
/// tasks run, then loads `GET /connectors?expand=status&expand=info` from `connections` keep-alive
/// connections for `seconds`.
pub(crate) fn rest_phase(
    worker: &mut Worker,
    prefix: &str,
    dir: &Path,
    count: usize,
    connections: usize,
    seconds: u64,
) -> Result<RestFigures, String> {
    let empty = dir.join("empty.txt");
    fs::write(&empty, b"").map_err(|e| format!("write {}: {e}", empty.display()))?;
    for i in 0..count {
        let config = json!({
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "tasks.max": "1",
            "file": empty.display().to_string(),
            "topic": format!("{prefix}-idle"),
        });
        worker.put_connector(&format!("{prefix}-{i:03}"), &config)?;
    }
    let t0 = Instant::now();
    loop {
        let listing = worker.get_json("/connectors?expand=status")?;
        let running = listing
            .as_object()
            .map(|m| {
                m.values()
                    .filter(|c| {
                        let status = &c["status"];
                        status["connector"]["state"] == "RUNNING"
                            && status["tasks"].as_array().is_some_and(|t| {
                                !t.is_empty() && t.iter().all(|t| t["state"] == "RUNNING")
                            })
                    })
                    .count()
            })
            .unwrap_or(0);
        if running >= count {
            break;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            return Err(format!(
                "only {running} of {count} connectors running after 120 s"
            ));
        }
        worker.check_alive()?;
        std::thread::sleep(Duration::from_millis(200));
    }
    let url = format!("{}/connectors?expand=status&expand=info", worker.url);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let (mut latencies_us, elapsed) = runtime.block_on(load(url, connections, seconds))?;
    if latencies_us.is_empty() {
        return Err("no REST request was answered".into());
    }
    latencies_us.sort_unstable();
    let pick = |q: f64| {
        let idx =
            ((latencies_us.len() as f64 * q).ceil() as usize).clamp(1, latencies_us.len()) - 1;
        latencies_us[idx] as f64 / 1000.0
    };
    Ok(RestFigures {
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        requests_per_s: latencies_us.len() as f64 / elapsed,
    })
}

/// A closed-loop load generator, as wrk runs: `connections` tasks each sending the next request when the
/// previous one is answered, for `seconds`. Returns every latency in µs and the seconds it ran.
async fn load(url: String, connections: usize, seconds: u64) -> Result<(Vec<u64>, f64), String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("http client: {e}"))?;
    let url = Arc::new(url);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let url = Arc::clone(&url);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let resp = client
                    .get(url.as_str())
                    .send()
                    .await
                    .map_err(|e| format!("GET {url}: {e}"))?;
                let status = resp.status();
                resp.bytes().await.map_err(|e| format!("GET {url}: {e}"))?;
                if !status.is_success() {
                    return Err(format!("GET {url}: {status}"));
                }
                latencies.push(t.elapsed().as_micros() as u64);
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        let latencies = task.await.map_err(|e| format!("load task: {e}"))??;
        all.extend(latencies);
    }
    Ok((all, start.elapsed().as_secs_f64()))
}

/// Runs Apache's `org.apache.kafka.tools.ProducerPerformance` into the fresh `topic`: `records` records of
/// `LINE_BYTES - 1` bytes, `acks=all`, no throttle. Returns its records/s.
pub(crate) fn producer_performance(
    cluster: &KafkaCluster,
    tools_libs: &Path,
    topic: &str,
    records: u64,
    dir: &Path,
) -> Result<f64, String> {
    create_topic(cluster, topic);
    let log = dir.join(format!("{topic}.log"));
    let stderr = fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let mut cmd = Command::new("java");
    cmd.args([
        "-Xmx512M",
        "-server",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
    ])
    .arg("-cp")
    .arg(format!("{}/*", tools_libs.display()))
    .arg("org.apache.kafka.tools.ProducerPerformance")
    .args(["--topic", topic, "--num-records", &records.to_string()])
    .args([
        "--record-size",
        &(LINE_BYTES - 1).to_string(),
        "--throughput",
        "-1",
    ])
    .arg("--producer-props")
    .arg(format!("bootstrap.servers={}", cluster.bootstrap))
    .arg("acks=all")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(stderr);
    let output = causeway_testkit::kafka::spawn_tied_to_process(cmd)
        .and_then(|child| child.wait_with_output())
        .map_err(|e| format!("run ProducerPerformance: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "ProducerPerformance exited with {} (stderr in {}): {stdout}",
            output.status,
            log.display()
        ));
    }
    delete_topic(cluster, topic)?;
    parse_perf_summary(&stdout)
        .ok_or_else(|| format!("no readable summary in ProducerPerformance output: {stdout}"))
}

/// The records/s of ProducerPerformance's summary line, `N records sent, R records/sec (M MB/sec), ...`.
fn parse_perf_summary(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .rev()
        .find(|l| l.contains("records sent"))?
        .split(',')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Peak (`VmHWM`) and current RSS of a worker in MB.
pub(crate) fn rss(worker: &Worker, field: &str) -> Result<f64, String> {
    proc_status_mb(worker.pid(), field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ignores_order_but_not_content() {
        let mut a = LinesDigest::default();
        a.add(b"one");
        a.add(b"two");
        let mut b = LinesDigest::default();
        b.add(b"two");
        b.add(b"one");
        assert_eq!(a, b);
        let mut c = LinesDigest::default();
        c.add(b"one");
        c.add(b"tw0");
        assert_ne!(a, c);
    }

    #[test]
    fn input_lines_are_line_bytes_with_the_newline() {
        assert_eq!(input_line(0).len(), LINE_BYTES - 1);
        assert_eq!(input_line(1_999_999).len(), LINE_BYTES - 1);
        assert!(input_line(42).starts_with("line-0000000042-x"));
    }

    #[test]
    fn json_struct_record_is_an_envelope_and_its_struct_line() {
        let (envelope, line) = json_struct_record(7);
        let v: serde_json::Value = serde_json::from_str(&envelope).unwrap();
        assert_eq!(v["schema"]["type"], "struct");
        assert_eq!(v["payload"]["id"], 7);
        assert_eq!(v["payload"]["even"], false);
        let text = v["payload"]["text"].as_str().unwrap();
        assert_eq!(line, format!("Struct{{id=7,text={text},even=false}}"));
    }

    #[test]
    fn file_tail_digests_only_complete_lines() {
        let dir = tempfile_dir();
        let path = dir.join("out.txt");
        let mut tail = FileTail::new(path.clone());
        tail.advance().unwrap();
        assert_eq!(tail.digest.lines, 0);
        fs::write(&path, b"alpha\nbe").unwrap();
        tail.advance().unwrap();
        assert_eq!(tail.digest.lines, 1);
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"ta\ngamma\n").unwrap();
        tail.advance().unwrap();
        let mut expected = LinesDigest::default();
        for l in ["alpha", "beta", "gamma"] {
            expected.add(l.as_bytes());
        }
        assert_eq!(tail.digest, expected);
        let _ = fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("causeway-bench-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn perf_summary_rate_is_read() {
        let out = "1000 records sent, 200.0 records/sec (0.02 MB/sec), 5.0 ms avg latency, 9.0 ms max latency.\n\
                   2000000 records sent, 549602.1 records/sec (51.89 MB/sec), 150.20 ms avg latency, 600.00 ms max latency, 120 ms 50th, 400 ms 95th, 500 ms 99th, 590 ms 99.9th.\n";
        assert_eq!(parse_perf_summary(out), Some(549602.1));
        assert_eq!(parse_perf_summary("nothing here"), None);
    }
}
