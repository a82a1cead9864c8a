//! `s3squid-storeid`'s rule: the store ID of a URL, via the shared canonicaliser.

use s3map::route::RouteTable;

use crate::protocol::{Reply, Request};

/// `OK store-id="…"` for an object under a route (public or S3 spelling), `ERR` otherwise.
pub fn decide(table: &RouteTable, req: &Request<'_>) -> Reply {
    match s3map::storeid::for_url(table, req.url) {
        Some(id) => Reply::StoreId(id),
        None => Reply::Err,
    }
}
