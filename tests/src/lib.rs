//! The end-to-end harness: starts real components on free loopback ports in a temp dir of
//! their own, and stops every process it started, by PID, when dropped.
//!
//! Components: Squid ([`squid`]), s3squid-icap and the helpers (built by `scripts/test`),
//! s3s-fs, a SigV4-verifying S3 ([`s3`], `docs/design.md#fact-5`), c-icap-client, and
//! loopback stand-ins for what cannot run here ([`mock`]: instance metadata, ECS), and nginx
//! as a TLS front for S3 with a CA made for the run ([`tls`]). Nothing
//! here installs anything: `scripts/test` does, and a missing component fails the test
//! loudly.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)] // test support code: a panic is a test failure with its location

pub mod conditional;
pub mod hang;
pub mod http;
pub mod listener;
pub mod mock;
pub mod origin;
pub mod proc;
pub mod s3;
pub mod squid;
pub mod stock;
pub mod tls;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub use proc::Proc;

/// The access key s3s-fs accepts in tests.
pub const ACCESS_KEY: &str = "AKIAS3SQUIDTESTKEY01";
/// The secret key s3s-fs accepts in tests (a stand-in: it must never appear in any log).
pub const SECRET_KEY: &str = "s3squid-e2e-Secret/Key+0123456789abcdefghij";

/// A temp dir of one test, removed when the test passes (kept for a look when it fails, or
/// always with `S3SQUID_E2E_KEEP=1`).
pub struct Sandbox {
    /// The directory.
    pub dir: PathBuf,
}

impl Sandbox {
    /// A fresh directory under the system temp dir, named after the test.
    pub fn new(name: &str) -> Sandbox {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "s3squid-e2e-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Sandbox { dir }
    }

    /// A path inside the sandbox.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("S3SQUID_E2E_KEEP").is_some() {
            eprintln!("e2e: keeping {} for inspection", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A free loopback TCP port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Path of a workspace binary. `scripts/test` builds them before the tests run.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // Tests run from target/<profile>/deps/, the harness's own binaries from target/<profile>/.
    let mut dir = exe.parent().unwrap();
    if dir.ends_with("deps") {
        dir = dir.parent().unwrap();
    }
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} is missing: build the workspace binaries first (scripts/test does: cargo build --workspace --bins)",
        p.display()
    );
    p
}

/// Whether we run as root (then Squid needs `cache_effective_user` and a chown).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Gives `dir` and everything in it to Squid's `proxy` user (Squid drops root for it), like
/// `chown -R proxy:proxy`, except that files that vanish during the walk (s3s-fs's
/// temporary uploads, another Squid's PID file: the sandbox is live) are skipped instead of
/// failing the test.
pub fn give_to_proxy(dir: &Path) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let (uid, gid) = passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"proxy") && f.len() > 3)
                .then(|| (f[2].parse::<u32>().unwrap(), f[3].parse::<u32>().unwrap()))
        })
        .expect("no proxy user in /etc/passwd: is Squid installed? (scripts/install-deps)");
    fn walk(p: &Path, uid: u32, gid: u32) {
        let vanished = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        match std::os::unix::fs::lchown(p, Some(uid), Some(gid)) {
            Err(e) if vanished(&e) => return,
            r => r.unwrap_or_else(|e| panic!("chown {}: {e}", p.display())),
        }
        let is_dir = match std::fs::symlink_metadata(p) {
            Err(e) if vanished(&e) => return,
            r => r.unwrap().is_dir(),
        };
        if !is_dir {
            return;
        }
        let entries = match std::fs::read_dir(p) {
            Err(e) if vanished(&e) => return,
            r => r.unwrap(),
        };
        for entry in entries {
            match entry {
                Err(e) if vanished(&e) => {}
                r => walk(&r.unwrap().path(), uid, gid),
            }
        }
    }
    walk(dir, uid, gid);
}

/// The key corpus every layout must serve: `tests/data/awkward-keys.txt`.
pub fn awkward_keys() -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/awkward-keys.txt");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Waits until `cond` holds, polling, for at most `secs`.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
}

/// Waits until something accepts connections on `127.0.0.1:port`.
pub fn wait_port(port: u16, what: &str) {
    wait_until(30, what, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
}
