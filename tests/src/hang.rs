//! An S3 in trouble, in the place of s3s-fs (on its port): a listener that accepts TCP
//! connections and never answers, holding each one open ([`Hang::start`]), or one that
//! answers every request with S3's `503 SlowDown` ([`Hang::slow_down`]). (A stopped s3s-fs
//! is the other kind of outage: connections refused.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the accept loop looks at its stop flag.
const POLL: Duration = Duration::from_millis(10);
/// The most bytes of a request head [`Hang::slow_down`] reads before it answers anyway.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long [`Hang::slow_down`] waits for a request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(2);

/// A listener in the place of S3; it stops, closing every connection it holds, when dropped.
pub struct Hang {
    /// Its port on 127.0.0.1.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Hang {
    /// Accepts on `127.0.0.1:port` (typically the port of a stopped s3s-fs; std sets
    /// `SO_REUSEADDR`, so its old connections in `TIME_WAIT` do not block the bind) and never
    /// sends a byte: every request waits for the client's timeout.
    pub fn start(port: u16) -> Hang {
        Self::spawn(port, false)
    }

    /// Accepts on `127.0.0.1:port`, reads each request head and answers it as S3 does when
    /// it sheds load (`503 SlowDown`), then closes the connection.
    pub fn slow_down(port: u16) -> Hang {
        Self::spawn(port, true)
    }

    fn spawn(port: u16, answer: bool) -> Hang {
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
                        if answer {
                            answer_slow_down(conn);
                        } else {
                            held.push(conn);
                        }
                    }
                    Err(_) => std::thread::sleep(POLL),
                }
            }
            // Dropping `held` and `listener` closes every connection and frees the port.
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

/// Reads one request head (bounded) and answers it with `503 SlowDown`; errors end the
/// exchange.
fn answer_slow_down(mut conn: TcpStream) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(HEAD_TIMEOUT));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while head.len() < MAX_REQUEST_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                <Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>\n";
    let response = format!(
        "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(response.as_bytes());
}

impl Drop for Hang {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
