//! The mapping and policy every program shares: from a request (method, absolute URL) to
//! "not ours", "refused" or "this S3 object".
//!
//! Rules (see `docs/mapping.md`):
//! - route on the request-line URL: scheme, host (any case), port (default elided), raw path;
//!   the longest `public` prefix at a `/` boundary wins;
//! - the rest of the path is percent-decoded exactly once (`+` stays `+`) and appended to the
//!   route's `key_prefix`;
//! - refused, as an HTTP error the client reads: methods other than GET/HEAD (405); a query
//!   parameter the route does not allow-list (403); the bucket root (403); bad escapes,
//!   control characters, non-UTF-8 keys, `.`/`..` segments, keys over 1024 bytes (400).

use crate::limits::{MAX_KEY_BYTES, MAX_QUERY_PARAMS};
use crate::pct::{self, Plus};
use crate::route::{Lookup, Route, RouteTable};
use crate::url::RequestUrl;

/// The host of the URL s3squid-rewrite rewrites a refused request to
/// (`http://refused.s3squid.invalid/STATUS`: `.invalid` never resolves, RFC 2606); every
/// Squid that runs the rewriter denies this host in `adapted_http_access`, so S3 never sees
/// the request. `s3squid squid-conf` writes that ACL from this same constant.
pub const REFUSED_HOST: &str = "refused.s3squid.invalid";

/// The HTTP methods s3squid forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
}

impl Method {
    /// The method a request-line token names, if s3squid forwards it: exactly `GET` or
    /// `HEAD` (method tokens are case-sensitive, RFC 9110 §9.1). `None` for any other token,
    /// which [`decide`] refuses with 405 under a route.
    pub fn from_token(token: &str) -> Option<Method> {
        match token {
            "GET" => Some(Method::Get),
            "HEAD" => Some(Method::Head),
            _ => None,
        }
    }

    /// `"GET"` or `"HEAD"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
        }
    }
}

/// Why a request under a route is refused. Each maps to one HTTP status
/// ([`Refusal::status`]); S3 never sees a refused request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A method other than GET or HEAD → 405.
    Method,
    /// A query parameter the route does not allow-list → 403.
    Query,
    /// The bucket root (a listing) → 403.
    BucketRoot,
    /// A `%` not followed by two hex digits → 400.
    BadEscape,
    /// A control character in the key → 400.
    ControlChar,
    /// A key that is not UTF-8 → 400.
    NotUtf8,
    /// A `.` or `..` path segment → 400.
    DotSegment,
    /// A key over [`MAX_KEY_BYTES`] → 400.
    KeyTooLong,
    /// The adapted URL would exceed Squid's URL limit → 400.
    UrlTooLong,
    /// The request head cannot be read as HTTP (bytes Squid passed on but an HTTP parser
    /// refuses: a raw non-ASCII target, a DEL in a header value, too many header fields, an
    /// unknown version) → 400. Only the signer sees whole heads; [`decide`] never returns it.
    Unreadable,
    /// The request head is larger than the signer reads → 431.
    HeadTooLarge,
    /// A redirect's wildcard tail would make the `Location` leave the site (`//host/…`)
    /// → 400.
    OffSite,
}

impl Refusal {
    /// Every refusal, in a fixed order (metrics index by it).
    pub const ALL: [Refusal; 12] = [
        Refusal::Method,
        Refusal::Query,
        Refusal::BucketRoot,
        Refusal::BadEscape,
        Refusal::ControlChar,
        Refusal::NotUtf8,
        Refusal::DotSegment,
        Refusal::KeyTooLong,
        Refusal::UrlTooLong,
        Refusal::Unreadable,
        Refusal::HeadTooLarge,
        Refusal::OffSite,
    ];

    /// Its position in [`Refusal::ALL`] (declaration order; pinned by a test).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The HTTP status the client gets.
    pub fn status(self) -> u16 {
        match self {
            Refusal::Method => 405,
            Refusal::Query | Refusal::BucketRoot => 403,
            Refusal::BadEscape
            | Refusal::ControlChar
            | Refusal::NotUtf8
            | Refusal::DotSegment
            | Refusal::KeyTooLong
            | Refusal::UrlTooLong
            | Refusal::Unreadable
            | Refusal::OffSite => 400,
            Refusal::HeadTooLarge => 431,
        }
    }

    /// A short stable name, for logs and metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Method => "method",
            Refusal::Query => "query",
            Refusal::BucketRoot => "bucket_root",
            Refusal::BadEscape => "bad_escape",
            Refusal::ControlChar => "control_char",
            Refusal::NotUtf8 => "not_utf8",
            Refusal::DotSegment => "dot_segment",
            Refusal::KeyTooLong => "key_too_long",
            Refusal::UrlTooLong => "url_too_long",
            Refusal::Unreadable => "unreadable",
            Refusal::HeadTooLarge => "head_too_large",
            Refusal::OffSite => "off_site",
        }
    }

    /// The sentence shown to the client.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Method => "Only GET and HEAD are served here.",
            Refusal::Query => "Query parameters are not accepted here.",
            Refusal::BucketRoot => "Listing is not allowed.",
            Refusal::BadEscape => "The URL has an invalid %-escape.",
            Refusal::ControlChar => "The URL names a key with a control character.",
            Refusal::NotUtf8 => "The URL names a key that is not UTF-8.",
            Refusal::DotSegment => "The URL has a . or .. path segment.",
            Refusal::KeyTooLong => "The key is longer than 1024 bytes.",
            Refusal::UrlTooLong => "The resulting URL is too long.",
            Refusal::Unreadable => "The request could not be read as HTTP.",
            Refusal::HeadTooLarge => "The request header is too large.",
            Refusal::OffSite => "The redirect would leave this site.",
        }
    }
}

/// An S3 object under a route, with the allow-listed query parameters (raw, in URL order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<'r, 'u> {
    /// The route.
    pub route: &'r Route,
    /// The method to send S3 (the request's).
    pub method: Method,
    /// The full key (key_prefix + decoded rest), valid UTF-8.
    pub key: String,
    /// Allow-listed query parameters, raw `name=value` pairs.
    pub params: Vec<&'u str>,
}

impl Object<'_, '_> {
    /// The unsigned S3 URL of the object in its route's addressing style, with the
    /// allow-listed query parameters.
    pub fn s3_url(&self) -> String {
        let mut url = self.route.object_url(&self.key);
        if !self.params.is_empty() {
            url.push('?');
            url.push_str(&self.params.join("&"));
        }
        url
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'r, 'u> {
    /// Not under any route (or not an http(s) URL): leave it alone.
    NotOurs,
    /// Under a route but refused.
    Refuse(&'r Route, Refusal),
    /// Under a route: this object.
    Object(Object<'r, 'u>),
    /// Under a route: answer with a redirect (status, `Location`), S3 is not asked.
    Redirect(&'r Route, u16, String),
}

/// Applies the route table and policy to a request: `method` is the request's, recognised
/// by [`Method::from_token`] (`None`: a method s3squid does not forward).
pub fn decide<'r, 'u>(
    table: &'r RouteTable,
    method: Option<Method>,
    url: &'u str,
) -> Decision<'r, 'u> {
    match RequestUrl::parse(url) {
        Ok(parsed) => decide_parsed(table, method, &parsed),
        Err(_) => Decision::NotOurs,
    }
}

/// [`decide`] for a URL already split.
pub fn decide_parsed<'r, 'u>(
    table: &'r RouteTable,
    method: Option<Method>,
    parsed: &RequestUrl<'u>,
) -> Decision<'r, 'u> {
    let (route, rest) = match table.lookup(parsed) {
        Lookup::None => return Decision::NotOurs,
        Lookup::Root(r) => (r, None),
        Lookup::Under(r, rest) => (r, Some(rest)),
    };
    let refuse = |why| Decision::Refuse(route, why);
    let Some(method) = method else {
        return refuse(Refusal::Method);
    };
    let params = match allowed_params(route, parsed.query) {
        Ok(p) => p,
        Err(why) => return refuse(why),
    };
    // The route-relative key, decoded once and checked.
    let mut relative = match object_key("", rest.unwrap_or(""), Plus::Literal) {
        Ok(k) => k,
        Err(why) => return refuse(why),
    };
    match route
        .redirects
        .iter()
        .find_map(|r| Some((r.status, r.apply(&relative)?)))
    {
        Some((status, Ok(location))) => return Decision::Redirect(route, status, location),
        Some((_, Err(why))) => return refuse(why),
        None => {}
    }
    if !relative.is_empty() && only_slashes(&relative) {
        return refuse(Refusal::BucketRoot);
    }
    if relative.is_empty() || relative.ends_with('/') {
        match &route.index {
            Some(index) => relative.push_str(index),
            None if relative.is_empty() => return refuse(Refusal::BucketRoot),
            None => {}
        }
    }
    if route.key_prefix.len() + relative.len() > MAX_KEY_BYTES {
        return refuse(Refusal::KeyTooLong);
    }
    let key = format!("{}{relative}", route.key_prefix);
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return refuse(Refusal::DotSegment);
    }
    Decision::Object(Object {
        route,
        method,
        key,
        params,
    })
}

/// Whether a route-relative key is empty or nothing but `/` (`/photos//` is key `/`): the
/// route's root. S3 keeps empty path segments, so `a//b.jpg` is an object of its own and
/// the route serves it; but a key of slashes alone names the bucket root to every store
/// that merges slashes (`GET /bucket//` read as `GET /bucket/`, a listing), so it is
/// refused as the root is, index document or not (docs/mapping.md).
pub fn only_slashes(key: &str) -> bool {
    key.bytes().all(|b| b == b'/')
}

/// Checks a raw query against the route's allow-list; returns the allowed pairs.
fn allowed_params<'u>(route: &Route, query: Option<&'u str>) -> Result<Vec<&'u str>, Refusal> {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<&str> = Vec::new();
    for pair in q.split('&') {
        if out.len() >= MAX_QUERY_PARAMS {
            return Err(Refusal::Query);
        }
        let name = crate::url::param_name(pair);
        if !route.allows_param(name) {
            return Err(Refusal::Query);
        }
        check_param_value(pair)?;
        out.push(pair);
    }
    if has_repeated_name(&out) {
        return Err(Refusal::Query);
    }
    Ok(out)
}

/// An allow-listed parameter's value, as S3 reads it (decoded once, `+` a space): its
/// escapes valid and no control character in it, as for keys (`%0d%0a` would be signed and
/// forwarded otherwise).
fn check_param_value(pair: &str) -> Result<(), Refusal> {
    let value = pair.split_once('=').map_or("", |(_, v)| v);
    let decoded = pct::decode(value, Plus::Space).map_err(|_| Refusal::BadEscape)?;
    let control = match std::str::from_utf8(&decoded) {
        Ok(s) => has_control(s),
        Err(_) => decoded.iter().any(|&b| b < 0x20 || b == 0x7f),
    };
    if control {
        return Err(Refusal::ControlChar);
    }
    Ok(())
}

/// Whether two raw `name=value` pairs name the same parameter (decoded). A repeated
/// parameter is refused: the store ID sorts pairs, so `?v=A&v=B` and `?v=B&v=A` would be one
/// cache key for what a store reading the first (or the last) occurrence serves as two.
pub fn has_repeated_name(pairs: &[&str]) -> bool {
    // Nothing to decode or allocate for what almost every request has: none or one.
    if pairs.len() < 2 {
        return false;
    }
    let mut names: Vec<Vec<u8>> = pairs
        .iter()
        .map(|p| {
            let raw = crate::url::param_name(p);
            pct::decode(raw, Plus::Space).unwrap_or_else(|_| raw.as_bytes().to_vec())
        })
        .collect();
    names.sort();
    names.windows(2).any(|w| w[0] == w[1])
}

/// `key_prefix` + the once-decoded raw `rest`, checked: valid escapes, UTF-8, no control
/// characters, no `.`/`..` segment, at most [`MAX_KEY_BYTES`].
pub fn object_key(key_prefix: &str, rest: &str, plus: Plus) -> Result<String, Refusal> {
    let decoded = pct::decode(rest, plus).map_err(|_| Refusal::BadEscape)?;
    let decoded = String::from_utf8(decoded).map_err(|_| Refusal::NotUtf8)?;
    if has_control(&decoded) {
        return Err(Refusal::ControlChar);
    }
    if key_prefix.len() + decoded.len() > MAX_KEY_BYTES {
        return Err(Refusal::KeyTooLong);
    }
    let mut key = String::with_capacity(key_prefix.len() + decoded.len());
    key.push_str(key_prefix);
    key.push_str(&decoded);
    if has_dot_segment(&key) {
        return Err(Refusal::DotSegment);
    }
    Ok(key)
}

/// C0, DEL and C1 controls: S3 would store them, but no URL or log should carry them.
pub fn has_control(s: &str) -> bool {
    // ASCII fast path over all bytes (vectorises), then chars only when non-ASCII is present.
    let ascii_control = s
        .bytes()
        .fold(false, |acc, b| acc | (b < 0x20) | (b == 0x7f));
    ascii_control || (!s.is_ascii() && s.chars().any(char::is_control))
}

/// Whether a key has a `.` or `..` path segment (S3 keeps them literally; s3squid refuses
/// them).
fn has_dot_segment(key: &str) -> bool {
    has_dot_segment_bytes(key.as_bytes())
}

/// [`has_dot_segment`] of a key's bytes (escaped or not: `.` and `/` are never escaped in
/// a canonical key).
pub fn has_dot_segment_bytes(b: &[u8]) -> bool {
    memchr::memchr_iter(b'.', b).any(|i| {
        let starts = i == 0 || b[i - 1] == b'/';
        let ends_at = |j: usize| j == b.len() || b[j] == b'/';
        starts && (ends_at(i + 1) || (b.get(i + 1) == Some(&b'.') && ends_at(i + 2)))
    })
}

#[cfg(test)]
pub(crate) mod tests;
