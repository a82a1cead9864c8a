//! What every helper does before its loop: arguments, logging, configuration, through
//! [`s3squid_startup`]. A helper never exits because of its configuration (Squid exits if
//! helpers die too fast after a start, docs/design.md#helper-protocol): a broken or missing
//! config makes it serve the last good copy of that same file (kept by s3squid-icap in
//! `--state-dir`, [`s3squid_startup::lastgood`]), or, with none, answer `BH` to every
//! line; bad arguments make it answer `BH` to every line. Either way it says why on stderr, once. Only `--help`, `--version`
//! and `--check` (with bad arguments or not) exit.

use s3squid_startup::args::{Invocation, LogDefaults, LogLevel, Program};
use s3squid_startup::lastgood::{load_or_last_good, Copies};
use s3squid_startup::{config_report, logging, EXIT_CONFIG};

use s3map::config::Config;

/// How the helpers log: `warn`, without timestamps (cache.log has its own).
pub const HELPER_LOG: LogDefaults = LogDefaults {
    level: LogLevel::Warn,
    timestamps: false,
};

/// What `main` should do.
pub enum Start {
    /// Run the loop with this config, or answer `BH message` to every line.
    Serve(Result<Config, String>),
    /// Exit now with this code (`--help`, `--version`, `--check`, bad arguments with
    /// `--check`).
    Exit(u8),
}

/// Parses arguments, sets up logging (stderr, Squid puts it in cache.log; `program`'s
/// default level, `--log-level` or `S3SQUID_LOG` to change) and loads the config.
pub fn start(program: &Program) -> Start {
    let name = program.name;
    let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let asked_check = argv.iter().any(|a| a == "--check");
    let args = match program.parse(argv) {
        Ok(Invocation::Run(a)) => a,
        Ok(Invocation::Print(text)) => {
            print!("{text}");
            return Start::Exit(0);
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            // Under Squid, bad arguments are a broken config too: answer BH, never exit.
            if asked_check {
                return Start::Exit(EXIT_CONFIG);
            }
            return Start::Serve(Err(format!("{name}: {}", e.message)));
        }
    };
    logging::init(program.log, args.log_level);
    if args.check {
        return Start::Exit(s3squid_startup::check(&args.config));
    }
    match load_or_last_good(&args.config, &args.state_dir) {
        Ok((config, _, None)) => Start::Serve(Ok(config)),
        Ok((config, from, Some(err))) => {
            log::error!(
                "{name}: configuration unusable, serving the last good one ({}) until restarted with a good one:\n{}",
                from.display(),
                config_report(&args.config, &err)
            );
            Start::Serve(Ok(config))
        }
        Err(err) => {
            let kept = match Copies::of(&args.config, &args.state_dir) {
                Ok(copies) => copies.dir().display().to_string(),
                Err(_) => args.state_dir.display().to_string(),
            };
            log::error!(
                "{name}: configuration unusable and no last good copy of it in {kept}: answering BH to every request until restarted with a good one:\n{}",
                config_report(&args.config, &err)
            );
            Start::Serve(Err(format!(
                "{name}: configuration unusable, see cache.log"
            )))
        }
    }
}

/// A whole helper: [`start`], then the [`crate::runner`] loop on stdin/stdout with `rule`
/// (or `BH message` for every line when the config is unusable). Exits 0 on stdin EOF and
/// quietly on a stdout write error.
pub fn serve<R: crate::runner::Rule>(
    program: &Program,
    rule: fn(&Config) -> R,
) -> std::process::ExitCode {
    let name = program.name;
    let config = match start(program) {
        Start::Exit(code) => return std::process::ExitCode::from(code),
        Start::Serve(c) => c,
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    let stop = match config {
        Ok(cfg) => crate::runner::run(stdin, stdout, rule(&cfg)),
        Err(msg) => crate::runner::run(stdin, stdout, |_: &crate::protocol::Request<'_>| {
            crate::protocol::Reply::Bh(msg.clone())
        }),
    };
    log::debug!("{name}: stopping: {stop:?}");
    std::process::ExitCode::SUCCESS
}
