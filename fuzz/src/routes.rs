//! The route table the targets share: the one every crate's tests share
//! (`tests/data/routes.toml`, `s3map::fixtures`: path and virtual addressing, AWS and
//! configured endpoints, a key prefix, an allow-listed query parameter, unsigned routes with
//! an index and redirects, a non-default port), so the seeds of every target name real
//! objects under it. Built once, before any case is measured.

use std::sync::OnceLock;

use s3map::config::Config;
use s3map::route::RouteTable;
use s3squid_helpers::storeid::FastIndex;

/// The parsed configuration.
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(s3map::fixtures::config)
}

/// The route table.
pub fn table() -> &'static RouteTable {
    static TABLE: OnceLock<RouteTable> = OnceLock::new();
    TABLE.get_or_init(|| RouteTable::new(&config().routes))
}

/// The store-ID fast path's index of the table.
pub fn fast_index() -> &'static FastIndex {
    static FAST: OnceLock<FastIndex> = OnceLock::new();
    FAST.get_or_init(|| FastIndex::new(table()))
}
