//! Issue 4, "S3 outage": serving cached copies while S3 refuses, hangs or answers 5xx.

use super::*;

/// The value of `DIRECTIVE N seconds` in a rendered file, in seconds.
pub(super) fn seconds(text: &str, directive: &str) -> u32 {
    let prefix = format!("{directive} ");
    let lines = lines_starting(text, &prefix);
    assert_eq!(lines.len(), 1, "{directive}: {lines:?}");
    let value = lines[0].strip_prefix(&prefix).unwrap();
    value
        .strip_suffix(" seconds")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{directive}: {value:?} is not `N seconds`"))
}

/// Issue 4, "S3 outage": every Squid that caches serves stale copies and turns reloads into
/// revalidations; every Squid that fetches from S3 gives up on it in bounded time; the edge
/// waits longer for the signing Squid than the signing Squid waits for S3 (and its ICAP
/// service), so the signing Squid's 5xx is what reaches the edge.
#[test]
fn issue_4_s3_outage_settings() {
    let p = params_from_config(&Config::parse(SEVERAL).unwrap());
    let two = render(Layout::TwoTier, &p);
    let (edge, signer) = (file(&two, "edge.conf"), file(&two, "signer.conf"));
    let single = render(Layout::Single, &p);
    let rewrite = render(Layout::Rewrite, &p);
    let (single, rewrite) = (file(&single, "squid.conf"), file(&rewrite, "squid.conf"));

    // Every route's freshness line serves stale copies for a week (Squid's default, stated),
    // and reloads become revalidations.
    for text in [edge, single, rewrite] {
        assert!(text.contains("\nreload_into_ims on\n"));
        let routes = lines_starting(text, "refresh_pattern ^http://").into_iter();
        let mut n = 0;
        for l in routes {
            assert!(l.ends_with(" max-stale=604800"), "{l}");
            n += 1;
        }
        assert!(n >= 4, "{text}");
    }
    let s3_connect = format!(" connect-timeout={S3_PEER_CONNECT_TIMEOUT_SECS} ");
    for text in [signer, single, rewrite] {
        let peers = lines_starting(text, "cache_peer ");
        assert_eq!(peers.len(), 3);
        assert!(peers.iter().all(|l| l.contains(&s3_connect)), "{peers:?}");
        assert_eq!(seconds(text, "read_timeout"), 10);
        assert_eq!(seconds(text, "forward_timeout"), 10);
        assert!(S3_PEER_CONNECT_TIMEOUT_SECS <= seconds(text, "forward_timeout"));
    }
    let signer_connect = format!(" connect-timeout={SIGNER_PEER_CONNECT_TIMEOUT_SECS} ");
    let parents = lines_starting(edge, "cache_peer ");
    assert!(!parents.is_empty());
    assert!(
        parents.iter().all(|l| l.contains(&signer_connect)),
        "{parents:?}"
    );
    // Longest the signing Squid takes to answer: its ICAP service, then connecting to S3
    // (bounded by forward_timeout), then S3's silence; Squid checks timeouts once a second.
    let signer_answers_within = seconds(signer, "icap_io_timeout")
        + seconds(signer, "forward_timeout")
        + seconds(signer, "read_timeout")
        + 1;
    assert!(
        seconds(edge, "read_timeout") > signer_answers_within,
        "the edge must wait longer than the signing Squid takes to answer"
    );
    assert!(lines_starting(edge, "forward_timeout").is_empty());
}
