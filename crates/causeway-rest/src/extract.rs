//! Extractors whose rejections are [`ApiError`]s, so even a bad path or body gets the JSON error shape.
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Percent-decoded path parameters (JAX-RS `@PathParam`).
pub(crate) struct PathParams<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(PathParams(v)),
            Err(e) => Err(ApiError::new(e.status(), e.body_text())),
        }
    }
}

/// The decoded query string, in order, repeated keys kept (JAX-RS `UriInfo.getQueryParameters()`).
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Query(
            raw.unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    /// True when the key is present at all (even without a value).
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// Every value of a repeated key, in order.
    pub(crate) fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a key (JAX-RS `@QueryParam` takes the first).
    pub(crate) fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter parsed like Java's `Boolean.valueOf`: only `true` (any case) is true, any other
    /// value is false, and an absent parameter takes `default`.
    pub(crate) fn boolean(&self, key: &str, default: bool) -> bool {
        self.first(key)
            .map_or(default, |v| v.eq_ignore_ascii_case("true"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Query::parse(parts.uri.query()))
    }
}

/// The request body as UTF-8 text, `None` when it is empty or only whitespace. The media type was already
/// checked by the router (415); parsing is left to [`crate::body`].
pub(crate) struct JsonBody(pub(crate) Option<String>);

impl JsonBody {
    /// The body text of raw request bytes.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<JsonBody, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(None));
        }
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::bad_request("Malformed JSON in request body: invalid UTF-8"))?;
        Ok(JsonBody(Some(text)))
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        JsonBody::from_bytes(&bytes)
    }
}

/// The exact request body bytes (what an internal request's signature covers).
pub(crate) struct RawBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e| ApiError::new(e.status(), e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded_and_repeats_kept() {
        let q = Query::parse(Some("expand=status&expand=info&x=a%20b+c&flag"));
        assert_eq!(q.all("expand").collect::<Vec<_>>(), ["status", "info"]);
        assert_eq!(q.first("x"), Some("a b c"));
        assert!(q.contains("flag"));
        assert_eq!(q.first("flag"), Some(""));
        assert!(!q.contains("missing"));
    }

    #[test]
    fn booleans_follow_java_boolean_value_of() {
        let q = Query::parse(Some("a=TRUE&b=yes&c=1&d=&e=tRuE&a=false"));
        assert!(q.boolean("a", false));
        assert!(!q.boolean("b", true));
        assert!(!q.boolean("c", true));
        assert!(!q.boolean("d", true));
        assert!(q.boolean("e", false));
        assert!(q.boolean("absent", true));
        assert!(!q.boolean("absent", false));
    }
}
