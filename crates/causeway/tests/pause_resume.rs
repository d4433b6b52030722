//! Pausing a connector stops its flow of records, and resuming it lets every record through exactly once.
mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

/// How long "nothing moves" is observed while paused: a bounded observation, not a timing assertion.
const QUIET_WINDOW: Duration = Duration::from_secs(2);

async fn pipeline(dir: &Path) -> (WorkerProcess, std::path::PathBuf, std::path::PathBuf) {
    let input = dir.join("input.txt");
    let output = dir.join("output.txt");
    write_lines(&input, 0, 1000, 32);
    let worker = start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;
    let r = rest
        .post(
            "/connectors",
            json!({"name": "src", "config": source_config(&input, "flow")}),
        )
        .await;
    expect_status(&r, 201, "create src");
    let r = rest
        .post(
            "/connectors",
            json!({"name": "snk", "config": sink_config(&output, "flow")}),
        )
        .await;
    expect_status(&r, 201, "create snk");
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    rest.wait_connector_state("snk", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    let lines = wait_lines_or_dump(&worker, &output, 1000, DATA_TIMEOUT).await;
    assert_eq!(lines, read_lines(&input));
    (worker, input, output)
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_the_source_stops_the_flow_and_resume_restarts_it() {
    let tmp = temp_dir();
    let (worker, input, output) = pipeline(tmp.path()).await;
    let rest = &worker.rest;

    expect_empty(
        &rest.request("PUT", "/connectors/src/pause", None).await,
        202,
        "pause src",
    );
    rest.wait_connector_state("src", "PAUSED", 1, STATE_TIMEOUT)
        .await;
    // Let the pause's final offset commit land, then nothing may move.
    let end_of_first_batch = std::fs::metadata(&input).unwrap().len();
    wait_for(
        "src offsets at the end of the first batch",
        STATE_TIMEOUT,
        || async {
            let r = rest.get("/connectors/src/offsets").await;
            (r.body["offsets"][0]["offset"]["position"] == end_of_first_batch).then_some(())
        },
    )
    .await;

    write_lines(&input, 1000, 500, 32);
    let observed = observe_unchanged(QUIET_WINDOW, || async {
        (
            read_lines(&output).len(),
            rest.get("/connectors/src/offsets").await.body,
        )
    })
    .await;
    let (lines, _) = observed.unwrap_or_else(|(before, after)| {
        panic!(
            "records flowed while src was PAUSED: {} → {} output lines, offsets {} → {}",
            before.0, after.0, before.1, after.1
        )
    });
    assert_eq!(lines, 1000, "nothing new reached the sink while paused");
    let status = rest.get("/connectors/src/status").await.body;
    assert_eq!(
        status["connector"]["state"], "PAUSED",
        "still paused: {status}"
    );
    assert_eq!(
        status["tasks"][0]["state"], "PAUSED",
        "still paused: {status}"
    );

    expect_empty(
        &rest.request("PUT", "/connectors/src/resume", None).await,
        202,
        "resume src",
    );
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    let lines = wait_lines_or_dump(&worker, &output, 1500, DATA_TIMEOUT).await;
    assert_eq!(
        lines,
        read_lines(&input),
        "every line exactly once, in order"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_the_sink_holds_records_in_the_topic() {
    let tmp = temp_dir();
    let (worker, input, output) = pipeline(tmp.path()).await;
    let rest = &worker.rest;

    expect_empty(
        &rest.request("PUT", "/connectors/snk/pause", None).await,
        202,
        "pause snk",
    );
    rest.wait_connector_state("snk", "PAUSED", 1, STATE_TIMEOUT)
        .await;

    write_lines(&input, 1000, 500, 32);
    // The source keeps running: its committed position reaches the new end of the file...
    let end = std::fs::metadata(&input).unwrap().len();
    wait_for(
        "src offsets past the appended lines",
        DATA_TIMEOUT,
        || async {
            let r = rest.get("/connectors/src/offsets").await;
            (r.body["offsets"][0]["offset"]["position"] == end).then_some(())
        },
    )
    .await;
    // ... while the paused sink writes nothing.
    let observed = observe_unchanged(QUIET_WINDOW, || async { read_lines(&output).len() }).await;
    assert_eq!(observed, Ok(1000), "the paused sink wrote nothing");

    expect_empty(
        &rest.request("PUT", "/connectors/snk/resume", None).await,
        202,
        "resume snk",
    );
    rest.wait_connector_state("snk", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    let lines = wait_lines_or_dump(&worker, &output, 1500, DATA_TIMEOUT).await;
    assert_eq!(
        lines,
        read_lines(&input),
        "every line exactly once, in order"
    );
}
