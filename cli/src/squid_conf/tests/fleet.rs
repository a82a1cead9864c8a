//! Issue 11, part 3: the fleet layout (edges, CARP parents, the signing Squid).

use super::outage::seconds;
use super::*;

/// Parents on two hosts, edges on a network.
fn on_hosts(mut p: SquidConfParams) -> SquidConfParams {
    Overrides {
        parents: vec![
            "10.0.1.1:3128".parse().unwrap(),
            "10.0.1.2:3128".parse().unwrap(),
        ],
        edge_from: vec!["10.0.0.0/24".into(), "192.0.2.7".into()],
        ..Overrides::default()
    }
    .apply(&mut p);
    p
}

/// The file body after its head (from the first section rule on).
fn body(text: &str) -> &str {
    &text[text.find("\n# ----").unwrap()..]
}

#[test]
fn an_edge_file_a_file_per_parent_and_the_signer() {
    let base = params_from_config(&Config::parse(SEVERAL).unwrap());
    let p = on_hosts(base.clone());
    let files = render(Layout::Fleet, &p);
    assert_eq!(
        files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["edge.conf", "parent-1.conf", "parent-2.conf", "signer.conf"]
    );
    let edge = file(&files, "edge.conf");
    let parents = [file(&files, "parent-1.conf"), file(&files, "parent-2.conf")];
    let signer = file(&files, "signer.conf");

    // The edge: the public ports, the parents as a CARP array (the same public hosts as the
    // two-tier edge's peer for the signer), no callout.
    assert_eq!(
        lines_starting(edge, "http_port"),
        ["http_port 80 accel vhost", "http_port 8080 accel vhost"]
    );
    let allow = [
        "allow s3squid_public1 s3squid_public1_port s3squid_http",
        "allow s3squid_public2 s3squid_public2_port s3squid_http",
        "deny all",
    ];
    let mut want = Vec::new();
    for (n, host) in [(1, "10.0.1.1"), (2, "10.0.1.2")] {
        want.push(format!(
            "cache_peer {host} parent 3128 0 carp no-query no-digest no-netdb-exchange originserver connect-timeout=2 name=s3parent{n}"
        ));
        want.extend(allow.map(|a| format!("cache_peer_access s3parent{n} {a}")));
    }
    assert_eq!(lines_starting(edge, "cache_peer"), want);
    // The edge and each parent: no callout, the same rules for clients (the parents first
    // refuse everyone but the edges), and the same storage rules as the two-tier edge.
    let two = render(Layout::TwoTier, &p);
    let two_edge = file(&two, "edge.conf");
    for text in std::iter::once(edge).chain(parents) {
        for callout in [
            "icap",
            "adaptation",
            "store_id",
            "url_rewrite",
            "cache deny",
        ] {
            assert!(lines_starting(text, callout).is_empty(), "{callout}");
        }
        let mut access = lines_starting(text, "http_access");
        if text != edge {
            assert_eq!(access.remove(0), "http_access deny !s3squid_edges");
        }
        assert_eq!(access, lines_starting(two_edge, "http_access"));
        for directive in [
            "refresh_pattern",
            "store_miss",
            "send_hit",
            "collapsed_forwarding",
            "max_stale",
            "reload_into_ims",
            "range_offset_limit",
            "quick_abort",
            "write_timeout",
            "never_direct",
        ] {
            assert_eq!(
                lines_starting(text, directive),
                lines_starting(two_edge, directive),
                "{directive}"
            );
        }
    }

    // The parents: each on its own address, with its own name and files, taking the edges
    // only, sending misses to the signing Squid exactly as the two-tier edge does.
    for (i, text) in parents.iter().enumerate() {
        let n = i + 1;
        assert_eq!(
            lines_starting(text, "http_port"),
            [format!("http_port 10.0.1.{n}:3128 accel vhost")]
        );
        assert!(text.contains(&format!("\nvisible_hostname s3squid-parent-{n}\n")));
        assert!(text.contains(&format!("\npid_filename /run/squid-s3parent{n}.pid\n")));
        assert!(text.contains(&format!(
            "\ncache_dir ufs /var/spool/squid-s3parent{n} 10240 16 256\n"
        )));
        assert!(text.contains(&format!("# s3squid, fleet layout: PARENT cache {n} of 2,")));
        assert!(text.contains("\nacl s3squid_edges src 10.0.0.0/24 192.0.2.7\n"));
        assert_eq!(
            lines_starting(text, "cache_peer"),
            lines_starting(two_edge, "cache_peer")
        );
        assert_eq!(
            seconds(text, "read_timeout"),
            seconds(two_edge, "read_timeout")
        );
    }
    let names = [edge, parents[0], parents[1], signer]
        .map(|t| lines_starting(t, "visible_hostname")[0].to_owned());
    for (i, a) in names.iter().enumerate() {
        assert!(!names[i + 1..].contains(a), "{a} twice: Via loop detection");
    }

    // The signer: the two-tier one, also taking the parents' addresses, under its own head.
    assert!(signer.starts_with("# s3squid, fleet layout: the SIGNING Squid"));
    let two_signer = file(&two, "signer.conf");
    assert_eq!(
        body(signer).replace(
            "\nacl s3squid_edges src 127.0.0.1 ::1 10.0.1.1 10.0.1.2\n",
            "\nacl s3squid_edges src 127.0.0.1 ::1\n"
        ),
        body(two_signer)
    );

    // The edge's file does not depend on where the edges are: the same on every edge host.
    let mut elsewhere = p.clone();
    elsewhere.edge_sources = vec!["172.16.0.0/12".into()];
    assert_eq!(render(Layout::Fleet, &elsewhere)[0].1, edge);
}

/// The fleet's parameters change nothing in the other layouts (their samples and tests stay
/// as they were).
#[test]
fn other_layouts_ignore_the_fleet_parameters() {
    let base = params_from_config(&Config::parse(SEVERAL).unwrap());
    let p = on_hosts(base.clone());
    for layout in [Layout::TwoTier, Layout::Single, Layout::Rewrite] {
        assert_eq!(render(layout, &p), render(layout, &base), "{layout:?}");
    }
}

/// https public hosts: a second CARP peer per parent, in absolute form, as the two-tier
/// edge's second peer for the signing Squid.
#[test]
fn https_public_hosts_get_an_absolute_form_carp_peer_per_parent() {
    let cfg = SEVERAL.replace("http://docs.example.com:8080", "https://docs.example.com");
    let p = params_from_config(&Config::parse(&cfg).unwrap());
    let files = render(Layout::Fleet, &p);
    let peers = lines_starting(file(&files, "edge.conf"), "cache_peer ");
    assert_eq!(
        peers,
        [
            "cache_peer 127.0.0.1 parent 3131 0 carp no-query no-digest no-netdb-exchange originserver connect-timeout=2 name=s3parent1",
            "cache_peer 127.0.0.1 parent 3132 0 carp no-query no-digest no-netdb-exchange originserver connect-timeout=2 name=s3parent2",
            "cache_peer 127.0.0.1 parent 3131 0 carp no-query no-digest no-netdb-exchange connect-timeout=2 name=s3parent1_https",
            "cache_peer 127.0.0.1 parent 3132 0 carp no-query no-digest no-netdb-exchange connect-timeout=2 name=s3parent2_https",
        ]
    );
    let edge = file(&files, "edge.conf");
    assert!(edge.contains(
        "\ncache_peer_access s3parent2_https allow s3squid_public2 s3squid_public2_port s3squid_https\n"
    ));
    // A parent sends https URLs on to the signing Squid in absolute form, too.
    let two = render(Layout::TwoTier, &p);
    assert_eq!(
        lines_starting(file(&files, "parent-1.conf"), "cache_peer"),
        lines_starting(file(&two, "edge.conf"), "cache_peer")
    );
}

/// Each tier waits longer than the one behind it takes to answer, so the answer of the tier
/// behind (a stale copy, or the 5xx that says what went wrong) is what ends a request.
#[test]
fn each_tier_outwaits_the_one_behind_it() {
    let p = params_from_config(&Config::parse(SEVERAL).unwrap());
    let files = render(Layout::Fleet, &p);
    let (edge, parent, signer) = (
        file(&files, "edge.conf"),
        file(&files, "parent-1.conf"),
        file(&files, "signer.conf"),
    );
    let signer_answers_within = seconds(signer, "icap_io_timeout")
        + seconds(signer, "forward_timeout")
        + seconds(signer, "read_timeout")
        + 1;
    assert!(seconds(parent, "read_timeout") > signer_answers_within);
    assert!(seconds(edge, "read_timeout") > seconds(parent, "read_timeout"));
    // The parent has one path (the signing Squid): Squid's default forward_timeout. The
    // edge passes over a parent that does not take the connection, but does not ask another
    // parent after one answered a 504 because S3 hung (e2e fleet.rs measures both).
    assert!(lines_starting(parent, "forward_timeout").is_empty());
    let edge_forward = seconds(edge, "forward_timeout");
    assert!(edge_forward > SIGNER_PEER_CONNECT_TIMEOUT_SECS);
    assert!(edge_forward < seconds(signer, "read_timeout"));
}

/// `--parent`, `--edge-from` and `--state-dir` (`DIR/parent-N`).
#[test]
fn overrides_place_the_parents() {
    let o = Overrides {
        parents: vec![
            "127.0.0.1:13131".parse().unwrap(),
            "127.0.0.1:13132".parse().unwrap(),
            "[::1]:13133".parse().unwrap(),
        ],
        edge_from: vec!["127.0.0.1".into()],
        state_dir: Some("/tmp/st".into()),
        ..Overrides::default()
    };
    let mut p = params_from_config(&Config::parse(SEVERAL).unwrap());
    o.apply(&mut p);
    assert_eq!(p.parents.len(), 3);
    assert_eq!(p.edge_sources, ["127.0.0.1"]);
    for (i, parent) in p.parents.iter().enumerate() {
        let d = Path::new("/tmp/st").join(format!("parent-{}", i + 1));
        assert_eq!(parent.instance.pid_filename, d.join("squid.pid"));
        assert_eq!(parent.instance.cache_dir, d.join("cache"));
        assert_eq!(
            (parent.instance.cache_dir_mb, parent.instance.cache_mem_mb),
            (256, 64)
        );
    }
    assert_eq!(
        o.state_dirs(Layout::Fleet),
        ["edge", "signer", "parent-1", "parent-2", "parent-3"]
            .map(|d| Path::new("/tmp/st").join(d))
    );
    let files = render(Layout::Fleet, &p);
    assert_eq!(files.len(), 5);
    assert!(file(&files, "parent-3.conf").contains("\nhttp_port [::1]:13133 accel vhost\n"));
    assert!(file(&files, "edge.conf").contains(
        "\ncache_peer ::1 parent 13133 0 carp no-query no-digest no-netdb-exchange originserver connect-timeout=2 name=s3parent3\n"
    ));
    assert!(file(&files, "signer.conf").contains("\nacl s3squid_edges src 127.0.0.1 ::1\n"));
    // The default parents get their directories too.
    let defaults = Overrides {
        state_dir: Some("/s".into()),
        ..Overrides::default()
    };
    assert_eq!(
        defaults.state_dirs(Layout::Fleet),
        ["edge", "signer", "parent-1", "parent-2"].map(|d| Path::new("/s").join(d))
    );
}
