use clap::CommandFactory as _;

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
            out_dir: Some("out".into()),
            fragment: false,
            overrides: Overrides::default(),
        })
    );
    assert_eq!(
        parse(&args("squid-conf --layout=single")),
        Ok(Command::SquidConf {
            config: default_config(),
            layout: Layout::Single,
            out_dir: None,
            fragment: false,
            overrides: Overrides::default(),
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
    // --help wins over anything wrong after it, and over what is missing (--layout here).
    assert_eq!(
        parse(&args("squid-conf --help")),
        Ok(Command::Help(Topic::SquidConf))
    );
    assert_eq!(parse(&args("--version")), Ok(Command::Version));
    for t in [
        Topic::Main,
        Topic::Check,
        Topic::Explain,
        Topic::SquidConf,
        Topic::Revert,
    ] {
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
        ("squid-conf --layout rewrite --listen", Topic::SquidConf),
        ("squid-conf --layout rewrite --listen 0", Topic::SquidConf),
        (
            "squid-conf --layout rewrite --listen 70000",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --listen localhost:80",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --listen 127.0.0.1:0",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --signer-listen 3129",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --signer-listen 127.0.0.1:0",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --signer-listen a:1 --signer-listen b:2",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --concurrency -1",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --concurrency 1025",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --concurrency eight",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout two-tier --edge-workers 0",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout two-tier --edge-workers 65",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout two-tier --edge-workers -2",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --access-log-stdio=yes",
            Topic::SquidConf,
        ),
        (
            "squid-conf --layout rewrite --access-log-stdio --access-log-stdio",
            Topic::SquidConf,
        ),
        ("squid-conf --layout rewrite --user=", Topic::SquidConf),
        ("squid-conf --layout rewrite --state-dir", Topic::SquidConf),
    ];
    for (line, topic) in cases {
        match parse(&args(line)) {
            Err(e) => assert_eq!(e.topic, topic, "{line}: {e}"),
            Ok(c) => panic!("{line}: parsed as {c:?}"),
        }
    }
}

/// Arguments with spaces in them, as a shell passes them.
fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

#[test]
fn squid_conf_overrides() {
    let got = parse(&argv(&[
        "squid-conf",
        "--layout",
        "rewrite",
        "--config=/etc/x.toml",
        "--listen",
        "127.0.0.1:18080",
        "--listen=8081",
        "--listen",
        "[::1]:18082",
        "--signer-listen",
        "127.0.0.1:13129",
        "--state-dir",
        "/tmp/state",
        "--storeid-command",
        "/opt/bin/s3squid-storeid --config /etc/x.toml",
        "--rewrite-command= /opt/bin/s3squid-rewrite --config /etc/x.toml ",
        "--user",
        "proxy",
        "--concurrency",
        "0",
        "--edge-workers",
        "4",
        "--access-log-stdio",
        "--squid-version",
        "6.13",
    ]));
    assert_eq!(
        got,
        Ok(Command::SquidConf {
            config: "/etc/x.toml".into(),
            layout: Layout::Rewrite,
            out_dir: None,
            fragment: false,
            overrides: Overrides {
                listen: vec![
                    "127.0.0.1:18080".into(),
                    "8081".into(),
                    "[::1]:18082".into()
                ],
                signer_listen: Some("127.0.0.1:13129".parse().unwrap()),
                state_dir: Some("/tmp/state".into()),
                storeid_command: Some("/opt/bin/s3squid-storeid --config /etc/x.toml".into()),
                rewrite_command: Some("/opt/bin/s3squid-rewrite --config /etc/x.toml".into()),
                user: Some("proxy".into()),
                concurrency: Some(0),
                edge_workers: Some(4),
                access_log_stdio: true,
                gnutls_squid: false,
                parents: Vec::new(),
                edge_from: Vec::new(),
                squid_version: Some(SquidVersion::new(6, 13)),
            },
        })
    );
    // A relative --state-dir stays relative here; the binary makes it absolute.
    match parse(&args(
        "squid-conf --layout two-tier --state-dir demo --concurrency 1024",
    )) {
        Ok(Command::SquidConf { overrides, .. }) => {
            assert_eq!(overrides.state_dir, Some("demo".into()));
            assert_eq!(overrides.concurrency, Some(1024));
            assert!(overrides.listen.is_empty());
            assert!(!overrides.access_log_stdio);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn squid_conf_values_that_would_break_squid_conf_are_refused() {
    for bad in [
        ["--state-dir", "/tmp/a dir"],
        ["--user", "pro xy"],
        ["--storeid-command", "/bin/x\n--config y"],
        ["--rewrite-command", "   "],
        ["--squid-version", "six"],
    ] {
        let line = argv(&["squid-conf", "--layout", "single", bad[0], bad[1]]);
        match parse(&line) {
            Err(e) => {
                assert_eq!(e.topic, Topic::SquidConf);
                assert!(e.message.starts_with(bad[0]), "{e}");
            }
            Ok(c) => panic!("{bad:?}: parsed as {c:?}"),
        }
    }
}

#[test]
fn every_layout_parses_and_the_help_names_every_option() {
    for layout in Layout::ALL {
        let line = format!("squid-conf --layout {}", layout.as_str());
        match parse(&args(&line)) {
            Ok(Command::SquidConf { layout: got, .. }) => assert_eq!(got, layout),
            other => panic!("{line}: {other:?}"),
        }
        assert!(help(Topic::SquidConf).contains(layout.as_str()));
    }
    let cli = Cli::command();
    let squid_conf = cli.find_subcommand("squid-conf").unwrap();
    let options: Vec<_> = squid_conf
        .get_arguments()
        .filter_map(|a| a.get_long())
        .collect();
    assert!(options.len() >= 11, "{options:?}");
    for option in options {
        assert!(
            help(Topic::SquidConf).contains(&format!("--{option}")),
            "--help does not describe --{option}"
        );
    }
}

#[test]
fn revert_arguments() {
    assert_eq!(
        parse(&args("revert --config /etc/x.toml --state-dir /var/lib/y")),
        Ok(Command::Revert {
            config: "/etc/x.toml".into(),
            state_dir: "/var/lib/y".into()
        })
    );
    assert_eq!(
        parse(&args("revert")),
        Ok(Command::Revert {
            config: s3map::config::DEFAULT_CONFIG_PATH.into(),
            state_dir: s3squid_startup::lastgood::DEFAULT_STATE_DIR.into()
        })
    );
    assert!(parse(&args("revert extra")).is_err());
}

#[test]
fn fleet_parents_and_edge_sources() {
    match parse(&args(
        "squid-conf --layout fleet --parent 10.0.1.1:3128 --parent=[::1]:3131 \
         --edge-from 10.0.0.0/24 --edge-from=192.0.2.7 --edge-from ::1/128",
    )) {
        Ok(Command::SquidConf {
            layout, overrides, ..
        }) => {
            assert_eq!(layout, Layout::Fleet);
            assert_eq!(
                overrides.parents,
                [
                    "10.0.1.1:3128".parse::<SocketAddr>().unwrap(),
                    "[::1]:3131".parse().unwrap()
                ]
            );
            assert_eq!(overrides.edge_from, ["10.0.0.0/24", "192.0.2.7", "::1/128"]);
        }
        other => panic!("{other:?}"),
    }
    for bad in [
        ["--parent", "3128"],
        ["--parent", "parent1.internal:3128"],
        ["--parent", "10.0.1.1:0"],
        ["--edge-from", "10.0.0.0/33"],
        ["--edge-from", "edges.internal"],
        ["--edge-from", "10.0.0.0/"],
        ["--edge-from", "::1/129"],
    ] {
        match parse(&argv(&["squid-conf", "--layout", "fleet", bad[0], bad[1]])) {
            Err(e) => {
                assert_eq!(e.topic, Topic::SquidConf);
                assert!(e.message.starts_with(bad[0]), "{e}");
            }
            Ok(c) => panic!("{bad:?}: parsed as {c:?}"),
        }
    }
}

#[test]
fn fragment_has_no_fleet_form() {
    let e = parse(&args("squid-conf --layout fleet --fragment")).unwrap_err();
    assert!(
        e.message.contains("--fragment has no fleet form"),
        "{}",
        e.message
    );
    assert_eq!(e.topic, Topic::SquidConf);
    assert!(matches!(
        parse(&args("squid-conf --layout single --fragment")),
        Ok(Command::SquidConf { fragment: true, .. })
    ));
}

#[test]
fn a_parent_named_twice_is_refused() {
    let e = parse(&args(
        "squid-conf --layout fleet --parent 127.0.0.1:3131 --parent 127.0.0.1:3132 --parent 127.0.0.1:3131",
    ))
    .unwrap_err();
    assert!(
        e.message.contains("the same address twice"),
        "{}",
        e.message
    );
    assert_eq!(e.topic, Topic::SquidConf);
    assert!(parse(&args(
        "squid-conf --layout fleet --parent 127.0.0.1:3131 --parent 127.0.0.1:3132"
    ))
    .is_ok());
}
