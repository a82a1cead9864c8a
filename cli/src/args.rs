//! The command line, parsed without I/O into a [`Command`].
//!
//! ```text
//! s3squid check      [--config PATH]
//! s3squid explain    [--config PATH] [--method METHOD] URL
//! s3squid squid-conf --layout two-tier|single|rewrite [--config PATH] [--out-dir DIR]
//!                    [--listen ADDR]... [--signer-listen IP:PORT] [--state-dir DIR]
//!                    [--storeid-command CMD] [--rewrite-command CMD] [--user USER]
//!                    [--concurrency N] [--access-log-stdio]
//! s3squid revert     [--config PATH] [--state-dir DIR]
//! s3squid help [COMMAND] | --help | -h | COMMAND --help
//! s3squid --version
//! ```
//!
//! Options take their value as the next argument or after `=` (`--config=PATH`); only
//! `--listen` may be given more than once; `--access-log-stdio` takes no value.

use std::net::SocketAddr;
use std::path::PathBuf;

use s3map::config::DEFAULT_CONFIG_PATH;

use crate::squid_conf::{Layout, Overrides, MAX_HELPER_CONCURRENCY};

/// What to show help for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// The command overview.
    Main,
    /// `check`.
    Check,
    /// `explain`.
    Explain,
    /// `squid-conf`.
    SquidConf,
    /// `revert`.
    Revert,
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print the help text of a topic.
    Help(Topic),
    /// Print the version.
    Version,
    /// Validate a config.
    Check {
        /// The config file.
        config: PathBuf,
    },
    /// Explain what happens to one request.
    Explain {
        /// The config file.
        config: PathBuf,
        /// The HTTP method token (default `GET`).
        method: String,
        /// The absolute URL, as Squid hands it to s3squid.
        url: String,
    },
    /// Put the previous configuration back.
    Revert {
        /// The config file to restore.
        config: PathBuf,
        /// Where s3squid-icap keeps the last good and previous configurations.
        state_dir: PathBuf,
    },
    /// Render squid.conf files.
    SquidConf {
        /// The config file.
        config: PathBuf,
        /// Which files.
        layout: Layout,
        /// Write the files here instead of to stdout.
        out_dir: Option<PathBuf>,
        /// Changes to the default parameters. `state_dir` is as given: the binary makes it
        /// absolute.
        overrides: Overrides,
    },
}

/// A command line that cannot be run; the binary prints it with the topic's help and exits 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// The help to show with it.
    pub topic: Topic,
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

const MAIN_HELP: &str = "\
s3squid: the admin command of s3squid (Squid as a hot cache in front of S3)

Usage:
  s3squid check      [--config PATH]
  s3squid explain    [--config PATH] [--method METHOD] URL
  s3squid squid-conf --layout two-tier|single|rewrite [--config PATH] [--out-dir DIR]
                     [OPTIONS]
  s3squid revert     [--config PATH] [--state-dir DIR]
  s3squid help [COMMAND]

Commands:
  check       validate the configuration file
  explain     show what s3squid does with one request URL
  squid-conf  print the squid.conf files for a layout
  revert      put back the configuration before the last one s3squid-icap applied

Every command reads the configuration file given by --config (default
/etc/s3squid/s3squid.toml). `s3squid COMMAND --help` describes a command.

Exit status: 0 success, 64 the configuration is invalid or unreadable, 2 bad usage,
74 output could not be written.
";

const REVERT_HELP: &str = "\
Usage: s3squid revert [--config PATH] [--state-dir DIR]

s3squid-icap keeps the last configuration it applied and the one before it in its state
directory (default /var/lib/s3squid: last-good.toml, previous.toml). `revert` validates
previous.toml and writes it over the configuration file (default
/etc/s3squid/s3squid.toml), keeping the file it replaces as DIR/reverted-from.toml.
s3squid-icap notices the change within 2 seconds (or send it SIGHUP); run
`squid -k reconfigure` so the helpers load it too.

Use it to undo a switch or an edit in one command: flip `signing = \"off\"` or
`pass_through = true`, and `s3squid revert` puts the previous state back.
";

const CHECK_HELP: &str = "\
Usage: s3squid check [--config PATH]

Loads and validates the configuration file (default /etc/s3squid/s3squid.toml), as every
s3squid program does at start.

Valid: prints `ok: N routes` and exits 0.
Invalid: prints every problem on stderr, one per line as `PATH:N: message`, and
exits 64.
";

const EXPLAIN_HELP: &str = "\
Usage: s3squid explain [--config PATH] [--method METHOD] URL

Shows what s3squid does with a request for URL (an absolute http:// or https:// URL, as
Squid's accelerator builds it from the Host header: http://images.example.com/photos/a.jpg):

  not ours    no route's public prefix matches: s3squid-icap leaves the request alone
              (ICAP 204), s3squid-rewrite and s3squid-storeid answer ERR;
  refused     the HTTP status and reason s3squid-icap answers with (s3squid-rewrite's
              refusals become 403); S3 never sees it;
  S3 object   the route, bucket, key, the unsigned S3 URL (s3squid-icap presigns it for
              sigv4 routes), which helper maps it, and the store ID the object is cached
              under.

Options:
  --config PATH    the configuration file (default /etc/s3squid/s3squid.toml)
  --method METHOD  the HTTP method (default GET)
";

const SQUID_CONF_HELP: &str = "\
Usage: s3squid squid-conf --layout two-tier|single|rewrite [--config PATH] [--out-dir DIR]
                          [--listen ADDR]... [--signer-listen IP:PORT] [--state-dir DIR]
                          [--storeid-command CMD] [--rewrite-command CMD] [--user USER]
                          [--concurrency N] [--access-log-stdio]

Renders the squid.conf files for the routes of the configuration file:

  two-tier  edge.conf (the hot cache, nothing on its hit path) and signer.conf (the
            signing Squid in front of S3, with s3squid-icap) - recommended;
  single    squid.conf (one Squid with s3squid-icap and s3squid-storeid);
  rewrite   squid.conf (one Squid with s3squid-rewrite and s3squid-storeid, no ICAP
            service) - for auth = \"none\" routes only: nothing signs there, so requests
            under sigv4 routes fail with a 502.

When a route has auth = \"none\", signer.conf and single's squid.conf run s3squid-rewrite
too, so that route keeps working while s3squid-icap is down.

Without --out-dir the files go to stdout, each after a `# ==> NAME <==` line. With it
they are written into DIR (created if missing), replacing files of the same names.

The other options change what is written, so that a script can render a setup that runs
as it is (paths must not contain whitespace):

Options:
  --layout two-tier|single|rewrite  which files (required)
  --config PATH           the configuration file (default /etc/s3squid/s3squid.toml)
  --out-dir DIR           write the files into DIR
  --listen ADDR           an http_port of the public Squid (edge, single, rewrite): PORT
                          or IP:PORT; repeat it for several. Replaces the default, each
                          port of the routes' http public hosts on all interfaces
  --signer-listen IP:PORT where the signing Squid listens, and the edge sends its misses
                          (default 127.0.0.1:3129)
  --state-dir DIR         each Squid's PID file, logs, cache_dir and coredump_dir under
                          DIR/edge, DIR/signer or DIR/single (also for rewrite), created
                          if missing, with a demo-sized cache: at most 256 MB on disk and
                          64 MB in memory
  --storeid-command CMD   store_id_program command line (default
                          /usr/local/bin/s3squid-storeid --config /etc/s3squid/s3squid.toml)
  --rewrite-command CMD   url_rewrite_program command line wherever s3squid-rewrite runs
                          (default /usr/local/bin/s3squid-rewrite --config
                          /etc/s3squid/s3squid.toml); it does not make a layout run it
  --user USER             cache_effective_user: the user Squid runs as when started as
                          root (default: not written; Debian's Squid then uses proxy)
  --concurrency N         concurrency= of both helpers, 0 to 1024 (default 8). With 0,
                          url_rewrite_timeout is left out: Squid needs concurrency for it
  --access-log-stdio      write access_log stdio:PATH instead of daemon:PATH, so that each
                          line is in the file as soon as the request ends (demos, tests)
";

/// The help text of a topic.
pub fn help(topic: Topic) -> &'static str {
    match topic {
        Topic::Main => MAIN_HELP,
        Topic::Check => CHECK_HELP,
        Topic::Explain => EXPLAIN_HELP,
        Topic::SquidConf => SQUID_CONF_HELP,
        Topic::Revert => REVERT_HELP,
    }
}

fn usage(topic: Topic, message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        topic,
    }
}

/// How an option takes its value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Once at most, with a value.
    Value,
    /// Any number of times, each with a value.
    Repeated,
    /// Once at most, without a value (`--flag`; `--flag=x` is an error).
    Flag,
}

/// The arguments after the command name, split into options and positionals. A flag's
/// value is the empty string.
struct Parsed {
    options: Vec<(&'static str, String)>,
    positionals: Vec<String>,
    help: bool,
}

/// Splits `args` given the options the command accepts.
fn split(
    args: &[String],
    accepted: &[(&'static str, Kind)],
    topic: Topic,
) -> Result<Parsed, UsageError> {
    let mut out = Parsed {
        options: Vec::new(),
        positionals: Vec::new(),
        help: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--help" || arg == "-h" {
            out.help = true;
            continue;
        }
        if !arg.starts_with('-') || arg == "-" {
            out.positionals.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (arg.as_str(), None),
        };
        let Some(&(known, kind)) = accepted.iter().find(|(a, _)| *a == name) else {
            return Err(usage(topic, format!("unknown option {name}")));
        };
        if kind != Kind::Repeated && out.options.iter().any(|(n, _)| *n == known) {
            return Err(usage(topic, format!("{known} is given twice")));
        }
        if kind == Kind::Flag {
            if inline.is_some() {
                return Err(usage(topic, format!("{known} takes no value")));
            }
            out.options.push((known, String::new()));
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| usage(topic, format!("{known} needs a value")))?,
        };
        if value.is_empty() {
            return Err(usage(topic, format!("{known} needs a non-empty value")));
        }
        out.options.push((known, value));
    }
    Ok(out)
}

impl Parsed {
    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.options.iter().position(|(n, _)| *n == name)?;
        Some(self.options.remove(i).1)
    }

    /// Every value of a repeated option, in order.
    fn take_all(&mut self, name: &str) -> Vec<String> {
        let mut values = Vec::new();
        while let Some(v) = self.take(name) {
            values.push(v);
        }
        values
    }

    /// A value checked by `check`, which says what is wrong.
    fn take_checked<T>(
        &mut self,
        name: &str,
        topic: Topic,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, UsageError> {
        self.take(name)
            .map(|v| check(&v).map_err(|why| usage(topic, format!("{name} {v:?}: {why}"))))
            .transpose()
    }

    fn config(&mut self) -> PathBuf {
        PathBuf::from(
            self.take("--config")
                .unwrap_or_else(|| DEFAULT_CONFIG_PATH.to_owned()),
        )
    }

    fn no_positionals(&self, topic: Topic) -> Result<(), UsageError> {
        match self.positionals.first() {
            Some(extra) => Err(usage(topic, format!("unexpected argument {extra:?}"))),
            None => Ok(()),
        }
    }
}

fn topic_of(command: &str) -> Option<Topic> {
    match command {
        "check" => Some(Topic::Check),
        "explain" => Some(Topic::Explain),
        "squid-conf" => Some(Topic::SquidConf),
        "revert" => Some(Topic::Revert),
        _ => None,
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(usage(Topic::Main, "no command given"));
    };
    match command.as_str() {
        "--help" | "-h" => return Ok(Command::Help(Topic::Main)),
        "--version" | "-V" => return Ok(Command::Version),
        "help" => {
            return match rest {
                [] => Ok(Command::Help(Topic::Main)),
                [c] => topic_of(c)
                    .map(Command::Help)
                    .ok_or_else(|| usage(Topic::Main, format!("unknown command {c:?}"))),
                _ => Err(usage(Topic::Main, "help takes at most one command")),
            };
        }
        _ => {}
    }
    let Some(topic) = topic_of(command) else {
        return Err(usage(Topic::Main, format!("unknown command {command:?}")));
    };
    match topic {
        Topic::Check => {
            let mut p = split(rest, &[("--config", Kind::Value)], topic)?;
            if p.help {
                return Ok(Command::Help(topic));
            }
            p.no_positionals(topic)?;
            Ok(Command::Check { config: p.config() })
        }
        Topic::Explain => {
            let mut p = split(
                rest,
                &[("--config", Kind::Value), ("--method", Kind::Value)],
                topic,
            )?;
            if p.help {
                return Ok(Command::Help(topic));
            }
            let url = match p.positionals.as_slice() {
                [url] => url.clone(),
                [] => return Err(usage(topic, "explain needs a URL")),
                [_, extra, ..] => {
                    return Err(usage(topic, format!("unexpected argument {extra:?}")))
                }
            };
            let method = p.take("--method").unwrap_or_else(|| "GET".to_owned());
            Ok(Command::Explain {
                config: p.config(),
                method,
                url,
            })
        }
        Topic::SquidConf => squid_conf(rest),
        Topic::Revert => {
            let mut p = split(
                rest,
                &[("--config", Kind::Value), ("--state-dir", Kind::Value)],
                topic,
            )?;
            if p.help {
                return Ok(Command::Help(topic));
            }
            p.no_positionals(topic)?;
            let state_dir = PathBuf::from(
                p.take("--state-dir")
                    .unwrap_or_else(|| s3squid_startup::lastgood::DEFAULT_STATE_DIR.to_owned()),
            );
            Ok(Command::Revert {
                config: p.config(),
                state_dir,
            })
        }
        Topic::Main => Err(usage(Topic::Main, "no command given")),
    }
}

/// The options of `squid-conf`.
const SQUID_CONF_OPTIONS: [(&str, Kind); 11] = [
    ("--config", Kind::Value),
    ("--layout", Kind::Value),
    ("--out-dir", Kind::Value),
    ("--listen", Kind::Repeated),
    ("--signer-listen", Kind::Value),
    ("--state-dir", Kind::Value),
    ("--storeid-command", Kind::Value),
    ("--rewrite-command", Kind::Value),
    ("--user", Kind::Value),
    ("--concurrency", Kind::Value),
    ("--access-log-stdio", Kind::Flag),
];

fn squid_conf(rest: &[String]) -> Result<Command, UsageError> {
    let topic = Topic::SquidConf;
    let mut p = split(rest, &SQUID_CONF_OPTIONS, topic)?;
    if p.help {
        return Ok(Command::Help(topic));
    }
    p.no_positionals(topic)?;
    let layout = match p.take("--layout") {
        None => return Err(usage(topic, "--layout two-tier|single|rewrite is required")),
        Some(l) => Layout::parse(&l).ok_or_else(|| {
            usage(
                topic,
                format!("unknown layout {l:?}: use two-tier, single or rewrite"),
            )
        })?,
    };
    let mut listen = Vec::new();
    for addr in p.take_all("--listen") {
        listen.push(
            listen_addr(&addr).map_err(|why| usage(topic, format!("--listen {addr:?}: {why}")))?,
        );
    }
    let overrides = Overrides {
        listen,
        signer_listen: p.take_checked("--signer-listen", topic, signer_addr)?,
        state_dir: p.take_checked("--state-dir", topic, squid_path)?,
        storeid_command: p.take_checked("--storeid-command", topic, command_line)?,
        rewrite_command: p.take_checked("--rewrite-command", topic, command_line)?,
        user: p.take_checked("--user", topic, one_word)?,
        concurrency: p.take_checked("--concurrency", topic, concurrency)?,
        access_log_stdio: p.take("--access-log-stdio").is_some(),
    };
    Ok(Command::SquidConf {
        config: p.config(),
        layout,
        out_dir: p.take("--out-dir").map(PathBuf::from),
        overrides,
    })
}

/// A value squid.conf takes as one word.
fn one_word(s: &str) -> Result<String, String> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("must not contain whitespace".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

/// A path written into squid.conf: one word.
fn squid_path(s: &str) -> Result<PathBuf, String> {
    one_word(s).map(PathBuf::from)
}

/// An `http_port` address: `PORT` or `IP:PORT` (`[IPv6]:PORT`), port not 0.
fn listen_addr(s: &str) -> Result<String, String> {
    let port = match s.parse::<u16>() {
        Ok(port) => port,
        Err(_) => s
            .parse::<SocketAddr>()
            .map_err(|_| "not PORT or IP:PORT".to_owned())?
            .port(),
    };
    if port == 0 {
        return Err("port 0".to_owned());
    }
    Ok(s.to_owned())
}

/// The signing Squid's `IP:PORT`, port not 0.
fn signer_addr(s: &str) -> Result<SocketAddr, String> {
    match s.parse::<SocketAddr>() {
        Ok(a) if a.port() == 0 => Err("port 0".to_owned()),
        Ok(a) => Ok(a),
        Err(_) => Err("not IP:PORT".to_owned()),
    }
}

/// A helper command line: words separated by spaces, on one line.
fn command_line(s: &str) -> Result<String, String> {
    if s.chars().any(char::is_control) {
        Err("must be one line".to_owned())
    } else if s.trim().is_empty() {
        Err("is empty".to_owned())
    } else {
        Ok(s.trim().to_owned())
    }
}

fn concurrency(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if n <= MAX_HELPER_CONCURRENCY => Ok(n),
        _ => Err(format!("not a number from 0 to {MAX_HELPER_CONCURRENCY}")),
    }
}

#[cfg(test)]
mod tests;
