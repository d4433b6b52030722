//! `/connectors/**`: bodies, status codes, query parameters and Apache's quirks.
mod support;

use axum::http::Method;
use serde_json::json;
use support::*;

const INVALID_NULL: &str = "Connector configuration is invalid and contains the following 1 error(s):\nNull value can not be supplied as the configuration value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";

#[tokio::test]
async fn list_is_an_array_of_names() {
    let herder = InMemoryHerder::new();
    let app = app(&herder);
    assert_eq!(get(&app, "/connectors").await.text(), "[]");
    herder.add("a", SINK_CLASS, 1);
    herder.add("b", SOURCE_CLASS, 1);
    assert_eq!(
        get(&app, "/connectors?forward=true").await.json(),
        json!(["a", "b"])
    );
}

#[tokio::test]
async fn expand_status_and_info() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    let r = get(&app, "/connectors?expand=status&expand=info").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"a": {
            "status": {"name": "a", "connector": {"state": "RUNNING", "worker_id": WORKER_ID},
                       "tasks": [{"id": 0, "state": "RUNNING", "worker_id": WORKER_ID}], "type": "sink"},
            "info": {"name": "a", "config": {"connector.class": SINK_CLASS, "name": "a", "tasks.max": "1"},
                     "tasks": [{"connector": "a", "task": 0}], "type": "sink"}
        }})
    );
    let r = get(&app, "/connectors?expand=info").await;
    assert_eq!(
        r.json()["a"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["info"]
    );
}

#[tokio::test]
async fn expand_quirks() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    herder.add("new", SINK_CLASS, 1);
    herder.state().connectors.get_mut("new").unwrap().has_status = false;
    let app = app(&herder);
    // Unknown values (including the comma form and an empty value) are ignored: `{}` per connector.
    for q in ["expand=bogus", "expand=status,info", "expand=", "expand"] {
        assert_eq!(
            get(&app, &format!("/connectors?{q}")).await.json(),
            json!({"a": {}, "new": {}}),
            "{q}"
        );
    }
    // A connector without a status yet is left out of `expand=status`.
    let r = get(&app, "/connectors?expand=status").await;
    assert_eq!(
        r.json().as_object().unwrap().keys().collect::<Vec<_>>(),
        ["a"]
    );
    let r = get(&app, "/connectors?expand=info&expand=status").await;
    assert_eq!(
        r.json().as_object().unwrap().keys().collect::<Vec<_>>(),
        ["a"]
    );
    // Expansions are case-sensitive, as in Apache's switch.
    assert_eq!(
        get(&app, "/connectors?expand=STATUS").await.json(),
        json!({"a": {}, "new": {}})
    );
}

#[tokio::test]
async fn create_returns_201_with_location() {
    let herder = InMemoryHerder::new();
    let app = app(&herder);
    let r = send(
        &app,
        json(
            Method::POST,
            "/connectors",
            &format!(r#"{{"name": "  file sink ", "config": {{"connector.class": "{SINK_CLASS}", "tasks.max": 2, "flag": true}}}}"#),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("http://localhost:8083/connectors/file%20sink")
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["name"], "file sink");
    assert_eq!(body["config"]["name"], "file sink");
    assert_eq!(body["config"]["tasks.max"], "2");
    assert_eq!(body["config"]["flag"], "true");
    assert_eq!(body["type"], "sink");
    assert_eq!(
        herder.calls(),
        ["put_connector_config file sink false None"]
    );
    // Duplicate.
    let r = send(
        &app,
        json(
            Method::POST,
            "/connectors",
            &format!(r#"{{"name": "file sink", "config": {{"connector.class": "{SINK_CLASS}"}}}}"#),
        ),
    )
    .await;
    r.assert_error(409, "Connector file sink already exists");
}

#[tokio::test]
async fn create_checks_the_name() {
    let app = app(&InMemoryHerder::new());
    let post = |body: &'static str| send(&app, json(Method::POST, "/connectors", body));
    post(r#"{"name": "a", "config": {"name": "b", "connector.class": "X"}}"#)
        .await
        .assert_error(
            400,
            "Connector name configuration (b) doesn't match connector name in the URL (a)",
        );
    post(r#"{"config": {"name": "x", "connector.class": "X"}}"#)
        .await
        .assert_error(
            400,
            "Connector name configuration (x) doesn't match connector name in the URL ()",
        );
    post(r#"{"name": " x ", "config": {"name": " x ", "connector.class": "X"}}"#)
        .await
        .assert_error(
            400,
            "Connector name configuration ( x ) doesn't match connector name in the URL (x)",
        );
    post(r#"{"name": "a", "config": {"tasks.max": "1"}}"#)
        .await
        .assert_error(
            400,
            "Connector config {name=a, tasks.max=1} contains no connector type",
        );
}

#[tokio::test]
async fn create_initial_state_is_case_insensitive() {
    let herder = InMemoryHerder::new();
    let app = app(&herder);
    let r = send(
        &app,
        json(
            Method::POST,
            "/connectors",
            r#"{"name": "a", "config": {"connector.class": "Sink"}, "initial_state": "stopped"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["tasks"], json!([]));
    assert_eq!(
        herder.calls(),
        ["put_connector_config a false Some(Stopped)"]
    );
}

#[tokio::test]
async fn create_user_errors_are_400_not_500() {
    let app = app(&InMemoryHerder::new());
    let cases = [
        ("{\"name\": \"a\",", "Malformed JSON in request body: "),
        ("[]", "The request body must be a JSON object"),
        ("", "Request body is missing"),
        (
            r#"{"name": "a", "config": {}, "tasks": []}"#,
            "Unrecognized field \"tasks\"",
        ),
        (r#"{"name": "a"}"#, "The connector 'config' is missing"),
        (
            r#"{"name": "a", "config": null}"#,
            "The connector 'config' is missing",
        ),
        (
            r#"{"name": "a", "config": {"k": "v"}, "initial_state": "RUNNING!"}"#,
            "Invalid initial_state 'RUNNING!'",
        ),
        (
            r#"{"name": "a", "config": {"k": {"nested": 1}}}"#,
            "Invalid value for configuration 'k'",
        ),
        (
            r#"{"name": "a", "config": {"k": [1]}}"#,
            "Invalid value for configuration 'k'",
        ),
    ];
    for (body, prefix) in cases {
        let r = send(&app, json(Method::POST, "/connectors", body)).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let v = r.json();
        assert_eq!(v["error_code"], 400);
        assert!(
            v["message"].as_str().unwrap().starts_with(prefix),
            "{body}: {v}"
        );
    }
}

#[tokio::test]
async fn null_config_values_fail_validation() {
    let app = app(&InMemoryHerder::new());
    send(
        &app,
        json(
            Method::POST,
            "/connectors",
            r#"{"name": "a", "config": {"connector.class": "X", "topics": null}}"#,
        ),
    )
    .await
    .assert_error(400, INVALID_NULL);
    send(
        &app,
        json(
            Method::PUT,
            "/connectors/a/config",
            r#"{"connector.class": "X", "file": null}"#,
        ),
    )
    .await
    .assert_error(400, INVALID_NULL);
}

#[tokio::test]
async fn put_config_creates_then_updates() {
    let herder = InMemoryHerder::new();
    let app = app(&herder);
    let r = send(
        &app,
        json(
            Method::PUT,
            "/connectors/a%2Fb/config",
            r#"{"connector.class": "FileStreamSink", "tasks.max": 1}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("http://localhost:8083/connectors/a%2Fb")
    );
    assert_eq!(r.json()["config"]["name"], "a/b");
    let r = send(
        &app,
        json(
            Method::PUT,
            "/connectors/a%2Fb/config/",
            r#"{"connector.class": "FileStreamSink", "name": "a/b"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("location"), None);
    assert_eq!(
        r.json()["config"],
        json!({"connector.class": "FileStreamSink", "name": "a/b"})
    );
    send(
        &app,
        json(
            Method::PUT,
            "/connectors/a/config",
            r#"{"name": "b", "connector.class": "X"}"#,
        ),
    )
    .await
    .assert_error(
        400,
        "Connector name configuration (b) doesn't match connector name in the URL (a)",
    );
    // The body is the flat map, not a create request.
    let r = send(
        &app,
        json(
            Method::PUT,
            "/connectors/a/config",
            r#"{"name": "a", "config": {"connector.class": "X"}}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 400);
    send(&app, json(Method::PUT, "/connectors/a/config", "\"x\""))
        .await
        .assert_error(
            400,
            "The request body must be a JSON object of connector configuration properties",
        );
}

#[tokio::test]
async fn patch_merges_and_null_removes() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    let r = send(
        &app,
        json(
            Method::PATCH,
            "/connectors/a/config",
            r#"{"tasks.max": null, "file": "/tmp/x"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["config"],
        json!({"connector.class": SINK_CLASS, "file": "/tmp/x", "name": "a"})
    );
    send(
        &app,
        json(Method::PATCH, "/connectors/nope/config", r#"{"k": "v"}"#),
    )
    .await
    .assert_error(404, "Connector nope not found");
    assert_eq!(
        send(
            &app,
            json(Method::PATCH, "/connectors/a/config", r#"{"k": {"x": 1}}"#)
        )
        .await
        .status,
        400
    );
}

#[tokio::test]
async fn get_delete_and_their_404s() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    assert_eq!(get(&app, "/connectors/a/config").await.json()["name"], "a");
    assert_eq!(
        get(&app, "/connectors/a/tasks").await.json(),
        json!([{"id": {"connector": "a", "task": 0}, "config": {"task.class": "FileStreamSinkTask"}}])
    );
    send(&app, empty(Method::DELETE, "/connectors/a"))
        .await
        .assert_empty(204);
    get(&app, "/connectors/a")
        .await
        .assert_error(404, "Connector a not found");
    send(&app, empty(Method::DELETE, "/connectors/a"))
        .await
        .assert_error(404, "Connector a not found");
    get(&app, "/connectors/a/status")
        .await
        .assert_error(404, "No status found for connector a");
}

#[tokio::test]
async fn restart_dispatch_204_vs_202() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 2);
    herder
        .state()
        .connectors
        .get_mut("a")
        .unwrap()
        .failed_tasks
        .insert(1);
    let app = app(&herder);
    let post = |uri: &'static str| send(&app, empty(Method::POST, uri));

    post("/connectors/a/restart").await.assert_empty(204);
    // Boolean.valueOf: anything but "true" (any case) is false, so these are the legacy restart too.
    post("/connectors/a/restart?includeTasks=garbage&onlyFailed=1")
        .await
        .assert_empty(204);
    post("/connectors/a/restart?includeTasks=&forward=false")
        .await
        .assert_empty(204);

    let r = post("/connectors/a/restart?includeTasks=TRUE").await;
    assert_eq!(r.status, 202);
    let plan = r.json();
    assert_eq!(plan["connector"]["state"], "RESTARTING");
    assert_eq!(plan["tasks"][0]["state"], "RESTARTING");
    assert_eq!(plan["tasks"][1]["state"], "RESTARTING");

    let r = post("/connectors/a/restart?includeTasks=true&onlyFailed=true").await;
    assert_eq!(r.status, 202);
    let plan = r.json();
    assert_eq!(plan["connector"]["state"], "RUNNING");
    assert_eq!(plan["tasks"][0]["state"], "RUNNING");
    assert_eq!(plan["tasks"][1]["state"], "RESTARTING");
    assert_eq!(
        plan["tasks"][1]["trace"],
        "java.lang.RuntimeException: task"
    );

    let r = post("/connectors/a/restart?onlyFailed=true").await;
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["connector"]["state"], "RUNNING");

    assert_eq!(
        herder.calls(),
        [
            "restart_connector a",
            "restart_connector a",
            "restart_connector a",
            "restart_connector_and_tasks a include_tasks=true only_failed=false",
            "restart_connector_and_tasks a include_tasks=true only_failed=true",
            "restart_connector_and_tasks a include_tasks=false only_failed=true",
        ]
    );
    post("/connectors/nope/restart")
        .await
        .assert_error(404, "Connector nope not found");
    post("/connectors/nope/restart?includeTasks=true")
        .await
        .assert_error(404, "Connector nope not found");
}

#[tokio::test]
async fn task_restart_is_204() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    send(&app, empty(Method::POST, "/connectors/a/tasks/0/restart"))
        .await
        .assert_empty(204);
    send(&app, empty(Method::POST, "/connectors/a/tasks/3/restart"))
        .await
        .assert_error(404, "Task a-3 not found");
}

#[tokio::test]
async fn pause_resume_stop() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    send(&app, empty(Method::PUT, "/connectors/a/pause"))
        .await
        .assert_empty(202);
    assert_eq!(
        get(&app, "/connectors/a/status").await.json()["connector"]["state"],
        "PAUSED"
    );
    send(&app, empty(Method::PUT, "/connectors/a/stop"))
        .await
        .assert_empty(204);
    let status = get(&app, "/connectors/a/status").await.json();
    assert_eq!(status["connector"]["state"], "STOPPED");
    assert_eq!(status["tasks"], json!([]));
    send(&app, empty(Method::PUT, "/connectors/a/resume"))
        .await
        .assert_empty(202);
    for action in ["pause", "resume", "stop"] {
        send(
            &app,
            empty(Method::PUT, &format!("/connectors/nope/{action}")),
        )
        .await
        .assert_error(404, "Unknown connector nope");
    }
}

#[tokio::test]
async fn topics_and_reset() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    herder.state().connectors.get_mut("a").unwrap().topics = vec!["orders".into()];
    let app = app(&herder);
    assert_eq!(
        get(&app, "/connectors/a/topics").await.json(),
        json!({"a": {"topics": ["orders"]}})
    );
    assert_eq!(
        get(&app, "/connectors/unknown/topics").await.json(),
        json!({"unknown": {"topics": []}})
    );
    send(&app, empty(Method::PUT, "/connectors/a/topics/reset"))
        .await
        .assert_empty(202);
    assert_eq!(
        get(&app, "/connectors/a/topics").await.json(),
        json!({"a": {"topics": []}})
    );
}

#[tokio::test]
async fn offsets_endpoints() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    assert_eq!(
        get(&app, "/connectors/a/offsets").await.json(),
        json!({"offsets": []})
    );
    get(&app, "/connectors/nope/offsets")
        .await
        .assert_error(404, "Connector nope not found");

    let none = "Partitions / offsets need to be provided for an alter offsets request";
    for body in ["{}", r#"{"offsets": []}"#, r#"{"offsets": null}"#] {
        // Checked before the connector is looked up, as in Apache's resource.
        send(&app, json(Method::PATCH, "/connectors/nope/offsets", body))
            .await
            .assert_error(400, none);
    }
    for body in ["[]", r#"{"offsets": [], "tasks": 1}"#, "{", ""] {
        let r = send(&app, json(Method::PATCH, "/connectors/a/offsets", body)).await;
        assert_eq!(r.status, 400, "{body}");
    }
    let r = send(
        &app,
        json(
            Method::PATCH,
            "/connectors/a/offsets",
            r#"{"offsets": [], "tasks": 1}"#,
        ),
    )
    .await;
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized field \"tasks\"")
    );

    let body = r#"{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": 5}}]}"#;
    let r = send(&app, json(Method::PATCH, "/connectors/a/offsets", body)).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Connectors must be in the STOPPED state")
    );
    send(&app, empty(Method::PUT, "/connectors/a/stop"))
        .await
        .assert_empty(204);
    let r = send(&app, json(Method::PATCH, "/connectors/a/offsets", body)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"message": "The offsets for this connector have been altered successfully"})
    );
    assert_eq!(
        get(&app, "/connectors/a/offsets").await.json(),
        json!({"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": 5}}]})
    );
    let r = send(&app, empty(Method::DELETE, "/connectors/a/offsets")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"message": "The offsets for this connector have been reset successfully"})
    );
}

#[tokio::test]
async fn internal_endpoints_reach_the_herder() {
    let herder = InMemoryHerder::new();
    herder.add("a", SOURCE_CLASS, 1);
    let app = app(&herder);
    send(
        &app,
        json(
            Method::POST,
            "/connectors/a/tasks?forward=true",
            r#"[{"task.class": "X"}]"#,
        ),
    )
    .await
    .assert_error(
        500,
        "Kafka Connect in standalone mode does not support externally setting task configurations.",
    );
    assert_eq!(herder.calls(), ["put_task_configs a 1"]);
    send(
        &app,
        json(
            Method::POST,
            "/connectors/a/tasks",
            r#"{"task.class": "X"}"#,
        ),
    )
    .await
    .assert_error(
        400,
        "The request body must be a JSON array of task configurations",
    );
    send(&app, empty(Method::PUT, "/connectors/a/fence"))
        .await
        .assert_error(
            500,
            "Kafka Connect in standalone mode does not support exactly-once source connectors.",
        );
    assert_eq!(herder.calls(), ["put_task_configs a 1", "fence_zombies a"]);
}
