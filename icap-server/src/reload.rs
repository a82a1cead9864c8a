//! Configuration reload: on SIGHUP, and when the file changes (polled). A valid new config
//! applies atomically to the next message of every connection; an invalid one is rejected
//! with a logged reason and a counter while the old one keeps serving.
//!
//! The file watch never applies half a file. It looks every [`WATCH_INTERVAL`], and applies
//! a change only once the file has settled: the same [`Stamp`] at two looks in a row, so
//! nothing wrote to it for a whole interval, and again after it was read. An edit is
//! applied one to two intervals after its last write; a writer that pauses for less than
//! an interval midway never has its half-written file applied. SIGHUP applies the file as
//! it is, at once: the operator asked for it.
//!
//! Only a configuration that served is kept as the last good one (and so is what
//! `s3squid revert` and the helpers' fallback use, [`s3squid_startup::lastgood`]). One
//! applied at start or on SIGHUP is kept at once. One the watch applied is kept once it has
//! served for the reloader's promotion time ([`PROMOTE_AFTER`] in s3squid-icap) without
//! being replaced; one replaced before that is never kept.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use s3map::config::Config;
use s3squid_startup::config_report;
use s3squid_startup::lastgood::Copies;

use crate::service::Service;

/// How often the file is checked for changes; also how long it must stay unchanged before
/// the watch applies it.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// How long a configuration the file watch applied must serve, without being replaced,
/// before it is kept as the last good one. Checked at every look, so it is kept within one
/// [`WATCH_INTERVAL`] after that.
pub const PROMOTE_AFTER: Duration = Duration::from_secs(60);

/// What a look at the file sees: any write changes the modification or change time (and
/// usually the length), and a rename puts another inode in its place, even one with the
/// same times and length (`cp -p`, `rsync -t`). The change time cannot be set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    /// Modification time.
    modified: Option<SystemTime>,
    /// Status change time, seconds and nanoseconds.
    changed: (i64, i64),
    /// Length in bytes.
    len: u64,
    /// Device and inode.
    file: (u64, u64),
}

impl Stamp {
    /// The file's stamp now; `None` when it cannot be read (missing, no permission).
    fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(Stamp {
            modified: m.modified().ok(),
            changed: (m.ctime(), m.ctime_nsec()),
            len: m.len(),
            file: (m.dev(), m.ino()),
        })
    }
}

/// The file being served and what was last applied from it.
pub struct Reloader {
    /// The configuration file.
    pub path: PathBuf,
    /// Its last good and previous copies (`None`: its path could not be made absolute, so
    /// nothing is kept).
    copies: Option<Copies>,
    /// How long a generation the watch applied serves before it is kept.
    promote_after: Duration,
    current: Mutex<Watched>,
}

/// What the reloader knows about the file and the configuration in force.
struct Watched {
    /// The configuration serving (the last one applied).
    config: Config,
    /// The file's stamp when it was last read (applied or rejected).
    read: Option<Stamp>,
    /// The file's stamp at the last look.
    looked: Option<Stamp>,
    /// A generation the watch applied that is not kept yet.
    unkept: Option<Unkept>,
}

/// A generation the file watch applied, waiting to be kept as the last good one.
struct Unkept {
    /// Its generation number.
    generation: u64,
    /// The file's text it was applied from.
    text: String,
    /// When it was applied.
    since: Instant,
}

/// What a reload did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reloaded {
    /// Applied as this generation.
    Applied(u64),
    /// The file did not change.
    Unchanged,
    /// The file changed since the last look (or while it was read): it is applied at a later
    /// look, once it has stayed the same for a whole look.
    Settling,
    /// Rejected; the old config keeps serving.
    Rejected,
}

impl Reloader {
    /// Starts from the config loaded at startup (from `path`, whose text is `text`) and
    /// keeps it as the last good one in `state_dir`. A generation the file watch applies
    /// is kept once it has served `promote_after` ([`PROMOTE_AFTER`] in s3squid-icap).
    pub fn new(
        path: PathBuf,
        state_dir: PathBuf,
        config: Config,
        text: &str,
        promote_after: Duration,
    ) -> Self {
        let copies = match Copies::of(&path, &state_dir) {
            Ok(c) => Some(c),
            Err(e) => {
                log::warn!(
                    "cannot name the state directory for {} ({e}): no last good configuration is kept",
                    path.display()
                );
                None
            }
        };
        let stamp = Stamp::of(&path);
        let reloader = Reloader {
            current: Mutex::new(Watched {
                config,
                read: stamp,
                looked: stamp,
                unkept: None,
            }),
            path,
            copies,
            promote_after,
        };
        if let Some(copies) = &reloader.copies {
            if let Err(e) = copies.record(text) {
                log::warn!(
                    "cannot keep the last good configuration in {} ({e}): helpers restarted with a broken file will answer BH, and `s3squid revert` has nothing to restore",
                    copies.dir().display()
                );
            }
        }
        reloader
    }

    /// Where this file's copies are kept.
    pub fn copies(&self) -> Option<&Copies> {
        self.copies.as_ref()
    }

    /// One look (`force`: SIGHUP). First keeps the generation the watch applied if it has
    /// served long enough. Then, with `force`, reloads the file as it is; without, reloads
    /// it only if it changed since it was last read and has settled (the same stamp as at
    /// the previous look, and after the read).
    pub fn reload(&self, svc: &Service, force: bool) -> Reloaded {
        let mut cur = match self.current.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        self.keep_if_due(&mut cur);
        let now = Stamp::of(&self.path);
        let settled = now == cur.looked;
        cur.looked = now;
        if !force {
            if now == cur.read {
                return Reloaded::Unchanged;
            }
            if !settled {
                return Reloaded::Settling;
            }
        }
        let read = s3squid_startup::read_text(&self.path);
        if !force {
            let after = Stamp::of(&self.path);
            if after != now {
                cur.looked = after;
                return Reloaded::Settling;
            }
        }
        cur.read = now;
        let loaded = read.and_then(|text| Ok((Config::parse(&text)?, text)));
        match loaded {
            Ok((config, text)) => {
                let restart = svc.apply(&config, &cur.config);
                let generation = svc.state().generation;
                log::info!(
                    "configuration reloaded from {}: generation {generation}, {} route(s)",
                    self.path.display(),
                    config.routes.len()
                );
                if !restart.0.is_empty() {
                    log::warn!(
                        "changed settings that apply only after a restart, kept as they were: {}",
                        restart.0.join(", ")
                    );
                }
                cur.config = config;
                if force {
                    cur.unkept = None;
                    self.keep(&text);
                } else {
                    // The same text again (a touch) keeps waiting from when it first served.
                    let since = match &cur.unkept {
                        Some(u) if u.text == text => u.since,
                        _ => Instant::now(),
                    };
                    cur.unkept = Some(Unkept {
                        generation,
                        text,
                        since,
                    });
                }
                Reloaded::Applied(generation)
            }
            Err(e) => {
                svc.metrics
                    .config_reload_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                log::error!(
                    "configuration reload rejected, still serving generation {}:\n{}",
                    svc.state().generation,
                    config_report(&self.path, &e)
                );
                Reloaded::Rejected
            }
        }
    }

    /// Keeps the generation the watch applied once it has served `promote_after`.
    fn keep_if_due(&self, cur: &mut Watched) {
        if let Some(u) = cur
            .unkept
            .take_if(|u| u.since.elapsed() >= self.promote_after)
        {
            log::info!(
                "generation {} has served for {:?}: kept as the last good configuration",
                u.generation,
                self.promote_after
            );
            self.keep(&u.text);
        }
    }

    /// Records `text` as the last good configuration.
    fn keep(&self, text: &str) {
        let Some(copies) = &self.copies else { return };
        if let Err(e) = copies.record(text) {
            log::warn!(
                "cannot record the last good configuration in {}: {e}",
                copies.dir().display()
            );
        }
    }
}

/// Reloads on SIGHUP and when the file changes, until `shutdown`; looks every
/// [`WATCH_INTERVAL`].
pub async fn watch(
    reloader: std::sync::Arc<Reloader>,
    svc: std::sync::Arc<Service>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(WATCH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        let force = tokio::select! {
            _ = &mut shutdown => return,
            _ = tick.tick() => false,
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
        };
        if force {
            log::info!("SIGHUP: reloading {}", reloader.path.display());
        }
        let (r, s) = (reloader.clone(), svc.clone());
        // File I/O off the async workers.
        let _ = tokio::task::spawn_blocking(move || r.reload(&s, force)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file put in place by a rename is noticed even with the same length and times.
    #[test]
    fn a_rename_changes_the_stamp() {
        let dir = std::env::temp_dir().join(format!("s3squid-stamp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (path, next) = (dir.join("s.toml"), dir.join("next.toml"));
        std::fs::write(&path, "a = 1\n").unwrap();
        std::fs::write(&next, "a = 2\n").unwrap();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        for p in [&path, &next] {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        let before = Stamp::of(&path).unwrap();
        assert_eq!(Stamp::of(&path), Some(before), "nothing changed");
        std::fs::rename(&next, &path).unwrap();
        let after = Stamp::of(&path).unwrap();
        assert_eq!((after.modified, after.len), (before.modified, before.len));
        assert_ne!(after, before);
        assert_eq!(Stamp::of(&dir.join("missing")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
