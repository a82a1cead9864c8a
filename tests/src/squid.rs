//! Real Squid in both sample layouts, with s3squid-icap and s3squid-storeid, rendered from
//! the same templates as the shipped `squid-conf/` files (only ports and paths differ).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use s3squid::squid_conf::{
    params_from_config, render, Layout, SquidConfParams, SquidInstance, SquidVersion,
};

use crate::s3::S3;
use crate::{bin, free_port, is_root, wait_port, Proc, Sandbox, ACCESS_KEY, SECRET_KEY};

/// The public host every e2e route serves.
pub const PUBLIC_HOST: &str = "images.example.com";

/// A running s3squid-icap.
pub struct Icap {
    /// Its ICAP port.
    pub port: u16,
    /// Its `/metrics` port.
    pub metrics_port: u16,
    /// Its stderr log.
    pub log: PathBuf,
    /// The process.
    pub proc: Proc,
    config: PathBuf,
    env: Vec<(String, String)>,
}

/// The environment that gives s3squid-icap static credentials.
pub fn static_creds(access_key: &str, secret_key: &str) -> Vec<(String, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID".into(), access_key.into()),
        ("AWS_SECRET_ACCESS_KEY".into(), secret_key.into()),
    ]
}

impl Icap {
    /// Starts s3squid-icap with `config` and `env` added to a hermetic credentials
    /// environment (no instance metadata, no profile files unless `env` says so).
    pub fn start(
        sb: &Sandbox,
        config: PathBuf,
        port: u16,
        metrics_port: u16,
        env: Vec<(String, String)>,
    ) -> Icap {
        let log = sb.path("s3squid-icap.log");
        let proc = Self::spawn(&config, &log, &env);
        wait_port(port, "s3squid-icap");
        wait_port(metrics_port, "s3squid-icap /metrics");
        Icap {
            port,
            metrics_port,
            log,
            proc,
            config,
            env,
        }
    }

    fn spawn(config: &std::path::Path, log: &std::path::Path, env: &[(String, String)]) -> Proc {
        let mut cmd = Command::new(bin("s3squid-icap"));
        cmd.arg("--config")
            .arg(config)
            .arg("--log-level")
            .arg("debug");
        // Hermetic credentials: only what the test gives; never the instance-metadata
        // address (tests reach loopback only).
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let state = config.parent().unwrap().join("state");
        cmd.arg("--state-dir").arg(&state);
        Proc::spawn("s3squid-icap", cmd, log)
    }

    /// Stops it (signer outage).
    pub fn stop(&mut self) {
        self.proc.stop(Duration::from_secs(5));
    }

    /// Starts it again with the same config and environment.
    pub fn restart(&mut self) {
        self.proc.stop(Duration::from_secs(5));
        self.proc = Self::spawn(&self.config, &self.log, &self.env);
        wait_port(self.port, "s3squid-icap");
    }

    /// The `/metrics` text.
    pub fn metrics(&self) -> String {
        String::from_utf8(crate::http::get(self.metrics_port, "127.0.0.1", "/metrics").body)
            .unwrap()
    }

    /// The value of the metric line starting with `name` (name plus labels, exactly).
    pub fn metric(&self, name: &str) -> f64 {
        let text = self.metrics();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
    }
}

/// One access.log line (Squid's native format).
#[derive(Debug, Clone)]
pub struct Access {
    /// `TCP_MISS`, `TCP_MEM_HIT`, …
    pub action: String,
    /// HTTP status.
    pub status: u16,
    /// Method.
    pub method: String,
    /// URL as logged (query stripped by `strip_query_terms on`).
    pub url: String,
    /// Where it was fetched from: `HIER_NONE` (not forwarded), `FIRSTUP_PARENT`, …
    pub hierarchy: String,
}

impl Access {
    /// Any kind of hit.
    pub fn hit(&self) -> bool {
        self.action.contains("HIT")
    }
}

/// The Squid binary the harness runs: `S3SQUID_E2E_SQUID` (e.g. a wrapper of
/// scripts/squid-versions), else (unset or empty) `squid` on PATH.
pub fn squid_program() -> std::ffi::OsString {
    std::env::var_os("S3SQUID_E2E_SQUID")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "squid".into())
}

/// The version of [`squid_program`] (`squid -v`, asked once): the stacks render for it,
/// as `s3squid squid-conf` does, and tests check what differs by version against it.
pub fn squid_version() -> SquidVersion {
    static VERSION: std::sync::OnceLock<SquidVersion> = std::sync::OnceLock::new();
    *VERSION.get_or_init(|| {
        SquidVersion::probe(&squid_program()).unwrap_or_else(|e| {
            panic!(
                "{e}\nsquid is not installed or not on PATH: run scripts/test, which installs it"
            )
        })
    })
}

/// An access.log action without the error suffixes Squid 6 and later append where 5.7 does
/// not (`TCP_MISS_ABORTED`, `TCP_REFRESH_FAIL_OLD_TIMEDOUT`): the tests compare the action.
fn base_action(action: &str) -> &str {
    let mut a = action;
    while let Some(rest) = ["_ABORTED", "_TIMEDOUT", "_IGNORED"]
        .iter()
        .find_map(|s| a.strip_suffix(s))
    {
        a = rest;
    }
    a
}

/// A running Squid.
pub struct Squid {
    /// `edge`, `signer` or `single`.
    pub name: String,
    /// Its public (or signer) port on 127.0.0.1.
    pub port: u16,
    /// Its squid.conf.
    pub conf: PathBuf,
    /// Its access.log.
    pub access_log: PathBuf,
    /// Its cache.log.
    pub cache_log: PathBuf,
    /// The `squid -N` process.
    pub proc: Proc,
    /// Its `-n` service name, unique per instance: Squid names its shared-memory segments
    /// after it (`/squid-cf__metadata.shm` by default), so two Squids starting at once under
    /// the default name collide (`shm_open … File exists`, and one of them exits).
    service: String,
}

impl Squid {
    /// Writes `conf_text` and starts Squid in the foreground (`-z` first for the cache dirs).
    pub fn start(
        sb: &Sandbox,
        name: &str,
        conf_text: &str,
        port: u16,
        inst: &SquidInstance,
    ) -> Squid {
        let conf = sb.path(&format!("{name}.conf"));
        // Test-only: shut down within a second instead of Squid's default 30.
        std::fs::write(
            &conf,
            format!(
                "{conf_text}\n# e2e harness\nshutdown_lifetime 1 seconds\n{}",
                // S3SQUID_E2E_SQUID_DEBUG="93,3" adds Squid debug sections to cache.log.
                std::env::var("S3SQUID_E2E_SQUID_DEBUG")
                    .map(|d| format!("debug_options ALL,1 {d}\n"))
                    .unwrap_or_default()
            ),
        )
        .unwrap();
        if is_root() {
            crate::give_to_proxy(&sb.dir);
        }
        // Alphanumeric, as Squid requires.
        let service = format!("e2e{}p{port}", std::process::id());
        let out = Command::new(squid_program()).arg("-N").args(["-n", &service]).arg("-f").arg(&conf).arg("-z").output().unwrap_or_else(|e| {
            panic!("squid is not installed or not on PATH ({e}): run scripts/test, which installs it")
        });
        assert!(
            out.status.success(),
            "squid -z failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut cmd = Command::new(squid_program());
        // `-N` runs one process and ignores `workers`; an SMP Squid needs its master, kept
        // in the foreground (stopping it by PID stops the kids).
        let mode = if inst.workers > 1 {
            "--foreground"
        } else {
            "-N"
        };
        cmd.arg(mode).args(["-n", &service]).arg("-f").arg(&conf);
        let proc = Proc::spawn(
            &format!("squid-{name}"),
            cmd,
            &sb.path(&format!("{name}.stderr")),
        );
        wait_port(port, &format!("squid {name}"));
        Squid {
            name: name.to_owned(),
            port,
            conf,
            access_log: inst.access_log.clone(),
            cache_log: inst.cache_log.clone(),
            proc,
            service,
        }
    }

    /// The access.log entries so far, without the `error:transaction-end-before-headers`
    /// lines the harness's port probes leave.
    pub fn access(&self) -> Vec<Access> {
        let text = std::fs::read_to_string(&self.access_log).unwrap_or_default();
        text.lines()
            .filter(|l| !l.contains(" error:transaction-end-before-headers"))
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let (action, status) = f.get(3)?.split_once('/')?;
                Some(Access {
                    action: base_action(action).to_owned(),
                    status: status.parse().ok()?,
                    method: f.get(5)?.to_string(),
                    url: f.get(6)?.to_string(),
                    hierarchy: f.get(8)?.split('/').next()?.to_owned(),
                })
            })
            .collect()
    }

    /// Waits until the access log has at least `n` entries (Squid's log daemon writes
    /// asynchronously), then returns them.
    pub fn access_n(&self, n: usize) -> Vec<Access> {
        crate::wait_until(
            10,
            &format!("{} access.log to have {n} lines", self.name),
            || self.access().len() >= n,
        );
        self.access()
    }

    /// cache.log so far.
    pub fn cache_log_text(&self) -> String {
        std::fs::read_to_string(&self.cache_log).unwrap_or_default()
    }

    /// `squid -k reconfigure`, then waits until Squid accepts connections again (it closes
    /// its listening sockets while it reconfigures, and restarts its helpers).
    pub fn reconfigure(&self) {
        let accepting = |log: &str| log.matches(" HTTP Socket connections at ").count();
        let before = accepting(&self.cache_log_text());
        self.control("reconfigure");
        crate::wait_until(
            15,
            &format!("{} to accept connections after -k reconfigure", self.name),
            || accepting(&self.cache_log_text()) > before,
        );
        // The line can come before the socket takes connections (seen once under load).
        crate::wait_port(self.port, &format!("{} after -k reconfigure", self.name));
    }

    /// `squid -k <what>` against this instance (rotate, reconfigure).
    pub fn control(&self, what: &str) {
        let out = Command::new(squid_program())
            .args(["-n", &self.service])
            .arg("-f")
            .arg(&self.conf)
            .args(["-k", what])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "squid -k {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The s3squid config of a test stack: one `sigv4` route `photos` (path-style, s3s-fs),
/// plus `extra_routes` where `ENDPOINT` stands for the s3s-fs endpoint.
pub fn config_text(icap_port: u16, metrics_port: u16, s3: &S3, extra_routes: &str) -> String {
    let extra_routes = extra_routes.replace("ENDPOINT", &s3.endpoint());
    format!(
        r#"[icap]
listen = "127.0.0.1:{icap_port}"
metrics_listen = "127.0.0.1:{metrics_port}"

[[route]]
name = "photos"
public = "http://{PUBLIC_HOST}/photos/"
bucket = "photos"
key_prefix = ""
region = "us-east-1"
endpoint = "{}"
addressing = "path"
auth = "sigv4"
{extra_routes}"#,
        s3.endpoint()
    )
}

/// The parameters of a test setup: the defaults for `cfg`, the public Squid on
/// `127.0.0.1:front_port`, the signer on a free port, the harness's helper binaries reading
/// `helper_config` (state in `sb/state`), `proxy` as Squid's user when the tests run as root,
/// and each Squid's files in `sb/edge`, `sb/signer` or `sb/single` (created), with small
/// caches of `cache_dir_mb`.
pub fn test_params(
    sb: &Sandbox,
    cfg: &s3map::config::Config,
    helper_config: &std::path::Path,
    front_port: u16,
    cache_dir_mb: u32,
) -> SquidConfParams {
    let mut p = params_from_config(cfg);
    p.public_http_listen = vec![format!("127.0.0.1:{front_port}")];
    p.signer_listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let helper = |name: &str| {
        format!(
            "{} --config {} --state-dir {}",
            bin(name).display(),
            helper_config.display(),
            sb.path("state").display()
        )
    };
    p.storeid_command = helper("s3squid-storeid");
    p.rewrite_command = helper("s3squid-rewrite");
    p.cache_effective_user = is_root().then(|| "proxy".to_owned());
    p.squid_version = squid_version();
    for (inst, tag) in [
        (&mut p.edge, "edge"),
        (&mut p.signer, "signer"),
        (&mut p.single, "single"),
    ] {
        in_sandbox(sb, inst, tag, cache_dir_mb);
    }
    p
}

/// Writes the s3squid config of a test stack ([`config_text`], with `extra_routes`) on free
/// ports and starts s3squid-icap with it and `env`: the service, the config's path and the
/// loaded config.
fn start_icap(
    sb: &Sandbox,
    s3: &S3,
    extra_routes: &str,
    env: Vec<(String, String)>,
) -> (Icap, PathBuf, s3map::config::Config) {
    let icap_port = free_port();
    let config = sb.path("s3squid.toml");
    let metrics_port = free_port();
    std::fs::write(
        &config,
        config_text(icap_port, metrics_port, s3, extra_routes),
    )
    .unwrap();
    let cfg = s3squid_startup::load(&config).unwrap();
    let icap = Icap::start(sb, config.clone(), icap_port, metrics_port, env);
    (icap, config, cfg)
}

/// The text of the rendered file `name`.
fn file_text(files: &[(String, String)], name: &str) -> String {
    files
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| panic!("no {name} rendered"))
}

/// Starts the signing Squid of rendered `files` (two-tier, fleet).
fn start_signer(sb: &Sandbox, files: &[(String, String)], p: &SquidConfParams) -> Squid {
    let text = file_text(files, "signer.conf");
    Squid::start(sb, "signer", &text, p.signer_listen.port(), &p.signer)
}

/// Puts a Squid's PID file, logs, cache and core dumps in the sandbox directory `tag`, with
/// a `cache_dir` of `cache_dir_mb` and 16 MB of `cache_mem`.
fn in_sandbox(sb: &Sandbox, inst: &mut SquidInstance, tag: &str, cache_dir_mb: u32) {
    let d = sb.path(tag);
    std::fs::create_dir_all(&d).unwrap();
    inst.pid_filename = d.join("squid.pid");
    inst.cache_log = d.join("cache.log");
    inst.access_log = d.join("access.log");
    inst.cache_dir = d.join("cache");
    inst.coredump_dir = d.clone();
    inst.cache_dir_mb = cache_dir_mb;
    inst.cache_mem_mb = 16;
}

/// Options of a stack.
pub struct StackOptions {
    /// Credentials given to s3squid-icap (None: no static credentials).
    pub creds: Option<(&'static str, &'static str)>,
    /// More environment for s3squid-icap (e.g. a mock credentials endpoint).
    pub icap_env: Vec<(String, String)>,
    /// Extra `[[route]]` tables.
    pub extra_routes: String,
    /// Replace the store-id helper's config path with this one (single layout).
    pub storeid_config: Option<PathBuf>,
    /// Also start an anonymous s3s-fs; `ANON_ENDPOINT` in `extra_routes` names it.
    pub anonymous_s3: bool,
    /// `concurrency=` of the helpers (default: the sample's).
    pub helper_concurrency: Option<u32>,
    /// Put S3's conditional GET (304) in front of s3s-fs (`crate::conditional`).
    pub s3_conditionals: bool,
    /// Each Squid's `cache_dir` size in MB (default 100).
    pub cache_dir_mb: u32,
    /// A domain for s3s-fs's virtual-hosted requests (`BUCKET.<domain>`); every Squid
    /// resolves `photos.<domain>` and `<domain>` to 127.0.0.1 through a `hosts_file` of its
    /// own, never the machine's /etc/hosts. `S3_PORT` in `extra_routes` names s3s-fs's port.
    pub s3_domain: Option<&'static str>,
    /// SMP workers of the edge (two-tier; default 1). With more, each worker writes its
    /// own access log, `edge/access-<worker>.log`.
    pub edge_workers: u32,
    /// Put a TLS front (`crate::tls`) before s3s-fs: `S3_TLS_PORT` in `extra_routes` names
    /// its port, and every Squid resolves its names to 127.0.0.1 through its `hosts_file`.
    pub s3_tls: Option<S3Tls>,
}

/// S3 behind TLS ([`StackOptions::s3_tls`]).
pub struct S3Tls {
    /// The front's names and whether it needs SNI.
    pub front: crate::tls::TlsFrontOptions,
    /// What follows `tls` on the https S3 `cache_peer` lines
    /// ([`SquidConfParams::s3_tls_options`]); `CA_FILE` stands for the front's CA file.
    pub peer_options: String,
    /// Also start an impostor before s3s-fs: a front like the first whose certificate
    /// comes from a CA of its own, which Squid does not trust. `S3_IMPOSTOR_PORT` in
    /// `extra_routes` names its port. (Squid probes each peer once as it starts and takes
    /// one that refused as down, so every front must be up before Squid.)
    pub impostor: bool,
    /// Also start a front whose certificate comes from the trusted CA but names
    /// `other.test`; `S3_WRONG_NAME_PORT` in `extra_routes` names its port.
    pub wrong_name: bool,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            creds: Some((ACCESS_KEY, SECRET_KEY)),
            icap_env: Vec::new(),
            extra_routes: String::new(),
            storeid_config: None,
            anonymous_s3: false,
            helper_concurrency: None,
            s3_conditionals: false,
            cache_dir_mb: 100,
            s3_domain: None,
            edge_workers: 1,
            s3_tls: None,
        }
    }
}

/// S3 + s3squid-icap + the Squids of one layout.
pub struct Stack {
    /// The Squid clients talk to (edge or single).
    pub front: Squid,
    /// The signing Squid (two-tier only).
    pub signer: Option<Squid>,
    /// s3squid-icap.
    pub icap: Icap,
    /// s3s-fs.
    pub s3: S3,
    /// The anonymous s3s-fs, if asked for.
    pub anon: Option<S3>,
    /// The TLS front before s3s-fs, if asked for ([`StackOptions::s3_tls`]).
    pub tls: Option<crate::tls::TlsFront>,
    /// The impostor front before s3s-fs, if asked for ([`S3Tls::impostor`]).
    pub tls_impostor: Option<crate::tls::TlsFront>,
    /// The front with a certificate for another name, if asked for ([`S3Tls::wrong_name`]).
    pub tls_wrong_name: Option<crate::tls::TlsFront>,
    /// The s3squid config file.
    pub config: PathBuf,
    /// The rendered parameters.
    pub params: SquidConfParams,
}

impl Stack {
    /// Starts a whole stack in `layout` inside `sb`.
    pub fn start(sb: &Sandbox, layout: Layout, opts: StackOptions) -> Stack {
        // The TLS front's port is chosen first: a virtual-hosted bucket behind it is asked
        // for with that port in its Host, which s3s-fs must know as one of its domains.
        let tls_port = free_port();
        let mut s3 = match opts.s3_domain {
            Some(d) if opts.s3_tls.is_some() => S3::start_with_domain(sb, d, &[tls_port]),
            Some(d) => S3::start_with_domain(sb, d, &[]),
            None => S3::start(sb),
        };
        if opts.s3_conditionals {
            s3.answer_conditionals();
        }
        s3.bucket("photos");
        s3.bucket("site");
        let anon = opts.anonymous_s3.then(|| S3::start_anonymous(sb));
        let backend = s3.conditional.as_ref().map_or(s3.port, |c| c.port);
        let ca = crate::tls::TestCa::new("s3squid e2e CA s3");
        let tls = opts
            .s3_tls
            .as_ref()
            .map(|t| crate::tls::TlsFront::start_with(sb, "s3", tls_port, backend, &ca, &t.front));
        let tls_wrong_name = opts.s3_tls.as_ref().filter(|t| t.wrong_name).map(|_| {
            let other = crate::tls::TlsFrontOptions {
                names: vec!["other.test".to_owned()],
                require_sni: false,
            };
            crate::tls::TlsFront::start_with(sb, "wrong-name", free_port(), backend, &ca, &other)
        });
        let tls_impostor = opts
            .s3_tls
            .as_ref()
            .filter(|t| t.impostor)
            .map(|t| crate::tls::TlsFront::start(sb, "impostor", backend, &t.front));
        let extra_routes = match &anon {
            Some(a) => opts.extra_routes.replace("ANON_ENDPOINT", &a.endpoint()),
            None => opts.extra_routes.clone(),
        }
        .replace("S3_PORT", &s3.port.to_string())
        .replace(
            "S3_TLS_PORT",
            &tls.as_ref().map_or(0, |t| t.port).to_string(),
        )
        .replace(
            "S3_IMPOSTOR_PORT",
            &tls_impostor.as_ref().map_or(0, |t| t.port).to_string(),
        )
        .replace(
            "S3_WRONG_NAME_PORT",
            &tls_wrong_name.as_ref().map_or(0, |t| t.port).to_string(),
        );
        let mut env = opts
            .creds
            .map(|(a, k)| static_creds(a, k))
            .unwrap_or_default();
        env.extend(opts.icap_env.iter().cloned());
        let (icap, config, cfg) = start_icap(sb, &s3, &extra_routes, env);

        let front_port = free_port();
        let storeid_conf = opts
            .storeid_config
            .clone()
            .unwrap_or_else(|| config.clone());
        let mut p = test_params(sb, &cfg, &storeid_conf, front_port, opts.cache_dir_mb);
        if let Some(c) = opts.helper_concurrency {
            p.helper_concurrency = c;
        }
        if let (Some(t), Some(front)) = (&opts.s3_tls, &tls) {
            p.s3_tls_options = t
                .peer_options
                .replace("CA_FILE", &front.ca_file.display().to_string());
        }
        p.edge.workers = opts.edge_workers;
        if opts.edge_workers > 1 {
            // One log per worker: Squid expands the macro in each.
            p.edge.access_log = sb.path("edge/access-${process_number}.log");
        }
        let mut files = render(layout, &p);
        let mut names: Vec<String> = opts
            .s3_domain
            .map(|d| vec![d.to_owned(), format!("photos.{d}")])
            .unwrap_or_default();
        if let Some(t) = &opts.s3_tls {
            names.extend(t.front.names.iter().cloned());
        }
        if !names.is_empty() {
            let hosts = sb.path("hosts");
            std::fs::write(&hosts, format!("127.0.0.1 {}\n", names.join(" "))).unwrap();
            for (_, text) in &mut files {
                text.push_str(&format!("hosts_file {}\n", hosts.display()));
            }
        }
        let text = |name: &str| file_text(&files, name);
        let (front, signer) = match layout {
            Layout::TwoTier => {
                let signer = start_signer(sb, &files, &p);
                let edge = Squid::start(sb, "edge", &text("edge.conf"), front_port, &p.edge);
                (edge, Some(signer))
            }
            Layout::Single | Layout::Rewrite => (
                Squid::start(sb, "single", &text("squid.conf"), front_port, &p.single),
                None,
            ),
            Layout::Fleet => panic!("a fleet has several edges: start it with Fleet::start"),
        };
        Stack {
            front,
            signer,
            icap,
            s3,
            anon,
            tls,
            tls_impostor,
            tls_wrong_name,
            config,
            params: p,
        }
    }

    /// GET `path` (raw, already percent-encoded) on the public host through the front Squid.
    pub fn get(&self, path: &str) -> crate::http::Response {
        crate::http::get(self.front.port, PUBLIC_HOST, path)
    }

    /// HEAD likewise.
    pub fn head(&self, path: &str) -> crate::http::Response {
        crate::http::head(self.front.port, PUBLIC_HOST, path)
    }
}

/// The fleet layout ([`Layout::Fleet`]) on loopback: edges, each with a public port of its
/// own, in front of parents the edges choose among by CARP, then one signing Squid,
/// s3squid-icap (static credentials) and s3s-fs. Every Squid runs the rendered sample with
/// only ports and paths changed: each edge's file is the same but for its `http_port` and its
/// own files.
pub struct Fleet {
    /// The edges, `edge-1` …, in the order of [`Fleet::get`]'s index.
    pub edges: Vec<Squid>,
    /// The parents, `parent-1` …, in the order the edges list them.
    pub parents: Vec<Squid>,
    /// The signing Squid.
    pub signer: Squid,
    /// s3squid-icap.
    pub icap: Icap,
    /// s3s-fs.
    pub s3: S3,
    /// The parameters the parents and the signing Squid were rendered with (the edges'
    /// differ in `public_http_listen` and `edge`).
    pub params: SquidConfParams,
    /// Each parent's rendered file, to start it again.
    parent_confs: Vec<String>,
}

impl Fleet {
    /// Starts s3s-fs, s3squid-icap, the signing Squid, `parents` parents and `edges` edges,
    /// in that order (a Squid counts a parent that refused its first probe as down).
    pub fn start(sb: &Sandbox, edges: usize, parents: usize) -> Fleet {
        let s3 = S3::start(sb);
        s3.bucket("photos");
        let (icap, config, cfg) = start_icap(sb, &s3, "", static_creds(ACCESS_KEY, SECRET_KEY));
        // Each edge gets its own port and directory below; the defaults for the rest.
        let mut p = test_params(sb, &cfg, &config, free_port(), 100);
        let listen: Vec<std::net::SocketAddr> = (0..parents)
            .map(|_| format!("127.0.0.1:{}", free_port()).parse().unwrap())
            .collect();
        p.parents = s3squid::squid_conf::fleet_parents(&listen);
        for (i, parent) in p.parents.iter_mut().enumerate() {
            in_sandbox(sb, &mut parent.instance, &format!("parent-{}", i + 1), 100);
        }
        let files = render(Layout::Fleet, &p);
        let text = |name: &str| file_text(&files, name);
        let signer = start_signer(sb, &files, &p);
        let parent_confs: Vec<String> = (1..=parents)
            .map(|n| text(&format!("parent-{n}.conf")))
            .collect();
        let parent_squids = p
            .parents
            .iter()
            .zip(&parent_confs)
            .enumerate()
            .map(|(i, (parent, conf))| {
                let name = format!("parent-{}", i + 1);
                Squid::start(sb, &name, conf, parent.listen.port(), &parent.instance)
            })
            .collect();
        let edge_squids = (1..=edges)
            .map(|n| {
                let name = format!("edge-{n}");
                let port = free_port();
                let mut e = p.clone();
                e.public_http_listen = vec![format!("127.0.0.1:{port}")];
                in_sandbox(sb, &mut e.edge, &name, 100);
                let text = render(Layout::Fleet, &e).remove(0).1;
                Squid::start(sb, &name, &text, port, &e.edge)
            })
            .collect();
        Fleet {
            edges: edge_squids,
            parents: parent_squids,
            signer,
            icap,
            s3,
            params: p,
            parent_confs,
        }
    }

    /// GET `path` (raw, already percent-encoded) on the public host through edge `i` (from 0).
    pub fn get(&self, i: usize, path: &str) -> crate::http::Response {
        crate::http::get(self.edges[i].port, PUBLIC_HOST, path)
    }

    /// Stops parent `i` (from 0), by PID.
    pub fn stop_parent(&mut self, i: usize) {
        self.parents[i].proc.stop(Duration::from_secs(5));
    }

    /// Starts parent `i` (from 0) again on its port and files (its cache_dir kept).
    pub fn restart_parent(&mut self, sb: &Sandbox, i: usize) {
        self.stop_parent(i);
        let (name, port) = (self.parents[i].name.clone(), self.parents[i].port);
        let inst = &self.params.parents[i].instance;
        self.parents[i] = Squid::start(sb, &name, &self.parent_confs[i], port, inst);
    }
}
