//! A plain web origin on loopback for the traffic *beside* s3squid (the fragment tests: a Squid
//! that also forward-proxies and accelerates other sites): it answers every request at once,
//! by path, and closes the connection.
//!
//! - `/fresh…`: `200`, `Cache-Control: max-age=3600` (cachable, fresh for an hour);
//! - `/old…`: `200`, a `Last-Modified` in 2024 and no `Cache-Control` (Squid's heuristic);
//!   `304` to a request with `If-Modified-Since` (a revalidation);
//! - `/headers…`: `200`, `Cache-Control: no-store`, the body naming the request's method,
//!   `X-Forwarded-For` and `Via` (what the Squid in front passed on);
//! - anything else: `404`.
//!
//! Every body also ends with ` #N`, N counting the requests this origin answered, so a cached
//! answer shows as a repeated one.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::listener::{read_head, Listener};

/// The most bytes of a request head (and body) read.
const MAX_REQUEST: usize = 64 * 1024;
/// How long a connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The origin; it stops when dropped.
pub struct Origin {
    /// Its port on 127.0.0.1.
    pub port: u16,
    listener: Listener,
}

impl Origin {
    /// Listens on a free loopback port.
    pub fn start() -> Origin {
        let listener = Listener::spawn("origin", 0, answer);
        Origin {
            port: listener.port,
            listener,
        }
    }

    /// Requests answered so far.
    pub fn served(&self) -> usize {
        self.listener.accepted()
    }
}

/// Reads one request (head, and a `Content-Length` body) and answers it.
fn answer(mut conn: TcpStream, n: usize) {
    let (mut buf, Some(head_end)) = read_head(&mut conn, MAX_REQUEST, READ_TIMEOUT) else {
        return;
    };
    let mut chunk = [0u8; 4096];
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let body_len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(MAX_REQUEST);
    while buf.len() < head_end + body_len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or("").to_owned();
    let target = words.next().unwrap_or("");
    // Origin-form from an accelerator, absolute-form never (Squid sends origin-form).
    let path = target.split_once("://").map_or(target, |(_, rest)| {
        rest.find('/').map_or("/", |i| &rest[i..])
    });
    let (status, extra, body) = if path.starts_with("/fresh") {
        (
            "200 OK",
            "Cache-Control: max-age=3600\r\n",
            format!("fresh {path} #{n}"),
        )
    } else if path.starts_with("/old") && header("if-modified-since").is_some() {
        ("304 Not Modified", "", String::new())
    } else if path.starts_with("/old") {
        (
            "200 OK",
            "Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n",
            format!("old {path} #{n}"),
        )
    } else if path.starts_with("/headers") {
        let show = |h: &str| header(h).unwrap_or_else(|| "-".to_owned());
        (
            "200 OK",
            "Cache-Control: no-store\r\n",
            format!(
                "method={method} xff={} via={} #{n}",
                show("x-forwarded-for"),
                show("via")
            ),
        )
    } else {
        ("404 Not Found", "", format!("no {path}"))
    };
    let date = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::HttpDate)
        .unwrap_or_default();
    // A 304 carries no Content-Length (it would describe the stored body, RFC 9110 8.6).
    let response = if status.starts_with("304") {
        format!("HTTP/1.1 {status}\r\nDate: {date}\r\nConnection: close\r\n\r\n")
    } else {
        format!(
            "HTTP/1.1 {status}\r\nDate: {date}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let _ = conn.write_all(response.as_bytes());
}
