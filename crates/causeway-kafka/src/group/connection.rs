//! One connection to one broker: TCP setup, ApiVersions negotiation, SASL authentication, then pipelined
//! requests matched to responses by correlation id.
//!
//! Frames are an int32 size followed by the request header and body (kafka-protocol codecs); the request
//! header version follows the API and version, as the Java client's `ApiKeys.requestHeaderVersion` does.
//! After setup a writer task and a reader task own the two halves of the stream, so a caller that gives up
//! on a request (timeout, task cancelled) can never leave half a frame on the wire. A request that times
//! out closes the connection, as Java's `NetworkClient` disconnects on `request.timeout.ms`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader, ResponseHeader,
    SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message, Request, StrBytes};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::config::{SaslCredentials, SaslMechanism, SecurityProtocol, split_host_port};
use super::error::{BrokerErrorCode, GroupError};
use super::sasl::ScramClient;

/// Largest response accepted; anything bigger means the peer is not a Kafka broker (e.g. an HTTP server).
const MAX_RESPONSE_SIZE: usize = 100 * 1024 * 1024;
/// `client.software.name` / `client.software.version` sent in ApiVersions (KIP-511).
const SOFTWARE_NAME: &str = "causeway-kafka";
const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A byte stream to a broker; TLS streams can stand in for TCP here.
pub(crate) trait BrokerStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> BrokerStream for T {}
type BoxedStream = Box<dyn BrokerStream>;

/// What a connection needs besides the address.
#[derive(Debug, Clone)]
pub(crate) struct ConnectSettings {
    pub(crate) client_id: String,
    pub(crate) security: SecurityProtocol,
    pub(crate) setup_timeout: Duration,
}

/// The name Apache gives an API (`ApiKeys.name`), for errors and logs.
pub(crate) fn api_name(key: i16) -> &'static str {
    match ApiKey::try_from(key) {
        Ok(ApiKey::ApiVersions) => "ApiVersions",
        Ok(ApiKey::FindCoordinator) => "FindCoordinator",
        Ok(ApiKey::JoinGroup) => "JoinGroup",
        Ok(ApiKey::SyncGroup) => "SyncGroup",
        Ok(ApiKey::Heartbeat) => "Heartbeat",
        Ok(ApiKey::LeaveGroup) => "LeaveGroup",
        Ok(ApiKey::SaslHandshake) => "SaslHandshake",
        Ok(ApiKey::SaslAuthenticate) => "SaslAuthenticate",
        _ => "request",
    }
}

/// Requests waiting for their response, and why the connection closed once it has.
#[derive(Default)]
struct Inflight {
    waiting: HashMap<i32, oneshot::Sender<Result<Bytes, String>>>,
    closed: Option<String>,
}

impl Inflight {
    fn fail_all(&mut self, reason: &str) {
        if self.closed.is_none() {
            self.closed = Some(reason.to_owned());
        }
        for (_, waiter) in self.waiting.drain() {
            let _ = waiter.send(Err(reason.to_owned()));
        }
    }
}

/// An established, authenticated connection to one broker.
pub(crate) struct BrokerConnection {
    broker: String,
    client_id: StrBytes,
    /// Broker's supported version range per API key, from ApiVersions.
    versions: HashMap<i16, (i16, i16)>,
    next_correlation_id: AtomicI32,
    frames: mpsc::UnboundedSender<Bytes>,
    inflight: Arc<Mutex<Inflight>>,
    tasks: [JoinHandle<()>; 2],
}

impl std::fmt::Debug for BrokerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConnection")
            .field("broker", &self.broker)
            .field("closed", &self.inflight.lock().closed)
            .finish()
    }
}

impl Drop for BrokerConnection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl BrokerConnection {
    /// Connects to `broker` (`host:port`), negotiates API versions and authenticates, all within the setup
    /// timeout.
    pub(crate) async fn connect(
        broker: &str,
        settings: &ConnectSettings,
    ) -> Result<Arc<Self>, GroupError> {
        match tokio::time::timeout(settings.setup_timeout, Self::establish(broker, settings)).await
        {
            Ok(result) => result,
            Err(_) => Err(GroupError::ConnectTimeout {
                broker: broker.to_owned(),
                timeout: settings.setup_timeout,
            }),
        }
    }

    async fn establish(broker: &str, settings: &ConnectSettings) -> Result<Arc<Self>, GroupError> {
        let (host, port) = split_host_port(broker)?;
        let connect_error = |source| GroupError::Connect {
            broker: broker.to_owned(),
            source,
        };
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(connect_error)?;
        // Small request/response exchanges: do not let Nagle hold heartbeats back.
        tcp.set_nodelay(true).map_err(connect_error)?;
        let mut setup = SetupChannel {
            stream: Box::new(tcp),
            broker: broker.to_owned(),
            client_id: StrBytes::from_string(settings.client_id.clone()),
            next_correlation_id: 0,
        };
        let versions = setup.negotiate_versions().await?;
        if let SecurityProtocol::SaslPlaintext(credentials) = &settings.security {
            setup.authenticate(&versions, credentials).await?;
        }
        Ok(Self::start(setup, versions))
    }

    fn start(setup: SetupChannel, versions: HashMap<i16, (i16, i16)>) -> Arc<Self> {
        let (mut read_half, mut write_half) = tokio::io::split(setup.stream);
        let inflight = Arc::new(Mutex::new(Inflight::default()));
        let (frames, mut frame_rx) = mpsc::unbounded_channel::<Bytes>();
        let writer_inflight = inflight.clone();
        let writer = tokio::spawn(async move {
            while let Some(frame) = frame_rx.recv().await {
                if let Err(e) = write_half.write_all(&frame).await {
                    writer_inflight
                        .lock()
                        .fail_all(&format!("write failed: {e}"));
                    return;
                }
            }
        });
        let reader_inflight = inflight.clone();
        let reader = tokio::spawn(async move {
            let reason = loop {
                match read_frame(&mut read_half).await {
                    Ok(frame) => {
                        let Some(id) = frame.get(..4) else {
                            break "response shorter than its correlation id".to_owned();
                        };
                        let id = i32::from_be_bytes([id[0], id[1], id[2], id[3]]);
                        // A response nobody waits for answers a request that timed out; drop it.
                        if let Some(waiter) = reader_inflight.lock().waiting.remove(&id) {
                            let _ = waiter.send(Ok(frame));
                        }
                    }
                    Err(reason) => break reason,
                }
            };
            reader_inflight.lock().fail_all(&reason);
        });
        Arc::new(Self {
            broker: setup.broker,
            client_id: setup.client_id,
            versions,
            next_correlation_id: AtomicI32::new(setup.next_correlation_id),
            frames,
            inflight,
            tasks: [writer, reader],
        })
    }

    /// `host:port` of the broker.
    pub(crate) fn broker(&self) -> &str {
        &self.broker
    }

    /// Whether the connection broke or was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.inflight.lock().closed.is_some()
    }

    /// Closes the connection; waiting requests fail with `reason`.
    pub(crate) fn close(&self, reason: &str) {
        self.inflight.lock().fail_all(reason);
        for task in &self.tasks {
            task.abort();
        }
    }

    /// The highest version of `R` both sides support.
    pub(crate) fn version_of<R: Request>(&self) -> Result<i16, GroupError> {
        negotiate::<R>(&self.versions, &self.broker)
    }

    /// Sends `request` at the negotiated version and waits up to `timeout` for its response.
    pub(crate) async fn request<R: Request>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<(R::Response, i16), GroupError> {
        let api = api_name(R::KEY);
        let version = self.version_of::<R>()?;
        let correlation_id = self.next_correlation_id.fetch_add(1, Ordering::Relaxed);
        let frame = encode_frame(
            request,
            version,
            correlation_id,
            &self.client_id,
            &self.broker,
        )?;
        let (waiter, response) = oneshot::channel();
        {
            let mut inflight = self.inflight.lock();
            if let Some(reason) = &inflight.closed {
                return Err(self.disconnected(reason));
            }
            inflight.waiting.insert(correlation_id, waiter);
        }
        if self.frames.send(frame).is_err() {
            return Err(self.disconnected("writer stopped"));
        }
        let body = match tokio::time::timeout(timeout, response).await {
            Err(_) => {
                self.inflight.lock().waiting.remove(&correlation_id);
                self.close(&format!("{api} request timed out"));
                return Err(GroupError::RequestTimeout {
                    api,
                    broker: self.broker.clone(),
                    timeout,
                });
            }
            Ok(Err(_)) => return Err(self.disconnected("connection closed")),
            Ok(Ok(Err(reason))) => return Err(self.disconnected(&reason)),
            Ok(Ok(Ok(body))) => body,
        };
        let response = decode_response::<R>(body, version, correlation_id, &self.broker)?;
        Ok((response, version))
    }

    fn disconnected(&self, reason: &str) -> GroupError {
        GroupError::Disconnected {
            broker: self.broker.clone(),
            reason: reason.to_owned(),
        }
    }
}

/// The highest version of `R` in both this client's and the broker's range.
fn negotiate<R: Request>(
    versions: &HashMap<i16, (i16, i16)>,
    broker: &str,
) -> Result<i16, GroupError> {
    let unsupported = || GroupError::UnsupportedApi {
        api: api_name(R::KEY),
        broker: broker.to_owned(),
    };
    let (broker_min, broker_max) = *versions.get(&R::KEY).ok_or_else(unsupported)?;
    let ours = <R as Message>::VERSIONS;
    let max = broker_max.min(ours.max);
    if max < broker_min.max(ours.min) {
        return Err(unsupported());
    }
    Ok(max)
}

/// Size-prefixed request header plus body.
fn encode_frame<R: Request>(
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: &StrBytes,
    broker: &str,
) -> Result<Bytes, GroupError> {
    let api = api_name(R::KEY);
    let encode_error = |e: String| GroupError::Protocol {
        api,
        broker: broker.to_owned(),
        detail: format!("cannot encode request version {version}: {e}"),
    };
    let mut header = RequestHeader::default();
    header.request_api_key = R::KEY;
    header.request_api_version = version;
    header.correlation_id = correlation_id;
    header.client_id = Some(client_id.clone());
    let header_version = R::header_version(version);
    let size = header
        .compute_size(header_version)
        .map_err(|e| encode_error(e.to_string()))?
        + request
            .compute_size(version)
            .map_err(|e| encode_error(e.to_string()))?;
    let size_prefix = i32::try_from(size).map_err(|_| GroupError::Protocol {
        api,
        broker: broker.to_owned(),
        detail: format!("request of {size} bytes is too large"),
    })?;
    let mut buf = BytesMut::with_capacity(size + 4);
    buf.put_i32(size_prefix);
    header
        .encode(&mut buf, header_version)
        .map_err(|e| encode_error(e.to_string()))?;
    request
        .encode(&mut buf, version)
        .map_err(|e| encode_error(e.to_string()))?;
    Ok(buf.freeze())
}

/// Decodes a response frame (without its size prefix) of a request sent at `version`.
fn decode_response<R: Request>(
    mut frame: Bytes,
    version: i16,
    correlation_id: i32,
    broker: &str,
) -> Result<R::Response, GroupError> {
    let api = api_name(R::KEY);
    let protocol_error = |detail: String| GroupError::Protocol {
        api,
        broker: broker.to_owned(),
        detail,
    };
    let header = ResponseHeader::decode(&mut frame, R::Response::header_version(version))
        .map_err(|e| protocol_error(format!("bad response header: {e}")))?;
    if header.correlation_id != correlation_id {
        return Err(protocol_error(format!(
            "correlation id {} does not match request {correlation_id}",
            header.correlation_id
        )));
    }
    R::Response::decode(&mut frame, version)
        .map_err(|e| protocol_error(format!("cannot decode version {version}: {e}")))
}

/// Reads one size-prefixed frame.
async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Bytes, String> {
    let size = match stream.read_i32().await {
        Ok(size) => size,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err("connection closed by the broker".to_owned());
        }
        Err(e) => return Err(format!("read failed: {e}")),
    };
    let size = usize::try_from(size).map_err(|_| format!("negative response size {size}"))?;
    if size > MAX_RESPONSE_SIZE {
        return Err(format!(
            "response size {size} exceeds {MAX_RESPONSE_SIZE} bytes; is this a Kafka listener?"
        ));
    }
    let mut frame = vec![0u8; size];
    stream
        .read_exact(&mut frame)
        .await
        .map_err(|e| format!("read failed: {e}"))?;
    Ok(Bytes::from(frame))
}

/// The connection before ApiVersions and authentication are done: strictly one request at a time.
struct SetupChannel {
    stream: BoxedStream,
    broker: String,
    client_id: StrBytes,
    next_correlation_id: i32,
}

impl SetupChannel {
    async fn send_and_receive<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<(Bytes, i32), GroupError> {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let frame = encode_frame(
            request,
            version,
            correlation_id,
            &self.client_id,
            &self.broker,
        )?;
        let broker = self.broker.clone();
        let disconnected = |reason: String| GroupError::Disconnected {
            broker: broker.clone(),
            reason,
        };
        self.stream
            .write_all(&frame)
            .await
            .map_err(|e| disconnected(format!("write failed: {e}")))?;
        let response = read_frame(&mut self.stream).await.map_err(disconnected)?;
        Ok((response, correlation_id))
    }

    async fn call<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, GroupError> {
        let (frame, correlation_id) = self.send_and_receive(request, version).await?;
        decode_response::<R>(frame, version, correlation_id, &self.broker)
    }

    /// ApiVersions at this client's highest version; a broker that does not know it answers
    /// `UNSUPPORTED_VERSION` in the v0 layout with its own range, and the request is repeated at that.
    async fn negotiate_versions(&mut self) -> Result<HashMap<i16, (i16, i16)>, GroupError> {
        let mut request = ApiVersionsRequest::default();
        request.client_software_name = StrBytes::from_static_str(SOFTWARE_NAME);
        request.client_software_version = StrBytes::from_static_str(SOFTWARE_VERSION);
        let mut version = ApiVersionsRequest::VERSIONS.max;
        for _ in 0..2 {
            let (frame, correlation_id) = self.send_and_receive(&request, version).await?;
            let response = match decode_response::<ApiVersionsRequest>(
                frame.clone(),
                version,
                correlation_id,
                &self.broker,
            ) {
                Ok(response) => response,
                // The error answer is always in the v0 layout.
                Err(first) => {
                    decode_response::<ApiVersionsRequest>(frame, 0, correlation_id, &self.broker)
                        .map_err(|_| first)?
                }
            };
            let code = BrokerErrorCode(response.error_code);
            if code == BrokerErrorCode::UNSUPPORTED_VERSION {
                let broker_max = broker_api_max(&response, ApiKey::ApiVersions as i16);
                match broker_max {
                    Some(max) if max < version => {
                        version = max;
                        continue;
                    }
                    _ => {}
                }
            }
            if response.error_code != 0 {
                return Err(GroupError::Broker {
                    api: "ApiVersions",
                    code,
                    message: None,
                });
            }
            return Ok(response
                .api_keys
                .iter()
                .map(|k| (k.api_key, (k.min_version, k.max_version)))
                .collect());
        }
        Err(GroupError::UnsupportedApi {
            api: "ApiVersions",
            broker: self.broker.clone(),
        })
    }

    /// SaslHandshake then SaslAuthenticate rounds (KIP-152), as the Java `SaslClientAuthenticator` does.
    async fn authenticate(
        &mut self,
        versions: &HashMap<i16, (i16, i16)>,
        credentials: &SaslCredentials,
    ) -> Result<(), GroupError> {
        let mechanism = credentials.mechanism.name();
        // Version 0 of the handshake means raw (unframed) SASL tokens, which this client does not speak.
        let handshake_version = negotiate::<SaslHandshakeRequest>(versions, &self.broker)?;
        if handshake_version < 1 {
            return Err(GroupError::UnsupportedApi {
                api: "SaslHandshake",
                broker: self.broker.clone(),
            });
        }
        let authenticate_version = negotiate::<SaslAuthenticateRequest>(versions, &self.broker)?;
        let mut handshake = SaslHandshakeRequest::default();
        handshake.mechanism = StrBytes::from_static_str(mechanism);
        let response = self.call(&handshake, handshake_version).await?;
        if response.error_code != 0 {
            let enabled: Vec<&str> = response.mechanisms.iter().map(|m| m.as_str()).collect();
            return Err(GroupError::Authentication {
                mechanism,
                code: BrokerErrorCode(response.error_code),
                message: Some(format!(
                    "Client SASL mechanism '{mechanism}' not enabled in the server, enabled mechanisms are {enabled:?}"
                )),
            });
        }
        match credentials.mechanism {
            SaslMechanism::Plain => {
                // RFC 4616: authzid NUL authcid NUL password, with an empty authzid.
                let mut token =
                    Vec::with_capacity(credentials.username.len() + credentials.password.len() + 2);
                token.push(0);
                token.extend_from_slice(credentials.username.as_bytes());
                token.push(0);
                token.extend_from_slice(credentials.password.as_bytes());
                self.sasl_round(mechanism, authenticate_version, Bytes::from(token))
                    .await?;
            }
            SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
                let scram = ScramClient::new(credentials)?;
                let server_first = self
                    .sasl_round(mechanism, authenticate_version, scram.client_first())
                    .await?;
                let (client_final, expected) = scram.client_final(&server_first)?;
                let server_final = self
                    .sasl_round(mechanism, authenticate_version, client_final)
                    .await?;
                ScramClient::verify_server_final(mechanism, &server_final, &expected)?;
            }
        }
        Ok(())
    }

    async fn sasl_round(
        &mut self,
        mechanism: &'static str,
        version: i16,
        token: Bytes,
    ) -> Result<Bytes, GroupError> {
        let mut request = SaslAuthenticateRequest::default();
        request.auth_bytes = token;
        let response = self.call(&request, version).await?;
        if response.error_code != 0 {
            return Err(GroupError::Authentication {
                mechanism,
                code: BrokerErrorCode(response.error_code),
                message: response.error_message.map(|m| m.to_string()),
            });
        }
        Ok(response.auth_bytes)
    }
}

fn broker_api_max(response: &ApiVersionsResponse, key: i16) -> Option<i16> {
    response
        .api_keys
        .iter()
        .find(|k| k.api_key == key)
        .map(|k| k.max_version)
}
