//! The rewriter (s3squid-rewrite), the rewrite layout and the command-line overrides.

use super::*;

/// One signed and one unsigned route on two public hosts, both on one S3 endpoint.
pub(super) const WITH_UNSIGNED: &str = r#"
[[route]]
name = "photos"
public = "http://images.example.com/photos/"
bucket = "photos"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"

[[route]]
name = "site"
public = "http://www.example.com/"
bucket = "site"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"
auth = "none"
index = "index.html"
"#;

const REWRITER_LINES: [&str; 8] = [
    "url_rewrite_program /usr/local/bin/s3squid-rewrite --config /etc/s3squid/s3squid.toml",
    "url_rewrite_access allow s3squid_public1 s3squid_public1_port s3squid_http",
    "url_rewrite_access allow s3squid_public2 s3squid_public2_port s3squid_http",
    "url_rewrite_access deny all",
    "url_rewrite_children 20 startup=1 idle=1 concurrency=8",
    "url_rewrite_timeout 10 seconds on_timeout=bypass",
    "url_rewrite_bypass off",
    "acl s3squid_refused dstdomain refused.s3squid.invalid",
];

fn rewriter_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("url_rewrite") || l.starts_with("acl s3squid_refused"))
        .collect()
}

/// Every Squid of every layout for `p`, by file name (`rewrite/squid.conf` for the rewrite
/// layout's).
fn all_files(p: &SquidConfParams) -> Vec<(String, String)> {
    Layout::ALL
        .into_iter()
        .flat_map(|l| {
            render(l, p)
                .into_iter()
                .map(move |(n, t)| (format!("{}/{n}", l.as_str()), t))
        })
        .collect()
}

#[test]
fn an_unsigned_route_adds_the_rewriter_wherever_icap_maps() {
    let p = params_from_config(&Config::parse(WITH_UNSIGNED).unwrap());
    assert_eq!(p.rewrite_command, DEFAULT_REWRITE_COMMAND);
    assert!(p.rewrite_beside_icap);
    for (name, text) in all_files(&p) {
        let adapted = lines_starting(&text, "adapted_http_access");
        // The caching Squids of two-tier and fleet run no callout.
        if name.ends_with("/edge.conf") || name.starts_with("fleet/parent-") {
            assert!(rewriter_lines(&text).is_empty(), "{name}");
            assert!(adapted.is_empty(), "{name}");
            continue;
        }
        assert_eq!(rewriter_lines(&text), REWRITER_LINES, "{name}");
        // The refused host is denied first, then S3, then the public URLs.
        assert_eq!(
            adapted,
            [
                "adapted_http_access deny s3squid_refused",
                "adapted_http_access allow s3_1_host s3_1_port s3squid_http",
                "adapted_http_access allow s3squid_public1 s3squid_public1_port s3squid_http",
                "adapted_http_access allow s3squid_public2 s3squid_public2_port s3squid_http",
                "adapted_http_access deny all",
            ],
            "{name}"
        );
        // Callout order: ICAP, then the rewriter, then the store ID.
        let at = |needle: &str| text.find(needle);
        let rewrite = at("\nurl_rewrite_program ");
        match at("\nicap_service ") {
            Some(icap) => assert!(rewrite.is_some_and(|r| icap < r), "{name}"),
            None => assert!(name.starts_with("rewrite/"), "{name}: no ICAP service"),
        }
        if let Some(store_id) = at("\nstore_id_program ") {
            assert!(rewrite < Some(store_id), "{name}");
        }
    }
    // Without an unsigned route only the rewrite layout runs it, with the default command.
    let p = params_from_config(&Config::parse(SEVERAL).unwrap());
    assert!(!p.rewrite_beside_icap);
    for (name, text) in all_files(&p) {
        if name == "rewrite/squid.conf" {
            assert!(text.contains(&format!(
                "\nurl_rewrite_program {DEFAULT_REWRITE_COMMAND}\n"
            )));
            assert!(text.contains("\nadapted_http_access deny s3squid_refused\n"));
        } else {
            assert!(rewriter_lines(&text).is_empty(), "{name}");
            assert!(!text.contains("s3squid_refused"), "{name}");
        }
    }
}

#[test]
fn the_rewrite_layout_is_single_without_icap() {
    let mut p = params_from_config(&Config::parse(WITH_UNSIGNED).unwrap());
    p.rewrite_command = "/opt/s3squid-rewrite --config /x.toml".into();
    let single = render(Layout::Single, &p).remove(0).1;
    let files = render(Layout::Rewrite, &p);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "squid.conf");
    let rewrite = &files[0].1;
    assert!(rewrite.contains("\nurl_rewrite_program /opt/s3squid-rewrite --config /x.toml\n"));
    for callout in ["icap", "adaptation"] {
        assert!(lines_starting(rewrite, callout).is_empty(), "{callout}");
    }
    assert!(!rewrite.contains("\ncache deny all\n"));
    // Everything but the ICAP section is the single Squid's.
    let without_icap: Vec<&str> = single
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter(|l| !l.starts_with("icap_") && !l.starts_with("adaptation_"))
        .collect();
    let directives: Vec<&str> = rewrite
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(directives, without_icap);
    assert!(rewrite.contains("\nstore_id_program /usr/local/bin/s3squid-storeid"));
    assert!(rewrite.contains("\nstore_id_bypass off\n"));
    assert!(rewrite.contains("\nnever_direct allow all\n"));
    assert!(rewrite.contains(
        "\nrefresh_pattern ^http://s3\\.squid\\.internal/ 0 20% 10080 max-stale=604800\n"
    ));
    // The sigv4 caveat is in the file.
    assert!(rewrite.contains("A request under a sigv4 route is never\n# signed"));
}

#[test]
fn concurrency_zero_drops_the_rewrite_timeout() {
    let mut p = params_from_config(&Config::parse(WITH_UNSIGNED).unwrap());
    p.helper_concurrency = 0;
    for layout in [Layout::Single, Layout::Rewrite] {
        let text = render(layout, &p).remove(0).1;
        assert!(text.contains("\nstore_id_children 20 startup=1 idle=1 concurrency=0\n"));
        assert!(text.contains("\nurl_rewrite_children 20 startup=1 idle=1 concurrency=0\n"));
        assert!(lines_starting(&text, "url_rewrite_timeout").is_empty());
        assert!(text.contains("\n# No url_rewrite_timeout: Squid enforces it only with"));
        assert!(text.contains("each taking one request at a time (concurrency=0"));
    }
    p.helper_concurrency = 32;
    let text = render(Layout::Rewrite, &p).remove(0).1;
    assert!(text.contains("\nstore_id_children 20 startup=1 idle=1 concurrency=32\n"));
    assert!(text.contains("\nurl_rewrite_children 20 startup=1 idle=1 concurrency=32\n"));
    assert!(text.contains("\nurl_rewrite_timeout 10 seconds on_timeout=bypass\n"));
}

#[test]
fn overrides_make_a_runnable_setup() {
    let base = params_from_config(&Config::parse(WITH_UNSIGNED).unwrap());
    let o = Overrides {
        listen: vec!["127.0.0.1:18080".into(), "18081".into()],
        signer_listen: Some("127.0.0.1:13129".parse().unwrap()),
        state_dir: Some("/tmp/st".into()),
        storeid_command: Some("/b/s3squid-storeid --config /c.toml".into()),
        rewrite_command: Some("/b/s3squid-rewrite --config /c.toml".into()),
        user: Some("proxy".into()),
        concurrency: Some(4),
        edge_workers: Some(2),
        access_log_stdio: true,
        gnutls_squid: false,
        parents: Vec::new(),
        edge_from: Vec::new(),
        squid_version: Some(SquidVersion::new(7, 7)),
    };
    let mut p = base.clone();
    o.apply(&mut p);
    assert_eq!(p.public_http_listen, ["127.0.0.1:18080", "18081"]);
    assert_eq!(p.signer_listen.to_string(), "127.0.0.1:13129");
    assert_eq!(p.storeid_command, "/b/s3squid-storeid --config /c.toml");
    assert_eq!(p.rewrite_command, "/b/s3squid-rewrite --config /c.toml");
    assert_eq!(p.cache_effective_user.as_deref(), Some("proxy"));
    assert_eq!(p.helper_concurrency, 4);
    assert_eq!(p.access_log_module, AccessLogModule::Stdio);
    assert_eq!(p.squid_version, SquidVersion::new(7, 7));
    assert_eq!(
        (p.edge.workers, p.signer.workers, p.single.workers),
        (2, 1, 1)
    );
    for (tag, i, disk, mem) in [
        ("edge", &p.edge, 256, 64),
        ("signer", &p.signer, 100, 32),
        ("single", &p.single, 256, 64),
    ] {
        let d = Path::new("/tmp/st").join(tag);
        assert_eq!(i.pid_filename, d.join("squid.pid"));
        assert_eq!(i.cache_log, d.join("cache.log"));
        assert_eq!(i.access_log, d.join("access.log"));
        assert_eq!(i.cache_dir, d.join("cache"));
        assert_eq!(i.coredump_dir, d);
        assert_eq!((i.cache_dir_mb, i.cache_mem_mb), (disk, mem), "{tag}");
    }
    assert_eq!(
        o.state_dirs(Layout::TwoTier),
        [Path::new("/tmp/st/edge"), Path::new("/tmp/st/signer")]
    );
    assert_eq!(o.state_dirs(Layout::Rewrite), [Path::new("/tmp/st/single")]);
    assert!(Overrides::default().state_dirs(Layout::Single).is_empty());

    let two = render(Layout::TwoTier, &p);
    let (edge, signer) = (file(&two, "edge.conf"), file(&two, "signer.conf"));
    assert_eq!(
        lines_starting(edge, "http_port"),
        [
            "http_port 127.0.0.1:18080 accel vhost",
            "http_port 18081 accel vhost"
        ]
    );
    assert!(edge.contains(
        "\ncache_peer 127.0.0.1 parent 13129 0 no-query no-digest no-netdb-exchange originserver connect-timeout=2 name=s3signer\n"
    ));
    assert!(signer.contains("\nhttp_port 127.0.0.1:13129 accel vhost\n"));
    assert!(signer.contains("\nurl_rewrite_program /b/s3squid-rewrite --config /c.toml\n"));
    assert!(edge.contains("\naccess_log stdio:/tmp/st/edge/access.log s3squid\n"));
    // --edge-workers 2: SMP with a shared rock store (the signer keeps one process).
    assert!(edge
        .contains("\nworkers 2\nmemory_cache_shared on\ncache_dir rock /tmp/st/edge/cache 256\n"));
    assert!(signer.contains("\ncache_dir ufs /tmp/st/signer/cache 100 16 256\n"));
    assert!(!signer.contains("\nworkers "));
    assert!(edge.contains("\ncache_mem 64 MB\n"));
    assert!(signer.contains("\npid_filename /tmp/st/signer/squid.pid\n"));
    assert!(signer.contains("\ncache_effective_user proxy\n"));

    // --rewrite-command does not make a layout run the rewriter; it always sets the rewrite
    // layout's.
    let mut p = params_from_config(&Config::parse(SEVERAL).unwrap());
    o.apply(&mut p);
    assert!(rewriter_lines(&render(Layout::Single, &p).remove(0).1).is_empty());
    let text = render(Layout::Rewrite, &p).remove(0).1;
    assert!(text.contains("\nurl_rewrite_program /b/s3squid-rewrite --config /c.toml\n"));
    assert!(text.contains("\naccess_log stdio:/tmp/st/single/access.log s3squid\n"));

    // No overrides: no change.
    let mut p = base.clone();
    Overrides::default().apply(&mut p);
    assert_eq!(p, base);
}

#[test]
fn layouts_round_trip_their_names() {
    for l in Layout::ALL {
        assert_eq!(Layout::parse(l.as_str()), Some(l));
    }
    assert_eq!(Layout::parse("three-tier"), None);
}
