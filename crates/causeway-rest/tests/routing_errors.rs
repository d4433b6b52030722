//! Router-level answers: 404/405/415/406 JSON bodies, trailing slashes, HEAD/OPTIONS, path decoding.
mod support;

use axum::http::Method;
use serde_json::json;
use support::*;

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let app = app(&InMemoryHerder::new());
    for path in [
        "/nope",
        "/connectors/a/b/c/d",
        "/v1/connectors",
        "/admin",
        "/connector-plugins/x",
    ] {
        get(&app, path)
            .await
            .assert_error(404, "HTTP 404 Not Found");
    }
}

#[tokio::test]
async fn wrong_methods_are_json_405_with_allow() {
    let app = app(&InMemoryHerder::new());
    let r = send(&app, empty(Method::DELETE, "/")).await;
    r.assert_error(405, "HTTP 405 Method Not Allowed");
    assert!(r.header("allow").unwrap().contains("GET"));
    send(&app, empty(Method::GET, "/connectors/a/restart"))
        .await
        .assert_error(405, "HTTP 405 Method Not Allowed");
    send(&app, empty(Method::POST, "/connectors/a/tasks/abc/status"))
        .await
        .assert_error(405, "HTTP 405 Method Not Allowed");
    send(&app, empty(Method::GET, "/connectors/a/fence"))
        .await
        .assert_error(405, "HTTP 405 Method Not Allowed");
}

#[tokio::test]
async fn removed_tasks_config_endpoint_is_404() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    get(&app(&herder), "/connectors/a/tasks-config")
        .await
        .assert_error(404, "HTTP 404 Not Found");
}

#[tokio::test]
async fn non_numeric_task_ids_are_router_404() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    get(&app, "/connectors/a/tasks/abc/status")
        .await
        .assert_error(404, "HTTP 404 Not Found");
    send(&app, empty(Method::POST, "/connectors/a/tasks/1.5/restart"))
        .await
        .assert_error(404, "HTTP 404 Not Found");
    get(&app, "/connectors/a/tasks/7/status")
        .await
        .assert_error(404, "No status found for task a-7");
    let r = get(&app, "/connectors/a/tasks/+0/status").await;
    assert_eq!(
        r.json(),
        json!({"id": 0, "state": "RUNNING", "worker_id": WORKER_ID})
    );
}

#[tokio::test]
async fn non_json_bodies_are_415_only_where_json_is_consumed() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    let form = "application/x-www-form-urlencoded";
    for (method, path) in [
        (Method::POST, "/connectors"),
        (Method::PUT, "/connectors/a/config"),
        (Method::PUT, "/connectors/a/pause"),
        (
            Method::PUT,
            "/connector-plugins/FileStreamSink/config/validate",
        ),
        (Method::PUT, "/admin/loggers/root"),
    ] {
        send(&app, with_body(method, path, form, "name=a"))
            .await
            .assert_error(415, "HTTP 415 Unsupported Media Type");
    }
    send(
        &app,
        with_body(Method::PUT, "/connectors/a/pause", "text/plain", "x"),
    )
    .await
    .assert_error(415, "HTTP 415 Unsupported Media Type");
    // Without a body the content type does not matter.
    send(
        &app,
        with_body(Method::PUT, "/connectors/a/pause", "text/plain", ""),
    )
    .await
    .assert_empty(202);
    send(&app, empty(Method::PUT, "/connectors/a/resume"))
        .await
        .assert_empty(202);
    // JSON with parameters is JSON.
    let r = send(
        &app,
        with_body(
            Method::PUT,
            "/admin/loggers/x",
            "application/json; charset=UTF-8",
            r#"{"level":"DEBUG"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    // 404 and 405 come before 415, as in JAX-RS.
    send(&app, with_body(Method::POST, "/nope", form, "x"))
        .await
        .assert_error(404, "HTTP 404 Not Found");
    send(
        &app,
        with_body(Method::DELETE, "/connectors/a/status", form, "x"),
    )
    .await
    .assert_error(405, "HTTP 405 Method Not Allowed");
}

#[tokio::test]
async fn accept_without_json_is_406() {
    let app = app(&InMemoryHerder::new());
    let mut req = empty(Method::GET, "/connectors");
    req.headers_mut()
        .insert("accept", "text/plain".parse().unwrap());
    send(&app, req)
        .await
        .assert_error(406, "HTTP 406 Not Acceptable");
    let mut req = empty(Method::GET, "/connectors");
    req.headers_mut()
        .insert("accept", "text/html,*/*;q=0.8".parse().unwrap());
    assert_eq!(send(&app, req).await.status, 200);
}

#[tokio::test]
async fn trailing_slashes_are_tolerated() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    assert_eq!(get(&app, "/connectors/").await.json(), json!(["a"]));
    assert_eq!(get(&app, "/connectors/a/status/").await.status, 200);
    let r = get(&app, "/connectors/?expand=info").await;
    assert_eq!(r.json()["a"]["info"]["name"], "a");
    assert_eq!(get(&app, "/").await.status, 200);
}

#[tokio::test]
async fn path_parameters_are_percent_decoded() {
    let herder = InMemoryHerder::new();
    herder.add("my connector/é", SINK_CLASS, 1);
    let app = app(&herder);
    let r = get(&app, "/connectors/my%20connector%2F%C3%A9").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "my connector/é");
    get(&app, "/connectors/other%20one")
        .await
        .assert_error(404, "Connector other one not found");
}

#[tokio::test]
async fn head_works_wherever_get_does() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    let app = app(&herder);
    for path in [
        "/",
        "/connectors",
        "/connectors/a/status",
        "/connector-plugins",
    ] {
        let r = send(&app, empty(Method::HEAD, path)).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.is_empty());
    }
    send(&app, empty(Method::HEAD, "/connectors/nope"))
        .await
        .assert_empty(404);
}

#[tokio::test]
async fn options_lists_allowed_methods() {
    let app = app(&InMemoryHerder::new());
    let r = send(&app, empty(Method::OPTIONS, "/connectors/a/config")).await;
    r.assert_empty(204);
    let allow = r.header("allow").unwrap();
    for m in ["GET", "PUT", "PATCH"] {
        assert!(allow.contains(m), "{allow}");
    }
}

#[tokio::test]
async fn admin_loggers_are_404_when_admin_listeners_is_empty() {
    let herder = InMemoryHerder::new();
    let app = app_with(
        &herder,
        causeway_rest::RestConfig {
            admin_enabled: false,
            ..config()
        },
    );
    get(&app, "/admin/loggers")
        .await
        .assert_error(404, "HTTP 404 Not Found");
    send(
        &app,
        json(Method::PUT, "/admin/loggers/root", r#"{"level":"DEBUG"}"#),
    )
    .await
    .assert_error(404, "HTTP 404 Not Found");
    // Without logger levels the endpoints are not served either.
    let app = causeway_rest::router(herder.clone(), config(), None);
    get(&app, "/admin/loggers/root")
        .await
        .assert_error(404, "HTTP 404 Not Found");
}

#[tokio::test]
async fn root_and_health() {
    let app = app(&InMemoryHerder::new());
    let r = get(&app, "/").await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"{"version":"4.1.0","commit":"0123456789abcdef","kafka_cluster_id":"MkU3OEVBNTcwNTJENDM2Qg"}"#
    );
    let r = get(&app, "/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."})
    );
}

#[tokio::test(start_paused = true)]
async fn herder_timeouts_are_500_request_timed_out() {
    let herder = InMemoryHerder::new();
    herder.add("a", SINK_CLASS, 1);
    herder.state().hang = true;
    let app = app(&herder);
    get(&app, "/connectors/a")
        .await
        .assert_error(500, "Request timed out");
    let r = get(&app, "/health").await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json(),
        json!({"status": "unhealthy", "message": "Worker was unable to handle this request and may be unable to handle other requests."})
    );
}
