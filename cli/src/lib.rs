//! `s3squid`, the admin command, as a library the binary and the tests share:
//!
//! - [`args`]: the command line, parsed into a [`args::Command`] (no I/O);
//! - [`report`]: the text of `check` and `explain`;
//! - [`squid_conf`]: squid.conf files for the three layouts, rendered from templates.
//!
//! The binary (`main.rs`) reads the config file, prints, writes files and picks the exit code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod report;
pub mod squid_conf;
