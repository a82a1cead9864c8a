//! Issue "Real traffic to real S3", HTTPS: https S3 endpoints through real Squid, behind an
//! nginx TLS front (`s3squid_e2e::tls`: a CA made for the run, handshakes without SNI
//! refused), with the setup measured to work: an OpenSSL build of Squid (Debian's
//! `squid-openssl`, which scripts/install-deps installs; `S3SQUID_E2E_SQUID` picks another
//! binary) and the renderer's `cache_peer … tls tls-min-version=1.2 tls-options=NO_SSLv3`
//! plus `tls-cafile=CA`. Debian's plain `squid` (GnuTLS) cannot pass these: it accepts any
//! server certificate (wrong CA or wrong name: 200, and cached), sends no SNI, and with TLS
//! 1.3 it fails every read once the server has sent session tickets (502 ERR_READ_ERROR).

use s3squid::squid_conf::{Layout, OPENSSL_PEER_TLS_OPTIONS};
use s3squid_e2e::squid::{S3Tls, Stack, StackOptions};
use s3squid_e2e::tls::{squid_tls, SquidTls, TlsFrontOptions};
use s3squid_e2e::Sandbox;

/// A route to `https://s3.test:S3_TLS_PORT` (the front with the run's CA) and one to
/// `https://s3.test:S3_IMPOSTOR_PORT`, a front for the same name whose certificate comes from
/// a CA Squid does not trust. Both path-style, both signed.
const TLS_ROUTES: &str = r#"
[[route]]
name = "tls"
public = "http://images.example.com/tls/"
bucket = "photos"
region = "us-east-1"
endpoint = "https://s3.test:S3_TLS_PORT"
addressing = "path"

[[route]]
name = "impostor"
public = "http://images.example.com/impostor/"
bucket = "photos"
region = "us-east-1"
endpoint = "https://s3.test:S3_IMPOSTOR_PORT"
addressing = "path"

[[route]]
name = "wrongname"
public = "http://images.example.com/wrongname/"
bucket = "photos"
region = "us-east-1"
endpoint = "https://s3.test:S3_WRONG_NAME_PORT"
addressing = "path"
"#;

/// S3 behind nginx (TLS 1.2 and 1.3, session tickets, handshakes without SNI refused), in
/// `layout`: the object is fetched over TLS 1.3 with SNI `s3.test`, verified against the
/// run's CA, signed for `s3.test:PORT`, cached and served again as a hit. Through the
/// impostor (right name, CA not trusted) the client gets 503, nothing reaches S3 (the
/// handshake fails before any request), nothing is cached, and cache.log names the peer;
/// likewise through a front with a trusted certificate for another name, where the access
/// log gives the reason.
fn https_endpoint_verified(layout: Layout) {
    assert_eq!(
        squid_tls(),
        SquidTls::OpenSsl,
        "needs an OpenSSL build of Squid (Debian: squid-openssl, which scripts/install-deps \
         installs; or set S3SQUID_E2E_SQUID to its binary): the GnuTLS build accepts any \
         certificate"
    );
    let sb = Sandbox::new(&format!("tls-{}", layout.as_str()));
    let opts = StackOptions {
        extra_routes: TLS_ROUTES.to_owned(),
        s3_tls: Some(S3Tls {
            front: TlsFrontOptions {
                names: vec!["s3.test".to_owned()],
                require_sni: true,
            },
            peer_options: format!("{OPENSSL_PEER_TLS_OPTIONS} tls-cafile=CA_FILE"),
            impostor: true,
            wrong_name: true,
        }),
        ..StackOptions::default()
    };
    let st = Stack::start(&sb, layout, opts);
    let front = st.tls.as_ref().unwrap();
    let impostor = st.tls_impostor.as_ref().unwrap();
    let signing = st.signer.as_ref().unwrap_or(&st.front);
    let conf = std::fs::read_to_string(&signing.conf).unwrap();
    let peer = format!(
        "cache_peer s3.test parent {} 0 no-query no-digest no-netdb-exchange originserver tls tls-min-version=1.2 tls-options=NO_SSLv3 tls-cafile={} ",
        front.port,
        front.ca_file.display()
    );
    assert!(conf.contains(&peer), "{peer}\nnot in:\n{conf}");

    // Verified: fetched over TLS with SNI, cached.
    let body = super::body_of("tls/a b.jpg");
    st.s3.put("photos", "tls/a b.jpg", &body);
    for what in ["miss", "hit"] {
        let r = st.get("/tls/tls/a%20b.jpg");
        assert_eq!(r.status, 200, "{what}");
        assert!(r.body == body, "{what}: wrong bytes");
    }
    let log = st.front.access_n(2);
    assert!(!log[0].hit() && log[1].hit(), "{log:#?}");
    assert_eq!(st.s3.count("GetObject", "tls/a b.jpg"), 1);
    let seen = front.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].sni.as_deref(), Some("s3.test"), "Squid sent SNI");
    assert_eq!(seen[0].protocol, "TLSv1.3");
    assert!(
        seen[0]
            .request
            .starts_with("GET /photos/tls/a%20b.jpg?X-Amz-"),
        "path-style, presigned: {seen:#?}"
    );
    let s3_log = std::fs::read_to_string(&st.s3.log).unwrap();
    assert!(
        s3_log.contains(&format!("\"host\": \"s3.test:{}\"", front.port)),
        "S3 verified a signature for the https endpoint's host"
    );

    // Not verified: fails closed.
    st.s3.put("photos", "tls/secret.jpg", b"must not be served");
    for _ in 0..2 {
        let r = st.get("/impostor/tls/secret.jpg");
        assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
        let err = r.header("x-squid-error").unwrap_or_default();
        assert!(
            err.starts_with("ERR_SECURE_CONNECT_FAIL"),
            "{:?}",
            r.headers
        );
    }
    let log = st.front.access_n(4);
    assert!(
        log[2..].iter().all(|a| a.status == 503 && !a.hit()),
        "{log:#?}"
    );
    // With TLS 1.3 the server's side of the handshake is done before Squid checks the
    // certificate: nginx logs "client closed connection while waiting for request", and
    // no request (its access log is empty).
    assert!(impostor.requests().is_empty(), "{:#?}", impostor.requests());
    assert_eq!(st.s3.count("GetObject", "tls/secret.jpg"), 0);
    // Squid 5.7 says no more at the default debug level (the reason, "unable to get local
    // issuer certificate", needs `debug_options 83,3`).
    let cache_log = signing.cache_log_text();
    // Squid 5.7 names the host and port; 6 and later name the peer.
    let line = format!("TCP connection to s3.test/{} failed", impostor.port);
    let peer = st
        .params
        .s3_peers
        .iter()
        .find(|p| p.port == impostor.port)
        .unwrap();
    let newer = format!("ERROR: Connection to {} failed", peer.name);
    assert!(
        cache_log.contains(&line) || cache_log.contains(&newer),
        "{line} (or {newer})\nnot in:\n{cache_log}"
    );

    // A trusted CA, but a certificate for another name: fails closed too, and the signing
    // Squid's access log says why (the samples' format ends with %err_code/%err_detail).
    let wrong = st.tls_wrong_name.as_ref().unwrap();
    let r = st.get("/wrongname/tls/secret.jpg");
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert!(wrong.requests().is_empty(), "{:#?}", wrong.requests());
    assert_eq!(st.s3.count("GetObject", "tls/secret.jpg"), 0);
    s3squid_e2e::wait_until(10, "the failure in the access log", || {
        std::fs::read_to_string(&signing.access_log)
            .unwrap_or_default()
            .contains("ERR_SECURE_CONNECT_FAIL/SQUID_X509_V_ERR_DOMAIN_MISMATCH")
    });
}

#[test]
fn https_endpoint_verified_single() {
    https_endpoint_verified(Layout::Single);
}

#[test]
fn https_endpoint_verified_two_tier() {
    https_endpoint_verified(Layout::TwoTier);
}

/// A virtual-hosted bucket over TLS, behind a front that refuses handshakes without SNI:
/// `https://photos.s3.test:PORT/KEY`, with SNI `photos.s3.test` and the certificate checked
/// for that name; signed for that host and verified by s3s-fs as a virtual-hosted request;
/// cached and served as a hit. (Debian's GnuTLS Squid sends no SNI: 503 from such a front.)
#[test]
fn https_virtual_hosted_bucket_with_sni() {
    assert_eq!(
        squid_tls(),
        SquidTls::OpenSsl,
        "needs an OpenSSL build of Squid"
    );
    let sb = Sandbox::new("tls-virtual");
    let opts = StackOptions {
        extra_routes: r#"
[[route]]
name = "vtls"
public = "http://images.example.com/vtls/"
bucket = "photos"
region = "us-east-1"
endpoint = "https://s3.test:S3_TLS_PORT"
addressing = "virtual"
"#
        .to_owned(),
        s3_domain: Some("s3.test"),
        s3_tls: Some(S3Tls {
            front: TlsFrontOptions {
                names: vec!["s3.test".to_owned(), "photos.s3.test".to_owned()],
                require_sni: true,
            },
            peer_options: format!("{OPENSSL_PEER_TLS_OPTIONS} tls-cafile=CA_FILE"),
            impostor: false,
            wrong_name: false,
        }),
        ..StackOptions::default()
    };
    let st = Stack::start(&sb, Layout::Single, opts);
    let front = st.tls.as_ref().unwrap();
    let body = super::body_of("v/tls.bin");
    st.s3.put("photos", "v/tls.bin", &body);
    for what in ["miss", "hit"] {
        let r = st.get("/vtls/v/tls.bin");
        assert_eq!(
            r.status,
            200,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(r.body == body, "{what}: wrong bytes");
    }
    assert!(st.front.access_n(2)[1].hit());
    let seen = front.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].sni.as_deref(), Some("photos.s3.test"), "{seen:#?}");
    assert!(
        seen[0].request.starts_with("GET /v/tls.bin?X-Amz-"),
        "{seen:#?}"
    );
    let s3_log = std::fs::read_to_string(&st.s3.log).unwrap();
    assert!(
        s3_log.contains("parsing virtual-hosted-style request"),
        "s3s-fs took it as virtual-hosted"
    );
    assert_eq!(st.s3.count("GetObject", "v/tls.bin"), 1);
}

/// s3squid-icap's own probe (rustls) against the same TLS front: with the run's CA trusted
/// (`SSL_CERT_FILE`, read by the platform verifier), a signed HEAD of the probe key over
/// https reports S3 up, the signature accepted and a 200; against the impostor (a CA not
/// trusted) it reports S3 down, never sending the request.
#[test]
fn the_probe_speaks_https_and_checks_the_certificate() {
    use s3squid_e2e::tls::{TestCa, TlsFront};
    let sb = Sandbox::new("tls-probe");
    let s3 = s3squid_e2e::s3::S3::start(&sb);
    s3.bucket("photos");
    s3.put("photos", "probe.txt", b"ok");
    let names = TlsFrontOptions {
        names: vec!["127.0.0.1".to_owned()],
        require_sni: false,
    };
    let ca = TestCa::new("s3squid e2e probe CA");
    let good = TlsFront::start_with(&sb, "good", s3squid_e2e::free_port(), s3.port, &ca, &names);
    let other = TestCa::new("s3squid e2e untrusted CA");
    let bad = TlsFront::start_with(
        &sb,
        "bad",
        s3squid_e2e::free_port(),
        s3.port,
        &other,
        &names,
    );
    let (port, metrics_port) = (s3squid_e2e::free_port(), s3squid_e2e::free_port());
    let config = sb.path("s3squid.toml");
    let route = |name: &str, tls_port: u16| {
        format!(
            "[[route]]\nname = \"{name}\"\npublic = \"http://images.example.com/{name}/\"\n\
             bucket = \"photos\"\nregion = \"us-east-1\"\nendpoint = \"https://127.0.0.1:{tls_port}\"\n\
             addressing = \"path\"\nprobe_key = \"probe.txt\"\n"
        )
    };
    let text = s3squid_e2e::squid::config_text(port, metrics_port, &s3, "")
        .replace("[icap]\n", "[icap]\nprobe_interval = 1\n")
        + &route("good", good.port)
        + &route("bad", bad.port);
    std::fs::write(&config, text).unwrap();
    let mut env =
        s3squid_e2e::squid::static_creds(s3squid_e2e::ACCESS_KEY, s3squid_e2e::SECRET_KEY);
    env.push((
        "SSL_CERT_FILE".to_owned(),
        good.ca_file.display().to_string(),
    ));
    let icap = s3squid_e2e::squid::Icap::start(&sb, config, port, metrics_port, env);
    s3squid_e2e::wait_until(20, "a probe round of both routes", || {
        let m = icap.metrics();
        m.contains("s3squid_icap_probe_up{route=\"good\"}")
            && m.contains("s3squid_icap_probe_up{route=\"bad\"}")
    });
    assert_eq!(icap.metric("s3squid_icap_probe_up{route=\"good\"}"), 1.0);
    assert_eq!(
        icap.metric("s3squid_icap_probe_signature_ok{route=\"good\"}"),
        1.0
    );
    assert_eq!(
        icap.metric("s3squid_icap_probe_status{route=\"good\"}"),
        200.0
    );
    assert_eq!(icap.metric("s3squid_icap_probe_up{route=\"bad\"}"), 0.0);
    assert!(bad.requests().is_empty(), "{:#?}", bad.requests());
    assert!(!good.requests().is_empty());
    assert!(good.requests()[0]
        .request
        .starts_with("HEAD /photos/probe.txt?X-Amz-"));
}
