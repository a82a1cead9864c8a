use super::*;

const PROGRAM: Program = Program {
    name: "s3squid-test",
    version: "1.2.3",
    about: "s3squid-test: a daemon for these tests",
    description: "What it does, in a paragraph.",
    log: LogDefaults {
        level: LogLevel::Warn,
        timestamps: false,
    },
};

fn p(args: &[&str]) -> Result<Invocation, UsageError> {
    PROGRAM.parse(args)
}

fn run(args: &[&str]) -> CommonArgs {
    match p(args) {
        Ok(Invocation::Run(a)) => a,
        other => panic!("{args:?}: {other:?}"),
    }
}

#[test]
fn parses() {
    let a = run(&[
        "--config",
        "/x.toml",
        "--check",
        "--log-level=debug",
        "--state-dir",
        "/s",
    ]);
    assert_eq!(a.config, PathBuf::from("/x.toml"));
    assert!(a.check);
    assert_eq!(a.log_level, Some(LogLevel::Debug));
    assert_eq!(a.state_dir, PathBuf::from("/s"));
    let d = run(&[]);
    assert_eq!(
        d,
        CommonArgs {
            config: DEFAULT_CONFIG_PATH.into(),
            check: false,
            log_level: None,
            state_dir: DEFAULT_STATE_DIR.into(),
        }
    );
    assert_eq!(run(&["-c", "/y.toml"]).config, PathBuf::from("/y.toml"));
    assert_eq!(run(&["--config=/y.toml"]).config, PathBuf::from("/y.toml"));
    assert_eq!(run(&["--state-dir=/t"]).state_dir, PathBuf::from("/t"));
    // As before clap: the last of a repeated option wins.
    assert_eq!(
        run(&["--config", "/a", "--config", "/b"]).config,
        PathBuf::from("/b")
    );
    for level in ["error", "warn", "info", "debug", "trace", "off"] {
        let got = run(&["--log-level", level]).log_level.map(LogLevel::as_str);
        assert_eq!(got, Some(level));
    }
}

#[test]
fn help_and_version_are_printed() {
    for flag in ["--help", "-h"] {
        let Ok(Invocation::Print(help)) = p(&[flag]) else {
            panic!("{flag}")
        };
        assert!(
            help.starts_with("s3squid-test: a daemon for these tests\n"),
            "{help}"
        );
        for part in [
            "Usage: s3squid-test [OPTIONS]",
            "--config <PATH>",
            "--check",
            "--log-level <LEVEL>",
            "default warn, or S3SQUID_LOG",
            "--state-dir <DIR>",
            "[default: /etc/s3squid/s3squid.toml]",
            "[default: /var/lib/s3squid]",
            "What it does, in a paragraph.",
        ] {
            assert!(help.contains(part), "{part:?} missing from\n{help}");
        }
    }
    assert_eq!(
        p(&["-V"]),
        Ok(Invocation::Print("s3squid-test 1.2.3\n".into()))
    );
    assert_eq!(p(&["--version"]), p(&["-V"]));
}

#[test]
fn usage_errors_are_one_line() {
    for bad in [
        &["--config"][..],
        &["--bogus"],
        &["extra"],
        &["--log-level", "loud"],
        &["--check=yes"],
        &["--config="],
    ] {
        match p(bad) {
            Err(e) => {
                assert!(!e.message.is_empty() && !e.message.contains('\n'), "{e:?}");
                assert!(!e.message.starts_with("error"), "{e:?}");
            }
            Ok(got) => panic!("{bad:?}: {got:?}"),
        }
    }
    let e = p(&["--log-level", "loud"]).unwrap_err();
    assert!(
        e.message.contains("'loud'") && e.message.contains("trace"),
        "{e}"
    );
}
