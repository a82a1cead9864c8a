//! The command line, parsed without I/O into a [`Command`].
//!
//! ```text
//! s3squid check      [--config PATH]
//! s3squid explain    [--config PATH] [--method METHOD] URL
//! s3squid squid-conf --layout two-tier|single [--config PATH] [--out-dir DIR]
//! s3squid help [COMMAND] | --help | -h | COMMAND --help
//! s3squid --version
//! ```
//!
//! Options take their value as the next argument or after `=` (`--config=PATH`).

use std::path::PathBuf;

use s3map::config::DEFAULT_CONFIG_PATH;

use crate::squid_conf::Layout;

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
    /// Render squid.conf files.
    SquidConf {
        /// The config file.
        config: PathBuf,
        /// Which files.
        layout: Layout,
        /// Write the files here instead of to stdout.
        out_dir: Option<PathBuf>,
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
  s3squid squid-conf --layout two-tier|single [--config PATH] [--out-dir DIR]
  s3squid help [COMMAND]

Commands:
  check       validate the configuration file
  explain     show what s3squid does with one request URL
  squid-conf  print the squid.conf files for a layout

Every command reads the configuration file given by --config (default
/etc/s3squid/s3squid.toml). `s3squid COMMAND --help` describes a command.

Exit status: 0 success, 64 the configuration is invalid or unreadable, 2 bad usage,
74 output could not be written.
";

const CHECK_HELP: &str = "\
Usage: s3squid check [--config PATH]

Loads and validates the configuration file (default /etc/s3squid/s3squid.toml), as every
s3squid program does at start.

Valid: prints `ok: N routes` and exits 0.
Invalid: prints every problem on stderr, one per line as `PATH:line N: message`, and
exits 64.
";

const EXPLAIN_HELP: &str = "\
Usage: s3squid explain [--config PATH] [--method METHOD] URL

Shows what s3squid does with a request for URL (an absolute http:// or https:// URL, as
Squid's accelerator builds it from the Host header: http://images.example.com/photos/a.jpg):

  not ours    no route's public prefix matches: s3squid-icap leaves the request alone
              (ICAP 204) and s3squid-storeid answers ERR;
  refused     the HTTP status and reason s3squid-icap answers with; S3 never sees it;
  S3 object   the route, bucket, key, the unsigned S3 URL (s3squid-icap presigns it for
              sigv4 routes) and the store ID the object is cached under.

Options:
  --config PATH    the configuration file (default /etc/s3squid/s3squid.toml)
  --method METHOD  the HTTP method (default GET)
";

const SQUID_CONF_HELP: &str = "\
Usage: s3squid squid-conf --layout two-tier|single [--config PATH] [--out-dir DIR]

Renders the squid.conf files for the routes of the configuration file:

  two-tier  edge.conf (the hot cache, nothing on its hit path) and signer.conf (the
            signing Squid in front of S3, with s3squid-icap) - recommended;
  single    squid.conf (one Squid with s3squid-icap and s3squid-storeid).

Without --out-dir the files go to stdout, each after a `# ==> NAME <==` line. With it
they are written into DIR (created if missing), replacing files of the same names.

Options:
  --layout two-tier|single  which files (required)
  --config PATH             the configuration file (default /etc/s3squid/s3squid.toml)
  --out-dir DIR             write the files into DIR
";

/// The help text of a topic.
pub fn help(topic: Topic) -> &'static str {
    match topic {
        Topic::Main => MAIN_HELP,
        Topic::Check => CHECK_HELP,
        Topic::Explain => EXPLAIN_HELP,
        Topic::SquidConf => SQUID_CONF_HELP,
    }
}

fn usage(topic: Topic, message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        topic,
    }
}

/// The arguments after the command name, split into options with values and positionals.
struct Parsed {
    options: Vec<(&'static str, String)>,
    positionals: Vec<String>,
    help: bool,
}

/// Splits `args` given the options the command accepts (all take a value).
fn split(args: &[String], accepted: &[&'static str], topic: Topic) -> Result<Parsed, UsageError> {
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
        let Some(&known) = accepted.iter().find(|a| **a == name) else {
            return Err(usage(topic, format!("unknown option {name}")));
        };
        if out.options.iter().any(|(n, _)| *n == known) {
            return Err(usage(topic, format!("{known} is given twice")));
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
            let mut p = split(rest, &["--config"], topic)?;
            if p.help {
                return Ok(Command::Help(topic));
            }
            p.no_positionals(topic)?;
            Ok(Command::Check { config: p.config() })
        }
        Topic::Explain => {
            let mut p = split(rest, &["--config", "--method"], topic)?;
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
        Topic::SquidConf => {
            let mut p = split(rest, &["--config", "--layout", "--out-dir"], topic)?;
            if p.help {
                return Ok(Command::Help(topic));
            }
            p.no_positionals(topic)?;
            let layout = match p.take("--layout") {
                None => return Err(usage(topic, "--layout two-tier|single is required")),
                Some(l) => Layout::parse(&l).ok_or_else(|| {
                    usage(
                        topic,
                        format!("unknown layout {l:?}: use two-tier or single"),
                    )
                })?,
            };
            Ok(Command::SquidConf {
                config: p.config(),
                layout,
                out_dir: p.take("--out-dir").map(PathBuf::from),
            })
        }
        Topic::Main => Err(usage(Topic::Main, "no command given")),
    }
}

#[cfg(test)]
mod tests;
