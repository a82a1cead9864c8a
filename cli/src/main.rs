//! Placeholder; see cli/src/lib.rs.
fn main() {}
