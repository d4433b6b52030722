//! `causeway`: Kafka Connect, rebuilt in Rust.
//!
//! `causeway standalone WORKER.properties [CONNECTOR.properties|CONNECTOR.json ...]` runs a standalone worker
//! exactly as Apache's `connect-standalone.sh` does: same worker properties, same connector files, same REST
//! API on `listeners` (default `http://:8083`). `causeway distributed WORKER.properties` joins a worker group as
//! `connect-distributed.sh` does.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod config_files;
mod distributed;
mod logging;
mod process;
mod standalone;

/// Kafka Connect, rebuilt in Rust.
#[derive(Parser, Debug)]
#[command(name = "causeway", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs a standalone worker (offsets in a local file, connectors from files or the REST API).
    Standalone {
        /// Worker properties (`connect-standalone.properties`).
        worker_properties: PathBuf,
        /// Connector configurations: `.properties`, or `.json` as `{"name":…,"config":{…}}` or a flat map.
        connector_configs: Vec<PathBuf>,
    },
    /// Runs a distributed worker: a member of the worker group `group.id`, with connectors, statuses and
    /// offsets in the Kafka cluster's internal topics.
    Distributed {
        /// Worker properties (`connect-distributed.properties`).
        worker_properties: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loggers = logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Failed to start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Standalone {
            worker_properties,
            connector_configs,
        } => runtime.block_on(standalone::run(
            worker_properties,
            connector_configs,
            loggers,
        )),
        Command::Distributed { worker_properties } => {
            runtime.block_on(distributed::run(worker_properties, loggers))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("causeway: {e:#}");
            ExitCode::FAILURE
        }
    }
}
