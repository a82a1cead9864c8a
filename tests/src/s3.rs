//! s3s-fs 0.14.1: a real S3 that verifies SigV4. Each directory under its root is a
//! bucket, each file a key; with `RUST_LOG=s3s=debug` it logs every request and the S3
//! operation it resolved, so tests can prove what reached S3.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::{free_port, wait_port, Proc, Sandbox, ACCESS_KEY, SECRET_KEY};

/// Modification time given to stored objects: long ago, as real stored objects are, so
/// Squid's LM-factor freshness keeps them fresh (docs/design.md#fact-8).
pub const OLD_MTIME: Duration = Duration::from_secs(1_577_836_800); // 2020-01-01

/// A running s3s-fs.
pub struct S3 {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its data root.
    pub root: PathBuf,
    /// Its log file.
    pub log: PathBuf,
    /// The process.
    pub proc: Proc,
    keys: bool,
    /// `--domain` (virtual-hosted requests for `BUCKET.<domain>`), if any.
    domain: Option<String>,
    /// Ports of fronts that pass their `Host` on (TLS), also served for `domain`.
    front_ports: Vec<u16>,
    /// S3's conditional GET in front of it, if asked for ([`S3::answer_conditionals`]).
    pub conditional: Option<crate::conditional::Conditional>,
}

impl S3 {
    /// Starts s3s-fs with the test access keys on a free port.
    pub fn start(sb: &Sandbox) -> S3 {
        Self::start_named(sb, "s3", true, None, &[])
    }

    /// [`S3::start`], also serving virtual-hosted requests for `BUCKET.<domain>`, on its own
    /// port and, as a TLS front before it passes the `Host` on, on `front_ports`.
    pub fn start_with_domain(sb: &Sandbox, domain: &str, front_ports: &[u16]) -> S3 {
        let mut s3 = Self::start_named(sb, "s3", true, Some(domain.to_owned()), front_ports);
        s3.front_ports = front_ports.to_vec();
        s3
    }

    /// Starts an s3s-fs that accepts anonymous requests (for `auth = "none"` routes).
    pub fn start_anonymous(sb: &Sandbox) -> S3 {
        Self::start_named(sb, "s3-anonymous", false, None, &[])
    }

    fn start_named(
        sb: &Sandbox,
        name: &str,
        keys: bool,
        domain: Option<String>,
        front_ports: &[u16],
    ) -> S3 {
        let root = sb.path(name);
        std::fs::create_dir_all(&root).unwrap();
        let port = free_port();
        let log = sb.path(&format!("{name}.log"));
        let proc = Self::spawn(&root, port, &log, keys, domain.as_deref(), front_ports);
        wait_port(port, "s3s-fs");
        S3 {
            port,
            root,
            log,
            proc,
            keys,
            domain,
            front_ports: Vec::new(),
            conditional: None,
        }
    }

    /// Puts S3's conditional GET (`304 Not Modified`) in front of it: [`S3::endpoint`] names
    /// the front from now on (`crate::conditional`).
    pub fn answer_conditionals(&mut self) {
        self.conditional = Some(crate::conditional::Conditional::start(self.port));
    }

    fn spawn(
        root: &std::path::Path,
        port: u16,
        log: &std::path::Path,
        keys: bool,
        domain: Option<&str>,
        front_ports: &[u16],
    ) -> Proc {
        let mut cmd = Command::new("s3s-fs");
        cmd.env("RUST_LOG", "s3s=debug").env("NO_COLOR", "1").args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ]);
        if keys {
            cmd.args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY]);
        }
        if let Some(d) = domain {
            // s3s matches the whole Host header, port included, against its domains.
            for p in std::iter::once(&port).chain(front_ports) {
                cmd.args(["--domain", &format!("{d}:{p}")]);
            }
        }
        cmd.arg(root);
        Proc::spawn("s3s-fs", cmd, log)
    }

    /// Stops it (S3 outage).
    pub fn stop(&mut self) {
        self.proc.stop(Duration::from_secs(5));
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.proc.stop(Duration::from_secs(5));
        self.proc = Self::spawn(
            &self.root,
            self.port,
            &self.log,
            self.keys,
            self.domain.as_deref(),
            &self.front_ports,
        );
        wait_port(self.port, "s3s-fs");
    }

    /// The endpoint URL: s3s-fs, or the conditional front before it.
    pub fn endpoint(&self) -> String {
        let port = self.conditional.as_ref().map_or(self.port, |c| c.port);
        format!("http://127.0.0.1:{port}")
    }

    /// Stores an object (writes the file, with an old modification time).
    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let path = self.root.join(bucket).join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + OLD_MTIME).unwrap();
    }

    /// Stores an object modified `age` ago: Squid's LM-factor freshness (20% of the age at
    /// fetch time) makes it stale soon after (docs/design.md#fact-8).
    pub fn put_recent(&self, bucket: &str, key: &str, body: &[u8], age: Duration) {
        self.put(bucket, key, body);
        let path = self.root.join(bucket).join(key);
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() - age).unwrap();
    }

    /// Creates an empty bucket.
    pub fn bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.root.join(bucket)).unwrap();
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `(operation, key)` for every request s3s-fs resolved, e.g. `("GetObject", "a b.txt")`.
    pub fn ops(&self) -> Vec<(String, String)> {
        self.log_text()
            .lines()
            .filter_map(|l| {
                let rest = l.split("resolved route, op: ").nth(1)?;
                let op = rest.split(',').next()?.to_owned();
                let key = rest
                    .split("key: \"")
                    .nth(1)
                    .and_then(|k| k.rsplit_once("\" }"))
                    .map(|(k, _)| unescape_debug(k))
                    .unwrap_or_default();
                Some((op, key))
            })
            .collect()
    }

    /// How many HTTP requests reached s3s-fs at all.
    pub fn requests(&self) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains("s3s::service: req: Request"))
            .count()
    }

    /// How many times `op` was resolved for `key`.
    pub fn count(&self, op: &str, key: &str) -> usize {
        self.ops()
            .iter()
            .filter(|(o, k)| o == op && k == key)
            .count()
    }
}

/// Undoes Rust's `{:?}` escaping of a string (as s3s logs keys).
fn unescape_debug(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = it.by_ref().skip(1).take_while(|&c| c != '}').collect();
                if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}
