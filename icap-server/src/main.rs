//! `s3squid-icap [--config PATH] [--check] [--log-level LEVEL] [--state-dir DIR]`
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;

use s3map::config::Config;
use s3squid_icap::reload::{Reloader, PROMOTE_AFTER};
use s3squid_startup::args::{CommonArgs, Invocation, LogDefaults, LogLevel, Program};
use s3squid_startup::{config_report, logging, EXIT_CONFIG};

const PROGRAM: Program = Program {
    name: "s3squid-icap",
    version: env!("CARGO_PKG_VERSION"),
    about:
        "s3squid-icap: ICAP REQMOD service that maps public URLs to S3 objects and presigns them",
    description: "\
Reloads the configuration at once on SIGHUP, and when the file changes: it looks every
2 seconds and applies a change once the file has stayed the same for a whole look, 2 to
4 seconds after the last write (a write that pauses for less than 2 seconds midway is
never applied half done). An invalid file is rejected (logged, counted) and the running
configuration keeps serving.

The configuration it serves is kept in --state-dir, in a directory for this
configuration file, as last-good.toml (and the one before it as previous.toml): at once
at start and on SIGHUP, and after it has served for 60 seconds without being replaced
when the file watch applied it. `s3squid revert` uses them, and a helper given the same
--config serves the last good one when its configuration is unusable.

Credentials: the AWS chain (environment, shared credentials file and profile, web
identity, ECS container endpoint, EC2 instance metadata), refreshed in the background.
Without valid credentials, requests under signed routes are left unchanged (ICAP 204):
cached objects are still served, misses fail with a 5xx, nothing is sent to S3 unsigned.",
    log: LogDefaults {
        level: LogLevel::Info,
        timestamps: true,
    },
};

fn main() -> ExitCode {
    let args = match PROGRAM.parse(std::env::args_os().skip(1)) {
        Ok(Invocation::Run(a)) => a,
        Ok(Invocation::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}: {e}", PROGRAM.name);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    logging::init(PROGRAM.log, args.log_level);
    if args.check {
        return ExitCode::from(s3squid_startup::check(&args.config));
    }
    let (config, text) = match s3squid_startup::load_text(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", config_report(&args.config, &e));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match run(args, config, &text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: CommonArgs, config: Config, text: &str) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let svc = Arc::new(s3squid_icap::Service::new(&config, None));
        let creds = s3squid_icap::creds::Refresher::start(svc.clone()).await;
        let listener = tokio::net::TcpListener::bind(config.icap.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.icap.listen))?;
        log::info!(
            "listening on icap://{}/{} with {} route(s)",
            listener.local_addr()?,
            config.icap.service,
            config.routes.len()
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let probes = Arc::new(s3squid_icap::probe::Probes::default());
        tokio::spawn(probes.clone().run(svc.clone()));
        if let Some(addr) = config.icap.metrics_listen {
            let admin = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for /metrics: {e}"))?;
            log::info!(
                "metrics on http://{}/metrics and /healthz",
                admin.local_addr()?
            );
            let extra: Vec<Arc<dyn s3squid_icap::admin::ScrapeSource>> =
                vec![creds.clone(), probes];
            tokio::spawn(s3squid_icap::admin::run(
                admin,
                svc.clone(),
                extra,
                stopped(stop_rx.clone()),
            ));
        }
        let reloader = Arc::new(Reloader::new(
            args.config.clone(),
            args.state_dir.clone(),
            config,
            text,
            PROMOTE_AFTER,
        ));
        tokio::spawn(s3squid_icap::reload::watch(
            reloader,
            svc.clone(),
            stopped(stop_rx.clone()),
        ));
        let server = s3squid_icap::run(listener, svc.clone(), stopped(stop_rx.clone()));
        tokio::pin!(server);
        tokio::select! {
            _ = &mut server => {}
            _ = shutdown_signal() => {
                let _ = stop_tx.send(true);
                server.await;
            }
        }
        let m = &svc.metrics;
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        log::info!(
            "stopped: signed={} unsigned_route={} degraded={} refused_total={}",
            get(&m.signed),
            get(&m.unsigned),
            m.degraded(),
            s3map::decide::Refusal::ALL
                .iter()
                .map(|r| m.refused(*r))
                .sum::<u64>()
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
