//! The route table (Apache's `RootResource`, `ConnectorsResource`, `ConnectorPluginsResource`,
//! `LoggingResource`) and the middleware stack around it.
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use causeway_runtime::herder::{Herder, HerderError};
use tower::Layer;
use tower::util::MapRequestLayer;

use crate::config::{HeaderRule, RestConfig};
use crate::error::ApiError;
use crate::loggers::LoggerLevels;
use crate::middleware::{
    apply_header_rules, consumes_json, cors_layer, log_request, produces_json, trim_trailing_slash,
};
use crate::{REQUEST_TIMEOUT, connectors, loggers_resource, metrics, plugins, root};

/// What every handler can reach: the herder and, when the admin endpoints are served, the logger levels.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) herder: Arc<dyn Herder>,
    pub(crate) loggers: Option<LoggerLevels>,
}

/// A herder call bounded by [`REQUEST_TIMEOUT`] (500 `Request timed out` after 90 s, as Apache).
pub(crate) async fn timed<T>(
    call: impl Future<Output = Result<T, HerderError>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => Err(ApiError::timed_out()),
    }
}

/// The REST application: every endpoint of Apache Kafka Connect 4.x that a standalone worker serves, over
/// `herder`.
///
/// * Unknown paths answer 404 `HTTP 404 Not Found`, a wrong method 405 `HTTP 405 Method Not Allowed`, a
///   non-JSON body on `/connectors`, `/connector-plugins` or `/admin` 415, an `Accept` without JSON 406 —
///   all with the `{"error_code","message"}` body.
/// * A trailing `/` is tolerated, path parameters are percent-decoded, `HEAD` works wherever `GET` does.
/// * `/admin/loggers` is served when `config.admin_enabled` and `loggers` is `Some`; otherwise it is 404.
/// * `GET /metrics` answers the herder's metrics in the Prometheus text format (404 when it has none),
///   without the JSON media-type checks.
/// * CORS is on when `config.access_control_allow_origin` is not blank; `config.response_headers` rules
///   apply to every response; every request is logged at INFO with target `causeway_rest`.
pub fn router(
    herder: Arc<dyn Herder>,
    config: RestConfig,
    loggers: Option<LoggerLevels>,
) -> Router {
    let state = AppState {
        herder,
        loggers: loggers.filter(|_| config.admin_enabled),
    };
    let admin = state.loggers.is_some();

    // Resources that declare `@Consumes(application/json)`.
    let mut consuming = Router::new()
        .route(
            "/connectors",
            get(connectors::list).post(connectors::create),
        )
        .route(
            "/connectors/{c}",
            get(connectors::info).delete(connectors::delete),
        )
        .route(
            "/connectors/{c}/config",
            get(connectors::config)
                .put(connectors::put_config)
                .patch(connectors::patch_config),
        )
        .route("/connectors/{c}/status", get(connectors::status))
        .route("/connectors/{c}/restart", post(connectors::restart))
        .route("/connectors/{c}/pause", put(connectors::pause))
        .route("/connectors/{c}/resume", put(connectors::resume))
        .route("/connectors/{c}/stop", put(connectors::stop))
        .route(
            "/connectors/{c}/tasks",
            get(connectors::tasks).post(connectors::put_task_configs),
        )
        .route(
            "/connectors/{c}/tasks/{t}/status",
            get(connectors::task_status),
        )
        .route(
            "/connectors/{c}/tasks/{t}/restart",
            post(connectors::restart_task),
        )
        .route("/connectors/{c}/topics", get(connectors::topics))
        .route(
            "/connectors/{c}/topics/reset",
            put(connectors::reset_topics),
        )
        .route(
            "/connectors/{c}/offsets",
            get(connectors::offsets)
                .patch(connectors::alter_offsets)
                .delete(connectors::reset_offsets),
        )
        .route("/connectors/{c}/fence", put(connectors::fence))
        .route("/connector-plugins", get(plugins::list))
        .route("/connector-plugins/{p}/config", get(plugins::config))
        .route(
            "/connector-plugins/{p}/config/validate",
            put(plugins::validate),
        );
    if admin {
        consuming = consuming
            .route("/admin/loggers", get(loggers_resource::list))
            .route(
                "/admin/loggers/{logger}",
                get(loggers_resource::get).put(loggers_resource::set),
            );
    }
    let api = Router::new()
        .route("/", get(root::server_info))
        .route("/health", get(root::health))
        .route_layer(from_fn(produces_json))
        .merge(consuming.route_layer(from_fn(consumes_json)))
        // Prometheus text, whatever the scraper's `Accept` says.
        .route("/metrics", get(metrics::scrape))
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);

    // Routing happens inside `api`, after the path was normalised.
    let mut app =
        Router::new().fallback_service(MapRequestLayer::new(trim_trailing_slash).layer(api));
    if let Some(cors) = cors_layer(&config) {
        app = app.layer(cors);
    }
    if !config.response_headers.is_empty() {
        let rules: Arc<[HeaderRule]> = config.response_headers.into();
        app = app.layer(from_fn_with_state(rules, apply_header_rules));
    }
    app.layer(from_fn(log_request))
}

/// 405 for a known path and an unsupported method; OPTIONS lists the methods instead (JAX-RS answers
/// OPTIONS itself; axum adds the `Allow` header to both).
async fn method_not_allowed(method: Method) -> Response {
    if method == Method::OPTIONS {
        return StatusCode::NO_CONTENT.into_response();
    }
    ApiError::method_not_allowed().into_response()
}
