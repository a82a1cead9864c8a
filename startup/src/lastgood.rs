//! The last good configuration, kept so that a broken edit never takes s3squid down and a
//! revert is one command.
//!
//! Whoever validates a configuration successfully (s3squid-icap at start and on each
//! reload) copies its text to `<state-dir>/last-good.toml`, and the one it replaced to
//! `<state-dir>/previous.toml`. A helper that finds its configuration broken when Squid
//! (re)starts it loads `last-good.toml` instead of answering `BH`. `s3squid revert` puts
//! `previous.toml` back.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use s3map::config::Config;

use crate::config_file::{load, LoadError};

/// Default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/s3squid";
/// The last configuration that validated.
pub const LAST_GOOD: &str = "last-good.toml";
/// The one before it.
pub const PREVIOUS: &str = "previous.toml";

/// Writes `text` to `dir/name` atomically (temp file + rename), readable by all (helpers
/// run as Squid's user).
pub fn write_atomic(dir: &Path, name: &str, text: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Records a configuration that just validated: the old last-good becomes previous (when
/// the text changed).
pub fn record(dir: &Path, text: &str) -> std::io::Result<()> {
    let last = dir.join(LAST_GOOD);
    match std::fs::read_to_string(&last) {
        Ok(old) if old == text => return Ok(()),
        Ok(old) => {
            write_atomic(dir, PREVIOUS, &old)?;
        }
        Err(_) => {}
    }
    write_atomic(dir, LAST_GOOD, text).map(|_| ())
}

/// Loads `path`; if it is unusable, the last good configuration from `dir`. Returns the
/// config, the file it came from, and the original error when it fell back.
pub fn load_or_last_good(
    path: &Path,
    dir: &Path,
) -> Result<(Config, PathBuf, Option<LoadError>), LoadError> {
    match load(path) {
        Ok(c) => Ok((c, path.to_owned(), None)),
        Err(e) => {
            let last = dir.join(LAST_GOOD);
            match load(&last) {
                Ok(c) => Ok((c, last, Some(e))),
                Err(_) => Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        "[[route]]\nname='a'\npublic='http://h/p/'\nbucket='bbb'\nregion='us-east-1'\n";

    #[test]
    fn falls_back_and_keeps_previous() {
        let dir =
            std::env::temp_dir().join(format!("s3squid-startup-lastgood-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("s3squid.toml");
        std::fs::write(&cfg, "broken = [").unwrap();
        assert!(load_or_last_good(&cfg, &dir).is_err(), "no last good yet");
        record(&dir, GOOD).unwrap();
        let (c, from, err) = load_or_last_good(&cfg, &dir).unwrap();
        assert_eq!(
            (c.routes.len(), from, err.is_some()),
            (1, dir.join(LAST_GOOD), true)
        );
        let second = GOOD.replace("'a'", "'b'");
        record(&dir, &second).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(PREVIOUS)).unwrap(), GOOD);
        record(&dir, &second).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join(PREVIOUS)).unwrap(),
            GOOD,
            "same text: nothing rotates"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
