//! Store IDs: one cache key per S3 object, whatever the URL spelling or signature.
//!
//! Format, version 1 (pinned by golden tests; see `docs/store-id.md`):
//!
//! ```text
//! http://s3.squid.internal/v1/<endpoint-id>/<bucket>/<key>[;<name>=<value>]...
//! ```
//!
//! - `<endpoint-id>`: `aws` for AWS endpoints (one bucket namespace), else the endpoint's
//!   lower-case `host[:port]` (port only when not the scheme's default);
//! - `<key>`: the object key, every byte outside `A-Za-z0-9-._~/` as `%XX` (upper-case hex);
//! - allow-listed query parameters that select different bytes (e.g. `versionId`), decoded
//!   and re-encoded the same way, sorted, each as `;name=value`. `;` and `=` never occur
//!   unencoded in a key, so the ID is unambiguous. There is never a `?` (Squid's default
//!   `refresh_pattern` treats URLs with `?` as uncacheable).

use crate::decide::{decide, object_key, Decision, Object};
use crate::endpoint::Addressing;
use crate::pct::{self, Plus};
use crate::route::{Route, RouteTable};
use crate::url::RequestUrl;

/// The store-ID prefix, including the format version.
pub const STORE_ID_PREFIX: &str = "http://s3.squid.internal/v1/";

/// Query parameters that carry a signature, not a choice of bytes: removed before comparing.
pub const SIGNATURE_PARAMS: [&str; 11] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "x-id",
    "AWSAccessKeyId",
    "Signature",
    "Expires",
];

/// The store ID of an object under a route.
pub fn for_object(obj: &Object<'_, '_>) -> String {
    build(obj.route, &obj.key, &obj.params)
}

fn build(route: &Route, key: &str, params: &[&str]) -> String {
    let ep = route.endpoint.id();
    let mut id = String::with_capacity(
        STORE_ID_PREFIX.len() + ep.len() + route.bucket.len() + key.len() * 3 + 2,
    );
    id.push_str(STORE_ID_PREFIX);
    id.push_str(&ep);
    id.push('/');
    id.push_str(&route.bucket);
    id.push('/');
    pct::encode_into(&mut id, key.as_bytes(), true);
    if !params.is_empty() {
        let mut canon: Vec<(Vec<u8>, Vec<u8>)> = params
            .iter()
            .filter_map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                Some((
                    pct::decode(n, Plus::Space).ok()?,
                    pct::decode(v, Plus::Space).ok()?,
                ))
            })
            .collect();
        canon.sort();
        for (n, v) in canon {
            id.push(';');
            pct::encode_into(&mut id, &n, false);
            id.push('=');
            pct::encode_into(&mut id, &v, false);
        }
    }
    id
}

/// The store ID for a URL as the store-id helper sees it (after ICAP and url_rewrite):
/// a public route URL, or an S3 URL of a route's bucket in the route's addressing style,
/// presigned or not. `None` for anything else (the helper answers `ERR`).
pub fn for_url(table: &RouteTable, url: &str) -> Option<String> {
    match decide(table, "GET", url) {
        Decision::Object(obj) => return Some(for_object(&obj)),
        Decision::Refuse(..) => return None,
        Decision::NotOurs => {}
    }
    let parsed = RequestUrl::parse(url).ok()?;
    for route in table.routes() {
        let Some(raw_key) = s3_raw_key(route, &parsed) else {
            continue;
        };
        let key = object_key("", raw_key, Plus::Space).ok()?;
        if !key.starts_with(&route.key_prefix) || key.is_empty() {
            continue;
        }
        let params = s3_params(route, parsed.query)?;
        return Some(build(route, &key, &params));
    }
    None
}

/// The raw key of an S3 URL addressed to `route`'s bucket in its addressing style.
fn s3_raw_key<'u>(route: &Route, url: &RequestUrl<'u>) -> Option<&'u str> {
    let ep = &route.endpoint;
    let path = url.path.strip_prefix('/')?;
    match route.addressing {
        Addressing::Path => {
            if !ep.matches(url.host, url.port) {
                return None;
            }
            path.strip_prefix(route.bucket.as_str())?.strip_prefix('/')
        }
        Addressing::Virtual => {
            let sub = url.host.get(..route.bucket.len())?;
            let rest = url.host.get(route.bucket.len()..)?.strip_prefix('.')?;
            (sub.eq_ignore_ascii_case(&route.bucket) && ep.matches(rest, url.port)).then_some(path)
        }
    }
}

/// The query minus signature parameters; `None` if anything left is not allow-listed.
fn s3_params<'u>(route: &Route, query: Option<&'u str>) -> Option<Vec<&'u str>> {
    let mut out = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let name = pair.split('=').next().unwrap_or("");
        if SIGNATURE_PARAMS.contains(&name) {
            continue;
        }
        if !route.allow_query.iter().any(|a| a == name)
            || out.len() >= crate::limits::MAX_QUERY_PARAMS
        {
            return None;
        }
        out.push(pair);
    }
    Some(out)
}

#[cfg(test)]
mod tests;
