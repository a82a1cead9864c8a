//! The last good configuration, kept so that a broken edit never takes s3squid down and a
//! revert is one command.
//!
//! Copies are kept per configuration file, never per state directory: two deployments
//! sharing a state directory never see each other's. [`Copies::of`] names the directory
//! for a configuration file, `<state-dir>/<its absolute path, escaped>/`, and every program
//! finds it that way from the same `--config` and `--state-dir`. In it:
//!
//! - [`LAST_GOOD`]: the configuration s3squid-icap last kept ([`Copies::record`]);
//! - [`PREVIOUS`]: the one it replaced;
//! - [`REVERTED_FROM`] and [`REVERTED_TO`]: the file `s3squid revert` last replaced, and
//!   what it wrote instead (so that a second revert undoes the first).
//!
//! Each copy starts with a line naming the file it was made from (`# s3squid: copy of
//! /etc/s3squid/s3squid.toml`), checked whenever it is read: a copy is only ever used for
//! the file it was made from, even if two paths ever shared a directory name. Flat
//! `<state-dir>/last-good.toml` files, from before the per-file directories, are ignored.
//!
//! A helper that finds its configuration broken when Squid (re)starts it loads the last
//! good copy of that file instead of answering `BH` ([`load_or_last_good`]).

use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use s3map::config::Config;

use crate::config_file::{load, read_text_within, LoadError, MAX_CONFIG_BYTES};

/// Default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/s3squid";
/// The last configuration s3squid-icap kept.
pub const LAST_GOOD: &str = "last-good.toml";
/// The one before it.
pub const PREVIOUS: &str = "previous.toml";
/// The file `s3squid revert` last replaced.
pub const REVERTED_FROM: &str = "reverted-from.toml";
/// What `s3squid revert` last wrote in its place; removed when a new configuration is
/// kept, which ends the revert's turn ([`Copies::record`]).
pub const REVERTED_TO: &str = "reverted-to.toml";
/// Longest name of a per-file directory, in bytes (most file systems allow 255). A longer
/// escaped path is cut and ends with `~` and a hash of the whole path instead.
pub const MAX_DIR_NAME_BYTES: usize = 200;
/// How every copy's first line starts; the configuration file's path follows.
pub const HEADER_PREFIX: &str = "# s3squid: copy of ";

/// Writes `contents` to `dir/name` atomically (temp file + rename), readable by all
/// (helpers run as Squid's user).
pub fn write_atomic(
    dir: &Path,
    name: &str,
    contents: impl AsRef<[u8]>,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents.as_ref())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The copies kept for one configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copies {
    /// `<state-dir>/<escaped path>`.
    dir: PathBuf,
    /// The configuration file's absolute path.
    source: PathBuf,
}

impl Copies {
    /// The copies of the configuration file `config` in `state_dir`: the one function that
    /// s3squid-icap, the helpers and `s3squid revert` use, so that the same `--config` and
    /// `--state-dir` give the same directory. Fails only when `config` cannot be made
    /// absolute (a relative path and no current directory).
    pub fn of(config: &Path, state_dir: &Path) -> std::io::Result<Self> {
        let source = source_path(config)?;
        Ok(Copies {
            dir: state_dir.join(dir_name(&source)),
            source,
        })
    }

    /// The directory the copies are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration file they are copies of (absolute).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Where the copy `name` ([`LAST_GOOD`], [`PREVIOUS`], …) is.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The first line of every copy: [`HEADER_PREFIX`] and the source path (escaped as in
    /// the directory name if it is not UTF-8 or has control characters), then a newline.
    pub fn header(&self) -> String {
        let shown = match self.source.to_str() {
            Some(s) if !s.chars().any(char::is_control) => s.to_owned(),
            _ => escape(self.source.as_os_str().as_bytes()),
        };
        format!("{HEADER_PREFIX}{shown}\n")
    }

    /// Writes the copy `name`: the header line, then `body`.
    pub fn write(&self, name: &str, body: impl AsRef<[u8]>) -> std::io::Result<PathBuf> {
        let mut contents = self.header().into_bytes();
        contents.extend_from_slice(body.as_ref());
        write_atomic(&self.dir, name, contents)
    }

    /// Reads the copy `name` (bounded as the configuration file is) and returns what
    /// follows its header line. A copy whose header names another file is refused.
    pub fn read(&self, name: &str) -> Result<String, LoadError> {
        let path = self.path(name);
        let header = self.header();
        let text = read_text_within(&path, MAX_CONFIG_BYTES + header.len() as u64)?;
        match text.strip_prefix(header.as_str()) {
            Some(body) => Ok(body.to_owned()),
            None => {
                let first: String = text
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(300)
                    .collect();
                Err(LoadError::Read {
                    path: path.display().to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "not a copy of {}: its first line is {first:?}",
                            self.source.display()
                        ),
                    ),
                })
            }
        }
    }

    /// Reads and validates the copy `name`; returns the configuration and its text
    /// (without the header).
    pub fn load(&self, name: &str) -> Result<(Config, String), LoadError> {
        let text = self.read(name)?;
        let config = Config::parse(&text)?;
        Ok((config, text))
    }

    /// Keeps `text` as the last good configuration: the old last good one becomes
    /// [`PREVIOUS`] (when the text changed), and [`REVERTED_TO`] is removed, so that the
    /// next `s3squid revert` undoes this change rather than the last revert.
    pub fn record(&self, text: &str) -> std::io::Result<()> {
        match self.read(LAST_GOOD) {
            Ok(old) if old == text => return Ok(()),
            Ok(old) => {
                self.write(PREVIOUS, &old)?;
            }
            // None yet, unreadable, or another file's: nothing to rotate.
            Err(_) => {}
        }
        self.write(LAST_GOOD, text)?;
        match std::fs::remove_file(self.path(REVERTED_TO)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The absolute path copies of `config` are kept under: its parent directory
/// canonicalized (symbolic links resolved), then its file name, so that a missing or
/// deleted file still maps to the same copies. Without a usable parent directory, the path
/// made absolute as it is.
pub fn source_path(config: &Path) -> std::io::Result<PathBuf> {
    let parent = match config.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (config.file_name(), std::fs::canonicalize(parent)) {
        (Some(name), Ok(dir)) => Ok(dir.join(name)),
        _ => std::path::absolute(config),
    }
}

/// The directory name for the copies of `source`: every byte outside `A-Z a-z 0-9 . _ -`
/// percent-encoded (`/etc/s3squid/s3squid.toml` is `%2Fetc%2Fs3squid%2Fs3squid.toml`), so
/// distinct paths get distinct names. Longer than [`MAX_DIR_NAME_BYTES`]: cut, then `~`
/// (which the encoding never leaves) and the path's 64-bit FNV-1a hash in hex; the header
/// line tells such names apart should two ever meet.
pub fn dir_name(source: &Path) -> String {
    let bytes = source.as_os_str().as_bytes();
    let mut name = escape(bytes);
    if name.len() > MAX_DIR_NAME_BYTES {
        let hash = format!("~{:016x}", fnv1a(bytes));
        // The escaped name is ASCII, so any byte index is a character boundary.
        name.truncate(MAX_DIR_NAME_BYTES - hash.len());
        name.push_str(&hash);
    }
    name
}

/// Percent-encodes every byte outside `A-Z a-z 0-9 . _ -`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 64-bit FNV-1a: stable across builds and Rust versions, unlike std's `DefaultHasher`,
/// so every program and every release names the directory the same way.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Loads `path`; if it is unusable, the last good copy of that same file from `state_dir`.
/// Returns the config, the file it came from, and the original error when it fell back.
pub fn load_or_last_good(
    path: &Path,
    state_dir: &Path,
) -> Result<(Config, PathBuf, Option<LoadError>), LoadError> {
    match load(path) {
        Ok(c) => Ok((c, path.to_owned(), None)),
        Err(e) => {
            let Ok(copies) = Copies::of(path, state_dir) else {
                return Err(e);
            };
            match copies.load(LAST_GOOD) {
                Ok((c, _)) => Ok((c, copies.path(LAST_GOOD), Some(e))),
                Err(_) => Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests;
