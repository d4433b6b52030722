//! End to end: a 10,000-line file → FileStreamSource → topic → FileStreamSink → an identical file, on
//! the embedded log and on a real Kafka broker (there the topic is left to the broker's auto-creation).
mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;

const LINES: usize = 10_000;

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_lines_arrive_identical_embedded() {
    ten_thousand_lines_arrive_identical(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_lines_arrive_identical_on_kafka() {
    ten_thousand_lines_arrive_identical(Backend::Kafka).await;
}

async fn ten_thousand_lines_arrive_identical(backend: Backend) {
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("input.txt");
    let output = dir.join("output.txt");
    write_lines(&input, 0, LINES, 64);
    let topic = backend.topic("pipeline");
    let sink = backend.topic("sink");
    let worker = backend.start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;

    let r = rest
        .post(
            "/connectors",
            json!({"name": sink, "config": sink_config(&output, &topic)}),
        )
        .await;
    expect_status(&r, 201, "create sink");
    let r = rest
        .post(
            "/connectors",
            json!({"name": "source", "config": source_config(&input, &topic)}),
        )
        .await;
    expect_status(&r, 201, "create source");
    rest.wait_connector_state("source", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    rest.wait_connector_state(&sink, "RUNNING", 1, STATE_TIMEOUT)
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
    let five_flushes = Duration::from_secs(5);
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
            let r = rest.get(&format!("/connectors/{sink}/offsets")).await;
            (r.body["offsets"][0]["offset"]["kafka_offset"] == LINES).then_some(())
        },
    )
    .await;
    let r = rest.get(&format!("/connectors/{sink}/offsets")).await;
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": LINES}}]}),
        "the sink's committed offsets cover exactly the one partition"
    );
    let status = rest.get(&format!("/connectors/{sink}/status")).await.body;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");

    if backend.is_kafka() {
        // The broker created the topic with its default of one partition.
        assert_eq!(backend.topic_partitions(&topic).await, Some(1));
        // The sink's commits are the consumer group's committed offsets on the broker...
        let committed = backend.sink_group_offsets(&sink, &[&topic]).await;
        assert_eq!(
            committed,
            HashMap::from([((topic.clone(), 0), LINES as i64)]),
            "committed offsets of consumer group connect-{sink}"
        );
        // ... and an independent consumer reads exactly the input lines, byte for byte, in order.
        let records = backend.read_topic(&topic, LINES, DATA_TIMEOUT).await;
        let values: Vec<&[u8]> = records
            .iter()
            .map(|r| r.value.as_deref().expect("a record value"))
            .collect();
        let input_lines: Vec<&[u8]> = expected
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            values.len(),
            LINES,
            "the topic holds exactly {LINES} records"
        );
        assert!(
            values == input_lines,
            "the topic's record values are the input lines, byte for byte and in order"
        );
        let all = backend.read_topic_to_end(&topic, DATA_TIMEOUT).await;
        assert_eq!(all.len(), LINES, "nothing more in the topic");
        assert!(
            records
                .iter()
                .enumerate()
                .all(|(i, r)| r.partition == 0 && r.offset == i as i64),
            "records at offsets 0..{LINES} of partition 0"
        );
    }
}
