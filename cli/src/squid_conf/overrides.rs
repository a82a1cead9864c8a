//! Changes the command line makes to [`SquidConfParams`] (`s3squid squid-conf --listen …
//! --state-dir …`), so that a script can render a runnable setup without editing files.
//! Pure: the caller makes [`Overrides::state_dir`] absolute and creates its directories.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{AccessLogModule, Layout, SquidConfParams, SquidInstance, SquidVersion};

/// `cache_dir` size, MB, at most, of a Squid under [`Overrides::state_dir`] (a demo needs
/// no 10 GB cache).
pub const DEMO_CACHE_DIR_MB: u32 = 256;
/// `cache_mem`, MB, at most, of a Squid under [`Overrides::state_dir`].
pub const DEMO_CACHE_MEM_MB: u32 = 64;
/// Largest `--concurrency`. An s3squid helper answers one line after another; more lines in
/// flight per process only lengthen the queue inside it.
pub const MAX_HELPER_CONCURRENCY: u32 = 1024;
/// Largest `--edge-workers` (Squid's own limit is 128; a cache host has fewer cores).
pub const MAX_WORKERS: u32 = 64;

/// Command-line changes to the parameters; each `None` (or empty, or `false`) keeps the
/// default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--listen`: replaces [`SquidConfParams::public_http_listen`] (`PORT` or `IP:PORT`).
    pub listen: Vec<String>,
    /// `--signer-listen`: [`SquidConfParams::signer_listen`].
    pub signer_listen: Option<SocketAddr>,
    /// `--state-dir`: every Squid's PID file, logs, `cache_dir` and `coredump_dir` in
    /// `DIR/edge`, `DIR/signer` or `DIR/single` (see [`Layout::instances`]), with caches of
    /// at most [`DEMO_CACHE_DIR_MB`] and [`DEMO_CACHE_MEM_MB`]. Absolute: Squid would read
    /// a relative path from its own working directory.
    pub state_dir: Option<PathBuf>,
    /// `--storeid-command`: [`SquidConfParams::storeid_command`].
    pub storeid_command: Option<String>,
    /// `--rewrite-command`: [`SquidConfParams::rewrite_command`], wherever s3squid-rewrite
    /// runs (the rewrite layout; the others when a route has `auth = "none"`). It does not
    /// make the other layouts run it.
    pub rewrite_command: Option<String>,
    /// `--user`: [`SquidConfParams::cache_effective_user`].
    pub user: Option<String>,
    /// `--concurrency`: [`SquidConfParams::helper_concurrency`].
    pub concurrency: Option<u32>,
    /// `--edge-workers`: the edge's [`SquidInstance::workers`].
    pub edge_workers: Option<u32>,
    /// `--access-log-stdio`: [`AccessLogModule::Stdio`].
    pub access_log_stdio: bool,
    /// `--gnutls-squid`: [`super::GNUTLS_PEER_TLS_OPTIONS`] for https S3 peers.
    pub gnutls_squid: bool,
    /// `--parent`: replaces [`SquidConfParams::parents`] (the fleet layout's), in this
    /// order; with [`Overrides::state_dir`] their files are in `DIR/parent-N`.
    pub parents: Vec<SocketAddr>,
    /// `--edge-from`: replaces [`SquidConfParams::edge_sources`] (`IP` or `IP/PREFIX`).
    pub edge_from: Vec<String>,
    /// `--squid-version` (or what `squid -v` said): [`SquidConfParams::squid_version`].
    pub squid_version: Option<SquidVersion>,
}

impl Overrides {
    /// Applies the changes to the parameters (of every layout).
    pub fn apply(&self, p: &mut SquidConfParams) {
        if !self.listen.is_empty() {
            p.public_http_listen = self.listen.clone();
        }
        if !self.parents.is_empty() {
            p.parents = super::fleet_parents(&self.parents);
        }
        if !self.edge_from.is_empty() {
            p.edge_sources = self.edge_from.clone();
        }
        if let Some(addr) = self.signer_listen {
            p.signer_listen = addr;
        }
        if let Some(dir) = &self.state_dir {
            for &(name, role) in Layout::ALL.iter().flat_map(|l| l.instances()) {
                in_state_dir(p.instance_mut(role), &dir.join(name));
            }
            for (i, parent) in p.parents.iter_mut().enumerate() {
                in_state_dir(&mut parent.instance, &dir.join(parent_dir(i)));
            }
        }
        if let Some(cmd) = &self.storeid_command {
            p.storeid_command = cmd.clone();
        }
        if let Some(cmd) = &self.rewrite_command {
            p.rewrite_command = cmd.clone();
        }
        if let Some(user) = &self.user {
            p.cache_effective_user = Some(user.clone());
        }
        if let Some(n) = self.concurrency {
            p.helper_concurrency = n;
        }
        if let Some(n) = self.edge_workers {
            p.edge.workers = n;
        }
        if self.access_log_stdio {
            p.access_log_module = AccessLogModule::Stdio;
        }
        if self.gnutls_squid {
            p.s3_tls_options = super::GNUTLS_PEER_TLS_OPTIONS.to_owned();
            p.gnutls_squid = true;
        }
        if let Some(v) = self.squid_version {
            p.squid_version = v;
        }
    }

    /// The directories [`Overrides::state_dir`] puts the Squids of `layout` in (empty
    /// without it): they must exist before Squid starts.
    pub fn state_dirs(&self, layout: Layout) -> Vec<PathBuf> {
        match &self.state_dir {
            None => Vec::new(),
            Some(dir) => {
                let mut dirs: Vec<PathBuf> = layout
                    .instances()
                    .iter()
                    .map(|(name, _)| dir.join(name))
                    .collect();
                if layout == Layout::Fleet {
                    let parents = if self.parents.is_empty() {
                        super::DEFAULT_FLEET_PARENTS.len()
                    } else {
                        self.parents.len()
                    };
                    dirs.extend((0..parents).map(|i| dir.join(parent_dir(i))));
                }
                dirs
            }
        }
    }
}

/// The state directory of the fleet's `i`-th parent (from 0): `parent-N`, as its file.
fn parent_dir(i: usize) -> String {
    format!("parent-{}", i + 1)
}

/// Every file of one Squid in `dir`, with a demo-sized cache.
fn in_state_dir(i: &mut SquidInstance, dir: &Path) {
    i.pid_filename = dir.join("squid.pid");
    i.cache_log = dir.join("cache.log");
    i.access_log = dir.join("access.log");
    i.cache_dir = dir.join("cache");
    i.coredump_dir = dir.to_path_buf();
    i.cache_dir_mb = i.cache_dir_mb.min(DEMO_CACHE_DIR_MB);
    i.cache_mem_mb = i.cache_mem_mb.min(DEMO_CACHE_MEM_MB);
}
