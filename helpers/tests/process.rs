//! The helper binaries as Squid runs them: real processes, stdin/stdout, exit codes.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure with its location

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The shared test route table (`tests/data/routes.toml`).
const CONFIG: &str = s3map::fixtures::ROUTES_TOML;

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn run(bin: &str, config: Option<&str>, input: &[u8], extra: &[&str]) -> Run {
    let dir = sandbox();
    let cfg = dir.join("s3squid.toml");
    if let Some(c) = config {
        std::fs::write(&cfg, c).unwrap();
    }
    let r = run_with(bin, &cfg, &dir.join("state"), input, extra);
    std::fs::remove_dir_all(&dir).unwrap();
    r
}

/// Runs `bin` with this `--config` and `--state-dir`, feeds it `input`, and waits for it.
fn run_with(
    bin: &str,
    cfg: &std::path::Path,
    state: &std::path::Path,
    input: &[u8],
    extra: &[&str],
) -> Run {
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(cfg)
        .arg("--state-dir")
        .arg(state)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    child.stdin.take().unwrap().write_all(input).unwrap();
    let status = wait_bounded(&mut child);
    Run {
        stdout: String::from_utf8(stdout.join().unwrap()).unwrap(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
        code: status.code(),
    }
}

/// How long a helper may take to answer a few lines and exit. Generous: CI machines are
/// slow and these tests run in parallel; a helper that hangs fails the test instead of the
/// whole run.
const HELPER_EXIT_LIMIT: Duration = Duration::from_secs(30);

/// A fresh directory per call (tests run in parallel in one process).
fn sandbox() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "s3squid-helper-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = pipe.read_to_end(&mut v);
        v
    })
}

/// Waits for `child` for at most [`HELPER_EXIT_LIMIT`]; kills it (by its PID, through the
/// handle) and fails the test when it is still running.
fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + HELPER_EXIT_LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("helper still running after {HELPER_EXIT_LIMIT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const STOREID: &str = env!("CARGO_BIN_EXE_s3squid-storeid");
const REWRITE: &str = env!("CARGO_BIN_EXE_s3squid-rewrite");

#[test]
fn storeid_answers_every_line_with_and_without_channels() {
    let secret_url = "http://127.0.0.1:9000/photos/a%20b.jpg?X-Amz-Security-Token=TOPSECRETTOKEN&X-Amz-Signature=00";
    let mut input = format!(
        "1 http://images.example.com/photos/a%20b.jpg 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128\n\
         2 {secret_url} 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128\n\
         3 http://elsewhere.example.com/x\n\
         http://images.example.com/photos/q%22uote\r\n\
         \n"
    )
    .into_bytes();
    input.extend_from_slice(b"4 http://images.example.com/photos/\xff\n");
    input.extend_from_slice(b"5 http://images.example.com/photos/a\x00b\n");
    input.extend_from_slice(
        format!(
            "6 http://images.example.com/photos/{}\n",
            "x".repeat(20_000)
        )
        .as_bytes(),
    );
    input.extend_from_slice(b"7 http://images.example.com/photos/last");
    let r = run(STOREID, Some(CONFIG), &input, &["--log-level", "debug"]);
    assert_eq!(r.code, Some(0), "exits 0 on EOF");
    let want = [
        "1 OK store-id=\"http://s3.squid.internal/v1/127.0.0.1:9000/photos/a%20b.jpg\"",
        "2 OK store-id=\"http://s3.squid.internal/v1/127.0.0.1:9000/photos/a%20b.jpg\"",
        "3 ERR",
        "OK store-id=\"http://s3.squid.internal/v1/127.0.0.1:9000/photos/q%22uote\"",
        "ERR message=\"empty request line\"",
        "4 ERR message=\"request line is not UTF-8\"",
        "5 ERR message=\"request line has a control character\"",
        "6 ERR message=\"request line too long\"",
        "7 OK store-id=\"http://s3.squid.internal/v1/127.0.0.1:9000/photos/last\"",
    ];
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        want,
        "only replies on stdout, one per line"
    );
    assert!(
        !r.stderr.contains("TOPSECRETTOKEN") && !r.stderr.contains("elsewhere"),
        "never logs input lines: {}",
        r.stderr
    );
}

#[test]
fn rewrite_answers_per_route() {
    let input = "1 http://cdn.example.com/a+b.txt 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128\n\
                 2 http://images.example.com/photos/a.jpg 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128\n\
                 3 http://cdn.example.com/?list-type=2 192.0.2.7/192.0.2.7 - GET myip=10.0.0.1 myport=3128\n\
                 4 http://cdn.example.com/a 192.0.2.7/192.0.2.7 - DELETE myip=10.0.0.1 myport=3128\n";
    let r = run(REWRITE, Some(CONFIG), input.as_bytes(), &[]);
    assert_eq!(r.code, Some(0));
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        [
            "1 OK rewrite-url=\"https://public-bucket.s3.eu-west-1.amazonaws.com/a%2Bb.txt\"",
            "2 ERR",
            "3 OK rewrite-url=\"http://refused.s3squid.invalid/403\"",
            "4 OK rewrite-url=\"http://refused.s3squid.invalid/405\"",
        ]
    );
}

/// A missing or broken config never makes a helper exit: BH for every line, the reason on
/// stderr, exit 0 at EOF.
#[test]
fn broken_or_missing_config_answers_bh_and_never_exits_early() {
    for (config, why) in [
        (None, "cannot read"),
        (Some("[[route]]\nname = 1\n"), "s3squid.toml:2: "),
    ] {
        for bin in [STOREID, REWRITE] {
            let r = run(
                bin,
                config,
                b"1 http://images.example.com/photos/a\nhttp://x/\n",
                &[],
            );
            assert_eq!(r.code, Some(0), "{bin}");
            let lines: Vec<_> = r.stdout.lines().collect();
            assert_eq!(lines.len(), 2, "{bin}: {lines:?}");
            assert!(
                lines[0].starts_with("1 BH message=\"") && lines[1].starts_with("BH message=\""),
                "{lines:?}"
            );
            assert!(r.stderr.contains(why), "{bin}: {}", r.stderr);
        }
    }
}

/// A broken config makes a helper serve the last good copy of that same file, and only of
/// that file (issue 9: a helper fell back to the copy another deployment, with another
/// config file and the same state directory, had kept, and answered with its routes).
/// The other file's copy, and a flat `<state-dir>/last-good.toml` from the old layout, are
/// never used: the helper answers BH.
#[test]
fn broken_config_falls_back_only_to_its_own_copy() {
    let dir = sandbox();
    let state = dir.join("state");
    let (ours, other) = (dir.join("ours.toml"), dir.join("other.toml"));
    s3squid_startup::lastgood::Copies::of(&other, &state)
        .unwrap()
        .record(CONFIG)
        .unwrap();
    std::fs::write(state.join("last-good.toml"), CONFIG).unwrap();
    let broken = "[[route]]\nname = 1\n";
    std::fs::write(&ours, broken).unwrap();
    let line = b"1 http://images.example.com/photos/a\n";
    let r = run_with(STOREID, &ours, &state, line, &[]);
    assert!(r.stdout.starts_with("1 BH message=\""), "{}", r.stdout);
    assert!(
        r.stderr.contains("no last good copy of it in "),
        "{}",
        r.stderr
    );
    std::fs::write(&other, broken).unwrap();
    let r = run_with(STOREID, &other, &state, line, &[]);
    assert_eq!(
        r.stdout, "1 OK store-id=\"http://s3.squid.internal/v1/127.0.0.1:9000/photos/a\"\n",
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("serving the last good one"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Bad arguments from squid.conf are a broken configuration too: BH for every line, the
/// reason on stderr, exit 0 at EOF. Only with `--check` do they exit (64).
#[test]
fn bad_arguments_answer_bh_and_never_exit_early() {
    for bin in [STOREID, REWRITE] {
        let r = run(
            bin,
            Some(CONFIG),
            b"1 http://images.example.com/photos/a
http://x/
",
            &["--bogus"],
        );
        assert_eq!(r.code, Some(0), "{bin}");
        let lines: Vec<_> = r.stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{bin}: {lines:?}");
        for (line, start) in lines.iter().zip(["1 BH message=\"", "BH message=\""]) {
            assert!(
                line.starts_with(start) && line.contains("--bogus"),
                "{lines:?}"
            );
        }
        assert!(r.stderr.contains("--bogus"), "{bin}: {}", r.stderr);

        let r = run(bin, Some(CONFIG), b"", &["--bogus", "--check"]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (Some(64), ""),
            "{bin}: {}",
            r.stderr
        );
    }
}

/// `--help`, `--version` and `--check` print and exit; nothing else does.
#[test]
fn help_version_and_check_exit() {
    for (bin, name) in [(STOREID, "s3squid-storeid"), (REWRITE, "s3squid-rewrite")] {
        for flag in ["--help", "-h"] {
            let r = run(bin, Some(CONFIG), b"", &[flag]);
            assert_eq!(r.code, Some(0), "{bin} {flag}");
            assert!(r.stdout.starts_with(&format!("{name}: ")), "{}", r.stdout);
            assert!(r.stdout.contains("--log-level <LEVEL>"), "{}", r.stdout);
        }
        let r = run(bin, Some(CONFIG), b"", &["--version"]);
        assert_eq!(
            (r.code, r.stdout),
            (Some(0), format!("{name} {}\n", env!("CARGO_PKG_VERSION")))
        );
        let r = run(bin, Some(CONFIG), b"", &["--check"]);
        assert_eq!(r.code, Some(0), "{bin}: {}", r.stderr);
        assert!(r.stdout.ends_with(": ok, 7 route(s)\n"), "{}", r.stdout);
        let r = run(bin, Some("[[route]]\nname = 1\n"), b"", &["--check"]);
        assert_eq!(r.code, Some(64), "{bin}");
        assert!(r.stderr.contains("s3squid.toml:2: "), "{}", r.stderr);
    }
}

/// A write error on stdout (Squid went away) ends the helper quietly, while its stdin is
/// still open (so it is the write error that ends it, not EOF).
///
/// The first replies may still be written: until a test running in parallel execs the
/// child it is spawning, that child holds a copy of every pipe end of this process,
/// including the read end of our helper's stdout. So the test keeps sending lines until
/// the helper is gone, as Squid would, and bounds the wait.
#[test]
fn closed_stdout_ends_quietly() {
    let dir = sandbox();
    std::fs::write(dir.join("c.toml"), CONFIG).unwrap();
    let mut child = Command::new(STOREID)
        .arg("--config")
        .arg(dir.join("c.toml"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let stderr = drain(child.stderr.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let deadline = Instant::now() + HELPER_EXIT_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "helper still running {HELPER_EXIT_LIMIT:?} after its stdout was closed: killed"
            );
        }
        // Fails with EPIPE once the helper has exited; try_wait then reports it.
        let _ = stdin.write_all(b"1 http://images.example.com/photos/a\n");
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(stdin);
    let err = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert!(status.success(), "{status:?}");
    assert!(!err.contains("panicked"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
