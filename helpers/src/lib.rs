//! s3squid's Squid helpers. [`protocol`] is the helper grammar (no I/O), [`runner`] the one
//! stdin/stdout loop, and each helper's rules are a pure `decide(request, config)`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod protocol;
pub mod rewrite;
pub mod runner;
pub mod startup;
pub mod storeid;
