//! `s3squid revert` as an operator runs it: it undoes the last change to the configuration
//! file, from the copies s3squid-icap keeps for that file (here written as s3squid-icap
//! writes them, with `Copies::record`).
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

use std::path::PathBuf;
use std::process::{Command, Output};

use s3squid_startup::lastgood::{Copies, LAST_GOOD, PREVIOUS, REVERTED_FROM, REVERTED_TO};

const GOOD: &str = "[[route]]\nname = \"photos\"\npublic = \"http://h/p/\"\nbucket = \"photos\"\nregion = \"us-east-1\"\n";

/// `GOOD` with the route's signing switched off.
fn switched() -> String {
    GOOD.replace(
        "bucket = \"photos\"",
        "bucket = \"photos\"\nsigning = \"off\"",
    )
}

/// A configuration file and a state directory in a fresh temp dir of their own.
struct Setup {
    dir: PathBuf,
    config: PathBuf,
    state: PathBuf,
    copies: Copies,
}

impl Setup {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("s3squid-revert-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (config, state) = (dir.join("s3squid.toml"), dir.join("state"));
        let copies = Copies::of(&config, &state).unwrap();
        Setup {
            dir,
            config,
            state,
            copies,
        }
    }

    fn revert(&self) -> Output {
        Command::new(env!("CARGO_BIN_EXE_s3squid"))
            .args(["revert", "--config"])
            .arg(&self.config)
            .arg("--state-dir")
            .arg(&self.state)
            .output()
            .unwrap()
    }

    /// Reverts, checks it succeeded, and returns what it said.
    fn revert_ok(&self) -> String {
        let out = self.revert();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    fn write(&self, text: &str) {
        std::fs::write(&self.config, text).unwrap();
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A switch flipped and kept (applied on SIGHUP, or served for 60 s): the file is the last
/// good copy, so revert puts the previous back, and a second revert undoes the first.
#[test]
fn after_the_change_was_kept_revert_restores_the_previous() {
    let s = Setup::new("kept");
    s.copies.record(GOOD).unwrap();
    s.copies.record(&switched()).unwrap();
    s.write(&switched());
    let said = s.revert_ok();
    assert_eq!(s.file(), GOOD);
    assert!(said.contains("to the previous configuration"), "{said}");
    assert_eq!(s.copies.read(REVERTED_FROM).unwrap(), switched());
    assert_eq!(s.copies.read(REVERTED_TO).unwrap(), GOOD);
    assert!(s.revert_ok().contains("the file the last revert replaced"));
    assert_eq!(s.file(), switched(), "run twice: back to the switch");
    s.revert_ok();
    assert_eq!(s.file(), GOOD, "and again");
}

/// A switch flipped and applied by the file watch, not kept yet (served less than 60 s):
/// the last good copy is the configuration before it, and that is what revert puts back;
/// a second revert undoes the first.
#[test]
fn before_the_change_was_kept_revert_restores_the_last_good() {
    let s = Setup::new("unkept");
    s.copies.record(GOOD).unwrap();
    s.write(&switched());
    let said = s.revert_ok();
    assert_eq!(s.file(), GOOD);
    assert!(said.contains("to the last good configuration"), "{said}");
    s.revert_ok();
    assert_eq!(s.file(), switched(), "run twice: back to the switch");
    // Once s3squid-icap keeps a new configuration, the last revert is history: revert
    // undoes that change instead.
    let third = GOOD.replace("\"photos\"\npublic", "\"pics\"\npublic");
    s.copies.record(&third).unwrap();
    assert!(!s.copies.path(REVERTED_TO).exists());
    s.write(&third);
    s.revert_ok();
    assert_eq!(s.file(), GOOD, "the previous of the new last good");
}

/// A broken edit (s3squid-icap rejected it): revert puts the last good copy back and keeps
/// the broken file. A second revert does not write the broken file back: it undoes the last
/// kept change (the previous copy).
#[test]
fn a_broken_edit_is_reverted_and_never_written_back() {
    let s = Setup::new("broken");
    s.copies.record(GOOD).unwrap();
    s.copies.record(&switched()).unwrap();
    s.write("broken = [");
    s.revert_ok();
    assert_eq!(s.file(), switched());
    assert_eq!(s.copies.read(REVERTED_FROM).unwrap(), "broken = [");
    s.revert_ok();
    assert_eq!(s.file(), GOOD);
    // A file that is not even text is kept as it was.
    std::fs::write(&s.config, b"\xff\xfe").unwrap();
    s.revert_ok();
    assert_eq!(s.file(), switched());
    let kept = std::fs::read(s.copies.path(REVERTED_FROM)).unwrap();
    assert!(kept.ends_with(b"\n\xff\xfe"), "{kept:?}");
}

/// Nothing to revert to: no copies, copies of another file or in the old flat layout, or a
/// broken previous copy. The configuration file is left as it was, exit 64.
#[test]
fn nothing_to_revert_to_changes_nothing() {
    let s = Setup::new("nothing");
    s.write(&switched());
    let refused = |why: &str| {
        let out = s.revert();
        assert_eq!(out.status.code(), Some(64), "{why}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("nothing to revert to"), "{why}: {err}");
        assert_eq!(s.file(), switched(), "{why}");
    };
    refused("no copies yet");
    std::fs::create_dir_all(&s.state).unwrap();
    std::fs::write(s.state.join(LAST_GOOD), GOOD).unwrap();
    std::fs::write(s.state.join(PREVIOUS), GOOD).unwrap();
    refused("flat copies of the old layout");
    let other = Copies::of(&s.dir.join("other.toml"), &s.state).unwrap();
    other.record(GOOD).unwrap();
    std::fs::create_dir_all(s.copies.dir()).unwrap();
    std::fs::copy(other.path(LAST_GOOD), s.copies.path(LAST_GOOD)).unwrap();
    refused("another file's copy");
    s.copies.record(&switched()).unwrap();
    refused("the file is the last good copy, and there is no previous");
    s.copies.write(PREVIOUS, "broken = [").unwrap();
    refused("a broken previous copy");
}
