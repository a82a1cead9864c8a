//! `s3squid squid-conf` renders for the Squid version that `squid -v` names, unless
//! `--squid-version` says: a fake `squid` first on `PATH` stands for the installed one.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Output};

const CONFIG: &str = "[[route]]\nname = \"photos\"\npublic = \"http://h/p/\"\nbucket = \"photos\"\nregion = \"us-east-1\"\n";
const DIRECTIVE: &str = "\ncache_log_message id=72 limit=1\n";

/// Runs `s3squid squid-conf ARGS` with a `squid` on `PATH` that says it is `version`.
fn render(tag: &str, version: &str, args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("s3squid-version-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let squid = dir.join("squid");
    std::fs::write(
        &squid,
        format!("#!/bin/sh\necho 'Squid Cache: Version {version}'\necho 'Service Name: squid'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&squid, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.join("s3squid.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_s3squid"))
        .args(["squid-conf", "--config"])
        .arg(&config)
        .args(args)
        .env("PATH", path)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn squid_v_decides_unless_the_option_does() {
    let out = render("probed", "7.7", &["--layout", "two-tier"]);
    assert!(out.status.success(), "{out:?}");
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(
        stderr.contains("rendering for Squid 7.7 (`squid -v`"),
        "{stderr}"
    );
    // signer.conf has it; edge.conf does not run s3squid-icap.
    assert_eq!(stdout.matches(DIRECTIVE).count(), 1, "{stdout}");

    let out = render(
        "option",
        "7.7",
        &["--layout", "single", "--squid-version", "5.7"],
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains(DIRECTIVE));
    assert!(stdout.contains("# Rendered for Squid 5.7, which neither logs it"));
    assert!(!String::from_utf8(out.stderr)
        .unwrap()
        .contains("rendering for"));

    let out = render("old", "5.7", &["--layout", "single"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!String::from_utf8(out.stdout).unwrap().contains(DIRECTIVE));

    let out = render(
        "bad",
        "7.7",
        &["--layout", "single", "--squid-version", "seven"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
