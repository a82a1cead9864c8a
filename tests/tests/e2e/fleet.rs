//! Issue 11, part 3: a fleet. Two edges (the same `edge.conf` but for their port and files)
//! in front of two parents that the edges choose between by CARP, one signing Squid,
//! s3squid-icap and s3s-fs, all from `s3squid squid-conf --layout fleet`:
//! - every object is fetched from S3 once for the whole fleet, whichever edges ask for it,
//!   and always through the same parent;
//! - with one parent stopped, its objects are served through the other, which fetches each
//!   once more, while the other parent's objects need no new fetch; the edge tries the
//!   stopped parent for the first 10 of them only (then "Detected DEAD Parent"); once the
//!   parent is back, the edge takes it back and the parent still has what it had cached;
//! - while S3 hangs, a miss waits for one parent only, and a stale copy is served by its
//!   parent;
//! - with the signer down, a miss fails (502) and cached objects are served; with S3 down as
//!   well, every edge still serves what the fleet has cached, from its own cache or from the
//!   parent's.
//!
//! The edges' access logs say `CARP` for every request a parent answered, the failed-over
//! ones included, and `%<a` is 127.0.0.1 for both parents: which parent served a request is
//! read from the parents' own access logs.

use std::time::Duration;

use s3squid_e2e::hang::Hang;
use s3squid_e2e::http;
use s3squid_e2e::squid::{Access, Fleet, PUBLIC_HOST};
use s3squid_e2e::{wait_until, Sandbox};

use crate::{body_of, public_path};

/// An object that is stale soon after it is cached.
const STALE: &str = "fleet/stale.jpg";

/// Failed connections after which Squid marks a parent down (`connect-fail-limit`, Squid's
/// default: the sample does not set it).
const CONNECT_FAIL_LIMIT: usize = 10;

/// Keys `fleet/<set>-1.jpg` … `fleet/<set>-<n>.jpg`, stored in S3.
fn stored(fl: &Fleet, set: &str, n: usize) -> Vec<String> {
    let keys: Vec<String> = (1..=n).map(|i| format!("fleet/{set}-{i}.jpg")).collect();
    for k in &keys {
        fl.s3.put("photos", k, &body_of(k));
    }
    keys
}

/// GETs every key through edge `edge` (from 0): 200 with its bytes.
fn served(fl: &Fleet, edge: usize, keys: &[String], when: &str) {
    for k in keys {
        let r = fl.get(edge, &public_path(k));
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, body_of(k).as_slice()),
            "{k} through edge {} {when}",
            edge + 1
        );
    }
}

/// Each parent's access log entries for `key`, once the parents' logs together have at
/// least `n` entries (Squid's log daemon writes in batches).
fn seen_by_parents(fl: &Fleet, n: usize, key: &str) -> Vec<Vec<Access>> {
    let path = public_path(key);
    wait_until(10, &format!("{n} requests in the parents' logs"), || {
        parent_requests(fl) >= n
    });
    fl.parents
        .iter()
        .map(|p| {
            p.access()
                .into_iter()
                .filter(|a| a.url.ends_with(&path))
                .collect()
        })
        .collect()
}

/// The parents' access log entries so far, in all.
fn parent_requests(fl: &Fleet) -> usize {
    fl.parents.iter().map(|p| p.access().len()).sum()
}

/// The one parent (from 0) whose log has `key`; no other parent's log has it.
fn owner(logs: &[Vec<Access>], key: &str) -> usize {
    let has: Vec<usize> = (0..logs.len()).filter(|&i| !logs[i].is_empty()).collect();
    assert_eq!(
        has.len(),
        1,
        "{key} went through parents {has:?}: {logs:#?}"
    );
    has[0]
}

/// `(action, status)` of log entries.
fn actions(log: &[Access]) -> Vec<(&str, u16)> {
    log.iter().map(|a| (a.action.as_str(), a.status)).collect()
}

/// The `cache_peer` lines of a Squid's configuration file.
fn peer_lines(conf: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(conf)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("cache_peer"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn fleet_two_edges_two_carp_parents() {
    let sb = Sandbox::new("fleet");
    let mut fl = Fleet::start(&sb, 2, 2);
    let edge_peers = peer_lines(&fl.edges[0].conf);
    assert!(
        edge_peers.iter().any(|l| l.contains(" carp ")),
        "{edge_peers:#?}"
    );
    assert_eq!(edge_peers, peer_lines(&fl.edges[1].conf), "one edge.conf");

    // (a) Objects asked for through both edges, twice each: one GetObject each for the
    // fleet, and each through one parent, which saw edge 1's miss and then edge 2's (a hit
    // there); the second round is all hits at the edges.
    let shared = stored(&fl, "shared", 12);
    // Also one object that goes stale at once (modified 2 s before it is cached:
    // docs/design.md#fact-8), through edge 1, for (c).
    fl.s3
        .put_recent("photos", STALE, &body_of(STALE), Duration::from_secs(2));
    served(&fl, 0, &[STALE.to_owned()], "(warming)");
    let stale_owner = owner(&seen_by_parents(&fl, 1, STALE), STALE);
    // How many requests the parents have had so far, in all (their logs have them once
    // seen_by_parents has waited for this many).
    let mut logged = 1;
    for round in 1..=2 {
        for edge in 0..2 {
            served(&fl, edge, &shared, &format!("(round {round})"));
        }
    }
    let mut owners = Vec::new();
    for k in &shared {
        assert_eq!(
            fl.s3.count("GetObject", k),
            1,
            "{k}: one GetObject for the fleet"
        );
        let logs = seen_by_parents(&fl, logged + 2 * shared.len(), k);
        let o = owner(&logs, k);
        let got = actions(&logs[o]);
        assert_eq!(got.len(), 2, "{k}: {got:?}");
        assert_eq!(got[0], ("TCP_MISS", 200), "{k}");
        assert!(
            logs[o][1].hit(),
            "{k}: edge 2's miss was a hit at the parent: {got:?}"
        );
        owners.push(o);
    }
    assert!(
        owners.contains(&0) && owners.contains(&1),
        "CARP spreads the objects over both parents: {owners:?}"
    );
    eprintln!("fleet: shared objects by parent (from 0): {owners:?}");
    logged += 2 * shared.len();

    // (b) Objects in the parents and edge 1 only (`cold`), or also kept for later (`kept`);
    // then parent 1 stops and edge 2 asks for `cold`.
    let cold = stored(&fl, "cold", 30);
    let kept = stored(&fl, "kept", 8);
    served(&fl, 0, &cold, "(warming)");
    served(&fl, 0, &kept, "(warming)");
    logged += cold.len() + kept.len();
    let owner_of = |k: &String| owner(&seen_by_parents(&fl, logged, k), k);
    let cold_owners: Vec<usize> = cold.iter().map(owner_of).collect();
    let kept_owners: Vec<usize> = kept.iter().map(owner_of).collect();
    let stopped: Vec<&String> = cold
        .iter()
        .zip(&cold_owners)
        .filter(|(_, &o)| o == 0)
        .map(|(k, _)| k)
        .collect();
    assert!(
        stopped.len() > CONNECT_FAIL_LIMIT && kept_owners.contains(&0) && kept_owners.contains(&1),
        "enough objects of each parent: cold {cold_owners:?}, kept {kept_owners:?}"
    );

    fl.stop_parent(0);
    served(&fl, 1, &cold, "with parent 1 stopped");
    logged += cold.len();
    for (k, &o) in cold.iter().zip(&cold_owners) {
        let logs = seen_by_parents(&fl, logged, k);
        let (gets, on_2) = (fl.s3.count("GetObject", k), actions(&logs[1]));
        if o == 0 {
            // Parent 2 fetched it (a miss there), once more from S3.
            assert_eq!((gets, on_2), (2, vec![("TCP_MISS", 200)]), "{k}");
        } else {
            assert_eq!(gets, 1, "{k}: no new fetch");
            assert_eq!(on_2.len(), 2, "{k}: {on_2:?}");
            assert!(logs[1][1].hit(), "{k}: {on_2:?}");
        }
    }
    // Edge 2 tried parent 1 for its first 10 objects (refused at once, then parent 2), then
    // marked it down and sent the rest straight to parent 2.
    // (Squid 5.7 logs each as "TCP connection to HOST/PORT failed", 6 and later as "ERROR:
    // Connection to NAME failed".)
    let (older, newer) = (
        format!("TCP connection to 127.0.0.1/{} failed", fl.parents[0].port),
        "ERROR: Connection to s3parent1 failed",
    );
    let log = fl.edges[1].cache_log_text();
    let refused = log
        .lines()
        .filter(|l| l.contains(&older) || l.contains(newer))
        .count();
    assert_eq!(refused, CONNECT_FAIL_LIMIT, "{log}");
    assert_eq!(
        log.matches("Detected DEAD Parent: s3parent1").count(),
        1,
        "{log}"
    );
    eprintln!(
        "fleet: parent 1 stopped: {} of its objects served through parent 2, {refused} refused \
         connections before edge 2 marked it down",
        stopped.len()
    );

    // Parent 1 starts again with its cache. Edge 2 probes it while a request comes (here:
    // for objects that do not exist, so nothing else is cached) and takes it back.
    fl.restart_parent(&sb, 0);
    let back = std::time::Instant::now();
    let mut n = 0;
    wait_until(20, "edge 2 to take parent 1 back", || {
        n += 1;
        let r = fl.get(1, &format!("/photos/fleet/missing-{n}.jpg"));
        assert_eq!(r.status, 404);
        fl.edges[1]
            .cache_log_text()
            .contains("Detected REVIVED Parent: s3parent1")
    });
    eprintln!(
        "fleet: edge 2 took parent 1 back {:?} after it accepted again ({n} misses)",
        back.elapsed()
    );
    // (Each of those misses reached one parent, as S3's 404.)
    logged += n;
    // `kept` through edge 2: each from its own parent, a hit there, nothing from S3.
    served(&fl, 1, &kept, "after parent 1 came back");
    logged += kept.len();
    for (k, &o) in kept.iter().zip(&kept_owners) {
        let logs = seen_by_parents(&fl, logged, k);
        assert_eq!(fl.s3.count("GetObject", k), 1, "{k}");
        let last = logs[o].last().unwrap();
        assert!(
            last.hit(),
            "{k} from parent {}: {:?}",
            o + 1,
            actions(&logs[o])
        );
    }

    // Cached by the parents through edge 1 only, for (d).
    let parent_only = stored(&fl, "parent-only", 6);
    served(&fl, 0, &parent_only, "(warming)");
    logged += parent_only.len();

    // (c) S3 hangs. At once through edge 1: a miss, and the stale object, which edge 1 and
    // its parent both have. The miss ends in a 5xx after the signing Squid's read_timeout,
    // and edge 1 does not send it on to the other parent (forward_timeout 5 seconds; without
    // it, the other parent waited the same again). The stale object's parent serves its copy
    // (TCP_REFRESH_FAIL_OLD there), and edge 1 passes it on. S3 saw one connection each.
    let miss = stored(&fl, "miss", 2);
    fl.s3.stop();
    let hang = Hang::start(fl.s3.port);
    let port = fl.edges[0].port;
    let [hung, refreshed] = std::thread::scope(|s| {
        [&miss[0], STALE]
            .map(|k| s.spawn(move || http::get(port, PUBLIC_HOST, &public_path(k))))
            .map(|h| h.join().unwrap())
    });
    assert!(
        hung.status >= 500,
        "the miss while S3 hangs: {}",
        hung.status
    );
    assert_eq!((refreshed.status, refreshed.body), (200, body_of(STALE)));
    assert_eq!(
        hang.accepted(),
        2,
        "one S3 connection for the miss, one for the refresh"
    );
    logged += 2;
    let logs = seen_by_parents(&fl, logged, &miss[0]);
    let _ = owner(&logs, &miss[0]);
    let stale_log = &seen_by_parents(&fl, logged, STALE)[stale_owner];
    assert_eq!(
        stale_log.last().map(|a| a.action.as_str()),
        Some("TCP_REFRESH_FAIL_OLD"),
        "{stale_log:#?}"
    );
    drop(hang);
    fl.s3.restart();

    // (d) The signer down (s3squid-icap stopped), then S3 down as well. Edge 1 has
    // everything; edge 2 has `shared` and `cold`, and gets `parent_only` from the parents. A
    // miss fails with the signing Squid's 502 (no peer for a public URL it could not sign),
    // and reaches S3 never.
    fl.icap.stop();
    let before = fl.s3.requests();
    for edge in 0..2 {
        let r = fl.get(edge, &public_path(&miss[1]));
        assert_eq!(
            r.status,
            502,
            "a miss through edge {} without the signer",
            edge + 1
        );
        served(&fl, edge, &shared, "with the signer down");
    }
    assert_eq!(
        fl.s3.requests(),
        before,
        "nothing reached S3 without the signer"
    );
    fl.s3.stop();
    for edge in 0..2 {
        served(&fl, edge, &shared, "with the signer and S3 down");
        served(&fl, edge, &cold, "with the signer and S3 down");
    }
    served(&fl, 0, &parent_only, "with the signer and S3 down");
    served(
        &fl,
        1,
        &parent_only,
        "with the signer and S3 down, from the parents",
    );
    for k in &parent_only {
        assert_eq!(fl.s3.count("GetObject", k), 1, "{k}");
    }
}
