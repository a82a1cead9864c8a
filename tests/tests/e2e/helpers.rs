//! Issue "the complete helper suite": S3 errors never cached under a store ID, the signer
//! stopped with `bypass=on`, index documents and redirects through Squid.

use std::time::{Duration, Instant};

use s3squid::squid_conf::Layout;
use s3squid_e2e::squid::{Stack, StackOptions};
use s3squid_e2e::Sandbox;

/// A key requested before it exists (404 from S3), then stored: the next request gets the
/// object, not a cached 404.
fn cached_404_never_hides_a_new_object(layout: Layout) {
    let sb = Sandbox::new(&format!("404-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    let k = "late/arrival.jpg";
    for _ in 0..2 {
        assert_eq!(st.get(&crate::public_path(k)).status, 404);
    }
    st.s3.put("photos", k, b"here now");
    let r = st.get(&crate::public_path(k));
    assert_eq!((r.status, r.body.as_slice()), (200, &b"here now"[..]));
    assert_eq!(
        st.s3.count("GetObject", k),
        3,
        "every 404 went to S3: none was cached"
    );
}

#[test]
fn cached_404_never_hides_a_new_object_single() {
    cached_404_never_hides_a_new_object(Layout::Single);
}

#[test]
fn cached_404_never_hides_a_new_object_two_tier() {
    cached_404_never_hides_a_new_object(Layout::TwoTier);
}

/// The signer stopped (`bypass=on`): fresh and stale cached objects are still served, a
/// miss fails fast with a 5xx and S3 never sees an unsigned request.
fn signer_down(layout: Layout) {
    let sb = Sandbox::new(&format!("signer-down-{}", layout.as_str()));
    let mut st = Stack::start(&sb, layout, StackOptions::default());
    let objects = crate::warm(&st);
    st.s3.put("photos", "never-fetched.jpg", b"x");
    let before = st.s3.requests();
    st.icap.stop();
    for round in 0..3 {
        for (path, want) in &objects {
            let t = Instant::now();
            let r = st.get(path);
            assert_eq!((r.status, &r.body), (200, want), "{path} round {round}");
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "{path} took {:?}",
                t.elapsed()
            );
        }
        let t = Instant::now();
        let r = st.get(&crate::public_path("never-fetched.jpg"));
        // No cache_peer serves the public host: Squid 5.7 answers 502 at once.
        assert_eq!(r.status, 502, "a miss without the signer must fail");
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "the miss took {:?}",
            t.elapsed()
        );
    }
    assert_eq!(
        st.s3.requests(),
        before,
        "nothing reached S3 while the signer was down"
    );
    let log = st.front.access();
    assert!(log.iter().any(|a| a.action.contains("REFRESH")), "{log:#?}");
}

#[test]
fn signer_down_single() {
    signer_down(Layout::Single);
}

#[test]
fn signer_down_two_tier() {
    signer_down(Layout::TwoTier);
}

const SITE_ROUTE: &str = r#"
[[route]]
name = "site"
public = "http://images.example.com/site/"
bucket = "site"
region = "us-east-1"
endpoint = "ENDPOINT"
addressing = "path"
index = "index.html"

[[route.redirect]]
from = "old.html"
to = "/site/new.html"
status = 301

[[route.redirect]]
from = "blog/*"
to = "http://images.example.com/site/posts/*"
status = 302
"#;

/// Index documents and redirects, answered through Squid.
fn index_and_redirects(layout: Layout) {
    let sb = Sandbox::new(&format!("index-{}", layout.as_str()));
    // The route needs the S3 endpoint, known only once s3s-fs runs: the harness fills it.
    let opts = StackOptions {
        extra_routes: SITE_ROUTE.to_owned(),
        ..StackOptions::default()
    };
    let st = Stack::start(&sb, layout, opts);
    st.s3.put("site", "index.html", b"home");
    st.s3.put("site", "docs/index.html", b"docs home");
    for (path, want) in [
        ("/site/", &b"home"[..]),
        ("/site/docs/", b"docs home"),
        ("/site/docs/", b"docs home"),
    ] {
        let r = st.get(path);
        assert_eq!((r.status, r.body.as_slice()), (200, want), "{path}");
    }
    assert_eq!(
        st.s3.count("GetObject", "docs/index.html"),
        1,
        "the index document was cached"
    );
    let r = st.get("/site/old.html");
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("/site/new.html"))
    );
    let r = st.get("/site/blog/2024/a%20b.html");
    assert_eq!(
        (r.status, r.header("location")),
        (
            302,
            Some("http://images.example.com/site/posts/2024/a%20b.html")
        )
    );
    assert_eq!(
        st.s3
            .ops()
            .iter()
            .filter(|(_, k)| k.contains("old") || k.contains("blog"))
            .count(),
        0
    );
}

#[test]
fn index_and_redirects_single() {
    index_and_redirects(Layout::Single);
}

#[test]
fn index_and_redirects_two_tier() {
    index_and_redirects(Layout::TwoTier);
}

/// An `auth = "none"` route through s3squid-rewrite (the rewrite layout, no ICAP): miss
/// then hit; PUT, DELETE, listings and the bucket root refused before S3; a signed route's
/// URL is never sent unsigned. With `concurrency` 0 and 8.
fn unsigned_route_through_rewrite(concurrency: u32) {
    let sb = Sandbox::new(&format!("rewrite-c{concurrency}"));
    let opts = StackOptions {
        extra_routes: crate::PUBLIC_ROUTE.to_owned(),
        anonymous_s3: true,
        helper_concurrency: Some(concurrency),
        ..StackOptions::default()
    };
    let st = Stack::start(&sb, Layout::Rewrite, opts);
    let anon = st.anon.as_ref().unwrap();
    anon.bucket("open");
    let keys = [
        "plain/hello.txt",
        "with space/a b.jpg",
        "plus+sign/c++ notes.txt",
        "unicode/naïve café.txt",
    ];
    for k in keys {
        anon.put("open", k, crate::body_of(k).as_slice());
        let path = format!("/public/{}", s3map::pct::encode_path(k));
        for _ in 0..2 {
            let r = st.get(&path);
            assert_eq!((r.status, r.body.clone()), (200, crate::body_of(k)), "{k}");
        }
        assert_eq!(anon.count("GetObject", k), 1, "{k}: miss then hit");
    }
    let log = st.front.access_n(keys.len() * 2);
    assert_eq!(
        log.iter().filter(|a| a.hit()).count(),
        keys.len(),
        "{log:#?}"
    );
    let before = anon.requests();
    let port = st.front.port;
    let host = [("Host", s3squid_e2e::squid::PUBLIC_HOST)];
    for line in [
        "PUT /public/plain/hello.txt HTTP/1.1",
        "DELETE /public/plain/hello.txt HTTP/1.1",
        "GET /public/?list-type=2 HTTP/1.1",
        "GET /public/ HTTP/1.1",
        "GET /public/plain/hello.txt?acl HTTP/1.1",
    ] {
        let r = s3squid_e2e::http::raw(port, line, &host);
        assert_eq!(r.status, 403, "{line}");
    }
    assert_eq!(anon.requests(), before, "refused requests never reached S3");
    // A signed route under a Squid without the signer: never fetched unsigned.
    st.s3.put("photos", "secret.jpg", b"s");
    let r = st.get("/photos/secret.jpg");
    assert!(r.status >= 500, "{}", r.status);
    assert_eq!(st.s3.requests(), 0);
}

#[test]
fn unsigned_route_through_rewrite_concurrency_0() {
    unsigned_route_through_rewrite(0);
}

#[test]
fn unsigned_route_through_rewrite_concurrency_8() {
    unsigned_route_through_rewrite(8);
}

/// The single layout with `concurrency=0` helpers (no channel IDs): miss then hit.
#[test]
fn single_layout_with_concurrency_0() {
    let sb = Sandbox::new("single-c0");
    let opts = StackOptions {
        helper_concurrency: Some(0),
        ..StackOptions::default()
    };
    let st = Stack::start(&sb, Layout::Single, opts);
    for k in [
        "plain/hello.txt",
        "question/why?.txt",
        "percent/%41 literal.txt",
    ] {
        st.s3.put("photos", k, &crate::body_of(k));
        for _ in 0..2 {
            assert_eq!(st.get(&crate::public_path(k)).body, crate::body_of(k));
        }
        assert_eq!(st.s3.count("GetObject", k), 1, "{k}");
    }
}
