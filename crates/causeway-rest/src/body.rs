//! Request bodies and query strings, parsed so that bad input always gets a JSON 4xx.
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use causeway_api::Props;

use crate::error::ApiError;

/// A request body parsed as JSON: `None` when empty. A body that is not declared JSON is 415; malformed JSON
/// is 400 (Apache answers 500: a deliberate deviation).
pub(crate) struct JsonBody(pub(crate) Option<serde_json::Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| {
                s.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("Cannot read request body: {e}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(None));
        }
        match content_type.as_deref() {
            Some(ct) if ct == "application/json" || ct.ends_with("+json") => {}
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "HTTP 415 Unsupported Media Type",
                ));
            }
        }
        serde_json::from_slice(&bytes)
            .map(|v| JsonBody(Some(v)))
            .map_err(|e| ApiError::bad_request(format!("Request body is not valid JSON: {e}")))
    }
}

/// A JSON config value as Connect accepts it: strings, and numbers/booleans coerced to strings.
fn config_value(key: &str, v: &serde_json::Value) -> Result<Option<String>, ApiError> {
    Ok(match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Null => None,
        _ => {
            return Err(ApiError::bad_request(format!(
                "Cannot deserialize value of configuration '{key}': expected a string, number or boolean"
            )));
        }
    })
}

/// A flat config map with `null` allowed (PATCH).
pub(crate) fn nullable_config_map(
    v: &serde_json::Value,
) -> Result<std::collections::BTreeMap<String, Option<String>>, ApiError> {
    let obj = v.as_object().ok_or_else(|| {
        ApiError::bad_request("Request body must be a JSON object of configuration properties")
    })?;
    obj.iter()
        .map(|(k, v)| Ok((k.clone(), config_value(k, v)?)))
        .collect()
}

/// A flat config map for PUT/POST: a `null` value is Apache's validation error.
pub(crate) fn config_map(v: &serde_json::Value) -> Result<Props, ApiError> {
    let map = nullable_config_map(v)?;
    if map.values().any(Option::is_none) {
        return Err(ApiError::bad_request(
            "Connector configuration is invalid and contains the following 1 error(s):\nNull value can not be supplied as the configuration value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
        ));
    }
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

/// Decoded `key=value` pairs of a query string, in order (repeated keys kept).
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// A boolean query parameter parsed like Java's `Boolean.valueOf`: only `true` (any case) is true.
pub(crate) fn query_bool(pairs: &[(String, String)], key: &str, default: bool) -> bool {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or(default, |(_, v)| v.eq_ignore_ascii_case("true"))
}
