//! Pausing a connector stops its flow of records, and resuming it lets every record through exactly once.
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

/// How long "nothing moves" is observed while paused: a bounded observation, not a timing assertion.
const QUIET_WINDOW: Duration = Duration::from_secs(2);

/// A running source → topic → sink pipeline that delivered its first 1000 lines.
struct Pipeline {
    worker: WorkerProcess,
    input: PathBuf,
    output: PathBuf,
    /// The topic between them.
    topic: String,
    /// The sink connector's name (unique on Kafka: its consumer group is `connect-<name>`).
    snk: String,
}

async fn pipeline(backend: Backend, dir: &Path) -> Pipeline {
    let input = dir.join("input.txt");
    let output = dir.join("output.txt");
    write_lines(&input, 0, 1000, 32);
    let topic = backend.topic("flow");
    let snk = backend.topic("snk");
    let worker = backend.start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;
    let r = rest
        .post(
            "/connectors",
            json!({"name": "src", "config": source_config(&input, &topic)}),
        )
        .await;
    expect_status(&r, 201, "create src");
    let r = rest
        .post(
            "/connectors",
            json!({"name": snk, "config": sink_config(&output, &topic)}),
        )
        .await;
    expect_status(&r, 201, "create snk");
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    rest.wait_connector_state(&snk, "RUNNING", 1, STATE_TIMEOUT)
        .await;
    let lines = wait_lines_or_dump(&worker, &output, 1000, DATA_TIMEOUT).await;
    assert_eq!(lines, read_lines(&input));
    Pipeline {
        worker,
        input,
        output,
        topic,
        snk,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_the_source_stops_the_flow_and_resume_restarts_it_embedded() {
    pausing_the_source_stops_the_flow_and_resume_restarts_it(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_the_source_stops_the_flow_and_resume_restarts_it_on_kafka() {
    pausing_the_source_stops_the_flow_and_resume_restarts_it(Backend::Kafka).await;
}

async fn pausing_the_source_stops_the_flow_and_resume_restarts_it(backend: Backend) {
    let tmp = temp_dir();
    let Pipeline {
        worker,
        input,
        output,
        topic,
        ..
    } = pipeline(backend, tmp.path()).await;
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
    if backend.is_kafka() {
        // Nor did anything reach the topic.
        let records = backend.read_topic_to_end(&topic, DATA_TIMEOUT).await;
        assert_eq!(records.len(), 1000, "the paused source produced nothing");
    }
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
async fn pausing_the_sink_holds_records_in_the_topic_embedded() {
    pausing_the_sink_holds_records_in_the_topic(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_the_sink_holds_records_in_the_topic_on_kafka() {
    pausing_the_sink_holds_records_in_the_topic(Backend::Kafka).await;
}

async fn pausing_the_sink_holds_records_in_the_topic(backend: Backend) {
    let tmp = temp_dir();
    let Pipeline {
        worker,
        input,
        output,
        topic,
        snk,
    } = pipeline(backend, tmp.path()).await;
    let rest = &worker.rest;

    expect_empty(
        &rest
            .request("PUT", &format!("/connectors/{snk}/pause"), None)
            .await,
        202,
        "pause snk",
    );
    rest.wait_connector_state(&snk, "PAUSED", 1, STATE_TIMEOUT)
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
    if backend.is_kafka() {
        // The records the paused sink holds back are in the topic, as an independent consumer sees.
        let records = backend.read_topic(&topic, 1500, DATA_TIMEOUT).await;
        let values: Vec<String> = records
            .iter()
            .map(|r| r.value_str().expect("a UTF-8 record value"))
            .collect();
        assert_eq!(values, read_lines(&input), "the topic holds every line");
    }

    expect_empty(
        &rest
            .request("PUT", &format!("/connectors/{snk}/resume"), None)
            .await,
        202,
        "resume snk",
    );
    rest.wait_connector_state(&snk, "RUNNING", 1, STATE_TIMEOUT)
        .await;
    let lines = wait_lines_or_dump(&worker, &output, 1500, DATA_TIMEOUT).await;
    assert_eq!(
        lines,
        read_lines(&input),
        "every line exactly once, in order"
    );
}
