//! The one HTTP client workers use to talk to each other (Apache's `RestClient.httpRequest`): forwarded
//! REST requests and internal requests to the leader. A fresh client per request and no redirects, as Apache.
use reqwest::Method;

/// A remote answer: status and raw body.
#[derive(Debug)]
pub struct RestResponse {
    /// HTTP status code.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Why a request got no answer, as Apache words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestClientError {
    /// The client could not be built.
    #[error("Failed to start RestClient: {0}")]
    Start(String),
    /// Connecting, sending or reading failed, or the answer was unreadable.
    #[error("IO Error trying to forward REST request: {0}")]
    Io(String),
}

/// An error body of a remote worker (`{"error_code":…,"message":…}`).
#[derive(Debug, serde::Deserialize)]
pub struct RemoteError {
    /// `error_code`, if present.
    pub error_code: Option<u16>,
    /// `message`, if present.
    pub message: Option<String>,
}

impl RemoteError {
    /// Parses an error body.
    ///
    /// # Errors
    /// A body that is not Connect's error JSON (Apache reports it as an IO error).
    pub fn parse(body: &[u8]) -> Result<RemoteError, RestClientError> {
        serde_json::from_slice(body).map_err(|e| RestClientError::Io(e.to_string()))
    }
}

/// An error and its sources, `: `-separated (reqwest's own text hides the cause, e.g. connection refused).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends a request with Apache's `Accept` and `User-Agent`, the given extra headers, and a JSON body if any.
///
/// # Errors
/// No answer ([`RestClientError`]); any HTTP status is an answer.
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, Vec<u8>)],
    body: Option<Vec<u8>>,
) -> Result<RestResponse, RestClientError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| RestClientError::Start(e.to_string()))?;
    let mut request = client
        .request(method, url)
        .header(reqwest::header::ACCEPT, "application/json")
        .header(reqwest::header::USER_AGENT, "kafka-connect");
    for (name, value) in headers {
        request = request.header(*name, value.clone());
    }
    if let Some(body) = body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    let response = request
        .send()
        .await
        .map_err(|e| RestClientError::Io(error_chain(&e)))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| RestClientError::Io(error_chain(&e)))?
        .to_vec();
    Ok(RestResponse { status, body })
}
