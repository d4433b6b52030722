//! A real Apache Kafka broker (4.1.1, KRaft, single node) for integration tests, run from Maven Central jars.
//!
//! - [`kafka()`]: the shared broker of this test process, started on first use (or the cluster named by
//!   `KAFKA_BOOTSTRAP=host:port`, in which case nothing is started and the SASL/SSL fields are `None`).
//! - [`KafkaBroker::start`]: a broker of the caller's own, for tests that stop, kill and restart it.
//!
//! The jars come from `testing/kafka/pom.xml` through `mvn dependency:copy-dependencies` into
//! `<target>/kafka-broker/libs` once (a marker file records the pom it was fetched for; a file lock keeps
//! concurrent test processes from fetching at once). Each broker runs in `<target>/kafka-broker/run-<pid>-*`
//! with PLAINTEXT, SASL_PLAINTEXT (PLAIN and SCRAM-SHA-512), SSL and CONTROLLER listeners on free loopback
//! ports. The java process is spawned with `PR_SET_PDEATHSIG = SIGKILL` from a thread that lives as long as
//! the test process, so it dies with the test process however that ends.
//!
//! Every function here blocks (seconds at most, except the first start, which may download the jars). They
//! can be called from plain `#[test]`s and from `#[tokio::test]`s alike: work that needs a tokio runtime
//! (admin requests, the producer) runs on a scoped thread with its own runtime. A test that has in-process
//! tasks which must make progress meanwhile should call them through `tokio::task::spawn_blocking`.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use rdkafka;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{
    BaseProducer, DeliveryResult, FutureProducer, FutureRecord, Producer, ProducerContext,
};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

/// How long a broker may take from spawn to answering a metadata request.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long [`KafkaBroker::stop`] waits after SIGTERM before it sends SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// The heap of a broker.
const BROKER_HEAP: &str = "-Xmx512m";

const PLAIN_USER: (&str, &str) = ("causeway-plain", "causeway-plain-secret");
const SCRAM_USER: (&str, &str) = ("causeway-scram", "causeway-scram-secret");
/// Password of the broker keystore and of the clients' PKCS12 truststore.
const STORE_PASSWORD: &str = "causeway-test";

// ---------------------------------------------------------------------------------------------------------
// Cluster description and client helpers
// ---------------------------------------------------------------------------------------------------------

/// Connection details of a running cluster.
#[derive(Debug, Clone)]
pub struct KafkaCluster {
    /// PLAINTEXT listener, `127.0.0.1:<port>`.
    pub bootstrap: String,
    /// SASL_PLAINTEXT listener (mechanisms PLAIN and SCRAM-SHA-512).
    pub sasl_bootstrap: Option<String>,
    /// SSL listener (server authentication only; the broker certificate has SAN `IP:127.0.0.1` and
    /// `DNS:localhost`).
    pub ssl_bootstrap: Option<String>,
    /// CA certificate (PEM) that signed the broker certificate.
    pub ca_pem: Option<PathBuf>,
    /// The same CA as a PKCS12 truststore (a trusted-certificate entry, as Java's `keytool` writes it).
    pub ca_truststore_p12: Option<PathBuf>,
    /// Password of [`KafkaCluster::ca_truststore_p12`].
    pub truststore_password: Option<String>,
    /// User and password the broker accepts with SASL/PLAIN.
    pub plain_user: (String, String),
    /// User and password the broker accepts with SASL/SCRAM-SHA-512.
    pub scram_user: (String, String),
    /// The broker's log4j log (None for an external cluster).
    pub log_file: Option<PathBuf>,
    /// True when the cluster came from `KAFKA_BOOTSTRAP` and the harness started nothing.
    pub external: bool,
}

/// A record read back by [`KafkaCluster::read_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRecord {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes (`None` for a tombstone).
    pub value: Option<Vec<u8>>,
    /// Headers in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Timestamp in milliseconds (create or log-append time), if any.
    pub timestamp: Option<i64>,
}

impl ReadRecord {
    /// The key as UTF-8 (lossy), for assertions.
    pub fn key_str(&self) -> Option<String> {
        self.key
            .as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// The value as UTF-8 (lossy), for assertions.
    pub fn value_str(&self) -> Option<String> {
        self.value
            .as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// A record for [`KafkaCluster::produce_records`].
#[derive(Debug, Clone, Default)]
pub struct ProduceRecord<'a> {
    /// Key bytes.
    pub key: Option<&'a [u8]>,
    /// Value bytes (`None` for a tombstone).
    pub value: Option<&'a [u8]>,
    /// Headers in order.
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
    /// Partition (else the murmur2 partitioner picks one, as the Java client would).
    pub partition: Option<i32>,
    /// Timestamp in milliseconds (else the producer's clock).
    pub timestamp: Option<i64>,
}

impl KafkaCluster {
    /// The cluster named by `KAFKA_BOOTSTRAP`: PLAINTEXT only.
    fn external(bootstrap: String) -> KafkaCluster {
        KafkaCluster {
            bootstrap,
            sasl_bootstrap: None,
            ssl_bootstrap: None,
            ca_pem: None,
            ca_truststore_p12: None,
            truststore_password: None,
            plain_user: (PLAIN_USER.0.into(), PLAIN_USER.1.into()),
            scram_user: (SCRAM_USER.0.into(), SCRAM_USER.1.into()),
            log_file: None,
            external: true,
        }
    }

    /// A librdkafka config for the PLAINTEXT listener.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap);
        c
    }

    /// A librdkafka config for the SASL_PLAINTEXT listener with `mechanism` (`PLAIN`, `SCRAM-SHA-512`) and
    /// the given credentials; `None` when the cluster has no such listener.
    pub fn sasl_config(&self, mechanism: &str, user: &str, password: &str) -> Option<ClientConfig> {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.sasl_bootstrap.as_deref()?)
            .set("security.protocol", "SASL_PLAINTEXT")
            .set("sasl.mechanism", mechanism)
            .set("sasl.username", user)
            .set("sasl.password", password);
        Some(c)
    }

    /// [`KafkaCluster::sasl_config`] with PLAIN and the harness's PLAIN user.
    pub fn sasl_plain_config(&self) -> Option<ClientConfig> {
        self.sasl_config("PLAIN", &self.plain_user.0, &self.plain_user.1)
    }

    /// [`KafkaCluster::sasl_config`] with SCRAM-SHA-512 and the harness's SCRAM user.
    pub fn sasl_scram_config(&self) -> Option<ClientConfig> {
        self.sasl_config("SCRAM-SHA-512", &self.scram_user.0, &self.scram_user.1)
    }

    /// A librdkafka config for the SSL listener that trusts the harness CA (`ssl.ca.location`).
    pub fn ssl_config(&self) -> Option<ClientConfig> {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.ssl_bootstrap.as_deref()?)
            .set("security.protocol", "SSL")
            .set(
                "ssl.ca.location",
                self.ca_pem.as_ref()?.display().to_string(),
            );
        Some(c)
    }

    /// The last `lines` lines of the broker log (empty for an external cluster).
    pub fn log_tail(&self, lines: usize) -> String {
        self.log_file
            .as_deref()
            .map(|p| tail_of(p, lines))
            .unwrap_or_default()
    }

    /// Creates `name` with `partitions` partitions, replication factor 1, and waits until every partition
    /// has a leader. Panics on any error, including an existing topic.
    pub fn create_topic(&self, name: &str, partitions: i32) {
        self.create_topic_with(name, partitions, &[]);
    }

    /// As [`KafkaCluster::create_topic`] with topic configs (e.g. `("cleanup.policy", "compact")`).
    pub fn create_topic_with(&self, name: &str, partitions: i32, configs: &[(&str, &str)]) {
        let config = self.client_config();
        let result = on_runtime(async move {
            let admin: AdminClient<DefaultClientContext> =
                config.create().expect("create Kafka admin client");
            let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
            for (k, v) in configs {
                topic = topic.set(k, v);
            }
            let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
            admin.create_topics([&topic], &opts).await
        });
        match result {
            Ok(results) => {
                for r in results {
                    if let Err((topic, code)) = r {
                        panic!("create topic {topic}: {code}");
                    }
                }
            }
            Err(e) => panic!("create topic {name}: {e}"),
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self
                .topic_partitions_with_leaders(name)
                .is_some_and(|(n, led)| n == partitions as usize && led)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "topic {name} has no leader for all {partitions} partitions after 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The number of partitions of `topic`, or `None` if the broker does not know it.
    pub fn topic_partitions(&self, topic: &str) -> Option<usize> {
        self.topic_partitions_with_leaders(topic).map(|(n, _)| n)
    }

    fn topic_partitions_with_leaders(&self, topic: &str) -> Option<(usize, bool)> {
        let consumer = self.plain_consumer(None);
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .ok()?;
        let t = md.topics().iter().find(|t| t.name() == topic)?;
        if t.error().is_some() || t.partitions().is_empty() {
            return None;
        }
        let led = t
            .partitions()
            .iter()
            .all(|p| p.leader() >= 0 && p.error().is_none());
        Some((t.partitions().len(), led))
    }

    /// Names of the topics the broker knows (internal ones included).
    pub fn topics(&self) -> Vec<String> {
        let consumer = self.plain_consumer(None);
        let md = consumer
            .fetch_metadata(None, Duration::from_secs(10))
            .expect("fetch metadata");
        let mut names: Vec<String> = md.topics().iter().map(|t| t.name().to_owned()).collect();
        names.sort();
        names
    }

    /// Produces `(key, value)` records to `topic` (acks=all, murmur2 partitioner) and waits for all of them;
    /// returns `(partition, offset)` of each. Panics on a delivery error.
    pub fn produce(
        &self,
        topic: &str,
        records: &[(Option<&[u8]>, Option<&[u8]>)],
    ) -> Vec<(i32, i64)> {
        let records: Vec<ProduceRecord<'_>> = records
            .iter()
            .map(|&(key, value)| ProduceRecord {
                key,
                value,
                ..ProduceRecord::default()
            })
            .collect();
        self.produce_records(topic, &records)
    }

    /// As [`KafkaCluster::produce`] with headers, partitions and timestamps.
    pub fn produce_records(&self, topic: &str, records: &[ProduceRecord<'_>]) -> Vec<(i32, i64)> {
        let mut config = self.client_config();
        config
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .set("message.timeout.ms", "30000")
            .set("linger.ms", "5");
        on_runtime(async move {
            let producer: FutureProducer = config.create().expect("create Kafka producer");
            let mut pending = Vec::with_capacity(records.len());
            for r in records {
                let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
                if let Some(k) = r.key {
                    rec = rec.key(k);
                }
                if let Some(v) = r.value {
                    rec = rec.payload(v);
                }
                if let Some(p) = r.partition {
                    rec = rec.partition(p);
                }
                if let Some(ts) = r.timestamp {
                    rec = rec.timestamp(ts);
                }
                if !r.headers.is_empty() {
                    let mut hs = rdkafka::message::OwnedHeaders::new_with_capacity(r.headers.len());
                    for &(k, v) in &r.headers {
                        hs = hs.insert(rdkafka::message::Header { key: k, value: v });
                    }
                    rec = rec.headers(hs);
                }
                // The queue holds 100 000 messages by default; seeding stays well below that.
                let fut = producer
                    .send_result(rec)
                    .unwrap_or_else(|(e, _)| panic!("enqueue record for {topic}: {e}"));
                pending.push(fut);
            }
            let mut out = Vec::with_capacity(pending.len());
            for fut in pending {
                match fut.await {
                    Ok(Ok(d)) => out.push((d.partition, d.offset)),
                    Ok(Err((e, _))) => panic!("produce to {topic}: {e}"),
                    Err(_) => panic!("produce to {topic}: delivery future cancelled"),
                }
            }
            out
        })
    }

    /// Reads `topic` from the beginning of every partition (manual assignment, no consumer group,
    /// `read_committed`) until `expected` records arrived or `timeout` passed; returns what it read, sorted by
    /// partition and offset. Callers assert on the count.
    pub fn read_all(&self, topic: &str, expected: usize, timeout: Duration) -> Vec<ReadRecord> {
        self.read(topic, Some(expected), timeout, "read_committed")
    }

    /// As [`KafkaCluster::read_all`] with `read_uncommitted` (aborted transactional records included).
    pub fn read_all_uncommitted(
        &self,
        topic: &str,
        expected: usize,
        timeout: Duration,
    ) -> Vec<ReadRecord> {
        self.read(topic, Some(expected), timeout, "read_uncommitted")
    }

    /// Reads everything `topic` holds now (`read_committed`): stops when every partition reached its end,
    /// or panics after `timeout`.
    pub fn read_to_end(&self, topic: &str, timeout: Duration) -> Vec<ReadRecord> {
        self.read(topic, None, timeout, "read_committed")
    }

    fn read(
        &self,
        topic: &str,
        expected: Option<usize>,
        timeout: Duration,
        isolation: &str,
    ) -> Vec<ReadRecord> {
        let deadline = Instant::now() + timeout;
        let mut config = self.client_config();
        // librdkafka wants a group.id even for a manually assigned consumer; this one never joins or
        // commits.
        config
            .set(
                "group.id",
                format!("causeway-testkit-reader-{:x}", random_u64()),
            )
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("isolation.level", isolation)
            .set("enable.partition.eof", "true")
            .set("fetch.wait.max.ms", "100");
        let consumer: BaseConsumer = config.create().expect("create Kafka consumer");
        let partitions = loop {
            let n = consumer
                .fetch_metadata(Some(topic), Duration::from_secs(5))
                .ok()
                .and_then(|md| {
                    md.topics()
                        .iter()
                        .find(|t| t.name() == topic && t.error().is_none())
                        .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<_>>())
                })
                .filter(|p| !p.is_empty());
            if let Some(p) = n {
                break p;
            }
            if Instant::now() >= deadline {
                if expected.is_none() {
                    panic!("topic {topic} has no partitions after {timeout:?}");
                }
                return Vec::new();
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut tpl = TopicPartitionList::new();
        for p in &partitions {
            tpl.add_partition_offset(topic, *p, Offset::Beginning)
                .expect("add partition");
        }
        consumer.assign(&tpl).expect("assign partitions");
        let mut out = Vec::new();
        let mut at_end: HashMap<i32, bool> = partitions.iter().map(|p| (*p, false)).collect();
        loop {
            if expected.is_some_and(|n| out.len() >= n) {
                break;
            }
            if expected.is_none() && at_end.values().all(|e| *e) {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                if expected.is_none() {
                    panic!(
                        "read_to_end({topic}): not at the end of every partition after {timeout:?} \
                         ({} records so far)",
                        out.len()
                    );
                }
                break;
            }
            match consumer.poll((deadline - now).min(Duration::from_millis(200))) {
                None => {}
                Some(Ok(m)) => {
                    at_end.insert(m.partition(), false);
                    out.push(ReadRecord {
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        value: m.payload().map(<[u8]>::to_vec),
                        headers: m
                            .headers()
                            .map(|hs| {
                                hs.iter()
                                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        timestamp: m.timestamp().to_millis(),
                    });
                }
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    at_end.insert(p, true);
                }
                Some(Err(e)) => panic!("read {topic}: {e}"),
            }
        }
        out.sort_by_key(|r| (r.partition, r.offset));
        out
    }

    /// Committed offsets of consumer group `group` for every partition of `topics` that has one
    /// (an OffsetFetch request; the harness does not join the group).
    pub fn group_offsets(&self, group: &str, topics: &[&str]) -> HashMap<(String, i32), i64> {
        let mut config = self.client_config();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false");
        let consumer: BaseConsumer = config.create().expect("create Kafka consumer");
        let mut tpl = TopicPartitionList::new();
        for topic in topics {
            let md = consumer
                .fetch_metadata(Some(topic), Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("metadata of {topic}: {e}"));
            for t in md.topics().iter().filter(|t| t.name() == *topic) {
                for p in t.partitions() {
                    tpl.add_partition(topic, p.id());
                }
            }
        }
        if tpl.count() == 0 {
            return HashMap::new();
        }
        // Right after a broker starts, the group coordinator may still be loading: retry those answers.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let committed = loop {
            match consumer.committed_offsets(tpl.clone(), Duration::from_secs(10)) {
                Ok(c) => break c,
                Err(e)
                    if std::time::Instant::now() < deadline
                        && matches!(
                            e.rdkafka_error_code(),
                            Some(
                                RDKafkaErrorCode::NotCoordinator
                                    | RDKafkaErrorCode::CoordinatorLoadInProgress
                                    | RDKafkaErrorCode::CoordinatorNotAvailable
                            )
                        ) =>
                {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("committed offsets of group {group}: {e}"),
            }
        };
        committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some(((e.topic().to_owned(), e.partition()), o)),
                _ => None,
            })
            .collect()
    }

    fn plain_consumer(&self, group: Option<&str>) -> BaseConsumer {
        let mut config = self.client_config();
        if let Some(g) = group {
            config.set("group.id", g);
        }
        config.create().expect("create Kafka consumer")
    }
}

/// What [`probe`] saw: the number of brokers in the metadata, or the client's errors.
pub type ProbeResult = Result<usize, String>;

/// Fetches cluster metadata with `config` within `timeout`. On failure the error text includes the errors the
/// client reported meanwhile (e.g. `authentication error: SASL authentication error: ...` or `SSL handshake
/// failed: ... certificate verify failed`), so tests can tell an authentication or TLS failure from an
/// unreachable broker; such a failure returns as soon as it is seen.
pub fn probe(config: &ClientConfig, timeout: Duration) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let context = ErrorCollector::default();
    let seen = context.seen.clone();
    let mut config = config.clone();
    config
        .set("reconnect.backoff.ms", "50")
        .set("reconnect.backoff.max.ms", "500");
    // A producer serves librdkafka's error events to its context (a consumer turns them into poll results
    // without the reason text).
    let client: BaseProducer<ErrorCollector> = config
        .create_with_context(context)
        .map_err(|e| format!("create client: {e}"))?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let result = client
            .client()
            .fetch_metadata(None, left.min(Duration::from_millis(500)));
        client.poll(Duration::ZERO);
        let (errors, fatal) = {
            let seen = seen.lock().expect("client errors");
            (seen.errors.join("; "), seen.fatal)
        };
        match result {
            Ok(md) if !md.brokers().is_empty() => return Ok(md.brokers().len()),
            Ok(_) if left.is_zero() => {
                return Err(format!("no brokers in metadata; client errors: [{errors}]"));
            }
            Err(e) if left.is_zero() || fatal => {
                return Err(format!("{e}; client errors: [{errors}]"));
            }
            _ => {}
        }
    }
}

/// Errors a client reported, and whether one of them means retrying is pointless.
#[derive(Default)]
struct SeenErrors {
    errors: Vec<String>,
    fatal: bool,
}

/// A client context that records librdkafka's error events and connection failures.
#[derive(Default)]
struct ErrorCollector {
    seen: Arc<Mutex<SeenErrors>>,
}

impl ErrorCollector {
    fn record(&self, text: String, fatal: bool) {
        let mut seen = self.seen.lock().expect("client errors");
        seen.fatal |= fatal;
        if !seen.errors.contains(&text) {
            seen.errors.push(text);
        }
    }
}

impl ClientContext for ErrorCollector {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        // Connection failures (TLS handshakes among them) come as FAIL log lines, not as error events.
        let is_error = matches!(
            level,
            RDKafkaLogLevel::Emerg
                | RDKafkaLogLevel::Alert
                | RDKafkaLogLevel::Critical
                | RDKafkaLogLevel::Error
        );
        if is_error && fac == "FAIL" {
            let fatal = message.contains("SSL handshake failed")
                || message.contains("SASL authentication error");
            // Drop the "(after N ms in state ...)" tail so repeats collapse.
            let text = message.split(" (after ").next().unwrap_or(message);
            self.record(text.to_owned(), fatal);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::Authentication) => {
                self.record(format!("authentication error: {reason}"), true);
            }
            Some(RDKafkaErrorCode::SSL) => self.record(format!("SSL error: {reason}"), true),
            _ => self.record(format!("{error}: {reason}"), false),
        }
    }
}

impl ProducerContext for ErrorCollector {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

/// Runs `fut` to completion on a fresh current-thread runtime on a scoped thread, so it works inside and
/// outside a tokio runtime alike.
fn on_runtime<F>(fut: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime")
                .block_on(fut)
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// `<prefix>-<random hex>`: a topic or group name no earlier run used, so tests can run again against the
/// same (e.g. `KAFKA_BOOTSTRAP`) cluster.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{:012x}", random_u64() & 0xffff_ffff_ffff)
}

// ---------------------------------------------------------------------------------------------------------
// The shared broker
// ---------------------------------------------------------------------------------------------------------

enum Shared {
    External(KafkaCluster),
    Local(KafkaBroker),
}

/// The shared cluster of this test process: the one in `KAFKA_BOOTSTRAP` if set, else a broker started on
/// first use and killed when the process exits. Its run directory is removed by the next process's first
/// start (stale `run-<pid>-*` directories whose process is gone).
pub fn kafka() -> &'static KafkaCluster {
    static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        if let Ok(b) = std::env::var("KAFKA_BOOTSTRAP")
            && !b.trim().is_empty()
        {
            return Ok(Shared::External(KafkaCluster::external(
                b.trim().to_owned(),
            )));
        }
        // Remember a failed start so every later test fails at once with the same message instead of
        // waiting another minute each.
        std::panic::catch_unwind(AssertUnwindSafe(KafkaBroker::start))
            .map(Shared::Local)
            .map_err(|p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "unknown panic".to_owned())
            })
    });
    match shared {
        Ok(Shared::External(c)) => c,
        Ok(Shared::Local(b)) => b.cluster(),
        Err(e) => panic!("the shared Kafka broker failed to start: {e}"),
    }
}

// ---------------------------------------------------------------------------------------------------------
// A broker process
// ---------------------------------------------------------------------------------------------------------

/// A broker of the caller's own, in a fresh directory on free ports. Dropping it kills the process and
/// removes the directory.
pub struct KafkaBroker {
    cluster: KafkaCluster,
    dir: tempfile::TempDir,
    /// Options of the broker's `java` before the main class (kept for restarts).
    jvm_options: Vec<String>,
    child: Option<Child>,
    /// Milliseconds from spawn to ready, of the last start.
    startup_ms: u128,
}

impl std::fmt::Debug for KafkaBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBroker")
            .field("bootstrap", &self.cluster.bootstrap)
            .field("dir", &self.dir.path())
            .field("pid", &self.pid())
            .finish()
    }
}

impl KafkaBroker {
    /// Starts a broker with the harness's settings and waits until it answers a metadata request.
    pub fn start() -> KafkaBroker {
        Self::start_with(&[])
    }

    /// As [`KafkaBroker::start`] with extra or overriding `server.properties` entries.
    pub fn start_with(extra: &[(&str, &str)]) -> KafkaBroker {
        Self::start_with_jvm(extra, &[BROKER_HEAP])
    }

    /// As [`KafkaBroker::start_with`], with `jvm_options` (heap, collector …) instead of the harness's small
    /// heap: benchmarks run the broker as `kafka-server-start.sh` does.
    pub fn start_with_jvm(extra: &[(&str, &str)], jvm_options: &[&str]) -> KafkaBroker {
        let t0 = Instant::now();
        let libs = broker_libs();
        let jars_ms = t0.elapsed().as_millis();
        let home = broker_home();
        sweep_stale_runs(&home);
        let dir = tempfile::Builder::new()
            .prefix(&format!("run-{}-", std::process::id()))
            .tempdir_in(&home)
            .expect("broker run dir");
        let root = dir.path();
        fs::create_dir_all(root.join("tmp")).expect("broker tmp dir");

        let ports = Ports::pick();
        let tls = make_tls(&root.join("tls"));
        let log_file = root.join("broker.log");
        write_log4j(root, &log_file);
        write_server_properties(root, &ports, &tls, extra);
        format_storage(root, libs);

        let cluster = KafkaCluster {
            bootstrap: format!("127.0.0.1:{}", ports.plaintext),
            sasl_bootstrap: Some(format!("127.0.0.1:{}", ports.sasl)),
            ssl_bootstrap: Some(format!("127.0.0.1:{}", ports.ssl)),
            ca_pem: Some(tls.ca_pem.clone()),
            ca_truststore_p12: Some(tls.truststore_p12.clone()),
            truststore_password: Some(STORE_PASSWORD.to_owned()),
            plain_user: (PLAIN_USER.0.into(), PLAIN_USER.1.into()),
            scram_user: (SCRAM_USER.0.into(), SCRAM_USER.1.into()),
            log_file: Some(log_file),
            external: false,
        };
        let mut broker = KafkaBroker {
            cluster,
            dir,
            jvm_options: jvm_options.iter().map(|o| o.to_string()).collect(),
            child: None,
            startup_ms: 0,
        };
        broker.spawn_and_wait();
        eprintln!(
            "kafka harness: broker {} ready in {:.1} s (jars {:.1} s, process {:.1} s), dir {}",
            broker.cluster.bootstrap,
            t0.elapsed().as_secs_f64(),
            jars_ms as f64 / 1000.0,
            broker.startup_ms as f64 / 1000.0,
            broker.dir.path().display()
        );
        broker
    }

    /// Connection details.
    pub fn cluster(&self) -> &KafkaCluster {
        &self.cluster
    }

    /// The broker's directory (config, data, logs, certificates).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The java process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Milliseconds from spawning the java process until it answered a metadata request, of the last start.
    pub fn startup_ms(&self) -> u128 {
        self.startup_ms
    }

    /// Sends SIGTERM and waits for the process to exit (a clean, controlled shutdown); sends SIGKILL after
    /// 15 s. Does nothing if the broker is not running.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    eprintln!(
                        "kafka harness: broker {} ignored SIGTERM for {STOP_TIMEOUT:?}; killing it",
                        self.cluster.bootstrap
                    );
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
            }
        }
    }

    /// Kills the process with SIGKILL and reaps it. Does nothing if the broker is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same ports with the same data (stopping it first with
    /// [`KafkaBroker::stop`] if it runs), and waits until it is ready.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn_and_wait();
        eprintln!(
            "kafka harness: broker {} restarted in {:.1} s",
            self.cluster.bootstrap,
            self.startup_ms as f64 / 1000.0
        );
    }

    fn spawn_and_wait(&mut self) {
        let root = self.dir.path();
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("broker.out"))
            .expect("broker.out");
        let mut cmd = java_command(root, broker_libs());
        cmd.args(&self.jvm_options)
            .arg("kafka.Kafka")
            .arg(root.join("server.properties"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("broker.out fd"))
            .stderr(out);
        let started = Instant::now();
        self.child = Some(spawn_tied_to_process(cmd).expect("spawn the Kafka broker (java)"));
        self.wait_ready(started);
        self.startup_ms = started.elapsed().as_millis();
    }

    fn wait_ready(&mut self, started: Instant) {
        let mut config = self.cluster.client_config();
        config
            .set("reconnect.backoff.ms", "50")
            .set("reconnect.backoff.max.ms", "200")
            .set("socket.connection.setup.timeout.ms", "2000");
        let consumer: BaseConsumer = config.create().expect("create probe client");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!(
                    "the Kafka broker exited with {status} before it was ready; {}",
                    self.failure_context()
                );
            }
            if consumer
                .fetch_metadata(None, Duration::from_millis(500))
                .is_ok_and(|md| !md.brokers().is_empty())
            {
                return;
            }
            if started.elapsed() > READY_TIMEOUT {
                self.kill();
                panic!(
                    "the Kafka broker was not ready within {READY_TIMEOUT:?}; {}",
                    self.failure_context()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn failure_context(&self) -> String {
        let root = self.dir.path();
        format!(
            "stdout/stderr:\n{}\nlast lines of {}:\n{}",
            tail_of(&root.join("broker.out"), 40),
            root.join("broker.log").display(),
            tail_of(&root.join("broker.log"), 80)
        )
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------------------------------------
// Files: jars, config, certificates
// ---------------------------------------------------------------------------------------------------------

/// The workspace root: the nearest ancestor of this crate holding a `Cargo.toml` with `[workspace]`.
fn workspace_root() -> PathBuf {
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    loop {
        let manifest = dir.join("Cargo.toml");
        if fs::read_to_string(&manifest).is_ok_and(|t| t.contains("[workspace]")) {
            return dir.to_path_buf();
        }
        dir = dir
            .parent()
            .expect("a workspace Cargo.toml above causeway-testkit");
    }
}

/// `<target>/kafka-broker`, from `CARGO_TARGET_DIR` or `<workspace>/target`.
fn broker_home() -> PathBuf {
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if !t.is_empty() => root.join(t),
        _ => root.join("target"),
    };
    let home = target.join("kafka-broker");
    fs::create_dir_all(&home).expect("create <target>/kafka-broker");
    home
}

/// The directory of the broker's jars, fetched with Maven on first use (once per pom version).
pub fn broker_libs() -> &'static Path {
    static LIBS: OnceLock<PathBuf> = OnceLock::new();
    LIBS.get_or_init(fetch_libs)
}

fn fetch_libs() -> PathBuf {
    let home = broker_home();
    let pom = workspace_root().join("testing/kafka/pom.xml");
    let pom_text =
        fs::read_to_string(&pom).unwrap_or_else(|e| panic!("read {}: {e}", pom.display()));
    let libs = home.join("libs");
    let marker = home.join("libs.ok");
    let fresh = || fs::read_to_string(&marker).is_ok_and(|m| m == pom_text) && libs.is_dir();
    if fresh() {
        return libs;
    }
    let lock = fs::File::create(home.join("libs.lock")).expect("create libs.lock");
    lock.lock().expect("lock libs.lock");
    if fresh() {
        return libs;
    }
    let t0 = Instant::now();
    eprintln!(
        "kafka harness: fetching the Kafka broker jars with Maven into {}",
        libs.display()
    );
    let staging = home.join("libs.tmp");
    let _ = fs::remove_dir_all(&staging);
    let _ = fs::remove_file(&marker);
    let output = Command::new("mvn")
        .args(["-B", "-q", "-f"])
        .arg(&pom)
        .args(["dependency:copy-dependencies", "-DincludeScope=runtime"])
        .arg(format!("-DoutputDirectory={}", staging.display()))
        .current_dir(&home)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run mvn (is Maven installed? apt-get install maven openjdk-17-jdk-headless): {e}"
            )
        });
    let has_broker = fs::read_dir(&staging).is_ok_and(|d| {
        d.filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("kafka_2.13-"))
    });
    if !output.status.success() || !has_broker {
        panic!(
            "mvn dependency:copy-dependencies for {} failed ({}):\n{}\n{}",
            pom.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let _ = fs::remove_dir_all(&libs);
    fs::rename(&staging, &libs).expect("move libs.tmp to libs");
    fs::write(&marker, &pom_text).expect("write libs.ok");
    eprintln!(
        "kafka harness: fetched the broker jars in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    libs
}

/// Removes `run-<pid>-*` directories of processes that are gone (the shared broker's directory cannot be
/// removed by its own process, whose statics are never dropped).
fn sweep_stale_runs(home: &Path) {
    let Ok(entries) = fs::read_dir(home) else {
        return;
    };
    let me = std::process::id();
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("run-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != me && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// The last `lines` lines of a file.
fn tail_of(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

struct Ports {
    plaintext: u16,
    sasl: u16,
    ssl: u16,
    controller: u16,
}

impl Ports {
    /// Four distinct free ports (all held open at once while picking).
    fn pick() -> Ports {
        let listeners: Vec<std::net::TcpListener> = (0..4)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port"))
            .collect();
        let p: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().expect("local addr").port())
            .collect();
        Ports {
            plaintext: p[0],
            sasl: p[1],
            ssl: p[2],
            controller: p[3],
        }
    }
}

struct Tls {
    ca_pem: PathBuf,
    keystore_p12: PathBuf,
    truststore_p12: PathBuf,
}

/// A CA and a broker certificate it signed (SAN IP:127.0.0.1, DNS:localhost), with openssl; the broker
/// keystore (PKCS12, key + chain) and a clients' PKCS12 truststore holding the CA (with keytool, whose
/// trusted-certificate entries Java truststores need).
fn make_tls(dir: &Path) -> Tls {
    fs::create_dir_all(dir).expect("tls dir");
    // `args` is split on whitespace: no argument below contains a space.
    let run = |program: &str, args: &str| {
        let out = Command::new(program)
            .args(args.split_whitespace())
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    fs::write(
        dir.join("broker.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .expect("write broker.ext");
    run(
        "openssl",
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
         -subj /CN=causeway-test-ca -addext basicConstraints=critical,CA:TRUE \
         -addext keyUsage=critical,keyCertSign,cRLSign",
    );
    run(
        "openssl",
        "req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj /CN=localhost",
    );
    run(
        "openssl",
        &format!(
            "x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -set_serial 0x{:016x} -days 3650 \
             -out broker.pem -extfile broker.ext",
            random_u64()
        ),
    );
    run(
        "openssl",
        &format!(
            "pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
             -out broker.p12 -passout pass:{STORE_PASSWORD}"
        ),
    );
    run(
        &java_tool("keytool"),
        &format!(
            "-importcert -noprompt -alias causeway-test-ca -file ca.pem -keystore truststore.p12 \
             -storetype PKCS12 -storepass {STORE_PASSWORD}"
        ),
    );
    Tls {
        ca_pem: dir.join("ca.pem"),
        keystore_p12: dir.join("broker.p12"),
        truststore_p12: dir.join("truststore.p12"),
    }
}

fn write_log4j(root: &Path, log_file: &Path) {
    let text = format!(
        "status = warn\n\
         appender.file.type = File\n\
         appender.file.name = FILE\n\
         appender.file.fileName = {}\n\
         appender.file.layout.type = PatternLayout\n\
         appender.file.layout.pattern = [%d] %p %m (%c)%n\n\
         rootLogger.level = INFO\n\
         rootLogger.appenderRef.file.ref = FILE\n\
         logger.kafka-request.name = kafka.request.logger\n\
         logger.kafka-request.level = WARN\n",
        log_file.display()
    );
    fs::write(root.join("log4j2.properties"), text).expect("write log4j2.properties");
}

fn write_server_properties(root: &Path, p: &Ports, tls: &Tls, extra: &[(&str, &str)]) {
    let users: String = [PLAIN_USER]
        .iter()
        .map(|(u, pw)| format!(" user_{u}=\"{pw}\""))
        .collect();
    let mut props: Vec<(String, String)> = [
        ("process.roles", "broker,controller".to_owned()),
        ("node.id", "1".to_owned()),
        ("controller.quorum.voters", format!("1@127.0.0.1:{}", p.controller)),
        (
            "listeners",
            format!(
                "PLAINTEXT://127.0.0.1:{},SASL_PLAINTEXT://127.0.0.1:{},SSL://127.0.0.1:{},CONTROLLER://127.0.0.1:{}",
                p.plaintext, p.sasl, p.ssl, p.controller
            ),
        ),
        (
            "advertised.listeners",
            format!(
                "PLAINTEXT://127.0.0.1:{},SASL_PLAINTEXT://127.0.0.1:{},SSL://127.0.0.1:{}",
                p.plaintext, p.sasl, p.ssl
            ),
        ),
        ("controller.listener.names", "CONTROLLER".to_owned()),
        ("inter.broker.listener.name", "PLAINTEXT".to_owned()),
        (
            "listener.security.protocol.map",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL".to_owned(),
        ),
        ("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512".to_owned()),
        (
            "listener.name.sasl_plaintext.plain.sasl.jaas.config",
            format!(
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"{}\" password=\"{}\"{users};",
                PLAIN_USER.0, PLAIN_USER.1
            ),
        ),
        (
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required;".to_owned(),
        ),
        ("ssl.keystore.type", "PKCS12".to_owned()),
        ("ssl.keystore.location", tls.keystore_p12.display().to_string()),
        ("ssl.keystore.password", STORE_PASSWORD.to_owned()),
        ("ssl.key.password", STORE_PASSWORD.to_owned()),
        ("ssl.client.auth", "none".to_owned()),
        ("log.dirs", root.join("data").display().to_string()),
        ("num.partitions", "1".to_owned()),
        ("offsets.topic.replication.factor", "1".to_owned()),
        ("offsets.topic.num.partitions", "10".to_owned()),
        ("transaction.state.log.replication.factor", "1".to_owned()),
        ("transaction.state.log.min.isr", "1".to_owned()),
        ("transaction.state.log.num.partitions", "10".to_owned()),
        ("share.coordinator.state.topic.replication.factor", "1".to_owned()),
        ("share.coordinator.state.topic.min.isr", "1".to_owned()),
        ("group.initial.rebalance.delay.ms", "0".to_owned()),
        // After a SIGKILL the restarted node cannot register until the old broker session expires
        // (9 s by default); a shorter session makes kill + restart take seconds.
        ("broker.heartbeat.interval.ms", "1000".to_owned()),
        ("broker.session.timeout.ms", "4000".to_owned()),
        // Keep a test machine's broker small: fewer threads, small segments and indexes.
        ("num.network.threads", "2".to_owned()),
        ("num.io.threads", "4".to_owned()),
        ("log.segment.bytes", (64 * 1024 * 1024).to_string()),
        ("log.index.size.max.bytes", (1024 * 1024).to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        match props.iter_mut().find(|(pk, _)| pk == k) {
            Some(entry) => entry.1 = (*v).to_owned(),
            None => props.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    let text: String = props
        .iter()
        .map(|(k, v)| format!("{k}={}\n", escape_property(v)))
        .collect();
    fs::write(root.join("server.properties"), text).expect("write server.properties");
}

/// Escapes a `.properties` value (backslashes; a leading space).
fn escape_property(v: &str) -> String {
    let escaped = v.replace('\\', "\\\\");
    match escaped.strip_prefix(' ') {
        Some(rest) => format!("\\ {rest}"),
        None => escaped,
    }
}

/// `kafka.tools.StorageTool format` with a random cluster id and the SCRAM user.
fn format_storage(root: &Path, libs: &Path) {
    let mut cmd = java_command(root, libs);
    cmd.arg("-Xmx256m")
        .arg("-XX:TieredStopAtLevel=1")
        .arg("kafka.tools.StorageTool")
        .arg("format")
        .arg("-t")
        .arg(random_cluster_id())
        .arg("-c")
        .arg(root.join("server.properties"))
        .arg("--add-scram")
        .arg(format!(
            "SCRAM-SHA-512=[name=\"{}\",password=\"{}\"]",
            SCRAM_USER.0, SCRAM_USER.1
        ))
        .stdin(Stdio::null());
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("run java (is a JDK 17+ installed?): {e}"));
    assert!(
        out.status.success(),
        "kafka.tools.StorageTool format failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `java` with the broker classpath, the run directory's log4j2 config and temp dir; add the heap, main
/// class and arguments.
fn java_command(root: &Path, libs: &Path) -> Command {
    let mut cmd = Command::new(java_tool("java"));
    cmd.current_dir(root)
        // No hsperfdata files in /tmp; native libraries (zstd, snappy) unpack into the run directory.
        .arg("-XX:-UsePerfData")
        .arg(format!("-Djava.io.tmpdir={}", root.join("tmp").display()))
        .arg("-Djava.awt.headless=true")
        .arg(format!(
            "-Dlog4j2.configurationFile=file:{}",
            root.join("log4j2.properties").display()
        ))
        .arg("-cp")
        .arg(format!("{}/*", libs.display()));
    cmd
}

/// `$JAVA_HOME/bin/<tool>` if `JAVA_HOME` is set, else `<tool>` from `PATH`.
fn java_tool(tool: &str) -> String {
    match std::env::var_os("JAVA_HOME") {
        Some(home) if Path::new(&home).join("bin").join(tool).exists() => Path::new(&home)
            .join("bin")
            .join(tool)
            .display()
            .to_string(),
        _ => tool.to_owned(),
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf
}

fn random_u64() -> u64 {
    u64::from_le_bytes(random_bytes::<8>()) >> 1
}

/// A Kafka cluster id: 16 random bytes in URL-safe base64 without padding (22 characters).
fn random_cluster_id() -> String {
    // Kafka's own `Uuid.randomUuid()` also redraws ids that start with '-': the storage tool would read
    // one as an option.
    loop {
        let id = random_base64_id();
        if !id.starts_with('-') {
            return id;
        }
    }
}

fn random_base64_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = random_bytes::<16>();
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = String::with_capacity(22);
    for b in bytes {
        bits = (bits << 8) | u32::from(b);
        nbits += 8;
        while nbits >= 6 {
            nbits -= 6;
            out.push(ALPHABET[((bits >> nbits) & 63) as usize] as char);
        }
    }
    if nbits > 0 {
        out.push(ALPHABET[((bits << (6 - nbits)) & 63) as usize] as char);
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Spawning children that die with the test process
// ---------------------------------------------------------------------------------------------------------

struct SpawnRequest {
    cmd: Command,
    reply: mpsc::Sender<io::Result<Child>>,
}

/// Spawns `cmd` so that the child gets SIGKILL when this process dies. `PR_SET_PDEATHSIG` fires when the
/// *thread* that forked the child exits, and test threads end after each test, so every such child is forked
/// by one thread that lives until the process exits.
pub fn spawn_tied_to_process(mut cmd: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("causeway-testkit-spawner".into())
            .spawn(move || {
                // The sender lives in a static, so this loop (and the thread) lasts as long as the process.
                while let Ok(mut req) = rx.recv() {
                    let _ = req.reply.send(req.cmd.spawn());
                }
            })
            .expect("spawn the child-spawning thread");
        tx
    });
    die_with_parent(&mut cmd);
    let (reply, rx) = mpsc::channel();
    spawner
        .send(SpawnRequest { cmd, reply })
        .map_err(|_| io::Error::other("the spawner thread is gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("the spawner thread is gone"))?
}

/// Makes the child ask the kernel for SIGKILL when the thread that forked it exits.
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec. It only calls prctl(2) and getppid(2), which
    // are async-signal-safe, touches no locks and allocates nothing (the errors are OS-code variants).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl; then the signal would never come.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_are_22_url_safe_characters() {
        let id = random_cluster_id();
        assert_eq!(id.len(), 22, "{id}");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(id, random_cluster_id());
    }

    #[test]
    fn property_values_are_escaped() {
        assert_eq!(escape_property("a\\b"), "a\\\\b");
        assert_eq!(escape_property(" x"), "\\ x");
    }
}
