//! Issue 11, part 1: s3squid added to a Squid that already serves other traffic, with
//! `s3squid squid-conf --fragment`. Two Debian stock Squids (tests/data's squid.conf and
//! conf.d/debian.conf) each forward-proxy for loopback clients and accelerate an unrelated
//! site, `other.test`; one of them also has s3squid's fragment in its conf.d. The same
//! unrelated requests get the same answers from both (status, cache hit, whether the origin
//! was asked, what the origin saw), while s3squid's routes work end to end on the fragment's
//! port, and `squid -k parse` says nothing.

use s3squid::squid_conf::{render_fragment, Layout, FRAGMENT_EDGE_FILE, FRAGMENT_FILE};
use s3squid_e2e::http::{self, Response};
use s3squid_e2e::origin::Origin;
use s3squid_e2e::s3::S3;
use s3squid_e2e::squid::{config_text, static_creds, test_params, Icap, Squid, PUBLIC_HOST};
use s3squid_e2e::stock::{complaints, StockSquid, OTHER_SITE};
use s3squid_e2e::{free_port, Sandbox, ACCESS_KEY, SECRET_KEY};

use crate::traffic::{check_freshness_routes, FRESHNESS_ROUTES};

/// One answer, as compared between the two Squids: status, Squid's hit header, whether this
/// request reached the origin, and the body's first line, whose origin counter (` #N`) is made
/// relative to `base` (the origin's count when the sequence began), so that a cached body (an
/// older N) differs from a new one.
fn summary(label: &str, r: &Response, before: usize, origin: &Origin, base: usize) -> String {
    let body = String::from_utf8_lossy(&r.body);
    let first = body.lines().next().unwrap_or_default();
    let first = match first.rsplit_once(" #") {
        Some((text, n)) => format!(
            "{text} #{}",
            n.parse::<usize>().unwrap_or(0).saturating_sub(base)
        ),
        None => first.to_owned(),
    };
    format!(
        "{label}: {} hit={} origin={} {first}",
        r.status,
        r.cache_hit(),
        origin.served() - before,
    )
}

/// Unrelated traffic through a stock Squid: forward-proxy requests (absolute URLs for the
/// origin and for S3's own port) and requests for the accelerated site, including the kinds the
/// fragment refuses on its own port (bodies on GET, several ranges, reloads, POST).
fn unrelated_traffic(stock: &StockSquid, origin: &Origin, s3_port: u16) -> Vec<String> {
    let o = origin.port;
    let fwd = stock.squid.port;
    let site = stock.site_port;
    let abs = |path: &str| format!("http://127.0.0.1:{o}{path}");
    let host = format!("127.0.0.1:{o}");
    let mut out = Vec::new();
    let base = origin.served();
    let mut ask = |label: &str, port: u16, line: String, headers: &[(&str, &str)], body: &[u8]| {
        let before = origin.served();
        let r = http::raw_with_body(port, &line, headers, body);
        out.push(summary(label, &r, before, origin, base));
    };
    for round in ["first", "again"] {
        for path in ["/fresh-a", "/old-a", "/fresh-q?x=1"] {
            let line = format!("GET {} HTTP/1.1", abs(path));
            ask(
                &format!("forward {path} {round}"),
                fwd,
                line,
                &[("Host", &host)],
                b"",
            );
        }
        let line = "GET /fresh-d HTTP/1.1".to_owned();
        ask(
            &format!("site /fresh-d {round}"),
            site,
            line,
            &[("Host", OTHER_SITE)],
            b"",
        );
        let line = "GET /old-d HTTP/1.1".to_owned();
        ask(
            &format!("site /old-d {round}"),
            site,
            line,
            &[("Host", OTHER_SITE)],
            b"",
        );
    }
    let get = |path: &str| format!("GET {} HTTP/1.1", abs(path));
    ask(
        "forward reload (no-cache)",
        fwd,
        get("/fresh-a"),
        &[("Host", &host), ("Cache-Control", "no-cache")],
        b"",
    );
    ask(
        "forward reload (Pragma)",
        fwd,
        get("/old-a"),
        &[("Host", &host), ("Pragma", "no-cache")],
        b"",
    );
    ask(
        "forward POST",
        fwd,
        format!("POST {} HTTP/1.1", abs("/headers")),
        &[("Host", &host)],
        b"hello",
    );
    ask(
        "forward GET with a body",
        fwd,
        get("/fresh-b"),
        &[("Host", &host)],
        b"hello",
    );
    ask(
        "forward chunked GET",
        fwd,
        get("/fresh-b"),
        &[("Host", &host), ("Transfer-Encoding", "chunked")],
        b"0\r\n\r\n",
    );
    ask(
        "forward multi-range",
        fwd,
        get("/fresh-c"),
        &[("Host", &host), ("Range", "bytes=0-0,2-3")],
        b"",
    );
    ask(
        "forward Authorization",
        fwd,
        get("/fresh-c"),
        &[("Host", &host), ("Authorization", "Basic eDp5")],
        b"",
    );
    ask(
        "forward X-Forwarded-For",
        fwd,
        get("/headers"),
        &[("Host", &host), ("X-Forwarded-For", "192.0.2.1")],
        b"",
    );
    ask(
        "forward PUT",
        fwd,
        format!("PUT {} HTTP/1.1", abs("/fresh-z")),
        &[("Host", &host)],
        b"put",
    );
    let s3_line = format!("GET http://127.0.0.1:{s3_port}/photos/unrelated.txt HTTP/1.1");
    ask(
        "forward to S3's port",
        fwd,
        s3_line,
        &[("Host", &format!("127.0.0.1:{s3_port}"))],
        b"",
    );
    let line = "GET /headers HTTP/1.1".to_owned();
    ask(
        "site X-Forwarded-For",
        site,
        line,
        &[("Host", OTHER_SITE), ("X-Forwarded-For", "192.0.2.1")],
        b"",
    );
    let line = "GET /old-d HTTP/1.1".to_owned();
    ask(
        "site reload",
        site,
        line,
        &[("Host", OTHER_SITE), ("Cache-Control", "no-cache")],
        b"",
    );
    out
}

/// The fragment of `layout` in a stock Squid, beside the same stock Squid without it.
fn fragment_leaves_other_traffic_alone(layout: Layout) {
    let sb = Sandbox::new(&format!("fragment-{}", layout.as_str()));
    let s3 = S3::start(&sb);
    s3.bucket("photos");
    let (icap_port, metrics_port) = (free_port(), free_port());
    let config = sb.path("s3squid.toml");
    std::fs::write(
        &config,
        config_text(icap_port, metrics_port, &s3, FRESHNESS_ROUTES),
    )
    .unwrap();
    let cfg = s3squid_startup::load(&config).unwrap();
    let mut icap = Icap::start(
        &sb,
        config.clone(),
        icap_port,
        metrics_port,
        static_creds(ACCESS_KEY, SECRET_KEY),
    );
    let s3squid_port = free_port();
    let p = test_params(&sb, &cfg, &config, s3squid_port, 16);
    let files = render_fragment(layout, &p);
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(n, t)| (n.clone(), t.clone()))
            .unwrap()
    };
    let _signer = (layout == Layout::TwoTier).then(|| {
        Squid::start(
            &sb,
            "signer",
            &file("signer.conf").1,
            p.signer_listen.port(),
            &p.signer,
        )
    });
    let fragment = file(match layout {
        Layout::TwoTier => FRAGMENT_EDGE_FILE,
        _ => FRAGMENT_FILE,
    });
    assert!(fragment.1.contains(&format!(
        "http_port 127.0.0.1:{s3squid_port} accel vhost name=s3squid_http1\n"
    )));

    let origin = Origin::start();
    // The operator's upstream proxy: a `default` parent for the forward-proxy traffic (the
    // origin itself, which answers absolute-form requests too). With the fragment, its
    // cache_peer_access starts with the deny the fragment's header asks for: without it,
    // Squid would hand s3squid's requests to it whenever the S3 peer or the signer is down
    // (found by the fragment's hostile review).
    let operator_peer = |deny: &str| {
        (
            "upstream.conf".to_owned(),
            format!(
                "cache_peer 127.0.0.1 parent {} 0 no-query no-digest default name=upstream\n{deny}",
                origin.port
            ),
        )
    };
    let without = StockSquid::start(&sb, "stock", origin.port, &[operator_peer("")], &[]);
    let with = StockSquid::start(
        &sb,
        "stock-s3squid",
        origin.port,
        &[
            fragment,
            operator_peer("cache_peer_access upstream deny s3squid_in\n"),
        ],
        &[s3squid_port],
    );

    // squid -k parse: clean; the fragment was read.
    let parsed = with.parse();
    assert_eq!(complaints(&parsed), Vec::<&str>::new());
    assert!(
        parsed.contains("Processing: acl s3squid_in myportname s3squid_http1"),
        "{parsed}"
    );
    assert_eq!(complaints(&without.parse()), Vec::<&str>::new());

    // The unrelated traffic: the same answers from both Squids.
    let plain = unrelated_traffic(&without, &origin, s3.port);
    let added = unrelated_traffic(&with, &origin, s3.port);
    eprintln!("unrelated traffic, with and without the fragment: {plain:#?}");
    assert_eq!(plain, added, "the fragment changed other traffic");
    // And so does each Squid's access.log: the same action (TCP_MISS, TCP_CLIENT_REFRESH_MISS,
    // …), status, method and hierarchy for each request (a refresh_pattern option such as
    // reload-into-ims on any line would change the reloads' actions).
    let logged = |s: &StockSquid| -> Vec<String> {
        s.squid
            .access_n(plain.len() - 2)
            .iter()
            .map(|a| format!("{} {} {} {}", a.action, a.status, a.method, a.hierarchy))
            .collect()
    };
    assert_eq!(
        logged(&without),
        logged(&with),
        "the fragment changed other traffic's log"
    );
    // The comparison covers caching both ways: some answers were hits, some asked the origin.
    assert!(
        plain.iter().any(|l| l.contains("hit=true origin=0")),
        "{plain:#?}"
    );
    assert!(
        plain.iter().any(|l| l.contains("hit=false origin=1")),
        "{plain:#?}"
    );
    assert!(
        plain.iter().any(|l| l.contains("xff=192.0.2.1, 127.0.0.1")),
        "{plain:#?}"
    );

    // s3squid's routes on the fragment's port: signed, cached, refusals, nothing else.
    let ours = |path: &str| http::get(s3squid_port, PUBLIC_HOST, path);
    s3.put("photos", "a.txt", b"photo");
    for _ in 0..2 {
        let r = ours("/photos/a.txt");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"photo"[..]));
    }
    assert_eq!(
        s3.count("GetObject", "a.txt"),
        1,
        "a signed miss, then a hit"
    );
    assert_eq!(ours("/photos/").status, 403, "a listing");
    let post = http::raw_with_body(
        s3squid_port,
        "POST /photos/a.txt HTTP/1.1",
        &[("Host", PUBLIC_HOST)],
        b"x",
    );
    assert_eq!(post.status, 403);
    let other = http::get(s3squid_port, OTHER_SITE, "/fresh-a");
    assert_eq!(
        other.status, 403,
        "the other site is not served on s3squid's port"
    );
    let served = origin.served();
    let proxy = http::raw(
        s3squid_port,
        &format!("GET http://127.0.0.1:{}/fresh-a HTTP/1.1", origin.port),
        &[("Host", PUBLIC_HOST)],
    );
    assert_eq!(proxy.status, 403, "no forward proxying on s3squid's port");
    assert_eq!(origin.served(), served);
    // From here on only s3squid's port is asked: nothing may reach the origin (the operator's
    // upstream).
    let origin_before = origin.served();
    // Other ports cannot name this fragment's cache keys (store IDs, or the edge's public
    // URLs): no read, no eviction by an unknown method, no fill. The object stays cached.
    let key = match layout {
        Layout::TwoTier => format!("http://{PUBLIC_HOST}/photos/a.txt"),
        _ => format!(
            "http://s3.squid.internal/v1/127.0.0.1:{}/photos/a.txt",
            s3.port
        ),
    };
    let key_host = key.split('/').nth(2).unwrap().to_owned();
    let key_path = format!("/{}", key.splitn(4, '/').nth(3).unwrap());
    for method in ["GET", "HEAD", "FOO", "DELETE"] {
        let r = http::raw(
            with.squid.port,
            &format!("{method} {key} HTTP/1.1"),
            &[("Host", &key_host)],
        );
        assert_eq!(r.status, 403, "{method} {key} through the forward proxy");
        let r = http::raw(
            with.site_port,
            &format!("{method} {key_path} HTTP/1.1"),
            &[("Host", &key_host)],
        );
        assert_eq!(
            r.status, 403,
            "{method} {key_path} on the other site's port"
        );
    }
    let r = ours("/photos/a.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"photo"[..]));
    assert_eq!(s3.count("GetObject", "a.txt"), 1, "still cached");

    let log = std::fs::read_to_string(&with.squid.access_log).unwrap();
    for secret in ["X-Amz-Signature", "X-Amz-Credential", SECRET_KEY] {
        assert!(!log.contains(secret), "{secret} in access.log");
    }

    // Per-route freshness through the fragment; S3 is stopped last.
    for k in ["slow/a.txt", "live/a.txt", "grace/a.txt"] {
        s3.put("photos", k, k.as_bytes());
    }
    let s3 = std::cell::RefCell::new(s3);
    check_freshness_routes(
        &|path| http::get(s3squid_port, PUBLIC_HOST, path),
        &|key| s3.borrow().count("GetObject", key),
        &mut || s3.borrow_mut().stop(),
    );
    // S3 down, then s3squid-icap down too: misses fail with a 5xx, and nothing of s3squid's
    // ever went to the operator's upstream (no presigned URL, no public URL).
    assert!(ours("/photos/never-cached.txt").status >= 500);
    icap.stop();
    assert!(ours("/photos/never-cached-either.txt").status >= 500);
    assert_eq!(
        ours("/slow/a.txt").status,
        200,
        "a cached object is still served"
    );
    assert_eq!(
        origin.served(),
        origin_before,
        "s3squid's requests reached the operator's upstream"
    );
}

#[test]
fn fragment_leaves_other_traffic_alone_single() {
    fragment_leaves_other_traffic_alone(Layout::Single);
}

#[test]
fn fragment_leaves_other_traffic_alone_two_tier() {
    fragment_leaves_other_traffic_alone(Layout::TwoTier);
}
