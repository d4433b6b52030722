//! [`KafkaLog`]: the [`LogBackend`] on a Kafka cluster.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use causeway_log::{
    ConsumerConfig, InternalTopicLog, LogBackend, LogConsumer, LogError, LogProducer, LogResult,
    NewTopic, ProducerConfig, TopicPartition, TopicRecordCallback,
};
use rdkafka::admin::{
    AdminClient, AdminOptions, NewTopic as RdNewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::client_config::{ClientConfigError, ClientKind, translate};
use crate::consumer::{KafkaConsumer, committed_offsets, retry_while_coordinator_loads};
use crate::health::{BOOTSTRAP_TIMEOUT, ClientHealth, HealthContext};
use crate::producer::KafkaProducer;

/// Timeout of admin requests (Java's `default.api.timeout.ms` is 60 s; REST callers wait less).
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Topics the broker keeps for itself; Java's `listTopics()` leaves them out.
const INTERNAL_TOPICS: &[&str] = &[
    "__consumer_offsets",
    "__transaction_state",
    "__share_group_state",
    "__cluster_metadata",
];

/// Top-level worker keys that apply to every client (Apache needs them repeated under `producer.` and
/// `consumer.`; Causeway applies them to all clients, and the prefixed ones still win).
fn is_common_client_key(key: &str) -> bool {
    key == "bootstrap.servers"
        || key == "security.protocol"
        || key == "client.dns.lookup"
        || key.starts_with("sasl.")
        || key.starts_with("ssl.")
}

/// Java client settings of a worker, in layers: what every client gets, then what each kind adds.
#[derive(Debug, Clone, Default)]
pub struct KafkaSettings {
    /// `bootstrap.servers` and the top-level security keys.
    pub common: HashMap<String, String>,
    /// Worker `producer.*` keys, prefix removed.
    pub producer: HashMap<String, String>,
    /// Worker `consumer.*` keys, prefix removed.
    pub consumer: HashMap<String, String>,
    /// Worker `admin.*` keys, prefix removed.
    pub admin: HashMap<String, String>,
}

impl KafkaSettings {
    /// Splits worker properties into client layers.
    pub fn from_worker<'a>(props: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        let mut s = KafkaSettings::default();
        for (k, v) in props {
            if let Some(rest) = k.strip_prefix("producer.") {
                s.producer.insert(rest.to_owned(), v.clone());
            } else if let Some(rest) = k.strip_prefix("consumer.") {
                s.consumer.insert(rest.to_owned(), v.clone());
            } else if let Some(rest) = k.strip_prefix("admin.") {
                s.admin.insert(rest.to_owned(), v.clone());
            } else if is_common_client_key(k) {
                s.common.insert(k.clone(), v.clone());
            }
        }
        s
    }

    fn layered(
        &self,
        defaults: &[(&str, String)],
        kind_layer: &HashMap<String, String>,
        overrides: &HashMap<String, String>,
    ) -> HashMap<String, String> {
        let mut merged: HashMap<String, String> = defaults
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        merged.extend(self.common.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged.extend(kind_layer.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged
    }

    /// librdkafka properties of an admin client.
    pub fn admin_config(&self) -> Result<ClientConfig, ClientConfigError> {
        self.admin_config_with(&HashMap::new())
    }

    /// librdkafka properties of an admin client with a connector's `admin.override.*` settings on top.
    pub fn admin_config_with(
        &self,
        overrides: &HashMap<String, String>,
    ) -> Result<ClientConfig, ClientConfigError> {
        let merged = self.layered(&[], &self.admin, overrides);
        Ok(to_client_config(translate(&merged, ClientKind::Admin)?))
    }

    /// librdkafka properties of a producer with Connect's defaults (`Worker.baseProducerConfigs`): acks=all,
    /// idempotence, retries without a delivery deadline, bounded in-flight requests.
    pub fn producer_config(
        &self,
        config: &ProducerConfig,
    ) -> Result<ClientConfig, ClientConfigError> {
        let defaults = [
            ("acks", "all".to_owned()),
            ("enable.idempotence", "true".to_owned()),
            ("delivery.timeout.ms", i32::MAX.to_string()),
            ("client.id", config.client_id.clone()),
        ];
        let merged = self.layered(&defaults, &self.producer, &config.properties);
        let idempotent = merged
            .get("enable.idempotence")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let mut rd = translate(&merged, ClientKind::Producer)?;
        // Idempotence keeps order with up to 5 requests in flight; without it only 1 does (Connect's
        // own default).
        rd.entry("max.in.flight.requests.per.connection".into())
            .or_insert_with(|| if idempotent { "5" } else { "1" }.into());
        // Keyed records land in the partition Java's default partitioner picks.
        rd.insert("partitioner".into(), "murmur2_random".into());
        Ok(to_client_config(rd))
    }

    /// librdkafka properties of a sink task consumer (`Worker.baseConsumerConfigs`): manual commits, start
    /// from the earliest offset when the group has none. Also returns `max.poll.records`.
    pub fn consumer_config(
        &self,
        config: &ConsumerConfig,
    ) -> Result<(ClientConfig, usize), ClientConfigError> {
        let defaults = [
            ("enable.auto.commit", "false".to_owned()),
            ("auto.offset.reset", "earliest".to_owned()),
            // Java's consumer default: subscribing to a missing topic lets the broker create it (when the
            // broker allows), so a sink started before its source does not wait for a metadata refresh.
            ("allow.auto.create.topics", "true".to_owned()),
            ("client.id", config.client_id.clone()),
        ];
        let mut merged = self.layered(&defaults, &self.consumer, &config.properties);
        merged.insert("group.id".into(), config.group_id.clone());
        let max_poll_records = match merged.get("max.poll.records") {
            Some(v) => v.trim().parse::<usize>().map_err(|_| ClientConfigError {
                key: "max.poll.records".into(),
                message: format!("Invalid value {v}: expected a positive number"),
            })?,
            None => 500,
        };
        let mut rd = translate(&merged, ClientKind::Consumer)?;
        rd.insert("enable.auto.offset.store".into(), "false".into());
        // librdkafka stops fetching for `fetch.queue.backoff.ms` (1 s by default) whenever its local queue
        // holds `queued.min.messages`; a sink that drains faster than that idles most of each second
        // (measured: ~130k records/s with the CPU mostly idle). Java's consumer has no such pause.
        rd.insert("fetch.queue.backoff.ms".into(), "10".into());
        Ok((to_client_config(rd), max_poll_records))
    }

    /// A consumer outside any group that reads whole topics from their beginning (`KafkaBasedLog`'s), up to
    /// the high watermark as Apache's does (`read_uncommitted`, Java's default; librdkafka's is committed).
    pub fn reader_config(&self, client_id: &str) -> Result<ClientConfig, ClientConfigError> {
        let defaults = [
            ("enable.auto.commit", "false".to_owned()),
            ("auto.offset.reset", "earliest".to_owned()),
            ("isolation.level", "read_uncommitted".to_owned()),
            ("client.id", client_id.to_owned()),
        ];
        let mut merged = self.layered(&defaults, &self.consumer, &HashMap::new());
        // librdkafka refuses `assign` without a group id; the reader never joins or commits to it.
        merged.insert("group.id".into(), client_id.to_owned());
        merged.remove("group.instance.id");
        Ok(to_client_config(translate(&merged, ClientKind::Consumer)?))
    }

    /// A consumer outside any subscription, for reading or writing a group's committed offsets.
    fn group_inspector(&self, group: &str) -> Result<ClientConfig, ClientConfigError> {
        let mut merged = self.layered(&[], &self.consumer, &HashMap::new());
        merged.insert("group.id".into(), group.to_owned());
        merged.insert("enable.auto.commit".into(), "false".into());
        merged.remove("group.instance.id");
        Ok(to_client_config(translate(&merged, ClientKind::Consumer)?))
    }
}

fn to_client_config(props: std::collections::BTreeMap<String, String>) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (k, v) in props {
        c.set(k, v);
    }
    c
}

fn config_error(e: ClientConfigError) -> LogError {
    LogError::Invalid(e.to_string())
}

fn admin_error(code: RDKafkaErrorCode, what: &str) -> LogError {
    let text = format!("{what}: {code}");
    match code {
        RDKafkaErrorCode::UnknownTopicOrPartition => LogError::UnknownTopic(text),
        RDKafkaErrorCode::TopicAuthorizationFailed
        | RDKafkaErrorCode::ClusterAuthorizationFailed
        | RDKafkaErrorCode::GroupAuthorizationFailed
        | RDKafkaErrorCode::Authentication => LogError::Auth(text),
        RDKafkaErrorCode::InvalidReplicationFactor
        | RDKafkaErrorCode::InvalidPartitions
        | RDKafkaErrorCode::InvalidConfig
        | RDKafkaErrorCode::InvalidTopic
        | RDKafkaErrorCode::PolicyViolation
        | RDKafkaErrorCode::InvalidReplicaAssignment => LogError::Invalid(text),
        RDKafkaErrorCode::OperationTimedOut
        | RDKafkaErrorCode::RequestTimedOut
        | RDKafkaErrorCode::AllBrokersDown
        | RDKafkaErrorCode::BrokerTransportFailure
        | RDKafkaErrorCode::CoordinatorNotAvailable
        | RDKafkaErrorCode::NotController => LogError::Retriable(text),
        _ => LogError::Fatal(text),
    }
}

fn kafka_error(e: rdkafka::error::KafkaError, what: &str) -> LogError {
    match e.rdkafka_error_code() {
        Some(code) => admin_error(code, what),
        None => LogError::Fatal(format!("{what}: {e}")),
    }
}

/// Runs a blocking librdkafka call off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> LogResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| LogError::Fatal(format!("Kafka client call panicked: {e}")))
}

/// Creates a topic with `admin`; `Ok(false)` if it already existed.
async fn create_topic_on(admin: &AdminClient<HealthContext>, topic: NewTopic) -> LogResult<bool> {
    let name = topic.name.clone();
    let results = {
        let configs: Vec<(String, String)> = topic.configs.into_iter().collect();
        let mut new = RdNewTopic::new(
            &topic.name,
            topic.partitions.unwrap_or(-1),
            TopicReplication::Fixed(topic.replication_factor.map_or(-1, i32::from)),
        );
        for (k, v) in &configs {
            new = new.set(k, v);
        }
        let opts = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
        admin.create_topics([&new], &opts).await
    }
    .map_err(|e| kafka_error(e, &format!("Failed to create topic {name}")))?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(true),
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(false),
        Some(Err((_, code))) => Err(admin_error(code, &format!("Failed to create topic {name}"))),
        None => Err(LogError::Fatal(format!(
            "Creating topic {name} returned no result"
        ))),
    }
}

/// A worker's log on a Kafka cluster.
pub struct KafkaLog {
    settings: KafkaSettings,
    admin: Arc<AdminClient<HealthContext>>,
    admin_health: Arc<ClientHealth>,
    cluster_id: String,
}

impl KafkaLog {
    /// Connects an admin client and reads the cluster id, as Apache's worker does at startup; an
    /// unreachable cluster or rejected login is an error here rather than a hang later.
    pub async fn connect(settings: KafkaSettings) -> LogResult<Arc<KafkaLog>> {
        let config = settings.admin_config().map_err(config_error)?;
        let health = ClientHealth::new();
        let admin: AdminClient<HealthContext> = config
            .create_with_context(HealthContext {
                health: health.clone(),
            })
            .map_err(|e| LogError::Invalid(format!("Failed to create admin client: {e}")))?;
        let admin = Arc::new(admin);
        // The cluster id comes from a probe client whose errors are seen (see `HealthContext`).
        let probe: BaseProducer<HealthContext> = config
            .create_with_context(HealthContext {
                health: health.clone(),
            })
            .map_err(|e| LogError::Invalid(format!("Failed to create admin client: {e}")))?;
        let probe_health = health.clone();
        let cluster_id = blocking(move || {
            let started = std::time::Instant::now();
            // Ask in short steps so a rejected login ends the wait at once.
            while started.elapsed() < BOOTSTRAP_TIMEOUT {
                if let Some(id) = probe.client().fetch_cluster_id(Duration::from_millis(500)) {
                    return Ok(id);
                }
                probe.poll(Duration::from_millis(100));
                if let Some(e) = probe_health.fatal() {
                    return Err(e);
                }
            }
            Err(LogError::Retriable(format!(
                "no broker answered within {} s",
                BOOTSTRAP_TIMEOUT.as_secs()
            )))
        })
        .await?
        .map_err(|e| {
            let text = format!(
                "Failed to connect to and describe Kafka cluster. Check worker's broker connection and security properties. ({e})"
            );
            match e {
                LogError::Auth(_) => LogError::Auth(text),
                _ => LogError::Fatal(text),
            }
        })?;
        health.mark_connected();
        tracing::info!(%cluster_id, "Connected to the Kafka cluster.");
        Ok(Arc::new(KafkaLog {
            settings,
            admin,
            admin_health: health,
            cluster_id,
        }))
    }

    /// The client settings this log was built with.
    pub fn settings(&self) -> &KafkaSettings {
        &self.settings
    }

    async fn metadata(&self) -> LogResult<Metadata> {
        let admin = self.admin.clone();
        let health = self.admin_health.clone();
        blocking(move || {
            admin
                .inner()
                .fetch_metadata(None, ADMIN_TIMEOUT)
                .map_err(|e| {
                    health
                        .fatal()
                        .unwrap_or_else(|| kafka_error(e, "Failed to fetch cluster metadata"))
                })
        })
        .await?
    }

    async fn all_partitions(&self) -> LogResult<Vec<TopicPartition>> {
        let md = self.metadata().await?;
        Ok(md
            .topics()
            .iter()
            .filter(|t| !INTERNAL_TOPICS.contains(&t.name()))
            .flat_map(|t| {
                t.partitions()
                    .iter()
                    .map(|p| TopicPartition::new(t.name(), p.id()))
            })
            .collect())
    }
}

#[async_trait]
impl LogBackend for KafkaLog {
    fn cluster_id(&self) -> String {
        self.cluster_id.clone()
    }

    fn auto_creates_topics(&self) -> bool {
        false
    }

    async fn create_topic(&self, topic: NewTopic) -> LogResult<bool> {
        create_topic_on(&self.admin, topic).await
    }

    async fn create_topic_with(
        &self,
        topic: NewTopic,
        admin_overrides: &HashMap<String, String>,
    ) -> LogResult<bool> {
        if admin_overrides.is_empty() {
            return self.create_topic(topic).await;
        }
        let config = self
            .settings
            .admin_config_with(admin_overrides)
            .map_err(config_error)?;
        let admin: AdminClient<HealthContext> = config
            .create_with_context(HealthContext {
                health: ClientHealth::new(),
            })
            .map_err(|e| LogError::Invalid(format!("Failed to create admin client: {e}")))?;
        let result = create_topic_on(&admin, topic).await;
        // Dropping an admin client joins its polling thread.
        let _ = blocking(move || drop(admin)).await;
        result
    }

    async fn partition_count(&self, topic: &str) -> LogResult<Option<i32>> {
        let md = self.metadata().await?;
        Ok(md
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len() as i32))
    }

    async fn list_topics(&self) -> LogResult<Vec<String>> {
        let md = self.metadata().await?;
        let mut names: Vec<String> = md
            .topics()
            .iter()
            .map(|t| t.name().to_owned())
            .filter(|n| !INTERNAL_TOPICS.contains(&n.as_str()))
            .collect();
        names.sort();
        Ok(names)
    }

    async fn end_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> LogResult<HashMap<TopicPartition, i64>> {
        let admin = self.admin.clone();
        let partitions = partitions.to_vec();
        blocking(move || {
            let mut out = HashMap::new();
            for tp in partitions {
                let (_, high) = admin
                    .inner()
                    .fetch_watermarks(&tp.topic, tp.partition, ADMIN_TIMEOUT)
                    .map_err(|e| kafka_error(e, &format!("Failed to read end offset of {tp}")))?;
                out.insert(tp, high);
            }
            Ok(out)
        })
        .await?
    }

    fn producer(&self, config: ProducerConfig) -> LogResult<Arc<dyn LogProducer>> {
        let rd = self
            .settings
            .producer_config(&config)
            .map_err(config_error)?;
        Ok(Arc::new(KafkaProducer::create(&rd)?))
    }

    fn consumer(&self, config: ConsumerConfig) -> LogResult<Box<dyn LogConsumer>> {
        let (rd, max_poll_records) = self
            .settings
            .consumer_config(&config)
            .map_err(config_error)?;
        Ok(Box::new(KafkaConsumer::create(&rd, max_poll_records)?))
    }

    async fn group_offsets(&self, group_id: &str) -> LogResult<HashMap<TopicPartition, i64>> {
        let partitions = self.all_partitions().await?;
        let config = self
            .settings
            .group_inspector(group_id)
            .map_err(config_error)?;
        blocking(move || {
            let consumer: BaseConsumer = config
                .create()
                .map_err(|e| LogError::Invalid(format!("Failed to create consumer: {e}")))?;
            let mut tpl = TopicPartitionList::new();
            for tp in &partitions {
                tpl.add_partition(&tp.topic, tp.partition);
            }
            let committed = retry_while_coordinator_loads(|| {
                consumer.committed_offsets(tpl.clone(), ADMIN_TIMEOUT)
            })
            .map_err(|e| kafka_error(e, "Failed to read committed offsets"))?;
            Ok(committed_offsets(&committed))
        })
        .await?
    }

    async fn alter_group_offsets(
        &self,
        group_id: &str,
        offsets: &HashMap<TopicPartition, Option<i64>>,
    ) -> LogResult<()> {
        let deletions: Vec<&TopicPartition> = offsets
            .iter()
            .filter(|(_, o)| o.is_none())
            .map(|(tp, _)| tp)
            .collect();
        if !deletions.is_empty() {
            let committed = self.group_offsets(group_id).await?;
            let all_deleted = committed.keys().all(|tp| deletions.contains(&tp))
                && offsets.values().all(Option::is_none);
            if !all_deleted {
                return Err(LogError::Invalid(
                    "Deleting the committed offsets of some partitions of a consumer group is not supported on Kafka yet; reset all of the connector's offsets instead (DELETE /connectors/{connector}/offsets)".into(),
                ));
            }
            return self.delete_group(group_id).await;
        }
        let config = self
            .settings
            .group_inspector(group_id)
            .map_err(config_error)?;
        let mut tpl = TopicPartitionList::new();
        for (tp, off) in offsets {
            if let Some(o) = off {
                tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*o))
                    .map_err(|e| LogError::Invalid(e.to_string()))?;
            }
        }
        blocking(move || {
            let consumer: BaseConsumer = config
                .create()
                .map_err(|e| LogError::Invalid(format!("Failed to create consumer: {e}")))?;
            retry_while_coordinator_loads(|| consumer.commit(&tpl, CommitMode::Sync))
                .map_err(|e| kafka_error(e, "Failed to alter committed offsets"))
        })
        .await?
    }

    async fn delete_group(&self, group_id: &str) -> LogResult<()> {
        let opts = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
        let results = self
            .admin
            .delete_groups(&[group_id], &opts)
            .await
            .map_err(|e| kafka_error(e, &format!("Failed to delete consumer group {group_id}")))?;
        match results.into_iter().next() {
            Some(Ok(_)) | None => Ok(()),
            Some(Err((_, RDKafkaErrorCode::GroupIdNotFound))) => Ok(()),
            Some(Err((_, RDKafkaErrorCode::NonEmptyGroup))) => Err(LogError::Invalid(format!(
                "Consumer group {group_id} still has active members"
            ))),
            Some(Err((_, code))) => Err(admin_error(
                code,
                &format!("Failed to delete consumer group {group_id}"),
            )),
        }
    }

    async fn topic_cleanup_policy(&self, topic: &str) -> LogResult<Option<String>> {
        let opts = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
        let what = format!("Error while attempting to describe topic config for topic '{topic}'");
        let results = self
            .admin
            .describe_configs([&ResourceSpecifier::Topic(topic)], &opts)
            .await
            .map_err(|e| kafka_error(e, &what))?;
        match results.into_iter().next() {
            Some(Ok(resource)) => Ok(resource
                .get("cleanup.policy")
                .and_then(|entry| entry.value.clone())),
            // As Apache's `TopicAdmin.describeTopicConfigs`: a missing topic, a denied or unsupported describe
            // leave the policy unknown.
            Some(Err(
                RDKafkaErrorCode::UnknownTopicOrPartition
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::UnsupportedVersion,
            ))
            | None => Ok(None),
            Some(Err(code)) => Err(admin_error(code, &what)),
        }
    }

    async fn open_internal_topic(
        &self,
        topic: &str,
        client_id: &str,
        on_record: TopicRecordCallback,
    ) -> LogResult<Arc<dyn InternalTopicLog>> {
        let log = crate::TopicLog::start(&self.settings, topic, client_id, on_record).await?;
        Ok(Arc::new(log))
    }
}
