//! Fuzzing of every s3squid parser of untrusted bytes on the stable toolchain.
//!
//! - [`targets`]: one `pub fn NAME(data: &[u8])` per parser, a thin call into the parser's
//!   public entry point plus invariants beyond "no panic", and the peak-allocation bound of
//!   each ([`targets::TARGETS`]);
//! - [`driver`]: a deterministic mutation driver (seeded PRNG, byte-level mutations of the
//!   seed corpus in `fuzz/corpus/<target>/`) that runs each case under `catch_unwind` and a
//!   per-thread allocation counter, and saves any failing input to `fuzz/crashes/`;
//! - [`routes`]: the route table the targets share.
//!
//! See `docs/fuzzing.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod driver;
pub mod routes;
pub mod targets;
