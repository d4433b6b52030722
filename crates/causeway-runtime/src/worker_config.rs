//! Worker configuration: the keys and defaults of Apache's `WorkerConfig` / `StandaloneConfig`.
use std::path::PathBuf;
use std::time::Duration;

use causeway_api::config::validators::{at_least, from_fn};
use causeway_api::{ConfigDef, ConfigType, Importance, ParsedConfig, ParsedValue, Props};

/// `bootstrap.servers`: absent means the embedded log.
pub const BOOTSTRAP_SERVERS_CONFIG: &str = "bootstrap.servers";
/// `key.converter`.
pub const KEY_CONVERTER_CLASS_CONFIG: &str = "key.converter";
/// `value.converter`.
pub const VALUE_CONVERTER_CLASS_CONFIG: &str = "value.converter";
/// `header.converter`.
pub const HEADER_CONVERTER_CLASS_CONFIG: &str = "header.converter";
/// Apache's default header converter.
pub const HEADER_CONVERTER_CLASS_DEFAULT: &str =
    "org.apache.kafka.connect.storage.SimpleHeaderConverter";
/// `task.shutdown.graceful.timeout.ms`.
pub const TASK_SHUTDOWN_GRACEFUL_TIMEOUT_MS_CONFIG: &str = "task.shutdown.graceful.timeout.ms";
/// `offset.flush.interval.ms`.
pub const OFFSET_COMMIT_INTERVAL_MS_CONFIG: &str = "offset.flush.interval.ms";
/// `offset.flush.timeout.ms`.
pub const OFFSET_COMMIT_TIMEOUT_MS_CONFIG: &str = "offset.flush.timeout.ms";
/// `listeners`.
pub const LISTENERS_CONFIG: &str = "listeners";
/// `rest.advertised.host.name`.
pub const REST_ADVERTISED_HOST_NAME_CONFIG: &str = "rest.advertised.host.name";
/// `rest.advertised.port`.
pub const REST_ADVERTISED_PORT_CONFIG: &str = "rest.advertised.port";
/// `rest.advertised.listener`.
pub const REST_ADVERTISED_LISTENER_CONFIG: &str = "rest.advertised.listener";
/// `access.control.allow.origin`.
pub const ACCESS_CONTROL_ALLOW_ORIGIN_CONFIG: &str = "access.control.allow.origin";
/// `access.control.allow.methods`.
pub const ACCESS_CONTROL_ALLOW_METHODS_CONFIG: &str = "access.control.allow.methods";
/// `response.http.headers.config`.
pub const RESPONSE_HTTP_HEADERS_CONFIG: &str = "response.http.headers.config";
/// `admin.listeners`.
pub const ADMIN_LISTENERS_CONFIG: &str = "admin.listeners";
/// `plugin.path`.
pub const PLUGIN_PATH_CONFIG: &str = "plugin.path";
/// `offset.storage.file.filename` (standalone).
pub const OFFSET_STORAGE_FILE_FILENAME_CONFIG: &str = "offset.storage.file.filename";
/// `topic.tracking.enable`.
pub const TOPIC_TRACKING_ENABLE_CONFIG: &str = "topic.tracking.enable";
/// `topic.tracking.allow.reset`.
pub const TOPIC_TRACKING_ALLOW_RESET_CONFIG: &str = "topic.tracking.allow.reset";
/// `embedded.log.dir` (Causeway): where the embedded log keeps its files.
pub const EMBEDDED_LOG_DIR_CONFIG: &str = "embedded.log.dir";
/// `embedded.log.partitions` (Causeway): partitions of topics the embedded log creates on first use.
pub const EMBEDDED_LOG_PARTITIONS_CONFIG: &str = "embedded.log.partitions";
/// `group.id` (distributed; a sink's consumer group must differ from it).
pub const GROUP_ID_CONFIG: &str = "group.id";
/// `topic.creation.enable`.
pub const TOPIC_CREATION_ENABLE_CONFIG: &str = "topic.creation.enable";
/// `connector.client.config.override.policy`.
pub const CONNECTOR_CLIENT_POLICY_CLASS_CONFIG: &str = "connector.client.config.override.policy";

/// One REST listener from `listeners`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// `http` or `https` (lower case).
    pub protocol: String,
    /// Host to bind; empty = all interfaces.
    pub host: String,
    /// Port; 0 = ephemeral.
    pub port: u16,
}

impl Listener {
    /// Parses `protocol://host:port` as Apache's `RestServer` does.
    ///
    /// # Errors
    /// Apache's messages for a bad protocol or a malformed URI.
    pub fn parse(s: &str) -> Result<Listener, String> {
        let (proto, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("Could not parse listener {s}"))?;
        let protocol = proto.to_ascii_lowercase();
        if protocol != "http" && protocol != "https" {
            return Err("Listener protocol must be either \"http\" or \"https\".".into());
        }
        let rest = rest.trim_end_matches('/');
        let (host, port) = if let Some(stripped) = rest.strip_prefix('[') {
            let (h, p) = stripped
                .split_once("]:")
                .ok_or_else(|| format!("Could not parse listener {s}"))?;
            (h.to_owned(), p)
        } else {
            let (h, p) = rest
                .rsplit_once(':')
                .ok_or_else(|| format!("Could not parse listener {s}"))?;
            (h.to_owned(), p)
        };
        let port = port
            .parse()
            .map_err(|_| format!("Could not parse listener {s}"))?;
        Ok(Listener {
            protocol,
            host,
            port,
        })
    }

    /// The address to bind (`0.0.0.0` for an empty host).
    pub fn bind_address(&self) -> String {
        let host = if self.host.is_empty() {
            "0.0.0.0"
        } else {
            &self.host
        };
        if host.contains(':') {
            format!("[{host}]:{}", self.port)
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// The worker keys Causeway understands, declared once (`WorkerConfig.baseConfigDef` + `StandaloneConfig`).
pub fn worker_config_def() -> ConfigDef {
    let listener_validator = from_fn("list of listener URIs", |_name, value| {
        let Some(ParsedValue::List(items)) = value else {
            return Ok(());
        };
        if items.is_empty() {
            return Err("!Invalid value [] for configuration listeners: Empty list".into());
        }
        for item in items {
            Listener::parse(item).map_err(|e| format!("!{e}"))?;
        }
        Ok(())
    });
    ConfigDef::new()
        .define_null(BOOTSTRAP_SERVERS_CONFIG, ConfigType::List, Importance::High,
            "A list of host/port pairs to use for establishing the initial connection to the Kafka cluster. When absent, Causeway keeps topics in its embedded log.")
        .define_required(KEY_CONVERTER_CLASS_CONFIG, ConfigType::Class, Importance::High,
            "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the keys in messages written to or read from Kafka.")
        .define_required(VALUE_CONVERTER_CLASS_CONFIG, ConfigType::Class, Importance::High,
            "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the values in messages written to or read from Kafka.")
        .define(HEADER_CONVERTER_CLASS_CONFIG, ConfigType::Class, HEADER_CONVERTER_CLASS_DEFAULT, Importance::Low,
            "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.")
        // Defaults from Apache's WorkerConfig.
        .define(TASK_SHUTDOWN_GRACEFUL_TIMEOUT_MS_CONFIG, ConfigType::Long, "5000", Importance::Low,
            "Amount of time to wait for tasks to shutdown gracefully. This is the total amount of time, not per task.")
        .with_last(|k| k.validator(at_least(0.0)))
        .define(OFFSET_COMMIT_INTERVAL_MS_CONFIG, ConfigType::Long, "60000", Importance::Low,
            "Interval at which to try committing offsets for tasks.")
        .with_last(|k| k.validator(at_least(0.0)))
        .define(OFFSET_COMMIT_TIMEOUT_MS_CONFIG, ConfigType::Long, "5000", Importance::Low,
            "Maximum number of milliseconds to wait for records to flush and partition offset data to be committed to offset storage before cancelling the process and restoring the offset data to be committed in a future attempt.")
        .with_last(|k| k.validator(at_least(0.0)))
        .define(LISTENERS_CONFIG, ConfigType::List, "http://:8083", Importance::Low,
            "List of comma-separated URIs the REST API will listen on. The supported protocols are HTTP and HTTPS.")
        .with_last(|k| k.validator(listener_validator))
        .define_null(REST_ADVERTISED_HOST_NAME_CONFIG, ConfigType::String, Importance::Low,
            "If this is set, this is the hostname that will be given out to other workers to connect to.")
        .define_null(REST_ADVERTISED_PORT_CONFIG, ConfigType::Int, Importance::Low,
            "If this is set, this is the port that will be given out to other workers to connect to.")
        .define_null(REST_ADVERTISED_LISTENER_CONFIG, ConfigType::String, Importance::Low,
            "Sets the advertised listener (HTTP or HTTPS) which will be given to other workers to use.")
        .define(ACCESS_CONTROL_ALLOW_ORIGIN_CONFIG, ConfigType::String, "", Importance::Low,
            "Value to set the Access-Control-Allow-Origin header to for REST API requests.")
        .define(ACCESS_CONTROL_ALLOW_METHODS_CONFIG, ConfigType::String, "", Importance::Low,
            "Sets the methods supported for cross origin requests by setting the Access-Control-Allow-Methods header.")
        .define(RESPONSE_HTTP_HEADERS_CONFIG, ConfigType::String, "", Importance::Low,
            "Rules for REST API HTTP response headers")
        .define_null(ADMIN_LISTENERS_CONFIG, ConfigType::List, Importance::Low,
            "List of comma-separated URIs the Admin REST API will listen on. An empty string disables the admin endpoints.")
        .define_null(PLUGIN_PATH_CONFIG, ConfigType::List, Importance::Low,
            "List of paths separated by commas (,) that contain plugins. Causeway's plugins are built in; accepted for compatibility.")
        .define_null(OFFSET_STORAGE_FILE_FILENAME_CONFIG, ConfigType::String, Importance::High,
            "File to store source connector offsets in.")
        .define(TOPIC_TRACKING_ENABLE_CONFIG, ConfigType::Boolean, "true", Importance::Low,
            "Enable tracking the set of active topics per connector during runtime.")
        .define(TOPIC_TRACKING_ALLOW_RESET_CONFIG, ConfigType::Boolean, "true", Importance::Low,
            "If set to true, it allows user requests to reset the set of active topics per connector.")
        .define(EMBEDDED_LOG_DIR_CONFIG, ConfigType::String, "./causeway-data", Importance::Medium,
            "Directory of the embedded log, used when bootstrap.servers is not set.")
        .define(EMBEDDED_LOG_PARTITIONS_CONFIG, ConfigType::Int, "1", Importance::Low,
            "Partitions of topics the embedded log creates on first use.")
        .with_last(|k| k.validator(at_least(1.0)))
        .define_null(GROUP_ID_CONFIG, ConfigType::String, Importance::High,
            "A unique string that identifies the Connect cluster group this worker belongs to.")
        .define(TOPIC_CREATION_ENABLE_CONFIG, ConfigType::Boolean, "true", Importance::Low,
            "Whether to allow automatic creation of topics used by source connectors, when source connectors are configured with `topic.creation.` properties. Each task will use an admin client to create its topics and will not depend on the Kafka brokers to create topics automatically.")
        .define(CONNECTOR_CLIENT_POLICY_CLASS_CONFIG, ConfigType::String, "All", Importance::Medium,
            "Class name or alias of implementation of <code>ConnectorClientConfigOverridePolicy</code>. Defines what client configurations can be overridden by the connector. The default implementation is `All`, meaning connector configurations can override all client properties. The other possible policies in the framework include `None` to disallow connectors from overriding client properties, and `Principal` to allow connectors to override only client principals.")
        .with_last(|k| k.validator(from_fn("policy", |name, v| match v.and_then(ParsedValue::as_str) {
            Some(s) if crate::client_overrides::OverridePolicy::parse(s).is_none() => Err(format!(
                "!Invalid value {s} for configuration {name}: Class {s} could not be found."
            )),
            _ => Ok(()),
        })))
}

/// A parsed worker configuration.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    parsed: ParsedConfig,
}

impl WorkerConfig {
    /// Parses and validates worker properties. Unknown keys are kept (Apache passes them through).
    ///
    /// # Errors
    /// A message naming the first invalid key.
    pub fn new(props: Props) -> Result<WorkerConfig, String> {
        let def = worker_config_def();
        let parsed = def.parse(&props).map_err(|e| e.message().to_owned())?;
        if let Some(listener) = parsed.string(REST_ADVERTISED_LISTENER_CONFIG) {
            let l = listener.to_ascii_lowercase();
            if l != "http" && l != "https" {
                return Err(format!(
                    "Invalid value {listener} for configuration {REST_ADVERTISED_LISTENER_CONFIG}: must be http or https"
                ));
            }
        }
        Ok(WorkerConfig { parsed })
    }

    /// The parsed values.
    pub fn parsed(&self) -> &ParsedConfig {
        &self.parsed
    }

    /// The original properties.
    pub fn originals(&self) -> &Props {
        self.parsed.originals()
    }

    /// `bootstrap.servers`, or `None` for the embedded log.
    pub fn bootstrap_servers(&self) -> Option<String> {
        self.parsed
            .originals()
            .get(BOOTSTRAP_SERVERS_CONFIG)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    /// REST listeners.
    pub fn listeners(&self) -> Vec<Listener> {
        self.parsed
            .list(LISTENERS_CONFIG)
            .iter()
            .filter_map(|l| Listener::parse(l).ok())
            .collect()
    }

    /// A millisecond setting as a duration.
    fn millis(&self, key: &str) -> Duration {
        Duration::from_millis(self.parsed.long(key).unwrap_or(0).max(0) as u64)
    }

    /// `offset.flush.interval.ms`.
    pub fn offset_flush_interval(&self) -> Duration {
        self.millis(OFFSET_COMMIT_INTERVAL_MS_CONFIG)
    }

    /// `offset.flush.timeout.ms`.
    pub fn offset_flush_timeout(&self) -> Duration {
        self.millis(OFFSET_COMMIT_TIMEOUT_MS_CONFIG)
    }

    /// `task.shutdown.graceful.timeout.ms`.
    pub fn task_shutdown_timeout(&self) -> Duration {
        self.millis(TASK_SHUTDOWN_GRACEFUL_TIMEOUT_MS_CONFIG)
    }

    /// `offset.storage.file.filename`.
    pub fn offset_file(&self) -> Option<PathBuf> {
        self.parsed
            .string(OFFSET_STORAGE_FILE_FILENAME_CONFIG)
            .map(PathBuf::from)
    }

    /// `embedded.log.dir`.
    pub fn embedded_log_dir(&self) -> PathBuf {
        PathBuf::from(
            self.parsed
                .string(EMBEDDED_LOG_DIR_CONFIG)
                .unwrap_or("./causeway-data"),
        )
    }

    /// `embedded.log.partitions`.
    pub fn embedded_log_partitions(&self) -> i32 {
        self.parsed.int(EMBEDDED_LOG_PARTITIONS_CONFIG).unwrap_or(1)
    }

    /// `topic.tracking.enable`.
    pub fn topic_tracking_enabled(&self) -> bool {
        self.parsed
            .boolean(TOPIC_TRACKING_ENABLE_CONFIG)
            .unwrap_or(true)
    }

    /// `topic.tracking.allow.reset`.
    pub fn topic_tracking_reset_allowed(&self) -> bool {
        self.parsed
            .boolean(TOPIC_TRACKING_ALLOW_RESET_CONFIG)
            .unwrap_or(true)
    }

    /// A string setting.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.parsed.string(key)
    }

    /// Original properties with a prefix, stripped (`key.converter.` …).
    pub fn originals_with_prefix(&self, prefix: &str) -> Props {
        self.parsed.originals_with_prefix(prefix)
    }

    /// `topic.creation.enable`.
    pub fn topic_creation_enabled(&self) -> bool {
        self.parsed
            .boolean(TOPIC_CREATION_ENABLE_CONFIG)
            .unwrap_or(true)
    }

    /// `connector.client.config.override.policy`.
    pub fn client_override_policy(&self) -> crate::client_overrides::OverridePolicy {
        self.string(CONNECTOR_CLIENT_POLICY_CLASS_CONFIG)
            .and_then(crate::client_overrides::OverridePolicy::parse)
            .unwrap_or_default()
    }

    /// `group.id`.
    pub fn group_id(&self) -> Option<&str> {
        self.parsed.string(GROUP_ID_CONFIG)
    }

    /// The `host:port` this worker advertises as its `worker_id`, as Apache's `RestServer.advertisedUrl`.
    pub fn advertised_worker_id(&self, bound_port: u16) -> String {
        let listeners = self.listeners();
        let wanted = self
            .parsed
            .string(REST_ADVERTISED_LISTENER_CONFIG)
            .map(str::to_ascii_lowercase);
        let listener = listeners
            .iter()
            .find(|l| Some(&l.protocol) == wanted.as_ref())
            .or_else(|| listeners.iter().find(|l| l.protocol == "http"))
            .or_else(|| listeners.first());
        let host = self
            .parsed
            .string(REST_ADVERTISED_HOST_NAME_CONFIG)
            .map(str::to_owned)
            .or_else(|| listener.map(|l| l.host.clone()).filter(|h| !h.is_empty()))
            .unwrap_or_else(local_hostname);
        let port = self
            .parsed
            .int(REST_ADVERTISED_PORT_CONFIG)
            .map(|p| p as u16)
            .unwrap_or(bound_port);
        format!("{host}:{port}")
    }
}

/// The machine's host name, as Java's `InetAddress.getLocalHost().getCanonicalHostName()` roughly gives it.
fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(kv: &[(&str, &str)]) -> Props {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
        ]
    }

    #[test]
    fn defaults_match_apache() {
        let c = WorkerConfig::new(props(&base())).unwrap();
        assert_eq!(c.bootstrap_servers(), None);
        assert_eq!(
            c.listeners(),
            vec![Listener {
                protocol: "http".into(),
                host: String::new(),
                port: 8083
            }]
        );
        assert_eq!(c.offset_flush_interval(), Duration::from_secs(60));
        assert_eq!(c.offset_flush_timeout(), Duration::from_secs(5));
        assert_eq!(c.task_shutdown_timeout(), Duration::from_secs(5));
        assert!(c.topic_tracking_enabled());
    }

    #[test]
    fn invalid_values_name_the_key() {
        let mut p = base();
        p.push(("offset.flush.interval.ms", "soon"));
        let err = WorkerConfig::new(props(&p)).unwrap_err();
        assert_eq!(
            err,
            "Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG"
        );
        let mut p = base();
        p.push(("listeners", "ftp://:21"));
        let err = WorkerConfig::new(props(&p)).unwrap_err();
        assert_eq!(
            err,
            "Listener protocol must be either \"http\" or \"https\"."
        );
        let err = WorkerConfig::new(props(&[])).unwrap_err();
        assert!(err.contains("\"key.converter\""), "{err}");
    }

    #[test]
    fn advertised_worker_id_prefers_configured_host() {
        let mut p = base();
        p.push(("listeners", "http://127.0.0.1:0"));
        p.push(("rest.advertised.host.name", "connect-1"));
        let c = WorkerConfig::new(props(&p)).unwrap();
        assert_eq!(c.advertised_worker_id(4321), "connect-1:4321");
    }
}
