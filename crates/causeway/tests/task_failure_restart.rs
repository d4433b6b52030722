//! A task that fails shows FAILED with a trace, and `restart?onlyFailed=true&includeTasks=true` brings
//! back exactly that task once the cause is fixed.
mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn failed_task_has_a_trace_and_only_failed_restart_revives_it_embedded() {
    failed_task_has_a_trace_and_only_failed_restart_revives_it(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_task_has_a_trace_and_only_failed_restart_revives_it_on_kafka() {
    failed_task_has_a_trace_and_only_failed_restart_revives_it(Backend::Kafka).await;
}

async fn failed_task_has_a_trace_and_only_failed_restart_revives_it(backend: Backend) {
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("input.txt");
    write_lines(&input, 0, 200, 24);
    // The sink's file is in a directory that does not exist yet: the task cannot open it.
    let missing_dir = dir.join("not-yet");
    let output = missing_dir.join("output.txt");
    let topic = backend.topic("fail");
    let snk = backend.topic("snk");
    let worker = backend.start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;
    let worker_id = format!("127.0.0.1:{}", worker.port);

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
    expect_status(
        &r,
        201,
        "create snk (connector validation does not open the file)",
    );

    let status = wait_for("snk task FAILED", STATE_TIMEOUT, || async {
        let r = rest.get(&format!("/connectors/{snk}/status")).await;
        (r.status == 200 && r.body["tasks"][0]["state"] == "FAILED").then_some(r.body)
    })
    .await;
    assert_eq!(
        status["connector"]["state"], "RUNNING",
        "only the task failed: {status}"
    );
    assert!(status["connector"].get("trace").is_none(), "{status}");
    let trace = status["tasks"][0]["trace"]
        .as_str()
        .expect("a FAILED task has a trace");
    assert!(!trace.trim().is_empty());
    assert!(
        trace.contains(&output.display().to_string()),
        "the trace names the file: {trace}"
    );
    assert_eq!(status["tasks"][0]["worker_id"], worker_id.as_str());

    let r = rest.get(&format!("/connectors/{snk}/tasks/0/status")).await;
    expect_status(&r, 200, "task status");
    assert_eq!(r.body["state"], "FAILED");
    assert_eq!(
        r.body["trace"].as_str(),
        Some(trace),
        "same trace from the task endpoint"
    );

    let src_status = rest.get("/connectors/src/status").await.body;
    assert_eq!(src_status["tasks"][0]["state"], "RUNNING", "{src_status}");
    assert!(!output.exists());
    if backend.is_kafka() {
        let committed = backend.sink_group_offsets(&snk, &[&topic]).await;
        assert!(
            committed.is_empty(),
            "the failed task committed nothing in consumer group connect-{snk}: {committed:?}"
        );
    }

    // A failed task does not follow a pause, and a resume does not restart it.
    expect_empty(
        &rest
            .request("PUT", &format!("/connectors/{snk}/pause"), None)
            .await,
        202,
        "pause snk",
    );
    let status = wait_for("snk connector PAUSED", STATE_TIMEOUT, || async {
        let r = rest.get(&format!("/connectors/{snk}/status")).await;
        (r.body["connector"]["state"] == "PAUSED").then_some(r.body)
    })
    .await;
    assert_eq!(status["tasks"][0]["state"], "FAILED", "{status}");
    expect_empty(
        &rest
            .request("PUT", &format!("/connectors/{snk}/resume"), None)
            .await,
        202,
        "resume snk",
    );
    let status = wait_for("snk connector RUNNING", STATE_TIMEOUT, || async {
        let r = rest.get(&format!("/connectors/{snk}/status")).await;
        (r.body["connector"]["state"] == "RUNNING").then_some(r.body)
    })
    .await;
    assert_eq!(status["tasks"][0]["state"], "FAILED", "{status}");

    std::fs::create_dir_all(&missing_dir).unwrap();
    let r = rest
        .request(
            "POST",
            &format!("/connectors/{snk}/restart?onlyFailed=true&includeTasks=true"),
            None,
        )
        .await;
    expect_status(&r, 202, "restart?onlyFailed=true&includeTasks=true");
    assert_eq!(r.body["name"], snk.as_str());
    assert_eq!(r.body["type"], "sink");
    assert_eq!(
        r.body["connector"]["state"], "RUNNING",
        "a running connector is not restarted: {}",
        r.text
    );
    assert_eq!(r.body["tasks"][0]["id"], 0);
    assert_eq!(r.body["tasks"][0]["state"], "RESTARTING", "{}", r.text);
    assert_eq!(r.body["tasks"][0]["worker_id"], worker_id.as_str());

    let status = rest
        .wait_connector_state(&snk, "RUNNING", 1, STATE_TIMEOUT)
        .await;
    assert!(
        status["tasks"][0].get("trace").is_none(),
        "trace cleared: {status}"
    );
    let lines = wait_lines_or_dump(&worker, &output, 200, DATA_TIMEOUT).await;
    assert_eq!(
        lines,
        read_lines(&input),
        "every record reached the revived sink"
    );
    if backend.is_kafka() {
        // The revived task commits what it wrote to its consumer group.
        backend
            .wait_sink_group_offsets(
                &snk,
                &[&topic],
                &std::collections::HashMap::from([((topic.clone(), 0), 200)]),
                STATE_TIMEOUT,
            )
            .await;
    }

    // Nothing is failed any more: the same request restarts nothing.
    let r = rest
        .request(
            "POST",
            &format!("/connectors/{snk}/restart?onlyFailed=true&includeTasks=true"),
            None,
        )
        .await;
    expect_status(&r, 202, "restart with nothing failed");
    assert_eq!(r.body["connector"]["state"], "RUNNING");
    assert_eq!(r.body["tasks"][0]["state"], "RUNNING");
}
