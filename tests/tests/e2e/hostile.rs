//! Issue "No client can switch signing off", point 1: requests Squid 5.7 forwards from any
//! client whose HTTP content an HTTP parser refuses (a chunked body on GET or HEAD, a raw
//! byte >= 0x80 in the target, a DEL in a header value, more header fields than the signer
//! reads, HTTP/1.2). Each used to get an ICAP 400, and eleven suspended signing for every
//! client. Now each is answered with an HTTP error, and after more than
//! `icap_service_failure_limit` of every kind, in both layouts, a miss is still signed and
//! served and Squid never suspends the service.

use s3squid::squid_conf::Layout;
use s3squid_e2e::squid::{Stack, StackOptions, PUBLIC_HOST};
use s3squid_e2e::Sandbox;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// More than Squid's `icap_service_failure_limit` (10) of each kind.
const ROUNDS: usize = 12;

/// Sends `request` as it is and returns the status of the answer (0: the connection closed
/// with no status line).
fn send(port: u16, request: &[u8]) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    buf.split(|&b| b == b' ')
        .nth(1)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The hostile kinds, each a whole request to the public port, with the statuses the
/// single layout gives it: a body on GET or HEAD is drained and ignored by the signer (the
/// object is served), the rest are client errors from the signer. The two-tier edge
/// answers some itself (411 for a chunked GET) and normalises others (HTTP/1.2 is forwarded
/// as 1.1 and served), so there any answer below 500 will do.
fn kinds() -> Vec<(&'static str, Vec<u8>, &'static [u16])> {
    let host = format!("Host: {PUBLIC_HOST}\r\nConnection: close\r\n");
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    vec![
        (
            "GET with a chunked body",
            format!("GET /photos/plain/hello.txt HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").into_bytes(),
            &[200],
        ),
        (
            "HEAD with a chunked body",
            format!("HEAD /photos/plain/hello.txt HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into_bytes(),
            &[200],
        ),
        ("a raw 0xff in the target", [b"GET /photos/plain/\xff.txt HTTP/1.1\r\n".as_slice(), host.as_bytes(), b"\r\n"].concat(), &[400]),
        ("a raw 0x80 outside the routes", [b"GET /other/\x80 HTTP/1.1\r\n".as_slice(), host.as_bytes(), b"\r\n"].concat(), &[400]),
        ("a DEL in a header value", [b"GET /photos/plain/hello.txt HTTP/1.1\r\n".as_slice(), host.as_bytes(), b"X-A: a\x7fb\r\n\r\n"].concat(), &[400]),
        ("200 header fields", format!("GET /photos/plain/hello.txt HTTP/1.1\r\n{host}{many}\r\n").into_bytes(), &[400]),
        ("HTTP/1.2", format!("GET /photos/plain/hello.txt HTTP/1.2\r\n{host}\r\n").into_bytes(), &[400]),
    ]
}

fn never_suspended(layout: Layout) {
    let sb = Sandbox::new(&format!("hostile-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    st.s3.put("photos", "plain/hello.txt", b"hello");
    for (what, request, want) in kinds() {
        for i in 0..ROUNDS {
            let status = send(st.front.port, &request);
            let ok = match layout {
                Layout::Single => want.contains(&status),
                _ => (200..500).contains(&status),
            };
            assert!(ok, "{what} #{i}: {status} (single layout: one of {want:?})");
        }
    }
    // A miss after all that: signed, verified by S3, served.
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
