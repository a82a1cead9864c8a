//! What every s3squid program does before its work, in one place they share:
//!
//! - [`args`]: the daemons' common arguments (`--config`, `--check`, `--log-level`,
//!   `--state-dir`, `--help`, `--version`), parsed by clap, which `s3squid` uses too;
//! - [`logging`]: the stderr logger, at each program's default level;
//! - [`config_file`]: reading the configuration file (bounded), reporting its problems,
//!   `--check`;
//! - [`lastgood`]: the last good and previous copies of each configuration file.
//!
//! [`s3map`] stays the pure model: it parses configuration text, and this crate brings the
//! text in.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod config_file;
pub mod lastgood;
pub mod logging;

pub use config_file::{check, config_report, load, load_text, read_bytes, read_text, LoadError};

/// Exit code for a bad configuration or bad arguments (`EX_USAGE`, as linkerd uses).
pub const EXIT_CONFIG: u8 = 64;
