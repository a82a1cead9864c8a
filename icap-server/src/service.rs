//! The frozen state every connection shares: policy, response metadata, counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use s3map::config::Config;
use s3map::route::RouteTable;
use s3map::Credentials;

use crate::policy::{Outcome, Policy, Unchanged};
use crate::respond::ServiceInfo;

/// Request counters by outcome (exported as metrics in a later stage; logged at shutdown).
#[derive(Debug, Default)]
pub struct Stats {
    /// Adapted to a presigned (or unsigned-route) S3 URL.
    pub adapted: AtomicU64,
    /// Refused with an HTTP error.
    pub refused: AtomicU64,
    /// Answered with a route's redirect.
    pub redirected: AtomicU64,
    /// Left alone: not under a route.
    pub not_ours: AtomicU64,
    /// Left alone although signed: no credentials or a signing failure.
    pub degraded: AtomicU64,
    /// Total microseconds spent deciding and encoding.
    pub busy_micros: AtomicU64,
}

impl Stats {
    /// Counts one REQMOD.
    pub fn record(&self, outcome: Option<&Outcome>, took: Duration) {
        let c = match outcome {
            Some(Outcome::Adapted { .. }) => &self.adapted,
            Some(Outcome::Refused(_)) => &self.refused,
            Some(Outcome::Redirect(..)) => &self.redirected,
            None | Some(Outcome::Unchanged(Unchanged::NotOurs)) => &self.not_ours,
            Some(Outcome::Unchanged(_)) => &self.degraded,
        };
        c.fetch_add(1, Ordering::Relaxed);
        self.busy_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
}

/// Everything a connection needs.
#[derive(Debug)]
pub struct Service {
    /// Route table, credentials and presign lifetime.
    pub policy: Policy,
    /// ISTag, Options-TTL, Max-Connections.
    pub info: ServiceInfo,
    /// `/<service>`: the path of the ICAP URI this service answers.
    pub path: String,
    /// How long an idle connection is kept.
    pub idle_timeout: Duration,
    /// Counters.
    pub stats: Stats,
}

impl Service {
    /// Freezes a validated config and the credentials found at startup.
    pub fn new(config: &Config, creds: Option<Credentials>) -> Self {
        let icap = &config.icap;
        Service {
            policy: Policy {
                table: RouteTable::new(&config.routes),
                creds,
                expires: Duration::from_secs(u64::from(icap.presign_expires)),
            },
            info: ServiceInfo {
                istag: format!("\"s3squid-{}\"", env!("CARGO_PKG_VERSION")),
                options_ttl: icap.options_ttl_secs,
                max_connections: icap.max_connections,
            },
            path: format!("/{}", icap.service),
            idle_timeout: Duration::from_secs(icap.idle_timeout_secs),
            stats: Stats::default(),
        }
    }

    /// Whether an ICAP URI (`icap://host[:port]/service[?…]`) names this service. The host
    /// is not checked: Squid writes whatever the operator configured.
    pub fn is_our_uri(&self, uri: &str) -> bool {
        let rest = uri
            .strip_prefix("icap://")
            .or_else(|| uri.strip_prefix("icaps://"))
            .unwrap_or(uri);
        let path = match rest.find('/') {
            Some(i) if uri.len() != rest.len() => &rest[i..],
            _ if uri.starts_with('/') => uri,
            _ => return false,
        };
        let path = path.split('?').next().unwrap_or(path);
        path == self.path
    }
}
