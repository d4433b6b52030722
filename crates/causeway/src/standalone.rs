//! `causeway standalone`: one worker, offsets in a file, connectors from files and the REST API.
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use causeway_log::LogBackend;
use causeway_log::embedded::{EmbeddedLog, EmbeddedLogOptions};
use causeway_runtime::herder::Herder;
use causeway_runtime::offset_store::FileOffsetStore;
use causeway_runtime::worker_config::OFFSET_STORAGE_FILE_FILENAME_CONFIG;
use causeway_runtime::{StandaloneHerder, Worker};

use crate::config_files::read_connector_config;
use crate::logging::LogControl;
use crate::process::{
    RestServers, bind_listeners, load_worker_config, plugins, server_info, shutdown_signal,
};

pub(crate) async fn run(
    worker_file: PathBuf,
    connector_files: Vec<PathBuf>,
    logs: LogControl,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let config = load_worker_config(&worker_file)?;
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

    let (listeners, port) = bind_listeners(&config).await?;
    let worker_id = config.advertised_worker_id(port);

    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let status = Arc::new(causeway_runtime::status::StatusStore::new());
    let server_info = server_info(log.cluster_id());
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

    let rest = RestServers::start(&config, herder.clone() as Arc<dyn Herder>, listeners, &logs)?;
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
    rest.begin_shutdown();
    herder.stop().await;
    rest.join().await;
    tracing::info!("Causeway stopped.");
    Ok(())
}
