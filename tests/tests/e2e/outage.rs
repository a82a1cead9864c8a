//! Issue 4, "S3 outage": while S3 refuses connections, hangs, or answers 503, every cached
//! object, fresh or stale, is still served with its bytes; a client's reload
//! (`Cache-Control: no-cache`) gets the cached copy too, as a failed revalidation, never as a
//! fetch that skips the cache; a miss fails with a clear 5xx within the timeouts of the rendered
//! configs; and once S3 is back, revalidations and misses work again without a Squid restart.
//!
//! Requests of one phase are sent at once, so that a hanging S3 costs one timeout per phase,
//! not one per request. Run with `--nocapture` to see the measured times.

use std::path::Path;
use std::time::{Duration, Instant};

use s3squid::squid_conf::Layout;
use s3squid_e2e::hang::Hang;
use s3squid_e2e::http;
use s3squid_e2e::squid::{Access, Squid, Stack, StackOptions, PUBLIC_HOST};
use s3squid_e2e::Sandbox;

use crate::{body_of, public_path};

/// Cached while fresh (old modification time): served without asking S3.
const FRESH: [&str; 2] = ["outage/fresh-1.jpg", "outage/fresh 2+plus.jpg"];
/// Cached, then stale: every request for them is a refresh.
const STALE: [&str; 2] = ["outage/stale-1.jpg", "outage/stale-2.jpg"];
/// Cached, one fresh and one stale, then asked for with `Cache-Control: no-cache`.
const RELOADED: [&str; 2] = ["outage/reload-fresh.jpg", "outage/reload-stale.jpg"];
/// The bound on an answer that needs nothing from S3, or gets its failure at once.
const AT_ONCE: Duration = Duration::from_secs(2);
/// Slack on a timeout: Squid checks its timeouts once a second, and two tests share two cores.
const SLACK: Duration = Duration::from_secs(3);
/// How long after S3 is back a miss may still fail (Squid takes back an S3 endpoint it had
/// marked down after a TCP probe, within about a second).
const RECOVERY: Duration = Duration::from_secs(5);

/// What S3 does during one phase of the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outage {
    /// s3s-fs stopped: connections are refused.
    Refused,
    /// A listener that accepts and never answers ([`Hang::start`]).
    Hanging,
    /// A listener that answers `503 SlowDown` ([`Hang::slow_down`]).
    SlowDown,
}

impl Outage {
    /// The status a miss gets: Squid's own 503 (cannot connect) or 504 (read timeout), or
    /// S3's 503 passed on.
    fn miss_status(self) -> u16 {
        match self {
            Outage::Refused | Outage::SlowDown => 503,
            Outage::Hanging => 504,
        }
    }
}

/// One answer, and how long it took.
struct Got {
    key: &'static str,
    reload: bool,
    status: u16,
    body: Vec<u8>,
    took: Duration,
}

/// GETs every `(key, reload)` through Squid on `port` at once.
fn all_at_once(port: u16, asks: &[(&'static str, bool)]) -> Vec<Got> {
    std::thread::scope(|s| {
        let handles: Vec<_> = asks
            .iter()
            .map(|&(key, reload)| {
                s.spawn(move || {
                    let mut headers = vec![("Host", PUBLIC_HOST)];
                    if reload {
                        headers.push(("Cache-Control", "no-cache"));
                    }
                    let t = Instant::now();
                    let r = http::raw(
                        port,
                        &format!("GET {} HTTP/1.1", public_path(key)),
                        &headers,
                    );
                    Got {
                        key,
                        reload,
                        status: r.status,
                        body: r.body,
                        took: t.elapsed(),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// The value of `DIRECTIVE N seconds` in a squid.conf.
fn seconds(conf: &Path, directive: &str) -> Duration {
    let text = std::fs::read_to_string(conf).unwrap();
    let prefix = format!("{directive} ");
    text.lines()
        .find_map(|l| {
            l.strip_prefix(&prefix)?
                .strip_suffix(" seconds")?
                .parse()
                .ok()
        })
        .map(Duration::from_secs)
        .unwrap_or_else(|| panic!("no `{directive} N seconds` in {}", conf.display()))
}

/// Waits until `squid`'s access log satisfies `cond` (the log daemon writes in batches).
fn log_until(squid: &Squid, what: &str, cond: impl Fn(&[Access]) -> bool) -> Vec<Access> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = squid.access();
        if cond(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "{} access.log never showed {what}:\n{log:#?}",
            squid.name
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Log entries for `key` with `action`.
fn entries<'a>(log: &'a [Access], key: &str, action: &str) -> Vec<&'a Access> {
    let path = public_path(key);
    log.iter()
        .filter(|a| a.url.contains(&path) && a.action == action)
        .collect()
}

/// One outage phase (the `n`-th): cached objects, reloads and a miss, all at once.
/// `s3_wait` is how long Squid waits for S3 when it hangs (its read_timeout).
fn during(st: &Stack, n: usize, outage: Outage, miss: &'static str, s3_wait: Duration) {
    let mut asks: Vec<(&'static str, bool)> = Vec::new();
    asks.extend(FRESH.iter().chain(&STALE).map(|&k| (k, false)));
    asks.extend(RELOADED.iter().map(|&k| (k, true)));
    asks.push((miss, false));
    let got = all_at_once(st.front.port, &asks);

    // Requests that need S3 (refreshes, reloads, the miss) wait for the timeout while S3
    // hangs; everything else is answered at once.
    let (lo, hi) = match outage {
        Outage::Hanging => (
            s3_wait.saturating_sub(Duration::from_secs(2)),
            s3_wait + SLACK,
        ),
        Outage::Refused | Outage::SlowDown => (Duration::ZERO, AT_ONCE),
    };
    for g in &got {
        let k = g.key;
        if k == miss {
            assert_eq!(g.status, outage.miss_status(), "{outage:?}: the miss {k}");
        } else {
            assert_eq!(
                (g.status, g.body.as_slice()),
                (200, body_of(k).as_slice()),
                "{outage:?}: {k} (reload: {})",
                g.reload
            );
        }
        let needs_s3 = !FRESH.contains(&k) || g.reload;
        let bound = if needs_s3 {
            (lo, hi)
        } else {
            (Duration::ZERO, AT_ONCE)
        };
        assert!(
            (bound.0..bound.1).contains(&g.took),
            "{outage:?}: {k} (reload: {}) took {:?}, not within {bound:?}",
            g.reload,
            g.took
        );
    }

    // Each refresh and each reload failed, and the cached copy was served.
    let log = log_until(
        &st.front,
        "a failed refresh per stale or reloaded object",
        |log| {
            STALE
                .iter()
                .chain(&RELOADED)
                .all(|k| entries(log, k, "TCP_REFRESH_FAIL_OLD").len() >= n)
                && entries(log, miss, "TCP_MISS").len() == 1
        },
    );
    for k in STALE.iter().chain(&RELOADED) {
        assert_eq!(entries(&log, k, "TCP_REFRESH_FAIL_OLD").len(), n, "{k}");
    }
    for k in RELOADED {
        assert!(
            entries(&log, k, "TCP_CLIENT_REFRESH_MISS").is_empty(),
            "a reload skipped the cache: {log:#?}"
        );
    }
    assert_eq!(
        entries(&log, miss, "TCP_MISS")[0].status,
        outage.miss_status()
    );

    // Two tiers: the signing Squid's own 5xx is what reached the edge (one more per refresh
    // and reload each phase, with this phase's status). The edge never gave up before the
    // signing Squid answered, which the signing Squid would log as `TCP_MISS_ABORTED/000`.
    // (`TCP_MISS_ABORTED/503` is fine: the edge had the 503 and stopped reading its error
    // page to serve the stale copy.)
    if let Some(signer) = &st.signer {
        let failed = |log: &[Access], k: &str| -> Vec<u16> {
            let path = public_path(k);
            log.iter()
                .filter(|a| a.url.contains(&path) && a.action.starts_with("TCP_MISS"))
                .map(|a| a.status)
                .filter(|&s| s >= 500)
                .collect()
        };
        let log = log_until(signer, "the S3 failure of every request", |log| {
            STALE
                .iter()
                .chain(&RELOADED)
                .all(|k| failed(log, k).len() >= n)
                && failed(log, miss).len() == 1
        });
        for k in STALE.iter().chain(&RELOADED) {
            let statuses = failed(&log, k);
            assert_eq!(statuses.len(), n, "{k}: {statuses:?}");
            assert_eq!(statuses[n - 1], outage.miss_status(), "{k}: {statuses:?}");
        }
        assert_eq!(failed(&log, miss), [outage.miss_status()]);
        assert!(
            log.iter().all(|a| a.status != 0),
            "the edge gave up before the signing Squid answered: {log:#?}"
        );
    }
    let slowest = |pick: &dyn Fn(&Got) -> bool| {
        got.iter()
            .filter(|g| pick(g))
            .map(|g| g.took)
            .max()
            .unwrap_or_default()
    };
    eprintln!(
        "outage {}, S3 {outage:?}: miss {} after {:?}; slowest fresh hit {:?}, stale hit {:?}, \
         reload {:?}",
        if st.signer.is_some() {
            "two-tier"
        } else {
            "single"
        },
        outage.miss_status(),
        slowest(&|g| g.key == miss),
        slowest(&|g| FRESH.contains(&g.key) && !g.reload),
        slowest(&|g| STALE.contains(&g.key)),
        slowest(&|g| g.reload),
    );
}

fn s3_outage(layout: Layout) {
    let sb = Sandbox::new(&format!("outage-{}", layout.as_str()));
    let mut st = Stack::start(&sb, layout, StackOptions::default());
    // The Squid that talks to S3 and how long it waits for S3 that hangs.
    let s3_squid = st.signer.as_ref().unwrap_or(&st.front);
    let s3_wait = seconds(&s3_squid.conf, "read_timeout");
    if let Some(signer) = &st.signer {
        assert!(seconds(&st.front.conf, "read_timeout") > seconds(&signer.conf, "read_timeout"));
    }

    let misses = [
        "outage/miss-refused.jpg",
        "outage/miss-hanging.jpg",
        "outage/miss-slowdown.jpg",
    ];
    let back_miss = "outage/miss-back.jpg";
    for k in FRESH
        .iter()
        .chain(&misses)
        .chain([&back_miss, &RELOADED[0]])
    {
        st.s3.put("photos", k, &body_of(k));
    }
    for k in STALE.iter().chain([&RELOADED[1]]) {
        st.s3
            .put_recent("photos", k, &body_of(k), Duration::from_secs(2));
    }
    for k in FRESH.iter().chain(&STALE).chain(&RELOADED) {
        let r = st.get(&public_path(k));
        assert_eq!((r.status, r.body), (200, body_of(k)), "{k}");
    }
    std::thread::sleep(Duration::from_millis(1500)); // the stale ones are stale now

    // (a) S3 refuses connections.
    st.s3.stop();
    during(&st, 1, Outage::Refused, misses[0], s3_wait);

    // (b) S3 accepts connections and never answers.
    let hang = Hang::start(st.s3.port);
    during(&st, 2, Outage::Hanging, misses[1], s3_wait);
    assert_eq!(
        hang.accepted(),
        STALE.len() + RELOADED.len() + 1,
        "one connection per refresh, reload and miss; none for fresh hits, no retries"
    );
    drop(hang);

    // (c) S3 sheds load: 503 SlowDown.
    let slow_down = Hang::slow_down(st.s3.port);
    during(&st, 3, Outage::SlowDown, misses[2], s3_wait);
    assert_eq!(slow_down.accepted(), STALE.len() + RELOADED.len() + 1);
    drop(slow_down);

    // S3 is back, Squid untouched.
    st.s3.restart();
    let t = Instant::now();
    loop {
        let r = st.get(&public_path(back_miss));
        if r.status == 200 {
            assert_eq!(r.body, body_of(back_miss));
            break;
        }
        assert!(
            t.elapsed() < RECOVERY,
            "misses still fail {:?} after S3 is back: {}",
            t.elapsed(),
            r.status
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "outage {}: a miss worked {:?} after S3 was back",
        layout.as_str(),
        t.elapsed()
    );
    // The misses that failed left nothing in the cache: each is fetched now.
    for k in misses {
        let r = st.get(&public_path(k));
        assert_eq!((r.status, r.body), (200, body_of(k)), "{k}");
        assert_eq!(st.s3.count("GetObject", k), 1, "{k} came from S3");
    }
    // A stale copy and a reload are revalidated with S3 again.
    for (k, reload) in [(STALE[0], false), (RELOADED[0], true)] {
        let before = st.s3.count("GetObject", k);
        let got = all_at_once(st.front.port, &[(k, reload)]);
        assert_eq!((got[0].status, &got[0].body), (200, &body_of(k)), "{k}");
        assert_eq!(
            st.s3.count("GetObject", k),
            before + 1,
            "{k} was revalidated with S3"
        );
    }
    log_until(&st.front, "the revalidations after the outage", |log| {
        [STALE[0], RELOADED[0]].iter().all(|k| {
            let path = public_path(k);
            log.iter().any(|a| {
                a.url.contains(&path)
                    && a.action.starts_with("TCP_REFRESH")
                    && !a.action.contains("FAIL")
            })
        })
    });
}

#[test]
fn s3_outage_single() {
    s3_outage(Layout::Single);
}

#[test]
fn s3_outage_two_tier() {
    s3_outage(Layout::TwoTier);
}
