//! End-to-end: real Squid 5.7 in each sample layout, s3squid-icap, s3squid-storeid, and
//! s3s-fs verifying SigV4 with access keys. One binary; each test has its own temp dir and
//! loopback ports and stops what it started, by PID.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

use s3map::pct::encode_path;
use s3squid::squid_conf::Layout;
use s3squid_e2e::squid::{Stack, StackOptions};
use s3squid_e2e::{awkward_keys, Sandbox};

/// The bytes stored for a key: distinct per key, so a wrong object cannot pass.
fn body_of(key: &str) -> Vec<u8> {
    format!("object bytes of {key:?}\n").into_bytes()
}

fn public_path(key: &str) -> String {
    format!("/photos/{}", encode_path(key))
}

/// Every awkward key: GET twice → 200, exact bytes, miss then hit at the public Squid.
/// Two-tier: the signing Squid saw each key once. HEAD of an uncached key → 200 with the
/// right Content-Length, and S3 logged a HeadObject.
fn awkward_keys_round_trip(layout: Layout) {
    let sb = Sandbox::new(&format!("keys-{}", layout.as_str()));
    let st = Stack::start(&sb, layout, StackOptions::default());
    let keys = awkward_keys();
    assert!(keys.len() >= 15, "corpus too small: {}", keys.len());
    for k in &keys {
        st.s3.put("photos", k, &body_of(k));
    }
    let mut lines = 0;
    for k in &keys {
        for round in 0..2 {
            let r = st.get(&public_path(k));
            assert_eq!(
                r.status,
                200,
                "GET {k:?} round {round}: {}",
                String::from_utf8_lossy(&r.body)
            );
            assert_eq!(r.body, body_of(k), "GET {k:?} round {round}");
        }
        lines += 2;
        let log = st.front.access_n(lines);
        let (first, second) = (&log[lines - 2], &log[lines - 1]);
        assert!(
            !first.hit() && first.status == 200,
            "{k:?}: first {first:?}"
        );
        assert!(
            second.hit() && second.status == 200,
            "{k:?}: second {second:?}"
        );
        assert_eq!(st.s3.count("GetObject", k), 1, "{k:?} reached S3 once");
    }
    if let Some(signer) = &st.signer {
        let seen = signer.access_n(keys.len());
        assert_eq!(
            seen.len(),
            keys.len(),
            "the signing Squid saw each key once: {seen:#?}"
        );
    }
    // HEAD of a key nobody fetched yet.
    let k = "head/only once.txt";
    st.s3.put("photos", k, b"0123456789");
    let r = st.head(&public_path(k));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("10"));
    assert!(r.body.is_empty());
    assert_eq!(st.s3.count("HeadObject", k), 1, "{:?}", st.s3.ops());
}

#[test]
fn awkward_keys_two_tier() {
    awkward_keys_round_trip(Layout::TwoTier);
}

#[test]
fn awkward_keys_single() {
    awkward_keys_round_trip(Layout::Single);
}
