//! `causeway distributed`: a member of a worker group; connectors, statuses and offsets live in the Kafka
//! cluster's internal topics, and the group spreads connectors and tasks over its workers.
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicI32;

use anyhow::Context;
use causeway_kafka::client_config::{ClientKind, translate};
use causeway_kafka::group::{
    GroupConfig, SaslCredentials, SaslMechanism, SecurityProtocol, WorkerGroupMember,
};
use causeway_kafka::{KafkaLog, KafkaSettings};
use causeway_log::LogBackend;
use causeway_runtime::Worker;
use causeway_runtime::herder::Herder;
use causeway_runtime::herder::distributed::{
    ConfigTopicStore, DistributedConfig, DistributedHerder, DistributedHerderParts,
    StatusTopicStore, ensure_internal_topics_with,
};
use causeway_runtime::offset_store::TopicOffsetStore;
use causeway_runtime::status::StatusStore;

use crate::logging::LogControl;
use crate::process::{
    RestServers, bind_listeners, load_worker_config, plugins, server_info, shutdown_signal,
};

/// Apache's default for a distributed worker without `bootstrap.servers`.
const DEFAULT_BOOTSTRAP_SERVERS: &str = "localhost:9092";

/// The group client's settings: the worker's timeouts, and the same listener security as its other clients.
fn group_config(
    config: &causeway_runtime::WorkerConfig,
    dist: &DistributedConfig,
    bootstrap: &str,
) -> anyhow::Result<GroupConfig> {
    let mut group = GroupConfig::new(bootstrap, &dist.group_id, &dist.client_id_base());
    group.session_timeout = dist.session_timeout;
    group.rebalance_timeout = dist.rebalance_timeout;
    group.heartbeat_interval = dist.heartbeat_interval;
    let common: std::collections::HashMap<String, String> = config
        .originals()
        .iter()
        .filter(|(k, _)| k.starts_with("security.") || k.starts_with("sasl."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let rd = translate(&common, ClientKind::Admin).map_err(|e| anyhow::anyhow!("{e}"))?;
    let protocol = rd
        .get("security.protocol")
        .map_or("plaintext", String::as_str)
        .to_ascii_lowercase();
    group.security = match protocol.as_str() {
        "plaintext" => SecurityProtocol::Plaintext,
        "sasl_plaintext" => {
            let mechanism = match rd
                .get("sasl.mechanisms")
                .map_or("GSSAPI", String::as_str)
                .to_ascii_uppercase()
                .as_str()
            {
                "PLAIN" => SaslMechanism::Plain,
                "SCRAM-SHA-256" => SaslMechanism::ScramSha256,
                "SCRAM-SHA-512" => SaslMechanism::ScramSha512,
                other => anyhow::bail!(
                    "sasl.mechanism {other} is not supported by the worker group client (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 are)"
                ),
            };
            SecurityProtocol::SaslPlaintext(SaslCredentials {
                mechanism,
                username: rd.get("sasl.username").cloned().unwrap_or_default(),
                password: rd.get("sasl.password").cloned().unwrap_or_default(),
            })
        }
        other => anyhow::bail!(
            "security.protocol {} is not supported by the worker group client yet (PLAINTEXT and SASL_PLAINTEXT are)",
            other.to_ascii_uppercase()
        ),
    };
    Ok(group)
}

pub(crate) async fn run(worker_file: PathBuf, logs: LogControl) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let config = load_worker_config(&worker_file)?;
    let dist = DistributedConfig::from_worker(&config)
        .map_err(|e| anyhow::anyhow!("Invalid worker configuration: {}", e.message()))?;
    let mut originals = config.originals().clone();
    let bootstrap = originals
        .entry("bootstrap.servers".to_owned())
        .or_insert_with(|| DEFAULT_BOOTSTRAP_SERVERS.to_owned())
        .clone();
    tracing::info!(bootstrap_servers = %bootstrap, group_id = %dist.group_id, "Joining the Kafka cluster.");
    let log = KafkaLog::connect(KafkaSettings::from_worker(&originals))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let log_dyn: &dyn LogBackend = log.as_ref();
    ensure_internal_topics_with(log_dyn, &dist, &originals)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let offsets = Arc::new(
        TopicOffsetStore::open(log_dyn, &dist.offset_topic.name, &dist.offsets_client_id())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?,
    );
    let status = Arc::new(StatusStore::new());
    let generation = Arc::new(AtomicI32::new(-1));
    let status_topic = StatusTopicStore::open(
        log_dyn,
        &dist.status_topic.name,
        &dist.status_client_id(),
        status.clone(),
        generation.clone(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let (configs, config_events) =
        ConfigTopicStore::open(log_dyn, &dist.config_topic.name, &dist.config_client_id())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;

    let (listeners, port) = bind_listeners(&config).await?;
    let worker_id = config.advertised_worker_id(port);
    let url = format!("http://{worker_id}/");
    let member = WorkerGroupMember::new(group_config(&config, &dist, &bootstrap)?)
        .context("Invalid worker group settings")?;
    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let worker = Arc::new(Worker::new(
        worker_id.clone(),
        config.clone(),
        plugins(),
        log.clone(),
        offsets,
        status,
        events_tx,
    ));
    let herder = DistributedHerder::start(DistributedHerderParts {
        worker,
        config: dist,
        configs,
        config_events,
        worker_events: events_rx,
        member,
        server_info: server_info(log.cluster_id()),
        url,
        generation,
    });
    let rest = RestServers::start(&config, herder.clone() as Arc<dyn Herder>, listeners, &logs)?;
    tracing::info!(
        worker_id = %worker_id,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "Causeway distributed worker started."
    );

    shutdown_signal().await;
    tracing::info!("Shutting down: leaving the group, stopping tasks and committing offsets.");
    rest.begin_shutdown();
    herder.stop().await;
    status_topic.flush().await;
    rest.join().await;
    tracing::info!("Causeway stopped.");
    Ok(())
}
