//! s3squid's shared core, used by every program so they cannot disagree:
//!
//! - [`config`]: the one TOML file every program reads;
//! - [`route`] and [`decide`]: the route table, public URL → S3 object mapping and policy;
//! - [`storeid`]: the store-ID canonicaliser;
//! - [`presign`]: SigV4 query presigning, a pure function of its inputs and the time.
//!
//! Nothing here does I/O (reading the configuration file is `s3squid-startup`'s job), and
//! nothing reads the clock.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod decide;
pub mod endpoint;
#[cfg(any(test, feature = "test-fixtures"))]
pub mod fixtures;
pub mod limits;
pub mod pct;
pub mod presign;
pub mod route;
pub mod s3url;
pub mod storeid;
pub mod url;

pub use aws_credential_types::Credentials;
