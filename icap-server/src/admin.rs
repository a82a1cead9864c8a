//! `/metrics` (Prometheus text) and `/healthz` on their own loopback port. A deliberately
//! tiny HTTP/1.1 responder: one bounded request per connection, then close.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::metrics::{Family, Scrape};
use crate::service::Service;

/// Longest request head read.
pub const MAX_ADMIN_REQUEST: usize = 8 * 1024;
/// How long a request may take to arrive.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Admin connections served at once.
pub const MAX_ADMIN_CONNECTIONS: usize = 16;

/// Something read at scrape time besides [`crate::metrics::Metrics`]: the credential
/// refresher ([`crate::creds::Refresher`]) and the probes ([`crate::probe::Probes`]). Each
/// gives its metric families for `/metrics` and its lines for `/healthz`.
pub trait ScrapeSource: Send + Sync + 'static {
    /// Its metric families as of now.
    fn metrics(&self) -> Vec<Family>;
    /// One line per fact for `/healthz`.
    fn health(&self) -> String;
}

/// Serves the admin port until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    svc: Arc<Service>,
    sources: Vec<Arc<dyn ScrapeSource>>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(MAX_ADMIN_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let (mut stream, _) = tokio::select! {
            _ = &mut shutdown => return,
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            continue;
        };
        let (svc, sources) = (svc.clone(), sources.clone());
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(1024);
            let read = tokio::time::timeout(ADMIN_TIMEOUT, async {
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_ADMIN_REQUEST {
                    let mut chunk = [0u8; 1024];
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return false,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                true
            })
            .await;
            let response = match read {
                Ok(true) => respond(&buf, &svc, &sources),
                _ => http(400, "text/plain", "bad request\n"),
            };
            let _ =
                tokio::time::timeout(ADMIN_TIMEOUT, stream.write_all(response.as_bytes())).await;
            let _ = stream.shutdown().await;
            drop(permit);
        });
    }
}

fn respond(req: &[u8], svc: &Service, sources: &[Arc<dyn ScrapeSource>]) -> String {
    let line = req.split(|&b| b == b'\r').next().unwrap_or(b"");
    let mut parts = line.split(|&b| b == b' ');
    let (method, path) = (parts.next().unwrap_or(b""), parts.next().unwrap_or(b""));
    match (method, path) {
        (b"GET", b"/metrics") => http(
            200,
            "text/plain; version=0.0.4",
            &svc.metrics
                .render(&Scrape(sources.iter().flat_map(|s| s.metrics()).collect()).encode()),
        ),
        (b"GET", b"/healthz") => {
            let st = svc.state();
            let body = format!(
                "ok\nconfig_generation {}\n{}",
                st.generation,
                sources.iter().map(|s| s.health()).collect::<String>()
            );
            http(200, "text/plain", &body)
        }
        (b"GET", _) => http(404, "text/plain", "not found: try /metrics or /healthz\n"),
        _ => http(405, "text/plain", "only GET\n"),
    }
}

fn http(status: u16, content_type: &str, body: &str) -> String {
    let reason = crate::respond::reason_phrase(status);
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
