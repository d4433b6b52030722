//! The application over a real socket on port 0, and graceful shutdown.
mod support;

use causeway_rest::RestServer;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn serves_requests_and_shuts_down_gracefully() {
    let herder = InMemoryHerder::new();
    let server = RestServer::bind("127.0.0.1:0", app(&herder)).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");

    let r = client
        .post(format!("{base}/connectors"))
        .json(&json!({"name": "a b", "config": {"connector.class": SINK_CLASS}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("http://{addr}/connectors/a%20b")
    );

    // curl's default content type for -d is form-encoded: 415.
    let r = client
        .put(format!("{base}/connectors/a%20b/pause"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error_code": 415, "message": "HTTP 415 Unsupported Media Type"})
    );

    let r = client
        .get(format!("{base}/connectors/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!(["a b"]));

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(client.get(format!("{base}/")).send().await.is_err());
}
