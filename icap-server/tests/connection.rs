#![allow(clippy::unwrap_used)] // test support code: a panic is a test failure with its location

//! The ICAP service over real loopback sockets and in-memory pipes: persistent
//! connections, split reads, bodies, malformed input, limits and timeouts.

use std::sync::Arc;
use std::time::Duration;

use s3map::config::Config;
use s3map::Credentials;
use s3squid_icap::connection::{serve, End};
use s3squid_icap::framing::wire::WireError;
use s3squid_icap::Service;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The service's limits under test; the routes are the shared test table
/// (`tests/data/routes.toml`).
const ICAP: &str = "[icap]\nlisten = \"127.0.0.1:0\"\nmax_connections = 2\nidle_timeout = 30\n\n";

fn service() -> Service {
    let cfg = Config::parse(&format!("{ICAP}{}", s3map::fixtures::ROUTES_TOML)).unwrap();
    Service::new(
        &cfg,
        Some(Credentials::new(
            "AKIDTEST",
            "SECRETKEYTEST",
            None,
            None,
            "test",
        )),
    )
}

fn reqmod(method: &str, url: &str, body: Option<&[u8]>) -> Vec<u8> {
    let http = format!("{method} {url} HTTP/1.1\r\nUser-Agent: t\r\nAuthorization: x\r\nHost: images.example.com\r\n\r\n");
    let enc = if body.is_some() {
        format!("req-hdr=0, req-body={}", http.len())
    } else {
        format!("req-hdr=0, null-body={}", http.len())
    };
    let mut m = format!("REQMOD icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nEncapsulated: {enc}\r\nAllow: 204, trailers\r\n\r\n{http}").into_bytes();
    if let Some(b) = body {
        m.extend_from_slice(format!("{:x}\r\n", b.len()).as_bytes());
        m.extend_from_slice(b);
        m.extend_from_slice(b"\r\n0\r\n\r\n");
    }
    m
}

const OPTIONS: &[u8] = b"OPTIONS icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nAllow: 206, trailers\r\n\r\n";

/// Sends `input` through `serve` (in pieces of `piece` bytes) and returns everything the
/// service wrote until it closed or the input ran out.
async fn exchange(svc: &Service, input: &[u8], piece: usize) -> (String, End) {
    let (mut client, server) = tokio::io::duplex(1 << 20);
    let input = input.to_vec();
    let writer = async move {
        for p in input.chunks(piece.max(1)) {
            // The service may close early (a malformed message): stop sending then.
            if client.write_all(p).await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
        let _ = client.shutdown().await;
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.unwrap();
        out
    };
    let (out, end) = tokio::join!(writer, serve(server, svc));
    (String::from_utf8_lossy(&out).into_owned(), end)
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[tokio::test]
async fn persistent_connection_answers_each_message() {
    let svc = service();
    let mut input = OPTIONS.to_vec();
    input.extend(reqmod(
        "GET",
        "http://images.example.com/photos/a%20b+c.jpg",
        None,
    ));
    input.extend(reqmod("GET", "http://elsewhere.example.com/x", None));
    input.extend(reqmod("HEAD", "http://images.example.com/photos/k", None));
    input.extend(reqmod(
        "PUT",
        "http://images.example.com/photos/k",
        Some(b"data"),
    ));
    input.extend(reqmod("GET", "http://images.example.com/photos/", None));
    let (out, end) = exchange(&svc, &input, 1 << 20).await;
    assert_eq!(end, End::Clean);
    assert_eq!(count(&out, "ICAP/1.0 "), 6, "{out}");
    assert_eq!(count(&out, "ISTag: "), 6);
    assert!(out.contains("Methods: REQMOD"));
    assert!(out.contains("GET http://127.0.0.1:9000/photos/a%20b%2Bc.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDTEST%2F"));
    assert!(out.contains("HEAD http://127.0.0.1:9000/photos/k?X-Amz-Algorithm="));
    assert!(out.contains("ICAP/1.0 204 No Content"));
    assert!(out.contains("HTTP/1.1 405 Method Not Allowed"));
    assert!(out.contains("HTTP/1.1 403 Forbidden"));
    assert!(
        !out.contains("Authorization"),
        "client Authorization must be dropped"
    );
    assert!(!out.contains("SECRETKEYTEST"));
}

#[tokio::test]
async fn split_reads_give_identical_answers() {
    let svc = service();
    let mut msg = reqmod("GET", "http://images.example.com/photos/x?y", None);
    msg.extend(reqmod(
        "PUT",
        "http://images.example.com/photos/k",
        Some(b"0123456789"),
    ));
    let (whole, _) = exchange(&svc, &msg, 1 << 20).await;
    for piece in [1, 2, 3, 5, 17, 64] {
        let (out, end) = exchange(&svc, &msg, piece).await;
        assert_eq!(out, whole, "piece {piece}");
        assert_eq!(end, End::Clean);
    }
}

/// A body on a GET or HEAD, routed or not: Squid forwards one with a chunked body from any
/// client, so it is drained and ignored and the request answered as without it; the
/// connection goes on (issue 9: it was an ICAP 400 and a close, which Squid counts against
/// the service).
#[tokio::test]
async fn body_on_get_or_head_is_drained_and_the_request_answered() {
    let svc = service();
    for (method, url, answer) in [
        (
            "GET",
            "http://images.example.com/photos/a",
            "GET http://127.0.0.1:9000/photos/a?X-Amz-",
        ),
        (
            "HEAD",
            "http://images.example.com/photos/a",
            "HEAD http://127.0.0.1:9000/photos/a?X-Amz-",
        ),
        (
            "GET",
            "http://other.example.com/x",
            "ICAP/1.0 204 No Content",
        ),
    ] {
        let mut input = reqmod(method, url, Some(b"smuggled"));
        input.extend(reqmod("GET", "http://images.example.com/photos/b", None));
        for piece in [1, 5, 1 << 20] {
            let (out, end) = exchange(&svc, &input, piece).await;
            assert_eq!(end, End::Clean, "{method} {url}");
            assert_eq!(count(&out, "ICAP/1.0 "), 2, "{out}");
            assert!(out.contains(answer), "{method} {url}: {out}");
            assert!(!out.contains("smuggled"), "{out}");
            assert!(
                out.contains("GET http://127.0.0.1:9000/photos/b?X-Amz-"),
                "{out}"
            );
        }
    }
}

/// HTTP heads an HTTP parser refuses but Squid 5.7 forwards from any client (a raw byte
/// >= 0x80 in the target, a DEL in a header value, too many header fields, HTTP/1.2), and a
/// head over MAX_HTTP_HEAD: each is an HTTP error by request satisfaction (400; 431 for the
/// size), head only for a HEAD, and the connection goes on (issue 9: each was an ICAP 400
/// and a close).
#[tokio::test]
async fn unreadable_http_heads_are_http_errors_not_icap_errors() {
    let svc = service();
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let huge = format!("X-Big: {}\r\n", "v".repeat(70 * 1024));
    let heads: Vec<(Vec<u8>, &str)> = vec![
        (
            b"GET http://images.example.com/photos/\xff.jpg HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            "400",
        ),
        (
            b"GET http://images.example.com/photos/a HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n".to_vec(),
            "400",
        ),
        (
            format!("GET http://images.example.com/photos/a HTTP/1.1\r\n{many}\r\n").into_bytes(),
            "400",
        ),
        (
            b"GET http://images.example.com/photos/a HTTP/1.2\r\nHost: h\r\n\r\n".to_vec(),
            "400",
        ),
        (
            b"HEAD http://other.example.com/\x80 HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            "400",
        ),
        (
            b"GARBAGE http://images.example.com/photos/a\r\n\r\n".to_vec(),
            "400",
        ),
        (
            format!("GET http://images.example.com/photos/a HTTP/1.1\r\n{huge}\r\n").into_bytes(),
            "431",
        ),
        (
            format!("HEAD http://images.example.com/photos/a HTTP/1.1\r\n{huge}\r\n").into_bytes(),
            "431",
        ),
    ];
    for (http, status) in &heads {
        let mut input = format!(
            "REQMOD icap://h/s3sign ICAP/1.0\r\nAllow: 204\r\nEncapsulated: req-hdr=0, null-body={}\r\n\r\n",
            http.len()
        )
        .into_bytes();
        input.extend_from_slice(http);
        input.extend(reqmod("GET", "http://images.example.com/photos/b", None));
        let (out, end) = exchange(&svc, &input, 4096).await;
        let what = String::from_utf8_lossy(&http[..40]);
        assert_eq!(end, End::Clean, "{what}");
        assert!(out.starts_with("ICAP/1.0 200 OK\r\n"), "{what}: {out}");
        assert!(
            out.contains(&format!("HTTP/1.1 {status} ")),
            "{what}: {out}"
        );
        assert!(
            out.contains(&format!("X-S3squid-Refused: {status}")),
            "{what}"
        );
        let head_only = http.starts_with(b"HEAD ");
        let first = &out[..out[1..].find("ICAP/1.0").map_or(out.len(), |i| i + 1)];
        assert_eq!(first.contains("null-body="), head_only, "{what}: {first}");
        assert!(
            out.contains("GET http://127.0.0.1:9000/photos/b?X-Amz-"),
            "{what}: the next message"
        );
    }
    let refused = |reason: &str| {
        svc.metrics.refused(
            *s3map::decide::Refusal::ALL
                .iter()
                .find(|r| r.reason() == reason)
                .unwrap(),
        )
    };
    assert_eq!((refused("unreadable"), refused("head_too_large")), (6, 2));
}

#[tokio::test]
async fn echo_when_204_not_offered() {
    let svc = service();
    let http = "POST http://other.example.com/x HTTP/1.1\r\nHost: other.example.com\r\n\r\n";
    let msg = format!("REQMOD icap://h/s3sign ICAP/1.0\r\nEncapsulated: req-hdr=0, req-body={}\r\n\r\n{http}3\r\nabc\r\n0\r\n\r\n", http.len());
    let (out, _) = exchange(&svc, msg.as_bytes(), 1 << 20).await;
    assert!(out.starts_with("ICAP/1.0 200 OK"), "{out}");
    assert!(
        out.ends_with(&format!("{http}3\r\nabc\r\n0\r\n\r\n")),
        "{out}"
    );
}

/// The most an echo keeps is `MAX_BODY` (64 KiB, what Squid itself can back up): a body of
/// that size is echoed, one byte more is answered 413 by request satisfaction, never an
/// ICAP error, and the connection goes on (it used to keep up to 1 MiB per connection).
#[tokio::test]
async fn echoed_bodies_are_bounded() {
    use s3squid_icap::limits::MAX_BODY;
    assert_eq!(MAX_BODY, 64 * 1024);
    let svc = service();
    let http = "GET http://other.example.com/x HTTP/1.1\r\nHost: other.example.com\r\n\r\n";
    let msg = |n: usize| {
        let mut m = format!("REQMOD icap://h/s3sign ICAP/1.0\r\nEncapsulated: req-hdr=0, req-body={}\r\n\r\n{http}{n:x}\r\n", http.len()).into_bytes();
        m.extend(std::iter::repeat_n(b'b', n));
        m.extend_from_slice(b"\r\n0\r\n\r\n");
        m
    };
    let input = [msg(MAX_BODY), msg(MAX_BODY + 1), msg(3)].concat();
    let (out, _) = exchange(&svc, &input, 4096).await;
    assert_eq!(
        count(&out, "ICAP/1.0 200 OK"),
        3,
        "{}",
        &out[..out.len().min(400)]
    );
    assert_eq!(
        count(&out, &"b".repeat(MAX_BODY)),
        1,
        "the first echoed whole"
    );
    assert_eq!(count(&out, "HTTP/1.1 413 "), 1, "the second refused");
    assert!(
        out.ends_with(&format!("{http}3\r\nbbb\r\n0\r\n\r\n")),
        "the third echoed"
    );
}

/// Malformed ICAP (33 kinds): each gets an ICAP error status and a close, never a panic or
/// a hang.
#[tokio::test]
async fn malformed_messages_get_an_icap_error_and_close() {
    let svc = service();
    let good_http = "GET http://images.example.com/photos/a HTTP/1.1\r\nHost: h\r\n\r\n";
    let n = good_http.len();
    let r = "REQMOD icap://h/s3sign ICAP/1.0\r\n";
    let e = |enc: &str, rest: &str| format!("{r}Encapsulated: {enc}\r\n\r\n{rest}");
    // Bodies ride on a PUT: a body on a GET is refused before its chunks are read.
    let put_http = "PUT http://images.example.com/photos/a HTTP/1.1\r\nHost: h\r\n\r\n";
    let body_head = format!("req-hdr=0, req-body={}", put_http.len());
    let cases: Vec<(String, &str)> = vec![
        // Encapsulated: non-monotonic, duplicated, unknown, response sections, too many.
        (e("req-hdr=0, null-body=0", good_http), "400"),
        (e("req-hdr=0, req-hdr=5, null-body=9", good_http), "400"),
        (e("req-hdr=0, opt-body=5", good_http), "400"),
        (e("res-hdr=0, res-body=5", good_http), "400"),
        (
            e(
                "req-hdr=0, null-body=1, null-body=2, null-body=3, null-body=4",
                good_http,
            ),
            "400",
        ),
        (e("req-hdr=0, null-body=", good_http), "400"),
        (e("req-hdr=0 null-body=5", good_http), "400"),
        // The encapsulated HTTP head not ending where Encapsulated says (NUL bytes, no end).
        // What a well-framed head holds is the client's: an HTTP answer
        // (`unreadable_http_heads_are_http_errors_not_icap_errors`).
        (
            e(&format!("req-hdr=0, null-body={n}"), &"\u{0}".repeat(n)),
            "400",
        ),
        (e("req-hdr=0, null-body=12", "GET / HTTP/1"), "400"),
        // Chunked bodies: bad sizes, missing CRLF, oversized size field, extension garbage.
        (
            e(&body_head, &format!("{put_http}-5\r\nhello\r\n0\r\n\r\n")),
            "400",
        ),
        (
            e(&body_head, &format!("{put_http}5\r\nhelloX\r\n0\r\n\r\n")),
            "400",
        ),
        (e(&body_head, &format!("{put_http}123456789\r\n")), "400"),
        (
            e(&body_head, &format!("{put_http}{}\r\n", "f".repeat(2000))),
            "400",
        ),
        (e(&body_head, &format!("{put_http}0x5\r\nhello\r\n")), "400"),
        // ICAP head: bad line ends, a bare LF, NUL in a header, too many headers, a header
        // without a colon, a space in the method, lower-case version.
        (
            "REQMOD icap://h/s3sign ICAP/1.0\nEncapsulated: null-body=0\n\n".into(),
            "400",
        ),
        (
            format!("{r}X-Bad: a\u{0}b\r\nEncapsulated: null-body=0\r\n\r\n"),
            "400",
        ),
        (
            format!(
                "{r}{}Encapsulated: null-body=0\r\n\r\n",
                "X: y\r\n".repeat(40)
            ),
            "400",
        ),
        ("RE QMOD icap://h/s3sign ICAP/1.0\r\n\r\n".into(), "400"),
        ("REQMOD icap://h/s3sign icap/1.0\r\n\r\n".into(), "400"),
        (
            "REQMOD icap://h/s3sign ICAP/1.0\r\nPreview: -1\r\nEncapsulated: null-body=0\r\n\r\n"
                .into(),
            "400",
        ),
        (format!("{r}\r\n"), "400"),
        (format!("{r}Encapsulated: req-hdr=0\r\n\r\n"), "400"),
        (
            format!("{r}Encapsulated: req-hdr=10, null-body=5\r\n\r\n"),
            "400",
        ),
        (
            format!(
                "{r}Encapsulated: req-hdr=0, null-body={}\r\n\r\n{good_http}",
                n - 2
            ),
            "400",
        ),
        (
            format!("{r}Encapsulated: {body_head}\r\n\r\n{put_http}zz\r\n"),
            "400",
        ),
        (
            format!("{r}Encapsulated: {body_head}\r\n\r\n{put_http}3\r\nabcX\r\n"),
            "400",
        ),
        ("REQMOD icap://h/s3sign ICAP/1.1\r\n\r\n".into(), "505"),
        ("BREW icap://h/s3sign ICAP/1.0\r\n\r\n".into(), "405"),
        (
            "RESPMOD icap://h/s3sign ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n".into(),
            "405",
        ),
        ("OPTIONS icap://h/other ICAP/1.0\r\n\r\n".into(), "404"),
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n".into(), "400"),
        (format!("{r}X: {}\r\n\r\n", "a".repeat(20_000)), "400"),
        ("\u{0}\u{1}\u{2}\r\n\r\n".into(), "400"),
    ];
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for (msg, status) in cases {
        let (out, end) = exchange(&svc, msg.as_bytes(), 1 << 20).await;
        assert!(
            out.starts_with(&format!("ICAP/1.0 {status} ")),
            "{msg:?} -> {out:?}"
        );
        assert!(out.contains("ISTag: "), "{out}");
        assert_ne!(end, End::Slow);
        // A broken chunked body is caught by the chunked decoder, not by an earlier rule.
        if msg.contains(put_http) {
            assert_eq!(end, End::Malformed(WireError::Body), "{msg:?}");
        }
    }
}

#[tokio::test]
async fn truncated_message_closes() {
    let svc = service();
    let msg = reqmod("GET", "http://images.example.com/photos/a", None);
    let (out, end) = exchange(&svc, &msg[..msg.len() - 3], 1 << 20).await;
    assert_eq!(out, "");
    assert_eq!(end, End::Truncated);
}

#[tokio::test(start_paused = true)]
async fn idle_and_slow_connections_are_closed() {
    let svc = service();
    let (_client, server) = tokio::io::duplex(1024);
    assert_eq!(serve(server, &svc).await, End::Idle);
    let (mut client, server) = tokio::io::duplex(1024);
    client
        .write_all(b"REQMOD icap://h/s3sign ICAP/1.0\r\n")
        .await
        .unwrap();
    assert_eq!(serve(server, &svc).await, End::Slow);
}

/// `s3squid_icap::run` on a free loopback port: its address, the sender that stops it, and
/// its task.
async fn start_server() -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let svc = Arc::new(service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(s3squid_icap::run(listener, svc, async {
        let _ = stop_rx.await;
    }));
    (addr, stop_tx, server)
}

#[tokio::test]
async fn connection_limit_is_what_options_advertise() {
    let (addr, stop_tx, server) = start_server().await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(OPTIONS).await.unwrap();
        let mut buf = vec![0; 4096];
        let n = c.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).contains("Max-Connections: 2"));
        held.push(c);
    }
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = third.write_all(OPTIONS).await;
    let mut buf = vec![0; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "the third connection must be closed unanswered");
    drop(held);
    // Slots free up again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = tokio::net::TcpStream::connect(addr).await.unwrap();
    again.write_all(OPTIONS).await.unwrap();
    let n = again.read(&mut buf).await.unwrap();
    assert!(n > 0);
    drop(again);
    stop_tx.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn unsigned_routes_index_documents_and_redirects() {
    let svc = service();
    let mut input = reqmod("GET", "http://www.example.com/docs/", None);
    input.extend(reqmod(
        "GET",
        "http://www.example.com/blog/a%20b.html",
        None,
    ));
    input.extend(reqmod("HEAD", "http://www.example.com/blog/x", None));
    let (out, end) = exchange(&svc, &input, 1 << 20).await;
    assert_eq!(end, End::Clean);
    // auth = "none": the S3 URL, unsigned.
    assert!(
        out.contains("GET http://127.0.0.1:9000/site-bucket/docs/index.html HTTP/1.1\r\n"),
        "{out}"
    );
    assert!(out.contains("HTTP/1.1 302 Found\r\n"));
    assert!(out.contains("Location: https://blog.example.com/a%20b.html\r\n"));
    assert!(out.contains("Location: https://blog.example.com/x\r\n"));
    assert!(
        out.ends_with("Location: https://blog.example.com/x\r\n\r\n"),
        "HEAD: no body: {out}"
    );
}

/// A flood without a head terminator is cut off at the head limit: memory stays bounded.
#[tokio::test]
async fn endless_head_is_cut_off() {
    let svc = service();
    let flood = vec![b'A'; 4 << 20];
    let (out, end) = exchange(&svc, &flood, 64 * 1024).await;
    assert!(out.starts_with("ICAP/1.0 400 "), "{out}");
    assert_eq!(
        end,
        End::Malformed(s3squid_icap::framing::wire::WireError::HeadTooLong)
    );
}

/// A client that closes mid-body: the connection ends, nothing is answered.
#[tokio::test]
async fn premature_close_in_body() {
    let svc = service();
    let msg = reqmod(
        "PUT",
        "http://images.example.com/photos/k",
        Some(b"0123456789"),
    );
    let (out, end) = exchange(&svc, &msg[..msg.len() - 9], 1 << 20).await;
    assert_eq!((out.as_str(), end), ("", End::Truncated));
}

/// Shutdown (SIGTERM in main): the listener closes at once (a new connection is refused,
/// so Squid bypasses without waiting), a connection idle between messages is closed at
/// once, and one in the middle of a message gets its answer and is then closed, even
/// though it is persistent. The server returns as soon as they are done, well before
/// `DRAIN_TIMEOUT`. (It used to keep answering new messages on open connections for the
/// whole 5 s drain.)
#[tokio::test]
async fn shutdown_finishes_messages_in_flight_and_closes_idle_connections_at_once() {
    use s3squid_icap::limits::DRAIN_TIMEOUT;
    let (addr, stop_tx, server) = start_server().await;
    async fn answered(c: &mut tokio::net::TcpStream) -> String {
        let mut buf = vec![0; 8192];
        let n = c.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(OPTIONS).await.unwrap();
    assert!(answered(&mut idle).await.starts_with("ICAP/1.0 200 OK"));
    let mut busy = tokio::net::TcpStream::connect(addr).await.unwrap();
    busy.write_all(OPTIONS).await.unwrap();
    assert!(answered(&mut busy).await.starts_with("ICAP/1.0 200 OK"));
    let msg = reqmod("GET", "http://images.example.com/photos/a.jpg", None);
    let (first, rest) = msg.split_at(msg.len() / 2);
    busy.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let t0 = std::time::Instant::now();
    stop_tx.send(()).unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(1), idle.read(&mut buf))
        .await
        .expect("the idle connection is closed at once")
        .unwrap_or(0);
    assert_eq!(n, 0, "closed, not answered");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
    busy.write_all(rest).await.unwrap();
    let out = answered(&mut busy).await;
    assert!(
        out.starts_with("ICAP/1.0 200 OK"),
        "the message in flight is answered: {out}"
    );
    assert!(out.contains("X-Amz-Signature="), "{out}");
    let _ = busy.write_all(OPTIONS).await;
    let n = tokio::time::timeout(Duration::from_secs(1), busy.read(&mut buf))
        .await
        .expect("then closed")
        .unwrap_or(0);
    assert_eq!(n, 0, "no message after the one in flight");
    tokio::time::timeout(Duration::from_secs(2), server)
        .await
        .expect("the server returns once its connections are done")
        .unwrap();
    assert!(t0.elapsed() < DRAIN_TIMEOUT / 2, "{:?}", t0.elapsed());
}
