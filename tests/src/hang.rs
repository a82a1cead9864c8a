//! A server that hangs: it accepts TCP connections on a loopback port and never answers,
//! holding each connection open. Put in the place of s3s-fs (same port) it is an S3 that
//! has stopped responding, which a stopped process (connection refused) does not show:
//! every request then waits for Squid's timeouts.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the accept loop looks at its stop flag.
const POLL: Duration = Duration::from_millis(10);

/// A listener that accepts and never answers; it stops, closing every connection it holds,
/// when dropped.
pub struct Hang {
    /// Its port on 127.0.0.1.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Hang {
    /// Listens on `127.0.0.1:port` (typically the port of a stopped s3s-fs; std sets
    /// `SO_REUSEADDR`, so the old connections in `TIME_WAIT` do not block the bind).
    pub fn start(port: u16) -> Hang {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("hang: cannot listen on 127.0.0.1:{port}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !s.load(Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        a.fetch_add(1, Relaxed);
                        held.push(conn);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(POLL);
                    }
                    Err(_) => std::thread::sleep(POLL),
                }
            }
            // Dropping `held` and `listener` here closes every connection and the port.
        });
        Hang {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Relaxed)
    }
}

impl Drop for Hang {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
