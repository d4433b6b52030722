//! Logging to stderr through `tracing`, with a reloadable filter so `PUT /admin/loggers` really changes
//! what is logged.
use std::io::IsTerminal;
use std::sync::Arc;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, reload};

/// The filter the worker started with, and a function that replaces it.
pub(crate) struct LogControl {
    /// `RUST_LOG`, or `info`.
    pub(crate) initial: String,
    /// Installs a new filter directive string.
    pub(crate) apply: Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>,
}

/// Installs the global subscriber: compact lines on stderr, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init() -> LogControl {
    let initial = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_new(&initial).unwrap_or_else(|_| EnvFilter::new("info"));
    let (layer, handle) = reload::Layer::new(filter);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(true),
        )
        .try_init();
    let apply = Arc::new(move |directives: &str| -> Result<(), String> {
        let filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
        handle.reload(filter).map_err(|e| e.to_string())
    });
    LogControl { initial, apply }
}
