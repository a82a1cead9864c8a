//! `s3squid-icap`: an ICAP (RFC 3507) REQMOD service for Squid that maps public URLs to S3
//! objects, enforces each route's policy and presigns with SigV4.
//!
//! Layers: [`framing`] recognises bytes (no I/O); [`policy`] and [`answer`]
//! decide (pure, time passed in); [`respond`] encodes; [`connection`] and [`server`] own
//! the sockets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admin;
pub mod answer;
pub mod connection;
pub mod creds;
pub mod framing;
pub mod limits;
pub mod metrics;
pub mod policy;
pub mod probe;
pub mod reload;
pub mod respond;
pub mod server;
pub mod service;

pub use server::run;
pub use service::Service;
