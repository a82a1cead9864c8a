use super::*;

const GOOD: &str = "[[route]]\nname='a'\npublic='http://h/p/'\nbucket='bbb'\nregion='us-east-1'\n";

/// A fresh directory for one test (tests run in parallel in one process).
fn sandbox(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "s3squid-startup-lastgood-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn falls_back_and_keeps_previous() {
    let dir = sandbox("fallback");
    let state = dir.join("state");
    let cfg = dir.join("s3squid.toml");
    std::fs::write(&cfg, "broken = [").unwrap();
    assert!(load_or_last_good(&cfg, &state).is_err(), "no last good yet");
    let copies = Copies::of(&cfg, &state).unwrap();
    copies.record(GOOD).unwrap();
    let (c, from, err) = load_or_last_good(&cfg, &state).unwrap();
    assert_eq!(
        (c.routes.len(), from, err.is_some()),
        (1, copies.path(LAST_GOOD), true)
    );
    let second = GOOD.replace("'a'", "'b'");
    copies.record(&second).unwrap();
    assert_eq!(copies.read(PREVIOUS).unwrap(), GOOD);
    assert_eq!(copies.read(LAST_GOOD).unwrap(), second);
    copies.record(&second).unwrap();
    assert_eq!(
        copies.read(PREVIOUS).unwrap(),
        GOOD,
        "same text: nothing rotates"
    );
    // On disk, each copy names its source on its first line.
    let on_disk = std::fs::read_to_string(copies.path(LAST_GOOD)).unwrap();
    let source = std::fs::canonicalize(&dir).unwrap().join("s3squid.toml");
    assert_eq!(
        on_disk,
        format!("# s3squid: copy of {}\n{second}", source.display())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 9: a helper with a broken config fell back to the last good copy another
/// deployment (another config file, the same state directory) had written.
#[test]
fn two_config_files_sharing_a_state_dir_never_see_each_others_copy() {
    let dir = sandbox("two-files");
    let state = dir.join("state");
    let (a, b) = (dir.join("a.toml"), dir.join("b.toml"));
    let copies_a = Copies::of(&a, &state).unwrap();
    let copies_b = Copies::of(&b, &state).unwrap();
    assert_ne!(copies_a.dir(), copies_b.dir());
    copies_a.record(GOOD).unwrap();
    // A flat copy as the old layout kept it: ignored.
    std::fs::write(state.join(LAST_GOOD), GOOD).unwrap();
    std::fs::write(&b, "broken = [").unwrap();
    assert!(
        load_or_last_good(&b, &state).is_err(),
        "b has no copy of its own: a's (or the flat one) is never used"
    );
    std::fs::write(&a, "broken = [").unwrap();
    let (_, from, _) = load_or_last_good(&a, &state).unwrap();
    assert_eq!(from, copies_a.path(LAST_GOOD));
    // Recording b's configuration leaves a's copies alone.
    let other = GOOD.replace("'a'", "'other'");
    copies_b.record(&other).unwrap();
    assert_eq!(copies_a.read(LAST_GOOD).unwrap(), GOOD);
    assert!(!copies_a.path(PREVIOUS).exists());
    assert_eq!(copies_b.read(LAST_GOOD).unwrap(), other);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Belt and braces against two paths ever sharing a directory name: a copy whose header
/// names another file is refused, by a read, by the helpers' fallback and by `record`
/// (which then does not rotate it into previous.toml).
#[test]
fn a_copy_whose_header_names_another_path_is_refused() {
    let dir = sandbox("header");
    let state = dir.join("state");
    let (a, b) = (dir.join("a.toml"), dir.join("b.toml"));
    let copies_a = Copies::of(&a, &state).unwrap();
    let copies_b = Copies::of(&b, &state).unwrap();
    copies_b.record(GOOD).unwrap();
    std::fs::create_dir_all(copies_a.dir()).unwrap();
    std::fs::copy(copies_b.path(LAST_GOOD), copies_a.path(LAST_GOOD)).unwrap();
    let err = copies_a.read(LAST_GOOD).unwrap_err().to_string();
    assert!(
        err.contains("not a copy of") && err.contains("a.toml"),
        "{err}"
    );
    std::fs::write(&a, "broken = [").unwrap();
    assert!(load_or_last_good(&a, &state).is_err());
    // No header at all (a file put there by hand) is refused too.
    std::fs::write(copies_a.path(LAST_GOOD), GOOD).unwrap();
    assert!(copies_a.read(LAST_GOOD).is_err());
    copies_a.record(GOOD).unwrap();
    assert!(
        !copies_a.path(PREVIOUS).exists(),
        "a foreign copy is not rotated"
    );
    assert_eq!(copies_a.read(LAST_GOOD).unwrap(), GOOD);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn directory_names_are_distinct_and_bounded() {
    let name = |p: &str| dir_name(Path::new(p));
    assert_eq!(
        name("/etc/s3squid/s3squid.toml"),
        "%2Fetc%2Fs3squid%2Fs3squid.toml"
    );
    // '%' is escaped too, so a name is never another path's.
    assert_ne!(name("/a/b"), name("/a%2Fb"));
    assert_eq!(name("/a%2Fb"), "%2Fa%252Fb");
    // Long paths: cut, then '~' and a hash, never longer than the limit, and distinct even
    // when they share the part that is kept.
    let long = format!("/{}/", "d".repeat(300));
    let (x, y) = (name(&(long.clone() + "x.toml")), name(&(long + "y.toml")));
    assert_eq!((x.len(), y.len()), (MAX_DIR_NAME_BYTES, MAX_DIR_NAME_BYTES));
    assert_ne!(x, y);
    assert_eq!(x.as_bytes()[MAX_DIR_NAME_BYTES - 17], b'~');
    assert!(!name("/etc/s.toml").contains('~'));
    // Stable: the same path, the same name, in every program and release.
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
}

/// The same file, however it is named on the command line, maps to the same copies; a
/// missing file maps too (a helper whose config was deleted still finds its copy).
#[test]
fn the_same_file_maps_to_the_same_copies() {
    let dir = sandbox("same-file");
    let state = dir.join("state");
    let real = dir.join("real");
    std::fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(&real, dir.join("link")).unwrap();
    let of = |p: PathBuf| Copies::of(&p, &state).unwrap();
    let copies = of(real.join("s.toml"));
    assert_eq!(
        copies,
        of(dir.join("link/s.toml")),
        "through a linked directory"
    );
    assert_eq!(copies, of(dir.join("real/../real/./s.toml")));
    assert!(!real.join("s.toml").exists(), "a missing file maps too");
    assert_eq!(
        copies.source(),
        std::fs::canonicalize(&real).unwrap().join("s.toml")
    );
    // A directory that does not exist: the path made absolute as it is.
    let gone = dir.join("gone/s.toml");
    assert_eq!(of(gone.clone()).source(), gone);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `record` ends a revert's turn only when it keeps a new configuration.
#[test]
fn record_removes_the_revert_marker_when_it_rotates() {
    let dir = sandbox("marker");
    let copies = Copies::of(&dir.join("s.toml"), &dir.join("state")).unwrap();
    copies.record(GOOD).unwrap();
    copies.write(REVERTED_TO, GOOD).unwrap();
    copies.record(GOOD).unwrap();
    assert!(copies.path(REVERTED_TO).exists(), "same text: kept");
    copies.record(&GOOD.replace("'a'", "'b'")).unwrap();
    assert!(!copies.path(REVERTED_TO).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
