//! squid.conf files for s3squid's layouts (README.md, "Layouts"; why two: `docs/design.md#fact-10`), rendered
//! from the templates in `cli/templates/` so that the shipped samples and the end-to-end
//! tests run the same text.
//!
//! - [`Layout::TwoTier`] → `edge.conf` (the hot cache: no ICAP, no helper on its hit path)
//!   and `signer.conf` (`cache deny all`, s3squid-icap as REQMOD, S3 as `cache_peer`s);
//! - [`Layout::Single`] → `squid.conf` (one Squid with s3squid-icap and s3squid-storeid);
//! - [`Layout::Rewrite`] → `squid.conf` (one Squid with s3squid-rewrite and
//!   s3squid-storeid, no ICAP service: for `auth = "none"` routes only).
//! - [`Layout::Fleet`] → `edge.conf` (the same file on every edge host: the parents as a
//!   CARP array), `parent-N.conf` (one per [`SquidConfParams::parents`]: a caching Squid
//!   for the edges whose misses go to the signing Squid) and `signer.conf`.
//!
//! The signing Squid and the single Squid also run s3squid-rewrite when
//! [`SquidConfParams::rewrite_beside_icap`] is set (by default: when a route has
//! `auth = "none"`), so unsigned routes keep working while s3squid-icap is bypassed.
//!
//! Everything site-specific is in [`SquidConfParams`]: [`params_from_config`] derives the
//! public hosts and the S3 peers from the routes and fills in the defaults; tests override
//! ports and paths before calling [`render`], the command line through [`Overrides`]. Paths
//! and listen addresses are written into squid.conf as they are, so they must not contain
//! whitespace.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use s3map::config::Config;
use s3map::endpoint::Addressing;
use s3map::route::{Auth, Freshness};
use s3map::url::Scheme;

mod blocks;
mod overrides;
mod render;
pub mod template;
mod version;

pub use blocks::describe_freshness;
pub use overrides::{
    Overrides, DEMO_CACHE_DIR_MB, DEMO_CACHE_MEM_MB, MAX_HELPER_CONCURRENCY, MAX_WORKERS,
};
pub use render::{render, render_fragment, FRAGMENT_EDGE_FILE, FRAGMENT_FILE};
pub use version::SquidVersion;

#[cfg(test)]
mod tests;

/// Which squid.conf files to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// An edge Squid (the hot cache) whose misses go to a signing Squid.
    TwoTier,
    /// One Squid with s3squid-icap and s3squid-storeid.
    Single,
    /// One Squid with s3squid-rewrite and s3squid-storeid and no ICAP service, for
    /// `auth = "none"` routes only: `sigv4` routes are never signed there and fail with a
    /// 5xx. It uses [`SquidConfParams::single`]'s files.
    Rewrite,
    /// Several edges (one `edge.conf`) in front of [`SquidConfParams::parents`], caching
    /// Squids among which the edges spread the objects by CARP, whose misses go to a
    /// signing Squid.
    Fleet,
}

impl Layout {
    /// Every layout, in the order help texts list them.
    pub const ALL: [Layout; 4] = [
        Layout::TwoTier,
        Layout::Single,
        Layout::Rewrite,
        Layout::Fleet,
    ];

    /// Parses `two-tier`, `single`, `rewrite` or `fleet`.
    pub fn parse(s: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// `two-tier`, `single`, `rewrite` or `fleet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::TwoTier => "two-tier",
            Layout::Single => "single",
            Layout::Rewrite => "rewrite",
            Layout::Fleet => "fleet",
        }
    }

    /// The Squids of the layout, as `(directory name, role)`: the name is the one
    /// [`Overrides::state_dir`] uses. The fleet's parents, as many as
    /// [`SquidConfParams::parents`], are not listed: their directories are `parent-N`.
    pub fn instances(self) -> &'static [(&'static str, Role)] {
        match self {
            Layout::TwoTier | Layout::Fleet => &[("edge", Role::Edge), ("signer", Role::Signer)],
            Layout::Single | Layout::Rewrite => &[("single", Role::Single)],
        }
    }
}

/// Which [`SquidInstance`] of [`SquidConfParams`] a Squid uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// [`SquidConfParams::edge`].
    Edge,
    /// [`SquidConfParams::signer`].
    Signer,
    /// [`SquidConfParams::single`] (the single and the rewrite layout).
    Single,
}

/// How Squid writes `access_log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLogModule {
    /// `daemon:PATH`: Squid hands lines to its `log_file_daemon` helper, which writes them
    /// out in batches. Squid's default; no disk write blocks Squid.
    Daemon,
    /// `stdio:PATH`: Squid writes each line itself, as it happens (for demos and tests that
    /// read the log at once; each write blocks Squid briefly).
    Stdio,
}

impl AccessLogModule {
    /// `daemon` or `stdio`, as squid.conf spells the module.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLogModule::Daemon => "daemon",
            AccessLogModule::Stdio => "stdio",
        }
    }
}

/// One public `scheme://host[:port]` that clients send requests to (routes' `public`
/// prefixes, deduplicated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicHost {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Lower-case host name or IP literal (IPv6 in brackets), as in URLs.
    pub host: String,
    /// Effective port.
    pub port: u16,
    /// The routes' raw path prefixes under this host (`/`-terminated), in file order.
    pub paths: Vec<String>,
    /// The names of the routes under this host, for comments.
    pub routes: Vec<String>,
}

/// One S3 origin a signed or mapped URL can name: a `cache_peer … originserver`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Peer {
    /// The `cache_peer … name=`, also the prefix of its ACL names (at most 64 bytes with
    /// the longest suffix, `_host`: Squid's ACL name limit).
    pub name: String,
    /// `https` peers get `tls` and [`SquidConfParams::s3_tls_options`].
    pub scheme: Scheme,
    /// Lower-case host as it appears in the URLs: the endpoint host for path-style
    /// addressing, `bucket.endpoint-host` for virtual-hosted; IPv6 in brackets.
    pub host: String,
    /// Effective port.
    pub port: u16,
    /// The names of the routes whose URLs go here, for comments.
    pub routes: Vec<String>,
}

/// One route's freshness, as the `refresh_pattern` lines need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFreshness {
    /// The route's name, for comments.
    pub route: String,
    /// The route's public prefix (`scheme://authority/path/`): what the edge's cache keys
    /// (public URLs) start with.
    pub public_prefix: String,
    /// The store-ID prefix of the route's objects
    /// (`http://s3.squid.internal/v1/ENDPOINT/BUCKET/KEY-PREFIX`): what the cache keys of a
    /// Squid with s3squid-storeid start with.
    pub store_id_prefix: String,
    /// `fresh` and `max_stale`.
    pub freshness: Freshness,
}

/// Per-Squid settings: each Squid of the two-tier layout needs its own files, and the two
/// must have different `visible_hostname`s (Squid detects forwarding loops by finding its
/// own name in `Via`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquidInstance {
    /// `visible_hostname`.
    pub visible_hostname: String,
    /// `pid_filename`.
    pub pid_filename: PathBuf,
    /// `cache_log`.
    pub cache_log: PathBuf,
    /// `access_log MODULE:PATH squid` (module: [`SquidConfParams::access_log_module`]).
    pub access_log: PathBuf,
    /// `cache_dir ufs PATH …`.
    pub cache_dir: PathBuf,
    /// Size of the `cache_dir`, MB.
    pub cache_dir_mb: u32,
    /// `cache_mem`, MB.
    pub cache_mem_mb: u32,
    /// `maximum_object_size`, MB (Squid's default, 4 MB, is small for S3 objects).
    pub maximum_object_size_mb: u32,
    /// `coredump_dir`.
    pub coredump_dir: PathBuf,
    /// `workers`: 1 (one process, a `ufs` cache_dir), or more (SMP: a shared `rock`
    /// cache_dir and a shared memory cache, so every worker hits what any worker fetched).
    pub workers: u32,
}

/// One parent cache of the fleet layout ([`Layout::Fleet`]): `parent-N.conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetParent {
    /// Where it listens for the edges (`http_port IP:PORT accel vhost`); the edges'
    /// `cache_peer … carp` for it.
    pub listen: SocketAddr,
    /// Its name and files (`visible_hostname s3squid-parent-N`: each parent has its own, so
    /// the `X-Cache` and `Via` headers a client gets say which one answered).
    pub instance: SquidInstance,
}

/// The fleet's parents on `listen`, in that order, with Debian-style files of their own
/// (`/run/squid-s3parentN.pid`, …), so that several can run on one host as well.
pub fn fleet_parents(listen: &[SocketAddr]) -> Vec<FleetParent> {
    listen
        .iter()
        .enumerate()
        .map(|(i, &listen)| {
            let n = i + 1;
            FleetParent {
                listen,
                instance: SquidInstance::debian(
                    &format!("s3parent{n}"),
                    &format!("s3squid-parent-{n}"),
                    10_240,
                    256,
                ),
            }
        })
        .collect()
}

/// Everything site-specific in the rendered squid.conf files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquidConfParams {
    /// The public hosts (default: from the routes).
    pub public_hosts: Vec<PublicHost>,
    /// The S3 origins (default: from the routes).
    pub s3_peers: Vec<S3Peer>,
    /// Each route's freshness, in file order (default: from the routes).
    pub freshness: Vec<RouteFreshness>,
    /// `http_port … accel vhost` sockets of the public-facing Squid (the edge, or the single
    /// Squid): `PORT` or `IP:PORT`. Default: each distinct port of the http public hosts.
    pub public_http_listen: Vec<String>,
    /// `https_port … accel vhost` sockets, likewise, for the https public hosts.
    pub public_https_listen: Vec<String>,
    /// Certificate (PEM) for `https_port`; used only with https public hosts.
    pub tls_cert: PathBuf,
    /// Private key (PEM) for `https_port`.
    pub tls_key: PathBuf,
    /// Where the signing Squid listens for the edge's misses (default `127.0.0.1:3129`);
    /// also the edge's `cache_peer`.
    pub signer_listen: SocketAddr,
    /// Options after `tls` on the `cache_peer` line of https S3 endpoints (default
    /// [`OPENSSL_PEER_TLS_OPTIONS`], for `squid-openssl`; [`GNUTLS_PEER_TLS_OPTIONS`] with
    /// `--gnutls-squid`; tests add `tls-cafile=…`).
    pub s3_tls_options: String,
    /// Written for a GnuTLS build of Squid (`--gnutls-squid`): the peers section then warns
    /// that such a build checks no certificate, whatever options follow `tls`.
    pub gnutls_squid: bool,
    /// The Squid version the files are for (default [`SquidVersion::OLDEST_TESTED`]; the
    /// command line asks `squid -v` unless `--squid-version` says): where Squid versions
    /// differ, see the `version` module.
    pub squid_version: SquidVersion,
    /// `src` values the signing Squid accepts requests from (default loopback).
    pub signer_clients: Vec<String>,
    /// The s3squid-icap service URI (default `icap://127.0.0.1:1344/s3sign`, from
    /// `[icap] listen` and `service`).
    pub icap_uri: String,
    /// `store_id_program` command line (single and rewrite layouts).
    pub storeid_command: String,
    /// `url_rewrite_program` command line: s3squid-rewrite, which maps `auth = "none"`
    /// routes (default [`DEFAULT_REWRITE_COMMAND`]). The rewrite layout always runs it; the
    /// signing and the single Squid when [`SquidConfParams::rewrite_beside_icap`] is set.
    pub rewrite_command: String,
    /// Whether the signing and the single Squid also run s3squid-rewrite, so that unsigned
    /// routes keep working while s3squid-icap is bypassed. Default: when any route has
    /// `auth = "none"`.
    pub rewrite_beside_icap: bool,
    /// `concurrency=` of `store_id_children` and `url_rewrite_children`: requests a helper
    /// process takes at a time (default 8). With 0 Squid sends no channel IDs and
    /// `url_rewrite_timeout` is left out (Squid enforces it only with concurrency ≥ 1).
    pub helper_concurrency: u32,
    /// `access_log` module of every Squid (default [`AccessLogModule::Daemon`]).
    pub access_log_module: AccessLogModule,
    /// `cache_effective_user`, when Squid is started as root and the build's default user
    /// (Debian: `proxy`) is not wanted; not written when `None`.
    pub cache_effective_user: Option<String>,
    /// The edge Squid of the two-tier layout.
    pub edge: SquidInstance,
    /// The signing Squid of the two-tier layout.
    pub signer: SquidInstance,
    /// The single Squid.
    pub single: SquidInstance,
    /// The fleet layout's parent caches, in the order the edges list them (default
    /// [`DEFAULT_FLEET_PARENTS`]; `--parent`). Every edge must list the same parents in the
    /// same order: CARP's choice of a parent depends on both.
    pub parents: Vec<FleetParent>,
    /// `src` values the fleet's parents accept requests from: the edges' addresses or
    /// networks (default loopback; `--edge-from`).
    pub edge_sources: Vec<String>,
}

/// Default `store_id_program` command line.
pub const DEFAULT_STOREID_COMMAND: &str =
    "/usr/local/bin/s3squid-storeid --config /etc/s3squid/s3squid.toml";
/// Default `url_rewrite_program` command line.
pub const DEFAULT_REWRITE_COMMAND: &str =
    "/usr/local/bin/s3squid-rewrite --config /etc/s3squid/s3squid.toml";
/// Default `concurrency=` of the helpers.
pub const DEFAULT_HELPER_CONCURRENCY: u32 = 8;
/// Default socket of the signing Squid.
pub const DEFAULT_SIGNER_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 3129);
/// Default parents of the fleet layout: two on loopback, so that the sample runs on one host.
pub const DEFAULT_FLEET_PARENTS: [SocketAddr; 2] = [
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 3131),
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 3132),
];
/// `connect-timeout=` of each S3 `cache_peer`, seconds (Squid's default, `peer_connect_timeout`,
/// is 30). Explained in `cli/templates/s3-peers.conf.in`.
pub const S3_PEER_CONNECT_TIMEOUT_SECS: u32 = 5;
/// `connect-timeout=` of the edge's `cache_peer`s for the signing Squid, seconds. Explained in
/// `cli/templates/edge.conf.in`.
pub const SIGNER_PEER_CONNECT_TIMEOUT_SECS: u32 = 2;
/// TLS options of https S3 peers (after `tls`) for a GnuTLS build of Squid (Debian's plain
/// `squid`; `s3squid squid-conf --gnutls-squid`): exactly TLS 1.2. That build checks no
/// certificate (measured: a wrong CA or name is served and cached) and sends no SNI, so the
/// default is [`OPENSSL_PEER_TLS_OPTIONS`]. Measured there:
/// - `tls-min-version=1.2` alone is FATAL ("The request is invalid" in TLS options
///   `:-VERS-TLS1.0:-VERS-TLS1.1`): Squid appends the exclusions to `tls-options`, which must
///   therefore start with a GnuTLS priority (`NORMAL`);
/// - with TLS 1.3, Squid fails to read the response once the server has sent session
///   tickets after the handshake (as most servers do): 502 `ERR_READ_ERROR`, the request
///   having reached the server. `-VERS-TLS1.3` avoids it; S3 supports TLS 1.2.
pub const GNUTLS_PEER_TLS_OPTIONS: &str = "tls-options=NORMAL:-VERS-TLS1.3 tls-min-version=1.2";
/// The default TLS options of https S3 peers (after `tls`), for an OpenSSL build of Squid
/// (Debian's `squid-openssl`, which scripts/install-deps installs): at least TLS 1.2, the
/// certificate and its name checked, SNI sent (e2e `tls::*`). That build rejects
/// `tls-options=NORMAL`. `tls-options=NO_SSLv3` changes nothing with OpenSSL 3 (no SSLv3),
/// but without an option of its own Squid 5.7 logs `ERROR: Unknown TLS option` for each
/// peer (measured with `squid -k parse`): `tls-min-version` appends its exclusions to an
/// empty list.
pub const OPENSSL_PEER_TLS_OPTIONS: &str = "tls-min-version=1.2 tls-options=NO_SSLv3";

impl SquidInstance {
    /// Debian-style defaults for a Squid named `tag` (`s3edge`, `s3signer`).
    fn debian(tag: &str, visible_hostname: &str, cache_dir_mb: u32, cache_mem_mb: u32) -> Self {
        let spool = PathBuf::from(format!("/var/spool/squid-{tag}"));
        SquidInstance {
            visible_hostname: visible_hostname.to_owned(),
            pid_filename: PathBuf::from(format!("/run/squid-{tag}.pid")),
            cache_log: PathBuf::from(format!("/var/log/squid/{tag}-cache.log")),
            access_log: PathBuf::from(format!("/var/log/squid/{tag}-access.log")),
            cache_dir: spool.clone(),
            cache_dir_mb,
            cache_mem_mb,
            maximum_object_size_mb: 4096,
            coredump_dir: spool,
            workers: 1,
        }
    }
}

/// Whether a URL host is an IP literal (`dst` ACLs) rather than a name (`dstdomain`).
pub(crate) fn is_ip_literal(host: &str) -> bool {
    host.parse::<Ipv4Addr>().is_ok()
        || host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .is_some_and(|h| h.parse::<Ipv6Addr>().is_ok())
}

/// The host without IPv6 brackets, as `cache_peer` and `dst` take it.
pub(crate) fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// The parameters for `cfg` with the defaults: public hosts and S3 peers from the routes,
/// the public Squid on the public hosts' ports on all interfaces, the signing Squid on
/// `127.0.0.1:3129`, the ICAP service from `[icap]`, s3squid-rewrite when a route has
/// `auth = "none"`, Debian-style paths.
pub fn params_from_config(cfg: &Config) -> SquidConfParams {
    let mut public_hosts: Vec<PublicHost> = Vec::new();
    let mut s3_peers: Vec<S3Peer> = Vec::new();
    let mut freshness = Vec::new();
    for r in &cfg.routes {
        freshness.push(RouteFreshness {
            route: r.name.clone(),
            public_prefix: r.public.to_string(),
            store_id_prefix: s3map::storeid::route_prefix(r),
            freshness: r.freshness,
        });
        let p = &r.public;
        match public_hosts
            .iter_mut()
            .find(|h| h.scheme == p.scheme && h.host == p.host && h.port == p.port)
        {
            Some(h) => {
                h.paths.push(p.path.clone());
                h.routes.push(r.name.clone());
            }
            None => public_hosts.push(PublicHost {
                scheme: p.scheme,
                host: p.host.clone(),
                port: p.port,
                paths: vec![p.path.clone()],
                routes: vec![r.name.clone()],
            }),
        }
        let ep = &r.endpoint;
        let host = match r.addressing {
            Addressing::Path => ep.host.clone(),
            Addressing::Virtual => format!("{}.{}", r.bucket, ep.host),
        };
        match s3_peers
            .iter_mut()
            .find(|s| s.scheme == ep.scheme && s.host == host && s.port == ep.port)
        {
            Some(s) => {
                if !s.routes.contains(&r.name) {
                    s.routes.push(r.name.clone());
                }
            }
            None => {
                let name = format!("s3_{}", s3_peers.len() + 1);
                s3_peers.push(S3Peer {
                    name,
                    scheme: ep.scheme,
                    host,
                    port: ep.port,
                    routes: vec![r.name.clone()],
                });
            }
        }
    }
    let ports = |scheme: Scheme| {
        let mut v: Vec<String> = Vec::new();
        for h in public_hosts.iter().filter(|h| h.scheme == scheme) {
            let port = h.port.to_string();
            if !v.contains(&port) {
                v.push(port);
            }
        }
        v
    };
    let icap = &cfg.icap;
    SquidConfParams {
        public_http_listen: ports(Scheme::Http),
        public_https_listen: ports(Scheme::Https),
        public_hosts,
        s3_peers,
        freshness,
        tls_cert: PathBuf::from("/etc/squid/s3squid-public.crt"),
        tls_key: PathBuf::from("/etc/squid/s3squid-public.key"),
        signer_listen: DEFAULT_SIGNER_LISTEN,
        s3_tls_options: OPENSSL_PEER_TLS_OPTIONS.to_owned(),
        gnutls_squid: false,
        squid_version: SquidVersion::OLDEST_TESTED,
        signer_clients: vec!["127.0.0.1".to_owned(), "::1".to_owned()],
        icap_uri: format!("icap://{}/{}", icap.listen, icap.service),
        storeid_command: DEFAULT_STOREID_COMMAND.to_owned(),
        rewrite_command: DEFAULT_REWRITE_COMMAND.to_owned(),
        rewrite_beside_icap: cfg.routes.iter().any(|r| r.auth == Auth::None),
        helper_concurrency: DEFAULT_HELPER_CONCURRENCY,
        access_log_module: AccessLogModule::Daemon,
        cache_effective_user: None,
        edge: SquidInstance::debian("s3edge", "s3squid-edge", 10_240, 256),
        signer: SquidInstance::debian("s3signer", "s3squid-signer", 100, 32),
        // A Squid of its own beside the packaged one (which keeps its files, and to which
        // `--fragment` adds s3squid instead).
        single: SquidInstance::debian("s3single", "s3squid", 10_240, 256),
        parents: fleet_parents(&DEFAULT_FLEET_PARENTS),
        edge_sources: vec!["127.0.0.1".to_owned(), "::1".to_owned()],
    }
}

impl SquidConfParams {
    /// Whether any public host is https (then `https_port`s and the edge's second parent
    /// are rendered).
    pub fn has_https_public(&self) -> bool {
        self.public_hosts.iter().any(|h| h.scheme == Scheme::Https)
    }

    /// The [`SquidInstance`] of a role, to change.
    pub fn instance_mut(&mut self, role: Role) -> &mut SquidInstance {
        match role {
            Role::Edge => &mut self.edge,
            Role::Signer => &mut self.signer,
            Role::Single => &mut self.single,
        }
    }
}
