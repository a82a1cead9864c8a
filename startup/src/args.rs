//! The command-line surface the daemons share: `--config PATH` (default
//! [`DEFAULT_CONFIG_PATH`]), `--check`, `--log-level LEVEL`, `--state-dir DIR`, `--help`,
//! `--version`.
//! Pure: takes the arguments, returns what they ask for.

use std::path::PathBuf;

use s3map::config::DEFAULT_CONFIG_PATH;

/// Parsed common arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonArgs {
    /// The configuration file.
    pub config: PathBuf,
    /// Validate the configuration and exit.
    pub check: bool,
    /// `error`, `warn`, `info`, `debug` or `trace`; `None` means the program's default
    /// (or `S3SQUID_LOG`).
    pub log_level: Option<String>,
    /// Where the last good configuration is kept (`--state-dir`, default
    /// [`crate::lastgood::DEFAULT_STATE_DIR`]).
    pub state_dir: PathBuf,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Run (or check) with these arguments.
    Run(CommonArgs),
    /// Print help and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
}

/// Parses the arguments after the program name.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut out = CommonArgs {
        config: PathBuf::from(DEFAULT_CONFIG_PATH),
        check: false,
        log_level: None,
        state_dir: PathBuf::from(crate::lastgood::DEFAULT_STATE_DIR),
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--config" | "-c" => out.config = PathBuf::from(value("--config")?),
            "--log-level" => {
                let l = value("--log-level")?;
                if !["error", "warn", "info", "debug", "trace", "off"].contains(&l.as_str()) {
                    return Err(format!(
                        "--log-level must be error, warn, info, debug, trace or off, not {l:?}"
                    ));
                }
                out.log_level = Some(l);
            }
            "--state-dir" => out.state_dir = PathBuf::from(value("--state-dir")?),
            "--check" => out.check = true,
            "--help" | "-h" => return Ok(Parsed::Help),
            "--version" | "-V" => return Ok(Parsed::Version),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(Parsed::Run(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Parsed, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses() {
        let Parsed::Run(a) = p(&[
            "--config",
            "/x.toml",
            "--check",
            "--log-level=debug",
            "--state-dir",
            "/s",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.config, PathBuf::from("/x.toml"));
        assert!(a.check);
        assert_eq!(a.log_level.as_deref(), Some("debug"));
        assert_eq!(a.state_dir, PathBuf::from("/s"));
        let Parsed::Run(d) = p(&[]).unwrap() else {
            panic!()
        };
        assert_eq!(d.config, PathBuf::from(DEFAULT_CONFIG_PATH));
        assert_eq!(p(&["--help"]).unwrap(), Parsed::Help);
        assert!(p(&["--config"]).is_err());
        assert!(p(&["--bogus"]).is_err());
        assert!(p(&["--log-level", "loud"]).is_err());
    }
}
