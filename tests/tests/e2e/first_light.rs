//! Issue "first light": every awkward key in both layouts, refusals, not an open proxy,
//! wrong credentials, ICAP errors never suspend the service, broken helper configs.

use s3squid::squid_conf::Layout;
use s3squid_e2e::squid::{Stack, StackOptions};
use s3squid_e2e::{awkward_keys, Sandbox};

use crate::{body_of, public_path};

/// Every awkward key: GET twice → 200, exact bytes, miss then hit at the public Squid.
/// Two-tier: the signing Squid saw each key once. HEAD of an uncached key → 200 with the
/// right Content-Length, and S3 logged a HeadObject.
fn awkward_keys_round_trip(layout: Layout) {
    let sb = Sandbox::new(&format!("keys-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    let keys = awkward_keys();
    assert!(keys.len() >= 15, "corpus too small: {}", keys.len());
    for k in &keys {
        st.s3.put("photos", k, &body_of(k));
    }
    let mut lines = 0;
    for k in &keys {
        for round in 0..2 {
            let r = st.get(&public_path(k));
            assert_eq!(
                r.status,
                200,
                "GET {k:?} round {round}: {}",
                String::from_utf8_lossy(&r.body)
            );
            assert_eq!(r.body, body_of(k), "GET {k:?} round {round}");
        }
        lines += 2;
        let log = st.front.access_n(lines);
        let (first, second) = (&log[lines - 2], &log[lines - 1]);
        assert!(
            !first.hit() && first.status == 200,
            "{k:?}: first {first:?}"
        );
        assert!(
            second.hit() && second.status == 200,
            "{k:?}: second {second:?}"
        );
        assert_eq!(st.s3.count("GetObject", k), 1, "{k:?} reached S3 once");
    }
    if let Some(signer) = &st.signer {
        let seen = signer.access_n(keys.len());
        assert_eq!(
            seen.len(),
            keys.len(),
            "the signing Squid saw each key once: {seen:#?}"
        );
    }
    // HEAD of a key nobody fetched yet.
    let k = "head/only once.txt";
    st.s3.put("photos", k, b"0123456789");
    let r = st.head(&public_path(k));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("10"));
    assert!(r.body.is_empty());
    assert_eq!(st.s3.count("HeadObject", k), 1, "{:?}", st.s3.ops());
}

#[test]
fn awkward_keys_two_tier() {
    awkward_keys_round_trip(Layout::TwoTier);
}

#[test]
fn awkward_keys_single() {
    awkward_keys_round_trip(Layout::Single);
}

/// Wrong credentials: S3 refuses the signature, the client gets an error, nothing is cached
/// (a second request goes to S3 again).
#[test]
fn wrong_credentials_error_is_not_cached() {
    let sb = Sandbox::new("wrong-creds");
    let opts = StackOptions {
        creds: Some((s3squid_e2e::ACCESS_KEY, "not-the-secret-key-at-all")),
        ..StackOptions::default()
    };
    let st = Stack::start(&sb, Layout::TwoTier, opts);
    st.s3.put("photos", "plain/hello.txt", b"hello");
    for _ in 0..2 {
        let r = st.get("/photos/plain/hello.txt");
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        assert_ne!(r.body, b"hello");
    }
    assert_eq!(
        st.s3.requests(),
        2,
        "both requests reached S3: nothing was cached"
    );
    assert!(st.front.access_n(2).iter().all(|a| !a.hit()));
}

fn refusals(layout: Layout) {
    let sb = Sandbox::new(&format!("refusals-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    st.s3.put("photos", "plain/hello.txt", b"hello");
    let port = st.front.port;
    let host = [("Host", s3squid_e2e::squid::PUBLIC_HOST)];
    let raw = |line: &str| s3squid_e2e::http::raw(port, line, &host);
    for (line, want) in [
        ("PUT /photos/plain/hello.txt HTTP/1.1", None),
        ("DELETE /photos/plain/hello.txt HTTP/1.1", None),
        ("POST /photos/plain/hello.txt HTTP/1.1", None),
        ("GET /photos/ HTTP/1.1", Some(403)),
        ("GET /photos HTTP/1.1", Some(403)),
        ("GET /photos/?list-type=2 HTTP/1.1", Some(403)),
        ("GET /photos/plain/hello.txt?acl HTTP/1.1", Some(403)),
        (
            "GET /photos/plain/hello.txt?response-content-type=text/html HTTP/1.1",
            Some(403),
        ),
        ("GET /photos/a/../plain/hello.txt HTTP/1.1", None),
        ("GET /photos/a/%2e%2e/plain/hello.txt HTTP/1.1", Some(400)),
        ("HEAD /photos/?list-type=2 HTTP/1.1", Some(403)),
    ] {
        let r = raw(line);
        match want {
            Some(s) => {
                assert_eq!(r.status, s, "{line}");
                assert_eq!(
                    r.header("x-s3squid-refused"),
                    Some(s.to_string().as_str()),
                    "{line}: refused by s3squid-icap"
                );
            }
            None => assert!((400..500).contains(&r.status), "{line}: {}", r.status),
        }
    }
    assert_eq!(
        st.s3.requests(),
        0,
        "S3 saw a refused request: {:?}",
        st.s3.ops()
    );
    // And the route still works.
    assert_eq!(st.get("/photos/plain/hello.txt").body, b"hello");
    crate::assert_bug_5187_warned_at_most_once(&st);
}

#[test]
fn refusals_never_reach_s3_two_tier() {
    refusals(Layout::TwoTier);
}

#[test]
fn refusals_never_reach_s3_single() {
    refusals(Layout::Single);
}

/// Not an open proxy: other hosts by `Host:` or absolute-form, the metadata address, the
/// S3 endpoint itself and CONNECT are refused, and no listener receives them.
fn not_an_open_proxy(layout: Layout) {
    let sb = Sandbox::new(&format!("open-proxy-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    st.s3.put("photos", "plain/hello.txt", b"hello");
    let decoy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    decoy.set_nonblocking(true).unwrap();
    let decoy_at = decoy.local_addr().unwrap().to_string();
    let s3_at = format!("127.0.0.1:{}", st.s3.port);
    let port = st.front.port;
    let cases: Vec<(String, String)> = vec![
        (
            "GET /latest/meta-data/ HTTP/1.1".into(),
            "169.254.169.254".into(),
        ),
        ("GET /photos/plain/hello.txt HTTP/1.1".into(), s3_at.clone()),
        (
            "GET /photos/plain/hello.txt HTTP/1.1".into(),
            decoy_at.clone(),
        ),
        (
            "GET /photos/plain/hello.txt HTTP/1.1".into(),
            "other.example.com".into(),
        ),
        (
            "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1".into(),
            "images.example.com".into(),
        ),
        (
            format!("GET http://{s3_at}/photos/plain/hello.txt HTTP/1.1"),
            "images.example.com".into(),
        ),
        (
            format!("GET http://{decoy_at}/x HTTP/1.1"),
            "images.example.com".into(),
        ),
        (format!("CONNECT {decoy_at} HTTP/1.1"), decoy_at.clone()),
        (format!("CONNECT {s3_at} HTTP/1.1"), s3_at.clone()),
    ];
    for (line, host) in &cases {
        let r = s3squid_e2e::http::raw(port, line, &[("Host", host)]);
        assert!(
            (400..500).contains(&r.status),
            "{line} Host: {host} → {}",
            r.status
        );
    }
    assert!(
        matches!(decoy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the decoy listener received a connection"
    );
    assert_eq!(
        st.s3.requests(),
        0,
        "S3 received a request: {:?}",
        st.s3.ops()
    );
}

#[test]
fn not_an_open_proxy_two_tier() {
    not_an_open_proxy(Layout::TwoTier);
}

#[test]
fn not_an_open_proxy_single() {
    not_an_open_proxy(Layout::Single);
}

/// Client errors are HTTP errors, not ICAP errors: 20 bad escapes, 15 other bad requests
/// and 12 GETs with a body in a row, then a good request is still signed, and Squid never
/// suspended the service.
#[test]
fn bad_escapes_never_suspend_the_service() {
    let sb = Sandbox::new("bad-escapes");
    let st = Stack::start(&sb, Layout::Single, StackOptions::default());
    st.s3.put("photos", "plain/hello.txt", b"hello");
    for i in 0..20 {
        let r = st.get(&format!("/photos/bad%zz{i}"));
        assert_eq!(r.status, 400, "bad escape {i}");
        assert_eq!(
            r.header("x-s3squid-refused"),
            Some("400"),
            "refused by s3squid-icap, not Squid"
        );
    }
    // More client errors of other kinds: over-long keys, dot segments, control characters,
    // refused queries, refused methods (these stop at http_access).
    let long = format!("/photos/{}", "k".repeat(1100));
    let port = st.front.port;
    let host = ("Host", s3squid_e2e::squid::PUBLIC_HOST);
    for i in 0..3 {
        assert_eq!(st.get(&long).status, 400, "over-long key {i}");
        assert_eq!(st.get("/photos/a/%2e%2e/b").status, 400);
        assert_eq!(st.get("/photos/a%00b").status, 400);
        assert_eq!(st.get("/photos/a?acl").status, 403);
        let r = s3squid_e2e::http::raw(port, "DELETE /photos/plain/hello.txt HTTP/1.1", &[host]);
        assert_eq!(r.status, 403);
    }
    // A GET with a body, 12 in a row: Squid 5.7 answers it itself (411, ERR_INVALID_REQ)
    // before any ICAP, so s3squid-icap's ICAP 400 for a body on GET (hostile ICAP input)
    // can never be triggered by a client to make Squid suspend signing.
    for i in 0..12 {
        let r = s3squid_e2e::http::raw_with_body(
            port,
            "GET /photos/plain/hello.txt HTTP/1.1",
            &[host],
            b"a body",
        );
        // Squid 6 and later accept the body; the samples then refuse it (403) before ICAP.
        assert!(
            [411, 403].contains(&r.status),
            "GET with a body {i}: {}",
            r.status
        );
        assert_eq!(r.header("x-s3squid-refused"), None, "Squid's own answer");
    }
    let r = st.get("/photos/plain/hello.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    assert_eq!(
        st.s3.count("GetObject", "plain/hello.txt"),
        1,
        "the good request was signed and reached S3"
    );
    let log = st.front.cache_log_text();
    assert!(
        !log.contains("suspending ICAP service"),
        "Squid suspended the service:\n{log}"
    );
    assert!(
        !log.contains("essential ICAP service is down") && !log.contains("ICAP protocol error")
    );
}

/// A store-id helper whose config is broken, started at Squid's start (`startup=1`), then
/// `squid -k rotate` (which restarts helpers): Squid stays up and keeps serving, and the
/// helpers serve the last good copy of their file, so hits go on. s3squid-icap serves
/// another file here, and a helper never uses another file's copy (it answered BH at
/// start): the test puts in place the copy an s3squid-icap serving broken.toml would have
/// kept.
#[test]
fn storeid_with_broken_config_keeps_squid_up() {
    let sb = Sandbox::new("storeid-broken");
    let broken = sb.path("broken.toml");
    std::fs::write(
        &broken,
        "[[route]]\nname = 'x'\npublic = 'not a url'\n\u{1}garbage = [",
    )
    .unwrap();
    let opts = StackOptions {
        storeid_config: Some(broken.clone()),
        ..StackOptions::default()
    };
    let mut st = Stack::start(&sb, Layout::Single, opts);
    st.s3.put("photos", "plain/before.txt", b"before");
    assert_eq!(st.get("/photos/plain/before.txt").status, 200);
    let good = std::fs::read_to_string(&st.config).unwrap();
    s3squid_startup::lastgood::Copies::of(&broken, &sb.path("state"))
        .unwrap()
        .record(&good)
        .unwrap();
    st.s3.put("photos", "plain/hello.txt", b"hello");
    for round in 0..2 {
        st.front.control("rotate");
        std::thread::sleep(std::time::Duration::from_secs(2));
        assert!(
            st.front.proc.running(),
            "squid exited after -k rotate:\n{}",
            st.front.cache_log_text()
        );
        let r = st.get("/photos/plain/hello.txt");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"hello"[..]),
            "round {round}"
        );
    }
    assert_eq!(
        st.s3.count("GetObject", "plain/hello.txt"),
        1,
        "hits through the last good config's store IDs"
    );
    let log = st.front.cache_log_text();
    assert!(
        log.contains("no last good copy of it in"),
        "at start, s3squid-icap's copy of its own file was not used:\n{log}"
    );
    assert!(
        log.contains("serving the last good one"),
        "the helper said why on stderr:\n{log}"
    );
    assert!(!log.contains("crashing too rapidly"), "{log}");
}

/// With no last good configuration at all, a broken helper config makes the helper answer
/// BH (never exit): Squid stays up and every request is still answered.
#[test]
fn storeid_broken_without_last_good_answers_bh() {
    let sb = Sandbox::new("storeid-bh");
    let broken = sb.path("broken.toml");
    std::fs::write(&broken, "garbage = [").unwrap();
    let opts = StackOptions {
        storeid_config: Some(broken),
        ..StackOptions::default()
    };
    let mut st = Stack::start(&sb, Layout::Single, opts);
    // Remove what s3squid-icap recorded, then restart the helpers.
    std::fs::remove_dir_all(sb.path("state")).unwrap();
    st.front.control("rotate");
    std::thread::sleep(std::time::Duration::from_secs(2));
    st.s3.put("photos", "plain/hello.txt", b"hello");
    for _ in 0..2 {
        let r = st.get("/photos/plain/hello.txt");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    }
    assert!(st.front.proc.running());
    let log = st.front.cache_log_text();
    assert!(log.contains("answering BH"), "{log}");
}

/// An independent ICAP client: c-icap-client's OPTIONS and REQMOD both succeed.
#[test]
fn c_icap_client_options_and_reqmod() {
    let sb = Sandbox::new("c-icap-client");
    let s3 = s3squid_e2e::s3::S3::start(&sb);
    let (port, metrics_port) = (s3squid_e2e::free_port(), s3squid_e2e::free_port());
    let config = sb.path("s3squid.toml");
    std::fs::write(
        &config,
        s3squid_e2e::squid::config_text(port, metrics_port, &s3, ""),
    )
    .unwrap();
    let creds = s3squid_e2e::squid::static_creds(s3squid_e2e::ACCESS_KEY, s3squid_e2e::SECRET_KEY);
    let _icap = s3squid_e2e::squid::Icap::start(&sb, config, port, metrics_port, creds);
    let run = |extra: &[&str]| {
        let out = std::process::Command::new("c-icap-client")
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-s",
                "s3sign",
                "-v",
            ])
            .args(extra)
            .output()
            .expect("c-icap-client is not installed: run scripts/test, which installs it");
        assert!(
            out.status.success(),
            "c-icap-client {extra:?} failed: {out:?}"
        );
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let options = run(&[]);
    assert!(
        options.contains("ICAP/1.0 200 OK") && options.contains("Methods: REQMOD"),
        "{options}"
    );
    let reqmod = run(&[
        "-req",
        "http://images.example.com/photos/with%20space/a%20b.jpg",
    ]);
    assert!(reqmod.contains("ICAP/1.0 200 OK"), "{reqmod}");
    let want = format!(
        "GET http://127.0.0.1:{}/photos/with%20space/a%20b.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&",
        s3.port
    );
    assert!(reqmod.contains(&want), "{reqmod}");
    assert!(!reqmod.contains(s3squid_e2e::SECRET_KEY));
    let not_ours = run(&["-req", "http://elsewhere.example.com/x"]);
    assert!(not_ours.contains("204"), "{not_ours}");
}
