//! Java client settings (`security.protocol`, `sasl.jaas.config`, `ssl.truststore.*`, `linger.ms` …) turned
//! into librdkafka's.
//!
//! Worker and connector configs are written for the Java client. Keys both clients share pass through;
//! keys with a librdkafka equivalent are renamed; Java-only keys with no meaning here (serializers,
//! `max.block.ms` …) are dropped with a debug line; keys neither client knows are dropped with the warning
//! the Java client gives. Settings that would change what the user asked for but cannot be honoured (a
//! JKS keystore, a GSSAPI login) are errors naming the key.
use std::collections::{BTreeMap, HashMap};

/// Which kind of client a configuration is for; some keys only apply to one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A producer.
    Producer,
    /// A consumer.
    Consumer,
    /// An admin client.
    Admin,
}

/// A Java client setting that cannot be carried over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid value for configuration {key}: {message}")]
pub struct ClientConfigError {
    /// The offending key (as the user wrote it).
    pub key: String,
    /// Why.
    pub message: String,
}

impl ClientConfigError {
    fn new(key: &str, message: impl Into<String>) -> Self {
        ClientConfigError {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// Keys spelled the same by both clients, with the same meaning. Values pass through unchanged.
const SHARED: &[&str] = &[
    "bootstrap.servers",
    "client.id",
    "client.rack",
    "metadata.max.age.ms",
    "connections.max.idle.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "socket.connection.setup.timeout.ms",
    "socket.connection.setup.timeout.max.ms",
    "retry.backoff.ms",
    "retry.backoff.max.ms",
    "sasl.kerberos.service.name",
    "sasl.oauthbearer.token.endpoint.url",
    "ssl.key.password",
    "client.dns.lookup",
];

const PRODUCER_SHARED: &[&str] = &[
    "acks",
    "enable.idempotence",
    "linger.ms",
    "batch.size",
    "retries",
    "request.timeout.ms",
    "delivery.timeout.ms",
    "transactional.id",
    "transaction.timeout.ms",
    "max.in.flight.requests.per.connection",
];

const CONSUMER_SHARED: &[&str] = &[
    "group.id",
    "group.instance.id",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "fetch.min.bytes",
    "fetch.max.bytes",
    "max.partition.fetch.bytes",
    "isolation.level",
    "check.crcs",
    "allow.auto.create.topics",
    "group.protocol",
    "group.remote.assignor",
];

/// Java-only keys with no librdkafka counterpart and nothing to honour: dropped quietly.
const JAVA_ONLY: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "max.block.ms",
    "default.api.timeout.ms",
    "exclude.internal.topics",
    "interceptor.classes",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.sample.window.ms",
    "metrics.recording.level",
    "auto.include.jmx.reporter",
    "enable.metrics.push",
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
    "ssl.secure.random.implementation",
    "ssl.engine.factory.class",
    "ssl.provider",
    "sasl.login.class",
    "sasl.login.callback.handler.class",
    "sasl.client.callback.handler.class",
    "sasl.login.refresh.window.factor",
    "sasl.login.refresh.window.jitter",
    "sasl.login.refresh.min.period.seconds",
    "sasl.login.refresh.buffer.seconds",
    "sasl.login.connect.timeout.ms",
    "sasl.login.read.timeout.ms",
    "sasl.login.retry.backoff.ms",
    "sasl.login.retry.backoff.max.ms",
    "security.providers",
    "partitioner.class",
    "partitioner.ignore.keys",
    "partitioner.adaptive.partitioning.enable",
    "partitioner.availability.timeout.ms",
    "max.poll.records",
    "internal.leave.group.on.close",
];

/// Translates Java client settings into librdkafka properties for a client of `kind`.
///
/// `props` holds unprefixed keys (`producer.`/`consumer.`/`admin.` prefixes already stripped).
pub fn translate(
    props: &HashMap<String, String>,
    kind: ClientKind,
) -> Result<BTreeMap<String, String>, ClientConfigError> {
    let mut out = BTreeMap::new();
    let mut keys: Vec<&String> = props.keys().collect();
    keys.sort();
    for key in keys {
        let value = props[key].trim();
        let k = key.as_str();
        if SHARED.contains(&k)
            || (kind == ClientKind::Producer && PRODUCER_SHARED.contains(&k))
            || (kind == ClientKind::Consumer && CONSUMER_SHARED.contains(&k))
        {
            let v = if k == "bootstrap.servers" {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                value.to_owned()
            };
            out.insert(k.to_owned(), v);
            continue;
        }
        match k {
            "security.protocol" => {
                let v = value.to_ascii_lowercase();
                if !matches!(
                    v.as_str(),
                    "plaintext" | "ssl" | "sasl_plaintext" | "sasl_ssl"
                ) {
                    return Err(ClientConfigError::new(
                        k,
                        format!(
                            "Invalid value {value}: must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
                        ),
                    ));
                }
                out.insert("security.protocol".into(), v);
            }
            "sasl.mechanism" => {
                match value {
                    "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" | "OAUTHBEARER" => {}
                    "GSSAPI" => {
                        return Err(ClientConfigError::new(
                            k,
                            "GSSAPI (Kerberos) is not supported by this build; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
                        ));
                    }
                    other => {
                        return Err(ClientConfigError::new(
                            k,
                            format!("Unsupported SASL mechanism {other}"),
                        ));
                    }
                }
                out.insert("sasl.mechanisms".into(), value.to_owned());
            }
            "sasl.jaas.config" => {
                let login = parse_jaas(value).map_err(|m| ClientConfigError::new(k, m))?;
                match login.module.rsplit('.').next().unwrap_or("") {
                    "PlainLoginModule" | "ScramLoginModule" => {
                        let user = login.options.get("username").ok_or_else(|| {
                            ClientConfigError::new(
                                k,
                                format!("{} requires a username option", login.module),
                            )
                        })?;
                        let password = login.options.get("password").ok_or_else(|| {
                            ClientConfigError::new(
                                k,
                                format!("{} requires a password option", login.module),
                            )
                        })?;
                        out.insert("sasl.username".into(), user.clone());
                        out.insert("sasl.password".into(), password.clone());
                    }
                    "OAuthBearerLoginModule" => {
                        // librdkafka's OIDC client-credentials flow takes the same options.
                        if let (Some(id), Some(secret)) = (
                            login.options.get("clientId"),
                            login.options.get("clientSecret"),
                        ) {
                            out.insert("sasl.oauthbearer.method".into(), "oidc".into());
                            out.insert("sasl.oauthbearer.client.id".into(), id.clone());
                            out.insert("sasl.oauthbearer.client.secret".into(), secret.clone());
                            if let Some(scope) = login.options.get("scope") {
                                out.insert("sasl.oauthbearer.scope".into(), scope.clone());
                            }
                        } else {
                            return Err(ClientConfigError::new(
                                k,
                                "OAuthBearerLoginModule is supported only with clientId and clientSecret (OIDC client credentials)",
                            ));
                        }
                    }
                    _ => {
                        return Err(ClientConfigError::new(
                            k,
                            format!(
                                "Login module {} is not supported; use PlainLoginModule, ScramLoginModule or OAuthBearerLoginModule",
                                login.module
                            ),
                        ));
                    }
                }
            }
            "ssl.endpoint.identification.algorithm" => {
                let v = if value.is_empty() { "none" } else { value };
                out.insert(k.into(), v.to_ascii_lowercase());
            }
            "ssl.truststore.type"
            | "ssl.truststore.password"
            | "ssl.keystore.type"
            | "ssl.keystore.password" => {} // read with their location below
            "ssl.truststore.location" => {
                let ty = props
                    .get("ssl.truststore.type")
                    .map(|s| s.trim().to_ascii_uppercase());
                let password = props.get("ssl.truststore.password").map(|s| s.trim());
                let pem = truststore_pem(value, ty.as_deref(), password)
                    .map_err(|m| ClientConfigError::new(k, m))?;
                out.insert("ssl.ca.pem".into(), pem);
            }
            "ssl.truststore.certificates" => {
                out.insert("ssl.ca.pem".into(), value.to_owned());
            }
            "ssl.keystore.location" => {
                let ty = props
                    .get("ssl.keystore.type")
                    .map(|s| s.trim().to_ascii_uppercase());
                let password = props.get("ssl.keystore.password").map(|s| s.trim());
                keystore(value, ty.as_deref(), password, &mut out)
                    .map_err(|m| ClientConfigError::new(k, m))?;
            }
            "ssl.keystore.certificate.chain" => {
                out.insert("ssl.certificate.pem".into(), value.to_owned());
            }
            "ssl.keystore.key" => {
                out.insert("ssl.key.pem".into(), value.to_owned());
            }
            "ssl.cipher.suites" => {
                tracing::warn!(
                    "ssl.cipher.suites uses Java cipher names, which OpenSSL does not share; ignoring it"
                );
            }
            "max.request.size" if kind == ClientKind::Producer => {
                out.insert("message.max.bytes".into(), value.to_owned());
            }
            "buffer.memory" if kind == ClientKind::Producer => {
                let bytes: u64 = value
                    .parse()
                    .map_err(|_| ClientConfigError::new(k, "Expected a number of bytes"))?;
                out.insert(
                    "queue.buffering.max.kbytes".into(),
                    (bytes / 1024).max(1).to_string(),
                );
            }
            "compression.type" if kind == ClientKind::Producer => {
                let v = value.to_ascii_lowercase();
                if !matches!(v.as_str(), "none" | "gzip" | "snappy" | "lz4" | "zstd") {
                    return Err(ClientConfigError::new(
                        k,
                        format!(
                            "Invalid value {value}: must be one of none, gzip, snappy, lz4, zstd"
                        ),
                    ));
                }
                out.insert(k.into(), v);
            }
            "send.buffer.bytes" => {
                out.insert("socket.send.buffer.bytes".into(), socket_buffer(value));
            }
            "receive.buffer.bytes" => {
                out.insert("socket.receive.buffer.bytes".into(), socket_buffer(value));
            }
            "auto.offset.reset" if kind == ClientKind::Consumer => {
                let v = match value.to_ascii_lowercase().as_str() {
                    "earliest" => "earliest",
                    "latest" => "latest",
                    "none" => "error",
                    _ => {
                        return Err(ClientConfigError::new(
                            k,
                            format!("Invalid value {value}: must be one of earliest, latest, none"),
                        ));
                    }
                };
                out.insert(k.into(), v.into());
            }
            "fetch.max.wait.ms" if kind == ClientKind::Consumer => {
                out.insert("fetch.wait.max.ms".into(), value.to_owned());
            }
            "partition.assignment.strategy" if kind == ClientKind::Consumer => {
                let mut names = Vec::new();
                for class in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let name = match class.rsplit('.').next().unwrap_or(class) {
                        "RangeAssignor" | "range" => "range",
                        "RoundRobinAssignor" | "roundrobin" => "roundrobin",
                        "CooperativeStickyAssignor" | "cooperative-sticky" => "cooperative-sticky",
                        other => {
                            return Err(ClientConfigError::new(
                                k,
                                format!(
                                    "Assignor {other} is not supported; use RangeAssignor, RoundRobinAssignor or CooperativeStickyAssignor"
                                ),
                            ));
                        }
                    };
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
                // librdkafka cannot mix eager and cooperative assignors; Java's default lists both and
                // uses the eager one until every member upgrades, so keep the eager ones.
                if names.len() > 1 {
                    names.retain(|n| *n != "cooperative-sticky");
                }
                out.insert(k.into(), names.join(","));
            }
            _ if JAVA_ONLY.contains(&k) => {
                tracing::debug!(
                    key = k,
                    "Java client setting has no librdkafka equivalent; ignoring it"
                );
            }
            _ if (PRODUCER_SHARED.contains(&k) || CONSUMER_SHARED.contains(&k)) => {
                // A producer key given to a consumer or the other way round: Java ignores it too.
            }
            _ => {
                tracing::warn!("The configuration '{k}' was supplied but isn't a known config.");
            }
        }
    }
    Ok(out)
}

fn socket_buffer(value: &str) -> String {
    // Java's -1 means "OS default"; librdkafka's is 0.
    if value == "-1" {
        "0".into()
    } else {
        value.to_owned()
    }
}

/// A parsed `sasl.jaas.config`: `<LoginModule class> <flag> key="value" …;`.
#[derive(Debug, PartialEq)]
struct JaasLogin {
    module: String,
    options: HashMap<String, String>,
}

fn parse_jaas(text: &str) -> Result<JaasLogin, String> {
    let text = text.trim();
    let body = text
        .strip_suffix(';')
        .ok_or("JAAS config entry not terminated by semi-colon")?
        .trim();
    let mut chars = body.char_indices().peekable();
    let next_token = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let start = chars.peek().map(|(i, _)| *i)?;
        let mut end = body.len();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() || c == '=' {
                end = i;
                break;
            }
            chars.next();
        }
        Some(&body[start..end])
    };
    let module = next_token(&mut chars).ok_or("Login module not specified in JAAS config")?;
    let flag =
        next_token(&mut chars).ok_or("Login module control flag not specified in JAAS config")?;
    if !matches!(
        flag.to_ascii_lowercase().as_str(),
        "required" | "requisite" | "sufficient" | "optional"
    ) {
        return Err(format!(
            "Invalid login module control flag '{flag}' in JAAS config"
        ));
    }
    let mut options = HashMap::new();
    while let Some(name) = next_token(&mut chars) {
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        if chars.next().map(|(_, c)| c) != Some('=') {
            return Err(format!("Expected '=' after option {name} in JAAS config"));
        }
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let value = match chars.peek().map(|(_, c)| *c) {
            Some('"') => {
                chars.next();
                let mut v = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                v.push(e);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => v.push(c),
                    }
                }
                if !closed {
                    return Err(format!(
                        "Unterminated quoted value for option {name} in JAAS config"
                    ));
                }
                v
            }
            Some(_) => next_token(&mut chars).unwrap_or_default().to_owned(),
            None => return Err(format!("Missing value for option {name} in JAAS config")),
        };
        options.insert(name.to_owned(), value);
    }
    Ok(JaasLogin {
        module: module.to_owned(),
        options,
    })
}

const JKS_MAGIC: [u8; 4] = [0xFE, 0xED, 0xFE, 0xED];

/// Reads a truststore into PEM text holding its CA certificates.
fn truststore_pem(path: &str, ty: Option<&str>, password: Option<&str>) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("Cannot read truststore {path}: {e}"))?;
    if ty == Some("PEM") || bytes.starts_with(b"-----BEGIN") {
        return String::from_utf8(bytes).map_err(|_| format!("Truststore {path} is not PEM text"));
    }
    if bytes.starts_with(&JKS_MAGIC) {
        return Err(jks_unsupported(path, "truststore"));
    }
    // Java's JKS type reads PKCS12 files too, so try PKCS12 whatever the declared type.
    let p12 = openssl::pkcs12::Pkcs12::from_der(&bytes)
        .map_err(|e| format!("Truststore {path} is neither PEM nor PKCS12: {e}"))?;
    let parsed = p12
        .parse2(password.unwrap_or(""))
        .map_err(|e| format!("Cannot open PKCS12 truststore {path} (wrong password?): {e}"))?;
    let mut pem = String::new();
    let own = parsed.cert.iter().map(|c| &**c);
    for cert in own.chain(parsed.ca.iter().flatten()) {
        let text = cert
            .to_pem()
            .map_err(|e| format!("Cannot encode a certificate of {path}: {e}"))?;
        pem.push_str(&String::from_utf8_lossy(&text));
    }
    if pem.is_empty() {
        return Err(format!("Truststore {path} holds no certificates"));
    }
    Ok(pem)
}

fn keystore(
    path: &str,
    ty: Option<&str>,
    password: Option<&str>,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("Cannot read keystore {path}: {e}"))?;
    if ty == Some("PEM") || bytes.starts_with(b"-----BEGIN") {
        out.insert("ssl.certificate.location".into(), path.to_owned());
        out.insert("ssl.key.location".into(), path.to_owned());
        return Ok(());
    }
    if bytes.starts_with(&JKS_MAGIC) {
        return Err(jks_unsupported(path, "keystore"));
    }
    out.insert("ssl.keystore.location".into(), path.to_owned());
    if let Some(p) = password {
        out.insert("ssl.keystore.password".into(), p.to_owned());
    }
    Ok(())
}

fn jks_unsupported(path: &str, what: &str) -> String {
    format!(
        "{path} is a JKS {what}, which librdkafka cannot read; convert it with `keytool -importkeystore -srckeystore {path} -destkeystore {path}.p12 -deststoretype PKCS12` and point ssl.{what}.location at the PKCS12 file, or use ssl.{what}.type=PEM"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_login_becomes_username_and_password() {
        let out = translate(
            &props(&[
                ("bootstrap.servers", "a:9092, b:9092"),
                ("security.protocol", "SASL_SSL"),
                ("sasl.mechanism", "PLAIN"),
                (
                    "sasl.jaas.config",
                    r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="KEY" password="se\"cret";"#,
                ),
            ]),
            ClientKind::Producer,
        )
        .unwrap();
        assert_eq!(out["bootstrap.servers"], "a:9092,b:9092");
        assert_eq!(out["security.protocol"], "sasl_ssl");
        assert_eq!(out["sasl.mechanisms"], "PLAIN");
        assert_eq!(out["sasl.username"], "KEY");
        assert_eq!(out["sasl.password"], "se\"cret");
    }

    #[test]
    fn scram_login_and_unquoted_values() {
        let login = parse_jaas(
            "org.apache.kafka.common.security.scram.ScramLoginModule required\n username=alice password=\"a b\";",
        )
        .unwrap();
        assert_eq!(login.options["username"], "alice");
        assert_eq!(login.options["password"], "a b");
    }

    #[test]
    fn jaas_errors_are_readable() {
        let err = translate(
            &props(&[(
                "sasl.jaas.config",
                "PlainLoginModule required username=\"x\"",
            )]),
            ClientKind::Admin,
        )
        .unwrap_err();
        assert_eq!(err.key, "sasl.jaas.config");
        assert!(err.message.contains("semi-colon"), "{err}");
        let err = translate(
            &props(&[(
                "sasl.jaas.config",
                "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;",
            )]),
            ClientKind::Admin,
        )
        .unwrap_err();
        assert!(err.message.contains("Krb5LoginModule"), "{err}");
    }

    #[test]
    fn producer_and_consumer_keys_are_renamed_or_dropped() {
        let out = translate(
            &props(&[
                ("max.request.size", "2097152"),
                ("key.serializer", "x"),
                ("linger.ms", "5"),
                ("auto.offset.reset", "none"),
            ]),
            ClientKind::Producer,
        )
        .unwrap();
        assert_eq!(
            out.get("message.max.bytes").map(String::as_str),
            Some("2097152")
        );
        assert_eq!(out.get("linger.ms").map(String::as_str), Some("5"));
        assert!(!out.contains_key("key.serializer"));
        assert!(!out.contains_key("auto.offset.reset"));
        let out = translate(
            &props(&[
                ("auto.offset.reset", "none"),
                ("fetch.max.wait.ms", "100"),
                (
                    "partition.assignment.strategy",
                    "org.apache.kafka.clients.consumer.RangeAssignor,org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
                ),
            ]),
            ClientKind::Consumer,
        )
        .unwrap();
        assert_eq!(out["auto.offset.reset"], "error");
        assert_eq!(out["fetch.wait.max.ms"], "100");
        assert_eq!(out["partition.assignment.strategy"], "range");
    }

    #[test]
    fn jks_truststore_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("causeway-jks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("trust.jks");
        std::fs::write(&path, [0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]).unwrap();
        let err = translate(
            &props(&[("ssl.truststore.location", path.to_str().unwrap())]),
            ClientKind::Producer,
        )
        .unwrap_err();
        assert_eq!(err.key, "ssl.truststore.location");
        assert!(err.message.contains("JKS"), "{err}");
        assert!(err.message.contains("keytool -importkeystore"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn gssapi_is_refused_by_name() {
        let err = translate(
            &props(&[("sasl.mechanism", "GSSAPI")]),
            ClientKind::Consumer,
        )
        .unwrap_err();
        assert!(err.message.contains("GSSAPI"));
    }
}
