//! Serving the endpoint's router over TCP with limits that slow or broken clients cannot
//! outlast: a deadline for each request's headers (hyper's `header_read_timeout`, which
//! also closes keep-alive connections idle that long) and a cap on connections served
//! at once. A connection beyond the cap is not accepted until one closes: it waits in
//! the kernel's listen backlog, so it is served late, never refused by this process.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::config::ApiSettings;

/// How long a connection may take and how many may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest wait for a request's headers, and for the next request on an idle
    /// keep-alive connection.
    pub header_read_timeout: Duration,
    /// Most connections served at once (at least 1).
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub fn from_settings(api: &ApiSettings) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: api.header_read_timeout,
            max_connections: api.max_connections.max(1),
        }
    }
}

/// How long to pause accepting after `accept` fails (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets each connection finish the request it is answering, and returns
/// once all have closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let max_connections = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max_connections));
    // Dropped at shutdown: every connection task sees it and closes gracefully.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the slots are never closed"),
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTP endpoint cannot accept a connection");
                    drop(slot);
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(%remote, error = %e, "HTTP connection ended with an error");
                    }
                    return;
                }
                _ = stop.changed() => connection.as_mut().graceful_shutdown(),
            }
            if let Err(e) = connection.await {
                tracing::debug!(%remote, error = %e, "HTTP connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(stop_tx);
    // Every slot back means every connection closed.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}
