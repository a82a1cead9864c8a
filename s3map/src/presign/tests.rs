//! Presigned URLs compared byte for byte with botocore's `generate_presigned_url`
//! (`s3map/tests/fixtures/presign-vectors.jsonl`, made by `scripts/gen-presign-vectors.py`)
//! for every key of `tests/data/awkward-keys.txt` and `tests/data/signing-keys.txt`.

use super::*;
use crate::endpoint::{Addressing, Endpoint};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Vector {
    key: String,
    method: Method,
    url_unsigned: String,
    region: String,
    creds: Credentials,
    time: SystemTime,
    expires: u64,
    expected: String,
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/presign-vectors.jsonl"))
        .expect("fixture");
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        let s = |k: &str| v[k].as_str().map(str::to_owned);
        let region = s("region").expect("region");
        let endpoint = match s("endpoint") {
            Some(e) => Endpoint::parse(&e).expect("endpoint"),
            None => Endpoint::aws_regional(&region),
        };
        let addressing = match s("addressing").as_deref() {
            Some("path") => Addressing::Path,
            Some("virtual") => Addressing::Virtual,
            other => panic!("addressing {other:?}"),
        };
        let key = s("key").expect("key");
        let method = match s("method").as_deref() {
            Some("GET") => Method::Get,
            Some("HEAD") => Method::Head,
            other => panic!("method {other:?}"),
        };
        out.push(Vector {
            url_unsigned: endpoint.object_url(&s("bucket").expect("bucket"), &key, addressing),
            key,
            method,
            region,
            creds: Credentials::new(
                s("access_key").expect("ak"),
                s("secret_key").expect("sk"),
                s("session_token"),
                None,
                "test",
            ),
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(v["time"].as_u64().expect("time")),
            expires: v["expires"].as_u64().expect("expires"),
            expected: s("url").expect("url"),
        });
    }
    out
}

#[test]
fn matches_botocore_for_every_vector() {
    let vs = vectors();
    assert!(vs.len() >= 500, "fixture has {} vectors", vs.len());
    for v in &vs {
        let got = presign(
            v.method,
            &v.url_unsigned,
            &v.region,
            &v.creds,
            v.time,
            Duration::from_secs(v.expires),
        )
        .expect("presign");
        assert_eq!(got, v.expected, "key {:?} {:?}", v.key, v.method);
    }
}

#[test]
fn fixture_covers_every_corpus_key() {
    let covered: BTreeSet<String> = vectors().into_iter().map(|v| v.key).collect();
    let data = root().join("../tests/data");
    for file in ["awkward-keys.txt", "signing-keys.txt"] {
        let text = std::fs::read_to_string(data.join(file))
            .unwrap_or_else(|e| panic!("{file} must be at {}: {e}", data.display()));
        for key in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            assert!(
                covered.contains(key),
                "{file}: {key:?} has no botocore vector; rerun scripts/gen-presign-vectors.py"
            );
        }
    }
}

#[test]
fn get_and_head_differ_only_in_signature() {
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "t");
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    let url = "http://127.0.0.1:9000/photos/a";
    let get = presign(
        Method::Get,
        url,
        "us-east-1",
        &creds,
        t,
        Duration::from_secs(300),
    )
    .unwrap();
    let head = presign(
        Method::Head,
        url,
        "us-east-1",
        &creds,
        t,
        Duration::from_secs(300),
    )
    .unwrap();
    assert_ne!(get, head);
    let strip = |s: &str| s.split("&X-Amz-Signature=").next().unwrap().to_owned();
    assert_eq!(strip(&get), strip(&head));
}

#[test]
fn secret_never_in_url_or_errors() {
    let creds = Credentials::new(
        "AKIDEXAMPLE",
        "TOPSECRETKEY",
        Some("SESSIONTOK".into()),
        None,
        "t",
    );
    let t = SystemTime::UNIX_EPOCH;
    let url = presign(
        Method::Get,
        "http://h/b/k",
        "us-east-1",
        &creds,
        t,
        Duration::from_secs(1),
    )
    .unwrap();
    assert!(!url.contains("TOPSECRETKEY"));
    assert!(!format!("{creds:?}").contains("TOPSECRETKEY"));
    let err = presign(
        Method::Get,
        "not a url",
        "us-east-1",
        &creds,
        t,
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(!err.to_string().contains("TOPSECRETKEY") && !err.to_string().contains("SESSIONTOK"));
}
