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
    crate::assert_bug_5187_warned_at_most_once(&st);
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

/// What a helper writes on stdout unasked, measured through the Squid under test: Squid 5.7
/// and 6 log `helperHandleRead: unexpected read from …` and drop it; Squid 7 logs `Killing
/// helper process after an unexpected read from …`, kills the helper, and exits (`The …
/// helpers are crashing too rapidly`) when that happens before the helper's first reply.
/// s3squid-storeid and s3squid-rewrite write only replies there: their configuration made
/// broken, removed and put back, each time followed by `squid -k reconfigure` (which restarts
/// both, and they read it again), they say why on stderr (cache.log) and Squid stays up,
/// serving both routes. Then a shell helper that greets on stdout shows this Squid's
/// reaction, so the check above looks for the words this version uses.
#[test]
fn helpers_write_nothing_unsolicited_across_reloads() {
    let sb = Sandbox::new("unsolicited");
    let opts = StackOptions {
        extra_routes: crate::PUBLIC_ROUTE.to_owned(),
        anonymous_s3: true,
        ..StackOptions::default()
    };
    let mut st = Stack::start(&sb, Layout::Single, opts);
    let conf = std::fs::read_to_string(&st.front.conf).unwrap();
    assert!(
        conf.contains("\nstore_id_program ") && conf.contains("\nurl_rewrite_program "),
        "the single Squid runs both helpers (an auth = \"none\" route)"
    );
    let anon = st.anon.as_ref().unwrap();
    anon.bucket("open");
    anon.put("open", "a.txt", b"public a");
    st.s3.put("photos", "p.jpg", b"signed p");
    let objects = [
        ("/photos/p.jpg".to_owned(), b"signed p".to_vec()),
        ("/public/a.txt".to_owned(), b"public a".to_vec()),
    ];
    crate::assert_served(&st, &objects, "at start");
    let good = std::fs::read_to_string(&st.config).unwrap();
    for step in ["broken", "removed", "good again"] {
        match step {
            "broken" => std::fs::write(&st.config, "[[route]]\nname = 'x'\npublic = 12\n").unwrap(),
            "removed" => std::fs::remove_file(&st.config).unwrap(),
            _ => std::fs::write(&st.config, &good).unwrap(),
        }
        st.front.reconfigure();
        crate::assert_served(
            &st,
            &objects,
            &format!("config {step}, after -k reconfigure"),
        );
    }
    assert!(st.front.proc.running(), "Squid is up");
    let log = st.front.cache_log_text();
    for helper in ["s3squid-storeid", "s3squid-rewrite"] {
        assert!(
            log.contains(&format!(
                "{helper}: configuration unusable, serving the last good one"
            )),
            "{helper} said why on stderr:\n{log}"
        );
    }
    for unsolicited in ["unexpected read", "Killing helper", "crashing too rapidly"] {
        assert!(!log.contains(unsolicited), "{unsolicited}:\n{log}");
    }

    // The control: a helper that greets before it is asked.
    let chatty = sb.path("chatty-helper.sh");
    std::fs::write(
        &chatty,
        "#!/bin/sh\necho 'hello from an e2e helper'\nwhile read -r ch rest; do echo \"$ch ERR\"; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&chatty, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let conf = std::fs::read_to_string(&st.front.conf).unwrap();
    let line = conf
        .lines()
        .find(|l| l.starts_with("store_id_program "))
        .unwrap();
    let chatty_conf = conf.replace(line, &format!("store_id_program {}", chatty.display()));
    std::fs::write(&st.front.conf, chatty_conf).unwrap();
    st.front.control("reconfigure");
    let version = s3squid_e2e::squid::squid_version();
    if version.major >= 7 {
        s3squid_e2e::wait_until(15, "Squid 7 to exit", || !st.front.proc.running());
        let log = st.front.cache_log_text();
        assert!(
            log.contains("Killing helper process after an unexpected read from store_id")
                && log.contains("hello from an e2e helper")
                && log.contains("The store_id helpers are crashing too rapidly, need help!"),
            "Squid {version}:\n{log}"
        );
    } else {
        s3squid_e2e::wait_until(15, "Squid to log the unsolicited line", || {
            st.front
                .cache_log_text()
                .contains("unexpected read from store_id")
        });
        let log = st.front.cache_log_text();
        assert!(log.contains("hello from an e2e helper"), "{log}");
        assert!(!log.contains("Killing helper"), "Squid {version}:\n{log}");
        assert!(st.front.proc.running(), "Squid {version} keeps running");
    }
}
