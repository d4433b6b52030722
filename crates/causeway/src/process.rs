//! What both worker modes share: reading the worker properties, binding the REST listeners, serving the REST
//! API over a herder, and waiting for a shutdown signal.
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use causeway_runtime::herder::Herder;
use causeway_runtime::herder::entities::ServerInfo;
use causeway_runtime::worker_config::{
    ACCESS_CONTROL_ALLOW_METHODS_CONFIG, ACCESS_CONTROL_ALLOW_ORIGIN_CONFIG,
    ADMIN_LISTENERS_CONFIG, PLUGIN_PATH_CONFIG, RESPONSE_HTTP_HEADERS_CONFIG, worker_config_def,
};
use causeway_runtime::{PluginRegistry, WorkerConfig};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config_files::read_properties;
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

/// `GET /`'s answer for a worker on a cluster with this id.
pub(crate) fn server_info(kafka_cluster_id: String) -> ServerInfo {
    ServerInfo {
        version: CONNECT_API_VERSION.into(),
        commit: env!("CAUSEWAY_COMMIT").into(),
        kafka_cluster_id,
    }
}

/// Reads and checks the worker properties.
pub(crate) fn load_worker_config(path: &Path) -> anyhow::Result<WorkerConfig> {
    let props = read_properties(path)?;
    let config = WorkerConfig::new(props)
        .map_err(|e| anyhow::anyhow!("Invalid worker configuration: {e}"))?;
    let def = worker_config_def();
    let unknown: Vec<&String> = config
        .originals()
        .keys()
        .filter(|k| def.find(k).is_none())
        .collect();
    if !unknown.is_empty() {
        tracing::debug!(?unknown, "Worker properties not used by the worker config.");
    }
    if config.parsed().get(PLUGIN_PATH_CONFIG).is_some() {
        tracing::info!(
            "plugin.path is not needed: Causeway's plugins are built into the binary. Ignoring it."
        );
    }
    Ok(config)
}

/// The REST listeners, bound; and the port of the first, which names this worker.
pub(crate) async fn bind_listeners(
    config: &WorkerConfig,
) -> anyhow::Result<(Vec<TcpListener>, u16)> {
    let mut bound = Vec::new();
    for l in &config.listeners() {
        if l.protocol != "http" {
            bail!(
                "Listener {}://{}:{} uses https, which this build does not serve yet",
                l.protocol,
                l.host,
                l.port
            );
        }
        let listener = TcpListener::bind(l.bind_address())
            .await
            .with_context(|| format!("Cannot listen on {}", l.bind_address()))?;
        bound.push(listener);
    }
    let port = bound
        .first()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port())
        .unwrap_or(8083);
    Ok((bound, port))
}

/// The REST servers of a running worker.
pub(crate) struct RestServers {
    shutdown: CancellationToken,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl RestServers {
    /// Serves Apache's REST API over `herder` on every listener.
    pub(crate) fn start(
        config: &WorkerConfig,
        herder: Arc<dyn Herder>,
        listeners: Vec<TcpListener>,
        logs: &LogControl,
    ) -> anyhow::Result<RestServers> {
        let response_headers = causeway_rest::parse_response_headers(
            config.string(RESPONSE_HTTP_HEADERS_CONFIG).unwrap_or(""),
        )
        .map_err(|e| {
            anyhow::anyhow!("Invalid value for configuration {RESPONSE_HTTP_HEADERS_CONFIG}: {e}")
        })?;
        let rest_config = causeway_rest::RestConfig {
            access_control_allow_origin: config
                .string(ACCESS_CONTROL_ALLOW_ORIGIN_CONFIG)
                .unwrap_or("")
                .to_owned(),
            access_control_allow_methods: config
                .string(ACCESS_CONTROL_ALLOW_METHODS_CONFIG)
                .unwrap_or("")
                .to_owned(),
            response_headers,
            admin_enabled: config
                .originals()
                .get(ADMIN_LISTENERS_CONFIG)
                .is_none_or(|v| !v.trim().is_empty()),
        };
        let loggers = causeway_rest::LoggerLevels::new(&logs.initial, {
            let apply = logs.apply.clone();
            move |d: &str| apply(d)
        });
        let router = causeway_rest::router(herder, rest_config, Some(loggers));
        let shutdown = CancellationToken::new();
        let servers = listeners
            .into_iter()
            .map(|listener| {
                tracing::info!(address = ?listener.local_addr().ok(), "REST server listening.");
                tokio::spawn(causeway_rest::serve(
                    listener,
                    router.clone(),
                    shutdown.clone().cancelled_owned(),
                ))
            })
            .collect();
        Ok(RestServers { shutdown, servers })
    }

    /// Stops accepting connections; in-flight requests finish.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits for the servers to finish.
    pub(crate) async fn join(self) {
        for s in self.servers {
            let _ = s.await;
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
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
