//! `kill -9` in the middle of a stream loses nothing: after a restart from the same directory every input
//! line reaches the sink, in order, and the only duplicates are whole re-delivered ranges (from the last
//! committed source offset and the last committed sink offset).
mod common;

use std::time::{Duration, Instant};

use common::*;

const TOTAL: usize = 200_000;
const CHUNK: usize = 10_000;
const WIDTH: usize = 60;

/// Both connectors have committed something and the sink wrote at least `min_lines`.
async fn committed_mid_stream(
    rest: &Rest,
    snk: &str,
    output: &std::path::Path,
    min_lines: usize,
) -> bool {
    let src = rest.get("/connectors/src/offsets").await.body;
    let snk = rest.get(&format!("/connectors/{snk}/offsets")).await.body;
    let src_pos = src["offsets"][0]["offset"]["position"]
        .as_u64()
        .unwrap_or(0);
    let snk_off = snk["offsets"][0]["offset"]["kafka_offset"]
        .as_u64()
        .unwrap_or(0);
    src_pos > 0 && snk_off > 0 && read_lines(output).len() >= min_lines
}

#[tokio::test(flavor = "multi_thread")]
async fn kill9_mid_stream_loses_nothing_and_redelivers_only_whole_ranges_embedded() {
    kill9_mid_stream_loses_nothing_and_redelivers_only_whole_ranges(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill9_mid_stream_loses_nothing_and_redelivers_only_whole_ranges_on_kafka() {
    kill9_mid_stream_loses_nothing_and_redelivers_only_whole_ranges(Backend::Kafka).await;
}

async fn kill9_mid_stream_loses_nothing_and_redelivers_only_whole_ranges(backend: Backend) {
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("input.txt");
    let output = dir.join("output.txt");
    std::fs::write(&input, "").unwrap();
    let topic = backend.topic("crash");
    let snk = backend.topic("snk");
    // On Kafka the killed worker's sink consumer stays in its group until its session times out, and the
    // restarted sink gets no partition before that (45 s by default, as with Apache's worker): the
    // broker's minimum keeps the wait short.
    let props = match backend {
        Backend::Embedded => vec![],
        Backend::Kafka => vec![("consumer.session.timeout.ms".into(), "6000".into())],
    };
    let spec = backend
        .spec(WorkerSpec {
            props,
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
    let cluster_id = worker.rest.get("/").await.body["kafka_cluster_id"].clone();
    worker
        .rest
        .wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    worker
        .rest
        .wait_connector_state(&snk, "RUNNING", 1, STATE_TIMEOUT)
        .await;

    // First half of the input while the worker runs; wait until both connectors committed offsets.
    for start in (0..TOTAL / 2).step_by(CHUNK) {
        write_lines(&input, start, CHUNK, WIDTH);
    }
    let deadline = Instant::now() + DATA_TIMEOUT;
    while !committed_mid_stream(&worker.rest, &snk, &output, TOTAL / 4).await {
        assert!(
            Instant::now() < deadline,
            "no offsets committed / too little output; log:\n{}",
            log_tail(&worker.log(), 60)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if backend.is_kafka() {
        // The sink's mid-stream commits are its consumer group's committed offsets on the broker.
        let committed = backend.sink_group_offsets(&snk, &[&topic]).await;
        assert!(
            committed.get(&(topic.clone(), 0)).is_some_and(|o| *o > 0),
            "consumer group connect-{snk} committed mid-stream: {committed:?}"
        );
    }
    // A burst the worker is busy with when it is killed: killed as soon as the sink started writing it,
    // so parts of it are read, produced, written and none of it committed.
    let before_burst = std::fs::metadata(&output).unwrap().len();
    write_lines(&input, TOTAL / 2, TOTAL / 4, WIDTH);
    let deadline = Instant::now() + DATA_TIMEOUT;
    while std::fs::metadata(&output).unwrap().len() == before_burst {
        assert!(
            Instant::now() < deadline,
            "the burst never reached the sink; log:\n{}",
            log_tail(&worker.log(), 60)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    worker.kill9();
    let killed_at = read_lines(&output).len();
    // The rest of the input arrives while the worker is down.
    write_lines(&input, 3 * TOTAL / 4, TOTAL / 4, WIDTH);
    assert!(killed_at < TOTAL, "{killed_at} output lines at the kill");

    // Same directory, same port, same connector files.
    let worker = WorkerProcess::start_on_port(&bin(), &worker_dir, &spec, port).await;
    let r = worker.rest.get("/").await;
    assert_eq!(
        r.body["kafka_cluster_id"], cluster_id,
        "the log kept its cluster id (the embedded log's, from its directory; Kafka's, the broker's)"
    );
    worker
        .rest
        .wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    worker
        .rest
        .wait_connector_state(&snk, "RUNNING", 1, STATE_TIMEOUT)
        .await;

    let input_lines = expected_lines(0, TOTAL, WIDTH);
    assert_eq!(read_lines(&input), input_lines);
    let last = input_lines.last().unwrap().clone();
    let deadline = Instant::now() + DATA_TIMEOUT;
    let output_lines = loop {
        let lines = read_lines(&output);
        if lines.last() == Some(&last) {
            break lines;
        }
        assert!(
            Instant::now() < deadline,
            "the last input line never reached the sink ({} output lines); log:\n{}",
            lines.len(),
            log_tail(&worker.log(), 80)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // kill -9 can cut the sink's last write short (a large write(2) stops at a page boundary when a fatal
    // signal is pending). Like Apache's FileStreamSink, which appends through a PrintStream, the restarted
    // task appends right after the fragment, so the fragment runs into the first line written after the
    // restart. Accept exactly that: at the crash point, a prefix of the line that was being written
    // followed by a whole input line.
    let mut output_lines = output_lines;
    let torn = killed_at
        .checked_sub(1)
        .filter(|&i| !input_lines.contains(&output_lines[i]));
    if let Some(i) = torn {
        let line = output_lines[i].clone();
        let split = line.len().checked_sub(WIDTH).unwrap_or_else(|| {
            panic!("output line {i} ({line:?}) at the crash point is not an input line")
        });
        let (fragment, rest) = line.split_at(split);
        let previous = input_lines.iter().position(|l| *l == output_lines[i - 1]);
        let torn_line = previous.and_then(|p| input_lines.get(p + 1));
        assert!(
            !fragment.is_empty()
                && torn_line.is_some_and(|l| l.starts_with(fragment))
                && input_lines.iter().any(|l| l == rest),
            "output line {i} ({line:?}) at the crash point is neither an input line nor a torn \
             write followed by one"
        );
        eprintln!("torn write at the crash point: {fragment:?}");
        output_lines[i] = rest.to_owned();
    }
    let ranges = redelivery_ranges(&input_lines, &output_lines).unwrap_or_else(|e| {
        panic!("sink output after kill -9 ({killed_at} lines out at the kill): {e}")
    });
    // At most one re-delivered range from the source's last commit and one from the sink's.
    assert!(
        ranges.len() <= 3,
        "too many re-delivered ranges: {ranges:?}"
    );
    let duplicates = output_lines.len() - TOTAL;
    eprintln!(
        "kill -9 after {killed_at} output lines; {duplicates} duplicates in ranges {ranges:?}"
    );

    if backend.is_kafka() {
        // The topic holds the input with at most one re-delivered range (from the source's last commit),
        // and the sink's group ends up committed at the end of it.
        let records = backend.read_topic_to_end(&topic, DATA_TIMEOUT).await;
        let values: Vec<String> = records
            .iter()
            .map(|r| r.value_str().expect("a record value"))
            .collect();
        let topic_ranges = redelivery_ranges(&input_lines, &values)
            .unwrap_or_else(|e| panic!("topic {topic} after kill -9: {e}"));
        assert!(
            topic_ranges.len() <= 2,
            "the topic has more than the source's one re-delivered range: {topic_ranges:?}"
        );
        let end = records.len() as i64;
        backend
            .wait_sink_group_offsets(
                &snk,
                &[&topic],
                &std::collections::HashMap::from([((topic.clone(), 0), end)]),
                STATE_TIMEOUT,
            )
            .await;
        let r = worker.rest.get(&format!("/connectors/{snk}/offsets")).await;
        assert_eq!(
            r.body,
            json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": end}}]}),
            "the sink's offsets through REST are the group's"
        );
    }

    // Both connectors are healthy and caught up.
    let status = worker
        .rest
        .get(&format!("/connectors/{snk}/status"))
        .await
        .body;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
}

#[test]
fn redelivery_ranges_accepts_redelivery_and_rejects_gaps() {
    let input: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
    let out = |idx: &[usize]| -> Vec<String> { idx.iter().map(|i| input[*i].clone()).collect() };
    let ok = |idx: &[usize]| redelivery_ranges(&input, &out(idx)).unwrap();
    assert_eq!(ok(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), vec![(0, 10)]);
    assert_eq!(
        ok(&[0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7, 8, 9]),
        vec![(0, 5), (2, 10)]
    );
    assert_eq!(
        ok(&[0, 1, 2, 3, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9]),
        vec![(0, 4), (1, 6), (3, 10)]
    );
    for (what, idx) in [
        ("gap", &[0, 1, 3, 4, 5, 6, 7, 8, 9][..]),
        ("short", &[0, 1, 2][..]),
        ("reordered", &[1, 0, 2, 3, 4, 5, 6, 7, 8, 9][..]),
        (
            "gap after redelivery",
            &[0, 1, 2, 3, 2, 3, 5, 6, 7, 8, 9][..],
        ),
    ] {
        assert!(
            redelivery_ranges(&input, &out(idx)).is_err(),
            "{what} must be rejected"
        );
    }
    let foreign = vec!["x".to_owned()];
    assert!(
        redelivery_ranges(&input, &foreign).is_err(),
        "a line that is not input"
    );
}
