//! Issue "survive every failure": credentials rotating and expiring with loopback servers
//! speaking the real IMDSv2 and ECS protocols, secrets never in any log or error page.

use std::time::{Duration, Instant};

use s3squid::squid_conf::Layout;
use s3squid_e2e::mock::{CredsMock, Kind};
use s3squid_e2e::squid::{Stack, StackOptions};
use s3squid_e2e::{wait_until, Sandbox, SECRET_KEY};

fn stack_with_mock(name: &str, kind: Kind, lifetime: Duration) -> (Sandbox, Stack, CredsMock) {
    let sb = Sandbox::new(name);
    let mock = CredsMock::start(kind, lifetime);
    let opts = StackOptions {
        creds: None,
        icap_env: mock.env(kind),
        extra_routes: crate::PUBLIC_ROUTE.to_owned(),
        anonymous_s3: true,
        ..StackOptions::default()
    };
    let st = Stack::start(&sb, Layout::Single, opts);
    st.anon.as_ref().unwrap().bucket("open");
    wait_until(30, "first credentials from the mock", || {
        st.icap.metric("s3squid_icap_credentials_valid") == 1.0
    });
    (sb, st, mock)
}

/// Credentials from IMDSv2 expire every 12 s and are refreshed in the background while
/// traffic flows: not one request fails.
#[test]
fn imds_credentials_rotate_under_traffic_with_no_failed_request() {
    let (_sb, st, mock) = stack_with_mock("creds-imds", Kind::Imds, Duration::from_secs(12));
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(20) {
        let key = format!("rotation/{n}.txt");
        st.s3.put("photos", &key, key.as_bytes());
        let r = st.get(&crate::public_path(&key));
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, key.as_bytes()),
            "request {n} at {:?}",
            start.elapsed()
        );
        n += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(n > 50, "only {n} requests");
    assert!(
        mock.issued.load(std::sync::atomic::Ordering::Relaxed) >= 3,
        "credentials were rotated"
    );
    assert!(st.icap.metric("s3squid_icap_credentials_refreshes_total") >= 3.0);
    assert_eq!(
        st.icap
            .metric("s3squid_icap_credentials_source{source=\"imds\"}"),
        1.0
    );
    assert_eq!(
        st.icap
            .metric("s3squid_icap_credentials_refresh_failures_total"),
        0.0
    );
    let left = st.icap.metric("s3squid_icap_credentials_expiry_seconds");
    assert!((0.0..=12.0).contains(&left), "{left}");
}

/// The ECS credentials endpoint fails: the last good credentials sign until they expire;
/// then signed routes degrade (cached copies served, misses 5xx), counted and visible in
/// /metrics, while the `auth = "none"` route goes on; when the endpoint returns, signing
/// resumes by itself.
#[test]
fn ecs_outage_degrades_signed_routes_then_recovers() {
    let (_sb, st, mock) = stack_with_mock("creds-ecs", Kind::Ecs, Duration::from_secs(10));
    let anon = st.anon.as_ref().unwrap();
    st.s3.put("photos", "cached.jpg", b"cached");
    anon.put("open", "free.txt", b"free");
    assert_eq!(st.get("/photos/cached.jpg").status, 200);
    let failures = "s3squid_icap_credentials_refresh_failures_total";
    let failed_before = st.icap.metric(failures);
    mock.failing
        .store(true, std::sync::atomic::Ordering::Relaxed);
    // The last good credentials keep signing after a refresh has failed (10 s credentials
    // are refreshed with about 5 s left, so a failure comes before they expire).
    wait_until(15, "a failed credential refresh", || {
        st.icap.metric(failures) > failed_before
    });
    assert_eq!(st.icap.metric("s3squid_icap_credentials_valid"), 1.0);
    st.s3.put("photos", "during-grace.jpg", b"grace");
    assert_eq!(
        st.get("/photos/during-grace.jpg").status,
        200,
        "last good credentials still sign"
    );
    wait_until(30, "credentials to expire", || {
        st.icap.metric("s3squid_icap_credentials_valid") == 0.0
    });
    st.s3.put("photos", "new.jpg", b"new");
    let before = st.s3.requests();
    for _ in 0..3 {
        let r = st.get("/photos/cached.jpg");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"cached"[..]),
            "hits are served"
        );
        let r = st.get("/photos/new.jpg");
        assert!(
            r.status >= 500,
            "a miss without credentials fails: {}",
            r.status
        );
        let r = st.get("/public/free.txt");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"free"[..]),
            "unsigned routes go on"
        );
    }
    assert_eq!(
        st.s3.requests(),
        before,
        "nothing reached the signed S3 unsigned"
    );
    assert!(
        st.icap
            .metric("s3squid_icap_requests_total{outcome=\"degraded\",reason=\"no_credentials\"}")
            >= 3.0
    );
    assert!(
        st.icap
            .metric("s3squid_icap_credentials_refresh_failures_total")
            >= 1.0
    );
    mock.failing
        .store(false, std::sync::atomic::Ordering::Relaxed);
    wait_until(45, "signing to resume", || {
        st.get("/photos/new.jpg").status == 200
    });
    assert_eq!(st.icap.metric("s3squid_icap_credentials_valid"), 1.0);
}

/// Secrets appear nowhere but in memory (the secret key) and in presigned URLs sent
/// upstream (the session token): not in s3squid-icap's log (debug level), Squid's access
/// and cache logs, the helpers' stderr, or any error page a client got. Also when a client
/// fakes a forwarding loop (`Via` with the Squid's own name): Squid checks the adapted
/// request for loops too and logged it whole, token and all, until the signer stopped
/// passing the client's `Via` on.
#[test]
fn secrets_never_appear_in_logs_or_error_pages() {
    let (sb, st, _mock) = stack_with_mock("secrets", Kind::Ecs, Duration::from_secs(3600));
    st.s3.put("photos", "a.jpg", b"a");
    let mut pages = Vec::new();
    for path in [
        "/photos/a.jpg",
        "/photos/a.jpg",
        "/photos/missing.jpg",
        "/photos/bad%zz",
        "/photos/?list-type=2",
        "/photos/a.jpg?X-Amz-Security-Token=x",
    ] {
        pages.push(st.get(path));
    }
    pages.push(s3squid_e2e::http::raw(
        st.front.port,
        "PUT /photos/a.jpg HTTP/1.1",
        &[("Host", "images.example.com")],
    ));
    // A client faking a forwarding loop: Squid logs the request and answers an error page.
    let via = format!("1.1 {} (squid)", st.params.single.visible_hostname);
    for path in ["/photos/a.jpg", "/photos/loop-miss.jpg"] {
        pages.push(s3squid_e2e::http::raw(
            st.front.port,
            &format!("GET {path} HTTP/1.1"),
            &[("Host", "images.example.com"), ("Via", &via)],
        ));
    }
    st.front.control("rotate");
    std::thread::sleep(Duration::from_secs(1));
    let needles = [SECRET_KEY, "session-token-"];
    for page in &pages {
        let text = String::from_utf8_lossy(&page.body);
        let head = format!("{:?}", page.headers);
        for n in needles {
            assert!(
                !text.contains(n) && !head.contains(n),
                "an error page carries {n:?}"
            );
        }
    }
    let mut checked = 0;
    // s3s-fs is S3 itself: it sees the presigned URLs by design.
    let s3_logs = [st.s3.log.clone(), st.anon.as_ref().unwrap().log.clone()];
    for entry in walk(&sb.dir) {
        let name = entry.to_string_lossy();
        if s3_logs.contains(&entry) || !(name.ends_with(".log") || name.ends_with(".stderr")) {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        for n in needles {
            assert!(!text.contains(n), "{name} contains {n:?}");
        }
        checked += 1;
    }
    assert!(checked >= 3, "checked {checked} logs");
    // The token really was in use: S3 received it in the presigned URLs.
    let s3_log = std::fs::read_to_string(&st.s3.log).unwrap();
    assert!(
        s3_log.contains("X-Amz-Security-Token=session-token-"),
        "the session token was sent upstream"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The active probe: a signed HEAD for the route's `probe_key` reports reachability,
/// whether S3 accepts the signature, and the clock offset — with right and wrong keys, and
/// with S3 down.
#[test]
fn active_probe_reports_reachability_signature_and_clock() {
    let sb = Sandbox::new("probe");
    let mut s3 = s3squid_e2e::s3::S3::start(&sb);
    s3.put("photos", "probe.txt", b"ok");
    let start = |secret: &str, name: &str| {
        let (port, metrics_port) = (s3squid_e2e::free_port(), s3squid_e2e::free_port());
        let dir = sb.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("s3squid.toml");
        let text = s3squid_e2e::squid::config_text(port, metrics_port, &s3, "")
            .replace("[icap]\n", "[icap]\nprobe_interval = 1\n")
            .replace(
                "auth = \"sigv4\"",
                "auth = \"sigv4\"\nprobe_key = \"probe.txt\"",
            );
        std::fs::write(&config, text).unwrap();
        let creds = s3squid_e2e::squid::static_creds(s3squid_e2e::ACCESS_KEY, secret);
        let icap = s3squid_e2e::squid::Icap::start(&sb, config, port, metrics_port, creds);
        wait_until(20, "a probe round", || {
            icap.metrics()
                .contains("s3squid_icap_probe_up{route=\"photos\"}")
        });
        icap
    };
    let good = start(SECRET_KEY, "good");
    assert_eq!(good.metric("s3squid_icap_probe_up{route=\"photos\"}"), 1.0);
    assert_eq!(
        good.metric("s3squid_icap_probe_signature_ok{route=\"photos\"}"),
        1.0
    );
    assert_eq!(
        good.metric("s3squid_icap_probe_status{route=\"photos\"}"),
        200.0
    );
    assert!(
        good.metric("s3squid_icap_probe_clock_offset_seconds{route=\"photos\"}")
            .abs()
            <= 2.0
    );
    let bad = start("not-the-secret", "bad");
    assert_eq!(bad.metric("s3squid_icap_probe_up{route=\"photos\"}"), 1.0);
    assert_eq!(
        bad.metric("s3squid_icap_probe_signature_ok{route=\"photos\"}"),
        0.0
    );
    assert_eq!(
        bad.metric("s3squid_icap_probe_status{route=\"photos\"}"),
        403.0
    );
    s3.stop();
    wait_until(20, "the probe to see S3 down", || {
        good.metric("s3squid_icap_probe_up{route=\"photos\"}") == 0.0
    });
    let health =
        String::from_utf8(s3squid_e2e::http::get(good.metrics_port, "127.0.0.1", "/healthz").body)
            .unwrap();
    assert!(
        health.starts_with("ok\n") && health.contains("probe photos: up=false"),
        "{health}"
    );
    assert!(
        health.contains("credentials valid (environment)"),
        "{health}"
    );
}
