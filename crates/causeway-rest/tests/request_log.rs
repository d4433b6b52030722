//! Every request is logged once at INFO with target `causeway_rest`: method, path, status, duration.
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::Method;
use support::*;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_are_logged_at_info() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("causeway_rest=info"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runtime is single-threaded, so a thread-local default covers the whole request.
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = app(&InMemoryHerder::new());
    send(&app, empty(Method::GET, "/connectors/missing?forward=true")).await;
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("Request handled."))
        .unwrap_or_else(|| panic!("no request log line in {text:?}"));
    assert!(line.contains(" INFO "), "{line}");
    assert!(line.contains("causeway_rest"), "{line}");
    assert!(line.contains("method=GET"), "{line}");
    assert!(
        line.contains("path=/connectors/missing?forward=true"),
        "{line}"
    );
    assert!(line.contains("status=404"), "{line}");
    assert!(line.contains("duration_ms="), "{line}");
}
