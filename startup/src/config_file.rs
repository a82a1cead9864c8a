//! Reading the configuration file: the one place its bytes come in, bounded by
//! [`MAX_CONFIG_BYTES`]. The text is handed to [`Config::parse`], which does no I/O.

use std::io::Read as _;
use std::path::Path;

use s3map::config::{Config, ConfigError};

/// Longest allowed configuration file, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Why a configuration file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path tried.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`].
    #[error("{path} is larger than {MAX_CONFIG_BYTES} bytes")]
    TooLarge {
        /// The path tried.
        path: String,
    },
    /// The file was read but is not a valid configuration.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Config, LoadError> {
    load_text(path).map(|(c, _)| c)
}

/// Reads and validates the file at `path`, returning its text too (what
/// [`crate::lastgood::Copies::record`] keeps).
pub fn load_text(path: &Path) -> Result<(Config, String), LoadError> {
    let text = read_text(path)?;
    let config = Config::parse(&text)?;
    Ok((config, text))
}

/// Reads the file at `path` as text, without validating it: at most [`MAX_CONFIG_BYTES`],
/// UTF-8.
pub fn read_text(path: &Path) -> Result<String, LoadError> {
    read_text_within(path, MAX_CONFIG_BYTES)
}

/// Reads the file at `path`, at most [`MAX_CONFIG_BYTES`] bytes, whatever they are.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, LoadError> {
    read_bytes_within(path, MAX_CONFIG_BYTES)
}

/// [`read_text`] with another limit: a kept copy is a configuration plus its header line
/// ([`crate::lastgood`]).
pub(crate) fn read_text_within(path: &Path, limit: u64) -> Result<String, LoadError> {
    let bytes = read_bytes_within(path, limit)?;
    String::from_utf8(bytes).map_err(|e| LoadError::Read {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

/// Reads at most `limit` bytes of the file at `path`; a longer file is
/// [`LoadError::TooLarge`].
fn read_bytes_within(path: &Path, limit: u64) -> Result<Vec<u8>, LoadError> {
    let shown = path.display().to_string();
    // One bounded read: a file that grows between a size check and the read (or a FIFO,
    // or /dev/zero) is never read past the limit.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|source| LoadError::Read {
            path: shown.clone(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(LoadError::TooLarge { path: shown });
    }
    Ok(bytes)
}

/// The operator-facing report of a configuration error: one problem per line, each
/// prefixed with the file (and line, when known).
pub fn config_report(path: &Path, err: &LoadError) -> String {
    match err {
        LoadError::Invalid(ConfigError::Invalid { problems }) => problems
            .iter()
            .map(|p| match p.line {
                Some(l) => format!("{}:{l}: {}", path.display(), p.message),
                None => format!("{}: {}", path.display(), p.message),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

/// `--check`: loads `path` and prints `PATH: ok, N route(s)` on stdout, or every problem
/// on stderr; returns the exit code (0 or [`crate::EXIT_CONFIG`]).
pub fn check(path: &Path) -> u8 {
    match load(path) {
        Ok(c) => {
            println!("{}: ok, {} route(s)", path.display(), c.routes.len());
            0
        }
        Err(e) => {
            eprintln!("{}", config_report(path, &e));
            crate::EXIT_CONFIG
        }
    }
}

#[cfg(test)]
mod tests;
