use super::*;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn default_config() -> PathBuf {
    PathBuf::from(DEFAULT_CONFIG_PATH)
}

#[test]
fn commands() {
    assert_eq!(
        parse(&args("check")),
        Ok(Command::Check {
            config: default_config()
        })
    );
    assert_eq!(
        parse(&args("check --config /x.toml")),
        Ok(Command::Check {
            config: "/x.toml".into()
        })
    );
    assert_eq!(
        parse(&args("explain --method=HEAD http://h/p/k --config=c.toml")),
        Ok(Command::Explain {
            config: "c.toml".into(),
            method: "HEAD".into(),
            url: "http://h/p/k".into()
        })
    );
    assert_eq!(
        parse(&args("explain http://h/p/k")),
        Ok(Command::Explain {
            config: default_config(),
            method: "GET".into(),
            url: "http://h/p/k".into()
        })
    );
    assert_eq!(
        parse(&args("squid-conf --layout two-tier --out-dir out")),
        Ok(Command::SquidConf {
            config: default_config(),
            layout: Layout::TwoTier,
            out_dir: Some("out".into())
        })
    );
    assert_eq!(
        parse(&args("squid-conf --layout=single")),
        Ok(Command::SquidConf {
            config: default_config(),
            layout: Layout::Single,
            out_dir: None
        })
    );
}

#[test]
fn help_and_version() {
    assert_eq!(parse(&args("--help")), Ok(Command::Help(Topic::Main)));
    assert_eq!(parse(&args("-h")), Ok(Command::Help(Topic::Main)));
    assert_eq!(parse(&args("help")), Ok(Command::Help(Topic::Main)));
    assert_eq!(
        parse(&args("help explain")),
        Ok(Command::Help(Topic::Explain))
    );
    assert_eq!(
        parse(&args("check --help")),
        Ok(Command::Help(Topic::Check))
    );
    // --help wins over anything else wrong with the line except unknown options.
    assert_eq!(
        parse(&args("squid-conf --help")),
        Ok(Command::Help(Topic::SquidConf))
    );
    assert_eq!(parse(&args("--version")), Ok(Command::Version));
    for t in [Topic::Main, Topic::Check, Topic::Explain, Topic::SquidConf] {
        assert!(help(t).starts_with("Usage") || help(t).starts_with("s3squid:"));
    }
}

#[test]
fn usage_errors_name_their_topic() {
    let cases = [
        ("", Topic::Main),
        ("frobnicate", Topic::Main),
        ("help frobnicate", Topic::Main),
        ("check extra", Topic::Check),
        ("check --config", Topic::Check),
        ("check --config=", Topic::Check),
        ("check --method GET", Topic::Check),
        ("check --config a --config b", Topic::Check),
        ("explain", Topic::Explain),
        ("explain http://a/ http://b/", Topic::Explain),
        ("squid-conf", Topic::SquidConf),
        ("squid-conf --layout three-tier", Topic::SquidConf),
        ("squid-conf --layout single extra", Topic::SquidConf),
    ];
    for (line, topic) in cases {
        match parse(&args(line)) {
            Err(e) => assert_eq!(e.topic, topic, "{line}: {e}"),
            Ok(c) => panic!("{line}: parsed as {c:?}"),
        }
    }
}
