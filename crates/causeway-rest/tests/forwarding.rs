//! Distributed-mode REST behaviour: forwarding writes to the leader (Apache's
//! `HerderRequestHandler.completeOrForwardRequest` + `RestClient`), the 409 family, and the KIP-507
//! signature errors of the internal endpoints.
//!
//! A `FollowerHerder` answers every write with a configured error (normally `NotLeader` with the URL of a
//! second axum server, the "leader", which records what it received and answers a configured response).
mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use causeway_api::Props;
use causeway_rest::RestConfig;
use causeway_runtime::herder::entities::*;
use causeway_runtime::herder::signature::{
    self, InternalRequestSignature, SIGNATURE_ALGORITHM_HEADER, SIGNATURE_HEADER,
};
use causeway_runtime::herder::{Created, Herder, HerderError, HerderResult};
use serde_json::{Value, json};
use support::{Reply, empty, send};

const KEY: &[u8] = b"session key bytes, 32 bytes long";

/// A herder that cannot execute writes: each returns `error`. Internal requests are checked as Apache's
/// `DistributedHerder` checks them when `verify` is on.
struct FollowerHerder {
    error: Mutex<HerderError>,
    verify: bool,
    session_key: Mutex<Option<Vec<u8>>>,
    /// `Some` to let internal requests succeed instead of returning `error`.
    accept_internal: bool,
    /// What internal requests delivered: (connector, configs, signature).
    received: Mutex<Vec<(String, Option<Vec<Props>>, Option<InternalRequestSignature>)>>,
}

impl FollowerHerder {
    fn new(error: HerderError) -> Arc<Self> {
        Arc::new(FollowerHerder {
            error: Mutex::new(error),
            verify: false,
            session_key: Mutex::new(None),
            accept_internal: false,
            received: Mutex::new(Vec::new()),
        })
    }

    fn verifying(session_key: Option<&[u8]>) -> Arc<Self> {
        Arc::new(FollowerHerder {
            error: Mutex::new(HerderError::Internal("unused".into())),
            verify: true,
            session_key: Mutex::new(session_key.map(<[u8]>::to_vec)),
            accept_internal: true,
            received: Mutex::new(Vec::new()),
        })
    }

    fn fail<T>(&self) -> HerderResult<T> {
        Err(self.error.lock().unwrap().clone())
    }

    fn internal(
        &self,
        name: &str,
        configs: Option<Vec<Props>>,
        signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()> {
        if self.verify {
            let key = self.session_key.lock().unwrap().clone();
            signature::check_internal_request(
                signature.as_ref(),
                key.as_deref(),
                &["HmacSHA256".to_owned()],
            )?;
        }
        self.received
            .lock()
            .unwrap()
            .push((name.to_owned(), configs, signature));
        if self.accept_internal {
            Ok(())
        } else {
            self.fail()
        }
    }
}

#[async_trait]
impl Herder for FollowerHerder {
    fn server_info(&self) -> ServerInfo {
        ServerInfo {
            version: "4.1.0".into(),
            commit: "0".into(),
            kafka_cluster_id: "c".into(),
        }
    }
    async fn health(&self) -> HerderResult<WorkerStatus> {
        Ok(WorkerStatus::healthy())
    }
    async fn connectors(&self) -> Vec<String> {
        Vec::new()
    }
    async fn connector_info(&self, _name: &str) -> HerderResult<ConnectorInfo> {
        self.fail()
    }
    async fn connector_config(&self, _name: &str) -> HerderResult<Props> {
        self.fail()
    }
    async fn put_connector_config(
        &self,
        _name: &str,
        _config: Props,
        _allow_replace: bool,
        _initial_state: Option<TargetState>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        self.fail()
    }
    async fn patch_connector_config(
        &self,
        _name: &str,
        _patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<ConnectorInfo> {
        self.fail()
    }
    async fn delete_connector(&self, _name: &str) -> HerderResult<()> {
        self.fail()
    }
    async fn connector_status(&self, _name: &str) -> HerderResult<ConnectorStateInfo> {
        self.fail()
    }
    async fn task_status(&self, _id: &ConnectorTaskId) -> HerderResult<TaskState> {
        self.fail()
    }
    async fn restart_connector(&self, _name: &str) -> HerderResult<()> {
        self.fail()
    }
    async fn restart_connector_and_tasks(
        &self,
        _request: RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        self.fail()
    }
    async fn restart_task(&self, _id: &ConnectorTaskId) -> HerderResult<()> {
        self.fail()
    }
    async fn pause_connector(&self, _name: &str) -> HerderResult<()> {
        self.fail()
    }
    async fn resume_connector(&self, _name: &str) -> HerderResult<()> {
        self.fail()
    }
    async fn stop_connector(&self, _name: &str) -> HerderResult<()> {
        self.fail()
    }
    async fn task_configs(&self, _name: &str) -> HerderResult<Vec<TaskInfo>> {
        self.fail()
    }
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Props>,
        signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()> {
        self.internal(name, Some(configs), signature)
    }
    async fn fence_zombies(
        &self,
        name: &str,
        signature: Option<InternalRequestSignature>,
    ) -> HerderResult<()> {
        self.internal(name, None, signature)
    }
    async fn connector_active_topics(&self, _name: &str) -> HerderResult<Vec<String>> {
        self.fail()
    }
    async fn reset_connector_active_topics(&self, _name: &str) -> HerderResult<()> {
        self.fail()
    }
    async fn connector_offsets(&self, _name: &str) -> HerderResult<ConnectorOffsets> {
        self.fail()
    }
    async fn alter_connector_offsets(
        &self,
        _name: &str,
        _offsets: ConnectorOffsets,
    ) -> HerderResult<Message> {
        self.fail()
    }
    async fn reset_connector_offsets(&self, _name: &str) -> HerderResult<Message> {
        self.fail()
    }
    fn connector_plugins(&self, _connectors_only: bool) -> Vec<PluginInfo> {
        Vec::new()
    }
    fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        Err(HerderError::NotFound(format!("Unknown plugin {plugin}.")))
    }
    async fn validate_connector_config(&self, _config: Props) -> HerderResult<ConfigInfos> {
        self.fail()
    }
}

/// One request as the leader saw it.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// The "leader": records every request and answers `(status, content type, body)`.
struct Leader {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<(u16, &'static str, String)>>,
}

impl Leader {
    async fn start() -> Leader {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answer = Arc::new(Mutex::new((204, "application/json", String::new())));
        let (log, reply) = (received.clone(), answer.clone());
        let app = Router::new().fallback(move |req: Request| {
            let (log, reply) = (log.clone(), reply.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                log.lock().unwrap().push(Received {
                    method: parts.method,
                    path: parts.uri.path().to_owned(),
                    query: parts.uri.query().map(str::to_owned),
                    headers: parts.headers,
                    body,
                });
                let (status, content_type, body) = reply.lock().unwrap().clone();
                let mut resp: Response =
                    (StatusCode::from_u16(status).unwrap(), body).into_response();
                resp.headers_mut()
                    .insert("content-type", content_type.parse().unwrap());
                if status == 302 {
                    resp.headers_mut()
                        .insert("location", "http://elsewhere/".parse().unwrap());
                }
                resp
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Leader {
            url,
            received,
            answer,
        }
    }

    fn answer(&self, status: u16, body: &str) {
        *self.answer.lock().unwrap() = (status, "application/json", body.to_owned());
    }

    fn answer_typed(&self, status: u16, content_type: &'static str, body: &str) {
        *self.answer.lock().unwrap() = (status, content_type, body.to_owned());
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }

    fn only(&self) -> Received {
        let mut all = self.take();
        assert_eq!(all.len(), 1, "expected one forwarded request: {all:?}");
        all.remove(0)
    }
}

fn follower_app(herder: &Arc<FollowerHerder>) -> Router {
    causeway_rest::router(herder.clone(), RestConfig::default(), None)
}

fn not_leader(url: &str) -> HerderError {
    HerderError::NotLeader {
        leader_url: Some(url.to_owned()),
    }
}

fn request(method: Method, uri: &str, body: Option<&str>, headers: &[(&str, &str)]) -> Request {
    let mut builder = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "follower:8083");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap(),
        None => builder.body(axum::body::Body::empty()).unwrap(),
    }
}

async fn call(app: &Router, method: Method, uri: &str, body: Option<&str>) -> Reply {
    send(app, request(method, uri, body, &[])).await
}

const CONNECTOR_INFO: &str =
    r#"{"name":"a","config":{"connector.class":"Sink","name":"a"},"tasks":[],"type":"sink"}"#;

#[tokio::test]
async fn create_is_forwarded_with_authorization_only_and_the_answer_relayed() {
    let leader = Leader::start().await;
    let herder = FollowerHerder::new(not_leader(&leader.url));
    let app = follower_app(&herder);
    leader.answer(201, CONNECTOR_INFO);

    let reply = send(
        &app,
        request(
            Method::POST,
            "/connectors",
            Some(r#"{"name": " a ", "config": {"connector.class": "Sink"}}"#),
            &[
                ("authorization", "Basic dXNlcjpwYXNz"),
                ("x-custom", "not forwarded"),
                (SIGNATURE_HEADER, "not forwarded either"),
            ],
        ),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(
        reply.json(),
        serde_json::from_str::<Value>(CONNECTOR_INFO).unwrap()
    );
    assert_eq!(
        reply.header("location"),
        Some("http://follower:8083/connectors/a")
    );

    let got = leader.only();
    assert_eq!(got.method, Method::POST);
    assert_eq!(got.path, "/connectors");
    assert_eq!(got.query.as_deref(), Some("forward=true"));
    assert_eq!(got.header("authorization"), Some("Basic dXNlcjpwYXNz"));
    assert_eq!(got.header("x-custom"), None);
    assert_eq!(got.header(SIGNATURE_HEADER), None);
    assert_eq!(got.header("accept"), Some("application/json"));
    assert_eq!(got.header("user-agent"), Some("kafka-connect"));
    assert_eq!(got.header("content-type"), Some("application/json"));
    // The parsed entity, re-serialized: trimmed name copied into the config.
    assert_eq!(
        got.json(),
        json!({"name": "a", "config": {"connector.class": "Sink", "name": "a"}, "initial_state": null})
    );
}

#[tokio::test]
async fn a_forwarded_request_is_forwarded_at_most_once_more() {
    let leader = Leader::start().await;
    let herder = FollowerHerder::new(not_leader(&leader.url));
    let app = follower_app(&herder);
    leader.answer(204, "");

    call(&app, Method::PUT, "/connectors/a/stop?forward=true", None)
        .await
        .assert_empty(204);
    let got = leader.only();
    assert_eq!(
        (got.method.clone(), got.path.as_str()),
        (Method::PUT, "/connectors/a/stop")
    );
    assert_eq!(got.query.as_deref(), Some("forward=false"));
    assert!(got.body.is_empty());
    assert_eq!(got.header("content-type"), None);

    // With `forward=false` this worker must serve it itself: 409, nothing sent.
    call(&app, Method::PUT, "/connectors/a/stop?forward=false", None)
        .await
        .assert_error(
            409,
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
        );
    assert!(leader.take().is_empty());
}

/// (method, uri, body, leader status, leader body, expected follower status, leader path, leader query,
/// forwarded entity).
type ForwardCase = (
    Method,
    &'static str,
    Option<&'static str>,
    u16,
    &'static str,
    u16,
    &'static str,
    &'static str,
    Option<Value>,
);

#[tokio::test]
async fn every_write_endpoint_forwards_method_path_query_and_entity() {
    let leader = Leader::start().await;
    let herder = FollowerHerder::new(not_leader(&leader.url));
    let app = follower_app(&herder);
    const OFFSETS: &str = r#"{"offsets":[{"partition":{"file":"x"},"offset":{"pos":1}}]}"#;

    let cases: Vec<ForwardCase> = vec![
        (
            Method::DELETE,
            "/connectors/a%20b",
            None,
            204,
            "",
            204,
            "/connectors/a%20b",
            "forward=true",
            None,
        ),
        (
            Method::PUT,
            "/connectors/a/config",
            Some(r#"{"connector.class":"Sink"}"#),
            200,
            CONNECTOR_INFO,
            200,
            "/connectors/a/config",
            "forward=true",
            Some(json!({"connector.class": "Sink", "name": "a"})),
        ),
        (
            Method::PATCH,
            "/connectors/a/config",
            Some(r#"{"x":"1","y":null}"#),
            200,
            CONNECTOR_INFO,
            200,
            "/connectors/a/config",
            "forward=true",
            Some(json!({"x": "1", "y": null})),
        ),
        (
            Method::POST,
            "/connectors/a/restart",
            None,
            204,
            "",
            204,
            "/connectors/a/restart",
            "forward=true",
            None,
        ),
        (
            Method::POST,
            "/connectors/a/restart?onlyFailed=true&forward=true",
            None,
            202,
            r#"{"name":"a","connector":{"state":"RESTARTING","worker_id":"w"},"tasks":[],"type":"sink"}"#,
            202,
            "/connectors/a/restart",
            "forward=false&includeTasks=false&onlyFailed=true",
            None,
        ),
        (
            Method::PUT,
            "/connectors/a/stop",
            None,
            204,
            "",
            204,
            "/connectors/a/stop",
            "forward=true",
            None,
        ),
        (
            Method::POST,
            "/connectors/a/tasks/007/restart",
            None,
            204,
            "",
            204,
            "/connectors/a/tasks/7/restart",
            "forward=true",
            None,
        ),
        (
            Method::PATCH,
            "/connectors/a/offsets",
            Some(OFFSETS),
            200,
            r#"{"message":"altered"}"#,
            200,
            "/connectors/a/offsets",
            "forward=true",
            Some(serde_json::from_str(OFFSETS).unwrap()),
        ),
        (
            Method::DELETE,
            "/connectors/a/offsets",
            None,
            200,
            r#"{"message":"reset"}"#,
            200,
            "/connectors/a/offsets",
            "forward=true",
            None,
        ),
        (
            Method::POST,
            "/connectors/a/tasks",
            Some(r#"[ {"task.class":"T"} ]"#),
            204,
            "",
            204,
            "/connectors/a/tasks",
            "forward=true",
            Some(json!([{"task.class": "T"}])),
        ),
        // Apache forwards fence's raw `byte[]` entity as a base64 JSON string.
        (
            Method::PUT,
            "/connectors/a/fence",
            None,
            204,
            "",
            204,
            "/connectors/a/fence",
            "forward=true",
            Some(json!("")),
        ),
    ];
    for (method, uri, body, leader_status, leader_body, status, path, query, entity) in cases {
        leader.answer(leader_status, leader_body);
        let reply = call(&app, method.clone(), uri, body).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{method} {uri}: {}",
            reply.text()
        );
        if leader_body.is_empty() {
            assert!(reply.body.is_empty(), "{method} {uri}");
        } else {
            assert_eq!(
                reply.json(),
                serde_json::from_str::<Value>(leader_body).unwrap(),
                "{method} {uri}"
            );
        }
        let got = leader.only();
        assert_eq!(got.method, method, "{uri}");
        assert_eq!(got.path, path, "{method} {uri}");
        assert_eq!(got.query.as_deref(), Some(query), "{method} {uri}");
        match entity {
            Some(entity) => assert_eq!(got.json(), entity, "{method} {uri}"),
            None => assert!(got.body.is_empty(), "{method} {uri}"),
        }
    }
}

#[tokio::test]
async fn put_config_keeps_the_leaders_created_flag() {
    let leader = Leader::start().await;
    let herder = FollowerHerder::new(not_leader(&leader.url));
    let app = follower_app(&herder);
    leader.answer(201, CONNECTOR_INFO);
    let reply = call(&app, Method::PUT, "/connectors/a/config", Some("{}")).await;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.header("location"),
        Some("http://follower:8083/connectors/a")
    );
    leader.answer(200, CONNECTOR_INFO);
    let reply = call(&app, Method::PUT, "/connectors/a/config", Some("{}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("location"), None);
}

#[tokio::test]
async fn leader_errors_are_relayed_with_their_status_and_code() {
    let leader = Leader::start().await;
    let herder = FollowerHerder::new(not_leader(&leader.url));
    let app = follower_app(&herder);

    leader.answer(
        409,
        r#"{"error_code":409,"message":"Connector a already exists"}"#,
    );
    call(
        &app,
        Method::POST,
        "/connectors",
        Some(r#"{"name":"a","config":{}}"#),
    )
    .await
    .assert_error(409, "Connector a already exists");

    leader.answer(
        404,
        r#"{"error_code":404,"message":"Connector b not found"}"#,
    );
    call(&app, Method::DELETE, "/connectors/b", None)
        .await
        .assert_error(404, "Connector b not found");

    // The body's code is kept even when it differs from the status, as Apache's `ConnectRestException`.
    leader.answer(500, r#"{"error_code":503,"message":"odd"}"#);
    let reply = call(&app, Method::PUT, "/connectors/b/stop", None).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json(), json!({"error_code": 503, "message": "odd"}));

    // An error body that is no ErrorMessage fails parsing: Apache's IO error.
    leader.answer_typed(502, "text/html", "<html>bad gateway</html>");
    let reply = call(&app, Method::PUT, "/connectors/b/stop", None).await;
    assert_eq!(reply.status, 500);
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("IO Error trying to forward REST request: "),
        "{message}"
    );

    // Redirects are not followed.
    leader.answer(302, "");
    call(&app, Method::PUT, "/connectors/b/stop", None)
        .await
        .assert_error(
            500,
            "Unexpected status code when handling forwarded request: 302",
        );
    assert_eq!(leader.take().len(), 5);
}

#[tokio::test]
async fn unreachable_leader_is_an_io_error() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let herder = FollowerHerder::new(not_leader(&url));
    let app = follower_app(&herder);
    let reply = call(&app, Method::DELETE, "/connectors/a", None).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["error_code"], 500);
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("IO Error trying to forward REST request: "),
        "{message}"
    );
    assert!(message.to_lowercase().contains("connect"), "{message}");
}

#[tokio::test]
async fn no_known_leader_and_stale_config_are_409() {
    let herder = FollowerHerder::new(HerderError::NotLeader { leader_url: None });
    let app = follower_app(&herder);
    call(&app, Method::POST, "/connectors/a/restart?includeTasks=true", None)
        .await
        .assert_error(
            409,
            "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.",
        );
    // `forward=false` is checked first.
    call(&app, Method::DELETE, "/connectors/a?forward=false", None)
        .await
        .assert_error(
            409,
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
        );

    *herder.error.lock().unwrap() = HerderError::RebalanceNeeded(
        "Request cannot be completed because a rebalance is expected".into(),
    );
    call(&app, Method::POST, "/connectors/a/tasks/0/restart", None)
        .await
        .assert_error(
            409,
            "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)",
        );
    // Read paths do not translate it (Apache: 500 with the exception's message).
    send(&app, empty(Method::GET, "/connectors/a"))
        .await
        .assert_error(
            500,
            "Request cannot be completed because a rebalance is expected",
        );
}

#[tokio::test]
async fn endpoints_apache_does_not_forward_never_forward() {
    let leader = Leader::start().await;
    let herder = FollowerHerder::new(not_leader(&leader.url));
    let app = follower_app(&herder);
    let reply = call(&app, Method::PUT, "/connectors/a/pause", None).await;
    assert_eq!(reply.status, 500);
    let reply = call(&app, Method::GET, "/connectors/a/config", None).await;
    assert_eq!(reply.status, 500);
    assert!(leader.take().is_empty());
}

fn signed(body: &str, key: &[u8], algorithm: &str) -> Vec<(String, String)> {
    let headers = signature::sign(key, algorithm, body.as_bytes()).unwrap();
    vec![
        (SIGNATURE_HEADER.to_owned(), headers.signature),
        (SIGNATURE_ALGORITHM_HEADER.to_owned(), headers.algorithm),
    ]
}

async fn internal(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<&str>,
    headers: &[(String, String)],
) -> Reply {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(app, request(method, uri, body, &headers)).await
}

#[tokio::test]
async fn internal_requests_with_a_valid_signature_reach_the_herder_with_the_exact_body() {
    let herder = FollowerHerder::verifying(Some(KEY));
    let app = follower_app(&herder);
    // Odd spacing: the signature covers these bytes, not a re-serialization.
    let body = "[ {\"task.class\" : \"T\", \"k\":\"v\"} ,{\"task.class\":\"T\"}]";
    internal(
        &app,
        Method::POST,
        "/connectors/a/tasks",
        Some(body),
        &signed(body, KEY, "HmacSHA256"),
    )
    .await
    .assert_empty(204);
    internal(
        &app,
        Method::PUT,
        "/connectors/a/fence",
        None,
        &signed("", KEY, "HmacSHA256"),
    )
    .await
    .assert_empty(204);
    let received = herder.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    let (name, configs, signature) = &received[0];
    assert_eq!(name, "a");
    assert_eq!(configs.as_ref().unwrap().len(), 2);
    let signature = signature.as_ref().unwrap();
    assert_eq!(signature.body(), body.as_bytes());
    assert_eq!(signature.algorithm(), "HmacSHA256");
    assert!(signature.is_valid(KEY));
    assert_eq!(received[1].2.as_ref().unwrap().body(), b"");
}

#[tokio::test]
async fn internal_request_signature_errors() {
    let herder = FollowerHerder::verifying(Some(KEY));
    let app = follower_app(&herder);
    let body = r#"[{"task.class":"T"}]"#;
    let post = |headers: Vec<(String, String)>| {
        let app = app.clone();
        async move {
            internal(
                &app,
                Method::POST,
                "/connectors/a/tasks",
                Some(body),
                &headers,
            )
            .await
        }
    };

    post(Vec::new())
        .await
        .assert_error(400, "Internal request missing required signature");
    // Only one of the two headers counts as unsigned.
    post(signed(body, KEY, "HmacSHA256")[..1].to_vec())
        .await
        .assert_error(400, "Internal request missing required signature");
    post(signed(body, KEY, "HmacSHA512")).await.assert_error(
        400,
        "This worker does not support the 'HmacSHA512' key signing algorithm used by other workers. \
         This worker is currently configured to use: [HmacSHA256]. \
         Check that all workers' configuration files permit the same set of signature algorithms, \
         and correct any misconfigured worker and restart it.",
    );
    // Rejected while parsing the headers, before the herder is asked.
    post(vec![
        (SIGNATURE_HEADER.into(), "AAAA".into()),
        (SIGNATURE_ALGORITHM_HEADER.into(), "NoSuchMac".into()),
    ])
    .await
    .assert_error(400, "Algorithm NoSuchMac not available");
    post(vec![
        (SIGNATURE_HEADER.into(), "not valid base 64".into()),
        (SIGNATURE_ALGORITHM_HEADER.into(), "HmacSHA256".into()),
    ])
    .await
    .assert_error(400, "Illegal base64 character 20");
    post(signed(body, b"a rotated session key", "HmacSHA256"))
        .await
        .assert_error(403, "Internal request contained invalid signature.");
    // Signed over other bytes than were sent.
    post(signed(r#"[{"task.class":"U"}]"#, KEY, "HmacSHA256"))
        .await
        .assert_error(403, "Internal request contained invalid signature.");
    internal(
        &app,
        Method::PUT,
        "/connectors/a/fence",
        None,
        &signed("x", KEY, "HmacSHA256"),
    )
    .await
    .assert_error(403, "Internal request contained invalid signature.");
    assert!(herder.received.lock().unwrap().is_empty());

    *herder.session_key.lock().unwrap() = None;
    post(signed(body, KEY, "HmacSHA256")).await.assert_error(
        503,
        "This worker is still starting up and has not been able to read a session key from the config topic yet",
    );
}

#[tokio::test]
async fn signed_internal_requests_are_forwarded_unsigned() {
    let leader = Leader::start().await;
    let herder = FollowerHerder::new(not_leader(&leader.url));
    let app = follower_app(&herder);
    let body = r#"[ {"task.class":"T"} ]"#;
    let mut headers = signed(body, KEY, "HmacSHA256");
    headers.push(("authorization".into(), "Bearer t".into()));
    internal(
        &app,
        Method::POST,
        "/connectors/a%2Fb/tasks",
        Some(body),
        &headers,
    )
    .await
    .assert_empty(204);
    let got = leader.only();
    assert_eq!(got.path, "/connectors/a%2Fb/tasks");
    assert_eq!(got.header(SIGNATURE_HEADER), None);
    assert_eq!(got.header(SIGNATURE_ALGORITHM_HEADER), None);
    assert_eq!(got.header("authorization"), Some("Bearer t"));
    assert_eq!(got.body.as_ref(), br#"[{"task.class":"T"}]"#);
    // The herder was handed the signature before it said "not leader".
    assert!(herder.received.lock().unwrap()[0].2.is_some());
}

#[tokio::test]
async fn client_helpers_sign_what_they_send() {
    let leader = Leader::start().await;
    let configs: Vec<Props> = vec![[("task.class".to_owned(), "T".to_owned())].into()];
    signature::post_task_configs_to_leader(&leader.url, "a b", &configs, Some(KEY), "HmacSHA256")
        .await
        .unwrap();
    let got = leader.only();
    assert_eq!(got.method, Method::POST);
    assert_eq!(got.path, "/connectors/a%20b/tasks");
    assert_eq!(got.query, None);
    assert_eq!(got.json(), json!([{"task.class": "T"}]));
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header(SIGNATURE_ALGORITHM_HEADER), Some("HmacSHA256"));
    let expected = signature::sign(KEY, "HmacSHA256", &got.body)
        .unwrap()
        .signature;
    assert_eq!(got.header(SIGNATURE_HEADER), Some(expected.as_str()));

    // Without a session key the request is unsigned.
    signature::fence_zombies_on_leader(&leader.url, "c", None, "HmacSHA256")
        .await
        .unwrap();
    let got = leader.only();
    assert_eq!(
        (got.method.clone(), got.path.as_str()),
        (Method::PUT, "/connectors/c/fence")
    );
    assert!(got.body.is_empty());
    assert_eq!(got.header(SIGNATURE_HEADER), None);

    signature::fence_zombies_on_leader(&leader.url, "c", Some(KEY), "HmacSHA256")
        .await
        .unwrap();
    let got = leader.only();
    let expected = signature::sign(KEY, "HmacSHA256", b"").unwrap().signature;
    assert_eq!(got.header(SIGNATURE_HEADER), Some(expected.as_str()));

    // The leader's error keeps its kind: a 403 tells the herder its key may have rotated.
    leader.answer(
        403,
        r#"{"error_code":403,"message":"Internal request contained invalid signature."}"#,
    );
    let err =
        signature::post_task_configs_to_leader(&leader.url, "a", &configs, Some(KEY), "HmacSHA256")
            .await
            .unwrap_err();
    assert_eq!(
        err,
        HerderError::Forbidden("Internal request contained invalid signature.".into())
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = signature::fence_zombies_on_leader(&dead, "c", Some(KEY), "HmacSHA256")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, HerderError::Internal(m) if m.starts_with("IO Error trying to forward REST request: ")),
        "{err:?}"
    );
}
