//! The state every connection shares: the configuration generation in force (swapped
//! atomically on reload), the credentials, the counters.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use s3map::config::Config;
use s3map::route::RouteTable;
use s3map::Credentials;

use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::respond::ServiceInfo;

/// One configuration generation, frozen.
#[derive(Debug)]
pub struct State {
    /// Routes, switches and presign lifetime.
    pub policy: Policy,
    /// ISTag, Options-TTL, Max-Connections.
    pub info: ServiceInfo,
    /// `/<service>`: the path of the ICAP URI this service answers.
    pub path: String,
    /// How long an idle connection is kept.
    pub idle_timeout: Duration,
    /// 1 at start, +1 per applied reload.
    pub generation: u64,
    /// Time between active probes (zero: off).
    pub probe_interval: Duration,
}

impl State {
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

/// Everything a connection needs.
#[derive(Debug)]
pub struct Service {
    state: RwLock<Arc<State>>,
    creds: RwLock<Option<Credentials>>,
    /// The connection limit, fixed at start (it sizes the accept loop's semaphore and is
    /// what OPTIONS advertises, whatever later reloads say).
    pub max_connections: usize,
    /// Counters.
    pub metrics: Metrics,
}

/// What a reload changed that only a restart applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsRestart(pub Vec<&'static str>);

impl Service {
    /// Freezes a validated config and the credentials found at startup.
    pub fn new(config: &Config, creds: Option<Credentials>) -> Self {
        let max = config.icap.max_connections;
        let svc = Service {
            state: RwLock::new(Arc::new(build_state(config, max, 1))),
            creds: RwLock::new(creds),
            max_connections: max,
            metrics: Metrics::default(),
        };
        svc.metrics
            .config_generation
            .store(1, std::sync::atomic::Ordering::Relaxed);
        svc
    }

    /// The generation in force. Connections take it once per message, so a reload applies
    /// to the next message with no dropped connection.
    pub fn state(&self) -> Arc<State> {
        match self.state.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Applies a new validated config atomically. Settings that need a restart (the listen
    /// addresses and the connection limit) are kept and named in the result.
    pub fn apply(&self, config: &Config, old: &Config) -> NeedsRestart {
        let mut restart = Vec::new();
        if config.icap.listen != old.icap.listen {
            restart.push("icap.listen");
        }
        if config.icap.max_connections != old.icap.max_connections {
            restart.push("icap.max_connections");
        }
        if config.icap.metrics_listen != old.icap.metrics_listen {
            restart.push("icap.metrics_listen");
        }
        let generation = self.state().generation + 1;
        let next = Arc::new(build_state(config, self.max_connections, generation));
        match self.state.write() {
            Ok(mut s) => *s = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        let m = &self.metrics;
        m.config_generation
            .store(generation, std::sync::atomic::Ordering::Relaxed);
        m.config_reloads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        NeedsRestart(restart)
    }

    /// The credentials to sign with now: `None` when there are none or they have expired.
    pub fn credentials(&self, now: SystemTime) -> Option<Credentials> {
        let guard = match self.creds.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard
            .as_ref()
            .filter(|c| c.expiry().is_none_or(|e| e > now))
            .cloned()
    }

    /// Replaces the credentials (a refresh).
    pub fn set_credentials(&self, creds: Option<Credentials>) {
        match self.creds.write() {
            Ok(mut g) => *g = creds,
            Err(poisoned) => *poisoned.into_inner() = creds,
        }
    }
}

fn build_state(config: &Config, max_connections: usize, generation: u64) -> State {
    let icap = &config.icap;
    State {
        policy: Policy {
            table: RouteTable::new(&config.routes),
            expires: Duration::from_secs(u64::from(icap.presign_expires)),
            pass_through: icap.pass_through,
        },
        info: ServiceInfo {
            istag: format!("\"s3squid-{}-g{generation}\"", env!("CARGO_PKG_VERSION")),
            options_ttl: icap.options_ttl_secs,
            max_connections,
        },
        path: format!("/{}", icap.service),
        idle_timeout: Duration::from_secs(icap.idle_timeout_secs),
        generation,
        probe_interval: Duration::from_secs(icap.probe_interval_secs),
    }
}
