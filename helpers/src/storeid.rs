//! `s3squid-storeid`'s rule: the store ID of a URL, via the shared canonicaliser, with the
//! one-pass fast path for a route's own S3 spelling ([`s3map::storeid::FastIndex`]).

use s3map::route::RouteTable;
use s3map::storeid::FastIndex;

use crate::protocol::{encode, encode_store_id, Reply, Request};
use crate::runner::Rule;

/// `OK store-id="…"` for an object under a route (public or S3 spelling), `ERR` otherwise.
pub fn decide(table: &RouteTable, req: &Request<'_>) -> Reply {
    match s3map::storeid::for_url(table, req.url) {
        Some(id) => Reply::StoreId(id),
        None => Reply::Err,
    }
}

/// The store-id rule with its fast path and a reused buffer: no allocation per line for the
/// common spelling.
pub struct StoreIdRule {
    table: RouteTable,
    fast: FastIndex,
    scratch: String,
}

impl StoreIdRule {
    /// Builds the rule for a route table.
    pub fn new(table: RouteTable) -> Self {
        let fast = FastIndex::new(&table);
        StoreIdRule {
            table,
            fast,
            scratch: String::with_capacity(1024),
        }
    }
}

impl Rule for StoreIdRule {
    fn answer(&mut self, req: &Request<'_>, out: &mut Vec<u8>) {
        self.scratch.clear();
        if self.fast.write_id(req.url, &mut self.scratch) {
            encode_store_id(out, req.channel, &self.scratch);
        } else {
            encode(out, req.channel, &decide(&self.table, req));
        }
    }
}
