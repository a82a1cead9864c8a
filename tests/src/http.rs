//! A deliberately small HTTP/1.1 client: the tests control every byte of the request line
//! and headers (Host spoofing, absolute-form, CONNECT), which ordinary clients hide.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// Whether Squid says it answered from its cache: `X-Cache: HIT …` (Squid 5) or
    /// `Cache-Status: NAME;hit` (RFC 9211, Squid 6 and later).
    pub fn cache_hit(&self) -> bool {
        self.header("x-cache").is_some_and(|x| x.starts_with("HIT"))
            || self
                .header("cache-status")
                .is_some_and(|c| c.split(';').skip(1).any(|p| p.trim() == "hit"))
    }

    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends a raw request head (`Connection: close` is added) to `127.0.0.1:port` and reads
/// the whole response.
pub fn raw(port: u16, request_line: &str, headers: &[(&str, &str)]) -> Response {
    raw_with_body(port, request_line, headers, b"")
}

/// [`raw`] with a request body (and its `Content-Length`), whatever the method.
pub fn raw_with_body(
    port: u16,
    request_line: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut req = format!("{request_line}\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("Connection: close\r\n\r\n");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    parse(&buf, request_line.starts_with("HEAD "))
}

/// `GET path` with `Host: host`.
pub fn get(port: u16, host: &str, path: &str) -> Response {
    raw(port, &format!("GET {path} HTTP/1.1"), &[("Host", host)])
}

/// `HEAD path` with `Host: host`.
pub fn head(port: u16, host: &str, path: &str) -> Response {
    raw(port, &format!("HEAD {path} HTTP/1.1"), &[("Host", host)])
}

fn parse(buf: &[u8], head_only: bool) -> Response {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(buf)));
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    if head_only {
        body.clear();
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Response {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::Response;

    #[test]
    fn a_hit_in_either_header() {
        let with = |name: &str, value: &str| Response {
            status: 200,
            headers: vec![(name.to_owned(), value.to_owned())],
            body: Vec::new(),
        };
        assert!(with("x-cache", "HIT from s3squid").cache_hit());
        assert!(!with("x-cache", "MISS from s3squid").cache_hit());
        assert!(with("cache-status", "s3squid;hit").cache_hit());
        assert!(with("cache-status", "s3squid;detail=match;hit").cache_hit());
        assert!(!with("cache-status", "s3squid;fwd=miss;stored").cache_hit());
        assert!(
            !with("cache-status", "hit").cache_hit(),
            "the first item is the cache's name"
        );
    }
}
