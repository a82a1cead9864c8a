//! The ICAP service's parsers: the request head (`Encapsulated` included), the chunked
//! body decoder, the encapsulated HTTP head, and the whole REQMOD pipeline of one
//! connection over an in-memory stream.

use std::io;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use s3squid_icap::connection::{serve, End};
use s3squid_icap::framing::chunked::{Decoder, TooLarge};
use s3squid_icap::framing::http::{self, HttpRequest};
use s3squid_icap::framing::wire::{
    find, parse_head, Encapsulated, Method, RequestHead, Status, WireError,
};
use s3squid_icap::limits::{
    MAX_BODY, MAX_CHUNK_LINE, MAX_HTTP_HEAD, MAX_HTTP_HEADERS, MAX_ICAP_HEAD, MAX_TRAILERS,
};
use s3squid_icap::Service;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{cuts, split_point, unmeasured, Target, KIB};

const ICAP_TOKENS: &[&[u8]] = &[
    b"REQMOD ",
    b"OPTIONS ",
    b"RESPMOD ",
    b"ICAP/1.0",
    b"ICAP/1.1",
    b"icap://127.0.0.1:1344/s3sign",
    b"Encapsulated: ",
    b"Encapsulated: req-hdr=0, null-body=",
    b"Encapsulated: req-hdr=0, req-body=",
    b"Encapsulated: null-body=0",
    b"Encapsulated: req-body=0",
    b"req-hdr=0",
    b", null-body=",
    b", req-body=",
    b"res-hdr=",
    b"Preview: ",
    b"Allow: 204",
    b"Connection: close",
    b"X-Pad: ",
    b"\r\n0; ieof\r\n\r\n",
    b"0\r\n\r\n",
    b"; ieof",
    b"GET http://images.example.com/photos/a.jpg HTTP/1.1\r\n",
    b"HEAD ",
    b"POST ",
    b"Host: ",
];

const CHUNK_TOKENS: &[&[u8]] = &[
    b"0\r\n\r\n",
    b"0; ieof\r\n\r\n",
    b"; ieof",
    b";ext=\"v\"",
    b"X-Trailer: v\r\n",
    b"100000\r\n",
    b"fffff\r\n",
    b"FFFFFFFF\r\n",
    b"\r\n",
];

const HTTP_TOKENS: &[&[u8]] = &[
    b"GET ",
    b"HEAD ",
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/2.0",
    b"Host: ",
    b"X-Amz-Date: ",
    b"Authorization: AWS4-HMAC-SHA256 ",
    b"\r\n ",
    b"\r\n\t",
    b"\n",
];

/// `wire::parse_head`: the ICAP request line and headers, `Encapsulated` and `Preview`.
///
/// Bound: the head is held at most once more (the URI, ≤ [`MAX_ICAP_HEAD`]), plus 4 KiB of
/// slack for the `Encapsulated` offsets and the result.
pub const ICAP_HEAD: Target = Target {
    name: "icap_head",
    entry: "s3squid_icap::framing::wire::parse_head",
    run: icap_head,
    bound: |len| len.min(MAX_ICAP_HEAD) + 4 * KIB,
    accepts: |d| matches!(parse_head(d), Ok(Status::Complete(..))),
    tokens: ICAP_TOKENS,
};

/// Parses an ICAP head. A complete head consumes at most the input and
/// [`MAX_ICAP_HEAD`], ends in CRLF CRLF, parses the same without what follows it, every
/// proper prefix of it is `Partial`, and re-encoded it parses to the same head. `Partial`
/// only under [`MAX_ICAP_HEAD`] bytes; an error stays an error whatever follows.
pub fn icap_head(data: &[u8]) {
    let whole = parse_head(data);
    unmeasured(|| check_head(data, &whole));
}

fn check_head(data: &[u8], whole: &Result<Status<RequestHead>, WireError>) {
    match whole {
        Ok(Status::Complete(head, used)) => {
            let used = *used;
            assert!(
                used <= data.len() && used <= MAX_ICAP_HEAD,
                "consumed {used} of {} bytes",
                data.len()
            );
            assert!(
                data[..used].ends_with(b"\r\n\r\n"),
                "head not ended by CRLF CRLF"
            );
            assert_eq!(
                head.encapsulated.is_some(),
                head.method == Method::Reqmod,
                "Encapsulated kept for a non-REQMOD or missing for a REQMOD"
            );
            assert!(
                parse_head(&data[..used]) == *whole,
                "the head parses differently without the bytes after it"
            );
            for cut in cuts(used) {
                let part = parse_head(&data[..cut]);
                assert!(
                    part == Ok(Status::Partial),
                    "the first {cut} of {used} bytes of a complete head: {:?}, not Partial",
                    part.err()
                );
            }
            let encoded = encode_head(head);
            if encoded.len() <= MAX_ICAP_HEAD {
                assert!(
                    parse_head(&encoded) == Ok(Status::Complete(head.clone(), encoded.len())),
                    "the re-encoded head parses differently"
                );
            }
        }
        Ok(Status::Partial) => {
            assert!(
                data.len() < MAX_ICAP_HEAD,
                "Partial at {} bytes",
                data.len()
            );
            assert!(find(data, b"\r\n\r\n").is_none(), "Partial with CRLF CRLF");
        }
        Err(e) => {
            let mut more = data.to_vec();
            more.extend_from_slice(b"\r\n\r\nX");
            assert!(
                parse_head(&more).is_err(),
                "{e:?}, but accepted once more bytes arrive"
            );
        }
    }
}

/// A head in the canonical form: the same fields, one header each.
fn encode_head(h: &RequestHead) -> Vec<u8> {
    let method = match h.method {
        Method::Options => "OPTIONS",
        Method::Reqmod => "REQMOD",
        Method::Other => "RESPMOD",
    };
    let mut out = format!("{method} {} ICAP/1.0\r\n", h.uri);
    if let Some(e) = h.encapsulated {
        out.push_str(&format!("Encapsulated: {}\r\n", encode_encapsulated(e)));
    }
    if h.allow_204 {
        out.push_str("Allow: 204\r\n");
    }
    if let Some(p) = h.preview {
        out.push_str(&format!("Preview: {p}\r\n"));
    }
    if h.close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn encode_encapsulated(e: Encapsulated) -> String {
    let body = if e.body { "req-body" } else { "null-body" };
    if e.head_len == 0 {
        format!("{body}=0")
    } else {
        format!("req-hdr=0, {body}={}", e.head_len)
    }
}

const REQMOD_LINE: &[u8] = b"REQMOD icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nEncapsulated: ";

fn with_encapsulated(value: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(REQMOD_LINE.len() + value.len() + 4);
    msg.extend_from_slice(REQMOD_LINE);
    msg.extend_from_slice(value);
    msg.extend_from_slice(b"\r\n\r\n");
    msg
}

/// `wire::parse_head` with the input as the value of a REQMOD's `Encapsulated` header.
///
/// Bound: the message built around the input (input + 64 bytes) and the head's bound
/// ([`ICAP_HEAD`]) for it: 2 × min(len, [`MAX_ICAP_HEAD`]) + the part past the limit
/// (the message is built whole) + 4 KiB.
pub const ENCAPSULATED: Target = Target {
    name: "encapsulated",
    entry: "s3squid_icap::framing::wire::parse_head (Encapsulated)",
    run: encapsulated,
    bound: |len| len + len.min(MAX_ICAP_HEAD) + 4 * KIB,
    accepts: |d| matches!(parse_head(&with_encapsulated(d)), Ok(Status::Complete(..))),
    tokens: &[
        b"req-hdr=0",
        b"null-body=",
        b"req-body=",
        b"res-hdr=0",
        b"res-body=",
        b"opt-body=",
        b", ",
        b"=0",
        b"65536",
        b"65537",
    ],
};

/// Parses an `Encapsulated` value. An accepted one says `req-body` exactly when a body
/// follows and `req-hdr` exactly when a head does, and re-encoded canonically parses to
/// the same value. (A head over [`MAX_HTTP_HEAD`] is well framed: the connection reads past
/// it and answers the client 431.)
pub fn encapsulated(data: &[u8]) {
    let parsed = parse_head(&with_encapsulated(data));
    unmeasured(|| match &parsed {
        Ok(Status::Complete(head, _)) => {
            let e = head
                .encapsulated
                .expect("a REQMOD parsed without Encapsulated");
            if !data.contains(&b'\r') && !data.contains(&b'\n') {
                let v = std::str::from_utf8(data).expect("an accepted value is not UTF-8");
                assert_eq!(e.body, v.contains("req-body"), "body flag");
                assert_eq!(e.head_len > 0, v.contains("req-hdr"), "head flag");
            }
            let again = parse_head(&with_encapsulated(encode_encapsulated(e).as_bytes()));
            assert!(
                matches!(again, Ok(Status::Complete(ref h, _)) if h.encapsulated == Some(e)),
                "the re-encoded value parses differently: {again:?}"
            );
        }
        Ok(Status::Partial) => panic!("a head ending in CRLF CRLF is Partial"),
        Err(_) => {}
    });
}

/// A decoded body: bytes consumed, done, `ieof`, the body.
type Decoded = (usize, bool, bool, Result<Vec<u8>, TooLarge>);

/// Feeds `data` to a decoder, whole or in two reads split at `split` (the way the
/// connection feeds it: the unconsumed bytes of the first read, then the rest).
fn decode(data: &[u8], keep: bool, split: Option<usize>) -> Result<Decoded, WireError> {
    let mut d = Decoder::new(keep);
    let mut used = 0;
    match split {
        None => used += d.feed(data)?,
        Some(at) => {
            let n = d.feed(&data[..at])?;
            assert!(n <= at, "consumed {n} of {at} bytes");
            used += n;
            if !d.done() {
                used += d.feed(&data[n..])?;
            }
        }
    }
    Ok((used, d.done(), d.ieof(), d.into_body()))
}

/// `chunked::Decoder::feed`, keeping the body.
///
/// Bound: the kept body (≤ min(len, [`MAX_BODY`])) in a growing vector: while it grows
/// the old and the new buffer are live, 3 × the body at most; plus 1 KiB.
pub const CHUNKED: Target = Target {
    name: "chunked",
    entry: "s3squid_icap::framing::chunked::Decoder::feed",
    run: chunked,
    bound: |len| 3 * len.min(MAX_BODY) + KIB,
    accepts: |d| matches!(decode(d, true, None), Ok((_, true, _, Ok(_)))),
    tokens: CHUNK_TOKENS,
};

/// Decodes a chunked body. It consumes at most the input; the same bytes split in two
/// reads (at a point the input picks, and just after each of its first CRs) decode the
/// same; walking the framing without keeping the body agrees on everything but the body;
/// a kept body is at most [`MAX_BODY`] and re-encoded decodes to itself.
pub fn chunked(data: &[u8]) {
    let whole = decode(data, true, None);
    unmeasured(|| {
        if let Ok((used, done, _, body)) = &whole {
            assert!(*used <= data.len(), "consumed {used} of {}", data.len());
            if *done {
                assert!(data[..*used].ends_with(b"\r\n"), "done without CRLF");
            }
            if let Ok(b) = body {
                assert!(
                    b.len() <= MAX_BODY && b.len() <= *used,
                    "body of {}",
                    b.len()
                );
            }
        }
        let crs = data.iter().enumerate().filter(|(_, &b)| b == b'\r');
        let splits = std::iter::once(split_point(data)).chain(crs.take(8).map(|(i, _)| i + 1));
        for at in splits {
            let halves = decode(data, true, Some(at));
            assert!(
                halves == whole,
                "split at {at}: {:?}, whole: {:?}",
                summary(&halves),
                summary(&whole)
            );
        }
        let walked = decode(data, false, None);
        assert!(
            summary(&walked) == summary(&whole).map(|s| (s.0, s.1, s.2, 0)),
            "walking without keeping: {:?}, keeping: {:?}",
            summary(&walked),
            summary(&whole)
        );
        if let Ok((_, true, _, Ok(body))) = &whole {
            let mut encoded = Vec::new();
            if !body.is_empty() {
                encoded.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                encoded.extend_from_slice(body);
                encoded.extend_from_slice(b"\r\n");
            }
            encoded.extend_from_slice(b"0\r\n\r\n");
            let again = decode(&encoded, true, None);
            assert!(
                matches!(&again, Ok((n, true, false, Ok(b))) if *n == encoded.len() && b == body),
                "the re-encoded body decodes differently: {:?}",
                summary(&again)
            );
        }
    });
}

/// A decode result without the body bytes (for messages): used, done, ieof, body length
/// (`usize::MAX` when too large).
fn summary(r: &Result<Decoded, WireError>) -> Result<(usize, bool, bool, usize), WireError> {
    r.as_ref()
        .map(|(u, d, i, b)| (*u, *d, *i, b.as_ref().map_or(usize::MAX, Vec::len)))
        .map_err(|e| *e)
}

/// `http::parse`: the encapsulated HTTP request head.
///
/// Bound: the header list (≤ [`MAX_HTTP_HEADERS`] pairs of slices, 32 bytes each, 4 KiB)
/// plus 4 KiB; nothing grows with the input (httparse borrows it).
pub const HTTP_HEAD: Target = Target {
    name: "http_head",
    entry: "s3squid_icap::framing::http::parse",
    run: http_head,
    bound: |_| MAX_HTTP_HEADERS * 32 + 4 * KIB,
    accepts: |d| http::parse(d).is_ok(),
    tokens: HTTP_TOKENS,
};

/// Parses an HTTP request head. An accepted one has at most [`MAX_HTTP_HEADERS`] fields,
/// ends with a line end, and re-encoded parses to the same method, target, version and
/// fields.
pub fn http_head(data: &[u8]) {
    let parsed = http::parse(data);
    unmeasured(|| {
        let Ok(req) = &parsed else { return };
        assert!(
            req.headers.len() <= MAX_HTTP_HEADERS,
            "{} headers",
            req.headers.len()
        );
        assert!(
            data.ends_with(b"\n"),
            "a head that does not end with a line end"
        );
        let encoded = encode_http(req);
        match http::parse(&encoded) {
            Ok(again) => assert!(
                (again.method, again.target, again.version, &again.headers)
                    == (req.method, req.target, req.version, &req.headers),
                "the re-encoded head parses differently"
            ),
            Err(e) => panic!("the re-encoded head is refused: {e:?}"),
        }
    });
}

fn encode_http(req: &HttpRequest<'_>) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.{}\r\n", req.method, req.target, req.version).into_bytes();
    for (name, value) in &req.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The service the connection target talks to: the shared route table, fixed credentials.
fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let creds = s3map::Credentials::new("AKIDFUZZ", "SECRETFUZZ", None, None, "fuzz");
        Service::new(crate::routes::config(), Some(creds))
    })
}

thread_local! {
    /// One single-threaded runtime per thread (with timers: the connection sets deadlines).
    static RUNTIME: tokio::runtime::Runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build a tokio runtime: {e}"),
    };
}

/// A connection's peer: reads come from the input in pieces (never pending), writes are
/// checked and counted, not kept.
struct Peer<'a> {
    rest: &'a [u8],
    size: usize,
    responses: usize,
    /// Responses that do not start with an ICAP status line.
    without_status: usize,
    /// The status code of the last response (0: a response without one).
    last_status: u16,
}

impl AsyncRead for Peer<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let n = me.size.min(me.rest.len()).min(buf.remaining());
        buf.put_slice(&me.rest[..n]);
        me.rest = &me.rest[n..];
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Peer<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        // Each response is written with one write_all, which this peer takes whole.
        me.responses += 1;
        me.last_status = match b.strip_prefix(b"ICAP/1.0 ") {
            Some(rest) => std::str::from_utf8(rest.get(..3).unwrap_or_default())
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            None => 0,
        };
        if !(100..600).contains(&me.last_status) {
            me.without_status += 1;
        }
        Poll::Ready(Ok(b.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Serves one connection whose client sends `data` then closes.
fn converse(data: &[u8]) -> (End, Peer<'_>) {
    let mut peer = Peer {
        rest: data,
        size: super::read_size(data),
        responses: 0,
        without_status: 0,
        last_status: 0,
    };
    let end = RUNTIME.with(|rt| rt.block_on(serve(&mut peer, service())));
    (end, peer)
}

/// The most the connection target reads into memory at once: a head, an HTTP head, a
/// chunk line or trailers, a kept body, and a read's worth beyond them.
const CONNECTION_HOLDS: usize =
    MAX_ICAP_HEAD + MAX_HTTP_HEAD + MAX_CHUNK_LINE + MAX_TRAILERS + MAX_BODY + 64 * KIB;

/// `connection::serve`: the whole REQMOD pipeline of one connection (head, HTTP head,
/// policy and presigning, body, response) over an in-memory stream.
///
/// Bound: with h = min(len, [`CONNECTION_HOLDS`]): the read buffer (≤ 3 h while it grows),
/// the HTTP head copied out of it (≤ h), the kept body (≤ 3 h while it grows) and the echo
/// response that carries them (≤ 2 h): 9 h, plus 64 KiB for the presigned URL, the
/// adapted request and the runtime's per-call state.
pub const ICAP_CONNECTION: Target = Target {
    name: "icap_connection",
    entry: "s3squid_icap::connection::serve",
    run: icap_connection,
    bound: |len| 9 * len.min(CONNECTION_HOLDS) + 64 * KIB,
    accepts: |d| {
        let (end, peer) = converse(d);
        !matches!(end, End::Malformed(_)) && peer.responses > 0 && peer.without_status == 0
    },
    tokens: ICAP_TOKENS,
};

/// Serves a connection. Every response starts with an ICAP status line; a malformed
/// message is answered with its error's status before the connection closes.
pub fn icap_connection(data: &[u8]) {
    let (end, peer) = converse(data);
    unmeasured(|| {
        assert_eq!(
            peer.without_status, 0,
            "a response without an ICAP status line"
        );
        if let End::Malformed(e) = end {
            assert_eq!(peer.last_status, e.status(), "the error response for {e:?}");
        }
    });
}
