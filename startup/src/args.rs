//! The command line the daemons (s3squid-icap, s3squid-storeid, s3squid-rewrite) share:
//!
//! ```text
//! PROGRAM [--config PATH] [--check] [--log-level LEVEL] [--state-dir DIR]
//! PROGRAM --help | -h
//! PROGRAM --version | -V
//! ```
//!
//! Parsed by clap into [`CommonArgs`]; each program adds its name, its one-line summary
//! and its description (a [`Program`]). Values come as the next argument or after `=`;
//! an option given twice keeps the last value. Pure: takes the arguments, returns what
//! they ask for; the caller prints and picks the exit code.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, FromArgMatches as _};
use s3map::config::DEFAULT_CONFIG_PATH;

use crate::lastgood::DEFAULT_STATE_DIR;

/// A log level for `--log-level` (and the programs' defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// What an operator follows: starts, reloads, stops.
    Info,
    /// One line per decision.
    Debug,
    /// Everything.
    Trace,
    /// Nothing.
    Off,
}

impl LogLevel {
    /// Every level, most severe first.
    pub const ALL: [LogLevel; 6] = [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
        LogLevel::Off,
    ];

    /// The level as `--log-level`, `S3SQUID_LOG` and `env_logger` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
            LogLevel::Off => "off",
        }
    }
}

/// By hand rather than derived, so that `--help` lists the names on one line.
impl clap::ValueEnum for LogLevel {
    fn value_variants<'a>() -> &'a [Self] {
        &LogLevel::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// The daemons' common arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CommonArgs {
    /// The configuration file.
    #[arg(short = 'c', long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH,
          help = "The configuration file")]
    pub config: PathBuf,
    /// Validate the configuration and exit.
    #[arg(
        long,
        help = "Validate the configuration, print every problem, exit 0 or 64"
    )]
    pub check: bool,
    /// `None` means the program's default (or `S3SQUID_LOG`).
    #[arg(long, value_name = "LEVEL", hide_possible_values = true)]
    pub log_level: Option<LogLevel>,
    /// Where the last good configuration is kept (default [`DEFAULT_STATE_DIR`]).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR,
          help = "Where the last good and previous configurations are kept")]
    pub state_dir: PathBuf,
}

/// How a program logs when nothing says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogDefaults {
    /// The level without `--log-level` or `S3SQUID_LOG`.
    pub level: LogLevel,
    /// Whether each line starts with a timestamp (not for helpers: Squid's cache.log has
    /// its own).
    pub timestamps: bool,
}

/// What one daemon says about itself on `--help` and `--version`, and how it logs.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    /// The binary's name.
    pub name: &'static str,
    /// Its version (`env!("CARGO_PKG_VERSION")` of the binary's crate).
    pub version: &'static str,
    /// The first line of `--help`.
    pub about: &'static str,
    /// What `--help` says after the options.
    pub description: &'static str,
    /// How it logs.
    pub log: LogDefaults,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run (or check) with these arguments.
    Run(CommonArgs),
    /// Print this text (`--help`, `--version`) on stdout and exit 0.
    Print(String),
}

/// A command line that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// What is wrong, on one line (a helper's `BH message=` carries it).
    pub message: String,
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (try --help)", self.message)
    }
}

impl Program {
    /// The clap command: the common arguments under this program's name and texts.
    pub fn command(&self) -> clap::Command {
        let levels: Vec<_> = LogLevel::ALL.iter().map(|l| l.as_str()).collect();
        let log_help = format!(
            "{} (default {}, or S3SQUID_LOG)",
            levels.join("|"),
            self.log.level.as_str()
        );
        CommonArgs::augment_args(clap::Command::new(self.name))
            .version(self.version)
            .about(self.about)
            .after_help(self.description)
            .args_override_self(true)
            .mut_arg("log_level", |a| a.help(log_help))
    }

    /// Parses the arguments after the program name.
    pub fn parse<I, T>(&self, args: I) -> Result<Invocation, UsageError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let argv =
            std::iter::once(OsString::from(self.name)).chain(args.into_iter().map(Into::into));
        match self.command().try_get_matches_from(argv) {
            Ok(m) => CommonArgs::from_arg_matches(&m).map(Invocation::Run),
            // `--help` and `--version` arrive from clap as errors.
            Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
                Ok(Invocation::Print(e.render().to_string()))
            }
            Err(e) => Err(e),
        }
        .map_err(|e| UsageError {
            message: usage_message(&e),
        })
    }
}

/// What clap found wrong, on one line and without the usage clap appends: `--opt "value":
/// why` for a value its parser refused, else clap's own message.
pub fn usage_message(err: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    use std::error::Error as _;
    if err.kind() == ErrorKind::ValueValidation {
        if let (Some(ContextValue::String(arg)), Some(ContextValue::String(value)), Some(why)) = (
            err.get(ContextKind::InvalidArg),
            err.get(ContextKind::InvalidValue),
            err.source(),
        ) {
            let option = arg.split(' ').next().unwrap_or(arg);
            return format!("{option} {value:?}: {why}");
        }
    }
    let text = err.render().to_string();
    let first = text.split("\n\n").next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    first.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
