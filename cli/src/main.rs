//! `s3squid`: check a config, explain what happens to a URL, render squid.conf for a layout.
//! Argument parsing and every text live in the library; this file does the I/O and picks
//! the exit code.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use s3map::config::Config;
use s3squid::args::{self, Command};
use s3squid::{report, squid_conf};
use s3squid_startup::lastgood::{
    write_atomic, Copies, LAST_GOOD, PREVIOUS, REVERTED_FROM, REVERTED_TO,
};
use s3squid_startup::{config_report, LoadError, EXIT_CONFIG};

/// Bad command line (as most command-line parsers do).
const EXIT_USAGE: u8 = 2;
/// Output could not be written (EX_IOERR).
const EXIT_IO: u8 = 74;

fn main() -> ExitCode {
    let mut argv = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(a) => argv.push(a),
            Err(bad) => {
                eprintln!("s3squid: argument {bad:?} is not valid UTF-8");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    run(&argv)
}

fn run(argv: &[String]) -> ExitCode {
    let command = match args::parse(argv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("s3squid: {e}\n\n{}", args::help(e.topic));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match command {
        Command::Help(topic) => emit(&args::help(topic)),
        Command::Version => emit(&format!("s3squid {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Check { config } => match load(&config) {
            Ok(cfg) => emit(&format!("{}\n", report::check_ok(&cfg))),
            Err(code) => code,
        },
        Command::Explain {
            config,
            method,
            url,
        } => match load(&config) {
            Ok(cfg) => emit(&report::explain(&cfg, &method, &url)),
            Err(code) => code,
        },
        Command::Revert { config, state_dir } => revert(&config, &state_dir),
        Command::SquidConf {
            config,
            layout,
            out_dir,
            fragment,
            mut overrides,
        } => {
            let cfg = match load(&config) {
                Ok(cfg) => cfg,
                Err(code) => return code,
            };
            if let Some(dir) = &overrides.state_dir {
                match std::path::absolute(dir) {
                    Ok(abs) => overrides.state_dir = Some(abs),
                    Err(e) => {
                        eprintln!("s3squid: --state-dir {}: {e}", dir.display());
                        return ExitCode::from(EXIT_IO);
                    }
                }
            }
            // Only the layouts running s3squid-icap differ by Squid version.
            if overrides.squid_version.is_none() && layout != squid_conf::Layout::Rewrite {
                match squid_conf::SquidVersion::probe_installed() {
                    Ok((v, program)) => {
                        eprintln!(
                            "s3squid: rendering for Squid {v} (`{program} -v`; --squid-version to choose)"
                        );
                        overrides.squid_version = Some(v);
                    }
                    Err(e) => {
                        eprintln!(
                            "s3squid: cannot tell which Squid the files are for: {e}\n\
                             s3squid: pass --squid-version (e.g. 5.7, 6.13, 7.7)"
                        );
                        return ExitCode::from(EXIT_USAGE);
                    }
                }
            }
            let mut params = squid_conf::params_from_config(&cfg);
            overrides.apply(&mut params);
            let files = if fragment {
                squid_conf::render_fragment(layout, &params)
            } else {
                squid_conf::render(layout, &params)
            };
            if let Err(code) = create_dirs(&overrides.state_dirs(layout)) {
                return code;
            }
            match out_dir {
                None => {
                    let mut text = String::new();
                    for (name, body) in &files {
                        text.push_str(&format!("# ==> {name} <==\n{body}"));
                    }
                    emit(&text)
                }
                Some(dir) => write_files(&dir, &files),
            }
        }
    }
}

/// Creates the state directories Squid's files go in.
fn create_dirs(dirs: &[std::path::PathBuf]) -> Result<(), ExitCode> {
    for dir in dirs {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("s3squid: cannot create {}: {e}", dir.display());
            return Err(ExitCode::from(EXIT_IO));
        }
    }
    Ok(())
}

/// Loads the config, or prints every problem and returns the exit code.
fn load(path: &Path) -> Result<Config, ExitCode> {
    s3squid_startup::load(path).map_err(|e| {
        eprintln!("{}", config_report(path, &e));
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3squid: cannot write to stdout: {e}");
            ExitCode::from(EXIT_IO)
        }
    }
}

fn write_files(dir: &Path, files: &[(String, String)]) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("s3squid: cannot create {}: {e}", dir.display());
        return ExitCode::from(EXIT_IO);
    }
    let mut written = String::new();
    for (name, body) in files {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, body) {
            eprintln!("s3squid: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_IO);
        }
        written.push_str(&format!("wrote {}\n", path.display()));
    }
    emit(&written)
}

/// `s3squid revert`: undoes the last change to the config file, from its copies in the
/// state directory ([`s3squid_startup::lastgood`]). What goes back, in order:
///
/// 1. the file the last revert replaced, when the file is still what that revert wrote
///    and no configuration has been kept since (a second revert undoes the first), and
///    that file is valid;
/// 2. the previous copy, when the file is the last good copy (its change has served and
///    been kept);
/// 3. the last good copy otherwise (an edit not kept yet, or a broken one).
///
/// What goes back is validated first; the replaced file is kept as `reverted-from.toml`,
/// and what was written as `reverted-to.toml`.
fn revert(config: &Path, state_dir: &Path) -> ExitCode {
    let copies = match Copies::of(config, state_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("s3squid: {}: {e}", config.display());
            return ExitCode::from(EXIT_IO);
        }
    };
    let (Some(dir), Some(name)) = (config.parent(), config.file_name().and_then(|n| n.to_str()))
    else {
        eprintln!("s3squid: {} is not a file path", config.display());
        return ExitCode::from(EXIT_USAGE);
    };
    let current = match s3squid_startup::read_bytes(config) {
        Ok(bytes) => Some(bytes),
        Err(LoadError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            None
        }
        Err(e) => {
            eprintln!(
                "s3squid: cannot keep the current file before replacing it, nothing changed: {e}"
            );
            return ExitCode::from(EXIT_IO);
        }
    };
    let is = |name: &str| {
        current
            .as_deref()
            .is_some_and(|c| copies.read(name).is_ok_and(|t| t.as_bytes() == c))
    };
    let undo_revert = if is(REVERTED_TO) {
        copies.load(REVERTED_FROM).ok()
    } else {
        None
    };
    let (what, (cfg, text)) = match undo_revert {
        Some(loaded) => ("the file the last revert replaced".to_owned(), loaded),
        None => {
            let (what, from) = if is(LAST_GOOD) {
                ("the previous configuration", PREVIOUS)
            } else {
                ("the last good configuration", LAST_GOOD)
            };
            match copies.load(from) {
                Ok(loaded) => (format!("{what} ({})", copies.path(from).display()), loaded),
                Err(e) => {
                    eprintln!(
                        "s3squid: nothing to revert to: {}",
                        config_report(&copies.path(from), &e)
                    );
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
        }
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    // Each step that fails leaves no reverted-to.toml behind, so a later revert never
    // takes a half-done one for a revert to undo.
    let kept = copies.path(REVERTED_FROM);
    let steps = || -> Result<(), String> {
        let cannot =
            |what: &Path, e: std::io::Error| format!("cannot write {}: {e}", what.display());
        match std::fs::remove_file(copies.path(REVERTED_TO)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(cannot(&copies.path(REVERTED_TO), e))
            }
            _ => {}
        }
        if let Some(current) = &current {
            copies
                .write(REVERTED_FROM, current)
                .map_err(|e| cannot(&kept, e))?;
        }
        write_atomic(dir, name, &text).map_err(|e| cannot(config, e))?;
        if current.is_some() {
            copies
                .write(REVERTED_TO, &text)
                .map_err(|e| cannot(&copies.path(REVERTED_TO), e))?;
        }
        Ok(())
    };
    if let Err(e) = steps() {
        eprintln!("s3squid: {e}");
        return ExitCode::from(EXIT_IO);
    }
    let replaced = match current {
        Some(_) => format!("the replaced file is kept as {}", kept.display()),
        None => "there was no file to keep".to_owned(),
    };
    emit(&format!(
        "reverted {} to {what}, {} route(s); {replaced}\ns3squid-icap applies it within 4 s (at once on SIGHUP); run `squid -k reconfigure` for the helpers\n",
        config.display(),
        cfg.routes.len(),
    ))
}
