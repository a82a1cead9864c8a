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
/// [`crate::lastgood::record`] keeps).
pub fn load_text(path: &Path) -> Result<(Config, String), LoadError> {
    let shown = path.display().to_string();
    let read = |source| LoadError::Read {
        path: shown.clone(),
        source,
    };
    // One bounded read: a file that grows between a size check and the read (or a FIFO,
    // or /dev/zero) is never read past the limit.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(LoadError::TooLarge { path: shown });
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| read(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    let config = Config::parse(&text)?;
    Ok((config, text))
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
