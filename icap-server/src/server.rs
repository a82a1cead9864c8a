//! The accept loop: at most `max_connections` connections at once (exactly what OPTIONS
//! advertises), shutdown as an input, then a bounded drain.

use std::future::Future;
use std::sync::Arc;

use std::sync::atomic::Ordering::Relaxed;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::connection::{serve, End};
use crate::limits::DRAIN_TIMEOUT;
use crate::service::Service;

/// Serves `listener` until `shutdown` completes, then waits up to [`DRAIN_TIMEOUT`] for
/// open connections to finish.
pub async fn run(listener: TcpListener, svc: Arc<Service>, shutdown: impl Future<Output = ()>) {
    let max = svc.max_connections;
    let permits = Arc::new(Semaphore::new(max));
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
        tokio::spawn(async move {
            svc.metrics.connections_open.fetch_add(1, Relaxed);
            let end = serve(stream, &svc).await;
            svc.metrics.connections_open.fetch_sub(1, Relaxed);
            match end {
                End::Clean | End::Idle => log::debug!("connection from {peer} closed: {end:?}"),
                _ => log::info!("connection from {peer} closed: {end:?}"),
            }
            drop(permit);
        });
    }
    log::info!("shutting down: waiting up to {DRAIN_TIMEOUT:?} for open connections");
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, permits.acquire_many(all)).await;
}
