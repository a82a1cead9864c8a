//! The route table every crate's unit, property and protocol tests share
//! (`tests/data/routes.toml`), so that ten test files do not each carry a copy that drifts.
//! Built only for tests: this crate's own, and other crates' through the `test-fixtures`
//! feature of their dev-dependency on `s3map`.

use crate::config::Config;
use crate::route::RouteTable;

/// The text of `tests/data/routes.toml`.
pub const ROUTES_TOML: &str = include_str!("../../tests/data/routes.toml");

/// [`ROUTES_TOML`], validated.
pub fn config() -> Config {
    match Config::parse(ROUTES_TOML) {
        Ok(c) => c,
        Err(e) => panic!("tests/data/routes.toml is invalid: {e:?}"),
    }
}

/// [`ROUTES_TOML`]'s route table.
pub fn routes() -> RouteTable {
    RouteTable::new(&config().routes)
}

/// Segments and escapes every URL strategy mixes in.
pub const PATH_PIECES: [&str; 9] = ["/", "//", ".", "..", "%", "%2", "%25", "%41", "%2e"];

/// Escapes of UTF-8 and of bytes that are not (whole, truncated, C1 control, surrogate).
pub const UTF8_ESCAPES: [&str; 9] = [
    "%C3%A9",
    "%c3%a9",
    "%C3",
    "%A9",
    "%C2%85",
    "%E6%97%A5",
    "%F0%9F%93%B7",
    "%ED%A0%80",
    "%FF",
];
