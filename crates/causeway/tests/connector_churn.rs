//! Creating and deleting 100 connectors leaves nothing behind: no connector, no status, no task thread,
//! no open input file. On the embedded log and on a real Kafka broker, where every task's librdkafka
//! producer brings its own threads and sockets (and there is no embedded log directory: its descriptor
//! counts are 0).
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const CONNECTORS: usize = 100;

/// Embedded-log segment files under `dir` (one stays open per topic partition, by design).
fn segment_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                segment_files(&p)
            } else {
                usize::from(p.extension().is_some_and(|x| x == "log"))
            }
        })
        .sum()
}

/// Open descriptors split into (outside the embedded log, inside it).
fn fds(worker: &WorkerProcess, log_dir: &Path) -> (Vec<PathBuf>, usize) {
    let all = worker.fd_targets().expect("worker alive");
    let (log, other): (Vec<PathBuf>, Vec<PathBuf>) =
        all.into_iter().partition(|t| t.starts_with(log_dir));
    (other, log.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn hundred_connectors_created_and_deleted_leak_nothing_embedded() {
    hundred_connectors_created_and_deleted_leak_nothing(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hundred_connectors_created_and_deleted_leak_nothing_on_kafka() {
    hundred_connectors_created_and_deleted_leak_nothing(Backend::Kafka).await;
}

async fn hundred_connectors_created_and_deleted_leak_nothing(backend: Backend) {
    let tmp = temp_dir();
    let dir = tmp.path();
    let worker_dir = dir.join("worker");
    let worker = backend.start_worker(&worker_dir).await;
    let rest = &worker.rest;
    let log_dir = worker_dir
        .join("log")
        .canonicalize()
        .unwrap_or(worker_dir.join("log"));

    // Warm up once (first use of the log, offset store, blocking pool), then take the baseline.
    let warm = dir.join("warm.txt");
    write_lines(&warm, 0, 5, 20);
    expect_status(
        &rest
            .post(
                "/connectors",
                json!({"name": "warm", "config": source_config(&warm, &backend.topic("warm"))}),
            )
            .await,
        201,
        "create warm-up connector",
    );
    rest.wait_connector_state("warm", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    expect_empty(
        &rest.delete("/connectors/warm").await,
        204,
        "delete warm-up connector",
    );
    let threads_baseline = worker.threads().expect("threads");
    let (fds_baseline, log_fds_baseline) = fds(&worker, &log_dir);
    let segments_baseline = segment_files(&worker_dir.join("log"));

    let created = std::time::Instant::now();
    let inputs: Vec<PathBuf> = (0..CONNECTORS)
        .map(|i| dir.join(format!("in-{i}.txt")))
        .collect();
    for (i, input) in inputs.iter().enumerate() {
        write_lines(input, 0, 10, 20);
        let r = rest
            .post(
                "/connectors",
                json!({"name": format!("c{i}"), "config": source_config(input, &backend.topic(&format!("churn-{i}")))}),
            )
            .await;
        expect_status(&r, 201, &format!("create c{i}"));
    }
    let r = rest.get("/connectors").await;
    assert_eq!(
        r.body.as_array().map(Vec::len),
        Some(CONNECTORS),
        "{}",
        r.text
    );
    wait_for(
        "all 100 connectors and tasks RUNNING",
        STATE_TIMEOUT,
        || async {
            let r = rest.get("/connectors?expand=status").await;
            let all = r.body.as_object()?;
            let running = all
                .values()
                .filter(|c| {
                    c["status"]["connector"]["state"] == "RUNNING"
                        && c["status"]["tasks"]
                            .as_array()
                            .is_some_and(|t| t.len() == 1 && t[0]["state"] == "RUNNING")
                })
                .count();
            (running == CONNECTORS).then_some(())
        },
    )
    .await;
    // Every source task holds its file open while it runs (so the descriptor check below means something).
    let canon_inputs: Vec<PathBuf> = inputs.iter().map(|p| p.canonicalize().unwrap()).collect();
    wait_for(
        "every source task to have its file open",
        STATE_TIMEOUT,
        || async {
            let (open, _) = fds(&worker, &log_dir);
            canon_inputs.iter().all(|p| open.contains(p)).then_some(())
        },
    )
    .await;
    let threads_peak = worker.threads().expect("threads");
    eprintln!(
        "{backend:?}: {CONNECTORS} connectors running after {:?}",
        created.elapsed()
    );
    let fds_peak = worker.fd_targets().expect("worker alive").len();

    let deleting = std::time::Instant::now();
    for i in 0..CONNECTORS {
        expect_empty(
            &rest.delete(&format!("/connectors/c{i}")).await,
            204,
            &format!("delete c{i}"),
        );
    }
    let r = rest.get("/connectors").await;
    expect_status(&r, 200, "GET /connectors after deleting all");
    assert_eq!(r.body, json!([]));
    for i in 0..CONNECTORS {
        expect_error(
            &rest.get(&format!("/connectors/c{i}/status")).await,
            404,
            &format!("No status found for connector c{i}"),
            "status after delete",
        );
        expect_error(
            &rest.get(&format!("/connectors/c{i}")).await,
            404,
            &format!("Connector c{i} not found"),
            "info after delete",
        );
    }
    let r = rest.get("/connectors?expand=status").await;
    assert_eq!(r.body, json!({}), "no status left");

    // No input file stays open, and descriptors and threads return to the baseline. Idle blocking-pool
    // threads exit after 10 s, hence the generous deadline.
    let new_segments = segment_files(&worker_dir.join("log")) - segments_baseline;
    let checking = std::time::Instant::now();
    let settled = wait_for_quiet(
        &worker,
        &log_dir,
        Duration::from_secs(60),
        |other, log_fds, threads| {
            let leaked_inputs: Vec<&PathBuf> =
                other.iter().filter(|t| canon_inputs.contains(t)).collect();
            leaked_inputs.is_empty()
                && other.len() <= fds_baseline.len() + 2
                && log_fds <= log_fds_baseline + new_segments
                && threads <= threads_baseline + 2
        },
    )
    .await;
    eprintln!(
        "{backend:?}: threads baseline {threads_baseline}, with {CONNECTORS} connectors {threads_peak}, \
         after deleting them {} (settled {:?} after the deletes, {:?} after the checks); descriptors \
         baseline {}, with {CONNECTORS} connectors {fds_peak}",
        worker.threads().unwrap_or(0),
        deleting.elapsed(),
        checking.elapsed(),
        fds_baseline.len() + log_fds_baseline,
    );
    if let Err((other, log_fds, threads)) = settled {
        let leaked: Vec<&PathBuf> = other.iter().filter(|t| !fds_baseline.contains(t)).collect();
        panic!(
            "resources did not return to the baseline after deleting {CONNECTORS} connectors:\n\
             threads {threads} (baseline {threads_baseline})\n\
             fds outside the log {} (baseline {}), new ones: {leaked:?}\n\
             log fds {log_fds} (baseline {log_fds_baseline} + {new_segments} new segments)",
            other.len(),
            fds_baseline.len(),
        );
    }
}

/// Polls the worker's descriptors and threads until `ok` holds or `timeout` passes; on timeout returns the
/// last observation.
async fn wait_for_quiet(
    worker: &WorkerProcess,
    log_dir: &Path,
    timeout: Duration,
    ok: impl Fn(&[PathBuf], usize, usize) -> bool,
) -> Result<(), (Vec<PathBuf>, usize, usize)> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let (other, log_fds) = fds(worker, log_dir);
        let threads = worker.threads().expect("threads");
        if ok(&other, log_fds, threads) {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err((other, log_fds, threads));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
