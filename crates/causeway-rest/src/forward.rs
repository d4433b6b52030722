//! Request forwarding between workers (Apache's `HerderRequestHandler.completeOrForwardRequest` and
//! `RestClient`): a write that this worker cannot execute is re-sent to the worker that can, and that
//! worker's answer is relayed.
//!
//! * The herder answers [`HerderError::NotLeader`] with the target's URL. Without a `forward` parameter the
//!   request goes to `<url><path>?forward=true` (the target may forward once more), with `forward=true` to
//!   `…?forward=false`; with `forward=false` it is 409 `Cannot complete request because of a conflicting
//!   operation (e.g. worker rebalance)`. No URL known: 409 `… no known leader URL …`.
//! * [`HerderError::RebalanceNeeded`] is 409 `… stale configuration …`.
//! * The forwarded request has the same method, the path rebuilt from the decoded parameters, the parsed
//!   entity re-serialized as JSON, `Accept: application/json`, `User-Agent: kafka-connect` and only the
//!   caller's `Authorization` header; redirects are not followed.
//! * The answer: 204 → no body; ≥ 400 → the remote `{"error_code","message"}` with the remote status; other
//!   2xx → the JSON body (the endpoint picks its own success status, as Apache's resources do); anything
//!   else → 500 `Unexpected status code when handling forwarded request: <n>`; I/O failure → 500
//!   `IO Error trying to forward REST request: <detail>`.
use std::future::Future;

use axum::http::{HeaderMap, Method, StatusCode, header};
use causeway_runtime::herder::rest_client::{self, RemoteError, RestClientError};
use causeway_runtime::herder::{HerderError, HerderResult};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::REQUEST_TIMEOUT;
use crate::error::ApiError;
use crate::extract::Query;

/// How a forwardable request ended.
pub(crate) enum Completed<T> {
    /// This worker's herder answered.
    Here(T),
    /// Another worker answered with a success status; its body is relayed.
    Forwarded(Relayed),
}

/// A successful answer of the worker a request was forwarded to.
pub(crate) struct Relayed {
    /// The remote status (2xx).
    pub(crate) status: StatusCode,
    /// The remote JSON body; `None` for 204.
    pub(crate) body: Option<Value>,
}

/// What to re-send if the herder says another worker must handle the request.
pub(crate) struct ForwardRequest<'a> {
    method: Method,
    /// Percent-encoded, starting with `/`.
    path: String,
    /// Query parameters after `forward` (only restart's `includeTasks`/`onlyFailed` in Apache).
    params: Vec<(&'static str, String)>,
    /// The re-serialized entity.
    body: Option<Vec<u8>>,
    headers: &'a HeaderMap,
    /// The request's own `forward` parameter: `None` when absent.
    forward: Option<bool>,
}

/// Characters kept as they are in a forwarded path segment (unreserved and sub-delims, `:` and `@`); `/` in
/// a connector name is encoded so that the name stays one segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Characters encoded in a query component.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One connector name as a path segment of a forwarded request.
pub(crate) fn segment(name: &str) -> String {
    utf8_percent_encode(name, PATH_SEGMENT).to_string()
}

/// The `forward` query parameter as JAX-RS converts a `Boolean`: absent or empty is `None`, `true` (any
/// case) is true, any other value false.
fn forward_param(query: &Query) -> Option<bool> {
    query
        .first("forward")
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.eq_ignore_ascii_case("true"))
}

impl<'a> ForwardRequest<'a> {
    /// A request without body or extra parameters.
    pub(crate) fn new(method: Method, path: String, headers: &'a HeaderMap, query: &Query) -> Self {
        ForwardRequest {
            method,
            path,
            params: Vec::new(),
            body: None,
            headers,
            forward: forward_param(query),
        }
    }

    /// The entity to send, serialized as Apache's `RestClient` serializes it (JSON).
    pub(crate) fn json(mut self, entity: &impl serde::Serialize) -> Result<Self, ApiError> {
        self.body =
            Some(serde_json::to_vec(entity).map_err(|e| ApiError::internal(e.to_string()))?);
        Ok(self)
    }

    /// An extra query parameter after `forward`.
    pub(crate) fn param(mut self, key: &'static str, value: String) -> Self {
        self.params.push((key, value));
        self
    }

    fn url(&self, target: &str, recursive: bool) -> String {
        let mut url = format!(
            "{}{}?forward={recursive}",
            target.trim_end_matches('/'),
            self.path
        );
        for (key, value) in &self.params {
            url.push('&');
            url.push_str(key);
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY_COMPONENT));
        }
        url
    }
}

/// Waits for the herder (500 `Request timed out` after [`REQUEST_TIMEOUT`]) and, when it says another
/// worker must handle the request, forwards it there.
pub(crate) async fn complete_or_forward<T>(
    call: impl Future<Output = HerderResult<T>>,
    request: ForwardRequest<'_>,
) -> Result<Completed<T>, ApiError> {
    let error = match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
        Err(_) => return Err(ApiError::timed_out()),
        Ok(Ok(value)) => return Ok(Completed::Here(value)),
        Ok(Err(error)) => error,
    };
    match error {
        HerderError::NotLeader { leader_url } => {
            if request.forward == Some(false) {
                tracing::error!(
                    target: "causeway_rest",
                    method = %request.method,
                    path = %request.path,
                    "Request failed because it couldn't find the target Connect worker within two hops (between workers)."
                );
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
                ));
            }
            // Only the first worker to see a user request may forward recursively: two hops at most.
            let recursive = request.forward.is_none();
            let Some(target) = leader_url else {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.",
                ));
            };
            let url = request.url(&target, recursive);
            tracing::debug!(target: "causeway_rest", url = %url, method = %request.method, "Forwarding request");
            send(&request, &url).await.map(Completed::Forwarded)
        }
        HerderError::RebalanceNeeded(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)",
        )),
        other => Err(ApiError::from(other)),
    }
}

/// Header values joined with `,` (JAX-RS `getHeaderString`).
fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<Vec<u8>> {
    let mut values = headers.get_all(name).iter();
    let mut joined = values.next()?.as_bytes().to_vec();
    for value in values {
        joined.push(b',');
        joined.extend_from_slice(value.as_bytes());
    }
    Some(joined)
}

/// Apache's `RestClient.httpRequest` through the workers' shared client: only `Authorization` travels along.
async fn send(request: &ForwardRequest<'_>, url: &str) -> Result<Relayed, ApiError> {
    let io_error = |e: RestClientError| ApiError::internal(e.to_string());
    let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let headers: Vec<(&str, Vec<u8>)> = header_string(request.headers, header::AUTHORIZATION)
        .map(|v| ("authorization", v))
        .into_iter()
        .collect();
    let response = rest_client::send(method, url, &headers, request.body.clone())
        .await
        .map_err(io_error)?;
    let status =
        StatusCode::from_u16(response.status).map_err(|e| ApiError::internal(e.to_string()))?;
    if status == StatusCode::NO_CONTENT {
        return Ok(Relayed { status, body: None });
    }
    if status.as_u16() >= 400 {
        let remote = RemoteError::parse(&response.body).map_err(io_error)?;
        return Err(ApiError::new(status, remote.message.unwrap_or_default())
            .with_error_code(remote.error_code.unwrap_or(status.as_u16())));
    }
    if status.is_success() {
        let body: Value = serde_json::from_slice(&response.body)
            .map_err(|e| io_error(RestClientError::Io(e.to_string())))?;
        return Ok(Relayed {
            status,
            body: Some(body),
        });
    }
    Err(ApiError::internal(format!(
        "Unexpected status code when handling forwarded request: {}",
        status.as_u16()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_parameter_follows_jax_rs_boolean() {
        let param = |q: &str| forward_param(&Query::parse(Some(q)));
        assert_eq!(param(""), None);
        assert_eq!(param("forward="), None);
        assert_eq!(param("forward=TRUE"), Some(true));
        assert_eq!(param("forward=false"), Some(false));
        assert_eq!(param("forward=yes"), Some(false));
    }

    #[test]
    fn urls_put_forward_first_and_encode_names() {
        let headers = HeaderMap::new();
        let query = Query::parse(None);
        let request = ForwardRequest::new(
            Method::POST,
            format!("/connectors/{}/restart", segment("a b/c")),
            &headers,
            &query,
        )
        .param("includeTasks", "true".into())
        .param("onlyFailed", "false".into());
        assert_eq!(
            request.url("http://leader:8083/", true),
            "http://leader:8083/connectors/a%20b%2Fc/restart?forward=true&includeTasks=true&onlyFailed=false"
        );
        assert_eq!(
            request.url("http://leader:8083", false),
            "http://leader:8083/connectors/a%20b%2Fc/restart?forward=false&includeTasks=true&onlyFailed=false"
        );
    }
}
