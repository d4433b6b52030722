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
