//! Squid itself parses every rendered file (`squid -k parse`) and must report no error and
//! no warning. Squid must be installed (scripts/test installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use s3map::config::Config;
use s3squid::squid_conf::{params_from_config, render, Layout, SquidInstance};

const SQUID: &str = "/usr/sbin/squid";

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
    }
}

#[test]
fn squid_parses_every_rendered_file_without_complaint() {
    assert!(
        Path::new(SQUID).exists(),
        "{SQUID} is not installed: run scripts/test, which installs it"
    );
    let dir = temp_dir("all");
    let mut p = params_from_config(&Config::parse(CONFIG).unwrap());
    p.public_http_listen = vec!["127.0.0.1:18080".into(), "127.0.0.1:18081".into()];
    p.public_https_listen = vec!["127.0.0.1:18443".into()];
    p.signer_listen = "127.0.0.1:13129".parse().unwrap();
    p.storeid_command = "/bin/cat".into();
    p.edge = instance_in(&dir, "edge");
    p.signer = instance_in(&dir, "signer");
    p.single = instance_in(&dir, "single");
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
    if !made.is_ok_and(|o| o.status.success()) {
        eprintln!("note: openssl could not make a test certificate; https_port not parsed");
        p.public_hosts
            .retain(|h| h.scheme == s3map::url::Scheme::Http);
    }
    p.tls_cert = cert.clone();
    p.tls_key = cert;
    for layout in [Layout::TwoTier, Layout::Single] {
        for (name, text) in render(layout, &p) {
            let path = dir.join(&name);
            std::fs::write(&path, text).unwrap();
            let out = Command::new(SQUID)
                .arg("-k")
                .arg("parse")
                .arg("-f")
                .arg(&path)
                .output()
                .unwrap();
            let log = String::from_utf8_lossy(&out.stderr);
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
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
