use super::super::{params_from_config, render, Layout};
use super::SquidVersion;

#[test]
fn versions_parse_as_squid_numbers_them() {
    for (text, want) in [
        ("5.7", (5, 7)),
        ("6.13", (6, 13)),
        ("7", (7, 0)),
        ("7.0.1", (7, 0)),
        ("6.13-VCS", (6, 13)),
        (" 7.7 ", (7, 7)),
    ] {
        assert_eq!(
            SquidVersion::parse(text),
            Ok(SquidVersion::new(want.0, want.1)),
            "{text:?}"
        );
    }
    for bad in ["", "x", "5.", "v6", "6.x", "2.7", "1000", "-6"] {
        assert!(SquidVersion::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(SquidVersion::new(6, 13).to_string(), "6.13");
    assert!(SquidVersion::new(5, 7) < SquidVersion::new(5, 10));
    assert!(SquidVersion::new(5, 99) < SquidVersion::new(6, 0));
}

#[test]
fn squid_v_output_names_the_version() {
    // The first lines of `squid -v` of Debian bookworm's, trixie's and sid's squid-openssl.
    for (out, want) in [
        (
            "Squid Cache: Version 5.7\nService Name: squid\n\nThis binary uses OpenSSL 3.0.17.",
            (5, 7),
        ),
        ("Squid Cache: Version 6.13\nService Name: squid\n", (6, 13)),
        ("Squid Cache: Version 7.7\nService Name: squid\n", (7, 7)),
    ] {
        assert_eq!(
            SquidVersion::from_squid_v(out),
            Some(SquidVersion::new(want.0, want.1))
        );
    }
    assert_eq!(SquidVersion::from_squid_v("squid: command not found"), None);
    assert_eq!(SquidVersion::from_squid_v("Squid Cache: Version x"), None);
}

#[test]
fn probe_runs_the_program_and_reads_its_answer() {
    let dir = std::env::temp_dir().join(format!("s3squid-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt as _;
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    };
    let seven = script(
        "squid7",
        "echo 'Squid Cache: Version 7.7'; echo 'Service Name: squid'",
    );
    assert_eq!(
        SquidVersion::probe(seven.as_os_str()),
        Ok(SquidVersion::new(7, 7))
    );
    let failing = script("failing", "echo 'Squid Cache: Version 7.7'; exit 1");
    assert!(SquidVersion::probe(failing.as_os_str()).is_err());
    let chatty = script("chatty", "echo hello");
    let e = SquidVersion::probe(chatty.as_os_str()).unwrap_err();
    assert!(e.contains("hello"), "{e}");
    assert!(SquidVersion::probe(dir.join("missing").as_os_str()).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Squid 6 and later get `cache_log_message id=72` in the Squids that run s3squid-icap (the
/// signing and the single Squid); 5.7 gets a comment only, never the directive it does not
/// know; the edge and the rewrite layout never run the service.
#[test]
fn the_bug_5187_warning_is_limited_from_squid_6_on() {
    let cfg = s3map::config::Config::parse(
        r#"
[[route]]
name = "photos"
public = "http://images.example.com/photos/"
bucket = "photos"
region = "us-east-1"
"#,
    )
    .unwrap();
    let directive = "\ncache_log_message id=72 limit=1\n";
    for (version, limited) in [
        (SquidVersion::OLDEST_TESTED, false),
        (SquidVersion::new(5, 99), false),
        (SquidVersion::new(6, 0), true),
        (SquidVersion::new(6, 13), true),
        (SquidVersion::new(7, 7), true),
    ] {
        let mut p = params_from_config(&cfg);
        assert_eq!(p.squid_version, SquidVersion::OLDEST_TESTED);
        p.squid_version = version;
        for layout in Layout::ALL {
            for (name, text) in render(layout, &p) {
                let runs_icap = text.contains("\nicap_service ");
                let icap_file = name == "signer.conf" || name == "squid.conf";
                assert_eq!(runs_icap, icap_file && layout != Layout::Rewrite, "{name}");
                assert_eq!(
                    text.matches(directive).count(),
                    usize::from(runs_icap && limited),
                    "{version} {} {name}",
                    layout.as_str()
                );
                assert!(
                    !text.lines().any(|l| l.starts_with("cache_log_message")) || limited,
                    "{version} {name}"
                );
                if runs_icap {
                    assert!(
                        text.contains(&format!("# Rendered for Squid {version}")),
                        "{version} {name}"
                    );
                }
            }
        }
    }
}
