//! Issue "No client can switch signing off", point 1: requests Squid 5.7 forwards from any
//! client whose HTTP content an HTTP parser refuses (a chunked body on GET or HEAD, a raw
//! byte >= 0x80 in the target, a DEL in a header value, more header fields than the signer
//! reads, HTTP/1.2). Each used to get an ICAP 400, and eleven suspended signing for every
//! client. Now each is answered with an HTTP error, and after more than
//! `icap_service_failure_limit` of every kind, in both layouts, a miss is still signed and
//! served and Squid never suspends the service. More kinds were added with point 5 (NUL,
//! over-long target and header line, odd methods, absolute-form targets, query tricks, a
//! route's root spelled in slashes).

use s3squid::squid_conf::Layout;
use s3squid_e2e::squid::{Stack, StackOptions, PUBLIC_HOST};
use s3squid_e2e::Sandbox;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// More than Squid's `icap_service_failure_limit` (10) of each kind.
const ROUNDS: usize = 12;

/// Sends `request` as it is and returns the status of the answer (0: the connection closed
/// with no status line). Squid may answer before reading a whole body and close: a write
/// error is not a failure, the answer is what counts.
fn send(port: u16, request: &[u8]) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    buf.split(|&b| b == b' ')
        .nth(1)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The hostile kinds, each a whole request to the public port, with the statuses the
/// layouts give it (measured on Squid 5.7, and pinned so that a change shows). A GET or HEAD
/// announcing a body is refused by the samples' `http_access` (403) before ICAP (a body that
/// does reach s3squid-icap is drained and ignored: `icap-server/tests/connection.rs`); the
/// two-tier edge forwards HTTP/1.2 as 1.1 (served). Squid itself refuses a NUL, a target
/// over its URL limit, a header over `request_header_max_size` (64 KiB) and methods its
/// `http_access` does not admit; a 60 KiB header and an absolute-form target pass through
/// to the signer. The photos route allows no query parameter, so a parameter's escaped CR
/// LF and a repeated one are 403 there (an allowed one's are refused by `s3map::decide`,
/// unit-tested). Every status is a client error or a served object: never a 5xx.
fn kinds() -> Vec<(&'static str, Vec<u8>, &'static [u16])> {
    let host = format!("Host: {PUBLIC_HOST}\r\nConnection: close\r\n");
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    vec![
        (
            "GET with a chunked body",
            format!("GET /photos/plain/hello.txt HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").into_bytes(),
            &[403],
        ),
        (
            "HEAD with a chunked body",
            format!("HEAD /photos/plain/hello.txt HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into_bytes(),
            &[403],
        ),
        ("a raw 0xff in the target", [b"GET /photos/plain/\xff.txt HTTP/1.1\r\n".as_slice(), host.as_bytes(), b"\r\n"].concat(), &[400]),
        ("a raw 0x80 outside the routes", [b"GET /other/\x80 HTTP/1.1\r\n".as_slice(), host.as_bytes(), b"\r\n"].concat(), &[400]),
        ("a DEL in a header value", [b"GET /photos/plain/hello.txt HTTP/1.1\r\n".as_slice(), host.as_bytes(), b"X-A: a\x7fb\r\n\r\n"].concat(), &[400]),
        ("200 header fields", format!("GET /photos/plain/hello.txt HTTP/1.1\r\n{host}{many}\r\n").into_bytes(), &[400]),
        ("HTTP/1.2", format!("GET /photos/plain/hello.txt HTTP/1.2\r\n{host}\r\n").into_bytes(), &[400, 200]),
        ("a NUL in the target", [b"GET /photos/plain/\0.txt HTTP/1.1\r\n".as_slice(), host.as_bytes(), b"\r\n"].concat(), &[400]),
        ("a NUL in a header value", [b"GET /photos/plain/hello.txt HTTP/1.1\r\n".as_slice(), host.as_bytes(), b"X-A: a\0b\r\n\r\n"].concat(), &[400]),
        ("a 9000-byte target", format!("GET /photos/{} HTTP/1.1\r\n{host}\r\n", "a".repeat(9000)).into_bytes(), &[400]),
        ("a 60 KiB header line", format!("GET /photos/plain/hello.txt HTTP/1.1\r\n{host}X-Long: {}\r\n\r\n", "v".repeat(60 * 1024)).into_bytes(), &[200]),
        ("a 70 KiB header line", format!("GET /photos/plain/hello.txt HTTP/1.1\r\n{host}X-Long: {}\r\n\r\n", "v".repeat(70 * 1024)).into_bytes(), &[431]),
        ("an unknown method", format!("FROB /photos/plain/hello.txt HTTP/1.1\r\n{host}\r\n").into_bytes(), &[403]),
        ("a WebDAV method", format!("PROPFIND /photos/plain/ HTTP/1.1\r\n{host}\r\n").into_bytes(), &[403]),
        ("a lower-case method", format!("get /photos/plain/hello.txt HTTP/1.1\r\n{host}\r\n").into_bytes(), &[200]),
        ("an absolute-form target under a route", format!("GET http://{PUBLIC_HOST}/photos/plain/hello.txt HTTP/1.1\r\n{host}\r\n").into_bytes(), &[200]),
        ("an absolute-form target elsewhere", format!("GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\n{host}\r\n").into_bytes(), &[403]),
        ("CR LF escaped in a parameter's value", format!("GET /photos/plain/hello.txt?versionId=a%0d%0aX:%20y HTTP/1.1\r\n{host}\r\n").into_bytes(), &[403]),
        ("a repeated parameter", format!("GET /photos/plain/hello.txt?versionId=a&versionId=b HTTP/1.1\r\n{host}\r\n").into_bytes(), &[403]),
        ("a route's root in slashes", format!("GET /photos// HTTP/1.1\r\n{host}\r\n").into_bytes(), &[403]),
    ]
}

fn never_suspended(layout: Layout) {
    let sb = Sandbox::new(&format!("hostile-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    st.s3.put("photos", "plain/hello.txt", b"hello");
    for (what, request, want) in kinds() {
        for i in 0..ROUNDS {
            let status = send(st.front.port, &request);
            assert!(
                want.contains(&status),
                "{what} #{i}: {status}, not one of {want:?}"
            );
        }
    }
    assert_still_signing(&st);
}

/// A miss after all that is signed, verified by S3 and served, and Squid never suspended
/// the ICAP service.
fn assert_still_signing(st: &Stack) {
    st.s3.put("photos", "after.txt", b"still signing");
    let r = st.get("/photos/after.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"still signing"[..]));
    assert_eq!(
        st.s3.count("GetObject", "after.txt"),
        1,
        "the miss reached S3, signed"
    );
    let icap_squid = st.signer.as_ref().unwrap_or(&st.front);
    let log = icap_squid.cache_log_text();
    assert!(
        !log.contains("suspending ICAP service"),
        "Squid suspended the service:\n{log}"
    );
}

#[test]
fn forwarded_garbage_never_suspends_signing_single() {
    never_suspended(Layout::Single);
}

#[test]
fn forwarded_garbage_never_suspends_signing_two_tier() {
    never_suspended(Layout::TwoTier);
}

/// Issue point 5: empty path segments are part of a key (`/photos/a//b.txt` is the object
/// `a//b.txt`, served and cached under its own store ID), but a rest of slashes alone is
/// the route's root: 403 from the signer, S3 never asked (it used to be signed and sent to
/// S3 as `GET /photos//`, which s3s-fs answered with a 5xx and a slash-merging store would
/// answer with a listing).
#[test]
fn empty_segments_through_squid() {
    let sb = Sandbox::new("empty-segments");
    let st = Stack::start(&sb, Layout::Single, StackOptions::default());
    st.s3.put("photos", "a//b.txt", b"double slash");
    for _ in 0..2 {
        let r = st.get("/photos/a//b.txt");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"double slash"[..]));
    }
    assert_eq!(st.s3.count("GetObject", "a//b.txt"), 1, "miss, then a hit");
    let before = st.s3.requests();
    for path in ["/photos//", "/photos///", "/photos/%2F", "/photos/%2F%2f"] {
        assert_eq!(st.get(path).status, 403, "{path}");
        assert_eq!(st.head(path).status, 403, "{path}");
    }
    assert_eq!(
        st.s3.requests(),
        before,
        "S3 never asked for a root in slashes"
    );
}

/// The sum of every `s3squid_icap_requests_total` series: each REQMOD the signer answered.
fn reqmods(st: &Stack) -> f64 {
    st.icap
        .metrics()
        .lines()
        .filter(|l| l.starts_with("s3squid_icap_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Issue point 6: `adaptation_access` is scoped to GET and HEAD for the routes' public
/// hosts. On a single Squid whose `http_access` is widened to let other methods through (as
/// a Squid carrying other traffic would), a 2 MiB POST for a public URL never reaches
/// s3squid-icap (it used to: the signer got the request and its body and answered 405), and
/// ends in Squid's own 502 (no peer serves a public URL); a GET is still signed.
#[test]
fn other_traffic_never_reaches_the_signer() {
    let sb = Sandbox::new("adaptation-scope");
    let mut st = Stack::start(&sb, Layout::Single, StackOptions::default());
    crate::restart_front(&sb, &mut st, |t| {
        assert!(t.contains("\nhttp_access deny !s3squid_get_head\n"), "{t}");
        t.replace("\nhttp_access deny !s3squid_get_head\n", "\n")
    });
    st.s3.put("photos", "plain/hello.txt", b"hello");
    let before = reqmods(&st);
    let body = vec![b'x'; 2 << 20];
    for method in ["POST", "PUT"] {
        let head = format!(
            "{method} /photos/upload.bin HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let status = send(st.front.port, &[head.as_bytes(), &body].concat());
        // No peer serves a public URL: Squid's own 5xx, or a reset before the answer.
        assert!([502, 0].contains(&status), "{method}: {status}");
    }
    assert_eq!(reqmods(&st), before, "the signer saw the uploads");
    assert_eq!(st.get("/photos/plain/hello.txt").status, 200);
    assert_eq!(reqmods(&st), before + 1.0, "a GET is still signed");
    assert_eq!(st.s3.requests(), 1, "only the GET reached S3");
}

/// Found by the hostile review: a GET or HEAD that announces a body (chunked, or a
/// Content-Length) and never sends it held the ICAP transaction open until Squid's
/// `icap_io_timeout`, and twelve of them suspended the service for every client. The
/// samples now refuse a GET or HEAD with a body in `http_access` (403), before ICAP: each of
/// twelve such clients at once, holding their body back, gets its 403 at once, and signing
/// is never suspended.
fn held_bodies_never_suspend(layout: Layout) {
    use std::time::Instant;
    let sb = Sandbox::new(&format!("held-bodies-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    let port = st.front.port;
    let clients: Vec<_> = (0..12)
        .map(|i| {
            std::thread::spawn(move || {
                let method = if i % 2 == 0 { "GET" } else { "HEAD" };
                let body = if i % 3 == 0 {
                    "Content-Length: 5"
                } else {
                    "Transfer-Encoding: chunked"
                };
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                // Any key not cached at the edge, so it would reach the signer.
                write!(
                    s,
                    "{method} /photos/held/{i}.txt HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\n{body}\r\n\r\n"
                )
                .unwrap();
                s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
                let t0 = Instant::now();
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).unwrap_or(0); // the body never comes
                let status = std::str::from_utf8(&buf[..n])
                    .ok()
                    .and_then(|t| t.split(' ').nth(1))
                    .and_then(|c| c.parse::<u16>().ok())
                    .unwrap_or(0);
                (method, body, status, t0.elapsed())
            })
        })
        .collect();
    for c in clients {
        let (method, body, status, took) = c.join().unwrap();
        // Squid itself answers 411 to a GET with a Content-Length.
        assert!(
            [403, 411].contains(&status),
            "{method} with {body}: {status}"
        );
        assert!(
            took < Duration::from_secs(2),
            "{method} with {body}: {took:?}"
        );
    }
    assert_still_signing(&st);
}

#[test]
fn held_bodies_never_suspend_signing_single() {
    held_bodies_never_suspend(Layout::Single);
}

#[test]
fn held_bodies_never_suspend_signing_two_tier() {
    held_bodies_never_suspend(Layout::TwoTier);
}

/// Found by the issue-10 review: a client that asks for a cold object and then stops
/// reading held the shared fetch for everyone joined to it, until S3's connection hit
/// `read_timeout` and every other client got a cut-short body (48 MiB objects cut at
/// 2.9 MB). With the samples' `write_timeout 5 seconds` the staller is dropped, and five
/// clients asking a second later get the whole exact object, from one S3 fetch, cached.
fn stalled_client_never_cuts_others_short(layout: Layout) {
    use std::sync::Arc;
    use std::time::Instant;
    let sb = Sandbox::new(&format!("stalled-{}", layout.as_str()));
    let opts = StackOptions {
        cache_dir_mb: 300,
        ..StackOptions::default()
    };
    let st = Arc::new(Stack::start(&sb, layout, opts));
    let body: Arc<Vec<u8>> = Arc::new((0..48u32 << 20).map(|i| (i ^ (i >> 11)) as u8).collect());
    st.s3.put("photos", "stall/movie.bin", &body);
    let path = "/photos/stall/movie.bin";
    let mut stalled = TcpStream::connect(("127.0.0.1", st.front.port)).unwrap();
    write!(
        stalled,
        "GET {path} HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\n\r\n"
    )
    .unwrap();
    let mut first = [0u8; 4096];
    let _ = stalled.read(&mut first).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let t0 = Instant::now();
    let clients: Vec<_> = (0..5)
        .map(|_| {
            let st = st.clone();
            std::thread::spawn(move || st.get(path))
        })
        .collect();
    for c in clients {
        let r = c.join().unwrap();
        assert_eq!(r.status, 200);
        assert!(
            r.body == *body,
            "a client got {} of {} bytes",
            r.body.len(),
            body.len()
        );
    }
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(15), "the others waited {took:?}");
    drop(stalled);
    assert_eq!(st.s3.count("GetObject", "stall/movie.bin"), 1, "one fetch");
    let r = st.get(path);
    assert!(r.status == 200 && r.body == *body);
    assert!(st.front.access().last().is_some_and(|a| a.hit()), "cached");
}

#[test]
fn stalled_client_never_cuts_others_short_single() {
    stalled_client_never_cuts_others_short(Layout::Single);
}

#[test]
fn stalled_client_never_cuts_others_short_two_tier() {
    stalled_client_never_cuts_others_short(Layout::TwoTier);
}

/// Found by the issue-10 review: `Range: bytes=0-0,100000000-100000000` on a cold object made
/// Squid read 100 MiB from S3 to answer 240 bytes. A Range with several ranges is refused
/// (403) before anything is fetched; a single range is still answered.
#[test]
fn multi_range_requests_are_refused_before_s3() {
    let sb = Sandbox::new("multirange");
    let st = Stack::start(&sb, Layout::Single, StackOptions::default());
    st.s3.put("photos", "mr/obj.bin", &vec![7u8; 3 << 20]);
    let port = st.front.port;
    let line = "GET /photos/mr/obj.bin HTTP/1.1";
    for range in [
        "bytes=0-0,2000000-2000000",
        "bytes=0-0, 5-5",
        "bytes=-1,0-0",
    ] {
        let r = s3squid_e2e::http::raw(port, line, &[("Host", PUBLIC_HOST), ("Range", range)]);
        assert_eq!(r.status, 403, "{range}");
    }
    assert_eq!(st.s3.requests(), 0, "nothing fetched");
    let r = s3squid_e2e::http::raw(port, line, &[("Host", PUBLIC_HOST), ("Range", "bytes=1-2")]);
    assert_eq!((r.status, r.body.len()), (206, 2));
}
