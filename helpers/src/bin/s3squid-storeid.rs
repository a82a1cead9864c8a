//! `s3squid-storeid`: a Squid `store_id_program` giving every spelling of an S3 object one
//! cache key. Usage in squid.conf:
//!
//! ```text
//! store_id_program /usr/local/bin/s3squid-storeid --config /etc/s3squid/s3squid.toml
//! store_id_children 20 startup=1 idle=1 concurrency=8
//! store_id_bypass off
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use s3squid_helpers::startup::{serve, HELPER_LOG};
use s3squid_startup::args::Program;

const PROGRAM: Program = Program {
    name: "s3squid-storeid",
    version: env!("CARGO_PKG_VERSION"),
    about: "s3squid-storeid: Squid store_id_program helper: one cache key per S3 object",
    description: "\
Reads Squid's store-ID requests on stdin (with or without concurrency channel IDs) and
answers OK store-id=\"http://s3.squid.internal/v1/<endpoint>/<bucket>/<key>\" for objects
under a route (public or S3 URL, signed or not), ERR for anything else. With a missing
or broken configuration it serves the last good copy of that file (kept in --state-dir
by an s3squid-icap given the same --config) or, with none, answers BH to every request;
with bad arguments it answers BH to every request. Either way it logs why; it never
exits before stdin closes. The switches (signing = \"off\", pass_through) do not change
store IDs: cached copies stay reachable while they are on.",
    log: HELPER_LOG,
};

fn main() -> ExitCode {
    serve(&PROGRAM, |cfg| {
        s3squid_helpers::storeid::StoreIdRule::new(s3map::route::RouteTable::new(&cfg.routes))
    })
}
