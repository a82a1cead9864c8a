//! Store IDs: one cache key per S3 object, whatever the URL spelling or signature, and
//! never one key for two different answers.
//!
//! Format, version 1 (pinned by golden tests; `docs/mapping.md`, "Store IDs"):
//!
//! ```text
//! http://s3.squid.internal/v1/<endpoint-id>/<bucket>/<key>[;<name>=<value>]...
//! ```
//!
//! - `<endpoint-id>`: `aws` for AWS (one bucket namespace across regions and spellings),
//!   else the configured endpoint's lower-case `host[:port]`;
//! - `<key>`: the object key, every byte outside `A-Za-z0-9-._~/` as `%XX` (upper-case hex);
//! - allow-listed query parameters that select different bytes (e.g. `versionId`), decoded
//!   and re-encoded the same way, sorted, each as `;name=value`. `;` and `=` never occur
//!   unencoded in a key, so the ID is unambiguous. There is never a `?` (Squid's default
//!   `refresh_pattern` treats URLs with `?` as uncacheable).
//!
//! Spellings unified: the route's public URL; AWS path-style and virtual-hosted REST URLs in
//! every form [`crate::s3url`] recognises; a configured endpoint in both addressing styles;
//! http and https; `%7E` and `~`, `%2f` and `%2F`; signed or not (exactly the
//! [`SIGNATURE_PARAMS`] are removed). Any other query parameter either is allow-listed by
//! the route (and stays in the ID) or the URL gets no ID (`ERR`). Buckets not in the route
//! table get no ID.

use crate::decide::{decide_parsed, object_key, Decision, Method, Object};
use crate::endpoint::Addressing;
use crate::pct::{self, Plus};
use crate::presign::SIGV4_QUERY_PARAMS;
use crate::route::{Route, RouteTable};
use crate::s3url::parse_aws;
use crate::url::RequestUrl;

/// The store-ID host.
pub const STORE_ID_HOST: &str = "s3.squid.internal";
/// The store-ID prefix, including the format version.
pub const STORE_ID_PREFIX: &str = "http://s3.squid.internal/v1/";

/// Query parameters that carry a signature, not a choice of bytes: removed before comparing.
/// SigV4's ([`SIGV4_QUERY_PARAMS`]), the `x-id` operation name SDKs add, and SigV2's.
pub const SIGNATURE_PARAMS: [&str; 11] = {
    let v4 = SIGV4_QUERY_PARAMS;
    [
        v4[0],
        v4[1],
        v4[2],
        v4[3],
        v4[4],
        v4[5],
        v4[6],
        "x-id",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
    ]
};

/// `http://s3.squid.internal/v1/<endpoint-id>/<bucket>/`: how the IDs of every object of a
/// route's bucket start.
pub fn bucket_prefix(route: &Route) -> String {
    format!("{STORE_ID_PREFIX}{}/{}/", route.endpoint.id, route.bucket)
}

/// How the IDs of a route's objects start: [`bucket_prefix`], then the route's `key_prefix`
/// encoded as in an ID (`squid-conf` anchors the route's `refresh_pattern` on it).
pub fn route_prefix(route: &Route) -> String {
    bucket_prefix(route) + &pct::encode_path(&route.key_prefix)
}

/// The store ID of an object under a route.
pub fn for_object(obj: &Object<'_, '_>) -> String {
    build(obj.route, &obj.key, &obj.params)
}

fn build(route: &Route, key: &str, params: &[&str]) -> String {
    let ep = &route.endpoint.id;
    let mut id = String::with_capacity(
        STORE_ID_PREFIX.len() + ep.len() + route.bucket.len() + key.len() * 3 + 2,
    );
    id.push_str(STORE_ID_PREFIX);
    id.push_str(ep);
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

/// Where an S3-form URL points: the routes that can own it, the raw key, the raw query.
struct S3Form<'r, 'u> {
    routes: Vec<&'r Route>,
    raw_key: &'u str,
    plus: Plus,
    params: Vec<&'u str>,
}

/// The store ID for a URL as the store-id helper sees it (after ICAP and url_rewrite).
/// `None` for anything that is not an object under a route (the helper answers `ERR`).
pub fn for_url(table: &RouteTable, url: &str) -> Option<String> {
    let parsed = RequestUrl::parse(url).ok()?;
    match decide_parsed(table, Some(Method::Get), &parsed) {
        Decision::Object(obj) => return Some(for_object(&obj)),
        Decision::Refuse(..) | Decision::Redirect(..) => return None,
        Decision::NotOurs => {}
    }
    let form = store_id_form(table, &parsed).or_else(|| s3_form(table, &parsed))?;
    let key = object_key("", form.raw_key, form.plus).ok()?;
    // Every route that can own the key (its key_prefix starts it, and the rest is not the
    // route's root: slashes alone are refused under the public URL), and the parameters it
    // passes. Routes sharing an endpoint and bucket may nest (key_prefix "" and "v/"): the
    // ID does not depend on which of them signed the URL, so any one that allows its
    // parameters gives it.
    form.routes.into_iter().find_map(|route| {
        let relative = key.strip_prefix(route.key_prefix.as_str())?;
        if crate::decide::only_slashes(relative) {
            return None;
        }
        let kept = kept_params(route, &form.params)?;
        Some(build(route, &key, &kept))
    })
}

/// The parameters of an S3 spelling that go into the ID under `route`: all but the
/// signature's, each allowed by the route, none repeated; `None` if that fails.
fn kept_params<'u>(route: &Route, params: &[&'u str]) -> Option<Vec<&'u str>> {
    let mut kept = Vec::new();
    for &pair in params {
        let name = crate::url::param_name(pair);
        if SIGNATURE_PARAMS.contains(&name) {
            continue;
        }
        if !route.allows_param(name) || kept.len() >= crate::limits::MAX_QUERY_PARAMS {
            return None;
        }
        kept.push(pair);
    }
    (!crate::decide::has_repeated_name(&kept)).then_some(kept)
}

fn split_query(q: Option<&str>) -> Vec<&str> {
    let q = q.unwrap_or("");
    let mut out = Vec::with_capacity(8);
    let mut start = 0;
    for i in memchr::memchr_iter(b'&', q.as_bytes()).chain(std::iter::once(q.len())) {
        if i > start {
            out.push(&q[start..i]);
        }
        start = i + 1;
    }
    out
}

/// An S3 URL on AWS or on a configured endpoint, in either addressing style.
fn s3_form<'r, 'u>(table: &'r RouteTable, url: &RequestUrl<'u>) -> Option<S3Form<'r, 'u>> {
    let params = split_query(url.query);
    if let Some(aws) = parse_aws(url) {
        let routes = table
            .routes()
            .iter()
            .filter(|r| r.endpoint.aws && r.bucket == aws.bucket)
            .collect();
        return Some(S3Form {
            routes,
            raw_key: aws.raw_key,
            plus: Plus::Space,
            params,
        });
    }
    let path = url.path.strip_prefix('/')?;
    // Configured endpoints, including AWS ones the spellings above do not cover (a FIPS
    // endpoint, an explicit port): a route's own endpoint always names that route's objects.
    for r in table.routes() {
        let ep = &r.endpoint;
        let raw_key = if ep.matches(url.scheme, url.host, url.port) {
            path.strip_prefix(r.bucket.as_str())
                .and_then(|p| p.strip_prefix('/'))
        } else {
            // A host shorter than this route's bucket is simply not this route's (the next
            // route may still match).
            let sub = url.host.get(..r.bucket.len());
            let rest = url
                .host
                .get(r.bucket.len()..)
                .and_then(|h| h.strip_prefix('.'));
            match (sub, rest) {
                (Some(sub), Some(rest))
                    if sub.eq_ignore_ascii_case(&r.bucket)
                        && ep.matches(url.scheme, rest, url.port) =>
                {
                    Some(path)
                }
                _ => None,
            }
        };
        if let Some(raw_key) = raw_key {
            let id = &ep.id;
            let routes = table
                .routes()
                .iter()
                .filter(|o| &o.endpoint.id == id && o.bucket == r.bucket)
                .collect();
            return Some(S3Form {
                routes,
                raw_key,
                plus: Plus::Space,
                params,
            });
        }
    }
    None
}

/// A store ID itself (so the helper is idempotent): `http://s3.squid.internal/v1/…`.
fn store_id_form<'r, 'u>(table: &'r RouteTable, url: &RequestUrl<'u>) -> Option<S3Form<'r, 'u>> {
    if !url.host_eq(STORE_ID_HOST) || url.query.is_some() || url.port != 80 {
        return None;
    }
    let rest = url.path.strip_prefix("/v1/")?;
    let (ep, rest) = rest.split_once('/')?;
    let (bucket, rest) = rest.split_once('/')?;
    let (raw_key, params) = match rest.split_once(';') {
        Some((k, p)) => (k, p.split(';').collect()),
        None => (rest, Vec::new()),
    };
    let routes = table
        .routes()
        .iter()
        .filter(|r| r.bucket == bucket && r.endpoint.id == ep)
        .collect();
    Some(S3Form {
        routes,
        raw_key,
        plus: Plus::Literal,
        params,
    })
}

/// A route's own S3 spelling, for a store-ID fast path: every URL that starts with
/// [`OwnSpelling::url_prefix`] and has a key (starting with [`OwnSpelling::key_prefix`]) and
/// only [`SIGNATURE_PARAMS`] in its query names an object of that one route, whose ID is
/// [`OwnSpelling::id_prefix`] followed by the canonical key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnSpelling {
    /// `scheme://bucket.host[:port]/` (virtual) or `scheme://host[:port]/bucket/` (path),
    /// lower-case.
    pub url_prefix: String,
    /// `http://s3.squid.internal/v1/<endpoint-id>/<bucket>/`.
    pub id_prefix: String,
    /// The route's `key_prefix`, S3-encoded.
    pub key_prefix: String,
}

/// The routes whose own S3 spelling (in their addressing style and scheme) names them and
/// nothing else: the route is the only one for its endpoint and bucket, no public URL and
/// no other route's S3 spelling in either addressing style can name the same host (hosts
/// compared without ports or schemes: [`for_url`] matches default ports across schemes),
/// no query parameter is allow-listed, and the ID needs no quoting. For any other route,
/// only [`for_url`] knows the answer. A fast path built on these must still check its
/// answers against [`for_url`] (a route table can hold cases this rule does not foresee).
pub fn own_spellings(table: &RouteTable) -> Vec<OwnSpelling> {
    let routes = table.routes();
    let virtual_host = |o: &Route| format!("{}.{}", o.bucket, o.endpoint.host);
    let mut out = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        let shared = routes
            .iter()
            .filter(|o| o.endpoint.id == r.endpoint.id && o.bucket == r.bucket)
            .count()
            > 1;
        let host = match r.addressing {
            Addressing::Virtual => virtual_host(r),
            Addressing::Path => r.endpoint.host.clone(),
        };
        let host_clash = routes.iter().enumerate().any(|(j, o)| {
            o.public.host == host
                || (j != i
                    && (virtual_host(o) == host
                        // o's path-style URLs on this host: every key of a virtual
                        // route's host, or this very bucket.
                        || (o.endpoint.host == host
                            && (r.addressing == Addressing::Virtual || o.bucket == r.bucket))))
        });
        let id_prefix = bucket_prefix(r);
        // Helper replies quote IDs; a prefix that would need escaping (it cannot, with
        // validated endpoints and buckets) is left to the general path.
        let needs_escaping = id_prefix.bytes().any(|b| matches!(b, b'"' | b'\\'));
        if shared || host_clash || needs_escaping || !r.allow_query.is_empty() {
            continue;
        }
        let path_prefix = match r.addressing {
            Addressing::Virtual => "/".to_owned(),
            Addressing::Path => format!("/{}/", r.bucket),
        };
        out.push(OwnSpelling {
            url_prefix: format!(
                "{}://{}{path_prefix}",
                r.endpoint.scheme.as_str(),
                r.s3_authority()
            ),
            id_prefix,
            key_prefix: pct::encode_path(&r.key_prefix),
        });
    }
    out
}

#[cfg(test)]
mod tests;
