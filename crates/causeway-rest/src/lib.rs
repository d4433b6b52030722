//! Apache Kafka Connect's REST API (4.x), path for path, field for field and status code for status code.
//!
//! [`router`] builds the axum application over any [`Herder`]; [`serve`] runs it on a listener with
//! graceful shutdown. Errors are rendered in one place ([`ApiError`]). Where Apache answers 500 for what is
//! really a client error, we answer 400 on purpose; [`DEVIATIONS`] lists every such difference.
#![warn(missing_docs)]

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use causeway_runtime::herder::Herder;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

mod body;
mod error;
mod handlers;
mod loggers;

pub use self::error::ApiError;
pub use self::loggers::{LevelError, LoggerLevel, LoggerLevels};

/// Where Causeway's REST API deliberately differs from Apache's.
pub const DEVIATIONS: &[&str] = &[
    "A malformed JSON body, a body that is not a JSON object, unknown fields in POST /connectors or PATCH .../offsets, a missing or null `config` in POST /connectors, a bad `initial_state`, nested objects as config values, and an empty body on PUT /admin/loggers are 400 (Apache: 500).",
    "PUT /connectors/{c}/stop on an unknown connector is 404 `Unknown connector <c>` (Apache standalone: 500).",
    "`GET /connectors` lists names sorted (Apache: hash order, unspecified).",
    "ConfigKeyInfo carries both `order` (4.0) and `order_in_group` (4.1+) with the same value.",
    "`GET /` reports `version` 4.1.0 (the Connect REST API implemented) and Causeway's git commit as `commit`.",
];

/// REST settings from the worker configuration.
#[derive(Debug, Clone, Default)]
pub struct RestConfig {
    /// `access.control.allow.origin` ("" disables CORS).
    pub access_control_allow_origin: String,
    /// `access.control.allow.methods` ("" = GET, POST, HEAD).
    pub access_control_allow_methods: String,
    /// Parsed `response.http.headers.config`.
    pub response_headers: Vec<HeaderRule>,
    /// False when `admin.listeners` is empty: `/admin/loggers` answers 404.
    pub admin_enabled: bool,
}

/// One `response.http.headers.config` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    /// `set`, `add`, `setDate` or `addDate`.
    pub action: String,
    /// Header name.
    pub name: String,
    /// Header value (ignored for the date actions, which use the current time).
    pub value: String,
}

/// Parses `response.http.headers.config` as Apache does: comma-separated rules (optionally double-quoted)
/// of the form `<action> <Header-Name>: <value>`.
///
/// # Errors
/// A message describing the invalid rule.
pub fn parse_response_headers(config: &str) -> Result<Vec<HeaderRule>, String> {
    let mut rules = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut parts = Vec::new();
    for c in config.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (action, rest) = part
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("Invalid format of header config '{part}'. Expected: '[action] [header name]:[header value]'"))?;
        if !["set", "add", "setDate", "addDate"].contains(&action) {
            return Err(format!(
                "Invalid header config action: '{action}'. Expected one of [set, add, setDate, addDate]"
            ));
        }
        let mut kv = rest.split(':');
        let (Some(name), Some(value), None) = (kv.next(), kv.next(), kv.next()) else {
            return Err(format!(
                "Invalid format of header name and header value pair '{rest}'. Expected: '[header name]:[header value]'"
            ));
        };
        let name = name.trim();
        if name.is_empty()
            || name.contains(char::is_whitespace)
            || HeaderName::from_bytes(name.as_bytes()).is_err()
        {
            return Err(format!("Invalid header name '{name}'"));
        }
        let value = value.trim();
        if HeaderValue::from_str(value).is_err() {
            return Err(format!("Invalid header value '{value}'"));
        }
        rules.push(HeaderRule {
            action: action.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(rules)
}

async fn apply_header_rules(rules: Arc<Vec<HeaderRule>>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let date = || {
        chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    };
    for r in rules.iter() {
        let Ok(name) = HeaderName::from_bytes(r.name.as_bytes()) else {
            continue;
        };
        let value = match r.action.as_str() {
            "setDate" | "addDate" => date(),
            _ => r.value.clone(),
        };
        let Ok(value) = HeaderValue::from_str(&value) else {
            continue;
        };
        match r.action.as_str() {
            "set" | "setDate" => {
                resp.headers_mut().insert(name, value);
            }
            _ => {
                resp.headers_mut().append(name, value);
            }
        }
    }
    resp
}

async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let start = Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        target: "causeway_rest",
        method = %method,
        uri = %uri,
        status = resp.status().as_u16(),
        duration_ms = start.elapsed().as_millis() as u64,
        "Request served."
    );
    resp
}

/// The REST application over a herder.
pub fn router(
    herder: Arc<dyn Herder>,
    config: RestConfig,
    loggers: Option<LoggerLevels>,
) -> Router {
    let mut app = handlers::routes(handlers::AppState {
        herder,
        loggers: if config.admin_enabled { loggers } else { None },
    });
    if !config.response_headers.is_empty() {
        let rules = Arc::new(config.response_headers.clone());
        app = app.layer(middleware::from_fn(move |req, next| {
            apply_header_rules(rules.clone(), req, next)
        }));
    }
    let origin = config.access_control_allow_origin.trim();
    if !origin.is_empty() {
        use tower_http::cors::{AllowOrigin, CorsLayer};
        let allow_origin = if origin == "*" {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(
                origin
                    .split(',')
                    .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
                    .collect::<Vec<_>>(),
            )
        };
        let methods: Vec<Method> = if config.access_control_allow_methods.trim().is_empty() {
            vec![Method::GET, Method::POST, Method::HEAD]
        } else {
            config
                .access_control_allow_methods
                .split(',')
                .filter_map(|m| Method::from_bytes(m.trim().as_bytes()).ok())
                .collect()
        };
        app = app.layer(
            CorsLayer::new()
                .allow_origin(allow_origin)
                .allow_methods(methods)
                .allow_headers(tower_http::cors::Any),
        );
    }
    app.layer(middleware::from_fn(log_request))
}

/// Serves the application on `listener` until `shutdown` completes. Trailing slashes are tolerated, as
/// JAX-RS does.
///
/// # Errors
/// When the server fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = NormalizePathLayer::trim_trailing_slash().layer(app);
    axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service(app),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rules_parse_like_apache() {
        let rules = parse_response_headers(
            "set X-Frame-Options: DENY,\"add Cache-Control: no-cache, no-store\"",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].value, "no-cache, no-store");
        assert!(parse_response_headers("bogus X: y").is_err());
        assert!(parse_response_headers("set X: a:b").is_err());
        assert!(parse_response_headers("").unwrap().is_empty());
    }
}
