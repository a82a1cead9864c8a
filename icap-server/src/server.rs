//! The accept loop: at most `max_connections` connections at once (exactly what OPTIONS
//! advertises), shutdown as an input, then a bounded drain.

use std::future::Future;
use std::sync::Arc;

use std::sync::atomic::Ordering::Relaxed;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::connection::{serve_until_drained, End};
use crate::limits::DRAIN_TIMEOUT;
use crate::service::Service;

/// Serves `listener` until `shutdown` completes. Then it stops listening (a new connection
/// is refused, so Squid bypasses the service at once instead of waiting in the backlog),
/// closes every connection waiting between messages, and waits up to [`DRAIN_TIMEOUT`] for
/// those in the middle of a message to answer it and close.
pub async fn run(listener: TcpListener, svc: Arc<Service>, shutdown: impl Future<Output = ()>) {
    let max = svc.max_connections;
    let permits = Arc::new(Semaphore::new(max));
    let (drain_tx, drain) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                log::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            svc.metrics.connections_refused.fetch_add(1, Relaxed);
            log::warn!(
                "refusing connection from {peer}: {max} connections open (icap.max_connections)"
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        let drain = Some(drain.clone());
        tokio::spawn(async move {
            svc.metrics.connections_open.fetch_add(1, Relaxed);
            let end = serve_until_drained(stream, &svc, drain).await;
            svc.metrics.connections_open.fetch_sub(1, Relaxed);
            match end {
                End::Clean | End::Idle => log::debug!("connection from {peer} closed: {end:?}"),
                _ => log::info!("connection from {peer} closed: {end:?}"),
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = drain_tx.send(true);
    log::info!(
        "shutting down: no longer listening; idle connections closed, waiting up to {DRAIN_TIMEOUT:?} for messages in flight"
    );
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, permits.acquire_many(all)).await;
}
