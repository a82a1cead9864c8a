//! End-to-end: real Squid (the machine's, 5.7 on Debian bookworm; or `S3SQUID_E2E_SQUID`, such
//! as the 6.13 and 7.7 of scripts/squid-versions) in each sample layout, s3squid-icap, s3squid-storeid,
//! s3squid-rewrite and s3s-fs verifying SigV4 with access keys. One test binary; each test
//! has its own temp dir and loopback ports and stops what it started, by PID.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

mod facts;
mod failures;
mod faults;
mod first_light;
mod fleet;
mod fragment;
mod helpers;
mod hostile;
mod outage;
mod tls;
mod traffic;

/// The bytes stored for a key: distinct per key, so a wrong object cannot pass.
pub fn body_of(key: &str) -> Vec<u8> {
    format!("object bytes of {key:?}\n").into_bytes()
}

/// The public path of a key under the `photos` route.
pub fn public_path(key: &str) -> String {
    format!("/photos/{}", s3map::pct::encode_path(key))
}

/// An `auth = "none"` route on the anonymous s3s-fs (`StackOptions::anonymous_s3`).
pub const PUBLIC_ROUTE: &str = r#"
[[route]]
name = "public"
public = "http://images.example.com/public/"
bucket = "open"
region = "us-east-1"
endpoint = "ANON_ENDPOINT"
addressing = "path"
auth = "none"
"#;

/// Stores and caches one fresh and one stale object (modified 2 s before caching, so stale
/// 1.5 s later: docs/design.md#fact-8); returns them as (public path, bytes).
pub fn warm(st: &s3squid_e2e::squid::Stack) -> Vec<(String, Vec<u8>)> {
    use std::time::Duration;
    st.s3.put("photos", "fresh.jpg", b"fresh bytes");
    st.s3.put_recent(
        "photos",
        "stale.jpg",
        b"stale bytes",
        Duration::from_secs(2),
    );
    let objects = vec![
        ("/photos/fresh.jpg".to_owned(), b"fresh bytes".to_vec()),
        ("/photos/stale.jpg".to_owned(), b"stale bytes".to_vec()),
    ];
    assert_served(st, &objects, "while warming");
    std::thread::sleep(Duration::from_millis(1500));
    objects
}

/// Every `(public path, bytes)` of `objects` is answered 200 with its bytes.
pub fn assert_served(st: &s3squid_e2e::squid::Stack, objects: &[(String, Vec<u8>)], when: &str) {
    for (p, b) in objects {
        let r = st.get(p);
        assert_eq!((r.status, &r.body), (200, b), "{p} {when}");
    }
}

/// Polls `path` until it is answered 200, for up to `secs`: how long that took, which the
/// test prints as `what`.
pub fn time_until_answered(
    st: &s3squid_e2e::squid::Stack,
    path: &str,
    secs: u64,
    what: &str,
) -> std::time::Duration {
    let t0 = std::time::Instant::now();
    s3squid_e2e::wait_until(secs, what, || st.get(path).status == 200);
    let took = t0.elapsed();
    eprintln!("{what}: {took:?}");
    took
}

/// Stops the stack's public Squid and starts it again on the same port and files, with its
/// squid.conf passed through `edit`.
pub fn restart_front(
    sb: &s3squid_e2e::Sandbox,
    st: &mut s3squid_e2e::squid::Stack,
    edit: impl FnOnce(String) -> String,
) {
    let text = edit(std::fs::read_to_string(&st.front.conf).unwrap());
    let inst = match st.signer {
        Some(_) => st.params.edge.clone(),
        None => st.params.single.clone(),
    };
    let (name, port) = (st.front.name.clone(), st.front.port);
    st.front.proc.stop(std::time::Duration::from_secs(5));
    st.front = s3squid_e2e::squid::Squid::start(sb, &name, &text, port, &inst);
}

/// After s3squid-icap answered requests itself (refusals, redirects: REQMOD satisfaction),
/// the Squid running it has logged Squid 6+'s `Squid bug 5187 workaround triggered` once
/// (the samples' `cache_log_message id=72 limit=1`, rendered for that version), not once per
/// request; Squid 5.7 never logs it.
pub fn assert_bug_5187_warned_at_most_once(st: &s3squid_e2e::squid::Stack) {
    let squid = st.signer.as_ref().unwrap_or(&st.front);
    let count = || {
        squid
            .cache_log_text()
            .matches("Squid bug 5187 workaround triggered")
            .count()
    };
    let want = usize::from(s3squid_e2e::squid::squid_version().major >= 6);
    if want > 0 {
        s3squid_e2e::wait_until(5, "the first bug 5187 warning in cache.log", || count() > 0);
    }
    assert_eq!(
        count(),
        want,
        "Squid {}: `Squid bug 5187 workaround triggered` lines in {}",
        s3squid_e2e::squid::squid_version(),
        squid.cache_log.display()
    );
}
