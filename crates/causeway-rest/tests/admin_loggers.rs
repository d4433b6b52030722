//! `/admin/loggers`: listing, lookup, level changes, scopes, and that a change really filters `tracing`.
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::Method;
use causeway_rest::LoggerLevels;
use serde_json::json;
use support::*;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, reload};

#[tokio::test]
async fn list_and_get() {
    let app = app(&InMemoryHerder::new());
    assert_eq!(
        get(&app, "/admin/loggers").await.json(),
        json!({
            "causeway_runtime": {"level": "WARN", "last_modified": null},
            "root": {"level": "INFO", "last_modified": null}
        })
    );
    assert_eq!(
        get(&app, "/admin/loggers/ROOT").await.json(),
        json!({"level": "INFO", "last_modified": null})
    );
    get(&app, "/admin/loggers/org.apache.kafka.connect")
        .await
        .assert_error(404, "Logger org.apache.kafka.connect not found.");
}

#[tokio::test]
async fn put_sets_the_namespace_and_its_children() {
    let app = app(&InMemoryHerder::new());
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let r = send(
        &app,
        json(
            Method::PUT,
            "/admin/loggers/causeway",
            r#"{"level": "DEBUG"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!(["causeway", "causeway_runtime"]));
    let level = get(&app, "/admin/loggers/causeway_runtime").await.json();
    assert_eq!(level["level"], "DEBUG");
    assert!(level["last_modified"].as_i64().unwrap() >= before);
    // Same level again: last_modified unchanged.
    send(
        &app,
        json(
            Method::PUT,
            "/admin/loggers/causeway_runtime",
            r#"{"level": "debug"}"#,
        ),
    )
    .await;
    assert_eq!(
        get(&app, "/admin/loggers/causeway_runtime").await.json(),
        level
    );
    // root sets everything.
    let r = send(
        &app,
        json(Method::PUT, "/admin/loggers/root", r#"{"level": "ERROR"}"#),
    )
    .await;
    assert_eq!(r.json(), json!(["causeway", "causeway_runtime", "root"]));
}

#[tokio::test]
async fn scopes() {
    let app = app(&InMemoryHerder::new());
    send(
        &app,
        json(
            Method::PUT,
            "/admin/loggers/a?scope=Cluster",
            r#"{"level": "WARN"}"#,
        ),
    )
    .await
    .assert_empty(204);
    assert_eq!(get(&app, "/admin/loggers/a").await.json()["level"], "WARN");
    let r = send(
        &app,
        json(
            Method::PUT,
            "/admin/loggers/a?scope=nonsense",
            r#"{"level": "INFO"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!(["a"]));
    let r = send(
        &app,
        json(
            Method::PUT,
            "/admin/loggers/a?scope=worker",
            r#"{"level": "INFO"}"#,
        ),
    )
    .await;
    assert_eq!(r.json(), json!(["a"]));
}

#[tokio::test]
async fn bad_levels() {
    let app = app(&InMemoryHerder::new());
    let put = |body: &'static str| send(&app, json(Method::PUT, "/admin/loggers/a", body));
    put("{}").await.assert_error(
        400,
        "Desired 'level' parameter was not specified in request.",
    );
    put(r#"{"level": null}"#).await.assert_error(
        400,
        "Desired 'level' parameter was not specified in request.",
    );
    put(r#"{"level": "LOUD"}"#)
        .await
        .assert_error(404, "invalid log level 'LOUD'.");
    put(r#"{"level": "Loud!"}"#)
        .await
        .assert_error(404, "invalid log level 'Loud!'.");
    assert_eq!(put("").await.status, 400);
    assert_eq!(put("{").await.status, 400);
    get(&app, "/admin/loggers/a")
        .await
        .assert_error(404, "Logger a not found.");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_level_change_really_changes_what_is_logged() {
    let out = Captured::default();
    let (filter, handle) = reload::Layer::new(EnvFilter::new("info"));
    let writer = out.clone();
    let subscriber = tracing_subscriber::registry().with(filter).with(
        tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false),
    );
    let levels = LoggerLevels::from_reload_handle("info", handle);
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(target: "causeway_runtime::worker", "hidden before");
        levels.set("causeway_runtime.worker", "DEBUG").unwrap();
        tracing::debug!(target: "causeway_runtime::worker", "shown after");
        tracing::debug!(target: "causeway_log", "other targets stay at info");
        levels.set("root", "OFF").unwrap();
        tracing::error!(target: "causeway_log", "silenced");
    });
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("hidden before"), "{text}");
    assert!(text.contains("shown after"), "{text}");
    assert!(!text.contains("other targets"), "{text}");
    assert!(!text.contains("silenced"), "{text}");
}
