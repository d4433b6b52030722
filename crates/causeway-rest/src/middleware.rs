//! Cross-cutting request handling: trailing slashes, media types (415/406), response header rules, CORS
//! and the request log.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{HeaderRule, RestConfig};
use crate::error::ApiError;

/// JAX-RS tolerates a trailing `/` (`/connectors/` is `/connectors`).
pub(crate) fn trim_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let path_and_query = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// The media type without parameters, lower-cased.
fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn matches_json(media_range: &str) -> bool {
    matches!(
        essence(media_range).as_str(),
        "application/json" | "application/*" | "*/*"
    )
}

/// `@Consumes(application/json)` and `@Produces(application/json)`: a request that carries a body must
/// declare it JSON (or declare no type at all), else 415; then as [`produces_json`]. Runs only on matched
/// routes, after 404 and 405, as in JAX-RS.
pub(crate) async fn consumes_json(req: Request, next: Next) -> Response {
    if has_body(req.headers()) {
        let declared = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().map(matches_json).unwrap_or(false));
        if declared == Some(false) {
            return ApiError::unsupported_media_type().into_response();
        }
    }
    produces_json(req, next).await
}

/// True when an `Accept` header admits `application/json` (no header admits everything).
fn accepts_json(headers: &HeaderMap) -> bool {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return true;
    }
    let ranges: Vec<&str> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    if ranges.is_empty() {
        return true;
    }
    ranges.iter().any(|range| {
        let refused = range.split(';').skip(1).any(|param| {
            param.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("q")
                    && v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
            })
        });
        matches_json(range) && !refused
    })
}

/// `@Produces(application/json)`: 406 when the client accepts no JSON.
pub(crate) async fn produces_json(req: Request, next: Next) -> Response {
    if !accepts_json(req.headers()) {
        return ApiError::not_acceptable().into_response();
    }
    next.run(req).await
}

/// Applies `response.http.headers.config` rules to every response.
pub(crate) async fn apply_header_rules(
    State(rules): State<Arc<[HeaderRule]>>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let now = SystemTime::now();
    for rule in rules.iter() {
        rule.apply(resp.headers_mut(), now);
    }
    resp
}

/// One INFO line per request (Apache's NCSA request log, `RestServer` logger), target `causeway_rest`.
pub(crate) async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let started = Instant::now();
    let resp = next.run(req).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    match remote {
        Some(remote) => tracing::info!(
            target: "causeway_rest",
            %remote,
            %method,
            path = %uri,
            status = resp.status().as_u16(),
            duration_ms,
            "Request handled."
        ),
        None => tracing::info!(
            target: "causeway_rest",
            %method,
            path = %uri,
            status = resp.status().as_u16(),
            duration_ms,
            "Request handled."
        ),
    }
    resp
}

/// An origin pattern of `access.control.allow.origin`: `*` anywhere is a wildcard, as in Jetty.
fn origin_matches(pattern: &str, origin: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern.eq_ignore_ascii_case(origin);
    }
    let origin = origin.to_ascii_lowercase();
    let mut rest = origin.as_str();
    for (i, part) in parts.iter().enumerate() {
        let part = part.to_ascii_lowercase();
        if i == 0 {
            match rest.strip_prefix(part.as_str()) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part.as_str());
        } else {
            match rest.find(part.as_str()) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The CORS layer for `access.control.allow.origin` / `access.control.allow.methods`, or `None` when CORS
/// is off (blank origin list).
pub(crate) fn cors_layer(config: &RestConfig) -> Option<CorsLayer> {
    let origins: Vec<String> = config
        .access_control_allow_origin
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    if origins.is_empty() {
        return None;
    }
    let methods: Vec<Method> = if config.access_control_allow_methods.trim().is_empty() {
        vec![Method::GET, Method::POST, Method::HEAD]
    } else {
        config
            .access_control_allow_methods
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .collect()
    };
    // Jetty's default allowed headers.
    let headers = [
        HeaderName::from_static("x-requested-with"),
        header::CONTENT_TYPE,
        header::ACCEPT,
        header::ORIGIN,
    ];
    let allow_origin = AllowOrigin::predicate(move |origin: &HeaderValue, _| {
        origin
            .to_str()
            .is_ok_and(|o| origins.iter().any(|p| origin_matches(p, o)))
    });
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(methods)
            .allow_headers(headers),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_patterns() {
        assert!(origin_matches("*", "http://a.example"));
        assert!(origin_matches("http://a.example", "http://A.example"));
        assert!(!origin_matches("http://a.example", "http://b.example"));
        assert!(origin_matches("http://*.example", "http://x.y.example"));
        assert!(!origin_matches("http://*.example", "https://x.example"));
        assert!(!origin_matches("http://*.example", "http://x.example.org"));
    }

    #[test]
    fn accept_headers() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(accepts_json(&HeaderMap::new()));
        assert!(accepts_json(&h("application/json")));
        assert!(accepts_json(&h("text/html, */*;q=0.8")));
        assert!(accepts_json(&h("application/*")));
        assert!(!accepts_json(&h("text/plain")));
        assert!(!accepts_json(&h("application/json;q=0, text/plain")));
    }

    #[test]
    fn media_types() {
        assert!(matches_json("application/json; charset=utf-8"));
        assert!(matches_json("Application/JSON"));
        assert!(!matches_json("application/x-www-form-urlencoded"));
        assert!(!matches_json("text/plain"));
    }
}
