//! The configuration file: `Config::parse` on the text, then what every program builds
//! from a valid one (the route table and the store-ID fast path's index).

use s3map::config::{Config, ConfigError};
use s3map::route::RouteTable;
use s3map::storeid::for_url;
use s3squid_helpers::storeid::FastIndex;
use s3squid_startup::config_file::MAX_CONFIG_BYTES;

use super::mapping::utf8_prefix;
use super::{unmeasured, Target, KIB};

/// The most text `s3squid_startup::load` hands to the parser.
const MAX_TEXT: usize = MAX_CONFIG_BYTES as usize;

/// `Config::parse` (TOML, then validation), on at most [`MAX_CONFIG_BYTES`] of valid UTF-8
/// (what `s3squid_startup::load` would pass it).
///
/// Bound: with t = min(len, [`MAX_CONFIG_BYTES`]): 1024 t + 64 KiB. The dearest spelling
/// found is an array of empty inline tables (`route = [{},{},…]`): per 3 bytes, toml's
/// table with its spans, a typed raw route (13 optional fields), and four problems ("route
/// is missing `name`", …), each in a growing vector: about 630 bytes of heap per input
/// byte at the peak. (So a 1 MiB file can make the check hold some 650 MiB: every route
/// and every problem is kept, none is capped.)
pub const CONFIG: Target = Target {
    name: "config",
    entry: "s3map::config::Config::parse",
    run: config,
    bound: |len| 1024 * len.min(MAX_TEXT) + 64 * KIB,
    accepts: |d| std::str::from_utf8(d).is_ok_and(|t| Config::parse(t).is_ok()),
    tokens: &[
        b"[icap]\n",
        b"[[route]]\n",
        b"[[route.redirect]]\n",
        b"name = \"r\"\n",
        b"public = \"http://h.example.com/p/\"\n",
        b"bucket = \"b-1\"\n",
        b"region = \"us-east-1\"\n",
        b"endpoint = \"http://127.0.0.1:9000\"\n",
        b"addressing = \"virtual\"\n",
        b"addressing = \"path\"\n",
        b"auth = \"none\"\n",
        b"allow_query = [\"versionId\"]\n",
        b"index = \"index.html\"\n",
        b"key_prefix = \"p/\"\n",
        b"from = \"a/*\"\nto = \"/b/*\"\n",
        b"status = 308\n",
        b"signing = \"off\"\n",
        b"probe_key = \"k\"\n",
        b"listen = \"[::1]:0\"\n",
        b"presign_expires = 604801\n",
        b"\"\"\"",
        b"'''",
        b"[[",
        b"]]",
        b"{ a = 1 }",
        b"[1, [2, [3]]]",
        b"\\u0000",
        b"\\U0010FFFF",
        b"# comment\n",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"1979-05-27T07:32:00Z",
        b"inf",
        b"nan",
    ],
};

/// Parses configuration text. A valid configuration has routes with unique names and
/// public prefixes, and its route table and fast-path index build; when the fast path
/// answers a route's public or S3 URL, it answers what the general path does. An invalid
/// one has problems, each with a message and a line within the text (or the end of file,
/// one past its last line).
pub fn config(data: &[u8]) {
    let text = utf8_prefix(&data[..data.len().min(MAX_TEXT)]);
    let parsed = Config::parse(text);
    unmeasured(|| match &parsed {
        Ok(c) => {
            assert!(!c.routes.is_empty(), "a valid configuration without routes");
            for (i, r) in c.routes.iter().enumerate() {
                assert!(
                    c.routes[..i]
                        .iter()
                        .all(|o| o.name != r.name && o.public != r.public),
                    "two routes with one name or public prefix"
                );
            }
            let table = RouteTable::new(&c.routes);
            let fast = FastIndex::new(&table);
            for r in &c.routes {
                for url in [format!("{}k", r.public), r.object_url("k/a%20b.jpg")] {
                    let mut id = Vec::new();
                    if fast.write_id(url.as_bytes(), &mut id) {
                        assert!(
                            for_url(&table, &url).map(String::into_bytes) == Some(id),
                            "the fast path and the general path disagree on a route's URL"
                        );
                    }
                }
            }
        }
        Err(ConfigError::Invalid { problems }) => {
            assert!(!problems.is_empty(), "invalid without a problem");
            let lines = text.lines().count().max(1) + 1;
            for p in problems {
                assert!(!p.message.is_empty(), "a problem without a message");
                assert!(
                    p.line.is_none_or(|l| (1..=lines).contains(&l)),
                    "a problem on line {:?} of {lines}",
                    p.line
                );
            }
        }
    });
}
