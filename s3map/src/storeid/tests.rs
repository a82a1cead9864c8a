use super::*;
use crate::decide::tests::table;
use crate::decide::Method;
use crate::presign::presign;
use proptest::prelude::*;
use std::time::{Duration, SystemTime};

fn id(url: &str) -> Option<String> {
    for_url(&table(), url)
}

/// Golden IDs: the v1 format is a contract with every cache that holds objects under it.
#[test]
fn golden_ids() {
    let cases = [
        ("http://images.example.com/photos/plain/hello.txt", "http://s3.squid.internal/v1/127.0.0.1:9000/photos/plain/hello.txt"),
        ("http://images.example.com/photos/with%20space/a%20b.jpg", "http://s3.squid.internal/v1/127.0.0.1:9000/photos/with%20space/a%20b.jpg"),
        ("http://images.example.com/photos/plus+sign/c++%20notes.txt", "http://s3.squid.internal/v1/127.0.0.1:9000/photos/plus%2Bsign/c%2B%2B%20notes.txt"),
        ("http://images.example.com/photos/question/why%3F.txt", "http://s3.squid.internal/v1/127.0.0.1:9000/photos/question/why%3F.txt"),
        ("http://images.example.com/photos/%7Euser/%c3%a9", "http://s3.squid.internal/v1/127.0.0.1:9000/photos/~user/%C3%A9"),
        ("http://images.example.com/photos/thumbs/a.jpg", "http://s3.squid.internal/v1/aws/thumbs/small/a.jpg"),
        ("http://images.example.com/photos/thumbs/a.jpg?versionId=v%2F1", "http://s3.squid.internal/v1/aws/thumbs/small/a.jpg;versionId=v%2F1"),
        ("https://static.example.com:8443/css/site.css", "http://s3.squid.internal/v1/minio.local:9000/static-site/css/site.css"),
        // S3 forms in each route's addressing style, signed or not.
        ("http://127.0.0.1:9000/photos/plus%2Bsign/c%2B%2B%20notes.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00", "http://s3.squid.internal/v1/127.0.0.1:9000/photos/plus%2Bsign/c%2B%2B%20notes.txt"),
        ("https://thumbs.s3.eu-west-1.amazonaws.com/small/a.jpg?versionId=v%2F1&X-Amz-Date=1", "http://s3.squid.internal/v1/aws/thumbs/small/a.jpg;versionId=v%2F1"),
        ("http://minio.local:9000/static-site/css/site.css", "http://s3.squid.internal/v1/minio.local:9000/static-site/css/site.css"),
    ];
    for (url, want) in cases {
        assert_eq!(id(url).as_deref(), Some(want), "{url}");
        assert!(!want.contains('?'));
    }
}

#[test]
fn err_for_everything_else() {
    for url in [
        "http://images.example.com/photos/",
        "http://images.example.com/photos/a?acl",
        "http://images.example.com/other/a",
        "http://127.0.0.1:9000/photos/",
        "http://127.0.0.1:9000/photos/a?list-type=2",
        "http://127.0.0.1:9000/other-bucket/a",
        "http://127.0.0.1:9001/photos/a",
        "https://thumbs.s3.eu-west-1.amazonaws.com/big/a.jpg",
        "https://thumbs.s3.eu-west-1.amazonaws.com/small/a.jpg?acl",
        "http://127.0.0.1:9000/photos/a%zz",
        "http://127.0.0.1:9000/photos/a/../b",
        "host:443",
        "",
    ] {
        assert_eq!(id(url), None, "{url}");
    }
}

fn presigned(obj_url: &str, region: &str, method: Method) -> String {
    let creds =
        crate::Credentials::new("AKIDEXAMPLE", "secret", Some("tok/en+=".into()), None, "t");
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    presign(method, obj_url, region, &creds, t, Duration::from_secs(300)).unwrap()
}

fn url_strategy() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "http://images.example.com/photos/",
        "http://IMAGES.example.com:80/photos/thumbs/",
        "https://static.example.com:8443/",
        "http://images.example.com/",
        "http://127.0.0.1:9000/photos/",
    ]);
    let piece = prop::sample::select(vec![
        "a",
        "b",
        "/",
        "//",
        ".",
        "..",
        "%",
        "%2",
        "%25",
        "%41",
        "%2e",
        "%2F",
        "%20",
        "+",
        " ",
        "~",
        "%7e",
        "%C3%A9",
        "é",
        "%FF",
        "%00",
        "?",
        "#",
        ";",
        "=",
        "&",
        "x=1",
        "versionId=2",
        "acl",
    ]);
    (prefix, prop::collection::vec(piece, 0..12))
        .prop_map(|(p, parts)| format!("{p}{}", parts.concat()))
}

proptest! {
    /// The signer's decision and the store-id helper agree on arbitrary URLs: an object gets
    /// one ID for its public URL, its S3 URL and its presigned GET and HEAD URLs; anything
    /// the signer refuses or leaves alone gets no ID from the public spelling.
    #[test]
    fn signer_and_helper_agree(url in url_strategy()) {
        let t = table();
        match decide(&t, "GET", &url) {
            Decision::Object(obj) => {
                let want = for_object(&obj);
                prop_assert_eq!(for_url(&t, &url), Some(want.clone()));
                let mut s3 = obj.route.object_url(&obj.key);
                if !obj.params.is_empty() {
                    s3.push('?');
                    s3.push_str(&obj.params.join("&"));
                }
                prop_assert_eq!(for_url(&t, &s3), Some(want.clone()));
                for m in [Method::Get, Method::Head] {
                    let signed = presigned(&s3, &obj.route.region, m);
                    prop_assert_eq!(for_url(&t, &signed), Some(want.clone()));
                }
                prop_assert!(!want.contains('?'));
            }
            Decision::Refuse(..) => prop_assert_eq!(for_url(&t, &url), None),
            Decision::NotOurs => {
                // Only an S3 spelling of a routed object may still have an ID.
                if let Some(found) = for_url(&t, &url) {
                    prop_assert!(url.starts_with("http://127.0.0.1:9000/photos/"), "{} -> {}", url, found);
                }
            }
        }
    }

    /// Distinct keys never share an ID.
    #[test]
    fn distinct_keys_distinct_ids(a in "[a-z%+ ~./]{1,8}", b in "[a-z%+ ~./]{1,8}") {
        let t = table();
        let ua = format!("http://images.example.com/photos/{}", crate::pct::encode_path(&a));
        let ub = format!("http://images.example.com/photos/{}", crate::pct::encode_path(&b));
        if let (Some(ia), Some(ib)) = (for_url(&t, &ua), for_url(&t, &ub)) {
            prop_assert_eq!(a == b, ia == ib);
        }
    }
}
