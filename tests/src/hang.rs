//! An S3 in trouble, in the place of s3s-fs (on its port): a listener that accepts TCP
//! connections and never answers, holding each one open ([`Hang::start`]), or one that
//! answers every request with S3's `503 SlowDown` ([`Hang::slow_down`]). (A stopped s3s-fs
//! is the other kind of outage: connections refused.)

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::listener::{read_head, Listener};

/// The most bytes of a request head [`Hang::slow_down`] reads before it answers anyway.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long [`Hang::slow_down`] waits for a request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(2);

/// A listener in the place of S3; it stops, closing every connection it holds, when dropped.
pub struct Hang {
    /// Its port on 127.0.0.1.
    pub port: u16,
    listener: Listener,
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
        let mut held: Vec<TcpStream> = Vec::new();
        let listener = Listener::spawn("hang", port, move |conn, _| {
            if answer {
                answer_slow_down(conn);
            } else {
                held.push(conn);
            }
        });
        Hang {
            port: listener.port,
            listener,
        }
    }

    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.listener.accepted()
    }
}

/// Reads one request head (bounded) and answers it with `503 SlowDown`; errors end the
/// exchange.
fn answer_slow_down(mut conn: TcpStream) {
    let _ = read_head(&mut conn, MAX_REQUEST_HEAD, HEAD_TIMEOUT);
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                <Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>\n";
    let response = format!(
        "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(response.as_bytes());
}
