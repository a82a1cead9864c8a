//! Reload and switches over one persistent ICAP connection: a valid new config applies to
//! the next message with no dropped connection; an invalid one is rejected and counted
//! while the old one keeps serving; the previous config is kept for `s3squid revert`; the
//! file watch applies an edit with no signal.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use s3map::Credentials;
use s3squid_icap::reload::{watch, Reloaded, Reloader, WATCH_INTERVAL};
use s3squid_icap::Service;
use s3squid_startup::lastgood::{Copies, LAST_GOOD, PREVIOUS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(signing: &str, pass_through: bool) -> String {
    format!(
        "[icap]\nlisten = \"127.0.0.1:0\"\npass_through = {pass_through}\n\n[[route]]\nname = \"photos\"\npublic = \"http://images.example.com/photos/\"\nbucket = \"photos\"\nregion = \"us-east-1\"\nendpoint = \"http://127.0.0.1:9000\"\naddressing = \"path\"\nsigning = \"{signing}\"\n"
    )
}

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

/// A fresh temp dir `name` holding the config file (signing on) and the state dir, the
/// service started from it (with test credentials), and its reloader.
fn setup(name: &str) -> (PathBuf, PathBuf, Arc<Service>, Reloader) {
    let dir = std::env::temp_dir().join(format!("s3squid-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s3squid.toml");
    std::fs::write(&path, config("on", false)).unwrap();
    let (cfg, text) = s3squid_startup::load_text(&path).unwrap();
    let svc = Arc::new(Service::new(
        &cfg,
        Some(Credentials::new("AKID", "SECRET", None, None, "test")),
    ));
    let reloader = Reloader::new(path.clone(), dir.join("state"), cfg, &text);
    (dir, path, svc, reloader)
}

#[tokio::test]
async fn reload_switches_and_rejects_without_dropping_connections() {
    let (dir, path, svc, reloader) = setup("reload");
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

    // The global pass-through switch, then back to normal.
    std::fs::write(&path, config("on", true)).unwrap();
    assert_eq!(
        reloader.reload(&svc, false),
        Reloaded::Applied(3),
        "a changed file is noticed without SIGHUP"
    );
    assert!(ask(&mut conn).await.starts_with("ICAP/1.0 204 No Content"));
    assert_eq!(reloader.reload(&svc, false), Reloaded::Unchanged);
    std::fs::write(&path, config("on", false)).unwrap();
    assert_eq!(reloader.reload(&svc, true), Reloaded::Applied(4));
    let answer = ask(&mut conn).await;
    assert!(answer.contains("X-Amz-Signature="), "signing again");
    assert!(
        answer.contains("ISTag: \"s3squid-") && answer.contains("-g4\""),
        "{answer}"
    );

    // The last good and the previous configurations are kept for `s3squid revert`, in
    // the state directory's directory for this file.
    let copies = Copies::of(&path, &state).unwrap();
    assert_eq!(reloader.copies(), Some(&copies));
    assert_eq!(copies.read(LAST_GOOD).unwrap(), config("on", false));
    assert_eq!(copies.read(PREVIOUS).unwrap(), config("on", true));
    let metrics = svc.metrics.render("");
    assert!(metrics.contains("s3squid_icap_config_generation 4\n"));
    assert!(metrics
        .contains("s3squid_icap_requests_total{outcome=\"degraded\",reason=\"signing_off\"} 2\n"));
    assert!(metrics
        .contains("s3squid_icap_requests_total{outcome=\"degraded\",reason=\"pass_through\"} 1\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The file watch: an edit is applied within one `WATCH_INTERVAL` (plus slack for a busy
/// machine) with no signal, an edit back is applied too, and an unchanged file is not
/// reloaded (the generation stays put over two more intervals).
#[tokio::test]
async fn the_file_watch_applies_an_edit_without_a_signal() {
    let (dir, path, svc, reloader) = setup("watch");
    let reloader = Arc::new(reloader);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(watch(reloader, svc.clone(), async {
        let _ = stopped.await;
    }));
    let bound = WATCH_INTERVAL + Duration::from_secs(3);
    let wait_for = |generation: u64| {
        let svc = svc.clone();
        async move {
            let start = Instant::now();
            while svc.state().generation < generation {
                assert!(
                    start.elapsed() < bound,
                    "generation {generation} not applied within {bound:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(svc.state().generation, 1);
    // Lengths differ as well as contents, so the change shows even within one mtime tick.
    std::fs::write(&path, config("off", false)).unwrap();
    wait_for(2).await;
    std::fs::write(&path, config("on", false)).unwrap();
    wait_for(3).await;
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
