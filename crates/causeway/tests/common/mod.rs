//! Helpers shared by the integration tests: the binary, connector configs, assertions on REST answers,
//! waits on files, and the re-delivery checker used after crashes.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use causeway_testkit::{
    Response, Rest, Value, WorkerProcess, WorkerSpec, json, read_lines, temp_dir, wait_for,
    write_lines,
};

/// Generous deadline for state changes (debug builds on 2 cores).
pub const STATE_TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline for data to flow end to end.
pub const DATA_TIMEOUT: Duration = Duration::from_secs(90);

pub const SOURCE_FQCN: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
pub const SINK_FQCN: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// The `causeway` binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_causeway"))
}

/// Starts a worker in `dir` with the default properties and no connector files.
pub async fn start_worker(dir: &Path) -> WorkerProcess {
    WorkerProcess::start(&bin(), dir, &WorkerSpec::default()).await
}

/// A FileStreamSource config (flat map, without `name`).
pub fn source_config(file: &Path, topic: &str) -> Value {
    json!({
        "connector.class": "FileStreamSource",
        "tasks.max": "1",
        "file": file.display().to_string(),
        "topic": topic,
    })
}

/// A FileStreamSink config (flat map, without `name`).
pub fn sink_config(file: &Path, topics: &str) -> Value {
    json!({
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "file": file.display().to_string(),
        "topics": topics,
    })
}

/// Writes a connector `.properties` file (as `connect-file-source.properties`) and returns its path.
pub fn write_connector_file(dir: &Path, name: &str, config: &Value) -> PathBuf {
    let path = dir.join(format!("{name}.properties"));
    let mut text = format!("name={name}\n");
    for (k, v) in config.as_object().expect("config object") {
        let v = v.as_str().expect("string config value");
        text.push_str(&format!("{k}={v}\n"));
    }
    std::fs::write(&path, text).expect("write connector file");
    path
}

/// Panics with the whole response (and its request) unless the status is `status`.
#[track_caller]
pub fn expect_status(r: &Response, status: u16, what: &str) {
    assert_eq!(
        r.status, status,
        "{what}: expected HTTP {status}, got {} with body {}",
        r.status, r.text
    );
}

/// Asserts an error answer: status, `error_code` equal to it, and the exact message.
#[track_caller]
pub fn expect_error(r: &Response, status: u16, message: &str, what: &str) {
    expect_status(r, status, what);
    assert_eq!(
        r.body,
        json!({"error_code": status, "message": message}),
        "{what}: error body"
    );
}

/// Asserts an error answer whose message starts with `prefix`; returns the message.
#[track_caller]
pub fn expect_error_prefix(r: &Response, status: u16, prefix: &str, what: &str) -> String {
    expect_status(r, status, what);
    assert_eq!(
        r.body["error_code"],
        json!(status),
        "{what}: error_code in {}",
        r.text
    );
    let message = r.body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {}", r.text))
        .to_owned();
    assert!(
        message.starts_with(prefix),
        "{what}: message {message:?} should start with {prefix:?}"
    );
    assert_eq!(
        r.body.as_object().map(|o| o.len()),
        Some(2),
        "{what}: error body has exactly error_code and message: {}",
        r.text
    );
    message
}

/// Asserts a response has no body at all (202/204 answers).
#[track_caller]
pub fn expect_empty(r: &Response, status: u16, what: &str) {
    expect_status(r, status, what);
    assert!(
        r.text.is_empty(),
        "{what}: expected no body, got {:?}",
        r.text
    );
}

/// Waits until `path` holds at least `n` lines; returns them.
pub async fn wait_lines(path: &Path, n: usize, timeout: Duration) -> Vec<String> {
    let what = format!("{} to hold {n} lines", path.display());
    wait_for(&what, timeout, || async {
        let lines = read_lines(path);
        (lines.len() >= n).then_some(lines)
    })
    .await
}

/// As [`wait_lines`], but a timeout reports how far the file got and the worker log's tail.
pub async fn wait_lines_or_dump(
    worker: &WorkerProcess,
    path: &Path,
    n: usize,
    timeout: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(50);
    loop {
        let lines = read_lines(path);
        if lines.len() >= n {
            return lines;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {timeout:?} waiting for {} to hold {n} lines (has {}); worker log tail:\n{}",
                path.display(),
                lines.len(),
                log_tail(&worker.log(), 60)
            );
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

/// The last `n` lines of a log.
pub fn log_tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The lines `write_lines(path, start, n, width)` writes, without touching a file.
pub fn expected_lines(start: usize, n: usize, width: usize) -> Vec<String> {
    (start..start + n)
        .map(|i| {
            let mut line = format!("line-{i:08}-");
            while line.len() < width {
                line.push('x');
            }
            line
        })
        .collect()
}

/// Observes `probe` for `window` (polling every 200 ms) and returns its value if it never changed, or the
/// first different value. A bounded observation, not a timing assertion: it is used to show that something
/// does *not* happen (e.g. no record flows while paused).
pub async fn observe_unchanged<T, F, Fut>(window: Duration, mut probe: F) -> Result<T, (T, T)>
where
    T: PartialEq + Clone,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let first = probe().await;
    let end = Instant::now() + window;
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = probe().await;
        if now != first {
            return Err((first, now));
        }
    }
    Ok(first)
}

/// How an output that re-delivered some records after a crash relates to the input: the maximal runs of
/// consecutive input lines it consists of, as `(start, end)` index ranges (end exclusive).
///
/// Fails unless the output is a concatenation of input ranges `[s0,e0) [s1,e1) …` with `s0 = 0`, each
/// later range starting at or before the furthest point reached so far (no gap: nothing skipped; a jump
/// backwards is a re-delivered range, never a jump forwards) and the furthest point equal to the input
/// length (every input line present). Input lines must be distinct.
pub fn redelivery_ranges(
    input: &[String],
    output: &[String],
) -> Result<Vec<(usize, usize)>, String> {
    let index: std::collections::HashMap<&str, usize> = input
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    if index.len() != input.len() {
        return Err("input lines must be distinct".into());
    }
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut furthest = 0usize;
    for (pos, line) in output.iter().enumerate() {
        let Some(&i) = index.get(line.as_str()) else {
            return Err(format!("output line {pos} ({line:?}) is not an input line"));
        };
        match ranges.last_mut() {
            Some((_, end)) if *end == i => *end = i + 1,
            _ => {
                if i > furthest {
                    return Err(format!(
                        "gap or reordering at output line {pos}: input line {i} comes after {:?} but \
                         lines {furthest}..{i} were never delivered (ranges so far {ranges:?})",
                        ranges.last().map(|r| r.1 - 1)
                    ));
                }
                ranges.push((i, i + 1));
            }
        }
        furthest = furthest.max(i + 1);
    }
    if furthest != input.len() {
        return Err(format!(
            "output ends before the input does ({furthest} of {} lines reached; ranges {ranges:?})",
            input.len()
        ));
    }
    Ok(ranges)
}

/// Where a worker keeps its topics: the embedded file-backed log, or the shared real Kafka broker of the
/// test process ([`causeway_testkit::kafka()`], or the cluster in `KAFKA_BOOTSTRAP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// No `bootstrap.servers`: the embedded log in the worker's directory.
    Embedded,
    /// `bootstrap.servers` of the shared broker.
    Kafka,
}

impl Backend {
    /// Whether this is the Kafka backend.
    pub fn is_kafka(self) -> bool {
        self == Backend::Kafka
    }

    /// The shared cluster, started on first use off the async workers (the first start takes seconds).
    /// Panics on the embedded backend.
    pub async fn cluster(self) -> &'static causeway_testkit::KafkaCluster {
        assert!(self.is_kafka(), "no Kafka cluster on the embedded backend");
        tokio::task::spawn_blocking(causeway_testkit::kafka)
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// The worker properties that select this backend (`bootstrap.servers` for Kafka, none otherwise).
    pub async fn props(self) -> Vec<(String, String)> {
        match self {
            Backend::Embedded => Vec::new(),
            Backend::Kafka => vec![(
                "bootstrap.servers".to_owned(),
                self.cluster().await.bootstrap.clone(),
            )],
        }
    }

    /// `spec` with this backend's properties added (the spec's own properties win).
    pub async fn spec(self, spec: WorkerSpec) -> WorkerSpec {
        let mut props = self.props().await;
        props.extend(spec.props);
        WorkerSpec { props, ..spec }
    }

    /// The default worker spec on this backend.
    pub async fn worker_spec(self) -> WorkerSpec {
        self.spec(WorkerSpec::default()).await
    }

    /// Starts a worker in `dir` on this backend with the default properties and no connector files.
    pub async fn start_worker(self, dir: &Path) -> WorkerProcess {
        WorkerProcess::start(&bin(), dir, &self.worker_spec().await).await
    }

    /// A topic (or sink connector) name for this test. On the embedded log every worker has its own log, so
    /// `base` is kept; on Kafka the broker is shared by every test of the test binary (and, with
    /// `KAFKA_BOOTSTRAP`, by reruns of the suite), so the name gets the process id, a counter and a random
    /// suffix. Sink connector names need this too: a sink's consumer group is `connect-<name>`.
    pub fn topic(self, base: &str) -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        match self {
            Backend::Embedded => base.to_owned(),
            Backend::Kafka => causeway_testkit::unique_name(&format!(
                "{base}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            )),
        }
    }

    /// Committed offsets of the sink connector `sink`'s consumer group `connect-<sink>` on `topics`.
    pub async fn sink_group_offsets(
        self,
        sink: &str,
        topics: &[&str],
    ) -> std::collections::HashMap<(String, i32), i64> {
        let cluster = self.cluster().await;
        let group = format!("connect-{sink}");
        let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            cluster.group_offsets(&group, &topics)
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Waits until the consumer group of sink `sink` committed exactly `expected` on `topics`; returns the
    /// last observation on timeout as a panic message.
    pub async fn wait_sink_group_offsets(
        self,
        sink: &str,
        topics: &[&str],
        expected: &std::collections::HashMap<(String, i32), i64>,
        timeout: Duration,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.sink_group_offsets(sink, topics).await;
            if &got == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "consumer group connect-{sink}: committed offsets {got:?}, expected {expected:?} \
                 (waited {timeout:?})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Reads `topic` with the harness's own consumer until `expected` records arrived (or `timeout`).
    pub async fn read_topic(
        self,
        topic: &str,
        expected: usize,
        timeout: Duration,
    ) -> Vec<causeway_testkit::ReadRecord> {
        let cluster = self.cluster().await;
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || cluster.read_all(&topic, expected, timeout))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Everything `topic` holds now, read with the harness's own consumer.
    pub async fn read_topic_to_end(
        self,
        topic: &str,
        timeout: Duration,
    ) -> Vec<causeway_testkit::ReadRecord> {
        let cluster = self.cluster().await;
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || cluster.read_to_end(&topic, timeout))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Partitions of `topic` on the broker.
    pub async fn topic_partitions(self, topic: &str) -> Option<usize> {
        let cluster = self.cluster().await;
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || cluster.topic_partitions(&topic))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }
}
