use super::*;

const EXAMPLE: &str = r#"
[icap]
listen = "127.0.0.1:1344"        # the REQMOD service is icap://HOST:PORT/s3sign

[[route]]
name = "photos"
public = "http://images.example.com/photos/"   # public URL prefix
bucket = "photos"
key_prefix = ""                  # prepended to the rest of the public path
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"             # omit for AWS's regional endpoint
addressing = "path"              # "virtual" | "path"
auth = "sigv4"                   # "sigv4" | "none"
"#;

fn problems(text: &str) -> Vec<Problem> {
    match Config::parse(text) {
        Err(ConfigError::Invalid { problems }) => problems,
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn issue_example_works_unchanged() {
    let c = Config::parse(EXAMPLE).unwrap();
    assert_eq!(c.icap, IcapConfig::default());
    let r = &c.routes[0];
    assert_eq!(r.public.to_string(), "http://images.example.com/photos/");
    assert_eq!(r.endpoint.authority(), "127.0.0.1:9000");
    assert_eq!(r.addressing, Addressing::Path);
    assert_eq!(r.auth, Auth::SigV4);
}

#[test]
fn defaults() {
    let c = Config::parse(
        "[[route]]\nname='a'\npublic='HTTP://Img.Example.com:80/p'\nbucket='b-1'\nregion='eu-west-1'\n",
    )
    .unwrap();
    let r = &c.routes[0];
    assert_eq!(r.public.to_string(), "http://img.example.com/p/");
    assert_eq!(r.endpoint, Endpoint::aws_regional("eu-west-1"));
    assert_eq!(r.addressing, Addressing::Virtual);
    assert_eq!(r.auth, Auth::SigV4);
    assert_eq!(c.icap.presign_expires, 300);
}

#[test]
fn every_problem_with_its_line() {
    let text = "[icap]\nlisten = 'nope'\npresign_expires = 0\n\n[[route]]\nname = 'a'\npublic = 'ftp://x/'\nbucket = 'A_B'\nregion = 'us-east-1'\naddressing = 'sideways'\nauth = 'basic'\n\n[[route]]\npublic = 'http://h/p/'\n";
    let p = problems(text);
    let lines: Vec<_> = p.iter().map(|p| p.line).collect();
    assert_eq!(
        lines,
        vec![
            Some(2),
            Some(3),
            Some(7),
            Some(8),
            Some(10),
            Some(11),
            Some(13),
            Some(13),
            Some(13)
        ],
        "{p:#?}"
    );
}

/// Found by the fuzz target `config`: toml reports a DEL or a bare CR in a comment with an
/// empty message, which made a problem that said nothing ("line 2: ").
#[test]
fn a_toml_error_without_a_message_still_says_what_is_wrong() {
    for text in ["[icap]\n# \u{7f}\n", "[icap]\n# a\rb\n"] {
        let p = problems(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].line, Some(2));
        assert!(!p[0].message.is_empty(), "{text:?}");
    }
}

/// Found by the fuzz target `config`: each problem's line was counted from the start of
/// the text, so a file of thousands of empty routes (four problems each) took minutes.
#[test]
fn many_problems_are_reported_without_recounting_lines() {
    let routes = 30_000;
    let text = "[[route]]\n".repeat(routes);
    let started = std::time::Instant::now();
    let p = problems(&text);
    assert_eq!(p.len(), 4 * routes);
    assert_eq!(p.last().unwrap().line, Some(routes));
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

#[test]
fn syntax_and_unknown_fields_have_lines() {
    let p = problems("[icap]\nlisten = \n");
    assert_eq!(p[0].line, Some(2));
    let p = problems("[[route]]\nname='a'\npublik='http://h/'\n");
    assert_eq!(p[0].line, Some(3));
    assert!(p[0].message.contains("publik"), "{}", p[0].message);
}

#[test]
fn duplicates_and_empty() {
    let r = "[[route]]\nname='a'\npublic='http://h/p/'\nbucket='bbb'\nregion='us-east-1'\n";
    assert!(problems(&format!("{r}{r}"))[0]
        .message
        .contains("used twice"));
    assert!(problems("")[0].message.contains("no [[route]]"));
}

#[test]
fn virtual_https_bucket_with_dots_is_refused() {
    let p = problems(
        "[[route]]\nname='a'\npublic='http://h/p/'\nbucket='my.bucket'\nregion='us-east-1'\n",
    );
    assert!(p[0].message.contains("dots"));
}

#[test]
fn bucket_names() {
    for ok in ["abc", "my-bucket.1", "a1b"] {
        assert!(valid_bucket(ok), "{ok}");
    }
    for bad in ["ab", "-ab", "ab-", "Abc", "a_b", "a..b", &"a".repeat(64)] {
        assert!(!valid_bucket(bad), "{bad}");
    }
}

#[test]
fn bad_bytes_never_panic() {
    for text in [
        "\u{0}",
        "[[route]]\nname='\u{1}'",
        "[icap]\nmax_connections = -1",
        "[[route]\n",
        "\u{feff}x=1",
    ] {
        assert!(Config::parse(text).is_err(), "{text:?}");
    }
}

/// Issue 9, point 2: `to = "https://cdn.example.com*"` turned `/.evil.example/x` into
/// `https://cdn.example.com.evil.example/x`; a `to` whose * does not follow a path `/` is
/// refused by the check, with its line.
#[test]
fn a_redirect_wildcard_must_follow_a_path_slash() {
    let route = "[[route]]\nname = 's'\npublic = 'http://www.example.com/'\nbucket = 'site-bucket'\nregion = 'us-east-1'\n[[route.redirect]]\nfrom = 'a/*'\n";
    for to in [
        "https://cdn.example.com*",
        "https://*",
        "http://cdn.example.com:8080*",
        "/x*",
    ] {
        let p = problems(&format!("{route}to = '{to}'\n"));
        assert_eq!(p.len(), 1, "{to}: {p:?}");
        assert!(
            p[0].message.contains("must follow a / of the path"),
            "{to}: {}",
            p[0].message
        );
        assert_eq!(p[0].line, Some(8), "{to}");
    }
    for to in [
        "https://cdn.example.com/*",
        "/*",
        "/new/*",
        "http://h:8080/a/*",
    ] {
        assert!(
            Config::parse(&format!("{route}to = '{to}'\n")).is_ok(),
            "{to}"
        );
    }
}

/// Issue 9, point 6: route names are written unescaped into metric labels; a name with a
/// quote, a backslash, a space, a line break or nothing in it is refused, with its line.
#[test]
fn route_names_are_safe_metric_labels() {
    let route = |name: &str| {
        format!("[[route]]\nname = {name:?}\npublic = 'http://www.example.com/'\nbucket = 'site-bucket'\nregion = 'us-east-1'\n")
    };
    for bad in ["a\"b", "a\\b", "a b", "a\nb", "", "é", &"x".repeat(65)] {
        let p = problems(&route(bad));
        assert!(
            p.iter()
                .any(|p| p.message.contains("must be 1-64 of") && p.line == Some(2)),
            "{bad:?}: {p:?}"
        );
    }
    for good in ["photos", "photos-on-aws", "r_1.v2", &"x".repeat(64)] {
        assert!(Config::parse(&route(good)).is_ok(), "{good:?}");
    }
}

#[test]
fn freshness_per_route() {
    let route = |extra: &str| {
        format!("[[route]]\nname='a'\npublic='http://h/p/'\nbucket='b-1'\nregion='eu-west-1'\n{extra}\n")
    };
    let c = Config::parse(&route("")).unwrap();
    assert_eq!(c.routes[0].freshness, Freshness::default());
    assert_eq!(c.routes[0].freshness.max_stale_secs(), 7 * 24 * 3600);
    for (fresh, minutes) in [
        ("0", 0),
        ("90m", 90),
        ("2h", 120),
        ("1d", 1440),
        ("1w", 10080),
        ("120s", 2),
    ] {
        let c = Config::parse(&route(&format!("fresh = '{fresh}'"))).unwrap();
        assert_eq!(
            c.routes[0].freshness.fresh_minutes,
            Some(minutes),
            "{fresh}"
        );
    }
    let c = Config::parse(&route("max_stale = '90s'")).unwrap();
    assert_eq!(c.routes[0].freshness.max_stale_secs, Some(90));
    // Bad values, each with its line: not minutes, no unit, a sign, too long, bad bytes.
    for (bad, why) in [
        ("fresh = '90s'", "whole minutes"),
        ("fresh = '10'", "whole number with s, m, h, d or w"),
        ("fresh = '-1m'", "whole number"),
        ("fresh = '53w'", "longer than a year"),
        ("fresh = '201d'", "longer than 200 days"),
        ("fresh = '01m'", "whole number"),
        ("max_stale = '9999999999s'", "whole number"),
        ("max_stale = '1y'", "whole number"),
        ("max_stale = ''", "whole number"),
        ("max_stale = '1 m'", "whole number"),
        ("max_stale = '\u{ff}'", "whole number"),
    ] {
        let p = problems(&route(bad));
        assert_eq!(p.len(), 1, "{bad}: {p:?}");
        assert_eq!(p[0].line, Some(6), "{bad}");
        assert!(p[0].message.contains(why), "{bad}: {}", p[0].message);
    }
}
