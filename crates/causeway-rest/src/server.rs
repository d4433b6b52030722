//! Running the application on a listener, with graceful shutdown.
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, ToSocketAddrs};

/// How long in-flight requests may take to finish once shutdown starts (Apache's REST server graceful
/// shutdown, 60 s); connections still open after that are dropped.
pub const GRACEFUL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting connections and lets
/// in-flight requests finish (at most [`GRACEFUL_SHUTDOWN_TIMEOUT`]).
///
/// The returned future is `Send`, so it can be spawned; remote addresses reach the request log.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    })
    .into_future();
    let mut server = std::pin::pin!(server);
    let mut shutdown = std::pin::pin!(shutdown);
    tokio::select! {
        result = &mut server => return result,
        () = &mut shutdown => {}
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(GRACEFUL_SHUTDOWN_TIMEOUT, server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                target: "causeway_rest",
                timeout_secs = GRACEFUL_SHUTDOWN_TIMEOUT.as_secs(),
                "REST server did not finish in-flight requests in time; closing their connections."
            );
            Ok(())
        }
    }
}

/// A bound REST listener with its application: bind first (to learn the port, e.g. with port 0), then
/// [`run`](RestServer::run).
#[derive(Debug)]
pub struct RestServer {
    listener: TcpListener,
    router: Router,
}

impl RestServer {
    /// Binds `addr`.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn bind(addr: impl ToSocketAddrs, router: Router) -> std::io::Result<RestServer> {
        Ok(RestServer {
            listener: TcpListener::bind(addr).await?,
            router,
        })
    }

    /// Wraps an already bound listener.
    pub fn new(listener: TcpListener, router: Router) -> RestServer {
        RestServer { listener, router }
    }

    /// The bound address.
    ///
    /// # Errors
    /// When the socket cannot report it.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes; see [`serve`].
    ///
    /// # Errors
    /// An I/O error from the listener.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve(self.listener, self.router, shutdown).await
    }
}
