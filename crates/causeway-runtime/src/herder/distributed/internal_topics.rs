//! The distributed worker's own settings (Apache's `DistributedConfig`: worker group, internal topics, group
//! timing, inter-worker request signing) and the internal topics' creation and checks at startup
//! (`KafkaTopicBasedBackingStore`'s topic initializer and `TopicAdmin`).
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use causeway_api::config::validators::{between, from_fn, one_of};
use causeway_api::config::{ConfigDef, ConfigType, Importance, ParsedConfig, ParsedValue};
use causeway_api::{ConnectError, Props};
use causeway_distributed::protocol::ConnectProtocolCompatibility;
use causeway_log::{LogBackend, LogError, NewTopic};

use crate::WorkerConfig;

/// `group.id`.
pub const GROUP_ID_CONFIG: &str = "group.id";
/// `session.timeout.ms`.
pub const SESSION_TIMEOUT_MS_CONFIG: &str = "session.timeout.ms";
/// `rebalance.timeout.ms`.
pub const REBALANCE_TIMEOUT_MS_CONFIG: &str = "rebalance.timeout.ms";
/// `heartbeat.interval.ms`.
pub const HEARTBEAT_INTERVAL_MS_CONFIG: &str = "heartbeat.interval.ms";
/// `exactly.once.source.support`.
pub const EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG: &str = "exactly.once.source.support";
/// `client.id`.
pub const CLIENT_ID_CONFIG: &str = "client.id";
/// `worker.sync.timeout.ms`.
pub const WORKER_SYNC_TIMEOUT_MS_CONFIG: &str = "worker.sync.timeout.ms";
/// `worker.unsync.backoff.ms`.
pub const WORKER_UNSYNC_BACKOFF_MS_CONFIG: &str = "worker.unsync.backoff.ms";
/// Prefix of the offsets topic settings.
pub const OFFSET_STORAGE_PREFIX: &str = "offset.storage.";
/// Prefix of the config topic settings.
pub const CONFIG_STORAGE_PREFIX: &str = "config.storage.";
/// Prefix of the status topic settings.
pub const STATUS_STORAGE_PREFIX: &str = "status.storage.";
/// `offset.storage.topic`.
pub const OFFSET_STORAGE_TOPIC_CONFIG: &str = "offset.storage.topic";
/// `offset.storage.partitions`.
pub const OFFSET_STORAGE_PARTITIONS_CONFIG: &str = "offset.storage.partitions";
/// `offset.storage.replication.factor`.
pub const OFFSET_STORAGE_REPLICATION_FACTOR_CONFIG: &str = "offset.storage.replication.factor";
/// `config.storage.topic`.
pub const CONFIG_TOPIC_CONFIG: &str = "config.storage.topic";
/// `config.storage.replication.factor`.
pub const CONFIG_STORAGE_REPLICATION_FACTOR_CONFIG: &str = "config.storage.replication.factor";
/// `status.storage.topic`.
pub const STATUS_STORAGE_TOPIC_CONFIG: &str = "status.storage.topic";
/// `status.storage.partitions`.
pub const STATUS_STORAGE_PARTITIONS_CONFIG: &str = "status.storage.partitions";
/// `status.storage.replication.factor`.
pub const STATUS_STORAGE_REPLICATION_FACTOR_CONFIG: &str = "status.storage.replication.factor";
/// `connect.protocol`.
pub const CONNECT_PROTOCOL_CONFIG: &str = "connect.protocol";
/// `scheduled.rebalance.max.delay.ms`.
pub const SCHEDULED_REBALANCE_MAX_DELAY_MS_CONFIG: &str = "scheduled.rebalance.max.delay.ms";
/// `inter.worker.key.generation.algorithm`.
pub const INTER_WORKER_KEY_GENERATION_ALGORITHM_CONFIG: &str =
    "inter.worker.key.generation.algorithm";
/// `inter.worker.key.size`.
pub const INTER_WORKER_KEY_SIZE_CONFIG: &str = "inter.worker.key.size";
/// `inter.worker.key.ttl.ms`.
pub const INTER_WORKER_KEY_TTL_MS_CONFIG: &str = "inter.worker.key.ttl.ms";
/// `inter.worker.signature.algorithm`.
pub const INTER_WORKER_SIGNATURE_ALGORITHM_CONFIG: &str = "inter.worker.signature.algorithm";
/// `inter.worker.verification.algorithms`.
pub const INTER_WORKER_VERIFICATION_ALGORITHMS_CONFIG: &str =
    "inter.worker.verification.algorithms";
/// The default key generation, signature and verification algorithm.
pub const DEFAULT_INTER_WORKER_ALGORITHM: &str = "HmacSHA256";

/// The MAC algorithms (JCA names) a Causeway worker can generate keys for and sign with: the JVM's standard
/// HMACs, with the key length the JVM's `KeyGenerator` uses by default.
const MAC_ALGORITHMS: &[(&str, usize)] = &[
    ("HmacMD5", 64),
    ("HmacSHA1", 64),
    ("HmacSHA224", 28),
    ("HmacSHA256", 32),
    ("HmacSHA384", 48),
    ("HmacSHA512", 64),
];

/// `default.api.timeout.ms` (AdminClient default): how long topic creation is retried.
const DEFAULT_API_TIMEOUT_MS: u64 = 60_000;
/// `retry.backoff.ms` (client default).
const DEFAULT_RETRY_BACKOFF_MS: u64 = 100;

/// `exactly.once.source.support`: only `disabled` runs for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactlyOnceSourceSupport {
    /// `disabled` (the default).
    Disabled,
}

/// One internal topic: its name, how to create it when missing, and the worker property that names it.
#[derive(Debug, Clone, PartialEq)]
pub struct InternalTopic {
    /// Topic name.
    pub name: String,
    /// The worker property naming it (`config.storage.topic` …), for error messages.
    pub property: &'static str,
    /// What the topic holds, as Apache words it in its errors.
    pub purpose: &'static str,
    /// Partitions; `None` = broker default (`-1`).
    pub partitions: Option<i32>,
    /// Replication factor; `None` = broker default (`-1`).
    pub replication_factor: Option<i16>,
    /// Extra topic configs from the prefixed worker properties (`topic`, `partitions`,
    /// `replication.factor` and `cleanup.policy` removed).
    pub settings: BTreeMap<String, String>,
}

impl InternalTopic {
    /// The topic to create: extra settings, then `cleanup.policy=compact` over them.
    pub fn new_topic(&self) -> NewTopic {
        let mut configs: HashMap<String, String> = self
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        configs.insert("cleanup.policy".into(), "compact".into());
        NewTopic {
            name: self.name.clone(),
            partitions: self.partitions,
            replication_factor: self.replication_factor,
            configs,
        }
    }
}

/// A distributed worker's settings, parsed from its properties with Apache's keys, defaults and errors.
#[derive(Debug, Clone, PartialEq)]
pub struct DistributedConfig {
    /// `group.id`.
    pub group_id: String,
    /// `client.id` (empty by default).
    pub client_id: String,
    /// `session.timeout.ms` (10 s).
    pub session_timeout: Duration,
    /// `rebalance.timeout.ms` (60 s).
    pub rebalance_timeout: Duration,
    /// `heartbeat.interval.ms` (3 s).
    pub heartbeat_interval: Duration,
    /// `worker.sync.timeout.ms` (3 s).
    pub worker_sync_timeout: Duration,
    /// `worker.unsync.backoff.ms` (5 min).
    pub worker_unsync_backoff: Duration,
    /// `connect.protocol` (`sessioned`).
    pub connect_protocol: ConnectProtocolCompatibility,
    /// `scheduled.rebalance.max.delay.ms` (5 min).
    pub scheduled_rebalance_max_delay: Duration,
    /// `inter.worker.key.generation.algorithm` (canonical JCA name).
    pub inter_worker_key_generation_algorithm: String,
    /// `inter.worker.key.size` in bits (`None`: the algorithm's default).
    pub inter_worker_key_size: Option<i32>,
    /// `inter.worker.key.ttl.ms` (1 h).
    pub inter_worker_key_ttl: Duration,
    /// `inter.worker.signature.algorithm` (canonical JCA name).
    pub inter_worker_signature_algorithm: String,
    /// `inter.worker.verification.algorithms` (canonical JCA names).
    pub inter_worker_verification_algorithms: Vec<String>,
    /// `exactly.once.source.support`.
    pub exactly_once_source_support: ExactlyOnceSourceSupport,
    /// The config topic (always 1 partition).
    pub config_topic: InternalTopic,
    /// The offsets topic.
    pub offset_topic: InternalTopic,
    /// The status topic.
    pub status_topic: InternalTopic,
}

fn partitions_validator() -> Arc<dyn causeway_api::config::Validator> {
    from_fn(
        "Positive number, or -1 to use the broker's default",
        |_, v| match v {
            Some(ParsedValue::Int(n)) if *n != -1 && *n < 1 => Err(
                "Number of partitions must be positive, or -1 to use the broker's default".into(),
            ),
            _ => Ok(()),
        },
    )
}

fn replication_factor_validator() -> Arc<dyn causeway_api::config::Validator> {
    from_fn(
        "Positive number not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default",
        |_, v| {
            match v {
            Some(ParsedValue::Short(n)) if *n != -1 && *n < 1 => Err(
                "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default".into(),
            ),
            _ => Ok(()),
        }
        },
    )
}

/// Apache's `ConfigException(name, value, message)` text.
fn invalid(name: &str, value: &str, message: &str) -> ConnectError {
    ConnectError::config(format!(
        "Invalid value {value} for configuration {name}: {message}"
    ))
}

/// The canonical name of a supported MAC algorithm (JCA look-ups ignore case).
fn mac_algorithm(name: &str) -> Option<&'static str> {
    MAC_ALGORITHMS
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(name))
        .map(|(a, _)| *a)
}

fn unsupported_algorithm(name: &str, value: &str) -> ConnectError {
    let supported: Vec<&str> = MAC_ALGORITHMS.iter().map(|(a, _)| *a).collect();
    invalid(
        name,
        value,
        &format!(
            "the algorithm is not supported by this JVM; the supported algorithms are: [{}]",
            supported.join(", ")
        ),
    )
}

/// The keys `DistributedConfig` adds to the worker's, in Apache's definition (and so checking) order.
fn distributed_config_def() -> ConfigDef {
    let ms = |def: ConfigDef, name: &str, default: &str, importance| {
        def.define(name, ConfigType::Int, default, importance, "")
    };
    let mut def = ConfigDef::new().define_required(
        GROUP_ID_CONFIG,
        ConfigType::String,
        Importance::High,
        "A unique string that identifies the Connect cluster group this worker belongs to.",
    );
    def = ms(def, SESSION_TIMEOUT_MS_CONFIG, "10000", Importance::High);
    def = ms(def, REBALANCE_TIMEOUT_MS_CONFIG, "60000", Importance::High);
    def = ms(def, HEARTBEAT_INTERVAL_MS_CONFIG, "3000", Importance::High);
    def = def
        .define(
            EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG,
            ConfigType::String,
            "disabled",
            Importance::High,
            "Whether to enable exactly-once support for source connectors in the cluster.",
        )
        .with_last(|k| k.validator(one_of(&["disabled", "preparing", "enabled"])))
        .define(
            CLIENT_ID_CONFIG,
            ConfigType::String,
            "",
            Importance::Low,
            "An id string to pass to the server when making requests.",
        );
    def = ms(
        def,
        WORKER_SYNC_TIMEOUT_MS_CONFIG,
        "3000",
        Importance::Medium,
    );
    def = ms(
        def,
        WORKER_UNSYNC_BACKOFF_MS_CONFIG,
        "300000",
        Importance::Medium,
    );
    def = def
        .define_required(
            OFFSET_STORAGE_TOPIC_CONFIG,
            ConfigType::String,
            Importance::High,
            "The name of the Kafka topic where source connector offsets are stored",
        )
        .define(
            OFFSET_STORAGE_PARTITIONS_CONFIG,
            ConfigType::Int,
            "25",
            Importance::Low,
            "The number of partitions used when creating the offset storage topic",
        )
        .with_last(|k| k.validator(partitions_validator()))
        .define(
            OFFSET_STORAGE_REPLICATION_FACTOR_CONFIG,
            ConfigType::Short,
            "3",
            Importance::Low,
            "Replication factor used when creating the offset storage topic",
        )
        .with_last(|k| k.validator(replication_factor_validator()))
        .define_required(
            CONFIG_TOPIC_CONFIG,
            ConfigType::String,
            Importance::High,
            "The name of the Kafka topic where connector configurations are stored",
        )
        .define(
            CONFIG_STORAGE_REPLICATION_FACTOR_CONFIG,
            ConfigType::Short,
            "3",
            Importance::Low,
            "Replication factor used when creating the configuration storage topic",
        )
        .with_last(|k| k.validator(replication_factor_validator()))
        .define_required(
            STATUS_STORAGE_TOPIC_CONFIG,
            ConfigType::String,
            Importance::High,
            "The name of the Kafka topic where connector and task status are stored",
        )
        .define(
            STATUS_STORAGE_PARTITIONS_CONFIG,
            ConfigType::Int,
            "5",
            Importance::Low,
            "The number of partitions used when creating the status storage topic",
        )
        .with_last(|k| k.validator(partitions_validator()))
        .define(
            STATUS_STORAGE_REPLICATION_FACTOR_CONFIG,
            ConfigType::Short,
            "3",
            Importance::Low,
            "Replication factor used when creating the status storage topic",
        )
        .with_last(|k| k.validator(replication_factor_validator()))
        .define(
            CONNECT_PROTOCOL_CONFIG,
            ConfigType::String,
            "sessioned",
            Importance::Low,
            "Compatibility mode for Kafka Connect Protocol",
        )
        .with_last(|k| {
            k.validator(from_fn("[eager, compatible, sessioned]", |_, v| {
                let name = v.and_then(ParsedValue::as_str).unwrap_or("");
                ConnectProtocolCompatibility::from_config_value(name)
                    .map(|_| ())
                    .map_err(|_| "Invalid Connect protocol compatibility".to_owned())
            }))
        })
        .define(
            SCHEDULED_REBALANCE_MAX_DELAY_MS_CONFIG,
            ConfigType::Int,
            "300000",
            Importance::Low,
            "The maximum delay that is scheduled in order to wait for the return of one or more departed workers before rebalancing and reassigning their connectors and tasks to the group.",
        )
        .with_last(|k| k.validator(between(0.0, f64::from(i32::MAX))))
        .define(
            INTER_WORKER_KEY_TTL_MS_CONFIG,
            ConfigType::Int,
            "3600000",
            Importance::Low,
            "The TTL of generated session keys used for internal request validation (in milliseconds)",
        )
        .with_last(|k| k.validator(between(0.0, f64::from(i32::MAX))))
        .define(
            INTER_WORKER_KEY_GENERATION_ALGORITHM_CONFIG,
            ConfigType::String,
            DEFAULT_INTER_WORKER_ALGORITHM,
            Importance::Low,
            "The algorithm to use for generating internal request keys.",
        )
        .define_null(
            INTER_WORKER_KEY_SIZE_CONFIG,
            ConfigType::Int,
            Importance::Low,
            "The size of the key to use for signing internal requests, in bits.",
        )
        .define(
            INTER_WORKER_SIGNATURE_ALGORITHM_CONFIG,
            ConfigType::String,
            DEFAULT_INTER_WORKER_ALGORITHM,
            Importance::Low,
            "The algorithm used to sign internal requests.",
        )
        .define(
            INTER_WORKER_VERIFICATION_ALGORITHMS_CONFIG,
            ConfigType::List,
            DEFAULT_INTER_WORKER_ALGORITHM,
            Importance::Low,
            "A list of permitted algorithms for verifying internal requests.",
        );
    def
}

fn int(parsed: &ParsedConfig, name: &str) -> i32 {
    parsed.int(name).unwrap_or_default()
}

fn short(parsed: &ParsedConfig, name: &str) -> i16 {
    match parsed.get(name) {
        Some(ParsedValue::Short(v)) => *v,
        _ => 0,
    }
}

fn millis(parsed: &ParsedConfig, name: &str) -> Duration {
    Duration::from_millis(u64::try_from(int(parsed, name)).unwrap_or(0))
}

/// `-1` means the broker's default.
fn broker_default<T: PartialEq + From<i8>>(value: T) -> Option<T> {
    (value != T::from(-1)).then_some(value)
}

/// `DistributedConfig.topicSettings`: the prefixed originals without the keys Connect sets itself.
fn topic_settings(originals: &Props, prefix: &str) -> BTreeMap<String, String> {
    let mut result: BTreeMap<String, String> = originals
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_owned(), v.clone())))
        .collect();
    if prefix == CONFIG_STORAGE_PREFIX
        && let Some(partitions) = result.get("partitions")
    {
        tracing::warn!(
            "Ignoring '{prefix}partitions={partitions}' setting, since config topic partitions is always 1"
        );
    }
    if let Some(policy) = result.remove("cleanup.policy") {
        tracing::warn!(
            "Ignoring '{prefix}cleanup.policy={policy}' setting, since compaction is always used"
        );
    }
    result.remove("topic");
    result.remove("replication.factor");
    result.remove("partitions");
    result
}

impl DistributedConfig {
    /// Parses the distributed keys of a worker's properties.
    ///
    /// # Errors
    /// [`ConnectError::Config`] with Apache's message for the first missing or invalid key, or for
    /// `exactly.once.source.support` other than `disabled` (not supported yet).
    pub fn from_worker(worker: &WorkerConfig) -> Result<DistributedConfig, ConnectError> {
        Self::from_props(worker.originals())
    }

    /// As [`DistributedConfig::from_worker`], from the raw properties.
    ///
    /// # Errors
    /// As [`DistributedConfig::from_worker`].
    pub fn from_props(props: &Props) -> Result<DistributedConfig, ConnectError> {
        let parsed = distributed_config_def().parse(props)?;
        let string = |name: &str| parsed.string(name).unwrap_or_default().to_owned();

        let exactly_once = match string(EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG).as_str() {
            "disabled" => ExactlyOnceSourceSupport::Disabled,
            other => {
                return Err(invalid(
                    EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG,
                    other,
                    "exactly-once support for source connectors is not supported by Causeway yet; set it to 'disabled'",
                ));
            }
        };
        let connect_protocol =
            ConnectProtocolCompatibility::from_config_value(&string(CONNECT_PROTOCOL_CONFIG))
                .map_err(|e| ConnectError::config(e.to_string()))?;

        // `validateKeyAlgorithm` / `validateSignatureAlgorithm` / `validateVerificationAlgorithms`, then
        // `validateInterWorkerKeyConfigs`.
        let key_algorithm_raw = string(INTER_WORKER_KEY_GENERATION_ALGORITHM_CONFIG);
        let key_algorithm = mac_algorithm(&key_algorithm_raw).ok_or_else(|| {
            unsupported_algorithm(
                INTER_WORKER_KEY_GENERATION_ALGORITHM_CONFIG,
                &key_algorithm_raw,
            )
        })?;
        let signature_raw = string(INTER_WORKER_SIGNATURE_ALGORITHM_CONFIG);
        let signature = mac_algorithm(&signature_raw).ok_or_else(|| {
            unsupported_algorithm(INTER_WORKER_SIGNATURE_ALGORITHM_CONFIG, &signature_raw)
        })?;
        let verification_raw = parsed.list(INTER_WORKER_VERIFICATION_ALGORITHMS_CONFIG);
        if verification_raw.is_empty() {
            return Err(invalid(
                INTER_WORKER_VERIFICATION_ALGORITHMS_CONFIG,
                "[]",
                "At least one signature verification algorithm must be provided",
            ));
        }
        let verification = verification_raw
            .iter()
            .map(|a| {
                mac_algorithm(a).map(str::to_owned).ok_or_else(|| {
                    unsupported_algorithm(INTER_WORKER_VERIFICATION_ALGORITHMS_CONFIG, a)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let key_size = parsed.int(INTER_WORKER_KEY_SIZE_CONFIG);
        if let Some(bits) = key_size
            && (bits < 40 || bits % 8 != 0)
        {
            return Err(ConnectError::config(format!(
                "Unable to create key generator with algorithm {key_algorithm} and key size {bits}: Key length must be a multiple of 8 and at least 40 bits"
            )));
        }
        // The raw value is compared, as Apache's `List.contains` does.
        if !verification_raw.contains(&signature_raw) {
            return Err(invalid(
                INTER_WORKER_SIGNATURE_ALGORITHM_CONFIG,
                &signature_raw,
                &format!(
                    "Signature algorithm must be present in {INTER_WORKER_VERIFICATION_ALGORITHMS_CONFIG} list"
                ),
            ));
        }

        let originals = parsed.originals();
        let topic = |name: String,
                     property: &'static str,
                     purpose: &'static str,
                     partitions: Option<i32>,
                     rf: &str,
                     prefix: &str| InternalTopic {
            name,
            property,
            purpose,
            partitions,
            replication_factor: broker_default(short(&parsed, rf)),
            settings: topic_settings(originals, prefix),
        };
        let config_topic = topic(
            string(CONFIG_TOPIC_CONFIG),
            CONFIG_TOPIC_CONFIG,
            "connector configurations",
            Some(1),
            CONFIG_STORAGE_REPLICATION_FACTOR_CONFIG,
            CONFIG_STORAGE_PREFIX,
        );
        let offset_topic = topic(
            string(OFFSET_STORAGE_TOPIC_CONFIG),
            OFFSET_STORAGE_TOPIC_CONFIG,
            "source connector offsets",
            broker_default(int(&parsed, OFFSET_STORAGE_PARTITIONS_CONFIG)),
            OFFSET_STORAGE_REPLICATION_FACTOR_CONFIG,
            OFFSET_STORAGE_PREFIX,
        );
        let status_topic = topic(
            string(STATUS_STORAGE_TOPIC_CONFIG),
            STATUS_STORAGE_TOPIC_CONFIG,
            "connector and task statuses",
            broker_default(int(&parsed, STATUS_STORAGE_PARTITIONS_CONFIG)),
            STATUS_STORAGE_REPLICATION_FACTOR_CONFIG,
            STATUS_STORAGE_PREFIX,
        );
        // In the order the stores are configured: offsets (by the worker), status, config.
        for (t, message) in [
            (&offset_topic, "Offset storage topic must be specified"),
            (&status_topic, "Must specify topic for connector status."),
            (
                &config_topic,
                "Must specify topic for connector configuration.",
            ),
        ] {
            if t.name.trim().is_empty() {
                return Err(ConnectError::config(message));
            }
        }

        Ok(DistributedConfig {
            group_id: string(GROUP_ID_CONFIG),
            client_id: string(CLIENT_ID_CONFIG),
            session_timeout: millis(&parsed, SESSION_TIMEOUT_MS_CONFIG),
            rebalance_timeout: millis(&parsed, REBALANCE_TIMEOUT_MS_CONFIG),
            heartbeat_interval: millis(&parsed, HEARTBEAT_INTERVAL_MS_CONFIG),
            worker_sync_timeout: millis(&parsed, WORKER_SYNC_TIMEOUT_MS_CONFIG),
            worker_unsync_backoff: millis(&parsed, WORKER_UNSYNC_BACKOFF_MS_CONFIG),
            connect_protocol,
            scheduled_rebalance_max_delay: millis(&parsed, SCHEDULED_REBALANCE_MAX_DELAY_MS_CONFIG),
            inter_worker_key_generation_algorithm: key_algorithm.to_owned(),
            inter_worker_key_size: key_size,
            inter_worker_key_ttl: millis(&parsed, INTER_WORKER_KEY_TTL_MS_CONFIG),
            inter_worker_signature_algorithm: signature.to_owned(),
            inter_worker_verification_algorithms: verification,
            exactly_once_source_support: exactly_once,
            config_topic,
            offset_topic,
            status_topic,
        })
    }

    /// The prefix of every internal client id: `<group.id>-`, or `<group.id>-<client.id>-` when the worker
    /// sets `client.id`.
    pub fn client_id_base(&self) -> String {
        if self.client_id.is_empty() {
            format!("{}-", self.group_id)
        } else {
            format!("{}-{}-", self.group_id, self.client_id)
        }
    }

    /// The config topic clients' id, `<base>configs`.
    pub fn config_client_id(&self) -> String {
        format!("{}configs", self.client_id_base())
    }

    /// The offsets topic clients' id, `<base>offsets`.
    pub fn offsets_client_id(&self) -> String {
        format!("{}offsets", self.client_id_base())
    }

    /// The status topic clients' id, `<base>statuses`.
    pub fn status_client_id(&self) -> String {
        format!("{}statuses", self.client_id_base())
    }

    /// The shared admin client's id, `<base>shared-admin`.
    pub fn shared_admin_client_id(&self) -> String {
        format!("{}shared-admin", self.client_id_base())
    }

    /// The length in bytes of the session keys this worker generates: `inter.worker.key.size` / 8, or the
    /// JVM `KeyGenerator` default of the algorithm.
    pub fn session_key_length(&self) -> usize {
        match self.inter_worker_key_size {
            Some(bits) => usize::try_from(bits / 8).unwrap_or(0),
            None => MAC_ALGORITHMS
                .iter()
                .find(|(a, _)| *a == self.inter_worker_key_generation_algorithm)
                .map_or(32, |(_, len)| *len),
        }
    }

    /// The internal topics in the order Apache's worker starts their stores: offsets, status, config.
    pub fn internal_topics(&self) -> [&InternalTopic; 3] {
        [&self.offset_topic, &self.status_topic, &self.config_topic]
    }
}

/// Java `HashSet<String>` iteration order (for messages that print one): by bucket of the spread
/// `String.hashCode`, then insertion order.
fn java_hash_set_order(items: Vec<String>) -> Vec<String> {
    let mut capacity = 16usize;
    while items.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let bucket = |s: &str| {
        let h = s
            .encode_utf16()
            .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
            as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut indexed: Vec<(usize, usize, String)> = items
        .into_iter()
        .enumerate()
        .map(|(i, s)| (bucket(&s), i, s))
        .collect();
    indexed.sort_by_key(|(b, i, _)| (*b, *i));
    indexed.into_iter().map(|(_, _, s)| s).collect()
}

/// `TopicAdmin.verifyTopicCleanupPolicyOnlyCompact`: an existing internal topic must have exactly
/// `cleanup.policy=compact`. Skipped (`Ok(false)`) when the policy cannot be described.
///
/// # Errors
/// [`ConnectError::Config`] with Apache's message when the policy is anything else.
pub async fn verify_cleanup_policy_only_compact(
    log: &dyn LogBackend,
    topic: &InternalTopic,
) -> Result<bool, ConnectError> {
    let policy = log
        .topic_cleanup_policy(&topic.name)
        .await
        .map_err(|e| match e {
            LogError::Retriable(_) => ConnectError::retriable(format!(
                "Timed out while waiting to describe topic config for topic '{}': {e}",
                topic.name
            )),
            other => ConnectError::fatal(format!(
                "Error while attempting to describe topic config for topic '{}': {other}",
                topic.name
            )),
        })?;
    let mut policies: Vec<String> = Vec::new();
    for p in policy.as_deref().unwrap_or("").split(',') {
        let p = p.trim().to_lowercase();
        if !p.is_empty() && !policies.contains(&p) {
            policies.push(p);
        }
    }
    if policies.is_empty() {
        tracing::info!(
            "Unable to use admin client to verify the cleanup policy of '{}' topic is 'compact', either because the broker is an older version or because the Kafka principal used for Connect internal topics does not have the required permission to describe topic configurations.",
            topic.name
        );
        return Ok(false);
    }
    if policies != ["compact"] {
        let found = java_hash_set_order(policies).join(",");
        return Err(ConnectError::config(format!(
            "Topic '{name}' supplied via the '{property}' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of {purpose}, but found the topic currently has 'cleanup.policy={found}'. Continuing would likely result in eventually losing {purpose} and problems restarting this Connect cluster in the future. Change the '{property}' property in the Connect worker configurations to use a topic with 'cleanup.policy=compact'.",
            name = topic.name,
            property = topic.property,
            purpose = topic.purpose,
        )));
    }
    Ok(true)
}

/// `KafkaConfigBackingStore.start`'s check: the config topic must have a single partition.
///
/// # Errors
/// [`ConnectError::Config`] with Apache's message when it has more; other errors when the topic cannot be
/// described.
pub async fn check_config_topic_partitions(
    log: &dyn LogBackend,
    topic: &str,
) -> Result<(), ConnectError> {
    let count = log.partition_count(topic).await.map_err(|e| {
        ConnectError::fatal(format!(
            "Error while attempting to describe topics '{topic}': {e}"
        ))
    })?;
    match count {
        Some(n) if n > 1 => Err(ConnectError::config(format!(
            "Topic '{topic}' supplied via the '{CONFIG_TOPIC_CONFIG}' property is required to have a single partition in order to guarantee consistency of connector configurations, but found {n} partitions."
        ))),
        _ => Ok(()),
    }
}

/// `TopicAdmin.createTopicsWithRetry` for one topic: `Ok(true)` if created, `Ok(false)` if it existed or
/// creating is not permitted (Apache then assumes it exists). An invalid replication factor (too few brokers
/// up yet) and timeouts are retried until `default.api.timeout.ms`.
async fn create_with_retry(
    log: &dyn LogBackend,
    topic: &InternalTopic,
    timeout: Duration,
    backoff: Duration,
) -> Result<bool, ConnectError> {
    let deadline = Instant::now() + timeout;
    loop {
        let error = match log.create_topic(topic.new_topic()).await {
            Ok(created) => {
                if created {
                    tracing::info!(topic = %topic.name, "Created internal topic.");
                }
                return Ok(created);
            }
            Err(LogError::Auth(e)) => {
                tracing::debug!(topic = %topic.name, error = %e, "Not authorized to create topic(s); assuming it exists.");
                return Ok(false);
            }
            Err(e) => e,
        };
        let retriable = error.is_retriable()
            || error
                .to_string()
                .to_ascii_lowercase()
                .contains("replication factor");
        if !retriable {
            return Err(ConnectError::fatal(format!(
                "Error while attempting to create/find topic(s) '{}': {error}",
                topic.name
            )));
        }
        if Instant::now() + backoff >= deadline {
            return Err(ConnectError::fatal(format!(
                "Timeout expired while trying to create topic(s): {error}"
            )));
        }
        tracing::info!(
            "'{}' topic creation failed due to '{error}', retrying, {}ms remaining",
            topic.name,
            deadline
                .saturating_duration_since(Instant::now())
                .as_millis()
        );
        tokio::time::sleep(backoff).await;
    }
}

fn ms_setting(props: &Props, key: &str, default: u64) -> Duration {
    Duration::from_millis(
        props
            .get(key)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default),
    )
}

/// Creates the missing internal topics (compacted, with their partitions, replication factor and extra
/// settings) and checks existing ones as Apache's worker does at startup: `cleanup.policy` must be exactly
/// `compact`, and the config topic must have a single partition.
///
/// # Errors
/// Apache's startup errors.
pub async fn ensure_internal_topics(
    log: &dyn LogBackend,
    config: &DistributedConfig,
) -> Result<(), ConnectError> {
    ensure_internal_topics_with(log, config, &Props::new()).await
}

/// As [`ensure_internal_topics`], with the worker's originals for the admin client's retry settings
/// (`default.api.timeout.ms`, `retry.backoff.ms`).
///
/// # Errors
/// Apache's startup errors.
pub async fn ensure_internal_topics_with(
    log: &dyn LogBackend,
    config: &DistributedConfig,
    originals: &Props,
) -> Result<(), ConnectError> {
    let timeout = ms_setting(originals, "default.api.timeout.ms", DEFAULT_API_TIMEOUT_MS);
    let backoff = ms_setting(originals, "retry.backoff.ms", DEFAULT_RETRY_BACKOFF_MS);
    for topic in config.internal_topics() {
        let created = create_with_retry(log, topic, timeout, backoff).await?;
        if !created {
            verify_cleanup_policy_only_compact(log, topic).await?;
        }
    }
    check_config_topic_partitions(log, &config.config_topic.name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn base() -> Props {
        props(&[
            ("group.id", "connect-cluster"),
            ("config.storage.topic", "connect-configs"),
            ("offset.storage.topic", "connect-offsets"),
            ("status.storage.topic", "connect-status"),
        ])
    }

    fn with(extra: &[(&str, &str)]) -> Props {
        let mut p = base();
        p.extend(props(extra));
        p
    }

    fn error(p: &Props) -> String {
        DistributedConfig::from_props(p)
            .unwrap_err()
            .message()
            .to_owned()
    }

    #[test]
    fn defaults() {
        let c = DistributedConfig::from_props(&base()).unwrap();
        assert_eq!(c.group_id, "connect-cluster");
        assert_eq!(c.client_id, "");
        assert_eq!(c.session_timeout, Duration::from_millis(10_000));
        assert_eq!(c.rebalance_timeout, Duration::from_millis(60_000));
        assert_eq!(c.heartbeat_interval, Duration::from_millis(3_000));
        assert_eq!(c.worker_sync_timeout, Duration::from_millis(3_000));
        assert_eq!(c.worker_unsync_backoff, Duration::from_millis(300_000));
        assert_eq!(
            c.scheduled_rebalance_max_delay,
            Duration::from_millis(300_000)
        );
        assert_eq!(c.connect_protocol, ConnectProtocolCompatibility::Sessioned);
        assert_eq!(c.inter_worker_key_generation_algorithm, "HmacSHA256");
        assert_eq!(c.inter_worker_key_size, None);
        assert_eq!(c.session_key_length(), 32);
        assert_eq!(c.inter_worker_key_ttl, Duration::from_millis(3_600_000));
        assert_eq!(c.inter_worker_signature_algorithm, "HmacSHA256");
        assert_eq!(c.inter_worker_verification_algorithms, vec!["HmacSHA256"]);
        assert_eq!(
            c.exactly_once_source_support,
            ExactlyOnceSourceSupport::Disabled
        );
        assert_eq!(c.config_topic.partitions, Some(1));
        assert_eq!(c.config_topic.replication_factor, Some(3));
        assert_eq!(c.offset_topic.partitions, Some(25));
        assert_eq!(c.offset_topic.replication_factor, Some(3));
        assert_eq!(c.status_topic.partitions, Some(5));
        assert_eq!(c.status_topic.replication_factor, Some(3));
        let names: Vec<&str> = c
            .internal_topics()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["connect-offsets", "connect-status", "connect-configs"]
        );
    }

    #[test]
    fn required_keys_in_apache_order() {
        assert_eq!(
            error(&Props::new()),
            "Missing required configuration \"group.id\" which has no default value."
        );
        let mut p = base();
        p.remove("offset.storage.topic");
        p.remove("status.storage.topic");
        assert_eq!(
            error(&p),
            "Missing required configuration \"offset.storage.topic\" which has no default value."
        );
        let mut p = base();
        p.remove("status.storage.topic");
        assert_eq!(
            error(&p),
            "Missing required configuration \"status.storage.topic\" which has no default value."
        );
        assert_eq!(
            error(&with(&[("config.storage.topic", " ")])),
            "Must specify topic for connector configuration."
        );
    }

    #[test]
    fn values_and_validation() {
        let c = DistributedConfig::from_props(&with(&[
            ("client.id", "w1"),
            ("connect.protocol", "COMPATIBLE"),
            ("offset.storage.partitions", "-1"),
            ("status.storage.replication.factor", "-1"),
            ("session.timeout.ms", "30000"),
            ("inter.worker.key.size", "512"),
            ("inter.worker.signature.algorithm", "HmacSHA512"),
            (
                "inter.worker.verification.algorithms",
                "HmacSHA256, HmacSHA512",
            ),
        ]))
        .unwrap();
        assert_eq!(c.connect_protocol, ConnectProtocolCompatibility::Compatible);
        assert_eq!(c.offset_topic.partitions, None);
        assert_eq!(c.status_topic.replication_factor, None);
        assert_eq!(c.session_timeout, Duration::from_secs(30));
        assert_eq!(c.session_key_length(), 64);
        assert_eq!(c.inter_worker_signature_algorithm, "HmacSHA512");
        assert_eq!(c.client_id_base(), "connect-cluster-w1-");
        assert_eq!(c.config_client_id(), "connect-cluster-w1-configs");
        assert_eq!(c.status_client_id(), "connect-cluster-w1-statuses");
        assert_eq!(c.offsets_client_id(), "connect-cluster-w1-offsets");
        assert_eq!(
            c.shared_admin_client_id(),
            "connect-cluster-w1-shared-admin"
        );
        let c = DistributedConfig::from_props(&base()).unwrap();
        assert_eq!(c.config_client_id(), "connect-cluster-configs");

        assert_eq!(
            error(&with(&[("connect.protocol", "fancy")])),
            "Invalid value fancy for configuration connect.protocol: Invalid Connect protocol compatibility"
        );
        assert_eq!(
            error(&with(&[("offset.storage.partitions", "0")])),
            "Invalid value 0 for configuration offset.storage.partitions: Number of partitions must be positive, or -1 to use the broker's default"
        );
        assert_eq!(
            error(&with(&[("config.storage.replication.factor", "-2")])),
            "Invalid value -2 for configuration config.storage.replication.factor: Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default"
        );
        assert_eq!(
            error(&with(&[("heartbeat.interval.ms", "soon")])),
            "Invalid value soon for configuration heartbeat.interval.ms: Not a number of type INT"
        );
        assert_eq!(
            error(&with(&[("scheduled.rebalance.max.delay.ms", "-1")])),
            "Invalid value -1 for configuration scheduled.rebalance.max.delay.ms: Value must be no less than 0"
        );
        assert_eq!(
            error(&with(&[("exactly.once.source.support", "sometimes")])),
            "Invalid value sometimes for configuration exactly.once.source.support: String must be one of: disabled, preparing, enabled"
        );
        for mode in ["preparing", "enabled"] {
            let e = DistributedConfig::from_props(&with(&[("exactly.once.source.support", mode)]))
                .unwrap_err();
            assert!(matches!(e, ConnectError::Config(_)));
            assert!(e.message().contains("not supported"), "{e}");
        }
        assert_eq!(
            error(&with(&[("inter.worker.signature.algorithm", "HmacSHA1")])),
            "Invalid value HmacSHA1 for configuration inter.worker.signature.algorithm: Signature algorithm must be present in inter.worker.verification.algorithms list"
        );
        assert_eq!(
            error(&with(&[("inter.worker.verification.algorithms", "")])),
            "Invalid value [] for configuration inter.worker.verification.algorithms: At least one signature verification algorithm must be provided"
        );
        assert!(
            error(&with(&[("inter.worker.key.generation.algorithm", "Rot13")])).starts_with(
                "Invalid value Rot13 for configuration inter.worker.key.generation.algorithm: the algorithm is not supported by this JVM; the supported algorithms are: ["
            )
        );
        assert!(
            error(&with(&[("inter.worker.key.size", "12")])).starts_with(
                "Unable to create key generator with algorithm HmacSHA256 and key size 12: "
            )
        );
    }

    #[test]
    fn topic_settings_strip_connect_keys() {
        let c = DistributedConfig::from_props(&with(&[
            ("config.storage.partitions", "4"),
            ("config.storage.min.insync.replicas", "2"),
            ("offset.storage.cleanup.policy", "delete"),
            ("offset.storage.segment.bytes", "1048576"),
            ("status.storage.replication.factor", "1"),
            ("status.storage.retention.ms", "-1"),
        ]))
        .unwrap();
        assert_eq!(c.config_topic.partitions, Some(1));
        assert_eq!(
            c.config_topic.settings,
            [("min.insync.replicas".to_owned(), "2".to_owned())].into()
        );
        assert_eq!(
            c.offset_topic.settings,
            [("segment.bytes".to_owned(), "1048576".to_owned())].into()
        );
        assert_eq!(
            c.status_topic.settings,
            [("retention.ms".to_owned(), "-1".to_owned())].into()
        );
        assert_eq!(c.status_topic.replication_factor, Some(1));
        let new = c.offset_topic.new_topic();
        assert_eq!(
            new.configs.get("cleanup.policy").map(String::as_str),
            Some("compact")
        );
        assert_eq!(
            new.configs.get("segment.bytes").map(String::as_str),
            Some("1048576")
        );
        assert_eq!(new.partitions, Some(25));
        assert_eq!(new.replication_factor, Some(3));
    }

    #[test]
    fn hash_set_order_matches_java() {
        // Java: new HashSet<>(List.of("delete", "compact")) iterates compact, delete.
        assert_eq!(
            java_hash_set_order(vec!["delete".into(), "compact".into()]),
            vec!["compact", "delete"]
        );
    }
}
