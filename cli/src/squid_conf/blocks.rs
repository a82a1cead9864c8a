//! The generated parts of the squid.conf files: the lists that depend on the routes.
//!
//! ACL names (Squid allows at most 64 bytes): `s3squid_http` / `s3squid_https` (`proto`),
//! `s3squid_publicN` and `s3squid_publicN_port` for the N-th public host, `PEER_host` and
//! `PEER_port` for the S3 peer named `PEER`. The proto and public ACLs are defined by
//! [`public_acls`], which every template places before any rule that uses them.

use std::fmt::Write as _;
use std::net::SocketAddr;

use s3map::storeid::STORE_ID_HOST;
use s3map::url::Scheme;

use s3map::route::Freshness;

use super::{
    bare_host, is_ip_literal, AccessLogModule, RouteFreshness, SquidConfParams, SquidInstance,
};

/// The `proto` ACL for a scheme.
fn proto_acl(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Http => "s3squid_http",
        Scheme::Https => "s3squid_https",
    }
}

/// `dst ADDR` for IP literals (no DNS needed), `dstdomain NAME` for names (exact match, no
/// leading dot, so subdomains do not match).
fn host_acl_value(host: &str) -> String {
    if is_ip_literal(host) {
        format!("dst {}", bare_host(host))
    } else {
        format!("dstdomain {host}")
    }
}

fn url_origin(scheme: Scheme, host: &str, port: u16) -> String {
    format!(
        "{}://{}",
        scheme.as_str(),
        s3map::endpoint::authority(host, port, scheme)
    )
}

/// `http_port`/`https_port` lines of the public-facing Squid; with `named` (a fragment), each
/// with `name=` from [`port_names`].
pub(super) fn public_listen(p: &SquidConfParams, named: bool) -> String {
    let mut out = String::new();
    let name = |kind: &str, n: usize| {
        if named {
            format!(" name=s3squid_{kind}{n}")
        } else {
            String::new()
        }
    };
    for (i, addr) in p.public_http_listen.iter().enumerate() {
        let _ = writeln!(out, "http_port {addr} accel vhost{}", name("http", i + 1));
    }
    if p.has_https_public() {
        for (i, addr) in p.public_https_listen.iter().enumerate() {
            let _ = writeln!(
                out,
                "https_port {addr} accel vhost tls-cert={} tls-key={}{}",
                p.tls_cert.display(),
                p.tls_key.display(),
                name("https", i + 1)
            );
        }
    }
    out
}

/// The names [`public_listen`] gives a fragment's ports, space-separated (the `myportname`
/// ACL `s3squid_in`).
pub(super) fn port_names(p: &SquidConfParams) -> String {
    let http = (1..=p.public_http_listen.len()).map(|n| format!("s3squid_http{n}"));
    let https = (1..=p.public_https_listen.len())
        .filter(|_| p.has_https_public())
        .map(|n| format!("s3squid_https{n}"));
    http.chain(https).collect::<Vec<_>>().join(" ")
}

/// The proto ACLs and one host ACL and one port ACL per public host.
pub(super) fn public_acls(p: &SquidConfParams) -> String {
    let mut out = String::from(
        "acl s3squid_http proto HTTP\n\
         acl s3squid_https proto HTTPS\n",
    );
    for (i, h) in p.public_hosts.iter().enumerate() {
        let n = i + 1;
        let _ = writeln!(
            out,
            "# {} (routes: {})",
            url_origin(h.scheme, &h.host, h.port),
            h.routes.join(", ")
        );
        let _ = writeln!(out, "acl s3squid_public{n} {}", host_acl_value(&h.host));
        let _ = writeln!(out, "acl s3squid_public{n}_port port {}", h.port);
    }
    out
}

/// `PREFIX s3squid_publicN s3squid_publicN_port PROTO` for each public host (of `only`
/// scheme, if given).
pub(super) fn public_allow(p: &SquidConfParams, prefix: &str, only: Option<Scheme>) -> String {
    let mut out = String::new();
    for (i, h) in p.public_hosts.iter().enumerate() {
        if only.is_some_and(|s| s != h.scheme) {
            continue;
        }
        let n = i + 1;
        let _ = writeln!(
            out,
            "{prefix} s3squid_public{n} s3squid_public{n}_port {}",
            proto_acl(h.scheme)
        );
    }
    out
}

/// `PREFIX s3squid_publicN` for each public host (its name or address, any port and scheme).
pub(super) fn public_hosts_deny(p: &SquidConfParams, prefix: &str) -> String {
    (1..=p.public_hosts.len())
        .map(|n| format!("{prefix} s3squid_public{n}\n"))
        .collect()
}

/// The edge's parents: the signing Squid, as an origin server for http public URLs and,
/// when there are https public hosts, as a plain parent proxy for https ones.
pub(super) fn edge_signer_peers(p: &SquidConfParams, scope: &str) -> String {
    let mut out = String::new();
    signer_peer(
        &mut out,
        p,
        "s3signer",
        " originserver",
        Scheme::Http,
        scope,
    );
    if p.has_https_public() {
        out.push_str(
            "# https public URLs go to the same port as to a parent proxy: in absolute form\n\
             # (GET https://host/path), which keeps their scheme. As an origin server the signer\n\
             # would get GET /path and rebuild an http:// URL from the Host header.\n",
        );
        signer_peer(&mut out, p, "s3signer_https", "", Scheme::Https, scope);
    }
    out
}

/// The fleet edge's parents: every [`SquidConfParams::parents`] entry as a `carp` parent,
/// an origin server for http public URLs (`s3parentN`) and, when there are https public
/// hosts, a plain parent proxy for https ones (`s3parentN_https`), as the two-tier edge's
/// peers for the signing Squid. The names are part of CARP's hash: every edge must have
/// the same.
pub(super) fn fleet_parent_peers(p: &SquidConfParams) -> String {
    let mut out = String::new();
    for (i, parent) in p.parents.iter().enumerate() {
        let name = format!("s3parent{}", i + 1);
        let _ = writeln!(out, "# parent-{}.conf", i + 1);
        squid_peer(
            &mut out,
            p,
            parent.listen,
            " carp",
            &name,
            " originserver",
            Scheme::Http,
            "",
        );
    }
    if p.has_https_public() {
        out.push_str(
            "# https public URLs go to the same parents as to parent proxies, in absolute form\n\
             # (GET https://host/path), which keeps their scheme (as in the two-tier edge).\n",
        );
        for (i, parent) in p.parents.iter().enumerate() {
            let name = format!("s3parent{}_https", i + 1);
            squid_peer(
                &mut out,
                p,
                parent.listen,
                " carp",
                &name,
                "",
                Scheme::Https,
                "",
            );
        }
    }
    out
}

/// A fleet parent's first rules: only the edges' addresses may use it.
pub(super) fn edges_only(p: &SquidConfParams) -> String {
    format!(
        "# Only the fleet's edges may use this Squid (`--edge-from`).\n\
         acl s3squid_edges src {}\n\
         http_access deny !s3squid_edges\n",
        p.edge_sources.join(" ")
    )
}

/// The signing Squid's clients in the fleet layout: its usual ones (loopback: a signing
/// Squid beside each parent) and every parent's address (one signing Squid for all).
pub(super) fn fleet_signer_clients(p: &SquidConfParams) -> Vec<String> {
    let mut clients = p.signer_clients.clone();
    for parent in &p.parents {
        let ip = parent.listen.ip().to_string();
        if !clients.contains(&ip) {
            clients.push(ip);
        }
    }
    clients
}

/// Options every generated `cache_peer` takes: no ICP queries, no cache digests, and no
/// netdb exchange (without it Squid sends its own unsigned
/// `GET /squid-internal-dynamic/netdb` to the peer: with a path-style AWS endpoint, a
/// request for a bucket someone else may own).
pub(super) const PEER_OPTIONS: &str = "no-query no-digest no-netdb-exchange";

fn signer_peer(
    out: &mut String,
    p: &SquidConfParams,
    name: &str,
    kind: &str,
    scheme: Scheme,
    scope: &str,
) {
    squid_peer(out, p, p.signer_listen, "", name, kind, scheme, scope);
}

/// A `cache_peer` for another Squid of s3squid's (the signing Squid, a fleet's parent) at
/// `addr`, taking the public hosts of `scheme` only (and only requests `scope` matches, when
/// not empty). `method` is the peer selection option before the others (` carp`), `kind` the
/// one after them (` originserver`).
#[allow(clippy::too_many_arguments)] // each is one word of the cache_peer line
fn squid_peer(
    out: &mut String,
    p: &SquidConfParams,
    addr: SocketAddr,
    method: &str,
    name: &str,
    kind: &str,
    scheme: Scheme,
    scope: &str,
) {
    let _ = writeln!(
        out,
        "cache_peer {} parent {} 0{method} {PEER_OPTIONS}{kind} connect-timeout={} name={name}",
        addr.ip(),
        addr.port(),
        super::SIGNER_PEER_CONNECT_TIMEOUT_SECS
    );
    out.push_str(&public_allow(
        p,
        format!("cache_peer_access {name} allow {scope}").trim_end(),
        Some(scheme),
    ));
    let _ = writeln!(out, "cache_peer_access {name} deny all");
}

/// One `cache_peer … originserver` per S3 origin, each admitting only URLs for its own
/// scheme, host and port (and only requests `scope` matches, when not empty).
pub(super) fn s3_peers(p: &SquidConfParams, scope: &str) -> String {
    let mut out = String::new();
    for s in &p.s3_peers {
        let name = &s.name;
        let tls = match s.scheme {
            Scheme::Https => format!(" tls {}", p.s3_tls_options),
            Scheme::Http => String::new(),
        };
        let _ = writeln!(
            out,
            "# {}: {} (routes: {})",
            name,
            url_origin(s.scheme, &s.host, s.port),
            s.routes.join(", ")
        );
        let _ = writeln!(
            out,
            "cache_peer {} parent {} 0 {PEER_OPTIONS} originserver{tls} connect-timeout={} name={name}",
            bare_host(&s.host),
            s.port,
            super::S3_PEER_CONNECT_TIMEOUT_SECS
        );
        let _ = writeln!(out, "acl {name}_host {}", host_acl_value(&s.host));
        let _ = writeln!(out, "acl {name}_port port {}", s.port);
        let _ = writeln!(
            out,
            "cache_peer_access {name} allow {scope}{name}_host {name}_port {}",
            proto_acl(s.scheme)
        );
        let _ = writeln!(out, "cache_peer_access {name} deny all");
    }
    out
}

/// `adapted_http_access allow` for each S3 peer's URLs.
pub(super) fn s3_adapted_allow(p: &SquidConfParams, scope: &str) -> String {
    let mut out = String::new();
    for s in &p.s3_peers {
        let name = &s.name;
        let _ = writeln!(
            out,
            "adapted_http_access allow {scope}{name}_host {name}_port {}",
            proto_acl(s.scheme)
        );
    }
    out
}

/// Escapes a string for a POSIX extended regular expression.
pub(super) fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\.^$|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a Squid's cache keys are, for its `refresh_pattern` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CacheKeys {
    /// Public URLs (a Squid without s3squid-storeid: the edge, the fleet's tiers).
    Public,
    /// Store IDs (a Squid with s3squid-storeid: `refresh_pattern` matches the store ID when
    /// there is one).
    StoreId,
}

/// `percent` of a `refresh_pattern` for `fresh = minutes`: the freshness in seconds × 100,
/// so that the LM-factor (age at fetch × percent / 100) never ends freshness before `max`
/// for an object modified at least a second before it was fetched. Squid reads it as an
/// `int`: `fresh` is at most [`s3map::route::MAX_FRESH_SECS`] (200 days), 1,728,000,000%.
fn fresh_percent(minutes: u32) -> u64 {
    u64::from(minutes) * 60 * 100
}

/// A duration for comments: `90 seconds`, `5 minutes`, `2 hours`, `1 day`, `1 week`.
pub(super) fn human_secs(secs: u32) -> String {
    let (n, unit) = [
        (604_800, "week"),
        (86_400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ]
    .into_iter()
    .find(|&(per, _)| secs != 0 && secs.is_multiple_of(per))
    .map_or((secs, "second"), |(per, unit)| (secs / per, unit));
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `MIN PERCENT MAX max-stale=S` for a route's freshness. (No `reload-into-ims`: on any
/// `refresh_pattern` line it changes how Squid handles every client reload, other traffic's
/// included (measured by the fragment's hostile review); the whole samples set the
/// process-wide `reload_into_ims on`, a fragment leaves it to squid.conf.)
/// parses without the warning the option gets).
pub(super) fn refresh_values(f: Freshness) -> String {
    let stale = f.max_stale_secs();
    match f.fresh_minutes {
        None => format!("0 20% 10080 max-stale={stale}"),
        Some(m) => format!("{m} {}% {m} max-stale={stale}", fresh_percent(m)),
    }
}

/// What a route's freshness means, for comments and `s3squid explain`.
pub fn describe_freshness(f: Freshness) -> String {
    let fresh = match f.fresh_minutes {
        None => "fresh for 20% of its age at fetch (at most 1 week)".to_owned(),
        Some(0) => "revalidated on every request".to_owned(),
        Some(m) => format!("fresh for {} after fetch", human_secs(m * 60)),
    };
    format!(
        "{fresh}; then stale up to {} if refresh fails",
        human_secs(f.max_stale_secs())
    )
}

/// One `refresh_pattern` per route, anchored on the start of its objects' cache keys, longest
/// first (a nested route before the route it is nested in); a route whose keys start like an
/// earlier one's (the same bucket and key prefix under two public prefixes, in a Squid keyed
/// by store IDs) shares that route's line. Store-ID keys end with a rule for every store ID
/// (the default freshness), for objects cached under routes since removed.
pub(super) fn route_refresh(p: &SquidConfParams, keys: CacheKeys) -> String {
    let anchor = |r: &RouteFreshness| match keys {
        // Case-sensitive: Squid lower-cases the scheme and host of every URL, and paths
        // differ by case (two routes may be /Photos/ and /photos/).
        CacheKeys::Public => format!("^{}", regex_escape(&r.public_prefix)),
        CacheKeys::StoreId => format!("^{}", regex_escape(&r.store_id_prefix)),
    };
    let mut routes: Vec<(String, &RouteFreshness)> =
        p.freshness.iter().map(|r| (anchor(r), r)).collect();
    // Stable: equal lengths keep file order.
    routes.sort_by_key(|(a, _)| std::cmp::Reverse(a.len()));
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for (a, r) in &routes {
        if seen.contains(&a.as_str()) {
            let _ = writeln!(
                out,
                "# route {}: the same objects as a route above, whose line applies",
                r.route
            );
            continue;
        }
        seen.push(a);
        let _ = writeln!(
            out,
            "# route {}: {}",
            r.route,
            describe_freshness(r.freshness)
        );
        let _ = writeln!(out, "refresh_pattern {a} {}", refresh_values(r.freshness));
    }
    if keys == CacheKeys::StoreId {
        let origin = format!("http://{STORE_ID_HOST}/");
        let _ = writeln!(
            out,
            "# any other store ID (an object of a route since removed): the default\n\
             refresh_pattern ^{} {}",
            regex_escape(&origin),
            refresh_values(Freshness::default())
        );
    }
    out
}

/// `cache_effective_user`, or a comment saying why there is none.
pub(super) fn cache_effective_user(p: &SquidConfParams) -> String {
    match &p.cache_effective_user {
        Some(user) => format!("cache_effective_user {user}\n"),
        None => "# cache_effective_user is not set: started as root, Squid runs as its build's\n\
                 # default user (`proxy` on Debian).\n"
            .to_owned(),
    }
}

/// The `access_log` line of one Squid (with a comment when it is not Squid's default module).
pub(super) fn access_log(p: &SquidConfParams, i: &SquidInstance) -> String {
    let module = p.access_log_module;
    let comment = match module {
        AccessLogModule::Daemon => "",
        AccessLogModule::Stdio => {
            "# stdio: Squid writes each line itself as the request ends, so a demo or a test sees it\n\
             # at once (`daemon:`, the default, hands lines to a log daemon that writes in batches).\n"
        }
    };
    format!(
        "{comment}# Squid's native format plus why a request failed, when it did (`-/-` otherwise): e.g.\n\
         # ERR_SECURE_CONNECT_FAIL/SQUID_X509_V_ERR_DOMAIN_MISMATCH+broken_cert for an S3 endpoint\n\
         # whose certificate is for another name (cache.log only says the connection failed).\n\
         logformat s3squid {ACCESS_LOG_FORMAT}\n\
         access_log {}:{} s3squid\n",
        module.as_str(),
        i.access_log.display()
    )
}

/// The samples' access log format: Squid's native `squid` format, then
/// `%err_code/%err_detail`.
pub const ACCESS_LOG_FORMAT: &str =
    "%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt %err_code/%err_detail";

/// How many requests each helper process takes, for the comments.
pub(super) fn per_child(p: &SquidConfParams) -> String {
    match p.helper_concurrency {
        0 => "each taking one request at a time (concurrency=0: no channel IDs)".to_owned(),
        1 => "each taking 1 request at a time".to_owned(),
        n => format!("each taking {n} requests at a time"),
    }
}

/// `url_rewrite_timeout`, or why there is none.
pub(super) fn rewrite_timeout(p: &SquidConfParams) -> &'static str {
    if p.helper_concurrency == 0 {
        "# No url_rewrite_timeout: Squid enforces it only with concurrency=1 or more (it would be\n\
         # accepted and ignored here), so a stuck helper holds its requests until it exits.\n"
    } else {
        "# A helper that has not answered within 10 seconds is bypassed: the request keeps its\n\
         # public URL, so a cached copy is still served through its store ID and a miss ends\n\
         # in a quick 5xx (no cache_peer for the public host), never an unsigned fetch. This is\n\
         # how s3squid-icap's bypass=on degrades too (on_timeout=fail would answer 500 even\n\
         # for cached objects).\n\
         url_rewrite_timeout 10 seconds on_timeout=bypass\n"
    }
}

/// `adapted_http_access deny` for the requests s3squid-rewrite refused.
pub(super) fn refused_adapted_deny(scope: &str) -> String {
    format!(
        "# A route refused the request (s3squid-rewrite rewrote it to the refused host): 403. S3\n\
         # never sees it.\n\
         adapted_http_access deny {scope}s3squid_refused\n"
    )
}

/// The disk cache (and, with more than one worker, SMP): one process with a `ufs`
/// cache_dir, or `workers N` sharing a `rock` cache_dir and the memory cache.
pub(super) fn storage(i: &SquidInstance) -> String {
    let (dir, mb) = (i.cache_dir.display(), i.cache_dir_mb);
    if i.workers <= 1 {
        return format!(
            "# The disk cache: `ufs PATH SIZE-MB 16 256` (16 first-level and 256 second-level directories).\n\
             # Create it with `squid -N -f THIS-FILE -z` before the first start. One worker process:\n\
             # for several sharing one cache (the edge), render with `--edge-workers N`.\n\
             cache_dir ufs {dir} {mb} 16 256"
        );
    }
    format!(
        "# SMP: {n} worker processes share the listening port(s), the memory cache and one `rock`\n\
         # cache_dir (a database file that every worker reads and writes), so an object any\n\
         # worker fetched is a hit through every worker. Squid starts a disker process for the\n\
         # rock store and a coordinator besides the workers. Needs shared memory (/dev/shm).\n\
         # Create it with `squid -f THIS-FILE -z` before the first start.\n\
         workers {n}\n\
         memory_cache_shared on\n\
         cache_dir rock {dir} {mb}",
        n = i.workers
    )
}
