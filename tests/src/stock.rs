//! Debian's stock Squid (its squid.conf and conf.d/debian.conf, from `tests/data`) serving
//! traffic that has nothing to do with s3squid: a forward proxy for loopback clients on the
//! stock `http_port`, and an accelerated site `other.test` (an [`crate::origin::Origin`]) added
//! the way an operator adds one, in conf.d. s3squid's `--fragment` files are added to the same
//! conf.d, or not, so a test can compare the two.

use std::path::PathBuf;
use std::process::Command;

use s3squid::squid_conf::SquidInstance;

use crate::squid::{squid_program, Squid};
use crate::{free_port, is_root, wait_port, Sandbox};

/// Debian bookworm's stock squid.conf (comments removed).
pub const STOCK_SQUID_CONF: &str = include_str!("../data/debian-bookworm-squid.conf");
/// Debian bookworm's stock conf.d/debian.conf.
pub const STOCK_DEBIAN_CONF: &str = include_str!("../data/debian-bookworm-conf.d-debian.conf");
/// The host of the unrelated accelerated site.
pub const OTHER_SITE: &str = "other.test";

/// A stock Squid.
pub struct StockSquid {
    /// The Squid; its `port` is the stock forward-proxy port.
    pub squid: Squid,
    /// The unrelated accelerated site's port.
    pub site_port: u16,
    /// Its squid.conf, as `squid -k parse` takes it.
    pub conf: PathBuf,
}

/// The instance paths of a stock Squid in `dir` (the harness's, not Debian's: tests never
/// write to /var).
pub fn instance(dir: &std::path::Path) -> SquidInstance {
    SquidInstance {
        visible_hostname: "stock".to_owned(),
        pid_filename: dir.join("squid.pid"),
        cache_log: dir.join("cache.log"),
        access_log: dir.join("access.log"),
        cache_dir: dir.join("cache"),
        cache_dir_mb: 16,
        cache_mem_mb: 16,
        maximum_object_size_mb: 4,
        coredump_dir: dir.to_path_buf(),
        workers: 1,
    }
}

/// The stock squid.conf for a Squid in `dir`: conf.d is `dir/conf.d`, the stock
/// `http_port 3128` is `127.0.0.1:forward_port`, and the harness's lines (a visible_hostname,
/// files in `dir`, no pinger, no netdb file) are appended.
pub fn stock_conf_text(dir: &std::path::Path, forward_port: u16) -> String {
    let inst = instance(dir);
    let mut text = STOCK_SQUID_CONF
        .replace(
            "include /etc/squid/conf.d/*.conf",
            &format!("include {}/conf.d/*.conf", dir.display()),
        )
        .replace(
            "\nhttp_port 3128\n",
            &format!("\nhttp_port 127.0.0.1:{forward_port}\n"),
        )
        .replace(
            "coredump_dir /var/spool/squid",
            &format!("coredump_dir {}", dir.display()),
        );
    assert!(text.contains(&format!("include {}/conf.d/", dir.display())));
    assert!(text.contains(&format!("http_port 127.0.0.1:{forward_port}")));
    // A name of its own: the stock file relies on the machine's hostname, which a chroot
    // (other Squid versions, scripts/squid-versions) cannot resolve ("Could not determine
    // this machines public hostname").
    text.push_str(&format!(
        "# e2e harness: this Squid's files in its own directory\n\
         visible_hostname stock\n\
         pid_filename {}\ncache_log {}\naccess_log stdio:{} squid\n\
         pinger_enable off\nnetdb_filename none\n{}",
        inst.pid_filename.display(),
        inst.cache_log.display(),
        inst.access_log.display(),
        if is_root() {
            "cache_effective_user proxy\n"
        } else {
            ""
        }
    ));
    text
}

/// The conf.d file that adds the unrelated accelerated site.
pub fn other_site_conf(site_port: u16, origin_port: u16) -> String {
    format!(
        "# An accelerated site unrelated to s3squid\n\
         http_port 127.0.0.1:{site_port} accel defaultsite={OTHER_SITE} name=other_site_port\n\
         cache_peer 127.0.0.1 parent {origin_port} 0 no-query no-digest originserver name=other_origin\n\
         acl other_site dstdomain {OTHER_SITE}\n\
         http_access allow other_site\n\
         cache_peer_access other_origin allow other_site\n\
         cache_peer_access other_origin deny all\n"
    )
}

impl StockSquid {
    /// Starts the stock Squid in `sb/<name>` with the other site and `fragments` (`(file name,
    /// text)`) in its conf.d; `more_ports` are the fragments' ports, waited for too.
    pub fn start(
        sb: &Sandbox,
        name: &str,
        origin_port: u16,
        fragments: &[(String, String)],
        more_ports: &[u16],
    ) -> StockSquid {
        let dir = sb.path(name);
        let confd = dir.join("conf.d");
        std::fs::create_dir_all(&confd).unwrap();
        std::fs::write(confd.join("debian.conf"), STOCK_DEBIAN_CONF).unwrap();
        let (forward_port, site_port) = (free_port(), free_port());
        std::fs::write(
            confd.join("other-site.conf"),
            other_site_conf(site_port, origin_port),
        )
        .unwrap();
        for (file, text) in fragments {
            std::fs::write(confd.join(file), text).unwrap();
        }
        let text = stock_conf_text(&dir, forward_port);
        let squid = Squid::start(sb, name, &text, forward_port, &instance(&dir));
        wait_port(site_port, "the stock Squid's other site");
        for &p in more_ports {
            wait_port(p, "the stock Squid's s3squid port");
        }
        let conf = squid.conf.clone();
        StockSquid {
            squid,
            site_port,
            conf,
        }
    }

    /// What `squid -k parse` of its squid.conf (conf.d included) says on stderr, if it
    /// exits 0.
    pub fn parse(&self) -> String {
        let out = Command::new(squid_program())
            .args(["-k", "parse", "-f"])
            .arg(&self.conf)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "squid -k parse failed:\n{log}");
        log
    }
}

/// The lines of a `squid -k parse` output that complain: errors, fatal errors, warnings, and
/// Squid's "Bungled" (an unreadable line).
pub fn complaints(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            ["ERROR", "FATAL", "WARNING", "Bungled"]
                .iter()
                .any(|w| l.contains(w))
        })
        .collect()
}
