//! The encapsulated HTTP request head, recognised with `httparse`.

use crate::framing::wire::WireError;
use crate::limits::MAX_HTTP_HEADERS;

/// A parsed HTTP request head, borrowing the bytes it came from.
#[derive(Debug, PartialEq, Eq)]
pub struct HttpRequest<'a> {
    /// The method token.
    pub method: &'a str,
    /// The request target as sent (Squid sends absolute-form).
    pub target: &'a str,
    /// Minor HTTP version (1 for HTTP/1.1).
    pub version: u8,
    /// Header fields in order.
    pub headers: Vec<(&'a str, &'a [u8])>,
}

/// Parses exactly `bytes` as one HTTP request head ending with an empty line.
pub fn parse(bytes: &[u8]) -> Result<HttpRequest<'_>, WireError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HTTP_HEADERS];
    let mut req = httparse::Request::new(&mut storage);
    match req.parse(bytes) {
        Ok(httparse::Status::Complete(n)) if n == bytes.len() => {}
        _ => return Err(WireError::HttpHead),
    }
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(WireError::HttpHead);
    };
    let headers = req.headers.iter().map(|h| (h.name, h.value)).collect();
    Ok(HttpRequest {
        method,
        target,
        version,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_absolute_form() {
        let raw = b"GET http://h/p?q HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n";
        let r = parse(raw).unwrap();
        assert_eq!((r.method, r.target, r.version), ("GET", "http://h/p?q", 1));
        assert_eq!(r.headers.len(), 2);
    }

    #[test]
    fn rejects_bad_heads() {
        for bad in [
            &b"GET http://h/ HTTP/1.1\r\n"[..],
            b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\nextra",
            b"GET  HTTP/1.1\r\n\r\n",
            b"\x00\x01\r\n\r\n",
            b"GET http://h/ HTTP/9.9\r\n\r\n",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let mut many = b"GET http://h/ HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HTTP_HEADERS {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(parse(&many).is_err());
    }
}
