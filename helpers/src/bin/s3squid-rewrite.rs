//! `s3squid-rewrite`: a Squid `url_rewrite_program` mapping public URLs of
//! `auth = "none"` routes to their S3 URLs. Usage in squid.conf:
//!
//! ```text
//! url_rewrite_program /usr/local/bin/s3squid-rewrite --config /etc/s3squid/s3squid.toml
//! url_rewrite_children 20 startup=1 idle=1 concurrency=8
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use s3squid_helpers::startup::{serve, HELPER_LOG};
use s3squid_startup::args::Program;

const PROGRAM: Program = Program {
    name: "s3squid-rewrite",
    version: env!("CARGO_PKG_VERSION"),
    about:
        "s3squid-rewrite: Squid url_rewrite_program for s3squid's unsigned (auth = \"none\") routes",
    description: "\
Answers OK rewrite-url=\"<S3 URL>\" for objects under auth = \"none\" routes, OK status=30N
url=\"…\" for a route's redirects, OK rewrite-url=\"http://refused.s3squid.invalid/<status>\"
for requests a route refuses (deny that host in adapted_http_access), and ERR for
everything else, including signed routes (never sent to S3 unsigned). It honours the
switches as s3squid-icap does: ERR for a route's objects while its signing = \"off\", and
for every request while [icap] pass_through = true. It reads the configuration when
Squid starts it: run `squid -k reconfigure` after a change. With a missing or broken
configuration it serves the last good copy of that file (kept in --state-dir by an
s3squid-icap given the same --config) or, with none, answers BH to every request; with
bad arguments it answers BH to every request. Either way it logs why; it never exits
before stdin closes.",
    log: HELPER_LOG,
};

fn main() -> ExitCode {
    serve(&PROGRAM, |cfg| {
        let rule = s3squid_helpers::rewrite::Rewriter::new(cfg);
        move |req: &s3squid_helpers::protocol::Request<'_>| rule.reply(req)
    })
}
