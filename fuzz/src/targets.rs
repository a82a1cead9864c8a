//! One target per parser of untrusted bytes. Each `pub fn NAME(data: &[u8])` is a thin
//! call into the parser's public entry point (what a case's peak allocation is measured
//! on), followed by invariant checks run outside the measurement ([`unmeasured`]).
//!
//! Each target's `bound` is the most heap it may hold at once for an input of a given
//! length, derived from the parser's named limits; the formula is documented beside it.
//! "KiB of slack" covers fixed-size working state (small vectors, a `format!`).

mod config;
mod helper;
mod icap;
mod mapping;

pub use config::config;
pub use helper::{helper_line, helper_rewrite, helper_storeid};
pub use icap::{chunked, encapsulated, http_head, icap_connection, icap_head};
pub use mapping::{decide, storeid};

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// A kibibyte, for the bounds.
const KIB: usize = 1024;

/// A fuzz target.
#[derive(Debug)]
pub struct Target {
    /// Its name (`--target NAME`, `corpus/NAME/`).
    pub name: &'static str,
    /// The parser entry point it feeds.
    pub entry: &'static str,
    /// Feeds one input to the parser and checks the invariants; panics on a violation.
    pub run: fn(&[u8]),
    /// The most heap bytes a case of this input length may hold at once.
    pub bound: fn(usize) -> usize,
    /// Whether the real parser accepts the input as a valid message (the `ok-*` seeds
    /// must be accepted: a test keeps the corpus valid as the parsers change).
    pub accepts: fn(&[u8]) -> bool,
    /// Tokens mutations insert, besides the common ones.
    pub tokens: &'static [&'static [u8]],
}

/// Every target.
pub const TARGETS: &[Target] = &[
    icap::ICAP_HEAD,
    icap::ENCAPSULATED,
    icap::CHUNKED,
    icap::HTTP_HEAD,
    icap::ICAP_CONNECTION,
    helper::HELPER_LINE,
    helper::HELPER_STOREID,
    helper::HELPER_REWRITE,
    mapping::STOREID,
    mapping::DECIDE,
    config::CONFIG,
];

/// The target called `name`.
pub fn by_name(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Runs invariant checks without counting their allocations against the case (and, if
/// they panic, without leaving the counter switched off).
pub fn unmeasured(check: impl FnOnce()) {
    let mut outcome = Ok(());
    allocation_counter::opt_out(|| outcome = catch_unwind(AssertUnwindSafe(check)));
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

/// Where to cut a `len`-byte message to check its prefixes: every cut of a short one,
/// 64 spread over a long one and the last 8 (near a terminator).
fn cuts(len: usize) -> Vec<usize> {
    if len <= 256 {
        return (0..len).collect();
    }
    let mut cuts: Vec<usize> = (0..len).step_by(len.div_ceil(64)).collect();
    cuts.extend(len - 8..len);
    cuts
}

/// A split point chosen by the input itself (deterministic, spread over the input).
fn split_point(data: &[u8]) -> usize {
    (crate::driver::mutate::fnv1a(data) % (data.len() as u64 + 1)) as usize
}

/// The size of each read an in-memory reader returns: chosen by the input, one byte at a
/// time only for short inputs (byte-at-a-time reads of a megabyte are slow in debug).
fn read_size(data: &[u8]) -> usize {
    const SIZES: [usize; 6] = [1, 2, 7, 100, 4096, usize::MAX];
    let size = SIZES[(crate::driver::mutate::fnv1a(data) % SIZES.len() as u64) as usize];
    if data.len() > 4096 {
        size.max(4096)
    } else {
        size
    }
}

/// An in-memory reader that hands out its bytes in pieces of a fixed size.
struct Pieces<'a> {
    rest: &'a [u8],
    size: usize,
}

impl<'a> Pieces<'a> {
    fn new(data: &'a [u8]) -> Self {
        Pieces {
            rest: data,
            size: read_size(data),
        }
    }
}

impl std::io::Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.size.min(self.rest.len()).min(out.len());
        out[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_cover_short_messages_and_sample_long_ones() {
        assert_eq!(cuts(3), vec![0, 1, 2]);
        let long = cuts(10_000);
        assert!(long.len() <= 80 && long.iter().all(|&c| c < 10_000));
        assert!(long.contains(&9_999) && long.contains(&0));
    }

    #[test]
    fn names_are_unique() {
        for t in TARGETS {
            assert_eq!(
                TARGETS.iter().filter(|o| o.name == t.name).count(),
                1,
                "{}",
                t.name
            );
            assert_eq!(by_name(t.name).map(|b| b.entry), Some(t.entry));
        }
    }
}
