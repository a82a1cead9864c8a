//! ICAP responses, encoded. Every response carries `ISTag` (RFC 3507 §4.7). Offsets in
//! `Encapsulated` are computed from the serialised bytes.

use std::fmt::Write as _;

use crate::framing::http::HttpRequest;

/// What every response needs to know about the service.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    /// `ISTag` value, quoted, ≤ 32 bytes inside the quotes.
    pub istag: String,
    /// `Options-TTL` seconds.
    pub options_ttl: u64,
    /// `Max-Connections` — exactly the limit the server enforces.
    pub max_connections: usize,
}

/// Headers a client must not send to S3 through s3squid (case-insensitive names). `Via`
/// too: Squid checks the adapted request for a forwarding loop again, and on finding its
/// own name in a client's `Via` it logs the whole request to cache.log — the presigned URL,
/// session token included. Squid adds its own `Via` when it forwards, so real loops are
/// still caught on arrival.
fn dropped(name: &str) -> bool {
    name.eq_ignore_ascii_case("host")
        || name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("proxy-authorization")
        || name.eq_ignore_ascii_case("via")
        || name
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("x-amz-"))
}

fn start(out: &mut Vec<u8>, status: &str, info: &ServiceInfo) {
    out.extend_from_slice(b"ICAP/1.0 ");
    out.extend_from_slice(status.as_bytes());
    out.extend_from_slice(b"\r\nISTag: ");
    out.extend_from_slice(info.istag.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The OPTIONS response: REQMOD only, `Allow: 204`, no Preview and no Transfer-* (so Squid
/// never previews and never skips the service for an extension), no Date (Squid uses its
/// own clock for the TTL).
pub fn options(info: &ServiceInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    start(&mut out, "200 OK", info);
    let _ = write!(
        ByteWriter(&mut out),
        "Methods: REQMOD\r\nService: s3squid-icap/{}\r\nOptions-TTL: {}\r\nMax-Connections: {}\r\nAllow: 204\r\nEncapsulated: null-body=0\r\n\r\n",
        env!("CARGO_PKG_VERSION"),
        info.options_ttl,
        info.max_connections
    );
    out
}

/// `204 No Content`: use the request unchanged. Nothing may follow it.
pub fn no_content(info: &ServiceInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    start(&mut out, "204 No Content", info);
    out.extend_from_slice(b"\r\n");
    out
}

/// `200 OK` with the original request head (and body) echoed, for clients that did not
/// offer 204.
pub fn echo(info: &ServiceInfo, head: &[u8], body: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + 128);
    start(&mut out, "200 OK", info);
    let kind = if body.is_some() {
        "req-body"
    } else {
        "null-body"
    };
    let _ = write!(
        ByteWriter(&mut out),
        "Encapsulated: req-hdr=0, {kind}={}\r\n\r\n",
        head.len()
    );
    out.extend_from_slice(head);
    if let Some(b) = body {
        chunk(&mut out, b);
    }
    out
}

/// `200 OK` with the adapted request: the S3 URL, `Host` for it, the client's headers minus
/// `Host`, `Authorization`, `Proxy-Authorization`, `Via` and `x-amz-*`.
pub fn adapted(info: &ServiceInfo, req: &HttpRequest<'_>, url: &str, host: &str) -> Vec<u8> {
    let mut head = Vec::with_capacity(url.len() + 512);
    let _ = write!(
        ByteWriter(&mut head),
        "{} {} HTTP/1.{}\r\n",
        req.method,
        url,
        req.version
    );
    for (name, value) in &req.headers {
        if !dropped(name) {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        }
    }
    let _ = write!(ByteWriter(&mut head), "Host: {host}\r\n\r\n");
    let mut out = Vec::with_capacity(head.len() + 96);
    start(&mut out, "200 OK", info);
    let _ = write!(
        ByteWriter(&mut out),
        "Encapsulated: req-hdr=0, null-body={}\r\n\r\n",
        head.len()
    );
    out.extend_from_slice(&head);
    out
}

/// `200 OK` satisfying the request with an HTTP error the client reads; S3 never sees it.
/// `head_only` for HEAD requests (no body).
pub fn refusal(info: &ServiceInfo, status: u16, message: &str, head_only: bool) -> Vec<u8> {
    let extra = format!(
        "X-S3squid-Refused: {status}\r\n{}",
        if status == 405 {
            "Allow: GET, HEAD\r\n"
        } else {
            ""
        }
    );
    satisfaction(info, status, message, &extra, head_only)
}

/// `200 OK` satisfying the request with a redirect (a route's `[[route.redirect]]`).
/// `location` was validated by the config (no spaces, quotes or line breaks).
pub fn redirect(info: &ServiceInfo, status: u16, location: &str, head_only: bool) -> Vec<u8> {
    let extra = format!("Location: {location}\r\n");
    satisfaction(info, status, &format!("See {location}"), &extra, head_only)
}

fn satisfaction(
    info: &ServiceInfo,
    status: u16,
    message: &str,
    extra_headers: &str,
    head_only: bool,
) -> Vec<u8> {
    let body = format!("{status} {}: {message}\n", reason_phrase(status));
    let mut head = String::with_capacity(256);
    let _ = write!(
        head,
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\n{extra_headers}\r\n",
        reason_phrase(status),
        body.len()
    );
    let mut out = Vec::with_capacity(head.len() + body.len() + 96);
    start(&mut out, "200 OK", info);
    let kind = if head_only { "null-body" } else { "res-body" };
    let _ = write!(
        ByteWriter(&mut out),
        "Encapsulated: res-hdr=0, {kind}={}\r\n\r\n",
        head.len()
    );
    out.extend_from_slice(head.as_bytes());
    if !head_only {
        chunk(&mut out, body.as_bytes());
    }
    out
}

/// An ICAP error for broken framing; the connection is closed after it.
pub fn icap_error(info: &ServiceInfo, status: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    let phrase = match status {
        404 => "ICAP Service Not Found",
        405 => "Method Not Allowed",
        505 => "ICAP Version Not Supported",
        _ => "Bad Request",
    };
    start(&mut out, &format!("{status} {phrase}"), info);
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// The reason phrase of an HTTP status s3squid answers with (refusals, redirects, the
/// admin port): the standard one, or `Error` for a status without one.
pub fn reason_phrase(status: u16) -> &'static str {
    ::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    if !data.is_empty() {
        let _ = write!(ByteWriter(out), "{:x}\r\n", data.len());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
}

/// A `fmt::Write` adapter that appends to a byte vector, so `write!` can format into the
/// response being built.
struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests;
