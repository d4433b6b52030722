//! CORS (`access.control.allow.*`) and `response.http.headers.config` rules.
mod support;

use axum::http::{Method, Request};
use causeway_rest::{RestConfig, parse_response_headers};
use support::*;

fn cors_app(origins: &str, methods: &str) -> axum::Router {
    app_with(
        &InMemoryHerder::new(),
        RestConfig {
            access_control_allow_origin: origins.into(),
            access_control_allow_methods: methods.into(),
            ..config()
        },
    )
}

fn with_origin(method: Method, uri: &str, origin: &str) -> Request<axum::body::Body> {
    let mut req = empty(method, uri);
    req.headers_mut().insert("origin", origin.parse().unwrap());
    req
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = app(&InMemoryHerder::new());
    let r = send(
        &app,
        with_origin(Method::GET, "/connectors", "http://ui.example"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn any_origin_gets_cors_headers_and_preflights_are_answered() {
    let app = cors_app("*", "");
    let r = send(
        &app,
        with_origin(Method::GET, "/connectors", "http://ui.example"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://ui.example")
    );

    let mut preflight = with_origin(Method::OPTIONS, "/connectors", "http://ui.example");
    preflight
        .headers_mut()
        .insert("access-control-request-method", "POST".parse().unwrap());
    let r = send(&app, preflight).await;
    assert!(r.status.is_success(), "{}", r.status);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://ui.example")
    );
    let methods = r.header("access-control-allow-methods").unwrap();
    assert_eq!(methods, "GET,POST,HEAD");
}

#[tokio::test]
async fn only_listed_origins_are_allowed() {
    let app = cors_app("http://a.example, http://*.b.example", "GET,PUT,DELETE");
    let origin = |o: &'static str| send(&app, with_origin(Method::GET, "/", o));
    assert_eq!(
        origin("http://a.example")
            .await
            .header("access-control-allow-origin"),
        Some("http://a.example")
    );
    assert_eq!(
        origin("http://x.b.example")
            .await
            .header("access-control-allow-origin"),
        Some("http://x.b.example")
    );
    let r = origin("http://evil.example").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn header_rules_apply_to_every_response() {
    let rules = parse_response_headers(
        "set X-Frame-Options: DENY,\"add Cache-Control: no-cache, no-store\",setDate Expires: 0",
    )
    .unwrap();
    let app = app_with(
        &InMemoryHerder::new(),
        RestConfig {
            response_headers: rules,
            ..config()
        },
    );
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/nope"),
        (Method::DELETE, "/"),
        (Method::GET, "/connectors/missing"),
    ] {
        let r = send(&app, empty(method, path)).await;
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("cache-control"),
            Some("no-cache, no-store"),
            "{path}"
        );
        assert!(r.header("expires").unwrap().ends_with(" GMT"), "{path}");
    }
}
