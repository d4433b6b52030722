//! Connect's REST API: Apache Kafka Connect 4.x's HTTP surface, path for path, field for field and status
//! code for status code, over any [`Herder`](causeway_runtime::herder::Herder).
//!
//! This crate owns the HTTP side of a worker: the route table (`/`, `/health`, `/connectors/**`,
//! `/connector-plugins/**`, `/admin/loggers/**` and the internal worker-to-worker endpoints), request-body
//! parsing, the mapping of [`HerderError`](causeway_runtime::herder::HerderError)s to
//! `{"error_code":…,"message":…}` bodies ([`ApiError`], the only place errors become responses), CORS,
//! `response.http.headers.config` rules, the request log, and the admin logger levels ([`LoggerLevels`]).
//! It never looks inside the runtime: every answer comes from the herder or from [`LoggerLevels`] — or, for a
//! write the herder says another worker must execute, from that worker (request forwarding, as Apache's
//! `HerderRequestHandler`).
//!
//! The worker binary depends on it:
//!
//! ```no_run
//! # async fn run(herder: std::sync::Arc<dyn causeway_runtime::herder::Herder>) -> std::io::Result<()> {
//! let config = causeway_rest::RestConfig {
//!     response_headers: causeway_rest::parse_response_headers("set X-Frame-Options: DENY").unwrap(),
//!     ..Default::default()
//! };
//! let loggers = causeway_rest::LoggerLevels::new("info", |_directives| Ok(()));
//! let app = causeway_rest::router(herder, config, Some(loggers));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8083").await?;
//! causeway_rest::serve(listener, app, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
//!
//! Where Apache answers 500 for what is really a client error, we answer 400 on purpose; [`DEVIATIONS`]
//! lists every difference from Apache's wire behaviour.
#![warn(missing_docs)]

mod body;
mod config;
mod connectors;
mod error;
mod extract;
mod forward;
mod loggers;
mod loggers_resource;
mod metrics;
mod middleware;
mod plugins;
mod root;
mod router;
mod server;
mod version_range;

pub use self::config::{HeaderAction, HeaderRule, RestConfig, parse_response_headers};
pub use self::error::ApiError;
pub use self::loggers::{LevelError, LoggerLevel, LoggerLevels};
pub use self::router::router;
pub use self::server::{GRACEFUL_SHUTDOWN_TIMEOUT, RestServer, serve};

/// How long a herder-backed request may take before it fails with 500 `Request timed out` (Apache's fixed
/// `ConnectorsResource.REQUEST_TIMEOUT_MS`, 90 s).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// How long `GET /health` waits for the herder (Apache's health-check timeout, 10 s).
pub const HEALTH_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Every deliberate difference between this REST API and Apache Kafka Connect 4.x, one sentence each
/// (quoted by the README).
pub const DEVIATIONS: &[&str] = &[
    "A request body that is not valid JSON is 400 (Apache: 500 with Jackson's message).",
    "A request body of the wrong JSON type (not an object for config maps, POST /connectors, PATCH .../offsets and PUT /admin/loggers; not an array for POST /connectors/{c}/tasks) is 400 (Apache: 500).",
    "Unknown top-level fields in POST /connectors and PATCH /connectors/{c}/offsets are 400 `Unrecognized field \"<f>\" ...` (Apache: 500).",
    "A missing or null `config` in POST /connectors is 400 (Apache: 500 from a NullPointerException).",
    "An `initial_state` other than RUNNING, PAUSED or STOPPED (any case) is 400 (Apache: 500).",
    "An empty or absent body where one is required (config PUT/PATCH, create, validate, offsets PATCH, PUT /admin/loggers/{l}) is 400 (Apache: 500).",
    "A nested object or array as a config value is 400 (Apache: 500).",
    "A JSON null config value in POST /connectors or PUT /connectors/{c}/config is 400 with Apache's aggregated validation message, listing only the null-value errors (Apache also lists any other validation errors of the same request).",
    "PUT /connector-plugins/{p}/config/validate with JSON null values reports `Null value can not be supplied as the configuration value.` on those keys after validating the remaining keys (Apache validates the nulls in place).",
    "A `%2F` in a path segment is decoded to `/`, so connectors whose names contain `/` can be addressed (Jetty 12 rejects ambiguous path separators); the Location header encodes `/` in names as `%2F` accordingly.",
    "`GET /connector-plugins/{p}/config?version=<range>` checks the range against the single installed version of the plugin; an empty `version` means `latest`.",
    "A request forwarded to another worker whose advertised URL is `https://` fails with 500 `IO Error trying to forward REST request: ...` (the forwarding client has no TLS).",
    "The detail after `IO Error trying to forward REST request: ` is the HTTP client's error chain (e.g. `... tcp connect error: Connection refused (os error 111)`), not Java's exception text.",
    "`GET /health` distinguishes `starting` (503) from `unhealthy` (500) only when the herder reports it; a herder that does not answer within 10 s is reported as 500 `unhealthy`.",
    "OPTIONS on a known path answers 204 with an `Allow` header (no WADL), and `HEAD` works wherever `GET` does.",
    "Logger names map to `tracing` targets: dots become `::` (`causeway_runtime.worker` sets `causeway_runtime::worker`); FATAL filters as ERROR and ALL as TRACE, but both are reported as set.",
    "A `response.http.headers.config` rule with `setDate`/`addDate` must have an integer millisecond offset as its value (Jetty fails later, when the filter starts).",
];
