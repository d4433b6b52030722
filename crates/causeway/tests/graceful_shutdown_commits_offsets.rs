//! SIGTERM stops the worker cleanly and commits every offset: after a restart with the same connectors
//! nothing is delivered twice. Periodic commits are pushed out of reach (`offset.flush.interval.ms` of 10
//! minutes), so the only commits that can exist are the ones made while shutting down.
mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;

const LINES: usize = 5_000;

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_commits_offsets_so_a_restart_delivers_nothing_twice_embedded() {
    sigterm_commits_offsets_so_a_restart_delivers_nothing_twice(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_commits_offsets_so_a_restart_delivers_nothing_twice_on_kafka() {
    sigterm_commits_offsets_so_a_restart_delivers_nothing_twice(Backend::Kafka).await;
}

async fn sigterm_commits_offsets_so_a_restart_delivers_nothing_twice(backend: Backend) {
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("input.txt");
    let output = dir.join("output.txt");
    write_lines(&input, 0, LINES, 48);
    let topic = backend.topic("graceful");
    let snk = backend.topic("snk");
    let spec = backend
        .spec(WorkerSpec {
            props: vec![("offset.flush.interval.ms".into(), "600000".into())],
            connector_files: vec![
                write_connector_file(dir, "src", &source_config(&input, &topic)),
                write_connector_file(dir, &snk, &sink_config(&output, &topic)),
            ],
            ..Default::default()
        })
        .await;
    let worker_dir = dir.join("worker");
    let mut worker = WorkerProcess::start(&bin(), &worker_dir, &spec).await;
    let port = worker.port;
    worker
        .rest
        .wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    worker
        .rest
        .wait_connector_state(&snk, "RUNNING", 1, STATE_TIMEOUT)
        .await;
    let lines = wait_lines_or_dump(&worker, &output, LINES, DATA_TIMEOUT).await;
    assert_eq!(
        lines,
        read_lines(&input),
        "first run delivered everything once"
    );

    let code = worker.terminate(Duration::from_secs(60));
    let log = worker.log();
    assert_eq!(
        code,
        Some(0),
        "SIGTERM exits cleanly with status 0; log:\n{}",
        log_tail(&log, 40)
    );

    if backend.is_kafka() {
        // The sink's final commit is its consumer group's committed offset on the broker.
        let committed = backend.sink_group_offsets(&snk, &[&topic]).await;
        assert_eq!(
            committed,
            HashMap::from([((topic.clone(), 0), LINES as i64)]),
            "consumer group connect-{snk} after SIGTERM"
        );
    }

    let worker = WorkerProcess::start_on_port(&bin(), &worker_dir, &spec, port).await;
    let rest = &worker.rest;
    // Connector files are read once REST is up (as Apache's ConnectStandalone does): wait for both.
    wait_for("connectors from files created", STATE_TIMEOUT, || async {
        let r = rest.get("/connectors").await;
        (r.body.as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    // The offsets committed on shutdown are there before anything runs again.
    let size = std::fs::metadata(&input).unwrap().len();
    let r = rest.get("/connectors/src/offsets").await;
    expect_status(&r, 200, "source offsets after restart");
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"filename": input.display().to_string()}, "offset": {"position": size}}]}),
        "the source committed its final position on shutdown"
    );
    let r = rest.get(&format!("/connectors/{snk}/offsets")).await;
    expect_status(&r, 200, "sink offsets after restart");
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": LINES}}]}),
        "the sink committed its final position on shutdown"
    );
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    rest.wait_connector_state(&snk, "RUNNING", 1, STATE_TIMEOUT)
        .await;

    // New lines after the restart: once they are out, anything re-delivered would precede them.
    write_lines(&input, LINES, 10, 48);
    let lines = wait_lines_or_dump(&worker, &output, LINES + 10, DATA_TIMEOUT).await;
    let expected = read_lines(&input);
    assert_eq!(
        lines.len(),
        expected.len(),
        "no duplicates after the restart"
    );
    assert_eq!(lines, expected);
    // And nothing more trickles in behind them.
    let settled = observe_unchanged(Duration::from_secs(1), || async {
        read_lines(&output).len()
    })
    .await;
    assert_eq!(settled, Ok(LINES + 10), "no late duplicates");

    // A second SIGTERM commits the ten new lines as well.
    let mut worker = worker;
    let code = worker.terminate(Duration::from_secs(60));
    assert_eq!(
        code,
        Some(0),
        "the second SIGTERM exits cleanly with status 0; log:\n{}",
        log_tail(&worker.log(), 40)
    );
    if backend.is_kafka() {
        let committed = backend.sink_group_offsets(&snk, &[&topic]).await;
        assert_eq!(
            committed,
            HashMap::from([((topic.clone(), 0), (LINES + 10) as i64)]),
            "consumer group connect-{snk} after the second SIGTERM"
        );
    }
}
