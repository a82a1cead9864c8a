//! S3's conditional GET, in front of s3s-fs: s3s-fs 0.14 answers `If-None-Match` and
//! `If-Modified-Since` with the whole object (docs/design.md#fact-8), where S3 answers
//! `304 Not Modified` (GetObject: "If-None-Match: return the object only if its entity tag
//! is different from the one specified, otherwise return a 304"; "If-Modified-Since: return
//! the object only if it has been modified since the specified time, otherwise return a
//! 304"; If-None-Match wins when both are given). Real S3 cannot run here, so this loopback
//! front adds exactly that on top of the real, signature-verifying store: every request goes
//! to s3s-fs unchanged (so s3s-fs still verifies its signature and logs it), and a `200`
//! whose ETag or Last-Modified meets the request's condition is turned into a `304` with no
//! body. Everything else passes through byte for byte.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// How often the accept loop looks at its stop flag.
const POLL: Duration = Duration::from_millis(10);
/// Largest request head read from a client.
const MAX_HEAD: usize = 64 * 1024;
/// Largest answer read from s3s-fs (the tests' objects are smaller).
const MAX_ANSWER: usize = 512 << 20;
/// How long a client or s3s-fs may stay silent.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// One request the front saw: method, path (query included) and the status it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The request target.
    pub target: String,
    /// The status sent back.
    pub status: u16,
}

/// The front; it stops when dropped.
pub struct Conditional {
    /// Its port on 127.0.0.1.
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Conditional {
    /// Listens on a free loopback port and passes every request to s3s-fs on `upstream`.
    pub fn start(upstream: u16) -> Conditional {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let s = s.clone();
                        std::thread::spawn(move || serve(conn, upstream, &s));
                    }
                    Err(_) => std::thread::sleep(POLL),
                }
            }
        });
        Conditional {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Every request answered so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Conditional {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The value of header `name` (case-insensitive) in a head's lines.
fn header<'a>(lines: &[&'a str], name: &str) -> Option<&'a str> {
    lines.iter().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads until the end of a head (`\r\n\r\n`); returns the head and what came after it.
fn read_head(conn: &mut TcpStream, limit: usize) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((String::from_utf8(buf).ok()?, rest));
        }
        if buf.len() > limit {
            return None;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Whether the object (its `ETag` and `Last-Modified`) meets a request's condition for a
/// `304`, as S3 decides it.
pub fn not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> bool {
    if let Some(inm) = if_none_match {
        let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        return inm
            .split(',')
            .any(|t| t.trim() == "*" || Some(strip(t)) == etag.map(strip));
    }
    let (Some(ims), Some(lm)) = (if_modified_since, last_modified) else {
        return false;
    };
    use aws_smithy_types::date_time::{DateTime, Format};
    let parse = |s: &str| DateTime::from_str(s, Format::HttpDate).ok();
    let now = DateTime::from(SystemTime::now() + Duration::from_secs(60));
    match (parse(ims), parse(lm)) {
        (Some(ims), Some(lm)) => lm <= ims && ims <= now,
        _ => false,
    }
}

/// Serves one connection: one request, passed to s3s-fs, its answer passed back or turned
/// into a `304`; then closes. The request is recorded in `seen` before the answer goes
/// out, so whoever got the answer finds it there.
fn serve(mut client: TcpStream, upstream: u16, seen: &Mutex<Vec<Seen>>) -> Option<()> {
    client.set_nonblocking(false).ok()?;
    client.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
    let (head, rest) = read_head(&mut client, MAX_HEAD)?;
    let lines: Vec<&str> = head.trim_end().split("\r\n").collect();
    let mut parts = lines.first()?.split(' ');
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    // One request per connection: s3s-fs closes after its answer, and so does the front.
    let mut forwarded = format!("{}\r\n", lines[0]);
    for l in &lines[1..] {
        let name = l.split(':').next().unwrap_or("").trim();
        if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive") {
            forwarded.push_str(l);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    let body_len: usize = header(&lines, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut up = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    up.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
    up.write_all(forwarded.as_bytes()).ok()?;
    if body_len > 0 {
        let mut body = rest;
        body.resize(body_len.min(MAX_HEAD), 0);
        up.write_all(&body).ok()?;
    }
    let mut answer = Vec::new();
    up.take(MAX_ANSWER as u64).read_to_end(&mut answer).ok()?;
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let resp_head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let resp: Vec<&str> = resp_head.trim_end().split("\r\n").collect();
    let status: u16 = resp.first()?.split(' ').nth(1)?.parse().ok()?;
    let conditional_get = method == "GET" || method == "HEAD";
    let etag = header(&resp, "etag");
    let last_modified = header(&resp, "last-modified");
    if conditional_get
        && status == 200
        && not_modified(
            header(&lines, "if-none-match"),
            header(&lines, "if-modified-since"),
            etag,
            last_modified,
        )
    {
        let mut out = String::from("HTTP/1.1 304 Not Modified\r\n");
        for name in ["etag", "last-modified", "date", "x-amz-request-id"] {
            if let Some(v) = header(&resp, name) {
                out.push_str(&format!("{name}: {v}\r\n"));
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        seen.lock().unwrap().push(Seen {
            method,
            target,
            status: 304,
        });
        return client.write_all(out.as_bytes()).ok();
    }
    seen.lock().unwrap().push(Seen {
        method,
        target,
        status,
    });
    client.write_all(&answer).ok()
}

#[cfg(test)]
mod tests {
    use super::not_modified;

    #[test]
    fn s3s_conditions() {
        let (etag, lm) = (Some("\"abc\""), Some("Wed, 01 Jan 2020 00:00:00 GMT"));
        assert!(not_modified(Some("\"abc\""), None, etag, lm));
        assert!(not_modified(Some("\"x\", W/\"abc\""), None, etag, lm));
        assert!(not_modified(Some("*"), None, etag, lm));
        assert!(!not_modified(Some("\"x\""), None, etag, lm));
        // If-None-Match wins over If-Modified-Since.
        assert!(!not_modified(
            Some("\"x\""),
            Some("Wed, 01 Jan 2020 00:00:00 GMT"),
            etag,
            lm
        ));
        assert!(not_modified(
            None,
            Some("Wed, 01 Jan 2020 00:00:00 GMT"),
            etag,
            lm
        ));
        assert!(not_modified(
            None,
            Some("Thu, 02 Jan 2020 00:00:00 GMT"),
            etag,
            lm
        ));
        assert!(!not_modified(
            None,
            Some("Tue, 31 Dec 2019 00:00:00 GMT"),
            etag,
            lm
        ));
        assert!(!not_modified(None, Some("garbage"), etag, lm));
        assert!(!not_modified(None, None, etag, lm));
    }
}
