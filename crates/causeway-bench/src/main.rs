//! `causeway-bench`: the engine of `bench/compare`. In one run it starts the harness's Kafka broker, measures
//! Apache Kafka Connect's standalone worker and Causeway's alternately on the same worker properties,
//! connector configs and inputs, measures the broker's own ceiling with Apache's ProducerPerformance, prints
//! one table and writes the report. Not part of `cargo test` or CI.

mod phases;
mod report;
mod worker;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use causeway_testkit::kafka::{KafkaBroker, KafkaCluster};
use clap::Parser;

use crate::phases::LinesDigest;
use crate::report::{RunFigures, Settings};
use crate::worker::{Binaries, Impl, KAFKA_JVM_PERFORMANCE_OPTS, Worker};

/// The broker's heap as `kafka-server-start.sh` sets it (`KAFKA_HEAP_OPTS`); with the performance options of
/// all Kafka JVMs it replaces the test harness's small heap, under which the collector competes with the
/// workers for the cores.
const BROKER_HEAP_OPTS: &[&str] = &["-Xmx1G", "-Xms1G"];

/// Compares Causeway with Apache Kafka Connect on this machine.
#[derive(Debug, Parser)]
#[command(name = "causeway-bench")]
struct Args {
    /// A smoke run: 200,000 lines, one round, 3 s of REST load, and the report only under --work-dir.
    #[arg(long)]
    quick: bool,
    /// Lines (records) per pipeline [default: 2,000,000; 200,000 with --quick].
    #[arg(long)]
    lines: Option<u64>,
    /// Rounds, each one Apache run then one Causeway run [default: 5; 1 with --quick].
    #[arg(long)]
    rounds: Option<usize>,
    /// Connectors created for the REST phase.
    #[arg(long, default_value_t = 100)]
    rest_connectors: usize,
    /// Connections of the REST load generator.
    #[arg(long, default_value_t = 10)]
    rest_connections: usize,
    /// Seconds of REST load [default: 10; 3 with --quick].
    #[arg(long)]
    rest_seconds: Option<u64>,
    /// The Causeway binary.
    #[arg(long)]
    causeway: PathBuf,
    /// Directory of Apache Connect's jars.
    #[arg(long)]
    connect_libs: PathBuf,
    /// Directory of the jars of Apache's kafka-tools (ProducerPerformance).
    #[arg(long)]
    tools_libs: PathBuf,
    /// Scratch directory (inputs, outputs, worker logs, the last report).
    #[arg(long)]
    work_dir: PathBuf,
    /// Where a full run writes its report (BENCHMARKS.md); --quick writes it only under --work-dir.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Measure only Causeway (no Apache runs, no broker ceiling, no report): for profiling and iterating on
    /// Causeway's hot paths. Each run's figures are printed.
    #[arg(long)]
    causeway_only: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench/compare: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The version in a jar name like `<prefix>4.1.1.jar` found in `dir`.
fn jar_version(dir: &Path, prefix: &str) -> Result<String, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(rest) = name.strip_prefix(prefix)
            && let Some(version) = rest.strip_suffix(".jar")
            && version.starts_with(|c: char| c.is_ascii_digit())
        {
            return Ok(version.to_owned());
        }
    }
    Err(format!("no {prefix}<version>.jar in {}", dir.display()))
}

/// Bytes of disk a run needs per line at its peak: the input file, the structured JSON topic, the largest
/// per-phase topic and the sink output, with some room.
const DISK_BYTES_PER_LINE: u64 = 800;

/// Fails early when the disk of `dir` cannot hold a run of `lines` lines.
fn check_disk(dir: &Path, lines: u64) -> Result<(), String> {
    let probe = dir.parent().unwrap_or(dir);
    let output = std::process::Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(probe)
        .output()
        .map_err(|e| format!("run df: {e}"))?;
    let avail = String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse::<u64>().ok());
    let need = lines * DISK_BYTES_PER_LINE;
    match avail {
        Some(avail) if avail < need => Err(format!(
            "{lines} lines need about {} MB of free disk under {}, only {} MB are free \
             (use --lines or --quick for a smaller run)",
            need / 1_000_000,
            probe.display(),
            avail / 1_000_000
        )),
        _ => Ok(()),
    }
}

/// Inputs shared by every run.
struct Inputs {
    input: PathBuf,
    input_digest: LinesDigest,
    json_topic: String,
    json_digest: LinesDigest,
}

fn run(args: &Args) -> Result<(), String> {
    let lines = args
        .lines
        .unwrap_or(if args.quick { 200_000 } else { 2_000_000 });
    let rounds = args.rounds.unwrap_or(if args.quick { 1 } else { 5 }).max(1);
    let rest_seconds = args.rest_seconds.unwrap_or(if args.quick { 3 } else { 10 });
    let bins = Binaries {
        causeway: args.causeway.clone(),
        connect_libs: args.connect_libs.clone(),
    };
    let connect_version = jar_version(&args.connect_libs, "connect-runtime-")?;
    jar_version(&args.tools_libs, "kafka-tools-")?;
    if !args.causeway.is_file() {
        return Err(format!("no Causeway binary at {}", args.causeway.display()));
    }
    let _ = fs::remove_dir_all(&args.work_dir);
    check_disk(&args.work_dir, lines)?;
    fs::create_dir_all(&args.work_dir)
        .map_err(|e| format!("create {}: {e}", args.work_dir.display()))?;
    let work = fs::canonicalize(&args.work_dir).map_err(|e| e.to_string())?;

    eprintln!("bench/compare: starting the harness broker");
    // Deleted topics leave the disk at once: a full run moves several GB through the broker.
    let broker_jvm: Vec<&str> = [BROKER_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS].concat();
    let broker = KafkaBroker::start_with_jvm(&[("log.segment.delete.delay.ms", "0")], &broker_jvm);
    let cluster = broker.cluster().clone();
    let broker_version = jar_version(causeway_testkit::kafka::broker_libs(), "kafka-clients-")?;
    if broker_version != connect_version {
        eprintln!("bench/compare: note: broker {broker_version}, Apache Connect {connect_version}");
    }
    let settings = Settings {
        lines,
        rounds,
        rest_connectors: args.rest_connectors,
        rest_connections: args.rest_connections,
        rest_seconds,
        kafka_version: connect_version,
    };

    eprintln!(
        "bench/compare: writing {lines} input lines and producing {lines} JSON struct records"
    );
    let input = work.join("input.txt");
    let input_digest = phases::write_input(&input, lines)?;
    let json_topic = format!("bench-json-structs-{}", std::process::id());
    let json_digest = phases::produce_json_structs(&cluster, &json_topic, lines)?;
    let inputs = Inputs {
        input,
        input_digest,
        json_topic,
        json_digest,
    };

    let mut apache = Vec::new();
    let mut causeway = Vec::new();
    let mut ceilings = Vec::new();
    for round in 1..=rounds {
        if args.causeway_only {
            let figures = measure(
                Impl::Causeway,
                round,
                &bins,
                &cluster,
                &inputs,
                &settings,
                &work,
            )?;
            println!("round {round}: {figures:?}");
            continue;
        }
        let perf_topic = format!("bench-perf-{}-{round}", std::process::id());
        let ceiling =
            phases::producer_performance(&cluster, &args.tools_libs, &perf_topic, lines, &work)?;
        eprintln!("bench/compare: round {round}/{rounds}: broker ceiling {ceiling:.0} records/s");
        ceilings.push(ceiling);
        for which in [Impl::Apache, Impl::Causeway] {
            eprintln!("bench/compare: round {round}/{rounds}: {which:?}");
            let figures = measure(which, round, &bins, &cluster, &inputs, &settings, &work)?;
            eprintln!("bench/compare:   {figures:?}");
            match which {
                Impl::Apache => apache.push(figures),
                Impl::Causeway => causeway.push(figures),
            }
        }
    }
    drop(broker);
    if args.causeway_only {
        return Ok(());
    }

    let table = report::table(&settings, &apache, &causeway, &ceilings);
    println!("{table}");
    println!("{}", report::per_round(&apache, &causeway, &ceilings));
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let text = report::markdown(&settings, &apache, &causeway, &ceilings, &date);
    let last = work.join("last.md");
    report::write(&last, &text)?;
    match (&args.report, args.quick) {
        (Some(path), false) => {
            report::write(path, &text)?;
            eprintln!("bench/compare: wrote {}", path.display());
        }
        _ => eprintln!("bench/compare: wrote {}", last.display()),
    }
    Ok(())
}

/// One run of one worker: start, idle, the four pipelines, the REST phase.
fn measure(
    which: Impl,
    round: usize,
    bins: &Binaries,
    cluster: &KafkaCluster,
    inputs: &Inputs,
    settings: &Settings,
    work: &Path,
) -> Result<RunFigures, String> {
    let tag = format!("{}-{round}-{}", which.tag(), std::process::id());
    let dir = work.join(&tag);
    let mut worker = Worker::start(which, bins, &cluster.bootstrap, &dir)?;
    let startup_ms = worker.startup_ms;
    std::thread::sleep(Duration::from_secs(2));
    let idle_rss_mb = phases::rss(&worker, "VmRSS")?;
    let json = [
        (
            "key.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("key.converter.schemas.enable", "true"),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("value.converter.schemas.enable", "true"),
    ];
    let n = settings.lines;
    let topic = format!("bench-{tag}");
    let source = phases::source_phase(
        &mut worker,
        cluster,
        &format!("source-{tag}"),
        &topic,
        &inputs.input,
        n,
        &[],
    )?;
    let (sink, sink_digest) = phases::sink_phase(
        &mut worker,
        &format!("sink-{tag}"),
        &topic,
        &dir.join("sink.txt"),
        n,
        &[],
    )?;
    // Outputs and topics go as soon as they are measured: the disk may be small.
    let _ = fs::remove_file(dir.join("sink.txt"));
    phases::delete_topic(cluster, &topic)?;
    let json_topic = format!("bench-json-{tag}");
    let json_source = phases::source_phase(
        &mut worker,
        cluster,
        &format!("json-source-{tag}"),
        &json_topic,
        &inputs.input,
        n,
        &json,
    )?;
    phases::delete_topic(cluster, &json_topic)?;
    let (json_sink, json_sink_digest) = phases::sink_phase(
        &mut worker,
        &format!("json-sink-{tag}"),
        &inputs.json_topic,
        &dir.join("json-sink.txt"),
        n,
        &json,
    )?;
    let _ = fs::remove_file(dir.join("json-sink.txt"));
    let peak_rss_mb = phases::rss(&worker, "VmHWM")?;
    let rest = phases::rest_phase(
        &mut worker,
        &format!("rest-{tag}"),
        &dir,
        settings.rest_connectors,
        settings.rest_connections,
        settings.rest_seconds,
    )?;
    drop(worker);
    Ok(RunFigures {
        startup_ms,
        idle_rss_mb,
        peak_rss_mb,
        source,
        sink,
        json_source,
        json_sink,
        rest,
        sink_output_ok: report::output_ok(sink_digest, inputs.input_digest),
        json_sink_output_ok: report::output_ok(json_sink_digest, inputs.json_digest),
    })
}
