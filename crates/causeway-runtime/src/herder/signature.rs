//! KIP-507 signatures of internal worker-to-worker requests (Apache's `InternalRequestSignature`), the
//! herder-side check of a received signature, and the client calls a follower makes to the leader
//! (`POST /connectors/{c}/tasks`, `PUT /connectors/{c}/fence`).
//!
//! A signature is `base64(HMAC(session key, exact request body bytes))` in `X-Connect-Authorization`, with the
//! MAC algorithm name in `X-Connect-Request-Signature-Algorithm`. Algorithm names are matched as Java's
//! `Mac.getInstance` matches them (case-insensitively), base64 is decoded with Java's basic decoder rules and
//! error texts, so a Java worker and a Causeway worker reject the same requests with the same messages.
use causeway_api::Props;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use super::rest_client::{self, RemoteError, RestClientError};
use super::{HerderError, HerderResult};

/// The header carrying the base64 HMAC of the request body.
pub const SIGNATURE_HEADER: &str = "X-Connect-Authorization";

/// The header naming the MAC algorithm (e.g. `HmacSHA256`).
pub const SIGNATURE_ALGORITHM_HEADER: &str = "X-Connect-Request-Signature-Algorithm";

/// The default of `inter.worker.signature.algorithm` and `inter.worker.verification.algorithms`.
pub const DEFAULT_SIGNATURE_ALGORITHM: &str = "HmacSHA256";

/// The signature of a received internal request: the algorithm as the sender named it, the decoded MAC, and
/// the exact body bytes it claims to cover.
#[derive(Clone, PartialEq, Eq)]
pub struct InternalRequestSignature {
    algorithm: String,
    signature: Vec<u8>,
    body: Vec<u8>,
}

impl std::fmt::Debug for InternalRequestSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalRequestSignature")
            .field("algorithm", &self.algorithm)
            .field("signature_len", &self.signature.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The two header values that sign a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `X-Connect-Authorization`: base64 (standard alphabet, padded) of the MAC.
    pub signature: String,
    /// `X-Connect-Request-Signature-Algorithm`.
    pub algorithm: String,
}

impl InternalRequestSignature {
    /// A signature over `body`; 400 `Algorithm <a> not available` when `algorithm` is no MAC Java knows.
    pub fn new(algorithm: &str, signature: Vec<u8>, body: Vec<u8>) -> HerderResult<Self> {
        mac_digest(algorithm)?;
        Ok(InternalRequestSignature {
            algorithm: algorithm.to_owned(),
            signature,
            body,
        })
    }

    /// Apache's `fromHeaders`: `Ok(None)` unless both headers are present; 400 with Java's message for an
    /// unknown algorithm or a signature that is not base64.
    pub fn from_headers(
        algorithm: Option<&str>,
        encoded_signature: Option<&[u8]>,
        body: &[u8],
    ) -> HerderResult<Option<Self>> {
        let (Some(algorithm), Some(encoded)) = (algorithm, encoded_signature) else {
            return Ok(None);
        };
        mac_digest(algorithm)?;
        let signature = java_base64_decode(encoded).map_err(HerderError::BadRequest)?;
        Ok(Some(InternalRequestSignature {
            algorithm: algorithm.to_owned(),
            signature,
            body: body.to_vec(),
        }))
    }

    /// The algorithm exactly as the sender named it (Apache's `keyAlgorithm()`).
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The decoded MAC.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The request body the MAC covers.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// True when the MAC matches `key` (constant-time comparison).
    pub fn is_valid(&self, key: &[u8]) -> bool {
        verify(key, self)
    }
}

/// The digest behind a Java MAC name, matched case-insensitively as `Mac.getInstance` does.
fn mac_digest(algorithm: &str) -> HerderResult<MessageDigest> {
    let digest = match algorithm.to_ascii_lowercase().as_str() {
        "hmacmd5" => MessageDigest::md5(),
        "hmacsha1" => MessageDigest::sha1(),
        "hmacsha224" => MessageDigest::sha224(),
        "hmacsha256" => MessageDigest::sha256(),
        "hmacsha384" => MessageDigest::sha384(),
        "hmacsha512" => MessageDigest::sha512(),
        // Not in every OpenSSL binding: looked up by name, unknown when the library lacks them.
        "hmacsha512/224" => match MessageDigest::from_name("SHA512-224") {
            Some(digest) => digest,
            None => return Err(not_available(algorithm)),
        },
        "hmacsha512/256" => match MessageDigest::from_name("SHA512-256") {
            Some(digest) => digest,
            None => return Err(not_available(algorithm)),
        },
        "hmacsha3-224" => MessageDigest::sha3_224(),
        "hmacsha3-256" => MessageDigest::sha3_256(),
        "hmacsha3-384" => MessageDigest::sha3_384(),
        "hmacsha3-512" => MessageDigest::sha3_512(),
        _ => return Err(not_available(algorithm)),
    };
    Ok(digest)
}

/// Java's `NoSuchAlgorithmException` text, which Apache returns as a 400.
fn not_available(algorithm: &str) -> HerderError {
    HerderError::BadRequest(format!("Algorithm {algorithm} not available"))
}

fn hmac(
    key: &[u8],
    digest: MessageDigest,
    body: &[u8],
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let key = PKey::hmac(key)?;
    let mut signer = Signer::new(digest, &key)?;
    signer.update(body)?;
    signer.sign_to_vec()
}

/// Signs `body` with `key`: the header values Apache's `InternalRequestSignature.addToRequest` adds.
/// 500 when the algorithm is unknown (Apache: a `ConnectException` on the sending side).
pub fn sign(key: &[u8], algorithm: &str, body: &[u8]) -> HerderResult<SignatureHeaders> {
    let digest = mac_digest(algorithm).map_err(|e| HerderError::Internal(e.to_string()))?;
    let mac = hmac(key, digest, body)
        .map_err(|e| HerderError::Internal(format!("Failed to sign request: {e}")))?;
    Ok(SignatureHeaders {
        signature: base64_encode(&mac),
        algorithm: algorithm.to_owned(),
    })
}

/// True when `signature` is the MAC of its body under `key`.
pub fn verify(key: &[u8], signature: &InternalRequestSignature) -> bool {
    let Ok(digest) = mac_digest(&signature.algorithm) else {
        return false;
    };
    match hmac(key, digest, &signature.body) {
        // `memcmp::eq` requires equal lengths; a length mismatch is not secret.
        Ok(expected) => {
            expected.len() == signature.signature.len()
                && openssl::memcmp::eq(&expected, &signature.signature)
        }
        Err(_) => false,
    }
}

/// Apache's `DistributedHerder.requestNotSignedProperly`, for a herder whose request verification is on:
/// 400 when unsigned or signed with an algorithm outside `verification_algorithms`, 503 before a session
/// key was read, 403 when the MAC does not match.
pub fn check_internal_request(
    signature: Option<&InternalRequestSignature>,
    session_key: Option<&[u8]>,
    verification_algorithms: &[String],
) -> HerderResult<()> {
    let Some(signature) = signature else {
        return Err(HerderError::BadRequest(
            "Internal request missing required signature".into(),
        ));
    };
    if !verification_algorithms
        .iter()
        .any(|a| a == signature.algorithm())
    {
        return Err(HerderError::BadRequest(format!(
            "This worker does not support the '{}' key signing algorithm used by other workers. \
             This worker is currently configured to use: [{}]. \
             Check that all workers' configuration files permit the same set of signature algorithms, \
             and correct any misconfigured worker and restart it.",
            signature.algorithm(),
            verification_algorithms.join(", ")
        )));
    }
    let Some(key) = session_key else {
        return Err(HerderError::Unavailable(
            "This worker is still starting up and has not been able to read a session key from the config topic yet"
                .into(),
        ));
    };
    if !signature.is_valid(key) {
        return Err(HerderError::Forbidden(
            "Internal request contained invalid signature.".into(),
        ));
    }
    Ok(())
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Java's `Base64.getEncoder()`: standard alphabet, padded.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(
                    BASE64_ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Java's `Base64.getDecoder().decode`, with its exact rules (padding optional, no whitespace, lenient about
/// unused trailing bits) and its exception messages.
pub fn java_base64_decode(src: &[u8]) -> Result<Vec<u8>, String> {
    fn value(b: u8) -> Option<u32> {
        BASE64_ALPHABET
            .iter()
            .position(|&c| c == b)
            .map(|p| p as u32)
    }
    // `Integer.toString(byte, 16)` of a signed Java byte.
    fn java_hex(b: u8) -> String {
        let v = i32::from(b as i8);
        if v < 0 {
            format!("-{:x}", -v)
        } else {
            format!("{v:x}")
        }
    }
    if src.is_empty() {
        return Ok(Vec::new());
    }
    if src.len() < 2 {
        return Err("Input byte[] should at least have 2 bytes for base64 bytes".into());
    }
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 2);
    let mut bits: u32 = 0;
    let mut shift: i32 = 18;
    let mut sp = 0;
    while sp < src.len() {
        let b = src[sp];
        sp += 1;
        let Some(v) = value(b) else {
            if b == b'=' {
                // `=` right after a full unit, or `xx=` not followed by a second `=`.
                let bad_pair = shift == 6 && {
                    let ok = sp < src.len() && src[sp] == b'=';
                    if sp < src.len() {
                        sp += 1;
                    }
                    !ok
                };
                if bad_pair || shift == 18 {
                    return Err("Input byte array has wrong 4-byte ending unit".into());
                }
                break;
            }
            return Err(format!("Illegal base64 character {}", java_hex(b)));
        };
        bits |= v << shift;
        shift -= 6;
        if shift < 0 {
            out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]);
            shift = 18;
            bits = 0;
        }
    }
    match shift {
        6 => out.push((bits >> 16) as u8),
        0 => out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8]),
        12 => return Err("Last unit does not have enough valid bits".into()),
        _ => {}
    }
    if sp < src.len() {
        return Err(format!(
            "Input byte array has incorrect ending byte at {sp}"
        ));
    }
    Ok(out)
}

/// `<worker url>/connectors/<connector>/<action>`: the connector name as one encoded path segment.
fn internal_url(worker_url: &str, connector: &str, action: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    format!(
        "{}/connectors/{}/{action}",
        worker_url.trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(connector, SEGMENT)
    )
}

/// Sends an internal request (JSON body, signed when a session key is known) and classifies the answer:
/// 2xx is success, 4xx/5xx the remote error with its status and message, anything else 500.
async fn internal_request(
    method: reqwest::Method,
    url: String,
    body: Option<Vec<u8>>,
    session_key: Option<&[u8]>,
    algorithm: &str,
) -> HerderResult<()> {
    let mut headers = Vec::new();
    if let Some(key) = session_key {
        let signed = sign(key, algorithm, body.as_deref().unwrap_or_default())?;
        headers.push((SIGNATURE_HEADER, signed.signature.into_bytes()));
        headers.push((SIGNATURE_ALGORITHM_HEADER, signed.algorithm.into_bytes()));
    }
    let internal = |e: RestClientError| HerderError::Internal(e.to_string());
    let response = rest_client::send(method, &url, &headers, body)
        .await
        .map_err(internal)?;
    match response.status {
        200..=299 => Ok(()),
        status @ 400.. => {
            let error = RemoteError::parse(&response.body).map_err(internal)?;
            Err(HerderError::from_status(
                status,
                error.message.unwrap_or_default(),
            ))
        }
        status => Err(HerderError::Internal(format!(
            "Unexpected status code when handling forwarded request: {status}"
        ))),
    }
}

/// A follower's `POST <leader>/connectors/<c>/tasks` with the connector's new task configs (Apache's
/// `DistributedHerder.publishConnectorTaskConfigs`), signed with `session_key` when there is one.
///
/// A blank `leader_url` fails as Apache's does; a remote error keeps its status (a 403 may mean the session
/// key rotated, which the herder answers with a rebalance).
pub async fn post_task_configs_to_leader(
    leader_url: &str,
    connector: &str,
    configs: &[Props],
    session_key: Option<&[u8]>,
    algorithm: &str,
) -> HerderResult<()> {
    if leader_url.trim().is_empty() {
        return Err(HerderError::Internal(
            "Request to leader to reconfigure connector tasks failed because the URL of the leader's REST interface is empty!"
                .into(),
        ));
    }
    let body = serde_json::to_vec(configs).map_err(|e| HerderError::Internal(e.to_string()))?;
    internal_request(
        reqwest::Method::POST,
        internal_url(leader_url, connector, "tasks"),
        Some(body),
        session_key,
        algorithm,
    )
    .await
}

/// A worker's `PUT <leader>/connectors/<c>/fence` before it starts exactly-once source tasks (no body; the
/// signature covers the empty input).
pub async fn fence_zombies_on_leader(
    leader_url: &str,
    connector: &str,
    session_key: Option<&[u8]>,
    algorithm: &str,
) -> HerderResult<()> {
    internal_request(
        reqwest::Method::PUT,
        internal_url(leader_url, connector, "fence"),
        None,
        session_key,
        algorithm,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed with Java 17's `Mac.getInstance(alg)` over these exact bytes (see module docs).
    const KEY: &[u8] = b"causeway-session-key-0123456789ab";
    const BODY: &[u8] = br#"[{"task.class":"org.example.Task","topic":"t"}]"#;

    #[test]
    fn signs_like_java_mac() {
        let cases = [
            ("HmacSHA256", "ytg7zPkUpZDEX5A8QwkGn8QnbPts37fV+GFEUp7ViyE="),
            ("HmacSHA1", "F9MIGrBPGG35ZDqv0R92yBsUmOY="),
            (
                "HmacSHA512",
                "zRzJJhfwEEyoYITYEqzA5Wv96ajCF1lO7/dMLgCuWFD7LxlzOwCGa4rRJ1JKH3vp+vbcPpAJJ4Mf/bpHsP4oTA==",
            ),
            (
                "HmacSHA384",
                "9Q0Kfk3vG4r0iCzgH0s8dlZxsN4Hy7nV6RJ/DeFepn+lreHeUh7pdOr0/wLpUxup",
            ),
            ("HmacSHA224", "WFXDtUfGmuSHKEc3FBxVHAzwc8SypULt0iTzog=="),
            ("HmacMD5", "fpYyU40CEunvr3oXAASm+A=="),
            ("hmacsha256", "ytg7zPkUpZDEX5A8QwkGn8QnbPts37fV+GFEUp7ViyE="),
            (
                "HmacSHA512/256",
                "ig0SPx/uan4uIBTs2tMEBpOOhKUhtXqigVEkHW2Tack=",
            ),
            (
                "HmacSHA3-256",
                "3EdUmZpAAoBx7grHZ5QoskQYGfLYNX7VqtSPKu8datk=",
            ),
        ];
        for (algorithm, expected) in cases {
            let headers = sign(KEY, algorithm, BODY).unwrap();
            assert_eq!(headers.signature, expected, "{algorithm}");
            assert_eq!(headers.algorithm, algorithm);
        }
        assert_eq!(
            sign(KEY, "HmacSHA256", b"").unwrap().signature,
            "i9brq0DZW31Ka6jv6+cIUBYNZSEcdz1NuEUZG8GPxiM="
        );
    }

    // Apache's `InternalRequestSignatureTest` key, body and signature.
    #[test]
    fn apache_test_vector_verifies() {
        let key: Vec<u8> = [
            109i8, 116, -111, 49, -94, 25, -103, 44, -99, -118, 53, -69, 87, -124, 5, 48, 89, -105,
            -2, 58, -92, 87, 67, 49, -125, -79, -39, -126, -51, -53, -85, 57,
        ]
        .iter()
        .map(|&b| b as u8)
        .collect();
        let signature: Vec<u8> = [
            42i8, -3, 127, 57, 43, 49, -51, -43, 72, -62, -10, 120, 123, 125, 26, -65, 36, 72, 86,
            -71, -32, 13, -8, 115, 85, 73, -65, -112, 6, 68, 41, -50,
        ]
        .iter()
        .map(|&b| b as u8)
        .collect();
        let body = br#"[{"config":"value"},{"config":"other_value"}]"#;
        let encoded = base64_encode(&signature);
        assert_eq!(sign(&key, "HmacSHA256", body).unwrap().signature, encoded);

        let parsed = InternalRequestSignature::from_headers(
            Some("HmacSHA256"),
            Some(encoded.as_bytes()),
            body,
        )
        .unwrap()
        .unwrap();
        assert_eq!(parsed.algorithm(), "HmacSHA256");
        assert_eq!(parsed.signature(), signature.as_slice());
        assert!(parsed.is_valid(&key));
        assert!(verify(&key, &parsed));

        let other_body = InternalRequestSignature::new(
            "HmacSHA256",
            signature.clone(),
            br#"[{"different_config":"different_value"}]"#.to_vec(),
        )
        .unwrap();
        assert!(!other_body.is_valid(&key));
        let bad =
            InternalRequestSignature::new("HmacSHA256", b"bad signature".to_vec(), body.to_vec())
                .unwrap();
        assert!(!bad.is_valid(&key));
        assert!(!parsed.is_valid(b"another key"));
    }

    #[test]
    fn from_headers_needs_both_headers_and_reports_java_errors() {
        let sig = b"ytg7zPkUpZDEX5A8QwkGn8QnbPts37fV+GFEUp7ViyE=".as_slice();
        assert_eq!(
            InternalRequestSignature::from_headers(None, Some(sig), BODY),
            Ok(None)
        );
        assert_eq!(
            InternalRequestSignature::from_headers(Some("HmacSHA256"), None, BODY),
            Ok(None)
        );
        assert_eq!(
            InternalRequestSignature::from_headers(Some("doesn'texist"), Some(sig), BODY),
            Err(HerderError::BadRequest(
                "Algorithm doesn'texist not available".into()
            ))
        );
        assert_eq!(
            InternalRequestSignature::from_headers(
                Some("HmacSHA256"),
                Some(b"not valid base 64"),
                BODY
            ),
            Err(HerderError::BadRequest(
                "Illegal base64 character 20".into()
            ))
        );
    }

    #[test]
    fn base64_decoding_matches_java() {
        // Outputs and messages recorded from `Base64.getDecoder().decode` in jshell.
        let ok: &[(&str, &[u8])] = &[
            ("", b""),
            ("abc", &[105, 183]),
            ("ab", &[105]),
            ("abc=", &[105, 183]),
            ("ab==", &[105]),
            ("YWJjZA", b"abcd"),
            ("YWJjZA==", b"abcd"),
            ("YR==", b"a"),
            ("YWI=", b"ab"),
            ("YWJ=", b"ab"),
        ];
        for (input, expected) in ok {
            assert_eq!(
                java_base64_decode(input.as_bytes()).as_deref(),
                Ok(*expected),
                "{input}"
            );
        }
        let err = [
            ("not valid base 64", "Illegal base64 character 20"),
            (
                "a",
                "Input byte[] should at least have 2 bytes for base64 bytes",
            ),
            (
                "=",
                "Input byte[] should at least have 2 bytes for base64 bytes",
            ),
            ("ab=", "Input byte array has wrong 4-byte ending unit"),
            ("ab=c", "Input byte array has wrong 4-byte ending unit"),
            ("ab==x", "Input byte array has incorrect ending byte at 4"),
            (
                "YWJjZA===",
                "Input byte array has incorrect ending byte at 8",
            ),
            ("YWJj-", "Illegal base64 character 2d"),
            ("YWJjZA=", "Input byte array has wrong 4-byte ending unit"),
            ("====", "Input byte array has wrong 4-byte ending unit"),
            ("YQ=x", "Input byte array has wrong 4-byte ending unit"),
            ("YWJjZ", "Last unit does not have enough valid bits"),
        ];
        for (input, message) in err {
            assert_eq!(
                java_base64_decode(input.as_bytes()),
                Err(message.to_owned()),
                "{input}"
            );
        }
        assert_eq!(
            java_base64_decode("YWé=".as_bytes()),
            Err("Illegal base64 character -3d".to_owned())
        );
    }

    #[test]
    fn base64_round_trips() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 200) as u8).collect();
            assert_eq!(
                java_base64_decode(base64_encode(&bytes).as_bytes()),
                Ok(bytes)
            );
        }
        assert_eq!(base64_encode(b"abcd"), "YWJjZA==");
    }

    #[test]
    fn herder_check_follows_apache_order_and_texts() {
        let algorithms = vec!["HmacSHA256".to_owned(), "HmacSHA1".to_owned()];
        let signed = |alg: &str, key: &[u8]| {
            let headers = sign(key, alg, BODY).unwrap();
            InternalRequestSignature::from_headers(
                Some(alg),
                Some(headers.signature.as_bytes()),
                BODY,
            )
            .unwrap()
            .unwrap()
        };
        let good = signed("HmacSHA256", KEY);
        assert_eq!(
            check_internal_request(Some(&good), Some(KEY), &algorithms),
            Ok(())
        );
        assert_eq!(
            check_internal_request(None, Some(KEY), &algorithms),
            Err(HerderError::BadRequest(
                "Internal request missing required signature".into()
            ))
        );
        let err = check_internal_request(Some(&signed("HmacSHA512", KEY)), None, &algorithms)
            .unwrap_err();
        assert_eq!(
            err,
            HerderError::BadRequest(
                "This worker does not support the 'HmacSHA512' key signing algorithm used by other workers. \
                 This worker is currently configured to use: [HmacSHA256, HmacSHA1]. \
                 Check that all workers' configuration files permit the same set of signature algorithms, \
                 and correct any misconfigured worker and restart it."
                    .into()
            )
        );
        // Java's list check is case-sensitive even though `Mac.getInstance` is not.
        assert_eq!(
            check_internal_request(Some(&signed("hmacsha256", KEY)), Some(KEY), &algorithms)
                .unwrap_err()
                .status_code(),
            400
        );
        assert_eq!(
            check_internal_request(Some(&good), None, &algorithms),
            Err(HerderError::Unavailable(
                "This worker is still starting up and has not been able to read a session key from the config topic yet"
                    .into()
            ))
        );
        assert_eq!(
            check_internal_request(Some(&good), Some(b"rotated key"), &algorithms),
            Err(HerderError::Forbidden(
                "Internal request contained invalid signature.".into()
            ))
        );
    }

    #[test]
    fn internal_urls_encode_the_connector_name() {
        assert_eq!(
            internal_url("http://leader:8083/", "a b/c", "tasks"),
            "http://leader:8083/connectors/a%20b%2Fc/tasks"
        );
        assert_eq!(
            internal_url("http://leader:8083", "sink", "fence"),
            "http://leader:8083/connectors/sink/fence"
        );
    }

    #[tokio::test]
    async fn blank_leader_url_fails_like_apache() {
        let err = post_task_configs_to_leader(" ", "c", &[], Some(KEY), "HmacSHA256")
            .await
            .unwrap_err();
        assert_eq!(
            err,
            HerderError::Internal(
                "Request to leader to reconfigure connector tasks failed because the URL of the leader's REST interface is empty!".into()
            )
        );
    }
}
