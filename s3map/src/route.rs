//! Routes: a public URL prefix served from one S3 bucket (and key prefix).

use crate::endpoint::{self, Addressing, Endpoint};
use crate::url::{RequestUrl, Scheme};

/// How requests under a route reach S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Presigned with SigV4 in the query by `s3squid-icap`.
    SigV4,
    /// Sent unsigned (public buckets, stores that trust the proxy).
    None,
}

/// A normalised public prefix: scheme, lower-case host, effective port and a raw path that
/// starts and ends with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicPrefix {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Lower-case host.
    pub host: String,
    /// Effective port.
    pub port: u16,
    /// Raw path, `/`-terminated.
    pub path: String,
}

impl PublicPrefix {
    /// Parses and normalises a `public = "…"` value.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let url =
            RequestUrl::parse(s).map_err(|_| "not an http:// or https:// URL with a valid host")?;
        if url.query.is_some() {
            return Err("a public prefix cannot have a query");
        }
        if !url
            .path
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
        {
            return Err("the path must be written percent-encoded, as it appears on the wire");
        }
        if crate::pct::decode(url.path, crate::pct::Plus::Literal).is_err() {
            return Err("the path has an invalid %-escape");
        }
        let mut path = url.path.to_owned();
        if !path.ends_with('/') {
            path.push('/');
        }
        Ok(PublicPrefix {
            scheme: url.scheme,
            host: url.host.to_ascii_lowercase(),
            port: url.port,
            path,
        })
    }

    /// `host` or `host:port` when the port is not the default.
    pub fn authority(&self) -> String {
        endpoint::authority(&self.host, self.port, self.scheme)
    }
}

impl std::fmt::Display for PublicPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.path
        )
    }
}

/// One `[[route]]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Unique name (logs, metrics).
    pub name: String,
    /// The public prefix it serves.
    pub public: PublicPrefix,
    /// The S3 bucket.
    pub bucket: String,
    /// Prepended to the decoded rest of the public path.
    pub key_prefix: String,
    /// SigV4 region.
    pub region: String,
    /// Where the bucket lives.
    pub endpoint: Endpoint,
    /// How the bucket appears in S3 URLs.
    pub addressing: Addressing,
    /// Signed or not.
    pub auth: Auth,
    /// Query parameter names passed to S3 (empty by default: any query is refused).
    pub allow_query: Vec<String>,
    /// Index document: a URL ending in `/` (or the route's root) maps to this key there.
    pub index: Option<String>,
    /// Redirects answered without asking S3, checked in file order.
    pub redirects: Vec<Redirect>,
    /// The per-route switch (`signing = "on" | "off"`, default on). Off: s3squid-icap
    /// (ICAP 204) and s3squid-rewrite (`ERR`) leave the route's objects unchanged, whatever
    /// its `auth`: cached copies are served through the store ID, misses fail with a 5xx,
    /// S3 is not asked. Refusals and redirects still apply.
    pub signing: bool,
    /// A key s3squid-icap sends a signed HEAD for, periodically, to check that S3 is
    /// reachable, accepts the signature, and agrees on the time (`probe_key`, none by
    /// default).
    pub probe_key: Option<String>,
    /// How long the route's objects stay fresh in Squid's cache and how long a stale copy
    /// may be served while S3 fails (`fresh`, `max_stale`). Squid applies it through the
    /// `refresh_pattern` lines `s3squid squid-conf` renders; the programs do not use it.
    pub freshness: Freshness,
}

/// A route's freshness (`fresh`, `max_stale`): rendered by `s3squid squid-conf` as a
/// `refresh_pattern` anchored on the route's prefix (docs/configuration.md, "Freshness").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Freshness {
    /// `fresh`: minutes an object without its own `Cache-Control`/`Expires` stays fresh
    /// after it was fetched (`refresh_pattern` counts in whole minutes). `None`: Squid's
    /// heuristic, 20% of the object's age when fetched, at most a week.
    pub fresh_minutes: Option<u32>,
    /// `max_stale`: seconds a stale copy may still be served when its refresh fails, counted
    /// from the end of its freshness. `None`: a week ([`DEFAULT_MAX_STALE_SECS`]).
    pub max_stale_secs: Option<u32>,
}

/// `max_stale` when a route names none: a week, Squid's own default.
pub const DEFAULT_MAX_STALE_SECS: u32 = 7 * 24 * 3600;
/// The longest `max_stale`: a year.
pub const MAX_FRESHNESS_SECS: u32 = 365 * 24 * 3600;
/// The longest `fresh`: 200 days. Its `refresh_pattern` percentage (seconds × 100) must fit
/// the `int` Squid reads it into (`docs/configuration.md`, "Freshness").
pub const MAX_FRESH_SECS: u32 = 200 * 24 * 3600;

impl Freshness {
    /// `max_stale` in seconds, the default filled in.
    pub fn max_stale_secs(&self) -> u32 {
        self.max_stale_secs.unwrap_or(DEFAULT_MAX_STALE_SECS)
    }
}

/// Parses a duration of `fresh`/`max_stale`: `0`, or a whole number followed by `s`, `m`,
/// `h`, `d` or `w` (`90s`, `30m`, `12h`, `7d`, `1w`), without leading zeros, at most
/// [`MAX_FRESHNESS_SECS`].
pub fn parse_duration_secs(s: &str) -> Result<u32, &'static str> {
    const WHY: &str = "must be 0 or a whole number with s, m, h, d or w (e.g. \"30m\", \"7d\")";
    if s == "0" {
        return Ok(0);
    }
    if !s.is_ascii() {
        return Err(WHY);
    }
    let unit_at = s.len().checked_sub(1).ok_or(WHY)?;
    let (num, unit) = s.split_at(unit_at);
    if num.is_empty()
        || num.len() > 9
        || num.starts_with('0')
        || !num.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(WHY);
    }
    let n: u64 = num.parse().map_err(|_| WHY)?;
    let per: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(WHY),
    };
    let secs = n * per;
    if secs > u64::from(MAX_FRESHNESS_SECS) {
        return Err("is longer than a year (Squid caps freshness there)");
    }
    Ok(secs as u32)
}

/// A redirect of a route: `from` is a key relative to the route (decoded), exact, or a
/// prefix when it ends with `*`; `to` is an absolute URL or an absolute path, where a
/// trailing `*` takes what the `*` of `from` matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// What it matches.
    pub from: String,
    /// Where it sends the client.
    pub to: String,
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
}

impl Redirect {
    /// The `Location` for a decoded route-relative path, if this redirect matches it:
    /// `Some(Err(Refusal::OffSite))` when the matched tail, put after `to`'s `/`, would make
    /// a `//` or `/\` (a scheme-relative URL that leaves the site: `//evil.example/x`).
    /// `to`'s wildcard always follows a path `/` (the config checks), so the tail can never
    /// change the scheme, host or port.
    pub fn apply(&self, rest: &str) -> Option<Result<String, crate::decide::Refusal>> {
        match self.from.strip_suffix('*') {
            None => (self.from == rest).then(|| Ok(self.to.clone())),
            Some(prefix) => {
                let tail = rest.strip_prefix(prefix)?;
                Some(match self.to.strip_suffix('*') {
                    Some(_) if tail.starts_with(['/', '\\']) => {
                        Err(crate::decide::Refusal::OffSite)
                    }
                    Some(to) => Ok(format!("{to}{}", crate::pct::encode_path(tail))),
                    None => Ok(self.to.clone()),
                })
            }
        }
    }
}

impl Route {
    /// The unsigned S3 URL of `key` in this route's addressing style.
    pub fn object_url(&self, key: &str) -> String {
        self.endpoint.object_url(&self.bucket, key, self.addressing)
    }

    /// Whether a raw (still percent-encoded) query parameter name is allow-listed.
    pub fn allows_param(&self, raw_name: &str) -> bool {
        match crate::pct::decode(raw_name, crate::pct::Plus::Space) {
            Ok(name) => self.allow_query.iter().any(|a| a.as_bytes() == name),
            Err(_) => false,
        }
    }

    /// The authority of this route's S3 URLs (`bucket.host` when virtual-hosted), as Squid
    /// will send it in `Host:`.
    pub fn s3_authority(&self) -> String {
        match self.addressing {
            Addressing::Path => self.endpoint.authority(),
            Addressing::Virtual => format!("{}.{}", self.bucket, self.endpoint.authority()),
        }
    }
}

/// Where a URL falls among the routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'r, 'u> {
    /// Under a route: the raw path after the prefix (non-empty).
    Under(&'r Route, &'u str),
    /// Exactly a route's prefix (with or without its trailing `/`): the bucket root.
    Root(&'r Route),
    /// No route.
    None,
}

/// The routes, searched longest prefix first.
#[derive(Debug, Clone)]
pub struct RouteTable {
    by_len: Vec<Route>,
}

impl RouteTable {
    /// Builds the table; the longest public prefix wins a lookup.
    pub fn new(routes: &[Route]) -> Self {
        let mut by_len = routes.to_vec();
        by_len.sort_by_key(|r| std::cmp::Reverse(r.public.path.len()));
        RouteTable { by_len }
    }

    /// The routes, longest prefix first.
    pub fn routes(&self) -> &[Route] {
        &self.by_len
    }

    /// Finds the route for a request URL: same scheme, host (case-insensitive) and port, and
    /// the longest prefix of the raw path that ends at a `/` boundary.
    pub fn lookup<'r, 'u>(&'r self, url: &RequestUrl<'u>) -> Lookup<'r, 'u> {
        for r in &self.by_len {
            let p = &r.public;
            if p.scheme != url.scheme || p.port != url.port || !url.host_eq(&p.host) {
                continue;
            }
            if let Some(rest) = url.path.strip_prefix(p.path.as_str()) {
                return if rest.is_empty() {
                    Lookup::Root(r)
                } else {
                    Lookup::Under(r, rest)
                };
            }
            if p.path.strip_suffix('/') == Some(url.path) {
                return Lookup::Root(r);
            }
        }
        Lookup::None
    }
}
