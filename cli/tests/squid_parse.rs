//! Squid itself parses every rendered file (`squid -k parse`) and must report no error and
//! no warning. Squid must be installed (scripts/test installs it). `S3SQUID_E2E_SQUID` names
//! another Squid binary, as for the e2e suite (scripts/test runs this test on each Squid of
//! scripts/squid-versions).

use std::path::{Path, PathBuf};
use std::process::Command;

use s3map::config::Config;
use s3squid::squid_conf::{
    params_from_config, render, render_fragment, AccessLogModule, Layout, Overrides,
    SquidConfParams, SquidInstance, SquidVersion,
};

const SQUID: &str = "/usr/sbin/squid";

/// The Squid that parses: `S3SQUID_E2E_SQUID` if set and not empty, else the machine's
/// [`SQUID`].
fn squid() -> std::ffi::OsString {
    std::env::var_os("S3SQUID_E2E_SQUID")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| SQUID.into())
}

/// Routes of every kind: path and virtual addressing, http and https endpoints (AWS and
/// not), two http public hosts and an https one.
const CONFIG: &str = r#"
[[route]]
name = "photos"
public = "http://images.example.com/photos/"
bucket = "photos"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"

[[route]]
name = "docs"
public = "http://docs.example.com:8080/"
bucket = "docs"
region = "eu-west-1"

[[route]]
name = "media"
public = "https://secure.example.com/m/"
bucket = "media"
region = "us-east-1"
endpoint = "https://minio.internal:9443"
addressing = "virtual"
"#;

/// An unsigned route, added to [`CONFIG`]: every Squid that runs s3squid-icap then runs
/// s3squid-rewrite too.
const UNSIGNED_ROUTE: &str = r#"
[[route]]
name = "site"
public = "http://www.example.com/"
bucket = "site"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"
auth = "none"
index = "index.html"
"#;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("s3squid-parse-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

fn instance_in(dir: &Path, name: &str) -> SquidInstance {
    let d = dir.join(name);
    SquidInstance {
        visible_hostname: format!("test-{name}"),
        pid_filename: d.join("squid.pid"),
        cache_log: d.join("cache.log"),
        access_log: d.join("access.log"),
        cache_dir: d.join("cache"),
        cache_dir_mb: 10,
        cache_mem_mb: 8,
        maximum_object_size_mb: 64,
        coredump_dir: d,
        workers: 1,
    }
}

#[test]
fn squid_parses_every_rendered_file_without_complaint() {
    let squid = squid();
    assert!(
        Path::new(&squid).exists(),
        "{} is not installed: run scripts/test, which installs it",
        squid.to_string_lossy()
    );
    let dir = temp_dir("all");
    // https_port needs a certificate it can load; Squid only reads it, so any PEM pair does.
    let cert = dir.join("pub.pem");
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=secure.example.com", "-keyout"])
        .arg(&cert)
        .arg("-out")
        .arg(&cert)
        .output();
    let https = made.is_ok_and(|o| o.status.success());
    if !https {
        eprintln!("note: openssl could not make a test certificate; https_port not parsed");
    }
    // Rendered for the committed samples' version, which every Squid must parse, and for
    // this Squid's own (`cache_log_message` from 6 on).
    let own = SquidVersion::probe(&squid).unwrap();
    let mut versions = vec![SquidVersion::OLDEST_TESTED];
    if own != SquidVersion::OLDEST_TESTED {
        versions.push(own);
    }
    for version in versions {
        parse_every_variant(&dir, &cert, https, version);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every layout of the routes of [`CONFIG`] (with and without [`UNSIGNED_ROUTE`], with
/// concurrency 0, with SMP), rendered for `version`.
fn parse_every_variant(dir: &Path, cert: &Path, https: bool, version: SquidVersion) {
    let params = |config: &str| {
        let mut p = params_from_config(&Config::parse(config).expect("the test config parses"));
        p.squid_version = version;
        p.public_http_listen = vec!["127.0.0.1:18080".into(), "127.0.0.1:18081".into()];
        p.public_https_listen = vec!["127.0.0.1:18443".into()];
        p.signer_listen = "127.0.0.1:13129".parse().expect("a socket address");
        p.storeid_command = "/bin/cat".into();
        p.edge = instance_in(dir, "edge");
        p.signer = instance_in(dir, "signer");
        p.single = instance_in(dir, "single");
        for (i, parent) in p.parents.iter_mut().enumerate() {
            parent.listen = format!("127.0.0.1:{}", 13131 + i)
                .parse()
                .expect("a socket address");
            parent.instance = instance_in(dir, &format!("parent-{}", i + 1));
        }
        if !https {
            p.public_hosts
                .retain(|h| h.scheme == s3map::url::Scheme::Http);
        }
        p.tls_cert = cert.to_path_buf();
        p.tls_key = cert.to_path_buf();
        p
    };

    let signed_only = params(CONFIG);
    assert!(!signed_only.rewrite_beside_icap);
    parse_every_layout(dir, &format!("{version}-signed"), &signed_only);

    let with_unsigned = format!("{CONFIG}{UNSIGNED_ROUTE}");
    let mut p = params(&with_unsigned);
    assert!(p.rewrite_beside_icap);
    parse_every_layout(dir, &format!("{version}-unsigned"), &p);

    // No channel IDs (and so no url_rewrite_timeout), the stdio log module.
    p.helper_concurrency = 0;
    p.access_log_module = AccessLogModule::Stdio;
    parse_every_layout(dir, &format!("{version}-concurrency0"), &p);

    // SMP: the edge with two workers and a rock cache_dir.
    let mut p = params(CONFIG);
    p.edge.workers = 2;
    parse_every_layout(dir, &format!("{version}-smp"), &p);
}

/// Debian bookworm's stock squid.conf and conf.d/debian.conf (tests/data/README.md).
const STOCK_SQUID_CONF: &str = include_str!("../../tests/data/debian-bookworm-squid.conf");
const STOCK_DEBIAN_CONF: &str = include_str!("../../tests/data/debian-bookworm-conf.d-debian.conf");

/// `squid -k parse -f path`, checking that it exited 0 and printed no error or warning line;
/// its output.
fn parse_complaints(name: &str, path: &Path) -> String {
    let out = Command::new(squid())
        .arg("-k")
        .arg("parse")
        .arg("-f")
        .arg(path)
        .output()
        .expect("run squid -k parse");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let bad: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("ERROR")
                || l.contains("FATAL")
                || l.contains("WARNING")
                || l.contains("Bungled")
        })
        .collect();
    assert!(
        out.status.success() && bad.is_empty(),
        "{name}: squid -k parse exited {:?}:\n{}",
        out.status,
        bad.join("\n")
    );
    log
}

/// Each layout's `--fragment` files in Debian's stock squid.conf (through its conf.d
/// include), and the two-tier signer.conf on its own: no error, no warning.
fn parse_every_fragment(dir: &Path, tag: &str, p: &SquidConfParams) {
    for layout in Layout::ALL {
        let root = dir.join(format!("{tag}-{}-stock", layout.as_str()));
        let confd = root.join("conf.d");
        std::fs::create_dir_all(&confd).expect("create conf.d");
        std::fs::write(confd.join("debian.conf"), STOCK_DEBIAN_CONF).expect("write debian.conf");
        // With a visible_hostname of its own: the stock file relies on the machine's
        // hostname, which the chroots of other Squid versions cannot resolve (a WARNING).
        let stock = STOCK_SQUID_CONF.replace(
            "include /etc/squid/conf.d/*.conf",
            &format!("include {}/*.conf", confd.display()),
        ) + "visible_hostname stock\n";
        assert!(stock.contains(&confd.display().to_string()));
        let squid_conf = root.join("squid.conf");
        std::fs::write(&squid_conf, stock).expect("write squid.conf");
        for (name, text) in render_fragment(layout, p) {
            if name.starts_with("00-") {
                std::fs::write(confd.join(&name), &text).expect("write the fragment");
                let log =
                    parse_complaints(&format!("{tag}-{}-{name}", layout.as_str()), &squid_conf);
                // Squid read the fragment.
                assert!(
                    log.contains("Processing: acl s3squid_in myportname"),
                    "{log}"
                );
            } else {
                let path = root.join(&name);
                std::fs::write(&path, &text).expect("write a rendered file");
                parse_complaints(&name, &path);
            }
        }
    }
}

/// `squid -k parse` on every file of every layout, with `/bin/cat` as the rewriter wherever
/// it runs (Squid checks that the program exists), whole and as fragments.
fn parse_every_layout(dir: &Path, tag: &str, base: &SquidConfParams) {
    let cat = Overrides {
        rewrite_command: Some("/bin/cat".into()),
        ..Overrides::default()
    };
    for layout in Layout::ALL {
        let mut p = base.clone();
        cat.apply(&mut p);
        for (name, text) in render(layout, &p) {
            let name = format!("{tag}-{}-{name}", layout.as_str());
            let path = dir.join(&name);
            std::fs::write(&path, &text).expect("write a rendered file");
            let runs_rewriter = text.contains("\nurl_rewrite_program ");
            // The caching Squids of two-tier and fleet (edges, parents) run no callout.
            let caches = name.ends_with("edge.conf") || name.contains("-parent-");
            assert_eq!(
                runs_rewriter,
                layout == Layout::Rewrite || (p.rewrite_beside_icap && !caches),
                "{name}"
            );
            let log = parse_complaints(&name, &path);
            // Squid read the rewriter's directives (they are in its parsed configuration).
            if runs_rewriter {
                assert!(
                    log.contains("Processing: url_rewrite_program"),
                    "{name}:\n{log}"
                );
            }
        }
    }
    let mut p = base.clone();
    cat.apply(&mut p);
    parse_every_fragment(dir, tag, &p);
}
