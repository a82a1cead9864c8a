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

/// `GET path` with `Range: range` through the front Squid.
fn get_range(st: &Stack, path: &str, range: &str) -> s3squid_e2e::http::Response {
    s3squid_e2e::http::raw(
        st.front.port,
        &format!("GET {path} HTTP/1.1"),
        &[("Host", s3squid_e2e::squid::PUBLIC_HOST), ("Range", range)],
    )
}

/// Range requests (video players, resumable downloads). On a cold 8 MiB object, a range is
/// answered `206` with the right `Content-Range` and bytes, and Squid fetches the whole
/// object once to cache it (`range_offset_limit`, `quick_abort_*` in the samples); later
/// ranges, suffix ranges and a whole GET are hits. On a cold 96 MiB object, a range that
/// starts beyond the samples' 64 MB `range_offset_limit` is passed to S3 as a range: the
/// client gets its bytes without Squid reading the object up to there.
fn ranges(layout: Layout) {
    let sb = Sandbox::new(&format!("ranges-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    let len = 8 << 20;
    let body = patterned(len);
    st.s3.put("photos", "video/small.mp4", &body);
    let path = "/photos/video/small.mp4";
    let check = |r: &s3squid_e2e::http::Response, first: usize, last: usize, what: &str| {
        assert_eq!(r.status, 206, "{what}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {first}-{last}/{len}").as_str()),
            "{what}"
        );
        assert!(r.body == body[first..=last], "{what}: wrong bytes");
    };
    check(&get_range(&st, path, "bytes=100-199"), 100, 199, "cold");
    // Squid goes on fetching the rest after the answer; `only-if-cached` asks the cache
    // alone, never S3 (504 until the object is there).
    s3squid_e2e::wait_until(10, "the whole object in the cache", || {
        let r = s3squid_e2e::http::raw(
            st.front.port,
            &format!("HEAD {path} HTTP/1.1"),
            &[
                ("Host", s3squid_e2e::squid::PUBLIC_HOST),
                ("Cache-Control", "only-if-cached"),
            ],
        );
        r.status == 200
    });
    check(
        &get_range(&st, path, "bytes=4194304-4194403"),
        4194304,
        4194403,
        "hot",
    );
    check(
        &get_range(&st, path, "bytes=-10"),
        len - 10,
        len - 1,
        "suffix",
    );
    let whole = st.get(path);
    assert!(whole.status == 200 && whole.body == body, "whole");
    // Served from the cache, not forwarded (Squid logs a range served from an object still
    // being stored as TCP_MISS, with HIER_NONE).
    let log = st.front.access();
    assert!(
        log[1..].iter().all(|a| a.hierarchy == "HIER_NONE"),
        "{log:#?}"
    );
    assert_eq!(
        st.s3.count("GetObject", "video/small.mp4"),
        1,
        "fetched once"
    );

    // Far into a cold big object: passed to S3 as the range, not read up to there.
    let big_len = 96 << 20;
    let big = patterned(big_len);
    st.s3.put("photos", "video/big.mp4", &big);
    let (first, last) = (80_000_000, 80_000_099);
    let r = get_range(
        &st,
        "/photos/video/big.mp4",
        &format!("bytes={first}-{last}"),
    );
    assert_eq!(r.status, 206);
    let want = format!("bytes {first}-{last}/{big_len}");
    assert_eq!(r.header("content-range"), Some(want.as_str()));
    assert!(r.body == big[first..=last], "far range: wrong bytes");
    let s3_log = std::fs::read_to_string(&st.s3.log).unwrap();
    assert!(
        s3_log.contains(&format!("\"range\": \"bytes={first}-{last}\"")),
        "the range went to S3 as it was"
    );
}

#[test]
fn ranges_single() {
    ranges(Layout::Single);
}

#[test]
fn ranges_two_tier() {
    ranges(Layout::TwoTier);
}
