//! The one TOML configuration file every s3squid program reads.
//!
//! Parse → validate → frozen [`Config`], before any port is bound or any line is read.
//! Validation collects *every* problem with its line; a syntax or type error stops parsing
//! and is reported alone (with its line). See `docs/configuration.md` for every field.

use std::net::SocketAddr;

use serde::Deserialize;
use toml::Spanned;

use crate::endpoint::{Addressing, Endpoint};
use crate::limits::{DEFAULT_PRESIGN_EXPIRES_SECS, MAX_PRESIGN_EXPIRES_SECS};
use crate::route::{parse_duration_secs, Auth, Freshness, PublicPrefix, Redirect, Route};

/// Default path of the configuration file.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/s3squid/s3squid.toml";

/// The `[icap]` section, frozen.
#[derive(Debug, Clone, PartialEq)]
pub struct IcapConfig {
    /// Address the REQMOD service listens on (`listen`, default `127.0.0.1:1344`).
    pub listen: SocketAddr,
    /// The ICAP service path: the service is `icap://HOST:PORT/<service>` (default `s3sign`).
    pub service: String,
    /// Connections served at once (`max_connections`, default 512); also advertised as
    /// `Max-Connections`.
    pub max_connections: usize,
    /// `X-Amz-Expires` of presigned URLs, seconds (`presign_expires`, default 300, 1..=604800).
    pub presign_expires: u32,
    /// Seconds an idle ICAP connection is kept (`idle_timeout`, default 120; Squid closes its
    /// idle ICAP connections after `server_idle_pconn_timeout`, 60 s by default).
    pub idle_timeout_secs: u64,
    /// `Options-TTL` advertised to Squid, seconds (`options_ttl`, default 300).
    pub options_ttl_secs: u64,
    /// The global pass-through switch (`pass_through`, default false): when true every
    /// request is left unchanged (ICAP 204), as if s3squid-icap were bypassed.
    pub pass_through: bool,
    /// Where `/metrics` and `/healthz` are served (`metrics_listen`, default
    /// `127.0.0.1:9344`; `""` turns them off).
    pub metrics_listen: Option<SocketAddr>,
    /// Seconds between active probes of the routes that name a `probe_key`
    /// (`probe_interval`, default 60, 1..=86400; 0 turns probing off).
    pub probe_interval_secs: u64,
}

impl Default for IcapConfig {
    fn default() -> Self {
        IcapConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 1344)),
            service: "s3sign".to_owned(),
            max_connections: 512,
            presign_expires: DEFAULT_PRESIGN_EXPIRES_SECS,
            idle_timeout_secs: 120,
            options_ttl_secs: 300,
            pass_through: false,
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9344))),
            probe_interval_secs: 60,
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The ICAP service settings.
    pub icap: IcapConfig,
    /// The routes, in file order.
    pub routes: Vec<Route>,
}

/// One thing wrong with a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong, for the operator.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why configuration text is not a valid configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not a valid configuration.
    #[error("{}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    icap: Option<RawIcap>,
    #[serde(default)]
    route: Vec<Spanned<RawRoute>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIcap {
    listen: Option<Spanned<String>>,
    service: Option<Spanned<String>>,
    max_connections: Option<Spanned<i64>>,
    presign_expires: Option<Spanned<i64>>,
    idle_timeout: Option<Spanned<i64>>,
    options_ttl: Option<Spanned<i64>>,
    pass_through: Option<bool>,
    metrics_listen: Option<Spanned<String>>,
    probe_interval: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    name: Option<Spanned<String>>,
    public: Option<Spanned<String>>,
    bucket: Option<Spanned<String>>,
    key_prefix: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    endpoint: Option<Spanned<String>>,
    addressing: Option<Spanned<String>>,
    auth: Option<Spanned<String>>,
    allow_query: Option<Spanned<Vec<String>>>,
    index: Option<Spanned<String>>,
    redirect: Option<Vec<Spanned<RawRedirect>>>,
    signing: Option<Spanned<String>>,
    probe_key: Option<Spanned<String>>,
    fresh: Option<Spanned<String>>,
    max_stale: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedirect {
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    status: Option<Spanned<i64>>,
}

/// Line numbers for byte offsets of one source text.
struct Lines<'a> {
    text: &'a str,
    /// Where each `\n` is, found at the first problem: one problem per route field can
    /// be thousands of problems, and counting from the start for each was quadratic.
    newlines: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            newlines: std::cell::OnceCell::new(),
        }
    }

    fn line(&self, offset: usize) -> usize {
        let newlines = self
            .newlines
            .get_or_init(|| memchr::memchr_iter(b'\n', self.text.as_bytes()).collect());
        newlines.partition_point(|&at| at < offset) + 1
    }
}

struct Collector<'a> {
    lines: Lines<'a>,
    problems: Vec<Problem>,
}

impl Collector<'_> {
    fn at(&mut self, offset: usize, message: impl Into<String>) {
        let line = Some(self.lines.line(offset));
        self.problems.push(Problem {
            line,
            message: message.into(),
        });
    }
}

impl Config {
    /// Parses and validates configuration text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let lines = Lines::new(text);
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            problems: vec![Problem {
                line: e.span().map(|s| lines.line(s.start)),
                // toml gives some syntax errors (a DEL or a bare CR in a comment) no message.
                message: match e.message().trim() {
                    "" => "not valid TOML (an unexpected character)".to_owned(),
                    m => m.to_owned(),
                },
            }],
        })?;
        let mut c = Collector {
            lines,
            problems: Vec::new(),
        };
        let icap = raw
            .icap
            .map(|i| validate_icap(i, &mut c))
            .unwrap_or_default();
        let mut routes: Vec<Route> = Vec::new();
        for r in raw.route {
            let start = r.span().start;
            if let Some(route) = validate_route(r.into_inner(), start, &mut c) {
                if routes.iter().any(|o| o.name == route.name) {
                    c.at(start, format!("route name {:?} is used twice", route.name));
                } else if routes.iter().any(|o| o.public == route.public) {
                    c.at(
                        start,
                        format!("public prefix {} is used by two routes", route.public),
                    );
                } else {
                    routes.push(route);
                }
            }
        }
        if routes.is_empty() && c.problems.is_empty() {
            c.problems.push(Problem {
                line: None,
                message: "no [[route]]: s3squid has nothing to serve".to_owned(),
            });
        }
        if c.problems.is_empty() {
            Ok(Config { icap, routes })
        } else {
            Err(ConfigError::Invalid {
                problems: c.problems,
            })
        }
    }
}

fn int_in(v: Spanned<i64>, lo: i64, hi: i64, what: &str, c: &mut Collector) -> Option<i64> {
    let (span, n) = (v.span(), *v.get_ref());
    if (lo..=hi).contains(&n) {
        Some(n)
    } else {
        c.at(
            span.start,
            format!("{what} must be between {lo} and {hi}, not {n}"),
        );
        None
    }
}

fn validate_icap(raw: RawIcap, c: &mut Collector) -> IcapConfig {
    let mut icap = IcapConfig::default();
    if let Some(l) = raw.listen {
        match l.get_ref().parse::<SocketAddr>() {
            Ok(a) => icap.listen = a,
            Err(_) => c.at(
                l.span().start,
                format!("icap.listen {:?} is not IP:PORT", l.get_ref()),
            ),
        }
    }
    if let Some(s) = raw.service {
        let ok = !s.get_ref().is_empty()
            && s.get_ref()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            icap.service = s.into_inner();
        } else {
            c.at(
                s.span().start,
                "icap.service must be a non-empty word of A-Z a-z 0-9 - _ .",
            );
        }
    }
    if let Some(n) = raw
        .max_connections
        .and_then(|v| int_in(v, 1, 65_535, "icap.max_connections", c))
    {
        icap.max_connections = n as usize;
    }
    let max_exp = i64::from(MAX_PRESIGN_EXPIRES_SECS);
    if let Some(n) = raw
        .presign_expires
        .and_then(|v| int_in(v, 1, max_exp, "icap.presign_expires", c))
    {
        icap.presign_expires = n as u32;
    }
    if let Some(n) = raw
        .idle_timeout
        .and_then(|v| int_in(v, 1, 86_400, "icap.idle_timeout", c))
    {
        icap.idle_timeout_secs = n as u64;
    }
    if let Some(n) = raw
        .options_ttl
        .and_then(|v| int_in(v, 30, 86_400, "icap.options_ttl", c))
    {
        icap.options_ttl_secs = n as u64;
    }
    icap.pass_through = raw.pass_through.unwrap_or(false);
    if let Some(n) = raw
        .probe_interval
        .and_then(|v| int_in(v, 0, 86_400, "icap.probe_interval", c))
    {
        icap.probe_interval_secs = n as u64;
    }
    if let Some(m) = raw.metrics_listen {
        if m.get_ref().is_empty() {
            icap.metrics_listen = None;
        } else {
            match m.get_ref().parse::<SocketAddr>() {
                Ok(a) => icap.metrics_listen = Some(a),
                Err(_) => c.at(
                    m.span().start,
                    format!(
                        "icap.metrics_listen {:?} is not IP:PORT (or \"\" for none)",
                        m.get_ref()
                    ),
                ),
            }
        }
    }
    icap
}

fn required(
    field: Option<Spanned<String>>,
    name: &str,
    start: usize,
    c: &mut Collector,
) -> Option<Spanned<String>> {
    if field.is_none() {
        c.at(start, format!("route is missing `{name}`"));
    }
    field
}

fn validate_route(raw: RawRoute, start: usize, c: &mut Collector) -> Option<Route> {
    let before = c.problems.len();
    let name = required(raw.name, "name", start, c);
    let public = required(raw.public, "public", start, c);
    let bucket = required(raw.bucket, "bucket", start, c);
    let region = required(raw.region, "region", start, c);

    let public = public.and_then(|p| match PublicPrefix::parse(p.get_ref()) {
        Ok(v) => Some(v),
        Err(why) => {
            c.at(p.span().start, format!("public {:?}: {why}", p.get_ref()));
            None
        }
    });
    if let Some(n) = &name {
        if !valid_route_name(n.get_ref()) {
            c.at(n.span().start, format!("route name {:?} must be 1-64 of A-Z a-z 0-9 _ . - (it is a metric label and a log field)", n.get_ref()));
        }
    }
    if let Some(b) = &bucket {
        if !valid_bucket(b.get_ref()) {
            c.at(b.span().start, format!("bucket {:?} is not a valid S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit)", b.get_ref()));
        }
    }
    if let Some(r) = &region {
        let ok = !r.get_ref().is_empty()
            && r.get_ref()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            c.at(
                r.span().start,
                format!(
                    "region {:?} is not a region name like us-east-1",
                    r.get_ref()
                ),
            );
        }
    }
    let endpoint = match &raw.endpoint {
        Some(e) => match Endpoint::parse(e.get_ref()) {
            Ok(ep) => Some(ep),
            Err(why) => {
                c.at(e.span().start, format!("endpoint {:?}: {why}", e.get_ref()));
                None
            }
        },
        None => region.as_ref().map(|r| Endpoint::aws_regional(r.get_ref())),
    };
    let addressing = match raw
        .addressing
        .as_ref()
        .map(|a| (a.span().start, a.get_ref().as_str()))
    {
        None if raw.endpoint.is_some() => Some(Addressing::Path),
        None => Some(Addressing::Virtual),
        Some((_, "path")) => Some(Addressing::Path),
        Some((_, "virtual")) => Some(Addressing::Virtual),
        Some((at, other)) => {
            c.at(
                at,
                format!("addressing must be \"virtual\" or \"path\", not {other:?}"),
            );
            None
        }
    };
    let auth = match raw
        .auth
        .as_ref()
        .map(|a| (a.span().start, a.get_ref().as_str()))
    {
        None | Some((_, "sigv4")) => Some(Auth::SigV4),
        Some((_, "none")) => Some(Auth::None),
        Some((at, other)) => {
            c.at(
                at,
                format!("auth must be \"sigv4\" or \"none\", not {other:?}"),
            );
            None
        }
    };
    let signing = match raw
        .signing
        .as_ref()
        .map(|a| (a.span().start, a.get_ref().as_str()))
    {
        None | Some((_, "on")) => Some(true),
        Some((_, "off")) => Some(false),
        Some((at, other)) => {
            c.at(
                at,
                format!("signing must be \"on\" or \"off\", not {other:?}"),
            );
            None
        }
    };
    let key_prefix = raw.key_prefix.map(Spanned::into_inner).unwrap_or_default();
    let probe_key = raw.probe_key.and_then(|k| {
        let v = k.get_ref();
        let ok = !v.is_empty()
            && v.len() <= crate::limits::MAX_KEY_BYTES
            && !v.chars().any(char::is_control);
        if !ok {
            c.at(
                k.span().start,
                "probe_key must be a non-empty S3 key without control characters",
            );
        }
        ok.then(|| k.into_inner())
    });
    if key_prefix.len() > crate::limits::MAX_KEY_BYTES
        || key_prefix.bytes().any(|b| b < 0x20 || b == 0x7f)
    {
        c.at(
            start,
            "key_prefix is longer than 1024 bytes or has control characters",
        );
    }
    let allow_query = raw.allow_query.map(Spanned::into_inner).unwrap_or_default();
    let index = raw.index.and_then(|i| {
        let v = i.get_ref();
        let ok = !v.is_empty()
            && !v.starts_with('/')
            && v.len() <= 255
            && !v.chars().any(char::is_control)
            && v.split('/').all(|seg| seg != "." && seg != "..");
        if !ok {
            c.at(i.span().start, format!("index {v:?} must be a key like \"index.html\" (no leading /, no . or .. segment, no control characters)"));
        }
        ok.then(|| i.into_inner())
    });
    let freshness = validate_freshness(raw.fresh, raw.max_stale, c);
    let mut redirects = Vec::new();
    for r in raw.redirect.unwrap_or_default() {
        let at = r.span().start;
        if let Some(red) = validate_redirect(r.into_inner(), at, c) {
            redirects.push(red);
        }
    }
    if let (Some(b), Some(Addressing::Virtual), Some(ep)) = (&bucket, addressing, &endpoint) {
        if b.get_ref().contains('.') && ep.scheme == crate::url::Scheme::Https {
            c.at(b.span().start, "a bucket name with dots cannot be addressed virtually over https (its TLS certificate does not match): use addressing = \"path\"");
        }
    }
    if c.problems.len() > before {
        return None;
    }
    Some(Route {
        name: name?.into_inner(),
        public: public?,
        bucket: bucket?.into_inner(),
        key_prefix,
        region: region?.into_inner(),
        endpoint: endpoint?,
        addressing: addressing?,
        auth: auth?,
        allow_query,
        index,
        redirects,
        signing: signing?,
        probe_key,
        freshness,
    })
}

/// `fresh` (whole minutes: `refresh_pattern` counts in minutes) and `max_stale`.
fn validate_freshness(
    fresh: Option<Spanned<String>>,
    max_stale: Option<Spanned<String>>,
    c: &mut Collector,
) -> Freshness {
    let mut out = Freshness::default();
    if let Some(f) = fresh {
        match parse_duration_secs(f.get_ref()) {
            Ok(secs) if secs > crate::route::MAX_FRESH_SECS => c.at(
                f.span().start,
                format!("fresh {:?} is longer than 200 days", f.get_ref()),
            ),
            Ok(secs) if secs.is_multiple_of(60) => out.fresh_minutes = Some(secs / 60),
            Ok(_) => c.at(
                f.span().start,
                format!(
                    "fresh {:?} must be whole minutes (Squid's refresh_pattern counts in minutes)",
                    f.get_ref()
                ),
            ),
            Err(why) => c.at(f.span().start, format!("fresh {:?} {why}", f.get_ref())),
        }
    }
    if let Some(m) = max_stale {
        match parse_duration_secs(m.get_ref()) {
            Ok(secs) => out.max_stale_secs = Some(secs),
            Err(why) => c.at(m.span().start, format!("max_stale {:?} {why}", m.get_ref())),
        }
    }
    out
}

fn validate_redirect(raw: RawRedirect, at: usize, c: &mut Collector) -> Option<Redirect> {
    let (Some(from), Some(to)) = (raw.from, raw.to) else {
        c.at(at, "a [[route.redirect]] needs `from` and `to`");
        return None;
    };
    let status = match raw.status {
        None => 301,
        Some(s) if [301, 302, 303, 307, 308].contains(s.get_ref()) => *s.get_ref() as u16,
        Some(s) => {
            c.at(
                s.span().start,
                format!(
                    "redirect status must be 301, 302, 303, 307 or 308, not {}",
                    s.get_ref()
                ),
            );
            return None;
        }
    };
    let t = to.get_ref();
    let safe = |v: &str| {
        !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    };
    let to_ok =
        (t.starts_with("http://") || t.starts_with("https://") || t.starts_with('/')) && safe(t);
    if !to_ok {
        c.at(to.span().start, format!("redirect to {t:?} must be an absolute URL or path, percent-encoded, without spaces, quotes or backslashes"));
        return None;
    }
    if from.get_ref().is_empty() || from.get_ref().chars().any(char::is_control) {
        c.at(
            from.span().start,
            "redirect from must be a non-empty key relative to the route",
        );
        return None;
    }
    if let Some(base) = t.strip_suffix('*') {
        if !from.get_ref().ends_with('*') {
            c.at(
                to.span().start,
                "a redirect `to` ending in * needs a `from` ending in *",
            );
            return None;
        }
        // The tail goes after a path `/`, never into the scheme, host or port
        // (`https://cdn.example.com*` + `.evil.example/x` would leave the site).
        let path = match base.split_once("://") {
            Some((_, after)) => after.find('/').map(|i| &after[i..]),
            None => Some(base),
        };
        if !path.is_some_and(|p| p.ends_with('/')) {
            c.at(
                to.span().start,
                format!("redirect to {t:?}: its * must follow a / of the path (e.g. https://cdn.example.com/*), so the matched tail cannot change the host"),
            );
            return None;
        }
    }
    Some(Redirect {
        from: from.into_inner(),
        to: to.into_inner(),
        status,
    })
}

/// A route name: written unescaped into `/metrics` labels and log lines, so only
/// `A-Za-z0-9_.-`, 1 to 64 bytes.
pub fn valid_route_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// S3's bucket naming rules (the subset that matters for URLs).
pub fn valid_bucket(b: &str) -> bool {
    let bytes = b.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|&x| x.is_ascii_lowercase() || x.is_ascii_digit() || x == b'.' || x == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !b.contains("..")
}

#[cfg(test)]
mod tests;
