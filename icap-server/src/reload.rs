//! Configuration reload: on SIGHUP, and when the file changes (polled). A valid new config
//! applies atomically to the next message of every connection; an invalid one is rejected
//! with a logged reason and a counter while the old one keeps serving.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use s3map::config::Config;
use s3squid_startup::config_report;
use s3squid_startup::lastgood::Copies;

use crate::service::Service;

/// How often the file is checked for changes.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// The file being served and what was last applied from it.
pub struct Reloader {
    /// The configuration file.
    pub path: PathBuf,
    /// Its last good and previous copies (`None`: its path could not be made absolute, so
    /// nothing is kept).
    copies: Option<Copies>,
    current: Mutex<(Config, Option<(SystemTime, u64)>)>,
}

/// What a reload did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reloaded {
    /// Applied as this generation.
    Applied(u64),
    /// The file did not change.
    Unchanged,
    /// Rejected; the old config keeps serving.
    Rejected,
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

impl Reloader {
    /// Starts from the config loaded at startup (from `path`) and records it as last good.
    pub fn new(path: PathBuf, state_dir: PathBuf, config: Config, text: &str) -> Self {
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
        if let Some(copies) = &copies {
            if let Err(e) = copies.record(text) {
                log::warn!(
                    "cannot keep the last good configuration in {} ({e}): helpers restarted with a broken file will answer BH, and `s3squid revert` has nothing to restore",
                    copies.dir().display()
                );
            }
        }
        let st = stamp(&path);
        Reloader {
            path,
            copies,
            current: Mutex::new((config, st)),
        }
    }

    /// Where this file's copies are kept.
    pub fn copies(&self) -> Option<&Copies> {
        self.copies.as_ref()
    }

    /// Reloads if `force` or the file changed since the last look.
    pub fn reload(&self, svc: &Service, force: bool) -> Reloaded {
        let mut cur = match self.current.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let now = stamp(&self.path);
        if !force && now == cur.1 {
            return Reloaded::Unchanged;
        }
        cur.1 = now;
        match s3squid_startup::load_text(&self.path) {
            Ok((config, text)) => {
                let restart = svc.apply(&config, &cur.0);
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
                if let Some(copies) = &self.copies {
                    if let Err(e) = copies.record(&text) {
                        log::warn!(
                            "cannot record the last good configuration in {}: {e}",
                            copies.dir().display()
                        );
                    }
                }
                cur.0 = config;
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
}

/// Reloads on SIGHUP and when the file changes, until `shutdown`.
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
