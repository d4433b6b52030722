//! Error answers of the REST API (the §17 checklist items that apply to a standalone worker): status codes
//! and exact `{"error_code","message"}` bodies, plus the create-time options (`initial_state`, PATCH).
mod common;

use common::*;

const HINT: &str = "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";

/// A worker with one running FileStreamSource `src`.
async fn worker_with_source(tmp: &std::path::Path) -> WorkerProcess {
    let input = tmp.join("in.txt");
    write_lines(&input, 0, 3, 20);
    let worker = start_worker(&tmp.join("worker")).await;
    let r = worker
        .rest
        .post(
            "/connectors",
            json!({"name": "src", "config": source_config(&input, "t")}),
        )
        .await;
    expect_status(&r, 201, "create src");
    worker
        .rest
        .wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    worker
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_connector_answers_404() {
    let tmp = temp_dir();
    let worker = worker_with_source(tmp.path()).await;
    let rest = &worker.rest;

    let not_found = "Connector x not found";
    expect_error(
        &rest.get("/connectors/x").await,
        404,
        not_found,
        "GET /connectors/x",
    );
    expect_error(
        &rest.get("/connectors/x/config").await,
        404,
        not_found,
        "GET config",
    );
    expect_error(
        &rest.get("/connectors/x/tasks").await,
        404,
        not_found,
        "GET tasks",
    );
    expect_error(
        &rest.get("/connectors/x/offsets").await,
        404,
        not_found,
        "GET offsets",
    );
    expect_error(
        &rest.delete("/connectors/x").await,
        404,
        not_found,
        "DELETE",
    );
    expect_error(
        &rest
            .request(
                "PATCH",
                "/connectors/x/config",
                Some(json!({"tasks.max": "1"})),
            )
            .await,
        404,
        not_found,
        "PATCH config of an unknown connector never creates it",
    );
    expect_error(
        &rest.get("/connectors/x/status").await,
        404,
        "No status found for connector x",
        "GET status",
    );
    expect_error(
        &rest.get("/connectors/x/tasks/0/status").await,
        404,
        "No status found for task x-0",
        "GET task status",
    );
    expect_error(
        &rest.get("/connectors/src/tasks/7/status").await,
        404,
        "No status found for task src-7",
        "GET status of an unknown task",
    );
    for op in ["pause", "resume"] {
        let r = rest
            .request("PUT", &format!("/connectors/x/{op}"), None)
            .await;
        expect_error(&r, 404, "Unknown connector x", op);
    }
    // Apache standalone answers 500 here; 404 is the documented safe improvement (spec §6.9).
    let r = rest.request("PUT", "/connectors/x/stop", None).await;
    expect_status(&r, 404, "PUT stop of an unknown connector");
    expect_error(
        &rest.request("POST", "/connectors/x/restart", None).await,
        404,
        not_found,
        "restart",
    );
    // Apache's StandaloneHerder words the KIP-745 restart differently from the legacy one.
    for query in [
        "includeTasks=true",
        "onlyFailed=true",
        "includeTasks=true&onlyFailed=true",
    ] {
        let r = rest
            .request("POST", &format!("/connectors/x/restart?{query}"), None)
            .await;
        expect_error(
            &r,
            404,
            "Unknown connector: x",
            &format!("restart?{query} of an unknown connector"),
        );
    }
    expect_error(
        &rest
            .request("POST", "/connectors/x/tasks/0/restart", None)
            .await,
        404,
        not_found,
        "task restart of an unknown connector",
    );
    expect_error(
        &rest
            .request("POST", "/connectors/src/tasks/5/restart", None)
            .await,
        404,
        "Task src-5 not found",
        "restart of an unknown task",
    );
    // Offsets PATCH checks the body first, then the connector.
    expect_error(
        &rest
            .request("PATCH", "/connectors/x/offsets", Some(json!({})))
            .await,
        400,
        "Partitions / offsets need to be provided for an alter offsets request",
        "PATCH offsets {}",
    );
    expect_error(
        &rest
            .request(
                "PATCH",
                "/connectors/src/offsets",
                Some(json!({"offsets": []})),
            )
            .await,
        400,
        "Partitions / offsets need to be provided for an alter offsets request",
        "PATCH offsets []",
    );
    let r = rest
        .request(
            "PATCH",
            "/connectors/x/offsets",
            Some(json!({"offsets": [{"partition": {"filename": "a"}, "offset": {"position": 1}}]})),
        )
        .await;
    expect_error(&r, 404, not_found, "PATCH offsets of an unknown connector");

    // Topics have no existence check.
    let r = rest.get("/connectors/x/topics").await;
    expect_status(&r, 200, "GET topics of an unknown connector");
    assert_eq!(r.body, json!({"x": {"topics": []}}));

    // The worker is unharmed.
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_rejects_bad_requests() {
    let tmp = temp_dir();
    let worker = worker_with_source(tmp.path()).await;
    let rest = &worker.rest;
    let input = tmp.path().join("in.txt");
    let good = source_config(&input, "t");

    // Duplicate.
    let r = rest
        .post("/connectors", json!({"name": "src", "config": good}))
        .await;
    expect_error(&r, 409, "Connector src already exists", "duplicate POST");

    // No connector.class.
    let r = rest
        .post(
            "/connectors",
            json!({"name": "nc", "config": {"tasks.max": "1", "topic": "t"}}),
        )
        .await;
    let message = expect_error_prefix(&r, 400, "Connector config {", "no connector.class");
    assert!(
        message.ends_with("} contains no connector type"),
        "{message}"
    );
    assert!(
        message.contains("name=nc"),
        "the whole map is echoed: {message}"
    );

    // Unknown class.
    let mut unknown = good.clone();
    unknown["connector.class"] = json!("com.example.NoSuchConnector");
    let r = rest
        .post("/connectors", json!({"name": "unk", "config": unknown}))
        .await;
    let message = expect_error_prefix(
        &r,
        400,
        "Failed to find any class that implements Connector and which name matches com.example.NoSuchConnector",
        "unknown connector class",
    );
    assert!(
        message.contains("FileStreamSourceConnector"),
        "lists available connectors: {message}"
    );

    // Invalid values.
    let mut invalid = good.clone();
    invalid["batch.size"] = json!("lots");
    invalid.as_object_mut().unwrap().remove("topic");
    let r = rest
        .post("/connectors", json!({"name": "inv", "config": invalid}))
        .await;
    let message = expect_error_prefix(
        &r,
        400,
        "Connector configuration is invalid and contains the following 2 error(s):\n",
        "invalid config values",
    );
    assert!(message.ends_with(HINT), "{message}");
    assert!(message.contains("batch.size"), "{message}");
    assert!(
        message.contains("Missing required configuration \"topic\" which has no default value."),
        "{message}"
    );

    // Name mismatch, in the body and in the URL.
    let mut named = good.clone();
    named["name"] = json!("other");
    let r = rest
        .post("/connectors", json!({"name": "mine", "config": named}))
        .await;
    expect_error(
        &r,
        400,
        "Connector name configuration (other) doesn't match connector name in the URL (mine)",
        "POST name mismatch",
    );
    let r = rest.post("/connectors", json!({"config": named})).await;
    expect_error(
        &r,
        400,
        "Connector name configuration (other) doesn't match connector name in the URL ()",
        "POST name only inside config",
    );
    let r = rest.put("/connectors/mine/config", named.clone()).await;
    expect_error(
        &r,
        400,
        "Connector name configuration (other) doesn't match connector name in the URL (mine)",
        "PUT name mismatch",
    );

    // Empty name and control characters.
    let r = rest
        .post("/connectors", json!({"name": "", "config": good}))
        .await;
    let message = expect_error_prefix(&r, 400, "Connector configuration is invalid", "empty name");
    assert!(message.contains("String may not be empty"), "{message}");
    let r = rest
        .post("/connectors", json!({"name": "a\u{1}b", "config": good}))
        .await;
    let message = expect_error_prefix(
        &r,
        400,
        "Connector configuration is invalid",
        "control char",
    );
    assert!(
        message.contains("String may not contain control sequences"),
        "{message}"
    );

    // Malformed JSON: our deliberate deviation is 400 (Apache 500), still the JSON error shape.
    let r = rest
        .request_raw(
            "POST",
            "/connectors",
            "application/json",
            "{\"name\": \"bad\", \"config\": {",
        )
        .await;
    let message = expect_error_prefix(&r, 400, "", "malformed JSON");
    assert!(!message.is_empty());
    let r = rest
        .request_raw(
            "PUT",
            "/connectors/bad/config",
            "application/json",
            "not json",
        )
        .await;
    expect_error_prefix(&r, 400, "", "malformed JSON on PUT config");

    // A body that is not JSON at all.
    let r = rest
        .request_raw(
            "POST",
            "/connectors",
            "text/plain",
            "{\"name\":\"tp\",\"config\":{}}",
        )
        .await;
    expect_error(
        &r,
        415,
        "HTTP 415 Unsupported Media Type",
        "text/plain body",
    );
    let r = rest
        .request_raw(
            "PUT",
            "/connectors/tp/config",
            "application/x-www-form-urlencoded",
            "{\"connector.class\":\"FileStreamSource\"}",
        )
        .await;
    expect_error(
        &r,
        415,
        "HTTP 415 Unsupported Media Type",
        "curl's default content type",
    );

    // Nothing above was created.
    let r = rest.get("/connectors").await;
    assert_eq!(r.body, json!(["src"]), "only src exists");

    // What is accepted: a trimmed name, the simple class name, the alias, a '/' in the name.
    let out = tmp.path().join("out.txt");
    let mut simple = sink_config(&out, "t");
    simple["connector.class"] = json!("FileStreamSinkConnector");
    let r = rest
        .post(
            "/connectors",
            json!({"name": "  padded  ", "config": simple}),
        )
        .await;
    expect_status(&r, 201, "trimmed name, simple class name");
    assert_eq!(r.body["name"], "padded");
    assert_eq!(r.body["config"]["name"], "padded");
    assert_eq!(r.body["type"], "sink");
    let r = rest
        .post(
            "/connectors",
            json!({"name": "alias", "config": sink_config(&out, "t")}),
        )
        .await;
    expect_status(&r, 201, "alias FileStreamSink");
    let mut fq = good.clone();
    fq["connector.class"] = json!(SOURCE_FQCN);
    let r = rest
        .post("/connectors", json!({"name": "a/b", "config": fq}))
        .await;
    expect_status(&r, 201, "a '/' in the name");
    assert_eq!(r.body["name"], "a/b");
}

#[tokio::test(flavor = "multi_thread")]
async fn routing_errors() {
    let tmp = temp_dir();
    let worker = worker_with_source(tmp.path()).await;
    let rest = &worker.rest;

    let r = rest.get("/health").await;
    expect_status(&r, 200, "GET /health");
    assert_eq!(
        r.body,
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."})
    );

    for path in [
        "/nope",
        "/connectors/src/nope",
        "/connectors/src/tasks/abc/status",
        "/connectors/src/tasks-config",
        "/v1/connectors",
    ] {
        expect_error(&rest.get(path).await, 404, "HTTP 404 Not Found", path);
    }
    expect_error(
        &rest
            .request("POST", "/connectors/src/tasks/abc/restart", None)
            .await,
        404,
        "HTTP 404 Not Found",
        "non-numeric task restart",
    );
    expect_error(
        &rest.delete("/").await,
        405,
        "HTTP 405 Method Not Allowed",
        "DELETE /",
    );
    expect_error(
        &rest.delete("/connectors/src/status").await,
        405,
        "HTTP 405 Method Not Allowed",
        "DELETE status",
    );
    expect_error(
        &rest.request("POST", "/connectors/src/pause", None).await,
        405,
        "HTTP 405 Method Not Allowed",
        "POST pause",
    );

    // A trailing slash is tolerated.
    let r = rest.get("/connectors/src/").await;
    expect_status(&r, 200, "GET /connectors/src/");
    assert_eq!(r.body["name"], "src");

    // Java's Boolean.valueOf: garbage is false → the legacy restart (204, no body).
    expect_empty(
        &rest
            .request("POST", "/connectors/src/restart?includeTasks=garbage", None)
            .await,
        204,
        "restart?includeTasks=garbage",
    );
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;

    // Unknown expansions map each connector to {}.
    let r = rest.get("/connectors?expand=bogus").await;
    expect_status(&r, 200, "expand=bogus");
    assert_eq!(r.body, json!({"src": {}}));
    let r = rest.get("/connectors?expand=status,info").await;
    assert_eq!(
        r.body,
        json!({"src": {}}),
        "the comma form is one unknown value"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn initial_state_and_patch() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("in.txt");
    write_lines(&input, 0, 5, 20);
    let worker = start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;
    expect_status(&rest.get("/connectors").await, 200, "GET /connectors");
    assert_eq!(
        rest.get("/connectors").await.body,
        json!([]),
        "no connectors yet"
    );

    // initial_state PAUSED: connector PAUSED, no tasks until resumed.
    let r = rest
        .post(
            "/connectors",
            json!({"name": "p", "config": source_config(&input, "tp"), "initial_state": "PAUSED"}),
        )
        .await;
    expect_status(&r, 201, "create PAUSED");
    assert_eq!(
        r.body["tasks"],
        json!([]),
        "a PAUSED connector has no tasks yet"
    );
    let status = wait_for("p PAUSED", STATE_TIMEOUT, || async {
        let r = rest.get("/connectors/p/status").await;
        (r.status == 200 && r.body["connector"]["state"] == "PAUSED").then_some(r.body)
    })
    .await;
    assert_eq!(status["tasks"], json!([]), "{status}");
    assert_eq!(rest.get("/connectors/p/tasks").await.body, json!([]));
    expect_empty(
        &rest.request("PUT", "/connectors/p/resume", None).await,
        202,
        "resume p",
    );
    rest.wait_connector_state("p", "RUNNING", 1, STATE_TIMEOUT)
        .await;

    // initial_state is case-insensitive: "stopped".
    let r = rest
        .post(
            "/connectors",
            json!({"name": "s", "config": source_config(&input, "ts"), "initial_state": "stopped"}),
        )
        .await;
    expect_status(&r, 201, "create stopped");
    let status = wait_for("s STOPPED", STATE_TIMEOUT, || async {
        let r = rest.get("/connectors/s/status").await;
        (r.status == 200 && r.body["connector"]["state"] == "STOPPED").then_some(r.body)
    })
    .await;
    assert_eq!(status["tasks"], json!([]));
    // A STOPPED connector's offsets may be set before it ever ran.
    let r = rest
        .request(
            "PATCH",
            "/connectors/s/offsets",
            Some(json!({"offsets": [{"partition": {"filename": input.display().to_string()}, "offset": {"position": 0}}]})),
        )
        .await;
    expect_status(&r, 200, "PATCH offsets of a connector created STOPPED");
    // PUT config keeps the STOPPED target state.
    let mut cfg = source_config(&input, "ts");
    cfg["batch.size"] = json!("7");
    let r = rest.put("/connectors/s/config", cfg).await;
    expect_status(&r, 200, "PUT config of a stopped connector");
    assert_eq!(r.body["tasks"], json!([]));
    let r = rest.get("/connectors/s/status").await;
    assert_eq!(
        r.body["connector"]["state"], "STOPPED",
        "PUT keeps STOPPED: {}",
        r.text
    );

    // PATCH merges, null removes, 200 (never 201).
    let mut cfg = source_config(&input, "tp");
    cfg["custom.key"] = json!("x");
    let r = rest.put("/connectors/p/config", cfg).await;
    expect_status(&r, 200, "PUT p with custom.key");
    let r = rest
        .request(
            "PATCH",
            "/connectors/p/config",
            Some(json!({"custom.key": null, "batch.size": "10"})),
        )
        .await;
    expect_status(&r, 200, "PATCH p");
    let mut expected = source_config(&input, "tp");
    expected["batch.size"] = json!("10");
    expected["name"] = json!("p");
    assert_eq!(r.body["config"], expected, "{}", r.text);
    assert_eq!(rest.get("/connectors/p/config").await.body, expected);
    rest.wait_connector_state("p", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    // A PATCH that breaks the config is rejected and changes nothing.
    let r = rest
        .request(
            "PATCH",
            "/connectors/p/config",
            Some(json!({"topic": null})),
        )
        .await;
    let message = expect_error_prefix(
        &r,
        400,
        "Connector configuration is invalid",
        "PATCH removing topic",
    );
    assert!(message.contains("topic"), "{message}");
    assert_eq!(rest.get("/connectors/p/config").await.body, expected);

    // PUT replaces wholesale: keys not given disappear.
    let r = rest
        .put("/connectors/p/config", source_config(&input, "tp"))
        .await;
    expect_status(&r, 200, "PUT p");
    assert!(r.body["config"].get("batch.size").is_none(), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn plugin_and_logger_errors() {
    let tmp = temp_dir();
    let worker = start_worker(&tmp.path().join("worker")).await;
    let rest = &worker.rest;

    expect_error(
        &rest.get("/connector-plugins/Nope/config").await,
        404,
        "Unknown plugin Nope.",
        "config of an unknown plugin",
    );
    let r = rest
        .put(
            "/connector-plugins/FileStreamSink/config/validate",
            json!({"topics": "t"}),
        )
        .await;
    let message = expect_error_prefix(
        &r,
        400,
        "Connector config {",
        "validate without connector.class",
    );
    assert!(message.ends_with("contains no connector type"), "{message}");
    let r = rest
        .put(
            "/connector-plugins/FileStreamSink/config/validate",
            json!({"connector.class": SOURCE_FQCN, "topic": "t"}),
        )
        .await;
    expect_error(
        &r,
        400,
        &format!(
            "Included connector type {SOURCE_FQCN} does not match request type FileStreamSink"
        ),
        "validate with another connector's class",
    );
    let r = rest
        .put(
            "/connector-plugins/FileStreamSink/config/validate",
            json!({"connector.class": SINK_FQCN, "name": "v", "topics": "t"}),
        )
        .await;
    expect_status(&r, 200, "validate FQCN body under the alias path");
    assert_eq!(r.body["name"], SINK_FQCN);
    assert_eq!(r.body["error_count"], 0, "{}", r.text);

    expect_error(
        &rest.put("/admin/loggers/org.example", json!({})).await,
        400,
        "Desired 'level' parameter was not specified in request.",
        "PUT logger without level",
    );
    expect_error(
        &rest
            .put("/admin/loggers/org.example", json!({"level": "LOUD"}))
            .await,
        404,
        "invalid log level 'LOUD'.",
        "PUT logger with an unknown level",
    );
    expect_error(
        &rest.get("/admin/loggers/org.never.configured").await,
        404,
        "Logger org.never.configured not found.",
        "GET unknown logger",
    );
    let r = rest
        .put(
            "/admin/loggers/org.example?scope=cluster",
            json!({"level": "WARN"}),
        )
        .await;
    expect_empty(&r, 204, "PUT logger scope=cluster");
    let r = rest.get("/admin/loggers/org.example").await;
    expect_status(&r, 200, "GET logger set with scope=cluster");
    assert_eq!(r.body["level"], "WARN");
}
