//! `/connector-plugins/**`: listing, config definitions with `?version=`, and validation.
mod support;

use axum::http::Method;
use serde_json::json;
use support::*;

#[tokio::test]
async fn connectors_only_is_parsed_like_boolean_value_of() {
    let app = app(&InMemoryHerder::new());
    let count = |r: Reply| r.json().as_array().unwrap().len();
    assert_eq!(count(get(&app, "/connector-plugins").await), 2);
    assert_eq!(
        count(get(&app, "/connector-plugins?connectorsOnly=true").await),
        2
    );
    assert_eq!(
        count(get(&app, "/connector-plugins?connectorsOnly=false").await),
        3
    );
    // Anything but "true" is false.
    assert_eq!(
        count(get(&app, "/connector-plugins?connectorsOnly=yes").await),
        3
    );
    let r = get(&app, "/connector-plugins?connectorsOnly=false").await;
    assert_eq!(
        r.json()[2],
        json!({"class": "org.apache.kafka.connect.storage.StringConverter", "type": "converter"})
    );
    assert_eq!(
        r.json()[0],
        json!({"class": SINK_CLASS, "type": "sink", "version": "4.1.0"})
    );
}

#[tokio::test]
async fn plugin_config_and_version_parameter() {
    let app = app(&InMemoryHerder::new());
    let r = get(&app, "/connector-plugins/FileStreamSink/config").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()[0]["name"], "file");
    assert_eq!(r.json()[0]["order"], 1);
    assert_eq!(r.json()[0]["order_in_group"], 1);
    for ok in ["latest", "4.1.0", "[4.0,5.0)", "(,4.1.0]"] {
        let r = get(
            &app,
            &format!("/connector-plugins/FileStreamSink/config?version={ok}"),
        )
        .await;
        assert_eq!(r.status, 200, "{ok}: {}", r.text());
    }
    get(
        &app,
        "/connector-plugins/FileStreamSink/config?version=[bad",
    )
    .await
    .assert_error(400, "Invalid version specification: [bad");
    get(
        &app,
        "/connector-plugins/FileStreamSink/config?version=%5B2.0,1.0%5D",
    )
    .await
    .assert_error(400, "Invalid version specification: [2.0,1.0]");
    get(&app, "/connector-plugins/FileStreamSink/config?version=1.0")
        .await
        .assert_error(
            400,
            "Plugin FileStreamSink not found that matches the version range [1.0], available versions: [4.1.0]",
        );
    get(&app, "/connector-plugins/Nope/config")
        .await
        .assert_error(404, "Unknown plugin Nope.");
    // The version is parsed before the plugin is looked up.
    get(&app, "/connector-plugins/Nope/config?version=(bad")
        .await
        .assert_error(400, "Invalid version specification: (bad");
}

#[tokio::test]
async fn validate_checks_the_plugin_name_against_connector_class() {
    let app = app(&InMemoryHerder::new());
    let validate = |p: &str, body: &str| {
        send(
            &app,
            json(
                Method::PUT,
                &format!("/connector-plugins/{p}/config/validate"),
                body,
            ),
        )
    };
    for p in [
        "FileStreamSink",
        "FileStreamSinkConnector",
        SINK_CLASS,
        "Sink",
        "StreamSinkConnector",
    ] {
        let r = validate(
            p,
            &format!(r#"{{"connector.class": "{SINK_CLASS}", "topics": "t"}}"#),
        )
        .await;
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        let infos = r.json();
        assert_eq!(infos["name"], SINK_CLASS);
        assert_eq!(infos["error_count"], 0);
    }
    // The body's alias is kept as the name.
    let r = validate("FileStreamSink", r#"{"connector.class": "FileStreamSink"}"#).await;
    assert_eq!(r.json()["name"], "FileStreamSink");
    validate(
        "FileStreamSource",
        &format!(r#"{{"connector.class": "{SINK_CLASS}"}}"#),
    )
    .await
    .assert_error(
        400,
        &format!(
            "Included connector type {SINK_CLASS} does not match request type FileStreamSource"
        ),
    );
    validate("FileStreamSink", r#"{"topics": "t", "tasks.max": 1}"#)
        .await
        .assert_error(
            400,
            "Connector config {tasks.max=1, topics=t} contains no connector type",
        );
    validate("FileStreamSink", "[]").await.assert_error(
        400,
        "The request body must be a JSON object of connector configuration properties",
    );
}

#[tokio::test]
async fn validate_reports_null_values_as_errors() {
    let app = app(&InMemoryHerder::new());
    let r = send(
        &app,
        json(
            Method::PUT,
            "/connector-plugins/FileStreamSink/config/validate",
            &format!(r#"{{"connector.class": "{SINK_CLASS}", "topics": null}}"#),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let infos = r.json();
    assert_eq!(infos["error_count"], 1);
    assert_eq!(
        infos["configs"][0],
        json!({"definition": null, "value": {"name": "topics", "value": null, "recommended_values": [],
            "errors": ["Null value can not be supplied as the configuration value."], "visible": true}})
    );
    send(
        &app,
        json(
            Method::PUT,
            "/connector-plugins/FileStreamSink/config/validate",
            r#"{"connector.class": null}"#,
        ),
    )
    .await
    .assert_error(
        400,
        "Connector config {connector.class=null} contains no connector type",
    );
}
