//! Issue "Real traffic to real S3": many clients at once, big objects, ranges,
//! revalidation, through real Squid and s3s-fs.

use std::sync::{Arc, Barrier};

use s3squid::squid_conf::Layout;
use s3squid_e2e::squid::{Stack, StackOptions};
use s3squid_e2e::Sandbox;

/// Clients asking for one cold object at the same moment.
const STAMPEDE: usize = 50;

/// An object whose bytes differ at every offset (so a wrong range or a mixed-up body
/// shows): `len` bytes, each its offset's low byte mixed with the offset's higher bits.
pub fn patterned(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8) ^ ((i >> 8) as u8).wrapping_mul(31) ^ ((i >> 16) as u8))
        .collect()
}

/// [`STAMPEDE`] clients ask for the same cold 4 MiB object at once: every one gets the
/// whole object, and S3 is asked once (collapsed forwarding in the samples).
fn stampede(layout: Layout) {
    let sb = Sandbox::new(&format!("stampede-{}", layout.as_str()));
    let st = Arc::new(Stack::start(&sb, layout, StackOptions::default()));
    let body = Arc::new(patterned(4 << 20));
    st.s3.put("photos", "cold/video.bin", &body);
    let start = Arc::new(Barrier::new(STAMPEDE));
    let clients: Vec<_> = (0..STAMPEDE)
        .map(|_| {
            let (st, start) = (st.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                st.get("/photos/cold/video.bin")
            })
        })
        .collect();
    for c in clients {
        let r = c.join().unwrap();
        assert_eq!(r.status, 200);
        assert!(r.body == *body, "a client got {} wrong bytes", r.body.len());
    }
    assert_eq!(
        st.s3.count("GetObject", "cold/video.bin"),
        1,
        "{STAMPEDE} clients, one GetObject"
    );
}

#[test]
fn stampede_single() {
    stampede(Layout::Single);
}

#[test]
fn stampede_two_tier() {
    stampede(Layout::TwoTier);
}

/// Conditional requests, with S3's `304` in front of s3s-fs (`s3squid_e2e::conditional`):
/// a client's `If-None-Match` or `If-Modified-Since` for a cached object gets a `304` from
/// the cache without asking S3; a stale copy of an unchanged object is revalidated with S3
/// through a presigned conditional GET, which S3 answers `304` (`TCP_REFRESH_UNMODIFIED`, no
/// body fetched again); a changed object replaces the copy (`TCP_REFRESH_MODIFIED`).
fn revalidation(layout: Layout) {
    use std::time::Duration;
    let sb = Sandbox::new(&format!("revalidation-{}", layout.as_str()));
    let opts = StackOptions {
        s3_conditionals: true,
        ..StackOptions::default()
    };
    let st = Stack::start(&sb, layout, opts);
    let port = st.front.port;
    let host = ("Host", s3squid_e2e::squid::PUBLIC_HOST);
    // A fresh copy (the object was modified long ago): the client's conditions are
    // answered from the cache. (Squid answers them with the whole object when the copy
    // needed a refresh first, whatever S3 said.)
    let (fresh, fresh_path) = ("reval/fresh.jpg", "/photos/reval/fresh.jpg");
    st.s3.put("photos", fresh, &patterned(50_000));
    let first = st.get(fresh_path);
    assert_eq!(first.status, 200);
    let etag = first.header("etag").unwrap().to_owned();
    let lm = first.header("last-modified").unwrap().to_owned();
    let line = format!("GET {fresh_path} HTTP/1.1");
    for cond in [("If-None-Match", etag.as_str()), ("If-Modified-Since", &lm)] {
        let r = s3squid_e2e::http::raw(port, &line, &[host, cond]);
        assert_eq!((r.status, r.body.len()), (304, 0), "{cond:?}");
    }
    assert_eq!(
        st.s3.count("GetObject", fresh),
        1,
        "the client's 304s came from the cache"
    );

    let (k, path) = ("reval/cat.jpg", "/photos/reval/cat.jpg");
    let old = patterned(100_000);
    // Modified 2 s before it is cached: stale soon after (docs/design.md#fact-8).
    st.s3.put_recent("photos", k, &old, Duration::from_secs(2));
    let r = st.get(path);
    assert_eq!((r.status, &r.body), (200, &old));
    std::thread::sleep(Duration::from_millis(1500)); // stale now
    let r = st.get(path);
    assert_eq!((r.status, &r.body), (200, &old));
    let log = st.front.access_n(5);
    assert_eq!(
        log.last().unwrap().action,
        "TCP_REFRESH_UNMODIFIED",
        "{log:#?}"
    );
    let seen = st.s3.conditional.as_ref().unwrap().seen();
    let last = seen.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.status),
        ("GET", 304),
        "{seen:#?}"
    );
    assert!(
        last.target.contains("X-Amz-Signature="),
        "presigned: {}",
        last.target
    );
    assert_eq!(st.s3.count("GetObject", k), 2, "one conditional GetObject");

    let new = patterned(120_000)[20_000..].to_vec();
    st.s3.put_recent("photos", k, &new, Duration::from_secs(2));
    std::thread::sleep(Duration::from_millis(1500)); // the revalidated copy is stale again
    let r = st.get(path);
    assert_eq!(
        (r.status, &r.body),
        (200, &new),
        "the changed object replaces the copy"
    );
    let log = st.front.access_n(6);
    assert_eq!(
        log.last().unwrap().action,
        "TCP_REFRESH_MODIFIED",
        "{log:#?}"
    );
    let r = st.get(path);
    assert_eq!((r.status, &r.body), (200, &new), "and is cached");
}

#[test]
fn revalidation_single() {
    revalidation(Layout::Single);
}

#[test]
fn revalidation_two_tier() {
    revalidation(Layout::TwoTier);
}
