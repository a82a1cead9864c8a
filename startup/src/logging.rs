//! Logging to stderr (journald for s3squid-icap, Squid's cache.log for the helpers): the
//! level is `--log-level`, else `S3SQUID_LOG` (an `env_logger` filter), else the
//! program's default.

use crate::args::{LogDefaults, LogLevel};

/// Starts the logger; call once, before the first log line.
pub fn init(defaults: LogDefaults, level: Option<LogLevel>) {
    let env = env_logger::Env::new().filter_or("S3SQUID_LOG", defaults.level.as_str());
    let mut b = env_logger::Builder::from_env(env);
    if let Some(l) = level {
        b.parse_filters(l.as_str());
    }
    if !defaults.timestamps {
        b.format_timestamp(None);
    }
    b.target(env_logger::Target::Stderr).init();
}
