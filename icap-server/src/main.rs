//! `s3squid-icap [--config PATH] [--check] [--log-level LEVEL]`
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;

use s3map::cli::{config_report, parse_args, CommonArgs, Parsed, EXIT_CONFIG};
use s3map::config::Config;
use s3map::Credentials;

const HELP: &str =
    "s3squid-icap: ICAP REQMOD service that maps public URLs to S3 objects and presigns them

usage: s3squid-icap [--config PATH] [--check] [--log-level LEVEL]

  --config PATH      configuration file (default /etc/s3squid/s3squid.toml)
  --check            validate the configuration, print every problem, exit 0 or 64
  --log-level LEVEL  error|warn|info|debug|trace (default info, or S3SQUID_LOG)

Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optionally AWS_SESSION_TOKEN.
Without them, requests under signed routes are left unchanged (ICAP 204): cached objects
are still served, misses fail with a 5xx, nothing is sent to S3 unsigned.";

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Help) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("s3squid-icap {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("s3squid-icap: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    init_logging(&args);
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", config_report(&args.config, &e));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if args.check {
        println!(
            "{}: ok, {} route(s)",
            args.config.display(),
            config.routes.len()
        );
        return ExitCode::SUCCESS;
    }
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(args: &CommonArgs) {
    let env = env_logger::Env::new().filter_or("S3SQUID_LOG", "info");
    let mut b = env_logger::Builder::from_env(env);
    if let Some(l) = &args.log_level {
        b.parse_filters(l);
    }
    b.target(env_logger::Target::Stderr).init();
}

/// Static credentials from the environment (the full chain is a later stage). Never logged.
fn env_credentials() -> Option<Credentials> {
    let id = std::env::var("AWS_ACCESS_KEY_ID")
        .ok()
        .filter(|v| !v.is_empty());
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY")
        .ok()
        .filter(|v| !v.is_empty());
    let token = std::env::var("AWS_SESSION_TOKEN")
        .ok()
        .filter(|v| !v.is_empty());
    match (id, secret) {
        (Some(id), Some(secret)) => Some(Credentials::new(id, secret, token, None, "environment")),
        (None, None) => None,
        _ => {
            log::error!(
                "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set: ignoring both"
            );
            None
        }
    }
}

fn run(config: Config) -> anyhow::Result<()> {
    let creds = env_credentials();
    let signed = config
        .routes
        .iter()
        .filter(|r| r.auth == s3map::route::Auth::SigV4)
        .count();
    match (&creds, signed) {
        (Some(_), _) => log::info!("credentials: environment"),
        (None, 0) => log::info!("credentials: none needed (no sigv4 route)"),
        (None, n) => log::warn!(
            "credentials: none found; {n} sigv4 route(s) will be left unsigned (ICAP 204): hits are served, misses fail"
        ),
    }
    let svc = Arc::new(s3squid_icap::Service::new(&config, creds));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.icap.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.icap.listen))?;
        log::info!(
            "listening on icap://{}/{} with {} route(s)",
            listener.local_addr()?,
            config.icap.service,
            config.routes.len()
        );
        s3squid_icap::run(listener, svc.clone(), shutdown_signal()).await;
        let s = &svc.stats;
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        log::info!(
            "stopped: adapted={} refused={} not_ours={} degraded={}",
            get(&s.adapted),
            get(&s.refused),
            get(&s.not_ours),
            get(&s.degraded)
        );
        Ok(())
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
