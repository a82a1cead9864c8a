//! `s3squid revert` as an operator runs it.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

use std::process::Command;

use s3squid_startup::lastgood::{Copies, PREVIOUS, REVERTED_FROM};

const GOOD: &str = "[[route]]\nname = \"photos\"\npublic = \"http://h/p/\"\nbucket = \"photos\"\nregion = \"us-east-1\"\n";

#[test]
fn revert_puts_the_previous_config_back() {
    let dir = std::env::temp_dir().join(format!("s3squid-revert-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let config = dir.join("s3squid.toml");
    let current = GOOD.replace(
        "bucket = \"photos\"",
        "bucket = \"photos\"\nsigning = \"off\"",
    );
    std::fs::write(&config, &current).unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_s3squid"))
            .args(["revert", "--config"])
            .arg(&config)
            .arg("--state-dir")
            .arg(&state)
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(64), "nothing to revert to yet");
    // Copies from another layout or of another file are never used.
    std::fs::write(state.join("previous.toml"), GOOD).unwrap();
    let copies = Copies::of(&config, &state).unwrap();
    let other = Copies::of(&dir.join("other.toml"), &state).unwrap();
    other.record(GOOD).unwrap();
    other.record(&current).unwrap();
    std::fs::create_dir_all(copies.dir()).unwrap();
    std::fs::copy(other.path(PREVIOUS), copies.path(PREVIOUS)).unwrap();
    assert_eq!(run().status.code(), Some(64), "another file's copy");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), current);
    copies.write(PREVIOUS, GOOD).unwrap();
    let out = run();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), GOOD);
    assert_eq!(copies.read(REVERTED_FROM).unwrap(), current);
    // A broken previous file is never written over a working config.
    copies.write(PREVIOUS, "broken = [").unwrap();
    assert_eq!(run().status.code(), Some(64));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), GOOD);
    std::fs::remove_dir_all(&dir).unwrap();
}
