//! Kafka Connect 101 over the real REST API: every standalone endpoint a user touches when running a
//! FileStreamSource → topic → FileStreamSink pipeline, with the status codes and bodies Apache Kafka
//! Connect 4.x answers.
mod common;

use common::*;

const TOPIC: &str = "walkthrough";
const LINES: usize = 100;

fn object_keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("expected an object, got {v}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Checks one connector/task state object: state, this worker's id, no trace.
#[track_caller]
fn expect_instance(v: &Value, state: &str, worker_id: &str, what: &str) {
    assert_eq!(v["state"], state, "{what}: {v}");
    assert_eq!(v["worker_id"], worker_id, "{what}: {v}");
    assert!(
        v.get("trace").is_none(),
        "{what}: a healthy instance has no trace: {v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_api_walkthrough() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let input = dir.join("input.txt");
    let output = dir.join("output.txt");
    write_lines(&input, 0, LINES, 40);
    let worker = start_worker(&dir.join("worker")).await;
    let rest = &worker.rest;
    let worker_id = format!("127.0.0.1:{}", worker.port);

    // --- GET / ---------------------------------------------------------------------------------------
    let r = rest.get("/").await;
    expect_status(&r, 200, "GET /");
    assert_eq!(
        object_keys(&r.body),
        ["commit", "kafka_cluster_id", "version"],
        "{}",
        r.text
    );
    for k in ["version", "commit", "kafka_cluster_id"] {
        let v = r.body[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} is a string: {}", r.text));
        assert!(!v.is_empty(), "{k} is not empty");
    }
    assert_eq!(
        r.headers.get("content-type").map(String::as_str),
        Some("application/json"),
        "GET / is JSON"
    );

    // --- GET /connector-plugins ----------------------------------------------------------------------
    let r = rest.get("/connector-plugins").await;
    expect_status(&r, 200, "GET /connector-plugins");
    let plugins = r.body.as_array().expect("plugin array").clone();
    let types: Vec<&str> = plugins
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert!(
        types.iter().all(|t| *t == "sink" || *t == "source"),
        "connectors only: {types:?}"
    );
    let first_source = types.iter().position(|t| *t == "source").expect("a source");
    assert!(
        types[first_source..].iter().all(|t| *t == "source"),
        "sinks first, then sources: {types:?}"
    );
    for (class, ty) in [(SINK_FQCN, "sink"), (SOURCE_FQCN, "source")] {
        let p = plugins
            .iter()
            .find(|p| p["class"] == class)
            .unwrap_or_else(|| panic!("{class} listed in {}", r.text));
        assert_eq!(p["type"], ty, "{class}");
    }
    let r = rest.get("/connector-plugins?connectorsOnly=false").await;
    expect_status(&r, 200, "GET /connector-plugins?connectorsOnly=false");
    let all = r.body.as_array().expect("plugin array");
    let has = |class: &str, ty: &str| all.iter().any(|p| p["class"] == class && p["type"] == ty);
    assert!(
        has(
            "org.apache.kafka.connect.storage.StringConverter",
            "converter"
        ),
        "{}",
        r.text
    );
    assert!(
        has("org.apache.kafka.connect.json.JsonConverter", "converter"),
        "{}",
        r.text
    );
    assert!(
        all.iter().any(|p| p["type"] == "header_converter"),
        "a header_converter entry: {}",
        r.text
    );
    assert!(all.len() > plugins.len());

    // --- create: PUT /connectors/src/config → 201, again → 200 -----------------------------------------
    let src_config = source_config(&input, TOPIC);
    let r = rest.put("/connectors/src/config", src_config.clone()).await;
    expect_status(&r, 201, "PUT /connectors/src/config (new)");
    let location = r.headers.get("location").expect("Location header");
    assert!(location.ends_with("/connectors/src"), "Location {location}");
    let mut expected_config = src_config.clone();
    expected_config["name"] = json!("src");
    assert_eq!(
        object_keys(&r.body),
        ["config", "name", "tasks", "type"],
        "{}",
        r.text
    );
    assert_eq!(r.body["name"], "src");
    assert_eq!(r.body["config"], expected_config);
    assert_eq!(r.body["type"], "source");
    // Standalone answers after the connector started and generated its task configs.
    assert_eq!(
        r.body["tasks"],
        json!([{"connector": "src", "task": 0}]),
        "{}",
        r.text
    );

    let r = rest.put("/connectors/src/config", src_config.clone()).await;
    expect_status(&r, 200, "PUT /connectors/src/config (existing)");
    assert!(!r.headers.contains_key("location"), "no Location on 200");
    assert_eq!(r.body["name"], "src");
    assert_eq!(r.body["config"], expected_config);
    assert_eq!(r.body["type"], "source");

    // The sink through POST /connectors.
    let r = rest
        .post(
            "/connectors",
            json!({"name": "snk", "config": sink_config(&output, TOPIC)}),
        )
        .await;
    expect_status(&r, 201, "POST /connectors snk");
    assert!(
        r.headers["location"].ends_with("/connectors/snk"),
        "{:?}",
        r.headers
    );
    assert_eq!(r.body["type"], "sink");

    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    rest.wait_connector_state("snk", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    let lines = wait_lines_or_dump(&worker, &output, LINES, DATA_TIMEOUT).await;
    assert_eq!(lines, read_lines(&input), "sink output equals the input");

    // --- listing -------------------------------------------------------------------------------------
    let r = rest.get("/connectors").await;
    expect_status(&r, 200, "GET /connectors");
    let mut names: Vec<String> = serde_json::from_value(r.body.clone()).expect("array of names");
    names.sort();
    assert_eq!(names, ["snk", "src"]);

    let r = rest.get("/connectors?expand=info&expand=status").await;
    expect_status(&r, 200, "GET /connectors?expand=info&expand=status");
    assert_eq!(object_keys(&r.body), ["snk", "src"], "{}", r.text);
    for (name, ty) in [("src", "source"), ("snk", "sink")] {
        let entry = &r.body[name];
        assert_eq!(object_keys(entry), ["info", "status"], "{name}: {entry}");
        assert_eq!(entry["info"]["name"], name);
        assert_eq!(entry["info"]["type"], ty);
        assert_eq!(
            entry["info"]["tasks"],
            json!([{"connector": name, "task": 0}])
        );
        assert_eq!(entry["status"]["name"], name);
        assert_eq!(entry["status"]["type"], ty);
        expect_instance(&entry["status"]["connector"], "RUNNING", &worker_id, name);
    }
    let r = rest.get("/connectors?expand=status").await;
    expect_status(&r, 200, "GET /connectors?expand=status");
    assert_eq!(object_keys(&r.body["src"]), ["status"], "{}", r.text);

    // --- one connector -------------------------------------------------------------------------------
    let r = rest.get("/connectors/src").await;
    expect_status(&r, 200, "GET /connectors/src");
    assert_eq!(
        r.body,
        json!({"name": "src", "config": expected_config, "tasks": [{"connector": "src", "task": 0}], "type": "source"})
    );
    let r = rest.get("/connectors/src/config").await;
    expect_status(&r, 200, "GET /connectors/src/config");
    assert_eq!(r.body, expected_config);

    let r = rest.get("/connectors/src/status").await;
    expect_status(&r, 200, "GET /connectors/src/status");
    assert_eq!(r.body["name"], "src");
    assert_eq!(r.body["type"], "source");
    expect_instance(&r.body["connector"], "RUNNING", &worker_id, "src connector");
    let tasks = r.body["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 1, "{}", r.text);
    assert_eq!(tasks[0]["id"], 0);
    expect_instance(&tasks[0], "RUNNING", &worker_id, "src task 0");

    let r = rest.get("/connectors/src/tasks").await;
    expect_status(&r, 200, "GET /connectors/src/tasks");
    let tasks = r.body.as_array().expect("task array");
    assert_eq!(tasks.len(), 1, "{}", r.text);
    assert_eq!(tasks[0]["id"], json!({"connector": "src", "task": 0}));
    let task_config = &tasks[0]["config"];
    assert_eq!(
        task_config["file"],
        input.display().to_string(),
        "{task_config}"
    );
    assert_eq!(task_config["topic"], TOPIC, "{task_config}");
    assert!(
        task_config["task.class"]
            .as_str()
            .is_some_and(|c| c.ends_with("FileStreamSourceTask")),
        "task.class in {task_config}"
    );

    let r = rest.get("/connectors/src/tasks/0/status").await;
    expect_status(&r, 200, "GET /connectors/src/tasks/0/status");
    assert_eq!(r.body["id"], 0);
    expect_instance(&r.body, "RUNNING", &worker_id, "src task 0 status");

    let r = rest.get("/connectors/src/topics").await;
    expect_status(&r, 200, "GET /connectors/src/topics");
    assert_eq!(r.body, json!({"src": {"topics": [TOPIC]}}));
    let r = rest.get("/connectors/snk/topics").await;
    expect_status(&r, 200, "GET /connectors/snk/topics");
    assert_eq!(r.body, json!({"snk": {"topics": [TOPIC]}}));

    // --- offsets while running -----------------------------------------------------------------------
    let input_len = std::fs::metadata(&input).unwrap().len();
    let filename = input.display().to_string();
    let src_offsets = json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": input_len}}]});
    wait_for("source offsets committed", STATE_TIMEOUT, || async {
        let r = rest.get("/connectors/src/offsets").await;
        (r.status == 200 && r.body == src_offsets).then_some(())
    })
    .await;
    let snk_offsets = json!({"offsets": [{"partition": {"kafka_topic": TOPIC, "kafka_partition": 0}, "offset": {"kafka_offset": LINES}}]});
    wait_for("sink offsets committed", STATE_TIMEOUT, || async {
        let r = rest.get("/connectors/snk/offsets").await;
        (r.status == 200 && r.body == snk_offsets).then_some(())
    })
    .await;

    // --- pause / resume ------------------------------------------------------------------------------
    expect_empty(
        &rest.request("PUT", "/connectors/src/pause", None).await,
        202,
        "PUT pause",
    );
    rest.wait_connector_state("src", "PAUSED", 1, STATE_TIMEOUT)
        .await;
    expect_empty(
        &rest.request("PUT", "/connectors/src/resume", None).await,
        202,
        "PUT resume",
    );
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;

    // --- restarts ------------------------------------------------------------------------------------
    expect_empty(
        &rest.request("POST", "/connectors/src/restart", None).await,
        204,
        "POST restart",
    );
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;

    let r = rest
        .request("POST", "/connectors/src/restart?includeTasks=true", None)
        .await;
    expect_status(&r, 202, "POST restart?includeTasks=true");
    assert_eq!(r.body["name"], "src");
    assert_eq!(r.body["type"], "source");
    assert_eq!(r.body["connector"]["state"], "RESTARTING", "{}", r.text);
    assert_eq!(r.body["connector"]["worker_id"], worker_id.as_str());
    assert_eq!(
        r.body["tasks"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    assert_eq!(r.body["tasks"][0]["id"], 0);
    assert_eq!(r.body["tasks"][0]["state"], "RESTARTING", "{}", r.text);
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;

    // Nothing failed: onlyFailed restarts nothing and shows the states unchanged.
    let r = rest
        .request(
            "POST",
            "/connectors/src/restart?includeTasks=true&onlyFailed=true",
            None,
        )
        .await;
    expect_status(&r, 202, "POST restart?includeTasks=true&onlyFailed=true");
    assert_eq!(r.body["connector"]["state"], "RUNNING", "{}", r.text);
    assert_eq!(r.body["tasks"][0]["state"], "RUNNING", "{}", r.text);

    expect_empty(
        &rest
            .request("POST", "/connectors/src/tasks/0/restart", None)
            .await,
        204,
        "POST tasks/0/restart",
    );
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;

    // Restarts re-read nothing: the committed position is where the task resumes.
    write_lines(&input, LINES, 1, 40);
    let lines = wait_lines_or_dump(&worker, &output, LINES + 1, DATA_TIMEOUT).await;
    assert_eq!(lines, read_lines(&input), "no duplicates after restarts");
    let input_len = std::fs::metadata(&input).unwrap().len();

    // --- offsets can only be changed when STOPPED ---------------------------------------------------
    let stopped_message = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint";
    let rewind =
        json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": 0}}]});
    let r = rest
        .request("PATCH", "/connectors/src/offsets", Some(rewind.clone()))
        .await;
    expect_error(
        &r,
        400,
        stopped_message,
        "PATCH offsets on a running connector",
    );
    let r = rest.delete("/connectors/src/offsets").await;
    expect_error(
        &r,
        400,
        stopped_message,
        "DELETE offsets on a running connector",
    );

    // --- stop ----------------------------------------------------------------------------------------
    expect_empty(
        &rest.request("PUT", "/connectors/src/stop", None).await,
        204,
        "PUT stop",
    );
    let status = wait_for("src STOPPED with no tasks", STATE_TIMEOUT, || async {
        let r = rest.get("/connectors/src/status").await;
        (r.status == 200
            && r.body["connector"]["state"] == "STOPPED"
            && r.body["tasks"] == json!([]))
        .then_some(r.body)
    })
    .await;
    assert_eq!(status["connector"]["worker_id"], worker_id.as_str());
    let r = rest.get("/connectors/src/tasks").await;
    expect_status(&r, 200, "GET tasks of a stopped connector");
    assert_eq!(r.body, json!([]));
    let r = rest.get("/connectors/src").await;
    assert_eq!(
        r.body["tasks"],
        json!([]),
        "ConnectorInfo.tasks of a stopped connector"
    );
    // Idempotent.
    expect_empty(
        &rest.request("PUT", "/connectors/src/stop", None).await,
        204,
        "PUT stop again",
    );

    // The committed position survives the stop; then rewind it to 0.
    let r = rest.get("/connectors/src/offsets").await;
    expect_status(&r, 200, "GET offsets of a stopped source");
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": input_len}}]})
    );
    let r = rest
        .request("PATCH", "/connectors/src/offsets", Some(rewind.clone()))
        .await;
    expect_status(&r, 200, "PATCH offsets on a stopped connector");
    // FileStreamSourceConnector.alterOffsets returns true, so Apache answers the "altered" text.
    assert_eq!(
        r.body,
        json!({"message": "The offsets for this connector have been altered successfully"})
    );
    let r = rest.get("/connectors/src/offsets").await;
    assert_eq!(r.body, rewind, "offsets after PATCH");

    let r = rest.delete("/connectors/src/offsets").await;
    expect_status(&r, 200, "DELETE offsets on a stopped connector");
    assert_eq!(
        r.body,
        json!({"message": "The offsets for this connector have been reset successfully"})
    );
    let r = rest.get("/connectors/src/offsets").await;
    expect_status(&r, 200, "GET offsets after reset");
    assert_eq!(r.body, json!({"offsets": []}));

    // Topics are still recorded while stopped; reset empties them.
    let r = rest.get("/connectors/src/topics").await;
    assert_eq!(r.body, json!({"src": {"topics": [TOPIC]}}));
    expect_empty(
        &rest
            .request("PUT", "/connectors/src/topics/reset", None)
            .await,
        202,
        "PUT topics/reset",
    );
    wait_for("src topics reset", STATE_TIMEOUT, || async {
        let r = rest.get("/connectors/src/topics").await;
        (r.status == 200 && r.body == json!({"src": {"topics": []}})).then_some(())
    })
    .await;

    // Resuming a stopped connector regenerates its tasks; with the offsets reset the file is read again.
    expect_empty(
        &rest.request("PUT", "/connectors/src/resume", None).await,
        202,
        "resume from STOPPED",
    );
    rest.wait_connector_state("src", "RUNNING", 1, STATE_TIMEOUT)
        .await;
    let lines = wait_lines_or_dump(&worker, &output, 2 * (LINES + 1), DATA_TIMEOUT).await;
    let once = read_lines(&input);
    assert_eq!(
        lines,
        [once.clone(), once].concat(),
        "reset offsets re-read the file once"
    );

    // --- delete --------------------------------------------------------------------------------------
    expect_empty(
        &rest.delete("/connectors/src").await,
        204,
        "DELETE /connectors/src",
    );
    expect_error(
        &rest.get("/connectors/src").await,
        404,
        "Connector src not found",
        "GET deleted",
    );
    expect_error(
        &rest.get("/connectors/src/status").await,
        404,
        "No status found for connector src",
        "status of deleted",
    );
    expect_error(
        &rest.delete("/connectors/src").await,
        404,
        "Connector src not found",
        "DELETE twice",
    );
    let r = rest.get("/connectors").await;
    assert_eq!(r.body, json!(["snk"]));

    // --- plugin config and validation ----------------------------------------------------------------
    for p in ["FileStreamSource", "FileStreamSourceConnector", SOURCE_FQCN] {
        let r = rest.get(&format!("/connector-plugins/{p}/config")).await;
        expect_status(&r, 200, &format!("GET /connector-plugins/{p}/config"));
        let keys: Vec<&str> = r
            .body
            .as_array()
            .expect("config key list")
            .iter()
            .map(|k| k["name"].as_str().expect("name"))
            .collect();
        for k in [
            "file",
            "topic",
            "batch.size",
            "name",
            "connector.class",
            "tasks.max",
        ] {
            assert!(keys.contains(&k), "{p}: {k} in {keys:?}");
        }
        // The plugin's own definitions come before the framework's.
        let pos = |k: &str| keys.iter().position(|x| *x == k).unwrap();
        assert!(
            pos("file") < pos("connector.class"),
            "{p}: plugin keys first: {keys:?}"
        );
        let topic = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == "topic")
            .unwrap();
        assert_eq!(topic["type"], "STRING");
        assert_eq!(topic["required"], true);
        assert_eq!(topic["default_value"], Value::Null);
        let batch = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == "batch.size")
            .unwrap();
        assert_eq!(batch["type"], "INT");
        assert_eq!(batch["default_value"], "2000");
    }

    let valid = {
        let mut c = sink_config(&output, TOPIC);
        c["name"] = json!("validated");
        c
    };
    let r = rest
        .put("/connector-plugins/FileStreamSink/config/validate", valid)
        .await;
    expect_status(&r, 200, "validate a valid sink config");
    assert_eq!(
        r.body["name"], "FileStreamSink",
        "name is the body's connector.class"
    );
    assert_eq!(r.body["error_count"], 0, "{}", r.text);
    assert!(
        r.body["groups"].as_array().is_some_and(|g| !g.is_empty()),
        "{}",
        r.text
    );
    assert!(
        r.body["configs"].as_array().is_some_and(|c| !c.is_empty()),
        "{}",
        r.text
    );

    let mut invalid = sink_config(&output, TOPIC);
    invalid["name"] = json!("validated");
    invalid.as_object_mut().unwrap().remove("topics");
    let r = rest
        .put("/connector-plugins/FileStreamSink/config/validate", invalid)
        .await;
    expect_status(&r, 200, "validate a sink config without topics");
    let error_count = r.body["error_count"].as_u64().expect("error_count");
    assert!(error_count > 0, "{}", r.text);
    let errors: Vec<String> = r.body["configs"]
        .as_array()
        .expect("configs")
        .iter()
        .flat_map(|c| c["value"]["errors"].as_array().cloned().unwrap_or_default())
        .map(|e| e.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        errors.len() as u64,
        error_count,
        "error_count counts configs[].value.errors: {errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("topics")),
        "an error names topics: {errors:?}"
    );

    // --- admin loggers -------------------------------------------------------------------------------
    let r = rest.get("/admin/loggers").await;
    expect_status(&r, 200, "GET /admin/loggers");
    assert!(r.body["root"]["level"].is_string(), "{}", r.text);
    assert!(
        r.body["root"].get("last_modified").is_some(),
        "last_modified is always emitted"
    );

    let logger = "org.apache.kafka.connect.file";
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let r = rest
        .put(
            &format!("/admin/loggers/{logger}"),
            json!({"level": "DEBUG"}),
        )
        .await;
    expect_status(&r, 200, "PUT /admin/loggers level DEBUG");
    let affected = r
        .body
        .as_array()
        .unwrap_or_else(|| panic!("affected loggers: {}", r.text));
    assert!(affected.contains(&json!(logger)), "{}", r.text);
    let r = rest.get("/admin/loggers").await;
    expect_status(&r, 200, "GET /admin/loggers after PUT");
    assert_eq!(r.body[logger]["level"], "DEBUG", "{}", r.text);
    let modified = r.body[logger]["last_modified"]
        .as_i64()
        .expect("last_modified set");
    assert!(
        modified >= before - 1000,
        "last_modified {modified} is about now ({before})"
    );
    let r = rest.get(&format!("/admin/loggers/{logger}")).await;
    expect_status(&r, 200, "GET /admin/loggers/<logger>");
    assert_eq!(r.body, json!({"level": "DEBUG", "last_modified": modified}));
    let body = rest.get("/admin/loggers").await.body;
    let names: Vec<String> = body
        .as_object()
        .expect("logger map")
        .keys()
        .cloned()
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "loggers are sorted by name");

    // The sink kept running throughout.
    let r = rest.get("/connectors/snk/status").await;
    assert_eq!(r.body["connector"]["state"], "RUNNING");
}
