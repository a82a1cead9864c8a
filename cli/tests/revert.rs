//! `s3squid revert` as an operator runs it.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

use std::process::Command;

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
    std::fs::write(state.join("previous.toml"), GOOD).unwrap();
    let out = run();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), GOOD);
    assert_eq!(
        std::fs::read_to_string(state.join("reverted-from.toml")).unwrap(),
        current
    );
    // A broken previous file is never written over a working config.
    std::fs::write(state.join("previous.toml"), "broken = [").unwrap();
    assert_eq!(run().status.code(), Some(64));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), GOOD);
    std::fs::remove_dir_all(&dir).unwrap();
}
