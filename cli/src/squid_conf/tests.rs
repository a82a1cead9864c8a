use std::path::{Path, PathBuf};

use super::template::placeholders;
use super::*;

mod fleet;
mod outage;
mod rewrite;
use rewrite::WITH_UNSIGNED;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    &files.iter().find(|(n, _)| n == name).unwrap().1
}

/// The committed samples are exactly the render of the committed example config: they
/// cannot rot.
#[test]
fn committed_samples_are_the_render_of_the_example_config() {
    let root = repo_root();
    let cfg = s3squid_startup::load(&root.join("squid-conf/s3squid.toml")).unwrap();
    let params = params_from_config(&cfg);
    for layout in Layout::ALL {
        let dir = layout.as_str();
        for (name, text) in render(layout, &params) {
            let path = root.join("squid-conf").join(dir).join(&name);
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                committed == text,
                "{} differs from the render; regenerate it with\n  cargo run -p s3squid -- \
                 squid-conf --layout {} --config squid-conf/s3squid.toml --squid-version {} \
                 --out-dir squid-conf/{dir}",
                path.display(),
                layout.as_str(),
                super::SquidVersion::OLDEST_TESTED
            );
        }
        // The fragments (their signer.conf is the whole layout's, above).
        for (name, text) in render_fragment(layout, &params) {
            if !name.starts_with("00-") {
                continue;
            }
            let path = root.join("squid-conf/fragment").join(dir).join(&name);
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                committed == text,
                "{} differs from the render; regenerate it with\n  cargo run -p s3squid -- \
                 squid-conf --layout {} --fragment --config squid-conf/s3squid.toml --out-dir \
                 squid-conf/fragment/{dir} (and remove its signer.conf)",
                path.display(),
                layout.as_str()
            );
        }
    }
}

#[test]
fn defaults_from_the_example_config() {
    let cfg = s3squid_startup::load(&repo_root().join("squid-conf/s3squid.toml")).unwrap();
    let p = params_from_config(&cfg);
    assert_eq!(p.icap_uri, "icap://127.0.0.1:1344/s3sign");
    assert_eq!(p.public_http_listen, vec!["80".to_owned()]);
    assert!(p.public_https_listen.is_empty());
    assert_eq!(p.signer_listen.to_string(), "127.0.0.1:3129");
    assert_eq!(p.storeid_command, DEFAULT_STOREID_COMMAND);
    assert_eq!(p.rewrite_command, DEFAULT_REWRITE_COMMAND);
    assert!(
        p.rewrite_beside_icap,
        "the route assets has auth = \"none\""
    );
    assert_eq!(p.helper_concurrency, 8);
    assert_eq!(p.access_log_module, AccessLogModule::Daemon);
    assert_eq!(p.cache_effective_user, None);
    assert_eq!(
        p.public_hosts,
        vec![PublicHost {
            scheme: Scheme::Http,
            host: "images.example.com".into(),
            port: 80,
            paths: vec!["/photos/".into(), "/assets/".into()],
            routes: vec!["photos".into(), "assets".into()],
        }]
    );
    assert_eq!(
        p.s3_peers,
        vec![S3Peer {
            name: "s3_1".into(),
            scheme: Scheme::Http,
            host: "127.0.0.1".into(),
            port: 9000,
            routes: vec!["photos".into(), "assets".into()],
        }]
    );
    let paths = [&p.edge, &p.signer];
    assert_ne!(paths[0].pid_filename, paths[1].pid_filename);
    assert_ne!(paths[0].cache_dir, paths[1].cache_dir);
    assert_ne!(paths[0].access_log, paths[1].access_log);
    assert_ne!(paths[0].cache_log, paths[1].cache_log);
    assert_ne!(paths[0].visible_hostname, paths[1].visible_hostname);
}

const SEVERAL: &str = r#"
[icap]
listen = "127.0.0.1:11344"
service = "sign"

[[route]]
name = "photos"
public = "http://images.example.com/photos/"
bucket = "photos"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"

[[route]]
name = "thumbs"
public = "http://images.example.com/thumbs/"
bucket = "thumbs"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"
addressing = "path"

[[route]]
name = "docs"
public = "http://docs.example.com:8080/d/"
bucket = "docs"
region = "eu-west-1"

[[route]]
name = "minio-virtual"
public = "http://docs.example.com:8080/m/"
bucket = "media"
region = "us-east-1"
endpoint = "https://minio.internal:9443"
addressing = "virtual"
"#;

/// https peers are written for an OpenSSL build by default (the certificate and its name
/// checked, SNI sent: e2e `tls::*`); `--gnutls-squid` writes GnuTLS's options and a warning
/// that such a build checks no certificate.
#[test]
fn https_peers_for_openssl_by_default_gnutls_on_request_with_a_warning() {
    let base = params_from_config(&Config::parse(SEVERAL).unwrap());
    let signer = |p: &SquidConfParams| render(Layout::TwoTier, p).remove(1).1;
    let openssl = signer(&base);
    assert!(openssl
        .contains(" originserver tls tls-min-version=1.2 tls-options=NO_SSLv3 connect-timeout=5 "));
    assert!(openssl.contains("# Rendered for an OpenSSL build"));
    assert!(!openssl.contains("WARNING"));
    let mut p = base.clone();
    Overrides {
        gnutls_squid: true,
        ..Overrides::default()
    }
    .apply(&mut p);
    let gnutls = signer(&p);
    assert!(gnutls.contains(
        " originserver tls tls-options=NORMAL:-VERS-TLS1.3 tls-min-version=1.2 connect-timeout=5 "
    ));
    assert!(gnutls.contains("# WARNING: rendered with --gnutls-squid"));
    assert!(gnutls.contains("S3's certificate is NOT checked"));
    // The warning follows the build, not the option text: extra options keep it.
    p.s3_tls_options.push_str(" tls-cafile=/etc/ca.pem");
    assert!(signer(&p).contains("# WARNING: rendered with --gnutls-squid"));
}

#[test]
fn several_routes_give_one_peer_per_origin_and_one_acl_per_public_host() {
    let cfg = Config::parse(SEVERAL).unwrap();
    let p = params_from_config(&cfg);
    assert_eq!(p.icap_uri, "icap://127.0.0.1:11344/sign");
    assert_eq!(
        p.public_http_listen,
        vec!["80".to_owned(), "8080".to_owned()]
    );
    let hosts: Vec<_> = p
        .public_hosts
        .iter()
        .map(|h| (h.host.as_str(), h.port, h.paths.len()))
        .collect();
    assert_eq!(
        hosts,
        vec![("images.example.com", 80, 2), ("docs.example.com", 8080, 2)]
    );
    let peers: Vec<_> = p
        .s3_peers
        .iter()
        .map(|s| (s.name.as_str(), s.scheme, s.host.as_str(), s.port))
        .collect();
    assert_eq!(
        peers,
        vec![
            ("s3_1", Scheme::Http, "127.0.0.1", 9000),
            (
                "s3_2",
                Scheme::Https,
                "docs.s3.eu-west-1.amazonaws.com",
                443
            ),
            ("s3_3", Scheme::Https, "media.minio.internal", 9443),
        ]
    );
    assert_eq!(p.s3_peers[0].routes, vec!["photos", "thumbs"]);

    let two = render(Layout::TwoTier, &p);
    assert_eq!(
        two.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["edge.conf", "signer.conf"]
    );
    let single = render(Layout::Single, &p);
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].0, "squid.conf");
    let (edge, signer, single) = (
        file(&two, "edge.conf"),
        file(&two, "signer.conf"),
        file(&single, "squid.conf"),
    );

    // Public hosts: dstdomain + port + scheme, in every Squid.
    for text in [edge, signer, single] {
        assert_eq!(
            lines_starting(text, "acl s3squid_public"),
            [
                "acl s3squid_public1 dstdomain images.example.com",
                "acl s3squid_public1_port port 80",
                "acl s3squid_public2 dstdomain docs.example.com",
                "acl s3squid_public2_port port 8080",
            ]
        );
        let access = lines_starting(text, "http_access");
        for allow in [
            "http_access allow s3squid_public1 s3squid_public1_port s3squid_http",
            "http_access allow s3squid_public2 s3squid_public2_port s3squid_http",
        ] {
            assert!(access.contains(&allow), "{allow}");
        }
        assert_eq!(
            lines_starting(text, "http_access").last(),
            Some(&"http_access deny all")
        );
        assert!(text.contains("\nnever_direct allow all\n"));
        assert!(text.contains("\nstrip_query_terms on\n"));
        assert!(text.contains("\nacl s3squid_ok http_status 200-299\n"));
        assert!(text.contains("\nstore_miss deny !s3squid_ok\n"));
        assert!(text.contains("\nsend_hit deny !s3squid_ok\n"));
        assert!(!text.contains("allow-direct\n") && !text.contains("allow-direct "));
        assert!(lines_starting(text, "cache_effective_user").is_empty());
    }
    assert_eq!(
        lines_starting(edge, "http_access"),
        [
            "http_access deny !s3squid_get_head",
            "http_access deny s3squid_get_head s3squid_body_te",
            "http_access deny s3squid_get_head s3squid_body_length",
            "http_access deny s3squid_get_head s3squid_multirange",
            "http_access deny s3squid_client_auth",
            "http_access allow s3squid_public1 s3squid_public1_port s3squid_http",
            "http_access allow s3squid_public2 s3squid_public2_port s3squid_http",
            "http_access deny all",
        ]
    );
    assert_eq!(
        lines_starting(signer, "http_access"),
        [
            "http_access deny !s3squid_edges",
            "http_access deny !s3squid_get_head",
            "http_access deny s3squid_get_head s3squid_body_te",
            "http_access deny s3squid_get_head s3squid_body_length",
            "http_access deny s3squid_get_head s3squid_multirange",
            "http_access allow s3squid_public1 s3squid_public1_port s3squid_http",
            "http_access allow s3squid_public2 s3squid_public2_port s3squid_http",
            "http_access deny all",
        ]
    );

    // The edge: listens on both public ports, only peer is the signer, no callouts.
    assert_eq!(
        lines_starting(edge, "http_port"),
        ["http_port 80 accel vhost", "http_port 8080 accel vhost"]
    );
    assert_eq!(
        lines_starting(edge, "cache_peer"),
        [
            "cache_peer 127.0.0.1 parent 3129 0 no-query no-digest no-netdb-exchange originserver connect-timeout=2 name=s3signer",
            "cache_peer_access s3signer allow s3squid_public1 s3squid_public1_port s3squid_http",
            "cache_peer_access s3signer allow s3squid_public2 s3squid_public2_port s3squid_http",
            "cache_peer_access s3signer deny all",
        ]
    );
    for callout in ["icap", "adaptation", "store_id", "url_rewrite"] {
        assert!(
            lines_starting(edge, callout).is_empty(),
            "{callout} in edge.conf"
        );
    }
    assert_eq!(
        lines_starting(edge, "refresh_pattern"),
        [
            r"refresh_pattern ^http://images\.example\.com/photos/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern ^http://images\.example\.com/thumbs/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern ^http://docs\.example\.com:8080/d/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern ^http://docs\.example\.com:8080/m/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern -i (/cgi-bin/|\?) 0 0% 0",
            "refresh_pattern . 0 20% 4320",
        ]
    );

    // The S3 peers, in the signer and the single Squid.
    let peer_lines = [
        "cache_peer 127.0.0.1 parent 9000 0 no-query no-digest no-netdb-exchange originserver connect-timeout=5 name=s3_1",
        "acl s3_1_host dst 127.0.0.1",
        "acl s3_1_port port 9000",
        "cache_peer_access s3_1 allow s3_1_host s3_1_port s3squid_http",
        "cache_peer_access s3_1 deny all",
        "cache_peer docs.s3.eu-west-1.amazonaws.com parent 443 0 no-query no-digest no-netdb-exchange originserver tls tls-min-version=1.2 tls-options=NO_SSLv3 connect-timeout=5 name=s3_2",
        "acl s3_2_host dstdomain docs.s3.eu-west-1.amazonaws.com",
        "acl s3_2_port port 443",
        "cache_peer_access s3_2 allow s3_2_host s3_2_port s3squid_https",
        "cache_peer_access s3_2 deny all",
        "cache_peer media.minio.internal parent 9443 0 no-query no-digest no-netdb-exchange originserver tls tls-min-version=1.2 tls-options=NO_SSLv3 connect-timeout=5 name=s3_3",
        "acl s3_3_host dstdomain media.minio.internal",
        "acl s3_3_port port 9443",
        "cache_peer_access s3_3 allow s3_3_host s3_3_port s3squid_https",
        "cache_peer_access s3_3 deny all",
    ];
    let adapted = [
        "adapted_http_access allow s3_1_host s3_1_port s3squid_http",
        "adapted_http_access allow s3_2_host s3_2_port s3squid_https",
        "adapted_http_access allow s3_3_host s3_3_port s3squid_https",
        "adapted_http_access allow s3squid_public1 s3squid_public1_port s3squid_http",
        "adapted_http_access allow s3squid_public2 s3squid_public2_port s3squid_http",
        "adapted_http_access deny all",
    ];
    for text in [signer, single] {
        let got: Vec<_> = text
            .lines()
            .filter(|l| l.starts_with("cache_peer") || l.starts_with("acl s3_"))
            .collect();
        assert_eq!(got, peer_lines);
        assert_eq!(lines_starting(text, "adapted_http_access"), adapted);
        assert!(text.contains(
            "\nicap_service s3sign reqmod_precache icap://127.0.0.1:11344/sign bypass=on\n"
        ));
        // Only GET and HEAD for the public hosts go through the service (issue 9.6).
        assert_eq!(
            lines_starting(text, "adaptation_access"),
            [
                "adaptation_access s3sign allow s3squid_get_head s3squid_public1 s3squid_public1_port s3squid_http",
                "adaptation_access s3sign allow s3squid_get_head s3squid_public2 s3squid_public2_port s3squid_http",
                "adaptation_access s3sign deny all",
            ]
        );
        assert!(text.contains("\nicap_enable on\n"));
        assert!(text.contains("\nicap_io_timeout 5 seconds\n"));
        assert!(text.contains("\nicap_connect_timeout 2 seconds\n"));
        assert!(text.contains("\nicap_persistent_connections off\n"));
        assert!(text.contains("\n# icap_service_failure_limit 10\n"));
    }
    assert!(signer.contains("\nhttp_port 127.0.0.1:3129 accel vhost\n"));
    assert!(signer.contains("\ncache deny all\n"));
    assert!(signer.contains("\nacl s3squid_edges src 127.0.0.1 ::1\n"));
    assert!(lines_starting(signer, "store_id").is_empty());

    // The single Squid: store IDs, their refresh rule before the `?` rule.
    assert!(single.contains(&format!("\nstore_id_program {DEFAULT_STOREID_COMMAND}\n")));
    assert!(single.contains("\nstore_id_children 20 startup=1 idle=1 concurrency=8\n"));
    assert!(single.contains("\nstore_id_bypass off\n"));
    assert_eq!(
        lines_starting(single, "refresh_pattern"),
        [
            // Longest first.
            r"refresh_pattern ^http://s3\.squid\.internal/v1/minio\.internal:9443/media/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern ^http://s3\.squid\.internal/v1/127\.0\.0\.1:9000/photos/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern ^http://s3\.squid\.internal/v1/127\.0\.0\.1:9000/thumbs/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern ^http://s3\.squid\.internal/v1/aws/docs/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern ^http://s3\.squid\.internal/ 0 20% 10080 max-stale=604800",
            r"refresh_pattern -i (/cgi-bin/|\?) 0 0% 0",
            "refresh_pattern . 0 20% 4320",
        ]
    );
    assert!(s3map::storeid::STORE_ID_PREFIX.starts_with("http://s3.squid.internal/"));
}

#[test]
fn https_public_hosts_get_https_ports_and_an_absolute_form_parent() {
    let cfg = Config::parse(
        r#"
[[route]]
name = "a"
public = "https://secure.example.com/"
bucket = "abc"
region = "us-east-1"

[[route]]
name = "b"
public = "http://[::1]:8081/b/"
bucket = "bcd"
region = "us-east-1"
endpoint = "http://[::1]:9000"
"#,
    )
    .unwrap();
    let mut p = params_from_config(&cfg);
    p.cache_effective_user = Some("proxy".into());
    assert_eq!(p.public_https_listen, vec!["443".to_owned()]);
    let two = render(Layout::TwoTier, &p);
    let (edge, signer) = (file(&two, "edge.conf"), file(&two, "signer.conf"));
    assert_eq!(
        lines_starting(edge, "https_port"),
        ["https_port 443 accel vhost tls-cert=/etc/squid/s3squid-public.crt tls-key=/etc/squid/s3squid-public.key"]
    );
    assert_eq!(
        lines_starting(edge, "cache_peer"),
        [
            "cache_peer 127.0.0.1 parent 3129 0 no-query no-digest no-netdb-exchange originserver connect-timeout=2 name=s3signer",
            "cache_peer_access s3signer allow s3squid_public2 s3squid_public2_port s3squid_http",
            "cache_peer_access s3signer deny all",
            "cache_peer 127.0.0.1 parent 3129 0 no-query no-digest no-netdb-exchange connect-timeout=2 name=s3signer_https",
            "cache_peer_access s3signer_https allow s3squid_public1 s3squid_public1_port s3squid_https",
            "cache_peer_access s3signer_https deny all",
        ]
    );
    assert_eq!(
        lines_starting(edge, "acl s3squid_public"),
        [
            "acl s3squid_public1 dstdomain secure.example.com",
            "acl s3squid_public1_port port 443",
            "acl s3squid_public2 dst ::1",
            "acl s3squid_public2_port port 8081",
        ]
    );
    assert_eq!(
        lines_starting(signer, "http_port"),
        ["http_port 127.0.0.1:3129 accel vhost"]
    );
    assert!(!signer.contains("protocol="));
    assert!(signer
        .contains("\ncache_peer ::1 parent 9000 0 no-query no-digest no-netdb-exchange originserver connect-timeout=5 name=s3_2\n"));
    assert!(signer.contains("\nacl s3_2_host dst ::1\n"));
    for (_, text) in two.iter().chain(&render(Layout::Single, &p)) {
        assert_eq!(
            lines_starting(text, "cache_effective_user"),
            ["cache_effective_user proxy"]
        );
    }
}

#[test]
fn every_template_placeholder_is_filled_and_acl_names_fit() {
    let mut configs = vec![SEVERAL.to_owned(), WITH_UNSIGNED.to_owned()];
    configs.push(std::fs::read_to_string(repo_root().join("squid-conf/s3squid.toml")).unwrap());
    configs.push(SEVERAL.replace("http://docs.example.com:8080", "https://docs.example.com"));
    for text in configs {
        let p = params_from_config(&Config::parse(&text).unwrap());
        for layout in Layout::ALL {
            for (name, body) in render(layout, &p) {
                assert!(
                    placeholders(&body).is_empty(),
                    "{name}: unreplaced {:?}",
                    placeholders(&body)
                );
                // No pinger (no netdb), and queries out of the logs, in every file.
                assert!(body.contains("\npinger_enable off\n"), "{name}");
                assert!(body.contains("\nstrip_query_terms on\n"), "{name}");
                for line in body.lines().filter(|l| l.starts_with("acl ")) {
                    let acl = line.split_whitespace().nth(1).unwrap();
                    assert!(acl.len() <= 64, "{name}: ACL name {acl} is too long");
                }
                // Every ACL used in a rule is defined before it.
                let mut defined = vec!["all".to_owned()];
                for line in body.lines().filter(|l| !l.starts_with('#')) {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    match words.as_slice() {
                        ["acl", acl, ..] => defined.push((*acl).to_owned()),
                        ["http_access"
                        | "adapted_http_access"
                        | "never_direct"
                        | "store_miss"
                        | "send_hit"
                        | "url_rewrite_access"
                        | "cache", "allow" | "deny", acls @ ..]
                        | ["cache_peer_access" | "adaptation_access", _, "allow" | "deny", acls @ ..] => {
                            check_defined(&name, acls, &defined)
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

fn check_defined(file: &str, acls: &[&str], defined: &[String]) {
    for acl in acls {
        let acl = acl.trim_start_matches('!');
        assert!(
            defined.iter().any(|d| d == acl),
            "{file}: ACL {acl} is used before it is defined"
        );
    }
}

#[test]
fn regex_escaping() {
    assert_eq!(
        blocks::regex_escape("http://a.b:8/p+q(1)/[x]{y}|z^$*?\\"),
        r"http://a\.b:8/p\+q\(1\)/\[x\]\{y\}\|z\^\$\*\?\\"
    );
}

/// Issue 9, point 6: every generated `cache_peer` disables the netdb exchange, so Squid
/// never sends S3 (or the signer) its own unsigned `GET /squid-internal-dynamic/netdb`.
#[test]
fn every_cache_peer_disables_the_netdb_exchange() {
    let cfg = s3squid_startup::load(&repo_root().join("squid-conf/s3squid.toml")).unwrap();
    let params = params_from_config(&cfg);
    let mut peers = 0;
    for layout in Layout::ALL {
        for (name, text) in render(layout, &params) {
            for line in text.lines().filter(|l| l.starts_with("cache_peer ")) {
                peers += 1;
                assert!(line.contains(" no-netdb-exchange "), "{name}: {line}");
            }
        }
    }
    assert!(peers >= 4, "{peers} cache_peer lines");
}

/// Per-route freshness: each route's own line, anchored on its public prefix (edge) or the
/// store IDs of its objects (single, rewrite), a nested route before the route it is nested
/// in, aliases of the same objects sharing the first line.
#[test]
fn freshness_is_per_route_and_anchored() {
    let cfg = Config::parse(
        r#"
[[route]]
name = "photos"
public = "http://images.example.com/photos/"
bucket = "photos"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"
fresh = "1w"

[[route]]
name = "latest"
public = "http://images.example.com/photos/latest/"
bucket = "photos"
key_prefix = "latest/"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"
fresh = "5m"
max_stale = "1h"

[[route]]
name = "alias"
public = "http://cdn.example.com/p/"
bucket = "photos"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"
fresh = "0"
max_stale = "0"
"#,
    )
    .unwrap();
    let p = params_from_config(&cfg);
    let two = render(Layout::TwoTier, &p);
    assert_eq!(
        lines_starting(file(&two, "edge.conf"), "refresh_pattern"),
        [
            r"refresh_pattern ^http://images\.example\.com/photos/latest/ 5 30000% 5 max-stale=3600",
            r"refresh_pattern ^http://images\.example\.com/photos/ 10080 60480000% 10080 max-stale=604800",
            r"refresh_pattern ^http://cdn\.example\.com/p/ 0 0% 0 max-stale=0",
            r"refresh_pattern -i (/cgi-bin/|\?) 0 0% 0",
            "refresh_pattern . 0 20% 4320",
        ]
    );
    for layout in [Layout::Single, Layout::Rewrite] {
        let text = render(layout, &p).remove(0).1;
        assert_eq!(
            lines_starting(&text, "refresh_pattern"),
            [
                r"refresh_pattern ^http://s3\.squid\.internal/v1/127\.0\.0\.1:9000/photos/latest/ 5 30000% 5 max-stale=3600",
                r"refresh_pattern ^http://s3\.squid\.internal/v1/127\.0\.0\.1:9000/photos/ 10080 60480000% 10080 max-stale=604800",
                r"refresh_pattern ^http://s3\.squid\.internal/ 0 20% 10080 max-stale=604800",
                r"refresh_pattern -i (/cgi-bin/|\?) 0 0% 0",
                "refresh_pattern . 0 20% 4320",
            ],
            "{layout:?}"
        );
        assert!(text.contains(
            "# route latest: fresh for 5 minutes after fetch; then stale up to 1 hour if refresh fails\n"
        ));
        assert!(
            text.contains("# route alias: the same objects as a route above, whose line applies\n")
        );
    }
    // The longest `fresh` (200 days): its percentage still fits Squid's int.
    let longest = s3map::route::Freshness {
        fresh_minutes: Some(s3map::route::MAX_FRESH_SECS / 60),
        max_stale_secs: None,
    };
    assert_eq!(
        blocks::refresh_values(longest),
        "288000 1728000000% 288000 max-stale=604800"
    );
    assert!(i32::try_from(s3map::route::MAX_FRESH_SECS as u64 * 100).is_ok());
}
