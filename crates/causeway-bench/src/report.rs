//! The results: one table of medians (Apache Connect, Causeway, their ratio, source throughput as a
//! fraction of the broker ceiling), the per-round figures, the machine they were taken on, and
//! `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::phases::{LinesDigest, RestFigures, Throughput};

/// Everything one worker run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunFigures {
    /// Spawn to first `GET /` answered, ms.
    pub(crate) startup_ms: f64,
    /// `VmRSS` 2 s after start, MB.
    pub(crate) idle_rss_mb: f64,
    /// `VmHWM` after the four pipelines, MB.
    pub(crate) peak_rss_mb: f64,
    /// FileStreamSource, StringConverter.
    pub(crate) source: Throughput,
    /// FileStreamSink, StringConverter.
    pub(crate) sink: Throughput,
    /// FileStreamSource, JsonConverter with schemas.
    pub(crate) json_source: Throughput,
    /// FileStreamSink, JsonConverter with schemas, struct records.
    pub(crate) json_sink: Throughput,
    /// The status listing under load.
    pub(crate) rest: RestFigures,
    /// The string sink wrote exactly the input's lines.
    pub(crate) sink_output_ok: bool,
    /// The JSON sink wrote exactly the expected `Struct{...}` lines.
    pub(crate) json_sink_output_ok: bool,
}

/// The settings of a bench run, for the report.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Input lines (records) per pipeline.
    pub(crate) lines: u64,
    /// Rounds (each one Apache run and one Causeway run).
    pub(crate) rounds: usize,
    /// Connectors in the REST phase.
    pub(crate) rest_connectors: usize,
    /// Connections of the REST load generator.
    pub(crate) rest_connections: usize,
    /// Seconds of REST load.
    pub(crate) rest_seconds: u64,
    /// Kafka version of the broker and of Apache Connect.
    pub(crate) kafka_version: String,
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// `1234567.8` as `1,234,568`.
fn grouped(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// A ratio with two significant digits below 0.1, so 15 ms against 3,316 ms reads 0.0045×, not 0.00×.
fn ratio(r: f64) -> String {
    if !r.is_finite() {
        "n/a".into()
    } else if r >= 0.1 {
        format!("{r:.2}×")
    } else if r >= 0.01 {
        format!("{r:.3}×")
    } else {
        format!("{r:.4}×")
    }
}

/// A row of the table: label, how to print a value, and the value of one run.
struct Row {
    label: String,
    format: fn(f64) -> String,
    pick: fn(&RunFigures) -> f64,
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

fn mb(v: f64) -> String {
    format!("{v:.1}")
}

fn rows(settings: &Settings) -> Vec<Row> {
    let n = grouped(settings.lines as f64);
    let rest = format!(
        "REST `GET /connectors?expand=status&expand=info`, {} connectors, {} connections, {} s",
        settings.rest_connectors, settings.rest_connections, settings.rest_seconds
    );
    vec![
        Row {
            label: "cold start to first `GET /` answered (ms)".into(),
            format: ms,
            pick: |r| r.startup_ms,
        },
        Row {
            label: "idle RSS after start (MB)".into(),
            format: mb,
            pick: |r| r.idle_rss_mb,
        },
        Row {
            label: "peak RSS under load (MB, VmHWM after the four pipelines)".into(),
            format: mb,
            pick: |r| r.peak_rss_mb,
        },
        Row {
            label: format!(
                "source: FileStreamSource, {n} lines → 6 partitions, StringConverter (records/s)"
            ),
            format: grouped,
            pick: |r| r.source.records_per_s,
        },
        Row {
            label: "sink: FileStreamSink draining it, StringConverter (records/s)".into(),
            format: grouped,
            pick: |r| r.sink.records_per_s,
        },
        Row {
            label: "source, JsonConverter schemas.enable=true, string-schema records (records/s)"
                .into(),
            format: grouped,
            pick: |r| r.json_source.records_per_s,
        },
        Row {
            label: format!(
                "sink, JsonConverter schemas.enable=true, {n} struct records (records/s)"
            ),
            format: grouped,
            pick: |r| r.json_sink.records_per_s,
        },
        Row {
            label: format!("{rest}: p50 (ms)"),
            format: ms,
            pick: |r| r.rest.p50_ms,
        },
        Row {
            label: format!("{rest}: p99 (ms)"),
            format: ms,
            pick: |r| r.rest.p99_ms,
        },
        Row {
            label: format!("{rest}: requests/s"),
            format: grouped,
            pick: |r| r.rest.requests_per_s,
        },
    ]
}

/// The table of medians, as Markdown (it reads as a plain table in a terminal too).
pub(crate) fn table(
    settings: &Settings,
    apache: &[RunFigures],
    causeway: &[RunFigures],
    ceilings: &[f64],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| figure (median of {} run{} each) | Apache Connect {} | Causeway | Causeway ÷ Apache |",
        settings.rounds,
        if settings.rounds == 1 { "" } else { "s" },
        settings.kafka_version
    );
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for row in rows(settings) {
        let a = median(apache.iter().map(row.pick).collect());
        let c = median(causeway.iter().map(row.pick).collect());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            row.label,
            (row.format)(a),
            (row.format)(c),
            ratio(c / a)
        );
    }
    let ceiling = median(ceilings.to_vec());
    let fraction = |runs: &[RunFigures], pick: fn(&RunFigures) -> f64| {
        median(runs.iter().map(pick).collect()) / ceiling * 100.0
    };
    for (label, pick) in [
        (
            "StringConverter",
            (|r: &RunFigures| r.source.records_per_s) as fn(&RunFigures) -> f64,
        ),
        ("JsonConverter", |r: &RunFigures| {
            r.json_source.records_per_s
        }),
    ] {
        let a = fraction(apache, pick);
        let c = fraction(causeway, pick);
        let _ = writeln!(
            out,
            "| source throughput ÷ broker ceiling, {label} | {a:.0}% | {c:.0}% | {} |",
            ratio(c / a)
        );
    }
    let _ = writeln!(
        out,
        "| broker ceiling: ProducerPerformance, {} × {} B, acks=all (records/s) | {} | {} | |",
        grouped(settings.lines as f64),
        crate::phases::LINE_BYTES - 1,
        grouped(ceiling),
        grouped(ceiling)
    );
    out
}

/// Every run's figures, one line each, for the record.
pub(crate) fn per_round(
    apache: &[RunFigures],
    causeway: &[RunFigures],
    ceilings: &[f64],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| round | worker | start ms | idle MB | peak MB | source r/s (time) | sink r/s (time) | JSON source r/s (time) | JSON sink r/s (time) | REST p50 ms | REST p99 ms | REST req/s | outputs checked | broker ceiling r/s |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    );
    for (round, ceiling) in ceilings.iter().enumerate() {
        for (name, runs) in [("Apache", apache), ("Causeway", causeway)] {
            let Some(r) = runs.get(round) else { continue };
            let checked = if r.sink_output_ok && r.json_sink_output_ok {
                "ok".to_owned()
            } else {
                format!(
                    "string sink {}, JSON sink {}",
                    if r.sink_output_ok { "ok" } else { "MISMATCH" },
                    if r.json_sink_output_ok {
                        "ok"
                    } else {
                        "MISMATCH"
                    }
                )
            };
            let _ = writeln!(
                out,
                "| {} | {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {checked} | {} |",
                round + 1,
                ms(r.startup_ms),
                mb(r.idle_rss_mb),
                mb(r.peak_rss_mb),
                rate(r.source),
                rate(r.sink),
                rate(r.json_source),
                rate(r.json_sink),
                ms(r.rest.p50_ms),
                ms(r.rest.p99_ms),
                grouped(r.rest.requests_per_s),
                grouped(*ceiling)
            );
        }
    }
    out
}

/// Records/s with the seconds the phase took.
fn rate(t: Throughput) -> String {
    format!("{} ({:.1} s)", grouped(t.records_per_s), t.seconds)
}

/// The first line a command prints on stdout or stderr, or `unknown`.
fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The machine the figures were taken on, as Markdown list items.
pub(crate) fn machine(settings: &Settings) -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or("unknown".into(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let os = fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let java = command_line("java", &["-version"]);
    let rustc = command_line("rustc", &["--version"]);
    let commit = command_line("git", &["rev-parse", "--short", "HEAD"]);
    format!(
        "- CPU: {cpu}, {cores} cores available\n\
         - RAM: {ram_gib}\n\
         - OS: {os}, Linux {kernel}\n\
         - JDK: {java}\n\
         - Rust: {rustc}\n\
         - Broker: Apache Kafka {} (KRaft, one node, the test harness's broker with `kafka-server-start.sh`'s JVM options: 1 GB heap, G1, on the same machine)\n\
         - Apache Connect: {} standalone (connect-runtime, connect-file, connect-json from Maven Central), JVM flags of `connect-standalone.sh`\n\
         - Causeway: `target/release/causeway` at commit {commit}\n",
        settings.kafka_version, settings.kafka_version
    )
}

/// The whole Markdown report.
pub(crate) fn markdown(
    settings: &Settings,
    apache: &[RunFigures],
    causeway: &[RunFigures],
    ceilings: &[f64],
    date: &str,
) -> String {
    format!(
        "# Benchmarks\n\n\
         Causeway against Apache Kafka Connect {kv}, measured by `bench/compare` in one run on one machine: the same\n\
         broker, the same worker properties, the same connector configs and the same inputs, Apache and Causeway\n\
         runs alternating (Apache, Causeway, Apache, Causeway, …). Each figure is the median over the rounds.\n\
         `bench/compare --quick` is a smoke run on fewer lines; a full run rewrites this file.\n\n\
         ## Machine\n\n{machine}\n\
         Both workers, the broker and the load generator share the machine's cores.\n\n\
         ## Results ({date})\n\n{table}\n\
         Ratios are Causeway ÷ Apache: above 1 is better for throughput and requests/s, below 1 is better for\n\
         times and memory.\n\n\
         ### Every run\n\n{rounds}\n\
         ## What each figure is\n\n\
         - Worker: `bootstrap.servers` of the harness broker, `listeners=http://127.0.0.1:<port>`, String key and\n  \
           value converters, `offset.storage.file.filename` in a fresh directory, `offset.flush.interval.ms=10000`,\n  \
           `plugin.path` unset. Apache runs `org.apache.kafka.connect.cli.ConnectStandalone` with `-Xms256M -Xmx2G`\n  \
           and G1 as `connect-standalone.sh` does, logging INFO to a file; Causeway runs\n  \
           `causeway standalone` with `RUST_LOG=info` to a file.\n\
         - Cold start: from spawning the process to the first `GET /` answered with 2xx (polled every 1 ms).\n\
         - Idle RSS: `VmRSS` of `/proc/<pid>/status` 2 s after that. Peak RSS: `VmHWM` after the four pipelines.\n\
         - Source: a fresh topic of 6 partitions; `FileStreamSourceConnector` (`tasks.max=1`, default\n  \
           `batch.size`) over a file of {lines} lines of {lb} bytes (newline included); records/s from the\n  \
           connector's `PUT` until the topic's end offsets add up to {lines}.\n\
         - Sink: `FileStreamSinkConnector` draining that topic into a file; records/s from its `PUT` until the file\n  \
           holds {lines} lines. The output is checked against the input (same lines, any interleaving of\n  \
           partitions).\n\
         - JSON source: as the source, with `key.converter` and `value.converter` JsonConverter,\n  \
           `schemas.enable=true` (FileStreamSource's records have a string schema).\n\
         - JSON sink: {lines} structured records (`struct{{id int64, text string, even boolean}}` in the\n  \
           schema-and-payload envelope, about 300 bytes each) produced into a 6-partition topic before the runs,\n  \
           drained by FileStreamSink with JsonConverter `schemas.enable=true`; the output is checked against the\n  \
           expected `Struct{{id=…,text=…,even=…}}` lines.\n\
         - REST: {rc} FileStreamSource connectors on an empty file, all RUNNING with their task, then a closed-loop\n  \
           load generator (as wrk runs: {conns} keep-alive connections, each sending its next request when the last\n  \
           is answered) on `GET /connectors?expand=status&expand=info` for {secs} s.\n\
         - Broker ceiling: `org.apache.kafka.tools.ProducerPerformance` (kafka-tools {kv}) into a fresh 6-partition\n  \
           topic, {lines} records of {vb} bytes (the source's record size), `acks=all`, `--throughput -1`, once per\n  \
           round. It is what Apache's producer reaches with its default settings from one process, not a hard\n  \
           limit: a worker whose producer batches differently can come close to it or pass it.\n\
         - Every worker runs alone against the broker; the bench deletes each topic once measured, and the broker\n  \
           runs with `log.segment.delete.delay.ms=0`, so the disk holds one phase's data at a time.\n",
        kv = settings.kafka_version,
        machine = machine(settings),
        table = table(settings, apache, causeway, ceilings),
        rounds = per_round(apache, causeway, ceilings),
        lines = grouped(settings.lines as f64),
        lb = crate::phases::LINE_BYTES,
        vb = crate::phases::LINE_BYTES - 1,
        rc = settings.rest_connectors,
        conns = settings.rest_connections,
        secs = settings.rest_seconds,
    )
}

/// Writes `text` to `path`.
pub(crate) fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("write {}: {e}", path.display()))
}

/// Whether an output digest is the expected one.
pub(crate) fn output_ok(got: LinesDigest, expected: LinesDigest) -> bool {
    got == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn grouped_thousands() {
        assert_eq!(grouped(0.4), "0");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1000.0), "1,000");
        assert_eq!(grouped(1_234_567.8), "1,234,568");
        assert_eq!(grouped(f64::NAN), "n/a");
    }

    #[test]
    fn ratios_keep_two_significant_digits() {
        assert_eq!(ratio(1.254), "1.25×");
        assert_eq!(ratio(0.0452), "0.045×");
        assert_eq!(ratio(15.0 / 3316.0), "0.0045×");
        assert_eq!(ratio(f64::INFINITY), "n/a");
    }
}
