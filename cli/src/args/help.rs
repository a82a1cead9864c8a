//! The help texts: each command's explanation and its options' descriptions, operator
//! documentation that clap lays out around the usage line and the option list.

/// A command's help: its usage line first, then what it does, then its options.
pub const COMMAND_TEMPLATE: &str = "{usage-heading} {usage}\n\n{before-help}{all-args}{after-help}";

pub const MAIN_ABOUT: &str =
    "s3squid: the admin command of s3squid (Squid as a hot cache in front of S3)";

pub const MAIN_USAGE: &str = "\
s3squid check      [--config PATH]
       s3squid explain    [--config PATH] [--method METHOD] URL
       s3squid squid-conf --layout two-tier|single|rewrite|fleet [--config PATH] [--out-dir DIR]
                          [OPTIONS]
       s3squid revert     [--config PATH] [--state-dir DIR]
       s3squid help [COMMAND]";

pub const MAIN_AFTER: &str = "\
Every command reads the configuration file given by --config (default
/etc/s3squid/s3squid.toml). `s3squid COMMAND --help` describes a command.

Exit status: 0 success, 64 the configuration is invalid or unreadable, 2 bad usage,
74 output could not be written.";

pub const CHECK_ABOUT: &str = "Validate the configuration file";

pub const CHECK: &str = "\
Loads and validates the configuration file, as every s3squid program does at start.

Valid: prints `ok: N routes` and exits 0.
Invalid: prints every problem on stderr, one per line as `PATH:N: message`, and
exits 64.";

pub const EXPLAIN_ABOUT: &str = "Show what s3squid does with one request URL";

pub const EXPLAIN: &str = "\
Shows what s3squid does with a request for URL (an absolute http:// or https:// URL, as
Squid's accelerator builds it from the Host header: http://images.example.com/photos/a.jpg):

  not ours    no route's public prefix matches: s3squid-icap leaves the request alone
              (ICAP 204), s3squid-rewrite and s3squid-storeid answer ERR;
  refused     the HTTP status and reason s3squid-icap answers with (s3squid-rewrite's
              refusals become 403); S3 never sees it;
  S3 object   the route, bucket, key, the unsigned S3 URL (s3squid-icap presigns it for
              sigv4 routes), which helper maps it, and the store ID the object is cached
              under.";

pub const SQUID_CONF_ABOUT: &str = "Print the squid.conf files for a layout";

pub const SQUID_CONF: &str = "\
Renders the squid.conf files for the routes of the configuration file:

  two-tier  edge.conf (the hot cache, nothing on its hit path) and signer.conf (the
            signing Squid in front of S3, with s3squid-icap) - recommended;
  single    squid.conf (one Squid with s3squid-icap and s3squid-storeid);
  rewrite   squid.conf (one Squid with s3squid-rewrite and s3squid-storeid, no ICAP
            service) - for auth = \"none\" routes only: nothing signs there, so requests
            under sigv4 routes fail with a 502;
  fleet     edge.conf (the same file on every edge host: the parents below as a CARP
            array), parent-1.conf ... parent-N.conf (caching Squids for the edges,
            one per --parent, whose misses go to the signing Squid) and signer.conf.

When a route has auth = \"none\", signer.conf and single's squid.conf run s3squid-rewrite
too, so that route keeps working while s3squid-icap is down.

Without --out-dir the files go to stdout, each after a `# ==> NAME <==` line. With it
they are written into DIR (created if missing), replacing files of the same names.

With --fragment, the files are what to add to a Squid that already serves other traffic
(docs/add-to-your-squid.md).

The other options change what is written, so that a script can render a setup that runs
as it is (paths must not contain whitespace).";

pub const LAYOUT: &str = "Which files: two-tier, single, rewrite or fleet (required)";

pub const LISTEN: &str = "\
An http_port of the public Squid (edge, single, rewrite): PORT
or IP:PORT; repeat it for several. Replaces the default, each
port of the routes' http public hosts on all interfaces";

pub const SIGNER_LISTEN: &str = "\
Where the signing Squid listens, and the edge (fleet: the
parents) sends its misses (default 127.0.0.1:3129)";

pub const STATE_DIR: &str = "\
Each Squid's PID file, logs, cache_dir and coredump_dir under
DIR/edge, DIR/signer, DIR/parent-N (fleet) or DIR/single (also
for rewrite), created if missing, with a demo-sized cache: at
most 256 MB on disk and 64 MB in memory";

pub const STOREID_COMMAND: &str = "\
store_id_program command line (default
/usr/local/bin/s3squid-storeid --config /etc/s3squid/s3squid.toml)";

pub const REWRITE_COMMAND: &str = "\
url_rewrite_program command line wherever s3squid-rewrite runs
(default /usr/local/bin/s3squid-rewrite --config
/etc/s3squid/s3squid.toml); it does not make a layout run it";

pub const USER: &str = "\
cache_effective_user: the user Squid runs as when started as
root (default: not written; Debian's Squid then uses proxy)";

pub const CONCURRENCY: &str = "\
concurrency= of both helpers, 0 to 1024 (default 8). With 0,
url_rewrite_timeout is left out: Squid needs concurrency for it";

pub const GNUTLS_SQUID: &str = "\
Write https S3 peers for a GnuTLS build of Squid (Debian's plain squid),
which does not check S3's certificate: a warning says so in the file.
The default is for squid-openssl";

pub const FRAGMENT: &str = "\
Render what to add to a Squid that already serves other traffic (a file for
/etc/squid/conf.d/): its own port(s), every rule scoped to them, nothing that
changes other traffic. two-tier: 00-s3squid-edge.conf plus signer.conf (a
Squid of its own); single and rewrite: 00-s3squid.conf";

pub const PARENT: &str = "\
A parent cache of the fleet layout: where it listens for the
edges; repeat it for each, in the same order every time (default
127.0.0.1:3131 and 127.0.0.1:3132). Its files go in DIR/parent-N
with --state-dir";

pub const EDGE_FROM: &str = "\
An address (IP) or network (IP/PREFIX) of the fleet's edges,
which the parents accept requests from; repeatable (default
127.0.0.1 and ::1)";

pub const SQUID_VERSION: &str = "\
The Squid version the files are for, e.g. 5.7, 6.13 or 7.7 (default: what
`squid -v` says, for the layouts that run s3squid-icap). From 6 on, the ICAP
section keeps Squid's per-request `Squid bug 5187` warning out of cache.log";

pub const EDGE_WORKERS: &str = "\
SMP workers of the edge Squid (two-tier), 1 to 64 (default 1). With 2
or more, the workers share a rock cache_dir and the memory cache";

pub const ACCESS_LOG_STDIO: &str = "\
Write access_log stdio:PATH instead of daemon:PATH, so that each
line is in the file as soon as the request ends (demos, tests)";

pub const REVERT_STATE_DIR: &str = "\
Where s3squid-icap keeps the last good and previous copies of
each configuration file";

pub const REVERT_ABOUT: &str = "Undo the last change to the configuration file";

pub const REVERT: &str = "\
s3squid-icap keeps copies of the configuration file it serves in its state directory, in
a directory of their own for that file: the last good configuration (last-good.toml) and
the one before it (previous.toml). It keeps a configuration at once when it starts with it
or applies it on SIGHUP, and after it has served for 60 seconds when the file watch applied
it.

`revert` undoes the last change. It writes over the configuration file, in this order:

  - what the last revert replaced, when the file is still what that revert wrote and no
    configuration has been kept since (so a second revert undoes the first), and it is
    valid;
  - the previous copy, when the file is the last good copy;
  - the last good copy otherwise (an edit not kept yet, or a broken one).

It validates what it writes, and keeps the file it replaces as reverted-from.toml beside
the copies. s3squid-icap applies it within 4 seconds (at once on SIGHUP); run
`squid -k reconfigure` so the helpers load it too.

Use it to undo a switch or an edit in one command: flip `signing = \"off\"` or
`pass_through = true`, and `s3squid revert` puts the previous state back; run it again to
flip it once more.";
