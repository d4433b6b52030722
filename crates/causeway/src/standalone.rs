//! `causeway standalone`: one worker, offsets in a file, connectors from files and the REST API.
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use causeway_log::LogBackend;
use causeway_log::embedded::{EmbeddedLog, EmbeddedLogOptions};
use causeway_runtime::herder::Herder;
use causeway_runtime::herder::entities::ServerInfo;
use causeway_runtime::offset_store::FileOffsetStore;
use causeway_runtime::worker_config::{
    ACCESS_CONTROL_ALLOW_METHODS_CONFIG, ACCESS_CONTROL_ALLOW_ORIGIN_CONFIG,
    ADMIN_LISTENERS_CONFIG, OFFSET_STORAGE_FILE_FILENAME_CONFIG, PLUGIN_PATH_CONFIG,
    RESPONSE_HTTP_HEADERS_CONFIG, worker_config_def,
};
use causeway_runtime::{PluginRegistry, StandaloneHerder, Worker, WorkerConfig};

use tokio_util::sync::CancellationToken;

use crate::config_files::{read_connector_config, read_properties};
use crate::logging::LogControl;

/// The Apache Kafka Connect REST API version this worker implements, reported as `version` by `GET /`.
pub(crate) const CONNECT_API_VERSION: &str = "4.1.0";

/// Every plugin built into this binary.
pub(crate) fn plugins() -> PluginRegistry {
    let mut all = Vec::new();
    all.extend(causeway_connectors_file::plugins());
    all.extend(causeway_converters::plugins());
    all.extend(causeway_transforms::plugins());
    PluginRegistry::new(all)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

pub(crate) async fn run(
    worker_file: PathBuf,
    connector_files: Vec<PathBuf>,
    logs: LogControl,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let props = read_properties(&worker_file)?;
    let config = WorkerConfig::new(props)
        .map_err(|e| anyhow::anyhow!("Invalid worker configuration: {e}"))?;
    let def = worker_config_def();
    let unknown: Vec<&String> = config
        .originals()
        .keys()
        .filter(|k| def.find(k).is_none())
        .collect();
    if !unknown.is_empty() {
        tracing::debug!(?unknown, "Worker properties not used by Causeway.");
    }
    if config.parsed().get(PLUGIN_PATH_CONFIG).is_some() {
        tracing::info!(
            "plugin.path is not needed: Causeway's plugins are built into the binary. Ignoring it."
        );
    }
    let offset_file = config.offset_file().with_context(|| {
        format!("Invalid worker configuration: Missing required configuration \"{OFFSET_STORAGE_FILE_FILENAME_CONFIG}\" which has no default value.")
    })?;
    let connectors: Vec<(String, causeway_api::Props)> = connector_files
        .iter()
        .map(|p| read_connector_config(p))
        .collect::<anyhow::Result<_>>()?;

    let log: Arc<dyn LogBackend> = match config.bootstrap_servers() {
        Some(servers) => {
            tracing::info!(bootstrap_servers = %servers, "Using the Kafka cluster.");
            let settings = causeway_kafka::KafkaSettings::from_worker(config.originals());
            causeway_kafka::KafkaLog::connect(settings)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => {
            let dir = config.embedded_log_dir();
            tracing::info!(dir = %dir.display(), "Using the embedded log (no bootstrap.servers configured).");
            EmbeddedLog::open(
                &dir,
                EmbeddedLogOptions {
                    default_partitions: config.embedded_log_partitions(),
                    ..Default::default()
                },
            )
            .with_context(|| format!("Cannot open the embedded log in {}", dir.display()))?
        }
    };
    let offsets =
        Arc::new(FileOffsetStore::open(&offset_file).map_err(|e| anyhow::anyhow!("{e}"))?);

    let rest_headers = causeway_rest::parse_response_headers(
        config.string(RESPONSE_HTTP_HEADERS_CONFIG).unwrap_or(""),
    )
    .map_err(|e| {
        anyhow::anyhow!("Invalid value for configuration {RESPONSE_HTTP_HEADERS_CONFIG}: {e}")
    })?;
    let listeners = config.listeners();
    let mut bound = Vec::new();
    for l in &listeners {
        if l.protocol != "http" {
            bail!(
                "Listener {}://{}:{} uses https, which this build does not serve yet",
                l.protocol,
                l.host,
                l.port
            );
        }
        let listener = tokio::net::TcpListener::bind(l.bind_address())
            .await
            .with_context(|| format!("Cannot listen on {}", l.bind_address()))?;
        bound.push(listener);
    }
    let port = bound
        .first()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port())
        .unwrap_or(8083);
    let worker_id = config.advertised_worker_id(port);

    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let status = Arc::new(causeway_runtime::status::StatusStore::new());
    let server_info = ServerInfo {
        version: CONNECT_API_VERSION.into(),
        commit: env!("CAUSEWAY_COMMIT").into(),
        kafka_cluster_id: log.cluster_id(),
    };
    let worker = Arc::new(Worker::new(
        worker_id.clone(),
        config.clone(),
        plugins(),
        log,
        offsets,
        status,
        events_tx,
    ));
    let herder = StandaloneHerder::start(worker, server_info, events_rx);

    let rest_config = causeway_rest::RestConfig {
        access_control_allow_origin: config
            .string(ACCESS_CONTROL_ALLOW_ORIGIN_CONFIG)
            .unwrap_or("")
            .to_owned(),
        access_control_allow_methods: config
            .string(ACCESS_CONTROL_ALLOW_METHODS_CONFIG)
            .unwrap_or("")
            .to_owned(),
        response_headers: rest_headers,
        admin_enabled: config
            .originals()
            .get(ADMIN_LISTENERS_CONFIG)
            .is_none_or(|v| !v.trim().is_empty()),
    };
    let loggers = causeway_rest::LoggerLevels::new(&logs.initial, {
        let apply = logs.apply.clone();
        move |d: &str| apply(d)
    });
    let router = causeway_rest::router(
        herder.clone() as Arc<dyn Herder>,
        rest_config,
        Some(loggers),
    );
    let shutdown = CancellationToken::new();
    let mut servers = Vec::new();
    for listener in bound {
        let addr = listener.local_addr().ok();
        tracing::info!(address = ?addr, "REST server listening.");
        servers.push(tokio::spawn(causeway_rest::serve(
            listener,
            router.clone(),
            shutdown.clone().cancelled_owned(),
        )));
    }
    tracing::info!(
        worker_id = %worker_id,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "Causeway standalone worker started."
    );

    for (name, props) in connectors {
        match herder.put_connector_config(&name, props, false, None).await {
            Ok(created) => {
                tracing::info!(connector = %name, tasks = created.value.tasks.len(), "Created connector.")
            }
            Err(e) => {
                herder.stop().await;
                bail!("Failed to create connector {name}: {e}");
            }
        }
    }

    shutdown_signal().await;
    tracing::info!("Shutting down: stopping tasks and committing offsets.");
    shutdown.cancel();
    herder.stop().await;
    for s in servers {
        let _ = s.await;
    }
    tracing::info!("Causeway stopped.");
    Ok(())
}
