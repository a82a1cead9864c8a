//! EXPLORATION (to be replaced)

use std::time::{Duration, Instant};

use s3squid::squid_conf::Layout;
use s3squid_e2e::hang::Hang;
use s3squid_e2e::http::{self, Response};
use s3squid_e2e::squid::{Stack, StackOptions, PUBLIC_HOST};
use s3squid_e2e::Sandbox;

fn timed(port: u16, path: &str, no_cache: bool) -> (Response, Duration) {
    let t = Instant::now();
    let mut h = vec![("Host", PUBLIC_HOST)];
    if no_cache {
        h.push(("Cache-Control", "no-cache"));
    }
    let r = http::raw(port, &format!("GET {path} HTTP/1.1"), &h);
    (r, t.elapsed())
}

fn show(st: &Stack, what: &str) {
    eprintln!("---- {what}: front access.log");
    eprintln!(
        "{}",
        std::fs::read_to_string(&st.front.access_log).unwrap_or_default()
    );
    if let Some(s) = &st.signer {
        eprintln!("---- signer access.log");
        eprintln!(
            "{}",
            std::fs::read_to_string(&s.access_log).unwrap_or_default()
        );
    }
}

fn batch(st: &Stack, reqs: &[(&str, bool)]) {
    let port = st.front.port;
    let hs: Vec<_> = reqs
        .iter()
        .map(|&(k, nc)| {
            let path = crate::public_path(k);
            let k = k.to_owned();
            std::thread::spawn(move || {
                let (r, d) = timed(port, &path, nc);
                (k, nc, r.status, String::from_utf8_lossy(&r.body).into_owned(), d)
            })
        })
        .collect();
    for h in hs {
        let (k, nc, s, b, d) = h.join().unwrap();
        eprintln!("{k} no_cache={nc}: {s} {:?} in {d:?}", b.chars().take(40).collect::<String>());
    }
}

fn explore(layout: Layout) {
    let sb = Sandbox::new(&format!("explore-{}", layout.as_str()));
    let mut st = Stack::start(&sb, layout, StackOptions::default());
    for k in ["fresh1.jpg", "fresh2.jpg", "miss1.jpg", "miss2.jpg", "miss3.jpg"] {
        st.s3.put("photos", k, k.as_bytes());
    }
    for k in ["stale1.jpg", "stale2.jpg", "stale3.jpg"] {
        st.s3.put_recent("photos", k, k.as_bytes(), Duration::from_secs(2));
    }
    for k in ["fresh1.jpg", "fresh2.jpg", "stale1.jpg", "stale2.jpg", "stale3.jpg"] {
        assert_eq!(st.get(&crate::public_path(k)).status, 200);
    }
    std::thread::sleep(Duration::from_millis(1500));
    st.s3.stop();
    eprintln!("==== S3 DOWN");
    batch(&st, &[("fresh1.jpg", false)]);
    batch(&st, &[("stale1.jpg", false)]);
    batch(&st, &[("fresh2.jpg", true)]);
    batch(&st, &[("stale2.jpg", true)]);
    batch(&st, &[("miss1.jpg", false)]);
    batch(&st, &[("miss1.jpg", false)]);
    show(&st, "down");
    let hang = Hang::start(st.s3.port);
    eprintln!("==== S3 HANGS");
    batch(
        &st,
        &[
            ("fresh1.jpg", false),
            ("stale1.jpg", false),
            ("fresh2.jpg", true),
            ("stale2.jpg", true),
            ("miss2.jpg", false),
        ],
    );
    eprintln!("hang accepted {}", hang.accepted());
    show(&st, "hang");
    drop(hang);
    st.s3.restart();
    eprintln!("==== S3 BACK");
    batch(&st, &[("miss3.jpg", false)]);
    batch(&st, &[("miss3.jpg", false)]);
    batch(&st, &[("stale3.jpg", false)]);
    show(&st, "back");
    panic!("keep");
}

#[test]
fn explore_single() {
    explore(Layout::Single);
}

#[test]
fn explore_two_tier() {
    explore(Layout::TwoTier);
}
