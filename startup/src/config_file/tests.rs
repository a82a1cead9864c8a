use super::*;

const GOOD: &str = "[[route]]\nname='a'\npublic='http://h/p/'\nbucket='bbb'\nregion='us-east-1'\n";

#[test]
fn load_reports_missing_and_oversized_files() {
    let dir = std::env::temp_dir().join(format!("s3squid-startup-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert!(matches!(
        load(&dir.join("missing.toml")),
        Err(LoadError::Read { .. })
    ));
    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b'#'; (MAX_CONFIG_BYTES + 1) as usize]).unwrap();
    assert!(matches!(load(&big), Err(LoadError::TooLarge { .. })));
    // An endless file is read no further than the limit.
    assert!(matches!(
        load(std::path::Path::new("/dev/zero")),
        Err(LoadError::TooLarge { .. })
    ));
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "broken = [").unwrap();
    assert!(matches!(load(&bad), Err(LoadError::Invalid(_))));
    // The text of a broken file can still be read (s3squid revert keeps it), bounded.
    assert_eq!(read_text(&bad).unwrap(), "broken = [");
    assert!(matches!(read_text(&big), Err(LoadError::TooLarge { .. })));
    let binary = dir.join("binary.toml");
    std::fs::write(&binary, b"\xff\xfe").unwrap();
    assert!(matches!(read_text(&binary), Err(LoadError::Read { .. })));
    assert_eq!(read_bytes(&binary).unwrap(), b"\xff\xfe");
    let good = dir.join("good.toml");
    std::fs::write(&good, GOOD).unwrap();
    let (config, text) = load_text(&good).unwrap();
    assert_eq!((config.routes.len(), text.as_str()), (1, GOOD));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_has_path_and_lines() {
    let invalid = |text: &str| LoadError::from(Config::parse(text).unwrap_err());
    let r = config_report(Path::new("/etc/s.toml"), &invalid("[icap]\nlisten = 'x'\n"));
    assert_eq!(
        r.lines().next().unwrap(),
        "/etc/s.toml:2: icap.listen \"x\" is not IP:PORT"
    );
    // Every problem of a config with several carries the path and its line.
    let r = config_report(
        Path::new("/etc/x.toml"),
        &invalid("[[route]]\nname = \"a\"\n"),
    );
    assert!(r.lines().count() > 1, "{r}");
    for l in r.lines() {
        let line_no = l
            .strip_prefix("/etc/x.toml:")
            .and_then(|r| r.split(':').next());
        assert!(line_no.is_some_and(|n| n.parse::<u32>().is_ok()), "{l}");
    }
    // A file that cannot be read: one line that says so.
    let path = Path::new("/nonexistent/s3squid.toml");
    let r = config_report(path, &load(path).unwrap_err());
    assert_eq!(r.lines().count(), 1);
    assert!(
        r.starts_with("cannot read /nonexistent/s3squid.toml: "),
        "{r}"
    );
}
