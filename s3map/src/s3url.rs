//! S3 REST URLs recognised as a whole: which endpoint, which bucket, which raw key.
//!
//! AWS spellings (`*.amazonaws.com`) are recognised without the route table; a
//! configured endpoint (S3-compatible, or an AWS one these spellings do not cover, such as
//! FIPS) is matched by [`crate::storeid`] against the routes.
//!
//! | form | example |
//! |---|---|
//! | path, global | `s3.amazonaws.com/bucket/key`, `s3-external-1.amazonaws.com/bucket/key` |
//! | path, regional | `s3.eu-west-1.amazonaws.com/bucket/key` |
//! | path, legacy dash | `s3-eu-west-1.amazonaws.com/bucket/key` |
//! | path, dualstack | `s3.dualstack.eu-west-1.amazonaws.com/bucket/key` |
//! | virtual | `bucket.` + any of the hosts above, `/key` |
//!
//! Never recognised (different services, different answers for the same name): website
//! endpoints (`s3-website-…`, `s3-website.…`), access points (`…s3-accesspoint…`), Object
//! Lambda (`…s3-object-lambda…`), Transfer Acceleration (`s3-accelerate…`), FIPS and
//! control endpoints, and anything else under `amazonaws.com` (unless it is a route's
//! configured endpoint).

use crate::url::RequestUrl;

/// An S3 object URL on AWS, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsObject<'u> {
    /// The bucket (from the host or the first path segment).
    pub bucket: &'u str,
    /// The raw (still percent-encoded) key, possibly empty (the bucket root).
    pub raw_key: &'u str,
}

/// Whether a label is an AWS region name (`us-east-1`, `us-gov-west-1`, `ap-southeast-2`).
pub fn is_region(label: &str) -> bool {
    // `xx-name-N`, `xx-name-name-N`: two lower-case letters, one or more words of
    // [a-z0-9], a final all-digit word; at least three parts.
    let mut parts = label.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_lowercase()));
    let mut count = 1;
    let mut last_digits = false;
    for p in parts {
        if p.is_empty()
            || !p
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return false;
        }
        last_digits = p.bytes().all(|b| b.is_ascii_digit());
        count += 1;
    }
    first_ok && count >= 3 && last_digits
}

/// How many labels the S3 REST endpoint takes at the end of `base` (the host minus
/// `.amazonaws.com`), if it ends with one; `last` holds its last three labels, rightmost
/// first.
fn endpoint_labels(last: [Option<&str>; 3]) -> Option<usize> {
    match last {
        [Some(r), Some("dualstack"), Some("s3")] if is_region(r) => Some(3),
        [Some(r), Some("s3"), _] if is_region(r) => Some(2),
        [Some("s3" | "s3-external-1"), ..] => Some(1),
        [Some(l), ..] => l.strip_prefix("s3-").filter(|r| is_region(r)).map(|_| 1),
        [None, ..] => None,
    }
}

/// Recognises an AWS S3 REST object URL (any of the unified forms).
pub fn parse_aws<'u>(url: &RequestUrl<'u>) -> Option<AwsObject<'u>> {
    let host = url.host;
    let base = host.strip_suffix(".amazonaws.com")?;
    if host.bytes().any(|b| b.is_ascii_uppercase()) || url.port != url.scheme.default_port() {
        return None;
    }
    let mut labels = base.rsplit('.');
    let last = [labels.next(), labels.next(), labels.next()];
    let n = endpoint_labels(last)?;
    // Bytes the endpoint labels take at the end of `base`, with their dots.
    let endpoint_len: usize = last
        .iter()
        .take(n)
        .map(|l| l.map_or(0, str::len) + 1)
        .sum::<usize>()
        - 1;
    let path = url.path.strip_prefix('/')?;
    if endpoint_len == base.len() {
        let (bucket, raw_key) = path.split_once('/').unwrap_or((path, ""));
        (!bucket.is_empty()).then_some(AwsObject { bucket, raw_key })
    } else {
        // The bucket is the host's first labels, before the dot that precedes the endpoint.
        let bucket = base.get(..base.len() - endpoint_len)?.strip_suffix('.')?;
        (!bucket.is_empty()).then_some(AwsObject {
            bucket,
            raw_key: path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(u: &str) -> Option<(String, String)> {
        let url = RequestUrl::parse(u).ok()?;
        parse_aws(&url).map(|o| (o.bucket.to_owned(), o.raw_key.to_owned()))
    }

    #[test]
    fn unified_forms() {
        let want = Some(("photos".to_owned(), "a/b%20c".to_owned()));
        for u in [
            "https://s3.amazonaws.com/photos/a/b%20c",
            "http://s3.amazonaws.com/photos/a/b%20c",
            "https://s3.eu-west-1.amazonaws.com/photos/a/b%20c",
            "https://s3-eu-west-1.amazonaws.com/photos/a/b%20c",
            "https://s3-external-1.amazonaws.com/photos/a/b%20c",
            "https://s3.dualstack.us-gov-west-1.amazonaws.com/photos/a/b%20c",
            "https://photos.s3.amazonaws.com/a/b%20c",
            "https://photos.s3.eu-west-1.amazonaws.com/a/b%20c?X-Amz-Date=1",
            "https://photos.s3-eu-west-1.amazonaws.com/a/b%20c",
            "https://photos.s3.dualstack.ap-southeast-2.amazonaws.com/a/b%20c",
            "https://photos.s3.amazonaws.com:443/a/b%20c",
        ] {
            assert_eq!(p(u), want, "{u}");
        }
        assert_eq!(
            p("https://my.dotted.bucket.s3.us-east-1.amazonaws.com/k")
                .unwrap()
                .0,
            "my.dotted.bucket"
        );
        assert_eq!(
            p("https://s3.us-east-1.amazonaws.com/photos").unwrap(),
            ("photos".into(), "".into())
        );
    }

    #[test]
    fn never_unified() {
        for u in [
            "http://photos.s3-website-us-east-1.amazonaws.com/k",
            "http://photos.s3-website.eu-west-1.amazonaws.com/k",
            "https://ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com/k",
            "https://ol-123.s3-object-lambda.us-east-1.amazonaws.com/k",
            "https://photos.s3-accelerate.amazonaws.com/k",
            "https://photos.s3-accelerate.dualstack.amazonaws.com/k",
            "https://photos.s3-fips.us-east-1.amazonaws.com/k",
            "https://123456789012.s3-control.us-east-1.amazonaws.com/k",
            "https://ec2.us-east-1.amazonaws.com/k",
            "https://amazonaws.com/photos/k",
            "https://s3.amazonaws.com/",
            "https://photos.s3.amazonaws.com:8443/k",
            "https://PHOTOS.s3.amazonaws.com/k",
            "https://photos.s3.amazonaws.com.evil.example/k",
        ] {
            assert_eq!(p(u), None, "{u}");
        }
    }

    #[test]
    fn regions() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
            "il-central-1",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in [
            "website-us-east-1",
            "dualstack",
            "us-east",
            "accesspoint",
            "1-us-east",
            "US-EAST-1",
            "external-1",
        ] {
            assert!(!is_region(r), "{r}");
        }
    }
}
