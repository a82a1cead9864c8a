//! The command line, parsed by clap without I/O into a [`Command`].
//!
//! ```text
//! s3squid check      [--config PATH]
//! s3squid explain    [--config PATH] [--method METHOD] URL
//! s3squid squid-conf --layout two-tier|single|rewrite|fleet [--config PATH] [--out-dir DIR]
//!                    [--listen ADDR]... [--signer-listen IP:PORT] [--state-dir DIR]
//!                    [--storeid-command CMD] [--rewrite-command CMD] [--user USER]
//!                    [--concurrency N] [--edge-workers N] [--access-log-stdio]
//!                    [--gnutls-squid] [--squid-version VERSION] [--fragment]
//!                    [--parent IP:PORT]... [--edge-from CIDR]...
//! s3squid revert     [--config PATH] [--state-dir DIR]
//! s3squid help [COMMAND] | --help | -h | COMMAND --help
//! s3squid --version
//! ```
//!
//! Options take their value as the next argument or after `=` (`--config=PATH`), never an
//! empty one; only `--listen`, `--parent` and `--edge-from` may be given more than once; `--access-log-stdio` takes no
//! value. The help texts are in the private `help` module; [`help()`] renders them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory as _, Parser};
use s3map::config::DEFAULT_CONFIG_PATH;
use s3squid_startup::args::usage_message;
use s3squid_startup::lastgood::DEFAULT_STATE_DIR;

use crate::squid_conf::{Layout, Overrides, SquidVersion, MAX_HELPER_CONCURRENCY, MAX_WORKERS};

mod help;

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

/// Each command's topic and name.
const COMMANDS: [(Topic, &str); 4] = [
    (Topic::Check, "check"),
    (Topic::Explain, "explain"),
    (Topic::SquidConf, "squid-conf"),
    (Topic::Revert, "revert"),
];

fn topic_of(command: &str) -> Option<Topic> {
    COMMANDS
        .iter()
        .find(|(_, n)| *n == command)
        .map(|(t, _)| *t)
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per run of the program: its size does not matter
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
        /// `--fragment`: what to add to a Squid that serves other traffic too
        /// ([`crate::squid_conf::render_fragment`]) instead of whole squid.conf files.
        fragment: bool,
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

/// The whole command line, as clap parses it.
#[derive(Parser)]
#[command(
    name = "s3squid",
    version,
    about = help::MAIN_ABOUT,
    override_usage = help::MAIN_USAGE,
    after_help = help::MAIN_AFTER,
    subcommand_required = true
)]
struct Cli {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run of the program
enum Sub {
    #[command(about = help::CHECK_ABOUT, before_help = help::CHECK, help_template = help::COMMAND_TEMPLATE)]
    Check {
        #[command(flatten)]
        config: ConfigArg,
    },
    #[command(about = help::EXPLAIN_ABOUT, before_help = help::EXPLAIN, help_template = help::COMMAND_TEMPLATE)]
    Explain {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long, value_name = "METHOD", default_value = "GET", value_parser = non_empty,
              help = "The HTTP method")]
        method: String,
        #[arg(value_name = "URL", help = "An absolute http:// or https:// URL")]
        url: String,
    },
    #[command(about = help::SQUID_CONF_ABOUT, before_help = help::SQUID_CONF, help_template = help::COMMAND_TEMPLATE)]
    SquidConf(SquidConfArgs),
    #[command(about = help::REVERT_ABOUT, before_help = help::REVERT, help_template = help::COMMAND_TEMPLATE)]
    Revert {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR,
              help = help::REVERT_STATE_DIR)]
        state_dir: PathBuf,
    },
}

/// `--config PATH`, which every command takes.
#[derive(clap::Args)]
struct ConfigArg {
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH, help = "The configuration file")]
    config: PathBuf,
}

#[derive(clap::Args)]
struct SquidConfArgs {
    #[arg(long, value_name = "LAYOUT", hide_possible_values = true, help = help::LAYOUT)]
    layout: Layout,
    #[command(flatten)]
    config: ConfigArg,
    #[arg(long, value_name = "DIR", help = "Write the files into DIR")]
    out_dir: Option<PathBuf>,
    #[arg(long, value_name = "ADDR", value_parser = listen_addr, help = help::LISTEN)]
    listen: Vec<String>,
    #[arg(long, value_name = "IP:PORT", value_parser = signer_addr, help = help::SIGNER_LISTEN)]
    signer_listen: Option<SocketAddr>,
    #[arg(long, value_name = "DIR", value_parser = squid_path, help = help::STATE_DIR)]
    state_dir: Option<PathBuf>,
    #[arg(long, value_name = "CMD", value_parser = command_line, help = help::STOREID_COMMAND)]
    storeid_command: Option<String>,
    #[arg(long, value_name = "CMD", value_parser = command_line, help = help::REWRITE_COMMAND)]
    rewrite_command: Option<String>,
    #[arg(long, value_name = "USER", value_parser = one_word, help = help::USER)]
    user: Option<String>,
    // Negative numbers reach the check, which says what is wrong with them.
    #[arg(long, value_name = "N", value_parser = concurrency, allow_negative_numbers = true,
          help = help::CONCURRENCY)]
    concurrency: Option<u32>,
    #[arg(long, value_name = "N", value_parser = workers, allow_negative_numbers = true,
          help = help::EDGE_WORKERS)]
    edge_workers: Option<u32>,
    #[arg(long, help = help::ACCESS_LOG_STDIO)]
    access_log_stdio: bool,
    #[arg(long, help = help::GNUTLS_SQUID)]
    gnutls_squid: bool,
    #[arg(long, help = help::FRAGMENT)]
    fragment: bool,
    #[arg(long, value_name = "IP:PORT", value_parser = signer_addr, help = help::PARENT)]
    parent: Vec<SocketAddr>,
    #[arg(long, value_name = "CIDR", value_parser = cidr, help = help::EDGE_FROM)]
    edge_from: Vec<String>,
    #[arg(long, value_name = "VERSION", value_parser = SquidVersion::parse, help = help::SQUID_VERSION)]
    squid_version: Option<SquidVersion>,
}

/// Layouts as `--layout` values.
impl clap::ValueEnum for Layout {
    fn value_variants<'a>() -> &'a [Self] {
        &Layout::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

impl From<Sub> for Command {
    fn from(sub: Sub) -> Command {
        match sub {
            Sub::Check { config } => Command::Check {
                config: config.config,
            },
            Sub::Explain {
                config,
                method,
                url,
            } => Command::Explain {
                config: config.config,
                method,
                url,
            },
            Sub::Revert { config, state_dir } => Command::Revert {
                config: config.config,
                state_dir,
            },
            Sub::SquidConf(a) => Command::SquidConf {
                config: a.config.config,
                layout: a.layout,
                out_dir: a.out_dir,
                fragment: a.fragment,
                overrides: Overrides {
                    listen: a.listen,
                    signer_listen: a.signer_listen,
                    state_dir: a.state_dir,
                    storeid_command: a.storeid_command,
                    rewrite_command: a.rewrite_command,
                    user: a.user,
                    concurrency: a.concurrency,
                    edge_workers: a.edge_workers,
                    access_log_stdio: a.access_log_stdio,
                    gnutls_squid: a.gnutls_squid,
                    parents: a.parent,
                    edge_from: a.edge_from,
                    squid_version: a.squid_version,
                },
            },
        }
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let argv = std::iter::once("s3squid").chain(args.iter().map(String::as_str));
    // The command the line names, if any: the topic of its help and of its errors.
    let named = args.first().and_then(|c| topic_of(c));
    match Cli::try_parse_from(argv) {
        Ok(cli) => match cli.command.into() {
            Command::SquidConf {
                layout: Layout::Fleet,
                fragment: true,
                ..
            } => Err(UsageError {
                message: "--fragment has no fleet form: add the two-tier fragment to each \
                          existing Squid, or run the fleet's own Squids (docs/fleet.md)"
                    .to_owned(),
                topic: Topic::SquidConf,
            }),
            Command::SquidConf { overrides, .. }
                if overrides
                    .parents
                    .iter()
                    .enumerate()
                    .any(|(i, p)| overrides.parents[..i].contains(p)) =>
            {
                Err(UsageError {
                    message: "--parent names the same address twice: each parent cache \
                              listens on an address of its own"
                        .to_owned(),
                    topic: Topic::SquidConf,
                })
            }
            command => Ok(command),
        },
        Err(e) => match e.kind() {
            ErrorKind::DisplayVersion => Ok(Command::Version),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
                Err(UsageError {
                    message: "no command given".to_owned(),
                    topic: Topic::Main,
                })
            }
            ErrorKind::DisplayHelp => Ok(Command::Help(match args {
                [h, c, ..] if h == "help" => topic_of(c).unwrap_or(Topic::Main),
                _ => named.unwrap_or(Topic::Main),
            })),
            _ => Err(UsageError {
                message: usage_message(&e),
                topic: named.unwrap_or(Topic::Main),
            }),
        },
    }
}

/// The help text of a topic, as `--help` shows it.
pub fn help(topic: Topic) -> String {
    let mut cli = Cli::command();
    // Builds the subcommands too, so that their usage lines start with `s3squid`.
    cli.build();
    let name = COMMANDS.iter().find(|(t, _)| *t == topic).map(|(_, n)| *n);
    let text = match name.and_then(|n| cli.find_subcommand_mut(n)) {
        Some(command) => command.render_help(),
        None => cli.render_help(),
    };
    format!("{}\n", text.to_string().trim_end())
}

/// A value given as `--opt=` is not a value.
fn non_empty(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("is empty".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

/// A value squid.conf takes as one word.
fn one_word(s: &str) -> Result<String, String> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("must not contain whitespace".to_owned())
    } else {
        non_empty(s)
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

/// A `src` ACL value: an IP address, or `IP/PREFIX` with a prefix no longer than the
/// address.
fn cidr(s: &str) -> Result<String, String> {
    let (ip, prefix) = match s.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (s, None),
    };
    let bits = match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => 32,
        Ok(std::net::IpAddr::V6(_)) => 128,
        Err(_) => return Err("not IP or IP/PREFIX".to_owned()),
    };
    match prefix.map(str::parse::<u8>) {
        None => Ok(s.to_owned()),
        Some(Ok(n)) if n <= bits => Ok(s.to_owned()),
        Some(_) => Err(format!("the prefix is not a number from 0 to {bits}")),
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

fn workers(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(n),
        _ => Err(format!("not a number from 1 to {MAX_WORKERS}")),
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
