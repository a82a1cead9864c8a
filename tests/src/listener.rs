//! A loopback listener for the harness's stand-in servers ([`crate::hang`], [`crate::origin`]):
//! accepts on one thread, hands each connection to a handler with its number, counts them,
//! and stops (closing what the handler kept) when dropped.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the accept loop looks at its stop flag.
const POLL: Duration = Duration::from_millis(10);

/// A listener on `127.0.0.1`.
pub struct Listener {
    /// Its port.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// Listens on `127.0.0.1:port` (0: a free port; std sets `SO_REUSEADDR`, so a stopped
    /// server's connections in `TIME_WAIT` do not block the bind) and calls `handle` with each
    /// connection (blocking mode) and its number, from 1, on the accept thread. What `handle`
    /// keeps is dropped, and so closed, when the listener is.
    pub fn spawn(
        what: &str,
        port: u16,
        mut handle: impl FnMut(TcpStream, usize) + Send + 'static,
    ) -> Listener {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("{what}: cannot listen on 127.0.0.1:{port}: {e}"));
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        handle(conn, a.fetch_add(1, Relaxed) + 1);
                    }
                    Err(_) => std::thread::sleep(POLL),
                }
            }
        });
        Listener {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Relaxed)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads from `conn` until a request head has ended (`\r\n\r\n`), `max` bytes have come, the
/// peer closed, or `timeout` passed without a byte: what was read, and where the head ends
/// (`None` if it did not).
pub fn read_head(conn: &mut TcpStream, max: usize, timeout: Duration) -> (Vec<u8>, Option<usize>) {
    let _ = conn.set_read_timeout(Some(timeout));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return (buf, Some(i + 4));
        }
        if buf.len() >= max {
            return (buf, None);
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return (buf, None),
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
}
