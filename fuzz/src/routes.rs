//! The route table the mapping targets share: the config seed `corpus/config/ok-routes.toml`
//! (six routes: path and virtual addressing, AWS and configured endpoints, a key prefix,
//! an allow-listed query parameter, an unsigned route with an index and redirects, a
//! non-default port), so the seeds of every target name real objects under it.

use std::sync::OnceLock;

use s3map::config::Config;
use s3map::route::RouteTable;
use s3map::storeid::FastIndex;

/// The configuration text.
pub const ROUTES_TOML: &str = include_str!("../corpus/config/ok-routes.toml");

/// The parsed configuration (built once, before any case is measured).
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| match Config::parse(ROUTES_TOML) {
        Ok(c) => c,
        Err(e) => panic!("corpus/config/ok-routes.toml does not parse: {e}"),
    })
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
