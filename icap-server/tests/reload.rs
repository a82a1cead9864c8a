//! Reload and switches over one persistent ICAP connection: a valid new config applies to
//! the next message with no dropped connection; an invalid one is rejected and counted
//! while the old one keeps serving; the previous config is kept for `s3squid revert`; the
//! file watch applies an edit with no signal, never a half-written file, and keeps what it
//! applied as the last good configuration only once it has served.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use s3map::Credentials;
use s3squid_icap::reload::{watch, Reloaded, Reloader, PROMOTE_AFTER, WATCH_INTERVAL};
use s3squid_icap::Service;
use s3squid_startup::lastgood::{Copies, LAST_GOOD, PREVIOUS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(signing: &str, pass_through: bool) -> String {
    format!(
        "[icap]\nlisten = \"127.0.0.1:0\"\npass_through = {pass_through}\n\n[[route]]\nname = \"photos\"\npublic = \"http://images.example.com/photos/\"\nbucket = \"photos\"\nregion = \"us-east-1\"\nendpoint = \"http://127.0.0.1:9000\"\naddressing = \"path\"\nsigning = \"{signing}\"\n"
    )
}

/// A second route: a file cut just before it is still a valid configuration, with one
/// route fewer.
const VIDEOS: &str = "\n[[route]]\nname = \"videos\"\npublic = \"http://images.example.com/videos/\"\nbucket = \"videos\"\nregion = \"us-east-1\"\nendpoint = \"http://127.0.0.1:9000\"\naddressing = \"path\"\n";

/// Slack on top of what the watch needs, for a busy machine.
const SLACK: Duration = Duration::from_secs(3);

/// The longest a settled edit waits for the watch: up to one interval until a look sees
/// it, one more until the next look finds it unchanged.
const APPLY_BOUND: Duration = WATCH_INTERVAL.saturating_mul(2).saturating_add(SLACK);

fn reqmod() -> String {
    let http =
        "GET http://images.example.com/photos/a.jpg HTTP/1.1\r\nHost: images.example.com\r\n\r\n";
    format!("REQMOD icap://127.0.0.1:1344/s3sign ICAP/1.0\r\nHost: 127.0.0.1:1344\r\nEncapsulated: req-hdr=0, null-body={}\r\nAllow: 204, trailers\r\n\r\n{http}", http.len())
}

async fn ask(conn: &mut tokio::net::TcpStream) -> String {
    conn.write_all(reqmod().as_bytes()).await.unwrap();
    let mut buf = vec![0; 8192];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(n > 0, "the connection was dropped");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// A fresh temp dir `name` holding the config file (`initial`) and the state dir, the
/// service started from it (with test credentials), and its reloader, which keeps what the
/// watch applies after `promote_after`.
fn setup(
    name: &str,
    initial: &str,
    promote_after: Duration,
) -> (PathBuf, PathBuf, Arc<Service>, Reloader) {
    let dir = std::env::temp_dir().join(format!("s3squid-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s3squid.toml");
    std::fs::write(&path, initial).unwrap();
    let (cfg, text) = s3squid_startup::load_text(&path).unwrap();
    let svc = Arc::new(Service::new(
        &cfg,
        Some(Credentials::new("AKID", "SECRET", None, None, "test")),
    ));
    let reloader = Reloader::new(path.clone(), dir.join("state"), cfg, &text, promote_after);
    (dir, path, svc, reloader)
}

/// The file watch running on `reloader`: stop it with the sender, then await the handle.
fn start_watch(
    reloader: Reloader,
    svc: &Arc<Service>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(watch(Arc::new(reloader), svc.clone(), async {
        let _ = stopped.await;
    }));
    (stop, watcher)
}

/// Waits until `generation` is in force, for at most `bound`.
async fn wait_for(svc: &Service, generation: u64, bound: Duration) {
    let start = Instant::now();
    while svc.state().generation < generation {
        assert!(
            start.elapsed() < bound,
            "generation {generation} not applied within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many routes are served now.
fn routes(svc: &Service) -> usize {
    svc.state().policy.table.routes().len()
}

#[tokio::test]
async fn reload_switches_and_rejects_without_dropping_connections() {
    let (dir, path, svc, reloader) = setup("reload", &config("on", false), PROMOTE_AFTER);
    let state = dir.join("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(s3squid_icap::run(
        listener,
        svc.clone(),
        std::future::pending(),
    ));
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();

    assert!(
        ask(&mut conn).await.contains("X-Amz-Signature="),
        "signed at generation 1"
    );

    // Switch signing off for the route: the degraded mode (204), same connection.
    std::fs::write(&path, config("off", false)).unwrap();
    assert_eq!(reloader.reload(&svc, true), Reloaded::Applied(2));
    assert!(ask(&mut conn).await.starts_with("ICAP/1.0 204 No Content"));

    // An invalid file: rejected, counted, generation 2 keeps serving.
    std::fs::write(&path, "[[route]]\nname = 'x'\npublic = 'nope'\n").unwrap();
    assert_eq!(reloader.reload(&svc, true), Reloaded::Rejected);
    assert_eq!(svc.metrics.config_reload_failures.load(Relaxed), 1);
    assert_eq!(svc.state().generation, 2);
    assert!(ask(&mut conn).await.starts_with("ICAP/1.0 204 No Content"));

    // The global pass-through switch, then back to normal. Without SIGHUP (a look of the
    // file watch), a change is applied once the file is the same at two looks in a row.
    std::fs::write(&path, config("on", true)).unwrap();
    assert_eq!(
        reloader.reload(&svc, false),
        Reloaded::Settling,
        "a changed file is noticed, then left to settle"
    );
    assert_eq!(
        reloader.reload(&svc, false),
        Reloaded::Applied(3),
        "and applied without SIGHUP once it has not changed for a look"
    );
    assert!(ask(&mut conn).await.starts_with("ICAP/1.0 204 No Content"));
    assert_eq!(reloader.reload(&svc, false), Reloaded::Unchanged);
    let copies = Copies::of(&path, &state).unwrap();
    assert_eq!(
        copies.read(LAST_GOOD).unwrap(),
        config("off", false),
        "what the watch applied is not kept before it has served PROMOTE_AFTER"
    );
    std::fs::write(&path, config("on", false)).unwrap();
    assert_eq!(reloader.reload(&svc, true), Reloaded::Applied(4));
    let answer = ask(&mut conn).await;
    assert!(answer.contains("X-Amz-Signature="), "signing again");
    assert!(
        answer.contains("ISTag: \"s3squid-") && answer.contains("-g4\""),
        "{answer}"
    );

    // The last good and the previous configurations are kept for `s3squid revert`, in
    // the state directory's directory for this file. Generation 3, which the watch applied
    // and SIGHUP replaced before it had served PROMOTE_AFTER, was never kept: the previous
    // is generation 2.
    assert_eq!(reloader.copies(), Some(&copies));
    assert_eq!(copies.read(LAST_GOOD).unwrap(), config("on", false));
    assert_eq!(copies.read(PREVIOUS).unwrap(), config("off", false));
    let metrics = svc.metrics.render("");
    assert!(metrics.contains("s3squid_icap_config_generation 4\n"));
    assert!(metrics
        .contains("s3squid_icap_requests_total{outcome=\"degraded\",reason=\"signing_off\"} 2\n"));
    assert!(metrics
        .contains("s3squid_icap_requests_total{outcome=\"degraded\",reason=\"pass_through\"} 1\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The file watch: an edit is applied within two `WATCH_INTERVAL`s (plus slack for a busy
/// machine) with no signal, an edit back is applied too, and an unchanged file is not
/// reloaded (the generation stays put over two more intervals).
#[tokio::test]
async fn the_file_watch_applies_an_edit_without_a_signal() {
    let (dir, path, svc, reloader) = setup("watch", &config("on", false), PROMOTE_AFTER);
    let (stop, watcher) = start_watch(reloader, &svc);
    assert_eq!(svc.state().generation, 1);
    // Lengths differ as well as contents, so the change shows even within one mtime tick.
    std::fs::write(&path, config("off", false)).unwrap();
    wait_for(&svc, 2, APPLY_BOUND).await;
    std::fs::write(&path, config("on", false)).unwrap();
    wait_for(&svc, 3, APPLY_BOUND).await;
    tokio::time::sleep(2 * WATCH_INTERVAL).await;
    assert_eq!(
        svc.state().generation,
        3,
        "an unchanged file is not reloaded"
    );
    stop.send(()).unwrap();
    watcher.await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 9: a config rewritten in place with a pause midway went live half written (a
/// route gone until the rest came) and was kept as the last good one. Here the first part
/// is itself a valid configuration with one route fewer. It is written half a second
/// before a look of the watch (which looks at once, then every `WATCH_INTERVAL`), and the
/// rest a second later, so that a look sees the half file. It never goes live: the routes
/// served never drop to one, and the only generation applied is the whole file, once it
/// has settled. Nor is that kept as the last good one before it has served.
#[tokio::test]
async fn an_in_place_write_with_a_pause_never_goes_live_half_done() {
    let before = config("on", false) + VIDEOS;
    let (half, rest) = (config("off", false), VIDEOS);
    let (dir, path, svc, reloader) = setup("in-place", &before, PROMOTE_AFTER);
    let copies = reloader.copies().unwrap().clone();
    let (stop, watcher) = start_watch(reloader, &svc);
    let looks_from = tokio::time::Instant::now();
    let fewest = Arc::new(AtomicUsize::new(routes(&svc)));
    let sampler = {
        let (svc, fewest) = (svc.clone(), fewest.clone());
        tokio::spawn(async move {
            loop {
                fewest.fetch_min(routes(&svc), Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep_until(looks_from + WATCH_INTERVAL - Duration::from_millis(500)).await;
    // In place: truncated and rewritten, the same inode, with a pause after the first part.
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(half.as_bytes()).unwrap();
    file.sync_data().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    file.write_all(rest.as_bytes()).unwrap();
    file.sync_data().unwrap();
    drop(file);
    wait_for(&svc, 2, APPLY_BOUND).await;
    tokio::time::sleep(WATCH_INTERVAL).await;
    sampler.abort();
    assert_eq!(
        fewest.load(Relaxed),
        2,
        "the half-written file (one route) went live"
    );
    assert_eq!(
        (svc.state().generation, routes(&svc)),
        (2, 2),
        "one generation applied: the whole file"
    );
    assert!(
        !svc.state().policy.table.routes()[0].signing,
        "the change in the first part applied, with the rest"
    );
    assert_eq!(copies.read(LAST_GOOD).unwrap(), before, "not kept yet");
    stop.send(()).unwrap();
    watcher.await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A generation the file watch applied is kept as the last good configuration only once
/// it has served the promotion time (3 s here, `PROMOTE_AFTER` in s3squid-icap) without
/// being replaced, at the next look after that; until then the last good copy is the
/// configuration kept at start.
#[tokio::test]
async fn the_watch_keeps_a_generation_only_once_it_has_served() {
    let promote_after = Duration::from_secs(3);
    let (dir, path, svc, reloader) = setup("promote", &config("on", false), promote_after);
    let copies = reloader.copies().unwrap().clone();
    assert_eq!(
        copies.read(LAST_GOOD).unwrap(),
        config("on", false),
        "kept at start"
    );
    let (stop, watcher) = start_watch(reloader, &svc);
    std::fs::write(&path, config("off", false)).unwrap();
    wait_for(&svc, 2, APPLY_BOUND).await;
    let applied = Instant::now();
    assert_eq!(
        copies.read(LAST_GOOD).unwrap(),
        config("on", false),
        "applied by the watch: not kept yet"
    );
    assert!(!copies.path(PREVIOUS).exists());
    let bound = promote_after + WATCH_INTERVAL + SLACK;
    while copies.read(LAST_GOOD).unwrap() != config("off", false) {
        assert!(applied.elapsed() < bound, "not kept within {bound:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // `applied` was noticed up to 50 ms after the generation went live.
    assert!(
        applied.elapsed() + Duration::from_millis(100) >= promote_after,
        "kept after {:?}, before it had served {promote_after:?}",
        applied.elapsed()
    );
    assert_eq!(copies.read(PREVIOUS).unwrap(), config("on", false));
    stop.send(()).unwrap();
    watcher.await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
