//! End to end: a 10,000-line file → FileStreamSource → topic → FileStreamSink → an identical file.
mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_lines_arrive_identical() {
    const LINES: usize = 10_000;
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("input.txt");
    let output = dir.join("output.txt");
    write_lines(&input, 0, LINES, 64);
    let worker = start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;

    let r = rest
        .post(
            "/connectors",
            json!({"name": "sink", "config": sink_config(&output, "pipeline")}),
        )
        .await;
    expect_status(&r, 201, "create sink");
    let r = rest
        .post(
            "/connectors",
            json!({"name": "source", "config": source_config(&input, "pipeline")}),
        )
        .await;
    expect_status(&r, 201, "create source");
    rest.wait_connector_state("source", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    rest.wait_connector_state("sink", "RUNNING", 1, STATE_TIMEOUT)
        .await;

    let lines = wait_lines_or_dump(&worker, &output, LINES, DATA_TIMEOUT).await;
    assert_eq!(lines.len(), LINES, "exactly {LINES} lines, no duplicates");
    let expected = std::fs::read(&input).unwrap();
    let actual = std::fs::read(&output).unwrap();
    assert!(
        actual == expected,
        "output file is byte-for-byte the input file"
    );

    // Once everything is through, the next periodic commits (offset.flush.interval.ms=1000) cover it all:
    // give them five intervals. Committed offsets that trail the data make every crash re-deliver more.
    let position = expected.len() as u64;
    let five_flushes = std::time::Duration::from_secs(5);
    wait_for(
        "source offset committed at the end of the file",
        five_flushes,
        || async {
            let r = rest.get("/connectors/source/offsets").await;
            (r.body["offsets"][0]["offset"]["position"] == position).then_some(())
        },
    )
    .await;
    wait_for(
        "sink offset committed at the end of the topic",
        five_flushes,
        || async {
            let r = rest.get("/connectors/sink/offsets").await;
            (r.body["offsets"][0]["offset"]["kafka_offset"] == LINES).then_some(())
        },
    )
    .await;
    let status = rest.get("/connectors/sink/status").await.body;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
}
