//! s3map's public URL → object mapping: the policy decision (`decide`) and the store-ID
//! canonicaliser (`storeid::for_url`) with its fast path (`storeid::FastIndex`).

use s3map::decide::{Decision, Method, Refusal};
use s3map::limits::{MAX_INPUT_URL_BYTES, MAX_KEY_BYTES, MAX_QUERY_PARAMS};
use s3map::storeid::{for_object, for_url, STORE_ID_PREFIX};
use s3map::url::param_name;

use super::{unmeasured, Target, KIB};
use crate::routes::{fast_index, table};

const URL_TOKENS: &[&[u8]] = &[
    b"http://",
    b"https://",
    b"HTTP://",
    b"images.example.com",
    b"IMAGES.EXAMPLE.COM",
    b"/photos/",
    b"/photos/thumbs/",
    b"/aws-photos/",
    b"127.0.0.1:9000",
    b":80",
    b":443",
    b":8443",
    b":0",
    b":65536",
    b"acme.s3.us-east-1.amazonaws.com",
    b"thumbs.s3.eu-west-1.amazonaws.com",
    b"s3.amazonaws.com/thumbs/",
    b"s3-website-us-east-1.amazonaws.com",
    b"s3.dualstack.us-west-2.amazonaws.com",
    b"www.example.com/",
    b"static.example.com:8443/",
    b"minio.local:9000/static-site/",
    b"s3.squid.internal/v1/aws/thumbs/",
    b";versionId=",
    b"?versionId=",
    b"&versionId=",
    b"?X-Amz-Signature=00",
    b"&X-Amz-Credential=AKIA%2F20261126%2Fus-east-1%2Fs3%2Faws4_request",
    b"&x-id=GetObject",
    b"&Signature=",
    b"&acl",
    b"?list-type=2",
    b"old.html",
    b"blog/",
    b"index.html",
    b"@",
    b"#",
    b"[::1]",
    b"+",
    b"%2B",
    b"%7E",
    b"~",
];

/// `storeid::for_url` (the general path) and `FastIndex::write_id_of_first_token` /
/// `write_id` (the fast path) on the input's first token.
///
/// Bound: with u = min(len, [`MAX_INPUT_URL_BYTES`]) (a longer URL is refused before any
/// allocation): the fast path's ID (every byte escaped, ≤ 3 u, ≤ 6 u in its vector), kept
/// while the general path runs: the query's pairs as slices (16 bytes each; a store ID's
/// `;`-separated pairs are collected empty ones included, before any is checked, so up to
/// one per input byte: ≤ 16 u, ≤ 48 u while the vector grows), the decoded key (≤ u) and
/// the ID (≤ 3 u, ≤ 9 u while it grows): 64 u + 8 KiB.
pub const STOREID: Target = Target {
    name: "storeid",
    entry: "s3map::storeid::for_url, s3squid_helpers::storeid::FastIndex::{write_id_of_first_token, write_id}",
    run: storeid,
    bound: |len| 64 * len.min(MAX_INPUT_URL_BYTES) + 8 * KIB,
    accepts: |d| std::str::from_utf8(d).is_ok_and(|u| for_url(table(), u).is_some()),
    tokens: URL_TOKENS,
};

/// The store ID of the input's first token (a helper line is split at its first space).
/// When the fast path answers, it read exactly that token and wrote what the general path
/// does, and `write_id` of the token alone agrees; an ID starts with the store-ID prefix,
/// needs no quoting (no `?`, space, control, non-ASCII, `"` or `\`), and is its own ID
/// (when it is short enough to be read as a URL).
pub fn storeid(data: &[u8]) {
    let url = &data[..data.iter().position(|&b| b == b' ').unwrap_or(data.len())];
    let mut fast_id = Vec::new();
    let fast = fast_index().write_id_of_first_token(data, &mut fast_id);
    let general = std::str::from_utf8(url)
        .ok()
        .and_then(|u| for_url(table(), u));
    unmeasured(|| {
        match fast {
            Some(n) => {
                assert_eq!(n, url.len(), "the fast path read another URL length");
                assert!(
                    general.as_deref().map(str::as_bytes) == Some(&fast_id[..]),
                    "the fast path's ID is not the general path's"
                );
                let mut alone = Vec::new();
                assert!(
                    fast_index().write_id(url, &mut alone) && alone == fast_id,
                    "write_id and write_id_of_first_token disagree"
                );
            }
            None => assert!(fast_id.is_empty(), "the fast path declined but wrote"),
        }
        let Some(id) = &general else { return };
        assert!(id.starts_with(STORE_ID_PREFIX), "an ID without the prefix");
        assert!(
            !id.bytes()
                .any(|b| b == b'?' || b <= b' ' || b >= 0x7f || b == b'"' || b == b'\\'),
            "an ID with a byte that needs quoting"
        );
        // An allow-listed query value is escaped again in the ID (up to 3×), so an ID can
        // be longer than the URLs the mapping reads; those are refused as input.
        if id.len() <= MAX_INPUT_URL_BYTES {
            assert!(
                for_url(table(), id).as_ref() == Some(id),
                "the ID of an ID is not itself"
            );
        }
    });
}

/// The valid UTF-8 start of the input (URLs reach the mapping as `&str`).
pub(super) fn utf8_prefix(data: &[u8]) -> &str {
    match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// `decide::decide` on `METHOD URL` (or a URL alone, as GET).
///
/// Bound: with u = min(len, [`MAX_INPUT_URL_BYTES`]): the decoded key (≤ u, twice while
/// the route's prefix is prepended), the allow-listed pairs (≤ [`MAX_QUERY_PARAMS`]
/// slices), a redirect's `Location` or the object's S3 URL with every byte escaped (≤ 3 u,
/// ≤ 9 u while it grows): 16 u + 8 KiB.
pub const DECIDE: Target = Target {
    name: "decide",
    entry: "s3map::decide::decide + Object::s3_url",
    run: decide,
    bound: |len| 16 * len.min(MAX_INPUT_URL_BYTES) + 8 * KIB,
    accepts: |d| {
        let (method, url) = method_and_url(utf8_prefix(d));
        !matches!(
            s3map::decide::decide(table(), Method::from_token(method), url),
            Decision::NotOurs
        )
    },
    tokens: URL_TOKENS,
};

fn method_and_url(text: &str) -> (&str, &str) {
    text.split_once(' ').unwrap_or(("GET", text))
}

/// Maps a request. An object is asked for with GET or HEAD (and both map it alike), has a
/// key within [`MAX_KEY_BYTES`] under the route's prefix without control characters or
/// `.`/`..` segments, and only allow-listed query parameters (at most
/// [`MAX_QUERY_PARAMS`]); its store ID is the public URL's and its S3 URL's. Any other
/// method under a route is refused as such. A redirect has a redirect status and a
/// `Location` safe to write in a header.
pub fn decide(data: &[u8]) {
    let (method, url) = method_and_url(utf8_prefix(data));
    let decision = s3map::decide::decide(table(), Method::from_token(method), url);
    let s3_url = match &decision {
        Decision::Object(obj) => Some(obj.s3_url()),
        _ => None,
    };
    unmeasured(|| match &decision {
        Decision::Object(obj) => {
            assert!(
                Method::from_token(method) == Some(obj.method),
                "an object for {method}"
            );
            let key = &obj.key;
            assert!(key.len() <= MAX_KEY_BYTES, "a key of {} bytes", key.len());
            assert!(
                key.starts_with(&obj.route.key_prefix),
                "a key outside its route's prefix"
            );
            assert!(
                !key.chars().any(char::is_control),
                "a key with a control character"
            );
            assert!(
                !key.split('/').any(|s| s == "." || s == ".."),
                "a key with a dot segment"
            );
            assert!(
                obj.params.len() <= MAX_QUERY_PARAMS,
                "{} params",
                obj.params.len()
            );
            assert!(
                obj.params
                    .iter()
                    .all(|p| obj.route.allows_param(param_name(p))),
                "a parameter not allow-listed"
            );
            let other = match obj.method {
                Method::Get => Method::Head,
                Method::Head => Method::Get,
            };
            let same = s3map::decide::Object {
                method: other,
                ..obj.clone()
            };
            assert!(
                s3map::decide::decide(table(), Some(other), url) == Decision::Object(same),
                "GET and HEAD map differently"
            );
            let id = for_object(obj);
            assert!(
                for_url(table(), url).as_ref() == Some(&id),
                "the public URL's store ID is not the object's"
            );
            if let Some(s3) = s3_url.as_deref().filter(|u| u.len() <= MAX_INPUT_URL_BYTES) {
                assert!(
                    for_url(table(), s3).as_ref() == Some(&id),
                    "the S3 URL's store ID is not the object's"
                );
            }
        }
        Decision::Refuse(_, why) => {
            let good_method = method == "GET" || method == "HEAD";
            assert_eq!(
                *why == Refusal::Method,
                !good_method,
                "refused {why:?} for {method}"
            );
        }
        Decision::Redirect(_, status, location) => {
            assert!(
                [301, 302, 303, 307, 308].contains(status),
                "redirect status {status}"
            );
            assert!(
                !location.is_empty()
                    && location
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'),
                "a Location unsafe in a header"
            );
        }
        Decision::NotOurs => {}
    });
}
